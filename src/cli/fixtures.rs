//! `stackgate fixtures check [DIR ...]` and `stackgate drift OLD NEW`.

use std::path::PathBuf;

use super::{Outcome, PlainFormat as Format};
use crate::drift::{self, Shape};
use crate::fixtures;
use crate::profile::Profile;
use crate::report::fixtures::{DriftSection, render_check, render_drift};
use crate::sources::keys::{self, Doc};
use crate::world::World;

#[derive(Debug, clap::Args)]
pub struct FixturesArgs {
    #[command(subcommand)]
    pub command: FixturesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum FixturesCommand {
    /// Parse every recording a gate reads through its source; per source, the declared
    /// key paths and whether each is in some recording; the keys no model reads.
    Check {
        /// Directories of worlds (searched recursively). Default: the project's
        /// fixtures, as embedded in this binary.
        dirs: Vec<PathBuf>,
        /// The profile to classify every world with (default: each world's own).
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The older recording: a stdout file, or a world directory.
    pub old: PathBuf,
    /// The newer recording of the same command, or a world directory.
    pub new: PathBuf,
    /// For two files: the source they are (`juju-status`, `maas-machines`,
    /// `openstack-subnet-show`, ...; a wrong name lists them all).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// For two worlds: the profile to classify their commands with (default: the old
    /// world's own).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub async fn run_check(args: FixturesArgs) -> Outcome {
    let FixturesCommand::Check { dirs, profile } = args.command;
    let worlds = if dirs.is_empty() {
        fixtures::embedded_worlds()
    } else {
        fixtures::worlds_under(&dirs)
    };
    let worlds = match worlds {
        Ok(w) => w,
        Err(e) => return Outcome::usage_error(e),
    };
    let profile = match profile.map(|p| Profile::from_file(&p)) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return Outcome::usage_error(e.to_string()),
    };
    let report = fixtures::check(&worlds, profile.as_ref()).await;
    Outcome {
        stdout: render_check(&report),
        stderr: String::new(),
        exit_code: if report.ok() { 0 } else { 1 },
    }
}

/// The maps a source keys by id or name: its own declaration's wildcards and the
/// drift module's lists for the big documents.
fn wildcards(doc: Doc) -> Vec<&'static str> {
    let mut out = doc.wildcards();
    let extra: &[&str] = match doc {
        Doc::JujuStatus => drift::JUJU_STATUS_WILDCARDS,
        Doc::MaasMachines => drift::MAAS_MACHINES_WILDCARDS,
        _ => &[],
    };
    for w in extra {
        if !out.contains(w) {
            out.push(w);
        }
    }
    out
}

fn section(
    argv: String,
    doc: Doc,
    old: &serde_json::Value,
    new: &serde_json::Value,
) -> DriftSection {
    let w = wildcards(doc);
    let changes = drift::diff(&Shape::of(old, &w), &Shape::of(new, &w));
    let declared: Vec<(&str, &[&str])> = keys::declared(doc).map(|k| (k.path, k.gates)).collect();
    // A change strictly below a declared path is left out: the declarations list the
    // containers the parsers require (`machines`, `machines.<id>`), which no gate reads
    // whole, so below them only a declared leaf of their own counts.
    let impacts = drift::impacts(&changes, &declared)
        .into_iter()
        .filter(|m| m.relation != drift::Relation::Inside)
        .collect();
    DriftSection {
        argv,
        source: doc.name().to_string(),
        changes,
        impacts,
    }
}

pub async fn run_drift(args: DriftArgs) -> Outcome {
    let sections = match sections(&args).await {
        Ok(s) => s,
        Err(e) => return Outcome::usage_error(e),
    };
    let affected = sections
        .iter()
        .flat_map(|s| s.impacts.iter())
        .any(|m| m.relation != drift::Relation::Inside);
    let stdout = match args.format {
        Format::Text => render_drift(&sections),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&sections).expect("drift serializes");
            s.push('\n');
            s
        }
    };
    Outcome {
        stdout,
        stderr: String::new(),
        exit_code: i32::from(affected),
    }
}

async fn sections(args: &DriftArgs) -> Result<Vec<DriftSection>, String> {
    if args.old.is_dir() && args.new.is_dir() {
        let old = World::from_dir(&args.old).map_err(|e| e.to_string())?;
        let new = World::from_dir(&args.new).map_err(|e| e.to_string())?;
        let profile = match &args.profile {
            Some(p) => Profile::from_file(p).map_err(|e| e.to_string())?,
            None => super::profile_for(None, &old)?,
        };
        let pairs = fixtures::drift_pairs(&old, &new, &profile).await;
        return Ok(pairs
            .into_iter()
            .map(|p| section(p.argv, p.doc, &p.old, &p.new))
            .collect());
    }
    let every = Doc::ALL
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(", ");
    let name = args
        .source
        .as_deref()
        .ok_or_else(|| format!("two files need --source NAME, one of: {every}"))?;
    let doc =
        Doc::from_name(name).ok_or_else(|| format!("no source {name:?}; sources: {every}"))?;
    let old = fixtures::read_document(&args.old, doc)?;
    let new = fixtures::read_document(&args.new, doc)?;
    Ok(vec![section(
        format!("{} -> {}", args.old.display(), args.new.display()),
        doc,
        &old,
        &new,
    )])
}
