//! The clap front end, in two stages: raw arguments, then a validated [`GateRun`]
//! (profile loaded, world loaded, gates chosen) before any command runs.

mod act;
mod fixtures;
mod record;
mod rehearse;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::gates::{self, GateSpec};
use crate::profile::Profile;
use crate::report::{self, RunReport};
use crate::run::{self, RunOptions};
use crate::runner::{CommandRunner, DEFAULT_TIMEOUT, Live, Logged, Replay};
use crate::snapshot::{DEFAULT_JOBS, Snapshot};
use crate::world::{self, World};

#[derive(Debug, Parser)]
#[command(
    name = "stackgate",
    version,
    about = "Exit gates for a charmed OpenStack rebuild on MAAS + Juju"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a phase's gates. Exit 0 pass|proceed, 1 fail|hold, 2 precondition, 130
    /// interrupted (SIGINT or SIGTERM: running commands are killed).
    Gate(GateArgs),
    /// Plan a phase action (dry-run, the default) or apply a plan you reviewed. Exit 0
    /// done, nothing to do or plan shown, 1 refused or a post-condition failed, 2
    /// precondition or usage.
    Act(act::ActArgs),
    /// Rehearse the rebuild on the simulator: every phase's gates and actions in the
    /// runbooks' order, each action dry-run then applied. Exit 0 only if every exit gate
    /// passed, 1 otherwise.
    Rehearse(rehearse::RehearseArgs),
    /// Run a phase's gates live and write what every command printed into a fixture
    /// world, secrets redacted at capture. Exit as `gate` does; 2 if the world could not
    /// be written (it exists, or a file still matches a secret rule).
    Record(record::RecordArgs),
    /// Check fixture worlds against the sources: every recording a gate reads parses,
    /// and every declared key path is present in some recording of its source. Exit 0
    /// clean, 1 a parse failure or a declared key no recording holds.
    Fixtures(fixtures::FixturesArgs),
    /// Compare two recordings of one command (files, or two worlds): keys added,
    /// removed, renamed and changed in type, and the gates whose key paths they touch.
    /// Exit 0 when no change touches a gate's key path (changes are
    /// still listed), 1 when one does, 2 on a usage error.
    Drift(fixtures::DriftArgs),
    /// Print every gate with its phase, tags and description (--actions: every action
    /// with its phase, guards and whether it is destructive).
    List {
        #[arg(long)]
        actions: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The phase whose gates run: 02, 03, ...
    #[arg(long)]
    pub phase: String,
    /// Read the cloud through the real CLIs on this machine.
    #[arg(long, conflicts_with = "world")]
    pub live: bool,
    /// Read a fixture world directory instead of the cloud.
    #[arg(long, value_name = "DIR")]
    pub world: Option<PathBuf>,
    /// Site profile (TOML). Default: the embedded testcloud profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Run only these gates (repeatable), e.g. --gate P02-C.
    #[arg(long = "gate", value_name = "ID")]
    pub gates: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Seconds one command may run before its process group is killed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Commands run at most this many at once (the per-unit haproxy sweep).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS)]
    pub jobs: usize,
    /// A later moment of the phase (phase 02: init, unseal, authorize), run on that
    /// moment's world. Default: the phase's first moment (phase 02: the pre-flight).
    #[arg(long, value_name = "NAME")]
    pub moment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What the binary prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

impl Outcome {
    pub(crate) fn usage_error(message: String) -> Self {
        Outcome {
            stdout: String::new(),
            stderr: format!("stackgate: {message}\n"),
            exit_code: 2,
        }
    }
}

/// The gates a run chooses: the phase's (or its moment's), or the ones `--gate` names
/// among every gate of the phase.
pub(crate) fn choose_gates(
    phase: &str,
    moment: Option<&str>,
    ids: &[String],
) -> Result<(String, Vec<&'static GateSpec>), String> {
    let phase = normalize_phase(phase)?;
    let mut gates = gates::for_phase(&phase);
    if gates.is_empty() {
        return Err(format!(
            "no gates for phase {phase}; phases with gates: {}",
            gates::phases().join(", ")
        ));
    }
    if let Some(moment) = moment {
        gates = gates::for_moment(&phase, moment);
        if gates.is_empty() {
            let known = gates::phase_moments(&phase);
            return Err(format!(
                "phase {phase} has no moment {moment:?}; its moments: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    if !ids.is_empty() {
        // --gate chooses among every gate of the phase, whatever its moment.
        gates = gates::all_of_phase(&phase);
        for id in ids {
            if !gates.iter().any(|g| g.id.eq_ignore_ascii_case(id)) {
                return Err(format!(
                    "gate {id} is not a phase {phase} gate (see `stackgate list`)"
                ));
            }
        }
        gates.retain(|g| ids.iter().any(|id| g.id.eq_ignore_ascii_case(id)));
    }
    Ok((phase, gates))
}

/// A validated gate run.
pub struct GateRun {
    pub phase: String,
    pub gates: Vec<&'static GateSpec>,
    pub profile: Profile,
    /// The backend, behind the log the report's reads come from.
    pub runner: Arc<Logged>,
    pub timeout: Duration,
    pub format: Format,
    /// Commands run at most this many at once.
    pub jobs: usize,
}

impl GateRun {
    pub fn from_args(args: &GateArgs) -> Result<GateRun, String> {
        let (phase, gates) = choose_gates(&args.phase, args.moment.as_deref(), &args.gates)?;
        if args.timeout == 0 {
            return Err("--timeout must be at least 1 second".into());
        }
        if args.jobs == 0 {
            return Err("--jobs must be at least 1".into());
        }
        let explicit_profile = match &args.profile {
            Some(path) => Some(Profile::from_file(path).map_err(|e| e.to_string())?),
            None => None,
        };
        // The profile comes first: a world names the profile it was recorded for, and
        // the live runner takes its output bound from the profile.
        let (runner, profile) = if args.live {
            let profile = explicit_profile.unwrap_or_else(Profile::testcloud);
            (Logged::new(live_for(&profile)), profile)
        } else {
            let world = match &args.world {
                Some(dir) => World::from_dir(dir),
                None => world::default_world(
                    "testcloud",
                    &match &args.moment {
                        Some(moment) => format!("{phase}-{moment}"),
                        None => phase.clone(),
                    },
                )
                .and_then(|name| World::embedded(&name)),
            }
            .map_err(|e| e.to_string())?;
            let profile = profile_for(explicit_profile, &world)?;
            (Logged::new(Replay::new(world)), profile)
        };
        Ok(GateRun {
            phase,
            gates,
            profile,
            runner: Arc::new(runner),
            timeout: Duration::from_secs(args.timeout),
            format: args.format,
            jobs: args.jobs,
        })
    }

    /// Reads what the chosen gates need, evaluates them, and builds the report.
    pub async fn execute(&self) -> RunReport {
        self.execute_with_snapshot().await.1
    }

    /// As [`GateRun::execute`], also returning what was read (for the features' steps,
    /// which assert on both, through the same path as the binary).
    pub async fn execute_with_snapshot(&self) -> (Snapshot, RunReport) {
        let options = RunOptions {
            timeout: self.timeout,
            jobs: self.jobs,
        };
        let (snapshot, verdicts) =
            run::evaluate(&self.gates, &self.profile, self.runner.clone(), options).await;
        let report = RunReport::new(
            &self.phase,
            snapshot.source.clone(),
            self.profile.name.clone(),
            verdicts,
            snapshot.calls(),
        );
        (snapshot, report)
    }

    /// `signal` reached stackgate mid-run: kills every command still running and
    /// reports the reads that finished and those it cut short, with no verdict. Call
    /// the runner's `interrupt` before dropping a run in flight, or its reads in flight
    /// are not in the report.
    pub fn interrupted(&self, signal: &str) -> RunReport {
        self.runner.interrupt();
        RunReport::interrupted(
            &self.phase,
            self.runner.describe(),
            self.profile.name.clone(),
            signal,
            &self.runner.records(),
        )
    }
}

/// SIGINT, SIGTERM, SIGHUP (the operator's ssh session dropped) and SIGQUIT, caught
/// instead of ending stackgate: its commands sit in sessions of their own, so a signal
/// that only ended stackgate would leave them all running.
pub(crate) struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
    quit: Signal,
}

impl Signals {
    /// Installs the handlers; done before any command starts, so no signal can end
    /// stackgate the default way while a command runs.
    pub(crate) fn watch() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// The name of the first signal that arrives.
    pub(crate) async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
            _ = self.quit.recv() => "SIGQUIT",
        }
    }
}

/// The live runner, bounded by the profile's `[runner] max_output_mib`.
pub(crate) fn live_for(profile: &Profile) -> Live {
    let max_output = profile
        .runner
        .max_output_bytes()
        .expect("Profile::parse rejects an output bound it cannot address");
    Live::new().with_max_output(max_output)
}

/// The profile given on the command line, or the embedded one the world names.
pub(crate) fn profile_for(explicit: Option<Profile>, world: &World) -> Result<Profile, String> {
    match explicit {
        Some(p) => Ok(p),
        None => Profile::embedded(&world.profile).ok_or_else(|| {
            format!(
                "the world was recorded for profile {}, which is not embedded: pass --profile FILE",
                world.profile
            )
        }),
    }
}

/// "2", "02" and "phase-02" all name phase 02.
fn normalize_phase(raw: &str) -> Result<String, String> {
    let digits = raw
        .trim()
        .trim_start_matches("phase-")
        .trim_start_matches("phase");
    match digits.parse::<u8>() {
        Ok(n) if n <= 99 => Ok(format!("{n:02}")),
        _ => Err(format!(
            "--phase takes a phase number such as 02, not {raw:?}"
        )),
    }
}

/// Runs the parsed arguments.
pub async fn run(args: Args) -> Outcome {
    match args.command {
        Command::List { actions } => Outcome {
            stdout: if actions {
                report::action::render_list()
            } else {
                report::render_list()
            },
            stderr: String::new(),
            exit_code: 0,
        },
        Command::Act(act_args) => act::run(act_args).await,
        Command::Record(record_args) => record::run(record_args).await,
        Command::Fixtures(fixtures_args) => fixtures::run_check(fixtures_args).await,
        Command::Drift(drift_args) => fixtures::run_drift(drift_args).await,
        Command::Rehearse(rehearse_args) => rehearse::run(rehearse_args).await,
        Command::Gate(gate_args) => {
            let run = match GateRun::from_args(&gate_args) {
                Ok(run) => run,
                Err(message) => return Outcome::usage_error(message),
            };
            let mut signals = match Signals::watch() {
                Ok(signals) => signals,
                Err(e) => {
                    return Outcome::usage_error(format!(
                        "cannot watch for SIGINT and SIGTERM: {e}"
                    ));
                }
            };
            let report = tokio::select! {
                report = run.execute() => report,
                signal = async {
                    let signal = signals.recv().await;
                    // Before select! drops the run: dropped, each read in flight would
                    // only be killed, and not logged as interrupted.
                    run.runner.interrupt();
                    signal
                } => run.interrupted(signal),
            };
            let stdout = match run.format {
                Format::Text => report::render_text(&report),
                Format::Json => report::render_json(&report),
            };
            Outcome {
                stdout,
                stderr: String::new(),
                exit_code: report.exit_code,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_normalize() {
        assert_eq!(normalize_phase("2").unwrap(), "02");
        assert_eq!(normalize_phase("02").unwrap(), "02");
        assert_eq!(normalize_phase("phase-03").unwrap(), "03");
        assert!(normalize_phase("two").is_err());
    }
}
