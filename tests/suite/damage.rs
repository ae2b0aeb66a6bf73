//! Malformed input is never PASS (issue 8 section 2; the DOCFIX-044 class): damaged
//! copies of every default world's outputs, generated for every source kind, must give
//! PRECONDITION naming the argv, never PASS, PROCEED or SKIP.
//!
//! For each default world (every phase and moment) and each gate that passes on it, the
//! gate runs alone to learn which argvs it reads; then each of those outputs is damaged
//! in every way below, one at a time, and the gate runs again on the damaged world.

use crate::common;
use common::default_worlds;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde_json::Value;
use stackgate::cli::GateRun;
use stackgate::gates::{GateSpec, Status, Verdict};
use stackgate::profile::Profile;
use stackgate::runner::{CommandOutput, display_argv};
use stackgate::snapshot::Snapshot;
use stackgate::world::{self, Recording, World};

/// A damaged copy of one recording, or `None` where the damage does not apply.
type Damager = fn(&Recording) -> Option<Recording>;

fn with_stdout(r: &Recording, stdout: Vec<u8>) -> Recording {
    Recording {
        stdout: stdout.into(),
        ..r.clone()
    }
}

fn is_json(r: &Recording) -> bool {
    serde_json::from_slice::<Value>(&r.stdout).is_ok()
}

/// The damage every source kind gets.
const DAMAGE: &[(&str, Damager)] = &[
    ("empty", |r| {
        Some(Recording {
            stdout: Default::default(),
            stderr: vec![],
            exit: 0,
            ..r.clone()
        })
    }),
    ("whitespace", |r| {
        Some(Recording {
            stdout: b" \n\t\n".to_vec().into(),
            stderr: vec![],
            exit: 0,
            ..r.clone()
        })
    }),
    ("truncated", |r| {
        let text = std::str::from_utf8(&r.stdout).ok()?;
        if text.trim().is_empty() {
            return None;
        }
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        Some(with_stdout(r, text.as_bytes()[..cut].to_vec()))
    }),
    ("truncated at a line boundary", |r| {
        // Everything after the last complete non-empty line is lost: a table without
        // its closing blank line, a dump without its last row.
        let text = std::str::from_utf8(&r.stdout).ok()?;
        let lines: Vec<&str> = text.lines().collect();
        let keep = lines.iter().rposition(|l| !l.trim().is_empty())?;
        if keep == 0 {
            return None;
        }
        let mut out = lines[..keep].join("\n");
        out.push('\n');
        Some(with_stdout(r, out.into_bytes()))
    }),
    ("banner before", |r| {
        if r.stdout.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let mut out = b"WARNING: the connection to the controller was slow\n".to_vec();
        out.extend_from_slice(&r.stdout);
        Some(with_stdout(r, out))
    }),
    ("trailing garbage", |r| {
        if r.stdout.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let mut out = r.stdout.to_vec();
        out.extend_from_slice(b"ERROR: connection reset by peer\n");
        Some(with_stdout(r, out))
    }),
    ("second document", |r| {
        if r.stdout.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let mut out = r.stdout.to_vec();
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.extend_from_slice(&r.stdout);
        Some(with_stdout(r, out))
    }),
    ("null", |r| Some(with_stdout(r, b"null\n".to_vec()))),
    ("wrong type", |r| Some(with_stdout(r, b"42\n".to_vec()))),
    ("duplicate key or row", |r| {
        if is_json(r) {
            duplicate_first_key(&r.stdout).map(|out| with_stdout(r, out))
        } else {
            // A text table or listing: its last row given twice.
            let text = std::str::from_utf8(&r.stdout).ok()?;
            let lines: Vec<&str> = text.lines().collect();
            let last = lines.iter().rposition(|l| !l.trim().is_empty())?;
            let mut out: Vec<&str> = lines[..=last].to_vec();
            out.push(lines[last]);
            out.extend_from_slice(&lines[last + 1..]);
            let mut joined = out.join("\n");
            if text.ends_with('\n') {
                joined.push('\n');
            }
            Some(with_stdout(r, joined.into_bytes()))
        }
    }),
    ("non-UTF-8", |r| {
        // Inside the first string (a key or value no gate may read), or mid-text.
        if r.stdout.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let at = r
            .stdout
            .iter()
            .position(|b| *b == b'"')
            .map_or(r.stdout.len() / 2, |q| q + 1);
        let mut out = r.stdout.to_vec();
        out.splice(at..at, [0xff, 0xfe]);
        Some(with_stdout(r, out))
    }),
    ("exit status flipped with the same stdout", |r| {
        if r.stdout.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(Recording {
            exit: if r.exit == 0 { 1 } else { 0 },
            ..r.clone()
        })
    }),
    ("stderr only", |r| {
        Some(Recording {
            stdout: Default::default(),
            stderr: b"ERROR something went wrong\n".to_vec(),
            exit: 0,
            ..r.clone()
        })
    }),
    ("nested: trailing garbage", |r| {
        nested(r, |inner| {
            let mut out = inner.to_string();
            out.push_str("ERROR: connection reset by peer\n");
            Some(out)
        })
    }),
    ("nested: second document", |r| {
        nested(r, |inner| {
            (!inner.trim().is_empty()).then(|| format!("{inner}\n{inner}"))
        })
    }),
    ("nested: empty", |r| {
        nested(r, |inner| (!inner.is_empty()).then(String::new))
    }),
    ("nested: NUL byte", |r| {
        nested(r, |inner| {
            let cut = inner.find(char::is_whitespace).unwrap_or(inner.len() / 2);
            (!inner.is_empty()).then(|| format!("{}\0{}", &inner[..cut], &inner[cut..]))
        })
    }),
    ("nested: duplicate key", |r| {
        nested(r, |inner| {
            let out = duplicate_first_key(inner.as_bytes())?;
            String::from_utf8(out).ok()
        })
    }),
];

/// A JSON text with the first object's first key given a second time, first.
fn duplicate_first_key(stdout: &[u8]) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_slice(stdout).ok()?;
    let object = match &value {
        Value::Object(m) => m,
        Value::Array(a) => a.first()?.as_object()?,
        _ => return None,
    };
    let key = object.keys().next()?;
    let brace = stdout.iter().position(|b| *b == b'{')?;
    let mut out = stdout[..=brace].to_vec();
    out.extend_from_slice(format!("{}:null,", Value::from(key.as_str())).as_bytes());
    out.extend_from_slice(&stdout[brace + 1..]);
    Some(out)
}

/// `juju exec --format=json`: damage what the remote command printed, inside the
/// task's `results.stdout`, and keep juju's document well formed around it.
fn nested(r: &Recording, damage: impl Fn(&str) -> Option<String>) -> Option<Recording> {
    let mut doc: Value = serde_json::from_slice(&r.stdout).ok()?;
    let tasks = doc.as_object_mut()?;
    let task = tasks.values_mut().next()?;
    let results = task.get_mut("results")?.as_object_mut()?;
    let inner = results
        .get("stdout")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let damaged = damage(&inner)?;
    results.insert("stdout".into(), Value::from(damaged));
    let mut out = serde_json::to_vec(&doc).ok()?;
    out.push(b'\n');
    Some(with_stdout(r, out))
}

/// Every schema key in a document, each once: the names of struct fields, not the
/// data that keys a map (unit names, machine ids, CIDRs, application names), whose
/// renaming is another cloud, not damage. A map is an object below the top level with
/// two or more entries that are all objects, or a key that holds `/`, `.` or `:` or
/// starts with a digit.
fn keys(value: &Value, depth: usize, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(m) => {
            let is_map = depth > 0 && m.len() >= 2 && m.values().all(Value::is_object);
            for (k, v) in m {
                let data =
                    k.contains(['/', '.', ':']) || k.starts_with(|c: char| c.is_ascii_digit());
                if !is_map && !data {
                    out.insert(k.clone());
                }
                keys(v, depth + 1, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, depth + 1, out)),
        _ => {}
    }
}

/// A bundle's schema keys: the top level's and every application's.
fn yaml_schema_keys(bytes: &[u8]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(doc) = yaml_serde::from_slice::<yaml_serde::Value>(bytes) else {
        return out;
    };
    let Some(top) = doc.as_mapping() else {
        return out;
    };
    for (k, v) in top {
        if let Some(k) = k.as_str() {
            out.insert(k.to_string());
        }
        if k.as_str() == Some("applications")
            && let Some(apps) = v.as_mapping()
        {
            for app in apps.values().filter_map(|a| a.as_mapping()) {
                out.extend(app.keys().filter_map(|k| k.as_str().map(str::to_string)));
            }
        }
    }
    out
}

/// Keys a CLI leaves out when they are empty: a renamed one is the same output with the
/// key left out, which is legal, so the verdict is whatever that output means.
/// - juju prints these `omitempty` (cmd/juju/status/formatted.go, whoami.go, the
///   model-defaults formatter);
/// - python-openstackclient drops an image's keys whose value is None
///   (image/v2/image.py `_format_image`).
fn omittable(argv: &[String], key: &str) -> bool {
    const JUJU: &[&str] = &[
        "message",
        "since",
        "version",
        "leader",
        "current",
        "status",
        "model",
        "controller",
    ];
    match argv.first().map(String::as_str) {
        // `juju exec` always prints its task's `status` and `results`.
        Some("juju") if argv.get(1).map(String::as_str) == Some("exec") => {
            matches!(key, "message" | "stdout" | "stderr")
        }
        Some("juju") => JUJU.contains(&key),
        Some("openstack") => {
            argv.get(1).map(String::as_str) == Some("image")
                && matches!(key, "disk_format" | "visibility")
        }
        _ => false,
    }
}

/// Renames every occurrence of one key (never a value that happens to be equal).
fn rename_key(stdout: &[u8], key: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(stdout).ok()?;
    let quoted = Value::from(key).to_string();
    let renamed = Value::from(format!("{key}-renamed")).to_string();
    let pattern = regex::Regex::new(&format!(r"{}(\s*:)", regex::escape(&quoted))).ok()?;
    let out = pattern.replace_all(text, format!("{}$1", renamed.replace('$', "$$")));
    Some(out.into_owned().into_bytes())
}

struct Harness {
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    /// The binary's run on a world: the same pipeline `stackgate gate --world` runs.
    fn gate_run(gates: &[&'static GateSpec], world: World, profile: &Profile) -> GateRun {
        common::world_run(gates, world, profile)
    }
    /// Runs gates on a healthy snapshot with one read's output replaced and parsed
    /// again: the same parse and the same gate functions the binary runs, without
    /// re-parsing every unchanged output. `None` when the damage changes which follow-up
    /// reads the gates ask for (then only a whole run is faithful).
    fn substitute(
        base: &Snapshot,
        gates: &[&'static GateSpec],
        profile: &Profile,
        argv: &[String],
        recording: &Recording,
    ) -> Option<Vec<Verdict>> {
        let read = base
            .reads()
            .find(|r| r.invocation().argv() == argv)?
            .clone();
        let output = CommandOutput {
            argv: argv.to_vec(),
            exit_code: Some(recording.exit),
            stdout: recording.stdout.clone(),
            stderr: recording.stderr.clone(),
            duration: Duration::ZERO,
        };
        let parsed = read.parse(&output);
        let snapshot = base.clone().with(read, parsed);
        let follow_ups_unchanged = gates
            .iter()
            .filter_map(|g| g.follow_up)
            .all(|f| f(&snapshot, profile).iter().all(|r| snapshot.holds(r)));
        follow_ups_unchanged.then(|| {
            stackgate::run::verdicts(
                gates,
                &snapshot,
                profile,
                common::TODAY.parse().expect("a date"),
            )
        })
    }

    /// Runs gates together on a world: each output is read and parsed once for all.
    fn run(
        &self,
        gates: &[&'static GateSpec],
        world: World,
        profile: &Profile,
    ) -> (Vec<Verdict>, Vec<String>) {
        let (verdicts, reads, _) = self.run_with_snapshot(gates, world, profile);
        (verdicts, reads)
    }

    /// The whole report of a run on a world, call records included.
    fn report(
        &self,
        gates: &[&'static GateSpec],
        world: World,
        profile: &Profile,
    ) -> stackgate::report::RunReport {
        let run = Harness::gate_run(gates, world, profile);
        self.runtime.block_on(run.execute())
    }

    fn run_with_snapshot(
        &self,
        gates: &[&'static GateSpec],
        world: World,
        profile: &Profile,
    ) -> (Vec<Verdict>, Vec<String>, Snapshot) {
        let run = Harness::gate_run(gates, world, profile);
        let (snapshot, report) = self.runtime.block_on(run.execute_with_snapshot());
        let reads = report.reads.iter().map(|r| r.argv.clone()).collect();
        (report.verdicts, reads, snapshot)
    }
}

fn text_of(v: &Verdict) -> String {
    let mut out = v.summary.clone();
    for e in &v.evidence {
        out.push_str(&format!(
            "\n{} {} {} {:?}",
            e.subject, e.property, e.actual, e.expected
        ));
    }
    out
}

/// Where damage may legitimately decide a gate FAIL (never PASS): the damaged output is
/// itself a well-formed answer of the CLI about content the gate judges.
fn legal_answer(variant: &str, argv: &str) -> Option<&'static str> {
    let shortened = matches!(
        variant,
        "empty" | "whitespace" | "truncated at a line boundary" | "nested: empty"
    ) || variant == "renamed key `stdout`";
    if argv.starts_with("ls -A") {
        // Each line is a file name: any text that is not blank and names no entry twice
        // is a listing, and the gate asks only whether there is one.
        return Some("`ls -A` prints names: a shorter or longer listing is another directory");
    }
    if argv.starts_with("cat -- ")
        && argv.ends_with(".yaml")
        && variant == "truncated at a line boundary"
    {
        return Some("a bundle cut at a line boundary is a shorter bundle: its checks judge it");
    }
    if argv.starts_with("cat -- ") && !argv.ends_with(".yaml") {
        return Some("the pointer file's text is the subject: any other text fails the check");
    }
    if argv.contains(" sed -n ") || argv.starts_with("sed -n ") {
        if shortened {
            return Some("sed printed fewer labels: the file holds fewer, which fails the gate");
        }
        if matches!(
            variant,
            "duplicate key or row" | "second document" | "nested: second document"
        ) {
            return Some("a label printed twice: the file assigns it twice, which fails the gate");
        }
        if matches!(variant, "null" | "wrong type") {
            return Some("sed prints what matched: one more line is one more match");
        }
    }
    if argv.starts_with("juju config ") && argv.split_whitespace().count() == 6 {
        // `juju config -m M APP KEY` prints the value as text: any line is a value.
        return Some("one option's value, as text: another value fails the comparison");
    }
    None
}

/// What one default world gives to damage: each argv its passing gates read, with
/// those gates and their healthy verdicts.
struct Subject {
    world: String,
    healthy: World,
    /// Every gate of the world run on the healthy world together.
    snapshot: Arc<Snapshot>,
    profile: Profile,
    argv: Vec<String>,
    gates: Vec<(&'static GateSpec, Verdict)>,
}

fn subjects(harness: &Harness, failures: &mut Vec<String>) -> Vec<Subject> {
    let mut out = Vec::new();
    for (key, gate_list) in default_worlds() {
        let name = world::default_world("testcloud", &key).unwrap();
        let healthy = World::embedded(&name).unwrap();
        let profile = Profile::embedded(&healthy.profile).unwrap();
        let mut by_argv: std::collections::BTreeMap<
            Vec<String>,
            Vec<(&'static GateSpec, Verdict)>,
        > = Default::default();
        for gate in gate_list {
            let (verdicts, reads) = harness.run(&[gate], healthy.clone(), &profile);
            let verdict = verdicts.into_iter().next().expect("one gate ran");
            if !matches!(
                verdict.status,
                Status::Pass | Status::Proceed | Status::Skip | Status::Waived
            ) {
                failures.push(format!(
                    "{name} {}: healthy verdict {}",
                    gate.id, verdict.status
                ));
                continue;
            }
            for argv in healthy.argvs().filter(|a| reads.contains(&display_argv(a))) {
                by_argv
                    .entry(argv.clone())
                    .or_default()
                    .push((gate, verdict.clone()));
            }
        }
        let every: Vec<&'static GateSpec> = by_argv
            .values()
            .flatten()
            .map(|(g, _)| *g)
            .collect::<Vec<_>>();
        let mut every_unique: Vec<&'static GateSpec> = Vec::new();
        for g in every {
            if !every_unique.iter().any(|u| u.id == g.id) {
                every_unique.push(g);
            }
        }
        let snapshot = if every_unique.is_empty() {
            Arc::new(Snapshot::default())
        } else {
            Arc::new(
                harness
                    .run_with_snapshot(&every_unique, healthy.clone(), &profile)
                    .2,
            )
        };
        for (argv, gates) in by_argv {
            out.push(Subject {
                world: name.clone(),
                healthy: healthy.clone(),
                snapshot: snapshot.clone(),
                profile: profile.clone(),
                argv,
                gates,
            });
        }
    }
    out
}

#[test]
fn damaged_outputs_of_every_default_world_are_never_pass() {
    let harness = Harness::new();
    let mut failures: Vec<String> = Vec::new();
    let mut checked = 0usize;
    let mut kinds: BTreeSet<String> = BTreeSet::new();
    for subject in subjects(&harness, &mut failures) {
        let Subject {
            world: name,
            healthy,
            snapshot,
            profile,
            argv,
            gates,
        } = subject;
        let shown = display_argv(&argv);
        let original = healthy.get(&argv).unwrap().clone();
        kinds.insert(source_kind(&argv));
        let specs: Vec<&'static GateSpec> = gates.iter().map(|(g, _)| *g).collect();
        let damaged_world = |specs: &[&'static GateSpec], recording: Recording| {
            Harness::substitute(&snapshot, specs, &profile, &argv, &recording).unwrap_or_else(
                || {
                    let mut world = healthy.clone();
                    world.set(argv.clone(), recording);
                    harness.run(specs, world, &profile).0
                },
            )
        };
        for (variant, damage) in DAMAGE {
            let Some(damaged) = damage(&original) else {
                continue;
            };
            if damaged == original {
                continue;
            }
            for v in damaged_world(&specs, damaged) {
                checked += 1;
                let text = text_of(&v);
                let pointer = shown.starts_with("cat -- ") && !shown.ends_with(".yaml");
                let ok = match v.status {
                    // A damaged pointer names another directory: the gate cannot list
                    // it and names that `ls` instead.
                    Status::Precondition => text.contains(&shown) || pointer,
                    Status::Fail => legal_answer(variant, &shown).is_some(),
                    // `ls` and a bundle cut at a line are the only damage that can
                    // still be a well-formed answer the gate passes.
                    Status::Pass => {
                        // What is still a listing of other names: text that is neither
                        // blank nor repeats a line (a blank or repeated line is refused).
                        (shown.starts_with("ls -A")
                            && matches!(
                                *variant,
                                "truncated"
                                    | "truncated at a line boundary"
                                    | "banner before"
                                    | "trailing garbage"
                                    | "null"
                                    | "wrong type"
                            ))
                            || (shown.ends_with(".yaml")
                                && *variant == "truncated at a line boundary")
                    }
                    _ => false,
                };
                if !ok {
                    failures.push(format!(
                        "{name} {} [{variant}] `{shown}`: {} {}",
                        v.id,
                        v.status,
                        v.summary.chars().take(160).collect::<String>()
                    ));
                }
            }
        }
        // A renamed key either changes nothing (no gate reads it) or is PRECONDITION
        // naming it: never another verdict from a serde default. JSON documents rename
        // every schema key; a bundle its top-level keys and each application's (the
        // keys below those are charm options and endpoint names).
        let renames: Vec<(String, Vec<u8>)> = if shown.ends_with(".yaml") {
            let text = String::from_utf8_lossy(&original.stdout);
            yaml_schema_keys(&original.stdout)
                .into_iter()
                .map(|k| {
                    let pattern =
                        regex::Regex::new(&format!(r"(?m)^(\s*){}:", regex::escape(&k))).unwrap();
                    let renamed = pattern.replace_all(&text, format!("${{1}}{k}-renamed:"));
                    (k, renamed.into_owned().into_bytes())
                })
                .collect()
        } else if let Ok(doc) = serde_json::from_slice::<Value>(&original.stdout) {
            let mut names = BTreeSet::new();
            keys(&doc, 0, &mut names);
            names
                .into_iter()
                .filter_map(|k| rename_key(&original.stdout, &k).map(|out| (k, out)))
                .collect()
        } else {
            Vec::new()
        };
        // A phase's exit gate re-runs its parts, each checked here on its own; leaving
        // it out keeps a rename from re-reading the whole phase.
        let parts: Vec<(&'static GateSpec, Verdict)> = gates
            .iter()
            .filter(|(g, _)| !g.id.ends_with("-EXIT"))
            .cloned()
            .collect();
        let part_specs: Vec<&'static GateSpec> = parts.iter().map(|(g, _)| *g).collect();
        if part_specs.is_empty() {
            continue;
        }
        for (k, stdout) in renames {
            for (v, (_, healthy_verdict)) in
                damaged_world(&part_specs, with_stdout(&original, stdout))
                    .iter()
                    .zip(&parts)
            {
                checked += 1;
                let same =
                    v.status == healthy_verdict.status && v.evidence == healthy_verdict.evidence;
                let named = v.status == Status::Precondition && text_of(v).contains(&k);
                let omitted = omittable(&argv, &k);
                let content = v.status == Status::Fail
                    && legal_answer(&format!("renamed key `{k}`"), &shown).is_some();
                if !(same || named || omitted || content) {
                    failures.push(format!(
                        "{name} {} [renamed key `{k}`] `{shown}`: {} {}",
                        v.id,
                        v.status,
                        v.summary.chars().take(160).collect::<String>()
                    ));
                }
            }
        }
    }
    eprintln!(
        "{checked} damaged verdicts over {} source kinds: {}",
        kinds.len(),
        kinds.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    // A floor, so a change that stops the corpus reaching the sources cannot pass it.
    assert!(
        checked > 5000 && kinds.len() >= 30,
        "{checked} verdicts over {} kinds",
        kinds.len()
    );
    assert!(
        failures.is_empty(),
        "{} damaged outputs were not PRECONDITION naming their argv:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A name for the kind of source an argv reads, for the coverage line.
fn source_kind(argv: &[String]) -> String {
    let words: Vec<&str> = argv
        .iter()
        .map(String::as_str)
        .skip_while(|w| *w == "sudo" || *w == "-n")
        .collect();
    match words.as_slice() {
        ["juju", "exec", rest @ ..] => {
            let inner = rest
                .iter()
                .skip_while(|w| **w != "--")
                .nth(1)
                .unwrap_or(&"?");
            format!("juju exec {inner}")
        }
        ["maas", _profile, a, b, ..] => format!("maas {a} {b}"),
        ["virsh", "-c", _, sub, ..] => format!("virsh {sub}"),
        ["openstack", a, b, ..] => format!("openstack {a} {b}"),
        [a, b, ..] if !b.starts_with('-') || *a == "juju" => format!("{a} {b}"),
        [a, ..] => a.to_string(),
        [] => "?".into(),
    }
}

/// A secret as a CLI might print it by mistake: a vault token, an unseal share and a
/// password in one recognisable string no gate reads.
const CANARY: &str = "hvs.CANARY7f3a9cSECRETunsealQm9vdA==";

/// Where a canary is planted: stderr, stdout garbage, a value of the wrong type, a
/// `juju exec` task's message and the remote command's stderr.
const PLANTS: &[(&str, Damager)] = &[
    ("stderr of a failure", |r| {
        Some(Recording {
            stdout: Default::default(),
            stderr: format!("ERROR token {CANARY} rejected\n").into_bytes(),
            exit: 1,
            ..r.clone()
        })
    }),
    ("stdout that is not the CLI's", |r| {
        Some(with_stdout(r, format!("{CANARY}\n").into_bytes()))
    }),
    ("after the output", |r| {
        let mut out = r.stdout.to_vec();
        out.extend_from_slice(format!("{CANARY}\n").as_bytes());
        Some(with_stdout(r, out))
    }),
    ("a value of the wrong type", |r| {
        // The first number or boolean becomes a string: serde names the type it
        // expected, never the value.
        let text = std::str::from_utf8(&r.stdout).ok()?;
        serde_json::from_str::<Value>(text).ok()?;
        static SCALAR: LazyLock<regex::Regex> = LazyLock::new(|| {
            regex::Regex::new(r#":\s*(-?[0-9][0-9.]*|true|false)\s*([,}\]])"#).unwrap()
        });
        let out = SCALAR.replacen(text, 1, format!(":\"{CANARY}\"$2"));
        (out != text).then(|| with_stdout(r, out.into_owned().into_bytes()))
    }),
    ("a task message", |r| {
        let mut doc: Value = serde_json::from_slice(&r.stdout).ok()?;
        let task = doc.as_object_mut()?.values_mut().next()?.as_object_mut()?;
        task.get("results")?;
        task.insert("status".into(), Value::from("failed"));
        task.insert("message".into(), Value::from(CANARY));
        task.remove("results");
        Some(Recording {
            stdout: serde_json::to_vec(&doc).ok()?.into(),
            exit: 1,
            ..r.clone()
        })
    }),
    ("the remote stderr", |r| {
        let mut doc: Value = serde_json::from_slice(&r.stdout).ok()?;
        let task = doc.as_object_mut()?.values_mut().next()?.as_object_mut()?;
        let results = task.get_mut("results")?.as_object_mut()?;
        results.insert("return-code".into(), Value::from(1));
        results.insert("stderr".into(), Value::from(format!("{CANARY}\n")));
        results.remove("stdout");
        Some(Recording {
            stdout: serde_json::to_vec(&doc).ok()?.into(),
            exit: 1,
            ..r.clone()
        })
    }),
];

/// Outputs whose text a gate shows by design (file names of the backup directory, one
/// option's value): a canary there is data the operator asked to see, not a leak.
fn shown_by_design(argv: &str) -> bool {
    argv.starts_with("ls -A")
        || (argv.starts_with("juju config ") && argv.split_whitespace().count() == 6)
}

#[test]
fn no_canary_reaches_a_report_from_any_source() {
    let harness = Harness::new();
    let mut failures = Vec::new();
    let mut planted = 0usize;
    let mut whole_runs = BTreeSet::new();
    for subject in subjects(&harness, &mut failures) {
        let shown = display_argv(&subject.argv);
        let original = subject.healthy.get(&subject.argv).unwrap().clone();
        let specs: Vec<&'static GateSpec> = subject.gates.iter().map(|(g, _)| *g).collect();
        for (place, plant) in PLANTS {
            if shown_by_design(&shown)
                && matches!(*place, "stdout that is not the CLI's" | "after the output")
            {
                continue;
            }
            let Some(recording) = plant(&original) else {
                continue;
            };
            let verdicts = Harness::substitute(
                &subject.snapshot,
                &specs,
                &subject.profile,
                &subject.argv,
                &recording,
            )
            .unwrap_or_else(|| {
                let mut world = subject.healthy.clone();
                world.set(subject.argv.clone(), recording.clone());
                harness.run(&specs, world, &subject.profile).0
            });
            planted += 1;
            // Once per world and source kind, the whole run: its call records too.
            let report =
                if whole_runs.insert((subject.world.clone(), source_kind(&subject.argv), *place)) {
                    let mut world = subject.healthy.clone();
                    world.set(subject.argv.clone(), recording.clone());
                    harness.report(&specs, world, &subject.profile)
                } else {
                    stackgate::report::RunReport::new(
                        specs[0].phase,
                        "world".into(),
                        subject.profile.name.clone(),
                        verdicts,
                        &[],
                    )
                };
            let text = stackgate::report::render_text(&report);
            let json = stackgate::report::render_json(&report);
            // The planted fragment, not "CANARY": P00-RELEASE-CANARY is a gate's name.
            let leaked = |t: &str| t.to_ascii_lowercase().contains("7f3a9csecret");
            if leaked(&text) || leaked(&json) || leaked(&format!("{report:?}")) {
                failures.push(format!("{} [{place}] `{shown}`", subject.world));
            }
        }
    }
    eprintln!("{planted} canaries planted");
    assert!(
        failures.is_empty(),
        "a canary reached a report:\n{}",
        failures.join("\n")
    );
    assert!(planted > 300, "only {planted} canaries were planted");
}

/// Past the profile's output bound a read is PRECONDITION naming the argv and the bound,
/// from a recorded world as from the live runner (issue 8: a 100 MB status took 873 MB).
#[test]
fn an_output_past_the_bound_is_precondition_from_a_world_too() {
    let harness = Harness::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut seen_worlds = BTreeSet::new();
    for subject in subjects(&harness, &mut failures) {
        // One argv of each kind per world keeps this a whole run per case.
        if !seen_worlds.insert((subject.world.clone(), source_kind(&subject.argv))) {
            continue;
        }
        let mut profile = subject.profile.clone();
        profile.runner.max_output_mib = 1;
        let original = subject.healthy.get(&subject.argv).unwrap().clone();
        let mut stdout = original.stdout.to_vec();
        stdout.extend(std::iter::repeat_n(b'\n', (1 << 20) + 1));
        let mut world = subject.healthy.clone();
        world.set(subject.argv.clone(), with_stdout(&original, stdout));
        let specs: Vec<&'static GateSpec> = subject.gates.iter().map(|(g, _)| *g).collect();
        let shown = display_argv(&subject.argv);
        for v in harness.run(&specs, world, &profile).0 {
            checked += 1;
            let text = text_of(&v);
            if v.status != Status::Precondition || !text.contains(&shown) || !text.contains("1 MiB")
            {
                failures.push(format!(
                    "{} {} `{shown}`: {} {}",
                    subject.world, v.id, v.status, v.summary
                ));
            }
        }
    }
    assert!(checked > 40, "only {checked} verdicts checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
