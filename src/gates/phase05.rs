//! Phase 05 (octavia) gates, seed 004: the retrofit's config gate, the pre-flight before
//! `configure-resources` (with its anomaly), the control plane after it (octavia
//! active, the lb-mgmt resources, o-hm0 on every octavia unit), and the amphora image.
//!
//! Units are found by application and name in `juju status`; resources by name through
//! `show`, absent only when the CLI says so (R3); o-hm0 is read on each unit through
//! `juju exec` and is healthy UP or UNKNOWN, an OVS internal port reporting no carrier
//! (R5; seed 004 phase-05 correction).

use std::net::Ipv6Addr;

use ipnet::Ipv6Net;

use super::phase04::checks_verdict;
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition, status_text};
use crate::profile::{Phase05, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::charms;
use crate::sources::juju::{StatusRead, UnitRef};
use crate::sources::keys::KeyPath;
use crate::sources::{MissingKey, Presence, juju};

pub(super) static GATES: [GateSpec; 4] = [
    GateSpec {
        id: "P05-CONFIG",
        phase: "05",
        tags: &["read-only"],
        description: "octavia-diskimage-retrofit use-internal-endpoints=true, image-format=raw, amp-image-tag equal to octavia's amp-image-tag",
        reads: config_reads,
        follow_up: None,
        evaluate: gate_config,
        from_parts: None,
    },
    GateSpec {
        id: "P05-PRE",
        phase: "05",
        tags: &["read-only"],
        description: "octavia blocked awaiting configure-resources with the lb-mgmt resources absent: PROCEED; blocked with resources present: FAIL (anomaly); already active: SKIP",
        reads: control_plane_reads,
        follow_up: None,
        evaluate: gate_pre,
        from_parts: None,
    },
    GateSpec {
        id: "P05-POST",
        phase: "05",
        tags: &["read-only"],
        description: "octavia active; lb-mgmt-net, lb-mgmt-subnetv6, lb-mgmt-sec-grp present; o-hm0 on every octavia unit UP or UNKNOWN with an fc00:: ULA",
        reads: control_plane_reads,
        follow_up: Some(ip_reads),
        evaluate: gate_post,
        from_parts: None,
    },
    GateSpec {
        id: "P05-AMPHORA",
        phase: "05",
        tags: &["read-only"],
        description: "exactly one ACTIVE image tagged with octavia's amp-image-tag: PASS; control plane up and no image: CONTROL-PLANE-DONE (run the amphora pipeline)",
        reads: |p| {
            let mut reads = control_plane_reads(p);
            if let Some(p5) = &p.phase05 {
                reads.push(amp_tag_read(p, p5));
                reads.push(Read::OpenstackImages {
                    tag: p5.amp_image_tag.clone(),
                });
            }
            reads
        },
        follow_up: Some(|s, p| {
            let mut reads = ip_reads(s, p);
            if let Some(p5) = &p.phase05
                && let Ok(images) = s.openstack_images(&p5.amp_image_tag)
            {
                reads.extend(
                    images
                        .iter()
                        .map(|i| Read::OpenstackImage { id: i.id.clone() }),
                );
            }
            reads
        }),
        evaluate: gate_amphora,
        from_parts: None,
    },
];

/// The key octavia boots amphorae by, and the retrofit tags new images with.
const AMP_IMAGE_TAG: &str = "amp-image-tag";

fn amp_tag_read(profile: &Profile, p5: &Phase05) -> Read {
    // One key only: octavia's settings also hold the lb-mgmt CA key and passphrase (R6).
    Read::JujuConfigKey {
        model: profile.model.clone(),
        application: p5.octavia.clone(),
        key: AMP_IMAGE_TAG.to_string(),
    }
}

fn config_reads(profile: &Profile) -> Vec<Read> {
    let Some(p5) = &profile.phase05 else {
        return Vec::new();
    };
    vec![
        Read::JujuConfig {
            model: profile.model.clone(),
            application: p5.retrofit.clone(),
        },
        amp_tag_read(profile, p5),
    ]
}

fn control_plane_reads(profile: &Profile) -> Vec<Read> {
    let Some(p5) = &profile.phase05 else {
        return Vec::new();
    };
    vec![
        Read::JujuStatus {
            model: profile.model.clone(),
        },
        Read::OpenstackNetwork {
            name: p5.lb_mgmt_network.clone(),
        },
        Read::OpenstackSubnet {
            name: p5.lb_mgmt_subnet.clone(),
        },
        Read::OpenstackSecurityGroup {
            name: p5.lb_mgmt_security_group.clone(),
        },
    ]
}

/// Follow-up: `ip -j addr show dev o-hm0` on every octavia unit `juju status` lists.
fn ip_reads(snapshot: &Snapshot, profile: &Profile) -> Vec<Read> {
    let Some(p5) = &profile.phase05 else {
        return Vec::new();
    };
    let Ok(status) = snapshot.juju_status(&profile.model) else {
        return Vec::new();
    };
    octavia_units(status.units_of(&p5.octavia))
        .iter()
        .map(|u| Read::JujuIpAddr {
            model: profile.model.clone(),
            unit: u.name.to_string(),
            device: p5.mgmt_interface.clone(),
        })
        .collect()
}

/// The principal units of the octavia application, by name.
fn octavia_units(units: Vec<UnitRef<'_>>) -> Vec<UnitRef<'_>> {
    units.into_iter().filter(|u| !u.is_subordinate()).collect()
}

fn phase05<'p>(gate: &GateSpec, profile: &'p Profile) -> Result<&'p Phase05, Box<Verdict>> {
    profile.phase05.as_ref().ok_or_else(|| {
        Box::new(Verdict::new(
            gate,
            Status::Precondition,
            format!("profile {} has no [phase05] section", profile.name),
        ))
    })
}

/// PRECONDITION for keys the gate reads that the output does not hold (R2), each
/// named with the command it was missing from.
fn missing_options(
    gate: &GateSpec,
    missing: &[(String, MissingKey)],
    evidence: Vec<Evidence>,
) -> Verdict {
    let paths: Vec<String> = missing
        .iter()
        .map(|(cmd, k)| format!("{cmd}: {}", k.path))
        .collect();
    let mut evidence = evidence;
    evidence.extend(paths.iter().map(|p| {
        Evidence::new(
            Mark::Missing,
            p.clone(),
            "key",
            "absent from the CLI output",
        )
        .expected("present: the deployed charm revision must define this option (R2)")
    }));
    Verdict::new(
        gate,
        Status::Precondition,
        format!(
            "{} key(s) the gate reads are missing: {}",
            paths.len(),
            paths.join(", ")
        ),
    )
    .with_evidence(evidence)
}

fn gate_config(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let p5 = match phase05(gate, profile) {
        Ok(p) => p,
        Err(v) => return *v,
    };
    let retrofit = read_or_precondition!(gate, snapshot.juju_config(&profile.model, &p5.retrofit));
    let octavia_tag = read_or_precondition!(
        gate,
        snapshot.juju_config_value(&profile.model, &p5.octavia, AMP_IMAGE_TAG)
    );
    let retrofit_cmd = format!("juju config {}", p5.retrofit);
    let mut missing = Vec::new();
    let mut setting = |key: &'static KeyPath| match retrofit.setting(key) {
        Ok(s) => Some(s),
        Err(k) => {
            missing.push((retrofit_cmd.clone(), k));
            None
        }
    };
    let internal = setting(&juju::RETROFIT_USE_INTERNAL_ENDPOINTS);
    let format = setting(&juju::RETROFIT_IMAGE_FORMAT);
    let tag = setting(&juju::RETROFIT_AMP_IMAGE_TAG);
    let octavia_tag = match octavia_tag {
        Presence::Present(t) => Some(t),
        Presence::Absent { .. } => {
            missing.push((
                format!("juju config {}", p5.octavia),
                juju::OCTAVIA_AMP_IMAGE_TAG.missing(),
            ));
            None
        }
    };
    let (Some(internal), Some(format), Some(tag), Some(octavia_tag)) =
        (internal, format, tag, octavia_tag)
    else {
        return missing_options(gate, &missing, Vec::new());
    };
    let subject = format!("application {}", p5.retrofit);
    let mut checks = Vec::new();
    let internal_ok = internal.value == Some(serde_json::Value::Bool(p5.use_internal_endpoints));
    checks.push((
        internal_ok,
        Evidence::new(
            mark(internal_ok),
            subject.clone(),
            "use-internal-endpoints",
            internal.shown(),
        )
        .expected(format!(
            "{} (reach glance on its internal endpoint: LP#1937003, DOCFIX-049)",
            p5.use_internal_endpoints
        )),
    ));
    let format_ok = string_value_is(&format.value, &p5.image_format);
    checks.push((
        format_ok,
        Evidence::new(
            mark(format_ok),
            subject.clone(),
            "image-format",
            format.shown(),
        )
        .expected(format!("{} (Ceph RBD-backed glance)", p5.image_format)),
    ));
    let tag_ok = !octavia_tag.is_empty() && string_value_is(&tag.value, octavia_tag);
    checks.push((
        tag_ok,
        Evidence::new(mark(tag_ok), subject, AMP_IMAGE_TAG, tag.shown()).expected(format!(
            "{} (octavia amp-image-tag, which octavia boots amphorae by)",
            if octavia_tag.is_empty() {
                "a non-empty tag equal to octavia's; octavia's is unset"
            } else {
                octavia_tag
            }
        )),
    ));
    checks_verdict(
        gate,
        checks,
        format!(
            "{} uses internal endpoints, uploads {} and tags {}, octavia's amp-image-tag",
            p5.retrofit, p5.image_format, octavia_tag
        ),
        "retrofit option(s) off",
    )
}

fn string_value_is(value: &Option<serde_json::Value>, want: &str) -> bool {
    matches!(value, Some(serde_json::Value::String(s)) if s == want)
}

fn mark(ok: bool) -> Mark {
    if ok { Mark::Ok } else { Mark::Bad }
}

/// One lb-mgmt resource as `show` found it.
struct LbResource {
    subject: String,
    /// `None` when present; the CLI's words when absent.
    absent: Option<String>,
    id: Option<String>,
}

/// The three lb-mgmt resources, and the subnet's CIDR when it is there.
struct LbMgmt {
    resources: Vec<LbResource>,
    subnet_cidr: Option<String>,
}

fn lb_mgmt(gate: &GateSpec, snapshot: &Snapshot, p5: &Phase05) -> Result<LbMgmt, Box<Verdict>> {
    let unreadable = |e| Box::new(Verdict::unreadable(gate, &e));
    let net = snapshot
        .openstack_network(&p5.lb_mgmt_network)
        .map_err(unreadable)?;
    let sub = snapshot
        .openstack_subnet(&p5.lb_mgmt_subnet)
        .map_err(unreadable)?;
    let sg = snapshot
        .openstack_security_group(&p5.lb_mgmt_security_group)
        .map_err(unreadable)?;
    fn item<T>(subject: String, found: &Presence<T>, id: impl Fn(&T) -> String) -> LbResource {
        match found {
            Presence::Present(t) => LbResource {
                subject,
                absent: None,
                id: Some(id(t)),
            },
            Presence::Absent { message } => LbResource {
                subject,
                absent: Some(message.clone()),
                id: None,
            },
        }
    }
    Ok(LbMgmt {
        resources: vec![
            item(format!("network {}", p5.lb_mgmt_network), net, |n| {
                n.id.clone()
            }),
            item(format!("subnet {}", p5.lb_mgmt_subnet), sub, |s| {
                format!("{}, cidr {}", s.id, s.cidr)
            }),
            item(
                format!("security group {}", p5.lb_mgmt_security_group),
                sg,
                |g| g.id.clone(),
            ),
        ],
        subnet_cidr: sub.present().map(|s| s.cidr.clone()),
    })
}

fn gate_pre(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let p5 = match phase05(gate, profile) {
        Ok(p) => p,
        Err(v) => return *v,
    };
    let status = read_or_precondition!(gate, snapshot.juju_status(&profile.model));
    let lb = match lb_mgmt(gate, snapshot, p5) {
        Ok(l) => l,
        Err(v) => return *v,
    };
    let units = octavia_units(status.units_of(&p5.octavia));
    let mut missing = Vec::new();
    let mut seen = Vec::new();
    for unit in &units {
        match unit.workload() {
            Ok(w) => seen.push((unit, w, awaiting_state(p5, unit.unit.leader, w))),
            Err(k) => missing.push(k),
        }
    }
    let awaiting = seen
        .iter()
        .filter(|(_, _, s)| matches!(s, Awaiting::Yes))
        .count();
    let active = seen
        .iter()
        .filter(|(_, w, _)| w.current() == "active")
        .count();
    let all_active = !seen.is_empty() && active == seen.len();
    let mut evidence: Vec<Evidence> = seen
        .iter()
        .map(|(unit, w, state)| {
            let line = Evidence::new(
                Mark::Info,
                format!("unit {}", unit.name),
                "workload-status",
                status_text(w.current(), w.message()),
            );
            if all_active {
                return line;
            }
            let expected = format!(
                "blocked \"{}\", the whole message: the {} form of charm-octavia states_to_check",
                awaiting_message(p5, unit.unit.leader),
                if unit.unit.leader {
                    "leader's"
                } else {
                    "non-leader's"
                }
            );
            match state {
                Awaiting::Yes => Evidence {
                    mark: Mark::Ok,
                    ..line
                }
                .expected(expected),
                Awaiting::No(why) => Evidence {
                    mark: Mark::Bad,
                    ..line
                }
                .expected(format!("{expected}; {why}")),
            }
        })
        .collect();
    if !missing.is_empty() {
        return Verdict::missing_keys(gate, &missing, evidence);
    }
    let n = units.len();
    if n == 0 {
        return Verdict::new(
            gate,
            Status::Hold,
            format!(
                "no {} unit in model {}: nothing to configure",
                p5.octavia, profile.model
            ),
        )
        .with_evidence(evidence);
    }
    if active == n {
        evidence.extend(
            lb.resources
                .iter()
                .map(|r| Evidence::new(Mark::Info, r.subject.clone(), "presence", presence(r))),
        );
        return Verdict::new(
            gate,
            Status::Skip,
            format!(
                "{n}/{n} {} unit(s) active: configure-resources has run; P05-POST checks its result",
                p5.octavia
            ),
        )
        .with_outcome("ALREADY-CONFIGURED")
        .with_evidence(evidence);
    }
    if awaiting < n {
        return Verdict::new(
            gate,
            Status::Hold,
            format!(
                "{awaiting}/{n} {} unit(s) blocked awaiting configure-resources: not the state the action expects",
                p5.octavia
            ),
        )
        .with_evidence(evidence);
    }
    let present: Vec<&str> = lb
        .resources
        .iter()
        .filter(|r| r.absent.is_none())
        .map(|r| r.subject.as_str())
        .collect();
    evidence.extend(lb.resources.iter().map(|r| {
        Evidence::new(
            if r.absent.is_some() {
                Mark::Ok
            } else {
                Mark::Bad
            },
            r.subject.clone(),
            "presence",
            presence(r),
        )
        .expected("absent (configure-resources creates it)")
    }));
    if present.is_empty() {
        Verdict::new(
            gate,
            Status::Proceed,
            format!(
                "{n}/{n} {} unit(s) blocked awaiting configure-resources, lb-mgmt resources absent: run configure-resources",
                p5.octavia
            ),
        )
        .with_evidence(evidence)
    } else {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "anomaly: {} blocked awaiting configure-resources but {} already present (a half-run action or another cycle's leftovers); investigate before running it",
                p5.octavia,
                present.join(", ")
            ),
        )
        .with_outcome("ANOMALY")
        .with_evidence(evidence)
    }
}

/// Whether an octavia unit is in the state configure-resources expects.
enum Awaiting {
    Yes,
    /// Why not, for the evidence line.
    No(String),
}

/// The awaiting message of a unit's role: the leader's names the action.
fn awaiting_message(p5: &Phase05, leader: bool) -> &str {
    if leader {
        &p5.awaiting_leader_message
    } else {
        &p5.awaiting_non_leader_message
    }
}

/// A unit awaits configure-resources when it is blocked with its role's message, whole
/// (issue 8: a prefix match took "Awaiting ..., Missing required certificate
/// configuration, please examine documentation" for it and let P05-PRE PROCEED).
fn awaiting_state(p5: &Phase05, leader: bool, workload: StatusRead<'_>) -> Awaiting {
    let message = workload.message();
    let state = charms::match_state(message, awaiting_message(p5, leader));
    if workload.current() == "blocked" && state.holds() {
        return Awaiting::Yes;
    }
    if workload.current() != "blocked" {
        return Awaiting::No(format!("{} is not blocked", workload.current()));
    }
    // The other role's form: juju's `leader` and the charm's last status disagree
    // (a leadership change the charm has not reported yet).
    if charms::match_state(message, awaiting_message(p5, !leader)).holds() {
        return Awaiting::No(format!(
            "that is the {} form, and juju status says this unit is {}the leader",
            if leader { "non-leader's" } else { "leader's" },
            if leader { "" } else { "not " }
        ));
    }
    Awaiting::No(
        state
            .why_not()
            .unwrap_or("not the expected state")
            .to_string(),
    )
}

fn presence(r: &LbResource) -> String {
    match (&r.absent, &r.id) {
        (Some(message), _) => format!("absent ({message})"),
        (None, Some(id)) => format!("present (id {id})"),
        (None, None) => "present".to_string(),
    }
}

/// The control plane as P05-POST sees it: one line per check, and whether each holds.
fn control_plane(
    gate: &GateSpec,
    snapshot: &Snapshot,
    profile: &Profile,
    p5: &Phase05,
) -> Result<Vec<(bool, Evidence)>, Box<Verdict>> {
    let status = snapshot
        .juju_status(&profile.model)
        .map_err(|e| Box::new(Verdict::unreadable(gate, &e)))?;
    let lb = lb_mgmt(gate, snapshot, p5)?;
    let units = octavia_units(status.units_of(&p5.octavia));
    let mut checks = Vec::new();
    let mut missing = Vec::new();
    if units.is_empty() {
        checks.push((
            false,
            Evidence::new(
                Mark::Bad,
                format!("application {}", p5.octavia),
                "units",
                "none in the model",
            )
            .expected("at least one, active"),
        ));
    }
    for unit in &units {
        match unit.workload() {
            Ok(w) => {
                let ok = w.current() == "active";
                checks.push((
                    ok,
                    Evidence::new(
                        mark(ok),
                        format!("unit {}", unit.name),
                        "workload-status",
                        status_text(w.current(), w.message()),
                    )
                    .expected("active"),
                ));
            }
            Err(k) => missing.push(k),
        }
    }
    if !missing.is_empty() {
        return Err(Box::new(Verdict::missing_keys(gate, &missing, Vec::new())));
    }
    for r in &lb.resources {
        let ok = r.absent.is_none();
        checks.push((
            ok,
            Evidence::new(mark(ok), r.subject.clone(), "presence", presence(r)).expected("present"),
        ));
    }
    let subnet_cidr = lb
        .subnet_cidr
        .as_deref()
        .and_then(|c| c.parse::<Ipv6Net>().ok());
    for unit in &units {
        let link = snapshot
            .ip_link(&profile.model, unit.name, &p5.mgmt_interface)
            .map_err(|e| Box::new(Verdict::unreadable(gate, &e)))?;
        checks.extend(mgmt_interface_checks(unit.name, link, p5, subnet_cidr));
    }
    Ok(checks)
}

fn mgmt_interface_checks(
    unit: &str,
    link: &Presence<crate::sources::iproute::IpLink>,
    p5: &Phase05,
    subnet: Option<Ipv6Net>,
) -> Vec<(bool, Evidence)> {
    let subject = format!("unit {unit} {}", p5.mgmt_interface);
    let link = match link {
        Presence::Present(l) => l,
        Presence::Absent { message } => {
            return vec![(
                false,
                Evidence::new(
                    Mark::Bad,
                    subject,
                    "presence",
                    format!("absent ({message})"),
                )
                .expected("present"),
            )];
        }
    };
    // R5: an OVS internal port has no carrier to report; UNKNOWN is healthy.
    let state_ok = matches!(link.operstate.as_str(), "UP" | "UNKNOWN");
    let in_prefix =
        |a: &Ipv6Addr| p5.mgmt_prefix.contains(a) && subnet.is_none_or(|s| s.contains(a));
    let ula: Vec<String> = link
        .global_inet6()
        .filter(|(a, _)| in_prefix(a))
        .map(|(a, len)| format!("{a}/{len}"))
        .collect();
    let addresses = link.addresses();
    vec![
        (
            state_ok,
            Evidence::new(
                mark(state_ok),
                subject.clone(),
                "operstate",
                link.operstate.clone(),
            )
            .expected("UP or UNKNOWN (an OVS internal port reports UNKNOWN: R5)"),
        ),
        (
            !ula.is_empty(),
            Evidence::new(
                mark(!ula.is_empty()),
                subject,
                "address",
                if addresses.is_empty() {
                    "(none)".to_string()
                } else {
                    addresses.join(" ")
                },
            )
            .expected(match subnet {
                Some(s) => format!(
                    "a global address in {} within {s} (lb-mgmt subnet)",
                    p5.mgmt_prefix
                ),
                None => format!("a global address in {}", p5.mgmt_prefix),
            }),
        ),
    ]
}

fn gate_post(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let p5 = match phase05(gate, profile) {
        Ok(p) => p,
        Err(v) => return *v,
    };
    let checks = match control_plane(gate, snapshot, profile, p5) {
        Ok(c) => c,
        Err(v) => return *v,
    };
    checks_verdict(
        gate,
        checks,
        format!(
            "{} active; {}, {}, {} present; {} up with its ULA on every unit",
            p5.octavia,
            p5.lb_mgmt_network,
            p5.lb_mgmt_subnet,
            p5.lb_mgmt_security_group,
            p5.mgmt_interface
        ),
        "control-plane check(s) off",
    )
}

fn gate_amphora(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let p5 = match phase05(gate, profile) {
        Ok(p) => p,
        Err(v) => return *v,
    };
    let tag = &p5.amp_image_tag;
    let octavia_tag = read_or_precondition!(
        gate,
        snapshot.juju_config_value(&profile.model, &p5.octavia, AMP_IMAGE_TAG)
    );
    let rows = read_or_precondition!(gate, snapshot.openstack_images(tag));
    let Presence::Present(octavia_tag) = octavia_tag else {
        let missing = [(
            format!("juju config {}", p5.octavia),
            juju::OCTAVIA_AMP_IMAGE_TAG.missing(),
        )];
        return missing_options(gate, &missing, Vec::new());
    };
    let mut evidence = Vec::new();
    let tag_ok = octavia_tag == tag;
    evidence.push(
        Evidence::new(
            mark(tag_ok),
            format!("application {}", p5.octavia),
            AMP_IMAGE_TAG,
            if octavia_tag.is_empty() {
                "(unset)".to_string()
            } else {
                octavia_tag.clone()
            },
        )
        .expected(tag.clone()),
    );
    let mut active = Vec::new();
    for row in rows {
        let shown = read_or_precondition!(gate, snapshot.openstack_image(&row.id));
        let subject = format!("image {} ({})", row.name, row.id);
        match shown {
            Presence::Present(image) => {
                let ok = image.status == "active" && image.tags.iter().any(|t| t == tag);
                if ok {
                    active.push(subject.clone());
                }
                evidence.push(
                    Evidence::new(
                        mark(ok),
                        subject,
                        "status, tags, disk_format",
                        format!(
                            "{}; tags {}; {}",
                            image.status,
                            image.tags.join(", "),
                            image.disk_format.as_deref().unwrap_or("(no disk_format)")
                        ),
                    )
                    .expected(format!("active, tagged {tag}")),
                );
            }
            Presence::Absent { message } => evidence.push(
                Evidence::new(
                    Mark::Bad,
                    subject,
                    "presence",
                    format!("gone since the list ({message})"),
                )
                .expected("present"),
            ),
        }
    }
    let tagged = rows.len();
    let n = active.len();
    let verdict = if !tag_ok {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "octavia boots amphorae tagged {}, the profile's amphora tag is {tag}",
                if octavia_tag.is_empty() {
                    "(unset)"
                } else {
                    octavia_tag.as_str()
                }
            ),
        )
    } else if n == 1 {
        Verdict::new(
            gate,
            Status::Pass,
            format!("exactly one ACTIVE image tagged {tag}: {}", active[0]),
        )
    } else if n > 1 {
        for line in evidence
            .iter_mut()
            .filter(|e| e.mark == Mark::Ok && e.subject.starts_with("image "))
        {
            line.mark = Mark::Bad;
        }
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "{n} ACTIVE images tagged {tag}: octavia picks one among them; exactly one expected"
            ),
        )
    } else if tagged > 0 {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "no ACTIVE image tagged {tag}: {tagged} tagged image(s), none active (a half-run upload?)"
            ),
        )
    } else {
        let checks = match control_plane(gate, snapshot, profile, p5) {
            Ok(c) => c,
            Err(v) => return *v,
        };
        let up = checks.iter().all(|(ok, _)| *ok);
        evidence.extend(checks.into_iter().map(|(_, e)| e));
        if up {
            Verdict::new(
                gate,
                Status::Proceed,
                format!("control plane up, no image tagged {tag}: run the amphora pipeline"),
            )
            .with_outcome("CONTROL-PLANE-DONE")
        } else {
            Verdict::new(
                gate,
                Status::Fail,
                format!("no image tagged {tag} and the control plane is not up (P05-POST)"),
            )
        }
    };
    verdict
        .with_evidence(evidence)
        .metric("tagged", tagged as u64)
        .metric("active_tagged", n as u64)
}
