//! Phase actions between the gates, on the simulator: Given a simulated cloud, When an
//! action is planned or applied (dry-run first, then `--apply` with the reviewed
//! fingerprint, as the operator runs it), Then what the executor decided. Gates run
//! after an action read the same simulated cloud (steps/gates.rs).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use cucumber::{given, then, when};
use stackgate::actions::executor::{ActionReport, Operator};
use stackgate::actions::plan::SecretNeed;
use stackgate::actions::wait::ManualClock;
use stackgate::actions::{self, ActionArgs, Context, ExecOptions};
use stackgate::events::Discard;
use stackgate::report;
use stackgate::run::RunOptions;
use stackgate::runner::{CommandRunner, Logged};
use stackgate::sim::{Sim, SimConfig};
use stackgate::world::World;

use crate::{Fixture, GateWorld};

/// The libvirt SSH password the scenarios type: it must appear in no argv, report or
/// call log.
pub const TYPED_SECRET: &str = "libvirt-ssh-typed-in-a-scenario-7f3a";

/// What the scenario's operator types at the hidden prompts: [`TYPED_SECRET`] for
/// every one, or, once a step loaded them (the unseal keys and the root token read off
/// the init capture, as the operator reads them), these values in order and nothing
/// after them.
pub type Typed = Arc<Mutex<Option<VecDeque<Vec<u8>>>>>;

/// The operator of a scenario: types the secret when asked; no prompt otherwise.
struct ScenarioOperator(Typed);

impl Operator for ScenarioOperator {
    fn confirm(&self, _: &str) -> Option<String> {
        None
    }

    fn secret(&self, need: &SecretNeed) -> Result<Vec<u8>, String> {
        match &mut *self.0.lock().expect("typed lock") {
            None => Ok(TYPED_SECRET.as_bytes().to_vec()),
            Some(queue) => queue.pop_front().ok_or_else(|| {
                format!("the operator has nothing more to type for {}", need.prompt)
            }),
        }
    }
}

/// A scenario's simulated cloud and what the actions on it did.
#[derive(Default)]
pub struct Acting {
    pub sim: Option<Arc<Sim>>,
    /// What actions and gates read and act through when it is not the simulator alone
    /// (the simulated juju with real programs for the rest: steps/vault.rs).
    pub runner: Option<Arc<dyn CommandRunner>>,
    /// What the operator types at the hidden prompts.
    pub typed: Typed,
    pub report: Option<ActionReport>,
    /// The fingerprint of the last dry-run: the plan the operator reviewed.
    pub reviewed: Option<String>,
    /// How many commands the simulator had answered before the last action.
    pub history_before: usize,
    /// Every action report of the scenario, rendered: checked for secrets.
    pub rendered: Vec<String>,
    /// What each `machine release` of the deprecated teardown answered.
    pub released: Vec<stackgate::sim::Answer>,
    /// What the last command attempted by hand answered.
    pub by_hand: Option<stackgate::sim::Answer>,
    /// The loopback server publishing the amphora base image, and the download
    /// directory the profile now names (steps/amphora.rs).
    pub images: Option<(stackgate::sim::images::ImageServer, tempfile::TempDir)>,
}

impl std::fmt::Debug for Acting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acting")
            .field("sim", &self.sim)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

fn load(w: &mut GateWorld, fixture: &str, config: SimConfig) -> Result<(), String> {
    let world = World::embedded(&format!("testcloud/{fixture}")).map_err(|e| e.to_string())?;
    let profile = stackgate::profile::Profile::embedded(&world.profile)
        .ok_or_else(|| format!("profile {} is not embedded", world.profile))?;
    let maas = profile.maas_profile();
    let sim = Sim::new(world.clone(), &maas, config).map_err(|e| e.to_string())?;
    w.profile = Some(profile);
    w.fixture = Some(world);
    w.acting.sim = Some(Arc::new(sim));
    Ok(())
}

#[given(expr = "the simulated cloud {fixture}")]
fn simulated(w: &mut GateWorld, fixture: Fixture) -> Result<(), String> {
    load(w, &fixture.0, SimConfig::default())
}

#[given(expr = "the simulated cloud {fixture} whose model never finishes destroying")]
fn simulated_stuck(w: &mut GateWorld, fixture: Fixture) -> Result<(), String> {
    load(
        w,
        &fixture.0,
        SimConfig {
            destroy_stuck: true,
            ..SimConfig::default()
        },
    )
}

/// The simulated jumphost runs virsh on libvirt's test driver and qemu-img, qemu-io and
/// rm on real qcow2 files in the simulator's tempdir (`SimConfig::real_programs`): the
/// scenario is tagged `@needs-virsh @needs-qemu-img @needs-qemu-io`.
#[given(expr = "the simulated cloud {fixture} with real virsh, qemu-img and qemu-io")]
fn simulated_real(w: &mut GateWorld, fixture: Fixture) -> Result<(), String> {
    load(
        w,
        &fixture.0,
        SimConfig {
            real_programs: true,
            ..SimConfig::default()
        },
    )
}

#[then("the simulated jumphost ran the real programs")]
fn ran_real(w: &mut GateWorld) -> Result<(), String> {
    let sim = w.acting.sim.as_ref().ok_or("no simulated cloud")?;
    if !sim.runs_real_programs() {
        return Err("the simulated cloud models virsh and qemu-img instead of running them".into());
    }
    let ran = |program: &str| {
        sim.history()
            .iter()
            .any(|argv| argv.iter().any(|w| w == program))
    };
    match ["virsh", "qemu-img"].into_iter().find(|p| !ran(p)) {
        Some(p) => Err(format!("the scenario never ran {p}: it proves nothing")),
        None => Ok(()),
    }
}

pub(crate) async fn act(
    w: &mut GateWorld,
    name: &str,
    host: Option<String>,
    options: ExecOptions,
) -> Result<(), String> {
    let sim =
        w.acting.sim.clone().ok_or(
            "no simulated cloud: a `Given the simulated cloud \"...\"` step must come first",
        )?;
    let profile = w.profile.clone().ok_or("no site profile")?;
    let action = actions::by_name(name).ok_or_else(|| format!("no action {name}"))?;
    let runner: Arc<dyn CommandRunner> = match &w.acting.runner {
        Some(r) => r.clone(),
        None => sim.clone(),
    };
    let runner = Arc::new(Logged::new(runner));
    let operator = ScenarioOperator(w.acting.typed.clone());
    let args = ActionArgs {
        host,
        stamp: "20261202T120000Z".into(),
    };
    w.acting.history_before = sim.history().len();
    let apply = options.apply;
    let (report, profile, runner) = crate::on_worker(async move {
        let clock = ManualClock::new();
        let ctx = Context {
            runner: runner.clone(),
            profile: &profile,
            clock: &clock,
            events: &Discard,
            operator: &operator,
        };
        let report = actions::execute(action, &args, &options, &ctx).await;
        (report, profile, runner)
    })
    .await;
    if !apply {
        w.acting.reviewed = report.plan.as_ref().map(|p| p.fingerprint.clone());
    }
    let mut rendered = report::action::render_text(&report, "stackgate act", &profile.model);
    rendered.push_str(&report::action::render_json(&report));
    rendered.push_str(&format!("{:?}", runner.records()));
    w.acting.rendered.push(rendered);
    w.acting.report = Some(report);
    Ok(())
}

fn apply_options(w: &GateWorld, confirm: Option<String>) -> ExecOptions {
    ExecOptions {
        apply: true,
        confirm,
        reviewed: w.acting.reviewed.clone(),
        run: RunOptions::default(),
    }
}

/// `carve for openstack0` names the host; other actions take none.
fn split(spec: &str) -> (String, Option<String>) {
    match spec.split_once(" for ") {
        Some((a, h)) => (a.to_string(), Some(h.to_string())),
        None => (spec.to_string(), None),
    }
}

#[when(regex = r"^(\S+(?: for \S+)?) is planned$")]
async fn planned(w: &mut GateWorld, spec: String) -> Result<(), String> {
    let (name, host) = split(&spec);
    act(w, &name, host, ExecOptions::default()).await
}

/// Dry-run, then apply what it planned, as the operator does.
pub(crate) async fn dry_then_apply(
    w: &mut GateWorld,
    spec: &str,
    confirm: Option<String>,
) -> Result<(), String> {
    let (name, host) = split(spec);
    act(w, &name, host.clone(), ExecOptions::default()).await?;
    let before = w.acting.history_before;
    let options = apply_options(w, confirm);
    act(w, &name, host, options).await?;
    w.acting.history_before = before;
    Ok(())
}

#[when(regex = r#"^(\S+(?: for \S+)?) is applied with confirmation "([^"]*)"$"#)]
async fn applied_confirmed(w: &mut GateWorld, spec: String, confirm: String) -> Result<(), String> {
    dry_then_apply(w, &spec, Some(confirm)).await
}

#[when(regex = r"^(\S+(?: for \S+)?) is applied$")]
async fn applied(w: &mut GateWorld, spec: String) -> Result<(), String> {
    dry_then_apply(w, &spec, None).await
}

#[when(
    regex = r#"^(\S+(?: for \S+)?) is applied again with the reviewed plan and confirmation "([^"]*)"$"#
)]
async fn applied_reviewed(w: &mut GateWorld, spec: String, confirm: String) -> Result<(), String> {
    let (name, host) = split(&spec);
    let options = apply_options(w, Some(confirm));
    act(w, &name, host, options).await
}

#[when(regex = r"^(\S+(?: for \S+)?) is applied without a reviewed plan$")]
async fn applied_unreviewed(w: &mut GateWorld, spec: String) -> Result<(), String> {
    let (name, host) = split(&spec);
    let options = ExecOptions {
        apply: true,
        confirm: w.profile.as_ref().map(|p| p.model.clone()),
        reviewed: None,
        run: RunOptions::default(),
    };
    act(w, &name, host, options).await
}

/// The deprecated teardown (DOCFIX-057): destroy-model with --destroy-storage, then
/// `machine release` per host expecting Ready, by the system_ids read before.
#[when("the deprecated release teardown runs")]
async fn deprecated_teardown(w: &mut GateWorld) -> Result<(), String> {
    let sim = w.acting.sim.clone().ok_or("no simulated cloud")?;
    let ids: Vec<String> = ["openstack0", "openstack1", "openstack2", "openstack3"]
        .iter()
        .filter_map(|h| sim.maas_system_id(h))
        .collect();
    let run = |argv: &[&str]| {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        sim.answer(&argv, None).map_err(|e| e.to_string())
    };
    run(&[
        "juju",
        "destroy-model",
        "openstack",
        "--force",
        "--destroy-storage",
        "--no-prompt",
    ])?;
    // The old script waited for `juju models` to stop listing the model.
    for _ in 0..10 {
        run(&["juju", "models", "--format=json"])?;
    }
    w.acting.released = ids
        .iter()
        .map(|id| run(&["maas", "admin", "machine", "release", id]))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(())
}

#[then(expr = "every release answered {string}")]
fn every_release(w: &mut GateWorld, text: String) -> Result<(), String> {
    if w.acting.released.is_empty() {
        return Err("no release ran".into());
    }
    for a in &w.acting.released {
        let said =
            String::from_utf8_lossy(&a.stdout).to_string() + &String::from_utf8_lossy(&a.stderr);
        if a.exit == 0 || !said.contains(&text) {
            return Err(format!("release exited {} saying {said:?}", a.exit));
        }
    }
    Ok(())
}

fn report(w: &GateWorld) -> Result<&ActionReport, String> {
    w.acting
        .report
        .as_ref()
        .ok_or_else(|| "no action ran: a `When ... is planned|applied` step must come first".into())
}

fn shown(r: &ActionReport) -> String {
    report::action::render_text(r, "stackgate act", "openstack")
}

#[then(expr = "the action is {word}")]
fn action_is(w: &mut GateWorld, label: String) -> Result<(), String> {
    let r = report(w)?;
    if r.outcome.label() == label {
        Ok(())
    } else {
        Err(format!(
            "expected {label}, the action reported:\n{}",
            shown(r)
        ))
    }
}

#[then(expr = "the action exits {int}")]
fn action_exits(w: &mut GateWorld, code: i32) -> Result<(), String> {
    let r = report(w)?;
    if r.exit_code() == code {
        Ok(())
    } else {
        Err(format!(
            "expected exit {code}, got {}:\n{}",
            r.exit_code(),
            shown(r)
        ))
    }
}

#[then(expr = "the action's report says {string}")]
fn action_says(w: &mut GateWorld, text: String) -> Result<(), String> {
    let r = report(w)?;
    let out = shown(r);
    if out.contains(&text) {
        Ok(())
    } else {
        Err(format!("the report does not say {text:?}:\n{out}"))
    }
}

/// The commands the last action ran that changed the cloud: every simulated answer
/// after the action began that is not a read the plan declared.
fn mutations(w: &GateWorld) -> Result<Vec<String>, String> {
    let sim = w.acting.sim.as_ref().ok_or("no simulated cloud")?;
    Ok(sim.history()[w.acting.history_before..]
        .iter()
        .filter(|argv| !Sim::is_read(argv))
        .map(|argv| argv.join(" "))
        .collect())
}

#[then("no mutation ran")]
fn no_mutation(w: &mut GateWorld) -> Result<(), String> {
    let m = mutations(w)?;
    if m.is_empty() {
        Ok(())
    } else {
        Err(format!("mutations ran:\n  {}", m.join("\n  ")))
    }
}

#[then(expr = "the typed secret appears in no argv, report or call log")]
fn no_secret(w: &mut GateWorld) -> Result<(), String> {
    let sim = w.acting.sim.as_ref().ok_or("no simulated cloud")?;
    let argvs = format!("{:?}", sim.history());
    for (what, text) in
        std::iter::once(("argv", &argvs)).chain(w.acting.rendered.iter().map(|r| ("report", r)))
    {
        if text.contains(TYPED_SECRET) {
            return Err(format!("the secret leaked into a {what}"));
        }
    }
    if !argvs.contains("power_parameters_power_pass@=") {
        return Err("no step passed the secret by file: the scenario proves nothing".into());
    }
    Ok(())
}

/// The simulated keystone admin password reached the admin-openrc and nothing else:
/// no argv the simulator saw, no rendered report.
#[then("the simulated admin password is in the admin-openrc and in no argv or report")]
fn password_only_in_openrc(w: &mut GateWorld) -> Result<(), String> {
    let sim = w.acting.sim.as_ref().ok_or("no simulated cloud")?;
    let password = stackgate::sim::keystone::simulated_password();
    let path = w
        .profile
        .as_ref()
        .and_then(|p| p.openrc.as_ref())
        .map(|o| o.path.clone())
        .ok_or("the profile has no openrc")?;
    let file = sim
        .jumphost_file(&path)
        .ok_or_else(|| format!("{path} was not written"))?;
    if !String::from_utf8_lossy(&file).contains(&format!("export OS_PASSWORD='{password}'\n")) {
        return Err(format!(
            "{path} does not assign the password: the scenario proves nothing"
        ));
    }
    let argvs = format!("{:?}", sim.history());
    for (what, text) in
        std::iter::once(("argv", &argvs)).chain(w.acting.rendered.iter().map(|r| ("report", r)))
    {
        if text.contains(&password) {
            return Err(format!("the password leaked into a {what}"));
        }
    }
    Ok(())
}

/// The profile tries the openrc's project scopes in this order ("admin/Default,
/// admin/admin_domain"): the discovery must find the one keystone grants, whatever the
/// order (DOCFIX-022).
#[given(expr = "the profile tries the openrc scopes {string}")]
fn openrc_scopes(w: &mut GateWorld, scopes: String) -> Result<(), String> {
    let profile = w.profile.as_mut().ok_or("no profile")?;
    let build = profile
        .openrc
        .as_mut()
        .and_then(|o| o.build.as_mut())
        .ok_or("the profile has no [phase03.openrc.build]")?;
    build.scopes = scopes
        .split(", ")
        .map(|s| {
            let (project, domain) = s
                .split_once('/')
                .ok_or(format!("{s} is not project/domain"))?;
            Ok(stackgate::profile::OpenrcScope {
                project: project.into(),
                domain: domain.into(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(())
}

#[when(regex = r"^(\S+(?: for \S+)?) is applied meanwhile$")]
async fn applied_meanwhile(w: &mut GateWorld, spec: String) -> Result<(), String> {
    // Someone else's run: the plan the operator reviewed stays the reviewed one.
    let reviewed = w.acting.reviewed.clone();
    let confirm = w.profile.as_ref().map(|p| p.model.clone());
    dry_then_apply(w, &spec, confirm).await?;
    w.acting.reviewed = reviewed;
    Ok(())
}

#[when(expr = "{word} is deleted from MAAS by hand")]
fn deleted_by_hand(w: &mut GateWorld, host: String) -> Result<(), String> {
    let sim = w.acting.sim.clone().ok_or("no simulated cloud")?;
    let sid = sim
        .maas_system_id(&host)
        .ok_or_else(|| format!("{host} is not in the simulated MAAS"))?;
    let argv: Vec<String> = ["maas", "admin", "machine", "delete", &sid]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let answer = sim.answer(&argv, None).map_err(|e| e.to_string())?;
    if answer.exit == 0 {
        Ok(())
    } else {
        Err(format!("machine delete {sid} exited {}", answer.exit))
    }
}

/// Someone changes the simulated cloud outside stackgate (the drift a later plan sees).
#[when(expr = "{string} is run by hand")]
fn run_by_hand(w: &mut GateWorld, command: String) -> Result<(), String> {
    let sim = w.acting.sim.clone().ok_or("no simulated cloud")?;
    let argv: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    let answer = sim.answer(&argv, None).map_err(|e| e.to_string())?;
    if answer.exit == 0 {
        Ok(())
    } else {
        Err(format!(
            "`{command}` exited {}: {}{}",
            answer.exit,
            String::from_utf8_lossy(&answer.stdout),
            String::from_utf8_lossy(&answer.stderr)
        ))
    }
}

#[given(expr = "the simulated cloud {fixture} whose o-hm0 never comes up")]
fn simulated_o_hm0_down(w: &mut GateWorld, fixture: Fixture) -> Result<(), String> {
    load(
        w,
        &fixture.0,
        SimConfig {
            o_hm0_bringup_reads: u32::MAX,
            ..SimConfig::default()
        },
    )
}

/// Someone tries a command by hand that may be refused; what it answered is kept.
#[when(expr = "{string} is attempted by hand")]
fn attempted_by_hand(w: &mut GateWorld, command: String) -> Result<(), String> {
    let sim = w.acting.sim.clone().ok_or("no simulated cloud")?;
    let argv: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    w.acting.by_hand = Some(sim.answer(&argv, None).map_err(|e| e.to_string())?);
    Ok(())
}

/// What the last command attempted by hand answered: a refusal saying `text`.
#[then(expr = "the command attempted by hand was refused saying {string}")]
fn by_hand_said(w: &mut GateWorld, text: String) -> Result<(), String> {
    let said = w
        .acting
        .by_hand
        .as_ref()
        .ok_or("no command was run by hand")?;
    let all =
        String::from_utf8_lossy(&said.stdout).to_string() + &String::from_utf8_lossy(&said.stderr);
    if said.exit != 0 && all.contains(&text) {
        Ok(())
    } else {
        Err(format!("it exited {} saying {all:?}", said.exit))
    }
}
