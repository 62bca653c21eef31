//! Database text is untrusted: escape what a terminal would act on and fit the rest to a width.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Control characters (C0, DEL, C1) become `\xNN`, and the bidirectional overrides and isolates
/// become `\u{NNNN}`, so a value can neither drive the terminal nor reorder what follows it.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{0}'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            '\u{80}'..='\u{9f}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{61c}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Display width of already-clean text.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cuts clean text to at most `max` columns, ending in `…` when cut.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("line\nnext\ttab"), "line\\x0anext\\x09tab");
        assert_eq!(clean("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(clean("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(clean("plain é 漢字"), "plain é 漢字");
    }

    #[test]
    fn fits_wide_and_combining_text() {
        assert_eq!(fit("hello world", 5), "hell…");
        assert_eq!(fit("漢字漢字", 5), "漢字…");
        assert!(width(&fit("漢字漢字", 5)) <= 5);
        // Combining marks take no column.
        assert_eq!(
            fit("e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}e\u{301}"
        );
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abc", 0), "");
    }
}
