//! The clap front end, in two stages: raw arguments, then a validated [`GateRun`]
//! (profile loaded, world loaded, gates chosen) before any command runs.

mod act;
mod explain;

pub use act::poll_line;
mod fixtures;
mod record;
mod rehearse;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::actions::wait::{Clock, Poll, SystemClock, WaitOutcome, WaitPolicy, wait_for_gates};
use crate::events::{Collect, Event, Pending, Sink, Tee, Tool};
use crate::gates::{self, GateSpec, Status, Verdict};
use crate::profile::Profile;
use crate::report::{self, RunReport, TextOptions};
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
    /// Explain a gate: what it checks, the commands it reads, the scenarios that define
    /// it and the runbook and change-log lines it comes from.
    Explain {
        /// The gate's ID (P02-E), as `stackgate list` prints it.
        gate: String,
    },
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
    /// text (the terminal), json, junit (JUnit XML for CI) or log (an as-executed
    /// change-log entry, ASCII + LF).
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
    #[command(flatten)]
    pub wait: WaitArgs,
    /// More waivers (TOML `[[waiver]]` entries: gate, subject, justification, expires),
    /// besides the profile's. A malformed file fails before any command runs.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Judge waivers as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub terminal: TerminalArgs,
}

/// `gate --wait`: re-read and re-run the gates until each passes N polls in a row.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// Re-read the cloud and re-run the gates until every one passes --passes polls in a
    /// row; a state waiting cannot fix (a unit in error, a PRECONDITION, a HOLD) ends it
    /// at once. Progress goes to stderr.
    #[arg(long)]
    pub wait: bool,
    /// Consecutive passing polls the wait needs; any miss resets the count.
    #[arg(long, value_name = "N", default_value_t = 3, requires = "wait")]
    pub passes: u32,
    /// Seconds between polls.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "wait")]
    pub interval: u64,
    /// Give up after this many seconds (the last poll's verdicts are reported).
    #[arg(long, value_name = "SECS", default_value_t = 1800, requires = "wait")]
    pub wait_bound: u64,
}

impl WaitArgs {
    pub fn policy(&self) -> Result<WaitPolicy, String> {
        if self.passes == 0 || self.interval == 0 || self.wait_bound == 0 {
            return Err("--passes, --interval and --wait-bound must be at least 1".into());
        }
        Ok(WaitPolicy {
            passes: self.passes,
            interval: Duration::from_secs(self.interval),
            bound: Duration::from_secs(self.wait_bound),
        })
    }
}

/// How the terminal report looks.
#[derive(Debug, Clone, clap::Args)]
pub struct TerminalArgs {
    /// Print only the gates that did not pass, and the result.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl TerminalArgs {
    /// The text options for stdout: colour only on a terminal, never under `NO_COLOR`
    /// (no-color.org: set and not empty), unless --color always.
    pub fn text_options(&self, stdout_is_terminal: bool, no_color: Option<&str>) -> TextOptions {
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
        };
        TextOptions {
            quiet: self.quiet,
            color,
        }
    }
}

/// The formats of `record` and `drift`, which report no gate run's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlainFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// JUnit XML: one testsuite per phase, one testcase per gate (and per action step).
    Junit,
    /// An as-executed entry for the change log: ASCII + LF, dated, ready to paste.
    Log,
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
    /// Timeout, jobs and the day waivers are judged on.
    pub options: RunOptions,
    pub format: Format,
}

impl GateRun {
    /// A run of `gates` through `runner` with the default options (today's date).
    pub fn new(
        phase: &str,
        gates: Vec<&'static GateSpec>,
        profile: Profile,
        runner: Logged,
    ) -> GateRun {
        GateRun {
            phase: phase.to_string(),
            gates,
            profile,
            runner: Arc::new(runner),
            options: RunOptions::default(),
            format: Format::Text,
        }
    }

    pub fn from_args(args: &GateArgs) -> Result<GateRun, String> {
        let (phase, gates) = choose_gates(&args.phase, args.moment.as_deref(), &args.gates)?;
        if args.timeout == 0 {
            return Err("--timeout must be at least 1 second".into());
        }
        if args.jobs == 0 {
            return Err("--jobs must be at least 1".into());
        }
        if args.wait.wait {
            args.wait.policy()?;
        }
        let explicit_profile = match &args.profile {
            Some(path) => Some(Profile::from_file(path).map_err(|e| e.to_string())?),
            None => None,
        };
        // The profile comes first: a world names the profile it was recorded for, and
        // the live runner takes its output bound from the profile.
        let (runner, mut profile) = if args.live {
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
            // One evaluation reads each output once: a large one is let go once parsed.
            // A wait's polls judge the world as loaded, every poll the same bytes.
            let replay = if args.wait.wait {
                Replay::new(world)
            } else {
                Replay::releasing(world)
            };
            (Logged::new(replay), profile)
        };
        if let Some(path) = &args.waivers {
            let more = crate::waivers::from_file(path).map_err(|e| e.to_string())?;
            for w in more {
                if profile.waivers.iter().any(|p| p.id == w.id) {
                    return Err(format!(
                        "waiver {} is in the profile and in {}: give it once",
                        w.id,
                        path.display()
                    ));
                }
                profile.waivers.push(w);
            }
        }
        let mut options = RunOptions {
            timeout: Duration::from_secs(args.timeout),
            jobs: args.jobs,
            ..RunOptions::default()
        };
        if let Some(day) = args.as_of {
            options.today = day;
        }
        Ok(GateRun {
            phase,
            gates,
            profile,
            runner: Arc::new(runner),
            options,
            format: args.format,
        })
    }

    /// Reads what the chosen gates need, evaluates them, and builds the report.
    pub async fn execute(&self) -> RunReport {
        self.execute_with_snapshot().await.1
    }

    /// As [`GateRun::execute`], also returning what was read (for the features' steps,
    /// which assert on both, through the same path as the binary).
    pub async fn execute_with_snapshot(&self) -> (Snapshot, RunReport) {
        let events = Collect::new();
        let snapshot = self.run_into(&events).await.0;
        (snapshot, RunReport::from_events(&events.take_events()))
    }

    /// The phase's start, then one evaluation into `events`.
    pub async fn run_into(&self, events: &dyn Sink) -> (Snapshot, Vec<Verdict>) {
        self.start(events);
        self.evaluate_into(events).await
    }

    fn start(&self, events: &dyn Sink) {
        events.emit(&Event::PhaseStarted {
            phase: self.phase.clone(),
            source: self.runner.describe(),
            profile: self.profile.name.clone(),
            waivers_as_of: self.options.today,
        });
        for g in &self.gates {
            events.emit(&Event::GateStarted {
                id: g.id,
                phase: g.phase,
            });
        }
    }

    /// One evaluation: fresh reads (each distinct argv once), then every gate; each read
    /// and each verdict into `events`.
    async fn evaluate_into(&self, events: &dyn Sink) -> (Snapshot, Vec<Verdict>) {
        let before = self.runner.records().len();
        let (snapshot, verdicts) = run::evaluate(
            &self.gates,
            &self.profile,
            self.runner.clone(),
            self.options,
        )
        .await;
        for call in snapshot.calls().iter().skip(before) {
            events.emit(&Event::ReadDone(call.into()));
        }
        for v in &verdicts {
            events.emit(&Event::Verdict(v.clone()));
        }
        (snapshot, verdicts)
    }

    /// `gate --wait`: polls the gates until each passes `policy.passes` polls in a row,
    /// a verdict waiting cannot fix ends it, or the bound passes. Every poll re-reads the
    /// cloud. Returns how the wait ended and the last poll's verdicts.
    pub async fn wait(
        &self,
        policy: WaitPolicy,
        clock: &dyn Clock,
        events: &dyn Sink,
    ) -> (WaitOutcome, Vec<Verdict>) {
        self.start(events);
        let last = std::sync::Mutex::new(Vec::new());
        let what = format!("phase {} gates", self.phase);
        let outcome = wait_for_gates(&what, policy, clock, events, || async {
            let (_, verdicts) = self.evaluate_into(events).await;
            let poll = judge(&verdicts);
            *last.lock().unwrap_or_else(|e| e.into_inner()) = verdicts;
            poll
        })
        .await;
        let verdicts = last.into_inner().unwrap_or_else(|e| e.into_inner());
        (outcome, verdicts)
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

/// One poll of a gate wait: every gate passing; a verdict waiting cannot fix (a
/// PRECONDITION: a read that cannot be trusted or was refused; a HOLD: a guard; a state
/// a gate marks unsettleable, such as a unit in `error`); or not yet, naming each gate.
pub fn judge(verdicts: &[Verdict]) -> (Poll, Vec<Pending>) {
    let pending: Vec<Pending> = verdicts
        .iter()
        .filter(|v| v.status.exit_code() != 0)
        .map(|v| Pending {
            id: v.id,
            status: v.status,
            why: v.unsettleable.clone().unwrap_or_else(|| v.summary.clone()),
        })
        .collect();
    let fatal = verdicts
        .iter()
        .find_map(|v| match (v.status, &v.unsettleable) {
            (Status::Precondition, _) if !v.transient => Some(format!(
                "{} PRECONDITION: {} (waiting cannot make this read trustworthy)",
                v.id, v.summary
            )),
            (Status::Hold, _) => Some(format!(
                "{} HOLD: {} (a guard: waiting does not lift it)",
                v.id, v.summary
            )),
            (status, Some(why)) if status.exit_code() != 0 => {
                Some(format!("{} {status}: {why}", v.id))
            }
            _ => None,
        });
    let all: Vec<String> = verdicts
        .iter()
        .map(|v| format!("{} {}", v.id, v.status))
        .collect();
    let state = match fatal {
        Some(why) => Poll::Fail(why),
        None if verdicts.is_empty() => Poll::Fail("no gate ran".to_string()),
        None if pending.is_empty() => Poll::Pass(all.join(", ")),
        None => Poll::Pending(
            pending
                .iter()
                .map(|p| format!("{} {}", p.id, p.status))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    (state, pending)
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

/// What a run leaves that its process need not free: the binary prints and exits, and
/// freeing the verdicts, the events and the report of a large run only delays the exit
/// (a phase-00 run over 900 MAAS hosts carries thousands of evidence lines). `run`
/// drops it; the binary exits without.
#[derive(Default)]
pub struct Leftovers(Vec<Box<dyn std::any::Any + Send>>);

impl Leftovers {
    fn keep(&mut self, value: impl std::any::Any + Send) {
        self.0.push(Box::new(value));
    }
}

/// Runs the parsed arguments.
pub async fn run(args: Args) -> Outcome {
    run_leaving(args).await.0
}

/// [`run`], with what the run leaves for its process to drop or not.
pub async fn run_leaving(args: Args) -> (Outcome, Leftovers) {
    let outcome = match args.command {
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
        Command::Gate(gate_args) => return run_gate(gate_args).await,
        Command::Explain { gate } => explain::run(&gate),
    };
    (outcome, Leftovers::default())
}

/// `stackgate gate`: one evaluation, or a wait; every report a consumer of the run's
/// events.
async fn run_gate(args: GateArgs) -> (Outcome, Leftovers) {
    let mut leftovers = Leftovers::default();
    let run = match GateRun::from_args(&args) {
        Ok(run) => run,
        Err(message) => return (Outcome::usage_error(message), leftovers),
    };
    let mut signals = match Signals::watch() {
        Ok(signals) => signals,
        Err(e) => {
            let message = format!("cannot watch for SIGINT and SIGTERM: {e}");
            return (Outcome::usage_error(message), leftovers);
        }
    };
    let started = std::time::Instant::now();
    let collected = Collect::new();
    let progress = args.wait.wait.then(act::StderrProgress::new);
    let mut sinks: Vec<&dyn Sink> = vec![&collected];
    if let Some(p) = &progress {
        sinks.push(p);
    }
    let events = Tee(sinks);
    events.emit(&Event::RunStarted {
        command: "gate",
        tool: Tool::this(),
        started: chrono::Utc::now(),
    });
    // A recording never changes: waiting on it in wall time shows nothing more, so the
    // polls of a world run on simulated time; only --live waits on the clock.
    let system = SystemClock::default();
    let simulated = crate::actions::wait::ManualClock::new();
    let clock: &dyn Clock = if args.live { &system } else { &simulated };
    let finished: Result<(Option<WaitOutcome>, Vec<Verdict>), &str> = tokio::select! {
        done = async {
            if args.wait.wait {
                let policy = args.wait.policy().expect("checked by from_args");
                let (outcome, verdicts) = run.wait(policy, clock, &events).await;
                (Some(outcome), verdicts)
            } else {
                // The model is freed here, before the report is built: kept to the
                // exit, it would raise the run's peak memory by the report's size.
                (None, run.run_into(&events).await.1)
            }
        } => Ok(done),
        signal = async {
            let signal = signals.recv().await;
            // Before select! drops the run: dropped, each read in flight would only be
            // killed, and not logged as interrupted.
            run.runner.interrupt();
            signal
        } => Err(signal),
    };
    let elapsed = started.elapsed();
    match finished {
        Ok((wait, verdicts)) => {
            let worst = gates::overall(&verdicts);
            // A wait that ran out before N passes in a row did not show the gates hold.
            let (result, exit_code) = match wait {
                Some(WaitOutcome::TimedOut { .. }) => (
                    crate::events::TIMED_OUT.to_string(),
                    worst.exit_code().max(1),
                ),
                _ => (worst.label().to_string(), worst.exit_code()),
            };
            events.emit(&Event::RunFinished {
                result,
                exit_code,
                interrupted: None,
                elapsed,
            });
            leftovers.keep(verdicts);
        }
        Err(signal) => {
            // The reads not reported yet, the ones the signal cut short included: the
            // events carry the log's records in order.
            let reported = collected
                .events()
                .iter()
                .filter(|e| matches!(e, Event::ReadDone(_)))
                .count();
            for call in run.runner.records().iter().skip(reported) {
                events.emit(&Event::ReadDone(call.into()));
            }
            events.emit(&Event::RunFinished {
                result: "INTERRUPTED".to_string(),
                exit_code: report::INTERRUPTED_EXIT,
                interrupted: Some(signal.to_string()),
                elapsed,
            });
        }
    }
    let events = collected.take_events();
    let report = RunReport::from_events(&events);
    let stdout = match run.format {
        Format::Text => {
            use std::io::IsTerminal;
            let no_color = std::env::var("NO_COLOR").ok();
            report::render_text_with(
                &report,
                args.terminal
                    .text_options(std::io::stdout().is_terminal(), no_color.as_deref()),
            )
        }
        Format::Json => report::render_json(&report),
        Format::Junit => report::junit::render(&events),
        Format::Log => report::log::render(&events),
    };
    let outcome = Outcome {
        stdout,
        stderr: String::new(),
        exit_code: report.exit_code,
    };
    leftovers.keep(report);
    leftovers.keep(events);
    leftovers.keep(run);
    (outcome, leftovers)
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
