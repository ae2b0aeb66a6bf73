//! What maascli prints: the API's JSON body as Piston emitted it, byte for byte.
//!
//! - Piston's `JSONEmitter.render` (django-piston `piston/emitters.py`, vendored by
//!   canonical/maas as piston3) writes `json.dumps(data, cls=DateTimeAwareJSONEncoder,
//!   ensure_ascii=False, indent=4)`: four-space indent, Python's `(",", ": ")`
//!   separators when indenting, non-ASCII written as UTF-8, `"`/`\\` and control
//!   characters escaped (`\n`, `\t`, ... short forms, others `\u00XX`): what
//!   serde_json's pretty formatter writes, except floats (below).
//! - canonical/maas `src/maascli/utils.py` `print_response_content` writes the body as
//!   received and adds a newline only on a TTY: captured stdout has no trailing newline
//!   (every recorded fixture ends in `]` or `}`).
//! - Floats are Python's `float.__repr__`: the shortest round-trip digits, fixed
//!   notation for exponents -4..16, else `1e+16` / `1e-05` (CPython
//!   `Python/pystrtod.c` `format_float_short`, repr mode `r`).

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{Formatter, PrettyFormatter};

/// A document as maascli prints it (no trailing newline).
pub fn render(value: &Value) -> Vec<u8> {
    render_indented(value, b"    ")
}

/// `json.dumps(value, indent=<indent>)` with `ensure_ascii=False` (no trailing
/// newline): Piston's four spaces, or cliff's two (python-openstackclient `-f json`).
pub fn render_indented(value: &Value, indent: &'static [u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        PythonFormatter(PrettyFormatter::with_indent(indent)),
    );
    // Writing into a Vec cannot fail, and a Value always serialises.
    if value.serialize(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// A compact document as Python's `json.dumps(obj)` writes it (`", "` and `": "`):
/// the body of a form-validation error (canonical/maas `src/maasserver/exceptions.py`
/// `MAASAPIValidationError.make_http_response`, `json.dumps(self.message_dict)`).
pub fn render_compact(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonCompact);
    if value.serialize(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// Python's `repr(float)`.
pub fn python_float(value: f64) -> String {
    if !value.is_finite() {
        // json.dumps prints these as JavaScript names (allow_nan=True).
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // `{:e}` is Rust's shortest round-trip digits in scientific form: "6.8719476736e4".
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if (point as usize) >= digits.len() {
            format!(
                "{sign}{digits}{}.0",
                "0".repeat(point as usize - digits.len())
            )
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}

struct PythonFormatter(PrettyFormatter<'static>);

impl Formatter for PythonFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float(value).as_bytes())
    }
    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        writer.write_all(python_float(f64::from(value)).as_bytes())
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `json.dumps` without indent: `", "` between members, `": "` after keys.
struct PythonCompact;

impl Formatter for PythonCompact {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float(value).as_bytes())
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        for (v, want) in [
            (68719.476736, "68719.476736"),
            (1.0, "1.0"),
            (0.5, "0.5"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.0, "123456789012345.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
        ] {
            assert_eq!(python_float(v), want, "{v}");
        }
    }

    #[test]
    fn layout_is_indent_4_without_trailing_newline() {
        let v: Value =
            serde_json::from_str(r#"[{"b": 1, "a": [], "c": {}, "d": "é\n", "e": [1.0]}]"#)
                .unwrap();
        let text = String::from_utf8(render(&v)).unwrap();
        assert_eq!(
            text,
            "[\n    {\n        \"b\": 1,\n        \"a\": [],\n        \"c\": {},\n        \"d\": \"é\\n\",\n        \"e\": [\n            1.0\n        ]\n    }\n]"
        );
        let e: Value =
            serde_json::from_str(r#"{"ip_address": ["IP address is already in use."], "x": 1}"#)
                .unwrap();
        assert_eq!(
            render_compact(&e),
            br#"{"ip_address": ["IP address is already in use."], "x": 1}"#
        );
    }
}
