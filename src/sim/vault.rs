//! The simulated vault unit (phase 02, seed 004 steps 2.1-2.3): `vault status`, the init
//! capture's `stat` and `sed`, and the phase-02 actions' scripts, on the unit whose
//! `vault status` the world recorded.
//!
//! The vault moves through the moments the fixture worlds recorded (fresh
//! `phase02-pre-vault`, initialized and sealed `phase02-vault-initialized`, unsealed
//! `phase02-unsealed`): a read answers with the recording of the moment the vault is in,
//! so what the gates read is still what the real programs printed. Only what no
//! recording holds is rendered: the seal status of a partial unseal (`progress` k of t,
//! a nonce), from the sealed recording with those two values changed, and the output of
//! the action steps, in the shapes real OpenBao 2.7.2 printed here (`bao write
//! -format=json sys/unseal key=-`: the api.Secret document with the seal status as
//! `data`, keys sorted; `bao token create -field=token`: the token alone, no newline).
//!
//! The unit's commands arrive as juju wraps them:
//! - `juju exec -m M --unit U --format=json -- ARGV` (no stdin): the reads, and
//!   `sh -c SCRIPT` for `operator init` (cmd/juju/action/exec.go; the JSON document and
//!   juju's exit 1 on a non-zero return code as src/sources/unit_exec.rs reads them);
//! - `juju ssh -m M --pty=false U 'sh -c SCRIPT'` (stdin forwarded): `vault write
//!   sys/unseal key=-` with one share on stdin, `token create` with the root token on
//!   stdin; the remote stdout, stderr and exit status are ssh's own.
//!
//! The shares and root token an init makes are simulated values held here only; the
//! rehearsal's operator reads them as a human reads the capture ([`VaultState::capture`]).
//! Other commands on the unit are not this part's (`None`).

use serde_json::{Map, Value};

use super::{Answer, Effect};
use crate::world::World;

/// The worlds a vault's moments were recorded in, in the order the runbook reaches them.
pub const FRESH_WORLD: &str = "testcloud/phase02-pre-vault";
pub const INITIALIZED_WORLD: &str = "testcloud/phase02-vault-initialized";
pub const UNSEALED_WORLD: &str = "testcloud/phase02-unsealed";
/// A fresh vault's unit before any init: the capture's `stat` finds nothing.
pub const NO_CAPTURE_WORLD: &str = "testcloud/phase02-init-capture-missing";

/// Where the vault is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Fresh,
    Sealed,
    Unsealed,
}

/// The simulated vault unit.
#[derive(Debug)]
pub struct VaultState {
    model: String,
    unit: String,
    moment: Moment,
    shares: Vec<String>,
    root: Option<String>,
    /// The distinct shares given since the last reset, toward the threshold.
    given: Vec<String>,
    threshold: usize,
    /// juju exec task ids (the recordings end at 6).
    next_task: u32,
    minted: u32,
    effects: Vec<Effect>,
}

/// `juju exec -m M --unit U --format=json -- INNER...`: (M, U, INNER).
fn exec_parts<'a>(a: &'a [&'a str]) -> Option<(&'a str, &'a str, &'a [&'a str])> {
    match a {
        [
            "juju",
            "exec",
            "-m",
            model,
            "--unit",
            unit,
            "--format=json",
            "--",
            inner @ ..,
        ] => Some((model, unit, inner)),
        _ => None,
    }
}

/// The recorded `juju exec ... -- vault status` argv of a world, with its model and
/// unit.
fn recorded_status(world: &World) -> Option<(String, String, Vec<String>)> {
    world.argvs().find_map(|argv| {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        match exec_parts(&a)? {
            (model, unit, [_cli, "status", "-format=json", _address]) => {
                Some((model.to_string(), unit.to_string(), argv.clone()))
            }
            _ => None,
        }
    })
}

impl VaultState {
    /// The vault of a world that recorded its `vault status`; `None` for a world without
    /// one (phases 00 and 01: no vault yet).
    pub fn load(world: &World) -> Result<Option<VaultState>, String> {
        let Some((model, unit, argv)) = recorded_status(world) else {
            return Ok(None);
        };
        let rec = world.get(&argv).expect("listed argv");
        let status = task_stdout(&rec.stdout)
            .ok_or_else(|| format!("`{}`: not juju exec's JSON", argv.join(" ")))?;
        let doc: Value = serde_json::from_str(&status)
            .map_err(|e| format!("`{}`: vault status: {e}", argv.join(" ")))?;
        let moment = match (doc["initialized"].as_bool(), doc["sealed"].as_bool()) {
            (Some(false), _) => Moment::Fresh,
            (Some(true), Some(true)) => Moment::Sealed,
            (Some(true), Some(false)) => Moment::Unsealed,
            _ => return Err(format!("`{}`: no initialized/sealed", argv.join(" "))),
        };
        let threshold = doc["t"].as_u64().unwrap_or(3) as usize;
        Ok(Some(VaultState {
            model,
            unit,
            moment,
            shares: Vec::new(),
            root: None,
            given: Vec::new(),
            threshold: threshold.max(1),
            next_task: 7,
            minted: 0,
            effects: Vec::new(),
        }))
    }

    pub fn moment(&self) -> Moment {
        self.moment
    }

    /// What the operator copies off the host after an init this simulation ran: the
    /// shares and the root token.
    pub fn capture(&self) -> Option<(Vec<String>, String)> {
        Some((self.shares.clone(), self.root.clone()?))
    }

    pub fn drain_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Answers a command on the vault unit; `None` for every other argv.
    pub fn answer(&mut self, argv: &[String], stdin: Option<&[u8]>) -> Option<Answer> {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        if let Some((model, unit, inner)) = exec_parts(&a) {
            return (model == self.model && unit == self.unit)
                .then(|| self.exec(argv, inner))
                .flatten();
        }
        match a.as_slice() {
            ["juju", "ssh", "-m", model, "--pty=false", unit, remote]
                if *model == self.model && *unit == self.unit =>
            {
                self.ssh(remote, stdin)
            }
            _ => None,
        }
    }

    /// The world recording of `argv` at the vault's moment.
    fn recorded(&self, argv: &[String]) -> Option<Answer> {
        let world = match self.moment {
            Moment::Fresh => FRESH_WORLD,
            Moment::Sealed => INITIALIZED_WORLD,
            Moment::Unsealed => UNSEALED_WORLD,
        };
        let w = World::embedded(world).ok()?;
        let rec = w.get(argv)?;
        Some(Answer {
            exit: rec.exit,
            stdout: rec.stdout.clone(),
            stderr: rec.stderr.clone(),
        })
    }

    fn exec(&mut self, argv: &[String], inner: &[&str]) -> Option<Answer> {
        match inner {
            [_cli, "status", "-format=json", _address] => {
                if self.moment == Moment::Sealed && !self.given.is_empty() {
                    return Some(self.partial_status(argv));
                }
                self.recorded(argv)
            }
            // No capture before the init; from the init on, its recorded modes and labels.
            ["stat", ..] | ["sed", ..] => {
                let world = match self.moment {
                    Moment::Fresh => NO_CAPTURE_WORLD,
                    _ => INITIALIZED_WORLD,
                };
                World::embedded(world).ok()?.get(argv).map(|r| Answer {
                    exit: r.exit,
                    stdout: r.stdout.clone(),
                    stderr: r.stderr.clone(),
                })
            }
            ["sh", "-c", script] if script.contains(" operator init ") => Some(self.init(script)),
            _ => None,
        }
    }

    /// `sh -c "umask 077 && mkdir -p -- DIR && set -C && exec vault operator init ... >
    /// FILE 2>&1"`: the output goes to the capture, so the task prints nothing.
    fn init(&mut self, script: &str) -> Answer {
        let flag = |name: &str| {
            script
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .and_then(|n| n.parse::<u8>().ok())
        };
        let (Some(shares), Some(threshold)) = (flag("-key-shares="), flag("-key-threshold="))
        else {
            return self.task(2, "", "stackgate simulator: operator init without -key-shares and -key-threshold is not modelled\n");
        };
        if self.moment != Moment::Fresh {
            // `set -C` refuses to overwrite the capture the first init wrote (dash:
            // "cannot create FILE: File exists", exit 2).
            return self.task(2, "", "sh: 1: cannot create the capture: File exists\n");
        }
        self.shares = (1..=shares).map(simulated_share).collect();
        self.threshold = usize::from(threshold.max(1));
        self.root = Some(simulated_token("root", 0));
        self.moment = Moment::Sealed;
        self.effects.push(Effect::RecordedStatus {
            model: self.model.clone(),
            world: INITIALIZED_WORLD,
        });
        self.task(0, "", "")
    }

    fn ssh(&mut self, remote: &str, stdin: Option<&[u8]>) -> Option<Answer> {
        let input = stdin
            .map(|s| String::from_utf8_lossy(s).trim().to_string())
            .unwrap_or_default();
        if remote.contains(" sys/unseal key=-") {
            return Some(self.unseal(&input));
        }
        if remote.contains("read -r VAULT_TOKEN") && remote.contains(" token create ") {
            return Some(self.mint(&input));
        }
        None
    }

    fn unseal(&mut self, key: &str) -> Answer {
        if self.moment == Moment::Fresh {
            return Answer::fail(2, api_error("sys/unseal", 400, "Vault is not initialized"));
        }
        if self.moment == Moment::Unsealed {
            return Answer::ok(self.unseal_document());
        }
        if !self.shares.iter().any(|s| s == key) {
            // Vault accepts any hex or base64 string toward the threshold and fails only
            // when the combined key does not open the barrier; which words it prints
            // then is not modelled: the simulator refuses at once, progress reset.
            self.given.clear();
            return Answer::fail(
                2,
                "stackgate simulator: that is not one of the simulated unseal shares (progress reset)\n",
            );
        }
        if !self.given.iter().any(|g| g == key) {
            self.given.push(key.to_string());
        }
        if self.given.len() >= self.threshold {
            self.given.clear();
            self.moment = Moment::Unsealed;
            self.effects.push(Effect::RecordedStatus {
                model: self.model.clone(),
                world: UNSEALED_WORLD,
            });
        }
        Answer::ok(self.unseal_document())
    }

    fn mint(&mut self, root: &str) -> Answer {
        if self.moment != Moment::Unsealed {
            return Answer::fail(2, api_error("auth/token/create", 503, "Vault is sealed"));
        }
        if self.root.as_deref() != Some(root) {
            return Answer::fail(
                2,
                "Error creating token: Error making API request.\n\nCode: 403. Errors:\n\n* permission denied\n",
            );
        }
        self.minted += 1;
        Answer::ok(simulated_token("child", self.minted))
    }

    /// The sealed moment's recorded status with the unseal's `progress` and a nonce.
    fn partial_status(&self, argv: &[String]) -> Answer {
        let Some(rec) = World::embedded(INITIALIZED_WORLD)
            .ok()
            .and_then(|w| w.get(argv).cloned())
        else {
            return Answer::fail(
                1,
                "ERROR stackgate simulator: no sealed vault status recorded for this argv\n",
            );
        };
        let Some(mut doc) = task_stdout(&rec.stdout)
            .and_then(|s| serde_json::from_str::<Map<String, Value>>(&s).ok())
        else {
            return Answer::fail(
                1,
                "ERROR stackgate simulator: the sealed recording is not vault status\n",
            );
        };
        doc.insert("progress".into(), Value::from(self.given.len()));
        doc.insert("nonce".into(), Value::from(SIM_NONCE));
        let mut text = serde_json::to_string_pretty(&doc).expect("a JSON map serialises");
        text.push('\n');
        // Sealed: vault status exits 2, so juju exec's task failed.
        self.task_const(2, &text, "")
    }

    /// `bao write -format=json sys/unseal key=-`: api.Secret with the seal status as
    /// `data` (keys sorted, Go map), as OpenBao 2.7.2 printed it here.
    fn unseal_document(&self) -> String {
        let unsealed = self.moment == Moment::Unsealed;
        let mut data = serde_json::Map::new();
        if unsealed {
            data.insert("cluster_id".into(), Value::from(SIM_CLUSTER_ID));
            data.insert("cluster_name".into(), Value::from(SIM_CLUSTER_NAME));
        }
        data.insert("commit_date".into(), Value::from("2026-10-26T20:32:27Z"));
        data.insert("initialized".into(), Value::from(true));
        data.insert("migration".into(), Value::from(false));
        data.insert("n".into(), Value::from(self.shares.len().max(5)));
        data.insert(
            "nonce".into(),
            Value::from(if unsealed { "" } else { SIM_NONCE }),
        );
        data.insert("progress".into(), Value::from(self.given.len()));
        data.insert("recovery_seal".into(), Value::from(false));
        data.insert("sealed".into(), Value::from(!unsealed));
        data.insert("storage_type".into(), Value::from("mysql"));
        data.insert("t".into(), Value::from(self.threshold));
        data.insert("type".into(), Value::from("shamir"));
        data.insert("version".into(), Value::from("2.7.2"));
        let doc = serde_json::json!({
            "request_id": "",
            "lease_id": "",
            "lease_duration": 0,
            "renewable": false,
            "data": Value::Object(data),
            "warnings": null,
        });
        let mut text = serde_json::to_string_pretty(&doc).expect("serialises");
        text.push('\n');
        text
    }

    fn task(&mut self, code: i32, stdout: &str, stderr: &str) -> Answer {
        let answer = self.task_const(code, stdout, stderr);
        self.next_task += 2;
        answer
    }

    /// juju exec's answer for one task on the unit (cmd/juju/action/common.go
    /// `formatActionResult`: compact, keys sorted, `stdout`/`stderr` omitted when
    /// empty; juju exits 1 with "the following task failed" when the return code is
    /// not 0).
    fn task_const(&self, code: i32, stdout: &str, stderr: &str) -> Answer {
        let id = self.next_task.to_string();
        let out = super::json::juju_task(&self.unit, &id, |w| {
            w.key("return-code").int(i64::from(code));
            w.field_str_omitempty("stderr", stderr);
            w.field_str_omitempty("stdout", stdout);
        });
        if code == 0 {
            Answer::ok(out)
        } else {
            Answer {
                exit: 1,
                stdout: out.into_bytes().into(),
                stderr: format!(
                    "ERROR the following task failed:\n - id \"{id}\" with return code {code}\n\nuse 'juju show-task' to inspect the failure\n\n"
                )
                .into_bytes(),
            }
        }
    }
}

const SIM_NONCE: &str = "5e1f0a3c-sim0-4d6b-9c2e-000000000001";
const SIM_CLUSTER_ID: &str = "0b1e4c9a-sim0-4f7d-8a21-000000000002";
const SIM_CLUSTER_NAME: &str = "vault-cluster-51m0b40a";

/// A simulated unseal share: 33 bytes in hex (vault takes a share as hex or base64).
fn simulated_share(i: u8) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("stackgate-sim-share-{i}"));
    format!("{digest:x}{i:02x}")
}

/// A simulated token: OpenBao's `s.` prefix and 24 characters.
pub(crate) fn simulated_token(kind: &str, n: u32) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("stackgate-sim-{kind}-token-{n}"));
    format!("s.{}", &format!("{digest:x}")[..24])
}

/// The vault CLI's API error, as `bao write` prints it.
fn api_error(path: &str, code: u16, error: &str) -> String {
    format!(
        "Error writing data to {path}: Error making API request.\n\nCode: {code}. Errors:\n\n* {error}\n"
    )
}

/// The task's stdout in a `juju exec --format=json` document of one unit.
fn task_stdout(doc: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(doc).ok()?;
    let (_, task) = v.as_object()?.iter().next()?;
    Some(
        task["results"]["stdout"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[cfg(test)]
mod tests;
