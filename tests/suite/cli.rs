//! Process-level tests of the `stackgate` binary: exit codes and reports on every
//! fixture world, a real recording dropped into a world, `--live` against fake `juju`
//! scripts (argv dedup, timeout and process-group kill, password prompt with stdin
//! closed or on a real terminal, the output bound, SIGINT and SIGTERM mid-run), the JSON
//! document, usage errors, and insta snapshots of the text reports.
//!
//! Fake CLIs are bash scripts written into a tempdir that is put first on PATH; they
//! only `cat` fixture files, so nothing here reaches the network.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use predicates::prelude::*;
use serde_json::Value;

use crate::common;
use common::{TODAY, status_of, verdict};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

const STATUS_ARGV: &str = "juju status -m openstack --format=json";
const WHOAMI_ARGV: &str = "juju whoami --format=json";
const MODELS_ARGV: &str = "juju models --format=json";
/// P02-SEALED reads `vault status` on vault/0 through juju exec.
const VAULT_STATUS_ARGV: &str = "juju exec -m openstack --unit vault/0 --format=json -- vault status -format=json -address=http://127.0.0.1:8200";
/// Every argv phase 02 runs, sorted: P02-A reads whoami (client store only) and models
/// (a controller call that proves the session); P02-B..E read status; P02-SEALED reads
/// vault status on the vault unit.
const PHASE02_ARGVS: [&str; 4] = [VAULT_STATUS_ARGV, MODELS_ARGV, STATUS_ARGV, WHOAMI_ARGV];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/testcloud/<name>`, absolute.
fn world(name: &str) -> PathBuf {
    manifest_dir().join("fixtures").join("testcloud").join(name)
}

fn stackgate() -> Command {
    let mut cmd = Command::cargo_bin("stackgate").expect("the stackgate binary is built");
    // A safety net: no test here should come anywhere near this.
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Runs `stackgate <args> --format json` and returns (exit code, parsed document).
fn gate_json(args: &[&str]) -> (i32, Value) {
    let output = stackgate()
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("stackgate runs");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout of {args:?} is not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let code = output.status.code().expect("stackgate exits with a code");
    (code, doc)
}

/// Runs phase `phase` on fixture world `name` with `--format json`.
fn gate_on_world(phase: &str, name: &str) -> (i32, Value) {
    let dir = world(name);
    assert!(
        dir.join("world.toml").is_file(),
        "fixture world {} is not there yet",
        dir.display()
    );
    gate_json(&[
        "gate",
        "--phase",
        phase,
        "--world",
        dir.to_str().unwrap(),
        "--as-of",
        TODAY,
    ])
}

/// Every verdict's (id, status), for assertion messages and whole-run checks.
fn statuses(doc: &Value) -> BTreeMap<String, String> {
    doc["verdicts"]
        .as_array()
        .expect("verdicts is an array")
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The evidence lines of a verdict with the given mark ("bad", "missing", ...).
fn evidence_marked<'a>(doc: &'a Value, id: &str, mark: &str) -> Vec<&'a Value> {
    verdict(doc, id)["evidence"]
        .as_array()
        .expect("evidence is an array")
        .iter()
        .filter(|e| e["mark"] == mark)
        .collect()
}

fn assert_run(doc: &Value, code: i32, expected_code: i32, expected_result: &str) {
    assert_eq!(
        code,
        expected_code,
        "exit code; verdicts: {:?}",
        statuses(doc)
    );
    assert_eq!(doc["exit_code"], expected_code, "exit_code in the document");
    assert_eq!(
        doc["result"],
        expected_result,
        "verdicts: {:?}",
        statuses(doc)
    );
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// One unit of a `juju status` document, principal or subordinate.
struct UnitInfo<'a> {
    name: String,
    /// Key path, e.g. `applications.keystone.units.keystone/0.subordinates.keystone-hacluster/0`.
    path: String,
    subordinate: bool,
    unit: &'a Value,
}

/// Walks every unit of a raw `juju status --format=json` document (the fixture itself,
/// not stackgate's model of it), so the tests find the faulty unit independently.
fn units_of(status: &Value) -> Vec<UnitInfo<'_>> {
    fn push<'a>(
        out: &mut Vec<UnitInfo<'a>>,
        name: &str,
        unit: &'a Value,
        path: String,
        subordinate: bool,
    ) {
        if let Some(subs) = unit.get("subordinates").and_then(Value::as_object) {
            for (sub_name, sub) in subs {
                push(
                    out,
                    sub_name,
                    sub,
                    format!("{path}.subordinates.{sub_name}"),
                    true,
                );
            }
        }
        out.push(UnitInfo {
            name: name.to_string(),
            path,
            subordinate,
            unit,
        });
    }
    let mut out = Vec::new();
    for (app, application) in status["applications"].as_object().expect("applications") {
        if let Some(units) = application.get("units").and_then(Value::as_object) {
            for (name, unit) in units {
                push(
                    &mut out,
                    name,
                    unit,
                    format!("applications.{app}.units.{name}"),
                    false,
                );
            }
        }
    }
    out
}

/// Whether an evidence line's subject names this unit as a word ("unit glance/0",
/// "glance/0: ..."), not as a prefix of another unit's name.
fn names_unit(evidence: &Value, unit: &str) -> bool {
    evidence["subject"]
        .as_str()
        .unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == ':')
        .any(|word| word == unit)
}

fn current<'a>(unit: &'a Value, key: &str) -> Option<&'a str> {
    unit.get(key)?.get("current")?.as_str()
}

/// `stackgate` output of an unbounded-stdin run: code (None if we had to kill it),
/// stdout, stderr and wall time.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Runs the binary with PATH led by `path_first`, its stdin a pipe this test holds open
/// and never writes (so a child that inherited stackgate's stdin would block on a read
/// instead of seeing EOF), and kills it after `limit`.
fn run_bounded(args: &[&str], path_first: &Path, limit: Duration) -> Run {
    Started::new(args, path_first, |_| {}).finish(limit)
}

/// A stackgate started as [`run_bounded`] starts it, still running: the test can signal
/// it before collecting its output.
struct Started {
    child: std::process::Child,
    started: Instant,
    held_stdin: Option<std::process::ChildStdin>,
    out_reader: thread::JoinHandle<String>,
    err_reader: thread::JoinHandle<String>,
}

impl Started {
    /// `configure` may change the command before it spawns (a controlling terminal).
    fn new(
        args: &[&str],
        path_first: &Path,
        configure: impl FnOnce(&mut std::process::Command),
    ) -> Started {
        let mut path = vec![path_first.to_path_buf()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stackgate"));
        command
            .args(args)
            .env("PATH", std::env::join_paths(path).expect("PATH joins"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        configure(&mut command);
        let mut child = command.spawn().expect("stackgate spawns");
        let started = Instant::now();
        let held_stdin = child.stdin.take();
        let mut out = child.stdout.take().expect("stdout piped");
        let mut err = child.stderr.take().expect("stderr piped");
        let out_reader = thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err_reader = thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Started {
            child,
            started,
            held_stdin,
            out_reader,
            err_reader,
        }
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits in i32")
    }

    /// Waits up to `limit` from now for stackgate to exit (killing it past that) and
    /// collects what it printed.
    fn finish(mut self, limit: Duration) -> Run {
        let waiting = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break Some(status);
            }
            if waiting.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        drop(self.held_stdin);
        Run {
            code: status.and_then(|s| s.code()),
            stdout: self.out_reader.join().expect("stdout reader"),
            stderr: self.err_reader.join().expect("stderr reader"),
            elapsed,
        }
    }
}

/// Polls `done` every 20 ms for up to `limit`; panics with `what` if it never holds.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "gave up after {limit:?} waiting until {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// True while `pid` is a live process: /proc/<pid> exists and is not a zombie. A killed
/// process whose parent is gone may stay a zombie if PID 1 does not reap; it is dead.
fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Format: `pid (comm) S ...`; comm may hold spaces or parens, so split at the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("?");
    !matches!(state, "Z" | "X" | "x")
}

fn pid_cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// A fake `juju` in its own tempdir: a bash script that logs its argv to `calls.log`
/// and its pid to `pids`, then runs `body` (which can use `$FAKE_DIR`). Dropping it
/// SIGKILLs (by pid) any process it recorded that is still alive and still a sleep or
/// the script, then removes the dir.
struct FakeJuju {
    dir: TempDir,
}

impl FakeJuju {
    fn new(body: &str) -> FakeJuju {
        let dir = tempfile::Builder::new()
            .prefix("stackgate-fake-juju-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path().display().to_string();
        assert!(
            !d.contains('\''),
            "tempdir path must not hold a single quote"
        );
        let script = format!(
            "#!/bin/bash\n\
             # Fake juju written by tests/suite/cli.rs. Never touches the network.\n\
             FAKE_DIR='{d}'\n\
             echo \"$*\" >> \"$FAKE_DIR/calls.log\"\n\
             echo \"$$\" >> \"$FAKE_DIR/pids\"\n\
             {body}\n"
        );
        let path = dir.path().join("juju");
        std::fs::write(&path, script).expect("write fake juju");
        set_mode(&path, 0o755);
        FakeJuju { dir }
    }

    /// The healthy pre-vault cloud: status, whoami, models and the exec of `vault
    /// status` (sealed: juju prints the task and exits 1) from the fixture, anything
    /// else an error.
    fn healthy() -> FakeJuju {
        let fixture = |f: &str| world("phase02-pre-vault").join(f).display().to_string();
        FakeJuju::new(&format!(
            "case \"$*\" in\n\
             \x20 'status -m openstack --format=json') cat '{}' ;;\n\
             \x20 'whoami --format=json') cat '{}' ;;\n\
             \x20 'models --format=json') cat '{}' ;;\n\
             \x20 '{}') cat '{}'; cat '{}' >&2; exit 1 ;;\n\
             \x20 *) echo \"ERROR fake juju: unexpected argv: $*\" >&2; exit 1 ;;\n\
             esac",
            fixture("juju-status.json"),
            fixture("juju-whoami.json"),
            fixture("juju-models.json"),
            VAULT_STATUS_ARGV.strip_prefix("juju ").unwrap(),
            fixture("juju-exec-vault-status.json"),
            fixture("juju-exec-vault-status.stderr"),
        ))
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every argv the fake ran, one line each, in order.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Every pid the fake recorded (its own, and grandchildren a body writes there).
    fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.dir().join("pids"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Polls up to `grace` for every recorded pid to be gone; returns the live ones.
    fn survivors_after(&self, grace: Duration) -> Vec<(u32, String)> {
        let started = Instant::now();
        loop {
            let alive: Vec<(u32, String)> = self
                .pids()
                .into_iter()
                .filter(|&p| pid_alive(p))
                .map(|p| (p, pid_cmdline(p)))
                .collect();
            if alive.is_empty() || started.elapsed() > grace {
                return alive;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeJuju {
    fn drop(&mut self) {
        // Clean up after a failed assertion: only pids this fake recorded, only while
        // they still look like ours (pid reuse), one by one.
        for pid in self.pids() {
            let cmd = pid_cmdline(pid);
            if pid_alive(pid) && (cmd.contains("sleep") || cmd.contains("juju")) {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// A fake body that hangs: a `sleep 1000` child, its pid recorded so the test can prove
/// it was killed (and kill it if not), and a `wait` for it.
const HANG: &str = "sleep 1000 &\necho \"$!\" >> \"$FAKE_DIR/pids\"\nwait";

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

// ---------------------------------------------------------------------------------
// 1. Fresh-clone commands (embedded default worlds)
// ---------------------------------------------------------------------------------

/// Seed 004 phase-02 pre-flight census: 31 principals, 63 units; active 51, blocked 2,
/// waiting 9, unknown 1. A fresh clone must reproduce it with no flags at all.
#[test]
fn fresh_clone_phase02_passes_and_prints_the_seed_004_census() {
    stackgate()
        .args(["gate", "--phase", "02"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "units=63 (principals=31 subordinates=32) active=51 blocked=2 waiting=9 maintenance=0 unknown=1 workload-error=0 juju-status-error=0",
        ))
        .stdout(predicate::str::contains("world testcloud/phase02-pre-vault"))
        // P02-D is PROCEED, which ranks above PASS in a run.
        .stdout(predicate::str::contains("result: PROCEED (exit 0)"));
}

#[test]
fn fresh_clone_phase03_passes_on_the_settled_world_with_finding_1_waived() {
    stackgate()
        .args(["gate", "--phase", "03", "--as-of", TODAY])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("world testcloud/phase03-settled"))
        .stdout(predicate::str::contains("WAIVED        P03-ACCEPT"))
        .stdout(predicate::str::contains("waived   unit keystone/0: policy override = PO (broken): Unit is ready (waived by FINDING-1 until 2027-06-30: "))
        .stdout(predicate::str::contains(
            "result: WAIVED (exit 0; waivers judged as of 2026-12-07)",
        ));
}

#[test]
fn list_prints_every_gate_with_its_phase_and_tags() {
    let output = stackgate()
        .arg("list")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let expected = [
        ("P02-A", "02"),
        ("P02-B", "02"),
        ("P02-C", "02"),
        ("P02-D", "02"),
        ("P02-E", "02"),
        ("P02-SEALED", "02"),
        ("P02-INIT", "02"),
        ("P02-UNSEALED", "02"),
        ("P02-AUTHORIZED", "02"),
        ("P03-ACCEPT", "03"),
        ("P03-OPENRC", "03"),
    ];
    for (id, phase) in expected {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no line for {id} in:\n{stdout}"));
        assert!(line.contains(&format!("phase {phase}")), "{line}");
        for tag in [
            format!("@phase-{phase}"),
            format!("@gate-{id}"),
            "@read-only".to_string(),
        ] {
            assert!(
                line.split_whitespace().any(|w| w == tag),
                "{id}: no tag {tag} in {line:?}"
            );
        }
    }
    // Every line, including gates of other phases, has the same shape:
    // `<ID> phase <NN> @phase-<NN> @gate-<ID> ...`, and IDs are unique.
    let mut ids = Vec::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words.len() >= 5, "{line:?}");
        let (id, phase) = (words[0], words[2]);
        assert_eq!(words[1], "phase", "{line:?}");
        assert_eq!(words[3], format!("@phase-{phase}"), "{line:?}");
        assert_eq!(words[4], format!("@gate-{id}"), "{line:?}");
        assert!(id.starts_with(&format!("P{phase}-")), "{line:?}");
        assert!(
            words
                .iter()
                .any(|w| *w == "@read-only" || *w == "@mutation"),
            "every gate is tagged read-only or mutation: {line:?}"
        );
        ids.push(id);
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "gate ids are unique:\n{stdout}");
}

// ---------------------------------------------------------------------------------
// 2. Exit codes on every fixture world (fixtures/README.md table)
// ---------------------------------------------------------------------------------

#[test]
fn world_phase02_pre_vault_passes_every_gate() {
    let (code, doc) = gate_on_world("02", "phase02-pre-vault");
    assert_run(&doc, code, 0, "PROCEED");
    for id in ["P02-A", "P02-B", "P02-C", "P02-E"] {
        assert_eq!(status_of(&doc, id), "PASS", "{id}");
    }
    assert_eq!(status_of(&doc, "P02-D"), "PROCEED");
    assert_eq!(status_of(&doc, "P02-SEALED"), "PROCEED");
}

/// The irreversibility guard: an initialized (sealed) vault must stop `vault operator
/// init` from being run again.
#[test]
fn world_vault_initialized_holds_p02_d() {
    let (code, doc) = gate_on_world("02", "phase02-vault-initialized");
    assert_run(&doc, code, 1, "HOLD");
    assert_eq!(status_of(&doc, "P02-D"), "HOLD");
    // vault's own status agrees with juju's: initialized, so no second init.
    assert_eq!(status_of(&doc, "P02-SEALED"), "HOLD");
    for id in ["P02-A", "P02-B", "P02-C", "P02-E"] {
        assert_eq!(status_of(&doc, id), "PASS", "{id}");
    }
}

#[test]
fn world_mysql_offline_fails_p02_c() {
    let (code, doc) = gate_on_world("02", "phase02-mysql-offline");
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P02-C"), "FAIL");
    assert!(!evidence_marked(&doc, "P02-C", "bad").is_empty());
    assert_eq!(status_of(&doc, "P02-D"), "PROCEED");
}

#[test]
fn world_mysql_two_rw_fails_p02_c() {
    let (code, doc) = gate_on_world("02", "phase02-mysql-two-rw");
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P02-C"), "FAIL");
    let bad = evidence_marked(&doc, "P02-C", "bad");
    assert!(
        bad.iter()
            .any(|e| e["property"].as_str().unwrap_or("").contains("Mode: R/W")),
        "P02-C must name the R/W count: {bad:?}"
    );
}

/// Issue 8 section 1: every unit active and one R/W, but MySQL Shell's statusText says
/// " 1 member is not active.": a substring match of the ONLINE text passed it.
#[test]
fn world_mysql_member_recovering_fails_p02_c_though_every_unit_is_active() {
    for world in [
        "phase02-mysql-member-recovering",
        "phase02-mysql-members-recovering",
    ] {
        let (code, doc) = gate_on_world("02", world);
        assert_run(&doc, code, 1, "FAIL");
        assert_eq!(status_of(&doc, "P02-C"), "FAIL", "{world}");
        assert_eq!(verdict(&doc, "P02-C")["metrics"]["online"], 0, "{world}");
        assert_eq!(
            verdict(&doc, "P02-C")["metrics"]["read_write"],
            1,
            "{world}"
        );
        for id in ["P02-A", "P02-B", "P02-E"] {
            assert_eq!(status_of(&doc, id), "PASS", "{world} {id}");
        }
    }
}

/// DOCFIX-044: a subordinate's failed hook, in the shape juju 3.6 prints it
/// (workload-status error, juju-status idle), must fail P02-E and name the unit.
#[test]
fn world_subordinate_hook_error_fails_p02_e_naming_the_unit() {
    let name = "phase02-subordinate-hook-error";
    let status = read_json(&world(name).join("juju-status.json"));
    let faulty: Vec<_> = units_of(&status)
        .into_iter()
        .filter(|u| current(u.unit, "workload-status") == Some("error"))
        .collect();
    assert_eq!(faulty.len(), 1, "the world has one unit in error");
    let unit = &faulty[0];
    assert!(unit.subordinate, "{} is a subordinate", unit.name);
    assert_eq!(
        current(unit.unit, "juju-status"),
        Some("idle"),
        "juju's shape"
    );

    let (code, doc) = gate_on_world("02", name);
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P02-E"), "FAIL");
    let bad = evidence_marked(&doc, "P02-E", "bad");
    assert!(
        bad.iter()
            .any(|e| { names_unit(e, &unit.name) && e["property"] == "workload-status" }),
        "P02-E must name {}: {bad:?}",
        unit.name
    );
    assert_eq!(verdict(&doc, "P02-E")["metrics"]["workload_error"], 1);
}

/// DOCFIX-044: the unit agent state is `juju-status` (units have no `agent-status`); a
/// subordinate with juju-status error must fail P02-E, and the evidence says juju-status.
#[test]
fn world_subordinate_agent_error_fails_p02_e_on_juju_status() {
    let name = "phase02-subordinate-agent-error";
    let status = read_json(&world(name).join("juju-status.json"));
    let faulty: Vec<_> = units_of(&status)
        .into_iter()
        .filter(|u| current(u.unit, "juju-status") == Some("error"))
        .collect();
    assert_eq!(
        faulty.len(),
        1,
        "the world has one unit with juju-status error"
    );
    let unit = &faulty[0];
    assert!(unit.subordinate, "{} is a subordinate", unit.name);
    assert_ne!(current(unit.unit, "workload-status"), Some("error"));

    let (code, doc) = gate_on_world("02", name);
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P02-E"), "FAIL");
    let bad = evidence_marked(&doc, "P02-E", "bad");
    assert!(
        bad.iter()
            .any(|e| { names_unit(e, &unit.name) && e["property"] == "juju-status" }),
        "P02-E must name {} with juju-status: {bad:?}",
        unit.name
    );
    assert_eq!(verdict(&doc, "P02-E")["metrics"]["juju_status_error"], 1);
}

#[test]
fn world_workload_error_fails_p02_e_naming_the_principal() {
    let name = "phase02-workload-error";
    let status = read_json(&world(name).join("juju-status.json"));
    let faulty: Vec<_> = units_of(&status)
        .into_iter()
        .filter(|u| current(u.unit, "workload-status") == Some("error"))
        .collect();
    assert_eq!(faulty.len(), 1);
    let unit = &faulty[0];
    assert!(!unit.subordinate, "{} is a principal", unit.name);

    let (code, doc) = gate_on_world("02", name);
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P02-E"), "FAIL");
    let bad = evidence_marked(&doc, "P02-E", "bad");
    assert!(
        bad.iter()
            .any(|e| names_unit(e, &unit.name) && e["property"] == "workload-status"),
        "P02-E must name {}: {bad:?}",
        unit.name
    );
}

#[test]
fn world_machine_down_fails_p02_b_naming_the_machine() {
    let name = "phase02-machine-down";
    let status = read_json(&world(name).join("juju-status.json"));
    let down: Vec<&String> = status["machines"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, m)| current(m, "juju-status") == Some("down"))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(down.len(), 1, "the world has one machine down");

    let (code, doc) = gate_on_world("02", name);
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P02-B"), "FAIL");
    let bad = evidence_marked(&doc, "P02-B", "bad");
    assert!(
        bad.iter().any(|e| {
            e["subject"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("machine {} ", down[0]))
                && e["actual"].as_str().unwrap_or("").starts_with("down")
        }),
        "P02-B must name machine {}: {bad:?}",
        down[0]
    );
}

/// A stale macaroon with no terminal: every phase-02 gate is PRECONDITION with a message
/// telling the operator to log in, never a FAIL or PASS.
#[test]
fn world_login_expired_is_precondition_saying_the_login_has_expired() {
    let dir = world("phase02-login-expired");
    stackgate()
        .args(["gate", "--phase", "02", "--world", dir.to_str().unwrap()])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("login has expired"));
    let (code, doc) = gate_on_world("02", "phase02-login-expired");
    assert_run(&doc, code, 2, "PRECONDITION");
    // P02-A too: whoami still answers from the client store, but its controller call
    // (`juju models`) hits the prompt.
    for (id, argv) in [
        ("P02-A", MODELS_ARGV),
        ("P02-B", STATUS_ARGV),
        ("P02-C", STATUS_ARGV),
        ("P02-D", STATUS_ARGV),
        ("P02-E", STATUS_ARGV),
    ] {
        assert_eq!(status_of(&doc, id), "PRECONDITION", "{id}");
        let summary = verdict(&doc, id)["summary"].as_str().unwrap();
        assert!(summary.contains("login has expired"), "{id}: {summary}");
        assert!(summary.contains(argv), "{id}: {summary}");
    }
}

/// R2 / DOCFIX-044: a unit without its `juju-status` key is PRECONDITION naming the key
/// path, never "0 errors found" and never exit 0.
#[test]
fn world_unit_missing_juju_status_is_precondition_naming_the_key_path() {
    let name = "phase02-unit-missing-juju-status";
    let status = read_json(&world(name).join("juju-status.json"));
    let missing: Vec<_> = units_of(&status)
        .into_iter()
        .filter(|u| u.unit.get("juju-status").is_none())
        .collect();
    assert_eq!(
        missing.len(),
        1,
        "the world has one unit without juju-status"
    );
    let key_path = format!("{}.juju-status", missing[0].path);

    let (code, doc) = gate_on_world("02", name);
    assert_ne!(code, 0, "a missing key must never pass");
    assert_run(&doc, code, 2, "PRECONDITION");
    assert_eq!(status_of(&doc, "P02-E"), "PRECONDITION");
    let summary = verdict(&doc, "P02-E")["summary"].as_str().unwrap();
    assert!(
        summary.contains(&key_path),
        "{summary} should name {key_path}"
    );
    let missing_lines = evidence_marked(&doc, "P02-E", "missing");
    assert!(
        missing_lines
            .iter()
            .any(|e| e["subject"] == key_path.as_str()),
        "{missing_lines:?}"
    );
}

#[test]
fn world_phase03_settled_passes_p03_accept_with_finding_1_waived() {
    let (code, doc) = gate_on_world("03", "phase03-settled");
    assert_run(&doc, code, 0, "WAIVED");
    assert_eq!(status_of(&doc, "P03-ACCEPT"), "WAIVED");
    assert_eq!(status_of(&doc, "P03-ENDPOINTS"), "PASS");
    assert_eq!(status_of(&doc, "P03-HAPROXY"), "PASS");
    assert_eq!(status_of(&doc, "P03-HORIZON"), "PASS");
    assert_eq!(status_of(&doc, "P03-OPENRC"), "PASS");
    assert_eq!(statuses(&doc).len(), 5);
}

/// R4: another application blocked while the count of non-active units still equals
/// the allowlist's must fail (identity, not counts).
#[test]
fn world_phase03_unexpected_blocked_fails_p03_accept() {
    let (code, doc) = gate_on_world("03", "phase03-unexpected-blocked");
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(status_of(&doc, "P03-ACCEPT"), "FAIL");
    assert_eq!(verdict(&doc, "P03-ACCEPT")["metrics"]["unexpected"], 1);
}

/// R2 in phase 03: the acceptance walk on a document missing a unit's juju-status is
/// PRECONDITION, never PASS.
#[test]
fn world_phase03_on_unit_missing_juju_status_is_precondition() {
    let (code, doc) = gate_on_world("03", "phase02-unit-missing-juju-status");
    assert_run(&doc, code, 2, "PRECONDITION");
    assert_eq!(status_of(&doc, "P03-ACCEPT"), "PRECONDITION");
    let summary = verdict(&doc, "P03-ACCEPT")["summary"].as_str().unwrap();
    assert!(summary.contains("juju-status"), "{summary}");
}

#[test]
fn gate_flag_runs_only_the_chosen_gate() {
    let (code, doc) = gate_json(&[
        "gate",
        "--phase",
        "02",
        "--gate",
        "p02-c",
        "--world",
        world("phase02-mysql-offline").to_str().unwrap(),
    ]);
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(statuses(&doc).keys().collect::<Vec<_>>(), ["P02-C"]);
    let reads: Vec<&str> = doc["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["argv"].as_str().unwrap())
        .collect();
    assert_eq!(reads, [STATUS_ARGV], "P02-C reads only juju status");
}

// ---------------------------------------------------------------------------------
// 3. A real recording plus a manifest line runs
// ---------------------------------------------------------------------------------

/// The recordings phase 02 reads, as (file in phase02-pre-vault, argv as TOML).
const RECORDINGS: [(&str, &str); 3] = [
    (
        "juju-status.json",
        r#"["juju", "status", "-m", "openstack", "--format=json"]"#,
    ),
    ("juju-whoami.json", r#"["juju", "whoami", "--format=json"]"#),
    ("juju-models.json", r#"["juju", "models", "--format=json"]"#),
];

/// P02-SEALED's recording: juju exec of `vault status` on a sealed vault, which juju
/// ends with exit 1 and "the following task failed" on stderr.
const VAULT_STATUS_RECORDING: (&str, &str, &str) = (
    "juju-exec-vault-status.json",
    "juju-exec-vault-status.stderr",
    r#"["juju", "exec", "-m", "openstack", "--unit", "vault/0", "--format=json", "--", "vault", "status", "-format=json", "-address=http://127.0.0.1:8200"]"#,
);

/// fixtures/README.md "Adding a real recording": copy each raw stdout in unchanged and
/// add one [[command]] line per argv. `skip` leaves one recording out.
fn world_from_recordings(skip: Option<&str>) -> TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = world("phase02-pre-vault");
    let mut manifest = String::from(
        "profile = \"testcloud\"\n\
         description = \"recordings copied in unchanged\"\n",
    );
    for (file, argv) in RECORDINGS {
        if skip == Some(file) {
            continue;
        }
        std::fs::copy(source.join(file), tmp.path().join(file))
            .unwrap_or_else(|e| panic!("copy {file}: {e}"));
        manifest.push_str(&format!(
            "\n[[command]]\nargv = {argv}\nstdout = \"{file}\"\n"
        ));
    }
    let (stdout, stderr, argv) = VAULT_STATUS_RECORDING;
    for file in [stdout, stderr] {
        std::fs::copy(source.join(file), tmp.path().join(file))
            .unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    manifest.push_str(&format!(
        "\n[[command]]\nargv = {argv}\nstdout = \"{stdout}\"\nstderr = \"{stderr}\"\nexit = 1\n"
    ));
    std::fs::write(tmp.path().join("world.toml"), manifest).expect("write world.toml");
    tmp
}

#[test]
fn a_real_recording_plus_a_manifest_line_runs() {
    let tmp = world_from_recordings(None);
    let source = world("phase02-pre-vault");
    for (file, _) in RECORDINGS {
        assert_eq!(
            std::fs::read(tmp.path().join(file)).unwrap(),
            std::fs::read(source.join(file)).unwrap(),
            "{file} is byte for byte the recording"
        );
    }
    let (code, doc) = gate_json(&[
        "gate",
        "--phase",
        "02",
        "--world",
        tmp.path().to_str().unwrap(),
    ]);
    assert_run(&doc, code, 0, "PROCEED");
    assert_eq!(verdict(&doc, "P02-E")["metrics"]["units"], 63);
}

/// Replay never answers an argv the world lacks with empty output: the gate that needs
/// it is PRECONDITION and its evidence names the argv (RunError::NotInWorld).
#[test]
fn a_world_without_whoami_is_p02_a_precondition_naming_the_argv() {
    let tmp = world_from_recordings(Some("juju-whoami.json"));
    let (code, doc) = gate_json(&[
        "gate",
        "--phase",
        "02",
        "--world",
        tmp.path().to_str().unwrap(),
    ]);
    assert_run(&doc, code, 2, "PRECONDITION");
    assert_eq!(status_of(&doc, "P02-A"), "PRECONDITION");
    let missing = evidence_marked(&doc, "P02-A", "missing");
    assert!(
        missing.iter().any(|e| {
            let actual = e["actual"].as_str().unwrap_or("");
            actual.contains(&format!("`{WHOAMI_ARGV}`"))
                && actual.contains("is not in fixture world")
        }),
        "{missing:?}"
    );
    for id in ["P02-B", "P02-C", "P02-E"] {
        assert_eq!(status_of(&doc, id), "PASS", "{id}");
    }
    let whoami_read = doc["reads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["argv"] == WHOAMI_ARGV)
        .expect("the failed whoami read is logged");
    assert!(whoami_read["exit_code"].is_null());
    assert!(
        whoami_read["error"]
            .as_str()
            .unwrap()
            .contains("not in fixture world")
    );
}

// ---------------------------------------------------------------------------------
// 4-6. --live against fake juju scripts
// ---------------------------------------------------------------------------------

/// End to end through the Live runner. Four gates read `juju status`, P02-A reads
/// `juju whoami` and `juju models`: the snapshot runs each distinct argv exactly once.
#[test]
fn live_runs_each_distinct_argv_once_and_passes() {
    let fake = FakeJuju::healthy();
    let run = run_bounded(
        &["gate", "--phase", "02", "--live", "--format", "json"],
        fake.dir(),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(doc["source"], "live");
    assert_eq!(doc["result"], "PROCEED", "{}", run.all());
    let mut calls = fake.calls();
    calls.sort();
    let expected: Vec<&str> = PHASE02_ARGVS
        .iter()
        .map(|a| a.strip_prefix("juju ").unwrap())
        .collect();
    assert_eq!(calls, expected, "each distinct argv runs exactly once");
    let mut reads: Vec<(String, Value)> = doc["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["argv"].as_str().unwrap().to_string(),
                r["exit_code"].clone(),
            )
        })
        .collect();
    reads.sort_by(|a, b| a.0.cmp(&b.0));
    // juju exits 1 when the remote command does not exit 0: `vault status` exits 2
    // on a sealed vault, and the task's return code is read from juju's JSON.
    let expected: Vec<(String, Value)> = PHASE02_ARGVS
        .iter()
        .map(|a| {
            let code = if *a == VAULT_STATUS_ARGV { 1 } else { 0 };
            (a.to_string(), Value::from(code))
        })
        .collect();
    assert_eq!(reads, expected);
    assert!(fake.survivors_after(Duration::from_secs(2)).is_empty());
}

/// A hung CLI (and a grandchild it started that holds the pipes) must not hang the
/// gate: at the timeout the whole process group is killed and the read is PRECONDITION.
#[test]
fn live_timeout_kills_the_whole_process_group_and_exits_2() {
    // Both sleeps inherit the pipes to stackgate; their pids go to the same file.
    let fake = FakeJuju::new(&format!(
        "sleep 1000 &\necho \"$!\" >> \"$FAKE_DIR/pids\"\n{HANG}"
    ));
    let run = run_bounded(
        &["gate", "--phase", "02", "--live", "--timeout", "1"],
        fake.dir(),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(1 + 5),
        "took {:?}",
        run.elapsed
    );
    for argv in PHASE02_ARGVS {
        assert!(
            run.stdout
                .contains(&format!("`{argv}` did not finish within 1s")),
            "the report names {argv} and the timeout:\n{}",
            run.all()
        );
    }
    assert!(
        run.stdout.contains("process group was killed"),
        "{}",
        run.all()
    );
    // One script per distinct argv, each with its two sleeps.
    assert_eq!(
        fake.calls().len(),
        PHASE02_ARGVS.len(),
        "{:?}",
        fake.calls()
    );
    assert_eq!(
        fake.pids().len(),
        3 * PHASE02_ARGVS.len(),
        "pids: {:?}",
        fake.pids()
    );
    let survivors = fake.survivors_after(Duration::from_secs(2));
    assert!(
        survivors.is_empty(),
        "processes outlived the timeout: {survivors:?}"
    );
}

/// The stale-macaroon prompt seen on the jumphost. juju reads the password from stdin;
/// stackgate gives the child a closed stdin, so the read sees EOF at once.
const PROMPT: &str = "please enter password for jessea123 on juju-controller: ";

/// A juju whose macaroon expired: `whoami` answers from the client store, every
/// controller call (status, models) prompts, reads stdin, and on EOF runs `on_eof`.
fn password_prompt_juju(on_eof: &str) -> FakeJuju {
    let whoami = world("phase02-pre-vault").join("juju-whoami.json");
    FakeJuju::new(&format!(
        "case \"$*\" in\n\
         \x20 'whoami --format=json') cat '{whoami}'; exit 0 ;;\n\
         esac\n\
         printf '%s' '{PROMPT}' >&2\n\
         if read -r pw; then\n\
         \x20 echo 'ERROR fake juju: stdin was not closed' >&2\n\
         \x20 exit 3\n\
         fi\n\
         echo >&2\n\
         {on_eof}",
        whoami = whoami.display()
    ))
}

/// P02-A: a login prompt with no terminal is PRECONDITION and must not hang.
/// The test holds stackgate's own stdin open: a child that inherited it would block.
#[test]
fn live_password_prompt_fails_fast_saying_the_login_has_expired() {
    let fake = password_prompt_juju(
        "echo 'ERROR cannot log into controller \"juju-controller\": EOF' >&2\nexit 1",
    );
    let run = run_bounded(
        &["gate", "--phase", "02", "--live"],
        fake.dir(),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    for argv in [MODELS_ARGV, STATUS_ARGV] {
        assert!(
            run.stdout.contains(&format!(
                "`{argv}` asked for a password and there is no terminal: the juju login has expired"
            )),
            "{}",
            run.all()
        );
    }
    assert!(
        !run.stdout.contains("stdin was not closed"),
        "{}",
        run.all()
    );
    assert!(fake.survivors_after(Duration::from_secs(2)).is_empty());
}

/// A CLI that on EOF keeps waiting (no error, no exit) is still bounded by --timeout.
#[test]
fn live_password_prompt_that_waits_forever_is_bounded_by_the_timeout() {
    let fake = password_prompt_juju(HANG);
    let run = run_bounded(
        &["gate", "--phase", "02", "--live", "--timeout", "1"],
        fake.dir(),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(1 + 5),
        "took {:?}",
        run.elapsed
    );
    for argv in [MODELS_ARGV, STATUS_ARGV] {
        assert!(
            run.stdout
                .contains(&format!("`{argv}` did not finish within 1s")),
            "{}",
            run.all()
        );
    }
    let survivors = fake.survivors_after(Duration::from_secs(2));
    assert!(survivors.is_empty(), "{survivors:?}");
}

/// A juju that answers `whoami` (recording its pid in `whoami.pid`) and hangs on every
/// other read: a run with reads finished and reads in flight.
fn hanging_juju() -> FakeJuju {
    let whoami = world("phase02-pre-vault").join("juju-whoami.json");
    FakeJuju::new(&format!(
        "case \"$*\" in\n\
         \x20 'whoami --format=json') echo \"$$\" > \"$FAKE_DIR/whoami.pid\"; cat '{}'; exit 0 ;;\n\
         esac\n\
         {HANG}",
        whoami.display()
    ))
}

/// Starts `stackgate gate --phase 02 --live --format <format>` on [`hanging_juju`],
/// waits until whoami is read and every other read hangs, sends `signal`, and
/// returns the run and the time from the signal to stackgate's exit.
fn interrupted_run(signal: Signal, format: &str) -> (FakeJuju, Run, Duration) {
    let fake = hanging_juju();
    let gate = Started::new(
        &["gate", "--phase", "02", "--live", "--format", format],
        fake.dir(),
        |_| {},
    );
    // Four scripts, and a sleep for each of the three that hang.
    wait_until(Duration::from_secs(20), "every read has started", || {
        fake.calls().len() == PHASE02_ARGVS.len()
            && fake.pids().len() == 2 * PHASE02_ARGVS.len() - 1
    });
    let whoami: u32 = std::fs::read_to_string(fake.dir().join("whoami.pid"))
        .expect("whoami recorded its pid")
        .trim()
        .parse()
        .expect("a pid");
    // stackgate reaps whoami (its /proc entry goes) in the same poll that logs the
    // read, so from then on the read is in the log as finished.
    wait_until(
        Duration::from_secs(10),
        "stackgate has reaped whoami",
        || !Path::new(&format!("/proc/{whoami}")).exists(),
    );
    kill(Pid::from_raw(gate.pid()), signal).expect("stackgate is running");
    let signalled = Instant::now();
    let run = gate.finish(Duration::from_secs(30));
    (fake, run, signalled.elapsed())
}

/// Ctrl-C mid-run: every command still running is killed (they sit in sessions of
/// their own, so the signal never reached them), the report shows the finished read
/// and the interrupted ones without claiming a verdict, and stackgate exits 130.
#[test]
fn sigint_kills_every_running_command_and_reports_the_reads_with_exit_130() {
    let (fake, run, after_signal) = interrupted_run(Signal::SIGINT, "json");
    assert_eq!(run.code, Some(130), "{}", run.all());
    assert!(
        after_signal < Duration::from_secs(5),
        "took {after_signal:?}"
    );
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(doc["result"], "INTERRUPTED", "{}", run.all());
    assert_eq!(doc["interrupted"], "SIGINT");
    assert_eq!(doc["exit_code"], 130);
    assert_eq!(doc["source"], "live");
    assert!(
        doc["verdicts"].as_array().unwrap().is_empty(),
        "no verdict over a partial read: {}",
        run.all()
    );
    let reads = doc["reads"].as_array().unwrap();
    let mut argvs: Vec<&str> = reads.iter().map(|r| r["argv"].as_str().unwrap()).collect();
    argvs.sort_unstable();
    assert_eq!(argvs, PHASE02_ARGVS, "every read is named once");
    for r in reads {
        for key in r.as_object().unwrap().keys() {
            assert!(
                ["argv", "exit_code", "duration_ms", "error", "interrupted"]
                    .contains(&key.as_str()),
                "a read carries only its argv and status, not {key}: {r}"
            );
        }
        if r["argv"] == WHOAMI_ARGV {
            assert_eq!(r["exit_code"], 0, "{r}");
            assert!(r.get("interrupted").is_none(), "{r}");
        } else {
            assert_eq!(r["interrupted"], true, "{r}");
            assert!(r["exit_code"].is_null(), "{r}");
            let error = r["error"].as_str().unwrap();
            assert!(
                error.contains("was interrupted; its process group was killed"),
                "{r}"
            );
        }
    }
    // whoami's output (the user) is read, never reported.
    assert!(!run.stdout.contains("jessea123"), "{}", run.all());
    let survivors = fake.survivors_after(Duration::from_secs(2));
    assert!(
        survivors.is_empty(),
        "processes outlived SIGINT: {survivors:?}"
    );
}

/// SIGTERM (systemd, kill) ends a run the same way; the text report says so.
#[test]
fn sigterm_kills_every_running_command_and_the_text_report_says_interrupted() {
    let (fake, run, after_signal) = interrupted_run(Signal::SIGTERM, "text");
    assert_eq!(run.code, Some(130), "{}", run.all());
    assert!(
        after_signal < Duration::from_secs(5),
        "took {after_signal:?}"
    );
    assert!(
        run.stdout
            .contains("result: INTERRUPTED by SIGTERM (exit 130)"),
        "{}",
        run.all()
    );
    for argv in PHASE02_ARGVS {
        let line = run
            .stdout
            .lines()
            .find(|l| l.ends_with(argv) || l.contains(&format!("{argv}  (")))
            .unwrap_or_else(|| panic!("no read line for {argv}:\n{}", run.all()));
        if argv == WHOAMI_ARGV {
            assert!(line.trim_start().starts_with("exit 0 "), "{line}");
        } else {
            assert!(
                line.contains(&format!("(`{argv}` was interrupted")),
                "{line}"
            );
        }
    }
    for status in ["PASS", "PROCEED", "FAIL", "HOLD", "PRECONDITION"] {
        assert!(
            !run.stdout.lines().any(|l| l.starts_with(status)),
            "no verdict is claimed:\n{}",
            run.all()
        );
    }
    let survivors = fake.survivors_after(Duration::from_secs(2));
    assert!(
        survivors.is_empty(),
        "processes outlived SIGTERM: {survivors:?}"
    );
}

/// Gives the command a real terminal as its controlling terminal: a new session whose
/// leader acquires the pty's slave (as an operator's shell would have it).
fn under_terminal(command: &mut std::process::Command, slave: &std::os::fd::OwnedFd) {
    use std::os::fd::AsRawFd as _;
    use std::os::unix::process::CommandExt as _;
    let fd = slave.as_raw_fd();
    // SAFETY: setsid and ioctl are async-signal-safe, and all the forked child runs.
    unsafe {
        command.pre_exec(move || {
            nix::unistd::setsid()?;
            if nix::libc::ioctl(fd, nix::libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// What the terminal has shown so far, without blocking.
fn terminal_output(master: &std::os::fd::OwnedFd) -> String {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    fcntl(master, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).expect("nonblocking pty");
    let mut shown = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = nix::unistd::read(master, &mut buf) {
        shown.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&shown).into_owned()
}

/// A CLI that prompts on /dev/tty (sudo, ssh, a juju without the client store) while
/// stackgate runs under the operator's terminal: each child is in a new session with no
/// controlling terminal, so the open fails at once (ENXIO) and no prompt reaches the
/// screen. Before, the child opened the terminal, printed its prompt there and stopped
/// on SIGTTIN until the timeout.
#[test]
fn live_prompt_on_the_terminal_fails_at_once_and_never_reaches_the_screen() {
    let fake = FakeJuju::new(&format!(
        "if {{ exec 3</dev/tty; }} 2>/dev/null; then\n\
         \x20 printf '%s' '{PROMPT}' >&3\n\
         \x20 read -r pw <&3\n\
         \x20 echo 'ERROR fake juju: read a password from the terminal' >&2\n\
         \x20 exit 3\n\
         fi\n\
         echo 'ERROR fake juju: no terminal to prompt on' >&2\n\
         exit 1"
    ));
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let gate = Started::new(
        &["gate", "--phase", "02", "--live", "--timeout", "20"],
        fake.dir(),
        |command| under_terminal(command, &pty.slave),
    );
    let run = gate.finish(Duration::from_secs(40));
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    assert!(
        !run.stdout.contains("did not finish within"),
        "{}",
        run.all()
    );
    assert!(
        !run.stdout.contains("read a password from the terminal"),
        "{}",
        run.all()
    );
    assert_eq!(
        fake.calls().len(),
        PHASE02_ARGVS.len(),
        "{:?}",
        fake.calls()
    );
    let screen = terminal_output(&pty.master);
    assert!(
        !screen.contains(PROMPT),
        "the prompt reached the terminal: {screen:?}"
    );
    assert!(fake.survivors_after(Duration::from_secs(2)).is_empty());
}

/// A command that prints more than the profile's `[runner] max_output_mib` is killed
/// at the bound; the gates that needed it are PRECONDITION naming the argv and the
/// bound, and the other reads are unaffected.
#[test]
fn live_output_past_the_profile_bound_is_precondition_naming_the_argv_and_limit() {
    let fixture = |f: &str| world("phase02-pre-vault").join(f).display().to_string();
    let fake = FakeJuju::new(&format!(
        "case \"$*\" in\n\
         \x20 'status -m openstack --format=json') head -c 5000000 /dev/zero ;;\n\
         \x20 'whoami --format=json') cat '{}' ;;\n\
         \x20 'models --format=json') cat '{}' ;;\n\
         \x20 *) echo \"ERROR fake juju: unexpected argv: $*\" >&2; exit 1 ;;\n\
         esac",
        fixture("juju-whoami.json"),
        fixture("juju-models.json"),
    ));
    let testcloud =
        std::fs::read_to_string(manifest_dir().join("profiles").join("testcloud.toml")).unwrap();
    let one_mib = testcloud.replace("max_output_mib = 256", "max_output_mib = 1");
    assert_ne!(one_mib, testcloud, "the testcloud profile states its bound");
    let profile = fake.dir().join("one-mib.toml");
    std::fs::write(&profile, one_mib).unwrap();
    let run = run_bounded(
        &[
            "gate",
            "--phase",
            "02",
            "--live",
            "--gate",
            "P02-A",
            "--gate",
            "P02-E",
            "--profile",
            profile.to_str().unwrap(),
            "--format",
            "json",
        ],
        fake.dir(),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(2), "{}", run.all());
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(status_of(&doc, "P02-A"), "PASS", "{}", run.all());
    assert_eq!(status_of(&doc, "P02-E"), "PRECONDITION");
    let bound = format!("`{STATUS_ARGV}` printed more than 1 MiB on stdout");
    let summary = verdict(&doc, "P02-E")["summary"].as_str().unwrap();
    assert!(summary.contains(&bound), "{summary}");
    let read = doc["reads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["argv"] == STATUS_ARGV)
        .expect("the status read is logged");
    assert!(read["error"].as_str().unwrap().contains(&bound), "{read}");
    assert!(fake.survivors_after(Duration::from_secs(2)).is_empty());
}

// ---------------------------------------------------------------------------------
// 7. The JSON document
// ---------------------------------------------------------------------------------

/// R6: reports carry argvs, never CLI output (it may hold secrets).
#[test]
fn json_report_carries_result_exit_code_verdicts_and_argv_only_reads() {
    let output = stackgate()
        .args(["gate", "--phase", "02", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.ends_with("}\n"), "one document and a newline");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["result"], "PROCEED");
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["phase"], "02");
    assert_eq!(doc["profile"], "testcloud");
    let verdicts = doc["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 6);
    for v in verdicts {
        for key in ["id", "phase", "status", "summary", "evidence", "metrics"] {
            assert!(v.get(key).is_some(), "verdict lacks {key}: {v}");
        }
        let status = v["status"].as_str().unwrap();
        assert!(
            ["PASS", "PROCEED", "FAIL", "HOLD", "PRECONDITION", "SKIP"].contains(&status),
            "{status}"
        );
    }
    let reads = doc["reads"].as_array().unwrap();
    let mut argvs: Vec<&str> = reads.iter().map(|r| r["argv"].as_str().unwrap()).collect();
    argvs.sort_unstable();
    assert_eq!(argvs, PHASE02_ARGVS);
    for r in reads {
        for key in r.as_object().unwrap().keys() {
            assert!(
                ["argv", "exit_code", "duration_ms", "error"].contains(&key.as_str()),
                "a read carries only its argv and status, not {key}: {r}"
            );
        }
    }
    // Raw status content no gate reports (machine 0's MAAS instance id) is not echoed.
    let raw = std::fs::read_to_string(world("phase02-pre-vault").join("juju-status.json")).unwrap();
    assert!(raw.contains("\"instance-id\":\"x7ckpa\""));
    assert!(
        !stdout.contains("x7ckpa"),
        "CLI stdout leaked into the report"
    );
}

// ---------------------------------------------------------------------------------
// 8. Snapshots of the text reports
// ---------------------------------------------------------------------------------

/// Replaces every "<digits> ms" with "[N] ms" (replay durations are 0, live are not).
fn redact_durations(text: &str) -> String {
    let re = regex::Regex::new(r"\d+ ms\b").unwrap();
    re.replace_all(text, "[N] ms").into_owned()
}

/// Snapshots go to the top-level `snapshots/` directory as `<name>.snap`.
fn assert_text_snapshot(name: &str, command: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(manifest_dir().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(command);
    settings.set_omit_expression(true);
    let text = redact_durations(text);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn stdout_of(args: &[&str], code: i32) -> String {
    let output = stackgate()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn snapshot_gate_phase02_default_text() {
    let text = stdout_of(&["gate", "--phase", "02"], 0);
    assert_text_snapshot(
        "cli_gate_phase02_default",
        "stackgate gate --phase 02",
        &text,
    );
}

#[test]
fn snapshot_gate_phase03_default_text() {
    let text = stdout_of(&["gate", "--phase", "03", "--as-of", TODAY], 0);
    assert_text_snapshot(
        "cli_gate_phase03_default",
        "stackgate gate --phase 03",
        &text,
    );
}

#[test]
fn snapshot_list() {
    let text = stdout_of(&["list"], 0);
    assert_text_snapshot("cli_list", "stackgate list", &text);
}

#[test]
fn redaction_replaces_every_duration() {
    assert_eq!(
        redact_durations("    exit 0      120 ms  juju status\n    exit -        0 ms  x"),
        "    exit 0      [N] ms  juju status\n    exit -        [N] ms  x"
    );
}

// ---------------------------------------------------------------------------------
// 9. Usage errors: exit 2, a message on stderr, nothing on stdout
// ---------------------------------------------------------------------------------

#[test]
fn usage_unknown_phase_exits_2() {
    stackgate()
        .args(["gate", "--phase", "09"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("no gates for phase 09"))
        .stderr(predicate::str::contains("02, 03"));
}

#[test]
fn usage_live_and_world_together_exit_2() {
    stackgate()
        .args(["gate", "--phase", "02", "--live", "--world", "x"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn usage_nonexistent_world_dir_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-world");
    stackgate()
        .args([
            "gate",
            "--phase",
            "02",
            "--world",
            missing.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("failed to load fixture world"))
        .stderr(predicate::str::contains("no-such-world"));
}

#[test]
fn usage_gate_of_another_phase_exits_2() {
    stackgate()
        .args(["gate", "--phase", "02", "--gate", "P03-ACCEPT"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "gate P03-ACCEPT is not a phase 02 gate",
        ));
}

#[test]
fn usage_zero_timeout_exits_2() {
    stackgate()
        .args(["gate", "--phase", "02", "--timeout", "0"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "--timeout must be at least 1 second",
        ));
}

// ---------------------------------------------------------------------------------
// 10. Later moments of phase 02 (--moment): after init, unseal, authorize
// ---------------------------------------------------------------------------------

#[test]
fn fresh_clone_moment_init_passes_p02_init_on_the_initialized_world() {
    let (code, doc) = gate_json(&["gate", "--phase", "02", "--moment", "init"]);
    assert_run(&doc, code, 0, "PASS");
    assert_eq!(doc["source"], "world testcloud/phase02-vault-initialized");
    assert_eq!(statuses(&doc).keys().collect::<Vec<_>>(), ["P02-INIT"]);
    assert_eq!(verdict(&doc, "P02-INIT")["metrics"]["unseal_key_shares"], 5);
}

#[test]
fn fresh_clone_moment_authorize_is_the_phase_02_exit_gate() {
    let (code, doc) = gate_json(&["gate", "--phase", "02", "--moment", "authorize"]);
    assert_run(&doc, code, 0, "PASS");
    assert_eq!(doc["source"], "world testcloud/phase02-authorized");
    assert_eq!(
        statuses(&doc).keys().collect::<Vec<_>>(),
        ["P02-AUTHORIZED", "P02-UNSEALED"]
    );
}

#[test]
fn moment_unseal_on_a_sealed_world_fails_p02_unsealed() {
    let (code, doc) = gate_json(&[
        "gate",
        "--phase",
        "02",
        "--moment",
        "unseal",
        "--world",
        world("phase02-vault-initialized").to_str().unwrap(),
    ]);
    assert_run(&doc, code, 1, "FAIL");
    let bad = evidence_marked(&doc, "P02-UNSEALED", "bad");
    assert!(
        bad.iter()
            .any(|e| e["property"] == "sealed" && e["actual"] == "true"),
        "{bad:?}"
    );
}

/// --gate chooses among every gate of the phase, whatever its moment.
#[test]
fn gate_flag_reaches_a_later_moment_gate() {
    let (code, doc) = gate_json(&["gate", "--phase", "02", "--gate", "P02-UNSEALED"]);
    assert_run(&doc, code, 1, "FAIL");
    assert_eq!(statuses(&doc).keys().collect::<Vec<_>>(), ["P02-UNSEALED"]);
    let reads: Vec<&str> = doc["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["argv"].as_str().unwrap())
        .collect();
    assert_eq!(reads, [VAULT_STATUS_ARGV]);
}

#[test]
fn usage_unknown_moment_exits_2_naming_the_moments() {
    stackgate()
        .args(["gate", "--phase", "02", "--moment", "reseal"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "phase 02 has no moment \"reseal\"; its moments: init, unseal, authorize",
        ));
}

#[test]
fn snapshot_gate_phase02_moment_authorize_text() {
    let text = stdout_of(&["gate", "--phase", "02", "--moment", "authorize"], 0);
    assert_text_snapshot(
        "cli_gate_phase02_moment_authorize",
        "stackgate gate --phase 02 --moment authorize",
        &text,
    );
}

#[test]
fn list_actions_prints_every_action_with_its_phase_guards_and_destructiveness() {
    let output = stackgate()
        .args(["list", "--actions"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8(output.stdout).unwrap();
    for (name, phase, kind) in [
        ("teardown-destroy", "00", "@destructive"),
        ("teardown-release", "00", "@destructive"),
        ("lbaas-net-remove", "00", "@destructive"),
        ("osd-wipe", "00", "@destructive"),
        ("reenroll", "00", "@mutation"),
        ("carve", "00", "@mutation"),
        ("standup", "00", "@mutation"),
        ("recidr", "00", "@destructive"),
        ("model-prep", "01", "@mutation"),
        ("network-create", "04", "@mutation"),
        ("octavia-configure-resources", "05", "@mutation"),
        ("amphora-pipeline", "05", "@mutation"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{stdout}"));
        assert!(
            line.contains(&format!("phase {phase}")) && line.contains(kind),
            "{line}"
        );
    }
    assert!(
        stdout.contains("guards: every host domain shut off"),
        "{stdout}"
    );
}

/// The operator flow through the binary: dry-run (exit 0, the command that applies
/// it), apply without the fingerprint (2), with a wrong confirmation (2), with a stale
/// `act <action> --sim <world>` dry-run: its stdout and the fingerprint it prints in
/// the command that applies it.
fn dry_run(action: &str, fixture: &str) -> (String, String) {
    let dry = stackgate()
        .args(["act", action, "--sim"])
        .arg(world(fixture))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8(dry.stdout).unwrap();
    let fingerprint = stdout
        .split("--plan ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the dry-run prints the command that applies it")
        .to_string();
    (stdout, fingerprint)
}

/// `act --sim amphora-pipeline` never downloads from the profile's real URL: the
/// simulator serves the base image from a loopback server of its own, whose port and
/// download directory differ per process and are masked in the fingerprint, so the
/// dry-run's plan applies in the next process.
#[test]
fn a_simulated_amphora_pipeline_downloads_from_loopback_and_its_plan_applies_later() {
    let (stdout, fingerprint) = dry_run("amphora-pipeline", "phase05-control-plane-done");
    assert!(stdout.contains("download http://127.0.0.1:"), "{stdout}");
    assert!(!stdout.contains("cloud-images.ubuntu.com"), "{stdout}");
    let out = stackgate()
        .args(["act", "amphora-pipeline", "--sim"])
        .arg(world("phase05-control-plane-done"))
        .args(["--apply", "--plan", &fingerprint])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let done = String::from_utf8(out.stdout).unwrap();
    assert!(done.contains("DONE: every step ran"), "{done}");
    assert!(done.contains("P05-AMPHORA PASS"), "{done}");
}

/// `--secret-fd` through the binary: one secret per line, in the order the steps ask.
/// reenroll on the decomposed hosts asks four times (one libvirt password per machine
/// create); four lines on fd 0 re-enrol all four, two lines stop at the third with a
/// message naming what was needed and how many lines the fd held, and no line reaches
/// stdout or stderr either way.
#[test]
fn secret_fd_feeds_each_step_its_own_line_and_never_echoes_one() {
    let (_, fingerprint) = dry_run("reenroll", "sim-hosts-decomposed");
    let lines = ["pw-one-a1", "pw-two-b2", "pw-three-c3", "pw-four-d4"];
    let apply = |given: &[&str], code: i32| -> String {
        let out = stackgate()
            .args(["act", "reenroll", "--sim"])
            .arg(world("sim-hosts-decomposed"))
            .args(["--apply", "--plan", &fingerprint, "--secret-fd", "0"])
            .write_stdin(given.iter().map(|l| format!("{l}\n")).collect::<String>())
            .assert()
            .code(code)
            .get_output()
            .clone();
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
    };
    let done = apply(&lines, 0);
    assert!(done.contains("DONE: every step ran"), "{done}");
    assert!(done.contains("P00-REENROLL PASS"), "{done}");
    let short = apply(&lines[..2], 1);
    assert!(short.contains("STEP-FAILED: step 3"), "{short}");
    assert!(short.contains("held only 2 secret line(s)"), "{short}");
    for out in [&done, &short] {
        for line in lines {
            assert!(!out.contains(line), "a secret line was echoed");
        }
    }
}

/// fingerprint (1), then the reviewed plan confirmed (0).
#[test]
fn act_runs_dry_run_review_and_apply_with_its_exit_codes() {
    let (stdout, fingerprint) = dry_run("lbaas-net-remove", "phase00-lbaas-present");
    assert!(
        stdout.contains("DRY-RUN") && stdout.contains("PLANNED: nothing was changed"),
        "{stdout}"
    );
    let apply = |extra: &[&str], code: i32| -> String {
        let out = stackgate()
            .args(["act", "lbaas-net-remove", "--sim"])
            .arg(world("phase00-lbaas-present"))
            .arg("--apply")
            .args(extra)
            .assert()
            .code(code)
            .get_output()
            .clone();
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
    };
    assert!(apply(&["--confirm", "openstack"], 2).contains("PRECONDITION"));
    assert!(apply(&["--plan", &fingerprint, "--confirm", "openstak"], 2).contains("UNCONFIRMED"));
    assert!(
        apply(&["--plan", "0000000000000000", "--confirm", "openstack"], 1).contains("STALE-PLAN")
    );
    let done = apply(&["--plan", &fingerprint, "--confirm", "openstack"], 0);
    assert!(done.contains("DONE: every step ran"), "{done}");
    // A recording cannot change: --world is dry-run only.
    stackgate()
        .args(["act", "osd-wipe", "--apply", "--world"])
        .arg(world("phase00-osd-data"))
        .assert()
        .code(2);
    stackgate().args(["act", "carve"]).assert().code(2);
}

/// `stackgate rehearse` on a fresh clone: the dirty testcloud through phase 01, every
/// exit gate PASS, exit 0; the JSON report says so leg by leg.
#[test]
fn rehearse_runs_the_rebuild_on_the_simulator_to_every_exit_gate() {
    let out = stackgate()
        .args(["rehearse", "--as-of", TODAY])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "require P00-ROUTE                    PROCEED",
        "look    P00-EXIT                     FAIL",
        "act     teardown-destroy             DONE",
        "act     carve openstack3             DONE",
        "exit    P00-EXIT                     PASS",
        "act     model-prep                   DONE",
        "exit    P01-MODEL-SPACES             PASS",
        "exit    P03-OPENRC                   PASS",
        "act     network-create               DONE",
        "exit    P04-POST                     PASS",
        "act     octavia-configure-resources  DONE",
        "exit    P05-POST                     PASS",
        "look    P05-AMPHORA                  PROCEED",
        "act     amphora-pipeline             DONE",
        "exit    P05-AMPHORA                  PASS",
        "not rehearsed yet:",
        "result: PASS (exit 0): every exit gate passed",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    assert!(text.is_ascii(), "the report is ASCII");
    let (code, doc) = gate_json(&["rehearse", "--as-of", TODAY]);
    assert_eq!(code, 0);
    assert_eq!(doc["passed"], true);
    let legs = doc["legs"].as_array().unwrap();
    assert!(legs.len() >= 4, "{legs:#?}");
    for leg in legs {
        assert!(leg.get("stopped").is_none(), "{leg:#?}");
        let entries = leg["entries"].as_array().unwrap();
        assert!(
            entries
                .iter()
                .all(|e| e["ok"] == true && e["kind"] != "broken"),
            "{entries:#?}"
        );
    }
}

/// A rehearsal that meets a refusal stops there and exits 1, naming where: the
/// protected lxd machine carrying the host tag refuses the destroy.
#[test]
fn rehearse_stops_at_the_first_refusal_and_exits_1() {
    let out = stackgate()
        .args(["rehearse", "--world"])
        .arg(world("sim-phase00-protected-tagged"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("STOPPED at gate P00-TEARDOWN-PLAN (must pass)"),
        "no STOPPED line in:\n{text}"
    );
    assert!(
        text.contains("result: FAIL (exit 1): the rehearsal stopped"),
        "{text}"
    );
    assert!(!text.contains("exit    P00-EXIT"), "{text}");
    stackgate()
        .args(["rehearse", "--world", "/nonexistent-world-dir"])
        .assert()
        .code(2);
}

// ---- issue 12: reports, waits, waivers, the terminal ----

/// A waivers file covering barbican-vault/0's missing secrets-storage on the
/// unexpected-blocked world: WAIVED (exit 0) until its date, FAIL again after it.
#[test]
fn a_waivers_file_waives_a_failure_until_its_date_and_no_longer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("waivers.toml");
    std::fs::write(
        &file,
        "[[waiver]]\n\
         id = \"W-7\"\n\
         gate = \"P03-ACCEPT\"\n\
         subject = \"unit barbican-vault/0\"\n\
         property = \"status\"\n\
         value_pattern = \"^blocked \\\"'secrets-storage' missing\\\" / juju-status idle$\"\n\
         justification = \"barbican's secrets backend is rebuilt in phase 06; tracked as CHG-12\"\n\
         expires = 2027-01-31\n",
    )
    .unwrap();
    let world = world("phase03-unexpected-blocked");
    let run = |day: &str| {
        gate_json(&[
            "gate",
            "--phase",
            "03",
            "--gate",
            "P03-ACCEPT",
            "--world",
            world.to_str().unwrap(),
            "--waivers",
            file.to_str().unwrap(),
            "--as-of",
            day,
        ])
    };
    let (code, doc) = run("2027-01-31");
    assert_run(&doc, code, 0, "WAIVED");
    let waived = evidence_marked(&doc, "P03-ACCEPT", "waived");
    assert_eq!(waived.len(), 2, "FINDING-1 and W-7: {waived:?}");
    assert!(waived.iter().any(|e| {
        e["expected"]
            .as_str()
            .unwrap()
            .starts_with("waived by W-7 until 2027-01-31: barbican's")
    }));
    let (code, doc) = run("2027-02-01");
    assert_run(&doc, code, 1, "FAIL");
    let summary = verdict(&doc, "P03-ACCEPT")["summary"].as_str().unwrap();
    assert!(summary.contains("W-7 expired 2027-01-31"), "{summary}");
}

/// A malformed waivers file fails at start, before any command runs (a live run would
/// not reach juju), naming the file and the reason.
#[test]
fn a_malformed_waivers_file_fails_before_any_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("waivers.toml");
    std::fs::write(
        &file,
        "[[waiver]]\nid = \"W-1\"\ngate = \"P03-ACCEPT\"\nsubject = \"unit keystone/0\"\nproperty = \"status\"\njustification = \"\"\nexpires = 2027-01-31\n",
    )
    .unwrap();
    let fake = FakeJuju::new("echo 'ERROR fake juju: must not run' >&2; exit 1");
    let run = Started::new(
        &[
            "gate",
            "--phase",
            "02",
            "--live",
            "--waivers",
            file.to_str().unwrap(),
        ],
        fake.dir(),
        |_| {},
    )
    .finish(Duration::from_secs(20));
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("invalid waivers ")
            && run.stderr.contains("waiver W-1 needs a justification"),
        "{}",
        run.all()
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

/// What a real JUnit consumer (junitparser, in the venv .ci/run installs) reads of
/// `xml`: tests/junit/check_junit.py's JSON; it refuses what it cannot read.
fn junit_consumer(xml: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).unwrap();
    let python = std::env::var("STACKGATE_JUNIT_PYTHON")
        .unwrap_or_else(|_| "/opt/stackgate/junit/bin/python".to_string());
    let checked = std::process::Command::new(python)
        .arg(manifest_dir().join("tests/junit/check_junit.py"))
        .arg("--ascii")
        .arg(&file)
        .output()
        .expect("the JUnit consumer (installed by .ci/run) runs");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    serde_json::from_slice(&checked.stdout).unwrap()
}

/// The first testcase of a consumer's report whose `field` is `value`.
fn junit_case<'a>(doc: &'a Value, field: &str, value: &str) -> &'a Value {
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[field] == value)
        .unwrap_or_else(|| panic!("no testcase with {field} {value}: {doc}"))
}

/// `--format junit`: a real JUnit consumer reads the binary's output.
#[test]
fn junit_from_the_binary_is_read_by_a_real_consumer() {
    let output = stackgate()
        .args(["gate", "--phase", "02", "--world"])
        .arg(world("phase02-subordinate-hook-error"))
        .args(["--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let doc = junit_consumer(&output.stdout);
    assert_eq!(doc["tests"], 6);
    assert_eq!(doc["failures"], 1, "P02-E");
    let case = junit_case(&doc, "name", "P02-E");
    assert_eq!(case["result"], "failure");
    assert_eq!(case["type"], "FAIL");
    assert!(
        case["text"]
            .as_str()
            .unwrap()
            .contains("BAD unit keystone-hacluster/0: workload-status = error")
    );
    assert_eq!(case["properties"]["metric.workload_error"], "1");
}

/// `--format log`: one entry, ASCII with LF only, dated and naming the tool, ready to
/// paste into the change log.
#[test]
fn the_as_executed_log_is_ascii_lf_dated_and_names_every_verdict() {
    let text = stdout_of(&["gate", "--phase", "02", "--format", "log"], 0);
    assert!(text.is_ascii() && !text.contains('\r'), "{text:?}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        text.lines().next().unwrap(),
        format!("Gate run (stackgate) -- PROCEED ({today})")
    );
    assert!(
        text.contains(&format!("PHASE-02 GATES -- PROCEED ({today})")),
        "{text}"
    );
    assert!(text.contains("(commit "), "{text}");
    for id in ["P02-A", "P02-B", "P02-C", "P02-D", "P02-E", "P02-SEALED"] {
        assert!(text.contains(&format!("  - {id} ")), "{id}: {text}");
    }
    assert!(text.contains("units=63"), "{text}");
    assert!(text.ends_with(".\n"), "{text}");
}

/// `--quiet` prints the gates that did not pass and the result, nothing else.
#[test]
fn quiet_prints_only_the_failing_gates() {
    let out = stdout_of(
        &[
            "gate",
            "--phase",
            "02",
            "--quiet",
            "--world",
            world("phase02-subordinate-hook-error").to_str().unwrap(),
        ],
        1,
    );
    assert!(out.contains("FAIL          P02-E"), "{out}");
    assert!(out.contains("BAD      unit keystone-hacluster/0"), "{out}");
    for quiet in ["P02-A ", "P02-B ", "PROCEED", "reads:", "    ok "] {
        assert!(!out.contains(quiet), "{quiet}: {out}");
    }
    assert!(out.contains("result: FAIL (exit 1)"), "{out}");
}

/// Colour only on a terminal, never under NO_COLOR, and `--color always|never` win.
#[test]
fn colour_on_a_terminal_only_and_never_under_no_color() {
    const ESC: &str = "\x1b[";
    let args = |extra: &[&str]| {
        let mut a = vec![
            "gate".to_string(),
            "--phase".into(),
            "02".into(),
            "--quiet".into(),
            "--world".into(),
            world("phase02-subordinate-hook-error")
                .display()
                .to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    // A pipe: no colour; --color always: colour.
    let piped = stackgate().args(args(&[])).output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains(ESC));
    let always = stackgate()
        .args(args(&["--color", "always"]))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&always.stdout).contains(ESC),
        "--color always colours a pipe too"
    );
    // A terminal: colour, unless NO_COLOR is set.
    for (no_color, coloured) in [(None, true), (Some("1"), false)] {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let slave = std::fs::File::from(pty.slave.try_clone().unwrap());
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stackgate"));
        command.args(args(&[])).stdout(slave).stderr(Stdio::null());
        command.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            command.env("NO_COLOR", v);
        }
        let status = command.status().unwrap();
        assert_eq!(status.code(), Some(1));
        let screen = terminal_output(&pty.master);
        assert!(screen.contains("P02-E"), "{screen:?}");
        assert_eq!(
            screen.contains(ESC),
            coloured,
            "NO_COLOR={no_color:?}: {screen:?}"
        );
    }
}

/// `explain` names what the gate checks, its argv, its key paths, its scenarios and the
/// seed lines it comes from.
#[test]
fn explain_names_the_argv_scenarios_and_seed_lines() {
    let out = stdout_of(&["explain", "P03-ACCEPT"], 0);
    assert!(
        out.starts_with("P03-ACCEPT (phase 03; @read-only)\n"),
        "{out}"
    );
    assert!(
        out.contains("juju status -m openstack --format=json"),
        "{out}"
    );
    assert!(out.contains("features/phase-03/accept.feature: past the waiver's date the broken policy override fails again"), "{out}");
    assert!(out.contains("seed 004:239: "), "{out}");
    stackgate()
        .args(["explain", "P09-X"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no gate \"P09-X\""));
}

/// `gate --wait` on a recording that holds: passes after N polls in a row, each poll on
/// stderr as a plain line (stderr is not a terminal), the report holding the wait.
#[test]
fn wait_passes_after_n_polls_in_a_row_with_progress_on_stderr() {
    let output = stackgate()
        .args([
            "gate",
            "--phase",
            "03",
            "--gate",
            "P03-ACCEPT",
            "--as-of",
            TODAY,
            "--wait",
            "--passes",
            "2",
            "--interval",
            "1",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "waiting: phase 03 gates: poll 1, 0s, 1/2 in a row, holds: P03-ACCEPT WAIVED"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("waited: phase 03 gates: PASSED after 2 poll(s)"),
        "{stderr}"
    );
    assert!(
        stdout.contains(
            "waited: PASSED after 2 poll(s) over 1s (2 in a row needed, every 1s, bound 1800s)"
        ),
        "{stdout}"
    );
}

/// A HOLD ends a wait at once: waiting does not lift a guard.
#[test]
fn wait_ends_at_once_on_a_hold() {
    let started = Instant::now();
    let output = stackgate()
        .args([
            "gate",
            "--phase",
            "02",
            "--gate",
            "P02-SEALED",
            "--wait",
            "--world",
        ])
        .arg(world("phase02-vault-initialized"))
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("waited: phase 02 gates: FAILED after 1 poll(s) over 0s (3 in a row needed, every 10s, bound 1800s): P02-SEALED HOLD"),
        "{stderr}"
    );
}

/// An action's dry-run as JUnit and as a log entry: the plan is one testcase a real
/// consumer reads; the log names the plan's fingerprint and steps.
#[test]
fn an_actions_dry_run_as_junit_and_as_a_log_entry() {
    let output = stackgate()
        .args(["act", "teardown-destroy", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let doc = junit_consumer(&output.stdout);
    assert_eq!(doc["tests"], 1);
    let case = &doc["cases"][0];
    assert_eq!(case["name"], "teardown-destroy plan");
    assert_eq!(case["properties"]["outcome"], "PLANNED");
    assert!(
        case["system_out"]
            .as_str()
            .unwrap()
            .contains("[DESTRUCTIVE] juju destroy-model openstack"),
        "{case}"
    );
    let log = stdout_of(&["act", "teardown-destroy", "--format", "log"], 0);
    assert!(log.is_ascii() && !log.contains('\r'));
    assert!(
        log.starts_with("Phase action (stackgate) -- PLANNED ("),
        "{log}"
    );
    assert!(
        log.contains("Action teardown-destroy (phase 00) -- PLANNED (DRY-RUN)"),
        "{log}"
    );
    assert!(
        log.contains("  6. [DESTRUCTIVE] juju destroy-model openstack"),
        "{log}"
    );
}

/// A wait that reaches its bound is not a pass, whatever its last poll said: here every
/// poll passes, but the bound (15 s, simulated on a recording) comes before the third
/// pass in a row. The result is TIMED-OUT, exit 1, in every report.
#[test]
fn a_wait_that_reaches_its_bound_is_timed_out_even_if_its_last_poll_passed() {
    let args = |format: &str| {
        stdout_of(
            &[
                "gate",
                "--phase",
                "03",
                "--gate",
                "P03-ACCEPT",
                "--as-of",
                TODAY,
                "--wait",
                "--passes",
                "3",
                "--interval",
                "10",
                "--wait-bound",
                "15",
                "--format",
                format,
            ],
            1,
        )
    };
    let text = args("text");
    assert!(text.contains("result: TIMED-OUT (exit 1"), "{text}");
    assert!(
        text.contains(
            "waited: TIMED-OUT after 2 poll(s) over 10s (3 in a row needed, every 10s, bound 15s)"
        ),
        "{text}"
    );
    let doc = junit_consumer(args("junit").as_bytes());
    assert_eq!(doc["failures"], 1, "{doc}");
    let case = junit_case(&doc, "result", "failure");
    assert_eq!(case["name"], "wait for phase 03 gates");
    assert_eq!(case["type"], "TIMED-OUT");
    let log = args("log");
    assert!(
        log.starts_with("Gate run (stackgate) -- TIMED-OUT ("),
        "{log}"
    );
    assert!(
        log.contains("PHASE-03 GATES -- NOT MET (the wait reached its bound)"),
        "{log}"
    );
}
