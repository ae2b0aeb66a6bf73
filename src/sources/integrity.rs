//! Whether a command's output can be trusted at all, before any model reads it: one
//! UTF-8 document, nothing after it, no key twice, an exit status that agrees with what
//! was printed. Damaged output is PRECONDITION naming the argv, never a verdict (issue
//! 8: damaged copies of the default worlds once gave 128 PASS, PROCEED or SKIP).
//!
//! Messages name positions, key paths and expected types, never a byte of the output:
//! a token on stderr or a secret in a value must not reach a report through an error.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::runner::CommandOutput;

/// Why an output is refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Where: a key path (`applications.vault.units`), `byte 120`, `line 3`.
    pub at: String,
    pub reason: String,
}

impl Damage {
    pub fn new(at: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.reason, self.at)
    }
}

/// Text every CLI here prints: UTF-8, and no control character but tab, LF and CR.
/// A NUL or an escape sequence in a field a gate compares would otherwise compare
/// unequal silently, or print into the operator's terminal.
pub fn check_text(bytes: &[u8]) -> Result<&str, Damage> {
    if CHECKED.with(|c| c.get()) == Some((bytes.as_ptr() as usize, bytes.len())) {
        // Checked whole by the `Checked` guard in scope: the control characters are not
        // looked for again, the UTF-8 is (cheap, and sound even were a guard forgotten).
        return std::str::from_utf8(bytes).map_err(|e| {
            Damage::new(
                format!("byte {}", e.valid_up_to()),
                "output is not UTF-8 (the whole output is refused)",
            )
        });
    }
    // One pass, 64 bytes at a time (a branch-free test per byte the compiler
    // vectorizes), over the blocks that are plain ASCII without a control character:
    // most outputs are that throughout. From the first block that is not (a non-ASCII
    // byte or a candidate control byte), the UTF-8 and the control-character checks
    // below decide: every byte before it is an ASCII character, so the block starts on
    // a character boundary.
    let clean = bytes
        .chunks(64)
        .take_while(|block| {
            !block.iter().fold(false, |any, &b| {
                any | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b >= 0x7F)
            })
        })
        .count();
    let from = (clean * 64).min(bytes.len());
    std::str::from_utf8(&bytes[from..]).map_err(|e| {
        Damage::new(
            format!("byte {}", from + e.valid_up_to()),
            "output is not UTF-8 (the whole output is refused)",
        )
    })?;
    // Control characters (Unicode Cc: U+0000-001F but tab, LF and CR; U+007F-009F),
    // found on the bytes: C0 and DEL are single bytes, C1 is 0xC2 0x80-0x9F in UTF-8, and
    // no other character's encoding holds these byte values at those places.
    let mut control = None;
    let mut at = from;
    while let Some(i) = bytes[at..]
        .iter()
        .position(|&b| b < 0x20 || b == 0x7F || b == 0xC2)
    {
        let n = at + i;
        match bytes[n] {
            b'\t' | b'\n' | b'\r' => {}
            0xC2 => {
                if let Some(&next @ 0x80..=0x9F) = bytes.get(n + 1) {
                    control = Some((n, u32::from(next)));
                    break;
                }
            }
            b => {
                control = Some((n, u32::from(b)));
                break;
            }
        }
        at = n + 1;
    }
    if let Some((n, c)) = control {
        return Err(Damage::new(
            format!("byte {n}"),
            format!("control character U+{c:04X} in the output"),
        ));
    }
    // SAFETY: `bytes[..from]` is ASCII (every byte below 0x7F, tested above), so it is
    // UTF-8 and `from` is a character boundary; `bytes[from..]` was proved UTF-8 above.
    Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
}

thread_local! {
    /// The bytes (address, length) a live [`Checked`] guard on this thread proved.
    static CHECKED: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

/// Bytes [`check_text`] proved, for as long as the guard lives: on this thread, a
/// [`check_text`] of the same bytes within its scope does not scan them again. The
/// guard borrows the bytes, so they can be neither freed nor changed while it lives.
/// A read checks its whole output before the exit status and its source's parser,
/// and that parser checks the text it parses: one scan serves both.
pub struct Checked<'a> {
    outer: Option<(usize, usize)>,
    bytes: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> Checked<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, Damage> {
        check_text(bytes)?;
        let outer = CHECKED.with(|c| c.replace(Some((bytes.as_ptr() as usize, bytes.len()))));
        Ok(Self {
            outer,
            bytes: std::marker::PhantomData,
        })
    }
}

impl Drop for Checked<'_> {
    fn drop(&mut self) {
        CHECKED.with(|c| c.set(self.outer));
    }
}

/// One JSON document, whole: UTF-8 throughout (strings no gate reads included), no data
/// after it, no key twice in any object (serde keeps the last of a map's duplicates and
/// ignores unknown keys, so `default-space` given twice would pass on the second).
///
/// Returns the document's text: UTF-8 already proved, a parse of it need not check
/// each string again (`serde_json::Deserializer::from_str`).
pub fn check_json(bytes: &[u8]) -> Result<&str, Damage> {
    let text = check_text(bytes)?;
    walk_json(text)?;
    Ok(text)
}

/// The walk of [`check_json`] over text already checked ([`check_text`]).
pub fn walk_json(text: &str) -> Result<(), Damage> {
    let mut de = serde_json::Deserializer::from_str(text);
    // The walk without path tracking; only a refused document is walked again for the
    // path its error names.
    if de::Deserialize::deserialize(&mut de)
        .map(|Whole| ())
        .is_err()
    {
        let mut again = serde_json::Deserializer::from_str(text);
        return Err(
            match serde_path_to_error::deserialize::<_, Whole>(&mut again) {
                Err(e) => {
                    let at = top_level(e.path().to_string());
                    Damage::new(at, sanitize_serde(&e.into_inner().to_string()))
                }
                Ok(Whole) => Damage::new("(top level)", "the document could not be read"),
            },
        );
    }
    de.end().map_err(|e| {
        Damage::new(
            format!("line {} column {}", e.line(), e.column()),
            "data after the JSON document (a second document or trailing text)",
        )
    })
}

/// The path serde_path_to_error gives, `(top level)` when it is empty.
pub fn top_level(path: String) -> String {
    if path.is_empty() || path == "." {
        "(top level)".to_string()
    } else {
        path
    }
}

/// Walks a whole JSON value, refusing a key given twice in one object.
pub(crate) struct Whole;

impl<'de> de::Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeVisitor)
    }
}

pub(crate) struct WholeVisitor;

impl<'de> Visitor<'de> for WholeVisitor {
    type Value = Whole;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Whole, E> {
        Ok(Whole)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Whole, E> {
        Ok(Whole)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Whole, E> {
        Ok(Whole)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Whole, E> {
        Ok(Whole)
    }
    fn visit_str<E>(self, _: &str) -> Result<Whole, E> {
        Ok(Whole)
    }
    fn visit_unit<E>(self) -> Result<Whole, E> {
        Ok(Whole)
    }
    fn visit_none<E>(self) -> Result<Whole, E> {
        Ok(Whole)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Whole, A::Error> {
        while seq.next_element::<Whole>()?.is_some() {}
        Ok(Whole)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Whole, A::Error> {
        // Keys borrowed from the document where they hold no escape, sorted once the
        // object ends: a duplicate is then next to its twin (no hashing per key).
        let mut keys: Keys<'de> = Keys::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            keys.push(key);
            map.next_value::<Whole>()?;
        }
        keys.sort_unstable();
        if let Some(twins) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(de::Error::custom(format!(
                "duplicate key `{}` (refused: which one a reader keeps is arbitrary)",
                twins[0]
            )));
        }
        Ok(Whole)
    }
}

/// An object's keys: on the stack up to [`INLINE_KEYS`], where nearly every object
/// fits (an allocation per object was a tenth of parsing a large status).
pub(crate) type Keys<'de> = smallvec::SmallVec<[Cow<'de, str>; INLINE_KEYS]>;

const INLINE_KEYS: usize = 16;

/// An object key, borrowed from the document when it holds no escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }

            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A serde error message without the value that caused it: `invalid type: string
/// "s.abc", expected u64` becomes `invalid type: string, expected u64`. Types, field
/// names and the expected variants stay; what the output held does not.
pub fn sanitize_serde(message: &str) -> String {
    static QUOTED_VALUE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(invalid (?:type|value|length): [a-z ]+?) (?:"(?:[^"\\]|\\.)*"|`[^`]*`|'[^']*'|-?[0-9][0-9.eE+-]*)"#,
        )
        .expect("a valid regex")
    });
    // An unknown variant is a value the output held; an unknown field is a key name,
    // which the message keeps (it names what to look at).
    static UNKNOWN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(unknown variant) `[^`]*`").expect("a valid regex"));
    static LENGTH: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"invalid length \d+").expect("a valid regex"));
    static LOCATION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r" at line \d+ column \d+$").expect("a valid regex"));
    let message = QUOTED_VALUE.replace_all(message, "$1");
    let message = UNKNOWN.replace_all(&message, "$1");
    let message = LENGTH.replace_all(&message, "invalid length");
    LOCATION.replace_all(&message, "").into_owned()
}

/// A classified reason for what a command said on stderr, from a fixed vocabulary:
/// reports show this, never the words (a token or password on stderr must not reach
/// a report, and Ansible's `no_log` leaks came from error paths).
pub fn stderr_reason(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr).to_ascii_lowercase();
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    if lines == 0 {
        return "nothing on stderr".to_string();
    }
    const CLASSES: &[(&str, &[&str])] = &[
        (
            // python-openstackclient without OS_* in the environment (keystoneauth).
            "no cloud credentials in the environment (source the admin-openrc)",
            &["missing value auth-url", "auth-url required"],
        ),
        (
            "authentication failed or the login expired",
            &[
                "password",
                "cannot log into",
                "unauthorized",
                "not authorized",
                "authentication",
                "401",
                "login",
                "permission denied (publickey",
            ],
        ),
        (
            "permission denied",
            &["permission denied", "forbidden", "403"],
        ),
        (
            "not found",
            &["no such file", "not found", "does not exist", "no matching"],
        ),
        (
            "locked or busy",
            &["lock", "resource busy", "in use", "try again"],
        ),
        (
            "TLS or certificate error",
            &["certificate", "x509", "ssl", "tls"],
        ),
        (
            "connection failed",
            &[
                "connection refused",
                "connection reset",
                "no route to host",
                "network is unreachable",
                "could not connect",
                "couldn't connect",
                "timed out",
                "timeout",
                "eof",
            ],
        ),
        (
            "the command rejected its arguments",
            &[
                "usage:",
                "unknown flag",
                "unrecognized option",
                "invalid option",
                "invalid argument",
            ],
        ),
    ];
    let class = CLASSES
        .iter()
        .find(|(_, needles)| needles.iter().any(|n| holds(&text, n)))
        .map_or("unclassified error", |(class, _)| class);
    format!(
        "{class} ({lines} line{} on stderr, not shown)",
        if lines == 1 { "" } else { "s" }
    )
}

/// Whether `text` holds `needle`. A needle of digits (an HTTP status: 401, 403) counts
/// only as a whole number that is not a port: `dial tcp 127.0.0.1:40387: connect:
/// connection refused` is a refused connection, not a 403 (a scenario's random port
/// once read as one), and `http://10.0.0.1:403/` names a port.
fn holds(text: &str, needle: &str) -> bool {
    if !needle.bytes().all(|b| b.is_ascii_digit()) {
        return text.contains(needle);
    }
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == ':')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Whether the exit status agrees with what was printed. `stdout_on_failure`: the CLI
/// prints its document on stdout even when it exits non-zero (`juju exec` exits 1 when
/// the remote command fails; `vault status` exits 2 when sealed).
pub fn check_exit_agreement(output: &CommandOutput, stdout_on_failure: bool) -> Result<(), Damage> {
    let printed = !output.stdout.iter().all(u8::is_ascii_whitespace);
    let complained = !output.stderr.iter().all(u8::is_ascii_whitespace);
    match output.exit_code {
        Some(0) if !printed && complained => Err(Damage::new(
            "exit status",
            format!(
                "exit 0 but nothing on stdout and {}: the exit status disagrees with the output",
                stderr_reason(&output.stderr)
            ),
        )),
        Some(0) | None => Ok(()),
        Some(code) if printed && !stdout_on_failure => Err(Damage::new(
            "exit status",
            format!(
                "exit {code} with a document on stdout: the exit status disagrees with the output"
            ),
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_whole_document_passes() {
        assert!(check_json(b"{\"a\":[1,{\"b\":null}],\"c\":\"x\"}\n").is_ok());
        assert!(check_json(b"[]").is_ok());
    }

    #[test]
    fn trailing_data_and_second_documents_are_refused() {
        for bad in [
            &b"{\"a\":1}\nERROR: connection reset by peer\n"[..],
            b"{\"a\":1}{\"a\":1}",
            b"[] []",
        ] {
            let err = check_json(bad).unwrap_err();
            assert!(err.reason.contains("data after"), "{err}");
        }
    }

    #[test]
    fn a_duplicate_key_is_refused_with_its_path() {
        let err = check_json(b"{\"model\":{\"default-space\":\"a\",\"default-space\":\"b\"}}")
            .unwrap_err();
        assert!(
            err.reason.contains("duplicate key `default-space`"),
            "{err}"
        );
        assert_eq!(err.at, "model");
    }

    #[test]
    fn invalid_utf8_anywhere_is_refused() {
        let err = check_json(b"{\"unread\":\"\xff\xfe\"}").unwrap_err();
        assert!(err.reason.contains("not UTF-8"), "{err}");
        let err = check_text(b"root\0:root 600\n").unwrap_err();
        assert!(err.reason.contains("U+0000"), "{err}");
    }

    #[test]
    fn a_guard_spares_only_its_own_bytes_a_second_scan() {
        let doc = b"{\"a\":\"x\"}\n".repeat(40);
        let bad = b"{\"a\":\"\x1b[31m\"}".repeat(8);
        {
            let _checked = Checked::new(&doc).unwrap();
            assert_eq!(check_text(&doc).unwrap().as_bytes(), &doc[..]);
            assert_eq!(
                CHECKED.with(|c| c.get()),
                Some((doc.as_ptr() as usize, doc.len()))
            );
            // Other bytes, and a part of the guarded bytes, are scanned as ever.
            assert!(check_text(&bad).unwrap_err().reason.contains("U+001B"));
            assert_eq!(check_text(&doc[..20]).unwrap().len(), 20);
            // Guards nest: the inner one's end restores the outer one.
            let inner = Checked::new(&doc[..20]).unwrap();
            drop(inner);
            assert!(CHECKED.with(|c| c.get()) == Some((doc.as_ptr() as usize, doc.len())));
        }
        assert!(CHECKED.with(|c| c.get()).is_none());
        assert!(Checked::new(&bad).is_err());
        assert!(CHECKED.with(|c| c.get()).is_none());
    }

    proptest::proptest! {
        /// Invalid UTF-8 is refused at the byte std's decoder names, wherever it falls
        /// after the ASCII blocks the one pass skips (a character across a block's end
        /// included), and whatever control character precedes it.
        #[test]
        fn invalid_utf8_is_refused_at_the_byte_std_names(
            pad in 0usize..200,
            text in "[ -~\t\n\r\u{1}\u{a0}-\u{7ff}\u{800}-\u{ffff}]{0,150}",
            at in 0usize..400,
            bad in proptest::prelude::prop_oneof![0x80u8..0xC2, 0xF5u8..=0xFF],
        ) {
            let mut bytes = "x".repeat(pad).into_bytes();
            bytes.extend_from_slice(text.as_bytes());
            let at = at.min(bytes.len());
            bytes.insert(at, bad);
            let want = std::str::from_utf8(&bytes).unwrap_err().valid_up_to();
            let damage = check_text(&bytes).unwrap_err();
            proptest::prop_assert_eq!(damage.at, format!("byte {want}"));
            proptest::prop_assert!(damage.reason.contains("not UTF-8"));
        }

        /// The block scan finds what a character-by-character scan finds, wherever the
        /// control character falls (a C1's two bytes across a block's end included).
        #[test]
        fn the_block_scan_finds_the_first_control_character_a_plain_scan_finds(
            pad in 0usize..200,
            at in 0usize..200,
            c in proptest::prelude::prop_oneof![0u32..0x20, 0x7Fu32..0xA0, 0x20u32..0x7F, 0xA0u32..0x800],
            text in "[ -~\t\n\r\u{a0}-\u{7ff}]{0,150}",
        ) {
            let mut s = "x".repeat(pad);
            s.push_str(&text);
            let cut = s.char_indices().map(|(i, _)| i).find(|&i| i >= at.min(s.len())).unwrap_or(s.len());
            s.insert(cut, char::from_u32(c).unwrap());
            let want = s
                .char_indices()
                .find(|(_, ch)| ch.is_control() && !matches!(ch, '\t' | '\n' | '\r'))
                .map(|(i, ch)| (format!("byte {i}"), format!("U+{:04X}", u32::from(ch))));
            match (check_text(s.as_bytes()), want) {
                (Ok(t), None) => proptest::prop_assert_eq!(t, s.as_str()),
                (Err(d), Some((at, code))) => {
                    proptest::prop_assert_eq!(d.at, at);
                    proptest::prop_assert!(d.reason.contains(&code), "{}", d.reason);
                }
                (got, want) => proptest::prop_assert!(false, "{got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn serde_messages_lose_their_values() {
        let cases = [
            (
                "invalid type: string \"s.CANARY\", expected u64 at line 1 column 9",
                "invalid type: string, expected u64",
            ),
            (
                "invalid value: integer `42`, expected a port",
                "invalid value: integer, expected a port",
            ),
            (
                "unknown variant `hvs.CANARY`, expected `a` or `b`",
                "unknown variant, expected `a` or `b`",
            ),
            (
                "unknown field `optionz`, expected `charm` or `options`",
                "unknown field `optionz`, expected `charm` or `options`",
            ),
            ("invalid length 3, expected 2", "invalid length, expected 2"),
        ];
        for (raw, want) in cases {
            assert_eq!(sanitize_serde(raw), want);
        }
    }

    #[test]
    fn stderr_is_classified_never_quoted() {
        let r = stderr_reason(b"ERROR token hvs.CANARY123 rejected: permission denied\n");
        assert_eq!(r, "permission denied (1 line on stderr, not shown)");
        assert!(!r.contains("CANARY"));
        assert_eq!(stderr_reason(b"\n"), "nothing on stderr");
        // An HTTP status is a whole number; a port holding its digits is not one.
        for port in ["40387", "40121", "14013", "403", "401"] {
            let refused = format!(
                "Error checking seal status: Get \"http://127.0.0.1:{port}/v1/sys/seal-status\": \
                 dial tcp 127.0.0.1:{port}: connect: connection refused\n"
            );
            assert!(
                stderr_reason(refused.as_bytes()).starts_with("connection failed ("),
                "{port}: {}",
                stderr_reason(refused.as_bytes())
            );
        }
        for (said, class) in [
            (
                "Error making API request.\n\nCode: 403. Errors:\n\n* permission denied\n",
                "permission denied (",
            ),
            ("Code: 403. Errors:\n", "permission denied ("),
            (
                "The request you have made requires authentication. (HTTP 401)\n",
                "authentication failed",
            ),
            ("HTTP 401\n", "authentication failed"),
        ] {
            assert!(stderr_reason(said.as_bytes()).starts_with(class), "{said}");
        }
        assert!(stderr_reason(b"weird\nstuff\n").starts_with("unclassified error (2 lines"));
    }
}
