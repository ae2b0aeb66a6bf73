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

/// Parses one whole JSON document ([`integrity::check_json`]) with the failing key path
/// in the error and no value of the output in the message.
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
    // A large document is walked for damage on a second thread while this one parses
    // it into the model: the two reads of one output side by side. Damage still wins:
    // the model's answer is used only when the walk found none.
    if bytes.len() >= PARALLEL_WALK_FROM {
        let text = integrity::check_text(bytes).map_err(damaged)?;
        let (walked, typed) = std::thread::scope(|s| {
            let walk = s.spawn(|| integrity::walk_json(text));
            let typed = parse_model::<T>(text, argv, !prefix.is_empty(), &join);
            let walked = walk.join().unwrap_or_else(|_| {
                Err(integrity::Damage::new(
                    "(top level)",
                    "the document could not be read",
                ))
            });
            (walked, typed)
        });
        walked.map_err(damaged)?;
        return typed;
    }
    let text = integrity::check_json(bytes).map_err(damaged)?;
    parse_model(text, argv, !prefix.is_empty(), &join)
}

/// A document at least this large (bytes) is walked and parsed on two threads.
const PARALLEL_WALK_FROM: usize = 1 << 20;

/// The typed parse of a document [`integrity::walk_json`] accepts (or is accepting).
/// `nested`: the document is inside another (`join` leads its key paths with where).
fn parse_model<T: serde::de::DeserializeOwned>(
    text: &str,
    argv: &str,
    nested: bool,
    join: &dyn Fn(String) -> String,
) -> Result<T, SourceError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parse_error = |e: serde_path_to_error::Error<serde_json::Error>| SourceError::Parse {
        argv: argv.to_string(),
        path: join(integrity::top_level(e.path().to_string())),
        message: integrity::sanitize_serde(&e.into_inner().to_string()),
    };
    if !IGNORED.with(|c| c.borrow().is_some()) {
        // Without path tracking (it costs on every value); a document the model
        // refuses is read again for the key path its error names.
        return T::deserialize(&mut de).or_else(|_| {
            let mut again = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut again).map_err(parse_error)
        });
    }
    let mut found = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| found.push(ignored_steps(&path));
    let result =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note))
            .map_err(parse_error);
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

    /// A document past the size walked on a second thread: `n` objects, one of them
    /// (the last) given `last` as its body.
    fn large(last: &str) -> Vec<u8> {
        let mut doc = String::from("[");
        while doc.len() < PARALLEL_WALK_FROM + 4096 {
            doc.push_str(r#"{"name":"unit","status":{"current":"active","message":""}},"#);
        }
        doc.push_str(last);
        doc.push(']');
        doc.into_bytes()
    }

    #[test]
    fn a_large_document_is_refused_for_damage_the_model_would_not_see() {
        let ok = large(r#"{"name":"last"}"#);
        let parsed: Vec<serde_json::Value> = parse_json_bytes(&ok, "big", "").unwrap();
        assert_eq!(parsed.last().unwrap()["name"], "last");
        for (damage, want) in [
            (large(r#"{"name":"a","name":"b"}"#), "duplicate key `name`"),
            (
                [large(r#"{"name":"last"}"#), b"\nERROR: reset\n".to_vec()].concat(),
                "data after the JSON document",
            ),
        ] {
            let err = parse_json_bytes::<Vec<serde_json::Value>>(&damage, "big", "").unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, SourceError::Damaged { .. }) && text.contains(want),
                "{text}"
            );
        }
    }
}
