//! `stackgate record`: a phase's gates run through the [`Record`] backend, and the
//! commands they read become a fixture world (issue 11; fixtures/README.md).
//!
//! `--live` reads the cloud; `--world DIR` answers from a world (re-recording it through
//! the redactor); both together answer what the world holds from it and run the rest
//! live (the `@needs-openstack` scenarios record the real client's output that way).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{
    GateRun, Outcome, PlainFormat as Format, Signals, choose_gates, live_for, profile_for,
};
use crate::profile::Profile;
use crate::redact::Redactor;
use crate::report;
use crate::run::RunOptions;
use crate::runner::{CommandRunner, DEFAULT_TIMEOUT, Layered, Logged, Record, Replay};
use crate::snapshot::DEFAULT_JOBS;
use crate::world::World;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The phase whose gates' reads are recorded: 02, 03, ...
    #[arg(long)]
    pub phase: String,
    /// A later moment of the phase (phase 02: init, unseal, authorize).
    #[arg(long, value_name = "NAME")]
    pub moment: Option<String>,
    /// Read the cloud through the real CLIs on this machine.
    #[arg(long)]
    pub live: bool,
    /// Answer from this fixture world first; with --live, only what it lacks runs live.
    #[arg(long, value_name = "DIR")]
    pub world: Option<PathBuf>,
    /// Site profile (TOML). Default: the world's, else the embedded testcloud profile.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Record only what these gates read (repeatable).
    #[arg(long = "gate", value_name = "ID")]
    pub gates: Vec<String>,
    /// The world directory to write. Refused if it holds anything, unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace what --out holds.
    #[arg(long)]
    pub force: bool,
    /// One line on the state the world captures (its manifest's `description`).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Seconds one command may run before its process group is killed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Commands run at most this many at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_JOBS)]
    pub jobs: usize,
}

pub async fn run(args: RecordArgs) -> Outcome {
    let (run, log) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(message) => return Outcome::usage_error(message),
    };
    let mut signals = match Signals::watch() {
        Ok(signals) => signals,
        Err(e) => {
            return Outcome::usage_error(format!("cannot watch for SIGINT and SIGTERM: {e}"));
        }
    };
    let report = tokio::select! {
        report = run.execute() => report,
        signal = async {
            let signal = signals.recv().await;
            run.runner.interrupt();
            signal
        } => {
            // A run cut short records nothing: a world must hold every read its gates
            // make, or it replays as a different cloud.
            let report = run.interrupted(signal);
            let mut stdout = match args.format {
                Format::Text => report::render_text(&report),
                Format::Json => report::render_json(&report),
            };
            stdout.push_str("recorded nothing: the run was interrupted\n");
            return Outcome { stdout, stderr: String::new(), exit_code: report.exit_code };
        }
    };
    let description = args.description.clone().unwrap_or_else(|| {
        format!(
            "recorded by stackgate {} record --phase {}{} from {}",
            env!("CARGO_PKG_VERSION"),
            run.phase,
            args.moment
                .as_ref()
                .map(|m| format!(" --moment {m}"))
                .unwrap_or_default(),
            run.runner.describe()
        )
    });
    let mut stdout = match args.format {
        Format::Text => report::render_text(&report),
        Format::Json => report::render_json(&report),
    };
    match log.write_world(&args.out, &run.profile.name, &description, args.force) {
        Ok(written) => {
            if args.format == Format::Text {
                stdout.push_str(&report::render_recorded(&written));
            }
            Outcome {
                stdout,
                stderr: String::new(),
                exit_code: report.exit_code,
            }
        }
        Err(e) => Outcome {
            stdout,
            stderr: format!("stackgate: record: {e}\n"),
            exit_code: 2,
        },
    }
}

/// The validated run and the log its world is written from.
fn prepare(args: &RecordArgs) -> Result<(GateRun, Arc<crate::runner::RecordLog>), String> {
    let (phase, gates) = choose_gates(&args.phase, args.moment.as_deref(), &args.gates)?;
    if !args.live && args.world.is_none() {
        return Err("record reads through --live, --world DIR, or both".into());
    }
    if args.timeout == 0 {
        return Err("--timeout must be at least 1 second".into());
    }
    if args.jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    let explicit = match &args.profile {
        Some(path) => Some(Profile::from_file(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let world = match &args.world {
        Some(dir) => Some(World::from_dir(dir).map_err(|e| e.to_string())?),
        None => None,
    };
    let profile = match &world {
        Some(w) => profile_for(explicit, w)?,
        None => explicit.unwrap_or_else(Profile::testcloud),
    };
    let inner: Arc<dyn CommandRunner> = match (world, args.live) {
        (Some(w), true) => Arc::new(Layered::new(Replay::new(w), live_for(&profile))),
        (Some(w), false) => Arc::new(Replay::new(w)),
        (None, _) => Arc::new(live_for(&profile)),
    };
    // The environment's credentials (OS_PASSWORD, VAULT_TOKEN, ...) are known secrets.
    let record = Record::new(inner, Redactor::from_env(std::env::vars()));
    let log = record.log();
    Ok((
        GateRun {
            options: RunOptions {
                timeout: Duration::from_secs(args.timeout),
                jobs: args.jobs,
                ..RunOptions::default()
            },
            ..GateRun::new(&phase, gates, profile, Logged::new(record))
        },
        log,
    ))
}
