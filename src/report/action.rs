//! The report of one `stackgate act` run: the plan with every resolved id and every
//! protected machine EXCLUDED, then what ran and what each step proved. ASCII + LF.

use crate::actions::executor::{ActionReport, Outcome};

/// The terminal text of an action run. `rerun` is the command line that applies the
/// shown plan (without --apply, --plan and --confirm).
pub fn render_text(report: &ActionReport, rerun: &str, model: &str) -> String {
    let mut out = String::new();
    let mode = if report.applied { "APPLY" } else { "DRY-RUN" };
    out.push_str(&format!(
        "stackgate act {} (phase {}) on {}: {mode}\n",
        report.action, report.phase, report.source
    ));
    if let Some(plan) = &report.plan {
        if !plan.resolved.is_empty() {
            out.push_str("resolved (live, this read):\n");
            let width = plan.resolved.keys().map(|k| k.len()).max().unwrap_or(0);
            for (name, value) in &plan.resolved {
                out.push_str(&format!("  {name:<width$}  {value}\n"));
            }
        }
        if !plan.excluded.is_empty() {
            out.push_str("protected (never a target):\n");
            for e in &plan.excluded {
                out.push_str(&format!("  {:<12} {}\n", e.name, e.resolved));
            }
        }
        if plan.steps.is_empty() {
            out.push_str("plan: nothing to do\n");
        } else {
            out.push_str(&format!("plan (fingerprint {}):\n", plan.fingerprint));
            for (i, s) in plan.steps.iter().enumerate() {
                out.push_str(&format!(
                    "  {:>2}. {}{}\n",
                    i + 1,
                    if s.destructive { "[DESTRUCTIVE] " } else { "" },
                    s.command
                ));
                out.push_str(&format!("      why:    {}\n", s.reason));
                if !s.targets.is_empty() {
                    out.push_str(&format!("      acts on: {}\n", s.targets.join(", ")));
                }
                if let Some(secret) = &s.secret {
                    out.push_str(&format!("      secret: {secret}\n"));
                }
                if let Some(slot) = &s.captures {
                    out.push_str(&format!(
                        "      captures: its stdout as the {slot}, in memory only (never shown, logged or reported)\n"
                    ));
                }
                out.push_str(&format!("      proves: {}\n", s.check));
            }
        }
        for note in &plan.notes {
            out.push_str(&format!("note: {note}\n"));
        }
    }
    if !report.steps.is_empty() {
        out.push_str("ran:\n");
        for s in &report.steps {
            out.push_str(&format!(
                "  {:>2}. {} {}{}\n      {}\n",
                s.step,
                if s.ok { "OK  " } else { "FAIL" },
                s.command,
                s.exit_code
                    .map_or(String::new(), |c| format!(" (exit {c})")),
                s.detail
            ));
        }
    }
    let tail = match &report.outcome {
        Outcome::Planned => {
            let plan = report
                .plan
                .as_ref()
                .map(|p| p.fingerprint.clone())
                .unwrap_or_default();
            let destructive = report
                .plan
                .as_ref()
                .is_some_and(|p| p.steps.iter().any(|s| s.destructive));
            format!(
                "nothing was changed. Review the plan, then apply it:\n  {rerun} --apply --plan {plan}{}",
                if destructive {
                    format!(" --confirm {model}")
                } else {
                    String::new()
                }
            )
        }
        Outcome::NothingToDo => "the cloud is already as this action leaves it".to_string(),
        Outcome::Done => "every step ran and proved its post-condition".to_string(),
        Outcome::Refused(why)
        | Outcome::Stale(why)
        | Outcome::Unconfirmed(why)
        | Outcome::Precondition(why)
        | Outcome::StepFailed(why) => why.clone(),
    };
    out.push_str(&format!("{}: {tail}\n", report.outcome.label()));
    super::ascii(out)
}

/// The JSON document of an action run.
pub fn render_json(report: &ActionReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("an action report serialises");
    text.push('\n');
    text
}

/// Every action with its phase, guards and whether it is destructive.
pub fn render_list() -> String {
    let mut out = String::new();
    for a in crate::actions::all() {
        out.push_str(&format!(
            "{:<19} phase {}  {:<13} {}{}\n    guards: {}\n",
            a.name,
            a.phase,
            if a.destructive {
                "@destructive"
            } else {
                "@mutation"
            },
            if a.takes_host { "<host>: " } else { "" },
            a.description,
            a.guards
        ));
    }
    super::ascii(out)
}
