//! Phase 00 (teardown and MAAS reset) gates: routing, spaces, standup drift and
//! re-enrollment, resolved by CIDR and hostname (seeds 000, 002, 003, 004).

use std::net::Ipv4Addr;

use super::substrate::{
    all_good, compare, joined, maas_profile, maas_site, machine, machines_read, plane_checks,
    shown, subnet_for,
};
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};

pub(super) static GATES: [GateSpec; 4] = [
    GateSpec {
        id: "P00-ROUTE",
        phase: "00",
        tags: &["read-only"],
        description: "route from (openstack model present?, hosts Ready): CLEAN / DIRTY / PARTIAL / ANOMALY-DESTROYING / ANOMALY-NOT-READY",
        reads: |p| {
            let mut r = machines_read(p);
            r.push(Read::JujuModels);
            r
        },
        follow_up: None,
        evaluate: gate_route,
        from_parts: None,
    },
    GateSpec {
        id: "P00-SPACES",
        phase: "00",
        tags: &["read-only"],
        description: "the six spaces exist, each holding its plane's CIDR (hard blocker)",
        reads: |p| {
            vec![Read::MaasSpaces {
                profile: maas_profile(p),
            }]
        },
        follow_up: None,
        evaluate: gate_spaces,
        from_parts: None,
    },
    GateSpec {
        id: "P00-STANDUP",
        phase: "00",
        tags: &["read-only"],
        description: "MAAS topology matches the profile: space, VID, gateway, DNS, reserved ranges per CIDR; one DRIFT line per mismatch, any DRIFT a hard stop",
        reads: |p| {
            let profile = maas_profile(p);
            vec![
                Read::MaasSubnets {
                    profile: profile.clone(),
                },
                Read::MaasIpRanges { profile },
            ]
        },
        follow_up: None,
        evaluate: gate_standup,
        from_parts: None,
    },
    GateSpec {
        id: "P00-REENROLL",
        phase: "00",
        tags: &["read-only"],
        description: "hosts Ready with system_ids not seen last cycle, boot NIC on the metal plane, host tag on all",
        reads: |p| {
            let mut r = machines_read(p);
            r.push(Read::MaasSubnets {
                profile: maas_profile(p),
            });
            r
        },
        follow_up: None,
        evaluate: gate_reenroll,
        from_parts: None,
    },
];

fn gate_route(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    // No MAAS profile logged in is PRECONDITION (seed 000): the read error says so.
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas_profile(profile)));
    let models = read_or_precondition!(gate, snapshot.models());
    let mut evidence = Vec::new();
    let model = models.find(&profile.model);
    let present = model.is_some();
    evidence.push(Evidence::new(
        Mark::Info,
        "juju models",
        format!("model {}", profile.model),
        match model {
            Some(m) => format!(
                "present ({}, life {})",
                m.status
                    .as_ref()
                    .and_then(|s| s.current.as_deref())
                    .unwrap_or("status not shown"),
                m.life.as_str()
            ),
            None => "absent".to_string(),
        },
    ));
    let mut ready = 0usize;
    for host in &profile.hosts {
        let state =
            machine(machines, &host.hostname).map_or("not in MAAS", |m| m.status_name.as_str());
        ready += usize::from(state == "Ready");
        evidence.push(Evidence::new(
            Mark::Info,
            format!("host {}", host.hostname),
            "status_name",
            state,
        ));
    }
    let n = profile.hosts.len();
    let (route, status, advice) = match (present, ready) {
        (false, r) if r == n && n > 0 => (
            "CLEAN",
            Status::Pass,
            "cloud already torn down: go to verification",
        ),
        (true, 0) => (
            "DIRTY",
            Status::Proceed,
            "cloud is up: run the teardown in full",
        ),
        (true, r) if r == n => (
            "ANOMALY-DESTROYING",
            Status::Fail,
            "model listed but hosts Ready: model likely still destroying; run the destroying remediation",
        ),
        (false, 0) => (
            "ANOMALY-NOT-READY",
            Status::Fail,
            "no model but no host Ready: another owner or commissioning mid-flight; investigate",
        ),
        _ => (
            "PARTIAL",
            Status::Fail,
            "mixed host states: release loop and verification first",
        ),
    };
    Verdict::new(
        gate,
        status,
        format!(
            "{route}: model {}, {ready}/{n} hosts Ready; {advice}",
            if present { "present" } else { "absent" }
        ),
    )
    .with_outcome(route)
    .with_evidence(evidence)
    .metric("ready", ready as u64)
}

fn gate_spaces(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let spaces = read_or_precondition!(gate, snapshot.maas_spaces(&maas_profile(profile)));
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    for plane in &profile.planes {
        let holder = spaces
            .iter()
            .find(|s| subnet_for(&s.subnets, plane).is_some());
        let ok = holder.is_some_and(|s| s.name == plane.name);
        if !ok {
            missing.push(plane.name.clone());
        }
        evidence.push(
            Evidence::new(
                if ok { Mark::Ok } else { Mark::Bad },
                format!("CIDR {}", plane.cidr),
                "space",
                holder.map_or_else(|| "no space holds it".to_string(), |s| s.name.clone()),
            )
            .expected(plane.name.clone()),
        );
    }
    let n = profile.planes.len();
    if missing.is_empty() && n > 0 {
        Verdict::new(
            gate,
            Status::Pass,
            format!("{n}/{n} spaces present with their CIDRs"),
        )
        .with_evidence(evidence)
    } else {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "hard blocker: {} of {n} spaces missing or holding another CIDR: {}",
                missing.len(),
                missing.join(", ")
            ),
        )
        .with_evidence(evidence)
    }
}

fn gate_standup(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let maas = maas_profile(profile);
    let subnets = read_or_precondition!(gate, snapshot.maas_subnets(&maas));
    let ranges = read_or_precondition!(gate, snapshot.maas_ipranges(&maas));
    let mut evidence = Vec::new();
    let (mut drift_planes, mut absent_planes) = (Vec::new(), Vec::new());
    for plane in &profile.planes {
        let Some(subnet) = subnet_for(subnets, plane) else {
            absent_planes.push(plane.cidr.to_string());
            evidence.push(
                Evidence::new(
                    Mark::Bad,
                    format!("ABSENT {}", plane.cidr),
                    "subnet",
                    "not in MAAS",
                )
                .expected(format!("{} (standup creates it)", plane.name)),
            );
            continue;
        };
        let subject = format!("DRIFT {}", plane.cidr);
        let mut checks = vec![compare(
            &subject,
            "space",
            &shown(subnet.space.as_deref()),
            &plane.name,
        )];
        checks.extend(plane_checks(&subject, subnet, plane));
        for want in &plane.reserved {
            let held = ranges.iter().any(|r| {
                r.range_type == "reserved"
                    && r.subnet.cidr == subnet.cidr
                    && r.start_ip.parse::<Ipv4Addr>().ok() == Some(want.start)
                    && r.end_ip.parse::<Ipv4Addr>().ok() == Some(want.end)
            });
            let range = format!("{}-{}", want.start, want.end);
            checks.push(compare(
                &subject,
                &format!("reserved {}", want.purpose),
                if held { &range } else { "absent" },
                &range,
            ));
        }
        let drifted = checks.iter().any(|(ok, _)| !ok);
        if drifted {
            drift_planes.push(plane.cidr.to_string());
        }
        // Only mismatches are DRIFT lines; matching planes get one ok line.
        if drifted {
            evidence.extend(checks.into_iter().filter(|(ok, _)| !ok).map(|(_, e)| e));
        } else {
            evidence.push(Evidence::new(
                Mark::Ok,
                format!("plane {} {}", plane.name, plane.cidr),
                "standup",
                "matches",
            ));
        }
    }
    let verdict = if drift_planes.is_empty() && absent_planes.is_empty() {
        Verdict::new(
            gate,
            Status::Pass,
            format!("no drift: {} planes match", profile.planes.len()),
        )
    } else {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "hard stop: {} DRIFT plane(s) [{}], {} absent [{}]",
                drift_planes.len(),
                drift_planes.join(", "),
                absent_planes.len(),
                absent_planes.join(", ")
            ),
        )
    };
    verdict
        .with_evidence(evidence)
        .metric("drift_planes", drift_planes.len() as u64)
        .metric("absent_planes", absent_planes.len() as u64)
}

fn gate_reenroll(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match maas_site(gate, profile) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let Some(carve) = &profile.carve else {
        return Verdict::new(
            gate,
            Status::Precondition,
            format!("profile {} has no [carve] section", profile.name),
        );
    };
    let maas = maas_profile(profile);
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas));
    let subnets = read_or_precondition!(gate, snapshot.maas_subnets(&maas));
    let boot_cidr = profile
        .plane(&carve.boot_plane)
        .and_then(|p| subnet_for(subnets, p))
        .map(|s| (s.cidr.clone(), s.vlan.as_ref().map(|v| v.id)));
    let mut evidence = Vec::new();
    let mut good = 0u64;
    for host in &profile.hosts {
        let subject = format!("host {}", host.hostname);
        let Some(m) = machine(machines, &host.hostname) else {
            evidence.push(
                Evidence::new(Mark::Bad, subject, "presence", "not enrolled").expected("Ready"),
            );
            continue;
        };
        let (ready, e) = compare(&subject, "status_name", &m.status_name, "Ready");
        evidence.push(e);
        let fresh = !site.previous_system_ids.contains(&m.system_id);
        evidence.push(
            Evidence::new(
                if fresh { Mark::Ok } else { Mark::Bad },
                subject.clone(),
                "system_id",
                m.system_id.clone(),
            )
            .expected("newly minted (not a previous cycle's id: DOCFIX-040)"),
        );
        let tagged = m.tag_names.contains(&site.host_tag);
        evidence.push(
            Evidence::new(
                if tagged { Mark::Ok } else { Mark::Bad },
                subject.clone(),
                "tag_names",
                joined(&m.tag_names),
            )
            .expected(format!("includes {}", site.host_tag)),
        );
        let boot = m.boot_interface.as_ref();
        let boot_name = boot.map(|b| b.name.as_str()).unwrap_or("(none)");
        let on_plane = match (boot, &boot_cidr) {
            (Some(b), Some((cidr, vlan_id))) => {
                b.links
                    .iter()
                    .any(|l| l.subnet.as_ref().is_some_and(|s| s.cidr == cidr))
                    || (vlan_id.is_some() && b.vlan.as_ref().map(|v| v.id) == *vlan_id)
            }
            _ => false,
        };
        let boot_ok = boot_name == carve.boot_nic && on_plane;
        evidence.push(
            Evidence::new(
                if boot_ok { Mark::Ok } else { Mark::Bad },
                subject,
                "boot_interface",
                format!(
                    "{boot_name}{}",
                    if on_plane {
                        format!(" on {}", carve.boot_plane)
                    } else {
                        " not on the boot plane".to_string()
                    }
                ),
            )
            .expected(format!("{} on {}", carve.boot_nic, carve.boot_plane)),
        );
        good += u64::from(ready && fresh && tagged && boot_ok);
    }
    let n = profile.hosts.len() as u64;
    let status = all_good(good, n);
    Verdict::new(
        gate,
        status,
        format!(
            "{good}/{n} hosts re-enrolled: Ready, fresh system_id, tagged {}, boot NIC on {}",
            site.host_tag, carve.boot_plane
        ),
    )
    .with_evidence(evidence)
    .metric("reenrolled", good)
}
