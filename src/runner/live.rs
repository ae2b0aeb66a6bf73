//! The live backend: spawns the real CLI with tokio, argv only, in a session of its own
//! (no controlling terminal: a password prompt on /dev/tty fails at once instead of
//! stopping the child on SIGTTIN until the timeout), stdin closed (a login prompt on
//! stdin fails fast instead of hanging), each output stream read up to a bound, and
//! kills the whole group when the timeout passes, a stream exceeds the bound, or a
//! signal reaches stackgate.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use futures::future::BoxFuture;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, setsid};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::{CommandOutput, CommandRunner, Invocation, RunError};

/// What one command may print on each of stdout and stderr unless the profile says
/// otherwise: far above any real `juju status`, far below what would exhaust the host.
pub const DEFAULT_MAX_OUTPUT: usize = 256 << 20;

/// Runs commands on this machine.
pub struct Live {
    max_output: usize,
    children: Children,
    /// Variables set for every command; their values may be credentials, so Debug
    /// shows only the names.
    env: Vec<(String, String)>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("max_output", &self.max_output)
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Self {
        Live {
            max_output: DEFAULT_MAX_OUTPUT,
            children: Children::default(),
            env: Vec::new(),
        }
    }

    /// Sets these variables for every command, over stackgate's own environment: a
    /// process-wide variable would reach every runner of the process at once (the
    /// `@needs-openstack-caracal` scenarios each point the client at their own stub).
    pub fn with_env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env.extend(vars);
        self
    }

    /// Bounds what one command may print: at most `bytes` (at least 1) on stdout and
    /// as many on stderr.
    pub fn with_max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes.max(1);
        self
    }

    async fn spawn_and_wait(&self, invocation: &Invocation) -> Result<CommandOutput, RunError> {
        let argv = invocation.argv();
        let shown = invocation.display();
        let started = Instant::now();
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
        let (mut child, registration) = self.children.spawn(&mut command, invocation)?;
        let pid = registration.pid;
        if let (Some(secret), Some(mut stdin)) = (invocation.secret_stdin(), child.stdin.take()) {
            let bytes = secret.clone();
            // Written from a task so a child that never reads cannot block the wait.
            tokio::spawn(async move {
                let _ = stdin.write_all(bytes.expose()).await;
                let _ = stdin.shutdown().await;
            });
        }
        let outcome =
            tokio::time::timeout(invocation.timeout(), capture(&mut child, self.max_output)).await;
        let result = match outcome {
            Ok(Ok((status, stdout, stderr))) => Ok(CommandOutput {
                argv: argv.to_vec(),
                exit_code: status.code(),
                stdout: stdout.into(),
                stderr,
                duration: started.elapsed(),
            }),
            // Every failure kills the whole group, so a grandchild holding the pipes
            // cannot outlive the run. The leader is not reaped yet: its pid still
            // names this group.
            Ok(Err(Capture::TooLarge(stream))) => {
                kill_group(pid);
                Err(RunError::OutputTooLarge {
                    argv: shown,
                    stream,
                    limit: self.max_output,
                })
            }
            Ok(Err(Capture::Io(e))) => {
                kill_group(pid);
                Err(RunError::Io {
                    argv: shown,
                    message: e.to_string(),
                })
            }
            Err(_) => {
                kill_group(pid);
                Err(RunError::Timeout {
                    argv: shown,
                    waited: invocation.timeout(),
                })
            }
        };
        if registration.finish() {
            result
        } else {
            // `interrupt` killed the group while the call ran.
            Err(RunError::Interrupted {
                argv: invocation.display(),
            })
        }
    }
}

impl CommandRunner for Live {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(self.spawn_and_wait(invocation))
    }

    fn describe(&self) -> String {
        "live".to_string()
    }

    fn interrupt(&self) {
        self.children.interrupt();
    }
}

/// Why a command's output was not captured whole.
enum Capture {
    /// The named stream passed the bound.
    TooLarge(&'static str),
    Io(std::io::Error),
}

/// Reads stdout and stderr to their ends, each up to `limit` bytes, then reaps the
/// child. Reading both at once keeps a child that fills one pipe from blocking.
async fn capture(
    child: &mut Child,
    limit: usize,
) -> Result<(std::process::ExitStatus, Vec<u8>, Vec<u8>), Capture> {
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (stdout, stderr) = tokio::try_join!(
        read_capped(stdout, limit, "stdout"),
        read_capped(stderr, limit, "stderr")
    )?;
    let status = child.wait().await.map_err(Capture::Io)?;
    Ok((status, stdout, stderr))
}

/// Reads a pipe to its end, failing as soon as it has carried more than `limit` bytes.
async fn read_capped<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    limit: usize,
    stream: &'static str,
) -> Result<Vec<u8>, Capture> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(kept);
    };
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = pipe.read(&mut chunk).await.map_err(Capture::Io)?;
        if n == 0 {
            return Ok(kept);
        }
        if kept.len() + n > limit {
            return Err(Capture::TooLarge(stream));
        }
        // Grow by doubling, but never past the limit: the bound is on memory taken,
        // not only on bytes kept.
        if kept.capacity() - kept.len() < n {
            let want = (kept.capacity() * 2).max(kept.len() + n).min(limit);
            kept.reserve_exact(want - kept.len());
        }
        kept.extend_from_slice(&chunk[..n]);
    }
}

/// SIGKILL to every process in the group `pid` leads.
fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// The process groups this runner started and has not reaped, by leader pid. They sit
/// in sessions of their own, so a signal to stackgate never reaches them: `interrupt`
/// must kill each one.
#[derive(Debug, Default)]
struct Children(Mutex<ChildTable>);

#[derive(Debug, Default)]
struct ChildTable {
    /// Set by `interrupt`: no command starts after it.
    interrupted: bool,
    /// The leader pid of each group running.
    running: BTreeSet<u32>,
}

impl Children {
    fn table(&self) -> MutexGuard<'_, ChildTable> {
        // The table holds plain data; a panic elsewhere leaves it consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spawns and registers under one lock, so an `interrupt` either sees the new
    /// group or keeps it from starting: no child escapes between the two.
    fn spawn(
        &self,
        command: &mut Command,
        invocation: &Invocation,
    ) -> Result<(Child, Registration<'_>), RunError> {
        let mut table = self.table();
        if table.interrupted {
            return Err(RunError::Interrupted {
                argv: invocation.display(),
            });
        }
        // std's spawn returns only once the child has exec'd, so setsid has run and
        // the group exists before it is registered.
        let child = command.spawn().map_err(|e| RunError::Spawn {
            argv: invocation.display(),
            message: e.to_string(),
        })?;
        let pid = child
            .id()
            .expect("a child that was just spawned has not been reaped");
        table.running.insert(pid);
        Ok((
            child,
            Registration {
                children: self,
                pid,
                armed: true,
            },
        ))
    }

    /// Kills every registered group and refuses new spawns. Each run it took then
    /// ends as [`RunError::Interrupted`].
    fn interrupt(&self) {
        let mut table = self.table();
        table.interrupted = true;
        for pid in std::mem::take(&mut table.running) {
            kill_group(pid);
        }
    }
}

/// One registered group. Dropped while armed (the run was cancelled mid-flight), it
/// kills the group: the leader is unreaped, so its pid still names the group.
struct Registration<'a> {
    children: &'a Children,
    pid: u32,
    armed: bool,
}

impl Registration<'_> {
    /// The run is over (leader reaped, or its group already killed): unregisters
    /// without a kill, since a reaped pid may be reused. The reap happens inside tokio
    /// just before this; an `interrupt` in that instant could only hit a reused pid if
    /// the kernel handed it out again within it. False when `interrupt` took the group.
    fn finish(mut self) -> bool {
        self.armed = false;
        self.children.table().running.remove(&self.pid)
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if self.armed && self.children.table().running.remove(&self.pid) {
            kill_group(self.pid);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::runner::{Logged, SecretInput};

    /// Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session,
    /// tty_nr, ... (comm may hold spaces or parens, so split at the last ')').
    fn stat_fields(stat: &str) -> Vec<String> {
        stat.rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Polls until `pid` is gone or a zombie awaiting init's reap.
    async fn gone(pid: i32) -> bool {
        for _ in 0..100 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat_fields(&stat).first().map(String::as_str) == Some("Z") {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn read_pid(path: &Path) -> i32 {
        for _ in 0..100 {
            if let Some(pid) = std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} was never written", path.display());
    }

    /// A script that starts `sleep 300` in the background, records its pid, and waits.
    fn sleeper(pidfile: &Path) -> String {
        format!("sleep 300 & echo $! > {}; wait", pidfile.display())
    }

    #[tokio::test]
    async fn captures_stdout_stderr_and_exit() {
        let live = Live::new();
        let inv = Invocation::new(["sh", "-c", "echo out; echo err >&2; exit 3"]);
        let out = live.run(&inv).await.unwrap();
        assert_eq!(
            (&out.stdout[..], out.stderr.as_slice(), out.exit_code),
            (&b"out\n"[..], &b"err\n"[..], Some(3))
        );
    }

    #[tokio::test]
    async fn stdin_is_closed_so_a_prompt_reads_eof() {
        let inv = Invocation::new(["sh", "-c", "if read -r x; then echo got; else echo eof; fi"]);
        let out = Live::new().run(&inv).await.unwrap();
        assert_eq!(&out.stdout[..], b"eof\n");
    }

    #[tokio::test]
    async fn a_secret_goes_on_stdin_and_never_in_the_log() {
        let inv = Invocation::new(["cat"])
            .with_secret_stdin(SecretInput::new(b"s3cret-unseal-key".to_vec()));
        let live = Logged::new(Live::new());
        let out = live.run(&inv).await.unwrap();
        assert_eq!(&out.stdout[..], b"s3cret-unseal-key");
        assert!(!format!("{:?} {:?}", live.records(), inv).contains("s3cret"));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = sleeper(&pidfile);
        let inv =
            Invocation::new(["sh", "-c", script.as_str()]).with_timeout(Duration::from_millis(500));
        let started = std::time::Instant::now();
        let err = Live::new().run(&inv).await.unwrap_err();
        assert!(matches!(err, RunError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("sh -c"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = read_pid(&pidfile).await;
        // The grandchild was in the group: it is gone (or a zombie awaiting init's reap).
        assert!(gone(pid).await, "grandchild {pid} survived the timeout");
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
        let text = String::from_utf8(out.stdout.to_vec()).unwrap();
        let (pid, stat) = text.split_once('\n').unwrap();
        let fields = stat_fields(stat);
        assert_eq!(
            (fields[2].as_str(), fields[3].as_str(), fields[4].as_str()),
            (pid, pid, "0"),
            "pgrp, session and tty_nr of {pid}: {stat}"
        );
    }

    /// Without a controlling terminal, opening /dev/tty fails at once (ENXIO) instead
    /// of reaching the operator's screen. tests/suite/cli.rs runs stackgate under a real
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
        assert_eq!(&out.stdout[..], b"no-tty\n");
    }

    #[tokio::test]
    async fn output_up_to_the_bound_is_kept_and_past_it_is_an_error_naming_the_stream() {
        let live = Logged::new(Live::new().with_max_output(1000));
        let exact = Invocation::new([
            "sh",
            "-c",
            "head -c 1000 /dev/zero; head -c 1000 /dev/zero >&2",
        ]);
        let out = live.run(&exact).await.unwrap();
        assert_eq!((out.stdout.len(), out.stderr.len()), (1000, 1000));
        for (script, stream) in [
            ("head -c 5000 /dev/zero", "stdout"),
            ("head -c 5000 /dev/zero >&2", "stderr"),
        ] {
            let inv = Invocation::new(["sh", "-c", script]);
            let err = live.run(&inv).await.unwrap_err();
            assert!(
                matches!(
                    &err,
                    RunError::OutputTooLarge { stream: s, limit: 1000, .. } if *s == stream
                ),
                "{err:?}"
            );
            let shown = err.to_string();
            assert!(shown.contains(&inv.display()), "{shown}");
            assert!(
                shown.contains(&format!("more than 1000 bytes on {stream}")),
                "{shown}"
            );
        }
        let log = live.records();
        assert!(
            log[1]
                .error
                .as_deref()
                .unwrap()
                .contains("more than 1000 bytes")
        );
    }

    /// An endless flood from a grandchild is cut at the bound: the group is killed at
    /// once, long before the timeout, and memory stays at the bound.
    #[tokio::test]
    async fn an_endless_flood_is_cut_at_the_bound_and_its_group_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("yes.pid");
        let script = format!("yes & echo $! > {}; wait", pidfile.display());
        let inv =
            Invocation::new(["sh", "-c", script.as_str()]).with_timeout(Duration::from_secs(60));
        let started = std::time::Instant::now();
        let err = Live::new()
            .with_max_output(1 << 20)
            .run(&inv)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("more than 1 MiB on stdout"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        let pid = read_pid(&pidfile).await;
        assert!(gone(pid).await, "the flooding grandchild {pid} survived");
    }

    /// `interrupt` kills every group still running, the log lists each as interrupted,
    /// and no command starts after it.
    #[tokio::test]
    async fn interrupt_kills_every_running_group_and_the_log_lists_it() {
        let dir = tempfile::tempdir().unwrap();
        let live = Arc::new(Logged::new(Live::new()));
        let mut runs = Vec::new();
        let mut pidfiles = Vec::new();
        for i in 0..2 {
            let pidfile = dir.path().join(format!("sleep{i}.pid"));
            let inv = Invocation::new(["sh".to_string(), "-c".to_string(), sleeper(&pidfile)]);
            let live = live.clone();
            runs.push(tokio::spawn(async move { live.run(&inv).await }));
            pidfiles.push(pidfile);
        }
        let mut pids = Vec::new();
        for pidfile in &pidfiles {
            pids.push(read_pid(pidfile).await);
        }
        live.interrupt();
        for run in runs {
            let err = tokio::time::timeout(Duration::from_secs(10), run)
                .await
                .expect("an interrupted run ends")
                .unwrap()
                .unwrap_err();
            assert!(matches!(err, RunError::Interrupted { .. }), "{err}");
        }
        for pid in pids {
            assert!(gone(pid).await, "grandchild {pid} survived the interrupt");
        }
        let log = live.records();
        assert_eq!(log.len(), 2, "{log:?}");
        for record in &log {
            assert!(record.interrupted, "{record:?}");
            assert_eq!(record.exit_code, None);
            assert!(record.error.as_deref().unwrap().contains("was interrupted"));
        }
        let after = live.run(&Invocation::new(["true"])).await.unwrap_err();
        assert!(matches!(after, RunError::Interrupted { .. }), "{after}");
        assert_eq!(live.records().len(), 2, "a refused start is not a read");
    }

    /// A run dropped mid-flight (its caller gave up) takes its whole group with it.
    #[tokio::test]
    async fn a_dropped_run_kills_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("sleep.pid");
        let inv = Invocation::new(["sh".to_string(), "-c".to_string(), sleeper(&pidfile)]);
        let live = Live::new();
        let run = live.run(&inv);
        let pid = tokio::select! {
            _ = run => panic!("the sleeper finished"),
            pid = read_pid(&pidfile) => pid,
        };
        assert!(gone(pid).await, "grandchild {pid} outlived its dropped run");
    }
}
