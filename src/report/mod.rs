//! Reports: the terminal text and the JSON document of a gate run. Rendering returns
//! strings; only `main` writes them. Output is ASCII + LF.

pub mod action;
pub mod fixtures;
pub mod junit;
pub mod log;
pub mod rehearsal;

pub use crate::events::ReadLine;
pub use fixtures::render_recorded;

use std::fmt;

use serde::{Serialize, Serializer};

use crate::events::{Event, WaitSummary};
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
    /// How a `--wait` run's wait ended; the verdicts and reads are its last poll's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitSummary>,
    /// The day waivers were judged on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waivers_as_of: Option<chrono::NaiveDate>,
}

/// What a run concluded: the worst verdict, or nothing when a signal cut it short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    Verdict(Status),
    /// No gate verdict is claimed: the reads did not all finish.
    Interrupted,
    /// A gate wait reached its bound before every gate passed N polls in a row.
    TimedOut,
}

impl RunResult {
    pub fn label(self) -> &'static str {
        match self {
            RunResult::Verdict(status) => status.label(),
            RunResult::Interrupted => "INTERRUPTED",
            RunResult::TimedOut => crate::events::TIMED_OUT,
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
            wait: None,
            waivers_as_of: None,
        }
    }

    /// The report a gate run's events make: the phase it ran, each read, each verdict,
    /// how a wait ended and how the run ended. A wait's poll supersedes the one before
    /// it: the report holds the last poll's reads and verdicts. Without a `RunFinished`
    /// the result is the worst verdict's.
    pub fn from_events(events: &[Event]) -> RunReport {
        let mut report = RunReport {
            phase: String::new(),
            source: String::new(),
            profile: String::new(),
            verdicts: Vec::new(),
            result: RunResult::Verdict(Status::Precondition),
            exit_code: Status::Precondition.exit_code(),
            interrupted: None,
            reads: Vec::new(),
            wait: None,
            waivers_as_of: None,
        };
        let mut superseded = false;
        let mut finished = false;
        for event in events {
            match event {
                Event::PhaseStarted {
                    phase,
                    source,
                    profile,
                    waivers_as_of,
                } => {
                    report.phase = phase.clone();
                    report.source = source.clone();
                    report.profile = profile.clone();
                    report.waivers_as_of = Some(*waivers_as_of);
                }
                Event::ReadDone(read) => {
                    if std::mem::take(&mut superseded) {
                        report.reads.clear();
                        report.verdicts.clear();
                    }
                    report.reads.push(read.clone());
                }
                Event::Verdict(v) => {
                    if std::mem::take(&mut superseded) {
                        report.reads.clear();
                        report.verdicts.clear();
                    }
                    report.verdicts.push(v.clone());
                }
                Event::WaitPoll { .. } => superseded = true,
                Event::WaitDone {
                    summary,
                    gates: true,
                    ..
                } => report.wait = Some(summary.clone()),
                Event::RunFinished {
                    interrupted: Some(signal),
                    ..
                } => {
                    finished = true;
                    report.verdicts.clear();
                    report.result = RunResult::Interrupted;
                    report.exit_code = INTERRUPTED_EXIT;
                    report.interrupted = Some(signal.clone());
                }
                Event::RunFinished {
                    exit_code, result, ..
                } => {
                    finished = true;
                    report.result = if result == crate::events::TIMED_OUT {
                        RunResult::TimedOut
                    } else {
                        RunResult::Verdict(crate::gates::overall(&report.verdicts))
                    };
                    report.exit_code = *exit_code;
                }
                _ => {}
            }
        }
        if !finished {
            let worst = crate::gates::overall(&report.verdicts);
            report.result = RunResult::Verdict(worst);
            report.exit_code = worst.exit_code();
        }
        report
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
            wait: None,
            waivers_as_of: None,
        }
    }
}

/// A report built from a run's events (nextest's reporter split): each consumes the
/// stream on its own and renders once the run is over.
pub(crate) trait Consumer: Default {
    fn on(&mut self, event: &Event);
    fn finish(self) -> String;
}

/// Feeds `events` to a fresh `C` and renders it.
pub(crate) fn consume<C: Consumer>(events: &[Event]) -> String {
    let mut consumer = C::default();
    for event in events {
        consumer.on(event);
    }
    consumer.finish()
}

/// One evidence line, unpadded: `BAD unit x: status = error (expected active)`, a
/// waived line with its waiver instead of what was expected.
pub(crate) fn evidence_line(e: &crate::gates::Evidence) -> String {
    let mut line = format!(
        "{} {}: {} = {}",
        e.mark.label(),
        e.subject,
        e.property,
        e.actual
    );
    match (&e.expected, e.mark) {
        (Some(waiver), Mark::Waived) => line.push_str(&format!(" ({waiver})")),
        (Some(expected), mark) if mark != Mark::Ok => {
            line.push_str(&format!(" (expected {expected})"))
        }
        _ => {}
    }
    line
}

/// How the terminal report is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Only the gates that did not pass (FAIL, HOLD, PRECONDITION), and the result.
    pub quiet: bool,
    /// ANSI colour on the status labels and the lines that decide them (a terminal
    /// without `NO_COLOR` only: the binary decides).
    pub color: bool,
}

/// The terminal report.
pub fn render_text(report: &RunReport) -> String {
    render_text_with(report, TextOptions::default())
}

/// The colour of a status label.
fn status_style(status: Status) -> anstyle::Style {
    use anstyle::{AnsiColor, Style};
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Proceed => AnsiColor::Cyan,
        Status::Skip => return Style::new().dimmed(),
        Status::Waived => AnsiColor::Blue,
        Status::Fail => AnsiColor::Red,
        Status::Hold => AnsiColor::Yellow,
        Status::Precondition => AnsiColor::Magenta,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// `text` in `style` when `color`, padded to `width` outside the escapes.
pub(crate) fn paint(text: &str, width: usize, style: anstyle::Style, color: bool) -> String {
    let padded = format!("{text:<width$}");
    if color {
        format!("{style}{padded}{style:#}")
    } else {
        padded
    }
}

/// The terminal report, drawn as `options` say.
pub fn render_text_with(report: &RunReport, options: TextOptions) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "stackgate phase {} -- {} -- profile {}\n",
        report.phase, report.source, report.profile
    ));
    let bad = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
    for v in &report.verdicts {
        if options.quiet && v.status.exit_code() == 0 {
            continue;
        }
        out.push_str(&format!(
            "\n{} {:<11} {}\n",
            paint(v.status.label(), 13, status_style(v.status), options.color),
            v.id,
            v.summary
        ));
        for e in &v.evidence {
            if options.quiet && !matches!(e.mark, Mark::Bad | Mark::Missing) {
                continue;
            }
            let mark = match e.mark {
                Mark::Bad | Mark::Missing => paint(e.mark.label(), 8, bad, options.color),
                _ => format!("{:<8}", e.mark.label()),
            };
            out.push_str(&format!(
                "    {mark} {}: {} = {}",
                e.subject, e.property, e.actual
            ));
            match (&e.expected, e.mark) {
                (Some(waiver), Mark::Waived) => out.push_str(&format!(" ({waiver})")),
                (Some(expected), mark) if mark != Mark::Ok => {
                    out.push_str(&format!(" (expected {expected})"))
                }
                _ => {}
            }
            out.push('\n');
        }
    }
    if let Some(w) = &report.wait {
        out.push_str(&format!("\nwaited: {}\n", w.line()));
    }
    let result_style = match report.result {
        RunResult::Verdict(status) => status_style(status),
        RunResult::Interrupted => status_style(Status::Precondition),
        RunResult::TimedOut => status_style(Status::Fail),
    };
    let result = paint(report.result.label(), 0, result_style, options.color);
    match &report.interrupted {
        Some(signal) => out.push_str(&format!(
            "\nresult: {result} by {signal} (exit {}): the running commands were killed; no gate verdict is claimed\n",
            report.exit_code
        )),
        None => {
            // A waiver's verdict says the day it was judged on: --as-of can move it.
            let waived = report.verdicts.iter().any(|v| {
                v.evidence
                    .iter()
                    .any(|e| e.mark == Mark::Waived || e.subject.starts_with("waiver "))
            });
            let as_of = match (waived, report.waivers_as_of) {
                (true, Some(day)) => format!("; waivers judged as of {day}"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "\nresult: {result} (exit {}{as_of})\n",
                report.exit_code
            ))
        }
    }
    if options.quiet {
        return ascii(out);
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
