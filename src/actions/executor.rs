//! The one impure part of the actions: reads the cloud, plans, and, only when told to
//! apply a plan the operator reviewed and confirmed, runs it step by step, proving
//! each step with a fresh read before the next one starts.
//!
//! Order of refusals on `--apply`, each before anything runs:
//! 1. the planner's own guards (hosts must be Ready, domains shut off, ...): exit 1;
//! 2. no reviewed fingerprint (`--plan`): exit 2;
//! 3. the fresh plan's fingerprint differs from the reviewed one (stale plan, including
//!    a reviewed plan that saw nothing): exit 1;
//! 4. a step targets a protected machine by any identity it resolved to: exit 1;
//! 5. a destructive plan without the model name typed (`--confirm`, or at a prompt when
//!    stdin is a terminal): exit 2.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::sync::Arc;

use serde::Serialize;

use super::plan::{
    Check, Delivery, Extract, Input, Native, Plan, SECRET_FILE, SecretNeed, SecretSource, Shape,
    Step, Target,
};
use super::wait::{Clock, Poll, WaitOutcome, wait_for};
use super::{Action, ActionArgs};
use crate::events::{Event, Sink};
use crate::profile::Profile;
use crate::resolve::Protected;
use crate::run::RunOptions;
use crate::runner::{CommandRunner, Invocation, Logged, SecretInput, display_argv};
use crate::snapshot::{Reader, Snapshot};
use crate::sources::virsh::DomainXml;

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Run the plan; without it nothing but reads runs.
    pub apply: bool,
    /// The model name typed as confirmation of a destructive plan.
    pub confirm: Option<String>,
    /// The fingerprint of the dry-run plan the operator reviewed.
    pub reviewed: Option<String>,
    pub run: RunOptions,
}

/// Asks the operator for what cannot come from flags: a confirmation typed at a
/// prompt, a secret typed at a hidden prompt or read from a file descriptor.
pub trait Operator: Send + Sync {
    /// The model name typed at a prompt, or `None` when stdin is not a terminal.
    fn confirm(&self, question: &str) -> Option<String>;
    /// The secret a step needs. Never logged, never in a report.
    fn secret(&self, need: &SecretNeed) -> Result<Vec<u8>, String>;
}

/// An operator who can answer nothing: no prompt, no secret.
#[derive(Debug, Default)]
pub struct NoOperator;

impl Operator for NoOperator {
    fn confirm(&self, _: &str) -> Option<String> {
        None
    }

    fn secret(&self, need: &SecretNeed) -> Result<Vec<u8>, String> {
        Err(format!(
            "no terminal or file descriptor to read the secret from: {}",
            need.prompt
        ))
    }
}

/// Everything the executor acts through.
pub struct Context<'a> {
    /// Every read and step goes through it, so the call log holds all of them.
    pub runner: Arc<Logged>,
    pub profile: &'a Profile,
    pub clock: &'a dyn Clock,
    /// Where the run's events go: the plan, each step, each wait's polls, the end.
    pub events: &'a dyn Sink,
    pub operator: &'a dyn Operator,
}

/// One step as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub command: String,
    pub reason: String,
    pub destructive: bool,
    pub targets: Vec<String>,
    pub check: String,
    /// Where the step's secret comes from and how it travels; never a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The slot the step's stdout is captured into as a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captures: Option<String>,
}

/// The plan as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub fingerprint: String,
    pub resolved: std::collections::BTreeMap<String, String>,
    pub excluded: Vec<super::plan::Exclusion>,
    pub notes: Vec<String>,
    pub steps: Vec<StepView>,
}

impl PlanView {
    fn of(plan: &Plan) -> PlanView {
        PlanView {
            fingerprint: plan.fingerprint(),
            resolved: plan.resolved.clone(),
            excluded: plan.excluded.clone(),
            notes: plan.notes.clone(),
            steps: plan
                .steps
                .iter()
                .map(|s| StepView {
                    command: s.command(),
                    reason: s.reason.clone(),
                    destructive: s.destructive,
                    targets: s.targets.iter().map(ToString::to_string).collect(),
                    check: s.check.describe.clone(),
                    secret: s.secret.as_ref().map(|n| n.describe()),
                    captures: s.capture.clone(),
                })
                .collect(),
        }
    }
}

/// What one applied step did.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// 1-based, as the plan numbers it.
    pub step: usize,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub ok: bool,
    /// The post-condition's last word, or why the step failed.
    pub detail: String,
}

/// How an action run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "outcome",
    content = "reason",
    rename_all = "SCREAMING-KEBAB-CASE"
)]
pub enum Outcome {
    /// Dry-run: the plan is shown, nothing ran.
    Planned,
    /// The cloud is already as the action leaves it.
    NothingToDo,
    /// Every step ran and proved its post-condition.
    Done,
    /// A guard refused the plan; nothing ran.
    Refused(String),
    /// The plan differs from the one reviewed; nothing ran.
    Stale(String),
    /// The destructive plan was not confirmed; nothing ran.
    Unconfirmed(String),
    /// The action could not read or plan (a read failed, no reviewed plan given).
    Precondition(String),
    /// A step failed or did not prove its post-condition; the steps after it did not run.
    StepFailed(String),
}

impl Outcome {
    /// 0 done or nothing to do, 1 refused or a post-condition failed, 2 precondition
    /// or usage.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Planned | Outcome::NothingToDo | Outcome::Done => 0,
            Outcome::Refused(_) | Outcome::Stale(_) | Outcome::StepFailed(_) => 1,
            Outcome::Unconfirmed(_) | Outcome::Precondition(_) => 2,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Planned => "PLANNED",
            Outcome::NothingToDo => "NOTHING-TO-DO",
            Outcome::Done => "DONE",
            Outcome::Refused(_) => "REFUSED",
            Outcome::Stale(_) => "STALE-PLAN",
            Outcome::Unconfirmed(_) => "UNCONFIRMED",
            Outcome::Precondition(_) => "PRECONDITION",
            Outcome::StepFailed(_) => "STEP-FAILED",
        }
    }
}

/// What one action run did.
#[derive(Debug, Clone, Serialize)]
pub struct ActionReport {
    pub action: &'static str,
    pub phase: &'static str,
    pub applied: bool,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanView>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub steps: Vec<StepResult>,
}

impl ActionReport {
    pub fn exit_code(&self) -> i32 {
        self.outcome.exit_code()
    }
}

/// Reads what the action plans from, fresh.
async fn read_for(
    action: &Action,
    args: &ActionArgs,
    ctx: &Context<'_>,
    options: &RunOptions,
) -> Snapshot {
    let reader = reader(ctx, options);
    let mut snapshot = Snapshot::collect(&reader, (action.reads)(ctx.profile, args)).await;
    let follow = (action.follow_up)(&snapshot, ctx.profile, args);
    snapshot.extend(&reader, follow).await;
    snapshot
}

fn reader(ctx: &Context<'_>, options: &RunOptions) -> Reader {
    Reader::new(ctx.runner.clone(), options.timeout)
        .with_jobs(options.jobs)
        .with_max_output(ctx.profile.runner.max_output_bytes())
}

/// What an operator does by hand, as one call: the dry-run, then `--apply` with the
/// fingerprint that dry-run showed and `confirm` as the typed model name. Returns both
/// reports; the second is the dry-run's own when it planned nothing or was refused (an
/// apply then has nothing reviewed to run). For the rehearsal, the scenarios and the
/// benches: on a live cloud the operator reviews the plan between the two.
pub async fn plan_then_apply(
    action: &Action,
    args: &ActionArgs,
    confirm: Option<String>,
    run: RunOptions,
    ctx: &Context<'_>,
) -> (ActionReport, ActionReport) {
    let dry_options = ExecOptions {
        run,
        ..ExecOptions::default()
    };
    let dry = execute(action, args, &dry_options, ctx).await;
    let Some(plan) = dry
        .plan
        .as_ref()
        .filter(|_| dry.outcome == Outcome::Planned)
    else {
        return (dry.clone(), dry);
    };
    let options = ExecOptions {
        apply: true,
        confirm,
        reviewed: Some(plan.fingerprint.clone()),
        run,
    };
    let applied = execute(action, args, &options, ctx).await;
    (dry, applied)
}

/// Plans `action` on a fresh read and, when `options.apply`, runs it. Emits the plan,
/// each step as it is proven (or fails) and the report into `ctx.events`.
pub async fn execute(
    action: &Action,
    args: &ActionArgs,
    options: &ExecOptions,
    ctx: &Context<'_>,
) -> ActionReport {
    let report = plan_and_run(action, args, options, ctx).await;
    ctx.events
        .emit(&Event::ActionFinished(Box::new(report.clone())));
    report
}

/// A step's result, into the report and the events.
fn push_step(report: &mut ActionReport, result: StepResult, ctx: &Context<'_>) {
    ctx.events.emit(&Event::StepDone {
        action: report.action,
        step: result.clone(),
    });
    report.steps.push(result);
}

async fn plan_and_run(
    action: &Action,
    args: &ActionArgs,
    options: &ExecOptions,
    ctx: &Context<'_>,
) -> ActionReport {
    let snapshot = read_for(action, args, ctx, &options.run).await;
    let mut report = ActionReport {
        action: action.name,
        phase: action.phase,
        applied: false,
        source: snapshot.source.clone(),
        plan: None,
        outcome: Outcome::Planned,
        steps: Vec::new(),
    };
    let plan = match (action.plan)(&snapshot, ctx.profile, args) {
        Ok(plan) => plan,
        Err(refusal) => {
            report.outcome = refusal.into_outcome();
            return report;
        }
    };
    report.plan = Some(PlanView::of(&plan));
    ctx.events.emit(&Event::ActionPlanned {
        action: action.name,
        phase: action.phase,
        apply: options.apply,
        plan: report.plan.clone(),
    });
    if plan.is_empty() {
        report.outcome = Outcome::NothingToDo;
        return report;
    }
    if !options.apply {
        return report;
    }
    let fingerprint = plan.fingerprint();
    match options.reviewed.as_deref() {
        None => {
            report.outcome = Outcome::Precondition(format!(
                "--apply runs only a plan you reviewed: run the dry-run, then pass its fingerprint (--plan {fingerprint} is this read's)"
            ));
            return report;
        }
        Some(reviewed) if reviewed != fingerprint => {
            report.outcome = Outcome::Stale(format!(
                "the plan changed since the one reviewed (fingerprint {reviewed}, now {fingerprint}): review the new dry-run"
            ));
            return report;
        }
        Some(_) => {}
    }
    let guard = Guard::of(&snapshot, ctx.profile);
    if let Some(why) = plan.steps.iter().enumerate().find_map(|(i, step)| {
        guard.refuses_any(&step.targets).map(|why| {
            format!(
                "step {} `{}` targets a protected machine: {why}; nothing was changed",
                i + 1,
                step.command()
            )
        })
    }) {
        report.outcome = Outcome::Refused(why);
        return report;
    }
    if plan.destructive() {
        let model = &ctx.profile.model;
        let typed = options.confirm.clone().or_else(|| {
            ctx.operator.confirm(&format!(
                "{} is destructive; type the model name ({model}) to go on: ",
                action.name
            ))
        });
        match typed {
            Some(t) if &t == model => {}
            Some(_) => {
                report.outcome = Outcome::Unconfirmed(format!(
                    "the confirmation typed is not the model name {model}: nothing was changed"
                ));
                return report;
            }
            None => {
                report.outcome = Outcome::Unconfirmed(format!(
                    "{} is destructive: confirm with --confirm {model} (or type it at the prompt on a terminal); nothing was changed",
                    action.name
                ));
                return report;
            }
        }
    }
    report.applied = true;
    // Every secret of the run, in memory only; overwritten when the run ends.
    let mut secrets = RunSecrets::default();
    for (index, step) in plan.steps.iter().enumerate() {
        let number = index + 1;
        let command = step.command();
        let mut result = StepResult {
            step: number,
            command: command.clone(),
            exit_code: None,
            ok: false,
            detail: String::new(),
        };
        let late = match &step.argv_from {
            None => None,
            Some(from) => match resolve_late(from, ctx, options).await {
                Ok((argv, targets)) => {
                    if let Some(why) = guard.refuses_any(&targets) {
                        result.detail = why.clone();
                        push_step(&mut report, result, ctx);
                        report.outcome = Outcome::Refused(format!(
                            "step {number} `{command}` resolved to a protected machine: {why}; it and the steps after it did not run"
                        ));
                        return report;
                    }
                    result.command = display_argv(&argv);
                    Some(argv)
                }
                Err(why) => {
                    result.detail = why.clone();
                    push_step(&mut report, result, ctx);
                    report.outcome = Outcome::StepFailed(format!(
                        "step {number} `{command}`: cannot resolve its ids: {why}"
                    ));
                    return report;
                }
            },
        };
        if let Some(native) = &step.native
            && let Err(why) = run_native(native, step, options).await
        {
            result.detail = why.clone();
            push_step(&mut report, result, ctx);
            report.outcome = Outcome::StepFailed(format!("step {number} `{command}`: {why}"));
            return report;
        }
        if !step.alternatives.is_empty() {
            let mut refused = Vec::new();
            let mut chosen = None;
            for alternative in &step.alternatives {
                match run_step(&alternative.argv, step, ctx, options, &mut secrets).await {
                    Ok(code) => {
                        chosen = Some((alternative, code));
                        break;
                    }
                    Err((_, why)) => refused.push(format!("{}: {why}", alternative.label)),
                }
            }
            let Some((alternative, code)) = chosen else {
                let why = format!("no alternative succeeded ({})", refused.join("; "));
                result.detail = why.clone();
                push_step(&mut report, result, ctx);
                report.outcome = Outcome::StepFailed(format!("step {number} `{command}`: {why}"));
                return report;
            };
            result.exit_code = Some(code);
            result.command = display_argv(&alternative.argv);
            for (name, value) in &alternative.vars {
                secrets.vars.insert(name.clone(), value.clone());
            }
            let mut chose = format!("chose {}", alternative.label);
            if !refused.is_empty() {
                chose.push_str(&format!(" after {}", refused.join("; ")));
            }
            result.detail = chose;
        } else if let Some(argv) = late.as_ref().or(step.argv.as_ref()) {
            match run_step(argv, step, ctx, options, &mut secrets).await {
                Ok(code) => result.exit_code = Some(code),
                Err((code, why)) => {
                    result.exit_code = code;
                    result.detail = why.clone();
                    push_step(&mut report, result, ctx);
                    report.outcome =
                        Outcome::StepFailed(format!("step {number} `{command}`: {why}"));
                    return report;
                }
            }
        }
        match prove(&step.check, ctx, options).await {
            Ok(detail) => {
                result.ok = true;
                result.detail = if result.detail.is_empty() {
                    detail
                } else {
                    format!("{}; {detail}", result.detail)
                };
                push_step(&mut report, result, ctx);
            }
            Err(why) => {
                result.detail = why.clone();
                push_step(&mut report, result, ctx);
                report.outcome = Outcome::StepFailed(format!(
                    "step {number} `{command}`: post-condition \"{}\" not met: {why}",
                    step.check.describe
                ));
                return report;
            }
        }
    }
    report.outcome = Outcome::Done;
    report
}

/// The protected machines as this read resolves them, with the machines it saw.
struct Guard<'a> {
    names: &'a [String],
    protected: Protected,
    machines: Vec<crate::sources::maas::Machine>,
}

impl Guard<'_> {
    fn of<'a>(snapshot: &Snapshot, profile: &'a Profile) -> Guard<'a> {
        let Some(site) = profile.maas.as_ref() else {
            return Guard {
                names: &[],
                protected: Protected::default(),
                machines: Vec::new(),
            };
        };
        let machines = snapshot
            .maas_machines(&site.profile)
            .map(|m| m.to_vec())
            .unwrap_or_default();
        let domains: Vec<&DomainXml> = profile
            .libvirt
            .as_ref()
            .map(|lv| {
                site.protected
                    .iter()
                    .filter_map(|name| snapshot.virsh_domain_xml(&lv.connection(), name).ok())
                    .filter_map(|p| p.present())
                    .collect()
            })
            .unwrap_or_default();
        let protected = Protected::resolve(&site.protected, &machines, domains.iter().copied());
        Guard {
            names: &site.protected,
            protected,
            machines,
        }
    }

    /// Why a target is protected, by any identity it resolved to.
    fn refuses(&self, target: &Target) -> Option<String> {
        match target {
            Target::Machine {
                hostname,
                system_id,
            } => self
                .names
                .contains(hostname)
                .then(|| format!("{hostname} is protected (hostname)"))
                .or_else(|| self.protected.refuses_system_id(system_id))
                .or_else(|| {
                    self.machines
                        .iter()
                        .find(|m| &m.system_id == system_id)
                        .and_then(|m| self.protected.refuses(m))
                }),
            Target::Domain { name } => self.protected.refuses_domain(name, &Default::default()),
            _ => None,
        }
    }

    fn refuses_any<'t>(&self, targets: impl IntoIterator<Item = &'t Target>) -> Option<String> {
        targets.into_iter().find_map(|t| self.refuses(t))
    }
}

/// The secrets of one run: what the operator typed and what steps captured. They live
/// in this process's memory only, are overwritten when the run ends, and no Debug,
/// log or report shows them.
#[derive(Default)]
struct RunSecrets {
    /// Every value the run has held, in the order it got them: each is blanked from
    /// every error excerpt of the run, not only its own step's.
    known: Vec<SecretValue>,
    /// Captured values by slot, as indices into `known`.
    slots: BTreeMap<String, usize>,
    /// What the chosen alternatives set (no secret: a project and its domain).
    vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for RunSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RunSecrets({} value(s), slots {:?})",
            self.known.len(),
            self.slots.keys().collect::<Vec<_>>()
        )
    }
}

impl RunSecrets {
    fn remember(&mut self, value: Vec<u8>) -> usize {
        self.known.push(SecretValue(value));
        self.known.len() - 1
    }

    fn value(&self, index: usize) -> &[u8] {
        &self.known[index].0
    }

    fn known(&self) -> Vec<&[u8]> {
        self.known.iter().map(|v| v.0.as_slice()).collect()
    }
}

/// A secret's bytes, overwritten when dropped.
struct SecretValue(Vec<u8>);

impl Drop for SecretValue {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

/// Why a captured stdout is no value a later step can use, without showing it.
fn capture_problem(value: &[u8]) -> Option<String> {
    if value.is_empty() {
        return Some("it printed nothing".to_string());
    }
    let lines = value.split(|b| *b == b'\n').count();
    if lines > 1 {
        return Some(format!("it printed {lines} lines, not one value"));
    }
    // A value a YAML params file or a shell `read` carries unquoted and unescaped.
    let ok = value
        .iter()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'#' | b':'));
    (!ok).then(|| format!("its {} bytes are not one printable word", value.len()))
}

/// Why a captured value is no PEM certificate bundle, without showing it: each block
/// `-----BEGIN CERTIFICATE-----`, base64 lines, `-----END CERTIFICATE-----`, and nothing
/// outside the blocks (a private key beside the certificate is refused).
fn certificates_problem(value: &[u8]) -> Option<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let Ok(text) = std::str::from_utf8(value) else {
        return Some("it is not UTF-8 text".to_string());
    };
    let (mut inside, mut blocks, mut body) = (false, 0usize, 0usize);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        match (inside, line) {
            (false, BEGIN) => (inside, body) = (true, 0),
            (true, END) if body > 0 => (inside, blocks) = (false, blocks + 1),
            (true, l)
                if !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) =>
            {
                body += 1;
            }
            (false, "") => {}
            _ => return Some(format!("line {} is not part of a PEM certificate", n + 1)),
        }
    }
    if inside {
        return Some("its last certificate has no END line".to_string());
    }
    (blocks == 0).then(|| "it holds no certificate".to_string())
}

/// Runs one step's command; Ok(exit 0) or Err((exit, why)).
async fn run_step(
    argv: &[String],
    step: &Step,
    ctx: &Context<'_>,
    options: &ExecOptions,
    secrets: &mut RunSecrets,
) -> Result<i32, (Option<i32>, String)> {
    let mut stdin = match &step.input {
        None => None,
        Some(Input::Text(text)) => Some(text.as_bytes().to_vec()),
        Some(Input::OutputOf(from)) => {
            let invocation = Invocation::new(from.clone()).with_timeout(options.run.timeout);
            let out = ctx
                .runner
                .run(&invocation)
                .await
                .map_err(|e| (None, e.to_string()))?;
            if !out.success() {
                return Err((
                    out.exit_code,
                    format!(
                        "`{}` exited {}: {}",
                        display_argv(from),
                        show_exit(out.exit_code),
                        excerpt(&out.stderr, &out.stdout, &secrets.known())
                    ),
                ));
            }
            Some(out.stdout.to_vec())
        }
    };
    // A file secret goes to a 0600 file in a 0700 directory, removed when this returns.
    let mut holder = None;
    let mut argv = argv.to_vec();
    if let Some(secret) = &step.secret {
        let index = match &secret.source {
            SecretSource::Operator(need) => {
                let value = ctx.operator.secret(need).map_err(|e| (None, e))?;
                if value.is_empty() {
                    return Err((
                        None,
                        format!(
                            "{}: the secret given is empty; the step did not run",
                            need.prompt
                        ),
                    ));
                }
                secrets.remember(value)
            }
            SecretSource::Captured(slot) => *secrets.slots.get(slot).ok_or_else(|| {
                (
                    None,
                    format!("no {slot} was captured earlier in this run: nothing to pass on"),
                )
            })?,
        };
        let rendered = SecretValue(
            secret
                .render_with(secrets.value(index), |kind, name| match kind {
                    "captured" => secrets.slots.get(name).map(|i| secrets.value(*i).to_vec()),
                    _ => secrets.vars.get(name).map(|v| v.as_bytes().to_vec()),
                })
                .map_err(|why| (None, format!("stackgate bug: {why}")))?,
        );
        match secret.delivery {
            Delivery::File => {
                if !argv.iter().any(|w| w.contains(SECRET_FILE)) {
                    return Err((
                        None,
                        format!(
                            "stackgate bug: the step's argv has no {SECRET_FILE} for its secret file"
                        ),
                    ));
                }
                let (dir, path) = secret_file(&rendered.0).map_err(|e| (None, e))?;
                for word in &mut argv {
                    if word.contains(SECRET_FILE) {
                        *word = word.replace(SECRET_FILE, &path);
                    }
                }
                holder = Some(dir);
            }
            Delivery::Stdin => {
                if stdin.is_some() {
                    return Err((
                        None,
                        "stackgate bug: the step feeds both an input and a secret on stdin"
                            .to_string(),
                    ));
                }
                stdin = Some(rendered.0.clone());
            }
        }
    }
    let timeout = step
        .timeout
        .map_or(options.run.timeout, |t| t.max(options.run.timeout));
    let mut invocation = Invocation::new(argv.clone()).with_timeout(timeout);
    if let Some(bytes) = stdin {
        invocation = invocation.with_secret_stdin(SecretInput::new(bytes));
    }
    let result = ctx.runner.run(&invocation).await;
    drop(holder);
    let mut out = result.map_err(|e| (None, e.to_string()))?;
    // A capturing step's stdout is the secret: it is never shown, even on failure.
    let stdout = std::mem::take(&mut out.stdout);
    let stdout = SecretValue(stdout.to_vec());
    let shown_stdout: &[u8] = if step.capture.is_some() {
        &[]
    } else {
        &stdout.0
    };
    if !out.success() {
        return Err((
            out.exit_code,
            format!(
                "exited {}: {}",
                show_exit(out.exit_code),
                excerpt(&out.stderr, shown_stdout, &secrets.known())
            ),
        ));
    }
    if let Some(slot) = &step.capture {
        let mut value = match step.extract {
            Extract::Word => stdout.0.clone(),
            Extract::JujuResult { key, .. } => crate::sources::juju::action::result_value(
                &argv, &stdout.0, key,
            )
            .map_err(|why| {
                (
                    out.exit_code,
                    format!("exited 0 but its output holds no {slot}: {why}"),
                )
            })?,
        };
        while value.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            value.pop();
        }
        let problem = match step.extract {
            Extract::Word
            | Extract::JujuResult {
                shape: Shape::Word, ..
            } => capture_problem(&value),
            Extract::JujuResult {
                shape: Shape::Certificates,
                ..
            } => certificates_problem(&value),
        };
        if let Some(problem) = problem {
            value.fill(0);
            return Err((
                out.exit_code,
                format!("exited 0 but its output cannot be the {slot}: {problem} (not shown)"),
            ));
        }
        let index = secrets.remember(value);
        secrets.slots.insert(slot.clone(), index);
    }
    Ok(0)
}

fn show_exit(code: Option<i32>) -> String {
    code.map_or_else(|| "on a signal".to_string(), |c| c.to_string())
}

/// Writes a secret to a fresh 0700 directory's 0600 file.
fn secret_file(value: &[u8]) -> Result<(tempfile::TempDir, String), String> {
    let dir = tempfile::Builder::new()
        .prefix("stackgate-secret-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| format!("cannot make a private directory for the secret: {e}"))?;
    let path = dir.path().join("value");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot write the secret file: {e}"))?;
    file.write_all(value)
        .map_err(|e| format!("cannot write the secret file: {e}"))?;
    Ok((dir, path.display().to_string()))
}

/// The first line of what a failed command said (MAAS prints its error on stdout),
/// at most 200 characters of printable ASCII, with every secret of the run blanked:
/// the operator sees the CLI's own words (seed 004: the carve once hid them in
/// /dev/null), never a value.
fn excerpt(stderr: &[u8], stdout: &[u8], secrets: &[&[u8]]) -> String {
    let source = if stderr.iter().any(|b| !b.is_ascii_whitespace()) {
        stderr
    } else {
        stdout
    };
    let mut text = String::from_utf8_lossy(source).into_owned();
    for secret in secrets
        .iter()
        .map(|s| String::from_utf8_lossy(s))
        .filter(|s| !s.is_empty())
    {
        text = text.replace(secret.as_ref(), "[REDACTED]");
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no output)");
    // The vault and bao CLIs print the API's errors after the first line (hashicorp/vault
    // api/response.go `ResponseError`: "Error making API request.", a blank line, "URL:
    // ...", "Code: 403. Errors:", a blank line, then "* <error>" per error): the code
    // and the errors are the reason, so they follow the first line.
    let code = text.lines().map(str::trim).find(|l| {
        l.strip_prefix("Code: ")
            .is_some_and(|rest| rest.ends_with(". Errors:"))
    });
    let errors: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("* "))
        .collect();
    let line = match code {
        Some(code) if first.ends_with("Error making API request.") && !errors.is_empty() => {
            format!(
                "{first} {} {}",
                code.trim_end_matches(" Errors:"),
                errors.join("; ")
            )
        }
        _ => first.to_string(),
    };
    let clean: String = line
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect();
    clean
}

/// Reads fresh and resolves a late argv.
async fn resolve_late(
    from: &super::plan::ArgvFrom,
    ctx: &Context<'_>,
    options: &ExecOptions,
) -> Result<(Vec<String>, Vec<Target>), String> {
    let reader = reader(ctx, &options.run);
    let mut snapshot = Snapshot::collect(&reader, from.reads.clone()).await;
    if let Some(follow) = &from.follow_up {
        let more = follow(&snapshot, ctx.profile);
        snapshot.extend(&reader, more).await;
    }
    (from.resolve)(&snapshot, ctx.profile)
}

/// Does a [`Native`] step's work off the async threads, bounded like a command.
async fn run_native(native: &Native, step: &Step, options: &ExecOptions) -> Result<(), String> {
    let timeout = step
        .timeout
        .map_or(options.run.timeout, |t| t.max(options.run.timeout));
    match native.clone() {
        Native::DownloadVerified {
            url,
            sums_url,
            dir,
            max_bytes,
        } => tokio::task::spawn_blocking(move || {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
            super::download::fetch_verified(&url, &sums_url, &dir, max_bytes, timeout)
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("the download stopped: {e}"))?,
    }
}

/// Reads the check's reads fresh and verifies them, polling when the check waits.
async fn prove(check: &Check, ctx: &Context<'_>, options: &ExecOptions) -> Result<String, String> {
    let probe = || async {
        let reader = reader(ctx, &options.run);
        let mut snapshot = Snapshot::collect(&reader, check.reads.clone()).await;
        if let Some(follow) = &check.follow_up {
            let more = follow(&snapshot, ctx.profile);
            snapshot.extend(&reader, more).await;
        }
        (check.verify)(&snapshot, ctx.profile)
    };
    match check.wait {
        None => match probe().await {
            Poll::Pass(detail) => Ok(detail),
            Poll::Pending(why) | Poll::Fail(why) => Err(why),
        },
        Some(policy) => {
            match wait_for(&check.describe, policy, ctx.clock, ctx.events, probe).await {
                WaitOutcome::Passed { last, polls, .. } => {
                    Ok(format!("{last} (after {polls} poll(s))"))
                }
                other => Err(other.describe()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{capture_problem, certificates_problem, excerpt};

    /// A captured CA is PEM certificates and nothing else: a private key beside it, a
    /// cut-off block or prose is refused, by line number, never shown.
    #[test]
    fn a_captured_certificate_bundle_is_pem_certificates_only() {
        let one =
            "-----BEGIN CERTIFICATE-----\nMIIB+zCCAWSgAwIBAgIU\nAbC=\n-----END CERTIFICATE-----";
        assert_eq!(certificates_problem(one.as_bytes()), None);
        let two = format!("{one}\n{one}\n");
        assert_eq!(certificates_problem(two.as_bytes()), None);
        let cases = [
            ("", "it holds no certificate"),
            ("-----BEGIN CERTIFICATE-----\nMIIB\n", "no END line"),
            (
                "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
                "line 2 is not part",
            ),
            ("None", "line 1 is not part"),
        ];
        for (value, want) in cases {
            let why = certificates_problem(value.as_bytes()).expect("refused");
            assert!(why.contains(want), "{value:?}: {why}");
        }
        let key = format!("{one}\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
        let why = certificates_problem(key.as_bytes()).expect("a key is refused");
        assert!(why.contains("line 5"), "{why}");
        assert!(!why.contains("MIIE"));
    }

    /// A captured secret is one printable word a params file or a shell `read` carries
    /// as it is; anything else is refused, described without the value.
    #[test]
    fn a_capture_must_be_one_printable_word() {
        assert_eq!(capture_problem(b"s.lfKsqhQaLiiVYXTON8rJqVUd"), None);
        assert_eq!(capture_problem(b""), Some("it printed nothing".to_string()));
        assert_eq!(
            capture_problem(b"s.one\ns.two"),
            Some("it printed 2 lines, not one value".to_string())
        );
        for bad in [&b"s.a\"b"[..], b"s.a b", b"s.a:b", b"s.a#b", b"s.a\x07"] {
            let why = capture_problem(bad).expect("refused");
            assert!(why.ends_with("bytes are not one printable word"), "{why}");
            assert!(!why.contains("s.a"), "the value is never shown: {why}");
        }
    }

    /// Only vault's own API error (its first line ends "Error making API request." and
    /// a code and at least one error follow) gets the code and errors appended.
    #[test]
    fn other_code_lines_are_not_vaults_errors() {
        assert_eq!(
            excerpt(b"error: one\nCode: 5. Errors:\n* two\n", b"", &[]),
            "error: one"
        );
        assert_eq!(
            excerpt(
                b"Error: Error making API request.\nCode: 500. Errors:\n",
                b"",
                &[]
            ),
            "Error: Error making API request."
        );
    }

    /// What OpenBao 2.7.2 `bao token create` printed for a token that is not the vault's.
    const BAO_403: &str = "Error creating token: Error making API request.\n\nURL: POST http://127.0.0.1:18299/v1/auth/token/create\nCode: 403. Errors:\n\n* permission denied\n";

    #[test]
    fn a_vault_api_error_keeps_its_code_and_errors_and_blanks_every_secret() {
        assert_eq!(
            excerpt(BAO_403.as_bytes(), b"", &[]),
            "Error creating token: Error making API request. Code: 403. permission denied"
        );
        let echoed = "Error: Error making API request.\nCode: 400. Errors:\n\n* bad key s.one\n* and s.two\n";
        assert_eq!(
            excerpt(echoed.as_bytes(), b"", &[b"s.one", b"s.two"]),
            "Error: Error making API request. Code: 400. bad key [REDACTED]; and [REDACTED]"
        );
        // Other CLIs keep their first line.
        assert_eq!(excerpt(b"error: one\n* two\n", b"", &[]), "error: one");
    }
}
