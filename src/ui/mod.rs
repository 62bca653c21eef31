//! Drawing: a pure function of the app state. Nothing here changes state or does I/O.

pub mod detail;
pub mod dialogs;
pub mod log;
pub mod svg;
pub mod text;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::console::app::App;
use crate::console::forms::Dialog;
use crate::console::keymap::{self, BINDINGS, Context, Intent};
use crate::console::live::Live;
use crate::console::log::ScrollLimits;
use crate::console::pane::Pane;
use crate::db::lists::{Cell, ListKind, RowCount};
use crate::numbers::thousands;
use text::{clean, fit, width};

/// Colours are a help, never the only signal: selection is reversed, states are words.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    pub fn accent(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn changed(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
}

fn short_title(kind: ListKind) -> &'static str {
    match kind {
        ListKind::PhoneNumbers => "Numbers",
        ListKind::AuditLog => "Audit",
        ListKind::Tenants => "Tenants",
        ListKind::Users => "Users",
        ListKind::Credits => "Credits",
        ListKind::Agents => "Agents",
    }
}

/// How a column's cells are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fmt {
    Text,
    Number,
    YesNo,
    Minute,
    Second,
    Percent,
    Days,
    ShortId,
}

pub struct Column {
    /// The name of the query column it shows (`lists`' page queries select each cell under
    /// this name, in this order; a test holds the two together).
    pub field: &'static str,
    pub title: &'static str,
    pub min: usize,
    pub pref: usize,
    /// 0 is always shown; higher numbers drop first on narrow screens.
    pub priority: u8,
    pub fmt: Fmt,
    /// Takes the width no column wants (else the first column does).
    pub fill: bool,
}

const fn col(
    field: &'static str,
    title: &'static str,
    min: usize,
    pref: usize,
    priority: u8,
    fmt: Fmt,
) -> Column {
    Column {
        field,
        title,
        min,
        pref,
        priority,
        fmt,
        fill: false,
    }
}

/// A column that takes the width no other column wants.
const fn fill_col(field: &'static str, title: &'static str, min: usize, pref: usize) -> Column {
    Column {
        fill: true,
        ..col(field, title, min, pref, 0, Fmt::Text)
    }
}

const TENANTS_COLUMNS: &[Column] = &[
    col("name", "Name", 10, 29, 0, Fmt::Text),
    // "enterprise", the longest plan, whole.
    col("plan", "Plan", 4, 10, 1, Fmt::Text),
    col("is_active", "Active", 6, 6, 1, Fmt::YesNo),
    col("users", "Users", 5, 7, 0, Fmt::Number),
    col("agents", "Agents", 6, 7, 2, Fmt::Number),
    col("numbers", "Numbers", 7, 7, 3, Fmt::Number),
    col("credits", "Credits", 7, 10, 2, Fmt::Number),
    col("calls_30d", "Calls 30d", 9, 9, 1, Fmt::Number),
];
const USERS_COLUMNS: &[Column] = &[
    col("email", "Email", 14, 34, 0, Fmt::Text),
    col("name", "Name", 8, 22, 1, Fmt::Text),
    col("tenant", "Tenant", 8, 22, 2, Fmt::Text),
    col("role", "Role", 11, 11, 1, Fmt::Text),
    col("is_active", "Active", 6, 6, 1, Fmt::YesNo),
    col("credits", "Credits", 7, 8, 2, Fmt::Number),
    col("verified", "Verified", 8, 8, 3, Fmt::YesNo),
    col("last_session", "Last session", 16, 16, 3, Fmt::Minute),
];
const CREDITS_COLUMNS: &[Column] = &[
    col("email", "User", 14, 34, 0, Fmt::Text),
    col("tenant", "Tenant", 8, 22, 2, Fmt::Text),
    col("balance", "Balance", 7, 9, 0, Fmt::Number),
    col("used_30d", "Used 30d", 8, 9, 1, Fmt::Number),
    col("days_left", "Days left", 9, 9, 1, Fmt::Days),
];
const AGENTS_COLUMNS: &[Column] = &[
    col("name", "Name", 10, 24, 0, Fmt::Text),
    col("owner", "Owner", 10, 30, 1, Fmt::Text),
    col("tenant", "Tenant", 8, 22, 2, Fmt::Text),
    col("agent_type", "Type", 4, 4, 3, Fmt::Text),
    col("is_active", "Active", 6, 6, 1, Fmt::YesNo),
    col("calls", "Calls", 5, 7, 1, Fmt::Number),
    col("success_rate", "Success", 7, 7, 2, Fmt::Percent),
];
const PHONENUMBERS_COLUMNS: &[Column] = &[
    col("number", "Number", 12, 16, 0, Fmt::Text),
    col("name", "Name", 8, 22, 1, Fmt::Text),
    col("assigned_to", "Assigned to", 10, 30, 0, Fmt::Text),
    col("tenant", "Tenant", 8, 22, 2, Fmt::Text),
    col("is_active", "Active", 6, 6, 1, Fmt::YesNo),
    col("created_by", "Created by", 10, 24, 3, Fmt::Text),
];
const AUDITLOG_COLUMNS: &[Column] = &[
    col("created_at", "Time (UTC)", 19, 19, 0, Fmt::Second),
    col("actor", "Actor", 10, 20, 0, Fmt::Text),
    col("action", "Action", 10, 18, 0, Fmt::Text),
    col("resource_type", "Resource", 6, 12, 3, Fmt::Text),
    col("resource_id", "Resource id", 9, 36, 3, Fmt::ShortId),
    // The entry as a sentence, its ids by name (it comes after the row). Wider screens give it
    // 60 columns before the resource columns get any.
    fill_col("change", "Change", 16, 60),
];

pub fn columns(kind: ListKind) -> &'static [Column] {
    match kind {
        ListKind::Tenants => TENANTS_COLUMNS,
        ListKind::Users => USERS_COLUMNS,
        ListKind::Credits => CREDITS_COLUMNS,
        ListKind::Agents => AGENTS_COLUMNS,
        ListKind::PhoneNumbers => PHONENUMBERS_COLUMNS,
        ListKind::AuditLog => AUDITLOG_COLUMNS,
    }
}

/// A cell as text (clean: safe to draw).
pub fn format_cell(cell: &Cell, fmt: Fmt) -> String {
    match cell {
        Cell::Null => "—".to_string(),
        Cell::Pending => "…".to_string(),
        Cell::Text(s) => clean(s),
        Cell::Int(n) => thousands(*n),
        Cell::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Cell::Time(t) => format_time(t, fmt),
        Cell::Id(id) => id.to_string(),
        Cell::Float(f) => match fmt {
            Fmt::Percent => format!("{f:.1}%"),
            Fmt::Days if *f >= 999.0 => "999+ d".to_string(),
            Fmt::Days => format!("{f:.1} d"),
            _ => format!("{f:.2}"),
        },
        Cell::Json(v) => clean(&v.to_string()),
    }
}

fn format_time(t: &DateTime<Utc>, fmt: Fmt) -> String {
    match fmt {
        Fmt::Minute => t.format("%Y-%m-%d %H:%M").to_string(),
        _ => t.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

/// Which columns fit in `width`, and how wide each is.
pub fn layout_columns(cols: &[Column], width: usize) -> Vec<(usize, usize)> {
    let gap = 1;
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|i| (cols[*i].priority, *i));
    let mut widths: Vec<(usize, usize)> = Vec::new();
    let mut used = 0;
    for (k, &i) in order.iter().enumerate() {
        let sep = if widths.is_empty() { 0 } else { gap };
        // Room the always-shown columns after this one need at their narrowest: a preferred
        // width is never taken from them (at 60 columns the audit log's Change column went).
        let reserve: usize = order[k + 1..]
            .iter()
            .filter(|j| cols[**j].priority == 0)
            .map(|j| gap + cols[*j].min)
            .sum();
        // The always-shown columns keep their preferred width when they can: better to drop a
        // minor column than to squeeze the email everyone reads.
        let want = if cols[i].priority == 0 && used + sep + cols[i].pref + reserve <= width {
            cols[i].pref
        } else {
            cols[i].min
        };
        if used + sep + want <= width {
            widths.push((i, want));
            used += sep + want;
        }
    }
    widths.sort();
    let mut spare = width.saturating_sub(used);
    // Grow the other columns towards their preferred widths first; the first column (usually
    // the name) takes what is left.
    for (i, w) in widths.iter_mut().skip(1) {
        let grow = (cols[*i].pref.saturating_sub(*w)).min(spare);
        *w += grow;
        spare -= grow;
    }
    let filler = widths.iter().position(|(i, _)| cols[*i].fill).unwrap_or(0);
    if let Some(w) = widths.get_mut(filler) {
        w.1 += spare;
    }
    widths
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let s = fit(s, w);
    let fill = " ".repeat(w.saturating_sub(width(&s)));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

fn right_aligned(fmt: Fmt) -> bool {
    matches!(fmt, Fmt::Number | Fmt::Percent | Fmt::Days)
}

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if let Some(cursor) = render_app(app, area, frame.buffer_mut()) {
        frame.set_cursor_position(cursor);
    }
}

/// Draws the whole screen; returns where the cursor goes when an input has the focus.
pub fn render_app(app: &App, area: Rect, buf: &mut Buffer) -> Option<Position> {
    let theme = Theme { color: app.color };
    let [tabs, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(app, tabs, buf);
    let pane = app.pane();
    match &pane.detail {
        Some(view) => detail::render(view, theme, body, buf),
        None => render_list(app, pane, body, buf),
    }
    let message_cut = render_status(app, status, buf);
    render_footer(app, message_cut, footer, buf);
    if let Some(s) = &app.sign_in {
        Clear.render(body, buf);
        return dialogs::render_sign_in(s, &app.status.database, theme, body, buf);
    }
    if app.help {
        render_help(app, body, buf);
    } else if app.log_open {
        log::render(app, body, buf);
    }
    app.dialog
        .as_ref()
        .and_then(|d| dialogs::render_dialog(d, theme, body, buf))
}

fn render_tabs(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = Theme { color: app.color };
    let long: usize = ListKind::ALL.iter().map(|k| k.title().len() + 5).sum();
    let use_short = long > usize::from(area.width);
    let mut spans = Vec::new();
    for (i, kind) in ListKind::ALL.iter().enumerate() {
        let title = if use_short {
            short_title(*kind)
        } else {
            kind.title()
        };
        if i == app.tab {
            spans.push(Span::styled(
                format!("[{} {}]", i + 1, title),
                theme.accent().add_modifier(Modifier::REVERSED),
            ));
        } else {
            spans.push(Span::styled(format!(" {} {} ", i + 1, title), theme.dim()));
        }
        spans.push(Span::raw(" "));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

fn render_list(app: &App, pane: &Pane, area: Rect, buf: &mut Buffer) {
    let theme = Theme { color: app.color };
    let [filter_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    // The filter line: what is typed, what is applied, what is wrong with it.
    let value = clean(pane.filter_input.value());
    let filter_line = if pane.editing_filter {
        Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(value.clone()),
            Span::styled("▏", theme.accent()),
        ])
    } else if !value.is_empty() {
        Line::from(vec![
            Span::styled("filter: ", theme.dim()),
            Span::raw(value.clone()),
        ])
    } else {
        Line::from(Span::styled(filter_hint(pane.kind), theme.dim()))
    };
    let mut filter_line = filter_line;
    if let Some(e) = &pane.filter_error {
        filter_line
            .spans
            .push(Span::styled(format!("  {}", clean(e)), theme.error()));
    }
    let fitted = fit_line(filter_line, usize::from(filter_area.width));
    Paragraph::new(fitted).render(filter_area, buf);

    let cols = columns(pane.kind);
    let layout = layout_columns(cols, usize::from(table_area.width));
    let header: Vec<Span> = layout
        .iter()
        .enumerate()
        .flat_map(|(n, (i, w))| {
            let c = &cols[*i];
            let mut v = Vec::new();
            if n > 0 {
                v.push(Span::raw(" "));
            }
            v.push(Span::styled(
                pad(c.title, *w, right_aligned(c.fmt)),
                Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ));
            v
        })
        .collect();
    let mut lines = vec![Line::from(header)];
    let visible = usize::from(table_area.height.saturating_sub(1));
    if pane.rows.is_empty() {
        if let Some(e) = &pane.filter_error {
            // The filter line cuts a long reason: here it is whole, wrapped.
            let width = usize::from(table_area.width).max(1);
            lines.extend(
                text::wrap(&clean(e), width)
                    .into_iter()
                    .map(|part| Line::from(Span::styled(part, theme.error()))),
            );
            lines.push(Line::from(Span::styled(
                "No rows while the filter is not valid: fix it, or Esc clears it.",
                theme.error(),
            )));
        } else {
            lines.push(if let Some(e) = &pane.error {
                Line::from(Span::styled(format!("Error: {}", clean(e)), theme.error()))
            } else if !pane.loaded {
                Line::from(Span::styled("Loading…", theme.dim()))
            } else if pane.filter.is_empty() {
                Line::from(format!("No {} yet.", pane.kind.title().to_lowercase()))
            } else if app.can_return() {
                // The filter came with a jump (`h` on a record with no history yet).
                Line::from(format!(
                    "Nothing matches the filter `{value}`. Esc goes back."
                ))
            } else {
                Line::from(format!(
                    "Nothing matches the filter `{value}`. Esc clears it."
                ))
            });
        }
    }
    for (idx, row) in pane.rows.iter().enumerate().skip(pane.offset).take(visible) {
        let mut spans = Vec::new();
        for (n, (i, w)) in layout.iter().enumerate() {
            let c = &cols[*i];
            if n > 0 {
                spans.push(Span::raw(" "));
            }
            let cell = row.cells.get(*i).cloned().unwrap_or(Cell::Null);
            spans.push(Span::raw(pad(
                &format_cell(&cell, c.fmt),
                *w,
                right_aligned(c.fmt),
            )));
        }
        if idx == pane.selected
            && let Some(first) = spans.first_mut()
        {
            // The bar covers the row's first column (its name, email or time): moving it
            // re-sends two short cells instead of two whole rows, which is what a key press
            // costs over a slow SSH link (see BENCHMARKS.md).
            *first = first.clone().style(theme.selected());
        }
        lines.push(Line::from(spans));
    }
    Paragraph::new(lines).render(table_area, buf);
}

fn filter_hint(kind: ListKind) -> String {
    let words: Vec<String> = kind.filter_keys().iter().map(|k| format!("{k}:")).collect();
    format!("/ to filter; also {}", words.join(" "))
}

/// Cuts a line of spans to `max` columns.
pub(crate) fn fit_line(line: Line<'static>, max: usize) -> Line<'static> {
    let mut used = 0;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = width(&span.content);
        if used + w <= max {
            used += w;
            spans.push(span);
        } else {
            let rest = max.saturating_sub(used);
            if rest > 0 {
                spans.push(Span::styled(fit(&span.content, rest), span.style));
            }
            break;
        }
    }
    Line::from(spans).style(line.style)
}

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// The status line's parts: what is said (left) and the position in the list (right).
fn status_parts(app: &App) -> (Vec<Span<'static>>, String) {
    let theme = Theme { color: app.color };
    let pane = app.pane();
    // What needs attention comes first; the database description goes last, where a narrow
    // screen cuts it.
    let mut left: Vec<Span> = Vec::new();
    let mut push = |span: Span<'static>| {
        if !left.is_empty() {
            left.push(Span::raw(" | "));
        }
        left.push(span);
    };
    if app.status.read_only {
        push(Span::styled("READ-ONLY", theme.warn()));
    }
    if let Some(e) = &app.status.error {
        push(Span::styled(format!("error: {}", clean(e)), theme.error()));
    }
    let spin = SPINNER[app.spinner % SPINNER.len()];
    if app.is_querying() {
        push(Span::styled(
            format!("{spin} loading (Esc cancels)"),
            theme.accent(),
        ));
    }
    if let Some(export) = &app.exporting {
        push(Span::styled(
            format!(
                "{spin} exporting: {} entries to {}",
                thousands(export.rows as i64),
                clean(&export.path.display().to_string())
            ),
            theme.accent(),
        ));
    }
    // Reads not where they were asked to go: said early. A following standby's lag: late.
    let standby = app.standby.as_ref().map(|v| (v.is_warning(), v.describe()));
    if let Some((true, text)) = &standby {
        push(Span::styled(text.clone(), theme.warn()));
    }
    if let Some(info) = &app.status.info {
        push(Span::raw(clean(info)));
    }
    if pane.kind == ListKind::AuditLog {
        if pane.fresh > 0 {
            push(Span::styled(
                format!("{} new (g shows)", thousands(pane.fresh as i64)),
                theme.changed(),
            ));
        }
        if app.live == Live::Polling {
            push(Span::styled(
                "new entries every 2 s (no LISTEN behind a transaction pooler)",
                theme.dim(),
            ));
        }
    }
    if let Some(admin) = &app.status.signed_in_as {
        push(Span::raw(clean(admin)));
    }
    if let Some((false, text)) = standby {
        push(Span::styled(text, theme.dim()));
    }
    // The database label only when nothing is said: a message gets the room (and `M` keeps it
    // whole).
    if app.status.info.is_none() && app.status.error.is_none() {
        push(Span::styled(clean(&app.status.database), theme.dim()));
    }
    let position = match (pane.position(), pane.count) {
        (Some(p), Some(RowCount::Exact(n))) => {
            format!("{} of {}", thousands(p as i64), thousands(n))
        }
        (Some(p), Some(RowCount::AtLeast(n))) => {
            format!("{} of {}+", thousands(p as i64), thousands(n))
        }
        (Some(p), None) => format!("row {}", thousands(p as i64)),
        (None, Some(RowCount::AtLeast(n))) => format!("{}+ rows", thousands(n)),
        (None, Some(RowCount::Exact(n))) if !pane.rows.is_empty() => {
            format!("{} rows", thousands(n))
        }
        (None, _) if !pane.rows.is_empty() => format!("row ≥{}", pane.selected + 1),
        _ => String::new(),
    };
    (left, position)
}

/// Draws the status line; says whether it cut a message (the footer then offers `M` first).
fn render_status(app: &App, area: Rect, buf: &mut Buffer) -> bool {
    let (left, position) = status_parts(app);
    let right_w = width(&position);
    let avail = usize::from(area.width).saturating_sub(right_w + 1);
    let said = app.status.info.is_some() || app.status.error.is_some();
    let message_cut = said && left.iter().map(|s| width(&s.content)).sum::<usize>() > avail;
    let left = fit_line(Line::from(left), avail);
    let left_w: usize = left.spans.iter().map(|s| width(&s.content)).sum();
    let mut spans = left.spans;
    spans.push(Span::raw(
        " ".repeat(usize::from(area.width).saturating_sub(left_w + right_w)),
    ));
    // Plain, not dimmed: the position changes with every key, and a colour costs bytes each time.
    spans.push(Span::raw(position));
    Paragraph::new(Line::from(spans)).render(area, buf);
    message_cut
}

fn render_footer(app: &App, message_cut: bool, area: Rect, buf: &mut Buffer) {
    let theme = Theme { color: app.color };
    let context = app.context();
    // (keys, word, priority): filter, open, help and quit first, then the pane's actions (the
    // ones the admin may use), then the rest of navigation, each shown if it still fits; on
    // screen: navigation, actions, help, quit.
    let mut items: Vec<(String, &str, u8)> = Vec::new();
    // Esc is offered only where it does something (a way back, a detail, a query, a filter).
    let nav: Vec<_> = keymap::footer(context, app.pane().kind)
        .filter(|b| {
            b.intent != Intent::Back
                || !matches!(context, Context::List | Context::Detail)
                || app.esc_does().is_some()
        })
        // ↓/↑ choose only where the field has choices (elsewhere they move between fields).
        .filter(|b| {
            context != Context::Form || b.intent != Intent::Down || app.focused_field_has_picker()
        })
        // j/k scroll a confirm dialog only when it holds more than it shows.
        .filter(|b| {
            context != Context::Confirm
                || b.intent != Intent::Down
                || matches!(&app.dialog,
                    Some(Dialog::Confirm(c)) if dialogs::confirm_window(c, body_of(app)).0 > 0)
        })
        .collect();
    let essential = |a: Intent| {
        !matches!(context, Context::List | Context::Detail)
            || matches!(
                a,
                Intent::Filter | Intent::Open | Intent::Help | Intent::Quit
            )
    };
    for b in nav
        .iter()
        .filter(|b| !matches!(b.intent, Intent::Help | Intent::Quit))
    {
        // Esc in a list or a detail says what it does there, and is kept before the actions.
        let list_esc =
            b.intent == Intent::Back && matches!(context, Context::List | Context::Detail);
        let (short, priority) = match app.esc_does() {
            Some(does) if list_esc => (does.word(), 0),
            _ if essential(b.intent) => (b.short, 0),
            _ => (b.short, 2),
        };
        items.push((b.keys().to_string(), short, priority));
    }
    // The status line cuts a message: `M` shows it whole, and says so before anything else.
    if !app.log.is_empty() && matches!(context, Context::List | Context::Detail) {
        if message_cut {
            items.push(("M".to_string(), "whole message", 0));
        } else {
            items.push(("M".to_string(), "messages", 2));
        }
    }
    // A read-only session offers no action (each would be refused).
    if let (Some(session), Context::List | Context::Detail, false) =
        (&app.session, context, app.status.read_only)
    {
        for a in keymap::allowed_verbs(app.pane().kind, session.actor.role) {
            items.push((a.key.to_string(), a.short, 1));
        }
    }
    let mut help = None;
    // In the help, `?` is one of the keys that close it (said once, by that binding).
    for b in nav.iter().filter(|b| {
        matches!(b.intent, Intent::Help | Intent::Quit)
            && !(b.intent == Intent::Help && context == Context::Help)
    }) {
        if b.intent == Intent::Help {
            help = Some(items.len());
        }
        items.push((b.keys().to_string(), b.short, 0));
    }
    let fit_items = |items: &[(String, &str, u8)]| {
        let mut room = usize::from(area.width);
        let mut shown = vec![false; items.len()];
        for priority in 0..=2 {
            for (i, (keys, short, p)) in items.iter().enumerate() {
                let w = width(keys) + width(short) + 3;
                if *p == priority && w <= room {
                    shown[i] = true;
                    room -= w;
                }
            }
        }
        shown
    };
    let shown = fit_items(&items);
    // Keys left out for room: the help says it has them (it lists every key that applies),
    // where the longer word leaves out nothing more.
    if shown.contains(&false)
        && let Some(help) = help
    {
        let mut longer = items.clone();
        longer[help].1 = "all keys";
        if fit_items(&longer) == shown {
            items = longer;
        }
    }
    let mut spans = Vec::new();
    for (i, (keys, short, _)) in items.into_iter().enumerate() {
        if shown[i] {
            spans.push(Span::styled(keys, theme.accent()));
            spans.push(Span::raw(format!(" {short}  ")));
        }
    }
    Paragraph::new(fit_line(Line::from(spans), usize::from(area.width))).render(area, buf);
}

/// The help: every key once per section, only the ones that apply in this pane, wrapped to the
/// width, scrolled with j/k.
/// The screen's body (between the tabs and the status line), where the overlays go.
fn body_of(app: &App) -> Rect {
    Rect::new(0, 0, app.width, app.height.saturating_sub(3))
}

/// The help's box in `area`: at most 100 wide, centred, full height.
fn help_popup(area: Rect) -> Rect {
    let w = area.width.min(100);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y,
        width: w,
        height: area.height,
    }
}

/// How far the help and the messages scroll at the console's size, as drawn: their last line
/// at the bottom. The front end hands these to the state after drawing, so `k` after the end
/// moves at once.
pub fn scroll_limits(app: &App) -> ScrollLimits {
    let (confirm, confirm_page) = match &app.dialog {
        Some(Dialog::Confirm(c)) => dialogs::confirm_window(c, body_of(app)),
        _ => (0, 1),
    };
    let popup = help_popup(body_of(app));
    let visible = usize::from(popup.height.saturating_sub(2));
    ScrollLimits {
        help: help_lines(app, popup.width).len().saturating_sub(visible),
        messages: log::scroll_max(app, body_of(app)),
        confirm,
        confirm_page,
    }
}

fn render_help(app: &App, area: Rect, buf: &mut Buffer) {
    let popup = help_popup(area);
    let lines = help_lines(app, popup.width);
    Clear.render(popup, buf);
    let visible = usize::from(popup.height.saturating_sub(2));
    let more = lines.len() > visible;
    let scroll = app.help_scroll.min(lines.len().saturating_sub(visible));
    let title = if more {
        format!(
            " Keys: lines {}-{} of {} (j/k scroll, Esc closes) ",
            scroll + 1,
            (scroll + visible).min(lines.len()),
            lines.len()
        )
    } else {
        " Keys (Esc closes) ".to_string()
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(popup);
    block.render(popup, buf);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(scroll)
        .take(visible)
        .map(|l| fit_line(l, usize::from(inner.width)))
        .collect();
    Paragraph::new(shown).render(inner, buf);
}

/// The help's lines for a box `w` wide: each section's keys once, wrapped.
fn help_lines(app: &App, w: u16) -> Vec<Line<'static>> {
    let theme = Theme { color: app.color };
    let kind = app.pane().kind;
    const KEYS_W: usize = 13;
    let text_w = usize::from(w.saturating_sub(2))
        .saturating_sub(KEYS_W)
        .max(10);
    let mut lines: Vec<Line> = Vec::new();
    let entry = |lines: &mut Vec<Line>, keys: &str, help: &str| {
        for (i, part) in text::wrap(help, text_w).into_iter().enumerate() {
            let head = if i == 0 {
                format!(" {keys:<width$}", width = KEYS_W - 1)
            } else {
                " ".repeat(KEYS_W)
            };
            lines.push(Line::from(vec![
                Span::styled(head, Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(part),
            ]));
        }
    };
    let sections: [(&[Context], &str); 5] = [
        (&[Context::List, Context::Detail], "Moving around"),
        (&[Context::Filter], "Typing a filter"),
        (&[Context::Form], "In a form"),
        (&[Context::Confirm], "In a confirm dialog"),
        (
            &[Context::Help, Context::Messages],
            "In the help and the messages",
        ),
    ];
    for (ctxs, title) in sections {
        lines.push(Line::from(Span::styled(title, theme.accent())));
        let mut seen: Vec<String> = Vec::new();
        for b in BINDINGS.iter().filter(|b| {
            ctxs.iter().any(|c| b.contexts.contains(c)) && b.only.is_none_or(|p| p == kind)
        }) {
            // Each key once: a key that means two things in the section says both.
            let keys = b.keys().to_string();
            // `k` is said by `j/k`, `G` by `g/G`: a key another entry names is not repeated.
            let named_elsewhere = BINDINGS.iter().any(|o| {
                o.keys() != keys.as_str()
                    && ctxs.iter().any(|c| o.contexts.contains(c))
                    && o.only.is_none_or(|p| p == kind)
                    && o.keys().split('/').any(|part| part == keys)
            });
            // Quitting is said once, in the first section.
            let said = b.intent == Intent::Quit && title != "Moving around";
            if seen.contains(&keys) || named_elsewhere || said {
                continue;
            }
            seen.push(keys.clone());
            let helps: Vec<&str> = BINDINGS
                .iter()
                .filter(|o| {
                    o.keys() == keys.as_str()
                        && ctxs.iter().any(|c| o.contexts.contains(c))
                        && o.only.is_none_or(|p| p == kind)
                })
                .map(|o| o.help)
                .collect();
            let mut unique: Vec<&str> = Vec::new();
            for h in helps {
                if !unique.contains(&h) {
                    unique.push(h);
                }
            }
            entry(&mut lines, &keys, &unique.join("; "));
        }
    }
    if keymap::pane_verbs(kind).next().is_some() {
        lines.push(Line::from(Span::styled(
            format!("Actions in {}", kind.title()),
            theme.accent(),
        )));
        let role = app.session.as_ref().map(|s| s.actor.role);
        for a in keymap::pane_verbs(kind) {
            let needs = a.verb.min_role();
            let note = match role {
                _ if app.status.read_only => " (not in a read-only session)".to_string(),
                Some(r) if r >= needs => String::new(),
                _ => format!(" ({})", needs.as_str()),
            };
            entry(&mut lines, &a.key.to_string(), &format!("{}{note}", a.help));
        }
    }
    lines.push(Line::from(Span::styled(
        "Filters: free text, plus the key:value words shown on the filter line.",
        theme.dim(),
    )));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every always-shown column is on screen at any width its narrowest forms fit: at 60
    /// columns the audit log keeps its Change column (the rows read alike without it).
    #[test]
    fn always_shown_columns_stay_on_narrow_screens() {
        for kind in ListKind::ALL {
            let cols = columns(kind);
            let essential: Vec<usize> =
                (0..cols.len()).filter(|i| cols[*i].priority == 0).collect();
            let narrowest: usize =
                essential.iter().map(|i| cols[*i].min).sum::<usize>() + essential.len() - 1;
            for width in narrowest..=120 {
                let shown: Vec<usize> = layout_columns(cols, width)
                    .iter()
                    .map(|(i, _)| *i)
                    .collect();
                for i in &essential {
                    assert!(
                        shown.contains(i),
                        "{kind:?} at {width}: {} left out",
                        cols[*i].title
                    );
                }
            }
        }
    }

    #[test]
    fn columns_fit_any_width() {
        for kind in ListKind::ALL {
            for width in [20, 40, 80, 160] {
                let l = layout_columns(columns(kind), width);
                let total: usize =
                    l.iter().map(|(_, w)| w).sum::<usize>() + l.len().saturating_sub(1);
                assert!(
                    total <= width.max(columns(kind)[0].min),
                    "{kind:?} at {width}: {total}"
                );
                assert!(!l.is_empty());
            }
        }
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
    }
}
