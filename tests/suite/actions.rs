//! The executor's guards on the simulator: dry-run changes nothing, `--apply` needs the
//! reviewed plan's fingerprint and refuses a stale one, a destructive plan needs the
//! model name typed, protected machines are never targets, a failed post-condition
//! stops the run, and a second apply plans nothing.

use std::sync::Arc;

use stackgate::actions::wait::ManualClock;
use stackgate::actions::{self, ActionArgs, Context, ExecOptions, NoOperator, Outcome};
use stackgate::events::Discard;
use stackgate::gates::{self, Status};
use stackgate::profile::Profile;
use stackgate::run::{RunOptions, evaluate};
use stackgate::runner::Logged;
use stackgate::sim::{Sim, SimConfig};
use stackgate::world::World;

/// Words only a mutating argv holds: a dry-run must run none of them.
const MUTATING: &[&str] = &[
    "detach-interface",
    "net-destroy",
    "net-undefine",
    "rm",
    "create",
    "chown",
    "chmod",
    "tee",
    "mkdir",
    "destroy-model",
    "remove-machine",
    "delete",
    "update-nodes",
    "link-subnet",
    "create-bridge",
    "create-vlan",
    "release",
    "update",
    "add-model",
    "reload-spaces",
    "export-bundle",
];

fn mutations(sim: &Sim) -> Vec<String> {
    sim.history()
        .into_iter()
        .filter(|argv| argv.iter().any(|w| MUTATING.contains(&w.as_str())))
        .map(|argv| argv.join(" "))
        .collect()
}

fn sim(world: &str) -> (Arc<Sim>, Profile) {
    let world = World::embedded(&format!("testcloud/{world}")).unwrap();
    let profile = Profile::embedded(&world.profile).unwrap();
    let sim = Sim::new(world, "admin", SimConfig::default()).unwrap();
    (Arc::new(sim), profile)
}

fn args() -> ActionArgs {
    ActionArgs {
        host: None,
        stamp: "20261202T120000Z".into(),
    }
}

fn context<'a>(sim: &Arc<Sim>, profile: &'a Profile, clock: &'a ManualClock) -> Context<'a> {
    Context {
        runner: Arc::new(Logged::new(sim.clone())),
        profile,
        clock,
        events: &Discard,
        operator: &NoOperator,
    }
}

async fn act(
    sim: &Arc<Sim>,
    profile: &Profile,
    action: &str,
    options: ExecOptions,
) -> actions::ActionReport {
    let clock = ManualClock::new();
    let action = actions::by_name(action).unwrap();
    actions::execute(action, &args(), &options, &context(sim, profile, &clock)).await
}

/// Dry-run, then apply the reviewed plan with the model name typed.
async fn apply(sim: &Arc<Sim>, profile: &Profile, action: &str) -> actions::ActionReport {
    let clock = ManualClock::new();
    let action = actions::by_name(action).unwrap();
    let confirm = Some(profile.model.clone());
    let ctx = context(sim, profile, &clock);
    actions::plan_then_apply(action, &args(), confirm, RunOptions::default(), &ctx)
        .await
        .1
}

async fn gate(sim: &Arc<Sim>, profile: &Profile, id: &str) -> Status {
    let gate = gates::by_id(id).unwrap();
    let runner = Arc::new(Logged::new(sim.clone()));
    let (_, verdicts) = evaluate(&[gate], profile, runner, RunOptions::default()).await;
    verdicts[0].status
}

#[tokio::test]
async fn a_dry_run_runs_no_mutation_and_shows_every_resolved_id() {
    let (sim, profile) = sim("phase00-lbaas-present");
    let report = act(&sim, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    assert_eq!(report.outcome, Outcome::Planned, "{report:#?}");
    assert!(!report.applied);
    assert_eq!(mutations(&sim), Vec::<String>::new());
    let plan = report.plan.unwrap();
    assert!(plan.steps.iter().any(|s| {
        s.command
            .contains("detach-interface openstack0 network --mac")
    }));
    assert!(
        plan.resolved
            .keys()
            .any(|k| k.contains("openstack3 NIC on 8_lbaas"))
    );
    assert_eq!(report.outcome.exit_code(), 0);
}

#[tokio::test]
async fn apply_without_a_reviewed_plan_or_with_a_wrong_confirmation_changes_nothing() {
    let (sim, profile) = sim("phase00-lbaas-present");
    let unreviewed = act(
        &sim,
        &profile,
        "lbaas-net-remove",
        ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            ..ExecOptions::default()
        },
    )
    .await;
    assert!(
        matches!(unreviewed.outcome, Outcome::Precondition(_)),
        "{unreviewed:?}"
    );
    assert_eq!(unreviewed.exit_code(), 2);
    let fingerprint = unreviewed.plan.unwrap().fingerprint;
    for confirm in [None, Some("openstack-old".to_string())] {
        let report = act(
            &sim,
            &profile,
            "lbaas-net-remove",
            ExecOptions {
                apply: true,
                confirm,
                reviewed: Some(fingerprint.clone()),
                run: RunOptions::default(),
            },
        )
        .await;
        assert!(
            matches!(report.outcome, Outcome::Unconfirmed(_)),
            "{report:?}"
        );
        assert_eq!(report.exit_code(), 2);
    }
    assert_eq!(mutations(&sim), Vec::<String>::new());
}

#[tokio::test]
async fn a_plan_reviewed_on_another_state_is_refused_as_stale() {
    // The operator reviewed the plan while every domain was shut off ...
    let (reviewed_on, profile) = sim("phase00-lbaas-present");
    let reviewed = act(&reviewed_on, &profile, "osd-wipe", ExecOptions::default()).await;
    // ... and one that saw nothing to do is stale too once there is something to do.
    let (clean, _) = sim("phase00-ready-carved");
    let nothing = act(&clean, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    assert_eq!(nothing.outcome, Outcome::NothingToDo);
    let (sim, _) = sim("phase00-lbaas-present");
    let report = act(
        &sim,
        &profile,
        "lbaas-net-remove",
        ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            reviewed: Some(nothing.plan.unwrap().fingerprint),
            run: RunOptions::default(),
        },
    )
    .await;
    assert!(matches!(report.outcome, Outcome::Stale(_)), "{report:?}");
    assert_eq!(report.exit_code(), 1);
    let report = act(
        &sim,
        &profile,
        "lbaas-net-remove",
        ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            reviewed: reviewed.plan.map(|p| p.fingerprint),
            run: RunOptions::default(),
        },
    )
    .await;
    assert!(matches!(report.outcome, Outcome::Stale(_)), "{report:?}");
    assert_eq!(mutations(&sim), Vec::<String>::new());
}

#[tokio::test]
async fn a_running_domain_refuses_the_detach_and_the_wipe() {
    let (sim, profile) = sim("phase00-domain-running");
    let report = act(&sim, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    let Outcome::Refused(why) = &report.outcome else {
        panic!("{report:?}")
    };
    assert!(why.contains("openstack1 is running"), "{why}");
    assert_eq!(report.exit_code(), 1);
    assert_eq!(mutations(&sim), Vec::<String>::new());
}

#[tokio::test]
async fn lbaas_net_remove_applies_proves_each_step_and_is_idempotent() {
    let (sim, profile) = sim("phase00-lbaas-present");
    assert_ne!(gate(&sim, &profile, "P00-LBAAS").await, Status::Pass);
    let report = apply(&sim, &profile, "lbaas-net-remove").await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert!(report.steps.iter().all(|s| s.ok));
    assert_eq!(gate(&sim, &profile, "P00-LBAAS").await, Status::Pass);
    let again = act(&sim, &profile, "lbaas-net-remove", ExecOptions::default()).await;
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:#?}");
}

#[tokio::test]
async fn osd_wipe_recreates_the_disks_blank_and_is_idempotent() {
    let (sim, profile) = sim("phase00-osd-data");
    assert_ne!(gate(&sim, &profile, "P00-OSD").await, Status::Pass);
    let report = apply(&sim, &profile, "osd-wipe").await;
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert_eq!(gate(&sim, &profile, "P00-OSD").await, Status::Pass);
    let again = act(&sim, &profile, "osd-wipe", ExecOptions::default()).await;
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:#?}");
}

// ---- The executor's guards with planners written to break them -------------------

mod guards {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Mutex;

    use futures::future::BoxFuture;
    use stackgate::actions::executor::Operator;
    use stackgate::actions::plan::{Check, Plan, Step, Target};
    use stackgate::actions::plan::{Delivery, SecretNeed, SecretSource};
    use stackgate::actions::wait::Poll;
    use stackgate::actions::{Action, Refusal, no_follow_up};
    use stackgate::runner::{CommandOutput, CommandRunner, Invocation, RunError};
    use stackgate::snapshot::{Read, Snapshot};

    use super::*;

    const MACHINES: &[u8] =
        include_bytes!("../../fixtures/testcloud/phase00-ready-carved/maas-machines-read.json");
    const SECRET: &str = "hunter2-typed-at-the-prompt";

    /// Answers `machines read` from the fixture and every other argv with `answer`;
    /// records each argv and, for a secret file named with `@=`, its mode and content.
    struct Fake {
        calls: Mutex<Vec<Vec<String>>>,
        secret_files: Mutex<Vec<(String, u32, String)>>,
        /// What each call was fed on stdin.
        stdins: Mutex<Vec<Vec<u8>>>,
        /// `machines read` in place of the recorded one.
        machines: Mutex<Option<String>>,
        /// The bound each call ran under.
        timeouts: Mutex<Vec<std::time::Duration>>,
        answer: fn(&[String]) -> (i32, &'static str, &'static str),
    }

    impl Fake {
        fn new(answer: fn(&[String]) -> (i32, &'static str, &'static str)) -> Arc<Fake> {
            Arc::new(Fake {
                calls: Mutex::new(Vec::new()),
                secret_files: Mutex::new(Vec::new()),
                stdins: Mutex::new(Vec::new()),
                machines: Mutex::new(None),
                timeouts: Mutex::new(Vec::new()),
                answer,
            })
        }

        fn mutations(&self) -> Vec<String> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .filter(|a| a.get(3).map(String::as_str) != Some("read"))
                .map(|a| a.join(" "))
                .collect()
        }
    }

    impl CommandRunner for Fake {
        fn run<'a>(
            &'a self,
            invocation: &'a Invocation,
        ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
            Box::pin(async move {
                let argv = invocation.argv().to_vec();
                self.calls.lock().unwrap().push(argv.clone());
                self.timeouts.lock().unwrap().push(invocation.timeout());
                if let Some(stdin) = invocation.secret_stdin() {
                    self.stdins.lock().unwrap().push(stdin.expose().to_vec());
                }
                let params = argv
                    .windows(2)
                    .filter(|w| w[0] == "--params")
                    .map(|w| w[1].as_str());
                for path in argv
                    .iter()
                    .filter_map(|w| w.split_once("@=").map(|(_, p)| p))
                    .chain(params)
                {
                    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
                    let dir = std::path::Path::new(path).parent().unwrap();
                    let dir_mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
                    let text = std::fs::read_to_string(path).unwrap();
                    self.secret_files.lock().unwrap().push((
                        path.to_string(),
                        mode | (dir_mode << 12),
                        text,
                    ));
                }
                let (code, stdout, stderr) = if argv.starts_with(&[
                    "maas".to_string(),
                    "admin".into(),
                    "machines".into(),
                    "read".into(),
                ]) {
                    let shown = self.machines.lock().unwrap().clone();
                    (
                        0,
                        shown.map_or_else(|| MACHINES.to_vec(), String::into_bytes),
                        "",
                    )
                } else {
                    let (code, stdout, stderr) = (self.answer)(&argv);
                    (code, stdout.as_bytes().to_vec(), stderr)
                };
                Ok(CommandOutput {
                    argv,
                    exit_code: Some(code),
                    stdout: stdout.into(),
                    stderr: stderr.as_bytes().to_vec(),
                    duration: std::time::Duration::ZERO,
                })
            })
        }

        fn describe(&self) -> String {
            "fake".into()
        }
    }

    struct Typist;

    impl Operator for Typist {
        fn confirm(&self, _: &str) -> Option<String> {
            None
        }

        fn secret(&self, _: &SecretNeed) -> Result<Vec<u8>, String> {
            Ok(SECRET.as_bytes().to_vec())
        }
    }

    fn reads(_: &Profile, _: &ActionArgs) -> Vec<Read> {
        vec![Read::MaasMachines {
            profile: "admin".into(),
        }]
    }

    fn ok() -> Check {
        Check::new("holds", vec![], |_, _| Poll::Pass("ok".into()))
    }

    fn action(plan: fn(&Snapshot, &Profile, &ActionArgs) -> Result<Plan, Refusal>) -> Action {
        Action {
            name: "test",
            phase: "00",
            description: "",
            destructive: true,
            guards: "",
            takes_host: false,
            reads,
            follow_up: no_follow_up,
            plan,
        }
    }

    async fn run(fake: &Arc<Fake>, action: &Action, apply: bool) -> actions::ActionReport {
        let profile = Profile::testcloud();
        let clock = ManualClock::new();
        let ctx = Context {
            runner: Arc::new(Logged::new(fake.clone())),
            profile: &profile,
            clock: &clock,
            events: &Discard,
            operator: &Typist,
        };
        let dry = actions::execute(action, &args(), &ExecOptions::default(), &ctx).await;
        if !apply {
            return dry;
        }
        let options = ExecOptions {
            apply: true,
            confirm: Some("openstack".into()),
            reviewed: dry.plan.map(|p| p.fingerprint),
            run: RunOptions::default(),
        };
        actions::execute(action, &args(), &options, &ctx).await
    }

    fn answer_ok(_: &[String]) -> (i32, &'static str, &'static str) {
        (0, "", "")
    }

    fn targets_renamed_lxd(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        // A planner bug: lxd's system_id under a host's name.
        let mut plan = Plan::new("test");
        plan.push(
            Step::run(["maas", "admin", "machine", "delete", "m3qdrk"], "r", ok())
                .destructive()
                .targets([Target::Machine {
                    hostname: "openstack2".into(),
                    system_id: "m3qdrk".into(),
                }]),
        );
        Ok(plan)
    }

    #[tokio::test]
    async fn a_step_targeting_a_protected_machine_under_another_name_is_refused() {
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(targets_renamed_lxd), true).await;
        let Outcome::Refused(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(why.contains("protected machine lxd"), "{why}");
        assert_eq!(fake.mutations(), Vec::<String>::new());
    }

    fn late_resolves_to_juju(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(Step::run(["true-step"], "first", ok()));
        plan.push(Step::resolved(
            "maas admin machine delete <system_id of openstack0>",
            vec![],
            |_, _| {
                Ok((
                    vec![
                        "maas".into(),
                        "admin".into(),
                        "machine".into(),
                        "delete".into(),
                        "hbt6xc".into(),
                    ],
                    vec![Target::Machine {
                        hostname: "openstack0".into(),
                        system_id: "hbt6xc".into(),
                    }],
                ))
            },
            "late",
            ok(),
        ));
        plan.push(Step::run(["never-runs"], "third", ok()));
        Ok(plan)
    }

    #[tokio::test]
    async fn a_late_argv_resolving_to_a_protected_machine_stops_the_run_there() {
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(late_resolves_to_juju), true).await;
        let Outcome::Refused(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(
            why.contains("step 2") && why.contains("protected machine juju"),
            "{why}"
        );
        assert_eq!(fake.mutations(), vec!["true-step".to_string()]);
    }

    fn second_check_fails(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(Step::run(["step-one"], "first", ok()));
        plan.push(Step::run(
            ["step-two"],
            "second",
            Check::new("the thing holds", vec![], |_, _| {
                Poll::Fail("it does not".into())
            }),
        ));
        plan.push(Step::run(["step-three"], "third", ok()));
        Ok(plan)
    }

    fn bounded_by_juju(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(
            Step::run(
                ["juju", "run", "--wait=20m", "x/leader", "a"],
                "bounded",
                ok(),
            )
            .timeout(std::time::Duration::from_secs(1260)),
        );
        plan.push(
            Step::run(["juju", "run", "--wait=1s", "x/leader", "b"], "short", ok())
                .timeout(std::time::Duration::from_secs(1)),
        );
        plan.push(Step::run(["true"], "unbounded", ok()));
        Ok(plan)
    }

    /// A step that bounds itself (juju's --wait) runs under the longer of its bound and
    /// the run's --timeout, never killed before its own wait ends; a shorter one keeps
    /// the run's.
    #[tokio::test]
    async fn a_step_with_its_own_bound_is_not_killed_before_it() {
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(bounded_by_juju), true).await;
        assert_eq!(report.outcome, actions::Outcome::Done, "{report:#?}");
        let calls = fake.calls.lock().unwrap().clone();
        let timeouts = fake.timeouts.lock().unwrap().clone();
        let of = |word: &str| {
            calls
                .iter()
                .zip(&timeouts)
                .find(|(c, _)| c.last().map(String::as_str) == Some(word))
                .map(|(_, t)| t.as_secs())
        };
        let default = RunOptions::default().timeout.as_secs();
        assert_eq!(of("a"), Some(1260));
        assert_eq!(of("b"), Some(default));
        assert_eq!(of("true"), Some(default));
    }

    #[tokio::test]
    async fn a_failed_post_condition_names_the_step_and_runs_nothing_after_it() {
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(second_check_fails), true).await;
        let Outcome::StepFailed(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(
            why.starts_with("step 2 `step-two`") && why.contains("the thing holds"),
            "{why}"
        );
        assert_eq!(
            fake.mutations(),
            vec!["step-one".to_string(), "step-two".to_string()]
        );
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.steps.len(), 2);
        assert!(report.steps[0].ok && !report.steps[1].ok);
    }

    fn with_secret(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(
            Step::run(
                [
                    "maas",
                    "admin",
                    "machines",
                    "create",
                    "power_parameters_power_pass@={secret-file}",
                ],
                "enroll",
                ok(),
            )
            .secret("libvirt SSH password"),
        );
        Ok(plan)
    }

    fn maas_refuses(argv: &[String]) -> (i32, &'static str, &'static str) {
        if argv.iter().any(|w| w.contains("@=")) {
            // MAAS echoing a value back in its error must not carry it into the report.
            (
                2,
                "{\"power_parameters\": [\"bad value hunter2-typed-at-the-prompt\"]}",
                "",
            )
        } else {
            (0, "", "")
        }
    }

    #[tokio::test]
    async fn a_secret_reaches_the_cli_only_in_an_owner_only_file_removed_after_the_step() {
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(with_secret), true).await;
        assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
        let files = fake.secret_files.lock().unwrap().clone();
        let [(path, modes, text)] = files.as_slice() else {
            panic!("{files:?}")
        };
        assert_eq!((modes & 0o777, modes >> 12), (0o600, 0o700));
        assert_eq!(text, SECRET);
        assert!(
            !std::path::Path::new(path).exists(),
            "the secret file outlived its step"
        );
        let calls = format!("{:?}", fake.calls.lock().unwrap());
        assert!(!calls.contains(SECRET));

        let fake = Fake::new(maas_refuses);
        let report = run(&fake, &action(with_secret), true).await;
        let Outcome::StepFailed(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(
            why.contains("exited 2") && why.contains("[REDACTED]"),
            "{why}"
        );
        let shown = format!("{report:?}");
        assert!(!shown.contains(SECRET), "{shown}");
    }

    const CHILD: &str = "s.child-token-captured-7d1e";

    /// mint prints a token (captured); use-file gets it in a params file, templated;
    /// use-stdin gets the operator's secret on stdin, templated; echo-back fails
    /// quoting both values (in its error and its stdout).
    fn token_flow(argv: &[String]) -> (i32, &'static str, &'static str) {
        match argv[0].as_str() {
            "mint" => (0, "s.child-token-captured-7d1e\n", ""),
            "mint-fails" => (2, "s.child-token-captured-7d1e", ""),
            "echo-back" => (
                1,
                "",
                "rejected s.child-token-captured-7d1e and hunter2-typed-at-the-prompt\n",
            ),
            _ => (0, "", ""),
        }
    }

    /// A step fed the captured child token on stdin; its CLI quotes what it got.
    fn echo_back() -> Step {
        Step::run(["echo-back"], "the CLI quotes what it got", ok()).secret_via(
            SecretSource::Captured("child token".into()),
            Delivery::Stdin,
            None,
        )
    }

    fn captures(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(
            Step::run(["use-stdin", "read"], "root token on stdin", ok()).secret_via(
                SecretSource::Operator(SecretNeed {
                    prompt: "root token".into(),
                }),
                Delivery::Stdin,
                Some("{secret}\n"),
            ),
        );
        plan.push(Step::run(["mint"], "mint a child", ok()).capture("child token"));
        plan.push(
            Step::run(["use-file", "--params", "{secret-file}"], "authorize", ok()).secret_via(
                SecretSource::Captured("child token".into()),
                Delivery::File,
                Some("token: {secret}\n"),
            ),
        );
        plan.push(echo_back());
        Ok(plan)
    }

    /// Why a run stopped at a failed step.
    fn step_failure(report: &actions::ActionReport) -> &str {
        match &report.outcome {
            Outcome::StepFailed(why) => why,
            _ => panic!("{report:#?}"),
        }
    }

    /// A captured value and a typed one travel only in a 0600 file and on stdin, each
    /// rendered from its template; a later failure quoting both blanks both; the plan
    /// says where each comes from without a value.
    #[tokio::test]
    async fn a_captured_secret_reaches_a_later_step_only_by_file_or_stdin_and_is_blanked_everywhere()
     {
        let fake = Fake::new(token_flow);
        let report = run(&fake, &action(captures), true).await;
        let why = step_failure(&report);
        assert!(
            why.starts_with("step 4 `echo-back`")
                && why.contains("rejected [REDACTED] and [REDACTED]"),
            "{why}"
        );
        assert_eq!(
            fake.stdins.lock().unwrap().clone(),
            [
                format!("{SECRET}\n").into_bytes(),
                CHILD.as_bytes().to_vec()
            ]
        );
        let files = fake.secret_files.lock().unwrap().clone();
        let [(path, modes, text)] = files.as_slice() else {
            panic!("{files:?}")
        };
        assert_eq!((modes & 0o777, modes >> 12), (0o600, 0o700));
        assert_eq!(text, &format!("token: {CHILD}\n"));
        assert!(!std::path::Path::new(path).exists());
        let plan = report.plan.as_ref().unwrap();
        assert_eq!(plan.steps[1].captures.as_deref(), Some("child token"));
        let secret = plan.steps[2].secret.as_deref().unwrap();
        assert!(
            secret.contains("the child token an earlier step of this run captured")
                && secret.contains("0600 file"),
            "{secret}"
        );
        let shown = format!(
            "{report:?}{}{:?}",
            stackgate::report::action::render_json(&report),
            fake.calls.lock().unwrap()
        );
        assert!(!shown.contains(CHILD) && !shown.contains(SECRET), "{shown}");
    }

    fn capture_fails(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(Step::run(["mint-fails"], "mint", ok()).capture("child token"));
        Ok(plan)
    }

    fn capture_missing(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(echo_back());
        Ok(plan)
    }

    fn capture_blank(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(Step::run(["prints-nothing"], "mint", ok()).capture("child token"));
        plan.push(Step::run(["never"], "after", ok()));
        Ok(plan)
    }

    /// A capturing step that fails never shows its stdout (the token), even with a
    /// blank stderr; a slot nothing filled fails the step before it runs; a capture of
    /// nothing is no value and stops the run.
    #[tokio::test]
    async fn a_capture_that_fails_or_is_missing_or_empty_shows_no_value_and_stops() {
        let fails = |plan| async move {
            let fake = Fake::new(token_flow);
            let report = run(&fake, &action(plan), true).await;
            (step_failure(&report).to_string(), fake.mutations())
        };
        let (why, _) = fails(capture_fails).await;
        assert!(why.ends_with("exited 2: (no output)"), "{why}");
        let (why, ran) = fails(capture_missing).await;
        assert!(why.contains("no child token was captured"), "{why}");
        assert!(ran.is_empty(), "{ran:?}");
        let (why, ran) = fails(capture_blank).await;
        assert!(
            why.contains("cannot be the child token: it printed nothing"),
            "{why}"
        );
        assert_eq!(ran, ["prints-nothing"]);
    }

    fn targets(target: fn() -> Target) -> Plan {
        let mut plan = Plan::new("test");
        plan.push(
            Step::run(["mutate"], "r", ok())
                .destructive()
                .targets([target()]),
        );
        plan
    }

    fn targets_lxd_domain(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        Ok(targets(|| Target::Domain { name: "lxd".into() }))
    }

    #[tokio::test]
    async fn a_protected_domain_is_refused() {
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(targets_lxd_domain), true).await;
        let Outcome::Refused(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(why.contains("domain lxd is protected"), "{why}");
        assert_eq!(fake.mutations(), Vec::<String>::new());
    }

    fn targets_openstack2(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        Ok(targets(|| Target::Machine {
            hostname: "openstack2".into(),
            system_id: "c8rxma".into(),
        }))
    }

    #[tokio::test]
    async fn a_host_that_is_a_protected_machine_by_mac_is_refused() {
        // The same target is fine on the recorded MAAS ...
        let fake = Fake::new(answer_ok);
        let report = run(&fake, &action(targets_openstack2), true).await;
        assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
        // ... and refused where its NIC is the tailscale machine's (re-created hardware).
        let fake = Fake::new(answer_ok);
        *fake.machines.lock().unwrap() = Some(with_mac_of("openstack2", "tailscale"));
        let report = run(&fake, &action(targets_openstack2), true).await;
        let Outcome::Refused(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(why.contains("protected machine tailscale (MAC"), "{why}");
        assert_eq!(fake.mutations(), Vec::<String>::new());
    }

    /// The machines read with `host`'s boot NIC given `protected`'s MAC.
    fn with_mac_of(host: &str, protected: &str) -> String {
        let mut machines: serde_json::Value = serde_json::from_slice(MACHINES).unwrap();
        let list = machines.as_array_mut().unwrap();
        let mac = list
            .iter()
            .find(|m| m["hostname"] == protected)
            .unwrap()["boot_interface"]["mac_address"]
            .clone();
        let m = list.iter_mut().find(|m| m["hostname"] == host).unwrap();
        m["boot_interface"]["mac_address"] = mac;
        serde_json::to_string(&machines).unwrap()
    }

    fn fails_on_stderr(_: &[String]) -> (i32, &'static str, &'static str) {
        (
            1,
            "",
            "error: Failed to detach interface\nerror: domain is not running\n",
        )
    }

    fn one_step(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
        let mut plan = Plan::new("test");
        plan.push(Step::run(["virsh", "detach-interface"], "r", ok()));
        Ok(plan)
    }

    fn maas_fails_on_stdout(_: &[String]) -> (i32, &'static str, &'static str) {
        (2, "IP address is already in use.", "\n")
    }

    #[tokio::test]
    async fn a_failed_step_shows_maas_words_from_stdout_when_stderr_is_blank() {
        let fake = Fake::new(maas_fails_on_stdout);
        let report = run(&fake, &action(one_step), true).await;
        let Outcome::StepFailed(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(
            why.ends_with("exited 2: IP address is already in use."),
            "{why}"
        );
    }

    #[tokio::test]
    async fn a_failed_step_shows_the_first_line_the_cli_printed_on_stderr() {
        let fake = Fake::new(fails_on_stderr);
        let report = run(&fake, &action(one_step), true).await;
        let Outcome::StepFailed(why) = &report.outcome else {
            panic!("{report:#?}")
        };
        assert!(
            why.ends_with("exited 1: error: Failed to detach interface"),
            "{why}"
        );
    }

    #[tokio::test]
    async fn without_a_terminal_there_is_no_confirmation_and_no_secret() {
        assert_eq!(NoOperator.confirm("type openstack: "), None);
        let need = SecretNeed {
            prompt: "libvirt SSH password".into(),
        };
        let err = NoOperator.secret(&need).unwrap_err();
        assert!(err.contains("libvirt SSH password"), "{err}");
    }

    #[test]
    fn outcomes_are_labelled_as_reports_print_them() {
        let labels: Vec<&str> = [
            Outcome::Planned,
            Outcome::NothingToDo,
            Outcome::Done,
            Outcome::Refused(String::new()),
            Outcome::Stale(String::new()),
            Outcome::Unconfirmed(String::new()),
            Outcome::Precondition(String::new()),
            Outcome::StepFailed(String::new()),
        ]
        .iter()
        .map(Outcome::label)
        .collect();
        assert_eq!(
            labels,
            [
                "PLANNED",
                "NOTHING-TO-DO",
                "DONE",
                "REFUSED",
                "STALE-PLAN",
                "UNCONFIRMED",
                "PRECONDITION",
                "STEP-FAILED"
            ]
        );
    }
}

/// The vault actions' guards on the values they decide by (the survivors cargo-mutants
/// found in `src/actions/phase02.rs`): the capture directory an init would write into,
/// and the unseal progress each key's post-condition reads.
mod vault_guards {
    use std::sync::Arc;
    use std::time::Duration;

    use stackgate::actions::wait::Poll;
    use stackgate::actions::{self, ActionArgs};
    use stackgate::profile::Profile;
    use stackgate::runner::{CommandRunner, Logged, Replay};
    use stackgate::sim::{Sim, SimConfig};
    use stackgate::snapshot::{Read, Reader, Snapshot, Value};
    use stackgate::sources::secret_files::PathStat;
    use stackgate::world::World;

    async fn read(runner: impl CommandRunner + 'static, reads: Vec<Read>) -> Snapshot {
        let reader = Reader::new(Arc::new(Logged::new(runner)), Duration::from_secs(10));
        Snapshot::collect(&reader, reads).await
    }

    fn world(name: &str) -> World {
        World::embedded(&format!("testcloud/{name}")).unwrap()
    }

    /// vault-init on the fresh vault, with the capture directory as `dir` says: an
    /// existing directory must be owner-only, and a file in its place is refused.
    #[tokio::test]
    async fn an_init_writes_only_into_an_owner_only_capture_directory() {
        let profile = Profile::testcloud();
        let init = actions::by_name("vault-init").unwrap();
        let args = ActionArgs::default();
        let sim = Sim::new(world("sim-phase02-fresh"), "admin", SimConfig::default()).unwrap();
        let fresh = read(sim, (init.reads)(&profile, &args)).await;
        let server = profile.vault.server.clone().unwrap();
        let host = stackgate::gates::vault_host(&profile, &server);
        let with_dir = |raw_mode: u32| {
            fresh.clone().with(
                Read::PathStat {
                    host: host.clone(),
                    path: server.init_dir.clone(),
                },
                Ok(Value::PathStat(Arc::new(PathStat::Present {
                    raw_mode,
                    owner: "root".into(),
                }))),
            )
        };
        assert!((init.plan)(&fresh, &profile, &args).is_ok_and(|p| !p.is_empty()));
        for ok in [0o040_700, 0o040_500] {
            let plan = (init.plan)(&with_dir(ok), &profile, &args);
            assert!(plan.is_ok_and(|p| !p.is_empty()), "{ok:o}");
        }
        for bad in [0o040_755, 0o040_750, 0o040_701, 0o100_600] {
            match (init.plan)(&with_dir(bad), &profile, &args) {
                Err(actions::Refusal::Guard(why)) => {
                    assert!(why.contains("owner-only (0700) directory"), "{why}")
                }
                other => panic!("{bad:o}: {other:?}"),
            }
        }
    }

    /// Each unseal key's post-condition: vault counted it (progress is the key's
    /// number), or vault is unsealed; sealed with another progress is the step's failure.
    #[tokio::test]
    async fn each_key_is_proven_by_the_progress_vault_shows_or_by_the_unseal() {
        let profile = Profile::testcloud();
        let unseal = actions::by_name("vault-unseal").unwrap();
        let args = ActionArgs::default();
        let sealed = read(
            Replay::new(world("phase02-vault-initialized")),
            (unseal.reads)(&profile, &args),
        )
        .await;
        let plan = (unseal.plan)(&sealed, &profile, &args).unwrap();
        assert_eq!(plan.steps.len(), 3, "threshold 3, progress 0");
        let check = &plan.steps[0].check;
        assert!(
            check.describe.contains("progress 1 of 3"),
            "{}",
            check.describe
        );
        let poll = |w: &'static str| {
            let check = check.clone();
            async move {
                let snapshot = read(Replay::new(world(w)), check.reads.clone()).await;
                (check.verify)(&snapshot, &Profile::testcloud())
            }
        };
        // Sealed at progress 0: the first key was not counted.
        assert!(matches!(
            poll("phase02-vault-initialized").await,
            Poll::Fail(_)
        ));
        // Unsealed: every key's check holds.
        assert!(matches!(poll("phase02-unsealed").await, Poll::Pass(_)));
    }
}
