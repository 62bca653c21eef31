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
    let theme = Theme { color: app.color };
    Clear.render(area, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Messages of this session, newest first (Esc closes) ");
    let inner = block.inner(area);
    block.render(area, buf);
    // "HH:MM:SS " then the text, wrapped under itself.
    const STAMP: usize = 9;
    let text_w = usize::from(inner.width).saturating_sub(STAMP).max(10);
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
    let visible = usize::from(inner.height);
    let scroll = app.log_scroll.min(lines.len().saturating_sub(visible));
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(visible).collect();
    Paragraph::new(shown).render(inner, buf);
}
