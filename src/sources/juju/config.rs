//! `juju config <app> --format=json` and `juju config <app> <key>`.
//!
//! Shape (juju/juju cmd/juju/application/config.go `getConfig`; values from the
//! apiserver's `describe`): `{"application", "application-config"?, "charm",
//! "settings": {<option>: {"default"?, "description", "source", "type", "value"?}}}`.
//! `source` is `user` when set to a non-default value, `default` when the charm default
//! applies (then `value` is the default), `unset` when there is neither (no `value`).
//! A charm revision without an option has no `settings.<option>` key: a gate reading it
//! reports PRECONDITION naming the path (R2), never a default.
//!
//! The one-key form prints the value alone and a newline (juju 3.x), nothing but the
//! newline when unset, and for an option the charm does not define exits 1 with
//! `key "<key>" not found in "<app>" application config or charm settings.` It reads one
//! value without pulling the rest of the application's settings (octavia's hold the
//! lb-mgmt CA private key and passphrase: R6).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::check_juju;
use crate::runner::{CommandOutput, Invocation};
use crate::sources::keys::{Doc, KeyPath};
use crate::sources::{MissingKey, Presence, SourceError, parse_json};

/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const JUJU_CONFIG_READERS: &[&str] = &["P05-CONFIG"];

/// Every option a gate reads from `juju config <app> --format=json`: the accessor
/// [`AppConfig::setting`] takes one of these, so a missing option names its declaration.
pub static CONFIG_KEYS: &[&KeyPath] = &[
    &RETROFIT_USE_INTERNAL_ENDPOINTS,
    &RETROFIT_IMAGE_FORMAT,
    &RETROFIT_AMP_IMAGE_TAG,
    &OCTAVIA_AMP_IMAGE_TAG,
    &KeyPath::required(Doc::JujuConfig, "application", JUJU_CONFIG_READERS),
    &KeyPath::required(Doc::JujuConfig, "charm", JUJU_CONFIG_READERS),
    &KeyPath::required(Doc::JujuConfig, "settings", JUJU_CONFIG_READERS),
    &KeyPath::optional(
        Doc::JujuConfig,
        "settings.<option>.value",
        JUJU_CONFIG_READERS,
    ),
];

/// octavia-diskimage-retrofit's `use-internal-endpoints` (D-056).
pub static RETROFIT_USE_INTERNAL_ENDPOINTS: KeyPath = KeyPath::required(
    Doc::JujuConfig,
    "settings.use-internal-endpoints",
    JUJU_CONFIG_READERS,
);
/// octavia-diskimage-retrofit's `image-format`.
pub static RETROFIT_IMAGE_FORMAT: KeyPath = KeyPath::required(
    Doc::JujuConfig,
    "settings.image-format",
    JUJU_CONFIG_READERS,
);
/// octavia-diskimage-retrofit's `amp-image-tag`.
pub static RETROFIT_AMP_IMAGE_TAG: KeyPath = KeyPath::required(
    Doc::JujuConfig,
    "settings.amp-image-tag",
    JUJU_CONFIG_READERS,
);
/// octavia's `amp-image-tag`, read alone with `juju config -m <model> octavia
/// amp-image-tag` (the value and a newline).
pub static OCTAVIA_AMP_IMAGE_TAG: KeyPath = KeyPath::required(
    Doc::JujuConfigKey,
    "settings.amp-image-tag",
    &["P05-AMPHORA", "P05-CONFIG"],
);

/// `juju config -m <model> <app> --format=json`
pub fn config_invocation(model: &str, application: &str) -> Invocation {
    Invocation::new(["juju", "config", "-m", model, application, "--format=json"])
}

/// `juju config -m <model> <app> <key>`
pub fn config_key_invocation(model: &str, application: &str, key: &str) -> Invocation {
    Invocation::new(["juju", "config", "-m", model, application, key])
}

/// `juju config <app> --format=json`.
#[derive(Debug, Clone, Deserialize)]
pub struct AppConfig {
    pub application: String,
    pub charm: String,
    pub settings: BTreeMap<String, Setting>,
}

/// One charm option.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Setting {
    /// Absent when the option is unset and has no default.
    pub value: Option<serde_json::Value>,
    pub default: Option<serde_json::Value>,
    pub source: Option<String>,
    #[serde(rename = "type")]
    pub option_type: Option<String>,
}

impl AppConfig {
    /// The option, or the key path that is missing (`settings.image-format`).
    pub fn setting(&self, key: &'static KeyPath) -> Result<&Setting, MissingKey> {
        self.settings.get(key.leaf()).ok_or_else(|| key.missing())
    }
}

impl Setting {
    /// The value as evidence shows it: strings bare, `(unset)` when there is none.
    pub fn shown(&self) -> String {
        match &self.value {
            None | Some(serde_json::Value::Null) => "(unset)".to_string(),
            Some(serde_json::Value::String(s)) if s.is_empty() => "\"\"".to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    }
}

pub fn parse_config(output: &CommandOutput) -> Result<AppConfig, SourceError> {
    check_juju(output)?;
    parse_json(output)
}

/// The one-key form: the value (without juju's newline), or [`Presence::Absent`] when the
/// charm does not define the option.
pub fn parse_config_value(
    output: &CommandOutput,
    application: &str,
    key: &str,
) -> Result<Presence<String>, SourceError> {
    if !output.success() {
        let stderr = output.stderr_text();
        if output.exit_code == Some(1)
            && stderr.contains(&format!("key \"{key}\" not found in \"{application}\""))
        {
            return Ok(Presence::Absent {
                message: format!("key \"{key}\" not found in \"{application}\""),
            });
        }
        check_juju(output)?;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(Presence::Present(
        text.strip_suffix('\n').unwrap_or(&text).to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_invocation_output as output;

    #[test]
    fn settings_read_by_key_and_a_missing_option_names_its_path() {
        let doc = r#"{"application":"octavia-diskimage-retrofit","charm":"octavia-diskimage-retrofit","settings":{"image-format":{"default":"qcow2","description":"Disk image format","source":"user","type":"string","value":"raw"},"retrofit-series":{"description":"series","source":"unset","type":"string"}}}
"#;
        let inv = config_invocation("openstack", "octavia-diskimage-retrofit");
        let cfg = parse_config(&output(inv, 0, doc, "")).unwrap();
        static SERIES: KeyPath =
            KeyPath::optional(Doc::JujuConfig, "settings.retrofit-series", &["P05-CONFIG"]);
        assert_eq!(cfg.setting(&RETROFIT_IMAGE_FORMAT).unwrap().shown(), "raw");
        assert_eq!(cfg.setting(&SERIES).unwrap().shown(), "(unset)");
        let missing = cfg.setting(&RETROFIT_USE_INTERNAL_ENDPOINTS).unwrap_err();
        assert_eq!(missing.path, "settings.use-internal-endpoints");
        assert!(std::ptr::eq(missing.key, &RETROFIT_USE_INTERNAL_ENDPOINTS));
    }

    #[test]
    fn one_key_values_and_undefined_options() {
        let inv = || config_key_invocation("openstack", "octavia", "amp-image-tag");
        let v = parse_config_value(
            &output(inv(), 0, "octavia-amphora\n", ""),
            "octavia",
            "amp-image-tag",
        );
        assert_eq!(v.unwrap(), Presence::Present("octavia-amphora".into()));
        let unset = parse_config_value(&output(inv(), 0, "\n", ""), "octavia", "amp-image-tag");
        assert_eq!(unset.unwrap(), Presence::Present(String::new()));
        let absent = parse_config_value(
            &output(
                inv(),
                1,
                "",
                "ERROR key \"amp-image-tag\" not found in \"octavia\" application config or charm settings.\n",
            ),
            "octavia",
            "amp-image-tag",
        );
        assert!(matches!(absent.unwrap(), Presence::Absent { .. }));
        let other = parse_config_value(
            &output(
                inv(),
                1,
                "",
                "ERROR application \"octavia\" not found (not found)\n",
            ),
            "octavia",
            "amp-image-tag",
        );
        assert!(other.is_err());
    }
}
