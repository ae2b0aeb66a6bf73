//! The report of `stackgate rehearse`: each leg's starting world, each gate's verdict
//! and each action's plan and result, in the order they ran. ASCII + LF.

use crate::rehearsal::{Entry, RehearsalReport};

/// The terminal text of a rehearsal.
pub fn render_text(report: &RehearsalReport) -> String {
    let mut out = String::from(
        "stackgate rehearse: the rebuild on the simulator, gate -> action -> gate (no real cloud is read or changed)\n",
    );
    for leg in &report.legs {
        out.push_str(&format!(
            "\n== {} {} on simulated {}\n   starts from: {}\n",
            if leg.phases.contains('-') {
                "phases"
            } else {
                "phase"
            },
            leg.phases,
            leg.world,
            leg.start
        ));
        for entry in &leg.entries {
            match entry {
                Entry::Gates { role, verdicts, .. } => {
                    for v in verdicts {
                        let outcome = v
                            .outcome
                            .as_deref()
                            .map_or(String::new(), |o| format!(" [{o}]"));
                        out.push_str(&format!(
                            "  {role:<7} {:<28} {:<13} {}{outcome}\n",
                            v.id,
                            v.status.label(),
                            v.summary
                        ));
                    }
                }
                Entry::Action {
                    label,
                    dry_run,
                    applied,
                    ..
                } => {
                    let planned = dry_run.plan.as_ref().map_or(0, |p| p.steps.len());
                    out.push_str(&format!(
                        "  act     {label:<28} {:<13} {planned} step(s) planned, {} ran\n",
                        applied.outcome.label(),
                        applied.steps.len()
                    ));
                    for s in &applied.steps {
                        out.push_str(&format!(
                            "            {:>2}. {} {}\n                {}\n",
                            s.step,
                            if s.ok { "OK  " } else { "FAIL" },
                            s.command,
                            s.detail
                        ));
                    }
                    if let Some(why) = reason(applied) {
                        out.push_str(&format!("            {why}\n"));
                    }
                }
                Entry::Broken { stage, why } => {
                    out.push_str(&format!("  BROKEN  {stage}: {why}\n"));
                }
            }
        }
        if let Some(stopped) = &leg.stopped {
            out.push_str(&format!("  STOPPED {stopped}\n"));
        }
    }
    out.push_str("\nnot rehearsed yet:\n");
    for gap in crate::rehearsal::NOT_REHEARSED {
        out.push_str(&format!("  - {gap}\n"));
    }
    out.push_str(&format!(
        "\nresult: {} (exit {}): {}; {} commands answered by the simulator ({} real process(es) spawned), {} s of simulated waiting\n",
        if report.passed { "PASS" } else { "FAIL" },
        report.exit_code(),
        if report.passed {
            "every exit gate passed"
        } else {
            "the rehearsal stopped before every exit gate passed"
        },
        report.commands,
        report.processes,
        report.simulated_wait_secs
    ));
    super::ascii(out)
}

/// Why an action ended other than DONE.
fn reason(report: &crate::actions::ActionReport) -> Option<String> {
    use crate::actions::Outcome;
    match &report.outcome {
        Outcome::Done => None,
        Outcome::NothingToDo => Some("the cloud is already as this action leaves it".into()),
        Outcome::Planned => Some("planned, not applied".into()),
        Outcome::Refused(why)
        | Outcome::Stale(why)
        | Outcome::Unconfirmed(why)
        | Outcome::Precondition(why)
        | Outcome::StepFailed(why) => Some(why.clone()),
    }
}

/// The JSON document of a rehearsal.
pub fn render_json(report: &RehearsalReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a rehearsal report serialises");
    text.push('\n');
    text
}
