//! Phase 03 (core verify) acceptance walk: every unit active/idle except the profile's
//! allowlist, matched by identity (application, status, message), never by count (R4).

use super::phase02::status_read;
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition, status_text};
use crate::profile::Profile;
use crate::snapshot::Snapshot;

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-ACCEPT",
    phase: "03",
    tags: &["read-only"],
    description: "every unit active/idle except the allowlist (octavia configure-resources, glance-simplestreams-sync); known findings reported",
    reads: status_read,
    follow_up: None,
    evaluate: gate_accept,
}];

fn gate_accept(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let status = read_or_precondition!(gate, snapshot.juju_status(&profile.model));
    let mut missing = Vec::new();
    let mut evidence = Vec::new();
    let (mut units, mut settled, mut allowed, mut unexpected, mut findings) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for unit in status.units() {
        units += 1;
        let (workload, agent) = match (unit.workload(), unit.agent()) {
            (Ok(w), Ok(a)) => (w, a),
            (w, a) => {
                missing.extend(w.err());
                missing.extend(a.err());
                continue;
            }
        };
        let app = unit.application();
        let subject = format!("unit {}", unit.name);
        let state = format!(
            "{} / juju-status {}",
            status_text(workload.current(), workload.message()),
            agent.current()
        );
        let idle = agent.current() == "idle";
        if workload.current() == "active" && idle {
            settled += 1;
            if let Some(f) = profile
                .known_findings
                .iter()
                .find(|f| f.application == app && f.message.is_match(workload.message()))
            {
                findings += 1;
                evidence.push(Evidence::new(
                    Mark::Finding,
                    subject,
                    format!("known finding {}", f.id),
                    format!("{state} ({})", f.note),
                ));
            }
            continue;
        }
        if let Some(allow) = profile
            .phase03_allow
            .iter()
            .find(|a| idle && a.allows(app, workload.current(), workload.message()))
        {
            allowed += 1;
            evidence.push(Evidence::new(
                Mark::Allowed,
                subject,
                "status",
                format!("{state} ({})", allow.reason),
            ));
            continue;
        }
        unexpected += 1;
        evidence.push(
            Evidence::new(Mark::Bad, subject, "status", state)
                .expected("active / juju-status idle, or allowlisted"),
        );
    }
    if !missing.is_empty() {
        return Verdict::missing_keys(gate, &missing, evidence);
    }
    let summary = format!(
        "{units} units: {settled} active/idle, {allowed} allowlisted, {unexpected} unexpected, {findings} known finding(s)"
    );
    let status = if unexpected == 0 && units > 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    Verdict::new(gate, status, summary)
        .with_evidence(evidence)
        .metric("units", units)
        .metric("active_idle", settled)
        .metric("allowed", allowed)
        .metric("unexpected", unexpected)
        .metric("known_findings", findings)
}
