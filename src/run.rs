//! The run pipeline, below the CLI: a gate list's reads, then the follow-up reads they
//! depend on, into one snapshot, then the verdicts. The binary, the features' steps,
//! the benches and the tests reach gates through here, so whatever re-reads the cloud
//! (a gate run, a post-condition after an action step) reads and decides the same way.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;

use crate::gates::{GateSpec, Verdict};
use crate::profile::Profile;
use crate::runner::Logged;
use crate::snapshot::{DEFAULT_JOBS, Reader, Snapshot};

/// How the reads of one evaluation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// How long one command may take before its process group is killed.
    pub timeout: Duration,
    /// Commands run at most this many at once.
    pub jobs: usize,
    /// The day waivers are judged on (UTC): a waiver holds through its expiry date.
    pub today: NaiveDate,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: crate::runner::DEFAULT_TIMEOUT,
            jobs: DEFAULT_JOBS,
            today: chrono::Utc::now().date_naive(),
        }
    }
}

/// Reads what `gates` need through `runner` (each distinct argv once, independent reads
/// at once, no output past the profile's bound) and evaluates them in order. The
/// snapshot's calls are every call `runner` has logged. The profile's waivers in force
/// on `options.today` are applied to the verdicts.
pub async fn evaluate(
    gates: &[&'static GateSpec],
    profile: &Profile,
    runner: Arc<Logged>,
    options: RunOptions,
) -> (Snapshot, Vec<Verdict>) {
    let snapshot = {
        let reader = Reader::new(runner, options.timeout)
            .with_jobs(options.jobs)
            .with_max_output(profile.runner.max_output_bytes());
        read(gates, profile, &reader).await
        // The reader's outputs go here, before the gates: they judge the parsed models,
        // and a 29 MB `machines read` held through them was a third of the run's peak.
    };
    let verdicts = verdicts(gates, &snapshot, profile, options.today);
    (snapshot, verdicts)
}

/// The gates' verdicts over what was read, as a run judges them: the profile's waivers
/// in force on `today` applied.
pub fn verdicts(
    gates: &[&'static GateSpec],
    snapshot: &Snapshot,
    profile: &Profile,
    today: NaiveDate,
) -> Vec<Verdict> {
    let verdicts = judge(gates, snapshot, profile);
    crate::waivers::apply(verdicts, &profile.waivers, today)
}

/// The gates' verdicts in order, unwaived: each gate made of other gates' verdicts
/// takes those given before it (P00-EXIT after its parts: P00-CARVE is not judged twice).
fn judge(gates: &[&'static GateSpec], snapshot: &Snapshot, profile: &Profile) -> Vec<Verdict> {
    let mut verdicts = Vec::with_capacity(gates.len());
    for g in gates {
        let v = g.run_after(snapshot, profile, &verdicts);
        verdicts.push(v);
    }
    verdicts
}

/// What `gates` read: their reads, then the follow-ups those answers call for.
pub async fn read(gates: &[&'static GateSpec], profile: &Profile, reader: &Reader) -> Snapshot {
    let reads = gates.iter().flat_map(|g| (g.reads)(profile));
    let mut snapshot = Snapshot::collect(reader, reads).await;
    let follow_ups: Vec<_> = gates
        .iter()
        .filter_map(|g| g.follow_up)
        .flat_map(|f| f(&snapshot, profile))
        .collect();
    snapshot.extend(reader, follow_ups).await;
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::Status;
    use crate::runner::Replay;
    use crate::world::World;

    #[tokio::test]
    async fn the_default_phase02_world_evaluates_through_the_pipeline() {
        let world = World::embedded("testcloud/phase02-pre-vault").unwrap();
        let profile = Profile::embedded(&world.profile).unwrap();
        let gates = crate::gates::for_phase("02");
        let (snapshot, verdicts) = evaluate(
            &gates,
            &profile,
            Arc::new(Logged::new(Replay::new(world))),
            RunOptions::default(),
        )
        .await;
        assert_eq!(verdicts.len(), gates.len());
        assert!(
            verdicts
                .iter()
                .all(|v| matches!(v.status, Status::Pass | Status::Proceed)),
            "{verdicts:#?}"
        );
        assert!(!snapshot.calls().is_empty());
    }

    /// P00-EXIT in a phase run takes its parts' verdicts from the run; alone, it judges
    /// them itself. The phase lists every part before the exit gate, and on every
    /// phase-00 world each part's verdict in the run is the part's alone, and the exit
    /// gate's in the run is the exit gate's alone, evidence and all.
    #[tokio::test]
    async fn the_exit_gate_over_the_runs_parts_is_the_exit_gate_alone() {
        let exit = crate::gates::by_id("P00-EXIT").unwrap();
        let gates = crate::gates::for_phase("00");
        let at = |id: &str| {
            gates
                .iter()
                .position(|g| g.id == id)
                .unwrap_or_else(|| panic!("{id} is not a phase-00 gate"))
        };
        for part in crate::gates::EXIT_PARTS {
            assert!(at(part) < at(exit.id), "{part} comes after {}", exit.id);
        }
        let worlds: Vec<String> = crate::world::EMBEDDED
            .get_dir("testcloud")
            .unwrap()
            .dirs()
            .filter_map(|d| d.path().file_name()?.to_str().map(str::to_owned))
            .filter(|n| n.starts_with("phase00-"))
            .collect();
        assert!(worlds.len() > 20, "{worlds:?}");
        let json = |v: &Verdict| serde_json::to_string(v).unwrap();
        for name in worlds {
            let world = World::embedded(&format!("testcloud/{name}")).unwrap();
            let profile = Profile::embedded(&world.profile).unwrap();
            let runner = Arc::new(Logged::new(Replay::new(world)));
            let reader = Reader::new(runner, crate::runner::DEFAULT_TIMEOUT);
            let snapshot = read(&gates, &profile, &reader).await;
            let judged = judge(&gates, &snapshot, &profile);
            for id in crate::gates::EXIT_PARTS.iter().chain([&exit.id]) {
                let alone = crate::gates::by_id(id).unwrap().run(&snapshot, &profile);
                assert_eq!(json(&judged[at(id)]), json(&alone), "{name}: {id}");
            }
        }
    }
}
