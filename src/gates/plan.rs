//! P00-TEARDOWN-PLAN, the read-only half of the destroy path (seed 002 step 2, D-061:
//! targets resolved live, protected machines shown as excluded), and P00-EXIT, the
//! phase-00 exit gate: every phase-00 exit check plus the pre-destroy backup pointer
//! (seed 000 acceptance).

use std::borrow::Cow;
use std::collections::HashMap;

use super::substrate::{maas_profile, maas_site, machines_read};
use super::{Evidence, GateSpec, Mark, Status, Verdict, by_id, overall, read_or_precondition};
use crate::profile::Profile;
use crate::resolve::{MachineTarget, Protected, teardown_targets};
use crate::snapshot::{Read, Snapshot};

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P00-TEARDOWN-PLAN",
    phase: "00",
    tags: &["read-only"],
    description: "dry-run of the destroy path: hosts as decompose targets and retired machines as delete targets, system_ids resolved live; protected juju, lxd, tailscale excluded and shown",
    reads: |p| {
        let mut r = machines_read(p);
        r.push(Read::JujuModels);
        r
    },
    follow_up: None,
    evaluate: gate_teardown_plan,
    from_parts: None,
}];

pub(super) static EXIT: [GateSpec; 1] = [GateSpec {
    id: "P00-EXIT",
    phase: "00",
    tags: &["read-only"],
    description: "phase-00 exit: teardown done, 8_lbaas gone, OSD disks blank, hosts re-enrolled and carved, no drift, bundle checked, pre-destroy backup pointer populated",
    reads: exit_reads,
    follow_up: Some(exit_follow_up),
    evaluate: gate_exit,
    from_parts: Some(exit_from_parts),
}];

/// The gates whose verdicts make the phase-00 exit gate (002 EXIT GATE; 000 section 4).
pub const EXIT_PARTS: &[&str] = &[
    "P00-SPACES",
    "P00-TEARDOWN",
    "P00-LBAAS",
    "P00-OSD",
    "P00-REENROLL",
    "P00-CARVE",
    "P00-STANDUP",
    "P00-BUNDLE",
];

fn gate_teardown_plan(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match maas_site(gate, profile) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas_profile(profile)));
    let models = read_or_precondition!(gate, snapshot.models());
    let model = models.find(&profile.model);
    let mut evidence = vec![Evidence::new(
        Mark::Info,
        "juju models",
        format!("model {}", profile.model),
        model.map_or_else(
            || "absent: nothing to destroy".to_string(),
            |m| format!("present (life {})", m.life.as_str()),
        ),
    )];
    let hosts: Vec<String> = profile.hosts.iter().map(|h| h.hostname.clone()).collect();
    let protected = Protected::resolve(&site.protected, machines, std::iter::empty());
    let targets = teardown_targets(
        &hosts,
        &site.retired,
        &site.host_tag,
        &protected,
        machines,
        model.is_some(),
    );
    let mut bad = Vec::new();
    if model.is_some() {
        // Each host's target by hostname (the first, should one repeat): a scan per host
        // was quadratic at bare-metal scale.
        let mut decompose: HashMap<&str, &MachineTarget> = HashMap::new();
        for m in &targets.decompose {
            decompose.entry(m.hostname.as_str()).or_insert(m);
        }
        for host in &hosts {
            let subject = format!("host {host}");
            if let Some(m) = decompose.get(host.as_str()) {
                evidence.push(Evidence::new(
                    Mark::Ok,
                    subject,
                    "plan",
                    format!(
                        "decompose target, system_id {} ({})",
                        m.system_id, m.status_name
                    ),
                ));
            } else if targets.unresolved.contains(host) {
                bad.push(format!("{host} not in MAAS"));
                evidence.push(
                    Evidence::new(Mark::Bad, subject, "plan", "cannot resolve: not in MAAS")
                        .expected("a machine to decompose"),
                );
            }
        }
    }
    for name in &site.retired {
        let subject = format!("retired {name}");
        if let Some(m) = targets.delete.iter().find(|m| &m.hostname == name) {
            evidence.push(Evidence::new(
                Mark::Ok,
                subject,
                "plan",
                format!(
                    "delete target, system_id {} ({})",
                    m.system_id, m.status_name
                ),
            ));
        } else if targets.retired_gone.contains(name) {
            evidence.push(Evidence::new(
                Mark::Info,
                subject,
                "plan",
                "already gone from MAAS",
            ));
        }
    }
    for why in &targets.refused {
        bad.push(why.clone());
        evidence.push(
            Evidence::new(Mark::Bad, "target", "protected", why.clone())
                .expected("no protected machine among the targets"),
        );
    }
    for excluded in &targets.excluded {
        let subject = format!("protected {}", excluded.name);
        match &excluded.machine {
            // The bundle places units by tag: a protected machine with the host
            // tag could be allocated to (and destroyed with) the model.
            Some(_) if excluded.carries_host_tag => {
                bad.push(format!("{} carries tag {}", excluded.name, site.host_tag));
                evidence.push(
                    Evidence::new(
                        Mark::Bad,
                        subject,
                        "tag_names",
                        format!("carries {}: the model could allocate it", site.host_tag),
                    )
                    .expected(format!("no {} tag", site.host_tag)),
                );
            }
            Some(m) => evidence.push(Evidence::new(
                Mark::Info,
                subject,
                "plan",
                format!("EXCLUDED, system_id {} ({})", m.system_id, m.status_name),
            )),
            None => evidence.push(Evidence::new(
                Mark::Info,
                subject,
                "plan",
                "EXCLUDED (not in MAAS)",
            )),
        }
    }
    let (decompose, delete, unresolved) = (
        targets.decompose.len() as u64,
        targets.delete.len() as u64,
        targets.unresolved.len() as u64,
    );
    let excluded = targets
        .excluded
        .iter()
        .filter(|e| e.machine.is_some())
        .count() as u64;
    let status = if bad.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    let summary = match (model.is_some(), bad.is_empty()) {
        (_, false) => format!(
            "the destroy plan is unsafe or incomplete: {}",
            bad.join("; ")
        ),
        (true, true) => format!(
            "destroy {}: {decompose} decompose target(s), {delete} delete target(s), {excluded} protected machine(s) excluded",
            profile.model
        ),
        (false, true) => format!(
            "no {} model: nothing to decompose; {delete} delete target(s), {excluded} protected machine(s) excluded",
            profile.model
        ),
    };
    let outcome = if model.is_some() {
        "PLAN"
    } else {
        "NOTHING-TO-DESTROY"
    };
    Verdict::new(gate, status, summary)
        .with_evidence(evidence)
        .with_outcome(outcome)
        .metric("decompose", decompose)
        .metric("delete", delete)
        .metric("excluded", excluded)
        .metric("unresolved", unresolved)
}

fn parts() -> impl Iterator<Item = &'static GateSpec> {
    EXIT_PARTS.iter().filter_map(|id| by_id(id))
}

fn exit_reads(profile: &Profile) -> Vec<Read> {
    let mut reads: Vec<Read> = parts().flat_map(|g| (g.reads)(profile)).collect();
    if let Some(pointer) = &profile.teardown.backup_pointer {
        reads.push(Read::TextFile {
            path: pointer.clone(),
        });
    }
    reads.sort();
    reads.dedup();
    reads
}

fn exit_follow_up(snapshot: &Snapshot, profile: &Profile) -> Vec<Read> {
    let mut reads: Vec<Read> = parts()
        .filter_map(|g| g.follow_up)
        .flat_map(|f| f(snapshot, profile))
        .collect();
    if let Some(dir) = profile
        .teardown
        .backup_pointer
        .as_ref()
        .and_then(|p| snapshot.text_file(p).ok())
        .map(|text| text.trim().to_string())
        // Only a pointer that is one absolute path names a directory to list.
        .filter(|d| d.starts_with('/') && d.lines().count() == 1)
    {
        reads.push(Read::DirList { path: dir });
    }
    reads.sort();
    reads.dedup();
    reads
}

/// A file the CLI said is missing fails the backup check; any other failure to read it
/// is PRECONDITION (R3).
fn absent_or_unreadable(err: &crate::snapshot::ReadError) -> Status {
    match err {
        crate::snapshot::ReadError::Source(crate::sources::SourceError::NotFound { .. }) => {
            Status::Fail
        }
        _ => Status::Precondition,
    }
}

/// The pre-destroy backup pointer exists and names a populated directory (000).
fn backup_verdict(snapshot: &Snapshot, profile: &Profile) -> (Status, Evidence) {
    let Some(pointer) = &profile.teardown.backup_pointer else {
        return (
            Status::Precondition,
            Evidence::new(
                Mark::Missing,
                "profile",
                "teardown.backup_pointer",
                "not set",
            ),
        );
    };
    let subject = format!("backup pointer {}", pointer);
    let text = match snapshot.text_file(pointer) {
        Ok(text) => text,
        Err(e) => {
            return (
                absent_or_unreadable(&e),
                Evidence::new(Mark::Bad, subject, "exists", e.to_string())
                    .expected("written by the destroy path's pre-destroy capture"),
            );
        }
    };
    let dir = text.trim();
    if dir.is_empty() || dir.lines().count() != 1 || !dir.starts_with('/') {
        // The capture writes one absolute path and a newline.
        return (
            Status::Fail,
            Evidence::new(
                Mark::Bad,
                subject,
                "points to",
                if dir.is_empty() {
                    "(empty file)".to_string()
                } else {
                    format!("{} line(s), not one absolute path", dir.lines().count())
                },
            )
            .expected("one absolute path to a backup directory"),
        );
    }
    match snapshot.dir_list(dir) {
        Ok(entries) if !entries.is_empty() => (
            Status::Pass,
            Evidence::new(
                Mark::Ok,
                subject,
                "points to",
                format!("{dir} ({} file(s): {})", entries.len(), entries.join(", ")),
            ),
        ),
        Ok(_) => (
            Status::Fail,
            Evidence::new(Mark::Bad, subject, "points to", format!("{dir} (empty)"))
                .expected("a populated backup directory"),
        ),
        Err(e) => (
            absent_or_unreadable(&e),
            Evidence::new(Mark::Bad, subject, "points to", format!("{dir}: {e}"))
                .expected("a populated backup directory"),
        ),
    }
}

fn gate_exit(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    exit_from_parts(gate, snapshot, profile, &[])
}

/// The exit gate over its parts' verdicts: each taken from `judged` when the run has
/// given it already (P00-CARVE alone writes a line per carved interface of every host),
/// else judged here.
fn exit_from_parts(
    gate: &GateSpec,
    snapshot: &Snapshot,
    profile: &Profile,
    judged: &[Verdict],
) -> Verdict {
    // The parts' statuses, for `overall`: their evidence is in `evidence` already.
    let mut statuses: Vec<Verdict> = Vec::new();
    let mut evidence = Vec::new();
    for id in EXIT_PARTS {
        let Some(part) = by_id(id) else {
            return Verdict::new(
                gate,
                Status::Precondition,
                format!("stackgate bug: exit part {id} is not in the catalog"),
            );
        };
        let v = match judged.iter().find(|v| v.id == part.id) {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned(part.run(snapshot, profile)),
        };
        let mark = match v.status {
            Status::Pass | Status::Proceed => Mark::Ok,
            Status::Waived => Mark::Waived,
            Status::Skip => Mark::Info,
            Status::Precondition => Mark::Missing,
            Status::Fail | Status::Hold => Mark::Bad,
        };
        evidence.push(Evidence::new(
            mark,
            part.id,
            v.status.label(),
            v.summary.clone(),
        ));
        // What a part could not read, the exit gate could not read: name it here.
        evidence.extend(
            v.evidence
                .iter()
                .filter(|e| e.mark == Mark::Missing)
                .map(|e| Evidence {
                    subject: format!("{} {}", part.id, e.subject),
                    ..e.clone()
                }),
        );
        statuses.push(Verdict::new(part, v.status, String::new()));
    }
    let (backup_status, backup_line) = backup_verdict(snapshot, profile);
    evidence.push(backup_line);
    statuses.push(Verdict::new(gate, backup_status, String::new()));
    let status = match overall(&statuses) {
        Status::Proceed => Status::Pass,
        s => s,
    };
    let not_met: Vec<String> = evidence
        .iter()
        .filter(|e| matches!(e.mark, Mark::Bad | Mark::Missing))
        .map(|e| format!("{} {}", e.subject, e.property))
        .collect();
    let summary = if not_met.is_empty() {
        format!(
            "phase-00 exit gate met: {} part(s) and the backup pointer",
            EXIT_PARTS.len()
        )
    } else {
        format!("phase-00 exit gate not met: {}", not_met.join("; "))
    };
    Verdict::new(gate, status, summary).with_evidence(evidence)
}
