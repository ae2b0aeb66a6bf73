//! Gates: pure functions of (snapshot, profile) to a verdict with evidence. No I/O here;
//! the rules R1-R7 (docs/rules.md) live in these modules.

mod bundle;
mod carve;
mod endpoints;
mod haproxy;
mod horizon;
mod libvirt;
mod model;
mod openrc;
mod phase00;
mod phase01;
mod phase02;
mod phase03;
mod phase04;
mod phase05;
mod plan;
mod substrate;
mod vault;

pub use carve::carve_problems;
pub use plan::EXIT_PARTS;
pub use vault::vault_host;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::profile::Profile;
use crate::runner::RunError;
use crate::snapshot::{Read, ReadError, Snapshot};
use crate::sources::{MissingKey, SourceError};

/// A gate's outcome. Exit codes: 0 pass|proceed|skip, 1 fail|hold, 2 precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Proceed,
    /// The gate does not apply to this site (bare metal has no libvirt); the reason is
    /// in the summary. Never a silent pass.
    Skip,
    /// A failure every line of which a waiver in force covers (reported with the
    /// waiver's justification and expiry; `src/waivers.rs`).
    Waived,
    Fail,
    /// A pre-mutation guard refusing to go on (irreversibility guard).
    Hold,
    /// The gate could not read what it needs.
    Precondition,
}

impl Status {
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Pass | Status::Proceed | Status::Skip | Status::Waived => 0,
            Status::Fail | Status::Hold => 1,
            Status::Precondition => 2,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Proceed => "PROCEED",
            Status::Skip => "SKIP",
            Status::Waived => "WAIVED",
            Status::Fail => "FAIL",
            Status::Hold => "HOLD",
            Status::Precondition => "PRECONDITION",
        }
    }

    pub fn parse(label: &str) -> Option<Status> {
        [
            Status::Pass,
            Status::Proceed,
            Status::Skip,
            Status::Waived,
            Status::Fail,
            Status::Hold,
            Status::Precondition,
        ]
        .into_iter()
        .find(|s| s.label().eq_ignore_ascii_case(label))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How one evidence line bears on the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// Read and as expected.
    Ok,
    /// Read and not as expected: this line is why the gate failed or held.
    Bad,
    /// Could not be read: why the gate is PRECONDITION.
    Missing,
    /// Allowed by the profile's allowlist, with the reason.
    Allowed,
    /// Not as expected, and covered by a waiver in force: its justification and expiry
    /// are in `expected`.
    Waived,
    /// Context: counts, what was read.
    Info,
}

impl Mark {
    pub fn label(self) -> &'static str {
        match self {
            Mark::Ok => "ok",
            Mark::Bad => "BAD",
            Mark::Missing => "MISSING",
            Mark::Allowed => "allowed",
            Mark::Waived => "waived",
            Mark::Info => "info",
        }
    }
}

/// One thing a gate read: the subject (unit, machine, CIDR), the property, and what it
/// found, with what it expected where that says more than the mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub mark: Mark,
    pub subject: String,
    pub property: String,
    pub actual: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

impl Evidence {
    pub fn new(
        mark: Mark,
        subject: impl Into<String>,
        property: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self {
            mark,
            subject: subject.into(),
            property: property.into(),
            actual: actual.into(),
            expected: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn missing(key: &MissingKey) -> Self {
        Evidence::new(
            Mark::Missing,
            key.path.clone(),
            "key",
            "absent from the CLI output",
        )
        .expected(format!("present (declared `{}`; R2)", key.key))
    }
}

/// A gate's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub id: &'static str,
    pub phase: &'static str,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// A named outcome beyond the status (P00-ROUTE: CLEAN, DIRTY, PARTIAL, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Counts the gate reports (the P02-E census, ...), keyed by name.
    pub metrics: BTreeMap<String, u64>,
    /// Why waiting cannot make this verdict pass (a unit or machine in `error`): a gate
    /// wait ends at once on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsettleable: Option<String>,
    /// A PRECONDITION from a read that failed the way a later read may not (it timed
    /// out, or the CLI exited non-zero without output to judge): a gate wait polls on.
    /// Damaged or malformed output, a missing key, an expired login are not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub transient: bool,
}

impl Verdict {
    pub fn new(gate: &GateSpec, status: Status, summary: impl Into<String>) -> Self {
        Self {
            id: gate.id,
            phase: gate.phase,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            outcome: None,
            metrics: BTreeMap::new(),
            unsettleable: None,
            transient: false,
        }
    }

    /// Marks a state waiting cannot fix: a `gate --wait` ends at once on it.
    pub fn unsettleable(mut self, why: impl Into<String>) -> Self {
        self.unsettleable = Some(why.into());
        self
    }

    pub fn with_outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = Some(outcome.into());
        self
    }

    /// PRECONDITION because a read failed (login expired, timeout, parse error, ...).
    pub fn unreadable(gate: &GateSpec, err: &ReadError) -> Self {
        let mut v = Verdict::new(gate, Status::Precondition, format!("could not read: {err}"));
        v.transient = matches!(
            err,
            ReadError::Source(
                SourceError::Exit { .. }
                    | SourceError::Run(RunError::Timeout { .. } | RunError::Spawn { .. })
            )
        );
        v.evidence.push(Evidence::new(
            Mark::Missing,
            "read",
            "error",
            err.to_string(),
        ));
        v
    }

    /// PRECONDITION because keys the gate reads are absent (R2), naming each path.
    pub fn missing_keys(
        gate: &GateSpec,
        missing: &[MissingKey],
        mut evidence: Vec<Evidence>,
    ) -> Self {
        let paths: Vec<&str> = missing.iter().map(|m| m.path.as_str()).collect();
        let mut v = Verdict::new(
            gate,
            Status::Precondition,
            format!(
                "{} key(s) the gate reads are missing: {}",
                missing.len(),
                paths.join(", ")
            ),
        );
        evidence.extend(missing.iter().map(Evidence::missing));
        v.evidence = evidence;
        v
    }

    pub fn with_evidence(mut self, evidence: Vec<Evidence>) -> Self {
        self.evidence = evidence;
        self
    }

    pub fn metric(mut self, name: &str, value: u64) -> Self {
        self.metrics.insert(name.to_string(), value);
        self
    }
}

/// A gate in the catalog.
pub struct GateSpec {
    pub id: &'static str,
    pub phase: &'static str,
    pub tags: &'static [&'static str],
    pub description: &'static str,
    pub reads: fn(&Profile) -> Vec<Read>,
    /// Reads that depend on the first ones (a `subnet ip-addresses <id>` per carved plane
    /// found by CIDR in `subnets read`).
    pub follow_up: Option<fn(&Snapshot, &Profile) -> Vec<Read>>,
    pub evaluate: fn(&GateSpec, &Snapshot, &Profile) -> Verdict,
    /// A gate made of other gates' verdicts (P00-EXIT): how it judges in a run that has
    /// judged some of its parts already, given the verdicts so far, so that a part is
    /// not judged twice on the same snapshot. It takes each part from them, by id, and
    /// judges only the parts it does not find; with none given it is `evaluate`.
    pub from_parts: Option<FromParts>,
}

/// How a gate made of parts judges, given the verdicts a run has given so far.
pub type FromParts = fn(&GateSpec, &Snapshot, &Profile, &[Verdict]) -> Verdict;

impl GateSpec {
    /// Evaluates the gate, then holds it to what it read: a gate that asked for a read
    /// the snapshot could not parse (damaged, failed, timed out) is PRECONDITION naming
    /// that read, whatever its evaluation made of the rest. A verdict over partly
    /// unreadable input is not a verdict (issue 8: damaged outputs a gate only used for
    /// context, or read and then ignored, once let it PASS).
    pub fn run(&self, snapshot: &Snapshot, profile: &Profile) -> Verdict {
        self.hold((self.evaluate)(self, snapshot, profile), snapshot, profile)
    }

    /// [`GateSpec::run`] in a run that has given `judged` already (unwaived, in any
    /// order): a gate made of parts takes its parts' verdicts from there.
    pub fn run_after(&self, snapshot: &Snapshot, profile: &Profile, judged: &[Verdict]) -> Verdict {
        let verdict = match self.from_parts {
            Some(from_parts) => from_parts(self, snapshot, profile, judged),
            None => (self.evaluate)(self, snapshot, profile),
        };
        self.hold(verdict, snapshot, profile)
    }

    /// Holds an evaluation to what the gate read (see [`GateSpec::run`]).
    fn hold(&self, verdict: Verdict, snapshot: &Snapshot, profile: &Profile) -> Verdict {
        if verdict.status == Status::Precondition {
            return verdict;
        }
        let mut reads = (self.reads)(profile);
        if let Some(follow_up) = self.follow_up {
            reads.extend(follow_up(snapshot, profile));
        }
        let mut errors: Vec<String> = Vec::new();
        for read in &reads {
            // A status whose omitted maps another part of it contradicts cannot back a
            // count or a lookup by unit (R2; juju's omitempty).
            if let Read::JujuStatus { model } = read
                && let Ok(status) = snapshot.juju_status(model)
            {
                for gap in status.unjustified_emptiness() {
                    let text = format!("juju status -m {model}: {gap}");
                    if !errors.contains(&text) {
                        errors.push(text);
                    }
                }
            }
        }
        for read in reads {
            // A missing file or a busy disk the CLI named as such is a state the gate
            // decides on.
            if let Some(err) = snapshot.error_of(&read).filter(|e| {
                !matches!(
                    e,
                    crate::sources::SourceError::NotFound { .. }
                        | crate::sources::SourceError::Busy { .. }
                )
            }) {
                let text = err.to_string();
                if !errors.contains(&text) {
                    errors.push(text);
                }
            }
        }
        if errors.is_empty() {
            return verdict;
        }
        let mut v = Verdict::new(
            self,
            Status::Precondition,
            format!(
                "could not read everything the gate reads ({} read(s)): {}",
                errors.len(),
                errors[0]
            ),
        );
        v.evidence = errors
            .into_iter()
            .map(|e| Evidence::new(Mark::Missing, "read", "error", e))
            .chain(verdict.evidence)
            .collect();
        v
    }
}

impl fmt::Debug for GateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateSpec")
            .field("id", &self.id)
            .field("phase", &self.phase)
            .finish()
    }
}

/// Every gate stackgate implements, in phase order.
pub fn catalog() -> Vec<&'static GateSpec> {
    phase00::GATES
        .iter()
        .chain(plan::GATES.iter())
        .chain(libvirt::GATES.iter())
        .chain(carve::GATES.iter())
        .chain(bundle::GATES_00.iter())
        .chain(plan::EXIT.iter())
        .chain(phase01::GATES.iter())
        .chain(bundle::GATES_01.iter())
        .chain(model::GATES.iter())
        .chain(phase02::GATES.iter())
        .chain(vault::GATES.iter())
        .chain(phase03::GATES.iter())
        .chain(endpoints::GATES.iter())
        .chain(phase04::GATES.iter())
        .chain(phase05::GATES.iter())
        .chain(haproxy::GATES.iter())
        .chain(horizon::GATES.iter())
        .chain(openrc::GATES.iter())
        .collect()
}

/// The gates of one phase ("02") at its first moment, the default run: every gate of
/// the phase without a `moment-*` tag (phase 02: the pre-flight before vault init).
pub fn for_phase(phase: &str) -> Vec<&'static GateSpec> {
    catalog()
        .into_iter()
        .filter(|g| g.phase == phase && moments(g).next().is_none())
        .collect()
}

/// Tag prefix naming a later moment of a phase a gate belongs to: phase 02 runs its
/// pre-flight first, then `moment-init`, `moment-unseal`, `moment-authorize` as the
/// runbook steps are done. A gate may belong to several moments.
pub const MOMENT_TAG: &str = "moment-";

/// The moments a gate belongs to (none: the phase's first moment).
pub fn moments(gate: &GateSpec) -> impl Iterator<Item = &'static str> {
    gate.tags.iter().filter_map(|t| t.strip_prefix(MOMENT_TAG))
}

/// The later moments of a phase, in catalog order.
pub fn phase_moments(phase: &str) -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for g in catalog().into_iter().filter(|g| g.phase == phase) {
        for m in moments(g) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The gates of a later moment of a phase.
pub fn for_moment(phase: &str, moment: &str) -> Vec<&'static GateSpec> {
    catalog()
        .into_iter()
        .filter(|g| g.phase == phase && moments(g).any(|m| m == moment))
        .collect()
}

/// Every gate of a phase, whatever its moment (what `--gate` chooses from).
pub fn all_of_phase(phase: &str) -> Vec<&'static GateSpec> {
    catalog().into_iter().filter(|g| g.phase == phase).collect()
}

pub fn by_id(id: &str) -> Option<&'static GateSpec> {
    catalog()
        .into_iter()
        .find(|g| g.id.eq_ignore_ascii_case(id))
}

/// The phases that have gates.
pub fn phases() -> Vec<&'static str> {
    let mut phases: Vec<&str> = catalog().iter().map(|g| g.phase).collect();
    phases.sort_unstable();
    phases.dedup();
    phases
}

/// The status of a run: PRECONDITION dominates (the verdict set is incomplete), then
/// FAIL, HOLD, then PROCEED (a pre-flight cleared to mutate), PASS, SKIP. An empty run
/// is a PRECONDITION: nothing was checked.
pub fn overall(verdicts: &[Verdict]) -> Status {
    let worst = |wanted: &[Status]| {
        verdicts
            .iter()
            .map(|v| v.status)
            .find(|s| wanted.contains(s))
    };
    if verdicts.is_empty() {
        return Status::Precondition;
    }
    worst(&[Status::Precondition])
        .or_else(|| worst(&[Status::Fail]))
        .or_else(|| worst(&[Status::Hold]))
        .or_else(|| worst(&[Status::Proceed]))
        .or_else(|| worst(&[Status::Waived]))
        .or_else(|| worst(&[Status::Pass]))
        .unwrap_or(Status::Skip)
}

/// A failing verdict over units some of which are in `error`: a gate wait ends at once
/// on it (issue 12: an error is not a state a settling cloud passes through; the
/// operator reads the unit's log and resolves it).
pub(crate) fn units_in_error(verdict: Verdict, units: &[String]) -> Verdict {
    if units.is_empty() || verdict.status.exit_code() == 0 {
        return verdict;
    }
    verdict.unsettleable(format!(
        "{} in error: waiting does not clear an error (read `juju debug-log --include <unit>`, then resolve it)",
        units.join(", ")
    ))
}

/// Reads a status document or returns the PRECONDITION verdict for it.
macro_rules! read_or_precondition {
    ($gate:expr, $read:expr) => {
        match $read {
            Ok(value) => value,
            Err(err) => return $crate::gates::Verdict::unreadable($gate, &err),
        }
    };
}
pub(crate) use read_or_precondition;

/// Quotes a status message for evidence lines, escaping quotes inside it (a hook
/// failure's message is `hook failed: "config-changed"`).
pub(crate) fn status_text(current: &str, message: &str) -> String {
    if message.is_empty() {
        current.to_string()
    } else {
        format!("{current} {message:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(status: Status) -> Verdict {
        Verdict {
            id: "X",
            phase: "02",
            status,
            summary: String::new(),
            evidence: vec![],
            outcome: None,
            metrics: BTreeMap::new(),
            unsettleable: None,
            transient: false,
        }
    }

    #[test]
    fn overall_precondition_dominates_then_fail() {
        let v = |s: &[Status]| overall(&s.iter().map(|&s| verdict(s)).collect::<Vec<_>>());
        assert_eq!(
            v(&[Status::Pass, Status::Fail, Status::Precondition]),
            Status::Precondition
        );
        assert_eq!(v(&[Status::Pass, Status::Hold, Status::Fail]), Status::Fail);
        assert_eq!(v(&[Status::Pass, Status::Proceed]), Status::Proceed);
        assert_eq!(v(&[Status::Pass, Status::Skip]), Status::Pass);
        assert_eq!(v(&[Status::Proceed]), Status::Proceed);
        assert_eq!(v(&[Status::Pass, Status::Waived]), Status::Waived);
        assert_eq!(v(&[Status::Waived, Status::Proceed]), Status::Proceed);
        assert_eq!(v(&[Status::Waived, Status::Fail]), Status::Fail);
        assert_eq!(v(&[]), Status::Precondition);
    }

    #[test]
    fn catalog_ids_are_unique_and_tagged() {
        let mut ids: Vec<&str> = catalog().iter().map(|g| g.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for g in catalog() {
            assert!(
                g.tags.contains(&"read-only") || g.tags.contains(&"mutation"),
                "{}",
                g.id
            );
        }
    }
}
