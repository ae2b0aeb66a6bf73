//! Juju sources: `juju status`, `juju whoami`, `juju models`, all `--format=json`.
//! `juju config` (config.rs) and `juju exec` (exec.rs) read charm options and run one
//! command on a unit.
//!
//! Models follow juju 3.x `cmd/juju/status/formatted.go` (docs/schemas/juju.md#status):
//! Go `omitempty` drops `leader` when false and `subordinates` / `containers` when
//! empty, but never drops a struct, so every unit prints `workload-status` and
//! `juju-status`. Any entity may be replaced by `{"status-error": "..."}`.

mod since;
mod status;

pub use since::humanised_age;
pub use status::keys as status_keys;
pub use status::*;

use std::collections::BTreeMap;
pub mod action;
mod config;
pub mod exec;

pub use config::*;
pub use exec::*;

use serde::Deserialize;

use super::keys::{Doc, KeyPath};
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

/// `juju model-defaults --format=json`: the controller's defaults for new models.
pub fn model_defaults_invocation() -> Invocation {
    Invocation::new(["juju", "model-defaults", "--format=json"])
}

/// `juju model-config -m <model> --format=json`: the model's effective config.
pub fn model_config_invocation(model: &str) -> Invocation {
    Invocation::new(["juju", "model-config", "-m", model, "--format=json"])
}

/// `juju spaces -m <model> --format=json`: spaces are per model (004: they cannot be
/// listed before add-model).
pub fn spaces_invocation(model: &str) -> Invocation {
    Invocation::new(["juju", "spaces", "-m", model, "--format=json"])
}

/// P02-A reads who is logged in, and the models list as a controller call.
const WHOAMI_READERS: &[&str] = &["P02-A"];
/// The default-space gate reads model-defaults and model-config.
const DEFAULT_SPACE_READERS: &[&str] = &["P01-DEFAULT-SPACE"];
const MODEL_SPACES_READERS: &[&str] = &["P01-MODEL-SPACES"];
/// Gates that parse `juju models` whole.
const MODELS_READERS: &[&str] = &[
    "P00-ROUTE",
    "P00-TEARDOWN",
    "P00-TEARDOWN-PLAN",
    "P01-BINDINGS",
    "P01-DEFAULT-SPACE",
    "P01-MODEL-SPACES",
    "P02-A",
];
/// Gates that read whether the model is destroying, and since when.
const MODEL_STATE_READERS: &[&str] = &["P00-ROUTE", "P00-TEARDOWN", "P02-A"];
use status::keys::DEPLOYED_STATUS_READERS as STATUS_READERS;

/// Every key path a gate reads from juju's JSON (docs/schemas/juju.md), as data: the
/// accessors raise [`MissingKey`](crate::sources::MissingKey) from these, and `fixtures
/// check` and `drift` walk them.
pub static KEYS: &[&KeyPath] = &[
    &KeyPath::required(Doc::JujuWhoami, "user", WHOAMI_READERS),
    &KeyPath::required(Doc::JujuWhoami, "controller", WHOAMI_READERS),
    // Omitted with no current model: the gate needs one, so it is PRECONDITION.
    &KeyPath::required(Doc::JujuWhoami, "model", WHOAMI_READERS),
    &KeyPath::required(Doc::JujuModels, "models", MODELS_READERS),
    &KeyPath::required(Doc::JujuModels, "models[].name", MODELS_READERS),
    // ModelInfo prints `life` always: without it a dying model would read as alive.
    &KeyPath::required(Doc::JujuModels, "models[].life", MODELS_READERS),
    &KeyPath::optional(Doc::JujuModels, "models[].status", MODEL_STATE_READERS),
    &KeyPath::optional(
        Doc::JujuModels,
        "models[].status.current",
        MODEL_STATE_READERS,
    ),
    // Humanised ("14 minutes ago"): how long a model has been destroying.
    &KeyPath::optional(Doc::JujuModels, "models[].status.since", &["P00-TEARDOWN"]),
    &MODEL_DEFAULTS_DEFAULT_SPACE,
    // Both omitempty interface values: the controller's value, else juju's default
    // (printed even when it is ""); neither is unset, and new models land on alpha.
    &KeyPath::optional(
        Doc::JujuModelDefaults,
        "default-space.controller",
        DEFAULT_SPACE_READERS,
    ),
    &KeyPath::optional(
        Doc::JujuModelDefaults,
        "default-space.default",
        DEFAULT_SPACE_READERS,
    ),
    &KeyPath::optional(
        Doc::JujuModelDefaults,
        "<key>.controller",
        DEFAULT_SPACE_READERS,
    ),
    &MODEL_CONFIG_DEFAULT_SPACE,
    &KeyPath::required(Doc::JujuModelConfig, "<key>.Source", DEFAULT_SPACE_READERS),
    &KeyPath::required(Doc::JujuModelConfig, "<key>.Value", DEFAULT_SPACE_READERS),
    &KeyPath::required(Doc::JujuSpaces, "spaces", MODEL_SPACES_READERS),
    &KeyPath::required(Doc::JujuSpaces, "spaces[].id", MODEL_SPACES_READERS),
    &KeyPath::required(Doc::JujuSpaces, "spaces[].name", MODEL_SPACES_READERS),
    &KeyPath::required(Doc::JujuSpaces, "spaces[].subnets", MODEL_SPACES_READERS),
    // juju status: the top level and what its parser requires of every entity.
    &KeyPath::required(Doc::JujuStatus, "applications", STATUS_READERS),
    &KeyPath::required(Doc::JujuStatus, "machines", STATUS_READERS),
    &KeyPath::required(Doc::JujuStatus, "model", STATUS_READERS),
    &KeyPath::required(Doc::JujuStatus, "model.cloud", STATUS_READERS),
    &KeyPath::required(Doc::JujuStatus, "model.controller", STATUS_READERS),
    &KeyPath::required(Doc::JujuStatus, "model.name", STATUS_READERS),
    &KeyPath::required(Doc::JujuStatus, "model.version", STATUS_READERS),
    &KeyPath::required(
        Doc::JujuStatus,
        "applications.<app>.base.channel",
        STATUS_READERS,
    ),
    &KeyPath::required(
        Doc::JujuStatus,
        "applications.<app>.base.name",
        STATUS_READERS,
    ),
    &KeyPath::required(
        Doc::JujuStatus,
        "applications.<app>.relations.<endpoint>[].related-application",
        STATUS_READERS,
    ),
    &KeyPath::required(
        Doc::JujuStatus,
        "machines.<id>.base.channel",
        STATUS_READERS,
    ),
    &KeyPath::required(Doc::JujuStatus, "machines.<id>.base.name", STATUS_READERS),
    &KeyPath::required(
        Doc::JujuStatus,
        "machines.<id>.containers.<id>.base.channel",
        STATUS_READERS,
    ),
    &KeyPath::required(
        Doc::JujuStatus,
        "machines.<id>.containers.<id>.base.name",
        STATUS_READERS,
    ),
    // The status structs and the maps juju omits when empty (status.rs).
    &status_keys::UNIT_WORKLOAD,
    &status_keys::UNIT_WORKLOAD_CURRENT,
    &status_keys::UNIT_AGENT,
    &status_keys::UNIT_AGENT_CURRENT,
    &status_keys::SUB_WORKLOAD,
    &status_keys::SUB_WORKLOAD_CURRENT,
    &status_keys::SUB_AGENT,
    &status_keys::SUB_AGENT_CURRENT,
    &status_keys::MACHINE_AGENT,
    &status_keys::MACHINE_AGENT_CURRENT,
    &status_keys::CONTAINER_AGENT,
    &status_keys::CONTAINER_AGENT_CURRENT,
    &status_keys::APP_UNITS,
    &status_keys::UNIT_SUBORDINATES,
    &status_keys::MACHINE,
    &status_keys::CONTAINER,
    &status_keys::ENDPOINT_BINDINGS,
    // Omitempty, read where present: messages, the leader flag, hostnames.
    &KeyPath::optional(
        Doc::JujuStatus,
        "applications.<app>.units.<unit>.workload-status.message",
        &[
            "P02-AUTHORIZED",
            "P02-C",
            "P02-D",
            "P02-E",
            "P03-ACCEPT",
            "P05-AMPHORA",
            "P05-POST",
            "P05-PRE",
        ],
    ),
    &KeyPath::optional(
        Doc::JujuStatus,
        "applications.<app>.units.<unit>.subordinates.<unit>.workload-status.message",
        &["P02-AUTHORIZED", "P02-E", "P03-ACCEPT"],
    ),
    &KeyPath::optional(
        Doc::JujuStatus,
        "applications.<app>.units.<unit>.subordinates.<unit>.juju-status.message",
        &["P02-E"],
    ),
    &KeyPath::optional(
        Doc::JujuStatus,
        "applications.<app>.units.<unit>.leader",
        &["P03-ACCEPT", "P05-PRE"],
    ),
    &KeyPath::optional(Doc::JujuStatus, "machines.<id>.hostname", &["P02-B"]),
    &KeyPath::optional(
        Doc::JujuStatus,
        "machines.<id>.juju-status.message",
        &["P02-B"],
    ),
];

/// `default-space` in `juju model-defaults`.
pub static MODEL_DEFAULTS_DEFAULT_SPACE: KeyPath = KeyPath::required(
    Doc::JujuModelDefaults,
    "default-space",
    DEFAULT_SPACE_READERS,
);
/// `default-space` in `juju model-config`.
pub static MODEL_CONFIG_DEFAULT_SPACE: KeyPath =
    KeyPath::required(Doc::JujuModelConfig, "default-space", DEFAULT_SPACE_READERS);

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
    /// juju's ModelInfo prints `life` always (no omitempty): without it a destroying
    /// model would read as alive, so it is required (R2).
    pub life: String,
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

/// `juju model-defaults --format=json` (juju environs/config AttributeDefaultValues):
/// per key `{"default"?, "controller"?, "regions"?}`, each omitempty.
pub type ModelDefaults = BTreeMap<String, DefaultValues>;

#[derive(Debug, Clone, Deserialize)]
pub struct DefaultValues {
    pub default: Option<serde_json::Value>,
    pub controller: Option<serde_json::Value>,
    #[serde(default)]
    pub regions: Vec<RegionDefault>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RegionDefault {
    pub name: String,
    pub value: serde_json::Value,
}

impl DefaultValues {
    /// What a new model inherits: the controller's value when set, else juju's default.
    pub fn effective(&self) -> Option<(&serde_json::Value, &'static str)> {
        self.controller
            .as_ref()
            .map(|v| (v, "controller"))
            .or_else(|| self.default.as_ref().map(|v| (v, "default")))
    }
}

/// `juju model-config --format=json`: per key a `config.ConfigValue`, a Go struct with
/// no JSON tags, so the keys print capitalised: `{"Value": any, "Source": "default" |
/// "controller" | "region" | "model"}` (juju environs/config/source.go).
pub type ModelConfig = BTreeMap<String, ConfigValue>;

#[derive(Debug, Clone, Deserialize)]
pub struct ConfigValue {
    #[serde(rename = "Value")]
    pub value: serde_json::Value,
    #[serde(rename = "Source")]
    pub source: String,
}

/// `juju spaces --format=json` (cmd/juju/space/list.go). `subnets` has no omitempty and
/// may print `null`.
#[derive(Debug, Clone, Deserialize)]
pub struct JujuSpaces {
    pub spaces: Vec<JujuSpace>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JujuSpace {
    pub id: String,
    pub name: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub subnets: BTreeMap<String, serde_json::Value>,
}

fn null_as_empty<'de, D>(de: D) -> Result<BTreeMap<String, serde_json::Value>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<BTreeMap<String, serde_json::Value>>::deserialize(de)?.unwrap_or_default())
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

pub fn parse_model_defaults(output: &CommandOutput) -> Result<ModelDefaults, SourceError> {
    check_juju(output)?;
    parse_json(output)
}

pub fn parse_model_config(output: &CommandOutput) -> Result<ModelConfig, SourceError> {
    check_juju(output)?;
    parse_json(output)
}

pub fn parse_spaces(output: &CommandOutput) -> Result<JujuSpaces, SourceError> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn output(argv: &[&str], exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        CommandOutput {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            exit_code: Some(exit),
            stdout: stdout.as_bytes().to_vec().into(),
            stderr: stderr.as_bytes().to_vec(),
            duration: Duration::ZERO,
        }
    }

    const STATUS_ARGV: &[&str] = &["juju", "status", "-m", "openstack", "--format=json"];

    fn status_doc(relations: &str, unit: &str) -> String {
        format!(
            concat!(
                r#"{{"model":{{"name":"openstack","type":"iaas","controller":"juju-controller","cloud":"maas","version":"3.6.8"}},"#,
                r#""machines":{{}},"applications":{{"keystone":{{"charm":"keystone","charm-origin":"charmhub","charm-name":"keystone","charm-rev":700,"exposed":false,"#,
                r#""relations":{relations},"units":{{"keystone/0":{unit}}}}}}}}}"#
            ),
            relations = relations,
            unit = unit
        )
    }

    const UNIT: &str = r#"{"workload-status":{"current":"active","message":"Unit is ready"},"juju-status":{"current":"idle","version":"3.6.8"},"leader":true,"machine":"0/lxd/1"}"#;

    #[test]
    fn relations_parse_as_names_and_as_objects() {
        // juju 2.9 / early 3.x print names; juju 3.6 prints objects (docs/schemas/juju.md#status).
        let names = status_doc(
            r#"{"identity-service":["glance","nova-cloud-controller"]}"#,
            UNIT,
        );
        let objects = status_doc(
            r#"{"identity-service":[{"related-application":"glance","interface":"keystone","scope":"global"}]}"#,
            UNIT,
        );
        for doc in [names, objects] {
            let status = parse_status(&output(STATUS_ARGV, 0, &doc, "")).unwrap();
            let rel =
                &status.applications["keystone"].relations.as_ref().unwrap()["identity-service"][0];
            assert_eq!(rel.related_application(), "glance");
        }
    }

    #[test]
    fn a_type_change_names_the_key_path_and_the_argv() {
        let doc = status_doc(r#"{"identity-service":[42]}"#, UNIT);
        let err = parse_status(&output(STATUS_ARGV, 0, &doc, ""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("applications.keystone.relations.identity-service"),
            "{err}"
        );
        assert!(
            err.contains("juju status -m openstack --format=json"),
            "{err}"
        );
    }

    #[test]
    fn a_unit_without_juju_status_is_a_missing_key_with_its_path() {
        // DOCFIX-044: a key the gate reads that is absent is never "zero errors".
        let unit =
            r#"{"workload-status":{"current":"active","message":"Unit is ready"},"machine":"0"}"#;
        let status = parse_status(&output(STATUS_ARGV, 0, &status_doc("{}", unit), "")).unwrap();
        let err = status.unit("keystone/0").unwrap().agent().unwrap_err();
        assert_eq!(
            err.path,
            "applications.keystone.units.keystone/0.juju-status"
        );
    }

    #[test]
    fn a_status_error_unit_reads_as_an_error() {
        let unit = r#"{"status-error":"cannot get status: unit not found"}"#;
        let status = parse_status(&output(STATUS_ARGV, 0, &status_doc("{}", unit), "")).unwrap();
        let workload = status.unit("keystone/0").unwrap().workload().unwrap();
        assert_eq!(
            workload,
            StatusRead::StatusError("cannot get status: unit not found")
        );
        assert_eq!(workload.current(), "error");
    }

    #[test]
    fn subordinates_carry_their_path_and_principal() {
        let unit = r#"{"workload-status":{"current":"active"},"juju-status":{"current":"idle"},"machine":"0","subordinates":{"keystone-hacluster/0":{"workload-status":{"current":"active","message":"Unit is ready and clustered"},"juju-status":{"current":"idle"}}}}"#;
        let status = parse_status(&output(STATUS_ARGV, 0, &status_doc("{}", unit), "")).unwrap();
        let sub = status.unit("keystone-hacluster/0").unwrap();
        assert_eq!(sub.principal, Some("keystone/0"));
        assert_eq!(sub.application(), "keystone-hacluster");
        assert_eq!(
            sub.path(),
            "applications.keystone.units.keystone/0.subordinates.keystone-hacluster/0"
        );
        assert_eq!(status.units().len(), 2);
    }

    #[test]
    fn an_expired_login_is_recognised_from_stderr() {
        let out = output(
            &["juju", "whoami", "--format=json"],
            1,
            "",
            "please enter password for jessea123 on juju-controller: \nERROR cannot log into controller \"juju-controller\": EOF\n",
        );
        assert!(matches!(
            parse_whoami(&out),
            Err(SourceError::LoginExpired { .. })
        ));
        let other = output(STATUS_ARGV, 1, "", "ERROR model \"openstack\" not found\n");
        assert!(matches!(
            parse_status(&other),
            Err(SourceError::Exit { .. })
        ));
    }

    #[test]
    fn whoami_without_a_session_is_no_session_not_a_parse_error() {
        let out = output(
            &["juju", "whoami", "--format=json"],
            0,
            "",
            "You are not logged in to a controller\n",
        );
        // juju prints the reason on stderr with exit 0 and empty stdout (whoami.go).
        assert!(matches!(
            parse_whoami(&out),
            Err(SourceError::NoSession { .. })
        ));
    }

    #[test]
    fn whoami_strips_the_owner_from_the_model() {
        let out = output(
            &["juju", "whoami", "--format=json"],
            0,
            r#"{"controller":"juju-controller","model":"admin/openstack","user":"jessea123"}"#,
            "",
        );
        assert_eq!(
            parse_whoami(&out).unwrap().model_short_name(),
            Some("openstack")
        );
    }
}
