//! Phase-01 model gates: the default space (004 deploy root cause: controller
//! model-defaults default-space = `metal`, a dead pre-D-052 name, poisoned network-get
//! for every endpoint), the model's spaces (spaces are per model: nothing to read before
//! add-model, DOCFIX-039) and the endpoint bindings (DOCFIX-039 item 5).

use std::collections::BTreeSet;

use super::substrate::{all_good, maas_profile, section};
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::{Phase01, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::juju;

pub(super) static GATES: [GateSpec; 3] = [
    GateSpec {
        id: "P01-DEFAULT-SPACE",
        phase: "01",
        tags: &["read-only"],
        description: "controller model-defaults default-space names a live MAAS space (metal-admin); after add-model the model's effective default-space is live too",
        reads: |p| {
            vec![
                Read::JujuModelDefaults,
                Read::JujuModels,
                Read::MaasSpaces {
                    profile: maas_profile(p),
                },
            ]
        },
        follow_up: Some(|s, p| {
            model_present(s, p)
                .then(|| Read::JujuModelConfig {
                    model: p.model.clone(),
                })
                .into_iter()
                .collect()
        }),
        evaluate: gate_default_space,
        from_parts: None,
    },
    GateSpec {
        id: "P01-MODEL-SPACES",
        phase: "01",
        tags: &["read-only"],
        description: "after add-model: the model's spaces carry the planes' CIDRs (PRECONDITION before add-model: spaces are per model)",
        reads: |_| vec![Read::JujuModels],
        follow_up: Some(|s, p| {
            model_present(s, p)
                .then(|| Read::JujuSpaces {
                    model: p.model.clone(),
                })
                .into_iter()
                .collect()
        }),
        evaluate: gate_model_spaces,
        from_parts: None,
    },
    GateSpec {
        id: "P01-BINDINGS",
        phase: "01",
        tags: &["read-only"],
        description: "endpoint bindings: ceph public/osd/mon -> storage, octavia overlay and nova-compute neutron-plugin -> data-tenant, vault default -> metal-admin and cluster -> metal-internal (juju status once deployed, the bundle before)",
        reads: |p| {
            let mut r = vec![Read::JujuModels];
            if let Some(b) = &p.bundle {
                r.push(Read::BundleFile {
                    path: b.path.clone(),
                });
            }
            r
        },
        follow_up: Some(|s, p| {
            model_present(s, p)
                .then(|| Read::JujuStatus {
                    model: p.model.clone(),
                })
                .into_iter()
                .collect()
        }),
        evaluate: gate_bindings,
        from_parts: None,
    },
];

fn model_present(snapshot: &Snapshot, profile: &Profile) -> bool {
    snapshot
        .models()
        .is_ok_and(|m| m.find(&profile.model).is_some())
}

fn phase01<'p>(gate: &GateSpec, profile: &'p Profile) -> Result<&'p Phase01, Box<Verdict>> {
    section(gate, profile, profile.phase01.as_ref(), "phase01")
}

/// A config value as juju prints it for evidence: strings bare, others as JSON.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) if s.is_empty() => "\"\" (empty: the alpha space)".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One default-space value checked: set, a live MAAS space, and the profile's.
fn space_check(
    subject: &str,
    property: &str,
    value: &serde_json::Value,
    live: &BTreeSet<&str>,
    wanted: &str,
) -> (bool, Evidence) {
    let name = value.as_str().unwrap_or_default();
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push("not set".to_string());
    } else if !live.contains(name) {
        problems.push(format!(
            "no MAAS space {name:?}: a dead name poisons network-get for every endpoint"
        ));
    } else if name != wanted {
        problems.push(format!("live, but the profile names {wanted}"));
    }
    let ok = problems.is_empty();
    let actual = if ok {
        value_text(value)
    } else {
        format!("{} ({})", value_text(value), problems.join("; "))
    };
    (
        ok,
        Evidence::new(
            if ok { Mark::Ok } else { Mark::Bad },
            subject,
            property,
            actual,
        )
        .expected(format!("{wanted}, a live MAAS space")),
    )
}

fn gate_default_space(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let p01 = match phase01(gate, profile) {
        Ok(p) => p,
        Err(v) => return *v,
    };
    let defaults = read_or_precondition!(gate, snapshot.model_defaults());
    let models = read_or_precondition!(gate, snapshot.models());
    let spaces = read_or_precondition!(gate, snapshot.maas_spaces(&maas_profile(profile)));
    // The id -1 pseudo-space `undefined` holds nothing a binding could use.
    let live: BTreeSet<&str> = spaces
        .iter()
        .filter(|s| s.id >= 0)
        .map(|s| s.name.as_str())
        .collect();
    let mut evidence = vec![Evidence::new(
        Mark::Info,
        "maas spaces",
        "live names",
        live.iter().copied().collect::<Vec<_>>().join(", "),
    )];
    let Some(entry) = defaults.get("default-space") else {
        return Verdict::missing_keys(
            gate,
            &[juju::MODEL_DEFAULTS_DEFAULT_SPACE.missing_at("model-defaults: default-space")],
            evidence,
        );
    };
    // `default` and `controller` are omitempty interface values (juju environs/config
    // AttributeDefaultValues): a controller that never set default-space prints
    // `{"default": ""}`, and `{}` is legal too. Either leaves new models on alpha: a
    // finding, not a missing key.
    let (value, level) = entry
        .effective()
        .unwrap_or((&serde_json::Value::Null, "unset at every level"));
    let mut checks = vec![space_check(
        "controller model-defaults",
        &format!("default-space ({level})"),
        value,
        &live,
        &p01.default_space,
    )];
    if models.find(&profile.model).is_some() {
        let config = read_or_precondition!(gate, snapshot.model_config(&profile.model));
        let Some(cv) = config.get("default-space") else {
            return Verdict::missing_keys(
                gate,
                &[juju::MODEL_CONFIG_DEFAULT_SPACE.missing_at("model-config: default-space")],
                evidence,
            );
        };
        checks.push(space_check(
            &format!("model {}", profile.model),
            &format!("default-space (source {})", cv.source),
            &cv.value,
            &live,
            &p01.default_space,
        ));
    } else {
        evidence.push(Evidence::new(
            Mark::Info,
            format!("model {}", profile.model),
            "default-space",
            "model not added yet: its effective default-space is checked after add-model",
        ));
    }
    let good = checks.iter().filter(|(ok, _)| *ok).count() as u64;
    let status = all_good(good, checks.len() as u64);
    let summary = match status {
        Status::Pass => format!(
            "default-space resolves to the live space {} ({} check(s))",
            p01.default_space,
            checks.len()
        ),
        _ => format!(
            "default-space does not resolve to the live space {}: {}",
            p01.default_space,
            checks
                .iter()
                .filter(|(ok, _)| !ok)
                .map(|(_, e)| format!("{} = {}", e.subject, e.actual))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    evidence.extend(checks.into_iter().map(|(_, e)| e));
    Verdict::new(gate, status, summary).with_evidence(evidence)
}

fn gate_model_spaces(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let models = read_or_precondition!(gate, snapshot.models());
    if models.find(&profile.model).is_none() {
        return Verdict::new(
            gate,
            Status::Precondition,
            format!(
                "model {} is not added yet: spaces are per model, so there is nothing to read before `juju add-model {}` and `juju reload-spaces`",
                profile.model, profile.model
            ),
        )
        .with_evidence(vec![Evidence::new(
            Mark::Missing,
            "juju models",
            format!("model {}", profile.model),
            "absent",
        )]);
    }
    let spaces = read_or_precondition!(gate, snapshot.juju_spaces(&profile.model));
    let mut evidence = Vec::new();
    let mut bad = Vec::new();
    for plane in &profile.planes {
        let cidr = plane.cidr.to_string();
        let holder = spaces.spaces.iter().find(|s| s.subnets.contains_key(&cidr));
        let subject = format!("plane {} {cidr}", plane.name);
        match holder {
            Some(space) if space.name == plane.name => {
                evidence.push(
                    Evidence::new(Mark::Ok, subject, "model space", &space.name)
                        .expected(&plane.name),
                );
            }
            Some(space) => {
                bad.push(plane.name.clone());
                evidence.push(
                    Evidence::new(Mark::Bad, subject, "model space", &space.name)
                        .expected(&plane.name),
                );
            }
            None => {
                bad.push(plane.name.clone());
                evidence.push(
                    Evidence::new(
                        Mark::Bad,
                        subject,
                        "model space",
                        "no space holds this CIDR (reload-spaces?)",
                    )
                    .expected(&plane.name),
                );
            }
        }
    }
    let n = profile.planes.len();
    let status = all_good((n - bad.len()) as u64, n as u64);
    let summary = if bad.is_empty() {
        format!(
            "model {}: {n}/{n} planes' CIDRs in their spaces",
            profile.model
        )
    } else {
        format!(
            "model {}: {} of {n} planes not in their spaces: {}",
            profile.model,
            bad.len(),
            bad.join(", ")
        )
    };
    Verdict::new(gate, status, summary).with_evidence(evidence)
}

fn endpoint_label(endpoint: &str) -> &str {
    if endpoint.is_empty() {
        "(default)"
    } else {
        endpoint
    }
}

fn gate_bindings(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let p01 = match phase01(gate, profile) {
        Ok(p) => p,
        Err(v) => return *v,
    };
    let models = read_or_precondition!(gate, snapshot.models());
    let deployed = if models.find(&profile.model).is_some() {
        let status = read_or_precondition!(gate, snapshot.juju_status(&profile.model));
        (!status.applications.is_empty()).then_some(status)
    } else {
        None
    };
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    let mut checks: Vec<(bool, Evidence)> = Vec::new();
    let source = if let Some(status) = deployed {
        for b in &p01.bindings {
            let Some(app) = status.applications.get(&b.application) else {
                for ep in &b.endpoints {
                    checks.push((
                        false,
                        Evidence::new(
                            Mark::Bad,
                            format!("application {}", b.application),
                            format!("endpoint-bindings.{}", endpoint_label(ep)),
                            "application not in juju status",
                        )
                        .expected(&b.space),
                    ));
                }
                continue;
            };
            let Some(bindings) = &app.endpoint_bindings else {
                missing.push(
                    juju::status_keys::ENDPOINT_BINDINGS
                        .missing_at(format!("applications.{}.endpoint-bindings", b.application)),
                );
                continue;
            };
            for ep in &b.endpoints {
                let actual = bindings.get(ep).map(String::as_str);
                checks.push(binding_check(&b.application, ep, actual, &b.space));
            }
        }
        format!("juju status -m {}", profile.model)
    } else {
        let Some(site) = &profile.bundle else {
            return Verdict::new(
                gate,
                Status::Precondition,
                format!(
                    "model {} has no applications yet and the profile names no bundle: no bindings to read",
                    profile.model
                ),
            );
        };
        let file = read_or_precondition!(gate, snapshot.bundle_file(&site.path));
        for b in &p01.bindings {
            let app = file.bundle.applications.get(&b.application);
            for ep in &b.endpoints {
                let actual = match app {
                    None => None,
                    // An endpoint the bundle does not bind explicitly takes the
                    // application's default binding, then the model's default space.
                    Some(a) => a
                        .bindings
                        .get(ep)
                        .or_else(|| a.bindings.get(""))
                        .map(String::as_str),
                };
                checks.push(binding_check(&b.application, ep, actual, &b.space));
            }
        }
        format!(
            "{} (not deployed yet: the bindings juju will apply)",
            site.path
        )
    };
    if !missing.is_empty() {
        return Verdict::missing_keys(gate, &missing, evidence);
    }
    evidence.push(Evidence::new(Mark::Info, "bindings", "read from", &source));
    let total = checks.len() as u64;
    let good = checks.iter().filter(|(ok, _)| *ok).count() as u64;
    let status = all_good(good, total);
    let bad: Vec<String> = checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, e)| format!("{} {} = {}", e.subject, e.property, e.actual))
        .collect();
    let summary = if bad.is_empty() {
        format!("{good}/{total} endpoint bindings as the profile wants ({source})")
    } else {
        format!(
            "{} of {total} endpoint bindings wrong: {}",
            bad.len(),
            bad.join("; ")
        )
    };
    evidence.extend(checks.into_iter().map(|(_, e)| e));
    Verdict::new(gate, status, summary).with_evidence(evidence)
}

fn binding_check(
    application: &str,
    endpoint: &str,
    actual: Option<&str>,
    space: &str,
) -> (bool, Evidence) {
    let ok = actual == Some(space);
    (
        ok,
        Evidence::new(
            if ok { Mark::Ok } else { Mark::Bad },
            format!("application {application}"),
            format!("endpoint-bindings.{}", endpoint_label(endpoint)),
            actual.unwrap_or("(not bound)"),
        )
        .expected(space),
    )
}
