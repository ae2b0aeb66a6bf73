//! What a run does, as events: the run and each phase starting, each gate starting,
//! each read done, each verdict, each wait poll, each action's plan, step and end, the
//! run's end. The run emits them into a [`Sink`]; every report (terminal, JSON, JUnit,
//! the as-executed log) and the progress line are independent consumers of the same
//! stream, as nextest splits its reporters from its runner. Library code never prints:
//! a sink collects or forwards, and only the binary writes.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actions::executor::{ActionReport, PlanView, StepResult};
use crate::gates::{Status, Verdict};
use crate::runner::CallRecord;

/// The stackgate that ran: its version and the commit it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub version: &'static str,
    pub commit: &'static str,
}

impl Tool {
    /// This build. The commit is `git rev-parse --short=12 HEAD` when it was built from
    /// a clone, `unknown` otherwise (build.rs).
    pub fn this() -> Tool {
        Tool {
            version: env!("CARGO_PKG_VERSION"),
            commit: env!("STACKGATE_COMMIT"),
        }
    }
}

/// One logged call, as reports show it. Holds no output: outputs may carry secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadLine {
    pub argv: String,
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The read was still running when a signal reached stackgate, and was killed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl From<&CallRecord> for ReadLine {
    fn from(c: &CallRecord) -> Self {
        ReadLine {
            argv: c.argv.clone(),
            exit_code: c.exit_code,
            duration_ms: u64::try_from(c.duration.as_millis()).unwrap_or(u64::MAX),
            error: c.error.clone(),
            interrupted: c.interrupted,
        }
    }
}

/// A gate still not passing at a wait's poll, and why (its verdict's summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub id: &'static str,
    pub status: Status,
    pub why: String,
}

/// How a wait that reached its bound before passing N polls in a row ended, and the
/// result of a gate run whose wait did: whatever the last poll said, the wait did not
/// show the gates hold (exit >= 1).
pub const TIMED_OUT: &str = "TIMED-OUT";

/// How a wait ended, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitSummary {
    /// `PASSED`, `FAILED` (a state waiting cannot fix) or `TIMED-OUT` (the bound).
    pub outcome: &'static str,
    pub polls: u32,
    /// Consecutive passes it needed.
    pub needed: u32,
    pub interval_secs: u64,
    pub bound_secs: u64,
    pub waited_secs: u64,
    /// The wait's last word: what held, what failed, or what was still not passing.
    pub last: String,
}

impl WaitSummary {
    /// `PASSED after 7 poll(s) over 60s (3 in a row needed, every 10s, bound 3600s):
    /// <the last poll's word>`, as every report and the progress line say it.
    pub fn line(&self) -> String {
        format!(
            "{} after {} poll(s) over {}s ({} in a row needed, every {}s, bound {}s): {}",
            self.outcome,
            self.polls,
            self.waited_secs,
            self.needed,
            self.interval_secs,
            self.bound_secs,
            self.last
        )
    }
}

/// What a run does, in the order it does it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A run began: `gate`, `act` or `rehearse`, at `started` (UTC).
    RunStarted {
        command: &'static str,
        tool: Tool,
        started: DateTime<Utc>,
    },
    /// A phase's work began (a gate run has one; a rehearsal one per leg).
    PhaseStarted {
        phase: String,
        source: String,
        profile: String,
        /// The day the phase's waivers are judged on (`--as-of`, or today UTC).
        waivers_as_of: chrono::NaiveDate,
    },
    GateStarted {
        id: &'static str,
        phase: &'static str,
    },
    ReadDone(ReadLine),
    /// A gate's verdict, waivers applied.
    Verdict(Verdict),
    /// A verdict read for the record, which decides nothing: the state a rehearsal's
    /// action starts from (a FAIL there is what the action is about to fix).
    Observed(Verdict),
    /// One poll of a wait: how many passes in a row so far, and what is not passing.
    WaitPoll {
        what: String,
        /// A gate wait (`gate --wait`): each poll re-ran the gates, and its verdicts
        /// supersede the last poll's. An action's wait polls its post-condition.
        gates: bool,
        poll: u32,
        streak: u32,
        needed: u32,
        waited_secs: u64,
        /// A gate wait's gates still not passing; empty for an action's wait.
        pending: Vec<Pending>,
        /// The poll's own line (an action's wait: what its probe read).
        state: String,
    },
    WaitDone {
        what: String,
        /// A gate wait's end (see `WaitPoll::gates`).
        gates: bool,
        summary: WaitSummary,
    },
    /// An action planned (a dry-run's plan, or the plan an apply re-made and runs).
    ActionPlanned {
        action: &'static str,
        phase: &'static str,
        apply: bool,
        plan: Option<PlanView>,
    },
    /// A step of an applied plan ran and its post-condition was read.
    StepDone {
        action: &'static str,
        step: StepResult,
    },
    ActionFinished(Box<ActionReport>),
    /// The run ended: its result label and exit code, or the signal that cut it short.
    RunFinished {
        result: String,
        exit_code: i32,
        interrupted: Option<String>,
        elapsed: Duration,
    },
}

/// Where a run sends its events.
pub trait Sink: Send + Sync {
    fn emit(&self, event: &Event);
}

/// Drops every event.
#[derive(Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn emit(&self, _: &Event) {}
}

/// Keeps every event, in order, for the reports to consume when the run ends.
#[derive(Debug, Default)]
pub struct Collect(Mutex<Vec<Event>>);

impl Collect {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The events collected so far, leaving none: for the run's last reader, without a
    /// copy (a phase-00 run over 900 hosts carries thousands of evidence lines).
    pub fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Sink for Collect {
    fn emit(&self, event: &Event) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}

/// Sends each event to every sink in turn (the collected stream and a progress line).
pub struct Tee<'a>(pub Vec<&'a dyn Sink>);

impl Sink for Tee<'_> {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }
}
