//! The live backend: spawns the real CLI with tokio, argv only, in its own process
//! group, stdin closed (so a login prompt fails fast instead of hanging), and kills the
//! whole group when the timeout passes.

use std::process::Stdio;
use std::time::Instant;

use futures::future::BoxFuture;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
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
            .process_group(0)
            .kill_on_drop(true);
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
}
