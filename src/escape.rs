//! The one escaping function for text that came from the database (or anyone else), used by
//! every output path: the console's screen, the command line's lines and `--json`, and the
//! export files. A leaf: it knows nothing else of the program.
//!
//! What is escaped: control characters (C0, DEL, C1), which a terminal would act on (ESC starts
//! a sequence, OSC 52 writes the clipboard, BEL, CR, U+009B is a one-byte CSI); the bidirectional
//! overrides, embeddings, isolates and marks, which reorder what follows them; and the invisible
//! characters (zero-width spaces and joiners, soft hyphen, word joiner, invisible operators,
//! byte-order mark, Hangul fillers, tag characters), which make different text look the same.

use serde_json::Value;

/// Whether `c` is shown escaped.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        // bidirectional controls
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // invisible characters
        | '\u{ad}' | '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{180e}'
        | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}'
        | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{180b}'..='\u{180d}' | '\u{2028}' | '\u{2029}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{e0000}'..='\u{e007f}' | '\u{e0100}'..='\u{e01ef}')
}

/// `s` with every unsafe character written as `\xNN` (C0 and DEL) or `\u{NNNN}` (the rest):
/// visible, and inert in any terminal.
pub fn clean(s: &str) -> String {
    if !s.chars().any(is_unsafe) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\u{0}'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Writes through to `inner` with every unsafe character but the line end escaped: a log file
/// is printed too (`cat`, `tail -f`), and its lines quote database text and errors.
pub struct EscapingWriter<W> {
    pub inner: W,
}

impl<W: std::io::Write> std::io::Write for EscapingWriter<W> {
    /// One call is one log event: every character a terminal would act on is escaped, line
    /// breaks inside the event too (database text cannot start a forged log line); only the
    /// event's own final line end is kept.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        self.inner
            .write_all(format!("{}{end}", clean(body)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `value` as one line of JSON in which every unsafe character is a `\uXXXX` escape: the same
/// value to a JSON reader, inert on a terminal.
pub fn json(value: &Value) -> String {
    json_text(&value.to_string()).into_owned()
}

/// Serialized JSON with every unsafe character left in it (serde_json leaves C1, DEL, the bidi
/// controls and the invisible characters as they are) written as a `\uXXXX` escape.
pub fn json_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut units = [0u16; 2];
    for c in text.chars() {
        if is_unsafe(c) {
            // serde_json already escaped C0 inside strings, and outside strings there is only
            // JSON's own punctuation: what is left is inside a string, where \u is valid.
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(clean("line\nnext\ttab"), "line\\x0anext\\x09tab");
        assert_eq!(clean("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(clean("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(clean("plain é 漢字"), "plain é 漢字");
        assert_eq!(clean("\x1b]52;c;aGk=\x07"), "\\x1b]52;c;aGk=\\x07");
    }

    #[test]
    fn invisible_characters_make_look_alikes_visible() {
        for c in [
            '\u{200b}',
            '\u{ad}',
            '\u{2060}',
            '\u{feff}',
            '\u{200d}',
            '\u{e0041}',
        ] {
            let email = format!("victim{c}@example.com");
            assert_ne!(clean(&email), "victim@example.com", "{:x}", c as u32);
            assert!(clean(&email).contains("\\u{"), "{:x}", c as u32);
        }
    }

    #[test]
    fn a_log_line_keeps_its_end_and_loses_its_sequences() {
        use std::io::Write;
        let mut w = EscapingWriter { inner: Vec::new() };
        w.write_all(b"refused: \x1b]52;c;x\x07 name\nINFO forged line\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(w.inner).unwrap(),
            "refused: \\x1b]52;c;x\\x07 name\\x0aINFO forged line\n"
        );
    }

    #[test]
    fn json_keeps_the_value_and_escapes_what_a_terminal_would_act_on() {
        let v = json!({"name": "a\u{9b}b\u{202e}c\u{1b}d\u{e0041}", "n": 1});
        let text = json(&v);
        assert!(!text.chars().any(is_unsafe), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
