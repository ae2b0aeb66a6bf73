//! Post-conditions the phase actions share: a gate holding, a machine gone from MAAS.

use std::time::Duration;

use super::Refusal;
use super::plan::Check;
use super::wait::{Poll, WaitPolicy};
use crate::gates::{Status, by_id};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};

/// The gate holds (PASS or PROCEED). Polled, a FAIL is "not yet"; a PRECONDITION (the
/// output could not be read) ends the wait at once.
pub fn gate_holds(id: &'static str, profile: &Profile) -> Check {
    gate_check(id, profile, true)
}

/// The gate gives PASS: a PROCEED is the work not done yet (P05-AMPHORA's
/// CONTROL-PLANE-DONE before the amphora exists).
pub fn gate_passes(id: &'static str, profile: &Profile) -> Check {
    gate_check(id, profile, false)
}

fn gate_check(id: &'static str, profile: &Profile, proceed_holds: bool) -> Check {
    let gate = by_id(id).unwrap_or_else(|| panic!("stackgate bug: no gate {id}"));
    let reads = (gate.reads)(profile);
    let mut check = Check::new(format!("{id} holds"), reads, move |snapshot, profile| {
        let verdict = gate.run(snapshot, profile);
        let line = format!("{id} {}: {}", verdict.status.label(), verdict.summary);
        match verdict.status {
            Status::Pass | Status::Waived => Poll::Pass(line),
            Status::Proceed if proceed_holds => Poll::Pass(line),
            Status::Precondition => Poll::Fail(line),
            // A unit in error, a guard: waiting cannot fix either.
            Status::Fail if verdict.unsettleable.is_some() => Poll::Fail(line),
            Status::Hold => Poll::Fail(line),
            Status::Proceed | Status::Fail | Status::Skip => Poll::Pending(line),
        }
    });
    if let Some(follow) = gate.follow_up {
        check = check.with_follow_up(follow);
    }
    check
}

/// A gate's verdict on the planner's read: its status and one line.
pub fn verdict(id: &str, snapshot: &Snapshot, profile: &Profile) -> (Status, String) {
    let gate = by_id(id).unwrap_or_else(|| panic!("stackgate bug: no gate {id}"));
    let v = gate.run(snapshot, profile);
    let line = format!("{id} {}: {}", v.status.label(), v.summary);
    (v.status, line)
}

/// The profile's MAAS CLI profile (`admin`).
pub fn maas_profile(profile: &Profile) -> String {
    profile.maas_profile()
}

/// `machines read` no longer lists the hostname.
pub fn machine_gone(hostname: &str, profile: &Profile) -> Check {
    let hostname = hostname.to_string();
    let maas = maas_profile(profile);
    Check::new(
        format!("{hostname} is gone from MAAS"),
        vec![Read::MaasMachines {
            profile: maas.clone(),
        }],
        move |snapshot, _| match snapshot.maas_machines(&maas) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(machines) => match crate::resolve::machine(machines, &hostname) {
                None => Poll::Pass(format!("{hostname} not in machines read")),
                Some(m) => Poll::Pending(format!(
                    "{hostname} still in MAAS (system_id {}, {})",
                    m.system_id, m.status_name
                )),
            },
        },
    )
}

/// A poll for a settling cloud: three passes in a row, ten seconds apart, within the
/// bound.
pub fn settle(bound: Duration) -> WaitPolicy {
    WaitPolicy {
        passes: 3,
        interval: Duration::from_secs(10),
        bound,
    }
}

/// A guard on a gate's verdict: `wanted` goes on, a PRECONDITION is one (the read
/// could not be judged), anything else refuses, saying the verdict and `why`.
pub fn require((status, line): (Status, String), wanted: Status, why: &str) -> Result<(), Refusal> {
    if status == wanted {
        Ok(())
    } else if status == Status::Precondition {
        Err(Refusal::Precondition(line))
    } else {
        Err(Refusal::Guard(format!("{line}: {why}")))
    }
}
