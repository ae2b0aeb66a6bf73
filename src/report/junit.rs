//! `--format junit`: the run's events as JUnit XML, for CI systems. One testsuite per
//! phase (a rehearsal's leg is one), one testcase per gate verdict (FAIL and HOLD as
//! failures, PRECONDITION as an error, SKIP as skipped, the evidence lines in the body),
//! the verdict's metrics as testcase properties, and when an action ran, one testcase
//! per step (a failed post-condition is a failure; the steps after it skipped). A wait's
//! poll supersedes the one before: the suite holds the last poll's verdicts, and the
//! wait's outcome is a suite property. Written with nextest's own JUnit crate.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ascii;
use crate::actions::executor::{ActionReport, Outcome};
use crate::events::{Event, Tool};
use crate::gates::{Status, Verdict};

/// The JUnit XML of a run's events.
pub fn render(events: &[Event]) -> String {
    super::consume::<Junit>(events)
}

#[derive(Default)]
struct Junit {
    report: Option<Report>,
    suites: Vec<TestSuite>,
    tool: Option<Tool>,
    /// The phase of the action whose steps are arriving.
    action_phase: Option<&'static str>,
    /// A gate wait's poll ended: the next verdict starts the next poll's cases.
    superseded: bool,
    /// Where the current batch of verdicts (one evaluation) starts in the open suite.
    batch_start: usize,
    /// The last event was a verdict (the batch goes on).
    in_batch: bool,
}

fn text(s: &str) -> String {
    ascii(s.to_string())
}

impl Junit {
    fn report(&mut self) -> &mut Report {
        self.report.get_or_insert_with(|| Report::new("stackgate"))
    }

    fn suite(&mut self, phase: &str) -> &mut TestSuite {
        if self.suites.is_empty() {
            self.open(phase.to_string(), None, None);
        }
        self.suites.last_mut().expect("a suite is open")
    }

    fn open(&mut self, phase: String, source: Option<&str>, profile: Option<&str>) {
        let mut suite = TestSuite::new(format!("phase {phase}"));
        if let Some(source) = source {
            suite.add_property(Property::new("source", text(source)));
        }
        if let Some(profile) = profile {
            suite.add_property(Property::new("profile", text(profile)));
        }
        if let Some(tool) = &self.tool {
            suite.add_property(Property::new("stackgate.version", tool.version));
            suite.add_property(Property::new("stackgate.commit", tool.commit));
        }
        self.suites.push(suite);
        self.batch_start = 0;
        self.in_batch = false;
        self.superseded = false;
    }
}

impl super::Consumer for Junit {
    fn on(&mut self, event: &Event) {
        if !matches!(
            event,
            Event::Verdict(_) | Event::WaitPoll { gates: true, .. }
        ) {
            self.in_batch = false;
        }
        match event {
            Event::RunStarted { tool, started, .. } => {
                self.tool = Some(tool.clone());
                self.report().set_timestamp(started.fixed_offset());
            }
            Event::PhaseStarted {
                phase,
                source,
                profile,
                waivers_as_of,
            } => {
                self.open(phase.clone(), Some(source), Some(profile));
                self.suite(phase)
                    .add_property(Property::new("waivers.as_of", waivers_as_of.to_string()));
            }
            Event::Verdict(v) => {
                let len = self.suite(v.phase).test_cases.len();
                if std::mem::take(&mut self.superseded) {
                    // The next poll of a gate wait: its verdicts replace the last one's.
                    let start = self.batch_start.min(len);
                    truncate(self.suite(v.phase), start);
                } else if !self.in_batch {
                    self.batch_start = len;
                }
                self.in_batch = true;
                let case = verdict_case(v);
                self.suite(v.phase).add_test_case(case);
            }
            Event::Observed(v) => {
                // Decides nothing: a passing case that says what was seen.
                let mut case = TestCase::new(
                    format!("{} (observed before an action)", v.id),
                    TestCaseStatus::success(),
                );
                case.set_classname(format!("stackgate.phase-{}.observed", v.phase));
                case.add_property(Property::new("status", v.status.label()));
                case.set_system_out(format!(
                    "{} {}\n{}",
                    v.status.label(),
                    text(&v.summary),
                    evidence_text(v)
                ));
                self.suite(v.phase).add_test_case(case);
            }
            Event::WaitPoll { gates: true, .. } => self.superseded = true,
            Event::WaitPoll { .. } => {}
            Event::WaitDone {
                what,
                summary,
                gates,
            } => {
                if *gates && summary.outcome == crate::events::TIMED_OUT {
                    // The last poll may pass, but the wait did not show the gates hold.
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(text(&format!(
                            "not every gate passed {} polls in a row within {}s: {}",
                            summary.needed, summary.bound_secs, summary.last
                        )))
                        .set_type(crate::events::TIMED_OUT);
                    let mut case = TestCase::new(format!("wait for {}", text(what)), status);
                    case.set_classname("stackgate.wait");
                    self.suite("-").add_test_case(case);
                }
                let suite = self.suite("-");
                let n = suite
                    .properties
                    .iter()
                    .filter(|p| p.name.as_str().starts_with("wait "))
                    .count();
                suite.add_property(Property::new(
                    format!("wait {}: {}", n + 1, text(what)),
                    text(&summary.line()),
                ));
            }
            Event::ActionPlanned { phase, .. } => self.action_phase = Some(phase),
            Event::StepDone { action, step } => {
                let phase = self.action_phase.unwrap_or("-");
                let status = if step.ok {
                    TestCaseStatus::success()
                } else {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(if step.detail.is_empty() {
                        "the step failed".to_string()
                    } else {
                        text(&step.detail)
                    })
                    .set_type("STEP-FAILED");
                    s
                };
                let mut case = TestCase::new(
                    text(&format!("{action} step {}: {}", step.step, step.command)),
                    status,
                );
                case.set_classname(format!("stackgate.phase-{phase}.action.{action}"));
                if step.ok {
                    case.set_system_out(text(&format!("proved: {}\n", step.detail)));
                }
                if let Some(code) = step.exit_code {
                    case.add_property(Property::new("exit_code", code.to_string()));
                }
                self.suite(phase).add_test_case(case);
            }
            Event::ActionFinished(report) => {
                let phase = report.phase;
                for case in action_cases(report) {
                    self.suite(phase).add_test_case(case);
                }
            }
            Event::RunFinished {
                interrupted: Some(signal),
                ..
            } => {
                // No gate verdict is claimed over a run a signal cut short.
                for suite in &mut self.suites {
                    let kept: Vec<TestCase> = std::mem::take(&mut suite.test_cases)
                        .into_iter()
                        .filter(|c| {
                            !c.classname
                                .as_ref()
                                .is_some_and(|n| n.as_str().ends_with(".gates"))
                        })
                        .collect();
                    let n = kept.len();
                    suite.test_cases = kept;
                    truncate(suite, n);
                }
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(format!(
                        "{signal}: the running commands were killed; no gate verdict is claimed"
                    ))
                    .set_type("INTERRUPTED");
                let mut case = TestCase::new("run interrupted", status);
                case.set_classname("stackgate.run");
                self.suite("-").add_test_case(case);
            }
            Event::RunFinished { elapsed, .. } => {
                self.report().set_time(*elapsed);
            }
            Event::GateStarted { .. } | Event::ReadDone(_) => {}
        }
    }

    fn finish(mut self) -> String {
        let suites = std::mem::take(&mut self.suites);
        let report = self.report();
        report.add_test_suites(suites);
        let mut xml = report.to_string().expect("a JUnit report serialises");
        if !xml.ends_with('\n') {
            xml.push('\n');
        }
        ascii(xml)
    }
}

/// Keeps a suite's first `n` cases, its counts recounted (quick-junit counts as cases
/// are added).
fn truncate(suite: &mut TestSuite, n: usize) {
    let cases = std::mem::take(&mut suite.test_cases);
    (suite.tests, suite.failures, suite.errors, suite.skipped) = (0, 0, 0, 0);
    suite.add_test_cases(cases.into_iter().take(n));
}

/// One gate's verdict as a testcase.
fn verdict_case(v: &Verdict) -> TestCase {
    let body = evidence_text(v);
    let status = match v.status {
        Status::Pass | Status::Proceed | Status::Waived => TestCaseStatus::success(),
        Status::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(text(&v.summary)).set_type("SKIP");
            s
        }
        Status::Fail | Status::Hold => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(text(&v.summary))
                .set_type(v.status.label())
                .set_description(body.clone());
            s
        }
        Status::Precondition => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(text(&v.summary))
                .set_type("PRECONDITION")
                .set_description(body.clone());
            s
        }
    };
    let mut case = TestCase::new(v.id, status);
    case.set_classname(format!("stackgate.phase-{}.gates", v.phase));
    case.add_property(Property::new("status", v.status.label()));
    if let Some(outcome) = &v.outcome {
        case.add_property(Property::new("outcome", text(outcome)));
    }
    for (name, value) in &v.metrics {
        case.add_property(Property::new(
            format!("metric.{}", text(name)),
            value.to_string(),
        ));
    }
    if matches!(v.status, Status::Pass | Status::Proceed | Status::Waived) {
        case.set_system_out(format!("{} {}\n{body}", v.status.label(), text(&v.summary)));
    }
    case
}

/// A verdict's evidence lines, one per line, as the terminal shows them.
fn evidence_text(v: &Verdict) -> String {
    let mut out = String::new();
    for e in &v.evidence {
        out.push_str(&super::evidence_line(e));
        out.push('\n');
    }
    text(&out)
}

/// An action's end as testcases: a dry-run's plan (or the refusal that stopped it
/// before any step), and the steps an apply did not reach.
fn action_cases(report: &ActionReport) -> Vec<TestCase> {
    let class = format!("stackgate.phase-{}.action.{}", report.phase, report.action);
    let mut cases = Vec::new();
    if !report.applied {
        let status = match &report.outcome {
            Outcome::Planned | Outcome::NothingToDo | Outcome::Done => TestCaseStatus::success(),
            Outcome::Precondition(why) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(text(why)).set_type(report.outcome.label());
                s
            }
            Outcome::Refused(why)
            | Outcome::Stale(why)
            | Outcome::Unconfirmed(why)
            | Outcome::StepFailed(why) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(text(why)).set_type(report.outcome.label());
                s
            }
        };
        let mut case = TestCase::new(format!("{} plan", report.action), status);
        case.set_classname(class.clone());
        case.add_property(Property::new("outcome", report.outcome.label()));
        if let Some(plan) = &report.plan {
            case.add_property(Property::new("fingerprint", plan.fingerprint.clone()));
            let mut out = String::new();
            for (i, s) in plan.steps.iter().enumerate() {
                out.push_str(&format!(
                    "{}. {}{} -- proves: {}\n",
                    i + 1,
                    if s.destructive { "[DESTRUCTIVE] " } else { "" },
                    s.command,
                    s.check
                ));
            }
            if out.is_empty() {
                out.push_str("nothing to do\n");
            }
            case.set_system_out(text(&out));
        }
        cases.push(case);
        return cases;
    }
    if let Some(plan) = &report.plan {
        for (i, s) in plan.steps.iter().enumerate().skip(report.steps.len()) {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!(
                "not run: the run stopped at step {} ({})",
                report.steps.len(),
                report.outcome.label()
            ));
            let mut case = TestCase::new(
                text(&format!("{} step {}: {}", report.action, i + 1, s.command)),
                status,
            );
            case.set_classname(class.clone());
            cases.push(case);
        }
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Pending;
    use crate::gates::by_id;

    fn verdict(id: &str, status: Status) -> Event {
        Event::Verdict(Verdict::new(
            by_id(id).unwrap(),
            status,
            format!("{id} said so"),
        ))
    }

    fn poll(n: u32) -> Event {
        Event::WaitPoll {
            what: "phase 02 gates".into(),
            gates: true,
            poll: n,
            streak: 0,
            needed: 3,
            waited_secs: 0,
            pending: vec![Pending {
                id: "P02-E",
                status: Status::Fail,
                why: "x".into(),
            }],
            state: "not yet".into(),
        }
    }

    #[test]
    fn a_gate_waits_last_poll_supersedes_the_ones_before() {
        let events = vec![
            Event::PhaseStarted {
                phase: "02".into(),
                source: "s".into(),
                profile: "p".into(),
                waivers_as_of: "2026-12-07".parse().unwrap(),
            },
            verdict("P02-B", Status::Pass),
            verdict("P02-E", Status::Fail),
            poll(1),
            verdict("P02-B", Status::Pass),
            verdict("P02-E", Status::Fail),
            poll(2),
            verdict("P02-B", Status::Pass),
            verdict("P02-E", Status::Pass),
            poll(3),
        ];
        let xml = render(&events);
        assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
        assert!(!xml.contains("<failure"), "{xml}");
        assert!(xml.contains(r#"tests="2""#), "{xml}");
    }

    #[test]
    fn verdicts_map_to_junit_results_and_the_body_holds_the_evidence() {
        let gate = by_id("P02-E").unwrap();
        let v = Verdict::new(gate, Status::Precondition, "could not read").with_evidence(vec![
            crate::gates::Evidence::new(
                crate::gates::Mark::Missing,
                "juju status",
                "key",
                "missing key `applications`",
            ),
        ]);
        let xml = render(&[
            Event::Verdict(v),
            verdict("P02-B", Status::Hold),
            verdict("P02-C", Status::Skip),
            verdict("P02-D", Status::Waived),
        ]);
        assert!(xml.contains(r#"<error message="could not read" type="PRECONDITION">MISSING juju status: key = missing key `applications`"#), "{xml}");
        assert!(
            xml.contains(r#"<failure message="P02-B said so" type="HOLD">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="P02-C said so" type="SKIP"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"tests="4" skipped="1" failures="1" errors="1""#),
            "{xml}"
        );
        assert!(xml.is_ascii());
    }
}
