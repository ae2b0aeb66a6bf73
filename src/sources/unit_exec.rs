//! Where a read runs: on this machine, or on a juju unit through `juju exec`. The vault
//! CLI and the init capture live on the vault unit (seed 004 Step 2.1: the operator runs
//! `vault status` and `vault operator init` in a `juju ssh` session on vault/0), so live
//! reads wrap the same argv a test runs directly against a loopback server.
//!
//! `juju exec -m M --unit U --format=json -- ARGV...` (juju 3.x
//! `cmd/juju/action/exec.go`): juju joins ARGV with `utils.CommandString`, which
//! double-quotes a word only when it holds whitespace, `"`, `$` or `\`, and runs the
//! string in a shell on the unit as root, in the unit's hook context. The JSON document
//! (`cmd/juju/action/common.go` `formatActionResult`, written by `cmd.FormatJson`:
//! compact, keys sorted) is keyed by unit:
//! `{"vault/0":{"id":"42","results":{"return-code":2,"stdout":"..."},"status":"completed","timing":{...},"unit":"vault/0"}}`.
//! `stdout` and `stderr` are omitted when empty. A non-zero return code does not change
//! the document, but juju itself then exits 1 with `ERROR the following task failed:`
//! on stderr: the remote exit code is read from `results.return-code`, never from
//! juju's own exit status.

use serde::Deserialize;

use super::integrity::check_text;
use super::{SourceError, excerpt, juju};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// The host a read runs on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExecHost {
    /// This machine: tests against a real server on loopback, or a jumphost that
    /// reaches the address itself.
    Local,
    /// A juju unit, through `juju exec` (live use).
    Unit { model: String, unit: String },
}

/// Characters a POSIX shell treats specially. `juju exec` leaves a word unquoted unless
/// it holds whitespace, `"`, `$` or `\`, so a word with one of these and none of those
/// would reach the unit's shell bare.
const SHELL_SPECIAL: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '`', '\'', '*', '?', '[', ']', '#', '~', '!', '{', '}',
];

impl ExecHost {
    /// The argv that runs `inner` on this host.
    ///
    /// Panics (a stackgate bug, caught by the unit tests of every read) when a word of
    /// `inner` would be re-parsed by the unit's shell: juju quotes only words holding
    /// whitespace, `"`, `$` or `\`.
    pub fn invocation(&self, inner: &[String]) -> Invocation {
        match self {
            ExecHost::Local => Invocation::new(inner.iter().cloned()),
            ExecHost::Unit { model, unit } => {
                for word in inner {
                    assert!(
                        juju_quotes(word) || !word.contains(SHELL_SPECIAL),
                        "`{word}` would reach the unit's shell unquoted through juju exec"
                    );
                }
                let head = [
                    "juju",
                    "exec",
                    "-m",
                    model.as_str(),
                    "--unit",
                    unit.as_str(),
                    "--format=json",
                    "--",
                ];
                Invocation::new(
                    head.into_iter()
                        .map(str::to_string)
                        .chain(inner.iter().cloned()),
                )
            }
        }
    }

    /// `sh -c SCRIPT` on this host with no stdin: through `juju exec` on a unit (the
    /// script is one word holding whitespace, so juju double-quotes it; it must hold no
    /// backquote, which stays special inside double quotes).
    pub fn shell(&self, script: &str) -> Vec<String> {
        assert!(
            !script.contains('`'),
            "a backquote would reach the unit's shell unquoted through juju exec"
        );
        self.invocation(&["sh".to_string(), "-c".to_string(), script.to_string()])
            .argv()
            .to_vec()
    }

    /// `sh -c SCRIPT` on this host, fed stdin (a key, a token). `juju exec` forwards no
    /// stdin (its command runs as a task of the unit agent), so on a unit this goes
    /// through `juju ssh -m M --pty=false U 'sh -c ...'`: juju 3.x cmd/juju/ssh
    /// `sshMachine.ssh` sets the OpenSSH client's Stdin, Stdout and Stderr to its own
    /// (ssh_machine.go), `--pty=false` keeps the remote side from allocating a terminal
    /// that would echo what is fed (ssh.go: a pty is otherwise allocated when stdin is a
    /// terminal), and the words after the unit go to the remote login shell joined by
    /// spaces, so the script travels as one single-quoted word. The remote exit status
    /// is ssh's, and the remote stdout is the command's own (no JSON wrapper).
    pub fn shell_with_stdin(&self, script: &str) -> Vec<String> {
        match self {
            ExecHost::Local => vec!["sh".to_string(), "-c".to_string(), script.to_string()],
            ExecHost::Unit { model, unit } => vec![
                "juju".to_string(),
                "ssh".to_string(),
                "-m".to_string(),
                model.clone(),
                "--pty=false".to_string(),
                unit.clone(),
                format!("sh -c {}", shell_word(script)),
            ],
        }
    }

    /// What the wrapped command printed on this host: the output itself when local, the
    /// task result unwrapped from juju's JSON when on a unit (named by the argv that ran).
    pub fn unwrap(&self, output: &CommandOutput) -> Result<CommandOutput, SourceError> {
        match self {
            ExecHost::Local => Ok(output.clone()),
            ExecHost::Unit { unit, .. } => unwrap_task(unit, output),
        }
    }

    /// For evidence lines: `vault/0` or `this machine`.
    pub fn label(&self) -> String {
        match self {
            ExecHost::Local => "this machine".to_string(),
            ExecHost::Unit { unit, .. } => unit.clone(),
        }
    }
}

/// One word for a POSIX shell: as it is when it holds only characters no shell treats
/// specially, else single-quoted (a `'` inside becomes `'\''`).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Whether `utils.CommandString` double-quotes this word.
fn juju_quotes(word: &str) -> bool {
    word.chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '$' || c == '\\')
}

/// One task of `juju exec --format=json`.
#[derive(Debug, Deserialize)]
struct ExecTask {
    status: Option<String>,
    message: Option<String>,
    results: Option<ExecResults>,
}

#[derive(Debug, Deserialize)]
struct ExecResults {
    #[serde(rename = "return-code")]
    return_code: Option<i32>,
    stdout: Option<String>,
    stderr: Option<String>,
}

fn unwrap_task(unit: &str, output: &CommandOutput) -> Result<CommandOutput, SourceError> {
    let argv = display_argv(&output.argv);
    if output.stdout.iter().all(u8::is_ascii_whitespace) {
        // No task ran: juju could not log in, reach the model or find the unit.
        if !output.success() {
            let stderr = output.stderr_text();
            if juju::login_expired(&stderr) {
                return Err(SourceError::LoginExpired {
                    argv,
                    detail: excerpt(&stderr),
                });
            }
            return Err(SourceError::exit(output));
        }
        return Err(SourceError::Exit {
            argv,
            code: "0".into(),
            reason: format!("no task ran on {unit}: juju printed nothing"),
        });
    }
    let tasks: std::collections::BTreeMap<String, ExecTask> = super::parse_json(output)?;
    let missing = |path: String| SourceError::Parse {
        argv: argv.clone(),
        path,
        message: "missing key".into(),
    };
    let task = tasks.get(unit).ok_or_else(|| missing(unit.to_string()))?;
    let Some(results) = &task.results else {
        // A completed task always carries its results (formatActionResult).
        if task.status.as_deref() == Some("completed") {
            return Err(missing(format!("{unit}.results")));
        }
        // The task never ran its command (aborted, cancelled, an error in juju).
        let status = task.status.as_deref().unwrap_or("(no status)");
        return Err(SourceError::Exit {
            argv,
            code: format!("task {status}"),
            reason: juju::exec::task_reason(task.message.as_deref(), output),
        });
    };
    let code = results
        .return_code
        .ok_or_else(|| missing(format!("{unit}.results.return-code")))?;
    juju::exec::check_exec_exit(output, i64::from(code))?;
    let stdout = results.stdout.clone().unwrap_or_default();
    // What the remote command printed is checked as its own output would be.
    check_text(stdout.as_bytes()).map_err(|mut damage| {
        damage.at = format!("{unit}.results.stdout {}", damage.at);
        SourceError::damaged(output, damage)
    })?;
    Ok(CommandOutput {
        // Errors about what the remote command printed name the argv that ran.
        argv: output.argv.clone(),
        exit_code: Some(code),
        stdout: stdout.into_bytes().into(),
        stderr: results.stderr.clone().unwrap_or_default().into_bytes(),
        duration: output.duration,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn unit() -> ExecHost {
        ExecHost::Unit {
            model: "openstack".into(),
            unit: "vault/0".into(),
        }
    }

    fn inner() -> Vec<String> {
        ["stat", "-c", "%f %a %U", "/home/ubuntu/vault-init"]
            .map(String::from)
            .to_vec()
    }

    fn juju_output(exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        CommandOutput {
            argv: unit().invocation(&inner()).argv().to_vec(),
            exit_code: Some(exit),
            stdout: stdout.as_bytes().to_vec().into(),
            stderr: stderr.as_bytes().to_vec(),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn the_unit_argv_wraps_the_inner_argv_after_a_double_dash() {
        assert_eq!(
            unit().invocation(&inner()).display(),
            "juju exec -m openstack --unit vault/0 --format=json -- stat -c '%f %a %U' /home/ubuntu/vault-init"
        );
        assert_eq!(
            ExecHost::Local.invocation(&inner()).argv(),
            inner().as_slice()
        );
    }

    #[test]
    #[should_panic(expected = "unquoted")]
    fn a_word_the_unit_shell_would_reparse_is_refused() {
        let _ = unit().invocation(&["ls".to_string(), "a|b".to_string()]);
    }

    #[test]
    fn a_failed_task_keeps_its_return_code_and_streams() {
        // juju exits 1 when the remote command does; the document still holds the task.
        let out = juju_output(
            1,
            "{\"vault/0\":{\"id\":\"44\",\"results\":{\"return-code\":1,\"stderr\":\"stat: cannot statx '/x': No such file or directory\\n\"},\"status\":\"completed\",\"unit\":\"vault/0\"}}\n",
            "ERROR the following task failed:\n - id \"44\" with return code 1\n\nuse 'juju show-task' to inspect the failure\n",
        );
        let task = unit().unwrap(&out).unwrap();
        assert_eq!(task.exit_code, Some(1));
        assert!(task.stdout.is_empty());
        assert!(task.stderr_text().contains("No such file or directory"));
        assert_eq!(task.argv, out.argv);
    }

    #[test]
    fn an_expired_login_is_recognised_before_any_task() {
        let out = juju_output(
            1,
            "",
            "please enter password for jessea123 on juju-controller: \nERROR cannot log into controller \"juju-controller\": EOF\n",
        );
        assert!(matches!(
            unit().unwrap(&out),
            Err(SourceError::LoginExpired { .. })
        ));
    }

    #[test]
    fn a_document_without_the_return_code_names_the_key_path() {
        let out = juju_output(
            0,
            "{\"vault/0\":{\"id\":\"4\",\"results\":{\"stdout\":\"x\"},\"status\":\"completed\"}}\n",
            "",
        );
        let err = unit().unwrap(&out).unwrap_err().to_string();
        assert!(err.contains("vault/0.results.return-code"), "{err}");
    }

    #[test]
    fn an_aborted_task_is_an_error_with_its_status() {
        let out = juju_output(
            1,
            "{\"vault/0\":{\"id\":\"4\",\"message\":\"aborted by operator\",\"status\":\"aborted\",\"unit\":\"vault/0\"}}\n",
            "",
        );
        let err = unit().unwrap(&out).unwrap_err().to_string();
        assert!(
            err.contains("task aborted") && !err.contains("aborted by operator"),
            "{err}"
        );
    }

    /// `utils.CommandString` as juju writes it, to prove every word reaches the unit
    /// intact through a real shell.
    fn command_string(args: &[String]) -> String {
        args.iter()
            .map(|arg| {
                let mut out = String::new();
                let mut quote = false;
                for c in arg.chars() {
                    if c.is_whitespace() {
                        quote = true;
                    } else if c == '"' || c == '$' || c == '\\' {
                        quote = true;
                        out.push('\\');
                    }
                    out.push(c);
                }
                if quote { format!("\"{out}\"") } else { out }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The words a real `sh` makes of `line`.
    fn shell_words(line: &str) -> Vec<String> {
        let script = format!("for w in {line}; do printf '%s\\0' \"$w\"; done");
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .expect("sh runs");
        out.stdout
            .split(|b| *b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8(w.to_vec()).unwrap())
            .collect()
    }

    /// The phase-02 action scripts, on the testcloud profile and on one whose paths
    /// hold a space and a quote.
    fn action_scripts() -> Vec<String> {
        let mut odd = crate::profile::Profile::testcloud().vault.server.unwrap();
        odd.init_dir = "/home/ubuntu/it's init".into();
        odd.init_file = "/home/ubuntu/it's init/init $1.txt".into();
        let plain = crate::profile::Profile::testcloud().vault.server.unwrap();
        use crate::actions::phase02::{init_script, mint_script, unseal_script};
        [&plain, &odd]
            .into_iter()
            .flat_map(|s| [init_script(s), unseal_script(s), mint_script(s)])
            .collect()
    }

    /// Every argv a unit-hosted read or action step runs survives juju's quoting and
    /// the unit's shell word for word (checked with a real `sh`).
    #[test]
    fn every_unit_read_survives_juju_quoting_through_a_real_shell() {
        for read in crate::sources::secret_files::unit_hosted_examples()
            .into_iter()
            .chain([crate::sources::vault::status_argv(
                "vault",
                "http://127.0.0.1:8200",
            )])
            .chain(
                action_scripts()
                    .into_iter()
                    .map(|script| vec!["sh".to_string(), "-c".to_string(), script]),
            )
        {
            // The wrapper accepts it (no panic) ...
            let _ = unit().invocation(&read);
            // ... and the shell hands the command exactly these words.
            assert_eq!(
                shell_words(&command_string(&read)),
                read,
                "{}",
                command_string(&read)
            );
        }
    }

    /// The one word `juju ssh` hands the remote login shell is `sh -c SCRIPT`, SCRIPT
    /// intact.
    #[test]
    fn a_stdin_fed_script_survives_the_remote_shell_of_juju_ssh() {
        for script in action_scripts() {
            let argv = unit().shell_with_stdin(&script);
            let remote = argv.last().unwrap();
            assert_eq!(
                shell_words(remote),
                ["sh", "-c", script.as_str()],
                "{remote}"
            );
        }
    }
}
