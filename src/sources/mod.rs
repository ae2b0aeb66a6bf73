//! One module per CLI. Each owns the exact argv it runs and a serde model of the
//! output: tolerant of keys no gate reads, and every key a gate reads is reached
//! through an accessor that names the key path when the key is missing (rule R2).

pub mod bundle;
pub mod charms;
pub mod curl;
pub mod disk;
pub mod files;
pub mod haproxy;
pub mod integrity;
pub mod iproute;
pub mod juju;
pub mod keys;
pub mod maas;
pub mod openstack;
pub mod secret_files;
pub mod strict;
pub mod unit_exec;
pub mod vault;
pub mod virsh;

use std::fmt;

use crate::runner::{CommandOutput, RunError, display_argv};

/// Why a source produced no typed value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(
        "`{argv}` asked for a password and there is no terminal: the juju login has expired; run `juju login` on the jumphost and re-run ({detail})"
    )]
    LoginExpired { argv: String, detail: String },
    #[error(
        "`{argv}`: no MAAS CLI profile is logged in; run `maas login <profile> <url>` ({detail})"
    )]
    NotLoggedIn { argv: String, detail: String },
    #[error("`{argv}` printed nothing: no controller session (run `juju login`)")]
    NoSession { argv: String },
    /// A failure the source does not decide on; `reason` is classified, never the
    /// command's own words ([`integrity::stderr_reason`]).
    #[error("`{argv}` exited {code}: {reason}")]
    Exit {
        argv: String,
        code: String,
        reason: String,
    },
    /// The CLI said the file it was asked for does not exist, in its own words (R3): a
    /// finding the gate decides on, unlike any other failure.
    #[error("`{argv}`: {message}")]
    NotFound { argv: String, message: String },
    /// The CLI said the object is held by another process, in its own words (qemu-img
    /// on the disk of a running domain): a state the gate decides on.
    #[error("`{argv}`: busy: {message}")]
    Busy { argv: String, message: String },
    /// Output refused as a whole: not UTF-8, trailing data, a duplicate key, an exit
    /// status that disagrees with it, past a size or depth bound.
    #[error("`{argv}` printed damaged output: {damage}")]
    Damaged {
        argv: String,
        damage: integrity::Damage,
    },
    #[error("failed to parse `{argv}`: {message} at `{path}`")]
    Parse {
        argv: String,
        path: String,
        message: String,
    },
}

impl SourceError {
    /// A non-zero exit, with its stderr classified.
    pub fn exit(output: &CommandOutput) -> Self {
        SourceError::Exit {
            argv: display_argv(&output.argv),
            code: output
                .exit_code
                .map_or_else(|| "by signal".to_string(), |c| c.to_string()),
            reason: integrity::stderr_reason(&output.stderr),
        }
    }

    /// `cat` or `ls` of a missing path: exit non-zero with the OS's own words; any
    /// other failure is an [`SourceError::Exit`].
    pub fn not_found_or_exit(output: &CommandOutput) -> Self {
        const NO_SUCH_FILE: &str = "No such file or directory";
        if output.exit_code.is_some_and(|c| c != 0) && output.stderr_text().contains(NO_SUCH_FILE) {
            SourceError::NotFound {
                argv: display_argv(&output.argv),
                message: NO_SUCH_FILE.to_string(),
            }
        } else {
            SourceError::exit(output)
        }
    }

    /// Damaged output of an argv.
    pub fn damaged(output: &CommandOutput, damage: integrity::Damage) -> Self {
        SourceError::Damaged {
            argv: display_argv(&output.argv),
            damage,
        }
    }
}

/// A key a gate reads that the output does not hold: PRECONDITION, never "0 found".
/// Raised only from a declaration ([`keys::KeyPath::missing_at`]), so every key a gate
/// can find missing is one `fixtures check` and `drift` know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKey {
    /// Where, concretely: `applications.vault.units.vault/0.juju-status`.
    pub path: String,
    /// What was declared: the document and the pattern the path is an instance of.
    pub key: &'static keys::KeyPath,
}

impl MissingKey {
    fn declared(key: &'static keys::KeyPath, path: String) -> Self {
        Self { path, key }
    }
}

impl fmt::Display for MissingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing key `{}` (declared `{}`)", self.path, self.key)
    }
}

/// Parses one whole JSON document with the failing key path in the error and no value
/// of the output in the message. One pass reads the model and refuses what
/// [`integrity::check_json`] refuses ([`strict::Strict`]); only a refused document is
/// read again, to name why.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    output: &CommandOutput,
) -> Result<T, SourceError> {
    parse_json_bytes(&output.stdout, &display_argv(&output.argv), "")
}

/// The same for a document nested in another (`juju exec`'s `results.stdout`):
/// `prefix` leads every key path (`vault/0.results.stdout`).
pub fn parse_json_bytes<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    argv: &str,
    prefix: &str,
) -> Result<T, SourceError> {
    let join = |path: String| match (prefix.is_empty(), path.as_str()) {
        (true, _) => path,
        (false, "(top level)") => prefix.to_string(),
        (false, p) if p.starts_with('[') => format!("{prefix}{path}"),
        (false, _) => format!("{prefix}.{path}"),
    };
    let damaged = |mut damage: integrity::Damage| {
        damage.at = join(damage.at);
        SourceError::Damaged {
            argv: argv.to_string(),
            damage,
        }
    };
    let text = integrity::check_text(bytes).map_err(damaged)?;
    if let Ok(value) = parse_model::<T>(text, !prefix.is_empty()) {
        return Ok(value);
    }
    // Refused: damage anywhere in the document wins over what the model refused, and
    // the walk names where; then the model's refusal, read again for its key path.
    integrity::walk_json(text).map_err(damaged)?;
    let mut again = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut again) {
        Err(e) => Err(SourceError::Parse {
            argv: argv.to_string(),
            path: join(integrity::top_level(e.path().to_string())),
            message: integrity::sanitize_serde(&e.into_inner().to_string()),
        }),
        // The strict parse refused what neither the walk nor the model does: refused
        // all the same, never read as if whole.
        Ok(_) => Err(damaged(integrity::Damage::new(
            "(top level)",
            "the document could not be read",
        ))),
    }
}

/// The typed parse of a whole document in one pass: the model's keys and types, a
/// duplicate key in any object ([`strict::Strict`]), data after the document. Why it
/// failed is worked out again by the caller, only when it did.
/// `nested`: the document is inside another (`juju exec`'s `results.stdout`).
fn parse_model<T: serde::de::DeserializeOwned>(text: &str, nested: bool) -> Result<T, ()> {
    let mut de = serde_json::Deserializer::from_str(text);
    if !IGNORED.with(|c| c.borrow().is_some()) {
        let value = T::deserialize(strict::Strict::new(&mut de)).map_err(drop)?;
        return de.end().map(|()| value).map_err(drop);
    }
    let mut found = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| found.push(ignored_steps(&path));
    let result = T::deserialize(serde_ignored::Deserializer::new(
        strict::Strict::new(&mut de),
        &mut note,
    ))
    .map_err(drop)
    .and_then(|value| de.end().map(|()| value).map_err(drop));
    IGNORED.with(|c| {
        if let Some(all) = c.borrow_mut().as_mut() {
            all.extend(found.into_iter().map(|steps| IgnoredKey { nested, steps }));
        }
    });
    result
}

thread_local! {
    static IGNORED: std::cell::RefCell<Option<Vec<IgnoredKey>>> =
        const { std::cell::RefCell::new(None) };
}

/// A key a JSON document held that its model does not read, found while parsing
/// ([`serde_ignored`]): the notes of `stackgate fixtures check`, so a key upstream adds
/// surfaces as a reviewed change instead of passing unseen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredKey {
    /// Inside another document (`juju exec`'s `results.stdout`).
    pub nested: bool,
    pub steps: Vec<PathStep>,
}

/// One step of a concrete path: a key, or any element of an array.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathStep {
    Key(String),
    Index,
}

fn ignored_steps(path: &serde_ignored::Path<'_>) -> Vec<PathStep> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, .. } => {
            let mut steps = ignored_steps(parent);
            steps.push(PathStep::Index);
            steps
        }
        Path::Map { parent, key } => {
            let mut steps = ignored_steps(parent);
            steps.push(PathStep::Key(key.clone()));
            steps
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_steps(parent),
    }
}

/// Runs `f` (parses on this thread) and returns the keys its JSON parsers ignored.
pub fn collect_ignored<R>(f: impl FnOnce() -> R) -> (R, Vec<IgnoredKey>) {
    IGNORED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let result = f();
    let found = IGNORED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (result, found)
}

/// For a key the CLI always prints whose value may be null (MAAS's piston handlers
/// print every field of their tuple): serde takes a missing `Option` field for `None`,
/// which would read a renamed `gateway_ip` as "no gateway". With this the key must be
/// there, so its absence is a parse error naming the key path (rule R2).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer)
}

/// What a command said on stderr, classified for a message: never its words.
pub fn excerpt(text: &str) -> String {
    integrity::stderr_reason(text.as_bytes())
}

/// Whether the thing a read names exists, decided by the CLI's exit status and message
/// (rule R3: `virsh domstate` of an undefined domain exits 1 with "failed to get domain";
/// `stat` of a missing file exits 1 with "No such file or directory"), never by empty
/// output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence<T> {
    Present(T),
    /// The CLI said the thing does not exist; `message` is its own words.
    Absent {
        message: String,
    },
}

impl<T> Presence<T> {
    pub fn present(&self) -> Option<&T> {
        match self {
            Presence::Present(value) => Some(value),
            Presence::Absent { .. } => None,
        }
    }
}

/// What a command printed, as a unit test states it.
#[cfg(test)]
pub(crate) fn test_output(argv: &[&str], exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
    CommandOutput {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        exit_code: Some(exit),
        stdout: stdout.as_bytes().to_vec().into(),
        stderr: stderr.as_bytes().to_vec(),
        duration: std::time::Duration::ZERO,
    }
}

/// The same, from the invocation that ran.
#[cfg(test)]
pub(crate) fn test_invocation_output(
    invocation: crate::runner::Invocation,
    exit: i32,
    stdout: &str,
    stderr: &str,
) -> CommandOutput {
    let argv: Vec<&str> = invocation.argv().iter().map(String::as_str).collect();
    test_output(&argv, exit, stdout, stderr)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An array of `n` units and `last` after them: one parse over it all.
    fn units(n: usize, last: &str) -> Vec<u8> {
        let mut doc = String::from("[");
        for _ in 0..n {
            doc.push_str(r#"{"name":"unit","status":{"current":"active","message":""}},"#);
        }
        doc.push_str(last);
        doc.push(']');
        doc.into_bytes()
    }

    /// A model that reads each unit's name and nothing else: the status is ignored.
    #[derive(Debug, serde::Deserialize)]
    struct Named {
        name: String,
    }

    #[test]
    fn damage_the_model_would_not_see_is_refused_in_the_same_parse() {
        for n in [0, 3, 20_000] {
            let ok = units(n, r#"{"name":"last","status":{}}"#);
            let parsed: Vec<Named> = parse_json_bytes(&ok, "units", "").unwrap();
            assert_eq!(parsed.last().unwrap().name, "last");
            let parsed: Vec<serde_json::Value> = parse_json_bytes(&ok, "units", "").unwrap();
            assert_eq!(parsed.len(), n + 1);
            let wide: String = (0..80).map(|i| format!(r#""k{i}":{i},"#)).collect();
            for (damage, want) in [
                // In a value the model ignores; in a key the model reads (serde's
                // derive would call it a duplicate field, the walk names it first).
                (
                    units(n, r#"{"name":"a","status":{"since":1,"since":2}}"#),
                    "duplicate key `since`",
                ),
                (
                    units(n, r#"{"name":"a","name":"b"}"#),
                    "duplicate key `name`",
                ),
                // Past the keys compared as they arrive: sorted when the object ends.
                (
                    units(n, &format!(r#"{{"name":"a","status":{{{wide}"k3":0}}}}"#)),
                    "duplicate key `k3`",
                ),
                (
                    [units(n, r#"{"name":"last"}"#), b"\nERROR: reset\n".to_vec()].concat(),
                    "data after the JSON document",
                ),
            ] {
                for err in [
                    parse_json_bytes::<Vec<Named>>(&damage, "units", "").unwrap_err(),
                    parse_json_bytes::<Vec<serde_json::Value>>(&damage, "units", "").unwrap_err(),
                    parse_json_bytes::<serde::de::IgnoredAny>(&damage, "units", "").unwrap_err(),
                ] {
                    let text = err.to_string();
                    assert!(
                        matches!(err, SourceError::Damaged { .. }) && text.contains(want),
                        "{n} units: {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn what_the_model_refuses_names_its_key_path() {
        let doc = units(2, r#"{"name":7}"#);
        let err = parse_json_bytes::<Vec<Named>>(&doc, "units", "").unwrap_err();
        assert!(
            matches!(&err, SourceError::Parse { path, .. } if path == "[2].name"),
            "{err}"
        );
    }

    proptest::proptest! {
        /// Whatever an object's keys share (length, first, middle and last byte: what
        /// their bits are taken from), a key given twice is refused and distinct keys
        /// are not, before and past the keys compared as they arrive.
        #[test]
        fn a_key_twice_is_refused_wherever_it_falls(
            keys in proptest::collection::btree_set("[ab]{1,3}|k[0-9]{1,2}|[a-z_]{1,14}", 1..100),
            twice in proptest::option::of((0usize..100, 0usize..101)),
        ) {
            let mut keys: Vec<String> = keys.into_iter().collect();
            if let Some((which, at)) = twice {
                let again = keys[which % keys.len()].clone();
                keys.insert(at.min(keys.len()), again);
            }
            let body: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("\"{k}\":{i}")).collect();
            let doc = format!("[{{\"name\":\"u\",\"status\":{{{}}}}}]", body.join(","));
            let parsed = parse_json_bytes::<Vec<Named>>(doc.as_bytes(), "units", "");
            if twice.is_some() {
                proptest::prop_assert!(
                    matches!(&parsed, Err(SourceError::Damaged { damage, .. }) if damage.reason.contains("duplicate key")),
                    "{parsed:?}"
                );
            } else {
                proptest::prop_assert!(parsed.is_ok(), "{parsed:?}");
            }
        }
    }
}
