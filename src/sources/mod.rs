//! One module per CLI. Each owns the exact argv it runs and a serde model of the
//! output: tolerant of keys no gate reads, and every key a gate reads is reached
//! through an accessor that names the key path when the key is missing (rule R2).

pub mod juju;
pub mod maas;
pub mod secret_files;
pub mod unit_exec;
pub mod vault;

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
