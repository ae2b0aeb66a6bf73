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
