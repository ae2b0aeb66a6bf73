//! The rebuild rehearsed on the simulator, gate -> action -> gate, as the runbooks
//! sequence it (seed 002 phase 00, seed 004 phases 01-05): each action is dry-run, then
//! applied with the fingerprint that dry-run showed and the model name typed, and each
//! gate reads the same simulated cloud the actions changed.
//!
//! A rehearsal is a list of [`Leg`]s, each one simulated cloud loaded from a fixture
//! world. Where the simulator carries the cloud from one phase into the next, one leg
//! holds both (phase 00's teardown and re-enrolment into phase 01's model-prep). Where
//! a runbook step is the operator's and no action models it (the phase-01 bundle
//! deploy), the next leg starts from the world recorded after that step, and the
//! report says so.
//!
//! The rehearsal passes only when every exit gate passed: a [`Stage::Require`] gate
//! that does not pass, or an action that is neither DONE nor NOTHING-TO-DO, stops it
//! there, as a failed gate stops the runbook.

use std::sync::Arc;

use serde::Serialize;

use crate::actions::executor::{ActionReport, Operator, Outcome};
use crate::actions::plan::SecretNeed;
use crate::actions::wait::{Clock, ManualClock};
use crate::actions::{self, ActionArgs, Context};
use crate::events::{Event, Sink};
use crate::gates::{self, GateSpec, Status, Verdict};
use crate::profile::Profile;
use crate::run::{RunOptions, evaluate};
use crate::runner::Logged;
use crate::sim::{Sim, SimConfig};
use crate::world::World;

/// One step of a leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// A gate read to show the state before an action (a FAIL here is the work the
    /// action has to do): reported, never a stop.
    Look(&'static str),
    /// A gate that must give PASS, PROCEED or SKIP for the rehearsal to go on.
    Require(&'static str),
    /// Gates that must all pass for it to go on (phase 02's pre-flight before the init).
    RequireAll(ExitGates),
    /// A phase's exit: every gate of its first moment (phase 00: P00-EXIT alone, the
    /// gate that stands for the phase) must pass.
    Exit(ExitGates),
    /// An action, with the host it takes: dry-run, then applied.
    Act {
        action: &'static str,
        host: Option<&'static str>,
    },
}

/// Which gates a [`Stage::Exit`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitGates {
    /// These gates.
    Gates(&'static [&'static str]),
    /// Every gate of the phase's first moment.
    Phase(&'static str),
    /// Every gate of a later moment of a phase (phase 02 `authorize`).
    Moment(&'static str, &'static str),
}

impl ExitGates {
    fn specs(&self) -> Result<Vec<&'static GateSpec>, String> {
        match self {
            ExitGates::Gates(ids) => ids.iter().map(|id| gate(id)).collect(),
            ExitGates::Phase(phase) => Ok(gates::for_phase(phase)),
            ExitGates::Moment(phase, moment) => Ok(gates::for_moment(phase, moment)),
        }
    }
}

impl ExitGates {
    fn describe(&self) -> String {
        match self {
            ExitGates::Gates(ids) => format!("gate {}", ids.join(", ")),
            ExitGates::Phase(p) => format!("every phase-{p} gate"),
            ExitGates::Moment(p, m) => format!("every phase-{p} {m} gate"),
        }
    }
}

fn gate(id: &str) -> Result<&'static GateSpec, String> {
    gates::by_id(id).ok_or_else(|| format!("no gate {id}"))
}

/// One simulated cloud and what is rehearsed on it.
#[derive(Debug, Clone)]
pub struct Leg {
    /// The phases it covers, as the report heads them ("00-01").
    pub phases: &'static str,
    /// The fixture world it starts from (`testcloud/sim-phase00-dirty`).
    pub world: String,
    /// Why it starts there: the runbook step between the previous leg and this one.
    pub start: &'static str,
    pub stages: Vec<Stage>,
}

/// The runbook steps the rehearsal does not yet rehearse, as its report lists them.
pub const NOT_REHEARSED: &[&str] = &[
    "phase 01: the bundle deploy is the operator's `juju deploy` (no action); phase 02 starts from the cloud recorded after it",
];

/// The testcloud rebuild as far as the actions reach: phase 00 from the dirty cloud to
/// P00-EXIT, then phase 01's model-prep to every phase-01 gate, on one simulated cloud;
/// phase 03's admin-openrc to every phase-03 gate; phase 04's network-create to P04-POST;
/// phase 05's configure-resources to P05-POST, then the amphora pipeline to P05-AMPHORA
/// PASS (its base image downloaded from a loopback server: [`crate::sim::images`]).
pub fn testcloud() -> Vec<Leg> {
    use Stage::{Act, Exit, Look, Require, RequireAll};
    let act = |action| Act { action, host: None };
    let carve = |host| Act {
        action: "carve",
        host: Some(host),
    };
    vec![
        Leg {
            phases: "00-01",
            world: "testcloud/sim-phase00-dirty".into(),
            start: "the dirty testcloud before the teardown (seed 002): the openstack model alive, every host Deployed, 8_lbaas still attached, openstack2's OSD disk written",
            stages: vec![
                Require("P00-ROUTE"),
                Require("P00-TEARDOWN-PLAN"),
                Look("P00-EXIT"),
                act("teardown-destroy"),
                Require("P00-TEARDOWN"),
                act("lbaas-net-remove"),
                Require("P00-LBAAS"),
                act("osd-wipe"),
                Require("P00-OSD"),
                act("reenroll"),
                Require("P00-REENROLL"),
                Look("P00-CARVE"),
                carve("openstack0"),
                carve("openstack1"),
                carve("openstack2"),
                carve("openstack3"),
                Require("P00-CARVE"),
                act("standup"),
                Require("P00-STANDUP"),
                Exit(ExitGates::Gates(&["P00-EXIT"])),
                Look("P01-MODEL-SPACES"),
                act("model-prep"),
                Exit(ExitGates::Phase("01")),
            ],
        },
        Leg {
            phases: "02",
            world: "testcloud/phase02-pre-vault".into(),
            start: "the cloud recorded after the phase-01 bundle deploy, before vault (seed 004 step 2.1a): vault/0 blocked \"Vault needs to be initialized\"",
            stages: vec![
                RequireAll(ExitGates::Phase("02")),
                act("vault-init"),
                RequireAll(ExitGates::Moment("02", "init")),
                act("vault-unseal"),
                RequireAll(ExitGates::Moment("02", "unseal")),
                act("vault-authorize"),
                Exit(ExitGates::Moment("02", "authorize")),
            ],
        },
        Leg {
            phases: "03",
            world: "testcloud/phase03-openrc-missing".into(),
            start: "the cloud recorded after phase 02 (seed 004 step 3.1): every unit settled after the vault cert cascade, no admin-openrc on the jumphost yet",
            stages: vec![
                Look("P03-OPENRC"),
                act("admin-openrc"),
                Exit(ExitGates::Phase("03")),
            ],
        },
        Leg {
            phases: "04",
            world: "testcloud/phase04-before-create".into(),
            start: "the cloud recorded before the provider network (seed 004 phase 04): admin-openrc sourced, no provider-ext yet",
            stages: vec![
                Require("P04-PRE"),
                Look("P04-POST"),
                act("network-create"),
                Exit(ExitGates::Gates(&["P04-POST"])),
            ],
        },
        Leg {
            phases: "05",
            world: "testcloud/phase05-entry".into(),
            start: "the cloud recorded at phase 05's entry (seed 004): octavia blocked awaiting configure-resources, no lb-mgmt resources",
            stages: vec![
                Require("P05-CONFIG"),
                Require("P05-PRE"),
                act("octavia-configure-resources"),
                Require("P05-POST"),
                Look("P05-AMPHORA"),
                act("amphora-pipeline"),
                Exit(ExitGates::Gates(&["P05-POST", "P05-AMPHORA"])),
            ],
        },
    ]
}

/// What one stage did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Entry {
    Gates {
        role: &'static str,
        verdicts: Vec<Verdict>,
        ok: bool,
    },
    Action {
        /// The action and its host (`carve openstack0`).
        label: String,
        dry_run: Box<ActionReport>,
        applied: Box<ActionReport>,
        ok: bool,
    },
    /// A stage that could not run (an unknown gate or action: a rehearsal bug).
    Broken { stage: String, why: String },
}

impl Entry {
    pub fn ok(&self) -> bool {
        match self {
            Entry::Gates { ok, .. } | Entry::Action { ok, .. } => *ok,
            Entry::Broken { .. } => false,
        }
    }
}

/// One leg's record.
#[derive(Debug, Clone, Serialize)]
pub struct LegReport {
    pub phases: &'static str,
    pub world: String,
    pub start: &'static str,
    pub entries: Vec<Entry>,
    /// Why the leg stopped before its last stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The whole rehearsal.
#[derive(Debug, Clone, Serialize)]
pub struct RehearsalReport {
    pub legs: Vec<LegReport>,
    /// Every exit gate passed and nothing stopped.
    pub passed: bool,
    /// The simulated time the waits took (no wall time: the clock is simulated).
    pub simulated_wait_secs: u64,
    /// Commands the simulator answered.
    pub commands: usize,
    /// Processes the simulation started for the real programs it runs inside (GNU sed
    /// over the files it holds): the difference of [`crate::sim::host::processes_spawned`]
    /// across the run, so exact when nothing else in the process simulates meanwhile.
    pub processes: usize,
}

impl RehearsalReport {
    pub fn exit_code(&self) -> i32 {
        if self.passed { 0 } else { 1 }
    }
}

/// The operator of a rehearsal: the model name is passed as the confirmation; the
/// vault's unseal shares and root token are the ones the simulated init wrote, copied
/// off the simulated host as the runbook's operator copies them (in order, one share
/// per prompt); any other secret (the libvirt SSH password) is a fixed simulated value
/// the simulator accepts. Nothing real is ever typed into a rehearsal.
#[derive(Debug)]
pub struct SimulatedOperator {
    sim: Arc<Sim>,
    shares_given: std::sync::Mutex<usize>,
}

/// The value [`SimulatedOperator`] gives for a secret the simulator does not check.
pub const SIMULATED_SECRET: &str = "stackgate-rehearsal-simulated-secret";

impl SimulatedOperator {
    pub fn new(sim: Arc<Sim>) -> Self {
        SimulatedOperator {
            sim,
            shares_given: std::sync::Mutex::new(0),
        }
    }
}

impl Operator for SimulatedOperator {
    fn confirm(&self, _: &str) -> Option<String> {
        None
    }

    fn secret(&self, need: &SecretNeed) -> Result<Vec<u8>, String> {
        let vault = || {
            self.sim.vault_capture().ok_or_else(|| {
                format!(
                    "{}: no vault init ran in this simulation, so there is nothing to copy off the host",
                    need.prompt
                )
            })
        };
        if need.prompt.contains("unseal key") {
            let (shares, _) = vault()?;
            let mut given = self.shares_given.lock().expect("share count");
            let share = shares
                .get(*given % shares.len().max(1))
                .cloned()
                .ok_or("the simulated init holds no shares")?;
            *given += 1;
            return Ok(share.into_bytes());
        }
        if need.prompt.contains("root token") {
            return Ok(vault()?.1.into_bytes());
        }
        Ok(SIMULATED_SECRET.as_bytes().to_vec())
    }
}

/// A leg's simulated cloud and its profile, from an embedded world or a directory.
pub fn simulate(world: &str, config: SimConfig) -> Result<(Arc<Sim>, Profile), String> {
    let world = if std::path::Path::new(world).join("world.toml").is_file() {
        World::from_dir(std::path::Path::new(world))
    } else {
        World::embedded(world)
    }
    .map_err(|e| e.to_string())?;
    let profile = Profile::embedded(&world.profile).ok_or_else(|| {
        format!(
            "world {} names profile {:?}, which is not embedded",
            world.name, world.profile
        )
    })?;
    let sim = Sim::new(world, &profile.maas_profile(), config).map_err(|e| e.to_string())?;
    Ok((Arc::new(sim), profile))
}

/// Runs the legs in order; a leg that stops ends the rehearsal there.
pub async fn rehearse(legs: &[Leg], events: &dyn Sink, stamp: &str) -> RehearsalReport {
    let clock = ManualClock::new();
    let spawned = crate::sim::host::processes_spawned();
    let mut report = RehearsalReport {
        legs: Vec::new(),
        passed: true,
        simulated_wait_secs: 0,
        commands: 0,
        processes: 0,
    };
    for leg in legs {
        let mut lr = LegReport {
            phases: leg.phases,
            world: leg.world.clone(),
            start: leg.start,
            entries: Vec::new(),
            stopped: None,
        };
        match simulate(&leg.world, SimConfig::default()).and_then(|(sim, profile)| {
            // The amphora pipeline downloads its base image: from a loopback server
            // publishing a small image and its SHA256SUMS, never the internet.
            let downloads = leg.stages.iter().any(|s| {
                matches!(
                    s,
                    Stage::Act {
                        action: "amphora-pipeline",
                        ..
                    }
                )
            });
            let served = match downloads {
                true => Some(crate::sim::images::loopback_profile(&profile, false)?),
                false => None,
            };
            Ok((sim, profile, served))
        }) {
            Err(why) => lr.stopped = Some(format!("cannot simulate {}: {why}", leg.world)),
            Ok((sim, profile, served)) => {
                let profile = served.as_ref().map_or(&profile, |(p, _, _)| p);
                run_leg(leg, &sim, profile, &clock, events, stamp, &mut lr).await;
                report.commands += sim.history().len();
            }
        }
        let stopped = lr.stopped.is_some();
        report.legs.push(lr);
        if stopped {
            report.passed = false;
            break;
        }
    }
    report.simulated_wait_secs = clock.now().as_secs();
    report.processes = crate::sim::host::processes_spawned() - spawned;
    report
}

async fn run_leg(
    leg: &Leg,
    sim: &Arc<Sim>,
    profile: &Profile,
    clock: &ManualClock,
    events: &dyn Sink,
    stamp: &str,
    lr: &mut LegReport,
) {
    let options = options_for(stamp);
    let operator = SimulatedOperator::new(sim.clone());
    events.emit(&Event::PhaseStarted {
        phase: leg.phases.to_string(),
        source: format!("simulator on {}", leg.world),
        profile: profile.name.clone(),
        waivers_as_of: options.today,
    });
    for stage in &leg.stages {
        let entry = match stage {
            Stage::Look(id) | Stage::Require(id) => {
                let role = if matches!(stage, Stage::Look(_)) {
                    "look"
                } else {
                    "require"
                };
                match gate(id) {
                    Ok(spec) => {
                        let observed = matches!(stage, Stage::Look(_));
                        let verdicts =
                            run_gates(sim, profile, vec![spec], events, options, observed).await;
                        let ok = role == "look" || passes(&verdicts);
                        Entry::Gates { role, verdicts, ok }
                    }
                    Err(why) => Entry::Broken {
                        stage: format!("{stage:?}"),
                        why,
                    },
                }
            }
            Stage::Exit(which) | Stage::RequireAll(which) => match which.specs() {
                Ok(specs) => {
                    let verdicts = run_gates(sim, profile, specs, events, options, false).await;
                    let ok = if matches!(stage, Stage::Exit(_)) {
                        exits(&verdicts)
                    } else {
                        passes(&verdicts)
                    };
                    let role = if matches!(stage, Stage::Exit(_)) {
                        "exit"
                    } else {
                        "require"
                    };
                    Entry::Gates { role, verdicts, ok }
                }
                Err(why) => Entry::Broken {
                    stage: format!("{stage:?}"),
                    why,
                },
            },
            Stage::Act { action, host } => match actions::by_name(action) {
                None => Entry::Broken {
                    stage: format!("{stage:?}"),
                    why: format!("no action {action}"),
                },
                Some(a) => {
                    let ctx = Context {
                        runner: Arc::new(Logged::new(sim.clone())),
                        profile,
                        clock,
                        events,
                        operator: &operator,
                    };
                    let args = ActionArgs {
                        host: host.map(str::to_string),
                        stamp: stamp.to_string(),
                    };
                    let (dry, applied) = actions::plan_then_apply(
                        a,
                        &args,
                        Some(profile.model.clone()),
                        options,
                        &ctx,
                    )
                    .await;
                    let ok = matches!(applied.outcome, Outcome::Done | Outcome::NothingToDo);
                    Entry::Action {
                        label: host.map_or_else(|| action.to_string(), |h| format!("{action} {h}")),
                        dry_run: Box::new(dry),
                        applied: Box::new(applied),
                        ok,
                    }
                }
            },
        };
        let ok = entry.ok();
        lr.entries.push(entry);
        if !ok {
            lr.stopped = Some(format!("at {}", describe(stage)));
            return;
        }
    }
}

/// The options of a rehearsal stamped `stamp` (YYYYMMDDTHHMMSSZ): waivers are judged
/// on the rehearsal's own date.
fn options_for(stamp: &str) -> RunOptions {
    RunOptions {
        today: stamp
            .get(..8)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y%m%d").ok())
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
        ..RunOptions::default()
    }
}

async fn run_gates(
    sim: &Arc<Sim>,
    profile: &Profile,
    specs: Vec<&'static GateSpec>,
    events: &dyn Sink,
    options: RunOptions,
    observed: bool,
) -> Vec<Verdict> {
    let runner = Arc::new(Logged::new(sim.clone()));
    for spec in &specs {
        events.emit(&Event::GateStarted {
            id: spec.id,
            phase: spec.phase,
        });
    }
    let (_, verdicts) = evaluate(&specs, profile, runner, options).await;
    for v in &verdicts {
        events.emit(&if observed {
            Event::Observed(v.clone())
        } else {
            Event::Verdict(v.clone())
        });
    }
    verdicts
}

/// An exit gate passes on PASS (or SKIP, a gate that does not apply to the site): a
/// PROCEED is a go-ahead for an action, not a phase done.
fn exits(verdicts: &[Verdict]) -> bool {
    !verdicts.is_empty()
        && verdicts
            .iter()
            .all(|v| matches!(v.status, Status::Pass | Status::Skip | Status::Waived))
}

fn passes(verdicts: &[Verdict]) -> bool {
    !verdicts.is_empty() && verdicts.iter().all(|v| v.status.exit_code() == 0)
}

/// A stage as the report names it.
pub fn describe(stage: &Stage) -> String {
    match stage {
        Stage::Look(id) => format!("gate {id}"),
        Stage::Require(id) => format!("gate {id} (must pass)"),
        Stage::Exit(which) => format!("exit: {}", which.describe()),
        Stage::RequireAll(which) => format!("{} (must pass)", which.describe()),
        Stage::Act { action, host: None } => format!("action {action}"),
        Stage::Act {
            action,
            host: Some(h),
        } => format!("action {action} {h}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stage of the testcloud rehearsal names a gate or action that exists, and
    /// every leg has an exit stage.
    #[test]
    fn every_stage_names_a_real_gate_or_action() {
        for leg in testcloud() {
            for stage in &leg.stages {
                match stage {
                    Stage::Look(id) | Stage::Require(id) => assert!(gate(id).is_ok(), "{id}"),
                    Stage::Exit(which) | Stage::RequireAll(which) => {
                        assert!(!which.specs().unwrap().is_empty(), "{which:?}")
                    }
                    Stage::Act { action, host } => {
                        let a = actions::by_name(action).unwrap_or_else(|| panic!("{action}"));
                        assert_eq!(a.takes_host, host.is_some(), "{action}");
                    }
                }
            }
            assert!(
                leg.stages.iter().any(|s| matches!(s, Stage::Exit(_))),
                "{}",
                leg.phases
            );
        }
    }
}

#[cfg(test)]
mod canary {
    use super::*;

    /// One leg on its own simulated cloud, its text and JSON report, and the sim.
    async fn leg(phases: &str) -> (Arc<Sim>, String) {
        let legs: Vec<Leg> = testcloud()
            .into_iter()
            .filter(|l| l.phases == phases)
            .collect();
        assert_eq!(legs.len(), 1);
        let (sim, profile) = simulate(&legs[0].world, SimConfig::default()).unwrap();
        let clock = ManualClock::new();
        let mut lr = LegReport {
            phases: legs[0].phases,
            world: legs[0].world.clone(),
            start: legs[0].start,
            entries: Vec::new(),
            stopped: None,
        };
        run_leg(
            &legs[0],
            &sim,
            &profile,
            &clock,
            &crate::events::Discard,
            "20261202T120000Z",
            &mut lr,
        )
        .await;
        assert!(lr.stopped.is_none(), "{lr:#?}");
        let report = RehearsalReport {
            legs: vec![lr],
            passed: true,
            simulated_wait_secs: 0,
            commands: 0,
            processes: 0,
        };
        let shown = crate::report::rehearsal::render_text(&report)
            + &crate::report::rehearsal::render_json(&report);
        (sim, shown)
    }

    fn nowhere(sim: &Sim, shown: &str, secrets: &[String]) {
        for secret in secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "a secret is in the report"
            );
        }
        // Nor on any argv the simulator saw.
        for argv in sim.history() {
            for secret in secrets {
                assert!(
                    !argv.iter().any(|w| w.contains(secret.as_str())),
                    "{argv:?}"
                );
            }
        }
    }

    /// The phase-02 leg on the simulator: the shares, the root token and the child token
    /// the simulated vault made reach no line of the rehearsal's text or JSON report.
    #[tokio::test]
    async fn no_vault_secret_reaches_the_rehearsal_report() {
        let (sim, shown) = leg("02").await;
        let (mut secrets, root) = sim.vault_capture().expect("the leg ran the init");
        secrets.push(root);
        secrets.push(crate::sim::vault::simulated_token("child", 1));
        nowhere(&sim, &shown, &secrets);
    }

    /// The phase-03 leg: keystone's admin password reaches the admin-openrc on the
    /// simulated jumphost, and no report line or argv.
    #[tokio::test]
    async fn the_admin_password_reaches_the_openrc_and_nothing_else() {
        let (sim, shown) = leg("03").await;
        let password = crate::sim::keystone::simulated_password();
        let openrc = sim
            .jumphost_file("/home/ubuntu/admin-openrc")
            .expect("the leg wrote the openrc");
        assert!(String::from_utf8_lossy(&openrc).contains(&password));
        nowhere(&sim, &shown, &[password]);
    }
}
