//! The simulated phase-00 rehearsal from the dirty testcloud, as
//! features/phase-00/rehearsal.feature runs it: teardown-destroy, lbaas-net-remove,
//! osd-wipe, reenroll and the carve of four hosts, each dry-run then applied with its
//! fingerprint and proven step by step, to P00-EXIT PASS; then phase 01's model-prep on
//! the model-less testcloud to P01-MODEL-SPACES PASS. Waits take simulated time.
//!
//! `cargo bench --bench rehearsal` prints the wall time of one whole rehearsal.

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use stackgate::actions::executor::{Operator, Outcome};
use stackgate::actions::plan::SecretNeed;
use stackgate::actions::wait::{ManualClock, Silent};
use stackgate::actions::{self, ActionArgs, Context, ExecOptions};
use stackgate::gates::{self, Status};
use stackgate::profile::Profile;
use stackgate::run::{RunOptions, evaluate};
use stackgate::runner::Logged;
use stackgate::sim::{Sim, SimConfig};
use stackgate::world::World;

struct Typist;

impl Operator for Typist {
    fn confirm(&self, _: &str) -> Option<String> {
        None
    }

    fn secret(&self, _: &SecretNeed) -> Result<Vec<u8>, String> {
        Ok(b"bench-password".to_vec())
    }
}

async fn apply(sim: &Arc<Sim>, profile: &Profile, name: &str, host: Option<&str>) {
    let clock = ManualClock::new();
    let ctx = Context {
        runner: Arc::new(Logged::new(sim.clone())),
        profile,
        clock: &clock,
        progress: &Silent,
        operator: &Typist,
    };
    let action = actions::by_name(name).expect("the action exists");
    let args = ActionArgs {
        host: host.map(str::to_string),
        stamp: "20261202T120000Z".into(),
    };
    let dry = actions::execute(action, &args, &ExecOptions::default(), &ctx).await;
    let options = ExecOptions {
        apply: true,
        confirm: Some(profile.model.clone()),
        reviewed: dry.plan.map(|p| p.fingerprint),
        run: RunOptions::default(),
    };
    let report = actions::execute(action, &args, &options, &ctx).await;
    assert!(
        matches!(report.outcome, Outcome::Done | Outcome::NothingToDo),
        "{name}: {report:#?}"
    );
}

async fn holds(sim: &Arc<Sim>, profile: &Profile, id: &str) {
    let gate = gates::by_id(id).expect("the gate exists");
    let runner = Arc::new(Logged::new(sim.clone()));
    let (_, v) = evaluate(&[gate], profile, runner, RunOptions::default()).await;
    assert_eq!(v[0].status, Status::Pass, "{:#?}", v[0]);
}

fn simulated(name: &str) -> (Arc<Sim>, Profile) {
    let world = World::embedded(&format!("testcloud/{name}")).expect("the world loads");
    let profile = Profile::embedded(&world.profile).expect("the profile is embedded");
    let sim = Sim::new(world, "admin", SimConfig::default()).expect("the world simulates");
    (Arc::new(sim), profile)
}

async fn rehearse() {
    let (sim, profile) = simulated("sim-phase00-dirty");
    for action in [
        "teardown-destroy",
        "lbaas-net-remove",
        "osd-wipe",
        "reenroll",
    ] {
        apply(&sim, &profile, action, None).await;
    }
    for host in ["openstack0", "openstack1", "openstack2", "openstack3"] {
        apply(&sim, &profile, "carve", Some(host)).await;
    }
    holds(&sim, &profile, "P00-EXIT").await;
    let (sim, profile) = simulated("phase01-dead-default-space");
    apply(&sim, &profile, "model-prep", None).await;
    holds(&sim, &profile, "P01-MODEL-SPACES").await;
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut group = c.benchmark_group("rehearsal");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("phase00_dirty_to_exit_then_phase01_model_prep", |b| {
        b.iter(|| runtime.block_on(rehearse()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
