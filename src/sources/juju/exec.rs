//! `juju exec --format=json --unit <unit> -- <command>`: one command run on one unit.
//!
//! Shape (juju/juju cmd/juju/action/exec.go and run.go `formatActionResult`; the same
//! document jubilant's `Juju.exec` parses): a map keyed by the unit name to
//! `{"id", "status", "results": {"return-code", "stdout"?, "stderr"?}, "timing"?,
//! "unit", "message"?}`; empty `stdout`/`stderr` are dropped. A command that exits
//! non-zero still leaves the task `completed` with its `return-code`, and juju then
//! exits 1 with "the following task failed" on stderr: stdout holds the JSON all the
//! same. No unit matched: nothing on stdout. `--wait` makes juju give up (and say so)
//! before the runner's own timeout kills it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::check_juju;
use crate::runner::{CommandOutput, Invocation, display_argv};
use crate::sources::keys::{Doc, KeyPath};
use crate::sources::{SourceError, excerpt, parse_json};

/// Every key path a gate reads from the `juju exec --format=json` envelope.
pub static EXEC_KEYS: &[&KeyPath] = &[
    // Omitempty: what the remote command said on stderr, classified when it failed.
    &KeyPath::optional(
        Doc::JujuExec,
        "<unit>.results.stderr",
        &[
            "P02-INIT",
            "P02-SEALED",
            "P02-UNSEALED",
            "P05-AMPHORA",
            "P05-POST",
        ],
    ),
    &KeyPath::required(Doc::JujuExec, "<unit>.status", &["P05-AMPHORA", "P05-POST"]),
    &KeyPath::required(
        Doc::JujuExec,
        "<unit>.results.return-code",
        &[
            "P02-INIT",
            "P02-SEALED",
            "P02-UNSEALED",
            "P05-AMPHORA",
            "P05-POST",
        ],
    ),
    &KeyPath::required(
        Doc::JujuExec,
        "<unit>.results.stdout",
        &[
            "P02-INIT",
            "P02-SEALED",
            "P02-UNSEALED",
            "P05-AMPHORA",
            "P05-POST",
        ],
    ),
    &KeyPath::required(Doc::JujuExec, "<unit>.id", &["P05-AMPHORA", "P05-POST"]),
    &KeyPath::required(
        Doc::JujuExec,
        "<unit>.results",
        &["P02-INIT", "P02-SEALED", "P02-UNSEALED"],
    ),
];

/// How long juju waits for the task before reporting a timeout itself.
pub const EXEC_WAIT: &str = "--wait=60s";

/// `juju exec -m <model> --format=json --wait=60s --unit <unit> -- <command...>`
pub fn exec_invocation(model: &str, unit: &str, command: &[&str]) -> Invocation {
    Invocation::new(
        [
            "juju",
            "exec",
            "-m",
            model,
            "--format=json",
            EXEC_WAIT,
            "--unit",
            unit,
            "--",
        ]
        .into_iter()
        .chain(command.iter().copied()),
    )
}

/// One task of `juju exec --format=json`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ExecTask {
    pub id: String,
    /// `completed`, `failed`, `error`, `aborted`, `cancelled`, `pending`, `running`.
    pub status: String,
    pub results: Option<ExecResults>,
    pub message: Option<String>,
    pub unit: Option<String>,
}

/// What the command printed and returned.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ExecResults {
    #[serde(rename = "return-code")]
    pub return_code: Option<i64>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// The unit's task from `juju exec --format=json`, when it completed. A command that
/// exited non-zero is still a completed task: the caller reads its return-code.
pub fn parse_exec(output: &CommandOutput, unit: &str) -> Result<ExecTask, SourceError> {
    let argv = display_argv(&output.argv);
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        // Login expiry, timeout and "failed to schedule" all leave stdout empty.
        check_juju(output)?;
        return Err(SourceError::Parse {
            argv,
            path: "(top level)".into(),
            message: format!(
                "juju printed no task for {unit} (no such unit?): {}",
                excerpt(&output.stderr_text())
            ),
        });
    }
    let mut tasks: BTreeMap<String, ExecTask> = parse_json(output)?;
    let task = tasks.remove(unit).ok_or_else(|| SourceError::Parse {
        argv: argv.clone(),
        path: unit.to_string(),
        message: format!(
            "no task for {unit}; tasks for: {}",
            tasks.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    })?;
    if task.status != "completed" {
        return Err(SourceError::Exit {
            argv,
            code: format!("1 (task {} {} on {unit})", task.id, task.status),
            reason: task_reason(task.message.as_deref(), output),
        });
    }
    let code = task
        .results
        .as_ref()
        .and_then(|r| r.return_code)
        .ok_or_else(|| SourceError::Parse {
            argv: argv.clone(),
            path: format!("{unit}.results.return-code"),
            message: "missing key".into(),
        })?;
    check_exec_exit(output, code)?;
    Ok(task)
}

/// juju exits 0 exactly when the task's command returned 0, and 1 otherwise
/// (exec.go: "the following task failed"). Any other pairing means the document and
/// the process disagree: neither can be trusted for a verdict.
pub fn check_exec_exit(output: &CommandOutput, return_code: i64) -> Result<(), SourceError> {
    let agrees = match output.exit_code {
        Some(0) => return_code == 0,
        Some(1) => return_code != 0,
        _ => false,
    };
    if agrees {
        return Ok(());
    }
    Err(SourceError::damaged(
        output,
        crate::sources::integrity::Damage::new(
            "exit status",
            format!(
                "juju exited {} but the task returned {return_code}: juju exits 0 exactly when the task returns 0",
                output
                    .exit_code
                    .map_or_else(|| "by signal".to_string(), |c| c.to_string())
            ),
        ),
    ))
}

/// Why a task did not complete: juju's task message is the remote side's words, so it
/// is classified like stderr, never quoted.
pub fn task_reason(message: Option<&str>, output: &CommandOutput) -> String {
    match message {
        Some(m) if !m.trim().is_empty() => format!(
            "task message: {}",
            crate::sources::integrity::stderr_reason(m.as_bytes())
        ),
        _ => excerpt(&output.stderr_text()),
    }
}
