//! `--format log`: an as-executed entry for the rebuild's change log, in its own style
//! (seed 004: "Step 2.2 unseal -- EXECUTED 2026-06-27", "PHASE-02 EXIT GATE -- MET
//! (2026-06-27)", one bullet per finding), ready to paste: ASCII and LF only, dated,
//! naming the stackgate version and commit, the source and profile, each verdict with
//! its key figures (the metrics: the P02-E census, P03-ACCEPT's counts), each action's
//! plan and what each step proved, each wait's outcome. Built from the run's events.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::ascii;
use crate::actions::executor::{ActionReport, Outcome};
use crate::events::{Event, ReadLine, Tool};
use crate::gates::{Mark, Status, Verdict};

/// At most this many BAD, MISSING or waived lines under one verdict; the rest counted.
const LINES_PER_VERDICT: usize = 12;

/// The change-log entry of a run's events.
pub fn render(events: &[Event]) -> String {
    super::consume::<Log>(events)
}

#[derive(Default)]
struct Log {
    started: Option<DateTime<Utc>>,
    command: &'static str,
    tool: Option<Tool>,
    sections: Vec<Section>,
    result: Option<String>,
    /// An action is running: its waits go under it.
    acting: bool,
    action_waits: Vec<String>,
}

#[derive(Default)]
struct Section {
    phase: String,
    source: String,
    profile: String,
    verdicts: Vec<Verdict>,
    /// A gate wait's poll ended: its next verdict starts the next poll's.
    superseded: bool,
    reads: Vec<ReadLine>,
    waivers_as_of: Option<chrono::NaiveDate>,
    /// A gate wait reached its bound: the gates were not shown to hold.
    timed_out: bool,
    /// What happened besides the verdicts, in order: verdicts seen before an action,
    /// the actions, the waits.
    items: Vec<Item>,
}

enum Item {
    Line(String),
    /// An action and the waits its steps made.
    Action(Box<ActionReport>, Vec<String>),
}

impl Log {
    fn section(&mut self, phase: &str) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section {
                phase: phase.to_string(),
                ..Section::default()
            });
        }
        self.sections.last_mut().expect("a section is open")
    }
}

impl super::Consumer for Log {
    fn on(&mut self, event: &Event) {
        match event {
            Event::RunStarted {
                command,
                tool,
                started,
            } => {
                self.command = command;
                self.tool = Some(tool.clone());
                self.started = Some(*started);
            }
            Event::PhaseStarted {
                phase,
                source,
                profile,
                waivers_as_of,
            } => self.sections.push(Section {
                phase: phase.clone(),
                source: source.clone(),
                profile: profile.clone(),
                waivers_as_of: Some(*waivers_as_of),
                ..Section::default()
            }),
            Event::ReadDone(read) => {
                let s = self.section("-");
                if std::mem::take(&mut s.superseded) {
                    s.verdicts.clear();
                    s.reads.clear();
                }
                s.reads.push(read.clone());
            }
            Event::Verdict(v) => {
                let s = self.section(v.phase);
                if std::mem::take(&mut s.superseded) {
                    s.verdicts.clear();
                    s.reads.clear();
                }
                s.verdicts.push(v.clone());
            }
            Event::Observed(v) => {
                let line = format!(
                    "Observed before an action: {} {} -- {}",
                    v.id,
                    v.status.label(),
                    v.summary
                );
                self.section(v.phase).items.push(Item::Line(line));
            }
            Event::WaitPoll { gates: true, .. } => self.section("-").superseded = true,
            Event::WaitDone {
                what,
                summary,
                gates,
            } => {
                if *gates && summary.outcome == crate::events::TIMED_OUT {
                    self.section("-").timed_out = true;
                }
                let line = format!("Waited for {what}: {}", summary.line());
                if self.acting {
                    self.action_waits.push(line);
                } else {
                    self.section("-").items.push(Item::Line(format!("{line}.")));
                }
            }
            Event::ActionPlanned { .. } => self.acting = true,
            Event::ActionFinished(report) => {
                self.acting = false;
                let waits = std::mem::take(&mut self.action_waits);
                let phase = report.phase;
                self.section(phase)
                    .items
                    .push(Item::Action(report.clone(), waits));
            }
            Event::RunFinished {
                result,
                exit_code,
                interrupted,
                elapsed,
            } => {
                if interrupted.is_some() {
                    // No verdict is claimed over a run a signal cut short.
                    for s in &mut self.sections {
                        s.verdicts.clear();
                    }
                }
                self.result = Some(match interrupted {
                    Some(signal) => format!(
                        "INTERRUPTED by {signal} (exit {exit_code}) after {:.1}s: the running commands were killed; no verdict is claimed",
                        elapsed.as_secs_f64()
                    ),
                    None => format!(
                        "{result} (exit {exit_code}) in {:.1}s",
                        elapsed.as_secs_f64()
                    ),
                });
            }
            Event::WaitPoll { .. } | Event::GateStarted { .. } | Event::StepDone { .. } => {}
        }
    }

    fn finish(self) -> String {
        let mut out = String::new();
        let date = self.started.map_or_else(
            || "undated".to_string(),
            |d| d.format("%Y-%m-%d").to_string(),
        );
        let what = match self.command {
            "rehearse" => "Simulated rebuild rehearsal",
            "act" => "Phase action",
            _ => "Gate run",
        };
        let _ = writeln!(
            out,
            "{what} (stackgate) -- {} ({date})",
            self.result
                .as_deref()
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("NO RESULT")
        );
        out.push('\n');
        if let Some(tool) = &self.tool {
            let _ = writeln!(
                out,
                "stackgate {} (commit {}), started {}.",
                tool.version,
                tool.commit,
                self.started.map_or_else(
                    || "-".to_string(),
                    |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                )
            );
        }
        for s in &self.sections {
            out.push('\n');
            section(&mut out, s, &date);
        }
        if let Some(result) = &self.result {
            let _ = writeln!(out, "\nResult: {result}.");
        }
        let text = ascii(out);
        // One line per line: no trailing blanks, LF only.
        let mut clean: String = text
            .lines()
            .map(|l| l.trim_end().to_string() + "\n")
            .collect();
        if clean.is_empty() {
            clean.push('\n');
        }
        clean
    }
}

fn section(out: &mut String, s: &Section, date: &str) {
    let worst = crate::gates::overall(&s.verdicts);
    if !s.verdicts.is_empty() {
        let said = if s.timed_out {
            "NOT MET (the wait reached its bound)".to_string()
        } else {
            met(worst, &s.verdicts)
        };
        let _ = writeln!(out, "PHASE-{} GATES -- {said} ({date})", s.phase);
    } else {
        let _ = writeln!(out, "PHASE-{} ({date})", s.phase);
    }
    if !s.source.is_empty() {
        let _ = writeln!(
            out,
            "Source: {}; profile {}{}.",
            s.source,
            s.profile,
            s.waivers_as_of
                .map_or(String::new(), |d| format!("; waivers judged as of {d}"))
        );
    }
    let mut items = s.items.iter().peekable();
    while let Some(item) = items.next() {
        match item {
            Item::Line(line) => {
                let _ = writeln!(out, "{}", cut(line));
            }
            Item::Action(a, waits) => {
                // A dry-run applied next with the same fingerprint: one entry.
                let reviewed = match items.peek() {
                    Some(Item::Action(next, _))
                        if !a.applied
                            && next.applied
                            && next.action == a.action
                            && next.plan.as_ref().map(|p| &p.fingerprint)
                                == a.plan.as_ref().map(|p| &p.fingerprint) =>
                    {
                        items.next().map(|i| match i {
                            Item::Action(next, waits) => (next, waits),
                            Item::Line(_) => unreachable!("peeked an action"),
                        })
                    }
                    _ => None,
                };
                let waits = match reviewed {
                    Some((applied, waits)) => {
                        action(out, applied, true);
                        waits
                    }
                    None => {
                        action(out, a, false);
                        waits
                    }
                };
                for w in waits {
                    let _ = writeln!(out, "  {}", cut(w));
                }
            }
        }
    }
    if !s.verdicts.is_empty() {
        out.push('\n');
    }
    for v in &s.verdicts {
        let _ = writeln!(
            out,
            "  - {} {} -- {}",
            v.id,
            v.status.label(),
            cut(&v.summary)
        );
        if let Some(outcome) = &v.outcome {
            let _ = writeln!(out, "      outcome: {outcome}");
        }
        if !v.metrics.is_empty() {
            let figures: Vec<String> = v.metrics.iter().map(|(k, n)| format!("{k}={n}")).collect();
            let _ = writeln!(out, "      figures: {}", figures.join(", "));
        }
        let lines: Vec<String> = v
            .evidence
            .iter()
            .filter(|e| matches!(e.mark, Mark::Bad | Mark::Missing | Mark::Waived))
            .map(super::evidence_line)
            .collect();
        for line in lines.iter().take(LINES_PER_VERDICT) {
            let _ = writeln!(out, "      {}", cut(line));
        }
        if lines.len() > LINES_PER_VERDICT {
            let _ = writeln!(
                out,
                "      ... and {} more line(s): run `stackgate gate --phase {}` for all",
                lines.len() - LINES_PER_VERDICT,
                v.phase
            );
        }
        for e in v
            .evidence
            .iter()
            .filter(|e| e.mark == Mark::Info && e.subject.starts_with("waiver "))
        {
            let _ = writeln!(out, "      {}: {} {}", e.subject, e.property, e.actual);
        }
    }
    if !s.reads.is_empty() {
        let failed = s
            .reads
            .iter()
            .filter(|r| r.exit_code != Some(0) || r.error.is_some())
            .count();
        let longest = s.reads.iter().map(|r| r.duration_ms).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "Reads: {} command(s), {failed} not exiting 0, the longest {longest} ms.",
            s.reads.len()
        );
    }
}

/// The change log's word for a phase's gates: MET when every one passed (or is waived,
/// or does not apply), PROCEED for a go-ahead, otherwise the worst status.
fn met(worst: Status, verdicts: &[Verdict]) -> String {
    match worst {
        Status::Pass | Status::Skip => "MET".to_string(),
        Status::Proceed => "PROCEED".to_string(),
        Status::Waived => {
            let n = verdicts
                .iter()
                .filter(|v| v.status == Status::Waived)
                .count();
            format!("MET with {n} waived")
        }
        other => format!("{} (NOT MET)", other.label()),
    }
}

/// A line cut at a word boundary near 400 characters, " ..." after it.
fn cut(line: &str) -> String {
    const MAX: usize = 400;
    if line.len() <= MAX {
        return line.to_string();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let head = &line[..end];
    let head = head.rfind(' ').map_or(head, |i| &head[..i]);
    format!("{head} ...")
}

fn action(out: &mut String, a: &ActionReport, reviewed: bool) {
    let mode = match (a.applied, reviewed) {
        (true, true) => "APPLIED after its dry-run, same fingerprint",
        (true, false) => "APPLIED",
        (false, _) => "DRY-RUN",
    };
    let _ = writeln!(
        out,
        "\nAction {} (phase {}) -- {} ({mode})",
        a.action,
        a.phase,
        a.outcome.label()
    );
    if let Some(plan) = &a.plan {
        let _ = writeln!(
            out,
            "  plan (fingerprint {}): {} step(s)",
            plan.fingerprint,
            plan.steps.len()
        );
        for e in &plan.excluded {
            let _ = writeln!(out, "  protected: {} {}", e.name, e.resolved);
        }
        if !a.applied {
            for (i, s) in plan.steps.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {}. {}{}",
                    i + 1,
                    if s.destructive { "[DESTRUCTIVE] " } else { "" },
                    s.command
                );
            }
        }
    }
    let not_reached = a
        .plan
        .as_ref()
        .filter(|_| a.applied)
        .map_or(&[][..], |p| p.steps.get(a.steps.len()..).unwrap_or(&[]));
    for s in &a.steps {
        let _ = writeln!(
            out,
            "  {}. [{}] {}{} -- {}",
            s.step,
            if s.ok { "DONE" } else { "FAILED" },
            s.command,
            s.exit_code
                .map_or(String::new(), |c| format!(" (exit {c})")),
            cut(&s.detail)
        );
    }
    for (i, s) in not_reached.iter().enumerate() {
        let _ = writeln!(out, "  {}. [NOT RUN] {}", a.steps.len() + i + 1, s.command);
    }
    match &a.outcome {
        Outcome::Refused(why)
        | Outcome::Stale(why)
        | Outcome::Unconfirmed(why)
        | Outcome::Precondition(why)
        | Outcome::StepFailed(why) => {
            let _ = writeln!(out, "  {}: {why}", a.outcome.label());
        }
        Outcome::Planned | Outcome::NothingToDo | Outcome::Done => {}
    }
}
