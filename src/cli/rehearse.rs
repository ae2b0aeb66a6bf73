//! `stackgate rehearse`: the rebuild on the simulator ([`crate::rehearsal`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::act::{StderrProgress, stamp};
use super::{Format, Outcome};
use crate::events::{Collect, Event, Sink, Tee, Tool};
use crate::rehearsal;
use crate::report;

#[derive(Debug, clap::Args)]
pub struct RehearseArgs {
    /// Start the first leg from this world directory instead of the dirty testcloud
    /// (`fixtures/testcloud/sim-phase00-dirty`).
    #[arg(long, value_name = "DIR")]
    pub world: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Rehearse as on this date (YYYY-MM-DD): the waivers are judged on it, and the
    /// simulated backups are stamped with it. Default: today (UTC).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<chrono::NaiveDate>,
}

pub async fn run(args: RehearseArgs) -> Outcome {
    let mut legs = rehearsal::testcloud();
    if let Some(dir) = &args.world {
        if !dir.join("world.toml").is_file() {
            return Outcome::usage_error(format!(
                "{}: not a fixture world (no world.toml)",
                dir.display()
            ));
        }
        if let Some(first) = legs.first_mut() {
            first.world = dir.display().to_string();
        }
    }
    // A simulated wait takes no time; a spinner shows only on a terminal.
    let spinner = std::io::stderr().is_terminal().then(StderrProgress::new);
    let collected = Collect::new();
    let mut sinks: Vec<&dyn Sink> = vec![&collected];
    if let Some(s) = &spinner {
        sinks.push(s);
    }
    let events = Tee(sinks);
    events.emit(&Event::RunStarted {
        command: "rehearse",
        tool: Tool::this(),
        started: chrono::Utc::now(),
    });
    let started = std::time::Instant::now();
    let stamp = match args.as_of {
        // The rehearsal's date is its stamp's: the day, with this moment's time.
        Some(day) => format!("{}{}", day.format("%Y%m%d"), &stamp()[8..]),
        None => stamp(),
    };
    let result = rehearsal::rehearse(&legs, &events, &stamp).await;
    events.emit(&Event::RunFinished {
        result: if result.passed { "MET" } else { "NOT MET" }.to_string(),
        exit_code: result.exit_code(),
        interrupted: None,
        elapsed: started.elapsed(),
    });
    drop(events);
    drop(spinner);
    Outcome {
        stdout: match args.format {
            Format::Text => report::rehearsal::render_text(&result),
            Format::Json => report::rehearsal::render_json(&result),
            Format::Junit => report::junit::render(&collected.events()),
            Format::Log => report::log::render(&collected.events()),
        },
        stderr: String::new(),
        exit_code: result.exit_code(),
    }
}
