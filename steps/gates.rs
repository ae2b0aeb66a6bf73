//! When the gates run through the library (replay runner, reader, snapshot, pure
//! evaluation), and Then steps on verdicts, evidence lines, metrics and the exit code.

use std::sync::Arc;

use cucumber::{given, then, when};
use stackgate::cli::{Format, GateRun};
use stackgate::gates::{self as catalog, Evidence, GateSpec, Mark, Verdict};
use stackgate::run::RunOptions;
use stackgate::runner::{DEFAULT_TIMEOUT, Live, Logged, Replay};
use stackgate::snapshot::DEFAULT_JOBS;

use crate::{
    Expected, Gate, GateRunResult, GateWorld, MarkParam, Phase, Unit, describe, on_worker,
};

/// Reads what the gates need from the scenario's fixture world (or, for a scenario that
/// started real programs, through the Live runner) and evaluates them, the same path
/// `stackgate gate --world` (`--live`) takes.
pub(crate) async fn run_gates(
    w: &mut GateWorld,
    phase: &str,
    gates: Vec<&'static GateSpec>,
) -> Result<(), String> {
    let profile = w
        .profile
        .clone()
        .ok_or("no site profile: a `Given the testcloud site profile` step must come first")?;
    let runner = if let Some(runner) = &w.acting.runner {
        Logged::new(runner.clone())
    } else if let Some(sim) = &w.acting.sim {
        Logged::new(sim.clone())
    } else if w.live {
        Logged::new(Live::new())
    } else {
        let world = w
            .fixture
            .clone()
            .ok_or("no fixture world: a `Given the fixture world \"...\"` step must come first")?;
        Logged::new(Replay::new(world))
    };
    let run = GateRun {
        phase: phase.to_string(),
        gates,
        profile,
        runner: Arc::new(runner),
        format: Format::Text,
        options: RunOptions {
            timeout: DEFAULT_TIMEOUT,
            jobs: DEFAULT_JOBS,
            today: w.today(),
        },
    };
    let (snapshot, report) = on_worker(async move { run.execute_with_snapshot().await }).await;
    if w.acting.runner.is_some() {
        // Between actions, every gate run's report and snapshot is searched for secrets.
        w.acting.rendered.push(format!(
            "{}{}{snapshot:?}{:?}",
            stackgate::report::render_text(&report),
            stackgate::report::render_json(&report),
            snapshot.calls()
        ));
    }
    w.run = Some(GateRunResult { report, snapshot });
    Ok(())
}

#[when(expr = "the phase {phase} gates run")]
async fn phase_runs(w: &mut GateWorld, phase: Phase) -> Result<(), String> {
    let gates = catalog::for_phase(&phase.0);
    run_gates(w, &phase.0, gates).await
}

#[when(expr = "gate {gate} runs")]
async fn gate_runs(w: &mut GateWorld, gate: Gate) -> Result<(), String> {
    run_gates(w, gate.0.phase, vec![gate.0]).await
}

#[then(expr = "gate {gate} is {verdict}")]
fn gate_is(w: &mut GateWorld, gate: Gate, expected: Expected) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.status == expected.0 {
        Ok(())
    } else {
        Err(format!(
            "expected gate {} to be {}, the verdict was:\n{}",
            gate.0.id,
            expected.0,
            describe(v)
        ))
    }
}

#[then(expr = "gate {gate} routes to {word}")]
fn gate_routes(w: &mut GateWorld, gate: Gate, route: String) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.outcome.as_deref() == Some(route.as_str()) {
        Ok(())
    } else {
        Err(format!(
            "expected gate {} to route to {route}, the verdict was:\n{}",
            gate.0.id,
            describe(v)
        ))
    }
}

#[then(expr = "every gate of the run is {verdict}")]
fn every_gate_is(w: &mut GateWorld, expected: Expected) -> Result<(), String> {
    let report = w.report()?;
    let off: Vec<&Verdict> = report
        .verdicts
        .iter()
        .filter(|v| v.status != expected.0)
        .collect();
    if off.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = off.iter().map(|v| describe(v)).collect();
    Err(format!(
        "expected every gate of the run ({} gates) to be {}; these were not:\n{}",
        report.verdicts.len(),
        expected.0,
        shown.join("")
    ))
}

#[then(expr = "the run exits {int}")]
fn run_exits(w: &mut GateWorld, code: i32) -> Result<(), String> {
    let report = w.report()?;
    if report.exit_code == code {
        return Ok(());
    }
    let shown: Vec<String> = report.verdicts.iter().map(describe).collect();
    Err(format!(
        "expected the run to exit {code}, it exits {} (result {}):\n{}",
        report.exit_code,
        report.result,
        shown.join("")
    ))
}

/// The text of an evidence line that steps search: subject, property, actual, expected.
fn searchable(e: &Evidence) -> String {
    format!(
        "{} {} {} {}",
        e.subject,
        e.property,
        e.actual,
        e.expected.as_deref().unwrap_or("")
    )
}

#[then(expr = "the evidence of gate {gate} names {string}")]
fn evidence_names(w: &mut GateWorld, gate: Gate, text: String) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.evidence.iter().any(|e| searchable(e).contains(&text)) {
        Ok(())
    } else {
        Err(format!(
            "expected an evidence line of gate {} naming {text:?}, the verdict was:\n{}",
            gate.0.id,
            describe(v)
        ))
    }
}

#[then(expr = "gate {gate} cannot settle by waiting, naming {string}")]
fn cannot_settle(w: &mut GateWorld, gate: Gate, text: String) -> Result<(), String> {
    let v = w.verdict(gate)?;
    match &v.unsettleable {
        Some(why) if why.contains(&text) => Ok(()),
        other => Err(format!(
            "expected gate {} to be a state waiting cannot fix, naming {text:?}; it is {other:?}:\n{}",
            gate.0.id,
            describe(v)
        )),
    }
}

#[given(expr = "the date is {word}")]
fn the_date_is(w: &mut GateWorld, day: String) -> Result<(), String> {
    w.today = Some(day.parse().map_err(|e| format!("{day}: {e}"))?);
    Ok(())
}

#[then(expr = "gate {gate} has a(n) {mark} line naming {string}")]
fn marked_line_names(
    w: &mut GateWorld,
    gate: Gate,
    mark: MarkParam,
    text: String,
) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.evidence
        .iter()
        .any(|e| e.mark == mark.0 && searchable(e).contains(&text))
    {
        Ok(())
    } else {
        Err(format!(
            "expected a {} evidence line of gate {} naming {text:?}, the verdict was:\n{}",
            mark.0.label(),
            gate.0.id,
            describe(v)
        ))
    }
}

/// Whether a line names the unit as a whole word: `keystone/1` is not `keystone/10`, and
/// key paths (`...units.keystone/0.juju-status`) name the unit they lead to.
fn names_unit(e: &Evidence, unit: &str) -> bool {
    [&e.subject, &e.actual].iter().any(|text| {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '/'))
            .any(|word| word == unit)
    })
}

#[then(expr = "gate {gate} marks {unit} {mark}")]
fn marks_unit(w: &mut GateWorld, gate: Gate, unit: Unit, mark: MarkParam) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.evidence
        .iter()
        .any(|e| e.mark == mark.0 && names_unit(e, &unit.0))
    {
        Ok(())
    } else {
        Err(format!(
            "expected gate {} to mark unit {} {}, the verdict was:\n{}",
            gate.0.id,
            unit.0,
            mark.0.label(),
            describe(v)
        ))
    }
}

#[then(expr = "gate {gate} marks no unit but {unit} {mark}")]
fn marks_only_unit(
    w: &mut GateWorld,
    gate: Gate,
    unit: Unit,
    mark: MarkParam,
) -> Result<(), String> {
    let v = w.verdict(gate)?;
    let marked: Vec<&Evidence> = v.evidence.iter().filter(|e| e.mark == mark.0).collect();
    if marked.len() == 1 && names_unit(marked[0], &unit.0) {
        Ok(())
    } else {
        Err(format!(
            "expected exactly one {} line in gate {}, naming {}; it has {}:\n{}",
            mark.0.label(),
            gate.0.id,
            unit.0,
            marked.len(),
            describe(v)
        ))
    }
}

#[then(expr = "gate {gate} reports a missing key path ending in {string}")]
fn missing_key_path(w: &mut GateWorld, gate: Gate, suffix: String) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.evidence
        .iter()
        .any(|e| e.mark == Mark::Missing && e.subject.ends_with(&suffix))
    {
        Ok(())
    } else {
        Err(format!(
            "expected gate {} to name a missing key path ending in {suffix:?}, the verdict was:\n{}",
            gate.0.id,
            describe(v)
        ))
    }
}

#[then(expr = "gate {gate} reports metric {string} = {int}")]
fn reports_metric(w: &mut GateWorld, gate: Gate, name: String, value: u64) -> Result<(), String> {
    let v = w.verdict(gate)?;
    match v.metrics.get(&name) {
        Some(&n) if n == value => Ok(()),
        Some(&n) => Err(format!(
            "expected gate {} to report {name} = {value}, it reports {n}:\n{}",
            gate.0.id,
            describe(v)
        )),
        None => Err(format!(
            "expected gate {} to report metric {name:?}, it has no such metric:\n{}",
            gate.0.id,
            describe(v)
        )),
    }
}

/// Units the walk did not find active/idle (allowlisted or unexpected): the count R4 says
/// a gate must not decide on, stated so a scenario can show equal counts and different
/// verdicts.
#[then(expr = "gate {gate} counts {int} unit(s) not active\\/idle")]
fn counts_unsettled(w: &mut GateWorld, gate: Gate, count: u64) -> Result<(), String> {
    let v = w.verdict(gate)?;
    let (Some(units), Some(settled)) = (v.metrics.get("units"), v.metrics.get("active_idle"))
    else {
        return Err(format!(
            "gate {} reports no units / active_idle metrics:\n{}",
            gate.0.id,
            describe(v)
        ));
    };
    let unsettled = units.saturating_sub(*settled);
    if unsettled == count {
        Ok(())
    } else {
        Err(format!(
            "expected gate {} to count {count} units not active/idle, it counts {unsettled}:\n{}",
            gate.0.id,
            describe(v)
        ))
    }
}
