//! `stackgate explain GATE`: what a gate checks, the commands it reads (on the embedded
//! testcloud profile), the key paths it reads from them, the scenarios that define it
//! (`features/`, embedded), and the runbook and change-log lines it comes from
//! (`docs/gate-seeds.toml`, embedded).

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use super::Outcome;
use crate::gates::{self, GateSpec};
use crate::profile::Profile;
use crate::report::ascii;

/// The feature files, embedded so the binary names a gate's scenarios anywhere.
static FEATURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/features");

/// The seed lines each gate comes from.
const GATE_SEEDS: &str = include_str!("../../docs/gate-seeds.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Seeds {
    pub gate: Vec<GateSeeds>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateSeeds {
    pub id: String,
    pub line: Vec<SeedLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedLine {
    pub seed: String,
    pub line: u32,
    pub text: String,
}

pub(crate) fn seeds() -> Seeds {
    toml::from_str(GATE_SEEDS).expect("docs/gate-seeds.toml parses (tested)")
}

/// A scenario of the features: its file, its name, and the tags that apply to it (the
/// feature's and its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scenario {
    pub file: String,
    pub name: String,
    pub tags: Vec<String>,
}

/// Every scenario of the embedded features.
pub(crate) fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    let mut files: Vec<_> = FEATURES
        .find("**/*.feature")
        .expect("a valid glob")
        .filter_map(|e| e.as_file())
        .collect();
    files.sort_by_key(|f| f.path().to_path_buf());
    for file in files {
        let Some(text) = file.contents_utf8() else {
            continue;
        };
        let (mut feature_tags, mut pending) = (Vec::<String>::new(), Vec::<String>::new());
        for line in text.lines().map(str::trim) {
            if line.starts_with('@') {
                pending.extend(line.split_whitespace().map(str::to_string));
            } else if line.starts_with("Feature:") {
                feature_tags = std::mem::take(&mut pending);
            } else if let Some(name) = line
                .strip_prefix("Scenario Outline:")
                .or_else(|| line.strip_prefix("Scenario:"))
            {
                let mut tags = feature_tags.clone();
                tags.append(&mut pending);
                out.push(Scenario {
                    file: format!("features/{}", file.path().display()),
                    name: name.trim().to_string(),
                    tags,
                });
            } else if !line.is_empty() && !line.starts_with('#') {
                pending.clear();
            }
        }
    }
    out
}

pub fn run(id: &str) -> Outcome {
    let Some(gate) = gates::catalog()
        .into_iter()
        .find(|g| g.id.eq_ignore_ascii_case(id))
    else {
        return Outcome::usage_error(format!(
            "no gate {id:?}; the gates: {}",
            gates::catalog()
                .into_iter()
                .map(|g| g.id)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    Outcome {
        stdout: explain(gate),
        stderr: String::new(),
        exit_code: 0,
    }
}

/// The explanation of one gate.
pub(crate) fn explain(gate: &GateSpec) -> String {
    let mut out = format!(
        "{} (phase {}; {})\n\nchecks:\n  {}\n",
        gate.id,
        gate.phase,
        gate.tags
            .iter()
            .map(|t| format!("@{t}"))
            .collect::<Vec<_>>()
            .join(" "),
        gate.description
    );
    let profile = Profile::testcloud();
    out.push_str(&format!(
        "\nreads (argv on the embedded profile {}):\n",
        profile.name
    ));
    let reads = (gate.reads)(&profile);
    if reads.is_empty() {
        out.push_str("  (nothing before its follow-up reads)\n");
    }
    for read in &reads {
        out.push_str(&format!("  {}\n", read.invocation().display()));
    }
    if gate.follow_up.is_some() {
        out.push_str(
            "  then the follow-up reads those answers call for (per host, per unit, per subnet)\n",
        );
    }
    let keys: Vec<String> = crate::sources::keys::all()
        .filter(|k| k.gates.contains(&gate.id))
        .map(|k| {
            format!(
                "  {}: {} ({})",
                k.doc.name(),
                k.path,
                match k.need {
                    crate::sources::keys::Need::Required => "required",
                    crate::sources::keys::Need::Optional => "optional",
                }
            )
        })
        .collect();
    if !keys.is_empty() {
        out.push_str("\nkey paths it reads (missing: PRECONDITION naming the path):\n");
        for k in keys {
            out.push_str(&k);
            out.push('\n');
        }
    }
    let tag = format!("@gate-{}", gate.id);
    let defined: Vec<Scenario> = scenarios()
        .into_iter()
        .filter(|s| s.tags.contains(&tag))
        .collect();
    out.push_str(&format!(
        "\nscenarios that define it ({}):\n",
        defined.len()
    ));
    for s in &defined {
        out.push_str(&format!("  {}: {}\n", s.file, s.name));
    }
    out.push_str("\nwhere it comes from (docs/seeds.md names the seeds):\n");
    match seeds().gate.into_iter().find(|g| g.id == gate.id) {
        Some(g) => {
            for l in g.line {
                let what = if l.seed == "GATES" {
                    format!("GATES:{}", l.line)
                } else {
                    format!("seed {}:{}", l.seed, l.line)
                };
                out.push_str(&format!("  {what}: {}\n", l.text));
            }
        }
        None => out.push_str("  (no seed lines recorded)\n"),
    }
    ascii(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_has_two_scenarios_or_more_and_seed_lines() {
        let seeds = seeds();
        let all = scenarios();
        for gate in gates::catalog() {
            let tag = format!("@gate-{}", gate.id);
            let n = all.iter().filter(|s| s.tags.contains(&tag)).count();
            assert!(n >= 2, "{}: {n} scenario(s)", gate.id);
            let g = seeds
                .gate
                .iter()
                .find(|g| g.id == gate.id)
                .unwrap_or_else(|| panic!("{} has no seed lines", gate.id));
            assert!(g.line.iter().any(|l| l.seed != "GATES"), "{}", gate.id);
            assert!(g.line.iter().all(|l| l.text.is_ascii() && l.line > 0));
        }
        for g in &seeds.gate {
            assert!(gates::by_id(&g.id).is_some(), "{} is no gate", g.id);
        }
    }

    #[test]
    fn the_explanation_names_the_argv_scenarios_and_seed_lines() {
        let text = explain(gates::by_id("P02-E").unwrap());
        assert!(
            text.contains("juju status -m openstack --format=json"),
            "{text}"
        );
        assert!(
            text.contains("features/phase-02/census.feature: "),
            "{text}"
        );
        assert!(text.contains("seed 004:"), "{text}");
        assert!(
            text.contains("juju-status: applications.<app>.units.<unit>.workload-status.current"),
            "{text}"
        );
        assert!(text.is_ascii());
    }
}
