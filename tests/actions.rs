//! The executor's guards on the simulator: dry-run changes nothing, `--apply` needs the
//! reviewed plan's fingerprint and refuses a stale one, a destructive plan needs the
//! model name typed, protected machines are never targets, a failed post-condition
//! stops the run, and a second apply plans nothing.

use std::sync::Arc;

use stackgate::actions::wait::{ManualClock, Silent};
use stackgate::actions::{self, ActionArgs, Context, ExecOptions, NoOperator, Outcome};
use stackgate::gates::{self, Status};
use stackgate::profile::Profile;
use stackgate::run::{RunOptions, evaluate};
use stackgate::runner::Logged;
use stackgate::sim::{Sim, SimConfig};
use stackgate::world::World;

/// Words only a mutating argv holds: a dry-run must run none of them.
const MUTATING: &[&str] = &[
    "detach-interface",
    "net-destroy",
    "net-undefine",
    "rm",
    "create",
    "chown",
    "chmod",
    "tee",
    "mkdir",
    "destroy-model",
    "remove-machine",
    "delete",
    "update-nodes",
    "link-subnet",
    "create-bridge",
    "create-vlan",
    "release",
    "update",
    "add-model",
    "reload-spaces",
    "export-bundle",
];

fn mutations(sim: &Sim) -> Vec<String> {
    sim.history()
        .into_iter()
        .filter(|argv| argv.iter().any(|w| MUTATING.contains(&w.as_str())))
        .map(|argv| argv.join(" "))
        .collect()
}

fn sim(world: &str) -> (Arc<Sim>, Profile) {
    let world = World::embedded(&format!("testcloud/{world}")).unwrap();
    let profile = Profile::embedded(&world.profile).unwrap();
    let sim = Sim::new(world, "admin", SimConfig::default()).unwrap();
    (Arc::new(sim), profile)
}

fn args() -> ActionArgs {
    ActionArgs {
        host: None,
        stamp: "20261202T120000Z".into(),
    }
}

async fn act(
    sim: &Arc<Sim>,
    profile: &Profile,
    action: &str,
    options: ExecOptions,
) -> actions::ActionReport {
    let clock = ManualClock::new();
    let ctx = Context {
        runner: Arc::new(Logged::new(sim.clone())),
        profile,
        clock: &clock,
        progress: &Silent,
        operator: &NoOperator,
    };
    let action = actions::by_name(action).unwrap();
    actions::execute(action, &args(), &options, &ctx).await
}

/// Dry-run, then apply the reviewed plan with the model name typed.
async fn apply(sim: &Arc<Sim>, profile: &Profile, action: &str) -> actions::ActionReport {
    let dry = act(sim, profile, action, ExecOptions::default()).await;
    let Some(plan) = dry.plan else {
        return dry;
    };
    act(
        sim,
        profile,
        action,
        ExecOptions {
            apply: true,
            confirm: Some(profile.model.clone()),
            reviewed: Some(plan.fingerprint),
            run: RunOptions::default(),
        },
    )
    .await
}

async fn gate(sim: &Arc<Sim>, profile: &Profile, id: &str) -> Status {
    let gate = gates::by_id(id).unwrap();
    let runner = Arc::new(Logged::new(sim.clone()));
    let (_, verdicts) = evaluate(&[gate], profile, runner, RunOptions::default()).await;
    verdicts[0].status
}

#[tokio::test]
async fn a_dry_run_runs_no_mutation_and_shows_every_resolved_id() {
    let (sim, profile) = sim("phase00-lbaas-present");
    let report = act(&sim, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    assert_eq!(report.outcome, Outcome::Planned, "{report:#?}");
    assert!(!report.applied);
    assert_eq!(mutations(&sim), Vec::<String>::new());
    let plan = report.plan.unwrap();
    assert!(plan.steps.iter().any(|s| {
        s.command
            .contains("detach-interface openstack0 network --mac")
    }));
    assert!(
        plan.resolved
            .keys()
            .any(|k| k.contains("openstack3 NIC on 8_lbaas"))
    );
    assert_eq!(report.outcome.exit_code(), 0);
}

#[tokio::test]
async fn apply_without_a_reviewed_plan_or_with_a_wrong_confirmation_changes_nothing() {
    let (sim, profile) = sim("phase00-lbaas-present");
    let unreviewed = act(
        &sim,
        &profile,
        "lbaas-net-remove",
        ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            ..ExecOptions::default()
        },
    )
    .await;
    assert!(
        matches!(unreviewed.outcome, Outcome::Precondition(_)),
        "{unreviewed:?}"
    );
    assert_eq!(unreviewed.exit_code(), 2);
    let fingerprint = unreviewed.plan.unwrap().fingerprint;
    for confirm in [None, Some("openstack-old".to_string())] {
        let report = act(
            &sim,
            &profile,
            "lbaas-net-remove",
            ExecOptions {
                apply: true,
                confirm,
                reviewed: Some(fingerprint.clone()),
                run: RunOptions::default(),
            },
        )
        .await;
        assert!(
            matches!(report.outcome, Outcome::Unconfirmed(_)),
            "{report:?}"
        );
        assert_eq!(report.exit_code(), 2);
    }
    assert_eq!(mutations(&sim), Vec::<String>::new());
}

#[tokio::test]
async fn a_plan_reviewed_on_another_state_is_refused_as_stale() {
    // The operator reviewed the plan while every domain was shut off ...
    let (reviewed_on, profile) = sim("phase00-lbaas-present");
    let reviewed = act(&reviewed_on, &profile, "osd-wipe", ExecOptions::default()).await;
    // ... and one that saw nothing to do is stale too once there is something to do.
    let (clean, _) = sim("phase00-ready-carved");
    let nothing = act(&clean, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    assert_eq!(nothing.outcome, Outcome::NothingToDo);
    let (sim, _) = sim("phase00-lbaas-present");
    let report = act(
        &sim,
        &profile,
        "lbaas-net-remove",
        ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            reviewed: Some(nothing.plan.unwrap().fingerprint),
            run: RunOptions::default(),
        },
    )
    .await;
    assert!(matches!(report.outcome, Outcome::Stale(_)), "{report:?}");
    assert_eq!(report.exit_code(), 1);
    let report = act(
        &sim,
        &profile,
        "lbaas-net-remove",
        ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            reviewed: reviewed.plan.map(|p| p.fingerprint),
            run: RunOptions::default(),
        },
    )
    .await;
    assert!(matches!(report.outcome, Outcome::Stale(_)), "{report:?}");
    assert_eq!(mutations(&sim), Vec::<String>::new());
}

#[tokio::test]
async fn a_running_domain_refuses_the_detach_and_the_wipe() {
    let (sim, profile) = sim("phase00-domain-running");
    let report = act(&sim, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    let Outcome::Refused(why) = &report.outcome else {
        panic!("{report:?}")
    };
    assert!(why.contains("openstack1 is running"), "{why}");
    assert_eq!(report.exit_code(), 1);
    assert_eq!(mutations(&sim), Vec::<String>::new());
}

#[tokio::test]
async fn lbaas_net_remove_applies_proves_each_step_and_is_idempotent() {
    let (sim, profile) = sim("phase00-lbaas-present");
    assert_ne!(gate(&sim, &profile, "P00-LBAAS").await, Status::Pass);
    let report = apply(&sim, &profile, "lbaas-net-remove").await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert!(report.steps.iter().all(|s| s.ok));
    assert_eq!(gate(&sim, &profile, "P00-LBAAS").await, Status::Pass);
    let again = act(&sim, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:#?}");
}

#[tokio::test]
async fn osd_wipe_recreates_the_disks_blank_and_is_idempotent() {
    let (sim, profile) = sim("phase00-osd-data");
    assert_ne!(gate(&sim, &profile, "P00-OSD").await, Status::Pass);
    let report = apply(&sim, &profile, "osd-wipe").await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert_eq!(gate(&sim, &profile, "P00-OSD").await, Status::Pass);
    let again = act(&sim, &profile, "osd-wipe", ExecOptions::default()).await;
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:#?}");
}
