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

#[cfg(test)]
mod tests {
    use super::*;

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
