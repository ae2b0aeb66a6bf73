//! Key paths as data (issue 11; DOCFIX-044): the declarations in `sources::keys` are
//! exactly the keys the gates read.
//!
//! For every default world (each phase and moment), every JSON document a gate reads
//! (and the CSV header of haproxy's `show stat`, and the documents inside `juju exec`'s
//! envelope) loses one key name at a time, everywhere it occurs, and the gates that read
//! that document run again. Then:
//! - a gate that turns PRECONDITION must name a declared key path of that document
//!   (by the declaration in its evidence, or by the path of the parse error), and the
//!   declaration must list that gate: every path an accessor or a parser can raise is
//!   declared;
//! - a gate whose verdict changes otherwise read an optional key: that key must be
//!   declared too, with that gate;
//! - every required declaration is reached (some gate goes PRECONDITION naming it) and
//!   every optional one is read (some gate's verdict changes without it): every declared
//!   path is reachable.

use crate::common;
use common::default_worlds;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use stackgate::gates::{self, GateSpec, Mark, Status, Verdict};
use stackgate::profile::Profile;
use stackgate::runner::CommandOutput;
use stackgate::snapshot::{Read, Snapshot};
use stackgate::sources::keys::{self, Doc, Format as DocFormat, KeyPath, Need, Seg};
use stackgate::world::{self, Recording, World};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every fixed-name key of a document (not a map entry keyed by an id, not an array
/// element), by its pattern, with each concrete place it occurs.
fn key_places(doc: Doc, value: &Value) -> BTreeMap<String, Vec<Vec<Step>>> {
    let wildcards: Vec<(Vec<Seg>, String)> = doc
        .wildcards()
        .iter()
        .map(|w| {
            (
                keys::segments(w),
                w.rsplit('.').next().unwrap_or(w).to_string(),
            )
        })
        .collect();
    let mut out: BTreeMap<String, Vec<Vec<Step>>> = BTreeMap::new();
    walk(
        value,
        &mut Vec::new(),
        &mut Vec::new(),
        &wildcards,
        &mut out,
    );
    // A declared key under a map keyed by names (`settings.image-format`,
    // `default-space` in model-defaults) is a key too.
    for k in keys::declared(doc) {
        let mut places = Vec::new();
        exact_places(value, &keys::segments(k.path), &mut Vec::new(), &mut places);
        if !places.is_empty() {
            out.entry(k.path.to_string()).or_insert(places);
        }
    }
    out
}

fn exact_places(value: &Value, segs: &[Seg], steps: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let Some((first, rest)) = segs.split_first() else {
        if matches!(steps.last(), Some(Step::Key(_))) {
            out.push(steps.clone());
        }
        return;
    };
    match (first, value) {
        (Seg::Key(k), Value::Object(m)) => {
            if let Some(v) = m.get(k) {
                steps.push(Step::Key(k.clone()));
                exact_places(v, rest, steps, out);
                steps.pop();
            }
        }
        (Seg::Any, Value::Object(m)) => {
            for (k, v) in m {
                steps.push(Step::Key(k.clone()));
                exact_places(v, rest, steps, out);
                steps.pop();
            }
        }
        (Seg::Elems, Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                steps.push(Step::Index(i));
                exact_places(v, rest, steps, out);
                steps.pop();
            }
        }
        _ => {}
    }
}

fn walk(
    value: &Value,
    segs: &mut Vec<(Seg, String)>,
    steps: &mut Vec<Step>,
    wildcards: &[(Vec<Seg>, String)],
    out: &mut BTreeMap<String, Vec<Vec<Step>>>,
) {
    match value {
        Value::Object(map) => {
            let mut probe: Vec<Seg> = segs.iter().map(|(s, _)| s.clone()).collect();
            probe.push(Seg::Any);
            let wildcard = wildcards.iter().find(|(w, _)| *w == probe).map(|(_, n)| n);
            for (k, v) in map {
                segs.push(match wildcard {
                    Some(name) => (Seg::Any, name.clone()),
                    None => (Seg::Key(k.clone()), k.clone()),
                });
                steps.push(Step::Key(k.clone()));
                if wildcard.is_none() {
                    out.entry(render(segs)).or_default().push(steps.clone());
                }
                walk(v, segs, steps, wildcards, out);
                steps.pop();
                segs.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                segs.push((Seg::Elems, "[]".to_string()));
                steps.push(Step::Index(i));
                walk(v, segs, steps, wildcards, out);
                steps.pop();
                segs.pop();
            }
        }
        _ => {}
    }
}

/// A pattern as the declarations write it (`[].links[].subnet.cidr`).
fn render(segs: &[(Seg, String)]) -> String {
    let mut s = String::new();
    for (seg, name) in segs {
        if *seg != Seg::Elems && !s.is_empty() {
            s.push('.');
        }
        s.push_str(name);
    }
    s
}

/// Whether a rendered pattern is the declaration's (wildcard names aside).
fn same_pattern(rendered: &str, declared: &KeyPath) -> bool {
    keys::segments(rendered) == keys::segments(declared.path)
}

fn remove_at(value: &mut Value, steps: &[Step]) {
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut cur = value;
    for step in parents {
        cur = match (step, cur) {
            (Step::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return,
            },
            (Step::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    if let (Step::Key(k), Value::Object(m)) = (last, cur) {
        m.shift_remove(k);
    }
}

/// One document a gate reads and where it sits in the recording.
enum Layout {
    /// The whole stdout is the document.
    Whole,
    /// Inside `juju exec`'s `<unit>.results.stdout`.
    InExec { unit: String },
}

/// One way to lose a key: which declaration's document, the pattern, the new stdout.
struct Variant {
    doc: Doc,
    pattern: String,
    stdout: Vec<u8>,
}

fn variants(
    read: &Read,
    argv: &[String],
    recording: &Recording,
    wanted: &(dyn Fn(Doc, &str) -> bool + Sync),
) -> Vec<Variant> {
    let doc = read.doc();
    let mut out = Vec::new();
    let is_exec = argv.get(1).map(String::as_str) == Some("exec");
    // Only `juju exec`'s envelope and JSON documents are JSON; a bundle is YAML.
    let outer = match serde_json::from_slice::<Value>(&recording.stdout) {
        Ok(v) => v,
        Err(_) if doc.format() == DocFormat::Yaml && !is_exec => Value::Null,
        Err(_) => {
            if doc.format() == DocFormat::Csv {
                out.extend(
                    csv_variants(doc, &recording.stdout, |b| b)
                        .into_iter()
                        .filter(|v| wanted(doc, &v.pattern)),
                );
            }
            return out;
        }
    };
    let layout = if is_exec && doc != Doc::JujuConfig {
        let unit = outer
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_default();
        // The envelope's own keys.
        for (pattern, places) in key_places(Doc::JujuExec, &outer) {
            if !wanted(Doc::JujuExec, &pattern) {
                continue;
            }
            let mut v = outer.clone();
            for p in &places {
                remove_at(&mut v, p);
            }
            out.push(Variant {
                doc: Doc::JujuExec,
                pattern,
                stdout: serde_json::to_vec(&v).unwrap(),
            });
        }
        Layout::InExec { unit }
    } else {
        Layout::Whole
    };
    let inner_text = match &layout {
        Layout::Whole => String::from_utf8_lossy(&recording.stdout).into_owned(),
        Layout::InExec { unit } => outer[unit.as_str()]["results"]["stdout"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    };
    let embed = |inner: Vec<u8>| -> Vec<u8> {
        match &layout {
            Layout::Whole => inner,
            Layout::InExec { unit } => {
                let mut v = outer.clone();
                v[unit.as_str()]["results"]["stdout"] =
                    Value::String(String::from_utf8(inner).unwrap());
                serde_json::to_vec(&v).unwrap()
            }
        }
    };
    // The document without one key name, written again as its format writes it.
    let mut without_each = |inner: &Value, write: &dyn Fn(&Value) -> Option<Vec<u8>>| {
        for (pattern, places) in key_places(doc, inner) {
            if !wanted(doc, &pattern) {
                continue;
            }
            let mut v = inner.clone();
            for p in &places {
                remove_at(&mut v, p);
            }
            if let Some(bytes) = write(&v) {
                out.push(Variant {
                    doc,
                    pattern,
                    stdout: embed(bytes),
                });
            }
        }
    };
    match doc.format() {
        DocFormat::Json => {
            if let Ok(inner) = serde_json::from_str::<Value>(&inner_text) {
                without_each(&inner, &|v| serde_json::to_vec(v).ok());
            }
        }
        // A bundle: YAML again.
        DocFormat::Yaml => {
            if let Ok(inner) = yaml_serde::from_str::<Value>(&inner_text) {
                without_each(&inner, &|v| {
                    yaml_serde::to_string(v).ok().map(String::into_bytes)
                });
            }
        }
        DocFormat::Csv => out.extend(
            csv_variants(doc, inner_text.as_bytes(), embed)
                .into_iter()
                .filter(|v| wanted(doc, &v.pattern)),
        ),
        DocFormat::Text => {}
    }
    out
}

/// haproxy's CSV without one column, header and cells.
fn csv_variants(doc: Doc, text: &[u8], embed: impl Fn(Vec<u8>) -> Vec<u8>) -> Vec<Variant> {
    let text = String::from_utf8_lossy(text);
    let Some(header) = text.lines().next().and_then(|l| l.strip_prefix("# ")) else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.split(',').collect();
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_empty())
        .map(|(i, c)| {
            let mut out = String::new();
            for (n, line) in text.split_inclusive('\n').enumerate() {
                let (body, nl) = match line.strip_suffix('\n') {
                    Some(b) => (b, "\n"),
                    None => (line, ""),
                };
                if body.is_empty() {
                    out.push_str(line);
                    continue;
                }
                let (prefix, body) = if n == 0 {
                    ("# ", &body[2..])
                } else {
                    ("", body)
                };
                let cells: Vec<&str> = body.split(',').collect();
                let kept: Vec<&str> = cells
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, c)| *c)
                    .collect();
                out.push_str(prefix);
                out.push_str(&kept.join(","));
                out.push_str(nl);
            }
            Variant {
                doc,
                pattern: c.to_string(),
                stdout: embed(out.into_bytes()),
            }
        })
        .collect()
}

/// The declarations a PRECONDITION verdict names, or the evidence it names none in.
fn named(v: &Verdict, doc: Doc) -> (Vec<&'static KeyPath>, Vec<String>) {
    // Compiled once: this runs for every verdict of every probe.
    static PARSE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"failed to parse `[^`]*`: (.*) at `([^`]*)`").unwrap());
    static FIELD: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"missing (?:field|key) `([^`]*)`").unwrap());
    static DECLARED: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"declared `([^`]*)`").unwrap());
    static DAMAGED: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"printed damaged output: .* at (\S+)$").unwrap());
    let (parse, field, declared, damaged) = (&*PARSE, &*FIELD, &*DECLARED, &*DAMAGED);
    let mut found = Vec::new();
    let mut unnamed = Vec::new();
    for e in v.evidence.iter().filter(|e| e.mark == Mark::Missing) {
        let all = format!(
            "{} {} {}",
            e.subject,
            e.actual,
            e.expected.clone().unwrap_or_default()
        );
        let shown: Vec<String> = declared
            .captures_iter(&all)
            .map(|c| c[1].to_string())
            .collect();
        if !shown.is_empty() {
            for shown in shown {
                match keys::all().find(|k| k.to_string() == shown) {
                    Some(k) => found.push(k),
                    None => unnamed.push(format!("unknown declaration `{shown}`")),
                }
            }
            continue;
        }
        if let Some(c) = damaged.captures(&e.actual) {
            let path = c[1].to_string();
            let (doc, path) = match path.split_once("results.stdout") {
                Some((_, inner)) if !inner.is_empty() => {
                    (doc, inner.trim_start_matches('.').to_string())
                }
                _ => (Doc::JujuExec, path),
            };
            match keys::find(doc, &path) {
                Some(k) => found.push(k),
                None => unnamed.push(format!("damaged at `{path}`")),
            }
            continue;
        }
        let text = format!("{} {}", e.subject, e.actual);
        if let Some(c) = parse.captures(&text) {
            let mut path = c[2].to_string();
            if path == "(top level)" {
                path.clear();
            }
            // A document inside `juju exec`: its paths follow `results.stdout`.
            if let Some((_, inner)) = path.split_once("results.stdout") {
                path = inner.trim_start_matches('.').to_string();
            }
            if let Some(f) = field.captures(&c[1]) {
                path = if path.is_empty() {
                    f[1].to_string()
                } else {
                    format!("{path}.{}", &f[1])
                };
            }
            match keys::find(doc, &path) {
                Some(k) => found.push(k),
                None => unnamed.push(format!("parse error at `{path}`: {}", &c[1])),
            }
            continue;
        }
        if let Some(k) = keys::find(doc, &e.subject) {
            found.push(k);
        } else {
            unnamed.push(format!("{} | {} | {}", e.subject, e.property, e.actual));
        }
    }
    (found, unnamed)
}

struct Harness {
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Self {
        Harness {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }
    fn run(&self, gates: &[&'static GateSpec], world: World, profile: &Profile) -> Snapshot {
        let run = common::world_run(gates, world, profile);
        self.runtime.block_on(run.execute_with_snapshot()).0
    }
}

/// `probe(item)` for every item, on every core (each thread with its own harness,
/// taking the next item), in the items' order: the probes are independent.
fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    probe: impl Fn(&Harness, &T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let harness = Harness::new();
                    let mut mine = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(at) else {
                            return mine;
                        };
                        mine.push((at, probe(&harness, item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    done.sort_by_key(|(at, _)| *at);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Declarations by address, with the gates seen reading each.
type Reached = BTreeMap<usize, BTreeSet<&'static str>>;

fn addr(k: &'static KeyPath) -> usize {
    k as *const KeyPath as usize
}

/// What probing one world found.
#[derive(Default)]
struct Findings {
    failures: BTreeSet<String>,
    reached: Reached,
    variants: usize,
}

impl Findings {
    fn merge(&mut self, other: Findings) {
        self.failures.extend(other.failures);
        for (k, gates) in other.reached {
            self.reached.entry(k).or_default().extend(gates);
        }
        self.variants += other.variants;
    }
}

fn discover(line: String) {
    if std::env::var_os("KEY_PATHS_DISCOVER").is_some() {
        eprintln!("DISCOVER\t{line}");
    }
}

/// Removes keys from the documents a world's gates read, one key name at a time, and
/// holds every changed verdict to the declarations. `wanted` picks the variants.
fn probe_world(
    harness: &Harness,
    name: &str,
    gate_list: &[&'static GateSpec],
    wanted: &(dyn Fn(Doc, &str) -> bool + Sync),
) -> Findings {
    let mut found = Findings::default();
    let healthy = World::embedded(name).unwrap();
    let profile = Profile::embedded(&healthy.profile).unwrap();
    let snapshot = harness.run(gate_list, healthy.clone(), &profile);
    let before: Vec<Verdict> = gate_list
        .iter()
        .map(|g| g.run(&snapshot, &profile))
        .collect();
    for read in snapshot.reads().cloned().collect::<Vec<_>>() {
        let invocation = read.invocation();
        let argv = invocation.argv();
        let Some(recording) = healthy.get(argv) else {
            continue;
        };
        // The gates that read this document; an exit gate re-runs its parts, which are
        // checked on their own.
        let readers: Vec<usize> = gate_list
            .iter()
            .enumerate()
            .filter(|(_, g)| !g.id.ends_with("-EXIT"))
            .filter(|(_, g)| {
                (g.reads)(&profile).contains(&read)
                    || g.follow_up
                        .is_some_and(|f| f(&snapshot, &profile).contains(&read))
            })
            .map(|(i, _)| i)
            .collect();
        if readers.is_empty() {
            continue;
        }
        let all: Vec<Variant> = variants(&read, argv, recording, wanted);
        // A YAML document is written again to lose a key; where writing it again with
        // nothing lost already changes a verdict (comments, quoting), its variants
        // would prove nothing.
        if read.doc().format() == DocFormat::Yaml {
            let again = yaml_serde::from_slice::<Value>(&recording.stdout)
                .ok()
                .and_then(|v| yaml_serde::to_string(&v).ok());
            let Some(again) = again else {
                continue;
            };
            let output = CommandOutput {
                argv: argv.to_vec(),
                exit_code: Some(recording.exit),
                stdout: again.into_bytes().into(),
                stderr: recording.stderr.clone(),
                duration: Duration::ZERO,
            };
            let rewritten = snapshot.clone().with(read.clone(), read.parse(&output));
            let same = readers.iter().all(|&i| {
                let v = gate_list[i].run(&rewritten, &profile);
                v.status == before[i].status && v.evidence == before[i].evidence
            });
            if !same {
                eprintln!(
                    "{name}: `{}` written again as YAML reads differently: not probed",
                    read.invocation().display()
                );
                continue;
            }
        }
        // Parsing dominates: the variants in two halves, a thread each (the worlds are
        // probed on every core too, but the largest world's probe is the longest).
        let half = all.len().div_ceil(2).max(1);
        let parts: Vec<Findings> = std::thread::scope(|scope| {
            let handles: Vec<_> = all
                .chunks(half)
                .map(|chunk| {
                    let (read, snapshot, profile, before, readers) =
                        (&read, &snapshot, &profile, &before, &readers);
                    scope.spawn(move || {
                        let mut f = Findings::default();
                        for variant in chunk {
                            probe_variant(
                                name, gate_list, read, argv, recording, snapshot, profile, before,
                                readers, variant, &mut f,
                            );
                        }
                        f
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for part in parts {
            found.merge(part);
        }
    }
    found
}

#[allow(clippy::too_many_arguments)]
fn probe_variant(
    name: &str,
    gate_list: &[&'static GateSpec],
    read: &Read,
    argv: &[String],
    recording: &Recording,
    snapshot: &Snapshot,
    profile: &Profile,
    before: &[Verdict],
    readers: &[usize],
    variant: &Variant,
    found: &mut Findings,
) {
    found.variants += 1;
    let output = CommandOutput {
        argv: argv.to_vec(),
        exit_code: Some(recording.exit),
        stdout: variant.stdout.clone().into(),
        stderr: recording.stderr.clone(),
        duration: Duration::ZERO,
    };
    let changed = snapshot.clone().with(read.clone(), read.parse(&output));
    for &i in readers {
        let gate = gate_list[i];
        let after = gate.run(&changed, profile);
        if after.status == before[i].status && after.evidence == before[i].evidence {
            continue;
        }
        let place = format!(
            "{name} {} without `{}` ({})",
            gate.id, variant.pattern, variant.doc
        );
        let own = keys::declared(variant.doc).find(|k| same_pattern(&variant.pattern, k));
        if after.status == Status::Precondition {
            let (mut keys_named, mut unnamed) = named(&after, variant.doc);
            // A parser that names the place rather than the key (an untagged relation, a
            // row that repeats once a column is gone, stdout that is empty once its key
            // is): the key removed is the one declared.
            if !unnamed.is_empty()
                && let Some(k) = own
            {
                unnamed.clear();
                keys_named.push(k);
            }
            if !unnamed.is_empty() {
                discover(format!(
                    "{}\t{}\t{}\trequired",
                    variant.doc, variant.pattern, gate.id
                ));
            }
            for u in unnamed {
                found
                    .failures
                    .insert(format!("{place}: PRECONDITION names no declaration: {u}"));
            }
            for k in keys_named {
                found.reached.entry(addr(k)).or_default().insert(gate.id);
                if !k.gates.contains(&gate.id) {
                    discover(format!("{}\t{}\t{}\tgate", k.doc, k.path, gate.id));
                    found.failures.insert(format!(
                        "{place}: PRECONDITION on `{k}`, which does not list {}",
                        gate.id
                    ));
                }
            }
        } else {
            match own {
                Some(k) => {
                    found.reached.entry(addr(k)).or_default().insert(gate.id);
                    if !k.gates.contains(&gate.id) {
                        discover(format!("{}\t{}\t{}\tgate", k.doc, k.path, gate.id));
                        found.failures.insert(format!(
                            "{place}: {} -> {}, and `{k}` does not list {}",
                            before[i].status, after.status, gate.id
                        ));
                    }
                }
                None => {
                    discover(format!(
                        "{}\t{}\t{}\toptional",
                        variant.doc, variant.pattern, gate.id
                    ));
                    found.failures.insert(format!(
                        "{place}: {} -> {} ({}), an undeclared key",
                        before[i].status,
                        after.status,
                        after.summary.chars().take(120).collect::<String>()
                    ));
                }
            }
        }
    }
}

/// The phase a fixture world belongs to, by its name (`phase04-network-shared`).
fn phase_of(world: &str) -> Option<&str> {
    let rest = world.split('/').next_back()?.strip_prefix("phase")?;
    rest.get(..2)
}

#[test]
fn declared_key_paths_are_exactly_the_keys_the_gates_read() {
    let mut found = Findings::default();
    // KEY_PATHS_DOC=<source>: probe that source alone (discovery runs).
    let only = std::env::var("KEY_PATHS_DOC").ok();
    let every = |doc: Doc, _: &str| only.as_deref().is_none_or(|o| doc.name() == o);
    let only = &only;
    let defaults = default_worlds();
    for findings in on_every_core(&defaults, |harness, (key, gate_list)| {
        let name = world::default_world("testcloud", key).unwrap();
        probe_world(harness, &name, gate_list, &every)
    }) {
        found.merge(findings);
    }
    // A key the default worlds cannot show read (a DISCOVERED address's owner, a
    // default-space set only at juju's level) is probed on the other worlds of its
    // phase, for that key alone.
    let unreached = |found: &Findings| -> Vec<&'static KeyPath> {
        keys::all()
            // Text documents (`juju config APP KEY`, `stat`) have no keys to remove:
            // their parsers' own tests cover them.
            .filter(|k| !matches!(k.doc.format(), DocFormat::Text))
            .filter(|k| only.as_deref().is_none_or(|o| k.doc.name() == o))
            .filter(|k| !found.reached.contains_key(&addr(k)))
            .collect()
    };
    // Each such key on the first world of its phase that shows it read.
    let names: Vec<String> = world::EMBEDDED
        .get_dir("testcloud")
        .unwrap()
        .dirs()
        .map(|d| d.path().display().to_string())
        .filter(|n| !n.contains("/sim-"))
        .collect();
    // KEY_PATHS_ALL_WORLDS=1: every world of every phase, every key (minutes, not
    // seconds): how an undeclared key read only off the default worlds is found.
    if std::env::var_os("KEY_PATHS_ALL_WORLDS").is_some() {
        for findings in on_every_core(&names, |harness, name| {
            let phase = phase_of(name)?;
            let gate_list: Vec<&'static GateSpec> = gates::all_of_phase(phase)
                .into_iter()
                .filter(|g| g.id.starts_with(&format!("P{phase}")))
                .collect();
            (!gate_list.is_empty()).then(|| probe_world(harness, name, &gate_list, &every))
        })
        .into_iter()
        .flatten()
        {
            found.merge(findings);
        }
    }
    // Each key searched on its own (the worlds in order, until one shows it read), the
    // keys on every core. A search stops on what it found itself, not on what another
    // key's search found, so it may probe more worlds than a search in turn did, never
    // fewer: the findings can only grow.
    let searches = on_every_core(&unreached(&found), |harness, &k| {
        let mut mine = Findings::default();
        for name in &names {
            let Some(phase) = phase_of(name) else {
                continue;
            };
            let gate_list: Vec<&'static GateSpec> = gates::all_of_phase(phase)
                .into_iter()
                .filter(|g| g.id.starts_with(&format!("P{phase}")))
                .collect();
            let world = World::embedded(name).unwrap();
            // Only a world holding the key where it is declared can show it read.
            let shows = world.argvs().any(|a| {
                let out = &world.get(a).unwrap().stdout;
                serde_json::from_slice::<Value>(out)
                    .ok()
                    .or_else(|| yaml_serde::from_slice::<Value>(out).ok())
                    .is_some_and(|v| {
                        // The document inside `juju exec`'s envelope, or the whole.
                        let inner = v
                            .as_object()
                            .and_then(|m| m.values().next())
                            .and_then(|t| t.pointer("/results/stdout"))
                            .and_then(Value::as_str)
                            .and_then(|s| serde_json::from_str::<Value>(s).ok());
                        k.present_in(&v) || inner.is_some_and(|i| k.present_in(&i))
                    })
            });
            if gate_list.is_empty() || !shows {
                continue;
            }
            let wanted = |doc: Doc, pattern: &str| doc == k.doc && same_pattern(pattern, k);
            mine.merge(probe_world(harness, name, &gate_list, &wanted));
            if mine.reached.contains_key(&addr(k)) {
                break;
            }
        }
        mine
    });
    for findings in searches {
        found.merge(findings);
    }
    let mut failures = found.failures.clone();
    for k in unreached(&found) {
        let how = match k.need {
            Need::Required => "no gate went PRECONDITION without it",
            Need::Optional => "no gate's verdict changed without it",
        };
        failures.insert(format!("`{k}` is declared but unreachable: {how}"));
    }
    eprintln!(
        "{} documents each without one key; {} of {} declarations reached",
        found.variants,
        found.reached.len(),
        keys::all().count()
    );
    assert!(found.variants > 500, "{} variants", found.variants);
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.into_iter().collect::<Vec<_>>().join("\n")
    );
}
