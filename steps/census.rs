//! Census steps: the P02-E unit census as a table, its internal consistency, and the
//! shape of the units a scenario's fixture is about (a subordinate really is one).

use cucumber::gherkin::Step;
use cucumber::then;

use crate::{Gate, GateWorld, Unit, describe};

/// Metrics of the census that are not counts of a workload state.
const NOT_STATES: [&str; 5] = [
    "units",
    "principals",
    "subordinates",
    "workload_error",
    "juju_status_error",
];

#[then(expr = "gate {gate} reports the census")]
fn reports_census(w: &mut GateWorld, gate: Gate, step: &Step) -> Result<(), String> {
    let v = w.verdict(gate)?;
    let table = step
        .table
        .as_ref()
        .ok_or("the step needs a table of `| metric | count |` rows")?;
    let mut wrong = Vec::new();
    for row in &table.rows {
        let [name, want] = row.as_slice() else {
            return Err(format!(
                "a census row has {} cells, expected 2: {row:?}",
                row.len()
            ));
        };
        let want: u64 = want
            .parse()
            .map_err(|e| format!("census row {name}: {want:?} is not a count: {e}"))?;
        match v.metrics.get(name) {
            Some(&got) if got == want => {}
            Some(&got) => wrong.push(format!("{name}: expected {want}, reported {got}")),
            None => wrong.push(format!("{name}: expected {want}, not reported")),
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the census of gate {} differs:\n    {}\nthe verdict was:\n{}",
            gate.0.id,
            wrong.join("\n    "),
            describe(v)
        ))
    }
}

#[then(expr = "the census of gate {gate} counts every unit once")]
fn census_adds_up(w: &mut GateWorld, gate: Gate) -> Result<(), String> {
    let v = w.verdict(gate)?;
    let get = |name: &str| v.metrics.get(name).copied();
    let (Some(units), Some(principals), Some(subordinates)) =
        (get("units"), get("principals"), get("subordinates"))
    else {
        return Err(format!(
            "gate {} reports no census (units, principals, subordinates):\n{}",
            gate.0.id,
            describe(v)
        ));
    };
    let by_state: u64 = v
        .metrics
        .iter()
        .filter(|(name, _)| !NOT_STATES.contains(&name.as_str()))
        .map(|(_, n)| n)
        .sum();
    if principals + subordinates == units && by_state == units {
        Ok(())
    } else {
        Err(format!(
            "the census of gate {} does not add up: units={units}, principals+subordinates={}, \
             units by workload state={by_state}:\n{}",
            gate.0.id,
            principals + subordinates,
            describe(v)
        ))
    }
}

#[then(expr = "{unit} is a subordinate of {unit}")]
fn is_subordinate_of(w: &mut GateWorld, unit: Unit, principal: Unit) -> Result<(), String> {
    let run = w
        .run
        .as_ref()
        .ok_or("no gates have run yet: a `When ... run` step must come first")?;
    let model = &w.profile.as_ref().ok_or("no site profile")?.model;
    let status = run
        .snapshot
        .juju_status(model)
        .map_err(|e| format!("the run could not read juju status of model {model}: {e}"))?;
    let found = status
        .unit(&unit.0)
        .ok_or_else(|| format!("unit {} is not in model {model}", unit.0))?;
    match found.principal {
        Some(p) if p == principal.0 => Ok(()),
        Some(p) => Err(format!(
            "{} is a subordinate of {p}, not of {} (key path {})",
            unit.0,
            principal.0,
            found.path()
        )),
        None => Err(format!(
            "{} is a principal unit (key path {}), not a subordinate of {}",
            unit.0,
            found.path(),
            principal.0
        )),
    }
}
