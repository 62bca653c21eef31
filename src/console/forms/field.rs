//! A form's field: what is typed, and the picker under a field that names something (a fixed
//! list narrowed as the admin types, or rows searched in the database a page at a time).

use std::borrow::Cow;

use tui_input::Input;
use uuid::Uuid;

use crate::db::lists::KeyValue;
use crate::db::lookup::{Found, Lookup};

/// A fixed list's options, shared by the forms that offer it.
pub type Options = std::sync::Arc<[String]>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Text that may be left empty (it then clears the column).
    OptionalText,
    /// A positive whole number of credits.
    Amount,
    /// One of a fixed list (typed, or chosen from the list under the field).
    Choice(Options),
    /// A row found in the database (typed, or chosen from the search under the field).
    Lookup(Lookup),
}

/// What a typed value is checked for when the form is submitted, beside the field, before the
/// confirm dialog (the request is checked again as a whole, and again in the transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Text of at most this many characters, with nothing a terminal acts on or hides.
    Text(usize),
    /// A phone number that can be written in E.164.
    E164,
}

impl Check {
    /// What is wrong with `value` (not empty), in a few words that fit beside the field.
    pub fn fault(self, value: &str) -> Option<String> {
        match self {
            Check::Text(max) if value.trim().chars().count() > max => Some(format!(
                "longer than {} characters",
                crate::numbers::thousands(max as u64)
            )),
            Check::Text(_) => value
                .chars()
                .any(crate::escape::is_unsafe)
                .then(|| "holds control, bidirectional or invisible characters".to_string()),
            Check::E164 => crate::actions::validate_e164(value)
                .err()
                .map(|_| "not a number in E.164, e.g. +14155550100".to_string()),
        }
    }
}

/// How many choices a picker shows at once (and fetches per page).
pub const PICKER_ROWS: usize = 5;

/// The list under a field that names something: what the typed text matches, one of them
/// selected. A fixed list narrows as the admin types; a lookup asks the database, a page at a
/// time.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub items: Vec<Found>,
    pub selected: usize,
    /// Whether the admin moved the selection (a field still holding the value it opened with
    /// keeps that value on Enter unless a choice was moved to).
    pub moved: bool,
    /// The search text `items` answer (a lookup; none before the first answer).
    pub answered: Option<String>,
    /// The search in flight: its request and text.
    pub asked: Option<(u64, Search)>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Vec<KeyValue>>,
    /// Why the last search failed.
    pub error: Option<String>,
}

/// What ↓ or ↑ did in a picker.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved {
    /// The selection moved (or stayed at an end).
    Within,
    /// ↓ passed the last loaded choice: the next page is wanted.
    Wants(Search),
    /// The field has no choices to move through (the arrow moves between fields instead).
    NoChoices,
}

/// A search a picker wants the worker to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub lookup: Lookup,
    pub text: String,
    pub after: Option<Vec<KeyValue>>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub input: Input,
    pub kind: FieldKind,
    pub hint: Cow<'static, str>,
    /// Holds the value it was opened with, untouched: the first character typed replaces it
    /// (any other key first, an arrow or Backspace, edits it instead).
    pub prefilled: bool,
    /// Its choices (a `Choice` or `Lookup` field).
    pub picker: Picker,
    /// The row chosen from a lookup, while the field still holds its value.
    pub picked: Option<Found>,
    /// What its value is checked for at submit, if more than being there.
    pub check: Option<Check>,
}

impl Field {
    pub(super) fn new(
        label: &'static str,
        value: &str,
        kind: FieldKind,
        hint: impl Into<Cow<'static, str>>,
    ) -> Field {
        Field {
            label,
            input: Input::new(value.to_string()),
            kind,
            hint: hint.into(),
            prefilled: !value.is_empty(),
            picker: Picker::default(),
            picked: None,
            check: None,
        }
        .with_choices()
    }

    /// The field with its value checked so at submit.
    pub(super) fn checked(mut self, check: Check) -> Field {
        self.check = Some(check);
        self
    }

    /// A fixed list's choices, narrowed to what is typed (all of them while the field holds
    /// the value it opened with), the one the field holds selected.
    fn with_choices(mut self) -> Field {
        self.refresh_choices();
        self
    }

    fn refresh_choices(&mut self) {
        let FieldKind::Choice(options) = &self.kind else {
            return;
        };
        let typed = self.search_text().to_lowercase();
        self.picker.items = options
            .iter()
            .filter(|o| o.to_lowercase().contains(typed.as_str()))
            .map(|o| Found {
                id: Uuid::nil(),
                value: o.to_string(),
                detail: String::new(),
            })
            .collect();
        let held = self.value().to_lowercase();
        self.picker.selected = self
            .picker
            .items
            .iter()
            .position(|f| f.value.to_lowercase() == held)
            .unwrap_or(0);
        self.picker.moved = false;
    }

    /// The option of a `Choice` field that its value names, spelled as the option is (the
    /// value may be typed in any case; a platform's own plans keep their spelling).
    pub(super) fn choice(&self) -> Option<&str> {
        let FieldKind::Choice(options) = &self.kind else {
            return None;
        };
        let held = self.value().to_lowercase();
        options
            .iter()
            .find(|o| o.to_lowercase() == held)
            .map(String::as_str)
    }

    /// What the picker searches for: nothing while the field holds the value it opened with
    /// (every choice is offered), else what is typed.
    pub fn search_text(&self) -> String {
        if self.prefilled {
            String::new()
        } else {
            self.value().to_string()
        }
    }

    /// Whether the field has a picker.
    pub fn has_picker(&self) -> bool {
        matches!(self.kind, FieldKind::Choice(_) | FieldKind::Lookup(_))
    }

    /// Whether the picker's choices answer what the field holds now.
    pub fn choices_current(&self) -> bool {
        match &self.kind {
            FieldKind::Choice(_) => true,
            FieldKind::Lookup(_) => {
                self.picker.answered.as_deref() == Some(self.search_text().as_str())
            }
            _ => false,
        }
    }

    /// The choice Enter takes, if any: the selected one of current choices, once the admin
    /// has typed or moved the selection.
    pub(super) fn choice_to_take(&self) -> Option<&Found> {
        if !self.has_picker() || !self.choices_current() {
            return None;
        }
        if self.prefilled && !self.picker.moved {
            return None;
        }
        self.picker.items.get(self.picker.selected)
    }

    /// The choice to mark in the picker: the one Enter takes, or, while the field holds the
    /// value it opened with and no choice was moved to, that value's row if it is shown (Enter
    /// keeps the value then, so no other row may look chosen).
    pub fn marked(&self) -> Option<usize> {
        if !self.has_picker() || !self.choices_current() {
            return None;
        }
        if self.prefilled && !self.picker.moved {
            let held = self.value();
            return self.picker.items.iter().position(|f| f.value == held);
        }
        Some(self.picker.selected)
    }

    /// Puts the chosen row into the field.
    pub(super) fn take(&mut self, choice: Found) {
        self.input = Input::new(choice.value.clone());
        self.prefilled = false;
        if matches!(self.kind, FieldKind::Lookup(_)) {
            self.picker.answered = None;
            self.picked = Some(choice);
        }
        self.refresh_choices();
    }

    /// The lookup's row chosen for the text the field holds now, if one was.
    pub(super) fn picked_now(&self) -> Option<&Found> {
        self.picked.as_ref().filter(|f| f.value == self.value())
    }

    /// A key typed into the field.
    pub fn key(&mut self, event: &ratatui::crossterm::event::Event) {
        use ratatui::crossterm::event::{Event, KeyCode, KeyModifiers};
        use tui_input::backend::crossterm::EventHandler;
        if self.prefilled
            && let Event::Key(k) = event
            && let KeyCode::Char(_) = k.code
            && !k
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            self.input = Input::default();
        }
        self.prefilled = false;
        self.input.handle_event(event);
        self.refresh_choices();
    }

    /// Puts back what the admin typed before (edited, not replaced, by the next key).
    pub fn set_typed(&mut self, value: String) {
        self.input = Input::new(value);
        self.prefilled = false;
        self.refresh_choices();
    }

    /// Empties the field (Ctrl-U).
    pub fn clear(&mut self) {
        self.input = Input::default();
        self.prefilled = false;
        self.refresh_choices();
    }

    pub(super) fn value(&self) -> &str {
        self.input.value().trim()
    }
}
