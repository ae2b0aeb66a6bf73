//! Phase 01 (bundle deploy pre-flight) gates over MAAS: planes, nodes and links, all
//! resolved by CIDR and hostname (seed 004 verified-state checkpoint, DOCFIX-039).

use super::substrate::{
    all_good, compare, maas_profile, maas_site, machine, machines_read, plane_checks, shown,
    subnet_for, subnets_read,
};
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::Snapshot;

pub(super) static GATES: [GateSpec; 3] = [
    GateSpec {
        id: "P01-PLANES",
        phase: "01",
        tags: &["read-only"],
        description: "six planes by CIDR with the profile's VID, gateway and DNS (metal-internal VID 103; gateways only on provider and metal-admin)",
        reads: subnets_read,
        follow_up: None,
        evaluate: gate_planes,
        from_parts: None,
    },
    GateSpec {
        id: "P01-NODES",
        phase: "01",
        tags: &["read-only"],
        description: "the profile's hosts (openstack0-3) Ready with power off",
        reads: machines_read,
        follow_up: None,
        evaluate: gate_nodes,
        from_parts: None,
    },
    GateSpec {
        id: "P01-LINKS",
        phase: "01",
        tags: &["read-only"],
        description: "per host octet: br-internal -> .12, enp8s0 -> .16, enp9s0 -> .32, enp10s0 -> .36 STATIC links by CIDR",
        reads: machines_read,
        follow_up: None,
        evaluate: gate_links,
        from_parts: None,
    },
];

fn gate_planes(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let subnets = read_or_precondition!(gate, snapshot.maas_subnets(&maas_profile(profile)));
    let mut evidence = Vec::new();
    let mut bad_planes = Vec::new();
    for plane in &profile.planes {
        let subject = format!("plane {} {}", plane.name, plane.cidr);
        let Some(subnet) = subnet_for(subnets, plane) else {
            evidence
                .push(Evidence::new(Mark::Bad, subject, "subnet", "absent").expected("present"));
            bad_planes.push(plane.name.clone());
            continue;
        };
        let checks = plane_checks(&subject, subnet, plane);
        if checks.iter().any(|(ok, _)| !ok) {
            bad_planes.push(plane.name.clone());
        }
        evidence.extend(checks.into_iter().map(|(_, e)| e));
        evidence.push(Evidence::new(
            Mark::Info,
            format!("plane {}", plane.name),
            "subnet id (this cycle)",
            subnet.id.to_string(),
        ));
    }
    let n = profile.planes.len();
    let status = if bad_planes.is_empty() && n > 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    let summary = if bad_planes.is_empty() {
        format!("{n}/{n} planes match by CIDR")
    } else {
        format!(
            "{} of {n} planes differ: {}",
            bad_planes.len(),
            bad_planes.join(", ")
        )
    };
    Verdict::new(gate, status, summary).with_evidence(evidence)
}

fn gate_nodes(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas_profile(profile)));
    let mut evidence = Vec::new();
    let mut ready = 0u64;
    for host in &profile.hosts {
        let subject = format!("host {}", host.hostname);
        let Some(m) = machine(machines, &host.hostname) else {
            evidence.push(
                Evidence::new(Mark::Bad, subject, "presence", "not in MAAS")
                    .expected("Ready, power off"),
            );
            continue;
        };
        let (status_ok, e1) = compare(&subject, "status_name", &m.status_name, "Ready");
        let (power_ok, e2) = compare(
            &subject,
            "power_state",
            &shown(m.power_state.as_deref()),
            "off",
        );
        ready += u64::from(status_ok && power_ok);
        evidence.push(e1);
        evidence.push(e2);
    }
    let n = profile.hosts.len() as u64;
    let status = all_good(ready, n);
    Verdict::new(
        gate,
        status,
        format!("{ready}/{n} hosts Ready with power off"),
    )
    .with_evidence(evidence)
    .metric("ready", ready)
    .metric("hosts", n)
}

fn gate_links(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let maas = maas_profile(profile);
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let Some(carve) = &profile.carve else {
        return Verdict::new(
            gate,
            Status::Precondition,
            format!("profile {} has no [carve] section", profile.name),
        );
    };
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas));
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0u64, 0u64);
    for host in &profile.hosts {
        let Some(m) = machine(machines, &host.hostname) else {
            evidence.push(
                Evidence::new(
                    Mark::Bad,
                    format!("host {}", host.hostname),
                    "presence",
                    "not in MAAS",
                )
                .expected("present"),
            );
            total += carve.phase01_links.len() as u64;
            continue;
        };
        let interfaces = &m.interface_set;
        for name in &carve.phase01_links {
            total += 1;
            let Some(plane) = carve
                .links
                .iter()
                .find(|l| &l.interface == name)
                .and_then(|l| profile.plane(&l.plane))
            else {
                return Verdict::new(
                    gate,
                    Status::Precondition,
                    format!("profile carve has no plane for {name}"),
                );
            };
            let want = format!(
                "STATIC {} on {}",
                plane.host_address(host.octet),
                plane.cidr
            );
            let subject = format!("host {} {name}", host.hostname);
            let found: Vec<String> = interfaces
                .iter()
                .filter(|i| i.name == name)
                .flat_map(|i| {
                    i.static_links()
                        .map(|(ip, cidr)| format!("STATIC {ip} on {cidr}"))
                })
                .collect();
            let ok = found.iter().any(|f| f == &want);
            good += u64::from(ok);
            let actual = if found.is_empty() {
                "no STATIC link".to_string()
            } else {
                found.join(", ")
            };
            evidence.push(
                Evidence::new(
                    if ok { Mark::Ok } else { Mark::Bad },
                    subject,
                    "link",
                    actual,
                )
                .expected(want),
            );
        }
    }
    let status = all_good(good, total);
    Verdict::new(gate, status, format!("{good}/{total} links by CIDR"))
        .with_evidence(evidence)
        .metric("links_ok", good)
        .metric("links", total)
}
