//! The reports as their consumers read them. Every world's JUnit XML goes through a
//! real JUnit consumer (junitparser, tests/junit/check_junit.py, in the venv `.ci/run`
//! installs), and its testcases must be the verdicts; every as-executed log entry must be
//! ASCII with LF line ends only, dated, naming the tool, each gate and its figures.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use stackgate::cli::GateRun;
use stackgate::events::{Collect, Event, Sink, Tool};
use stackgate::gates::{self, Status, Verdict};
use stackgate::profile::Profile;
use stackgate::report;
use stackgate::runner::{Logged, Replay};

/// The Python that has junitparser: `.ci/run` installs it at /opt/stackgate/junit;
/// `STACKGATE_JUNIT_PYTHON` names another.
fn consumer() -> PathBuf {
    let python = std::env::var_os("STACKGATE_JUNIT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/stackgate/junit/bin/python"));
    assert!(
        python.is_file(),
        "{} is missing: the JUnit consumer is installed by .ci/run (python3 -m venv /opt/stackgate/junit && /opt/stackgate/junit/bin/pip install -r tests/junit/requirements.txt)",
        python.display()
    );
    python
}

/// Runs the consumer over `files`; one parsed report per file, in order.
fn consume(files: &[PathBuf]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/junit/check_junit.py");
    let out = Command::new(consumer())
        .arg(script)
        .arg("--ascii")
        .args(files)
        .output()
        .expect("the consumer runs");
    assert!(
        out.status.success(),
        "the JUnit consumer refused a report:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    lines
}

/// A gate run's whole event stream, as the binary makes it, on a fixed date.
async fn events_of(
    phase: &str,
    gates: Vec<&'static gates::GateSpec>,
    world: &str,
) -> (Vec<Event>, Vec<Verdict>) {
    let world = stackgate::world::World::embedded(world).unwrap();
    let profile = Profile::embedded(&world.profile).unwrap();
    let mut run = GateRun::new(phase, gates, profile, Logged::new(Replay::new(world)));
    run.options.today = common::TODAY.parse().unwrap();
    let events = Collect::new();
    events.emit(&Event::RunStarted {
        command: "gate",
        tool: Tool::this(),
        started: "2026-12-07T02:41:44Z".parse().unwrap(),
    });
    let (_, verdicts) = run.run_into(&events).await;
    let worst = gates::overall(&verdicts);
    events.emit(&Event::RunFinished {
        result: worst.label().to_string(),
        exit_code: worst.exit_code(),
        interrupted: None,
        elapsed: Duration::from_millis(250),
    });
    (events.events(), verdicts)
}

/// A world's phase: `testcloud/phase02-...` and `testcloud/sim-phase02-...` are 02.
fn phase_of(world: &str) -> Option<String> {
    let name = world.rsplit('/').next()?;
    let rest = name
        .strip_prefix("sim-")
        .unwrap_or(name)
        .strip_prefix("phase")?;
    let phase = rest.get(..2)?;
    gates::phases().contains(&phase).then(|| phase.to_string())
}

fn expected_result(status: Status) -> &'static str {
    match status {
        Status::Pass | Status::Proceed | Status::Waived => "pass",
        Status::Skip => "skipped",
        Status::Fail | Status::Hold => "failure",
        Status::Precondition => "error",
    }
}

/// Holds a log entry to the change log's rules: ASCII, LF only, no blank at a line's
/// end, a final newline; dated and naming the tool.
fn assert_pasteable(log: &str, what: &str) {
    assert!(log.is_ascii(), "{what}: not ASCII:\n{log}");
    assert!(!log.contains('\r'), "{what}: a CR");
    assert!(
        log.ends_with('\n') && !log.ends_with("\n\n\n"),
        "{what}: the end"
    );
    assert!(
        log.lines().all(|l| l == l.trim_end() && !l.contains('\t')),
        "{what}: a trailing blank or a tab:\n{log}"
    );
    assert!(
        log.bytes().all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
        "{what}: a control character"
    );
    assert!(
        log.lines().next().unwrap().ends_with("(2026-12-07)"),
        "{what}: undated:\n{log}"
    );
    assert!(
        log.contains(&format!("stackgate {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{what}: no tool line:\n{log}"
    );
}

#[tokio::test]
async fn every_worlds_junit_is_accepted_by_a_real_consumer_and_holds_its_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut expected: Vec<(String, Vec<Verdict>)> = Vec::new();
    let worlds = stackgate::fixtures::embedded_worlds().unwrap();
    let mut failing = 0;
    for named in &worlds {
        let Some(phase) = phase_of(&named.name) else {
            continue;
        };
        let (events, verdicts) = events_of(&phase, gates::all_of_phase(&phase), &named.name).await;
        if verdicts.iter().any(|v| v.status.exit_code() != 0) {
            failing += 1;
        }
        let junit = report::junit::render(&events);
        let file = dir
            .path()
            .join(format!("{}.xml", named.name.replace('/', "_")));
        std::fs::write(&file, &junit).unwrap();
        files.push(file);
        // The as-executed entry of the same events.
        let log = report::log::render(&events);
        assert_pasteable(&log, &named.name);
        for v in &verdicts {
            assert!(
                log.contains(&format!("  - {} {} -- ", v.id, v.status.label())),
                "{}: {} missing from the log:\n{log}",
                named.name,
                v.id
            );
        }
        expected.push((named.name.clone(), verdicts));
    }
    assert!(expected.len() > 100, "{} worlds", expected.len());
    assert!(failing > 60, "{failing} failing worlds");
    let reports = consume(&files);
    for ((world, verdicts), report) in expected.iter().zip(&reports) {
        let count = |s: &[Status]| verdicts.iter().filter(|v| s.contains(&v.status)).count();
        assert_eq!(report["suites"], 1, "{world}");
        assert_eq!(report["tests"], verdicts.len(), "{world}");
        assert_eq!(
            report["failures"],
            count(&[Status::Fail, Status::Hold]),
            "{world}"
        );
        assert_eq!(report["errors"], count(&[Status::Precondition]), "{world}");
        assert_eq!(report["skipped"], count(&[Status::Skip]), "{world}");
        let cases = report["cases"].as_array().unwrap();
        for (v, case) in verdicts.iter().zip(cases) {
            assert_eq!(case["name"], v.id, "{world}");
            assert_eq!(
                case["result"],
                expected_result(v.status),
                "{world} {}",
                v.id
            );
            assert_eq!(case["properties"]["status"], v.status.label(), "{world}");
            for (name, value) in &v.metrics {
                assert_eq!(
                    case["properties"][format!("metric.{name}")],
                    value.to_string(),
                    "{world} {}",
                    v.id
                );
            }
            if matches!(v.status, Status::Fail | Status::Hold | Status::Precondition) {
                // The evidence lines are the body: every BAD and MISSING one.
                let text = case["text"].as_str().unwrap_or_default();
                for e in v
                    .evidence
                    .iter()
                    .filter(|e| matches!(e.mark, gates::Mark::Bad | gates::Mark::Missing))
                {
                    assert!(text.contains(&e.subject), "{world} {}: {text}", v.id);
                }
                assert!(!case["message"].as_str().unwrap().is_empty());
            }
        }
        let props: BTreeMap<String, String> = serde_json::from_value(
            report["properties"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(props["stackgate.version"], env!("CARGO_PKG_VERSION"));
        assert!(props.contains_key("source") && props.contains_key("profile"));
    }
}

#[tokio::test]
async fn the_rehearsals_junit_has_a_suite_per_leg_and_a_testcase_per_step() {
    let events = Collect::new();
    events.emit(&Event::RunStarted {
        command: "rehearse",
        tool: Tool::this(),
        started: "2026-12-07T02:41:44Z".parse().unwrap(),
    });
    let result = stackgate::rehearsal::rehearse(
        &stackgate::rehearsal::testcloud(),
        &events,
        "20261207T024144Z",
    )
    .await;
    assert!(result.passed, "{result:#?}");
    events.emit(&Event::RunFinished {
        result: "MET".into(),
        exit_code: 0,
        interrupted: None,
        elapsed: Duration::from_millis(400),
    });
    let events = events.events();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rehearsal.xml");
    std::fs::write(&file, report::junit::render(&events)).unwrap();
    let report = &consume(&[file])[0];
    assert_eq!(report["suites"], result.legs.len());
    assert_eq!(report["failures"], 0);
    assert_eq!(report["errors"], 0);
    let cases = report["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    // Every applied step of every action is a testcase, named by its command.
    let steps: usize = result
        .legs
        .iter()
        .flat_map(|l| &l.entries)
        .map(|e| match e {
            stackgate::rehearsal::Entry::Action { applied, .. } => applied.steps.len(),
            _ => 0,
        })
        .sum();
    let step_cases = cases
        .iter()
        .filter(|c| c["classname"].as_str().unwrap().contains(".action."))
        .count();
    assert!(
        step_cases >= steps && steps > 30,
        "{step_cases} cases for {steps} steps"
    );
    assert!(
        names.iter().any(|n| n.starts_with("vault-init step 1: ")),
        "{names:?}"
    );
    assert!(names.contains(&"P00-EXIT") && names.contains(&"P05-AMPHORA"));
    // The rehearsal's log is one pasteable entry over every phase.
    let log = report::log::render(&events);
    assert_pasteable(&log, "rehearsal");
    for phase in [
        "PHASE-00-01",
        "PHASE-02",
        "PHASE-03",
        "PHASE-04",
        "PHASE-05",
    ] {
        assert!(log.contains(phase), "{phase}:\n{log}");
    }
    assert!(
        log.contains(
            "Action vault-unseal (phase 02) -- DONE (APPLIED after its dry-run, same fingerprint)"
        ),
        "{log}"
    );
    assert!(log.contains("  - P03-ACCEPT WAIVED -- "), "{log}");
    // The simulated vault's tokens (`s.` and 24 characters, src/sim/vault.rs) and its
    // unseal shares (base64) reach neither report.
    let token = regex::Regex::new(r"\bs\.[0-9A-Za-z]{24}\b").unwrap();
    let junit = report::junit::render(&events);
    for (what, text) in [("log", &log), ("junit", &junit)] {
        assert!(!token.is_match(text), "a vault token in the {what}");
        assert!(
            !text.contains("Unseal Key 1:"),
            "an unseal share in the {what}"
        );
    }
}

#[tokio::test]
async fn a_failing_world_s_log_names_the_bad_lines_and_the_run_s_result() {
    let (events, _) = events_of(
        "02",
        gates::for_phase("02"),
        "testcloud/phase02-subordinate-hook-error",
    )
    .await;
    let log = report::log::render(&events);
    assert_pasteable(&log, "hook error");
    assert!(
        log.starts_with("Gate run (stackgate) -- FAIL (2026-12-07)\n"),
        "{log}"
    );
    assert!(
        log.contains("PHASE-02 GATES -- FAIL (NOT MET) (2026-12-07)"),
        "{log}"
    );
    assert!(
        log.contains("      BAD unit keystone-hacluster/0: workload-status = error"),
        "{log}"
    );
    assert!(log.contains("figures: "), "{log}");
    assert!(log.contains("Result: FAIL (exit 1) in 0.2s."), "{log}");
    // JUnit: the same verdict is a failure whose body holds the evidence.
    let junit = report::junit::render(&events);
    assert!(junit.contains("<failure message="), "{junit}");
    assert!(junit.contains("keystone-hacluster/0"), "{junit}");
}
