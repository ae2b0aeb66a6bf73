//! Phase-05 action: octavia-configure-resources, seed 004 Step 5.1: `juju run
//! octavia/leader configure-resources --wait=20m` once P05-PRE says PROCEED (every
//! octavia unit blocked awaiting it, the lb-mgmt resources absent), then P05-POST
//! polled until it holds.
//!
//! - juju 3.6 `juju run` (juju/juju `cmd/juju/action/run.go`, `runCommandBase`):
//!   `<unit>|<app>/leader <action>`, `-m <model>`; it waits for the task unless
//!   `--background`, for `--wait` at most (0 means the 60 s default), and exits non-zero
//!   when the task fails or the wait runs out. The seed's `--wait=20m` is kept.
//! - the action (openstack/charm-octavia stable/2024.1 `actions.yaml`
//!   `configure-resources`, no parameters) creates lb-mgmt-net, lb-mgmt-subnetv6,
//!   lb-mgmt-sec-grp (and the router) and each unit's o-hm0 health-manager port.
//! - o-hm0 comes up after the action (seed 004: "a transient `ovs-vsctl: no row o-hm0`
//!   appeared mid-run ... and self-cleared"): P05-POST failing while the port comes up
//!   is waited out, three passes in a row within 20 minutes; still failing at the bound
//!   is the step's failure, naming what P05-POST saw last.
//!
//! Idempotent: once octavia is active P05-PRE is SKIP (ALREADY-CONFIGURED) and nothing
//! is planned; blocked with the resources already there is P05-PRE's anomaly, refused.

use std::time::Duration;

use super::checks::gate_holds;
use super::plan::{Plan, Step, Target};
use super::wait::WaitPolicy;
use super::{Action, ActionArgs, Refusal};
use crate::gates::{Status, by_id};
use crate::profile::Profile;
use crate::snapshot::Snapshot;

/// juju's wait for the action's task, as seed 004 ran it.
const JUJU_WAIT: &str = "20m";
/// The runner's bound on that `juju run`: juju's own 20 minutes and a minute to report.
const JUJU_RUN_TIMEOUT: Duration = Duration::from_secs(21 * 60);

/// P05-POST after the action: the o-hm0 bring-up is waited out within this bound.
fn bring_up() -> WaitPolicy {
    WaitPolicy {
        passes: 3,
        interval: Duration::from_secs(10),
        bound: Duration::from_secs(20 * 60),
    }
}

pub static ACTIONS: [Action; 1] = [Action {
    name: "octavia-configure-resources",
    phase: "05",
    description: "Step 5.1: juju run <octavia>/leader configure-resources --wait=20m once P05-PRE is PROCEED; then P05-POST, the o-hm0 bring-up waited out",
    destructive: false,
    guards: "P05-PRE is PROCEED: every octavia unit blocked awaiting configure-resources, lb-mgmt-net, lb-mgmt-subnetv6 and lb-mgmt-sec-grp absent",
    takes_host: false,
    reads: |profile, _| by_id("P05-PRE").map_or_else(Vec::new, |g| (g.reads)(profile)),
    follow_up: super::no_follow_up,
    plan: plan_configure_resources,
}];

fn plan_configure_resources(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let p5 = profile.phase05.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!("profile {} has no [phase05] section", profile.name))
    })?;
    let pre = by_id("P05-PRE")
        .expect("stackgate bug: no gate P05-PRE")
        .run(snapshot, profile);
    let mut plan = Plan::new("octavia-configure-resources");
    let label = pre.outcome.as_deref().unwrap_or(pre.status.label());
    let line = format!("P05-PRE {label}: {}", pre.summary);
    plan.resolve("P05-PRE", line.clone());
    match pre.status {
        Status::Proceed => {}
        Status::Skip => {
            plan.note(format!(
                "{line}; nothing to do (P05-POST checks the control plane)"
            ));
            return Ok(plan);
        }
        Status::Precondition => return Err(Refusal::Precondition(line)),
        _ => {
            return Err(Refusal::Guard(format!(
                "{line}; configure-resources runs only on P05-PRE PROCEED"
            )));
        }
    }
    let mut check = gate_holds("P05-POST", profile).polled(bring_up());
    check.describe = format!(
        "P05-POST holds: {} active, the lb-mgmt resources present, {} up with its ULA on every unit (its bring-up, ovs-vsctl's \"no row {}\" until the port exists, waited out)",
        p5.octavia, p5.mgmt_interface, p5.mgmt_interface
    );
    plan.push(
        Step::run(
            [
                "juju",
                "run",
                "-m",
                &profile.model,
                &format!("--wait={JUJU_WAIT}"),
                &format!("{}/leader", p5.octavia),
                "configure-resources",
            ],
            format!(
                "Step 5.1: charm-octavia creates {}, {}, {} and each unit's {} (juju waits up to {JUJU_WAIT} for the task)",
                p5.lb_mgmt_network, p5.lb_mgmt_subnet, p5.lb_mgmt_security_group, p5.mgmt_interface
            ),
            check,
        )
        .targets([Target::Model {
            name: profile.model.clone(),
        }])
        .timeout(JUJU_RUN_TIMEOUT),
    );
    Ok(plan)
}
