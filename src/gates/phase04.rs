//! Phase 04 (provider network) gates, seed 004: the MAAS provider plane found by CIDR
//! before `provider-ext` is created (DOCFIX-047: never `subnet read 1`), and the
//! network and its floating-IP subnet as Neutron shows them afterwards. Absence of the
//! network is decided by `show`'s exit status and message (R3).

use std::net::Ipv4Addr;

use super::substrate::{compare, maas_profile, maas_site, shown, subnet_for};
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::{Phase04, Plane, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::Presence;
use crate::sources::openstack::{AllocationPool, Network, Subnet};

pub(super) static GATES: [GateSpec; 2] = [
    GateSpec {
        id: "P04-PRE",
        phase: "04",
        tags: &["read-only"],
        description: "MAAS provider subnet found by CIDR (any id) with the plane's gateway and the FIP pool reserved on it; PROCEED to create provider-ext while it is absent",
        reads: |p| {
            let Some(p4) = &p.phase04 else {
                return Vec::new();
            };
            let maas = maas_profile(p);
            vec![
                Read::MaasSubnets {
                    profile: maas.clone(),
                },
                Read::MaasIpRanges { profile: maas },
                Read::OpenstackNetwork {
                    name: p4.network.clone(),
                },
            ]
        },
        follow_up: None,
        evaluate: gate_pre,
        from_parts: None,
    },
    GateSpec {
        id: "P04-POST",
        phase: "04",
        tags: &["read-only"],
        description: "provider-ext external, flat, physnet1, not shared; provider-ext-fip on it with the plane's CIDR and gateway, DHCP off, exactly the FIP pool (either JSON shape), tag role=provider",
        reads: |p| {
            let Some(p4) = &p.phase04 else {
                return Vec::new();
            };
            vec![
                Read::OpenstackNetwork {
                    name: p4.network.clone(),
                },
                Read::OpenstackSubnet {
                    name: p4.subnet.clone(),
                },
            ]
        },
        follow_up: None,
        evaluate: gate_post,
        from_parts: None,
    },
];

/// The profile's phase-04 section and its provider plane, or the PRECONDITION verdict.
fn phase04<'p>(
    gate: &GateSpec,
    profile: &'p Profile,
) -> Result<(&'p Phase04, &'p Plane), Box<Verdict>> {
    let missing = |what: String| {
        Box::new(Verdict::new(
            gate,
            Status::Precondition,
            format!("profile {}: {what}", profile.name),
        ))
    };
    let p4 = profile
        .phase04
        .as_ref()
        .ok_or_else(|| missing("has no [phase04] section".into()))?;
    let plane = profile
        .plane(&p4.provider_plane)
        .ok_or_else(|| missing(format!("names no plane {}", p4.provider_plane)))?;
    Ok((p4, plane))
}

fn fip_pool(p4: &Phase04) -> String {
    format!("{}-{}", p4.fip_start, p4.fip_end)
}

fn gate_pre(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let (p4, plane) = match phase04(gate, profile) {
        Ok(x) => x,
        Err(v) => return *v,
    };
    let maas = maas_profile(profile);
    let subnets = read_or_precondition!(gate, snapshot.maas_subnets(&maas));
    let ranges = read_or_precondition!(gate, snapshot.maas_ipranges(&maas));
    let network = read_or_precondition!(gate, snapshot.openstack_network(&p4.network));
    let mut evidence = Vec::new();
    let subject = format!("plane {} {}", plane.name, plane.cidr);
    let Some(subnet) = subnet_for(subnets, plane) else {
        evidence.push(
            Evidence::new(
                Mark::Bad,
                subject,
                "MAAS subnet",
                "no subnet with this CIDR",
            )
            .expected("present (found by CIDR, any id: DOCFIX-047)"),
        );
        return Verdict::new(
            gate,
            Status::Fail,
            format!("provider subnet {} absent from MAAS", plane.cidr),
        )
        .with_evidence(evidence);
    };
    evidence.push(Evidence::new(
        Mark::Info,
        subject.clone(),
        "MAAS subnet id (this cycle)",
        subnet.id.to_string(),
    ));
    let (gateway_ok, e) = compare(
        &subject,
        "gateway_ip",
        &shown(subnet.gateway_ip.as_deref()),
        &shown(plane.gateway.map(|g| g.to_string()).as_deref()),
    );
    evidence.push(e);
    let on_subnet: Vec<_> = ranges
        .iter()
        .filter(|r| r.subnet.cidr == subnet.cidr)
        .collect();
    let want = fip_pool(p4);
    let reserved = on_subnet.iter().any(|r| {
        r.range_type == "reserved"
            && r.start_ip.parse::<Ipv4Addr>().ok() == Some(p4.fip_start)
            && r.end_ip.parse::<Ipv4Addr>().ok() == Some(p4.fip_end)
    });
    let held: Vec<String> = on_subnet
        .iter()
        .map(|r| format!("{} {}-{}", r.range_type, r.start_ip, r.end_ip))
        .collect();
    evidence.push(
        Evidence::new(
            if reserved { Mark::Ok } else { Mark::Bad },
            subject.clone(),
            "FIP pool",
            if reserved {
                format!("reserved {want}")
            } else if held.is_empty() {
                "no range on this subnet".to_string()
            } else {
                format!("not reserved; ranges held: {}", held.join(", "))
            },
        )
        .expected(format!("reserved {want}")),
    );
    if !(gateway_ok && reserved) {
        let mut wrong = Vec::new();
        if !gateway_ok {
            wrong.push("gateway");
        }
        if !reserved {
            wrong.push("FIP pool not reserved");
        }
        return Verdict::new(
            gate,
            Status::Fail,
            format!(
                "provider plane {} not ready: {}",
                plane.cidr,
                wrong.join(", ")
            ),
        )
        .with_evidence(evidence);
    }
    match network {
        Presence::Absent { message } => {
            evidence.push(Evidence::new(
                Mark::Info,
                format!("network {}", p4.network),
                "openstack network show",
                format!("absent ({message})"),
            ));
            Verdict::new(
                gate,
                Status::Proceed,
                format!(
                    "provider subnet {} (MAAS id {}) gateway {} with {want} reserved; {} absent: create it",
                    plane.cidr,
                    subnet.id,
                    shown(subnet.gateway_ip.as_deref()),
                    p4.network
                ),
            )
            .with_evidence(evidence)
        }
        Presence::Present(net) => {
            evidence.push(Evidence::new(
                Mark::Info,
                format!("network {}", p4.network),
                "openstack network show",
                format!("present (id {}): P04-POST checks it", net.id),
            ));
            Verdict::new(
                gate,
                Status::Pass,
                format!(
                    "provider subnet {} (MAAS id {}) gateway {} with {want} reserved; {} already created",
                    plane.cidr,
                    subnet.id,
                    shown(subnet.gateway_ip.as_deref()),
                    p4.network
                ),
            )
            .with_evidence(evidence)
        }
    }
}

fn gate_post(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let (p4, plane) = match phase04(gate, profile) {
        Ok(x) => x,
        Err(v) => return *v,
    };
    let network = read_or_precondition!(gate, snapshot.openstack_network(&p4.network));
    let subnet = read_or_precondition!(gate, snapshot.openstack_subnet(&p4.subnet));
    let mut checks: Vec<(bool, Evidence)> = Vec::new();
    match network {
        Presence::Present(net) => checks.extend(network_checks(net, p4)),
        Presence::Absent { message } => {
            checks.push(absent(&format!("network {}", p4.network), message))
        }
    }
    match subnet {
        Presence::Present(sub) => checks.extend(subnet_checks(sub, network.present(), p4, plane)),
        Presence::Absent { message } => {
            checks.push(absent(&format!("subnet {}", p4.subnet), message))
        }
    }
    checks_verdict(
        gate,
        checks,
        format!(
            "{} external {} on {}, not shared; {} {} gateway {} DHCP off, pool {} only, tagged {}",
            p4.network,
            p4.network_type,
            p4.physical_network,
            p4.subnet,
            plane.cidr,
            shown(plane.gateway.map(|g| g.to_string()).as_deref()),
            fip_pool(p4),
            p4.subnet_tag
        ),
        "check(s) off",
    )
}

/// PASS with `pass_summary` when every check holds, else FAIL naming each check that
/// does not (`<subject> <property>`), after `what`; every check is an evidence line.
pub(super) fn checks_verdict(
    gate: &GateSpec,
    checks: Vec<(bool, Evidence)>,
    pass_summary: String,
    what: &str,
) -> Verdict {
    let bad: Vec<String> = checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, e)| format!("{} {}", e.subject, e.property))
        .collect();
    let evidence = checks.into_iter().map(|(_, e)| e).collect();
    let (status, summary) = if bad.is_empty() {
        (Status::Pass, pass_summary)
    } else {
        (
            Status::Fail,
            format!("{} {what}: {}", bad.len(), bad.join(", ")),
        )
    };
    Verdict::new(gate, status, summary).with_evidence(evidence)
}

fn absent(subject: &str, message: &str) -> (bool, Evidence) {
    (
        false,
        Evidence::new(
            Mark::Bad,
            subject,
            "presence",
            format!("absent ({message})"),
        )
        .expected("present"),
    )
}

fn network_checks(net: &Network, p4: &Phase04) -> Vec<(bool, Evidence)> {
    let subject = format!("network {}", p4.network);
    let bool_text = |b: bool| if b { "true" } else { "false" };
    vec![
        compare(
            &subject,
            "router:external",
            bool_text(net.router_external),
            "true",
        ),
        compare(
            &subject,
            "provider:network_type",
            &shown(net.network_type.as_deref()),
            &p4.network_type,
        ),
        compare(
            &subject,
            "provider:physical_network",
            &shown(net.physical_network.as_deref()),
            &p4.physical_network,
        ),
        compare(&subject, "shared", bool_text(net.shared), "false"),
    ]
}

fn subnet_checks(
    sub: &Subnet,
    net: Option<&Network>,
    p4: &Phase04,
    plane: &Plane,
) -> Vec<(bool, Evidence)> {
    let subject = format!("subnet {}", p4.subnet);
    let mut checks = Vec::new();
    // Identity (R4): the subnet hangs off this network, not one with a similar name.
    if let Some(net) = net {
        let ok = sub.network_id == net.id;
        checks.push((
            ok,
            Evidence::new(
                if ok { Mark::Ok } else { Mark::Bad },
                subject.clone(),
                "network_id",
                sub.network_id.clone(),
            )
            .expected(format!("{} ({})", net.id, p4.network)),
        ));
    }
    let cidr_ok = sub
        .cidr
        .parse::<ipnet::Ipv4Net>()
        .is_ok_and(|c| c == plane.cidr);
    checks.push((
        cidr_ok,
        Evidence::new(
            if cidr_ok { Mark::Ok } else { Mark::Bad },
            subject.clone(),
            "cidr",
            sub.cidr.clone(),
        )
        .expected(plane.cidr.to_string()),
    ));
    checks.push(compare(
        &subject,
        "gateway_ip",
        &shown(sub.gateway_ip.as_deref()),
        &shown(plane.gateway.map(|g| g.to_string()).as_deref()),
    ));
    checks.push(compare(
        &subject,
        "enable_dhcp",
        if sub.enable_dhcp { "true" } else { "false" },
        "false",
    ));
    let want = AllocationPool {
        start: p4.fip_start.to_string(),
        end: p4.fip_end.to_string(),
    };
    let pools_ok = sub.allocation_pools.len() == 1 && same_pool(&sub.allocation_pools[0], &want);
    let pools: Vec<String> = sub
        .allocation_pools
        .iter()
        .map(ToString::to_string)
        .collect();
    checks.push((
        pools_ok,
        Evidence::new(
            if pools_ok { Mark::Ok } else { Mark::Bad },
            subject.clone(),
            "allocation_pools",
            if pools.is_empty() {
                "(none)".to_string()
            } else {
                pools.join(",")
            },
        )
        .expected(format!("exactly {want}")),
    ));
    let tagged = sub.tags.iter().any(|t| t == &p4.subnet_tag);
    checks.push((
        tagged,
        Evidence::new(
            if tagged { Mark::Ok } else { Mark::Bad },
            subject,
            "tags",
            if sub.tags.is_empty() {
                "(none)".to_string()
            } else {
                sub.tags.join(", ")
            },
        )
        .expected(format!("includes {}", p4.subnet_tag)),
    ));
    checks
}

/// Pools compare as addresses, whichever JSON shape or spacing carried them.
fn same_pool(a: &AllocationPool, b: &AllocationPool) -> bool {
    let addr = |s: &str| s.trim().parse::<std::net::IpAddr>().ok();
    addr(&a.start).is_some() && addr(&a.start) == addr(&b.start) && addr(&a.end) == addr(&b.end)
}
