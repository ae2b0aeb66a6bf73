//! Real programs on loopback for the `@needs-<program>` scenarios: each one runs in
//! the scenario's temp dir, binds 127.0.0.1 only, and is killed when the scenario's
//! world is dropped (pass or fail), or with the test process itself (PR_SET_PDEATHSIG).
//! The gates read them through the same sources, snapshot and gate code as live use;
//! only the transport differs (see [`LoopbackRunner`]).

use std::collections::BTreeMap;
use std::net::{SocketAddrV4, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::when;
use futures::future::BoxFuture;
use stackgate::cli::{Format, GateRun};
use stackgate::run::RunOptions;
use stackgate::runner::{
    CommandOutput, CommandRunner, DEFAULT_TIMEOUT, Invocation, Layered, Live, Logged, Replay,
    RunError,
};
use stackgate::snapshot::DEFAULT_JOBS;

use crate::{Gate, GateRunResult, GateWorld};

/// How long a program may take to come up or settle before the step gives up.
pub const STARTUP: Duration = Duration::from_secs(15);

/// What a scenario started: killed and reaped on drop.
#[derive(Debug, Default)]
pub struct Loopback {
    dir: Option<tempfile::TempDir>,
    programs: Vec<Program>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The local stats socket that stands for each unit's admin socket.
    pub unit_sockets: BTreeMap<String, PathBuf>,
    /// Where the Horizon stand-in and the proxy listen.
    pub dashboard: Option<SocketAddrV4>,
    pub proxy: Option<SocketAddrV4>,
}

impl Loopback {
    /// The scenario's temp dir, made on first use.
    pub fn dir(&mut self) -> Result<PathBuf, String> {
        if self.dir.is_none() {
            self.dir = Some(
                tempfile::Builder::new()
                    .prefix("stackgate-loopback-")
                    .tempdir()
                    .map_err(|e| format!("cannot make a temp dir: {e}"))?,
            );
        }
        Ok(self.dir.as_ref().expect("just made").path().to_path_buf())
    }

    pub fn keep(&mut self, program: Program) {
        self.programs.push(program);
    }

    pub fn keep_task(&mut self, task: tokio::task::JoinHandle<()>) {
        self.tasks.push(task);
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Programs drop (and die) before the temp dir holding their files goes.
        self.programs.clear();
    }
}

/// A child process that is killed and reaped when dropped.
#[derive(Debug)]
pub struct Program {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Program {
    /// Starts `argv` with stdout and stderr to `log`, in `dir`.
    pub fn start(name: &str, argv: &[&str], dir: &Path, log: &Path) -> Result<Program, String> {
        let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(argv[0]);
        command
            .args(&argv[1..])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // SAFETY: set_pdeathsig is async-signal-safe (one prctl call).
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", argv.join(" ")))?;
        Ok(Program {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Fails with the program's log if it has exited.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}):\n{}",
                self.name,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on: bound, then released.
pub fn closed_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    drop(listener);
    Ok(port)
}

/// A listener that accepts and closes every connection (a backend that is up), kept
/// until the scenario ends.
pub async fn accepting_listener(loopback: &mut Loopback) -> Result<u16, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    loopback.keep_task(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    }));
    Ok(port)
}

/// Waits, bounded, until a TCP port accepts connections.
pub async fn wait_for_port(program: &mut Program, port: u16) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        program.check_running()?;
        if started.elapsed() > STARTUP {
            return Err(format!(
                "{} did not listen on 127.0.0.1:{port} within {STARTUP:?}:\n{}",
                program.name,
                program.log_text()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The transport for scenarios on loopback. `juju exec -m M --unit U -- CMD` runs CMD
/// here through a real shell (`sh -c`), with the profile's admin socket path replaced
/// by the local socket that stands for U's, the way the unit's filesystem would hold
/// it; the answer is shaped as juju's plain exec output (exec.go `printExecOutput`:
/// the remote stdout then stderr on stdout; a failed task exits 1 with "the following
/// task failed" on stderr, common.go). Every other argv (curl, juju status) goes to
/// `rest`: live, or, where the scenario has a fixture world, the world first.
pub struct LoopbackRunner {
    live: Live,
    unit_sockets: BTreeMap<String, PathBuf>,
    remote_socket: String,
    rest: Box<dyn CommandRunner>,
}

impl LoopbackRunner {
    fn exec_target<'a>(&self, argv: &'a [String]) -> Option<(&'a str, &'a str)> {
        match argv {
            [juju, exec, m, _model, unit_flag, unit, dashdash, command]
                if juju == "juju"
                    && exec == "exec"
                    && m == "-m"
                    && unit_flag == "--unit"
                    && dashdash == "--" =>
            {
                Some((unit.as_str(), command.as_str()))
            }
            _ => None,
        }
    }
}

fn force_newline(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.last().is_some_and(|&b| b != b'\n') {
        out.push(b'\n');
    }
    out
}

impl CommandRunner for LoopbackRunner {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            let argv = invocation.argv();
            if let Some((unit, command)) = self.exec_target(argv)
                && let Some(socket) = self.unit_sockets.get(unit)
            {
                let local = command.replace(&self.remote_socket, &socket.display().to_string());
                let shell = Invocation::new(["sh", "-c", local.as_str()])
                    .with_timeout(invocation.timeout());
                let out = self.live.run(&shell).await?;
                let mut stdout = force_newline(&out.stdout);
                stdout.extend(force_newline(&out.stderr));
                let (exit, stderr) = match out.exit_code {
                    Some(0) => (0, Vec::new()),
                    code => (
                        1,
                        format!(
                            "ERROR the following task failed:\n - id \"1\" with return code {}\n\nuse 'juju show-task' to inspect the failure\n\n",
                            code.unwrap_or(-1)
                        )
                        .into_bytes(),
                    ),
                };
                return Ok(CommandOutput {
                    argv: argv.to_vec(),
                    exit_code: Some(exit),
                    stdout: stdout.into(),
                    stderr,
                    duration: out.duration,
                });
            }
            self.rest.run(invocation).await
        })
    }

    fn describe(&self) -> String {
        format!("loopback + {}", self.rest.describe())
    }
}

#[when(expr = "gate {gate} runs against the loopback programs")]
async fn gate_runs_on_loopback(w: &mut GateWorld, gate: Gate) -> Result<(), String> {
    let mut profile = w
        .profile
        .clone()
        .ok_or("no site profile: a `Given the testcloud site profile` step must come first")?;
    if let Some(horizon) = profile.horizon.as_mut() {
        if let Some(dashboard) = w.loopback.dashboard {
            horizon.dashboard = dashboard;
        }
        if let Some(proxy) = w.loopback.proxy {
            horizon.proxy = proxy;
        }
    }
    let remote_socket = profile
        .haproxy
        .as_ref()
        .map(|h| h.stats_socket.clone())
        .unwrap_or_default();
    let rest: Box<dyn CommandRunner> = match w.fixture.clone() {
        Some(world) => Box::new(Layered::new(Replay::new(world), Live::new())),
        None => Box::new(Live::new()),
    };
    let runner = LoopbackRunner {
        live: Live::new(),
        unit_sockets: w.loopback.unit_sockets.clone(),
        remote_socket,
        rest,
    };
    let run = GateRun {
        phase: gate.0.phase.to_string(),
        gates: vec![gate.0],
        profile,
        runner: Arc::new(Logged::new(runner)),
        format: Format::Text,
        options: RunOptions {
            timeout: DEFAULT_TIMEOUT,
            jobs: DEFAULT_JOBS,
            today: crate::TODAY.parse().expect("a date"),
        },
    };
    let (snapshot, report) =
        crate::on_worker(async move { run.execute_with_snapshot().await }).await;
    w.run = Some(GateRunResult { report, snapshot });
    Ok(())
}
