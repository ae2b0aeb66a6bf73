//! Lookups into a JSON report (`stackgate gate --format json`) shared by the
//! process-level tests.

use serde_json::Value;

/// The verdict with this gate id; panics showing the whole report when there is none.
pub fn verdict<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["verdicts"]
        .as_array()
        .expect("verdicts is an array")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no verdict {id} in\n{doc:#}"))
}

/// The status label of the verdict with this gate id.
pub fn status_of<'a>(doc: &'a Value, id: &str) -> &'a str {
    verdict(doc, id)["status"]
        .as_str()
        .expect("a verdict's status is a string")
}

/// Every default world of the testcloud, by its key in `fixtures/testcloud/worlds.toml`
/// (`02`, `02-init`, ...), with the gates that run on it.
pub fn default_worlds() -> Vec<(String, Vec<&'static stackgate::gates::GateSpec>)> {
    use stackgate::gates;
    let mut out = Vec::new();
    for phase in gates::phases() {
        out.push((phase.to_string(), gates::for_phase(phase)));
        for moment in gates::phase_moments(phase) {
            out.push((
                format!("{phase}-{moment}"),
                gates::for_moment(phase, moment),
            ));
        }
    }
    out
}

/// The day the tests judge waivers on: a fixed date, so a waiver's expiry never turns a
/// passing test red (the profile's FINDING-1 holds through 2027-06-30).
pub const TODAY: &str = "2026-12-07";

/// The binary's run of `gates` on a world, as `stackgate gate --world` makes it (JSON,
/// 5 s per command, 8 at once, waivers judged on [`TODAY`]).
pub fn world_run(
    gates: &[&'static stackgate::gates::GateSpec],
    world: stackgate::world::World,
    profile: &stackgate::profile::Profile,
) -> stackgate::cli::GateRun {
    use stackgate::runner::{Logged, Replay};
    let mut run = stackgate::cli::GateRun::new(
        gates[0].phase,
        gates.to_vec(),
        profile.clone(),
        Logged::new(Replay::new(world)),
    );
    run.format = stackgate::cli::Format::Json;
    run.options = stackgate::run::RunOptions {
        timeout: std::time::Duration::from_secs(5),
        jobs: 8,
        today: TODAY.parse().expect("a date"),
    };
    run
}
