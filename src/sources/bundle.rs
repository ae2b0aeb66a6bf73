//! The deploy bundle and its overlays: `bundle.yaml` and e.g. `octavia-pki.yaml`, read
//! with `cat -- <path>` so a fixture world replays them like any CLI output.
//!
//! The model follows juju's bundle format (juju/charm `bundledata.go`: `applications`,
//! `machines`, `relations` as `[["app:endpoint", "app:endpoint"]]`, per application
//! `charm`, `num_units`, `to`, `options`, `bindings`, `resources`; ../shared/SCHEMAS.md
//! 1.8). Bundle machine keys ("8".."11") are placeholders juju maps to real ids at deploy
//! (004: DOCFIX-043), so nothing here reads them as ids. Keys a gate does not read are
//! ignored; a file that is not a bundle (no `applications` map) is a parse error naming
//! the key path.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SourceError;
use crate::runner::{CommandOutput, Invocation, display_argv};

/// `cat -- <path>`: the file's bytes, as the jumphost holds them.
pub fn file_invocation(path: &str) -> Invocation {
    Invocation::new(["cat", "--", path])
}

/// A bundle or overlay document.
#[derive(Debug, Clone, Deserialize)]
pub struct Bundle {
    pub applications: BTreeMap<String, Application>,
    #[serde(default)]
    pub relations: Vec<Vec<String>>,
    /// Offers consumed from other models: relation endpoints may name them.
    #[serde(default)]
    pub saas: BTreeMap<String, yaml_serde::Value>,
}

/// One application of a bundle. In an overlay every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Application {
    pub charm: Option<String>,
    pub num_units: Option<u64>,
    #[serde(default)]
    pub options: BTreeMap<String, yaml_serde::Value>,
    #[serde(default)]
    pub bindings: BTreeMap<String, String>,
    #[serde(default)]
    pub resources: BTreeMap<String, yaml_serde::Value>,
}

impl Application {
    /// An option as text: strings as written, numbers and booleans in YAML spelling.
    pub fn option_text(&self, key: &str) -> Option<String> {
        match self.options.get(key)? {
            yaml_serde::Value::String(s) => Some(s.clone()),
            yaml_serde::Value::Bool(b) => Some(b.to_string()),
            yaml_serde::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// A parsed bundle file with what the byte-level checks found (ASCII + LF is the
/// repository's convention, 004: the silent-UnicodeDecodeError class).
#[derive(Debug, Clone)]
pub struct BundleFile {
    pub path: String,
    pub bundle: Bundle,
    /// 1-based line numbers holding a byte outside ASCII.
    pub non_ascii_lines: Vec<usize>,
    /// 1-based line numbers ending in CR (a CRLF file).
    pub crlf_lines: Vec<usize>,
}

impl BundleFile {
    pub fn ascii_clean(&self) -> bool {
        self.non_ascii_lines.is_empty() && self.crlf_lines.is_empty()
    }
}

/// The relation endpoint's application: `keystone:shared-db` -> `keystone`.
pub fn endpoint_application(endpoint: &str) -> &str {
    endpoint.split_once(':').map_or(endpoint, |(app, _)| app)
}

/// Parses `cat -- <path>`: a missing file is an exit error naming the argv (the gate
/// reports it as PRECONDITION, never as an empty bundle).
pub fn parse_file(output: &CommandOutput) -> Result<BundleFile, SourceError> {
    if !output.success() {
        return Err(SourceError::exit(output));
    }
    let argv = display_argv(&output.argv);
    let de = yaml_serde::Deserializer::from_slice(&output.stdout);
    let bundle: Bundle = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        SourceError::Parse {
            argv: argv.clone(),
            path: if path.is_empty() || path == "." {
                "(top level)".into()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })?;
    let mut non_ascii_lines = Vec::new();
    let mut crlf_lines = Vec::new();
    for (n, line) in output.stdout.split(|b| *b == b'\n').enumerate() {
        if !line.is_ascii() {
            non_ascii_lines.push(n + 1);
        }
        if line.last() == Some(&b'\r') {
            crlf_lines.push(n + 1);
        }
    }
    Ok(BundleFile {
        path: output.argv.last().cloned().unwrap_or_default(),
        bundle,
        non_ascii_lines,
        crlf_lines,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cat(path: &str, text: &[u8], exit: i32) -> CommandOutput {
        CommandOutput {
            argv: vec!["cat".into(), "--".into(), path.into()],
            exit_code: Some(exit),
            stdout: text.to_vec(),
            stderr: if exit == 0 {
                vec![]
            } else {
                format!("cat: {path}: No such file or directory\n").into_bytes()
            },
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn a_bundle_parses_with_its_options_bindings_and_relations() {
        let text = b"series: jammy\napplications:\n  keystone:\n    charm: ch:keystone\n    num_units: 1\n    options:\n      vip: 10.12.4.50 10.12.8.50 10.12.12.50\n      use-policyd-override: true\n    bindings:\n      \"\": metal-internal\n      public: provider-public\n    resources:\n      policyd-override: ./policyd.zip\nrelations:\n- - keystone:shared-db\n  - keystone-mysql-router:shared-db\n";
        let f = parse_file(&cat("bundle.yaml", text, 0)).unwrap();
        let ks = &f.bundle.applications["keystone"];
        assert_eq!(
            ks.option_text("vip").as_deref(),
            Some("10.12.4.50 10.12.8.50 10.12.12.50")
        );
        assert_eq!(
            ks.option_text("use-policyd-override").as_deref(),
            Some("true")
        );
        assert_eq!(ks.bindings["public"], "provider-public");
        assert_eq!(
            endpoint_application(&f.bundle.relations[0][1]),
            "keystone-mysql-router"
        );
        assert!(f.ascii_clean());
    }

    #[test]
    fn non_ascii_and_crlf_lines_are_found_by_line() {
        let text =
            "applications:\r\n  octavia:\n    options:\n      lb-mgmt-controller-cert: \u{2014}\n";
        let f = parse_file(&cat("o.yaml", text.as_bytes(), 0)).unwrap();
        assert_eq!(f.crlf_lines, [1]);
        assert_eq!(f.non_ascii_lines, [4]);
    }

    #[test]
    fn a_file_without_applications_names_the_key() {
        let err = parse_file(&cat("x.yaml", b"machines: {}\n", 0)).unwrap_err();
        assert!(err.to_string().contains("applications"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_exit_error_not_an_empty_bundle() {
        let err = parse_file(&cat("nope.yaml", b"", 1)).unwrap_err();
        assert!(err.to_string().contains("exited 1: not found"), "{err}");
    }
}
