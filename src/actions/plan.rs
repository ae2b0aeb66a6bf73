//! What an action intends to do: ordered steps, each an argv with a reason, a
//! destructive flag and the post-condition re-read that proves it; the resolved
//! targets; the protected machines shown as EXCLUDED; and a fingerprint of it all so
//! `--apply` can refuse a plan that changed since the operator reviewed it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::wait::{Poll, WaitPolicy};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};

/// What a step feeds its command on stdin.
#[derive(Clone, PartialEq, Eq)]
pub enum Input {
    /// Fixed text that is no secret (the backup pointer's path).
    Text(String),
    /// The stdout of a read run first (a capture: `juju status ... | tee -- FILE`).
    OutputOf(Vec<String>),
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Text(t) => write!(f, "Text({} bytes)", t.len()),
            Input::OutputOf(argv) => write!(f, "OutputOf({argv:?})"),
        }
    }
}

/// What the operator is asked for when a step needs a secret. The answer never
/// reaches argv, a log or a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretNeed {
    /// What the operator is asked for ("libvirt SSH password for logxen@10.12.64.1").
    pub prompt: String,
}

/// The argv word the executor replaces with the secret file's path (maascli reads a
/// parameter's value from a file with `name@=path`; `juju run --params FILE`).
pub const SECRET_FILE: &str = "{secret-file}";

/// Where a template puts the secret's value.
pub const SECRET_VALUE: &str = "{secret}";

/// How a template names another value of the run: `{captured:SLOT}` for what an earlier
/// step captured into SLOT, `{var:NAME}` for what an earlier step's chosen
/// [`Alternative`] set.
pub const CAPTURED_PREFIX: &str = "{captured:";
pub const VAR_PREFIX: &str = "{var:";

/// What a capturing step keeps of its stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extract {
    /// All of it: one printable word (a minted token).
    #[default]
    Word,
    /// One result of a `juju run --format=json` task on one unit
    /// (`{"<unit>":{"results":{"<key>":"..."},"status":"completed",...}}`), shaped as
    /// `shape` says.
    JujuResult { key: &'static str, shape: Shape },
}

/// What a captured value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One printable word a shell `read`, a single-quoted shell word or a YAML params
    /// file carries as it is.
    Word,
    /// PEM certificates (`-----BEGIN CERTIFICATE-----` ... `-----END CERTIFICATE-----`)
    /// and nothing else.
    Certificates,
}

/// One way a step can run ([`Step::first_of`]): the first that exits 0 is the one the
/// run keeps, with the values it sets for later templates (`{var:NAME}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// How the report names it (`project admin in domain admin_domain`).
    pub label: String,
    pub argv: Vec<String>,
    pub vars: Vec<(String, String)>,
}

/// Where a step's secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Typed by the operator at a hidden prompt, or read from `--secret-fd` (one secret
    /// per line, in the order the steps ask).
    Operator(SecretNeed),
    /// What an earlier step of the same run captured from its stdout into this slot
    /// ([`Step::capture`]): held in memory only, for this run only.
    Captured(String),
}

/// How a step's secret reaches its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In a file only the operator can read (0600 in a fresh 0700 directory), whose
    /// path replaces [`SECRET_FILE`] in argv; removed after the step.
    File,
    /// On the command's stdin.
    Stdin,
}

/// A secret a step needs, and how it gets there. It never reaches argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSecret {
    pub source: SecretSource,
    pub delivery: Delivery,
    /// What the command receives, with [`SECRET_VALUE`] where the value goes
    /// (`token: {secret}` for a juju params file; `{secret}` plus a newline for a shell's
    /// `read`). `None`: the value alone.
    pub template: Option<String>,
}

impl StepSecret {
    /// How the plan names it, without any value.
    pub fn describe(&self) -> String {
        let from = match &self.source {
            SecretSource::Operator(need) => format!(
                "{} (typed at a hidden prompt or read from --secret-fd)",
                need.prompt
            ),
            SecretSource::Captured(slot) => {
                format!("the {slot} an earlier step of this run captured (held in memory only)")
            }
        };
        let to = match self.delivery {
            Delivery::File => "passed in a 0600 file removed after the step",
            Delivery::Stdin => "passed on stdin",
        };
        format!("{from}; {to}, never on argv")
    }

    /// What the command receives: the template with the value in it, and with every
    /// `{captured:SLOT}` and `{var:NAME}` replaced by what `lookup` gives for
    /// (`captured` | `var`, name); one it has no value for is an error naming it.
    pub fn render_with(
        &self,
        value: &[u8],
        lookup: impl Fn(&str, &str) -> Option<Vec<u8>>,
    ) -> Result<Vec<u8>, String> {
        let Some(template) = &self.template else {
            return Ok(value.to_vec());
        };
        let mut out = Vec::with_capacity(template.len() + value.len());
        let mut rest = template.as_str();
        while let Some(at) = rest.find('{') {
            out.extend_from_slice(&rest.as_bytes()[..at]);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix(SECRET_VALUE) {
                out.extend_from_slice(value);
                rest = after;
                continue;
            }
            let named = [("captured", CAPTURED_PREFIX), ("var", VAR_PREFIX)]
                .into_iter()
                .find_map(|(kind, prefix)| {
                    let body = tail.strip_prefix(prefix)?;
                    let end = body.find('}')?;
                    Some((kind, &body[..end], &body[end + 1..]))
                });
            match named {
                Some((kind, name, after)) => {
                    let bytes = lookup(kind, name)
                        .ok_or_else(|| format!("no {kind} value {name} in this run"))?;
                    out.extend_from_slice(&bytes);
                    rest = after;
                }
                None => {
                    out.push(b'{');
                    rest = &tail[1..];
                }
            }
        }
        out.extend_from_slice(rest.as_bytes());
        Ok(out)
    }
}

/// How a step's effect is proven: reads run fresh after the step, and a check over
/// them; with a wait, the check is polled until it holds `passes` times in a row.
#[derive(Clone)]
pub struct Check {
    /// What must hold, for the plan and the report ("capi-mgmt is gone from MAAS").
    pub describe: String,
    /// Reads to take fresh, with the follow-ups they need.
    pub reads: Vec<Read>,
    pub follow_up: Option<FollowUp>,
    pub verify: Verify,
    /// Poll instead of checking once (model destroying, commissioning).
    pub wait: Option<WaitPolicy>,
}

/// Follow-up reads that need ids the first reads resolved.
pub type FollowUp = Arc<dyn Fn(&Snapshot, &Profile) -> Vec<Read> + Send + Sync>;
/// A post-condition over a fresh snapshot.
pub type Verify = Arc<dyn Fn(&Snapshot, &Profile) -> Poll + Send + Sync>;

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("describe", &self.describe)
            .field("reads", &self.reads)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl Check {
    pub fn new(
        describe: impl Into<String>,
        reads: Vec<Read>,
        verify: impl Fn(&Snapshot, &Profile) -> Poll + Send + Sync + 'static,
    ) -> Check {
        Check {
            describe: describe.into(),
            reads,
            follow_up: None,
            verify: Arc::new(verify),
            wait: None,
        }
    }

    pub fn with_follow_up(
        mut self,
        follow_up: impl Fn(&Snapshot, &Profile) -> Vec<Read> + Send + Sync + 'static,
    ) -> Check {
        self.follow_up = Some(Arc::new(follow_up));
        self
    }

    pub fn polled(mut self, policy: WaitPolicy) -> Check {
        self.wait = Some(policy);
        self
    }
}

/// Builds an argv from a fresh read when the step runs: for ids that do not exist
/// when the plan is made (a machine's system_id after `machines create`, a bridge's
/// interface id after `create-bridge`). The plan shows the template; the executor
/// resolves it right before the step and refuses protected targets it resolves to.
#[derive(Clone)]
pub struct ArgvFrom {
    /// The command as the plan shows it, with what is resolved late in angle brackets
    /// (`maas admin tag update-nodes openstack add=<system_id of openstack0>`).
    pub template: String,
    pub reads: Vec<Read>,
    pub follow_up: Option<FollowUp>,
    pub resolve: Resolve,
}

/// Resolves a late argv and the targets it acts on, or says why it cannot.
pub type Resolve =
    Arc<dyn Fn(&Snapshot, &Profile) -> Result<(Vec<String>, Vec<Target>), String> + Send + Sync>;

impl fmt::Debug for ArgvFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgvFrom")
            .field("template", &self.template)
            .field("reads", &self.reads)
            .finish_non_exhaustive()
    }
}

/// Something a step acts on, by the identity it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// A MAAS machine: hostname and the system_id it resolved to now.
    Machine { hostname: String, system_id: String },
    /// A libvirt domain.
    Domain { name: String },
    /// A libvirt network.
    Network { name: String },
    /// A juju model.
    Model { name: String },
    /// A file on the jumphost.
    File { path: String },
    /// Anything else MAAS holds by id (an interface, a subnet, an IP record), named
    /// the way the operator knows it.
    Maas { what: String, id: String },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Machine {
                hostname,
                system_id,
            } => write!(f, "machine {hostname} (system_id {system_id})"),
            Target::Domain { name } => write!(f, "domain {name}"),
            Target::Network { name } => write!(f, "network {name}"),
            Target::Model { name } => write!(f, "model {name}"),
            Target::File { path } => write!(f, "file {path}"),
            Target::Maas { what, id } => write!(f, "{what} (id {id})"),
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// The command; `None` for a step that only waits for its check, or whose argv is
    /// resolved when it runs ([`Step::argv_from`]).
    pub argv: Option<Vec<String>>,
    pub argv_from: Option<ArgvFrom>,
    pub input: Option<Input>,
    pub secret: Option<StepSecret>,
    /// The slot this step's stdout is captured into as a secret (a minted token): that
    /// stdout is never logged, reported, excerpted or kept in a snapshot.
    pub capture: Option<String>,
    /// What of its stdout a capturing step keeps.
    pub extract: Extract,
    /// Ways to run this step, tried in order until one exits 0 (its argv is then the
    /// first's, for the plan): a discovery, such as which project scope a password
    /// gets a token for (DOCFIX-022). Empty for an ordinary step.
    pub alternatives: Vec<Alternative>,
    /// How long the command may run when that is longer than the run's `--timeout`
    /// (a `juju run --wait=20m` that juju itself bounds).
    pub timeout: Option<std::time::Duration>,
    pub reason: String,
    pub destructive: bool,
    pub targets: Vec<Target>,
    pub check: Check,
    /// Work stackgate does itself instead of a command ([`Step::native`]).
    pub native: Option<Native>,
}

/// A step stackgate runs in-process: no argv, no runner, its effect proven by its check
/// like any other step's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Native {
    /// GET `url` into `dir`, its sha256 checked against the one `sums_url` publishes
    /// for its file name before it is moved into place ([`super::download::fetch_verified`]);
    /// a mismatch is the step's failure and leaves nothing behind.
    DownloadVerified {
        url: String,
        sums_url: String,
        dir: String,
        max_bytes: u64,
    },
}

impl Native {
    /// How the plan shows it.
    pub fn command(&self) -> String {
        match self {
            Native::DownloadVerified {
                url, sums_url, dir, ..
            } => format!(
                "(in-process) download {url} into {dir}, sha256 verified against {sums_url}"
            ),
        }
    }
}

impl Step {
    pub fn run<I, S>(argv: I, reason: impl Into<String>, check: Check) -> Step
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Step {
            argv: Some(argv.into_iter().map(Into::into).collect()),
            argv_from: None,
            input: None,
            secret: None,
            capture: None,
            extract: Extract::Word,
            alternatives: Vec::new(),
            timeout: None,
            reason: reason.into(),
            destructive: false,
            targets: Vec::new(),
            check,
            native: None,
        }
    }

    /// A step that runs nothing and waits for its check.
    pub fn wait(reason: impl Into<String>, check: Check) -> Step {
        Step {
            argv: None,
            argv_from: None,
            input: None,
            secret: None,
            capture: None,
            extract: Extract::Word,
            alternatives: Vec::new(),
            timeout: None,
            reason: reason.into(),
            destructive: false,
            targets: Vec::new(),
            check,
            native: None,
        }
    }

    /// A step whose argv is resolved from a fresh read when it runs.
    pub fn resolved(
        template: impl Into<String>,
        reads: Vec<Read>,
        resolve: impl Fn(&Snapshot, &Profile) -> Result<(Vec<String>, Vec<Target>), String>
        + Send
        + Sync
        + 'static,
        reason: impl Into<String>,
        check: Check,
    ) -> Step {
        let mut step = Step::wait(reason, check);
        step.argv_from = Some(ArgvFrom {
            template: template.into(),
            reads,
            follow_up: None,
            resolve: Arc::new(resolve),
        });
        step
    }

    /// A step stackgate does in-process ([`Native`]).
    pub fn native(native: Native, reason: impl Into<String>, check: Check) -> Step {
        let mut step = Step::wait(reason, check);
        step.native = Some(native);
        step
    }

    pub fn destructive(mut self) -> Step {
        self.destructive = true;
        self
    }

    pub fn targets(mut self, targets: impl IntoIterator<Item = Target>) -> Step {
        self.targets.extend(targets);
        self
    }

    pub fn input(mut self, input: Input) -> Step {
        self.input = Some(input);
        self
    }

    /// The operator's secret, in a 0600 file named where argv says [`SECRET_FILE`].
    pub fn secret(self, prompt: impl Into<String>) -> Step {
        self.secret_via(
            SecretSource::Operator(SecretNeed {
                prompt: prompt.into(),
            }),
            Delivery::File,
            None,
        )
    }

    /// A secret from `source`, delivered as `delivery`, rendered from `template`.
    pub fn secret_via(
        mut self,
        source: SecretSource,
        delivery: Delivery,
        template: Option<&str>,
    ) -> Step {
        self.secret = Some(StepSecret {
            source,
            delivery,
            template: template.map(str::to_string),
        });
        self
    }

    /// Let the command run this long even when the run's `--timeout` is shorter: the
    /// command bounds itself (juju's `--wait`), and killing it first would leave the
    /// task running unobserved.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Step {
        self.timeout = Some(timeout);
        self
    }

    /// Capture this step's stdout as a secret into `slot`, for a later step.
    pub fn capture(mut self, slot: impl Into<String>) -> Step {
        self.capture = Some(slot.into());
        self
    }

    /// Capture one result of the `juju run --format=json` task this step runs into
    /// `slot`, as a secret: the rest of the document is dropped.
    pub fn capture_result(
        mut self,
        slot: impl Into<String>,
        key: &'static str,
        shape: Shape,
    ) -> Step {
        self.capture = Some(slot.into());
        self.extract = Extract::JujuResult { key, shape };
        self
    }

    /// A step run as the first of `alternatives` that exits 0; each failing one is
    /// reported by its label and classified reason, and none succeeding fails the step.
    pub fn first_of(
        alternatives: Vec<Alternative>,
        reason: impl Into<String>,
        check: Check,
    ) -> Step {
        assert!(
            !alternatives.is_empty(),
            "stackgate bug: a first_of step needs an alternative"
        );
        let mut step = Step::run(alternatives[0].argv.clone(), reason, check);
        step.alternatives = alternatives;
        step
    }

    /// The command as the plan prints it.
    pub fn command(&self) -> String {
        if let Some(native) = &self.native {
            return native.command();
        }
        if self.alternatives.len() > 1 {
            return self
                .alternatives
                .iter()
                .map(|a| crate::runner::display_argv(&a.argv))
                .collect::<Vec<_>>()
                .join(" || ");
        }
        if let Some(from) = &self.argv_from {
            return from.template.clone();
        }
        match (&self.argv, &self.input) {
            (None, _) => "(wait)".to_string(),
            (Some(argv), Some(Input::OutputOf(from))) => format!(
                "{} | {}",
                crate::runner::display_argv(from),
                crate::runner::display_argv(argv)
            ),
            (Some(argv), _) => crate::runner::display_argv(argv),
        }
    }
}

/// A machine the plan will not touch, shown so the operator sees it was considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    pub name: String,
    /// What it resolved to ("system_id hbt6xc (Deployed)", "not in MAAS").
    pub resolved: String,
}

/// An action's plan over one read of the cloud.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub action: &'static str,
    pub steps: Vec<Step>,
    /// What each name resolved to, for the fingerprint and the operator: every id the
    /// steps use, and every candidate the planner looked at (including ones it found
    /// nothing to do for), so a plan that "saw nothing" differs from one that sees
    /// targets.
    pub resolved: BTreeMap<String, String>,
    pub excluded: Vec<Exclusion>,
    /// Why steps were skipped or nothing is planned ("openstack0: br-ex already
    /// carved").
    pub notes: Vec<String>,
    /// Words that differ between two reads of the same cloud and are no target (the
    /// run's time stamp in the backup directory's name): the fingerprint masks them.
    pub volatile: Vec<String>,
}

impl Plan {
    pub fn new(action: &'static str) -> Plan {
        Plan {
            action,
            ..Plan::default()
        }
    }

    pub fn resolve(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.resolved.insert(name.into(), value.into());
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn exclude(&mut self, name: impl Into<String>, resolved: impl Into<String>) {
        self.excluded.push(Exclusion {
            name: name.into(),
            resolved: resolved.into(),
        });
    }

    pub fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn destructive(&self) -> bool {
        self.steps.iter().any(|s| s.destructive)
    }

    /// A digest of what the plan resolved and would run: the action, every resolved
    /// name and id, every exclusion, and every step's command and targets. Two reads of
    /// an unchanged cloud give the same fingerprint; a re-minted system_id, a domain
    /// that changed state, a target that appeared where the reviewed plan saw none, all
    /// change it.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        let volatile = &self.volatile;
        let mut field = |bytes: &[u8]| {
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            for word in volatile.iter().filter(|w| !w.is_empty()) {
                text = text.replace(word.as_str(), "{volatile}");
            }
            hash.update((text.len() as u64).to_be_bytes());
            hash.update(text.as_bytes());
        };
        field(self.action.as_bytes());
        for (name, value) in &self.resolved {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        for e in &self.excluded {
            field(e.name.as_bytes());
            field(e.resolved.as_bytes());
        }
        for step in &self.steps {
            field(step.command().as_bytes());
            field(&[u8::from(step.destructive)]);
            // How a secret travels is part of what was reviewed; its value never is.
            if let Some(secret) = &step.secret {
                field(secret.describe().as_bytes());
                field(secret.template.as_deref().unwrap_or_default().as_bytes());
            }
            if let Some(slot) = &step.capture {
                field(format!("captures {slot}").as_bytes());
            }
            for t in &step.targets {
                field(t.to_string().as_bytes());
            }
        }
        let digest = hash.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check() -> Check {
        Check::new("holds", vec![], |_, _| Poll::Pass("ok".into()))
    }

    #[test]
    fn a_template_fills_the_secret_the_captured_slots_and_the_vars_and_names_a_missing_one() {
        let secret = StepSecret {
            source: SecretSource::Captured("pw".into()),
            delivery: Delivery::Stdin,
            template: Some("P='{secret}' CA={captured:ca} S={var:project} {literal} {var:".into()),
        };
        let lookup = |kind: &str, name: &str| match (kind, name) {
            ("captured", "ca") => Some(b"PEM".to_vec()),
            ("var", "project") => Some(b"admin".to_vec()),
            _ => None,
        };
        assert_eq!(
            secret.render_with(b"hunter2", lookup).unwrap(),
            b"P='hunter2' CA=PEM S=admin {literal} {var:"
        );
        let mut missing = secret.clone();
        missing.template = Some("{var:domain}".into());
        let err = missing.render_with(b"hunter2", lookup).unwrap_err();
        assert_eq!(err, "no var value domain in this run");
        assert_eq!(
            StepSecret {
                template: None,
                ..secret
            }
            .render_with(b"v", lookup)
            .unwrap(),
            b"v"
        );
    }

    #[test]
    fn the_fingerprint_moves_with_any_resolved_id_and_with_a_target_appearing() {
        let mut empty = Plan::new("teardown-destroy");
        empty.resolve("model openstack", "absent");
        let mut seen = empty.clone();
        seen.resolve("model openstack", "present");
        assert_ne!(empty.fingerprint(), seen.fingerprint());

        let mut a = Plan::new("carve");
        a.resolve("openstack0", "w7e3kq");
        a.push(Step::run(
            ["maas", "admin", "machine", "delete", "w7e3kq"],
            "r",
            check(),
        ));
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.resolved.insert("openstack0".into(), "x8s7dd".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.steps[0].destructive = true;
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
        // The run's stamp is no target: two reads a minute apart plan the same.
        let stamped = |stamp: &str| {
            let mut p = Plan::new("teardown-destroy");
            p.volatile.push(stamp.to_string());
            p.push(Step::run(
                ["mkdir", "--", &format!("/b/pre-{stamp}")],
                "r",
                check(),
            ));
            p
        };
        assert_eq!(
            stamped("20261202T120000Z").fingerprint(),
            stamped("20261202T120100Z").fingerprint()
        );
    }
}
