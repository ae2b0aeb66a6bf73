//! The mutation executor (the mutation executor): the phase actions of the runbooks, each a
//! pure planner from (snapshot, profile) to a [`Plan`], run by one [`executor`].
//!
//! Dry-run is the default and runs nothing but the reads the plan needs. `--apply`
//! re-plans on its own fresh read, refuses a plan that differs from the reviewed one,
//! refuses protected targets by the identity they resolve to, needs the model name
//! typed for a destructive plan, and proves every step with a fresh read before the
//! next. Gates never import actions; both resolve targets through [`crate::resolve`].

mod checks;
pub mod download;
pub mod executor;
pub mod phase00;
pub mod phase01;
pub mod phase02;
pub mod phase03;
pub mod phase04;
pub mod phase05;
pub mod plan;
mod topology;
pub mod wait;

pub use executor::{
    ActionReport, Context, ExecOptions, NoOperator, Operator, Outcome, execute, plan_then_apply,
};
pub use plan::{Check, Input, Plan, Step, Target};

use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};

/// What the operator passes an action besides the profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionArgs {
    /// The host an action works on (`carve <host>`).
    pub host: Option<String>,
    /// The run's UTC time as `YYYYMMDDTHHMMSSZ`, for names the action makes (the
    /// pre-destroy backup directory). The executor's caller supplies it, so planners
    /// stay pure.
    pub stamp: String,
}

/// Why a planner will not plan: a guard the cloud does not meet (exit 1) or something
/// it could not read (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Guard(String),
    Precondition(String),
}

impl Refusal {
    pub fn into_outcome(self) -> Outcome {
        match self {
            Refusal::Guard(why) => Outcome::Refused(why),
            Refusal::Precondition(why) => Outcome::Precondition(why),
        }
    }
}

/// A read a planner needs, or the refusal naming why it could not be read.
pub fn need<T>(read: Result<&T, crate::snapshot::ReadError>) -> Result<&T, Refusal> {
    read.map_err(|e| Refusal::Precondition(e.to_string()))
}

/// One phase action.
pub struct Action {
    pub name: &'static str,
    pub phase: &'static str,
    pub description: &'static str,
    /// Whether any step it can plan is destructive (needs the model name typed).
    pub destructive: bool,
    /// What must hold before it plans anything, as `list --actions` shows it.
    pub guards: &'static str,
    /// Whether it takes a host argument.
    pub takes_host: bool,
    pub reads: fn(&Profile, &ActionArgs) -> Vec<Read>,
    pub follow_up: fn(&Snapshot, &Profile, &ActionArgs) -> Vec<Read>,
    pub plan: fn(&Snapshot, &Profile, &ActionArgs) -> Result<Plan, Refusal>,
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Action")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// No follow-up reads.
pub fn no_follow_up(_: &Snapshot, _: &Profile, _: &ActionArgs) -> Vec<Read> {
    Vec::new()
}

/// Every action, in runbook order.
pub fn all() -> impl Iterator<Item = &'static Action> {
    phase00::ACTIONS
        .iter()
        .chain(phase00::ENROLL.iter())
        .chain(topology::ACTIONS.iter())
        .chain(phase01::ACTIONS.iter())
        .chain(phase02::ACTIONS.iter())
        .chain(phase03::ACTIONS.iter())
        .chain(phase04::ACTIONS.iter())
        .chain(phase05::ACTIONS.iter())
}

pub fn by_name(name: &str) -> Option<&'static Action> {
    all().find(|a| a.name == name)
}
