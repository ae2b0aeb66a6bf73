//! Vault / OpenBao source: `vault status -format=json` (or OpenBao's `bao`, same API).
//!
//! Checked against hashicorp/vault `api/sys_seal.go` (SealStatusResponse) and
//! `command/format.go` (SealStatusOutput, OutputSealStatus), and against the real
//! OpenBao 2.7.2 `bao status -format=json` (fresh, initialized, unsealed, down):
//! - the body is SealStatusResponse (`type`, `initialized`, `sealed`, `t`, `n`,
//!   `progress`, `nonce`, `version`, `build_date`, `migration`, `recovery_seal`, and
//!   the omitempty `cluster_name` / `cluster_id` (only once unsealed), `storage_type`,
//!   `recovery_seal_type`, ...) plus the CLI's `ha_enabled` (no omitempty) and the
//!   omitempty leader fields. OpenBao adds `commit_date`. Vault releases whose JSON
//!   path printed SealStatusResponse alone have no `ha_enabled`: that is a missing key
//!   (PRECONDITION, R2), never "HA false".
//! - exit 0 unsealed, 2 sealed (the JSON is printed: a sealed vault is a valid read),
//!   1 error (`Error checking seal status: ...` on stderr, nothing on stdout). Vault
//!   0.x used 1 for sealed and 2 for errors: an exit that disagrees with `sealed` is
//!   refused rather than guessed at.
//!
//! The charm's vault (charm-vault `templates/vault.hcl.j2`) listens on `[::]:8200`
//! with `tls_disable = 1` unless ssl-cert is set, and on `127.0.0.1:8220` for the
//! charm itself; the CLI's own default address is `https://127.0.0.1:8200`, so the
//! address always comes from the profile, as `-address=`.

use serde::Deserialize;

use super::keys::{Doc, KeyPath};
use super::unit_exec::ExecHost;
use super::{MissingKey, SourceError};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// Every key a phase-02 gate reads from `vault status -format=json`: the accessors
/// below raise from these.
pub static KEYS: &[&KeyPath] = &[
    &INITIALIZED,
    &SEALED,
    &STORAGE_TYPE,
    &HA_ENABLED,
    // Context the status evidence shows (`shamir 3 of 5`, the server version).
    &KeyPath::optional(Doc::VaultStatus, "type", GATES),
    &KeyPath::optional(Doc::VaultStatus, "t", GATES),
    &KeyPath::optional(Doc::VaultStatus, "n", GATES),
    &KeyPath::optional(Doc::VaultStatus, "version", GATES),
];
const GATES: &[&str] = &["P02-SEALED", "P02-UNSEALED"];
pub static INITIALIZED: KeyPath = KeyPath::required(
    Doc::VaultStatus,
    "initialized",
    &["P02-SEALED", "P02-UNSEALED"],
);
pub static SEALED: KeyPath =
    KeyPath::required(Doc::VaultStatus, "sealed", &["P02-SEALED", "P02-UNSEALED"]);
/// omitempty in the seal-status struct the CLI re-encodes: a server that does not report
/// it leaves it out, and the gate names it missing.
pub static STORAGE_TYPE: KeyPath = KeyPath::required(
    Doc::VaultStatus,
    "storage_type",
    &["P02-SEALED", "P02-UNSEALED"],
);
/// The CLI always prints it (command/format.go, no omitempty); the API body does not.
pub static HA_ENABLED: KeyPath = KeyPath::required(
    Doc::VaultStatus,
    "ha_enabled",
    &["P02-SEALED", "P02-UNSEALED"],
);

/// `<cli> status -format=json -address=<address>`: the command on the vault host.
pub fn status_argv(cli: &str, address: &str) -> Vec<String> {
    vec![
        cli.to_string(),
        "status".to_string(),
        "-format=json".to_string(),
        format!("-address={address}"),
    ]
}

/// The status read on its host (through `juju exec` on a unit).
pub fn status_invocation(host: &ExecHost, cli: &str, address: &str) -> Invocation {
    host.invocation(&status_argv(cli, address))
}

/// What `vault status -format=json` printed. Keys a gate reads are options so that a
/// missing one names itself (R2); the rest are context for evidence.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SealStatus {
    #[serde(rename = "type")]
    pub seal_type: Option<String>,
    initialized: Option<bool>,
    sealed: Option<bool>,
    pub t: Option<u32>,
    pub n: Option<u32>,
    pub progress: Option<u32>,
    pub version: Option<String>,
    pub cluster_name: Option<String>,
    storage_type: Option<String>,
    ha_enabled: Option<bool>,
}

impl SealStatus {
    pub fn initialized(&self) -> Result<bool, MissingKey> {
        self.initialized.ok_or_else(|| INITIALIZED.missing())
    }

    pub fn sealed(&self) -> Result<bool, MissingKey> {
        self.sealed.ok_or_else(|| SEALED.missing())
    }

    pub fn storage_type(&self) -> Result<&str, MissingKey> {
        self.storage_type
            .as_deref()
            .ok_or_else(|| STORAGE_TYPE.missing())
    }

    pub fn ha_enabled(&self) -> Result<bool, MissingKey> {
        self.ha_enabled.ok_or_else(|| HA_ENABLED.missing())
    }
}

/// Parses the status read as it came back from its host.
pub fn parse_status(host: &ExecHost, output: &CommandOutput) -> Result<SealStatus, SourceError> {
    let inner = host.unwrap(output)?;
    // On a unit the document is juju's `results.stdout` (omitted when empty): key
    // paths say so.
    let prefix = match host {
        ExecHost::Local => String::new(),
        ExecHost::Unit { unit, .. } => format!("{unit}.results.stdout"),
    };
    parse_inner(&inner, &prefix)
}

fn parse_inner(output: &CommandOutput, prefix: &str) -> Result<SealStatus, SourceError> {
    let printed_json = !output.stdout.iter().all(u8::is_ascii_whitespace);
    let expect_sealed = match output.exit_code {
        Some(0) => false,
        Some(2) if printed_json => true,
        Some(2) => {
            return Err(SourceError::Parse {
                argv: display_argv(&output.argv),
                path: if prefix.is_empty() {
                    "(top level)".to_string()
                } else {
                    prefix.to_string()
                },
                message: "exit 2 (sealed) without the JSON document".into(),
            });
        }
        _ => return Err(SourceError::exit(output)),
    };
    let status: SealStatus =
        super::parse_json_bytes(&output.stdout, &display_argv(&output.argv), prefix)?;
    if status.sealed.is_some_and(|sealed| sealed != expect_sealed) {
        return Err(SourceError::Parse {
            argv: display_argv(&output.argv),
            path: "sealed".into(),
            message: format!(
                "exit {} says {}, the document says sealed={}",
                output.exit_code.unwrap_or(-1),
                if expect_sealed { "sealed" } else { "unsealed" },
                !expect_sealed
            ),
        });
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// `bao status -format=json` of a fresh OpenBao 2.7.2 on inmem storage, byte for
    /// byte (exit 2).
    const FRESH: &str = "{\n  \"type\": \"shamir\",\n  \"initialized\": false,\n  \"sealed\": true,\n  \"t\": 0,\n  \"n\": 0,\n  \"progress\": 0,\n  \"nonce\": \"\",\n  \"version\": \"2.7.2\",\n  \"commit_date\": \"2026-10-26T20:32:27Z\",\n  \"migration\": false,\n  \"recovery_seal\": false,\n  \"storage_type\": \"inmem\",\n  \"build_date\": \"\",\n  \"ha_enabled\": false\n}\n";

    fn local(exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        CommandOutput {
            argv: status_argv("bao", "http://127.0.0.1:8200"),
            exit_code: Some(exit),
            stdout: stdout.as_bytes().to_vec().into(),
            stderr: stderr.as_bytes().to_vec(),
            duration: Duration::ZERO,
        }
    }

    fn parse(out: &CommandOutput) -> Result<SealStatus, SourceError> {
        parse_status(&ExecHost::Local, out)
    }

    #[test]
    fn exit_2_with_json_is_a_sealed_read_not_a_failure() {
        let s = parse(&local(2, FRESH, "")).unwrap();
        assert_eq!((s.initialized(), s.sealed()), (Ok(false), Ok(true)));
        assert_eq!(s.storage_type(), Ok("inmem"));
        assert_eq!(s.ha_enabled(), Ok(false));
    }

    #[test]
    fn exit_1_is_an_error_carrying_stderr() {
        let err = parse(&local(
            1,
            "",
            "Error checking seal status: Get \"http://127.0.0.1:8200/v1/sys/seal-status\": dial tcp 127.0.0.1:8200: connect: connection refused\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("exited 1: connection failed") && !err.contains("127.0.0.1:8200/v1"),
            "{err}"
        );
    }

    #[test]
    fn exit_2_without_json_is_an_error() {
        // Vault 0.x exited 2 on errors.
        assert!(parse(&local(2, "", "Error checking seal status\n")).is_err());
    }

    #[test]
    fn an_exit_code_that_contradicts_the_document_is_refused() {
        let err = parse(&local(0, FRESH, "")).unwrap_err().to_string();
        assert!(err.contains("sealed"), "{err}");
    }

    #[test]
    fn a_missing_key_names_itself() {
        let without_ha = FRESH.replace(",\n  \"ha_enabled\": false", "");
        let s = parse(&local(2, &without_ha, "")).unwrap();
        assert_eq!(s.ha_enabled(), Err(HA_ENABLED.missing()));
    }
}
