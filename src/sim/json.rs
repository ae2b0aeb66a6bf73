//! Compact JSON written the way Go's `encoding/json` writes it, so simulated output is
//! byte-for-byte the shape juju prints: no whitespace, keys in the order the caller
//! writes them (Go struct field order, or sorted for Go maps), and Go's string escaping
//! (`<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes; `\b`, `\f`, `\n`, `\r`, `\t`
//! short forms; other control characters as `\u00XX`).

/// A streaming writer of one compact JSON document.
///
/// The caller writes keys and values in order; the writer places commas and colons.
/// Nesting is checked with debug assertions only: the writer is on the simulator's hot
/// path (a bare-metal `juju status` is tens of megabytes).
#[derive(Debug, Default)]
pub struct JsonWriter {
    out: String,
    /// One entry per open object or array: true until its first member is written.
    first: Vec<bool>,
    /// A key was written and its value has not been.
    after_key: bool,
}

impl JsonWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer whose buffer starts with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            out: String::with_capacity(bytes),
            ..Self::default()
        }
    }

    /// The document written so far. Every object and array must be closed.
    pub fn finish(self) -> String {
        debug_assert!(self.first.is_empty(), "unclosed object or array");
        debug_assert!(!self.after_key, "a key without a value");
        self.out
    }

    /// Places the comma before a member, unless it follows a key or opens a container.
    fn separate(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if let Some(first) = self.first.last_mut() {
            if *first {
                *first = false;
            } else {
                self.out.push(',');
            }
        }
    }

    pub fn begin_object(&mut self) -> &mut Self {
        self.separate();
        self.out.push('{');
        self.first.push(true);
        self
    }

    pub fn end_object(&mut self) -> &mut Self {
        debug_assert!(!self.after_key, "a key without a value");
        self.first.pop();
        self.out.push('}');
        self
    }

    pub fn begin_array(&mut self) -> &mut Self {
        self.separate();
        self.out.push('[');
        self.first.push(true);
        self
    }

    pub fn end_array(&mut self) -> &mut Self {
        self.first.pop();
        self.out.push(']');
        self
    }

    /// An object key; the next value written is its value.
    pub fn key(&mut self, key: &str) -> &mut Self {
        debug_assert!(!self.after_key, "two keys in a row");
        self.separate();
        push_go_string(&mut self.out, key);
        self.out.push(':');
        self.after_key = true;
        self
    }

    pub fn string(&mut self, value: &str) -> &mut Self {
        self.separate();
        push_go_string(&mut self.out, value);
        self
    }

    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.separate();
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        self.out.push_str(&value.to_string());
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.out.push_str("null");
        self
    }

    /// A value that is already encoded JSON (a number as the source printed it).
    pub fn raw(&mut self, json: &str) -> &mut Self {
        self.separate();
        self.out.push_str(json);
        self
    }

    /// `"key":"value"`.
    pub fn field_str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key).string(value)
    }

    /// `"key":"value"`, or nothing when `value` is empty (Go `omitempty`).
    pub fn field_str_omitempty(&mut self, key: &str, value: &str) -> &mut Self {
        if !value.is_empty() {
            self.field_str(key, value);
        }
        self
    }

    /// `"key":["a","b"]`.
    pub fn field_strs<S: AsRef<str>>(&mut self, key: &str, values: &[S]) -> &mut Self {
        self.key(key).begin_array();
        for v in values {
            self.string(v.as_ref());
        }
        self.end_array()
    }
}

/// Appends `s` as a JSON string literal with Go `encoding/json` escaping.
pub fn push_go_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '<' => Some("\\u003c"),
            '>' => Some("\\u003e"),
            '&' => Some("\\u0026"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// One task of a juju action or exec as juju 3.x prints it with `--format=json`
/// (cmd/juju/action/common.go `formatActionResult`, `cmd.FormatJson`: compact, keys
/// sorted), keyed by its unit, `results` written by `results` in sorted key order, and
/// a newline after the document.
pub fn juju_task(unit: &str, id: &str, results: impl FnOnce(&mut JsonWriter)) -> String {
    let mut w = JsonWriter::new();
    w.begin_object();
    w.key(unit).begin_object();
    w.field_str("id", id);
    w.key("results").begin_object();
    results(&mut w);
    w.end_object();
    w.field_str("status", "completed");
    w.key("timing").begin_object();
    w.field_str("completed", "2026-06-27 13:49:11.871 +0000 UTC")
        .field_str("enqueued", "2026-06-27 13:49:10.118 +0000 UTC")
        .field_str("started", "2026-06-27 13:49:11.204 +0000 UTC");
    w.end_object();
    w.field_str("unit", unit);
    w.end_object();
    w.end_object();
    let mut out = w.finish();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(s: &str) -> String {
        let mut out = String::new();
        push_go_string(&mut out, s);
        out
    }

    #[test]
    fn strings_escape_like_go_encoding_json() {
        assert_eq!(go("plain"), r#""plain""#);
        assert_eq!(
            go("hook failed: \"config-changed\""),
            r#""hook failed: \"config-changed\"""#
        );
        assert_eq!(go("a<b>&c"), r#""a\u003cb\u003e\u0026c""#);
        assert_eq!(go("l1\nl2\t\u{1}\\"), r#""l1\nl2\t\u0001\\""#);
        assert_eq!(go("\u{2028}é"), "\"\\u2028é\"");
    }

    #[test]
    fn commas_and_colons_are_placed_by_the_writer() {
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field_str("a", "x").field_str_omitempty("skipped", "");
        w.key("b")
            .begin_array()
            .int(1)
            .bool(false)
            .null()
            .end_array();
        w.key("c").begin_object().end_object();
        w.field_strs("d", &["p", "q"]);
        w.key("e").raw("2.5");
        w.end_object();
        let text = w.finish();
        assert_eq!(
            text,
            r#"{"a":"x","b":[1,false,null],"c":{},"d":["p","q"],"e":2.5}"#
        );
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
}
