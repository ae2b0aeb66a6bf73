//! Phase 02 vault gates, seed 004 Steps 2.1a-2.3: P02-SEALED (verify before the
//! irreversible init), P02-INIT (the capture of the init output), P02-UNSEALED and the
//! read-only half of P02-AUTHORIZED.
//!
//! Moments: P02-SEALED runs with the pre-flight (the phase's first moment, no tag);
//! P02-INIT at `moment-init` (after 2.1b), P02-UNSEALED at `moment-unseal` (after
//! 2.2) and again at `moment-authorize` (after 2.3), with P02-AUTHORIZED. An operator
//! runs `stackgate gate --phase 02 --moment unseal --live` after the unseal.

use super::phase02::status_read;
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition, status_text};
use crate::profile::{Profile, RunOn, VaultServer};
use crate::snapshot::{Read, Snapshot};
use crate::sources::MissingKey;
use crate::sources::juju::StatusRead;
use crate::sources::secret_files::{FileLabels, LabelKind, PathStat};
use crate::sources::unit_exec::ExecHost;
use crate::sources::vault::SealStatus;

pub(super) static GATES: [GateSpec; 4] = [
    GateSpec {
        id: "P02-SEALED",
        phase: "02",
        tags: &["read-only"],
        description: "vault status: initialized false, sealed true, storage mysql, HA false (correct for vault-on-mysql): safe to init; anything else is HOLD",
        reads: status_reads,
        follow_up: None,
        evaluate: gate_sealed,
        from_parts: None,
    },
    GateSpec {
        id: "P02-INIT",
        phase: "02",
        tags: &["read-only", "moment-init"],
        description: "the init capture: five unseal key shares and a root token in an owner-only (0600) file in an owner-only (0700) directory; read by label and mode, never by value",
        reads: init_reads,
        follow_up: None,
        evaluate: gate_init,
        from_parts: None,
    },
    GateSpec {
        id: "P02-UNSEALED",
        phase: "02",
        tags: &["read-only", "moment-unseal", "moment-authorize"],
        description: "vault status: initialized true, sealed false, storage mysql, HA false",
        reads: status_reads,
        follow_up: None,
        evaluate: gate_unsealed,
        from_parts: None,
    },
    GateSpec {
        id: "P02-AUTHORIZED",
        phase: "02",
        tags: &["read-only", "moment-authorize"],
        description: "read-only half: vault active \"Unit is ready\" (authorized, root CA generated) and every certificate consumer active with its unit count, each unit named",
        reads: status_read,
        follow_up: None,
        evaluate: gate_authorized,
        from_parts: None,
    },
];

/// The host the vault CLI and the init capture are on.
pub fn vault_host(profile: &Profile, server: &VaultServer) -> ExecHost {
    match server.run_on {
        RunOn::Local => ExecHost::Local,
        RunOn::Unit => ExecHost::Unit {
            model: profile.model.clone(),
            unit: profile.vault.unit.clone(),
        },
    }
}

fn status_reads(profile: &Profile) -> Vec<Read> {
    let Some(server) = &profile.vault.server else {
        return Vec::new();
    };
    vec![Read::VaultStatus {
        host: vault_host(profile, server),
        cli: server.cli.clone(),
        address: server.address.clone(),
    }]
}

fn init_reads(profile: &Profile) -> Vec<Read> {
    let Some(server) = &profile.vault.server else {
        return Vec::new();
    };
    let host = vault_host(profile, server);
    vec![
        Read::PathStat {
            host: host.clone(),
            path: server.init_dir.clone(),
        },
        Read::PathStat {
            host: host.clone(),
            path: server.init_file.clone(),
        },
        Read::FileLabels {
            host,
            kind: LabelKind::InitCapture,
            path: server.init_file.clone(),
        },
    ]
}

/// PRECONDITION: the profile does not say where vault runs.
fn no_server(gate: &GateSpec) -> Verdict {
    Verdict::new(
        gate,
        Status::Precondition,
        "the site profile has no [phase02.vault.server]: where vault runs and what its status must say",
    )
    .with_evidence(vec![
        Evidence::new(Mark::Missing, "profile", "phase02.vault.server", "absent")
            .expected("cli, address, run_on, storage_type, ha_enabled, init_dir, init_file, key_shares"),
    ])
}

/// PRECONDITION for keys `vault status` did not print (R2).
fn missing_status_keys(
    gate: &GateSpec,
    subject: &str,
    missing: &[MissingKey],
    mut evidence: Vec<Evidence>,
) -> Verdict {
    let keys: Vec<&str> = missing.iter().map(|m| m.path.as_str()).collect();
    evidence.extend(missing.iter().map(|m| {
        Evidence::new(
            Mark::Missing,
            format!("{subject}: {}", m.path),
            "key",
            "absent from the CLI output",
        )
        .expected(format!("present (declared `{}`; R2: never assumed)", m.key))
    }));
    Verdict::new(
        gate,
        Status::Precondition,
        format!(
            "vault status lacks key(s) the gate reads: {}",
            keys.join(", ")
        ),
    )
    .with_evidence(evidence)
}

/// One `vault status` key compared with what the moment needs.
fn status_line<T: ToString + PartialEq>(
    subject: &str,
    key: &str,
    actual: Result<T, MissingKey>,
    expected: T,
    missing: &mut Vec<MissingKey>,
    all_ok: &mut bool,
) -> Option<Evidence> {
    match actual {
        Ok(value) => {
            let ok = value == expected;
            *all_ok &= ok;
            Some(
                Evidence::new(
                    if ok { Mark::Ok } else { Mark::Bad },
                    subject,
                    key,
                    value.to_string(),
                )
                .expected(expected.to_string()),
            )
        }
        Err(key) => {
            missing.push(key);
            *all_ok = false;
            None
        }
    }
}

/// The four keys both status gates read, against (initialized, sealed) for the moment.
struct StatusCheck {
    subject: String,
    evidence: Vec<Evidence>,
    missing: Vec<MissingKey>,
    ok: bool,
}

fn check_status(
    status: &SealStatus,
    host: &ExecHost,
    server: &VaultServer,
    initialized: bool,
    sealed: bool,
) -> StatusCheck {
    let subject = format!("vault status on {}", host.label());
    let (mut missing, mut ok) = (Vec::new(), true);
    let mut evidence: Vec<Evidence> = [
        status_line(
            &subject,
            "initialized",
            status.initialized(),
            initialized,
            &mut missing,
            &mut ok,
        ),
        status_line(
            &subject,
            "sealed",
            status.sealed(),
            sealed,
            &mut missing,
            &mut ok,
        ),
        status_line(
            &subject,
            "storage_type",
            status.storage_type().map(str::to_string),
            server.storage_type.clone(),
            &mut missing,
            &mut ok,
        ),
        status_line(
            &subject,
            "ha_enabled",
            status.ha_enabled(),
            server.ha_enabled,
            &mut missing,
            &mut ok,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    evidence.push(Evidence::new(
        Mark::Info,
        subject.clone(),
        "server",
        format!(
            "`{}` reports version {}, seal {}, shares {} threshold {}",
            server.cli,
            status.version.as_deref().unwrap_or("(not shown)"),
            status.seal_type.as_deref().unwrap_or("(type not shown)"),
            status.n.map_or("-".into(), |n| n.to_string()),
            status.t.map_or("-".into(), |t| t.to_string()),
        ),
    ));
    StatusCheck {
        subject,
        evidence,
        missing,
        ok,
    }
}

/// A short state for summaries: `initialized=true sealed=true storage_type=mysql ha_enabled=false`.
fn state_text(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .filter(|e| e.mark != Mark::Info)
        .map(|e| format!("{}={}", e.property, e.actual))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads `vault status` and checks it against (initialized, sealed) for the moment, or
/// returns the PRECONDITION verdict (no profile section, unreadable, keys missing).
fn read_status_check(
    gate: &GateSpec,
    snapshot: &Snapshot,
    profile: &Profile,
    initialized: bool,
    sealed: bool,
) -> Result<StatusCheck, Box<Verdict>> {
    let Some(server) = &profile.vault.server else {
        return Err(Box::new(no_server(gate)));
    };
    let host = vault_host(profile, server);
    let status = snapshot
        .vault_status(&host, &server.cli, &server.address)
        .map_err(|err| Box::new(Verdict::unreadable(gate, &err)))?;
    let check = check_status(status, &host, server, initialized, sealed);
    if check.missing.is_empty() {
        Ok(check)
    } else {
        Err(Box::new(missing_status_keys(
            gate,
            &check.subject,
            &check.missing,
            check.evidence,
        )))
    }
}

fn gate_sealed(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let check = match read_status_check(gate, snapshot, profile, false, true) {
        Ok(check) => check,
        Err(verdict) => return *verdict,
    };
    let state = state_text(&check.evidence);
    if check.ok {
        Verdict::new(gate, Status::Proceed, format!("{state}: safe to init"))
    } else {
        // Initialized (it may already hold keys), unsealed, or on a backend the
        // profile does not expect: a second `vault operator init` must not run.
        Verdict::new(
            gate,
            Status::Hold,
            format!("{state}: not a fresh, sealed vault; refusing init"),
        )
    }
    .with_evidence(check.evidence)
}

fn gate_unsealed(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let check = match read_status_check(gate, snapshot, profile, true, false) {
        Ok(check) => check,
        Err(verdict) => return *verdict,
    };
    let state = state_text(&check.evidence);
    let status = if check.ok { Status::Pass } else { Status::Fail };
    Verdict::new(gate, status, state).with_evidence(check.evidence)
}

/// A capture path's mode: it must exist, be of the right type, and give group and
/// others nothing (0600 / 0700, or stricter as long as the owner can still read it).
fn mode_line(subject: String, stat: &PathStat, want_dir: bool) -> (Evidence, bool) {
    let (kind_ok, want) = if want_dir {
        (
            stat.is_dir(),
            "directory 0700 or stricter (no group or other access)",
        )
    } else {
        (
            stat.is_regular_file(),
            "regular file 0600 or stricter (no group or other access)",
        )
    };
    // The owner must still be able to read it (and enter the directory).
    let owner_bits = if want_dir { 0o500 } else { 0o400 };
    let ok = kind_ok
        && stat
            .permissions()
            .is_some_and(|p| p & 0o077 == 0 && p & owner_bits == owner_bits);
    (
        Evidence::new(
            if ok { Mark::Ok } else { Mark::Bad },
            subject,
            "mode",
            stat.describe(),
        )
        .expected(want),
        ok,
    )
}

fn gate_init(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let Some(server) = &profile.vault.server else {
        return no_server(gate);
    };
    let host = vault_host(profile, server);
    let dir = read_or_precondition!(gate, snapshot.path_stat(&host, &server.init_dir));
    let file = read_or_precondition!(gate, snapshot.path_stat(&host, &server.init_file));
    let labels = read_or_precondition!(
        gate,
        snapshot.file_labels(&host, LabelKind::InitCapture, &server.init_file)
    );
    let on = host.label();
    let (dir_line, dir_ok) = mode_line(format!("{} on {on}", server.init_dir), dir, true);
    let (file_line, file_ok) = mode_line(format!("{} on {on}", server.init_file), file, false);
    let mut evidence = vec![dir_line, file_line];
    let capture = format!("capture {}", server.init_file);
    let mut shape_ok = true;
    let mut shares_found = 0u64;
    match labels {
        FileLabels::Absent { message } => {
            shape_ok = false;
            evidence.push(
                Evidence::new(
                    Mark::Bad,
                    capture.clone(),
                    "content",
                    format!("absent ({message})"),
                )
                .expected(format!(
                    "{} unseal key shares and the initial root token",
                    server.key_shares
                )),
            );
        }
        FileLabels::Present(found) => {
            let count = |label: &str| found.iter().filter(|l| *l == label).count();
            // Identity over counts (R4): each share by its number.
            for n in 1..=server.key_shares {
                let label = format!("Unseal Key {n}");
                let seen = count(&label);
                shares_found += u64::from(seen == 1);
                shape_ok &= seen == 1;
                evidence.push(
                    Evidence::new(
                        if seen == 1 { Mark::Ok } else { Mark::Bad },
                        capture.clone(),
                        label,
                        match seen {
                            0 => "absent".to_string(),
                            1 => "present".to_string(),
                            k => format!("{k} lines"),
                        },
                    )
                    .expected("present once"),
                );
            }
            let mut extra: Vec<&str> = found
                .iter()
                .filter(|l| l.starts_with("Unseal Key "))
                .filter(|l| {
                    l["Unseal Key ".len()..]
                        .parse::<u32>()
                        .map_or(true, |n| n == 0 || n > server.key_shares)
                })
                .map(String::as_str)
                .collect();
            extra.sort_unstable();
            extra.dedup();
            if !extra.is_empty() {
                shape_ok = false;
                evidence.push(
                    Evidence::new(
                        Mark::Bad,
                        capture.clone(),
                        "shares beyond key_shares",
                        extra.join(", "),
                    )
                    .expected(format!("Unseal Key 1..{}", server.key_shares)),
                );
            }
            let roots = count("Initial Root Token");
            shape_ok &= roots == 1;
            evidence.push(
                Evidence::new(
                    if roots == 1 { Mark::Ok } else { Mark::Bad },
                    capture.clone(),
                    "Initial Root Token",
                    match roots {
                        0 => "absent".to_string(),
                        1 => "present".to_string(),
                        k => format!("{k} lines"),
                    },
                )
                .expected("present once"),
            );
        }
    }
    evidence.push(Evidence::new(
        Mark::Info,
        capture,
        "read",
        "labels and modes only: no share or token value entered stackgate (R6)",
    ));
    let ok = dir_ok && file_ok && shape_ok;
    let summary = format!(
        "{}/{} unseal key shares, root token {}, directory {}, file {}",
        shares_found,
        server.key_shares,
        if matches!(labels, FileLabels::Present(l) if l.iter().filter(|l| *l == "Initial Root Token").count() == 1)
        {
            "present"
        } else {
            "not captured once"
        },
        if dir_ok {
            "owner-only"
        } else {
            "NOT owner-only"
        },
        if file_ok {
            "owner-only"
        } else {
            "NOT owner-only"
        },
    );
    Verdict::new(gate, if ok { Status::Pass } else { Status::Fail }, summary)
        .with_evidence(evidence)
        .metric("unseal_key_shares", shares_found)
}

fn gate_authorized(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let Some(want) = &profile.vault.authorized else {
        return Verdict::new(
            gate,
            Status::Precondition,
            "the site profile has no [phase02.vault.authorized]: what an authorized vault and its certificate consumers look like",
        );
    };
    let status = read_or_precondition!(gate, snapshot.juju_status(&profile.model));
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    let vault_unit = &profile.vault.unit;
    let vault_ok = match status.unit(vault_unit) {
        None => {
            evidence.push(
                Evidence::new(
                    Mark::Bad,
                    format!("unit {vault_unit}"),
                    "presence",
                    "absent",
                )
                .expected("present"),
            );
            false
        }
        Some(unit) => match unit.workload() {
            Err(key) => {
                missing.push(key);
                false
            }
            Ok(w) => {
                let ok = matches!(w, StatusRead::Status { current, message }
                    if current == want.ready_status && vault_ready(message, &want.ready_message));
                evidence.push(
                    Evidence::new(
                        if ok { Mark::Ok } else { Mark::Bad },
                        format!("unit {vault_unit}"),
                        "workload-status",
                        status_text(w.current(), w.message()),
                    )
                    .expected(format!(
                        "{} \"{} (active: true, mlock: disabled|enabled)\"",
                        want.ready_status, want.ready_message
                    )),
                );
                ok
            }
        },
    };
    let (mut consumer_units, mut consumers_active, mut counts_ok) = (0u64, 0u64, true);
    let mut not_active = Vec::new();
    let mut erring = Vec::new();
    for consumer in &want.cert_consumers {
        let units = status.units_of(&consumer.application);
        let count_ok = units.len() == consumer.units;
        counts_ok &= count_ok;
        evidence.push(
            Evidence::new(
                if count_ok { Mark::Ok } else { Mark::Bad },
                format!("application {}", consumer.application),
                "units",
                if units.is_empty() {
                    "0 (absent from the model)".to_string()
                } else {
                    format!(
                        "{} ({})",
                        units.len(),
                        units.iter().map(|u| u.name).collect::<Vec<_>>().join(", ")
                    )
                },
            )
            .expected(consumer.units.to_string()),
        );
        for unit in units {
            consumer_units += 1;
            let workload = match unit.workload() {
                Ok(w) => w,
                Err(key) => {
                    missing.push(key);
                    continue;
                }
            };
            let active = workload.current() == "active";
            if workload.current() == "error" {
                erring.push(unit.name.to_string());
            }
            if active {
                consumers_active += 1;
            } else {
                not_active.push(unit.name.to_string());
            }
            evidence.push(
                Evidence::new(
                    if active { Mark::Ok } else { Mark::Bad },
                    format!("unit {}", unit.name),
                    "workload-status",
                    status_text(workload.current(), workload.message()),
                )
                .expected("active"),
            );
        }
    }
    evidence.push(Evidence::new(
        Mark::Info,
        format!("unit {vault_unit}"),
        "read-only half",
        "charm-vault reports \"Vault charm not yet authorized\" and \"Missing CA cert\" before \"Unit is ready\"; the short-lived child token is the vault-authorize action's to prove",
    ));
    if !missing.is_empty() {
        return Verdict::missing_keys(gate, &missing, evidence);
    }
    let mut summary = format!(
        "{vault_unit} {}; {consumers_active}/{consumer_units} certificate consumer units active",
        if vault_ok { "ready" } else { "NOT ready" }
    );
    if !not_active.is_empty() {
        summary.push_str(&format!(", not active: {}", not_active.join(", ")));
    }
    if !counts_ok {
        summary.push_str(", unit counts differ from the profile");
    }
    let ok = vault_ok && counts_ok && not_active.is_empty();
    super::units_in_error(
        Verdict::new(gate, if ok { Status::Pass } else { Status::Fail }, summary),
        &erring,
    )
    .with_evidence(evidence)
    .metric("consumer_units", consumer_units)
    .metric("consumer_units_active", consumers_active)
}

/// Whether vault's ready message is whole: charm-vault sets `'Unit is ready '
/// '(active: {}, mlock: {})'` with `str(not health['standby']).lower()` and
/// `'disabled' if mlock_disabled else 'enabled'` (openstack/charm-vault
/// src/reactive/vault_handlers.py `_assess_status`). The active node says
/// `active: true`; a standby, or any other text after "Unit is ready", is not ready.
fn vault_ready(message: &str, head: &str) -> bool {
    message
        .strip_prefix(head)
        .and_then(|rest| rest.strip_prefix(" (active: true, mlock: "))
        .is_some_and(|rest| rest == "disabled)" || rest == "enabled)")
}

#[cfg(test)]
mod tests {
    use super::vault_ready;

    #[test]
    fn vault_is_ready_only_on_charm_vaults_whole_active_message() {
        // The strings openstack/charm-vault `_assess_status` formats.
        for ready in [
            "Unit is ready (active: true, mlock: disabled)",
            "Unit is ready (active: true, mlock: enabled)",
        ] {
            assert!(vault_ready(ready, "Unit is ready"), "{ready}");
        }
        for not_ready in [
            "Unit is ready (active: false, mlock: disabled)",
            "Unit is ready",
            "Unit is ready (active: true, mlock: disabled), Missing CA cert",
            "Vault needs to be initialized",
        ] {
            assert!(!vault_ready(not_ready, "Unit is ready"), "{not_ready}");
        }
    }
}
