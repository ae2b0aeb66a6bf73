//! Phase 03 (core verify) acceptance walk: every unit active/idle except the profile's
//! allowlist, matched by identity (application, status, the whole message, the unit's
//! role), never by count (R4). A charms.openstack charm reports every failing state in
//! one message, so an allowed state joined with others is not allowed (issue 8).

use super::phase02::status_read;
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition, status_text};
use crate::profile::{MessageMatch, Profile};
use crate::snapshot::Snapshot;
use crate::sources::charms::{self, StateMatch};
use crate::sources::juju::StatusRead;

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-ACCEPT",
    phase: "03",
    tags: &["read-only"],
    description: "every unit active/idle except the allowlist (octavia configure-resources, glance-simplestreams-sync); a broken policyd override (\"PO (broken): \") fails unless a waiver covers it",
    reads: status_read,
    follow_up: None,
    evaluate: gate_accept,
    from_parts: None,
}];

fn gate_accept(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let status = read_or_precondition!(gate, snapshot.juju_status(&profile.model));
    let mut missing = Vec::new();
    let mut evidence = Vec::new();
    let mut erring = Vec::new();
    let (mut units, mut settled, mut allowed, mut unexpected, mut broken) =
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
        if workload.current() == "error" || agent.current() == "error" {
            erring.push(unit.name.to_string());
        }
        if workload.current() == "active" && idle {
            settled += 1;
            // charms.openstack prefixes a unit whose policyd override failed to load;
            // the unit runs without the operator's policy: a failure, which a waiver
            // may accept for a time (the change log's FINDING-1).
            if workload
                .message()
                .starts_with(charms::POLICYD_BROKEN_PREFIX)
            {
                broken += 1;
                evidence.push(
                    Evidence::new(Mark::Bad, subject, "policy override", workload.message())
                        .expected(format!(
                            "no {:?} prefix: the unit's policyd override failed validation and is not applied (charm-helpers policyd_status_message_prefix)",
                            charms::POLICYD_BROKEN_PREFIX
                        )),
                );
                continue;
            }
            continue;
        }
        let leader = unit.unit.leader;
        if let Some(allow) = profile
            .phase03_allow
            .iter()
            .find(|a| idle && a.allows(app, workload.current(), workload.message(), leader))
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
        let expected = "active / juju-status idle, or allowlisted".to_string();
        evidence.push(Evidence::new(Mark::Bad, subject, "status", state).expected(
            match not_allowed_because(profile, app, workload, idle, leader) {
                Some(why) => format!("{expected}; {why}"),
                None => expected,
            },
        ));
    }
    if !missing.is_empty() {
        return Verdict::missing_keys(gate, &missing, evidence);
    }
    let summary = format!(
        "{units} units: {settled} active/idle ({broken} with a broken policy override), {allowed} allowlisted, {unexpected} unexpected"
    );
    let status = if unexpected == 0 && broken == 0 && units > 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    super::units_in_error(Verdict::new(gate, status, summary), &erring)
        .with_evidence(evidence)
        .metric("units", units)
        .metric("active_idle", settled)
        .metric("allowed", allowed)
        .metric("unexpected", unexpected)
        .metric("policy_override_broken", broken)
}

/// Why a unit near an allowlisted state is not in it, for its evidence line: its agent is
/// busy, the state is allowed only for the other role, or its message holds an allowed
/// state among others (charms.openstack joins every failing state with ", ").
fn not_allowed_because(
    profile: &Profile,
    app: &str,
    workload: StatusRead<'_>,
    idle: bool,
    leader: bool,
) -> Option<String> {
    let (current, message) = (workload.current(), workload.message());
    let entries = || {
        profile
            .phase03_allow
            .iter()
            .filter(move |a| a.application == app && a.workload == current)
    };
    if let Some(a) = entries().find(|a| a.names(app, current, message)) {
        if !idle {
            return Some("allowlisted only with juju-status idle".to_string());
        }
        let role = if a.leader == Some(true) {
            "the leader"
        } else {
            "non-leader units"
        };
        return Some(format!(
            "{} is allowed for {role} only (juju status `leader` is {leader})",
            a.message.shown()
        ));
    }
    entries().find_map(|a| match &a.message {
        MessageMatch::Exact(state) => match charms::match_state(message, state) {
            m @ (StateMatch::Joined | StateMatch::PolicydBroken) => Some(format!(
                "holds the allowlisted {}, but {}",
                a.message.shown(),
                m.why_not().unwrap_or_default()
            )),
            _ => None,
        },
        MessageMatch::Pattern(_) => None,
    })
}
