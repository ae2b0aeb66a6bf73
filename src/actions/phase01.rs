//! Phase-01 action: model-prep, the redeploy prep the change log did by hand (004
//! "REMAINING DC-DC scope" item 2, steps R1-R3): controller model-defaults
//! default-space to a live space, add-model, the model's effective default-space
//! verified (the value that poisoned the last deploy), reload-spaces, then
//! P01-MODEL-SPACES.

use std::collections::BTreeSet;
use std::time::Duration;

use super::checks::{gate_holds, maas_profile, settle};
use super::plan::{Check, Plan, Step, Target};
use super::wait::Poll;
use super::{Action, ActionArgs, Refusal, need};
use crate::gates::{Status, by_id};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};

pub static ACTIONS: [Action; 1] = [Action {
    name: "model-prep",
    phase: "01",
    description: "R1-R3: model-defaults default-space to the profile's live space, add-model, the model's effective default-space verified, reload-spaces, then P01-MODEL-SPACES",
    destructive: false,
    guards: "the profile's default space is a live MAAS space",
    takes_host: false,
    reads: model_prep_reads,
    follow_up: model_prep_follow_up,
    plan: plan_model_prep,
}];

fn model_prep_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    vec![
        Read::JujuModelDefaults,
        Read::JujuModels,
        Read::MaasSpaces {
            profile: maas_profile(profile),
        },
    ]
}

fn model_prep_follow_up(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    match snapshot.models() {
        Ok(m) if m.find(&profile.model).is_some() => vec![
            Read::JujuModelConfig {
                model: profile.model.clone(),
            },
            Read::JujuSpaces {
                model: profile.model.clone(),
            },
        ],
        _ => Vec::new(),
    }
}

fn text(value: &serde_json::Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The controller's default-space is `space`.
fn defaults_say(space: &str) -> Check {
    let space = space.to_string();
    Check::new(
        format!("controller model-defaults default-space is {space}"),
        vec![Read::JujuModelDefaults],
        move |snapshot, _| match snapshot.model_defaults() {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(d) => match d.get("default-space").and_then(|e| e.effective()) {
                Some((v, level)) if text(v) == space => {
                    Poll::Pass(format!("default-space {space} ({level})"))
                }
                Some((v, level)) => Poll::Fail(format!("default-space is {:?} ({level})", text(v))),
                None => Poll::Fail("model-defaults: default-space not shown".to_string()),
            },
        },
    )
}

/// The model exists and its effective default-space is `space`.
fn model_says(model: &str, space: &str) -> Check {
    let (model, space) = (model.to_string(), space.to_string());
    Check::new(
        format!("model {model} exists with effective default-space {space}"),
        vec![
            Read::JujuModels,
            Read::JujuModelConfig {
                model: model.clone(),
            },
        ],
        move |snapshot, _| {
            match snapshot.models() {
                Err(e) => return Poll::Fail(e.to_string()),
                Ok(m) if m.find(&model).is_none() => {
                    return Poll::Fail(format!("juju models does not list {model}"));
                }
                Ok(_) => {}
            }
            match snapshot.model_config(&model) {
                Err(e) => Poll::Fail(e.to_string()),
                Ok(c) => match c.get("default-space") {
                    Some(cv) if text(&cv.value) == space => Poll::Pass(format!(
                        "{model} default-space {space} (source {})",
                        cv.source
                    )),
                    Some(cv) => Poll::Fail(format!(
                        "{model} default-space is {:?} (source {}): a dead or wrong name poisons network-get",
                        text(&cv.value),
                        cv.source
                    )),
                    None => Poll::Fail("model-config: default-space not shown".to_string()),
                },
            }
        },
    )
}

fn plan_model_prep(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let p01 = profile.phase01.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!("profile {} has no [phase01] section", profile.name))
    })?;
    let wanted = p01.default_space.as_str();
    let spaces = need(snapshot.maas_spaces(&maas_profile(profile)))?;
    let live: BTreeSet<&str> = spaces
        .iter()
        .filter(|s| s.id >= 0)
        .map(|s| s.name.as_str())
        .collect();
    if !live.contains(wanted) {
        return Err(Refusal::Guard(format!(
            "the profile's default space {wanted} is not a live MAAS space ({}): setting it would poison network-get for every endpoint",
            live.iter().copied().collect::<Vec<_>>().join(", ")
        )));
    }
    let defaults = need(snapshot.model_defaults())?;
    let models = need(snapshot.models())?;
    let mut plan = Plan::new("model-prep");
    let current = defaults
        .get("default-space")
        .and_then(|e| e.effective())
        .map(|(v, level)| (text(v).to_string(), level));
    plan.resolve(
        "controller default-space",
        current
            .as_ref()
            .map_or("not shown".to_string(), |(v, l)| format!("{v:?} ({l})")),
    );
    if current.as_ref().map(|(v, _)| v.as_str()) != Some(wanted) {
        plan.push(Step::run(
            ["juju", "model-defaults", &format!("default-space={wanted}")],
            format!("R1: new models default to {wanted}, a live space (004: a dead default poisoned every install hook)"),
            defaults_say(wanted),
        ));
    } else {
        plan.note(format!("controller default-space already {wanted}"));
    }
    let model = profile.model.as_str();
    let present = models.find(model).is_some();
    plan.resolve(
        format!("model {model}"),
        if present { "present" } else { "absent" },
    );
    if !present {
        plan.push(
            Step::run(
                ["juju", "add-model", model],
                format!("R2: add model {model}; it inherits default-space {wanted}"),
                model_says(model, wanted),
            )
            .targets([Target::Model {
                name: model.to_string(),
            }]),
        );
    } else {
        let config = need(snapshot.model_config(model))?;
        let effective = config
            .get("default-space")
            .map(|cv| text(&cv.value).to_string());
        plan.resolve(
            format!("model {model} default-space"),
            effective.clone().unwrap_or_else(|| "not shown".to_string()),
        );
        if effective.as_deref() != Some(wanted) {
            plan.push(
                Step::run(
                    [
                        "juju",
                        "model-config",
                        "-m",
                        model,
                        &format!("default-space={wanted}"),
                    ],
                    format!("R2: the model's effective default-space must be {wanted}"),
                    model_says(model, wanted),
                )
                .targets([Target::Model {
                    name: model.to_string(),
                }]),
            );
        } else {
            plan.note(format!("model {model} default-space already {wanted}"));
        }
    }
    // Spaces are per model; after add-model they must mirror MAAS's planes.
    let spaces_hold = present
        && by_id("P01-MODEL-SPACES").is_some_and(|g| {
            matches!(
                g.run(snapshot, profile).status,
                Status::Pass | Status::Proceed
            )
        });
    if !spaces_hold {
        plan.push(
            Step::run(
                ["juju", "reload-spaces", "-m", model],
                format!("R3: model {model} imports MAAS's spaces"),
                gate_holds("P01-MODEL-SPACES", profile).polled(settle(Duration::from_secs(300))),
            )
            .targets([Target::Model {
                name: model.to_string(),
            }]),
        );
    } else {
        plan.note(format!(
            "model {model}'s spaces already carry the planes' CIDRs"
        ));
    }
    Ok(plan)
}
