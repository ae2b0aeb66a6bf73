//! Site profiles: what the cloud should look like (model name, mysql shape, vault unit,
//! allowlists, known findings). TOML, parsed in two stages: the raw file, then a
//! validated [`Profile`] with compiled patterns, before any command runs.

use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;

use regex::Regex;
use serde::Deserialize;

/// The embedded default: the testcloud profile.
pub const TESTCLOUD: &str = include_str!("../../profiles/testcloud.toml");

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid profile {source_name}: {message}")]
pub struct ProfileError {
    pub source_name: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    description: Option<String>,
    juju: RawJuju,
    phase02: RawPhase02,
    #[serde(default)]
    phase03: RawPhase03,
    #[serde(default)]
    known_findings: Vec<RawFinding>,
    maas: Option<MaasSite>,
    #[serde(default)]
    planes: Vec<RawPlane>,
    #[serde(default)]
    hosts: Vec<Host>,
    carve: Option<Carve>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlane {
    name: String,
    cidr: String,
    vid: u16,
    gateway: Option<String>,
    #[serde(default)]
    dns: Vec<String>,
    #[serde(default)]
    reserved: Vec<RawRange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: String,
    end: String,
    purpose: String,
}

/// The MAAS side of the site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaasSite {
    pub profile: String,
    pub host_tag: String,
    #[serde(default)]
    pub protected: Vec<String>,
    #[serde(default)]
    pub retired: Vec<String>,
    #[serde(default)]
    pub previous_system_ids: Vec<String>,
}

/// One network plane, identified by its CIDR (rule R1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plane {
    pub name: String,
    pub cidr: Ipv4Net,
    pub vid: u16,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub reserved: Vec<ReservedRange>,
}

impl Plane {
    /// The host's address on this plane: the network's third octet block plus `octet`.
    pub fn host_address(&self, octet: u8) -> Ipv4Addr {
        let base = u32::from(self.cidr.network());
        Ipv4Addr::from(base + u32::from(octet))
    }
}

/// A reserved IP range a plane must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedRange {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
    pub purpose: String,
}

/// A host of the cloud, by hostname (never by system_id: DOCFIX-040).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub hostname: String,
    pub octet: u8,
}

/// The Pattern A interface carve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carve {
    pub boot_nic: String,
    pub boot_plane: String,
    #[serde(default)]
    pub phase01_links: Vec<String>,
    pub links: Vec<CarveLink>,
    #[serde(default)]
    pub forbidden: Vec<String>,
}

/// Which interface carries the STATIC address on which plane.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarveLink {
    pub interface: String,
    pub plane: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJuju {
    model: String,
    controller: Option<String>,
    user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase02 {
    mysql: MysqlExpectation,
    vault: VaultExpectation,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase03 {
    #[serde(default)]
    allow: Vec<RawAllow>,
    openrc: Option<OpenrcExpectation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    application: String,
    workload: Vec<String>,
    message: String,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    id: String,
    application: String,
    message: String,
    note: Option<String>,
}

/// The mysql-innodb-cluster shape gate P02-C expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlExpectation {
    pub application: String,
    pub units: usize,
    pub online_message: String,
    pub read_write_marker: String,
}

/// The vault unit and its fresh state (P02-D).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultExpectation {
    pub unit: String,
    pub fresh_status: String,
    pub fresh_message: String,
    /// `[phase02.vault.server]`: without it P02-SEALED, P02-INIT and P02-UNSEALED are
    /// PRECONDITION (the profile does not say where vault runs or what it must say).
    pub server: Option<VaultServer>,
    /// `[phase02.vault.authorized]`: without it P02-AUTHORIZED is PRECONDITION.
    pub authorized: Option<VaultAuthorized>,
}

/// Where the vault CLI runs and what `vault status` must say (P02-SEALED,
/// P02-UNSEALED), and where the init capture lives (P02-INIT).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultServer {
    /// `vault` (the charm's snap) or OpenBao's `bao`.
    pub cli: String,
    /// Passed as `-address=`: the CLI's own default is https.
    pub address: String,
    pub run_on: RunOn,
    /// `storage_type` in `vault status` (the charm runs vault on mysql).
    pub storage_type: String,
    pub ha_enabled: bool,
    /// The init capture: a file in a directory only its owner may enter, both absolute
    /// paths on the vault host.
    pub init_dir: String,
    pub init_file: String,
    pub key_shares: u32,
}

/// The host the vault CLI and the init capture are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOn {
    /// The vault unit, through `juju exec` (live use).
    Unit,
    /// This machine (a test's loopback server, or a jumphost that reaches vault).
    Local,
}

/// What an authorized vault and its certificate consumers look like (P02-AUTHORIZED).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultAuthorized {
    pub ready_status: String,
    /// The vault unit's workload message starts with this.
    pub ready_message: String,
    pub cert_consumers: Vec<CertConsumer>,
}

/// An application that waits for vault's certificates, and how many units it has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertConsumer {
    pub application: String,
    pub units: usize,
}

/// The admin-openrc on this machine (P03-OPENRC).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenrcExpectation {
    /// Absolute: stackgate runs argvs without a shell, so `~` is not expanded.
    pub path: String,
    /// `OS_*` names the file must assign a non-empty value.
    pub required: Vec<String>,
}

/// One allowlisted non-active/idle state for the phase-03 acceptance walk.
#[derive(Debug, Clone)]
pub struct Allowance {
    pub application: String,
    pub workload: Vec<String>,
    pub message: Regex,
    pub reason: String,
}

impl Allowance {
    pub fn allows(&self, application: &str, workload: &str, message: &str) -> bool {
        self.application == application
            && self.workload.iter().any(|w| w == workload)
            && self.message.is_match(message)
    }
}

/// A known finding: reported, never hidden, never a failure.
#[derive(Debug, Clone)]
pub struct KnownFinding {
    pub id: String,
    pub application: String,
    pub message: Regex,
    pub note: String,
}

/// A validated site profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub model: String,
    pub controller: Option<String>,
    pub user: Option<String>,
    pub mysql: MysqlExpectation,
    pub vault: VaultExpectation,
    pub phase03_allow: Vec<Allowance>,
    pub known_findings: Vec<KnownFinding>,
    /// The MAAS substrate; `None` for a profile that covers only later phases.
    pub maas: Option<MaasSite>,
    pub planes: Vec<Plane>,
    pub hosts: Vec<Host>,
    pub carve: Option<Carve>,
    /// `[phase03.openrc]`; without it P03-OPENRC is PRECONDITION.
    pub openrc: Option<OpenrcExpectation>,
}

impl Profile {
    pub fn plane(&self, name: &str) -> Option<&Plane> {
        self.planes.iter().find(|p| p.name == name)
    }

    /// The embedded testcloud profile.
    pub fn testcloud() -> Profile {
        Profile::parse(TESTCLOUD, "embedded testcloud")
            .expect("the embedded testcloud profile is valid")
    }

    /// An embedded profile by name.
    pub fn embedded(name: &str) -> Option<Profile> {
        (name == "testcloud").then(Profile::testcloud)
    }

    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?;
        Profile::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source_name: &str) -> Result<Profile, ProfileError> {
        let fail = |message: String| ProfileError {
            source_name: source_name.to_string(),
            message,
        };
        let raw: RawProfile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let regex = |what: &str, pattern: &str| {
            Regex::new(pattern).map_err(|e| fail(format!("{what}: {e}")))
        };
        if raw.phase02.mysql.units == 0 {
            return Err(fail("phase02.mysql.units must be at least 1".into()));
        }
        let phase03_allow = raw
            .phase03
            .allow
            .into_iter()
            .map(|a| {
                Ok(Allowance {
                    message: regex(
                        &format!("phase03.allow {} message", a.application),
                        &a.message,
                    )?,
                    reason: a.reason.unwrap_or_default(),
                    application: a.application,
                    workload: a.workload,
                })
            })
            .collect::<Result<Vec<_>, ProfileError>>()?;
        let known_findings = raw
            .known_findings
            .into_iter()
            .map(|f| {
                Ok(KnownFinding {
                    message: regex(&format!("known_findings {} message", f.id), &f.message)?,
                    note: f.note.unwrap_or_default(),
                    id: f.id,
                    application: f.application,
                })
            })
            .collect::<Result<Vec<_>, ProfileError>>()?;
        let planes = raw
            .planes
            .into_iter()
            .map(|p| {
                let what = format!("plane {}", p.name);
                let addr = |field: &str, v: &str| {
                    v.parse::<Ipv4Addr>()
                        .map_err(|e| fail(format!("{what} {field} {v:?}: {e}")))
                };
                let cidr: Ipv4Net = p
                    .cidr
                    .parse()
                    .map_err(|e| fail(format!("{what} cidr {:?}: {e}", p.cidr)))?;
                if cidr != cidr.trunc() {
                    return Err(fail(format!("{what} cidr {cidr} has host bits set")));
                }
                let reserved = p
                    .reserved
                    .iter()
                    .map(|r| {
                        let (start, end) = (
                            addr("reserved start", &r.start)?,
                            addr("reserved end", &r.end)?,
                        );
                        if !(cidr.contains(&start) && cidr.contains(&end) && start <= end) {
                            return Err(fail(format!(
                                "{what}: reserved {start}-{end} is not inside {cidr}"
                            )));
                        }
                        Ok(ReservedRange {
                            start,
                            end,
                            purpose: r.purpose.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, ProfileError>>()?;
                Ok(Plane {
                    gateway: p
                        .gateway
                        .as_deref()
                        .map(|g| addr("gateway", g))
                        .transpose()?,
                    dns: p
                        .dns
                        .iter()
                        .map(|d| addr("dns", d))
                        .collect::<Result<_, _>>()?,
                    name: p.name,
                    cidr,
                    vid: p.vid,
                    reserved,
                })
            })
            .collect::<Result<Vec<_>, ProfileError>>()?;
        if let Some(carve) = &raw.carve {
            for link in &carve.links {
                if !planes.iter().any(|p| p.name == link.plane) {
                    return Err(fail(format!(
                        "carve link {} names unknown plane {}",
                        link.interface, link.plane
                    )));
                }
            }
        }
        if let Some(server) = &raw.phase02.vault.server {
            for (key, path) in [
                ("init_dir", &server.init_dir),
                ("init_file", &server.init_file),
            ] {
                if !path.starts_with('/') {
                    return Err(fail(format!(
                        "phase02.vault.server.{key} {path:?} must be absolute (no shell expands `~`)"
                    )));
                }
            }
            if Path::new(&server.init_file).parent() != Some(Path::new(&server.init_dir)) {
                return Err(fail(format!(
                    "phase02.vault.server.init_file {:?} must sit directly in init_dir {:?}",
                    server.init_file, server.init_dir
                )));
            }
            if server.key_shares == 0 {
                return Err(fail(
                    "phase02.vault.server.key_shares must be at least 1".into(),
                ));
            }
        }
        if let Some(openrc) = &raw.phase03.openrc {
            if !openrc.path.starts_with('/') {
                return Err(fail(format!(
                    "phase03.openrc.path {:?} must be absolute (no shell expands `~`)",
                    openrc.path
                )));
            }
        }
        Ok(Profile {
            openrc: raw.phase03.openrc,
            maas: raw.maas,
            planes,
            hosts: raw.hosts,
            carve: raw.carve,
            name: raw.name,
            description: raw.description.unwrap_or_default(),
            model: raw.juju.model,
            controller: raw.juju.controller,
            user: raw.juju.user,
            mysql: raw.phase02.mysql,
            vault: raw.phase02.vault,
            phase03_allow,
            known_findings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_testcloud_parses() {
        let p = Profile::testcloud();
        assert_eq!(p.model, "openstack");
        assert_eq!(p.mysql.units, 3);
        assert_eq!(p.phase03_allow.len(), 2);
    }

    #[test]
    fn a_bad_pattern_is_rejected_before_anything_runs() {
        let text = TESTCLOUD.replace("^Awaiting .*configure-resources", "(unclosed");
        let err = Profile::parse(&text, "t").unwrap_err();
        assert!(err.message.contains("octavia"), "{err}");
    }

    #[test]
    fn planes_hosts_and_carve_load() {
        let p = Profile::testcloud();
        assert_eq!(p.planes.len(), 6);
        let internal = p
            .planes
            .iter()
            .find(|p| p.name == "metal-internal")
            .unwrap();
        assert_eq!((internal.vid, internal.gateway), (103, None));
        assert_eq!(internal.host_address(42).to_string(), "10.12.12.42");
        assert_eq!(p.hosts.len(), 4);
        assert_eq!(
            p.maas.as_ref().unwrap().protected,
            ["juju", "lxd", "tailscale"]
        );
    }

    #[test]
    fn a_reserved_range_outside_its_plane_is_rejected() {
        let text = TESTCLOUD.replace("{ start = \"10.12.5.0\"", "{ start = \"10.13.5.0\"");
        let err = Profile::parse(&text, "t").unwrap_err();
        assert!(err.message.contains("provider-public"), "{err}");
    }

    #[test]
    fn vault_and_openrc_sections_load_and_paths_must_be_absolute() {
        let p = Profile::testcloud();
        let server = p.vault.server.as_ref().unwrap();
        assert_eq!(
            (server.run_on, server.storage_type.as_str()),
            (RunOn::Unit, "mysql")
        );
        assert_eq!(p.vault.authorized.as_ref().unwrap().cert_consumers.len(), 5);
        assert!(
            p.openrc
                .as_ref()
                .unwrap()
                .required
                .contains(&"OS_PASSWORD".to_string())
        );
        // No shell expands `~` for stackgate's argvs.
        let text = TESTCLOUD.replace("\"/home/ubuntu/admin-openrc\"", "\"~/admin-openrc\"");
        assert!(
            Profile::parse(&text, "t")
                .unwrap_err()
                .message
                .contains("phase03.openrc.path")
        );
        let text = TESTCLOUD.replace(
            "init_file = \"/home/ubuntu/vault-init/init.txt\"",
            "init_file = \"/home/ubuntu/init.txt\"",
        );
        assert!(
            Profile::parse(&text, "t")
                .unwrap_err()
                .message
                .contains("init_dir")
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = TESTCLOUD.replace(
            "model = \"openstack\"",
            "model = \"openstack\"\nmodle = \"x\"",
        );
        assert!(Profile::parse(&text, "t").is_err());
    }
}
