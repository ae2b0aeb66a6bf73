//! Redaction at capture for `stackgate record`: what a real CLI printed is redacted here,
//! in memory, before any byte of it is written into a fixture world.
//!
//! [`Redactor::redact`] runs three passes over one output stream:
//!
//! 1. **By key**, when the stream is one JSON document (an object or an array): the value
//!    of every key whose name marks a secret ([`is_secret_key`]) is replaced by the JSON
//!    string `"[REDACTED]"`. Only that value's byte span is edited (the spans come from
//!    `jsonc-parser`, strict mode, after `serde_json` accepted the document), so
//!    indentation, key order, escapes such as `\u003c` and a missing trailing newline stay
//!    byte for byte. Strings and arrays of strings are redacted; numbers, booleans and null
//!    are not; an object under a secret key is descended into, never replaced, except the
//!    MAAS `power_parameters` object, which goes whole. A `value` key under a key that
//!    marks a secret is a secret too (`juju config` prints each setting as
//!    `{"default": .., "description": .., "source": .., "type": .., "value": ..}`).
//!    Values removed this way are learned as known values (label `key <path>`), so a later
//!    stream of the run (stderr, another command) loses them too.
//! 2. **Text patterns**: PEM private key blocks (raw, `\n`-escaped inside a JSON string, or
//!    base64 of a PEM key as the octavia charm keeps it), vault/bao `operator init` lines,
//!    URL credentials, shell and `key=value` assignments of a secret-named variable, vault
//!    and keystone token formats, MAAS API keys, and (for text that is not one JSON
//!    document) YAML-like `key: value` lines and `| key | value |` table rows whose key
//!    marks a secret.
//! 3. **Known values**: every value the run knows as secret ([`Redactor::add_known`],
//!    [`Redactor::from_env`], or learned by passes 1 and 2), raw and in its JSON-escaped
//!    forms (serde/Python, Go's HTML-safe `\u003c`, Python's `ensure_ascii`), is replaced
//!    by [`MARKER`].
//!
//! [`scan`] is the last gate before a file is written: gitleaks-style [`RULES`] that must
//! not match anything about to land in a fixture. A [`Finding`] names the rule and the
//! line, never the matched text; nothing in this module prints or formats a secret.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::sync::LazyLock;

use jsonc_parser::ast::{ObjectPropName, Value as Node};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};
use regex::bytes::{Captures, Regex, RegexBuilder};

/// What every redacted value becomes.
pub const MARKER: &str = "[REDACTED]";
/// The marker as a JSON (or YAML) string: what replaces a value redacted by key.
const QUOTED_MARKER: &str = "\"[REDACTED]\"";
/// The shortest value [`Redactor::add_known`] accepts: replacing shorter values everywhere
/// would mangle ordinary output.
pub const MIN_KNOWN_LEN: usize = 6;
/// The shortest value learned from a redacted key or line (see [`Redactor::redact`]).
pub const MIN_LEARNED_LEN: usize = 8;

/// Which stream of a command an output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

/// Which rule redacted something.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarkKind {
    /// A JSON value removed by its key; `path` is the key path (`[0].power_parameters`,
    /// `root_token`, `keystone/0.results.admin-password`), array indices of an array of
    /// secrets folded into the key's path.
    Key { path: String },
    /// A known secret value, by its label (`env OS_PASSWORD`, `stdin of the command`,
    /// `key root_token`).
    Value { label: String },
    /// A text pattern, by its rule id (`pem-private-key`, `vault-init-line`, ...).
    Pattern { rule: &'static str },
}

impl fmt::Display for MarkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkKind::Key { path } => write!(f, "key {path}"),
            MarkKind::Value { label } => write!(f, "value ({label})"),
            MarkKind::Pattern { rule } => write!(f, "pattern {rule}"),
        }
    }
}

/// What one redaction replaced: where and by which rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub stream: Stream,
    pub kind: MarkKind,
    /// How many values this rule replaced in this stream.
    pub count: usize,
}

/// One redacted stream: the bytes to write and what was replaced in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub bytes: Vec<u8>,
    /// In the order the rules first fired; empty when nothing was replaced.
    pub marks: Vec<Mark>,
}

/// Whether a key (JSON, YAML, a table's field, a variable) names a secret: compared
/// case-insensitively with `-` and `_` ignored. It contains `password`, `passwd`,
/// `passphrase`, `power_pass`, `secret`, `token`, `private_key`, `api_key`, `ssl_key`,
/// `tls_key` or `oauth` (juju's `maas-oauth` credential), or it is one of vault/OpenBao's
/// init keys `keys`, `keys_base64`, `unseal_keys_b64`, `unseal_keys_hex`,
/// `recovery_keys_b64`, `recovery_keys_hex`, `root_token`, or `otp`. Only names are
/// matched, never what a value says.
#[must_use]
pub fn is_secret_key(name: &str) -> bool {
    const PARTS: [&str; 11] = [
        "password",
        "passwd",
        "passphrase",
        "powerpass",
        "secret",
        "token",
        "privatekey",
        "apikey",
        "sslkey",
        "tlskey",
        "oauth",
    ];
    const WHOLE: [&str; 8] = [
        "keys",
        "keysbase64",
        "unsealkeysb64",
        "unsealkeyshex",
        "recoverykeysb64",
        "recoverykeyshex",
        "roottoken",
        "otp",
    ];
    let key = squash(name);
    WHOLE.contains(&key.as_str()) || PARTS.iter().any(|part| key.contains(part))
}

/// Whether an environment variable holds a secret: `OS_PASSWORD`, `OS_TOKEN`,
/// `VAULT_TOKEN`, `BAO_TOKEN`, and any name ending in `_PASSWORD`, `_PASSWD`,
/// `_PASSPHRASE`, `_TOKEN`, `_SECRET`, `_API_KEY` or `_PRIVATE_KEY` (case-insensitive).
#[must_use]
pub fn is_secret_env(name: &str) -> bool {
    const SUFFIXES: [&str; 7] = [
        "_PASSWORD",
        "_PASSWD",
        "_PASSPHRASE",
        "_TOKEN",
        "_SECRET",
        "_API_KEY",
        "_PRIVATE_KEY",
    ];
    let name = name.to_ascii_uppercase();
    matches!(
        name.as_str(),
        "OS_PASSWORD" | "OS_TOKEN" | "VAULT_TOKEN" | "BAO_TOKEN" | "PASSWORD" | "TOKEN"
    ) || SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_power_key(name: &str) -> bool {
    squash(name) == "powerparameters"
}

fn is_value_key(name: &str) -> bool {
    squash(name) == "value"
}

/// A known secret: its label and the byte forms it may be printed in.
#[derive(Clone)]
struct Known {
    label: String,
    forms: Vec<Vec<u8>>,
}

/// Redacts the output streams of one recording run. It holds the secret values the run
/// knows; its `Debug` shows their labels, never the values.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Vec<Known>,
    refused: Vec<String>,
    /// Built from `known` on first use after a change: for text, and for a JSON
    /// document (there a raw form holding a `"` could only match across JSON's own
    /// quotes, so it is left out; its escaped forms are kept).
    matchers: Option<(LiteralSet, LiteralSet)>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field(
                "known",
                &self
                    .known
                    .iter()
                    .map(|k| k.label.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value known to the run. Values shorter than [`MIN_KNOWN_LEN`] bytes
    /// (or that occur inside [`MARKER`]) are refused: the result is `false`, the label is
    /// kept in [`Redactor::refused`], and the caller reports it. A value already known is
    /// accepted and keeps its first label.
    pub fn add_known(&mut self, label: impl Into<String>, value: &[u8]) -> bool {
        let label = label.into();
        if value.len() < MIN_KNOWN_LEN || contains(MARKER.as_bytes(), value) {
            self.refused.push(label);
            return false;
        }
        if !self.known.iter().any(|k| k.forms[0] == value) {
            self.known.push(Known {
                label,
                forms: json_forms(value),
            });
            self.matchers = None;
        }
        true
    }

    /// The secrets in an environment (see [`is_secret_env`]), labelled `env NAME`. Empty
    /// values are skipped; values too short to replace safely are listed in
    /// [`Redactor::refused`].
    pub fn from_env<I: IntoIterator<Item = (String, String)>>(env: I) -> Self {
        let mut redactor = Self::new();
        for (name, value) in env {
            if is_secret_env(&name) && !value.is_empty() {
                redactor.add_known(format!("env {name}"), value.as_bytes());
            }
        }
        redactor
    }

    /// The labels of values [`Redactor::add_known`] refused, in order.
    #[must_use]
    pub fn refused(&self) -> &[String] {
        &self.refused
    }

    /// The labels of the known values, in the order they were added or learned.
    pub fn known_labels(&self) -> impl Iterator<Item = &str> {
        self.known.iter().map(|k| k.label.as_str())
    }

    /// Redacts one output stream (see the module documentation for the three passes).
    /// Values removed by key or by a `key: value`, assignment or `operator init` line are
    /// learned as known values when they are at least [`MIN_LEARNED_LEN`] bytes and mix
    /// two kinds of character (lower, upper, digit, punctuation other than `-_./: `), so
    /// a redacted `"token_type": "service"` does not erase every later `service`.
    pub fn redact(&mut self, stream: Stream, bytes: &[u8]) -> Redacted {
        let mut tally = Tally::default();
        let (bytes, structured) = match self.redact_json(bytes, &mut tally) {
            Some(out) => (out, true),
            None => (bytes.to_vec(), false),
        };
        let bytes = self.redact_patterns(bytes, structured, &mut tally);
        let bytes = self.redact_known(&bytes, structured, &mut tally);
        Redacted {
            bytes,
            marks: tally
                .marks
                .into_iter()
                .map(|(kind, count)| Mark {
                    stream,
                    kind,
                    count,
                })
                .collect(),
        }
    }

    fn learn(&mut self, label: String, value: &str) {
        if worth_learning(value) {
            self.add_known(label, value.as_bytes());
        }
    }

    /// Pass 1. `None` when the bytes are not one JSON object or array.
    fn redact_json(&mut self, bytes: &[u8], tally: &mut Tally) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(bytes).ok()?;
        let doc: serde_json::Value = serde_json::from_str(text).ok()?;
        if !(doc.is_object() || doc.is_array()) {
            return None;
        }
        let strict = ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        };
        let mut hits = Vec::new();
        let out = match jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict) {
            Ok(parsed) => {
                let root = parsed.value?;
                walk(&root, "", None, Role::Plain, &mut hits);
                hits.sort_by_key(|hit| hit.span.map(|(start, _)| start));
                let mut out = Vec::with_capacity(bytes.len());
                let mut at = 0;
                for hit in &hits {
                    let Some((start, end)) = hit.span else {
                        continue;
                    };
                    out.extend_from_slice(&bytes[at..start]);
                    out.extend_from_slice(QUOTED_MARKER.as_bytes());
                    at = end;
                    tally.add(
                        MarkKind::Key {
                            path: hit.mark.clone(),
                        },
                        1,
                    );
                }
                out.extend_from_slice(&bytes[at..]);
                out
            }
            // serde_json accepted what the span parser did not: no span is known, so each
            // secret string is replaced where it appears as a whole JSON string.
            Err(_) => {
                walk(&doc, "", None, Role::Plain, &mut hits);
                let mut forms = Vec::new();
                for (i, hit) in hits.iter().enumerate() {
                    for value in &hit.strings {
                        for form in json_forms(value.as_bytes()) {
                            let mut quoted = Vec::with_capacity(form.len() + 2);
                            quoted.push(b'"');
                            quoted.extend_from_slice(&form);
                            quoted.push(b'"');
                            forms.push((quoted, i));
                        }
                    }
                }
                let mut counts = vec![0; hits.len()];
                let out =
                    LiteralSet::new(forms).replace(bytes, QUOTED_MARKER.as_bytes(), &mut counts);
                for (hit, count) in hits.iter().zip(counts) {
                    tally.add(
                        MarkKind::Key {
                            path: hit.mark.clone(),
                        },
                        count,
                    );
                }
                out
            }
        };
        for hit in hits {
            for (path, value) in hit.learn {
                self.learn(format!("key {path}"), &value);
            }
        }
        Some(out)
    }

    /// Pass 2.
    fn redact_patterns(&mut self, bytes: Vec<u8>, structured: bool, tally: &mut Tally) -> Vec<u8> {
        let marker = MARKER.as_bytes();
        let mut learned: Vec<(String, String)> = Vec::new();

        let bytes = replace_matches(&bytes, &PEM_BLOCK, 0, tally, PEM_RULE, |_, _| {
            Some(marker.to_vec())
        });
        let bytes = replace_matches(&bytes, &PEM_OPEN, 0, tally, PEM_RULE, |_, _| {
            Some(marker.to_vec())
        });
        // YAML-like lines first: a value they replace in a plain scalar gets the quoted
        // marker, and the rules below then leave it alone.
        let bytes = if structured {
            bytes
        } else {
            redact_lines(&bytes, tally, &mut learned)
        };
        let bytes = replace_matches(&bytes, &VAULT_INIT, 3, tally, VAULT_INIT_RULE, |v, c| {
            if v == marker {
                return None;
            }
            learned.push((
                format!("vault init {}", String::from_utf8_lossy(&c[1])),
                String::from_utf8_lossy(v).into_owned(),
            ));
            Some(marker.to_vec())
        });
        let bytes = replace_matches(&bytes, &URL_CREDENTIALS, 2, tally, URL_RULE, |v, _| {
            if !url_password_is_secret(v) {
                return None;
            }
            learned.push((
                "url password".into(),
                String::from_utf8_lossy(v).into_owned(),
            ));
            Some(marker.to_vec())
        });
        let bytes = replace_matches(&bytes, &ASSIGNMENT, 2, tally, ASSIGNMENT_RULE, |v, c| {
            let name = String::from_utf8_lossy(&c[1]);
            if !is_secret_key(&name) {
                return None;
            }
            // In a JSON document a raw `"` is JSON's own: a value inside a string is
            // unquoted or in `\"` quotes, and nothing may reach across a raw `"`.
            if structured && v.contains(&b'"') && !v.starts_with(b"\\\"") {
                return None;
            }
            let (open, close) = quoting(v);
            let inner = &v[open..v.len() - close];
            let expands = open == 0 || v[0] == b'"' || v[0] == b'\\';
            if !redactable(inner) || (expands && inner.first() == Some(&b'$')) {
                return None;
            }
            learned.push((
                format!("assignment {name}"),
                String::from_utf8_lossy(inner).into_owned(),
            ));
            let mut out = v[..open].to_vec();
            out.extend_from_slice(marker);
            out.extend_from_slice(&v[v.len() - close..]);
            Some(out)
        });
        // A whole credential replaced where YAML reads a plain scalar becomes the quoted
        // marker, so it stays a string there.
        let whole = |text: &[u8], start: usize, end: usize| {
            if !structured && plain_scalar_position(text, start, end) {
                QUOTED_MARKER.as_bytes().to_vec()
            } else {
                marker.to_vec()
            }
        };
        let text = bytes.clone();
        let mut bytes = replace_matches(
            &bytes,
            &PEM_BASE64_RUN,
            0,
            tally,
            PEM_BASE64_RULE,
            |_, c| {
                let g = c.get(0)?;
                Some(whole(&text, g.start(), g.end()))
            },
        );
        for id in TOKEN_RULES {
            let Some(rule) = RULES.iter().find(|r| r.id == id) else {
                continue;
            };
            let text = bytes.clone();
            bytes = replace_matches(&bytes, &rule.regex, rule.group, tally, rule.id, |_, c| {
                let g = c.get(rule.group)?;
                (rule.accept)(&text, g.start(), g.end()).then(|| whole(&text, g.start(), g.end()))
            });
        }
        for (label, value) in learned {
            self.learn(label, &value);
        }
        bytes
    }

    /// Pass 3.
    fn redact_known(&mut self, bytes: &[u8], structured: bool, tally: &mut Tally) -> Vec<u8> {
        if self.known.is_empty() {
            return bytes.to_vec();
        }
        let known = &self.known;
        let (text, json) = self.matchers.get_or_insert_with(|| {
            let forms = |in_json: bool| {
                known
                    .iter()
                    .enumerate()
                    .flat_map(|(i, k)| {
                        k.forms
                            .iter()
                            .enumerate()
                            .filter(move |(n, form)| !(in_json && *n == 0 && form.contains(&b'"')))
                            .map(move |(_, form)| (form.clone(), i))
                    })
                    .collect()
            };
            (LiteralSet::new(forms(false)), LiteralSet::new(forms(true)))
        });
        let matcher = if structured { json } else { text };
        let mut counts = vec![0; self.known.len()];
        let out = matcher.replace(bytes, MARKER.as_bytes(), &mut counts);
        for (known, count) in self.known.iter().zip(counts) {
            tally.add(
                MarkKind::Value {
                    label: known.label.clone(),
                },
                count,
            );
        }
        out
    }
}

/// Marks in the order their rules first fired.
#[derive(Default)]
struct Tally {
    marks: Vec<(MarkKind, usize)>,
    index: HashMap<MarkKind, usize>,
}

impl Tally {
    fn add(&mut self, kind: MarkKind, count: usize) {
        if count == 0 {
            return;
        }
        match self.index.get(&kind) {
            Some(&i) => self.marks[i].1 += count,
            None => {
                self.index.insert(kind.clone(), self.marks.len());
                self.marks.push((kind, count));
            }
        }
    }
}

/// Whether a value removed by a rule is worth replacing wherever else it appears.
fn worth_learning(value: &str) -> bool {
    if value.len() < MIN_LEARNED_LEN || value == MARKER {
        return false;
    }
    let kinds = [
        value.bytes().any(|b| b.is_ascii_lowercase()),
        value.bytes().any(|b| b.is_ascii_uppercase()),
        value.bytes().any(|b| b.is_ascii_digit()),
        value
            .chars()
            .any(|c| !c.is_ascii_alphanumeric() && !matches!(c, '-' | '_' | '.' | '/' | ':' | ' ')),
    ];
    kinds.iter().filter(|k| **k).count() >= 2
}

/// A value and the forms a JSON printer may give it: raw, serde_json/Python minimal
/// escaping, Go's HTML-safe escaping, Python's `ensure_ascii`.
fn json_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![value.to_vec()];
    let Ok(text) = std::str::from_utf8(value) else {
        return forms;
    };
    let Ok(quoted) = serde_json::to_string(text) else {
        return forms;
    };
    let plain = &quoted[1..quoted.len() - 1];
    let go = plain
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    let mut ascii = String::with_capacity(plain.len());
    for c in plain.chars() {
        if c.is_ascii() && c != '\x7f' {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(ascii, "\\u{unit:04x}");
            }
        }
    }
    for form in [plain.to_string(), go, ascii] {
        if !forms.iter().any(|f| f == form.as_bytes()) {
            forms.push(form.into_bytes());
        }
    }
    forms
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle, 0).is_some()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A set of byte strings, each owned by an index, replaced longest first.
#[derive(Clone)]
struct LiteralSet {
    regexes: Vec<Regex>,
    /// Forms a regex could not be built for (none in practice): searched one by one.
    plain: Vec<Vec<u8>>,
    owner: HashMap<Vec<u8>, usize>,
}

impl LiteralSet {
    const CHUNK: usize = 256;

    fn new(mut forms: Vec<(Vec<u8>, usize)>) -> Self {
        forms.retain(|(form, _)| !form.is_empty());
        forms.sort_by_key(|(form, _)| std::cmp::Reverse(form.len()));
        let mut owner = HashMap::new();
        let mut unique = Vec::new();
        for (form, index) in forms {
            if let std::collections::hash_map::Entry::Vacant(slot) = owner.entry(form.clone()) {
                slot.insert(index);
                unique.push(form);
            }
        }
        let mut regexes = Vec::new();
        let mut plain = Vec::new();
        for chunk in unique.chunks(Self::CHUNK) {
            let pattern = chunk
                .iter()
                .map(|form| byte_literal(form))
                .collect::<Vec<_>>()
                .join("|");
            match RegexBuilder::new(&pattern)
                .unicode(false)
                .size_limit(1 << 26)
                .build()
            {
                Ok(regex) => regexes.push(regex),
                Err(_) => plain.extend(chunk.iter().cloned()),
            }
        }
        Self {
            regexes,
            plain,
            owner,
        }
    }

    fn replace(&self, haystack: &[u8], with: &[u8], counts: &mut [usize]) -> Vec<u8> {
        let mut out = haystack.to_vec();
        for regex in &self.regexes {
            out = regex
                .replace_all(&out, |caps: &Captures| {
                    if let Some(&i) = self.owner.get(&caps[0]) {
                        counts[i] += 1;
                    }
                    with.to_vec()
                })
                .into_owned();
        }
        for form in &self.plain {
            let mut next = Vec::with_capacity(out.len());
            let mut at = 0;
            while let Some(start) = find(&out, form, at) {
                next.extend_from_slice(&out[at..start]);
                next.extend_from_slice(with);
                at = start + form.len();
                if let Some(&i) = self.owner.get(form) {
                    counts[i] += 1;
                }
            }
            next.extend_from_slice(&out[at..]);
            out = next;
        }
        out
    }
}

/// A regex (Unicode off) matching exactly these bytes.
fn byte_literal(bytes: &[u8]) -> String {
    let mut pattern = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        if b.is_ascii_alphanumeric() {
            pattern.push(char::from(*b));
        } else {
            let _ = write!(pattern, "\\x{b:02x}");
        }
    }
    pattern
}

// ---------------------------------------------------------------------------------------
// Pass 1: JSON by key.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Secret,
    Power,
}

/// Maps whose keys are juju endpoint and relation names (`secrets`, `secrets-storage`
/// are barbican's, vault's and ceph-osd's endpoints), never the names of fields: their
/// values are space or application names a gate reads.
fn names_endpoints(parent: &str) -> bool {
    matches!(
        squash(parent).as_str(),
        "endpointbindings" | "bindings" | "relations" | "exposedendpoints" | "endpoints"
    )
}

fn role_of(name: &str, parent: Option<&str>) -> Role {
    if parent.is_some_and(names_endpoints) {
        Role::Plain
    } else if is_power_key(name) {
        Role::Power
    } else if is_secret_key(name) || (is_value_key(name) && parent.is_some_and(is_secret_key)) {
        Role::Secret
    } else {
        Role::Plain
    }
}

/// One value redacted by key.
struct Hit {
    span: Option<(usize, usize)>,
    /// The key path for the mark (array indices of an array of secrets folded away).
    mark: String,
    /// (path, value) pairs to learn.
    learn: Vec<(String, String)>,
    /// Every non-empty string removed (for the no-span fallback).
    strings: Vec<String>,
}

enum Shape<'n, N> {
    Object(Vec<(&'n str, N)>),
    Array(Vec<N>),
    Str(&'n str),
    Other,
}

/// The two JSON trees walked by key: the span parser's AST, and serde_json's value when
/// the span parser refused a document serde_json accepted.
trait JsonNode<'n>: Copy {
    fn shape(self) -> Shape<'n, Self>;
    fn span(self) -> Option<(usize, usize)>;
}

impl<'n, 'a: 'n> JsonNode<'n> for &'n Node<'a> {
    fn shape(self) -> Shape<'n, Self> {
        match self {
            Node::Object(object) => Shape::Object(
                object
                    .properties
                    .iter()
                    .map(|prop| {
                        let name: &'n str = match &prop.name {
                            ObjectPropName::String(lit) => lit.value.as_ref(),
                            ObjectPropName::Word(word) => word.value,
                        };
                        (name, &prop.value)
                    })
                    .collect(),
            ),
            Node::Array(array) => Shape::Array(array.elements.iter().collect()),
            Node::StringLit(lit) => Shape::Str(lit.value.as_ref()),
            _ => Shape::Other,
        }
    }

    fn span(self) -> Option<(usize, usize)> {
        let range = self.range();
        Some((range.start, range.end))
    }
}

impl<'n> JsonNode<'n> for &'n serde_json::Value {
    fn shape(self) -> Shape<'n, Self> {
        match self {
            serde_json::Value::Object(map) => {
                Shape::Object(map.iter().map(|(k, v)| (k.as_str(), v)).collect())
            }
            serde_json::Value::Array(items) => Shape::Array(items.iter().collect()),
            serde_json::Value::String(s) => Shape::Str(s),
            _ => Shape::Other,
        }
    }

    fn span(self) -> Option<(usize, usize)> {
        None
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `unseal_keys_b64[3]` -> `unseal_keys_b64`; `[0].power_parameters` unchanged.
fn fold_indices(path: &str) -> String {
    let mut path = path;
    while path.ends_with(']') {
        match path.rfind('[') {
            Some(open) if open > 0 => path = &path[..open],
            _ => break,
        }
    }
    path.to_string()
}

/// `key` is the key this node sits under (inherited through arrays): the parent of the
/// keys of an object found here.
fn walk<'n, N: JsonNode<'n>>(
    node: N,
    path: &str,
    key: Option<&'n str>,
    role: Role,
    hits: &mut Vec<Hit>,
) {
    match (role, node.shape()) {
        (Role::Power, Shape::Object(props)) if !props.is_empty() => {
            let mut leaves = Vec::new();
            leaves_of(node, path, key, &mut leaves);
            hits.push(Hit {
                span: node.span(),
                mark: fold_indices(path),
                learn: leaves
                    .iter()
                    .filter(|(_, k, _)| k.is_some_and(|k| is_secret_key(k) || squash(k) == "kg"))
                    .map(|(p, _, v)| (p.clone(), v.clone()))
                    .collect(),
                strings: leaves.into_iter().map(|(_, _, v)| v).collect(),
            });
        }
        (Role::Power | Role::Secret, Shape::Str(value)) if !value.is_empty() && value != MARKER => {
            hits.push(Hit {
                span: node.span(),
                mark: fold_indices(path),
                learn: vec![(path.to_string(), value.to_string())],
                strings: vec![value.to_string()],
            });
        }
        (_, Shape::Object(props)) => {
            for (name, child) in props {
                walk(
                    child,
                    &join(path, name),
                    Some(name),
                    role_of(name, key),
                    hits,
                );
            }
        }
        (_, Shape::Array(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), key, role, hits);
            }
        }
        _ => {}
    }
}

/// Every non-empty string leaf under a node: (path, its key, value).
fn leaves_of<'n, N: JsonNode<'n>>(
    node: N,
    path: &str,
    key: Option<&'n str>,
    out: &mut Vec<(String, Option<&'n str>, String)>,
) {
    match node.shape() {
        Shape::Object(props) => {
            for (name, child) in props {
                leaves_of(child, &join(path, name), Some(name), out);
            }
        }
        Shape::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                leaves_of(item, &format!("{path}[{i}]"), key, out);
            }
        }
        Shape::Str(value) if !value.is_empty() => {
            out.push((path.to_string(), key, value.to_string()))
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Pass 2: text patterns.

const PEM_RULE: &str = "pem-private-key";
const PEM_BASE64_RULE: &str = "pem-private-key-base64";
const VAULT_INIT_RULE: &str = "vault-init-line";
const URL_RULE: &str = "url-credentials";
const ASSIGNMENT_RULE: &str = "secret-assignment";
const LINE_RULE: &str = "secret-key-line";
const TABLE_RULE: &str = "secret-table-row";
/// Scanner rules whose whole match is a credential, also applied as redactions.
const TOKEN_RULES: [&str; 4] = [
    "vault-token",
    "vault-legacy-token",
    "keystone-fernet-token",
    "maas-api-key",
];

fn regex(pattern: &str) -> Regex {
    // Every pattern here is a literal of this module and is compiled by the tests.
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("pattern {pattern:?} is invalid: {e}"))
}

const PEM_LABEL: &str = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----";

/// A whole PEM private key block; the body never crosses an unescaped `"`, so inside a
/// JSON document it cannot run from one string into the next.
static PEM_BLOCK: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r#"(?s){PEM_LABEL}(?:[^"\\]|\\.)*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"#
    ))
});
/// A PEM private key block with no END line (truncated output): through its base64 run.
static PEM_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"{PEM_LABEL}(?:[A-Za-z0-9+/=:,. \t\r\n-]|\\[rnt])*"
    ))
});
/// `base64` of a PEM private key (how the octavia charm's `lb-mgmt-issuing-ca-private-key`
/// and the `ssl_key` options are set): the encodings of `-----BEGIN PRIVATE KEY-----`,
/// `RSA`, `EC`, `DSA`, `ENCRYPTED` and `OPENSSH` headers at offset 0.
const PEM_BASE64: &str = r"LS0tLS1CRUdJTiB(?:QUklWQVRFIEtFWS0tLS0t|SU0EgUFJJVkFURSBLRVktLS0t|FQyBQUklWQVRFIEtFWS0tLS0t|EU0EgUFJJVkFURSBLRVktLS0t|FTkNSWVBURUQgUFJJVkFURSBLRVktLS0t|PUEVOU1NIIFBSSVZBVEUgS0VZLS0t)";
static PEM_BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"{PEM_BASE64}(?:[A-Za-z0-9+/=]|\\[rn])*")));
/// `vault operator init` / `bao operator init` text output.
static VAULT_INIT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(Unseal Key \d+|Recovery Key \d+|Initial Root Token)((?: \([a-z0-9]+\))?:[ \t]*)([^\s"\\]+)"#,
    )
});
/// `scheme://user:password@`: group 2 is the password.
static URL_CREDENTIALS: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"([A-Za-z][A-Za-z0-9+.-]*://[^\s/:@"'<>\\]+:)([^\s/@"'<>\\]+)@"#));
/// `export NAME=value`, `NAME=value`, `--name=value`, `?name=value&`: group 1 the name,
/// group 2 the value with its quotes (also `\"..\"` inside a JSON string).
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?m)(?:^|[\s;&|(?,-]|\\n)(?:(?:export|declare -x|readonly)[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)=('[^'\n]*'|"(?:[^"\\\n]|\\.)*"|\\"(?:[^"\\\n]|\\[^"])*\\"|[^\s'";&|\\,]+)"#,
    )
});
/// A YAML-like `key: value` (after any indentation and `- `): group 1..3 the key
/// (double-quoted, single-quoted, plain), group 4 the value.
static KEY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"^(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_][A-Za-z0-9_./-]*))[ \t]*:(?:[ \t]+(.*?))?[ \t]*$"#,
    )
});
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"));
static BLOCK_SCALAR: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[|>][+-]?[0-9]?[+-]?[ \t]*(?:#.*)?$"));

/// Replaces capture group `group` of every match for which `decide` gives a replacement;
/// `decide` gets the group's bytes and the captures.
fn replace_matches(
    bytes: &[u8],
    regex: &Regex,
    group: usize,
    tally: &mut Tally,
    rule: &'static str,
    mut decide: impl FnMut(&[u8], &Captures) -> Option<Vec<u8>>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    let mut count = 0;
    for caps in regex.captures_iter(bytes) {
        let Some(g) = caps.get(group) else {
            continue;
        };
        if let Some(replacement) = decide(g.as_bytes(), &caps) {
            out.extend_from_slice(&bytes[at..g.start()]);
            out.extend_from_slice(&replacement);
            at = g.end();
            count += 1;
        }
    }
    out.extend_from_slice(&bytes[at..]);
    tally.add(MarkKind::Pattern { rule }, count);
    out
}

/// Whether `start..end` is all of a YAML plain scalar: after `key: ` or `- ` on its line,
/// with nothing but whitespace after it.
fn plain_scalar_position(text: &[u8], start: usize, end: usize) -> bool {
    let line_start = text[..start]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = text[end..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |i| end + i);
    let before = text[line_start..start].trim_ascii_start();
    let after = &text[end..line_end];
    (before.ends_with(b": ") || before == b"- ") && after.iter().all(u8::is_ascii_whitespace)
}

/// Whether a value found under a secret key is worth replacing: not empty, not already
/// the marker, not a number, boolean or null.
fn redactable(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    !(value.is_empty()
        || value == MARKER.as_bytes()
        || value == QUOTED_MARKER.as_bytes()
        || matches!(
            lower.as_slice(),
            b"null" | b"~" | b"true" | b"false" | b"none" | b"[]" | b"{}" | b"''" | b"\"\""
        )
        || NUMBER.is_match(value))
}

/// How many quote bytes open and close a value: `'x'`/`"x"` 1 each, `\"x\"` 2 each.
fn quoting(value: &[u8]) -> (usize, usize) {
    let n = value.len();
    if n >= 4 && value.starts_with(b"\\\"") && value.ends_with(b"\\\"") {
        (2, 2)
    } else if n >= 2 && (value[0] == b'\'' || value[0] == b'"') && value[n - 1] == value[0] {
        (1, 1)
    } else {
        (0, 0)
    }
}

fn url_password_is_secret(password: &[u8]) -> bool {
    !(password == MARKER.as_bytes()
        || password.iter().all(|b| *b == b'*')
        || password.first() == Some(&b'$'))
}

/// One level of a YAML-like document: a key whose value is on the following lines.
struct Scope {
    indent: usize,
    key: String,
    /// The key marks a secret: list items under it are secrets.
    secret: bool,
    /// `power_parameters` or under it: every scalar is a secret.
    power: bool,
}

/// A block scalar (`key: |`) being read.
struct Block {
    /// The indentation of the line of its key: its content is indented further.
    indent: usize,
    /// Under a secret key: each content line becomes the marker.
    secret: bool,
    /// Whether the block was counted in the marks.
    counted: bool,
}

/// YAML-like `key: value` lines and `| key | value |` table rows, for text that is not
/// one JSON document. Each secret value becomes the marker (a plain scalar the quoted
/// marker, so it stays a string); the lines of a block scalar under a secret key each
/// become the marker; a block scalar under any other key is passed over whole, so prose
/// in a description is never read as keys.
fn redact_lines(input: &[u8], tally: &mut Tally, learned: &mut Vec<(String, String)>) -> Vec<u8> {
    let marker = MARKER.as_bytes();
    let mut out = Vec::with_capacity(input.len());
    let mut stack: Vec<Scope> = Vec::new();
    let mut block: Option<Block> = None;
    let mut table_secret = false;
    let (mut lines, mut rows) = (0, 0);
    for (n, raw) in input.split(|b| *b == b'\n').enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let indent = line.iter().take_while(|b| **b == b' ').count();
        let body = &line[indent..];
        if body.iter().all(u8::is_ascii_whitespace) {
            out.extend_from_slice(raw);
            continue;
        }
        if let Some(current) = &mut block {
            if indent > current.indent {
                if current.secret && body != marker {
                    out.extend_from_slice(&line[..indent]);
                    out.extend_from_slice(marker);
                    out.extend_from_slice(&raw[line.len()..]);
                    if !current.counted {
                        current.counted = true;
                        lines += 1;
                    }
                } else {
                    out.extend_from_slice(raw);
                }
                continue;
            }
            block = None;
        }
        if body[0] == b'|' {
            match table_row(line, &mut table_secret) {
                Some((start, end)) => {
                    out.extend_from_slice(&raw[..start]);
                    out.extend_from_slice(marker);
                    out.extend_from_slice(&raw[end..]);
                    rows += 1;
                }
                None => out.extend_from_slice(raw),
            }
            continue;
        }
        table_secret = false;

        let is_item = body == b"-" || body.starts_with(b"- ");
        let key_at = if is_item {
            indent + 1 + body[1..].iter().take_while(|b| **b == b' ').count()
        } else {
            indent
        };
        while stack
            .last()
            .is_some_and(|top| top.indent > indent || (!is_item && top.indent >= indent))
        {
            stack.pop();
        }
        let rest = &line[key_at..];
        let in_power = stack.iter().any(|s| s.power);
        // The value to replace: (start, end) in `line`, its label, whether to quote.
        let mut edit: Option<(usize, usize, String, bool)> = None;
        if let Some(caps) = KEY_LINE.captures(rest) {
            let key_bytes = caps
                .get(1)
                .or_else(|| caps.get(2))
                .or_else(|| caps.get(3))
                .map_or(&b""[..], |m| m.as_bytes());
            let key = String::from_utf8_lossy(key_bytes).into_owned();
            let parent_secret = stack.last().is_some_and(|s| is_secret_key(&s.key));
            let endpoint = stack.last().is_some_and(|s| names_endpoints(&s.key));
            let secret = in_power
                || (!endpoint && (is_secret_key(&key) || (is_value_key(&key) && parent_secret)));
            let value = caps.get(4).filter(|v| !v.as_bytes().is_empty());
            // A key whose value follows on the next lines (also `{`/`[` of pretty JSON).
            let opens = value.is_none_or(|v| {
                v.as_bytes().starts_with(b"#") || matches!(v.as_bytes(), b"{" | b"[")
            });
            match value {
                _ if opens => stack.push(Scope {
                    indent: key_at,
                    secret: is_secret_key(&key) || in_power,
                    power: in_power || is_power_key(&key),
                    key,
                }),
                Some(v) if BLOCK_SCALAR.is_match(v.as_bytes()) => {
                    block = Some(Block {
                        indent,
                        secret,
                        counted: false,
                    });
                }
                Some(v) if secret => {
                    edit = scalar_span(v.as_bytes(), in_power).map(|(s, e, quote)| {
                        (key_at + v.start() + s, key_at + v.start() + e, key, quote)
                    });
                }
                _ => {}
            }
        } else if is_item && stack.last().is_some_and(|s| s.secret || s.power) {
            let item = &line[key_at..];
            let label = stack.last().map_or_else(String::new, |s| s.key.clone());
            edit = scalar_span(item, in_power)
                .map(|(s, e, quote)| (key_at + s, key_at + e, label, quote));
        }
        match edit {
            Some((start, end, label, quote)) => {
                learned.push((
                    format!("line {label}"),
                    String::from_utf8_lossy(&line[start..end]).into_owned(),
                ));
                out.extend_from_slice(&line[..start]);
                out.extend_from_slice(if quote {
                    QUOTED_MARKER.as_bytes()
                } else {
                    marker
                });
                out.extend_from_slice(&raw[end..]);
                lines += 1;
            }
            None => out.extend_from_slice(raw),
        }
    }
    tally.add(MarkKind::Pattern { rule: LINE_RULE }, lines);
    tally.add(MarkKind::Pattern { rule: TABLE_RULE }, rows);
    out
}

/// The part of a YAML-like scalar to replace: (start, end, whether the replacement is
/// the quoted marker). A quoted scalar loses what is between its quotes; a plain one
/// (comment cut) becomes `"[REDACTED]"` so it stays a string; a flow collection goes
/// whole when it is not empty (an object only under `power_parameters`).
fn scalar_span(value: &[u8], in_power: bool) -> Option<(usize, usize, bool)> {
    let (start, end, quote) = match value.first()? {
        b'"' => {
            let mut i = 1;
            while i < value.len() && value[i] != b'"' {
                i += if value[i] == b'\\' { 2 } else { 1 };
            }
            (1, i.min(value.len()), false)
        }
        b'\'' => {
            let mut i = 1;
            while i < value.len() {
                if value[i] == b'\'' {
                    if value.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            (1, i, false)
        }
        b'{' if !in_power => return None,
        _ => {
            let end = find(value, b" #", 0).unwrap_or(value.len());
            let end = value[..end]
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(0, |i| i + 1);
            (0, end, true)
        }
    };
    let inner = &value[start..end];
    // A bundle's `include-file://` / `include-base64://` names a file, not its content.
    let include = inner.starts_with(b"include-file://") || inner.starts_with(b"include-base64://");
    (redactable(inner) && !include).then_some((start, end, quote))
}

/// `| key | value |`: the span of the value to replace, when the key (or, on a
/// continuation row with an empty key, the last key) marks a secret.
fn table_row(line: &[u8], secret: &mut bool) -> Option<(usize, usize)> {
    let pipes: Vec<usize> = line
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'|')
        .map(|(i, _)| i)
        .collect();
    let [p0, p1, p2] = pipes[..] else {
        *secret = false;
        return None;
    };
    if !line[p2 + 1..].iter().all(u8::is_ascii_whitespace) {
        *secret = false;
        return None;
    }
    let key = line[p0 + 1..p1].trim_ascii();
    if !key.is_empty() {
        *secret = is_secret_key(&String::from_utf8_lossy(key));
    }
    if !*secret {
        return None;
    }
    let cell = &line[p1 + 1..p2];
    let value = cell.trim_ascii();
    if !redactable(value) {
        return None;
    }
    let lead = cell.len() - cell.trim_ascii_start().len();
    let start = p1 + 1 + lead;
    Some((start, start + value.len()))
}

// ---------------------------------------------------------------------------------------
// The scanner.

/// A gitleaks-style rule [`scan`] checks every file about to be written against.
pub struct Rule {
    pub id: &'static str,
    pub description: &'static str,
    regex: Regex,
    /// The capture group holding the credential.
    group: usize,
    /// Checks a candidate: (the whole text, the group's start and end in it).
    accept: fn(&[u8], usize, usize) -> bool,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("description", &self.description)
            .field("regex", &self.regex.as_str())
            .finish_non_exhaustive()
    }
}

/// A rule matched: which, and on which line (1-based). Never the matched text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Finding {
    pub rule: &'static str,
    pub line: usize,
}

fn accept_any(_: &[u8], _: usize, _: usize) -> bool {
    true
}

/// The token body (after its `prefix.`) mixes upper and lower case, as random base62 and
/// base64 do and documentation placeholders (`hvs.xxxx…`) and identifiers mostly do not.
fn mixed_case_body(m: &[u8], start: usize, end: usize) -> bool {
    let token = &m[start..end];
    let body = token
        .iter()
        .position(|b| *b == b'.')
        .map_or(token, |dot| &token[dot + 1..]);
    body.iter().any(u8::is_ascii_uppercase) && body.iter().any(u8::is_ascii_lowercase)
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// A vault Shamir share in base64: 33 bytes, so exactly 44 characters and no padding (a
/// sha256 digest is 43 and `=`), mixed case, not a path (at most 5 `/`), not glued to
/// `-`, `_` or `.`, and not the last line of a wrapped base64 blob (a certificate body).
fn shamir_b64(m: &[u8], start: usize, end: usize) -> bool {
    let share = &m[start..end];
    if wrapped_tail(m, start) {
        return false;
    }
    share.len() == 44
        && !share.contains(&b'=')
        && share.iter().any(u8::is_ascii_uppercase)
        && share.iter().any(u8::is_ascii_lowercase)
        && share.iter().filter(|b| **b == b'/').count() <= 5
        && !m.get(end).is_some_and(|b| matches!(b, b'-' | b'_' | b'.'))
        && !(start > 0 && matches!(m[start - 1], b'-' | b'_' | b'.'))
}

/// A vault Shamir share in hex: exactly 66 hex digits (a sha256 digest is 64).
fn shamir_hex(m: &[u8], start: usize, end: usize) -> bool {
    end - start == 66
        && !m
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn url_password(m: &[u8], start: usize, end: usize) -> bool {
    url_password_is_secret(&m[start..end])
}

/// `consumer:token:secret`, 18:18:32, not part of a longer `:`-joined run.
fn maas_key(m: &[u8], _: usize, end: usize) -> bool {
    !m.get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b':')
}

/// The rules [`scan`] applies, in report order.
pub static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        Rule {
            id: "vault-token",
            description: "HashiCorp Vault service, batch or recovery token (hvs./hvb./hvr. and 24+ characters)",
            regex: regex(r"(?:^|[^A-Za-z0-9_.-])(hv[sbr]\.[A-Za-z0-9_-]{24,})"),
            group: 1,
            accept: mixed_case_body,
        },
        Rule {
            id: "vault-legacy-token",
            description: "Vault legacy or OpenBao token (s./b./r. and 24+ base62 characters)",
            regex: regex(r"(?:^|[^A-Za-z0-9_./+-])([sbr]\.[A-Za-z0-9_-]{24,})"),
            group: 1,
            accept: mixed_case_body,
        },
        Rule {
            id: "vault-unseal-share-b64",
            description: "vault/bao Shamir unseal or recovery share in base64 (44 characters, no padding)",
            regex: regex(r"(?:^|[^A-Za-z0-9+/=])([A-Za-z0-9+/]{44,}={0,2})"),
            group: 1,
            accept: shamir_b64,
        },
        Rule {
            id: "vault-unseal-share-hex",
            description: "vault/bao Shamir unseal or recovery share in hex (66 digits)",
            regex: regex(r"(?:^|[^A-Za-z0-9])([0-9a-fA-F]{66,})"),
            group: 1,
            accept: shamir_hex,
        },
        Rule {
            id: "pem-private-key",
            description: "PEM private key block (any -----BEGIN ... PRIVATE KEY-----)",
            regex: regex(PEM_LABEL),
            group: 0,
            accept: accept_any,
        },
        Rule {
            id: "pem-private-key-base64",
            description: "base64 of a PEM private key (how charm options such as octavia's lb-mgmt-issuing-ca-private-key hold one)",
            regex: regex(PEM_BASE64),
            group: 0,
            accept: accept_any,
        },
        Rule {
            id: "url-credentials",
            description: "password in a URL (scheme://user:password@host)",
            regex: URL_CREDENTIALS.clone(),
            group: 2,
            accept: url_password,
        },
        Rule {
            id: "keystone-fernet-token",
            description: "keystone Fernet token (gAAAAAB and 80+ urlsafe base64 characters)",
            regex: regex(r"(?:^|[^A-Za-z0-9_-])(gAAAAAB[A-Za-z0-9_-]{80,}={0,2})"),
            group: 1,
            accept: accept_any,
        },
        Rule {
            id: "maas-api-key",
            description: "MAAS API key (consumer:token:secret, 18:18:32 alphanumerics)",
            regex: regex(r"(?:^|[^A-Za-z0-9:])([A-Za-z0-9]{18}:[A-Za-z0-9]{18}:[A-Za-z0-9]{32})"),
            group: 1,
            accept: maas_key,
        },
    ]
});

/// Lines where a rule matches `bytes`, sorted by line then rule, one finding per rule and
/// line. Empty means the bytes may be written.
#[must_use]
pub fn scan(bytes: &[u8]) -> Vec<Finding> {
    let newlines: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let mut findings = Vec::new();
    for rule in RULES.iter() {
        for caps in rule.regex.captures_iter(bytes) {
            let Some(g) = caps.get(rule.group) else {
                continue;
            };
            if !(rule.accept)(bytes, g.start(), g.end()) {
                continue;
            }
            let line = 1 + newlines.partition_point(|nl| *nl < g.start());
            findings.push(Finding {
                rule: rule.id,
                line,
            });
        }
    }
    let order = |id: &str| RULES.iter().position(|r| r.id == id);
    findings.sort_by_key(|f| (f.line, order(f.rule)));
    findings.dedup();
    findings
}

/// Whether the text just before `start` is a newline (raw or `\n`-escaped) that ends a
/// 64- or 76-character base64 line: `start` begins the last line of wrapped base64.
fn wrapped_tail(bytes: &[u8], start: usize) -> bool {
    let indented = |b: &u8| matches!(b, b' ' | b'\t');
    let before = &bytes[..start];
    let before = &before[..before.len() - before.iter().rev().take_while(|b| indented(b)).count()];
    let before = if let Some(b) = before.strip_suffix(b"\\n") {
        b.strip_suffix(b"\\r").unwrap_or(b)
    } else if let Some(b) = before.strip_suffix(b"\n") {
        b.strip_suffix(b"\r").unwrap_or(b)
    } else {
        return false;
    };
    let before = &before[..before.len() - before.iter().rev().take_while(|b| indented(b)).count()];
    let mut i = before.len();
    while i > 0 && is_b64(before[i - 1]) {
        if before[i - 1] == b'n' && i >= 2 && before[i - 2] == b'\\' {
            break;
        }
        i -= 1;
    }
    matches!(before.len() - i, 64 | 76)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const B62: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const HEX: &str = "0123456789abcdef";
    /// base64 of "-----BEGIN RSA PRIVATE KEY-----\nFAKEKEYFAKEKEYFAKEKEY\n-----END RSA PRIVATE KEY-----\n"
    const FAKE_KEY_B64: &str = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpGQUtFS0VZRkFLRUtFWUZBS0VLRVkKLS0tLS1FTkQgUlNBIFBSSVZBVEUgS0VZLS0tLS0K";
    /// base64 of "-----BEGIN PRIVATE KEY-----\nFAKE\n-----END PRIVATE KEY-----\n"
    const FAKE_PKCS8_B64: &str =
        "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCkZBS0UKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=";
    /// base64 of "-----BEGIN CERTIFICATE-----\nFAKECERTFAKECERTFAKECERT\n-----END CERTIFICATE-----\n"
    const FAKE_CERT_B64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkZBS0VDRVJURkFLRUNFUlRGQUtFQ0VSVAotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==";
    /// sha256("not a secret"), hex and base64.
    const SHA256_HEX: &str = "8f260a0b09492f0865d2387ee9805f861d6e1cc9be492de9a08a8b044eac1d87";
    const SHA256_B64: &str = "jyYKCwlJLwhl0jh+6YBfhh1uHMm+SS3poIqLBE6sHYc=";

    /// An obviously fake value: `Fake` (the letters the alphabet has), then a
    /// deterministic walk over the alphabet.
    fn fake(alphabet: &str, len: usize, seed: u64) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut out: String = "Fake".chars().filter(|c| chars.contains(c)).collect();
        let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
        while out.len() < len {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let i = usize::try_from((x >> 33) % chars.len() as u64).unwrap_or(0);
            out.push(chars[i]);
        }
        out.truncate(len);
        out
    }

    fn redact_str(r: &mut Redactor, stream: Stream, text: &str) -> (String, Vec<Mark>) {
        let out = r.redact(stream, text.as_bytes());
        (String::from_utf8(out.bytes).unwrap(), out.marks)
    }

    fn key(path: &str, count: usize) -> Mark {
        Mark {
            stream: Stream::Stdout,
            kind: MarkKind::Key { path: path.into() },
            count,
        }
    }

    fn value(stream: Stream, label: &str, count: usize) -> Mark {
        Mark {
            stream,
            kind: MarkKind::Value {
                label: label.into(),
            },
            count,
        }
    }

    fn pattern(stream: Stream, rule: &'static str, count: usize) -> Mark {
        Mark {
            stream,
            kind: MarkKind::Pattern { rule },
            count,
        }
    }

    fn rules_hit(text: &str) -> Vec<&'static str> {
        scan(text.as_bytes()).into_iter().map(|f| f.rule).collect()
    }

    // -- pass 1: JSON by key -------------------------------------------------------------

    #[test]
    fn maas_indent_4_power_parameters_go_whole_and_every_other_byte_stays() {
        let pass = fake(B62, 16, 1);
        let doc = format!(
            "[\n    {{\n        \"hostname\": \"openstack1\",\n        \"power_parameters\": {{\n            \"power_address\": \"qemu+ssh://ubuntu@10.12.64.1/system\",\n            \"power_id\": \"openstack1\",\n            \"power_pass\": \"{pass}\"\n        }},\n        \"power_type\": \"virsh\",\n        \"system_id\": \"x7yk3p\",\n        \"tag_names\": [\n            \"openstack\"\n        ]\n    }}\n]"
        );
        let start = doc.find("{\n            \"power_address\"").unwrap();
        let end = doc.find(",\n        \"power_type\"").unwrap();
        let mut r = Redactor::new();
        let (out, marks) = redact_str(&mut r, Stream::Stdout, &doc);
        assert_eq!(
            out,
            format!("{}\"[REDACTED]\"{}", &doc[..start], &doc[end..])
        );
        assert!(!out.ends_with('\n'));
        assert_eq!(marks, vec![key("[0].power_parameters", 1)]);
        assert!(scan(out.as_bytes()).is_empty());

        // The power_pass inside went with the object and is known from now on.
        let err = format!("virsh: error: authentication failed with {pass}\n");
        let (out, marks) = redact_str(&mut r, Stream::Stderr, &err);
        assert_eq!(out, "virsh: error: authentication failed with [REDACTED]\n");
        assert_eq!(
            marks,
            vec![value(
                Stream::Stderr,
                "key [0].power_parameters.power_pass",
                1
            )]
        );
        // The address is not learned: other outputs keep it.
        let (out, _) = redact_str(
            &mut r,
            Stream::Stdout,
            "qemu+ssh://ubuntu@10.12.64.1/system",
        );
        assert_eq!(out, "qemu+ssh://ubuntu@10.12.64.1/system");
    }

    #[test]
    fn maas_power_parameters_read_redacts_power_pass_only() {
        let pass = fake(B62, 12, 2);
        let doc = format!(
            "{{\n    \"power_address\": \"qemu+ssh://ubuntu@10.12.64.1/system\",\n    \"power_id\": \"openstack2\",\n    \"power_pass\": \"{pass}\"\n}}"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &doc);
        assert_eq!(out, doc.replace(&pass, MARKER));
        assert_eq!(marks, vec![key("power_pass", 1)]);
    }

    #[test]
    fn juju_compact_config_redacts_the_value_of_a_secret_setting_and_keeps_u003c() {
        let pass = fake(B62, 20, 3);
        let doc = format!(
            "{{\"application\":\"octavia\",\"charm\":\"octavia\",\"settings\":{{\"lb-mgmt-controller-cert\":{{\"default\":\"\",\"description\":\"Certificate for the controller \\u003cbase64\\u003e\",\"source\":\"user\",\"type\":\"string\",\"value\":\"{FAKE_CERT_B64}\"}},\"lb-mgmt-issuing-ca-key-passphrase\":{{\"default\":null,\"description\":\"The password \\u0026 passphrase of the CA key\",\"source\":\"user\",\"type\":\"string\",\"value\":\"{pass}\"}},\"lb-mgmt-issuing-ca-private-key\":{{\"default\":\"\",\"description\":\"The private key of the issuing CA \\u003cbase64\\u003e\",\"source\":\"user\",\"type\":\"string\",\"value\":\"{FAKE_KEY_B64}\"}}}}}}\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &doc);
        let expected = doc
            .replace(&format!("\"{FAKE_KEY_B64}\""), QUOTED_MARKER)
            .replace(&format!("\"{pass}\""), QUOTED_MARKER);
        assert_eq!(out, expected);
        assert!(out.contains(FAKE_CERT_B64), "the certificate may stay");
        assert!(out.contains("\\u003cbase64\\u003e") && out.contains("The password \\u0026"));
        assert_eq!(
            marks,
            vec![
                key("settings.lb-mgmt-issuing-ca-key-passphrase.value", 1),
                key("settings.lb-mgmt-issuing-ca-private-key.value", 1),
            ]
        );
        assert!(scan(out.as_bytes()).is_empty());
    }

    #[test]
    fn juju_models_secret_backends_stay_byte_identical() {
        let doc = "{\"models\":[{\"name\":\"admin/openstack\",\"short-name\":\"openstack\",\"model-uuid\":\"3f1c2a8e-5d4b-4c7a-9e2f-1b0d6a7c8e9f\",\"secret-backends\":{\"default\":{\"num-secrets\":0,\"status\":\"active\"}}}],\"current-model\":\"openstack\"}\n";
        let out = Redactor::new().redact(Stream::Stdout, doc.as_bytes());
        assert_eq!(out.bytes, doc.as_bytes());
        assert!(out.marks.is_empty());
    }

    #[test]
    fn numbers_booleans_null_and_empty_strings_stay() {
        let doc = "{\n  \"secret_threshold\": 3,\n  \"unseal_shares\": 5,\n  \"token_ttl\": 0,\n  \"password\": null,\n  \"passwordless\": true,\n  \"api_key\": \"\",\n  \"tokens\": []\n}\n";
        let out = Redactor::new().redact(Stream::Stdout, doc.as_bytes());
        assert_eq!(out.bytes, doc.as_bytes());
        assert!(out.marks.is_empty());
    }

    #[test]
    fn descriptions_mentioning_secrets_are_not_secrets() {
        let doc = "{\"admin-password\":{\"description\":\"The password for the admin user; a token or secret\",\"source\":\"default\",\"type\":\"string\"},\"name\":\"token secret password\"}";
        let out = Redactor::new().redact(Stream::Stdout, doc.as_bytes());
        assert_eq!(out.bytes, doc.as_bytes());
    }

    #[test]
    fn vault_init_json_redacts_each_share_and_keeps_counts() {
        let b64: Vec<String> = (0..3).map(|i| fake(B64, 44, 10 + i)).collect();
        let hex: Vec<String> = (0..3).map(|i| fake(HEX, 66, 20 + i)).collect();
        let root = format!("hvs.{}", fake(B62, 24, 30));
        let list = |v: &[String]| {
            v.iter()
                .map(|s| format!("\n    \"{s}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        let doc = format!(
            "{{\n  \"unseal_keys_b64\": [{}\n  ],\n  \"unseal_keys_hex\": [{}\n  ],\n  \"unseal_shares\": 3,\n  \"unseal_threshold\": 2,\n  \"recovery_keys_b64\": [],\n  \"recovery_keys_hex\": [],\n  \"recovery_keys_shares\": 0,\n  \"recovery_keys_threshold\": 0,\n  \"root_token\": \"{root}\"\n}}\n",
            list(&b64),
            list(&hex)
        );
        assert!(!scan(doc.as_bytes()).is_empty());
        let mut r = Redactor::new();
        let (out, marks) = redact_str(&mut r, Stream::Stdout, &doc);
        let mut expected = doc.clone();
        for s in b64.iter().chain(&hex).chain([&root]) {
            expected = expected.replace(&format!("\"{s}\""), QUOTED_MARKER);
        }
        assert_eq!(out, expected);
        assert_eq!(out.matches(QUOTED_MARKER).count(), 7);
        assert_eq!(
            marks,
            vec![
                key("unseal_keys_b64", 3),
                key("unseal_keys_hex", 3),
                key("root_token", 1)
            ]
        );
        assert!(scan(out.as_bytes()).is_empty());
        // A share echoed later, on another stream, goes as a known value.
        let echo = format!("unsealing with {}\n", hex[1]);
        let (out, marks) = redact_str(&mut r, Stream::Stderr, &echo);
        assert_eq!(out, "unsealing with [REDACTED]\n");
        assert_eq!(
            marks,
            vec![value(Stream::Stderr, "key unseal_keys_hex[1]", 1)]
        );
    }

    #[test]
    fn a_value_found_by_key_in_stdout_is_redacted_from_a_later_stderr() {
        let pass = fake(B62, 16, 40);
        let doc = format!(
            "{{\"keystone/0\":{{\"id\":\"8\",\"results\":{{\"admin-password\":\"{pass}\",\"return-code\":0}},\"status\":\"completed\",\"timing\":{{\"completed\":\"2026-06-27 14:02:11 +0000 UTC\"}},\"unit\":\"keystone/0\"}}}}\n"
        );
        let mut r = Redactor::new();
        let (out, marks) = redact_str(&mut r, Stream::Stdout, &doc);
        assert_eq!(out, doc.replace(&pass, MARKER));
        assert_eq!(marks, vec![key("keystone/0.results.admin-password", 1)]);
        let err =
            format!("The request you have made requires authentication. (HTTP 401) admin/{pass}\n");
        let (out, marks) = redact_str(&mut r, Stream::Stderr, &err);
        assert!(!out.contains(&pass));
        assert_eq!(
            marks,
            vec![value(
                Stream::Stderr,
                "key keystone/0.results.admin-password",
                1
            )]
        );
        assert_eq!(
            r.known_labels().collect::<Vec<_>>(),
            ["key keystone/0.results.admin-password"]
        );
    }

    #[test]
    fn word_like_values_removed_by_key_are_not_learned() {
        let mut r = Redactor::new();
        let doc = "{\"token_type\":\"service\",\"secret-backend\":\"internal\"}";
        let (out, _) = redact_str(&mut r, Stream::Stdout, doc);
        assert_eq!(
            out,
            "{\"token_type\":\"[REDACTED]\",\"secret-backend\":\"[REDACTED]\"}"
        );
        let (out, marks) = redact_str(&mut r, Stream::Stdout, "service internal\n");
        assert_eq!(out, "service internal\n");
        assert!(marks.is_empty());
    }

    #[test]
    fn a_known_value_is_redacted_in_its_json_escaped_forms() {
        let secret = format!("{}<a>&\"q\\1\u{e9}", fake(B62, 8, 50));
        let mut r = Redactor::new();
        assert!(r.add_known("stdin of the command", secret.as_bytes()));
        let serde = serde_json::to_string(&secret).unwrap();
        let serde = &serde[1..serde.len() - 1];
        let go = serde
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        let ascii = serde.replace('\u{e9}', "\\u00e9");
        for form in [serde.to_string(), go, ascii, secret.clone()] {
            let doc = format!("{{\"message\":\"failed: {form}\"}}\n");
            let (out, marks) = redact_str(&mut r, Stream::Stderr, &doc);
            assert_eq!(out, "{\"message\":\"failed: [REDACTED]\"}\n", "{form}");
            assert_eq!(
                marks,
                vec![value(Stream::Stderr, "stdin of the command", 1)]
            );
        }
    }

    #[test]
    fn a_pem_key_inside_a_json_string_goes_and_the_certificate_stays() {
        let body = fake(B64, 64, 60);
        let doc = format!(
            "{{\"vault/0\":{{\"results\":{{\"output\":\"-----BEGIN RSA PRIVATE KEY-----\\n{body}\\n-----END RSA PRIVATE KEY-----\\n-----BEGIN CERTIFICATE-----\\nFAKECERT\\n-----END CERTIFICATE-----\"}},\"status\":\"completed\"}}}}"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &doc);
        assert_eq!(
            out,
            "{\"vault/0\":{\"results\":{\"output\":\"[REDACTED]\\n-----BEGIN CERTIFICATE-----\\nFAKECERT\\n-----END CERTIFICATE-----\"},\"status\":\"completed\"}}"
        );
        assert_eq!(marks, vec![pattern(Stream::Stdout, PEM_RULE, 1)]);
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
        assert!(scan(out.as_bytes()).is_empty());
    }

    #[test]
    fn secret_arrays_and_values_under_secret_keys_descend_into_objects() {
        let a = fake(B62, 12, 70);
        let doc = format!(
            "{{\"secrets\":[{{\"name\":\"db\",\"value\":\"{a}\"}},{{\"name\":\"n\",\"value\":7}}],\"token_policies\":[\"default\",\"root\"]}}"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &doc);
        assert_eq!(
            out,
            "{\"secrets\":[{\"name\":\"db\",\"value\":\"[REDACTED]\"},{\"name\":\"n\",\"value\":7}],\"token_policies\":[\"[REDACTED]\",\"[REDACTED]\"]}"
        );
        assert_eq!(
            marks,
            vec![key("secrets[0].value", 1), key("token_policies", 2)]
        );
    }

    #[test]
    fn the_span_walker_and_the_serde_fallback_find_the_same_values() {
        let doc = format!(
            "[{{\"power_parameters\":{{\"power_pass\":\"{}\",\"power_user\":\"admin\",\"n\":1}},\"settings\":{{\"ssl_key\":{{\"value\":\"{}\"}}}},\"k\":[\"x\"],\"root_token\":\"{}\"}}]",
            fake(B62, 10, 80),
            fake(B62, 10, 81),
            fake(B62, 10, 82)
        );
        let ast =
            jsonc_parser::parse_to_ast(&doc, &CollectOptions::default(), &ParseOptions::default())
                .unwrap()
                .value
                .unwrap();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        walk(&ast, "", None, Role::Plain, &mut a);
        walk(&value, "", None, Role::Plain, &mut b);
        let summary = |hits: &[Hit]| {
            hits.iter()
                .map(|h| (h.mark.clone(), h.learn.clone(), h.strings.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(summary(&a), summary(&b));
        assert_eq!(a.len(), 3);
        assert!(a.iter().all(|h| h.span.is_some()) && b.iter().all(|h| h.span.is_none()));
    }

    // -- pass 2: text patterns ----------------------------------------------------------

    #[test]
    fn pem_private_key_blocks_in_text_go_whole_even_unterminated() {
        let body = fake(B64, 64, 90);
        let text = format!(
            "key follows:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n{body}\n-----END OPENSSH PRIVATE KEY-----\ndone\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        assert_eq!(out, "key follows:\n[REDACTED]\ndone\n");
        assert_eq!(marks, vec![pattern(Stream::Stdout, PEM_RULE, 1)]);
        let truncated = format!("-----BEGIN EC PRIVATE KEY-----\n{body}\n{}", &body[..20]);
        let (out, _) = redact_str(&mut Redactor::new(), Stream::Stdout, &truncated);
        assert_eq!(out, "[REDACTED]");
        let cert = "-----BEGIN CERTIFICATE-----\nFAKECERT\n-----END CERTIFICATE-----\n";
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, cert);
        assert_eq!((out.as_str(), marks.len()), (cert, 0));
    }

    #[test]
    fn vault_and_bao_operator_init_text_keeps_labels_and_loses_values() {
        let shares: Vec<String> = (0..3).map(|i| fake(B64, 44, 100 + i)).collect();
        let root = format!("s.{}", fake(B62, 24, 110));
        let text = format!(
            "Unseal Key 1: {}\nUnseal Key 2: {}\nUnseal Key 3: {}\n\nInitial Root Token: {root}\n\nVault initialized with 3 key shares and a key threshold of 2. Please securely\ndistribute the key shares printed above.\n",
            shares[0], shares[1], shares[2]
        );
        let mut r = Redactor::new();
        let (out, marks) = redact_str(&mut r, Stream::Stdout, &text);
        assert_eq!(
            out,
            "Unseal Key 1: [REDACTED]\nUnseal Key 2: [REDACTED]\nUnseal Key 3: [REDACTED]\n\nInitial Root Token: [REDACTED]\n\nVault initialized with 3 key shares and a key threshold of 2. Please securely\ndistribute the key shares printed above.\n"
        );
        assert_eq!(marks, vec![pattern(Stream::Stdout, VAULT_INIT_RULE, 4)]);
        let later = format!("{{\"id\":\"{}\"}}", shares[2]);
        let (out, marks) = redact_str(&mut r, Stream::Stdout, &later);
        assert_eq!(out, "{\"id\":\"[REDACTED]\"}");
        assert_eq!(
            marks,
            vec![value(Stream::Stdout, "vault init Unseal Key 3", 1)]
        );
    }

    #[test]
    fn shell_assignments_of_secret_variables_lose_their_values() {
        let (p1, p2, p3) = (fake(B62, 14, 120), fake(B62, 14, 121), fake(B62, 14, 122));
        let text = format!(
            "export OS_AUTH_URL=https://10.0.0.5:5000/v3\nexport OS_USERNAME=admin\nexport OS_PASSWORD='{p1}'\nOS_PASSWORD={p2}\nexport OS_TOKEN=\"$TOKEN_FROM_ELSEWHERE\"\nexport OS_PROJECT_NAME=admin\njuju config keystone admin-password={p3} --password=\"{p3}\"\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        assert_eq!(
            out,
            "export OS_AUTH_URL=https://10.0.0.5:5000/v3\nexport OS_USERNAME=admin\nexport OS_PASSWORD='[REDACTED]'\nOS_PASSWORD=[REDACTED]\nexport OS_TOKEN=\"$TOKEN_FROM_ELSEWHERE\"\nexport OS_PROJECT_NAME=admin\njuju config keystone admin-password=[REDACTED] --password=\"[REDACTED]\"\n"
        );
        assert_eq!(marks, vec![pattern(Stream::Stdout, ASSIGNMENT_RULE, 4)]);
    }

    #[test]
    fn an_openrc_inside_a_json_string_loses_its_password() {
        let p = fake(B62, 14, 125);
        let doc = format!(
            "{{\"stdout\":\"export OS_USERNAME=admin\\nexport OS_PASSWORD=\\\"{p}\\\"\\nexport OS_REGION_NAME=RegionOne\\n\"}}"
        );
        let (out, _) = redact_str(&mut Redactor::new(), Stream::Stdout, &doc);
        assert_eq!(out, doc.replace(&p, MARKER));
    }

    #[test]
    fn yaml_config_values_of_secret_settings_go_and_prose_stays() {
        let pw = fake(B62, 16, 130);
        let text = format!(
            "application: octavia\ncharm: octavia\nsettings:\n  lb-mgmt-controller-cert:\n    default: \"\"\n    description: |\n      Certificate for the controller.\n      password: this line is prose, not a key\n    source: user\n    type: string\n    value: {FAKE_CERT_B64}\n  lb-mgmt-issuing-ca-private-key:\n    default: \"\"\n    description: The private key of the issuing CA\n    source: user\n    type: string\n    value: {FAKE_KEY_B64}\n  admin-password:\n    default: null\n    source: user\n    type: string\n    value: '{pw}'\n  worker-multiplier:\n    value: 0.25\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        let expected = text
            .replace(FAKE_KEY_B64, QUOTED_MARKER)
            .replace(&pw, MARKER);
        assert_eq!(out, expected);
        assert_eq!(marks, vec![pattern(Stream::Stdout, LINE_RULE, 2)]);
        assert!(scan(out.as_bytes()).is_empty());
    }

    #[test]
    fn a_bundle_overlay_keeps_its_keys_set_and_its_file_references() {
        let pass = fake(B62, 12, 135);
        let text = format!(
            "applications:\n  octavia:\n    options:\n      lb-mgmt-issuing-cacert: include-base64://./ca.pem\n      lb-mgmt-issuing-ca-private-key: include-base64://./ca.key\n      lb-mgmt-issuing-ca-key-passphrase: {pass}\r\n      lb-mgmt-controller-cacert: \"\"\n      lb-mgmt-controller-cert: {FAKE_CERT_B64}\n"
        );
        let (out, _) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        assert_eq!(out, text.replace(&pass, QUOTED_MARKER));
        assert!(out.contains("passphrase: \"[REDACTED]\"\r\n"));
    }

    #[test]
    fn yaml_lists_blocks_and_power_parameters_under_secret_keys() {
        let shares: Vec<String> = (0..2).map(|i| fake(B64, 44, 140 + i)).collect();
        let p = fake(B62, 12, 150);
        let text = format!(
            "unseal_keys_b64:\n- {}\n- {}\nunseal_shares: 2\nunseal_threshold: 2\nrecovery_keys_b64: []\nmachines:\n- hostname: n1\n  power_parameters:\n    power_address: 10.0.0.9\n    power_pass: {p}\n  status: Deployed\nssl_key: |\n  {p}\n  {p}\nnotes: |\n  token: not a key here\nsecret-backends:\n  default:\n    num-secrets: 0\n    status: active\n",
            shares[0], shares[1]
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        assert_eq!(
            out,
            "unseal_keys_b64:\n- \"[REDACTED]\"\n- \"[REDACTED]\"\nunseal_shares: 2\nunseal_threshold: 2\nrecovery_keys_b64: []\nmachines:\n- hostname: n1\n  power_parameters:\n    power_address: \"[REDACTED]\"\n    power_pass: \"[REDACTED]\"\n  status: Deployed\nssl_key: |\n  [REDACTED]\n  [REDACTED]\nnotes: |\n  token: not a key here\nsecret-backends:\n  default:\n    num-secrets: 0\n    status: active\n"
        );
        assert_eq!(marks, vec![pattern(Stream::Stdout, LINE_RULE, 5)]);
        // The plain-scalar power_pass was learned: a later stream loses it too.
        let mut r = Redactor::new();
        redact_str(&mut r, Stream::Stdout, &text);
        let (out, marks) = redact_str(&mut r, Stream::Stderr, &format!("retry with {p}\n"));
        assert_eq!(out, "retry with [REDACTED]\n");
        assert_eq!(marks, vec![value(Stream::Stderr, "line power_pass", 1)]);
    }

    #[test]
    fn openstack_table_rows_of_secret_fields_lose_their_values() {
        let s = fake(B62, 32, 160);
        let text = format!(
            "+--------------+----------------------------------+\n| Field        | Value                            |\n+--------------+----------------------------------+\n| description  | None                             |\n| name         | stackgate                        |\n| secret       | {s} |\n|              | {s} |\n| unrestricted | False                            |\n+--------------+----------------------------------+\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        assert_eq!(out, text.replace(&s, MARKER));
        assert_eq!(marks, vec![pattern(Stream::Stdout, TABLE_RULE, 2)]);
    }

    #[test]
    fn url_credentials_lose_the_password_only() {
        let p = fake(B62, 16, 170);
        let text = format!(
            "transport_url = rabbit://openstack:{p}@10.0.0.5:5672/openstack\nMAAS at http://10.0.0.2:5240/MAAS/ and qemu+ssh://ubuntu@10.12.64.1/system\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &text);
        assert_eq!(out, text.replace(&p, MARKER));
        assert_eq!(marks, vec![pattern(Stream::Stdout, URL_RULE, 1)]);
        assert!(scan(out.as_bytes()).is_empty());
    }

    #[test]
    fn token_formats_go_wherever_they_appear() {
        let fernet = format!("gAAAAAB{}", fake(B64URL, 176, 180));
        let doc = format!(
            "{{\n  \"expires\": \"2026-06-27T15:02:11+0000\",\n  \"id\": \"{fernet}\",\n  \"project_id\": \"0a1b2c3d4e5f\"\n}}\n"
        );
        let (out, marks) = redact_str(&mut Redactor::new(), Stream::Stdout, &doc);
        assert_eq!(out, doc.replace(&fernet, MARKER));
        assert_eq!(
            marks,
            vec![pattern(Stream::Stdout, "keystone-fernet-token", 1)]
        );
        // In YAML a whole plain scalar becomes the quoted marker, so it stays a string.
        let maas = format!(
            "{}:{}:{}",
            fake(B62, 18, 1),
            fake(B62, 18, 2),
            fake(B62, 32, 3)
        );
        let yaml = format!("id: {fernet}\nkey: {maas}\nnote: login with {maas} done\n");
        let (out, _) = redact_str(&mut Redactor::new(), Stream::Stdout, &yaml);
        assert_eq!(
            out,
            "id: \"[REDACTED]\"\nkey: \"[REDACTED]\"\nnote: login with [REDACTED] done\n"
        );
    }

    // -- known values, environment, Debug -------------------------------------------------

    #[test]
    fn from_env_takes_secret_names_and_refuses_short_values() {
        let env = [
            ("OS_PASSWORD", fake(B62, 12, 190)),
            ("OS_USERNAME", "admin-user".to_string()),
            ("VAULT_TOKEN", format!("hvs.{}", fake(B62, 24, 191))),
            ("BAO_TOKEN", "short".to_string()),
            ("MYSQL_ROOT_PASSWORD", fake(B62, 10, 192)),
            ("CLIENT_SECRET", fake(B62, 10, 193)),
            ("MAAS_API_KEY", fake(B62, 10, 194)),
            ("HOME", "/home/ubuntu".to_string()),
            ("OS_TOKEN", String::new()),
        ];
        let r = Redactor::from_env(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        assert_eq!(
            r.known_labels().collect::<Vec<_>>(),
            [
                "env OS_PASSWORD",
                "env VAULT_TOKEN",
                "env MYSQL_ROOT_PASSWORD",
                "env CLIENT_SECRET",
                "env MAAS_API_KEY"
            ]
        );
        assert_eq!(r.refused(), ["env BAO_TOKEN"]);
        let mut r = r;
        let text = format!("user admin-user at /home/ubuntu used {}\n", env[0].1);
        let (out, _) = redact_str(&mut r, Stream::Stderr, &text);
        assert_eq!(out, "user admin-user at /home/ubuntu used [REDACTED]\n");
    }

    #[test]
    fn add_known_refuses_short_values_and_keeps_the_first_label() {
        let mut r = Redactor::new();
        assert!(!r.add_known("stdin", b"12345"));
        assert!(!r.add_known("marker", b"REDACTED"));
        assert!(r.add_known("first", b"123456"));
        assert!(r.add_known("second", b"123456"));
        assert_eq!(r.known_labels().collect::<Vec<_>>(), ["first"]);
        assert_eq!(r.refused(), ["stdin", "marker"]);
        // Longest first: a known value inside a longer one does not split it.
        assert!(r.add_known("longer", b"123456789"));
        let (out, marks) = redact_str(&mut r, Stream::Stdout, "a 123456789 b 123456 c");
        assert_eq!(out, "a [REDACTED] b [REDACTED] c");
        assert_eq!(
            marks,
            vec![
                value(Stream::Stdout, "first", 1),
                value(Stream::Stdout, "longer", 1)
            ]
        );
    }

    #[test]
    fn debug_shows_labels_never_values() {
        let secret = fake(B62, 20, 200);
        let mut r = Redactor::new();
        r.add_known("env OS_PASSWORD", secret.as_bytes());
        r.redact(
            Stream::Stdout,
            format!("{{\"root_token\":\"{}\"}}", fake(B62, 20, 201)).as_bytes(),
        );
        let debug = format!("{r:?}");
        assert!(debug.contains("env OS_PASSWORD") && debug.contains("key root_token"));
        assert!(!debug.contains(&secret) && !debug.contains(&fake(B62, 20, 201)));
    }

    #[test]
    fn non_utf8_and_empty_output_pass_through() {
        let mut r = Redactor::new();
        assert!(r.add_known("stdin", b"\xff\xfeFakeSecret"));
        let out = r.redact(Stream::Stdout, b"\x00\x01 \xff\xfeFakeSecret \xc3");
        assert_eq!(out.bytes, b"\x00\x01 [REDACTED] \xc3");
        assert!(r.redact(Stream::Stdout, b"").bytes.is_empty());
    }

    #[test]
    fn nothing_reaches_across_the_quotes_of_a_json_document() {
        let doc = "{\"x\":\"token=\",\"y\":\"z'\",\"w\":\"password='\"}";
        let out = Redactor::new().redact(Stream::Stdout, doc.as_bytes());
        assert_eq!(String::from_utf8(out.bytes).unwrap(), doc);
        // A known value holding a `"` matches raw text, never JSON's own quotes.
        let (a, b) = (fake(B62, 8, 220), fake(B62, 8, 221));
        let across = format!("{a}\",\"y\":\"{b}");
        let mut r = Redactor::new();
        assert!(r.add_known("stdin of the command", across.as_bytes()));
        let doc = format!("{{\"x\":\"{a}\",\"y\":\"{b}\"}}");
        let (out, _) = redact_str(&mut r, Stream::Stdout, &doc);
        assert_eq!(out, doc);
        let (out, _) = redact_str(&mut r, Stream::Stdout, &format!("raw {across} text"));
        assert_eq!(out, "raw [REDACTED] text");
        let inside = format!("{{\"m\":{}}}", serde_json::to_string(&across).unwrap());
        let (out, _) = redact_str(&mut r, Stream::Stdout, &inside);
        assert_eq!(out, "{\"m\":\"[REDACTED]\"}");
    }

    // -- the scanner ----------------------------------------------------------------------

    /// (rule, true positives, false positives): each true positive must raise the rule;
    /// each false positive must raise no rule at all.
    fn scanner_cases() -> Vec<(&'static str, Vec<String>, Vec<String>)> {
        let b62 = |n, s| fake(B62, n, s);
        let maas = format!("{}:{}:{}", b62(18, 1), b62(18, 2), b62(32, 3));
        let cert_line = fake(B64, 64, 4);
        let pub_key_b64 = "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K"; // "-----BEGIN PUBLIC KEY-----\n"
        vec![
            (
                "vault-token",
                vec![
                    format!("hvs.{}", b62(24, 10)),
                    format!("{{\"root_token\": \"hvs.{}\"}}", b62(24, 11)),
                    format!("token hvb.{}", fake(B64URL, 120, 12)),
                    format!("hvr.{}\n", b62(24, 13)),
                ],
                vec![
                    "hvs.xxxxxxxxxxxxxxxxxxxxxxxx".into(),
                    format!("hvs.{}", b62(10, 14)),
                    format!("thvs.{}", b62(24, 15)),
                    "{\"root_token\": \"[REDACTED]\"}".into(),
                ],
            ),
            (
                "vault-legacy-token",
                vec![
                    format!("Initial Root Token: s.{}", b62(24, 20)),
                    format!("{{\"client_token\":\"s.{}\"}}", b62(24, 21)),
                    format!("b.{}", fake(B64URL, 100, 22)),
                    format!("r.{}", b62(24, 23)),
                    format!("s.{}.ab1Cd", b62(24, 24)),
                ],
                vec![
                    format!("os.{}", b62(30, 25)),
                    "s.maas".into(),
                    "s.abcdefghijklmnopqrstuvwxyz0123".into(),
                    "juju.worker.uniter.operation_executor_component".into(),
                    "Initial Root Token: [REDACTED]".into(),
                ],
            ),
            (
                "vault-unseal-share-b64",
                vec![
                    format!("Unseal Key 1: {}", fake(B64, 44, 30)),
                    format!("{{\"keys_base64\":[\"{}\"]}}", fake(B64, 44, 31)),
                    fake(B64, 44, 32),
                ],
                vec![
                    format!("sha256 {SHA256_B64}"),
                    format!("integrity sha256-{SHA256_B64}"),
                    "model-uuid: 3f1c2a8e-5d4b-4c7a-9e2f-1b0d6a7c8e9f".into(),
                    "system_id: x7yk3p".into(),
                    "/snap/maas/current/lib/python3/dist/maasserv".into(),
                    format!("{}{}", fake(B64, 44, 33), "=="),
                    format!(
                        "{cert_line}\n{}\n-----END CERTIFICATE-----",
                        fake(B64, 44, 34)
                    ),
                    format!("\"{cert_line}\\n{}\\n\"", fake(B64, 44, 35)),
                    format!(
                        "    ca-cert: |\n      -----BEGIN CERTIFICATE-----\n      {cert_line}\n      {}\n      -----END CERTIFICATE-----\n",
                        fake(B64, 44, 36)
                    ),
                    "Unseal Key 1: [REDACTED]".into(),
                ],
            ),
            (
                "vault-unseal-share-hex",
                vec![
                    format!("{{\"keys\":[\"{}\"]}}", fake(HEX, 66, 40)),
                    format!("share {}\n", fake(HEX, 66, 41)),
                ],
                vec![
                    format!("sha256sum {SHA256_HEX}  image.qcow2"),
                    format!("sha512 {SHA256_HEX}{SHA256_HEX}"),
                    format!("{}g", fake(HEX, 66, 42)),
                    "id 3f1c2a8e-5d4b-4c7a-9e2f-1b0d6a7c8e9f".into(),
                ],
            ),
            (
                "pem-private-key",
                vec![
                    "-----BEGIN RSA PRIVATE KEY-----".into(),
                    "-----BEGIN PRIVATE KEY-----".into(),
                    "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
                    "-----BEGIN EC PRIVATE KEY-----".into(),
                    "{\"output\":\"-----BEGIN ENCRYPTED PRIVATE KEY-----\\nFAKE\"}".into(),
                ],
                vec![
                    "-----BEGIN CERTIFICATE-----\nFAKE\n-----END CERTIFICATE-----".into(),
                    "-----BEGIN PUBLIC KEY-----".into(),
                    "-----BEGIN CERTIFICATE REQUEST-----".into(),
                    "the CA private key is set".into(),
                ],
            ),
            (
                "pem-private-key-base64",
                vec![
                    format!("value: {FAKE_KEY_B64}"),
                    format!("\"ssl_key\": \"{FAKE_PKCS8_B64}\""),
                ],
                vec![format!("value: {FAKE_CERT_B64}"), pub_key_b64.into()],
            ),
            (
                "url-credentials",
                vec![
                    format!("rabbit://openstack:{}@10.0.0.5:5672/openstack", b62(16, 50)),
                    format!(
                        "connection = mysql+pymysql://keystone:{}@10.0.0.6/keystone",
                        b62(16, 51)
                    ),
                    format!("https://admin:{}@maas.example:5240/MAAS", b62(16, 52)),
                ],
                vec![
                    "http://10.0.0.5:5240/MAAS/".into(),
                    "qemu+ssh://ubuntu@10.12.64.1/system".into(),
                    "rabbit://openstack:[REDACTED]@10.0.0.5:5672/".into(),
                    "https://user:****@host/".into(),
                    "postgres://u:${DB_PASS}@db/app".into(),
                ],
            ),
            (
                "keystone-fernet-token",
                vec![
                    format!("gAAAAAB{}", fake(B64URL, 176, 60)),
                    format!("{{\"id\": \"gAAAAAB{}\"}}", fake(B64URL, 120, 61)),
                ],
                vec![
                    format!("gAAAAAB{}", b62(20, 62)),
                    format!("xgAAAAAB{}", fake(B64URL, 100, 63)),
                ],
            ),
            (
                "maas-api-key",
                vec![
                    maas.clone(),
                    format!("maas login admin http://10.0.0.2:5240/MAAS/api/2.0/ {maas}\n"),
                ],
                vec![
                    "inet6 fe80::5054:ff:fe7d:7141/64".into(),
                    "mac 52:54:00:7d:71:41".into(),
                    format!("{}:{}:{}", b62(18, 70), b62(18, 71), b62(31, 72)),
                    format!("{maas}:{}", b62(4, 73)),
                ],
            ),
        ]
    }

    #[test]
    fn every_rule_fires_on_its_true_positives_and_nothing_fires_on_the_false_ones() {
        let cases = scanner_cases();
        for rule in RULES.iter() {
            let (_, tp, fp) = cases
                .iter()
                .find(|(id, _, _)| *id == rule.id)
                .unwrap_or_else(|| panic!("no cases for {}", rule.id));
            assert!(!tp.is_empty() && !fp.is_empty(), "{}", rule.id);
            for (i, text) in tp.iter().enumerate() {
                assert!(rules_hit(text).contains(&rule.id), "{} TP {i}", rule.id);
            }
            for (i, text) in fp.iter().enumerate() {
                assert_eq!(rules_hit(text), Vec::<&str>::new(), "{} FP {i}", rule.id);
            }
        }
    }

    #[test]
    fn every_true_positive_is_redacted_away() {
        // What the scanner finds in a text, redaction of that text (where a pattern or a
        // key covers it) leaves nothing of; shares are covered by key or init line only.
        for (rule, tp, _) in scanner_cases() {
            if rule.starts_with("vault-unseal-share") {
                continue;
            }
            for text in tp {
                let out = Redactor::new().redact(Stream::Stdout, text.as_bytes());
                assert_eq!(scan(&out.bytes), vec![], "{rule}: {text}");
            }
        }
    }

    #[test]
    fn findings_name_the_rule_and_line_never_the_text() {
        let token = format!("hvs.{}", fake(B62, 24, 210));
        let text = format!("line one\nline two {token}\n-----BEGIN PRIVATE KEY-----\n");
        assert_eq!(
            scan(text.as_bytes()),
            vec![
                Finding {
                    rule: "vault-token",
                    line: 2
                },
                Finding {
                    rule: "pem-private-key",
                    line: 3
                }
            ]
        );
        assert!(!format!("{:?}", scan(text.as_bytes())).contains(&token));
    }

    #[test]
    fn markers_never_match_a_rule() {
        for text in [
            MARKER.to_string(),
            QUOTED_MARKER.to_string(),
            format!("Unseal Key 1: {MARKER}\nInitial Root Token: {MARKER}\n"),
            format!("{{\"root_token\":{QUOTED_MARKER},\"unseal_keys_b64\":[{QUOTED_MARKER}]}}"),
            format!("rabbit://openstack:{MARKER}@10.0.0.5:5672/"),
            format!("export OS_PASSWORD='{MARKER}'\n| secret | {MARKER} |\n"),
            format!("s.{MARKER} hvs.{MARKER} gAAAAAB{MARKER}"),
            MARKER.repeat(20),
        ] {
            assert_eq!(scan(text.as_bytes()), vec![], "{text}");
        }
    }

    #[test]
    fn rules_have_unique_ids_and_descriptions() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(RULES.iter().all(|r| !r.description.is_empty()));
        for id in TOKEN_RULES {
            assert!(ids.contains(&id));
        }
    }

    #[test]
    fn secret_key_names() {
        for name in [
            "password",
            "OS_PASSWORD",
            "admin-password",
            "admin_passwd",
            "power_pass",
            "secret",
            "num-secrets",
            "root_token",
            "private_key",
            "lb-mgmt-issuing-ca-private-key",
            "api_key",
            "keys",
            "keys_base64",
            "unseal_keys_b64",
            "unseal_keys_hex",
            "recovery_keys_b64",
            "recovery_keys_hex",
            "lb-mgmt-issuing-ca-key-passphrase",
            "maas-oauth",
            "ssl_key",
        ] {
            assert!(is_secret_key(name), "{name}");
        }
        for name in [
            "description",
            "value",
            "power_address",
            "power_user",
            "unseal_shares",
            "key",
            "ssh_keys_list",
            "lb-mgmt-controller-cert",
            "status",
        ] {
            assert!(!is_secret_key(name), "{name}");
        }
    }

    // -- properties -----------------------------------------------------------------------

    /// A model of pass 1 over a serde value, written independently of the walker.
    fn model(
        value: &serde_json::Value,
        key: Option<&str>,
        secret: bool,
        power: bool,
    ) -> serde_json::Value {
        use serde_json::Value as V;
        match value {
            V::Object(map) if power && !map.is_empty() => V::String(MARKER.into()),
            V::String(s) if (secret || power) && !s.is_empty() => V::String(MARKER.into()),
            V::Object(map) => V::Object(
                map.iter()
                    .map(|(k, v)| {
                        let power = squash(k) == "powerparameters";
                        let secret = !power
                            && (is_secret_key(k)
                                || (squash(k) == "value" && key.is_some_and(is_secret_key)));
                        (k.clone(), model(v, Some(k), secret, power))
                    })
                    .collect(),
            ),
            V::Array(items) => {
                V::Array(items.iter().map(|v| model(v, key, secret, power)).collect())
            }
            other => other.clone(),
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let keys = prop::sample::select(vec![
            "name",
            "password",
            "token_ttl",
            "value",
            "settings",
            "power_parameters",
            "description",
            "secret-backends",
            "status",
            "unseal_keys_b64",
            "admin-password",
            "id",
        ]);
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i32>().prop_map(serde_json::Value::from),
            "[a-z <>&\"\\\\\u{e9}]{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|entries| {
                    serde_json::Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    fn serialize(value: &serde_json::Value, indent: Option<&[u8]>) -> Vec<u8> {
        use serde::Serialize;
        match indent {
            None => serde_json::to_vec(value).unwrap(),
            Some(indent) => {
                let mut out = Vec::new();
                let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
                let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
                value.serialize(&mut ser).unwrap();
                out
            }
        }
    }

    proptest! {
        #[test]
        fn json_redaction_edits_only_secret_values(value in json_value(), style in 0..3usize) {
            prop_assume!(value.is_object() || value.is_array());
            let indent: Option<&[u8]> = [None, Some(&b"  "[..]), Some(&b"    "[..])][style];
            let doc = serialize(&value, indent);
            let out = Redactor::new().redact(Stream::Stdout, &doc);
            let expected = serialize(&model(&value, None, false, false), indent);
            prop_assert_eq!(String::from_utf8(out.bytes).unwrap(), String::from_utf8(expected).unwrap());
        }

        #[test]
        fn a_json_document_stays_json(
            value in json_value(),
            texts in prop::collection::vec("(token|password|export |OS_PASSWORD|=|'|\"|\\\\|\\n|://u:|@h| |x1Y2z3)*", 1..6),
            known in "[ -~]{6,12}",
            pretty in any::<bool>(),
        ) {
            let mut value = value;
            if let serde_json::Value::Object(map) = &mut value {
                for (i, text) in texts.into_iter().enumerate() {
                    map.insert(format!("t{i}"), serde_json::Value::String(text));
                }
            }
            prop_assume!(value.is_object() || value.is_array());
            let doc = serialize(&value, pretty.then_some(&b"  "[..]));
            let mut r = Redactor::new();
            r.add_known("stdin of the command", known.as_bytes());
            let out = r.redact(Stream::Stdout, &doc);
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&out.bytes).is_ok(), "{}", String::from_utf8_lossy(&out.bytes));
        }

        #[test]
        fn a_known_value_never_survives(
            secret in "[A-Za-z0-9]{6,24}",
            parts in prop::collection::vec("[ -~\n]{0,30}", 1..5),
        ) {
            let mut r = Redactor::new();
            prop_assert!(r.add_known("stdin of the command", secret.as_bytes()));
            let text = parts.join(&secret);
            let out = r.redact(Stream::Stderr, text.as_bytes());
            prop_assert!(!contains(&out.bytes, secret.as_bytes()));
        }

        #[test]
        fn redaction_never_grows_a_finding(text in "[ -~\n]{0,200}") {
            let out = Redactor::new().redact(Stream::Stdout, text.as_bytes());
            prop_assert!(scan(&out.bytes).len() <= scan(text.as_bytes()).len());
        }
    }

    #[test]
    fn endpoint_names_are_not_secret_names() {
        let mut r = Redactor::new();
        let status = br#"{"applications":{"vault":{"endpoint-bindings":{"":"metal-admin","secrets":"metal-admin"},"relations":{"secrets":[{"related-application":"barbican-vault","interface":"vault-kv","scope":"global"}]}}}}"#;
        let out = r.redact(Stream::Stdout, status);
        assert_eq!(out.bytes, status.to_vec());
        assert!(out.marks.is_empty());
        let bundle = b"applications:\n  barbican-vault:\n    bindings:\n      secrets: metal-admin\n      secrets-storage: storage\n";
        let out = r.redact(Stream::Stdout, bundle);
        assert_eq!(out.bytes, bundle.to_vec());
    }
}
