//! The live backend: spawns the real CLI with tokio, argv only, in a session of its own
//! (no controlling terminal: a password prompt on /dev/tty fails at once instead of
//! stopping the child on SIGTTIN until the timeout), stdin closed (a login prompt on
//! stdin fails fast instead of hanging), and kills the whole group when the timeout
//! passes.

use std::process::Stdio;
use std::time::Instant;

use futures::future::BoxFuture;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, setsid};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::{CallLog, CommandOutput, CommandRunner, Invocation, RunError};

/// Runs commands on this machine.
#[derive(Debug, Default)]
pub struct Live {
    log: CallLog,
}

impl Live {
    pub fn new() -> Self {
        Self::default()
    }

    async fn spawn_and_wait(&self, invocation: &Invocation) -> Result<CommandOutput, RunError> {
        let argv = invocation.argv();
        let shown = invocation.display();
        let started = Instant::now();
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            // Headers and states of text CLIs (virsh) are translated otherwise.
            .env("LC_ALL", "C")
            .stdin(if invocation.secret_stdin().is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // A new session has no controlling terminal, so the child cannot open /dev/tty
        // (ENXIO) to prompt on the operator's screen; it also leads its own process
        // group, so killpg on its pid ends everything it started.
        // SAFETY: setsid is async-signal-safe and is all the forked child runs before
        // exec; it touches no memory shared with the parent.
        unsafe {
            command.pre_exec(|| setsid().map(drop).map_err(std::io::Error::from));
        }
        let mut child = command.spawn().map_err(|e| RunError::Spawn {
            argv: shown.clone(),
            message: e.to_string(),
        })?;
        let pid = child.id();
        if let (Some(secret), Some(mut stdin)) = (invocation.secret_stdin(), child.stdin.take()) {
            let bytes = secret.clone();
            // Written from a task so a child that never reads cannot block the wait.
            tokio::spawn(async move {
                let _ = stdin.write_all(bytes.expose()).await;
                let _ = stdin.shutdown().await;
            });
        }
        match tokio::time::timeout(invocation.timeout(), child.wait_with_output()).await {
            Ok(Ok(output)) => Ok(CommandOutput {
                argv: argv.to_vec(),
                exit_code: output.status.code(),
                stdout: output.stdout,
                stderr: output.stderr,
                duration: started.elapsed(),
            }),
            Ok(Err(e)) => Err(RunError::Io {
                argv: shown,
                message: e.to_string(),
            }),
            Err(_) => {
                // The child leads its own group: kill every process in it, so a
                // grandchild holding the pipes cannot outlive the run.
                if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
                Err(RunError::Timeout {
                    argv: shown,
                    waited: invocation.timeout(),
                })
            }
        }
    }
}

impl CommandRunner for Live {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self.spawn_and_wait(invocation).await;
            match &result {
                Ok(out) => self
                    .log
                    .record(invocation.argv(), out.exit_code, out.duration, None),
                Err(e) => self.log.record(
                    invocation.argv(),
                    None,
                    started.elapsed(),
                    Some(e.to_string()),
                ),
            }
            result
        })
    }

    fn describe(&self) -> String {
        "live".to_string()
    }

    fn log(&self) -> &CallLog {
        &self.log
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::runner::SecretInput;

    /// Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session,
    /// tty_nr, ... (comm may hold spaces or parens, so split at the last ')').
    fn stat_fields(stat: &str) -> Vec<String> {
        stat.rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn captures_stdout_stderr_and_exit() {
        let live = Live::new();
        let inv = Invocation::new(["sh", "-c", "echo out; echo err >&2; exit 3"]);
        let out = live.run(&inv).await.unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_slice(), out.exit_code),
            (&b"out\n"[..], &b"err\n"[..], Some(3))
        );
        let log = live.log().records();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].exit_code, Some(3));
    }

    #[tokio::test]
    async fn stdin_is_closed_so_a_prompt_reads_eof() {
        let inv = Invocation::new(["sh", "-c", "if read -r x; then echo got; else echo eof; fi"]);
        let out = Live::new().run(&inv).await.unwrap();
        assert_eq!(out.stdout, b"eof\n");
    }

    #[tokio::test]
    async fn a_secret_goes_on_stdin_and_never_in_the_log() {
        let inv = Invocation::new(["cat"])
            .with_secret_stdin(SecretInput::new(b"s3cret-unseal-key".to_vec()));
        let live = Live::new();
        let out = live.run(&inv).await.unwrap();
        assert_eq!(out.stdout, b"s3cret-unseal-key");
        assert!(!format!("{:?} {:?}", live.log().records(), inv).contains("s3cret"));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
        let inv =
            Invocation::new(["sh", "-c", script.as_str()]).with_timeout(Duration::from_millis(500));
        let started = std::time::Instant::now();
        let err = Live::new().run(&inv).await.unwrap_err();
        assert!(matches!(err, RunError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("sh -c"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild was in the group: it is gone (or a zombie awaiting init's reap).
        let mut gone = false;
        for _ in 0..50 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(gone, "grandchild {pid} survived the timeout");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error_naming_the_argv() {
        let inv = Invocation::new(["stackgate-no-such-cli", "status"]);
        let err = Live::new().run(&inv).await.unwrap_err();
        assert!(
            err.to_string().contains("stackgate-no-such-cli status"),
            "{err}"
        );
    }

    /// The child leads a new session and its own group, with no controlling terminal
    /// (tty_nr 0): it cannot prompt on the operator's terminal, and killpg on its pid
    /// reaches everything it starts.
    #[tokio::test]
    async fn a_child_leads_its_own_session_without_a_terminal() {
        let inv = Invocation::new(["sh", "-c", "echo $$; cat /proc/$$/stat"]);
        let out = Live::new().run(&inv).await.unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let (pid, stat) = text.split_once('\n').unwrap();
        let fields = stat_fields(stat);
        assert_eq!(
            (fields[2].as_str(), fields[3].as_str(), fields[4].as_str()),
            (pid, pid, "0"),
            "pgrp, session and tty_nr of {pid}: {stat}"
        );
    }

    /// Without a controlling terminal, opening /dev/tty fails at once (ENXIO) instead
    /// of reaching the operator's screen. tests/cli.rs runs stackgate under a real
    /// terminal to show the difference.
    #[tokio::test]
    async fn opening_the_terminal_fails_at_once() {
        let inv = Invocation::new([
            "sh",
            "-c",
            "if (: </dev/tty) 2>/dev/null; then echo opened; else echo no-tty; fi",
        ])
        .with_timeout(Duration::from_secs(10));
        let out = Live::new().run(&inv).await.unwrap();
        assert_eq!(out.stdout, b"no-tty\n");
    }
}
