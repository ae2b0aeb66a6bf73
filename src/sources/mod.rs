//! One module per CLI. Each owns the exact argv it runs and a serde model of the
//! output: tolerant of keys no gate reads, and every key a gate reads is reached
//! through an accessor that names the key path when the key is missing (rule R2).

pub mod bundle;
pub mod charms;
pub mod curl;
pub mod disk;
pub mod files;
pub mod haproxy;
pub mod iproute;
pub mod juju;
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
    #[error("`{argv}` exited {code}: {stderr}")]
    Exit {
        argv: String,
        code: String,
        stderr: String,
    },
    #[error("failed to parse `{argv}`: {message} at `{path}`")]
    Parse {
        argv: String,
        path: String,
        message: String,
    },
}

impl SourceError {
    /// A non-zero exit, with the first lines of stderr.
    pub fn exit(output: &CommandOutput) -> Self {
        SourceError::Exit {
            argv: display_argv(&output.argv),
            code: output
                .exit_code
                .map_or_else(|| "by signal".to_string(), |c| c.to_string()),
            stderr: excerpt(&output.stderr_text()),
        }
    }
}

/// A key a gate reads that the output does not hold: PRECONDITION, never "0 found".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKey {
    pub path: String,
}

impl MissingKey {
    pub fn at(path: impl Into<String>) -> Self {
        Self { path: path.into() }
    }
}

impl fmt::Display for MissingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing key `{}`", self.path)
    }
}

/// Parses JSON with the failing key path in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    output: &CommandOutput,
) -> Result<T, SourceError> {
    let mut de = serde_json::Deserializer::from_slice(&output.stdout);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        SourceError::Parse {
            argv: display_argv(&output.argv),
            path: if path.is_empty() || path == "." {
                "(top level)".into()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}

/// The first three non-empty lines of a text, for messages.
pub fn excerpt(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    if lines.is_empty() {
        "(no stderr)".to_string()
    } else {
        lines.join(" | ")
    }
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
        stdout: stdout.as_bytes().to_vec(),
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
