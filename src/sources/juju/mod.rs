//! Juju sources: `juju status`, `juju whoami`, `juju models`, all `--format=json`.
//!
//! Models follow juju 3.x `cmd/juju/status/formatted.go` (../shared/SCHEMAS.md section
//! 1): Go `omitempty` drops `leader` when false and `subordinates` / `containers` when
//! empty, but never drops a struct, so every unit prints `workload-status` and
//! `juju-status`. Any entity may be replaced by `{"status-error": "..."}`.

mod status;

pub use status::*;

use serde::Deserialize;

use super::{SourceError, parse_json};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// `juju status -m <model> --format=json`
pub fn status_invocation(model: &str) -> Invocation {
    Invocation::new(["juju", "status", "-m", model, "--format=json"])
}

/// `juju whoami --format=json`
pub fn whoami_invocation() -> Invocation {
    Invocation::new(["juju", "whoami", "--format=json"])
}

/// `juju models --format=json`
pub fn models_invocation() -> Invocation {
    Invocation::new(["juju", "models", "--format=json"])
}

/// Every key path a phase-02/03 gate reads from juju output; the schema-drift check
/// walks this list against new recordings.
pub const GATE_KEY_PATHS: &[&str] = &[
    "whoami: user",
    "whoami: controller",
    "whoami: model",
    "status: machines.<id>.juju-status.current",
    "status: machines.<id>.containers.<id>.juju-status.current",
    "status: applications.<app>.units.<unit>.workload-status.current",
    "status: applications.<app>.units.<unit>.workload-status.message",
    "status: applications.<app>.units.<unit>.juju-status.current",
    "status: applications.<app>.units.<unit>.subordinates.<unit>.workload-status.current",
    "status: applications.<app>.units.<unit>.subordinates.<unit>.juju-status.current",
];

/// `juju whoami --format=json` (juju/juju cmd/juju/user/whoami.go).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Whoami {
    pub controller: String,
    /// Owner-qualified (`admin/openstack`) unless the current user owns the model.
    pub model: Option<String>,
    pub user: String,
}

impl Whoami {
    /// The model's short name, without the `owner/` qualifier.
    pub fn model_short_name(&self) -> Option<&str> {
        self.model
            .as_deref()
            .map(|m| m.rsplit_once('/').map_or(m, |(_, short)| short))
    }
}

/// `juju models --format=json`.
#[derive(Debug, Clone, Deserialize)]
pub struct JujuModels {
    pub models: Vec<ModelSummary>,
    #[serde(rename = "current-model")]
    pub current_model: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelSummary {
    /// Owner-qualified name, `admin/openstack`.
    pub name: String,
    #[serde(rename = "short-name")]
    pub short_name: Option<String>,
    #[serde(rename = "model-uuid")]
    pub model_uuid: Option<String>,
    #[serde(rename = "controller-name")]
    pub controller_name: Option<String>,
    pub life: Option<String>,
    pub status: Option<StatusInfo>,
}

impl JujuModels {
    /// The model with this short name, if listed.
    pub fn find(&self, short_name: &str) -> Option<&ModelSummary> {
        self.models.iter().find(|m| {
            m.short_name.as_deref() == Some(short_name)
                || m.name.rsplit_once('/').map_or(m.name.as_str(), |(_, s)| s) == short_name
        })
    }
}

/// Classifies a juju command that did not succeed, or printed nothing.
fn check_juju(output: &CommandOutput) -> Result<(), SourceError> {
    if output.success() {
        return Ok(());
    }
    let stderr = output.stderr_text();
    if login_expired(&stderr) {
        return Err(SourceError::LoginExpired {
            argv: display_argv(&output.argv),
            detail: super::excerpt(&stderr),
        });
    }
    Err(SourceError::exit(output))
}

/// Juju asks for a password on the terminal when its macaroon has expired; with stdin
/// closed the prompt ends in an error instead of a hang.
pub fn login_expired(stderr: &str) -> bool {
    let lower = stderr.to_ascii_lowercase();
    [
        "enter password",
        "please enter",
        "macaroon",
        "not logged in",
        "no credentials provided",
        "please login",
        "juju login",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

pub fn parse_status(output: &CommandOutput) -> Result<JujuStatus, SourceError> {
    check_juju(output)?;
    parse_json(output)
}

pub fn parse_models(output: &CommandOutput) -> Result<JujuModels, SourceError> {
    check_juju(output)?;
    parse_json(output)
}

/// Empty stdout with exit 0 means no current controller or session: juju writes the
/// reason on stderr (whoami.go), so this is NoSession, not a parse error.
pub fn parse_whoami(output: &CommandOutput) -> Result<Whoami, SourceError> {
    check_juju(output)?;
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        return Err(SourceError::NoSession {
            argv: display_argv(&output.argv),
        });
    }
    parse_json(output)
}
