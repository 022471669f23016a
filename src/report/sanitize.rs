//! Terminal safety: scanned files are attacker-controlled, and a snippet
//! holding `ESC ]` or a carriage return could rewrite what a reviewer sees.
//! Text output passes every scanned string through here; JSON output is
//! escaped by serde_json instead.

/// Replaces C0/C1 control characters (except tab) and DEL with a visible
/// escape such as `\x1b`, so nothing reaches the terminal raw.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\t' {
            out.push(c);
        } else if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32 & 0xff));
        } else if is_bidi_control(c) {
            // "Trojan Source": reorders what the reader sees.
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(for_terminal("a\x1b]0;pwned\x07b\rc\td"), "a\\x1b]0;pwned\\x07b\\x0dc\td");
        assert_eq!(for_terminal("caf\u{e9} \u{9b}"), "caf\u{e9} \\x9b");
        assert_eq!(for_terminal("a\u{202e}b"), "a\\u{202e}b");
    }
}
