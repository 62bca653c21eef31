//! The sign-in screen, action forms and confirm dialogs. Each returns where the terminal cursor
//! goes (the focused input), if anywhere.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use tui_input::Input;

use super::text::{clean, fit, width};
use super::{Theme, fit_line};
use crate::console::forms::{Confirm, Dialog, ExportForm, FieldKind, Form, PICKER_ROWS, SignIn};

/// A box of `w`×`h` centred in `area` (clipped to it), cleared, with a border and `title`.
fn popup(area: Rect, w: u16, h: u16, title: &str, buf: &mut Buffer) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(rect, buf);
    let title = fit(&clean(title), usize::from(w.saturating_sub(4)));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "));
    let inner = block.inner(rect);
    block.render(rect, buf);
    inner
}

/// One labelled input as drawn.
struct Field<'a> {
    label: &'a str,
    input: &'a Input,
    /// Shown as bullets (a password).
    masked: bool,
    focused: bool,
    /// Labels are right-aligned to this width.
    label_w: usize,
}

/// One input line: `label: value`, the value scrolled so that the cursor stays in view.
/// Returns the cursor position when focused.
fn input_line(field: Field, area: Rect, theme: Theme, buf: &mut Buffer) -> Option<Position> {
    let Field {
        label,
        input,
        masked,
        focused,
        label_w,
    } = field;
    let field_w = usize::from(area.width).saturating_sub(label_w + 2).max(1);
    let shown: String = if masked {
        "•".repeat(input.value().chars().count())
    } else {
        clean(input.value())
    };
    let scroll = input.visual_scroll(field_w.saturating_sub(1));
    let visible: String = shown.chars().skip(scroll).collect();
    let visible = fit(&visible, field_w);
    let style = if focused {
        Style::new().add_modifier(Modifier::UNDERLINED)
    } else {
        Style::new()
    };
    let pad = field_w.saturating_sub(width(&visible));
    let line = Line::from(vec![
        Span::styled(format!("{label:>label_w$}: "), theme.accent()),
        Span::styled(format!("{visible}{}", " ".repeat(pad)), style),
    ]);
    Paragraph::new(fit_line(line, usize::from(area.width))).render(area, buf);
    focused.then(|| {
        let col = input.visual_cursor().saturating_sub(scroll);
        Position {
            x: area.x + (label_w + 2 + col.min(field_w)) as u16,
            y: area.y,
        }
    })
}

fn row(inner: Rect, i: u16) -> Rect {
    Rect {
        x: inner.x,
        y: inner.y + i,
        width: inner.width,
        height: 1,
    }
}

fn text_line(s: impl Into<Line<'static>>, inner: Rect, i: u16, buf: &mut Buffer) {
    if i < inner.height {
        Paragraph::new(fit_line(s.into(), usize::from(inner.width))).render(row(inner, i), buf);
    }
}

pub fn render_sign_in(
    s: &SignIn,
    database: &str,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    let inner = popup(area, 64, 11, "Switchboard: sign in", buf);
    text_line(Span::styled(clean(database), theme.dim()), inner, 0, buf);
    let mut cursor = None;
    if inner.height > 3 {
        let pending = s.pending.is_some();
        let email = Field {
            label: "Email",
            input: &s.email,
            masked: false,
            focused: !s.on_password && !pending,
            label_w: 8,
        };
        cursor = cursor.or(input_line(email, row(inner, 2), theme, buf));
        let password = Field {
            label: "Password",
            input: &s.password,
            masked: true,
            focused: s.on_password && !pending,
            label_w: 8,
        };
        cursor = cursor.or(input_line(password, row(inner, 3), theme, buf));
    }
    if let Some(m) = &s.message {
        let style = if s.failures > 0 {
            theme.error()
        } else {
            Style::new()
        };
        // Two lines, wrapped: a refusal is a sentence.
        if inner.height > 6 {
            let area = Rect {
                y: inner.y + 5,
                height: 2,
                ..inner
            };
            Paragraph::new(Span::styled(clean(m), style))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .render(area, buf);
        }
    }
    text_line(
        Span::styled(
            "An active admin or super_admin account; 3 tries.",
            theme.dim(),
        ),
        inner,
        8,
        buf,
    );
    cursor
}

pub fn render_dialog(
    dialog: &Dialog,
    theme: Theme,
    area: Rect,
    buf: &mut Buffer,
) -> Option<Position> {
    match dialog {
        Dialog::Form(f) => render_form(f, theme, area, buf),
        Dialog::Confirm(c) => {
            render_confirm(c, theme, area, buf);
            None
        }
        Dialog::Export(e) => render_export(e, theme, area, buf),
    }
}

fn render_export(e: &ExportForm, theme: Theme, area: Rect, buf: &mut Buffer) -> Option<Position> {
    // An error wraps under the file's lines, whole (it names a path, which may be long).
    let error = e.error.as_ref().map(|err| {
        let width = usize::from(area.width.min(70)).saturating_sub(2).max(1);
        super::text::wrap(&format!("✗ {}", clean(err)), width)
    });
    let extra = error.as_ref().map_or(0, |l| l.len().saturating_sub(1)) as u16;
    let inner = popup(area, 70, 9 + extra, "Export the audit log", buf);
    let filter = if e.filter_text.trim().is_empty() {
        "every entry (no filter)".to_string()
    } else {
        format!("filter: {}", clean(&e.filter_text))
    };
    text_line(Span::raw(filter), inner, 0, buf);
    let field = Field {
        label: "File",
        input: &e.path.input,
        masked: false,
        focused: true,
        label_w: 4,
    };
    let cursor = input_line(field, row(inner, 2), theme, buf);
    text_line(
        Span::styled(
            "      .csv (formulas defused) or .jsonl; oldest first",
            theme.dim(),
        ),
        inner,
        3,
        buf,
    );
    // The whole path the file gets (a relative name is in the console's directory).
    if let Some(file) = e.file() {
        text_line(
            Span::styled(
                format!("      → {}", clean(&file.display().to_string())),
                theme.dim(),
            ),
            inner,
            4,
            buf,
        );
    }
    match error {
        Some(lines) => {
            for (i, line) in lines.into_iter().enumerate() {
                text_line(Span::styled(line, theme.error()), inner, 5 + i as u16, buf);
            }
        }
        None => text_line(
            Span::styled("Enter exports, Esc cancels", theme.dim()),
            inner,
            5,
            buf,
        ),
    }
    cursor
}

/// The lines a field's picker takes under it when focused: a fixed list's every option, a
/// lookup's page and a line that says what is going on.
fn picker_height(field: &crate::console::forms::Field) -> usize {
    match &field.kind {
        FieldKind::Choice(options) => options.len(),
        FieldKind::Lookup(_) => PICKER_ROWS + 1,
        FieldKind::Text | FieldKind::OptionalText | FieldKind::Amount => 0,
    }
}

/// The picker under the focused field: the choices, the selected one marked, scrolled so that
/// it shows; under a lookup, whether it is searching, found nothing, or has more.
fn picker_lines(
    field: &crate::console::forms::Field,
    indent: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let p = &field.picker;
    let rows = match field.kind {
        FieldKind::Lookup(_) => PICKER_ROWS,
        _ => picker_height(field),
    };
    let current = field.choices_current();
    let marked = field.marked();
    let pad = " ".repeat(indent);
    let first = p.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (i, f) in p.items.iter().enumerate().skip(first).take(rows) {
        let selected = marked == Some(i);
        let (mark, style) = if selected {
            ("› ", theme.accent().add_modifier(Modifier::REVERSED))
        } else if current {
            ("  ", Style::new())
        } else {
            ("  ", theme.dim())
        };
        let mut spans = vec![
            Span::raw(pad.clone()),
            Span::raw(mark),
            Span::styled(clean(&f.value), style),
        ];
        if !f.detail.is_empty() {
            spans.push(Span::styled(format!("  {}", clean(&f.detail)), theme.dim()));
        }
        lines.push(Line::from(spans));
    }
    if matches!(field.kind, FieldKind::Lookup(_)) {
        lines.resize(rows, Line::default());
        let state = if let Some(e) = &p.error {
            Span::styled(format!("✗ search failed: {}", clean(e)), theme.error())
        } else if p.asked.is_some() {
            Span::styled("searching…", theme.dim())
        } else if p.items.is_empty() && p.answered.is_some() {
            Span::styled(
                "no active match; Enter sends the text as typed",
                theme.dim(),
            )
        } else if p.next.is_some() {
            Span::styled(
                format!("{} shown; ↓ past the last for more", p.items.len()),
                theme.dim(),
            )
        } else {
            Span::styled(format!("{} found", p.items.len()), theme.dim())
        };
        lines.push(Line::from(vec![
            Span::raw(pad.clone()),
            Span::raw("  "),
            state,
        ]));
    } else if p.items.is_empty() && matches!(field.kind, FieldKind::Choice(_)) {
        lines.push(Line::from(vec![
            Span::raw(pad.clone()),
            Span::styled("  no choice matches", theme.dim()),
        ]));
    }
    lines
}

fn render_form(f: &Form, theme: Theme, area: Rect, buf: &mut Buffer) -> Option<Position> {
    // The box is 70 wide at most, its border inside that.
    let inner_w = usize::from(area.width.min(70).saturating_sub(2));
    let label_w = f.fields.iter().map(|x| width(x.label)).max().unwrap_or(0);
    // A field's error takes its hint's place, beside it, wrapped whole under the value.
    let field_lines: Vec<Vec<Line<'static>>> = f
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let pad = " ".repeat(label_w + 2);
            match f.field_errors.iter().find(|(n, _)| *n == i) {
                Some((_, e)) => super::text::wrap(
                    &format!("✗ {}", clean(e)),
                    inner_w.saturating_sub(label_w + 2),
                )
                .into_iter()
                .map(|part| Line::from(Span::styled(format!("{pad}{part}"), theme.error())))
                .collect(),
                None => vec![Line::from(Span::styled(
                    format!("{pad}{}", field.hint),
                    theme.dim(),
                ))],
            }
        })
        .collect();
    // A refusal that is no one field's wraps below the fields, whole (the box grows for it).
    let error_lines = f
        .error
        .as_deref()
        .map(|e| super::text::wrap(&format!("✗ {}", clean(e)), inner_w.min(66)))
        .unwrap_or_default();
    let picker_h = f.focused().map(picker_height).unwrap_or(0);
    let fields_h: usize = field_lines.iter().map(|l| 1 + l.len()).sum();
    let h = (fields_h + picker_h + 3 + error_lines.len().max(1)) as u16;
    let inner = popup(area, 70, h, &f.title, buf);
    let mut cursor = None;
    let mut y: u16 = 0;
    for ((i, field), below) in f.fields.iter().enumerate().zip(field_lines) {
        if y + 1 >= inner.height {
            break;
        }
        let shown = Field {
            label: field.label,
            input: &field.input,
            masked: false,
            focused: i == f.focus,
            label_w,
        };
        cursor = cursor.or(input_line(shown, row(inner, y), theme, buf));
        y += 1;
        for line in below {
            text_line(line, inner, y, buf);
            y += 1;
        }
        if i == f.focus {
            let top = y;
            for line in picker_lines(field, label_w, theme) {
                text_line(line, inner, y, buf);
                y += 1;
            }
            y = y.max(top + picker_h as u16);
        }
    }
    match &f.error {
        Some(_) => {
            for (i, part) in error_lines.into_iter().enumerate() {
                text_line(Span::styled(part, theme.error()), inner, y + i as u16, buf);
            }
        }
        None => text_line(
            Span::styled("Enter on the last field goes on to confirm", theme.dim()),
            inner,
            y,
            buf,
        ),
    }
    cursor
}

/// The confirm dialog's rows (every field old → new in full: a pair that fits goes on one line;
/// a longer one wraps, the old value first and the new one after `→`, never cut) and how many
/// of them the dialog shows at once in `area`: all, or a window that scrolls (j/k) with a line
/// saying where it is.
fn confirm_rows(c: &Confirm, theme: Theme, area: Rect) -> (Vec<Line<'static>>, usize) {
    let field_w = c.lines.iter().map(|l| width(&l.field)).max().unwrap_or(0);
    let value_w = usize::from(confirm_width(area).saturating_sub(2))
        .saturating_sub(field_w + 2)
        .max(8);
    let mut rows = Vec::new();
    for line in &c.lines {
        let changed = line.old != line.new;
        let old = if line.old.is_empty() {
            "—".to_string()
        } else {
            clean(&line.old)
        };
        let new = clean(&line.new);
        let new_style = if changed {
            theme.changed().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let label = Span::styled(format!("{:>field_w$}  ", line.field), theme.accent());
        let indent = || Span::raw(" ".repeat(field_w + 2));
        if width(&old) + 3 + width(&new) <= value_w {
            rows.push(Line::from(vec![
                label,
                Span::raw(old),
                Span::raw(" → "),
                Span::styled(new, new_style),
            ]));
            continue;
        }
        for (i, part) in super::text::wrap(&old, value_w).into_iter().enumerate() {
            let head = if i == 0 { label.clone() } else { indent() };
            rows.push(Line::from(vec![head, Span::raw(part)]));
        }
        for (i, part) in super::text::wrap(&new, value_w.saturating_sub(2))
            .into_iter()
            .enumerate()
        {
            let arrow = if i == 0 { "→ " } else { "  " };
            rows.push(Line::from(vec![
                indent(),
                Span::raw(arrow),
                Span::styled(part, new_style),
            ]));
        }
    }
    // Borders, a blank, the buttons, a blank and the last line take six rows; a window that
    // scrolls takes one more for where it is.
    let room = usize::from(area.height.saturating_sub(6));
    let shown = if rows.len() > room {
        room.saturating_sub(1).max(1)
    } else {
        rows.len()
    };
    (rows, shown)
}

fn confirm_width(area: Rect) -> u16 {
    area.width.min(72)
}

/// The confirm dialog's window in `area`: how far it scrolls (0 when it shows every row) and
/// how many rows it shows at once.
pub fn confirm_window(c: &Confirm, area: Rect) -> (usize, usize) {
    let (rows, shown) = confirm_rows(c, Theme { color: false }, area);
    (rows.len() - shown, shown)
}

fn render_confirm(c: &Confirm, theme: Theme, area: Rect, buf: &mut Buffer) {
    let (all, shown) = confirm_rows(c, theme, area);
    let total = all.len();
    let scroll = c.scroll.min(total - shown);
    let mut rows: Vec<Line<'static>> = all.into_iter().skip(scroll).take(shown).collect();
    if shown < total {
        let below = if scroll + shown < total {
            "↓ more below"
        } else {
            "the end"
        };
        rows.push(Line::from(Span::styled(
            format!(
                "lines {}-{} of {total}: {below} (j/k, PgDn/PgUp scroll)",
                scroll + 1,
                scroll + shown
            ),
            theme.dim(),
        )));
    }
    let outer_w = confirm_width(area);
    let h = (rows.len() + 6) as u16;
    let inner = popup(area, outer_w, h, &format!("Confirm {}", c.title), buf);
    let n = rows.len() as u16;
    for (i, line) in rows.into_iter().enumerate() {
        text_line(line, inner, i as u16, buf);
    }
    let y = n + 1;
    if c.pending.is_some() {
        text_line(Span::styled("applying…", theme.accent()), inner, y, buf);
    } else if c.checking.is_some() {
        text_line(
            Span::styled("checking with the database…", theme.accent()),
            inner,
            y,
            buf,
        );
    } else {
        text_line(
            Line::from(vec![
                Span::styled(
                    "[ Cancel ]",
                    Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                ),
                Span::raw("   y apply   n/Esc/Enter cancel"),
            ]),
            inner,
            y,
            buf,
        );
    }
    text_line(
        Span::styled(
            "One transaction: the change and its audit entry, or nothing.",
            theme.dim(),
        ),
        inner,
        y + 2,
        buf,
    );
}
