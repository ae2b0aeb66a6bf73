//! `stackgate rehearse`: the rebuild on the simulator ([`crate::rehearsal`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use super::act::{StderrProgress, stamp};
use super::{Format, Outcome};
use crate::actions::wait::{Progress, Silent};
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
    let spinner;
    let progress: &dyn Progress = if std::io::stderr().is_terminal() {
        spinner = StderrProgress::new();
        &spinner
    } else {
        &Silent
    };
    let result = rehearsal::rehearse(&legs, progress, &stamp()).await;
    Outcome {
        stdout: match args.format {
            Format::Text => report::rehearsal::render_text(&result),
            Format::Json => report::rehearsal::render_json(&result),
        },
        stderr: String::new(),
        exit_code: result.exit_code(),
    }
}
