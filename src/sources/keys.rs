//! Every key path a gate reads, declared once per source as data (DOCFIX-044: the bash
//! gates read a key real `juju status` does not print and counted zero for weeks).
//!
//! A [`KeyPath`] names a document ([`Doc`], one per parser), a path pattern in it, whether
//! its absence is legal ([`Need`]), and the gates that read it. The accessors that raise
//! [`MissingKey`](super::MissingKey) take the declaration, so a missing key names both
//! where it was missing and what was declared; `stackgate fixtures check` walks the same
//! declarations over every recording, and `stackgate drift` maps a shape change to the
//! gates it affects. `tests/suite/key_paths.rs` proves that every key whose absence makes a
//! gate PRECONDITION is declared, and that every required declared key does.
//!
//! Pattern syntax (docs/schemas/README.md): segments joined by `.`; `<name>` is any key
//! of a map keyed by ids or names; `[]` after a segment (or alone, for a top-level
//! array) is any element of an array. For CSV (haproxy) a path is a column name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::Value;

/// One kind of document a gate reads: one per source parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Doc {
    JujuStatus,
    JujuWhoami,
    JujuModels,
    JujuModelDefaults,
    JujuModelConfig,
    JujuSpaces,
    JujuConfig,
    JujuConfigKey,
    /// The `juju exec --format=json` envelope around a command run on a unit.
    JujuExec,
    MaasMachines,
    MaasSpaces,
    MaasSubnets,
    MaasIpRanges,
    MaasTags,
    MaasVlans,
    MaasSubnetIps,
    MaasInterfaces,
    Bundle,
    TextFile,
    DirList,
    VirshList,
    VirshDomstate,
    VirshNetList,
    VirshDumpxml,
    QemuImgInfo,
    FileStat,
    OpenstackEndpoints,
    OpenstackNetwork,
    OpenstackSubnet,
    OpenstackSecurityGroup,
    OpenstackImages,
    OpenstackImage,
    IpAddr,
    HaproxyStat,
    HttpGet,
    VaultStatus,
    PathStat,
    FileLabels,
}

/// How a document is laid out, which decides how its key paths are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    /// haproxy's `show stat`: a path is a column of the header line.
    Csv,
    /// Text or XML a parser reads by line or element: checked by parsing only.
    Text,
}

impl Doc {
    pub const ALL: &'static [Doc] = &[
        Doc::JujuStatus,
        Doc::JujuWhoami,
        Doc::JujuModels,
        Doc::JujuModelDefaults,
        Doc::JujuModelConfig,
        Doc::JujuSpaces,
        Doc::JujuConfig,
        Doc::JujuConfigKey,
        Doc::JujuExec,
        Doc::MaasMachines,
        Doc::MaasSpaces,
        Doc::MaasSubnets,
        Doc::MaasIpRanges,
        Doc::MaasTags,
        Doc::MaasVlans,
        Doc::MaasSubnetIps,
        Doc::MaasInterfaces,
        Doc::Bundle,
        Doc::TextFile,
        Doc::DirList,
        Doc::VirshList,
        Doc::VirshDomstate,
        Doc::VirshNetList,
        Doc::VirshDumpxml,
        Doc::QemuImgInfo,
        Doc::FileStat,
        Doc::OpenstackEndpoints,
        Doc::OpenstackNetwork,
        Doc::OpenstackSubnet,
        Doc::OpenstackSecurityGroup,
        Doc::OpenstackImages,
        Doc::OpenstackImage,
        Doc::IpAddr,
        Doc::HaproxyStat,
        Doc::HttpGet,
        Doc::VaultStatus,
        Doc::PathStat,
        Doc::FileLabels,
    ];

    /// The name reports and `--source` use (`juju-status`).
    pub fn name(self) -> &'static str {
        match self {
            Doc::JujuStatus => "juju-status",
            Doc::JujuWhoami => "juju-whoami",
            Doc::JujuModels => "juju-models",
            Doc::JujuModelDefaults => "juju-model-defaults",
            Doc::JujuModelConfig => "juju-model-config",
            Doc::JujuSpaces => "juju-spaces",
            Doc::JujuConfig => "juju-config",
            Doc::JujuConfigKey => "juju-config-key",
            Doc::JujuExec => "juju-exec",
            Doc::MaasMachines => "maas-machines",
            Doc::MaasSpaces => "maas-spaces",
            Doc::MaasSubnets => "maas-subnets",
            Doc::MaasIpRanges => "maas-ipranges",
            Doc::MaasTags => "maas-tags",
            Doc::MaasVlans => "maas-vlans",
            Doc::MaasSubnetIps => "maas-subnet-ip-addresses",
            Doc::MaasInterfaces => "maas-interfaces",
            Doc::Bundle => "bundle",
            Doc::TextFile => "text-file",
            Doc::DirList => "dir-list",
            Doc::VirshList => "virsh-list",
            Doc::VirshDomstate => "virsh-domstate",
            Doc::VirshNetList => "virsh-net-list",
            Doc::VirshDumpxml => "virsh-dumpxml",
            Doc::QemuImgInfo => "qemu-img-info",
            Doc::FileStat => "file-stat",
            Doc::OpenstackEndpoints => "openstack-endpoint-list",
            Doc::OpenstackNetwork => "openstack-network-show",
            Doc::OpenstackSubnet => "openstack-subnet-show",
            Doc::OpenstackSecurityGroup => "openstack-security-group-show",
            Doc::OpenstackImages => "openstack-image-list",
            Doc::OpenstackImage => "openstack-image-show",
            Doc::IpAddr => "ip-addr",
            Doc::HaproxyStat => "haproxy-show-stat",
            Doc::HttpGet => "http-get",
            Doc::VaultStatus => "vault-status",
            Doc::PathStat => "path-stat",
            Doc::FileLabels => "file-labels",
        }
    }

    pub fn from_name(name: &str) -> Option<Doc> {
        Doc::ALL.iter().copied().find(|d| d.name() == name)
    }

    pub fn format(self) -> Format {
        match self {
            Doc::Bundle => Format::Yaml,
            Doc::HaproxyStat => Format::Csv,
            Doc::JujuConfigKey
            | Doc::TextFile
            | Doc::DirList
            | Doc::VirshList
            | Doc::VirshDomstate
            | Doc::VirshNetList
            | Doc::VirshDumpxml
            | Doc::FileStat
            | Doc::HttpGet
            | Doc::PathStat
            | Doc::FileLabels => Format::Text,
            _ => Format::Json,
        }
    }

    /// Whether the document is what a command printed on a unit, inside the `juju exec`
    /// envelope's `<unit>.results.stdout` (or the command's own stdout when it ran on
    /// the jumphost).
    pub fn may_be_wrapped(self) -> bool {
        matches!(
            self,
            Doc::IpAddr | Doc::HaproxyStat | Doc::VaultStatus | Doc::PathStat | Doc::FileLabels
        )
    }

    /// The maps keyed by ids or names, beyond those the declared paths show: where a
    /// shape folds every key into one (`stackgate drift`, the notes of `fixtures check`).
    pub fn wildcards(self) -> Vec<&'static str> {
        let extra: &[&str] = match self {
            Doc::JujuStatus => &[
                "machines.<id>",
                "machines.<id>.containers.<id>",
                "machines.<id>.network-interfaces.<nic>",
                "machines.<id>.containers.<id>.network-interfaces.<nic>",
                "machines.<id>.lxd-profiles.<profile>",
                "applications.<app>",
                "applications.<app>.units.<unit>",
                "applications.<app>.units.<unit>.subordinates.<unit>",
                "applications.<app>.relations.<endpoint>",
                "applications.<app>.endpoint-bindings.<endpoint>",
                "application-endpoints.<app>",
                "offers.<offer>",
                "storage.storage.<id>",
                "storage.filesystems.<id>",
                "storage.volumes.<id>",
            ],
            Doc::JujuModels => &["models[].users.<user>", "models[].machines.<id>"],
            Doc::JujuModelDefaults | Doc::JujuModelConfig => &["<key>"],
            Doc::JujuSpaces => &["spaces[].subnets.<cidr>"],
            Doc::JujuConfig => &["settings.<option>", "application-config.<option>"],
            Doc::JujuExec => &["<unit>"],
            Doc::Bundle => &[
                "applications.<app>",
                "applications.<app>.options.<option>",
                "applications.<app>.bindings.<endpoint>",
                "applications.<app>.resources.<resource>",
                "applications.<app>.storage.<store>",
                "applications.<app>.annotations.<key>",
                "machines.<id>",
            ],
            Doc::OpenstackImage => &["properties.<property>"],
            _ => &[],
        };
        let mut out: Vec<&'static str> = extra.to_vec();
        for key in declared(self) {
            let mut end = 0;
            while let Some(open) = key.path[end..].find('<') {
                let close = key.path[end + open..]
                    .find('>')
                    .map_or(key.path.len(), |c| end + open + c + 1);
                let prefix = &key.path[..close];
                if !out.contains(&prefix) {
                    out.push(prefix);
                }
                end = close;
            }
        }
        out
    }
}

impl fmt::Display for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a key's absence is legal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// The CLI always prints it where the gate looks: absent is PRECONDITION (R2).
    Required,
    /// The CLI omits it when empty (`omitempty`, `leader` when false): absent has a
    /// meaning the gate reads, never a count of zero without a second signal.
    Optional,
}

/// One key path a gate reads.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct KeyPath {
    pub doc: Doc,
    pub path: &'static str,
    pub need: Need,
    /// The gates that read it, by ID.
    pub gates: &'static [&'static str],
}

impl KeyPath {
    pub const fn required(doc: Doc, path: &'static str, gates: &'static [&'static str]) -> Self {
        KeyPath {
            doc,
            path,
            need: Need::Required,
            gates,
        }
    }

    pub const fn optional(doc: Doc, path: &'static str, gates: &'static [&'static str]) -> Self {
        KeyPath {
            doc,
            path,
            need: Need::Optional,
            gates,
        }
    }

    /// The key missing at one concrete place (`applications.vault.units.vault/0.juju-status`).
    pub fn missing_at(&'static self, path: impl Into<String>) -> super::MissingKey {
        super::MissingKey::declared(self, path.into())
    }

    /// The key missing where the concrete path is the pattern itself.
    pub fn missing(&'static self) -> super::MissingKey {
        self.missing_at(self.path)
    }

    /// The last segment: a column name, a setting's name.
    pub fn leaf(&self) -> &'static str {
        self.path.rsplit('.').next().unwrap_or(self.path)
    }

    /// Whether a concrete path, as a parser or an accessor names it
    /// (`[3].links[0].subnet.cidr`, `applications.vault.units.vault/0.juju-status`),
    /// is this pattern. A key under `<cidr>` or `<ip>` may hold dots; under any other
    /// wildcard (ids, unit and application names) it holds none.
    pub fn matches(&self, concrete: &str) -> bool {
        pattern_regex(self.path).is_match(concrete)
    }

    /// Whether a document holds this path at least once.
    pub fn present_in(&self, doc: &Value) -> bool {
        present(doc, &segments(self.path))
    }

    /// Whether a CSV header holds this column.
    pub fn present_in_columns(&self, columns: &[String]) -> bool {
        columns.iter().any(|c| c == self.path)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.doc, self.path)
    }
}

/// One step of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    /// `<name>`: any key of a map.
    Any,
    /// `[]`: any element of an array.
    Elems,
}

/// A pattern's steps: `subnets[].cidr` is `Key(subnets), Elems, Key(cidr)`.
pub fn segments(pattern: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    if pattern.is_empty() {
        return out;
    }
    for piece in pattern.split('.') {
        let mut name = piece;
        let mut elems = 0;
        while let Some(stripped) = name.strip_suffix("[]") {
            name = stripped;
            elems += 1;
        }
        if name.starts_with('<') && name.ends_with('>') {
            out.push(Seg::Any);
        } else if !name.is_empty() {
            out.push(Seg::Key(name.to_string()));
        }
        out.extend(std::iter::repeat_n(Seg::Elems, elems));
    }
    out
}

fn present(value: &Value, segs: &[Seg]) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return true;
    };
    match (first, value) {
        (Seg::Key(k), Value::Object(map)) => map.get(k).is_some_and(|v| present(v, rest)),
        (Seg::Any, Value::Object(map)) => map.values().any(|v| present(v, rest)),
        (Seg::Elems, Value::Array(items)) => items.iter().any(|v| present(v, rest)),
        _ => false,
    }
}

/// A pattern's regex. Each declaration's is compiled once per process, when the first
/// is asked for: [`find`] tries every declaration of a document against each concrete
/// path it is given, and compiling a regex costs more than matching it (the key-path
/// proof, `tests/suite/key_paths.rs`, spent a sixth of its time compiling the same 230
/// patterns again). A pattern no declaration has is compiled on the spot.
fn pattern_regex(pattern: &str) -> Cow<'static, regex::Regex> {
    static DECLARED: LazyLock<HashMap<&'static str, regex::Regex>> =
        LazyLock::new(|| all().map(|k| (k.path, compile_pattern(k.path))).collect());
    match DECLARED.get(pattern) {
        Some(re) => Cow::Borrowed(re),
        None => Cow::Owned(compile_pattern(pattern)),
    }
}

fn compile_pattern(pattern: &str) -> regex::Regex {
    let mut re = String::from("^");
    for (i, piece) in pattern.split('.').enumerate() {
        let mut name = piece;
        let mut elems = 0;
        while let Some(stripped) = name.strip_suffix("[]") {
            name = stripped;
            elems += 1;
        }
        if i > 0 && !name.is_empty() {
            re.push_str(r"\.");
        }
        if name.starts_with('<') && name.ends_with('>') {
            // Ids, unit and application names hold no dot; CIDRs and addresses do.
            re.push_str(if matches!(name, "<cidr>" | "<ip>") {
                r".+?"
            } else {
                r"[^.]+"
            });
        } else {
            re.push_str(&regex::escape(name));
        }
        for _ in 0..elems {
            re.push_str(r"\[\d*\]");
        }
    }
    re.push('$');
    regex::Regex::new(&re).expect("a key-path pattern compiles")
}

/// Every declaration, all sources.
pub fn all() -> impl Iterator<Item = &'static KeyPath> {
    use super::{bundle, disk, haproxy, iproute, juju, maas, openstack, vault};
    [
        bundle::KEYS,
        juju::KEYS,
        juju::CONFIG_KEYS,
        juju::EXEC_KEYS,
        maas::KEYS,
        openstack::KEYS,
        vault::KEYS,
        disk::KEYS,
        iproute::KEYS,
        haproxy::KEYS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// The declarations of one document.
pub fn declared(doc: Doc) -> impl Iterator<Item = &'static KeyPath> {
    all().filter(move |k| k.doc == doc)
}

/// The declaration a concrete path of a document is, if any.
pub fn find(doc: Doc, concrete: &str) -> Option<&'static KeyPath> {
    declared(doc).find(|k| k.matches(concrete))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: KeyPath = KeyPath::required(
        Doc::JujuStatus,
        "applications.<app>.units.<unit>.juju-status.current",
        &[],
    );
    const CIDR: KeyPath = KeyPath::required(Doc::MaasInterfaces, "[].links[].subnet.cidr", &[]);

    #[test]
    fn a_pattern_matches_concrete_paths_with_dots_under_wildcards() {
        assert!(UNIT.matches("applications.vault.units.vault/0.juju-status.current"));
        assert!(!UNIT.matches("applications.vault.units.vault/0.juju-status"));
        assert!(CIDR.matches("[3].links[0].subnet.cidr"));
        assert!(!CIDR.matches("[3].links[0].subnet"));
        let spaces = KeyPath::required(Doc::JujuSpaces, "spaces[].subnets.<cidr>", &[]);
        assert!(spaces.matches("spaces[2].subnets.10.12.0.0/24"));
    }

    #[test]
    fn presence_walks_maps_arrays_and_wildcards() {
        let doc: Value = serde_json::json!({"applications": {"vault": {"units": {"vault/0":
            {"juju-status": {"current": "idle"}}}}}});
        assert!(UNIT.present_in(&doc));
        let doc: Value = serde_json::json!({"applications": {"vault": {"units": {"vault/0":
            {"juju-status": {}}}}}});
        assert!(!UNIT.present_in(&doc));
        let list: Value =
            serde_json::json!([{"links": []}, {"links": [{"subnet": {"cidr": "x"}}]}]);
        assert!(CIDR.present_in(&list));
    }

    #[test]
    fn segments_read_brackets_and_wildcards() {
        assert_eq!(
            segments("[].links[].mode"),
            vec![
                Seg::Elems,
                Seg::Key("links".into()),
                Seg::Elems,
                Seg::Key("mode".into())
            ]
        );
        assert_eq!(
            segments("<unit>.status"),
            vec![Seg::Any, Seg::Key("status".into())]
        );
    }

    #[test]
    fn every_doc_has_a_unique_name_and_declarations_name_known_gates() {
        let mut names: Vec<&str> = Doc::ALL.iter().map(|d| d.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        for d in Doc::ALL {
            assert_eq!(Doc::from_name(d.name()), Some(*d));
        }
        let known: Vec<&str> = crate::gates::catalog().iter().map(|g| g.id).collect();
        for key in all() {
            assert!(!key.gates.is_empty(), "{key} names no gate");
            if key.doc.format() == Format::Csv {
                assert!(!key.path.contains('.'), "{key}: a CSV path is one column");
            }
            for g in key.gates {
                assert!(known.contains(g), "{key} names unknown gate {g}");
            }
        }
    }
}
