//! Reports: the terminal text and the JSON document of a gate run. Rendering returns
//! strings; only `main` writes them. Output is ASCII + LF.

pub mod action;
pub mod fixtures;
pub mod rehearsal;

pub use fixtures::render_recorded;

use std::fmt;

use serde::{Serialize, Serializer};

use crate::gates::{Mark, Status, Verdict};
use crate::runner::CallRecord;

/// The exit code of a run a signal cut short (128 + SIGINT, as shells report Ctrl-C).
pub const INTERRUPTED_EXIT: i32 = 130;

/// Everything one `stackgate gate` run decided.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub phase: String,
    pub source: String,
    pub profile: String,
    pub verdicts: Vec<Verdict>,
    pub result: RunResult,
    pub exit_code: i32,
    /// The signal that cut the run short (`SIGINT`, `SIGTERM`); absent for a run that
    /// finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    pub reads: Vec<ReadLine>,
}

/// What a run concluded: the worst verdict, or nothing when a signal cut it short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    Verdict(Status),
    /// No gate verdict is claimed: the reads did not all finish.
    Interrupted,
}

impl RunResult {
    pub fn label(self) -> &'static str {
        match self {
            RunResult::Verdict(status) => status.label(),
            RunResult::Interrupted => "INTERRUPTED",
        }
    }
}

impl fmt::Display for RunResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// As its label, the same string a verdict's status serialises to.
impl Serialize for RunResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

/// One logged call, as reported. Holds no output: outputs may carry secrets.
#[derive(Debug, Clone, Serialize)]
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

impl RunReport {
    pub fn new(
        phase: &str,
        source: String,
        profile: String,
        verdicts: Vec<Verdict>,
        calls: &[CallRecord],
    ) -> Self {
        let result = crate::gates::overall(&verdicts);
        RunReport {
            phase: phase.to_string(),
            source,
            profile,
            result: RunResult::Verdict(result),
            exit_code: result.exit_code(),
            interrupted: None,
            verdicts,
            reads: calls.iter().map(ReadLine::from).collect(),
        }
    }

    /// A run `signal` cut short: the reads that finished and those it killed, and no
    /// verdict, since a gate over a partial snapshot would claim what was not read.
    pub fn interrupted(
        phase: &str,
        source: String,
        profile: String,
        signal: &str,
        calls: &[CallRecord],
    ) -> Self {
        RunReport {
            phase: phase.to_string(),
            source,
            profile,
            verdicts: Vec::new(),
            result: RunResult::Interrupted,
            exit_code: INTERRUPTED_EXIT,
            interrupted: Some(signal.to_string()),
            reads: calls.iter().map(ReadLine::from).collect(),
        }
    }
}

/// The terminal report.
pub fn render_text(report: &RunReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "stackgate phase {} -- {} -- profile {}\n",
        report.phase, report.source, report.profile
    ));
    for v in &report.verdicts {
        out.push_str(&format!(
            "\n{:<13} {:<11} {}\n",
            v.status.label(),
            v.id,
            v.summary
        ));
        for e in &v.evidence {
            out.push_str(&format!(
                "    {:<8} {}: {} = {}",
                e.mark.label(),
                e.subject,
                e.property,
                e.actual
            ));
            if let Some(expected) = &e.expected
                && e.mark != Mark::Ok
            {
                out.push_str(&format!(" (expected {expected})"));
            }
            out.push('\n');
        }
    }
    match &report.interrupted {
        Some(signal) => out.push_str(&format!(
            "\nresult: {} by {signal} (exit {}): the running commands were killed; no gate verdict is claimed\n",
            report.result.label(),
            report.exit_code
        )),
        None => out.push_str(&format!(
            "\nresult: {} (exit {})\n",
            report.result.label(),
            report.exit_code
        )),
    }
    out.push_str("reads:\n");
    for r in &report.reads {
        let exit = r
            .exit_code
            .map_or_else(|| "-".to_string(), |c| c.to_string());
        out.push_str(&format!(
            "    exit {:<3} {:>6} ms  {}",
            exit, r.duration_ms, r.argv
        ));
        if let Some(err) = &r.error {
            out.push_str(&format!("  ({err})"));
        }
        out.push('\n');
    }
    ascii(out)
}

/// The JSON report.
pub fn render_json(report: &RunReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}

/// `stackgate list`: every gate with its phase, tags and description.
pub fn render_list() -> String {
    let mut out = String::new();
    for g in crate::gates::catalog() {
        let tags: Vec<String> = std::iter::once(format!("@phase-{}", g.phase))
            .chain(std::iter::once(format!("@gate-{}", g.id)))
            .chain(g.tags.iter().map(|t| format!("@{t}")))
            .collect();
        out.push_str(&format!(
            "{:<13} phase {}  {:<42} {}\n",
            g.id,
            g.phase,
            tags.join(" "),
            g.description
        ));
    }
    ascii(out)
}

/// Output is ASCII: anything else a CLI printed is shown escaped.
pub(crate) fn ascii(text: String) -> String {
    if text.is_ascii() {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}
