//! Phase-02 actions, seed 004 steps 2.1b-2.3 as the operator ran them by hand:
//!
//! - `vault-init`: `vault operator init -key-shares=5 -key-threshold=3` once, under
//!   umask 077, its output going straight into the capture file on the vault host, so
//!   no share and no root token passes through stackgate; then P02-INIT.
//! - `vault-unseal`: one key per step, typed at a hidden prompt (or read from
//!   `--secret-fd`), fed on the stdin of `vault write sys/unseal key=-` on the vault
//!   host, until the threshold is met; then P02-UNSEALED.
//! - `vault-authorize`: the root token typed at a hidden prompt mints a child token with
//!   a 10-minute TTL on the vault host (`read -r VAULT_TOKEN`, then `token create
//!   -ttl=10m -field=token`), captured in memory; `authorize-charm` gets the child, never
//!   the root token, in a 0600 params file (DOCFIX-011: juju's operation log keeps action
//!   parameters); `generate-root-ca` (DOCFIX-014: required); then P02-AUTHORIZED.
//!
//! The CLI: `vault write` parses `key=-` with go-secure-stdlib kv-builder
//! (`Builder.add`: a value of exactly `-` is read whole from stdin), as OpenBao's
//! command/base_helpers.go `parseArgsData` calls it, and flags must come before the
//! path (`generateFlagWarnings`); checked against the real OpenBao 2.7.2 `bao`, which
//! takes a key with or without a trailing newline, answers a malformed key with 400
//! "'key' must be a valid hex or base64 string", and a well-formed wrong share at the
//! threshold with 400 "unable to retrieve stored keys ... message authentication
//! failed", discarding the progress. `sys/unseal` needs no token.
//!
//! The charm: openstack/charm-vault `src/actions.yaml` declares `authorize-charm` with
//! the one required string property `token`, and `generate-root-ca` with defaults for
//! every property; `src/actions/actions.py` runs both on the leader only
//! (`hookenv.is_leader()`), `authorize_charm_action` passes `action_get()['token']` to
//! `setup_charm_vault_access`, and `generate_root_ca` sets `charm.vault.ca.ready` and
//! runs the reactive handlers before the action ends. juju 3.x `juju run` waits for the
//! task (cmd/juju/action/common.go `runCommandBase.Init`: 60 s unless `--wait` is
//! given) and reads `--params` as a YAML map (run.go `enqueueActions`).

use std::time::Duration;

use super::checks::{gate_holds, require, settle, verdict};
use super::plan::{Check, Delivery, Plan, SecretNeed, SecretSource, Step, Target};
use super::wait::Poll;
use super::{Action, ActionArgs, Refusal, need};
use crate::gates::{Status, by_id, vault_host};
use crate::profile::{Profile, VaultServer};
use crate::snapshot::{Read, Snapshot};
use crate::sources::unit_exec::{ExecHost, shell_word};

pub static ACTIONS: [Action; 3] = [
    Action {
        name: "vault-init",
        phase: "02",
        description: "2.1b: vault operator init -key-shares=5 -key-threshold=3 once, under umask 077, its output straight into the capture file on the vault host (no share or token passes through stackgate), then P02-INIT",
        destructive: true,
        guards: "P02-SEALED PROCEED (initialized false, sealed, the profile's storage and HA); no capture file yet; an initialized vault plans nothing",
        takes_host: false,
        reads: init_reads,
        follow_up: super::no_follow_up,
        plan: plan_init,
    },
    Action {
        name: "vault-unseal",
        phase: "02",
        description: "2.2: threshold minus progress unseal keys, each typed at a hidden prompt (or read from --secret-fd) and fed on stdin to `vault write sys/unseal key=-` on the vault host, then P02-UNSEALED",
        destructive: false,
        guards: "vault initialized; an unsealed vault plans nothing",
        takes_host: false,
        reads: status_reads,
        follow_up: super::no_follow_up,
        plan: plan_unseal,
    },
    Action {
        name: "vault-authorize",
        phase: "02",
        description: "2.3: a 10-minute child token minted from the root token typed at a hidden prompt, authorize-charm given the child in a 0600 params file, generate-root-ca (DOCFIX-014), then P02-AUTHORIZED",
        destructive: false,
        guards: "P02-UNSEALED PASS; P02-AUTHORIZED already PASS plans nothing",
        takes_host: false,
        reads: authorize_reads,
        follow_up: super::no_follow_up,
        plan: plan_authorize,
    },
];

/// seed 004 step 2.1b: `-key-threshold=3` (of the profile's `key_shares`, 5).
pub const KEY_THRESHOLD: u32 = 3;

/// The child token's TTL (seed 004 step 2.3: `vault token create -ttl=10m`).
pub const CHILD_TTL: &str = "10m";

/// Bounds `juju run`'s own wait for the action, below the runner's default timeout.
const JUJU_RUN_WAIT: &str = "--wait=90s";

/// The slot the minted child token is captured into.
const CHILD_TOKEN: &str = "child token";

/// charm-vault's state before `authorize-charm` (src/reactive/vault_handlers.py
/// `_assess_status`).
const NOT_AUTHORIZED: &str = "Vault charm not yet authorized: run authorize-charm action.";

fn server(profile: &Profile) -> Result<&VaultServer, Refusal> {
    profile.vault.server.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!(
            "profile {} has no [phase02.vault.server]: where vault runs and its CLI",
            profile.name
        ))
    })
}

fn gate_reads(id: &str, profile: &Profile) -> Vec<Read> {
    by_id(id).map(|g| (g.reads)(profile)).unwrap_or_default()
}

fn status_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    gate_reads("P02-SEALED", profile)
}

fn init_reads(profile: &Profile, args: &ActionArgs) -> Vec<Read> {
    let mut reads = status_reads(profile, args);
    if let Some(server) = &profile.vault.server {
        let host = vault_host(profile, server);
        for path in [&server.init_dir, &server.init_file] {
            reads.push(Read::PathStat {
                host: host.clone(),
                path: path.clone(),
            });
        }
    }
    reads
}

fn authorize_reads(profile: &Profile, args: &ActionArgs) -> Vec<Read> {
    let mut reads = status_reads(profile, args);
    reads.extend(gate_reads("P02-AUTHORIZED", profile));
    reads
}

/// The address flag as one shell word.
fn address(server: &VaultServer) -> String {
    shell_word(&format!("-address={}", server.address))
}

/// A file on the vault host, as a target names it.
fn host_file(host: &ExecHost, path: &str) -> Target {
    Target::File {
        path: match host {
            ExecHost::Local => path.to_string(),
            ExecHost::Unit { unit, .. } => format!("{unit}:{path}"),
        },
    }
}

/// The init on the vault host: umask 077, the capture directory made, an existing
/// capture never overwritten (`set -C`: the shell refuses `>` onto an existing file),
/// and the CLI's stdout and stderr straight into the capture.
pub fn init_script(server: &VaultServer) -> String {
    format!(
        "umask 077 && mkdir -p -- {dir} && set -C && exec {cli} operator init -key-shares={shares} -key-threshold={KEY_THRESHOLD} {address} > {file} 2>&1",
        dir = shell_word(&server.init_dir),
        cli = shell_word(&server.cli),
        shares = server.key_shares,
        address = address(server),
        file = shell_word(&server.init_file),
    )
}

/// One unseal key, read whole from stdin by `vault write`'s `key=-`.
pub fn unseal_script(server: &VaultServer) -> String {
    format!(
        "exec {} write -format=json {} sys/unseal key=-",
        shell_word(&server.cli),
        address(server)
    )
}

/// The child token minted with the root token read from stdin into the CLI's
/// environment only (never argv): `-field=token` prints the token alone.
pub fn mint_script(server: &VaultServer) -> String {
    format!(
        "read -r VAULT_TOKEN && export VAULT_TOKEN && exec {} token create -ttl={CHILD_TTL} -field=token {}",
        shell_word(&server.cli),
        address(server)
    )
}

fn plan_init(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let server = server(profile)?;
    let host = vault_host(profile, server);
    let status = need(snapshot.vault_status(&host, &server.cli, &server.address))?;
    let mut plan = Plan::new("vault-init");
    let (sealed_status, sealed_line) = verdict("P02-SEALED", snapshot, profile);
    plan.resolve(format!("vault on {}", host.label()), sealed_line.clone());
    if status.initialized() == Ok(true) {
        plan.note(format!(
            "vault at {} is already initialized: `operator init` runs once per vault; its shares and root token are wherever the first init put them (P02-INIT reads the capture {} by label)",
            server.address, server.init_file
        ));
        return Ok(plan);
    }
    require(
        (sealed_status, sealed_line),
        Status::Proceed,
        "vault-init runs only on a fresh, sealed vault on the profile's storage",
    )?;
    let dir = need(snapshot.path_stat(&host, &server.init_dir))?;
    let file = need(snapshot.path_stat(&host, &server.init_file))?;
    if file.permissions().is_some() {
        return Err(Refusal::Guard(format!(
            "the capture {} already exists on {} ({}): an init never overwrites a capture; move it off the host first",
            server.init_file,
            host.label(),
            file.describe()
        )));
    }
    if dir.permissions().is_some_and(|p| p & 0o077 != 0)
        || (dir.permissions().is_some() && !dir.is_dir())
    {
        return Err(Refusal::Guard(format!(
            "{} on {} is {}: umask 077 does not tighten an existing directory; make it an owner-only (0700) directory first",
            server.init_dir,
            host.label(),
            dir.describe()
        )));
    }
    plan.resolve(
        format!("capture directory {}", server.init_dir),
        dir.describe(),
    );
    plan.resolve(
        format!("capture file {}", server.init_file),
        file.describe(),
    );
    plan.push(
        Step::run(
            host.shell(&init_script(server)),
            format!(
                "2.1b: initialize vault ({} shares, threshold {KEY_THRESHOLD}) once; irreversible: the shares and the root token exist only in the capture",
                server.key_shares
            ),
            gate_holds("P02-INIT", profile),
        )
        .destructive()
        .targets([host_file(&host, &server.init_file)]),
    );
    plan.note(format!(
        "after the init: take the {} unseal key shares and the initial root token off {} ({}, owner-only) into the custody the runbook names, then remove them from the host; stackgate never reads, prints or keeps them",
        server.key_shares,
        host.label(),
        server.init_file
    ));
    if matches!(host, ExecHost::Unit { .. }) {
        plan.note(
            "juju exec runs as root on the unit: the capture is root's (sudo to copy it off)",
        );
    }
    Ok(plan)
}

/// After a key: vault counted it (progress `expected`), or is unsealed.
fn progress_reaches(expected: u32, threshold: u32, profile: &Profile) -> Check {
    Check::new(
        format!("vault counted the key: unseal progress {expected} of {threshold}"),
        status_reads(profile, &ActionArgs::default()),
        move |snapshot, profile| {
            let Some(server) = &profile.vault.server else {
                return Poll::Fail("no [phase02.vault.server]".to_string());
            };
            let host = vault_host(profile, server);
            match snapshot.vault_status(&host, &server.cli, &server.address) {
                Err(e) => Poll::Fail(e.to_string()),
                Ok(s) if s.sealed() == Ok(false) => Poll::Pass("unsealed".to_string()),
                Ok(s) => match s.progress {
                    Some(p) if p == expected => {
                        Poll::Pass(format!("unseal progress {p} of {threshold}"))
                    }
                    Some(p) => Poll::Fail(format!(
                        "unseal progress is {p}, not {expected}: vault did not count the key"
                    )),
                    None => Poll::Fail("vault status shows no progress".to_string()),
                },
            }
        },
    )
}

fn plan_unseal(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let server = server(profile)?;
    let host = vault_host(profile, server);
    let status = need(snapshot.vault_status(&host, &server.cli, &server.address))?;
    let missing = |key: &str| Refusal::Precondition(format!("vault status shows no {key}"));
    let initialized = status.initialized().map_err(|_| missing("initialized"))?;
    let sealed = status.sealed().map_err(|_| missing("sealed"))?;
    let mut plan = Plan::new("vault-unseal");
    if !initialized {
        return Err(Refusal::Guard(format!(
            "vault at {} on {} is not initialized: run vault-init first",
            server.address,
            host.label()
        )));
    }
    if !sealed {
        plan.resolve(format!("vault on {}", host.label()), "unsealed");
        plan.note(format!("vault at {} is already unsealed", server.address));
        return Ok(plan);
    }
    let threshold = status.t.ok_or_else(|| missing("t (the threshold)"))?;
    let progress = status.progress.ok_or_else(|| missing("progress"))?;
    let shares = status.n.ok_or_else(|| missing("n (the shares)"))?;
    if threshold == 0 || progress >= threshold {
        return Err(Refusal::Precondition(format!(
            "vault status says threshold {threshold}, progress {progress}: no key count follows"
        )));
    }
    let needed = threshold - progress;
    plan.resolve(
        format!("vault on {}", host.label()),
        format!("sealed, threshold {threshold} of {shares} shares, progress {progress}"),
    );
    for k in 1..=needed {
        let check = if k == needed {
            gate_holds("P02-UNSEALED", profile)
        } else {
            progress_reaches(progress + k, threshold, profile)
        };
        plan.push(
            Step::run(
                host.shell_with_stdin(&unseal_script(server)),
                format!("2.2: unseal key {k} of the {needed} still needed, on stdin"),
                check,
            )
            .secret_via(
                SecretSource::Operator(SecretNeed {
                    prompt: format!(
                        "vault unseal key {k} of {needed} (a share not typed yet, of the {shares})"
                    ),
                }),
                Delivery::Stdin,
                None,
            ),
        );
    }
    plan.note(
        "a wrong share is counted until the threshold, where vault refuses the set and discards the progress: then run vault-unseal again with the right shares",
    );
    Ok(plan)
}

/// The vault unit no longer waits for authorize-charm.
fn charm_authorized(profile: &Profile) -> Check {
    let unit = profile.vault.unit.clone();
    Check::new(
        format!("{unit} no longer reports \"{NOT_AUTHORIZED}\""),
        gate_reads("P02-AUTHORIZED", profile),
        move |snapshot, profile| match snapshot.juju_status(&profile.model) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(status) => match status.unit(&unit).map(|u| u.workload()) {
                None => Poll::Fail(format!("{unit} is not in juju status")),
                Some(Err(key)) => Poll::Fail(format!("{unit}: {key}")),
                Some(Ok(w)) => {
                    let line = format!("{unit} {} \"{}\"", w.current(), w.message());
                    if w.message() == NOT_AUTHORIZED {
                        Poll::Pending(line)
                    } else {
                        Poll::Pass(line)
                    }
                }
            },
        },
    )
    .polled(settle(Duration::from_secs(300)))
}

fn plan_authorize(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let server = server(profile)?;
    let host = vault_host(profile, server);
    let mut plan = Plan::new("vault-authorize");
    let (authorized, authorized_line) = verdict("P02-AUTHORIZED", snapshot, profile);
    plan.resolve("charm", authorized_line.clone());
    match authorized {
        Status::Pass => {
            plan.note("the charm is authorized, its root CA generated and every certificate consumer active: nothing to do");
            return Ok(plan);
        }
        Status::Precondition => return Err(Refusal::Precondition(authorized_line)),
        _ => {}
    }
    let (unsealed, unsealed_line) = verdict("P02-UNSEALED", snapshot, profile);
    plan.resolve(format!("vault on {}", host.label()), unsealed_line.clone());
    require(
        (unsealed, unsealed_line),
        Status::Pass,
        "the charm is authorized only on an unsealed vault: run vault-unseal first",
    )?;
    let model = profile.model.clone();
    let application = profile
        .vault
        .unit
        .split_once('/')
        .map_or(profile.vault.unit.as_str(), |(a, _)| a);
    let leader = format!("{application}/leader");
    plan.push(
        Step::run(
            host.shell_with_stdin(&mint_script(server)),
            format!(
                "2.3: mint a child token with a {CHILD_TTL} TTL from the root token (stdin into the CLI's environment, never argv); the root token is never given to the charm"
            ),
            gate_holds("P02-UNSEALED", profile),
        )
        .secret_via(
            SecretSource::Operator(SecretNeed {
                prompt: "vault initial root token (read -s: it goes to the vault host's CLI on stdin)"
                    .to_string(),
            }),
            Delivery::Stdin,
            Some("{secret}\n"),
        )
        .capture(CHILD_TOKEN),
    );
    plan.push(
        Step::run(
            [
                "juju",
                "run",
                "-m",
                &model,
                JUJU_RUN_WAIT,
                "--params",
                super::plan::SECRET_FILE,
                &leader,
                "authorize-charm",
            ],
            "2.3: authorize the charm with the child token, in a params file (DOCFIX-011: juju's operation log keeps action parameters, so never the root token)",
            charm_authorized(profile),
        )
        .secret_via(
            SecretSource::Captured(CHILD_TOKEN.to_string()),
            Delivery::File,
            Some("token: {secret}\n"),
        )
        .targets([Target::Model {
            name: model.clone(),
        }]),
    );
    plan.push(
        Step::run(
            ["juju", "run", "-m", &model, JUJU_RUN_WAIT, &leader, "generate-root-ca"],
            "2.3: generate the root CA (DOCFIX-014: required; without it every certificate consumer waits)",
            gate_holds("P02-AUTHORIZED", profile).polled(settle(Duration::from_secs(900))),
        )
        .targets([Target::Model { name: model }]),
    );
    plan.note(format!(
        "the child token expires {CHILD_TTL} after it is minted; the root token stays with the operator"
    ));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> VaultServer {
        Profile::testcloud()
            .vault
            .server
            .expect("testcloud has a vault server")
    }

    #[test]
    fn the_scripts_name_the_profiles_cli_address_and_capture_and_no_secret() {
        let s = server();
        assert_eq!(
            init_script(&s),
            "umask 077 && mkdir -p -- /home/ubuntu/vault-init && set -C && exec vault operator init -key-shares=5 -key-threshold=3 -address=http://127.0.0.1:8200 > /home/ubuntu/vault-init/init.txt 2>&1"
        );
        assert_eq!(
            unseal_script(&s),
            "exec vault write -format=json -address=http://127.0.0.1:8200 sys/unseal key=-"
        );
        assert_eq!(
            mint_script(&s),
            "read -r VAULT_TOKEN && export VAULT_TOKEN && exec vault token create -ttl=10m -field=token -address=http://127.0.0.1:8200"
        );
    }

    #[test]
    fn a_path_with_a_space_or_a_quote_stays_one_word() {
        let mut s = server();
        s.init_dir = "/home/ubuntu/it's here".into();
        assert!(init_script(&s).contains(r"mkdir -p -- '/home/ubuntu/it'\''s here'"));
    }

    #[test]
    fn stdin_fed_steps_go_through_juju_ssh_on_a_unit_and_sh_here() {
        let unit = ExecHost::Unit {
            model: "openstack".into(),
            unit: "vault/0".into(),
        };
        assert_eq!(
            unit.shell_with_stdin("read -r X && echo \"$X\""),
            [
                "juju",
                "ssh",
                "-m",
                "openstack",
                "--pty=false",
                "vault/0",
                "sh -c 'read -r X && echo \"$X\"'"
            ]
        );
        assert_eq!(
            ExecHost::Local.shell_with_stdin("true"),
            ["sh", "-c", "true"]
        );
        assert_eq!(
            unit.shell("true")[..8],
            [
                "juju",
                "exec",
                "-m",
                "openstack",
                "--unit",
                "vault/0",
                "--format=json",
                "--"
            ]
        );
    }
}
