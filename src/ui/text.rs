//! Database text is untrusted: escape what a terminal would act on and fit the rest to a width.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub use crate::escape::clean;

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

/// Clean text in lines of at most `max` columns: broken at spaces where it can be, inside a word
/// longer than a line where it must. Nothing is dropped but the spaces a line ends at.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in s.split(' ') {
        let w = width(word);
        if used > 0 && used + 1 + w <= max {
            line.push(' ');
            line.push_str(word);
            used += 1 + w;
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        // A word longer than a line is split by columns.
        for c in word.chars() {
            let cw = UnicodeWidthChar::width(c).unwrap_or(0);
            if used + cw > max && used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_splits_long_words_keeping_every_character() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 5), [""]);
        let long = "Quantum Telecommunication Infrastructure & Voice Automation Holdings";
        let lines = wrap(long, 20);
        assert!(lines.iter().all(|l| width(l) <= 20), "{lines:?}");
        assert_eq!(lines.join(" "), long);
        assert!(wrap("漢字漢字漢", 4).iter().all(|l| width(l) <= 4));
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
