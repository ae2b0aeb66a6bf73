//! `gate --wait` on the simulator: the certificate cascade after vault's generate-root-ca
//! settles after K polls and the wait passes K + 3 polls in (three passing polls in a
//! row); a unit going to `error` mid-wait ends it at once. The clock is simulated: an
//! hour's bound takes no wall time. The same events feed the progress line, the JUnit
//! report and the as-executed log, which hold the last poll.

use crate::common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use stackgate::actions::wait::{Clock, ManualClock, WaitOutcome, WaitPolicy};
use stackgate::cli::GateRun;
use stackgate::events::{Collect, Event};
use stackgate::gates::{self, Status};
use stackgate::report::{self, RunReport};
use stackgate::runner::{CommandRunner, Invocation, Logged};
use stackgate::sim::{Sim, SimConfig};

/// A simulated phase-02 cloud whose vault charm was authorized and told to generate its
/// root CA, with `cascade` the `juju status` recordings shown after it.
async fn after_generate_root_ca(
    cascade: Vec<(&'static str, u32)>,
) -> (Sim, stackgate::profile::Profile) {
    let config = SimConfig {
        cert_cascade: cascade,
        ..SimConfig::default()
    };
    let (sim, profile) =
        stackgate::rehearsal::simulate("testcloud/sim-phase02-fresh", config).expect("simulates");
    let sim = std::sync::Arc::try_unwrap(sim).unwrap_or_else(|_| panic!("one owner"));
    let mut params = tempfile::NamedTempFile::new().unwrap();
    writeln!(params, "token: simulated-child-token").unwrap();
    let path = params.path().display().to_string();
    for argv in [
        vec![
            "juju",
            "run",
            "-m",
            "openstack",
            "--params",
            &path,
            "vault/leader",
            "authorize-charm",
        ],
        vec![
            "juju",
            "run",
            "-m",
            "openstack",
            "vault/leader",
            "generate-root-ca",
        ],
    ] {
        let out = sim
            .run(&Invocation::new(argv.clone()))
            .await
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        assert_eq!(
            out.exit_code,
            Some(0),
            "{argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (sim, profile)
}

fn run_of(sim: Sim, profile: stackgate::profile::Profile) -> GateRun {
    let mut run = GateRun::new(
        "02",
        vec![gates::by_id("P02-AUTHORIZED").unwrap()],
        profile,
        Logged::new(sim),
    );
    run.options.today = common::TODAY.parse().unwrap();
    run
}

fn policy() -> WaitPolicy {
    WaitPolicy {
        passes: 3,
        interval: Duration::from_secs(10),
        bound: Duration::from_secs(3600),
    }
}

#[tokio::test]
async fn the_cascade_settles_after_k_polls_and_the_wait_passes_three_in_a_row_later() {
    // K = 4 polls unsettled: two with every consumer waiting, two with ovn-chassis/1
    // still waiting; then phase02-authorized.
    let (sim, profile) = after_generate_root_ca(vec![
        ("testcloud/phase02-cascade-started", 2),
        ("testcloud/phase02-chassis-awaiting-certs", 2),
    ])
    .await;
    let k = 4;
    let run = run_of(sim, profile);
    let clock = ManualClock::new();
    let events = Collect::new();
    let wall = Instant::now();
    let (outcome, verdicts) = run.wait(policy(), &clock, &events).await;
    assert!(wall.elapsed() < Duration::from_secs(5), "no wall time");
    let WaitOutcome::Passed { polls, waited, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        *polls,
        k + 3,
        "K unsettled polls, then three passing in a row"
    );
    assert_eq!(*waited, Duration::from_secs(10 * u64::from(k + 2)));
    assert_eq!(clock.now(), *waited);
    assert_eq!(verdicts[0].status, Status::Pass);

    let events = events.events();
    let polls: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::WaitPoll { .. }))
        .collect();
    assert_eq!(polls.len(), (k + 3) as usize);
    // While unsettled, each poll names the gate and why; the streak counts passes.
    let Event::WaitPoll {
        pending, streak, ..
    } = polls[0]
    else {
        unreachable!()
    };
    assert_eq!(*streak, 0);
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, "P02-AUTHORIZED");
    assert!(
        pending[0].why.contains("not active: "),
        "{}",
        pending[0].why
    );
    let Event::WaitPoll {
        pending, streak, ..
    } = polls[3]
    else {
        unreachable!()
    };
    assert!(
        pending[0].why.contains("not active: ovn-chassis/1"),
        "{}",
        pending[0].why
    );
    assert_eq!(*streak, 0);
    let streaks: Vec<u32> = polls
        .iter()
        .map(|e| match e {
            Event::WaitPoll { streak, .. } => *streak,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(streaks, [0, 0, 0, 0, 1, 2, 3]);

    // The reports hold the last poll and how long it waited.
    let mut all = events.clone();
    all.push(Event::RunFinished {
        result: "PASS".into(),
        exit_code: 0,
        interrupted: None,
        elapsed: Duration::from_millis(5),
    });
    let report = RunReport::from_events(&all);
    assert_eq!(report.verdicts.len(), 1);
    assert_eq!(report.verdicts[0].status, Status::Pass);
    assert_eq!(report.reads.len(), 1, "the last poll's one juju status");
    let wait = report.wait.as_ref().expect("the wait's summary");
    assert_eq!(
        (wait.outcome, wait.polls, wait.waited_secs),
        ("PASSED", 7, 60)
    );
    let text = report::render_text(&report);
    assert!(
        text.contains(
            "waited: PASSED after 7 poll(s) over 60s (3 in a row needed, every 10s, bound 3600s)"
        ),
        "{text}"
    );
    let junit = report::junit::render(&all);
    assert_eq!(junit.matches("<testcase ").count(), 1, "{junit}");
    assert!(junit.contains("PASSED after 7 poll(s)"), "{junit}");
    let log = report::log::render(&all);
    assert!(
        log.contains("Waited for phase 02 gates: PASSED after 7 poll(s) over 60s"),
        "{log}"
    );
    assert!(log.contains("  - P02-AUTHORIZED PASS -- "), "{log}");
}

#[tokio::test]
async fn a_unit_going_to_error_mid_wait_ends_it_at_once() {
    let (sim, profile) = after_generate_root_ca(vec![
        ("testcloud/phase02-cascade-started", 2),
        ("testcloud/phase02-cascade-unit-error", u32::MAX),
    ])
    .await;
    let run = run_of(sim, profile);
    let clock = ManualClock::new();
    let events = Collect::new();
    let (outcome, verdicts) = run.wait(policy(), &clock, &events).await;
    let WaitOutcome::Failed {
        polls,
        waited,
        reason,
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(*polls, 3, "two polls waiting, the third sees the error");
    assert_eq!(*waited, Duration::from_secs(20));
    assert!(reason.contains("ovn-chassis/1 in error"), "{reason}");
    assert_eq!(verdicts[0].status, Status::Fail);
    assert!(verdicts[0].unsettleable.is_some());
    // The progress line names it.
    let last = events
        .events()
        .into_iter()
        .rfind(|e| matches!(e, Event::WaitPoll { .. }))
        .unwrap();
    let line = stackgate::cli::poll_line(&last).unwrap();
    assert!(
        line.contains("P02-AUTHORIZED FAIL (ovn-chassis/1 in error"),
        "{line}"
    );
}

#[tokio::test]
async fn a_precondition_or_a_hold_ends_the_wait_and_a_world_that_never_settles_times_out() {
    // The login expired: every poll would be PRECONDITION; the first ends the wait.
    let world = stackgate::world::World::embedded("testcloud/phase02-login-expired").unwrap();
    let profile = stackgate::profile::Profile::testcloud();
    let mut run = GateRun::new(
        "02",
        gates::for_phase("02"),
        profile.clone(),
        Logged::new(stackgate::runner::Replay::new(world)),
    );
    run.options.today = common::TODAY.parse().unwrap();
    let clock = ManualClock::new();
    let (outcome, _) = run.wait(policy(), &clock, &Collect::new()).await;
    assert!(
        matches!(&outcome, WaitOutcome::Failed { polls: 1, reason, .. } if reason.contains("PRECONDITION")),
        "{outcome:?}"
    );
    // Vault already initialized: P02-D and P02-SEALED HOLD, and a HOLD is a guard.
    let world = stackgate::world::World::embedded("testcloud/phase02-vault-initialized").unwrap();
    let mut run = GateRun::new(
        "02",
        vec![gates::by_id("P02-SEALED").unwrap()],
        profile.clone(),
        Logged::new(stackgate::runner::Replay::new(world)),
    );
    run.options.today = common::TODAY.parse().unwrap();
    let (outcome, _) = run
        .wait(policy(), &ManualClock::new(), &Collect::new())
        .await;
    assert!(
        matches!(&outcome, WaitOutcome::Failed { polls: 1, reason, .. } if reason.contains("HOLD")),
        "{outcome:?}"
    );
    // A recording stuck mid-cascade never settles: the bound ends it, with the last state.
    let world =
        stackgate::world::World::embedded("testcloud/phase02-chassis-awaiting-certs").unwrap();
    let mut run = GateRun::new(
        "02",
        vec![gates::by_id("P02-AUTHORIZED").unwrap()],
        profile,
        Logged::new(stackgate::runner::Replay::new(world)),
    );
    run.options.today = common::TODAY.parse().unwrap();
    let clock = ManualClock::new();
    let (outcome, _) = run
        .wait(
            WaitPolicy {
                bound: Duration::from_secs(120),
                ..policy()
            },
            &clock,
            &Collect::new(),
        )
        .await;
    assert!(
        matches!(&outcome, WaitOutcome::TimedOut { polls: 13, last, .. } if last.contains("P02-AUTHORIZED FAIL")),
        "{outcome:?}"
    );
    assert_eq!(clock.now(), Duration::from_secs(120));
}
