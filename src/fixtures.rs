//! `stackgate fixtures check` and the world half of `stackgate drift` (issue 11): what a
//! CI maintainer runs after juju, MAAS or the OpenStack client changed their output.
//!
//! Every world's commands are classified by the gates that read them (each gate of
//! every phase runs over the world, so an argv maps to the [`Read`] that parses it),
//! then each recording a gate reads is parsed through its source, the declared key
//! paths ([`keys`]) are looked for in it, and the keys it holds that no model reads
//! ([`sources::collect_ignored`]) are listed as notes: an upstream addition surfaces as
//! a reviewed change to the checked-in report, never unseen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::gates;
use crate::profile::Profile;
use crate::runner::{CommandOutput, Logged, Replay, display_argv};
use crate::snapshot::{Read, Reader};
use crate::sources::keys::{self, Doc, Format, KeyPath};
use crate::sources::{self, PathStep, SourceError};
use crate::world::{self, World};

/// One world to check, by the name reports use.
pub struct NamedWorld {
    pub name: String,
    pub world: World,
}

/// Every world under the embedded `fixtures/` (the project's own).
pub fn embedded_worlds() -> Result<Vec<NamedWorld>, String> {
    let mut out = Vec::new();
    let mut dirs = vec![&world::EMBEDDED];
    while let Some(dir) = dirs.pop() {
        for sub in dir.dirs() {
            if sub.get_file(sub.path().join("world.toml")).is_some() {
                let name = sub.path().display().to_string();
                let world = World::embedded(&name).map_err(|e| e.to_string())?;
                out.push(NamedWorld { name, world });
            }
            dirs.push(sub);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Every world at or under each directory (a directory holding `world.toml` is one).
pub fn worlds_under(roots: &[PathBuf]) -> Result<Vec<NamedWorld>, String> {
    let mut out = Vec::new();
    for root in roots {
        let mut stack = vec![root.clone()];
        let before = out.len();
        while let Some(dir) = stack.pop() {
            if dir.join("world.toml").is_file() {
                let world = World::from_dir(&dir).map_err(|e| e.to_string())?;
                out.push(NamedWorld {
                    name: dir.display().to_string(),
                    world,
                });
            }
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(entry.path());
                }
            }
        }
        if out.len() == before {
            return Err(format!("{} holds no fixture world", root.display()));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Which read parses each argv of a world: every gate of every phase asks for its
/// reads (and follow-ups) against the world. An argv no gate asks for is an action's
/// read or the simulator's, outside the gates' schema.
pub async fn classify(world: &World, profile: &Profile) -> BTreeMap<Vec<String>, Read> {
    let runner = Arc::new(Logged::new(Replay::new(world.clone())));
    let reader = Reader::new(runner, Duration::from_secs(5));
    crate::run::read(&gates::catalog(), profile, &reader)
        .await
        .reads()
        .filter(|r| world.get(r.invocation().argv()).is_some())
        .map(|r| (r.invocation().argv().to_vec(), r.clone()))
        .collect()
}

/// A recording's document, as its declared key paths are walked.
pub enum Document {
    Json(Value),
    Columns(Vec<String>),
}

/// The document(s) of one recording of a read: the `juju exec` envelope and what the
/// command printed inside it, or the whole stdout.
pub fn documents(read: &Read, stdout: &[u8]) -> Vec<(Doc, Document)> {
    let doc = read.doc();
    let argv = read.invocation();
    let argv = argv.argv();
    let mut out = Vec::new();
    // `juju exec --format=json` wraps what ran in its task document; without it (the
    // haproxy sweep) stdout is what ran, as printed.
    let enveloped = argv[0] == "juju"
        && argv.get(1).map(String::as_str) == Some("exec")
        && argv.iter().any(|w| w == "--format=json");
    let inner: Vec<u8> = if enveloped {
        let Ok(outer) = serde_json::from_slice::<Value>(stdout) else {
            return out;
        };
        let inner = outer
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|task| task.pointer("/results/stdout"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .as_bytes()
            .to_vec();
        out.push((Doc::JujuExec, Document::Json(outer)));
        inner
    } else {
        stdout.to_vec()
    };
    match doc.format() {
        Format::Json => {
            if let Ok(v) = serde_json::from_slice::<Value>(&inner) {
                out.push((doc, Document::Json(v)));
            }
        }
        Format::Yaml => {
            if let Ok(v) = yaml_serde::from_slice::<Value>(&inner) {
                out.push((doc, Document::Json(v)));
            }
        }
        Format::Csv => {
            let text = String::from_utf8_lossy(&inner);
            if let Some(header) = text.lines().next().and_then(|l| l.strip_prefix("# ")) {
                let columns = header
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect();
                out.push((doc, Document::Columns(columns)));
            }
        }
        Format::Text => {}
    }
    out
}

/// A recording that failed to parse: the world, the argv and why (the parser's own
/// classified message, never the output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    pub world: String,
    pub argv: String,
    pub message: String,
}

/// One source's coverage over every recording of it.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub recordings: usize,
    /// Each declared key path with how many recordings hold it.
    pub keys: Vec<(&'static KeyPath, usize)>,
    /// Keys the recordings hold that no model reads, as patterns.
    pub notes: BTreeSet<String>,
}

/// What `fixtures check` found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub worlds: usize,
    pub commands: usize,
    /// Commands a gate reads, parsed through their source.
    pub read: usize,
    /// Recorded failures (an exit the CLI meant: login expired, no such object), which
    /// parse to the error the gate decides on.
    pub recorded_failures: usize,
    pub parse_failures: Vec<ParseFailure>,
    /// Outputs damaged on purpose (the manifest says why) that the parser refused.
    pub damaged_on_purpose: usize,
    /// Commands no gate reads (an action's, the simulator's), by world.
    pub not_read: usize,
    /// Worlds whose profile is not embedded: their commands cannot be classified.
    pub unclassified: Vec<String>,
    pub sources: BTreeMap<Doc, Coverage>,
}

impl CheckReport {
    /// The declared keys absent from every recording of a source that has recordings.
    pub fn absent_keys(&self) -> Vec<&'static KeyPath> {
        self.sources
            .values()
            .filter(|c| c.recordings > 0)
            .flat_map(|c| c.keys.iter())
            .filter(|(_, n)| *n == 0)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Clean: everything parses and every declared key is in some recording.
    pub fn ok(&self) -> bool {
        self.parse_failures.is_empty() && self.absent_keys().is_empty()
    }
}

/// Checks every world (see the module's doc).
pub async fn check(worlds: &[NamedWorld], profile: Option<&Profile>) -> CheckReport {
    let mut report = CheckReport {
        worlds: worlds.len(),
        ..CheckReport::default()
    };
    let mut present: BTreeMap<usize, usize> = BTreeMap::new();
    for named in worlds {
        let world = &named.world;
        report.commands += world.argvs().count();
        let profile = match profile
            .cloned()
            .or_else(|| Profile::embedded(&world.profile))
        {
            Some(p) => p,
            None => {
                report.unclassified.push(named.name.clone());
                continue;
            }
        };
        let reads = classify(world, &profile).await;
        report.not_read += world.argvs().count() - reads.len();
        for (argv, read) in &reads {
            let recording = world.get(argv).expect("classified from the world");
            report.read += 1;
            let output = CommandOutput {
                argv: argv.clone(),
                exit_code: Some(recording.exit),
                stdout: recording.stdout.clone(),
                stderr: recording.stderr.clone(),
                duration: Duration::ZERO,
            };
            let (parsed, ignored) = sources::collect_ignored(|| read.parse(&output));
            if let Some(why) = &recording.damaged {
                match parsed {
                    Err(SourceError::Parse { .. } | SourceError::Damaged { .. }) => {
                        report.damaged_on_purpose += 1;
                    }
                    _ => report.parse_failures.push(ParseFailure {
                        world: named.name.clone(),
                        argv: display_argv(argv),
                        message: format!("the manifest says it is damaged ({why}), but it parses"),
                    }),
                }
                continue;
            }
            match parsed {
                Err(SourceError::Parse { message, path, .. }) => {
                    report.parse_failures.push(ParseFailure {
                        world: named.name.clone(),
                        argv: display_argv(argv),
                        message: format!("{message} at `{path}`"),
                    });
                    continue;
                }
                Err(SourceError::Damaged { damage, .. }) => {
                    report.parse_failures.push(ParseFailure {
                        world: named.name.clone(),
                        argv: display_argv(argv),
                        message: format!("damaged: {damage}"),
                    });
                    continue;
                }
                Err(_) => {
                    report.recorded_failures += 1;
                    continue;
                }
                Ok(_) => {}
            }
            for (doc, document) in documents(read, &recording.stdout) {
                let coverage = report.sources.entry(doc).or_default();
                coverage.recordings += 1;
                for key in keys::declared(doc) {
                    let holds = match &document {
                        Document::Json(v) => key.present_in(v),
                        Document::Columns(c) => key.present_in_columns(c),
                    };
                    if holds {
                        *present.entry(key as *const KeyPath as usize).or_default() += 1;
                    }
                }
            }
            let outer = read.doc();
            for key in ignored {
                let doc = if key.nested || !read_is_exec(read) {
                    outer
                } else {
                    Doc::JujuExec
                };
                report
                    .sources
                    .entry(doc)
                    .or_default()
                    .notes
                    .insert(pattern_of(doc, &key.steps));
            }
        }
    }
    for (doc, coverage) in report.sources.iter_mut() {
        coverage.keys = keys::declared(*doc)
            .map(|k| {
                (
                    k,
                    present
                        .get(&(k as *const KeyPath as usize))
                        .copied()
                        .unwrap_or(0),
                )
            })
            .collect();
    }
    report
}

fn read_is_exec(read: &Read) -> bool {
    let inv = read.invocation();
    let argv = inv.argv();
    argv.first().map(String::as_str) == Some("juju")
        && argv.get(1).map(String::as_str) == Some("exec")
}

/// A concrete path as a pattern: keys of the maps the document keys by id or name
/// become their wildcard (`applications.<app>.charm-rev`), array elements `[]`.
pub fn pattern_of(doc: Doc, steps: &[PathStep]) -> String {
    let wildcards: Vec<(Vec<keys::Seg>, &str)> = doc
        .wildcards()
        .into_iter()
        .map(|w| (keys::segments(w), w.rsplit('.').next().unwrap_or(w)))
        .collect();
    let mut segs: Vec<keys::Seg> = Vec::new();
    let mut shown = String::new();
    for step in steps {
        match step {
            PathStep::Index => {
                segs.push(keys::Seg::Elems);
                shown.push_str("[]");
            }
            PathStep::Key(k) => {
                let mut probe = segs.clone();
                probe.push(keys::Seg::Any);
                let name = wildcards
                    .iter()
                    .find(|(w, _)| *w == probe)
                    .map(|(_, n)| (*n).to_string());
                if !shown.is_empty() {
                    shown.push('.');
                }
                match name {
                    Some(n) => {
                        shown.push_str(&n);
                        segs.push(keys::Seg::Any);
                    }
                    None => {
                        shown.push_str(k);
                        segs.push(keys::Seg::Key(k.clone()));
                    }
                }
            }
        }
    }
    shown
}

/// Two recordings of the same command, each parsed as its source's document.
pub struct DriftPair {
    pub argv: String,
    pub doc: Doc,
    pub old: Value,
    pub new: Value,
}

/// The commands two worlds both recorded, each as its document (the envelope of a
/// `juju exec` and what ran inside it are two pairs).
pub async fn drift_pairs(old: &World, new: &World, profile: &Profile) -> Vec<DriftPair> {
    let reads = classify(old, profile).await;
    let mut out = Vec::new();
    for (argv, read) in reads {
        let (Some(a), Some(b)) = (old.get(&argv), new.get(&argv)) else {
            continue;
        };
        let olds = documents(&read, &a.stdout);
        let news = documents(&read, &b.stdout);
        for (doc, old_doc) in olds {
            let Some((_, new_doc)) = news.iter().find(|(d, _)| *d == doc) else {
                continue;
            };
            let as_value = |d: &Document| match d {
                Document::Json(v) => v.clone(),
                Document::Columns(c) => {
                    Value::Object(c.iter().map(|k| (k.clone(), Value::from(""))).collect())
                }
            };
            out.push(DriftPair {
                argv: display_argv(&argv),
                doc,
                old: as_value(&old_doc),
                new: as_value(new_doc),
            });
        }
    }
    out
}

/// A file given to `drift`: read whole.
pub fn read_document(path: &Path, doc: Doc) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match doc.format() {
        Format::Json => serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not one JSON document: {e}", path.display())),
        Format::Yaml => yaml_serde::from_slice(&bytes)
            .map_err(|e| format!("{} is not a YAML document: {e}", path.display())),
        Format::Csv => {
            let text = String::from_utf8_lossy(&bytes);
            let header = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# "))
                .ok_or_else(|| format!("{} has no `# ` CSV header", path.display()))?;
            Ok(Value::Object(
                header
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(|c| (c.to_string(), Value::from("")))
                    .collect(),
            ))
        }
        Format::Text => Err(format!(
            "{doc} is text, read by lines: drift compares JSON, YAML and CSV documents"
        )),
    }
}
