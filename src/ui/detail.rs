//! The detail view: one record as scrollable lines.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use serde_json::Value;

use super::text::{clean, fit, width, wrap};
use super::{Fmt, Theme, format_cell};
use crate::console::pane::DetailView;
use crate::db::details::{Detail, Section};
use crate::db::lists::Cell;

pub fn render(view: &DetailView, theme: Theme, area: Rect, buf: &mut Buffer) {
    let lines: Vec<Line> = match (&view.detail, &view.error) {
        (Some(d), _) => lines(d, theme, usize::from(area.width)),
        (None, Some(e)) => vec![Line::from(Span::styled(
            format!("Error: {}", clean(e)),
            theme.error(),
        ))],
        (None, None) => vec![Line::from(Span::styled("Loading…", theme.dim()))],
    };
    let max_scroll = lines.len().saturating_sub(usize::from(area.height));
    let scroll = usize::from(view.scroll).min(max_scroll) as u16;
    Paragraph::new(lines).scroll((scroll, 0)).render(area, buf);
}

fn cell_text(c: &Cell) -> String {
    format_cell(c, Fmt::Second)
}

/// The whole detail as lines no wider than `w`.
pub fn lines(d: &Detail, theme: Theme, w: usize) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled(
        fit(&clean(&d.title), w),
        theme.accent(),
    ))];
    let label_w = d.fields.iter().map(|(l, _)| width(l)).max().unwrap_or(0) + 1;
    for (label, value) in &d.fields {
        // A long value wraps under itself: nothing of a record is cut off.
        let text = cell_text(value);
        let pieces = wrap(&text, w.saturating_sub(label_w + 1));
        for (i, piece) in pieces.into_iter().enumerate() {
            let label = if i == 0 {
                format!("{:<label_w$}", format!("{label}:"))
            } else {
                " ".repeat(label_w)
            };
            out.push(Line::from(vec![
                Span::styled(label, theme.dim()),
                Span::raw(" "),
                Span::raw(piece),
            ]));
        }
    }
    if d.jump.is_some() {
        out.push(Line::from(Span::styled(
            "Enter: go to this record   h: its audit history",
            theme.dim(),
        )));
    }
    for section in &d.sections {
        out.push(Line::default());
        match section {
            Section::Table {
                title,
                header,
                rows,
            } => {
                out.extend(heading(title, theme, w));
                if rows.is_empty() {
                    out.push(Line::from(Span::styled("  (none)", theme.dim())));
                    continue;
                }
                let texts: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(cell_text).collect())
                    .collect();
                out.extend(table_lines(header, &texts, w));
            }
            Section::Json { title, value } => {
                out.extend(heading(title, theme, w));
                out.extend(json_lines(value, w));
            }
            Section::Series {
                title,
                first_day,
                values,
            } => {
                out.extend(heading(title, theme, w));
                out.push(Line::from(format!("  {}", sparkline(values))));
                let max = values.iter().max().copied().unwrap_or(0);
                let total: u64 = values.iter().sum();
                out.push(Line::from(Span::styled(
                    fit(
                        &format!("  from {first_day}, 30 days: total {total}, busiest day {max}"),
                        w,
                    ),
                    theme.dim(),
                )));
            }
            Section::Diff { old, new } => {
                out.extend(heading(
                    "Changes (old → new; * marks a changed key)",
                    theme,
                    w,
                ));
                out.extend(diff_lines(old.as_ref(), new.as_ref(), theme, w));
            }
        }
    }
    out
}

fn heading(title: &str, theme: Theme, w: usize) -> Vec<Line<'static>> {
    wrap(&clean(title), w)
        .into_iter()
        .map(|l| {
            Line::from(Span::styled(
                l,
                theme.accent().add_modifier(Modifier::UNDERLINED),
            ))
        })
        .collect()
}

fn table_lines(header: &[&str], rows: &[Vec<String>], w: usize) -> Vec<Line<'static>> {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            widths[i] = widths[i].max(width(c)).min(40);
        }
    }
    // Shrink the widest columns until the table fits.
    let avail = w.saturating_sub(2 + n.saturating_sub(1));
    while widths.iter().sum::<usize>() > avail {
        let Some((i, _)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
            break;
        };
        if widths[i] <= 3 {
            break;
        }
        widths[i] -= 1;
    }
    let row_line = |cells: Vec<String>, style: Style| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let f = fit(c, *w);
                let fill = w.saturating_sub(width(&f));
                format!("{f}{}", " ".repeat(fill))
            })
            .collect();
        Line::from(Span::styled(format!("  {}", text.join(" ")), style))
    };
    let mut out = vec![row_line(
        header.iter().map(|h| h.to_string()).collect(),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for r in rows {
        out.push(row_line(r.clone(), Style::new()));
    }
    out
}

fn json_lines(value: &Value, w: usize) -> Vec<Line<'static>> {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut out = Vec::new();
    for l in pretty.lines() {
        // A long line wraps, its continuation indented two more than the line itself.
        let l = clean(l);
        let indent = 2 + l.len() - l.trim_start().len();
        let pieces = wrap(l.trim_start(), w.saturating_sub(indent + 2).max(1));
        for (i, piece) in pieces.into_iter().enumerate() {
            let pad = if i == 0 { indent } else { indent + 2 };
            out.push(Line::from(format!("{}{piece}", " ".repeat(pad))));
        }
    }
    out
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline: one bar a day, scaled to the largest value.
pub fn sparkline(values: &[u64]) -> String {
    let max = values.iter().max().copied().unwrap_or(0);
    values
        .iter()
        .map(|v| {
            if max == 0 {
                BARS[0]
            } else {
                BARS[((*v as f64 / max as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// Old and new values side by side, key by key.
fn diff_lines(
    old: Option<&Value>,
    new: Option<&Value>,
    theme: Theme,
    w: usize,
) -> Vec<Line<'static>> {
    let obj = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::Null) | None => serde_json::Map::new(),
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("(value)".into(), other.clone());
            m
        }
    };
    let (old, new) = (obj(old), obj(new));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return vec![Line::from(Span::styled(
            "  (no values recorded)",
            theme.dim(),
        ))];
    }
    let key_w = keys.iter().map(|k| width(k)).max().unwrap_or(0).min(24) + 2;
    let side = w.saturating_sub(key_w + 2 + 3) / 2;
    // Whole numbers read as everywhere else in the console (`10,062`); an object one line a
    // key, each wrapped on its own.
    let show = |v: Option<&Value>, side: usize| -> Vec<String> {
        match v {
            None => vec!["—".to_string()],
            Some(Value::Object(m)) if !m.is_empty() => m
                .iter()
                .flat_map(|(k, v)| wrap(&clean(&format!("{k}: {}", inline(v))), side))
                .collect(),
            Some(v) => wrap(&clean(&inline(v)), side),
        }
    };
    let mut out = vec![Line::from(Span::styled(
        format!("  {:<key_w$}{:<side$} → new", "key", "old"),
        Style::new().add_modifier(Modifier::BOLD),
    ))];
    for k in keys {
        let (o, n) = (old.get(k), new.get(k));
        let changed = o != n;
        let mark = if changed { "*" } else { " " };
        let key = fit(&clean(k), key_w - 2);
        let style = if changed {
            theme.changed()
        } else {
            Style::new()
        };
        // Old and new wrap in their columns: a long value is read whole, never cut.
        let (olds, news) = (show(o, side), show(n, side));
        for i in 0..olds.len().max(news.len()) {
            let old_text = olds.get(i).map_or("", String::as_str);
            let new_text = news.get(i).map_or("", String::as_str);
            let (mark, key, arrow) = if i == 0 {
                (mark, key.as_str(), "→")
            } else {
                (" ", "", " ")
            };
            let line = format!(
                "{mark} {key:<kw$}{old_text}{pad} {arrow} {new_text}",
                kw = key_w,
                pad = " ".repeat(side.saturating_sub(width(old_text))),
            );
            out.push(Line::from(Span::styled(line, style)));
        }
    }
    out
}

/// A value on one line: whole numbers with thousands separators, an object's keys each followed
/// by its value (`legacy 31,004, new 28,308`, in brackets when nested), the rest as JSON.
fn inline(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_i64() => crate::numbers::thousands(n.as_i64().unwrap_or(0)),
        Value::Object(m) if !m.is_empty() => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k} {}", nested(v)))
                .collect();
            entries.join(", ")
        }
        other => other.to_string(),
    }
}

fn nested(v: &Value) -> String {
    match v {
        Value::Object(m) if !m.is_empty() => format!("({})", inline(v)),
        other => inline(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long values wrap at any width, in the fields, the old → new columns and JSON: every
    /// word of them is on screen, no line is wider than the screen, nothing ends in "…".
    #[test]
    fn a_long_value_is_wrapped_whole_never_cut() {
        use crate::db::lists::ListKind;
        let reason = (1..=40)
            .map(|i| format!("word{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let change =
            format!("aisha.keller@brightline.example: tenant Brightline Insurance and {reason}");
        let d = Detail {
            kind: ListKind::AuditLog,
            id: uuid::Uuid::nil(),
            title: "Audit entry".into(),
            fields: vec![("change", Cell::Text(change.clone()))],
            sections: vec![
                Section::Diff {
                    old: Some(serde_json::json!({"reason": null})),
                    new: Some(serde_json::json!({"reason": reason})),
                },
                Section::Json {
                    title: "counts".into(),
                    value: serde_json::json!({"note": reason}),
                },
            ],
            jump: None,
        };
        for w in [40, 80, 120] {
            let lines: Vec<String> = lines(&d, Theme { color: false }, w)
                .iter()
                .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
                .collect();
            assert!(lines.iter().all(|l| width(l) <= w), "{w}: {lines:#?}");
            assert!(
                !lines.iter().any(|l| l.trim_end().ends_with('…')),
                "{w}: {lines:#?}"
            );
            let text = lines.join(" ");
            for i in 1..=40 {
                // Each word of the reason: in the field, the diff's new column and the JSON.
                let word = format!("word{i}");
                let n = text
                    .split_whitespace()
                    .filter(|t| t.trim_matches(|c: char| !c.is_alphanumeric()) == word)
                    .count();
                assert_eq!(n, 3, "{w}: {word} in {lines:#?}");
            }
        }
    }

    /// An object in the old → new columns (an import's counts per table) reads one key a line,
    /// its numbers as the console writes them, not as wrapped JSON.
    #[test]
    fn an_object_in_the_diff_reads_one_key_a_line() {
        use crate::db::lists::ListKind;
        let d = Detail {
            kind: ListKind::AuditLog,
            id: uuid::Uuid::nil(),
            title: "Audit entry".into(),
            fields: Vec::new(),
            sections: vec![Section::Diff {
                old: None,
                new: Some(serde_json::json!({"counts": {
                    "call_logs_voiceagent": {"legacy": 1000216, "new": 996172},
                    "organizations": {"legacy": 8, "new": 8},
                    "empty": {}
                }})),
            }],
            jump: None,
        };
        let lines: Vec<String> = lines(&d, Theme { color: false }, 120)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        let at = |text: &str| lines.iter().position(|l| l.ends_with(text));
        // In the order of the keys, one line each.
        let calls = at("call_logs_voiceagent: legacy 1,000,216, new 996,172");
        assert!(calls.is_some(), "{lines:#?}");
        assert_eq!(at("empty: {}"), calls.map(|i| i + 1), "{lines:#?}");
        assert_eq!(
            at("organizations: legacy 8, new 8"),
            calls.map(|i| i + 2),
            "{lines:#?}"
        );
        assert!(!lines.iter().any(|l| l.contains("{\"")), "{lines:#?}");
    }

    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(sparkline(&[0, 4, 8]), "▁▅█");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
    }
}
