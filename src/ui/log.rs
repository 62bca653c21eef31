//! The session's messages (`M`): every outcome, refusal and error of this session in full,
//! newest first, wrapped to the width, scrolled with j/k.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::Theme;
use super::text::{clean, wrap};
use crate::console::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    Clear.render(area, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Messages of this session, newest first (Esc closes) ");
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = lines(app, inner.width);
    let visible = usize::from(inner.height);
    let scroll = app.log_scroll.min(lines.len().saturating_sub(visible));
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(visible).collect();
    Paragraph::new(shown).render(inner, buf);
}

/// How far the messages scroll in `area`: the last line at the bottom.
pub fn scroll_max(app: &App, area: Rect) -> usize {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    lines(app, inner.width)
        .len()
        .saturating_sub(usize::from(inner.height))
}

/// The messages, newest first, each "HH:MM:SS " then its text wrapped under itself.
fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let theme = Theme { color: app.color };
    const STAMP: usize = 9;
    let text_w = usize::from(width).saturating_sub(STAMP).max(10);
    let mut lines: Vec<Line> = Vec::new();
    if app.log.is_empty() {
        lines.push(Line::from(Span::styled(
            "Nothing yet: outcomes, refusals and errors of this session are kept here.",
            theme.dim(),
        )));
    }
    for note in app.log.iter().rev() {
        let style = if note.error {
            theme.error()
        } else {
            ratatui::style::Style::new()
        };
        for (i, part) in wrap(&clean(&note.text), text_w).into_iter().enumerate() {
            let stamp = if i == 0 {
                format!("{} ", note.at.format("%H:%M:%S"))
            } else {
                " ".repeat(STAMP)
            };
            lines.push(Line::from(vec![
                Span::styled(stamp, theme.dim()),
                Span::styled(part, style),
            ]));
        }
    }
    lines
}
