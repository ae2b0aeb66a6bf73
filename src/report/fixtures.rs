//! Reports of `stackgate record`, `fixtures check` and `drift`: argvs, files, key paths
//! and rule names, never a byte of what a command printed.

use std::fmt::Write as _;

use serde::Serialize;

use super::ascii;
use crate::drift::{Change, Impact, Relation};
use crate::fixtures::CheckReport;
use crate::runner::WrittenWorld;
use crate::sources::keys::Need;

/// The lines `record` adds after the run's report.
pub fn render_recorded(written: &WrittenWorld) -> String {
    let mut out = format!(
        "recorded {} command(s) into {}\n",
        written.commands,
        written.dir.display()
    );
    if written.redactions.is_empty() {
        out.push_str("redacted: nothing (no secret key, known value or pattern was found)\n");
    } else {
        out.push_str(
            "redacted (the manifest lists each; those files are not byte-identical there):\n",
        );
        for (argv, marks) in &written.redactions {
            let _ = writeln!(out, "  {argv}");
            for m in marks {
                let _ = writeln!(out, "    {m}");
            }
        }
    }
    ascii(out)
}

/// `fixtures check` as text: the totals, every parse failure, per source the declared
/// key paths with how many recordings hold each, and the notes.
pub fn render_check(report: &CheckReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fixtures check: {} world(s), {} command(s): {} read by a gate ({} recorded failures the gates decide on, {} damaged on purpose and refused), {} read by actions or the simulator only",
        report.worlds,
        report.commands,
        report.read,
        report.recorded_failures,
        report.damaged_on_purpose,
        report.not_read
    );
    for w in &report.unclassified {
        let _ = writeln!(
            out,
            "  unclassified: {w}: its profile is not embedded (pass --profile FILE)"
        );
    }
    if report.parse_failures.is_empty() {
        out.push_str("parse failures: none\n");
    } else {
        let _ = writeln!(out, "parse failures: {}", report.parse_failures.len());
        for f in &report.parse_failures {
            let _ = writeln!(out, "  FAIL {}: `{}`: {}", f.world, f.argv, f.message);
        }
    }
    let (mut declared, mut covered) = (0usize, 0usize);
    out.push_str("key paths per source (declared path: recordings holding it / recordings):\n");
    for (doc, coverage) in &report.sources {
        let held = coverage.keys.iter().filter(|(_, n)| *n > 0).count();
        declared += coverage.keys.len();
        covered += held;
        let _ = writeln!(
            out,
            "  {doc}: {} recording(s), {held}/{} declared key paths present",
            coverage.recordings,
            coverage.keys.len()
        );
        for (key, n) in &coverage.keys {
            let mark = if *n > 0 { "ok     " } else { "ABSENT " };
            let need = match key.need {
                Need::Required => "required",
                Need::Optional => "optional",
            };
            let _ = writeln!(
                out,
                "    {mark} {} ({need}; {}): {n}/{}",
                key.path,
                key.gates.join(" "),
                coverage.recordings
            );
        }
    }
    let _ = writeln!(out, "declared key paths present: {covered}/{declared}");
    let notes: usize = report.sources.values().map(|c| c.notes.len()).sum();
    let _ = writeln!(
        out,
        "notes: {notes} key path(s) the recordings hold that no model reads (review a new one: upstream added it)"
    );
    for (doc, coverage) in &report.sources {
        for note in &coverage.notes {
            let _ = writeln!(out, "  {doc}: {note}");
        }
    }
    let absent = report.absent_keys();
    let verdict = if report.ok() {
        "OK".to_string()
    } else {
        format!(
            "FAIL: {} parse failure(s), {} declared key path(s) in no recording of their source",
            report.parse_failures.len(),
            absent.len()
        )
    };
    let _ = writeln!(out, "result: {verdict}");
    ascii(out)
}

/// One compared document of `drift`.
#[derive(Debug, Serialize)]
pub struct DriftSection {
    pub argv: String,
    pub source: String,
    pub changes: Vec<Change>,
    pub impacts: Vec<Impact>,
}

/// `drift` as text.
pub fn render_drift(sections: &[DriftSection]) -> String {
    let mut out = String::new();
    let mut total = 0;
    for s in sections {
        if s.changes.is_empty() {
            continue;
        }
        total += s.changes.len();
        let _ = writeln!(
            out,
            "{} ({}): {} change(s)",
            s.argv,
            s.source,
            s.changes.len()
        );
        for (i, change) in s.changes.iter().enumerate() {
            let _ = writeln!(out, "  {change}");
            // One line per declared path touched, with every gate that reads it.
            let mut by_path: std::collections::BTreeMap<(&str, &str), Vec<&str>> =
                Default::default();
            for impact in s.impacts.iter().filter(|m| m.change == i) {
                let how = match impact.relation {
                    Relation::Exact => "read",
                    Relation::Ancestor => "read below it",
                    Relation::Replacement => "read the key it replaces",
                    Relation::Inside => "read whole",
                };
                by_path
                    .entry((impact.declared.as_str(), how))
                    .or_default()
                    .push(impact.gate.as_str());
            }
            for ((declared, how), gates) in by_path {
                let _ = writeln!(out, "      {declared} ({how}) by {}", gates.join(" "));
            }
        }
    }
    let gates: std::collections::BTreeSet<&str> = sections
        .iter()
        .flat_map(|s| s.impacts.iter())
        .filter(|m| m.relation != Relation::Inside)
        .map(|m| m.gate.as_str())
        .collect();
    let _ = writeln!(
        out,
        "drift: {total} change(s) over {} document(s); gates affected: {}",
        sections.len(),
        if gates.is_empty() {
            "none".to_string()
        } else {
            gates.into_iter().collect::<Vec<_>>().join(" ")
        }
    );
    ascii(out)
}
