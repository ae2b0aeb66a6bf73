//! The deploy bundle and its overlays: `bundle.yaml` and e.g. `octavia-pki.yaml`, read
//! with `cat -- <path>` so a fixture world replays them like any CLI output.
//!
//! The model follows juju's bundle format (juju/charm `bundledata.go`: `applications`,
//! `machines`, `relations` as `[["app:endpoint", "app:endpoint"]]`, per application
//! `charm`, `num_units`, `to`, `options`, `bindings`, `resources`; docs/schemas/juju.md#export-bundle).
//! Bundle machine keys ("8".."11") are placeholders juju maps to real ids at deploy
//! (004: DOCFIX-043), so nothing here reads them as ids. Keys a gate does not read are
//! ignored; a file that is not a bundle (no `applications` map) is a parse error naming
//! the key path.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SourceError;
use super::integrity::{Damage, sanitize_serde};
use super::keys::{Doc, KeyPath};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// Every key path a gate reads from a bundle or an overlay (docs/schemas/juju.md#export-bundle).
/// Maps keyed by names (applications, options, bindings) are wildcards; the options the
/// gates read by name are declared by name.
pub static KEYS: &[&KeyPath] = &[
    &KeyPath::required(
        Doc::Bundle,
        "applications",
        &[
            "P00-BUNDLE",
            "P01-BINDINGS",
            "P01-OVERLAY",
            "P01-VIPS",
            "P03-ENDPOINTS",
        ],
    ),
    // A charm deployed with its defaults has no `options`, a subordinate no
    // `num_units`, an application without bindings none: each omitted, legally.
    &KeyPath::optional(
        Doc::Bundle,
        "applications.<app>.options",
        &["P00-BUNDLE", "P01-OVERLAY", "P01-VIPS", "P03-ENDPOINTS"],
    ),
    &KeyPath::optional(
        Doc::Bundle,
        "applications.<app>.options.vip",
        &["P00-BUNDLE", "P01-VIPS", "P03-ENDPOINTS"],
    ),
    &KeyPath::optional(
        Doc::Bundle,
        "applications.<app>.options.bridge-interface-mappings",
        &["P00-BUNDLE"],
    ),
    &KeyPath::optional(
        Doc::Bundle,
        "applications.<app>.options.use-policyd-override",
        &["P00-BUNDLE"],
    ),
    &KeyPath::optional(
        Doc::Bundle,
        "applications.<app>.bindings",
        &["P00-BUNDLE", "P01-BINDINGS"],
    ),
    &KeyPath::optional(Doc::Bundle, "applications.<app>.num_units", &["P00-BUNDLE"]),
    &KeyPath::optional(Doc::Bundle, "applications.<app>.resources", &["P00-BUNDLE"]),
    &KeyPath::optional(Doc::Bundle, "relations", &["P00-BUNDLE"]),
];

/// `cat -- <path>`: the file's bytes, as the jumphost holds them.
pub fn file_invocation(path: &str) -> Invocation {
    Invocation::new(["cat", "--", path])
}

/// A bundle or overlay document. Its top-level keys are juju's (juju/charm
/// `bundledata.go` `BundleData`); any other is refused, since juju would not deploy it
/// and a banner or stray text before or after the YAML parses as one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub applications: BTreeMap<String, Application>,
    #[serde(default)]
    pub relations: Vec<Vec<String>>,
    /// Offers consumed from other models: relation endpoints may name them.
    #[serde(default)]
    pub saas: BTreeMap<String, yaml_serde::Value>,
    #[serde(default)]
    pub machines: Option<yaml_serde::Value>,
    #[serde(default)]
    pub series: Option<yaml_serde::Value>,
    #[serde(default, rename = "default-base")]
    pub default_base: Option<yaml_serde::Value>,
    #[serde(default)]
    pub description: Option<yaml_serde::Value>,
    #[serde(default, rename = "type")]
    pub bundle_type: Option<yaml_serde::Value>,
    #[serde(default)]
    pub name: Option<yaml_serde::Value>,
    #[serde(default)]
    pub tags: Option<yaml_serde::Value>,
    /// YAML anchors the bundle's options refer to (the testcloud bundle keeps its VIPs
    /// and MACs here).
    #[serde(default)]
    pub variables: Option<yaml_serde::Value>,
}

/// The largest bundle file read: a generous bound on what `cat` hands the YAML parser.
pub const MAX_BUNDLE_BYTES: usize = 4 << 20;
/// The deepest flow nesting (`[`/`{`) read: the parser's time grows with the square of
/// it (100,000 levels once took 37 s), and no bundle nests past a handful.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Bounds checked before the YAML parser sees the bytes, and the POSIX text-file
/// shape (a last line cut short has no newline).
fn check_shape(bytes: &[u8]) -> Result<(), Damage> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Damage::new(
            "(file)",
            format!("larger than {MAX_BUNDLE_BYTES} bytes"),
        ));
    }
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        return Err(Damage::new(
            "(end of file)",
            "the last line has no newline (cut short?)",
        ));
    }
    // Every bracket counts, quoted or not: a quote-aware count can be blinded by an
    // apostrophe in a plain scalar, and no bundle quotes 64 open brackets.
    let mut depth = 0usize;
    for (n, b) in bytes.iter().enumerate() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(Damage::new(
                        format!("byte {n}"),
                        format!("flow nesting deeper than {MAX_FLOW_DEPTH}"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// One application of a bundle. In an overlay every key is optional. Its keys are
/// juju's `ApplicationSpec` (juju/charm bundledata.go, with `series` from before
/// `base`); any other is refused, so a renamed `options` or `bindings` is a parse
/// error naming it, never an application without options (R2).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub charm: Option<String>,
    pub num_units: Option<u64>,
    #[serde(default)]
    pub options: BTreeMap<String, yaml_serde::Value>,
    #[serde(default)]
    pub bindings: BTreeMap<String, String>,
    #[serde(default)]
    pub resources: BTreeMap<String, yaml_serde::Value>,
    /// Read by no gate; named so that only juju's keys are accepted.
    #[serde(flatten)]
    pub unread: ApplicationUnread,
}

/// The `ApplicationSpec` keys no gate reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "each key is named so that juju's keys are accepted and no other"
)]
pub struct ApplicationUnread {
    channel: Option<yaml_serde::Value>,
    revision: Option<yaml_serde::Value>,
    base: Option<yaml_serde::Value>,
    series: Option<yaml_serde::Value>,
    scale: Option<yaml_serde::Value>,
    to: Option<yaml_serde::Value>,
    placement: Option<yaml_serde::Value>,
    expose: Option<yaml_serde::Value>,
    #[serde(rename = "exposed-endpoints")]
    exposed_endpoints: Option<yaml_serde::Value>,
    annotations: Option<yaml_serde::Value>,
    constraints: Option<yaml_serde::Value>,
    storage: Option<yaml_serde::Value>,
    devices: Option<yaml_serde::Value>,
    offers: Option<yaml_serde::Value>,
    plan: Option<yaml_serde::Value>,
    trust: Option<yaml_serde::Value>,
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

    /// The address of its `vip` option (charm-helpers: space-separated, one per
    /// network) that lies in `cidr`.
    pub fn vip_in(&self, cidr: &ipnet::Ipv4Net) -> Option<std::net::Ipv4Addr> {
        self.option_text("vip")?
            .split_whitespace()
            .filter_map(|a| a.parse::<std::net::Ipv4Addr>().ok())
            .find(|a| cidr.contains(a))
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
        return Err(SourceError::not_found_or_exit(output));
    }
    let argv = display_argv(&output.argv);
    check_shape(&output.stdout).map_err(|d| SourceError::damaged(output, d))?;
    // A key given twice in any mapping is refused before the model reads it (the
    // model's maps would keep one of them silently).
    if let Err(e) = yaml_serde::from_slice::<yaml_serde::Value>(&output.stdout) {
        return Err(SourceError::Parse {
            argv,
            path: "(document)".into(),
            message: sanitize_serde(&e.to_string()),
        });
    }
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
            message: sanitize_serde(&e.into_inner().to_string()),
        }
    })?;
    // juju/charm bundledata.go `verifyRelations`: "relation %q has %d endpoint(s),
    // not 2". A pair that is not a pair is not a bundle juju deploys.
    if let Some(n) = bundle.relations.iter().position(|r| r.len() != 2) {
        return Err(SourceError::Parse {
            argv,
            path: format!("relations[{n}]"),
            message: format!(
                "a relation with {} endpoint(s), not 2",
                bundle.relations[n].len()
            ),
        });
    }
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
            stdout: text.to_vec().into(),
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
    fn duplicate_keys_unknown_top_level_keys_and_deep_nesting_are_refused() {
        let dup = b"applications:\n  a:\n    options:\n      k: 1\n      k: 2\n";
        assert!(parse_file(&cat("x.yaml", dup, 0)).is_err());
        let banner = b"WARNING: slow\napplications: {}\n";
        let err = parse_file(&cat("x.yaml", banner, 0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field"), "{err}");
        let mut deep = b"applications: {}\nx: ".to_vec();
        deep.extend(std::iter::repeat_n(b'[', 100_000));
        deep.push(b'\n');
        let started = std::time::Instant::now();
        let err = parse_file(&cat("x.yaml", &deep, 0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("flow nesting deeper than 64"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let cut = b"applications:\n  a:\n    charm: ke";
        assert!(
            parse_file(&cat("x.yaml", cut, 0))
                .unwrap_err()
                .to_string()
                .contains("no newline")
        );
    }

    #[test]
    fn an_application_key_juju_does_not_have_is_refused() {
        let ok = b"applications:\n  a:\n    charm: ch:a\n    channel: s\n    to: [\"0\"]\n    options: {k: 1}\n";
        assert!(parse_file(&cat("x.yaml", ok, 0)).is_ok());
        let renamed = b"applications:\n  a:\n    charm: ch:a\n    optionz: {k: 1}\n";
        let err = parse_file(&cat("x.yaml", renamed, 0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `optionz`"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_exit_error_not_an_empty_bundle() {
        let err = parse_file(&cat("nope.yaml", b"", 1)).unwrap_err();
        assert!(matches!(err, SourceError::NotFound { .. }), "{err}");
    }
}
