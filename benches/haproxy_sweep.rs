//! How long the P03-HAPROXY sweep takes over 31 units when each unit's `juju exec`
//! takes 1 s (the controller round trip to a unit's agent): with the reader's bound
//! (`--jobs`, default 32) the reads overlap and the sweep finishes near the slowest unit,
//! about 1 s, not the 31 s of one unit after another. The 31 units are the principal
//! units of the settled testcloud world (seed 004: "haproxy sweep ZERO DOWN across 31
//! principal units"), each answering a recorded `show stat`.
//!
//! `cargo bench --bench haproxy_sweep` (10 samples: it finishes in about 20 s).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::BoxFuture;

use stackgate::cli::{Format, GateRun};
use stackgate::gates::{self, Status};
use stackgate::profile::Profile;
use stackgate::run::RunOptions;
use stackgate::runner::{CommandOutput, CommandRunner, Invocation, Logged, Replay, RunError};
use stackgate::snapshot::DEFAULT_JOBS;
use stackgate::sources::haproxy;
use stackgate::world::World;

const WORLD: &str = "testcloud/phase03-settled";
const LATENCY: Duration = Duration::from_secs(1);

/// `juju status` from the settled world at once; every `juju exec` after 1 s, with the
/// recorded `show stat` of keystone/0.
struct SlowUnits {
    replay: Replay,
    show_stat: bytes::Bytes,
}

impl CommandRunner for SlowUnits {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            if invocation.argv().get(1).map(String::as_str) != Some("exec") {
                return self.replay.run(invocation).await;
            }
            tokio::time::sleep(LATENCY).await;
            Ok(CommandOutput {
                argv: invocation.argv().to_vec(),
                exit_code: Some(0),
                stdout: self.show_stat.clone(),
                stderr: Vec::new(),
                duration: LATENCY,
            })
        })
    }

    fn describe(&self) -> String {
        "slow units".to_string()
    }
}

fn haproxy_sweep(c: &mut Criterion) {
    let world = World::embedded(WORLD).expect("the settled world is embedded");
    let mut profile = Profile::testcloud();
    let sweep = profile.haproxy.as_mut().expect("testcloud sweeps haproxy");
    let recorded = haproxy::stat_invocation(&profile.model, "keystone/0", &sweep.stats_socket);
    let show_stat = world
        .get(recorded.argv())
        .expect("the settled world records keystone/0's show stat")
        .stdout
        .clone();
    // Every principal application of the world: 31 principal units.
    let status = stackgate::sources::juju::parse_status(&CommandOutput {
        argv: vec![],
        exit_code: Some(0),
        stdout: world
            .get(stackgate::sources::juju::status_invocation(&profile.model).argv())
            .expect("the settled world records juju status")
            .stdout
            .clone(),
        stderr: vec![],
        duration: Duration::ZERO,
    })
    .expect("the settled status parses");
    sweep.applications = status
        .applications
        .iter()
        .filter(|(_, app)| !app.is_subordinate())
        .map(|(name, _)| name.clone())
        .collect();

    let run = GateRun {
        phase: "03".into(),
        gates: vec![gates::by_id("P03-HAPROXY").expect("P03-HAPROXY is in the catalog")],
        profile,
        runner: Arc::new(Logged::new(SlowUnits {
            replay: Replay::new(world),
            show_stat,
        })),
        format: Format::Text,
        options: RunOptions {
            timeout: Duration::from_secs(30),
            jobs: DEFAULT_JOBS,
            today: RunOptions::default().today,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    // The sweep measured is the real one: 31 units read, all UP.
    let report = runtime.block_on(run.execute());
    let verdict = &report.verdicts[0];
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.summary);
    assert_eq!(verdict.metrics["units"], 31);

    let mut group = c.benchmark_group("haproxy_sweep/31_units_1s_each");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(12));
    group.bench_function(format!("jobs_{DEFAULT_JOBS}"), |b| {
        b.iter(|| runtime.block_on(run.execute()))
    });
    group.finish();
}

criterion_group!(benches, haproxy_sweep);
criterion_main!(benches);
