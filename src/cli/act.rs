//! `stackgate act <action> [host]`: plan a phase action (dry-run, the default) or apply
//! a plan the operator reviewed. Exit 0 done or nothing to do (or the plan shown), 1
//! refused, stale or a post-condition failed, 2 precondition or usage, 130 interrupted.

use std::io::{BufRead, IsTerminal, Read as _, Write};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::actions::executor::{ActionReport, Operator};
use crate::actions::plan::SecretNeed;
use crate::actions::wait::{Clock, ManualClock, SystemClock};
use crate::actions::{self, ActionArgs, Context, ExecOptions};
use crate::events::{Event, Sink};
use crate::profile::Profile;
use crate::report;
use crate::run::RunOptions;
use crate::runner::{CommandRunner, DEFAULT_TIMEOUT, Logged, Replay};
use crate::sim::{Sim, SimConfig};
use crate::snapshot::DEFAULT_JOBS;
use crate::world::{self, World};

use super::{Format, Outcome};

#[derive(Debug, clap::Args)]
pub struct ActArgs {
    /// The action (`stackgate list --actions`): teardown-destroy, lbaas-net-remove, ...
    pub action: String,
    /// The host, for an action that takes one (`carve openstack0`).
    pub host: Option<String>,
    /// Run the plan. Without it nothing but the plan's reads runs.
    #[arg(long)]
    pub apply: bool,
    /// The fingerprint of the dry-run plan you reviewed; --apply refuses a plan that
    /// differs from it.
    #[arg(long = "plan", value_name = "FINGERPRINT")]
    pub reviewed: Option<String>,
    /// The model name, typed: a destructive plan runs only with it.
    #[arg(long, value_name = "MODEL")]
    pub confirm: Option<String>,
    /// Act on the cloud through the real CLIs on this machine.
    #[arg(long, conflicts_with_all = ["world", "sim"])]
    pub live: bool,
    /// Plan over a recorded fixture world (dry-run only: a recording cannot change).
    #[arg(long, value_name = "DIR", conflicts_with = "sim")]
    pub world: Option<PathBuf>,
    /// Act on a simulated cloud loaded from a fixture world directory; without DIR,
    /// the embedded one for the action's phase (the dirty testcloud for phase 00).
    /// This is the default when no source is given.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
    pub sim: Option<PathBuf>,
    /// Site profile (TOML). Default: the world's, or the embedded testcloud profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Seconds one command may run before its process group is killed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS)]
    pub jobs: usize,
    /// Read the secrets the steps need (the libvirt SSH password, vault's unseal keys,
    /// its root token) from this file descriptor instead of hidden prompts: one secret
    /// per line, in the order the steps ask for them.
    #[arg(long, value_name = "FD")]
    pub secret_fd: Option<i32>,
}

/// The operator at this process's terminal (or none, when stdin is not one).
struct Terminal {
    secret_fd: Mutex<SecretFd>,
}

/// `--secret-fd`: not given, given and not yet read, or read into its lines.
enum SecretFd {
    None,
    Unread(i32),
    Lines {
        fd: i32,
        lines: std::collections::VecDeque<Vec<u8>>,
        served: usize,
    },
}

/// A descriptor's text as one secret per line: `\r\n` or `\n` ends a line, and the
/// empty lines after the last secret are no secrets.
fn secret_lines(mut text: Vec<u8>) -> std::collections::VecDeque<Vec<u8>> {
    let mut lines: std::collections::VecDeque<Vec<u8>> = text
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line).to_vec())
        .collect();
    text.fill(0);
    while lines.back().is_some_and(Vec::is_empty) {
        lines.pop_back();
    }
    lines
}

impl Operator for Terminal {
    fn confirm(&self, question: &str) -> Option<String> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        let mut err = std::io::stderr();
        let _ = err.write_all(question.as_bytes());
        let _ = err.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        Some(line.trim().to_string())
    }

    fn secret(&self, need: &SecretNeed) -> Result<Vec<u8>, String> {
        let mut fd_state = self.secret_fd.lock().expect("fd lock");
        if let SecretFd::Unread(fd) = *fd_state {
            // SAFETY: the operator handed this descriptor to stackgate for the secrets;
            // it is read once, to its end, and closed.
            let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
            let mut text = Vec::new();
            file.read_to_end(&mut text)
                .map_err(|e| format!("cannot read the secrets from fd {fd}: {e}"))?;
            *fd_state = SecretFd::Lines {
                fd,
                lines: secret_lines(text),
                served: 0,
            };
        }
        if let SecretFd::Lines { fd, lines, served } = &mut *fd_state {
            let Some(value) = lines.pop_front() else {
                return Err(format!(
                    "{} is needed and fd {fd} held only {served} secret line(s): one secret per line, in the order the steps ask",
                    need.prompt
                ));
            };
            *served += 1;
            return Ok(value);
        }
        drop(fd_state);
        if !std::io::stdin().is_terminal() {
            return Err(format!(
                "{} is needed and stdin is not a terminal: pass it on --secret-fd",
                need.prompt
            ));
        }
        rpassword::prompt_password(format!("{}: ", need.prompt))
            .map(String::into_bytes)
            .map_err(|e| format!("cannot read {} at the prompt: {e}", need.prompt))
    }
}

/// Wait progress on stderr, a consumer of the run's wait events: an updating line on a
/// terminal, plain lines otherwise. A gate wait's line names each gate still not passing
/// and why.
pub(crate) struct StderrProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl StderrProgress {
    pub(crate) fn new() -> Self {
        Self::on(std::io::stderr().is_terminal())
    }

    /// A spinner when `terminal`, plain lines otherwise.
    pub(crate) fn on(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        StderrProgress { bar }
    }

    fn line(&self, text: String, last: bool) {
        match &self.bar {
            Some(bar) if last => bar.println(report::ascii(text)),
            Some(bar) => bar.set_message(report::ascii(text)),
            None => {
                let _ = writeln!(std::io::stderr(), "{}", report::ascii(text));
            }
        }
    }
}

/// The progress line of one wait poll.
pub fn poll_line(event: &Event) -> Option<String> {
    match event {
        Event::WaitPoll {
            what,
            poll,
            streak,
            needed,
            waited_secs,
            pending,
            state,
            ..
        } => {
            let mut text =
                format!("waiting: {what}: poll {poll}, {waited_secs}s, {streak}/{needed} in a row");
            if pending.is_empty() {
                text.push_str(&format!(", {state}"));
            } else {
                let gates: Vec<String> = pending
                    .iter()
                    .map(|p| format!("{} {} ({})", p.id, p.status, p.why))
                    .collect();
                text.push_str(&format!(", not passing: {}", gates.join("; ")));
            }
            Some(text)
        }
        _ => None,
    }
}

impl Sink for StderrProgress {
    fn emit(&self, event: &Event) {
        if let Some(text) = poll_line(event) {
            self.line(text, false);
        } else if let Event::WaitDone { what, summary, .. } = event {
            self.line(format!("waited: {what}: {}", summary.line()), true);
        }
    }
}

impl Drop for StderrProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The run's UTC time as `YYYYMMDDTHHMMSSZ`.
pub(super) fn stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
}

/// What a simulated source keeps alive for the run: the loopback server the amphora
/// pipeline's base image comes from and its download directory (a simulation never
/// downloads from the profile's real URL).
type Keep = Option<(crate::sim::images::ImageServer, tempfile::TempDir)>;

fn source(args: &ActArgs, phase: &str) -> Result<(Arc<dyn CommandRunner>, Profile, Keep), String> {
    let explicit = match &args.profile {
        Some(path) => Some(Profile::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    if args.live {
        let profile = explicit.unwrap_or_else(Profile::testcloud);
        return Ok((Arc::new(super::live_for(&profile)), profile, None));
    }
    if args.world.is_some() && args.apply {
        return Err(
            "--apply needs a cloud that can change: --live, or --sim on a world; a recorded --world is dry-run only"
                .to_string(),
        );
    }
    let world = match (&args.world, &args.sim) {
        (Some(dir), _) => World::from_dir(dir),
        (None, Some(dir)) if !dir.as_os_str().is_empty() => World::from_dir(dir),
        _ => world::default_world("testcloud", &format!("sim-{phase}"))
            .and_then(|name| World::embedded(&name)),
    }
    .map_err(|e| e.to_string())?;
    let profile = super::profile_for(explicit, &world)?;
    if args.world.is_some() {
        return Ok((Arc::new(Replay::new(world)), profile, None));
    }
    let (profile, keep) = match profile
        .phase05
        .as_ref()
        .and_then(|p| p.amphora_base.as_ref())
    {
        Some(_) => {
            let (profile, server, dir) = crate::sim::images::loopback_profile(&profile, false)?;
            (profile, Some((server, dir)))
        }
        None => (profile, None),
    };
    let maas = profile.maas_profile();
    let sim = Sim::new(world, &maas, SimConfig::default()).map_err(|e| e.to_string())?;
    Ok((Arc::new(sim), profile, keep))
}

/// The command line that re-runs this action with the same source.
fn rerun(args: &ActArgs) -> String {
    let mut words = vec!["stackgate".to_string(), "act".into(), args.action.clone()];
    words.extend(args.host.clone());
    if args.live {
        words.push("--live".into());
    }
    if let Some(dir) = &args.sim {
        words.push("--sim".into());
        if !dir.as_os_str().is_empty() {
            words.push(dir.display().to_string());
        }
    }
    if let Some(p) = &args.profile {
        words.push("--profile".into());
        words.push(p.display().to_string());
    }
    crate::runner::display_argv(&words)
}

pub async fn run(args: ActArgs) -> Outcome {
    let Some(action) = actions::by_name(&args.action) else {
        return Outcome::usage_error(format!(
            "no action {:?}; the actions: {}",
            args.action,
            actions::all()
                .map(|a| a.name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    match (action.takes_host, &args.host) {
        (true, None) => {
            return Outcome::usage_error(format!(
                "{} needs a host: stackgate act {} <host>",
                action.name, action.name
            ));
        }
        (false, Some(h)) => {
            return Outcome::usage_error(format!("{} takes no host (got {h})", action.name));
        }
        _ => {}
    }
    if args.timeout == 0 || args.jobs == 0 {
        return Outcome::usage_error("--timeout and --jobs must be at least 1".to_string());
    }
    let (runner, profile, _keep) = match source(&args, action.phase) {
        Ok(s) => s,
        Err(message) => return Outcome::usage_error(message),
    };
    let options = ExecOptions {
        apply: args.apply,
        confirm: args.confirm.clone(),
        reviewed: args.reviewed.clone(),
        run: RunOptions {
            timeout: Duration::from_secs(args.timeout),
            jobs: args.jobs,
            ..RunOptions::default()
        },
    };
    let action_args = ActionArgs {
        host: args.host.clone(),
        stamp: stamp(),
    };
    // A simulated cloud's waits pass simulated time: a 10-minute bound takes none.
    let system = SystemClock::default();
    let simulated = ManualClock::new();
    let clock: &dyn Clock = if args.live || args.world.is_some() {
        &system
    } else {
        &simulated
    };
    let progress = StderrProgress::new();
    let collected = crate::events::Collect::new();
    let events = crate::events::Tee(vec![&collected, &progress]);
    events.emit(&Event::RunStarted {
        command: "act",
        tool: crate::events::Tool::this(),
        started: chrono::Utc::now(),
    });
    events.emit(&Event::PhaseStarted {
        phase: action.phase.to_string(),
        source: runner.describe(),
        profile: profile.name.clone(),
        waivers_as_of: options.run.today,
    });
    let started = std::time::Instant::now();
    let operator = Terminal {
        secret_fd: Mutex::new(args.secret_fd.map_or(SecretFd::None, SecretFd::Unread)),
    };
    let runner = Arc::new(Logged::new(runner));
    let ctx = Context {
        runner: runner.clone(),
        profile: &profile,
        clock,
        events: &events,
        operator: &operator,
    };
    let mut signals = match super::Signals::watch() {
        Ok(s) => s,
        Err(e) => return Outcome::usage_error(format!("cannot watch for SIGINT and SIGTERM: {e}")),
    };
    let report: Option<ActionReport> = tokio::select! {
        report = actions::execute(action, &action_args, &options, &ctx) => Some(report),
        signal = async {
            let signal = signals.recv().await;
            runner.interrupt();
            signal
        } => {
            drop(events);
            drop(progress);
            return Outcome {
                stdout: String::new(),
                stderr: format!(
                    "stackgate: {signal}: the running command's process group was killed; what ran before it stands. Run the dry-run again to see what is left.\n"
                ),
                exit_code: report::INTERRUPTED_EXIT,
            };
        }
    };
    let report = report.expect("the action finished");
    events.emit(&Event::RunFinished {
        result: report.outcome.label().to_string(),
        exit_code: report.exit_code(),
        interrupted: None,
        elapsed: started.elapsed(),
    });
    drop(events);
    drop(progress);
    let stdout = match args.format {
        Format::Text => report::action::render_text(&report, &rerun(&args), &profile.model),
        Format::Json => report::action::render_json(&report),
        Format::Junit => report::junit::render(&collected.events()),
        Format::Log => report::log::render(&collected.events()),
    };
    Outcome {
        stdout,
        stderr: String::new(),
        exit_code: report.exit_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::secret_lines;

    #[test]
    fn a_secret_fd_holds_one_secret_per_line_and_no_trailing_blank_ones() {
        let lines: Vec<Vec<u8>> = secret_lines(b"key-one\r\nkey two\n\nkey-four\n\n".to_vec())
            .into_iter()
            .collect();
        assert_eq!(
            lines,
            [
                b"key-one".to_vec(),
                b"key two".to_vec(),
                Vec::new(),
                b"key-four".to_vec()
            ]
        );
        assert!(secret_lines(b"only\n".to_vec()).len() == 1);
        assert!(secret_lines(Vec::new()).is_empty());
    }
}
