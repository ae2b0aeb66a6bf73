//! The simulated juju controller (juju 3.6): models, their machines, model defaults and
//! config, spaces.
//!
//! State is loaded from the world's juju recordings and rendered back in Go
//! `encoding/json`'s compact form (struct field order, sorted map keys, Go escaping:
//! [`super::json`]); a world answered with nothing changed prints its recordings byte
//! for byte (`tests::every_recorded_juju_argv_renders_its_recording`).
//!
//! Modelled argvs:
//!
//! - `juju models --format=json` (cmd/juju/controller/listmodels.go `ModelSet`,
//!   `ModelSummary`);
//! - `juju destroy-model <model> --force --no-wait --no-prompt [--destroy-storage |
//!   --release-storage]` (cmd/juju/model/destroy.go): the model goes dying/destroying
//!   for [`SimConfig::destroy_polls`] `juju models` reads, then it is gone and each of its
//!   machines is [`Effect::ModelMachineGone`]; with [`SimConfig::destroy_stuck`] it stays
//!   until every machine was removed with `remove-machine --force`. The simulator
//!   answers when the destroy was accepted; the real CLI goes on printing "Waiting for
//!   model to be removed..." until the model is gone, which here the caller's
//!   `juju models` reads stand for;
//! - `juju remove-machine -m <model> [--force] [--no-wait] [--keep-instance]
//!   [--no-prompt] <id>...` (cmd/juju/machine/remove.go);
//! - `juju status -m <model> --format=json`: the world's recording while the model
//!   exists, juju's not-found error once it does not;
//! - `juju export-bundle -m <model> [--filename <path>]` (cmd/juju/model/exportbundle.go);
//! - `juju model-defaults --format=json`, `juju model-defaults <key>=<value>`
//!   (cmd/juju/model/defaultscommand.go);
//! - `juju add-model <name> [--config default-space=<space>]` (cmd/juju/controller/addmodel.go);
//! - `juju model-config -m <model> --format=json` (cmd/juju/model/configcommand.go);
//! - `juju spaces -m <model> --format=json`, `juju reload-spaces -m <model>`
//!   (cmd/juju/space/list.go, reload.go).
//!
//! - `juju run -m <model> [--wait=<d>] [--params <file>] <app>/leader|<unit>
//!   authorize-charm | generate-root-ca` on the vault charm (openstack/charm-vault
//!   `src/actions.yaml`: `authorize-charm` requires the string `token`; both run on the
//!   leader, `src/actions/actions.py`): the params file must exist and hold a non-empty
//!   `token`, which the simulator checks and forgets. authorize-charm turns the model's
//!   `juju status` into the recording of `phase02-missing-ca` (vault/0 blocked "Missing
//!   CA cert"), generate-root-ca after it into that of `phase02-authorized` (vault ready,
//!   the certificate consumers active): transitions between recorded worlds of the same
//!   machines, so what `juju status` prints is still what juju printed. The answer is
//!   exit 0 with nothing on stdout (the actions' results, such as generate-root-ca's
//!   `output`, the CA certificate, are not modelled); an action the charm would fail
//!   (generate-root-ca before authorize-charm) exits 1 with a simulator error.
//!
//! Any other `juju` argv is answered with an error naming it as not modelled, exit 1.
//!
//! A model that exists (and is not the controller's) must have its `juju status`
//! recording in the world: its machines' hostnames are what destroy-model gives back to
//! MAAS. A world without it does not load; `fixtures/testcloud/sim-phase00-dirty` is
//! `phase00-dirty` with the status of the deployed cloud.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::json::JsonWriter;
use super::maas::MaasState;
use super::{Answer, Effect, SimConfig};
use crate::world::World;

/// One entry of `juju models --format=json` (juju 3.6 cmd/juju/controller/listmodels.go
/// `ModelSummary`, fields in struct order; `omitempty` ones optional).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModelSummary {
    pub name: String,
    pub short_name: String,
    pub model_uuid: String,
    pub model_type: String,
    pub controller_uuid: String,
    pub controller_name: String,
    pub is_controller: bool,
    pub owner: String,
    pub cloud: String,
    pub region: Option<String>,
    pub credential: Option<ModelCredential>,
    #[serde(rename = "type")]
    pub provider_type: Option<String>,
    pub life: String,
    pub status: Option<ModelStatus>,
    pub access: String,
    pub last_connection: String,
    pub sla: Option<String>,
    pub sla_owner: Option<String>,
    pub agent_version: Option<String>,
}

/// cmd/juju/common/model.go `ModelCredential`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModelCredential {
    pub name: String,
    pub owner: String,
    pub cloud: String,
}

/// cmd/juju/common/model.go `ModelStatus`: message and since are omitempty.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModelStatus {
    pub current: String,
    pub message: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ModelSet {
    models: Vec<ModelSummary>,
    current_model: Option<String>,
}

/// One machine of a model: its id and the MAAS hostname of its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub id: String,
    pub hostname: String,
    /// The units on it, by name (what remove-machine reports it will remove).
    pub units: Vec<String>,
}

/// A destroy in progress.
#[derive(Debug, Clone, Default)]
struct Destroy {
    /// `juju models` reads that showed the model dying.
    polls: u32,
}

/// One model as the controller holds it.
#[derive(Debug, Clone)]
struct Model {
    summary: ModelSummary,
    machines: Vec<Machine>,
    /// The `juju status` recording, while nothing changed the model.
    status: Option<bytes::Bytes>,
    /// `juju model-config --format=json`: key -> (value, source).
    config: Option<BTreeMap<String, (serde_json::Value, String)>>,
    /// `juju spaces --format=json`.
    spaces: Option<Vec<Space>>,
    export: Option<bytes::Bytes>,
    destroy: Option<Destroy>,
}

/// One space of `juju spaces --format=json` (cmd/juju/space/list.go `SpaceView`:
/// `subnets` has no omitempty and prints `null` when the space holds none).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Space {
    pub id: String,
    pub name: String,
    pub subnets: Option<BTreeMap<String, Subnet>>,
}

/// cmd/juju/space/list.go `SubnetView`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Subnet {
    #[serde(rename = "type")]
    pub kind: String,
    pub provider_id: Option<String>,
    pub status: Option<String>,
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceList {
    spaces: Vec<Space>,
}

/// `model-defaults` per key (environs/config `AttributeDefaultValues`: default,
/// controller, regions, each omitempty).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct DefaultValues {
    default: Option<serde_json::Value>,
    controller: Option<serde_json::Value>,
    regions: Option<Vec<RegionDefault>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RegionDefault {
    name: String,
    value: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
struct StatusMachines {
    #[serde(default)]
    machines: BTreeMap<String, StatusMachine>,
    #[serde(default)]
    applications: BTreeMap<String, StatusApplication>,
}

#[derive(Debug, Clone, Deserialize)]
struct StatusMachine {
    hostname: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct StatusApplication {
    #[serde(default)]
    units: BTreeMap<String, StatusUnit>,
    charm: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct StatusUnit {
    machine: Option<String>,
}

/// The world whose `juju model-defaults` a world without that recording uses: the
/// controller before seed 004's fix (default-space `metal`, the dead pre-D-052 name).
pub const DEFAULTS_FALLBACK_WORLD: &str = "testcloud/phase01-dead-default-space";

/// The recorded worlds the vault charm's actions lead to, in order.
pub const VAULT_AUTHORIZED_WORLDS: [&str; 2] = [
    "testcloud/phase02-missing-ca",
    "testcloud/phase02-authorized",
];

/// The controller as the simulator holds it.
#[derive(Debug, Default)]
pub struct JujuState {
    /// How far the vault charm's actions went: 0 none, 1 authorize-charm, 2
    /// generate-root-ca after it.
    vault_actions: usize,
    models: Vec<Model>,
    current_model: Option<String>,
    defaults: BTreeMap<String, DefaultValues>,
    /// The logged-in user: owner of the models add-model creates.
    user: String,
    controller: String,
    /// MAAS subnet ids by CIDR (`maas <profile> subnets read`): the provider-id juju
    /// records for a subnet it imports.
    subnet_ids: BTreeMap<String, String>,
    /// Models added so far (a deterministic uuid for each).
    added: u32,
    /// The world's answers to juju argvs this part does not render (`whoami`, `exec`,
    /// `config`, ...): replayed while the model they name exists, so a read the world
    /// recorded still answers; anything else is refused as not modelled.
    recorded: BTreeMap<Vec<String>, Answer>,
    /// The recorded failure of every controller call when the world's login expired
    /// (`juju models` prompting for a password on the closed stdin, exit 1):
    /// cmd/juju/user/whoami.go reads the client store only, so `whoami` still answers.
    login_failure: Option<Answer>,
    /// Whether the world recorded `juju models`: without it the controller's models are
    /// unknown, and every model command replays the world's recordings.
    models_known: bool,
    effects: Vec<Effect>,
    /// A certificate cascade under way ([`SimConfig::cert_cascade`]): the model, and the
    /// worlds still to show with the reads each has left (the first is showing now).
    cascade: Option<(String, std::collections::VecDeque<(&'static str, u32)>)>,
}

fn juju_error(message: &str) -> Answer {
    // cmd/juju/main.go (juju/cmd `Main`): "ERROR " and the error, exit 1.
    Answer::fail(1, format!("ERROR {message}\n"))
}

fn unmodelled(argv: &[String]) -> Answer {
    juju_error(&format!(
        "stackgate simulator: `{}` is not modelled",
        crate::runner::display_argv(argv)
    ))
}

fn model_flag(args: &[&str]) -> Option<String> {
    args.windows(2)
        .find(|w| w[0] == "-m" || w[0] == "--model")
        .map(|w| w[1].to_string())
}

fn write_value(w: &mut JsonWriter, v: &serde_json::Value) {
    match v {
        serde_json::Value::Null => {
            w.null();
        }
        serde_json::Value::Bool(b) => {
            w.bool(*b);
        }
        serde_json::Value::Number(n) => {
            w.raw(&n.to_string());
        }
        serde_json::Value::String(s) => {
            w.string(s);
        }
        serde_json::Value::Array(a) => {
            w.begin_array();
            for x in a {
                write_value(w, x);
            }
            w.end_array();
        }
        serde_json::Value::Object(o) => {
            // A Go map: keys sorted, as serde_json's Map holds them.
            w.begin_object();
            for (k, x) in o {
                w.key(k);
                write_value(w, x);
            }
            w.end_object();
        }
    }
}

/// cmd.FormatJson: the compact document and a newline.
fn json_answer(w: JsonWriter) -> Answer {
    let mut s = w.finish();
    s.push('\n');
    Answer::ok(s)
}

impl JujuState {
    pub fn load(world: &World) -> Result<Self, String> {
        let mut st = JujuState {
            user: "admin".into(),
            ..JujuState::default()
        };
        let get = |argv: &[&str]| {
            let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
            world
                .get(&argv)
                .filter(|r| r.exit == 0)
                .map(|r| r.stdout.clone())
        };
        let parse_err = |what: &str, e: serde_json::Error| format!("`{what}`: {e}");
        for argv in world.argvs().filter(|a| a[0] == "juju") {
            let rec = world.get(argv).expect("listed argv");
            st.recorded.insert(
                argv.clone(),
                Answer {
                    exit: rec.exit,
                    stdout: rec.stdout.clone(),
                    stderr: rec.stderr.clone(),
                },
            );
        }
        if let Some(rec) = world.get(&["juju", "models", "--format=json"].map(String::from))
            && rec.exit != 0
            && String::from_utf8_lossy(&rec.stderr).contains("please enter password")
        {
            st.login_failure = Some(Answer::fail(rec.exit, rec.stderr.clone()));
        }
        if let Some(bytes) = get(&["juju", "models", "--format=json"]) {
            st.models_known = true;
            let set: ModelSet = serde_json::from_slice(&bytes)
                .map_err(|e| parse_err("juju models --format=json", e))?;
            st.current_model = set.current_model;
            for summary in set.models {
                st.models.push(Model {
                    summary,
                    machines: Vec::new(),
                    status: None,
                    config: None,
                    spaces: None,
                    export: None,
                    destroy: None,
                });
            }
        }
        if let Some(bytes) = get(&["juju", "whoami", "--format=json"])
            && let Ok(who) = serde_json::from_slice::<crate::sources::juju::Whoami>(&bytes)
        {
            st.user = who.user;
        } else if let Some(m) = st.models.iter().find(|m| !m.summary.is_controller) {
            st.user = m.summary.owner.clone();
        }
        st.controller = st
            .models
            .first()
            .map(|m| m.summary.controller_name.clone())
            .unwrap_or_else(|| "juju-controller".into());
        let defaults = match get(&["juju", "model-defaults", "--format=json"]) {
            Some(b) => b,
            None => World::embedded(DEFAULTS_FALLBACK_WORLD)
                .map_err(|e| e.to_string())?
                .get(&["juju", "model-defaults", "--format=json"].map(String::from))
                .map(|r| r.stdout.clone())
                .ok_or("the fallback world has no model-defaults")?,
        };
        st.defaults = serde_json::from_slice(&defaults)
            .map_err(|e| parse_err("juju model-defaults --format=json", e))?;
        if let Some(bytes) = get(&["maas", "admin", "subnets", "read"])
            && let Ok(subnets) = serde_json::from_slice::<Vec<serde_json::Value>>(&bytes)
        {
            for s in subnets {
                if let (Some(cidr), Some(id)) = (s["cidr"].as_str(), s["id"].as_i64()) {
                    st.subnet_ids.insert(cidr.to_string(), id.to_string());
                }
            }
        }
        for model in &mut st.models {
            let short = model.summary.short_name.clone();
            let status_argv = format!("juju status -m {short} --format=json");
            if model.summary.is_controller {
                continue;
            }
            let Some(status) = get(&["juju", "status", "-m", &short, "--format=json"]) else {
                return Err(format!(
                    "juju models lists the model {short}, but the world has no `{status_argv}` recording: its machines' hostnames are what destroying it gives back to MAAS (fixtures/testcloud/sim-phase00-dirty adds one to phase00-dirty)"
                ));
            };
            let parsed: StatusMachines =
                serde_json::from_slice(&status).map_err(|e| parse_err(&status_argv, e))?;
            for (id, m) in &parsed.machines {
                let hostname = m
                    .hostname
                    .clone()
                    .ok_or_else(|| format!("`{status_argv}`: machines.{id}.hostname is missing"))?;
                let mut units: Vec<String> = parsed
                    .applications
                    .values()
                    .flat_map(|a| a.units.iter())
                    .filter(|(_, u)| u.machine.as_deref() == Some(id))
                    .map(|(n, _)| n.clone())
                    .collect();
                units.sort();
                model.machines.push(Machine {
                    id: id.clone(),
                    hostname,
                    units,
                });
            }
            model.export = Some(minimal_export(&parsed).into_bytes().into());
            model.status = Some(status);
            if let Some(b) = get(&["juju", "model-config", "-m", &short, "--format=json"]) {
                let raw: BTreeMap<String, crate::sources::juju::ConfigValue> =
                    serde_json::from_slice(&b)
                        .map_err(|e| parse_err("juju model-config --format=json", e))?;
                model.config = Some(
                    raw.into_iter()
                        .map(|(k, v)| (k, (v.value, v.source)))
                        .collect(),
                );
            }
            if let Some(b) = get(&["juju", "spaces", "-m", &short, "--format=json"]) {
                let list: SpaceList = serde_json::from_slice(&b)
                    .map_err(|e| parse_err("juju spaces --format=json", e))?;
                model.spaces = Some(list.spaces);
            }
            if let Some(b) = get(&["juju", "export-bundle", "-m", &short]) {
                model.export = Some(b);
            }
        }
        Ok(st)
    }

    /// The models `juju models` lists, in order.
    pub fn models(&self) -> Vec<&ModelSummary> {
        self.models.iter().map(|m| &m.summary).collect()
    }

    /// The machines of a model, if it exists.
    pub fn machines(&self, model: &str) -> Option<&[Machine]> {
        self.find(model).map(|i| self.models[i].machines.as_slice())
    }

    /// The model's `juju status --format=json` as it prints now, while it exists.
    pub fn status_json(&self, model: &str) -> Option<&[u8]> {
        self.models[self.find(model)?].status.as_deref()
    }

    fn find(&self, short: &str) -> Option<usize> {
        self.models
            .iter()
            .position(|m| m.summary.short_name == short && !m.summary.is_controller)
    }

    /// juju's error for a model the client store and the controller do not know
    /// (jujuclient/file.go `ModelByName`: `errors.NotFoundf("model %s:%s", controller,
    /// model)` on the user-qualified name, cmd/modelcmd/modelcommand.go `modelFromStore`
    /// after `RefreshModels`; QualifyingClientStore qualifies it with the user).
    fn model_not_found(&self, short: &str) -> Answer {
        juju_error(&format!(
            "model {}:{}/{short} not found",
            self.controller, self.user
        ))
    }

    pub fn answer(
        &mut self,
        argv: &[String],
        _stdin: Option<&[u8]>,
        config: &SimConfig,
        maas: &MaasState,
    ) -> Option<Answer> {
        if argv.first().map(String::as_str) != Some("juju") {
            return None;
        }
        let a: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        if let Some(fail) = &self.login_failure
            && a.first() != Some(&"whoami")
        {
            return Some(fail.clone());
        }
        if !self.models_known && a.first() != Some(&"model-defaults") {
            return Some(self.replay(argv));
        }
        let answer = match a.as_slice() {
            ["models", "--format=json"] => self.render_models(config),
            ["destroy-model", name, flags @ ..] => self.destroy_model(argv, name, flags),
            ["remove-machine", rest @ ..] => self.remove_machine(argv, rest, config),
            ["status", "-m", model, "--format=json"] => match self.find(model) {
                None => self.model_not_found(model),
                Some(i) => match self.models[i].status.clone() {
                    Some(s) => {
                        self.cascade_read(model);
                        Answer::ok(s)
                    }
                    None => unmodelled(argv),
                },
            },
            ["export-bundle", rest @ ..] => self.export_bundle(argv, rest),
            ["run", rest @ ..] => self.run_action(argv, rest, config),
            ["model-defaults", "--format=json"] => self.render_defaults(),
            ["model-defaults", kv] if kv.contains('=') => self.set_default(kv),
            ["add-model", name, rest @ ..] => self.add_model(argv, name, rest, maas),
            ["model-config", "-m", model, "--format=json"] => match self.find(model) {
                None => self.model_not_found(model),
                Some(i) => self.render_config(i, argv),
            },
            ["spaces", "-m", model, "--format=json"] => match self.find(model) {
                None => self.model_not_found(model),
                Some(i) => self.render_spaces(i, argv),
            },
            ["reload-spaces", "-m", model] => match self.find(model) {
                None => self.model_not_found(model),
                Some(i) => {
                    let spaces = self.import_spaces(maas, self.models[i].spaces.clone());
                    self.models[i].spaces = Some(spaces);
                    Answer::ok("")
                }
            },
            _ => self.replay(argv),
        };
        Some(answer)
    }

    /// A recorded answer to an argv this part does not render, while the model it names
    /// (`-m`) still exists; otherwise not modelled.
    fn replay(&self, argv: &[String]) -> Answer {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        let model_ok = !self.models_known
            || model_flag(&a).is_none_or(|m| {
                self.find(&m)
                    .is_some_and(|i| self.models[i].status.is_some())
            });
        match self.recorded.get(argv) {
            Some(answer) if model_ok => answer.clone(),
            _ => unmodelled(argv),
        }
    }

    fn render_models(&mut self, config: &SimConfig) -> Answer {
        // A destroy that has been shown for its polls (and, stuck, whose machines are
        // all gone) is over: the model disappears before this read.
        let mut gone = Vec::new();
        for (i, m) in self.models.iter_mut().enumerate() {
            if let Some(d) = &mut m.destroy {
                let waiting = config.destroy_stuck && !m.machines.is_empty();
                if d.polls >= config.destroy_polls && !waiting {
                    gone.push(i);
                } else {
                    d.polls += 1;
                    let age = u64::from(d.polls) * config.seconds_per_poll;
                    if let Some(status) = &mut m.summary.status {
                        status.since = Some(friendly_age(age));
                    }
                }
            }
        }
        for i in gone.into_iter().rev() {
            let m = self.models.remove(i);
            for machine in m.machines {
                self.effects.push(Effect::ModelMachineGone {
                    hostname: machine.hostname,
                });
            }
            if self.current_model.as_deref() == Some(m.summary.short_name.as_str()) {
                // destroy.go `RemoveModelFromClientStore` once the model is gone.
                self.current_model = None;
            }
        }
        let mut w = JsonWriter::new();
        w.begin_object();
        w.key("models").begin_array();
        for m in &self.models {
            write_summary(&mut w, &m.summary);
        }
        w.end_array();
        if let Some(c) = &self.current_model {
            w.field_str("current-model", c);
        }
        w.end_object();
        json_answer(w)
    }

    fn destroy_model(&mut self, argv: &[String], name: &str, flags: &[&str]) -> Answer {
        let (mut force, mut no_wait, mut no_prompt) = (false, false, false);
        for f in flags {
            match *f {
                "--force" => force = true,
                "--no-wait" => no_wait = true,
                "--no-prompt" | "-y" => no_prompt = true,
                "--destroy-storage" | "--release-storage" => {}
                _ => return unmodelled(argv),
            }
        }
        if flags.contains(&"--destroy-storage") && flags.contains(&"--release-storage") {
            // destroy.go Init.
            return juju_error("--destroy-storage and --release-storage cannot both be specified");
        }
        if no_wait && !force {
            // destroy.go Init: errors.NotValidf("--no-wait without --force").
            return juju_error("--no-wait without --force not valid");
        }
        if !no_prompt {
            // The model config's `mode` is requires-prompts: destroy-model asks for the
            // model's name on stdin, which the runner closes; the sim does not model the
            // prompt.
            return unmodelled(argv);
        }
        let Some(i) = self.find(name) else {
            return self.model_not_found(name);
        };
        let model = &mut self.models[i];
        if model.destroy.is_none() {
            model.destroy = Some(Destroy::default());
        }
        model.summary.life = "dying".into();
        model.summary.status = Some(ModelStatus {
            current: "destroying".into(),
            message: None,
            // cmd/juju/common/format.go `FriendlyDuration`: under a minute ago.
            since: Some("just now".into()),
        });
        // `juju status` of a dying model still answers (the remediation reads its
        // lingering machines from it); the simulator replays the status recorded before
        // the destroy, machines included, until the model is gone.
        // destroy.go Run: "Destroying model" on stderr, then the wait loop's first
        // report (`formatDestroyModelInfo`).
        let mut stderr = String::from("Destroying model");
        let mut info = String::from("Waiting for model to be removed");
        if !model.machines.is_empty() {
            info.push_str(&format!(", {} machine(s)", model.machines.len()));
        }
        stderr.push_str(&format!("\n{info}...\n"));
        Answer {
            exit: 0,
            stdout: Default::default(),
            stderr: stderr.into_bytes(),
        }
    }

    fn remove_machine(&mut self, argv: &[String], rest: &[&str], config: &SimConfig) -> Answer {
        let _ = config;
        let (mut force, mut keep, mut no_wait) = (false, false, false);
        let mut model = None;
        let mut ids = Vec::new();
        let mut it = rest.iter();
        while let Some(a) = it.next() {
            match *a {
                "-m" | "--model" => model = it.next().map(|m| m.to_string()),
                "--force" => force = true,
                "--keep-instance" => keep = true,
                "--no-wait" => no_wait = true,
                "--no-prompt" => {}
                f if f.starts_with('-') => return unmodelled(argv),
                id => ids.push(id.to_string()),
            }
        }
        let Some(model) = model else {
            return unmodelled(argv);
        };
        if ids.is_empty() {
            return juju_error("no machines specified");
        }
        if no_wait && !force {
            return juju_error("--no-wait without --force not valid");
        }
        let Some(i) = self.find(&model) else {
            return self.model_not_found(&model);
        };
        let (mut stdout, mut stderr) = (String::new(), String::new());
        for id in &ids {
            let machines = &mut self.models[i].machines;
            let Some(pos) = machines.iter().position(|m| &m.id == id) else {
                // remove.go logResult: cmd.WriteError of the annotated API error.
                stderr.push_str(&format!(
                    "ERROR removing machine failed: machine {id} not found\n"
                ));
                continue;
            };
            let dying = self.models[i].destroy.is_some();
            let machines = &mut self.models[i].machines;
            if !machines[pos].units.is_empty() && !force && !dying {
                stderr.push_str(&format!(
                    "ERROR removing machine failed: machine {id} has unit {:?} assigned\n",
                    machines[pos].units[0]
                ));
                continue;
            }
            let m = machines.remove(pos);
            // remove.go logRemovedMachine.
            if keep {
                stdout.push_str(&format!(
                    "will remove machine {id} (but retaining cloud instance)\n"
                ));
            } else {
                stdout.push_str(&format!("will remove machine {id}\n"));
            }
            for unit in &m.units {
                stdout.push_str(&format!("- will remove unit {unit}\n"));
            }
            if let Some(status) = &self.models[i].status {
                match status_without_machine(status, id) {
                    Ok(next) => self.models[i].status = Some(next.into()),
                    // A status the simulator cannot edit is no longer answered
                    // (`juju status` of the model is then not modelled), never stale.
                    Err(_) => self.models[i].status = None,
                }
            }
            self.effects.push(if keep {
                Effect::MachineKept {
                    hostname: m.hostname,
                }
            } else {
                Effect::ModelMachineGone {
                    hostname: m.hostname,
                }
            });
        }
        Answer {
            // remove.go: any failed result is cmd.ErrSilent, exit 1.
            exit: if stderr.is_empty() { 0 } else { 1 },
            stdout: stdout.into_bytes().into(),
            stderr: stderr.into_bytes(),
        }
    }

    fn export_bundle(&mut self, argv: &[String], rest: &[&str]) -> Answer {
        let Some(model) = model_flag(rest) else {
            return unmodelled(argv);
        };
        let filename = rest
            .windows(2)
            .find(|w| w[0] == "--filename")
            .map(|w| w[1].to_string());
        let known = rest.iter().enumerate().all(|(n, a)| {
            matches!(*a, "-m" | "--model" | "--filename")
                || (n > 0 && matches!(rest[n - 1], "-m" | "--model" | "--filename"))
        });
        if !known {
            return unmodelled(argv);
        }
        let Some(i) = self.find(&model) else {
            return self.model_not_found(&model);
        };
        let Some(bundle) = self.models[i].export.clone() else {
            return unmodelled(argv);
        };
        match filename {
            // exportbundle.go Run: the bundle to stdout as it is.
            None => Answer::ok(bundle),
            Some(path) => {
                self.effects.push(Effect::WroteFile {
                    path: path.clone(),
                    contents: bundle.to_vec(),
                });
                Answer::ok(format!("Bundle successfully exported to {path}\n"))
            }
        }
    }

    fn render_defaults(&self) -> Answer {
        let mut w = JsonWriter::new();
        w.begin_object();
        for (k, v) in &self.defaults {
            w.key(k).begin_object();
            if let Some(d) = &v.default {
                w.key("default");
                write_value(&mut w, d);
            }
            if let Some(c) = &v.controller {
                w.key("controller");
                write_value(&mut w, c);
            }
            if let Some(rs) = &v.regions {
                w.key("regions").begin_array();
                for r in rs {
                    w.begin_object().field_str("name", &r.name).key("value");
                    write_value(&mut w, &r.value);
                    w.end_object();
                }
                w.end_array();
            }
            w.end_object();
        }
        w.end_object();
        json_answer(w)
    }

    /// `juju model-defaults key=value`: the controller-wide value; every model that
    /// inherits the key (source default or controller) now reads it from the
    /// controller. Prints nothing (defaultscommand.go `setDefaults`).
    fn set_default(&mut self, kv: &str) -> Answer {
        let (key, value) = kv.split_once('=').expect("checked");
        let Some(entry) = self.defaults.get_mut(key) else {
            // The controller refuses an attribute it does not know
            // (environs/config `Validate`); the sim does not model its words.
            return juju_error(&format!(
                "stackgate simulator: model-defaults {key}: a key the recorded defaults lack is not modelled"
            ));
        };
        let value = serde_json::Value::String(value.to_string());
        entry.controller = Some(value.clone());
        for m in &mut self.models {
            if let Some(cfg) = &mut m.config
                && let Some(v) = cfg.get_mut(key)
                && v.1 != "model"
            {
                *v = (value.clone(), "controller".into());
            }
        }
        Answer::ok("")
    }

    /// The spaces a model holds after importing MAAS's: alpha (id 0, no subnets) and
    /// each MAAS space in order, keeping the ids of spaces the model already has
    /// (apiserver/facades/client/spaces `ReloadSpaces`: new spaces get the next id).
    fn import_spaces(&self, maas: &MaasState, old: Option<Vec<Space>>) -> Vec<Space> {
        let mut spaces = old.unwrap_or_else(|| {
            vec![Space {
                id: "0".into(),
                name: "alpha".into(),
                subnets: None,
            }]
        });
        for (name, cidrs) in maas.spaces() {
            let subnets: BTreeMap<String, Subnet> = cidrs
                .iter()
                .map(|c| {
                    let kind = if c.contains(':') { "ipv6" } else { "ipv4" };
                    (
                        c.clone(),
                        Subnet {
                            kind: kind.into(),
                            provider_id: self.subnet_ids.get(c).cloned(),
                            status: Some("in-use".into()),
                            zones: vec!["default".into()],
                        },
                    )
                })
                .collect();
            let subnets = (!subnets.is_empty()).then_some(subnets);
            match spaces.iter_mut().find(|s| s.name == name) {
                Some(s) => s.subnets = subnets,
                None => {
                    let next = spaces
                        .iter()
                        .filter_map(|s| s.id.parse::<u64>().ok())
                        .max()
                        .map_or(0, |m| m + 1);
                    spaces.push(Space {
                        id: next.to_string(),
                        name,
                        subnets,
                    });
                }
            }
        }
        spaces
    }

    /// `juju add-model <name> [--config default-space=<space>]`: the model, owned by the
    /// user, on the controller model's cloud and credential, made current, with MAAS's
    /// spaces imported and a config inheriting the defaults (addmodel.go `Run`; the
    /// message its `ctx.Infof` prints on stderr).
    fn add_model(
        &mut self,
        argv: &[String],
        name: &str,
        rest: &[&str],
        maas: &MaasState,
    ) -> Answer {
        let mut own: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let mut it = rest.iter();
        while let Some(a) = it.next() {
            match (*a, it.next()) {
                ("--config", Some(kv)) if kv.contains('=') => {
                    let (k, v) = kv.split_once('=').expect("checked");
                    own.insert(k.into(), serde_json::Value::String(v.into()));
                }
                _ => return unmodelled(argv),
            }
        }
        if self.models.iter().any(|m| m.summary.short_name == name) {
            // apiserver modelmanager `CreateModel`: the (owner, name) pair is unique.
            return juju_error(&format!(
                "failed to create new model: model \"{name}\" for {} already exists",
                self.user
            ));
        }
        let Some(controller) = self.models.iter().find(|m| m.summary.is_controller) else {
            return unmodelled(argv);
        };
        let c = &controller.summary;
        self.added += 1;
        let uuid = format!("5e1a0000-0000-4000-8000-{:012x}", self.added);
        let summary = ModelSummary {
            name: format!("{}/{name}", self.user),
            short_name: name.into(),
            model_uuid: uuid.clone(),
            model_type: "iaas".into(),
            controller_uuid: c.controller_uuid.clone(),
            controller_name: c.controller_name.clone(),
            is_controller: false,
            owner: self.user.clone(),
            cloud: c.cloud.clone(),
            region: c.region.clone(),
            credential: c.credential.as_ref().map(|cr| ModelCredential {
                owner: self.user.clone(),
                ..cr.clone()
            }),
            provider_type: c.provider_type.clone(),
            life: "alive".into(),
            status: Some(ModelStatus {
                current: "available".into(),
                message: None,
                since: Some("just now".into()),
            }),
            access: "admin".into(),
            last_connection: "just now".into(),
            sla: None,
            sla_owner: Some(self.user.clone()),
            agent_version: c.agent_version.clone(),
        };
        let mut config: BTreeMap<String, (serde_json::Value, String)> = self
            .defaults
            .iter()
            .filter_map(|(k, v)| {
                let (val, src) = match (&v.controller, &v.default) {
                    (Some(c), _) => (c.clone(), "controller"),
                    (None, Some(d)) => (d.clone(), "default"),
                    (None, None) => return None,
                };
                Some((k.clone(), (val, src.to_string())))
            })
            .collect();
        for (k, v) in own {
            config.insert(k, (v, "model".into()));
        }
        config.insert("name".into(), (name.into(), "model".into()));
        if let Some(t) = &c.provider_type {
            config.insert("type".into(), (t.as_str().into(), "model".into()));
        }
        config.insert("uuid".into(), (uuid.as_str().into(), "model".into()));
        let spaces = self.import_spaces(maas, None);
        let message = format!(
            "Added '{name}' model on {}/{} with credential '{}' for user '{}'\n",
            c.cloud,
            c.region.clone().unwrap_or_default(),
            c.credential.as_ref().map_or("", |cr| cr.name.as_str()),
            self.user
        );
        let status = empty_status(&summary);
        self.models.push(Model {
            summary,
            machines: Vec::new(),
            status: Some(status.into()),
            config: Some(config),
            spaces: Some(spaces),
            export: None,
            destroy: None,
        });
        self.current_model = Some(name.into());
        Answer {
            exit: 0,
            stdout: Default::default(),
            stderr: message.into_bytes(),
        }
    }

    fn render_config(&self, i: usize, argv: &[String]) -> Answer {
        let Some(cfg) = &self.models[i].config else {
            return unmodelled(argv);
        };
        let mut w = JsonWriter::new();
        w.begin_object();
        for (k, (v, src)) in cfg {
            // config.ConfigValue has no JSON tags: "Value", "Source".
            w.key(k).begin_object().key("Value");
            write_value(&mut w, v);
            w.field_str("Source", src).end_object();
        }
        w.end_object();
        json_answer(w)
    }

    fn render_spaces(&self, i: usize, argv: &[String]) -> Answer {
        let Some(spaces) = &self.models[i].spaces else {
            return unmodelled(argv);
        };
        let mut w = JsonWriter::new();
        w.begin_object().key("spaces").begin_array();
        for s in spaces {
            w.begin_object()
                .field_str("id", &s.id)
                .field_str("name", &s.name);
            w.key("subnets");
            match &s.subnets {
                None => {
                    w.null();
                }
                Some(subnets) => {
                    w.begin_object();
                    for (cidr, sn) in subnets {
                        w.key(cidr).begin_object().field_str("type", &sn.kind);
                        if let Some(p) = &sn.provider_id {
                            w.field_str_omitempty("provider-id", p);
                        }
                        if let Some(st) = &sn.status {
                            w.field_str_omitempty("status", st);
                        }
                        w.field_strs("zones", &sn.zones).end_object();
                    }
                    w.end_object();
                }
            }
            w.end_object();
        }
        w.end_array().end_object();
        json_answer(w)
    }

    /// Applies what another part did to a model ([`Effect::RecordedStatus`]): its
    /// `juju status` becomes the one `world` recorded, when that recording holds the same
    /// machines on the same hosts (a transition between moments of one cloud, never to
    /// another cloud's status). Returns why not otherwise.
    pub fn apply(&mut self, effect: &Effect) -> Result<(), String> {
        let Effect::RecordedStatus { model, world } = effect else {
            return Ok(());
        };
        let i = self
            .find(model)
            .ok_or_else(|| format!("no model {model}"))?;
        let argv: Vec<String> = ["juju", "status", "-m", model, "--format=json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let next = World::embedded(world)
            .map_err(|e| e.to_string())?
            .get(&argv)
            .map(|r| r.stdout.clone())
            .ok_or_else(|| format!("{world} recorded no `juju status -m {model}`"))?;
        let hosts = |bytes: &[u8]| {
            serde_json::from_slice::<StatusMachines>(bytes).map(|s| {
                s.machines
                    .into_iter()
                    .map(|(id, m)| (id, m.hostname))
                    .collect::<Vec<_>>()
            })
        };
        let now = self.models[i]
            .status
            .as_deref()
            .ok_or_else(|| format!("model {model} has no status to move on from"))?;
        match (hosts(now), hosts(&next)) {
            (Ok(a), Ok(b)) if a == b => {
                self.models[i].status = Some(next);
                Ok(())
            }
            _ => Err(format!(
                "{world}'s juju status holds other machines than model {model}'s"
            )),
        }
    }

    /// `juju run` of the vault charm's authorize-charm or generate-root-ca.
    fn run_action(&mut self, argv: &[String], rest: &[&str], config: &SimConfig) -> Answer {
        let (mut model, mut params, mut words) = (None, None, Vec::new());
        let mut it = rest.iter();
        while let Some(w) = it.next() {
            match *w {
                "-m" | "--model" => model = it.next().copied(),
                "--params" => params = it.next().copied(),
                w if w.starts_with("--wait=") => {}
                w => words.push(w),
            }
        }
        let (Some(model), [receiver, action]) = (model, words.as_slice()) else {
            return unmodelled(argv);
        };
        let Some(i) = self.find(model) else {
            return self.model_not_found(model);
        };
        let Some(status) = self.models[i].status.clone() else {
            return unmodelled(argv);
        };
        let Ok(parsed) = serde_json::from_slice::<StatusMachines>(&status) else {
            return unmodelled(argv);
        };
        let app = receiver.split_once('/').map_or(*receiver, |(a, _)| a);
        let is_vault = parsed
            .applications
            .get(app)
            .and_then(|a| a.charm.as_deref())
            .is_some_and(|c| c == "vault");
        if !is_vault {
            return unmodelled(argv);
        }
        let step = match *action {
            "authorize-charm" => {
                if let Err(why) = params_token(params) {
                    return juju_error(&format!(
                        "stackgate simulator: authorize-charm refused: {why}"
                    ));
                }
                1
            }
            "generate-root-ca" if self.vault_actions >= 1 => 2,
            "generate-root-ca" => {
                return juju_error(
                    "stackgate simulator: generate-root-ca on vault before authorize-charm fails (the charm has no access to vault)",
                );
            }
            _ => return unmodelled(argv),
        };
        if step <= self.vault_actions {
            return juju_error(&format!(
                "stackgate simulator: {action} a second time is not modelled"
            ));
        }
        // generate-root-ca starts the certificate cascade, when one is configured.
        let mut stages: std::collections::VecDeque<(&'static str, u32)> = if step == 2 {
            config
                .cert_cascade
                .iter()
                .copied()
                .filter(|(_, reads)| *reads > 0)
                .collect()
        } else {
            Default::default()
        };
        let world = match stages.front() {
            Some((world, _)) => *world,
            None => VAULT_AUTHORIZED_WORLDS[step - 1],
        };
        let moved = Effect::RecordedStatus {
            model: model.to_string(),
            world,
        };
        if self.apply(&moved).is_err() {
            return unmodelled(argv);
        }
        if !stages.is_empty() {
            stages.push_back((VAULT_AUTHORIZED_WORLDS[1], u32::MAX));
            self.cascade = Some((model.to_string(), stages));
        }
        self.vault_actions = step;
        Answer::ok("")
    }

    /// One `juju status` read of `model` during a certificate cascade: the showing
    /// stage has one read fewer left; when it has none, the next stage's recording shows.
    fn cascade_read(&mut self, model: &str) {
        let Some((on, stages)) = &mut self.cascade else {
            return;
        };
        if on != model {
            return;
        }
        let Some(head) = stages.front_mut() else {
            return;
        };
        head.1 = head.1.saturating_sub(1);
        if head.1 > 0 {
            return;
        }
        stages.pop_front();
        let next = stages.front().map(|(w, _)| *w);
        let model = on.clone();
        if let Some(world) = next {
            // The stages are recordings of this cloud's machines: one that is not is a
            // simulator configuration bug.
            if let Err(why) = self.apply(&Effect::RecordedStatus { model, world }) {
                panic!("SimConfig::cert_cascade stage {world}: {why}");
            }
        } else {
            self.cascade = None;
        }
    }

    /// What juju's MAAS provider did to MAAS machines since the last call.
    pub fn drain_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}

/// Why a `--params` file is no authorize-charm parameter set, if it is not: it must be
/// a YAML map (juju run.go `enqueueActions`) with a non-empty string `token`.
fn params_token(path: Option<&str>) -> Result<(), String> {
    let path = path.ok_or("no --params file: token is required")?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let doc: serde_json::Value =
        yaml_serde::from_slice(&bytes).map_err(|_| format!("{path} is not YAML"))?;
    match doc.get("token") {
        Some(serde_json::Value::String(t)) if !t.is_empty() => Ok(()),
        _ => Err(format!("{path} holds no token")),
    }
}

/// A minimal export for a model whose export the world never recorded: each
/// application's charm, unit count and machines, and the machines, in the layout of
/// juju's bundle (cmd/juju/model/exportbundle.go prints the controller's
/// `ExportBundle` YAML: `applications`, `machines`, keys sorted). Relations, options and
/// bindings are not in the status, so not in this export.
fn minimal_export(status: &StatusMachines) -> String {
    let mut y = String::from("applications:\n");
    for (name, app) in &status.applications {
        y.push_str(&format!("  {name}:\n"));
        if let Some(charm) = &app.charm {
            y.push_str(&format!("    charm: {charm}\n"));
        }
        if !app.units.is_empty() {
            y.push_str(&format!("    num_units: {}\n    to:\n", app.units.len()));
            for u in app.units.values() {
                let m = u.machine.as_deref().unwrap_or_default();
                y.push_str(&format!("    - \"{m}\"\n"));
            }
        }
    }
    y.push_str("machines:\n");
    for id in status.machines.keys() {
        y.push_str(&format!("  \"{id}\": {{}}\n"));
    }
    y
}

fn write_summary(w: &mut JsonWriter, m: &ModelSummary) {
    w.begin_object()
        .field_str("name", &m.name)
        .field_str("short-name", &m.short_name)
        .field_str("model-uuid", &m.model_uuid)
        .field_str("model-type", &m.model_type)
        .field_str("controller-uuid", &m.controller_uuid)
        .field_str("controller-name", &m.controller_name)
        .key("is-controller")
        .bool(m.is_controller)
        .field_str("owner", &m.owner)
        .field_str("cloud", &m.cloud);
    if let Some(r) = &m.region {
        w.field_str_omitempty("region", r);
    }
    if let Some(c) = &m.credential {
        w.key("credential")
            .begin_object()
            .field_str("name", &c.name)
            .field_str("owner", &c.owner)
            .field_str("cloud", &c.cloud)
            .end_object();
    }
    if let Some(t) = &m.provider_type {
        w.field_str_omitempty("type", t);
    }
    w.field_str("life", &m.life);
    if let Some(s) = &m.status {
        w.key("status")
            .begin_object()
            .field_str("current", &s.current);
        if let Some(msg) = &s.message {
            w.field_str_omitempty("message", msg);
        }
        if let Some(since) = &s.since {
            w.field_str_omitempty("since", since);
        }
        w.end_object();
    }
    w.field_str("access", &m.access)
        .field_str("last-connection", &m.last_connection);
    for (k, v) in [
        ("sla", &m.sla),
        ("sla-owner", &m.sla_owner),
        ("agent-version", &m.agent_version),
    ] {
        if let Some(v) = v {
            w.field_str_omitempty(k, v);
        }
    }
    w.end_object();
}

#[cfg(test)]
mod tests;

/// A destroy's age as `juju models` prints it without `--exact-time` (juju/juju
/// cmd/juju/common/format.go `UserFriendlyDuration`): "just now" under a minute, then
/// whole minutes, then whole hours.
fn friendly_age(seconds: u64) -> String {
    match seconds {
        0..60 => "just now".to_string(),
        60..120 => "1 minute ago".to_string(),
        120..3600 => format!("{} minutes ago", seconds / 60),
        3600..7200 => "1 hour ago".to_string(),
        _ => format!("{} hours ago", seconds / 3600),
    }
}

/// `juju status` once `remove-machine` took machine `id`: the machine is gone from
/// `machines` (its containers, `id/lxd/N`, with it) and so is every unit it or its
/// containers hosted, subordinates riding on their principal. An application left with
/// no unit loses its `units` key (cmd/juju/status/formatted.go `applicationStatus`:
/// `units,omitempty`); everything else is kept as recorded, in its order and with Go's
/// escaping ([`write_value`]), so a status with nothing removed renders byte for byte.
/// Application statuses juju would re-derive from the remaining units are not.
fn status_without_machine(status: &[u8], id: &str) -> Result<Vec<u8>, String> {
    let mut doc: serde_json::Value =
        serde_json::from_slice(status).map_err(|e| format!("juju status: {e}"))?;
    let on_machine = |m: &str| m == id || m.starts_with(&format!("{id}/"));
    if let Some(machines) = doc.get_mut("machines").and_then(|m| m.as_object_mut()) {
        machines.shift_remove(id);
    }
    if let Some(apps) = doc.get_mut("applications").and_then(|a| a.as_object_mut()) {
        for app in apps.values_mut() {
            let Some(app) = app.as_object_mut() else {
                continue;
            };
            let Some(units) = app.get_mut("units").and_then(|u| u.as_object_mut()) else {
                continue;
            };
            units.retain(|_, u| {
                !u.get("machine")
                    .and_then(|m| m.as_str())
                    .is_some_and(on_machine)
            });
            if units.is_empty() {
                app.shift_remove("units");
            }
        }
    }
    let mut w = JsonWriter::new();
    write_value(&mut w, &doc);
    let mut text = w.finish();
    text.push('\n');
    Ok(text.into_bytes())
}

/// `juju status -m <model> --format=json` of a model just added, before any deploy, as
/// juju 3.6 prints it (cmd/juju/status/formatted.go `formattedStatus`: `machines` and
/// `applications` without omitempty, `storage` and `controller` as recorded in
/// fixtures/testcloud/phase01-model-added/juju-status.json). The times are fixed: the
/// simulator has no wall clock.
fn empty_status(summary: &ModelSummary) -> Vec<u8> {
    let mut w = JsonWriter::new();
    w.begin_object();
    w.key("model").begin_object();
    w.field_str("name", &summary.short_name)
        .field_str("type", &summary.model_type)
        .field_str("controller", &summary.controller_name)
        .field_str("cloud", &summary.cloud);
    if let Some(region) = &summary.region {
        w.field_str("region", region);
    }
    if let Some(version) = &summary.agent_version {
        w.field_str("version", version);
    }
    w.key("model-status").begin_object();
    w.field_str("current", "available")
        .field_str("since", "26 Jun 2026 15:52:07Z");
    w.end_object();
    w.field_str("sla", "unsupported");
    w.end_object();
    w.key("machines").begin_object().end_object();
    w.key("applications").begin_object().end_object();
    w.key("storage").begin_object().end_object();
    w.key("controller").begin_object();
    w.field_str("timestamp", "15:53:40Z");
    w.end_object();
    w.end_object();
    let mut text = w.finish();
    text.push('\n');
    text.into_bytes()
}
