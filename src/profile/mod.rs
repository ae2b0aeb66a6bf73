//! Site profiles: what the cloud should look like (model name, mysql shape, vault unit,
//! allowlists, known findings). TOML, parsed in two stages: the raw file, then a
//! validated [`Profile`] with compiled patterns, before any command runs.

use std::path::Path;

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
}

impl Profile {
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
        Ok(Profile {
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
    fn unknown_keys_are_rejected() {
        let text = TESTCLOUD.replace(
            "model = \"openstack\"",
            "model = \"openstack\"\nmodle = \"x\"",
        );
        assert!(Profile::parse(&text, "t").is_err());
    }
}
