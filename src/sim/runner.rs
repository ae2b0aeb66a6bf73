//! The `Sim` backend: one mutable simulated cloud behind the runner trait.

use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;

use super::host::HostState;
use super::juju::JujuState;
use super::keystone::KeystoneState;
use super::maas::MaasState;
use super::octavia::OctaviaState;
use super::openstack::OpenstackState;
use super::vault::VaultState;
use super::{Answer, SimConfig};
use crate::runner::{CommandOutput, CommandRunner, Invocation, RunError};
use crate::world::World;

/// Why a simulated cloud could not be built from a world.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot simulate fixture world {world}: {message}")]
pub struct SimError {
    pub world: String,
    pub message: String,
}

struct State {
    maas: MaasState,
    host: HostState,
    juju: JujuState,
    /// The vault unit, in a world that recorded its `vault status` (phase 02 on).
    vault: Option<VaultState>,
    openstack: OpenstackState,
    octavia: OctaviaState,
    /// keystone's admin credentials and vault's root CA, in a world with keystone.
    keystone: Option<KeystoneState>,
    /// Every command answered, in order: what a test asserts the executor ran.
    history: Vec<Vec<String>>,
}

/// A simulated cloud. Reads render the current state; mutations change it.
pub struct Sim {
    world: World,
    config: SimConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("world", &self.world.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Loads the simulated cloud a fixture world recorded. `maas_profile` is the MAAS
    /// CLI profile the world's `maas` commands use (`admin`).
    pub fn new(world: World, maas_profile: &str, config: SimConfig) -> Result<Sim, SimError> {
        let fail = |message: String| SimError {
            world: world.name.clone(),
            message,
        };
        let state = State {
            maas: MaasState::load(&world, maas_profile).map_err(fail)?,
            host: if config.real_programs {
                HostState::load_real(&world)
            } else {
                HostState::load(&world)
            }
            .map_err(fail)?,
            juju: JujuState::load(&world).map_err(fail)?,
            vault: VaultState::load(&world).map_err(fail)?,
            openstack: OpenstackState::load(&world).map_err(fail)?,
            octavia: OctaviaState::load(&world),
            keystone: KeystoneState::load(&world),
            history: Vec::new(),
        };
        Ok(Sim {
            world,
            config,
            state: Mutex::new(state),
        })
    }

    /// The shares and root token of a vault init this simulation ran: what the operator
    /// copies off the host (the rehearsal types them back at the unseal and authorize
    /// prompts).
    pub fn vault_capture(&self) -> Option<(Vec<String>, String)> {
        self.lock().vault.as_ref().and_then(VaultState::capture)
    }

    /// The system_id MAAS holds for a hostname now (a test reads ids as an old script
    /// did, before acting on them).
    pub fn maas_system_id(&self, hostname: &str) -> Option<String> {
        self.lock().maas.system_id(hostname)
    }

    /// What a file on the simulated jumphost holds, when the simulation knows it (one an
    /// action wrote): a test proves a secret reached the file and nothing else.
    pub fn jumphost_file(&self, path: &str) -> Option<Vec<u8>> {
        self.lock().host.file_contents(path).map(<[u8]>::to_vec)
    }

    /// Whether the jumphost runs the real programs ([`SimConfig::real_programs`]).
    pub fn runs_real_programs(&self) -> bool {
        self.lock().host.is_real()
    }

    /// Whether an argv only reads: the CLI reads gates and plans use. Everything else
    /// the simulator answers changes the cloud (or writes a file).
    pub fn is_read(argv: &[String]) -> bool {
        let words: Vec<&str> = argv
            .iter()
            .map(String::as_str)
            .skip_while(|w| *w == "sudo" || *w == "-n")
            .collect();
        match words.as_slice() {
            // A script on a unit (`operator init`) changes it; the other exec forms read.
            ["juju", "exec", .., "--", "sh", "-c", _] => false,
            ["maas", _, "subnet", "ip-addresses", _] => true,
            ["maas", _, "interfaces", "read", _] | ["maas", _, "vlans", "read", _] => true,
            ["maas", _, what, "read"] => {
                ["machines", "subnets", "spaces", "ipranges", "tags"].contains(what)
            }
            [
                "juju",
                "models" | "status" | "whoami" | "spaces" | "exec" | "config",
                ..,
            ] => true,
            ["juju", "model-defaults" | "model-config", rest @ ..] => {
                !rest.iter().any(|w| w.contains('='))
            }
            ["virsh", "-c", _, verb, ..] => {
                ["list", "net-list", "domstate", "dumpxml", "net-dumpxml"].contains(verb)
            }
            ["qemu-img", "info", ..] | ["stat", ..] | ["cat", ..] | ["ls", ..] | ["sed", ..] => {
                true
            }
            // A token issued, the catalog listed: keystone's reads (phase03 scripts).
            ["sh", "-c", script, ..] => {
                *script == crate::actions::phase03::SCOPE_SCRIPT
                    || *script == crate::actions::phase03::SOURCED_SCRIPT
            }
            ["openstack", rest @ ..] => rest.iter().any(|w| *w == "show" || *w == "list"),
            _ => false,
        }
    }

    /// Every argv the simulator answered, in order.
    pub fn history(&self) -> Vec<Vec<String>> {
        self.lock().history.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("simulator state poisoned")
    }

    /// Answers one argv: the part that models it, else the world's recording of a read.
    pub fn answer(&self, argv: &[String], stdin: Option<&[u8]>) -> Result<Answer, RunError> {
        let mut state = self.lock();
        state.history.push(argv.to_vec());
        let config = &self.config;
        let on_vault = state.vault.as_mut().and_then(|v| v.answer(argv, stdin));
        let on_keystone = {
            let State {
                keystone,
                host,
                juju,
                ..
            } = &mut *state;
            keystone
                .as_mut()
                .and_then(|k| k.answer(argv, stdin, host, juju, &self.world))
        };
        let answer = match argv.first().map(String::as_str) {
            _ if on_vault.is_some() => on_vault,
            _ if on_keystone.is_some() => on_keystone,
            Some("maas") => state.maas.answer(argv, stdin, config),
            Some("openstack") => state.openstack.answer(argv, stdin),
            Some("juju") => {
                let State {
                    juju,
                    maas,
                    openstack,
                    octavia,
                    ..
                } = &mut *state;
                // A charm action's effect on the model, then juju itself.
                octavia
                    .answer(argv, openstack, config)
                    .or_else(|| juju.answer(argv, stdin, config, maas))
            }
            _ => state.host.answer(argv, stdin, config),
        };
        // What the vault's moment does to the model's status.
        let moved = state.vault.as_mut().map(VaultState::drain_effects);
        for effect in moved.into_iter().flatten() {
            if let Err(why) = state.juju.apply(&effect) {
                return Err(RunError::NotInWorld {
                    argv: crate::runner::display_argv(argv),
                    world: format!("{} (simulated: {why})", self.world.name),
                });
            }
        }
        // What a juju command did to the machines MAAS holds.
        let effects = state.juju.drain_effects();
        for effect in &effects {
            state.maas.apply(effect, config);
            state.host.apply(effect);
        }
        if let Some(answer) = answer {
            return Ok(answer);
        }
        match self.world.get(argv) {
            Some(recording) => Ok(Answer {
                exit: recording.exit,
                stdout: recording.stdout.clone(),
                stderr: recording.stderr.clone(),
            }),
            None => Err(RunError::NotInWorld {
                argv: crate::runner::display_argv(argv),
                world: format!(
                    "{} (simulated; no part models this command)",
                    self.world.name
                ),
            }),
        }
    }
}

impl CommandRunner for Sim {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            let stdin = invocation.secret_stdin().map(|s| s.expose());
            let answer = self.answer(invocation.argv(), stdin)?;
            Ok(CommandOutput {
                argv: invocation.argv().to_vec(),
                exit_code: Some(answer.exit),
                stdout: answer.stdout,
                stderr: answer.stderr,
                duration: Duration::ZERO,
            })
        })
    }

    fn describe(&self) -> String {
        format!("simulated {}", self.world.name)
    }
}
