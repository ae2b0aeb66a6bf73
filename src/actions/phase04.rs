//! Phase-04 action: network-create, seed 004 `phase-04-network-create.sh` (Step 4.1,
//! scripted under D-056): the external provider network `provider-ext` (flat on
//! `physnet1`, not shared) and its floating-IP subnet `provider-ext-fip` (the provider
//! plane's CIDR, the gateway MAAS holds for that CIDR: DOCFIX-047, never a subnet id or
//! a pinned address; DHCP off; exactly the FIP pool MAAS reserves), each skipped when it
//! is there, then P04-POST.
//!
//! Neutron allows two networks of one name (only a second flat network on the same
//! physical network is refused), so "skip when present" is decided here, by name, and a
//! present object is checked: one with other attributes is a refusal naming what
//! differs, never accepted as done.
//!
//! Credentials: the `openstack` commands run with the environment stackgate runs in, as
//! the gates' reads do (`src/sources/openstack.rs`: plain `openstack ... -f json`
//! argvs); the operator sources the admin-openrc phase 03 wrote. The action refuses
//! when that file is absent, and P04-PRE reads PRECONDITION when the client has no
//! credentials (keystoneauth's "Missing value auth-url").

use super::checks::{gate_holds, maas_profile};
use super::plan::{Check, Plan, Step};
use super::wait::Poll;
use super::{Action, ActionArgs, Refusal, need};
use crate::gates::{Status, by_id};
use crate::profile::{Phase04, Plane, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::Presence;
use crate::sources::openstack::{AllocationPool, Network, Subnet};
use crate::sources::secret_files::PathStat;
use crate::sources::unit_exec::ExecHost;

pub static ACTIONS: [Action; 1] = [Action {
    name: "network-create",
    phase: "04",
    description: "Step 4.1: provider-ext (external, flat, physnet1, not shared) and provider-ext-fip (the plane's CIDR, the gateway MAAS holds for it, DHCP off, exactly the FIP pool, tagged), each skipped when present and right; then P04-POST",
    destructive: false,
    guards: "the admin-openrc exists; P04-PRE holds; a present network or subnet has the attributes the runbook gives it",
    takes_host: false,
    reads: network_create_reads,
    follow_up: super::no_follow_up,
    plan: plan_network_create,
}];

fn network_create_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let mut reads = by_id("P04-PRE").map_or_else(Vec::new, |g| (g.reads)(profile));
    if let Some(p4) = &profile.phase04 {
        reads.push(Read::OpenstackSubnet {
            name: p4.subnet.clone(),
        });
    }
    if let Some(openrc) = &profile.openrc {
        reads.push(Read::PathStat {
            host: ExecHost::Local,
            path: openrc.path.clone(),
        });
    }
    reads
}

/// The tag seed 004 put beside `role=provider` on the FIP subnet: the MAAS reserved
/// range it mirrors (the recorded exit state: `netbox-iprange=10.12.5.0-10.12.7.254`).
fn iprange_tag(p4: &Phase04) -> String {
    format!("netbox-iprange={}-{}", p4.fip_start, p4.fip_end)
}

/// What differs between a present network and the runbook's, one phrase each.
fn network_differs(net: &Network, p4: &Phase04) -> Vec<String> {
    let mut off = Vec::new();
    if !net.router_external {
        off.push("router:external is false (want true)".to_string());
    }
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
    if net.network_type.as_deref() != Some(p4.network_type.as_str()) {
        off.push(format!(
            "provider:network_type is {} (want {})",
            shown(&net.network_type),
            p4.network_type
        ));
    }
    if net.physical_network.as_deref() != Some(p4.physical_network.as_str()) {
        off.push(format!(
            "provider:physical_network is {} (want {})",
            shown(&net.physical_network),
            p4.physical_network
        ));
    }
    if net.shared {
        off.push("shared is true (want false)".to_string());
    }
    off
}

/// What differs between a present subnet and the runbook's.
fn subnet_differs(
    sub: &Subnet,
    network_id: Option<&str>,
    p4: &Phase04,
    plane: &Plane,
    gateway: &str,
) -> Vec<String> {
    let mut off = Vec::new();
    match network_id {
        Some(id) if sub.network_id != id => off.push(format!(
            "network_id is {} (want {id}, {})",
            sub.network_id, p4.network
        )),
        None => off.push(format!(
            "it hangs off network {} while {} is absent",
            sub.network_id, p4.network
        )),
        _ => {}
    }
    if sub.cidr.parse::<ipnet::Ipv4Net>().ok() != Some(plane.cidr) {
        off.push(format!("cidr is {} (want {})", sub.cidr, plane.cidr));
    }
    if sub.gateway_ip.as_deref() != Some(gateway) {
        off.push(format!(
            "gateway_ip is {} (want {gateway}, MAAS's for the CIDR)",
            sub.gateway_ip.as_deref().unwrap_or("null")
        ));
    }
    if sub.enable_dhcp {
        off.push("enable_dhcp is true (want false)".to_string());
    }
    let want = AllocationPool {
        start: p4.fip_start.to_string(),
        end: p4.fip_end.to_string(),
    };
    if sub.allocation_pools != [want.clone()] {
        let pools: Vec<String> = sub.allocation_pools.iter().map(|p| p.to_string()).collect();
        off.push(format!(
            "allocation_pools are {} (want exactly {want})",
            if pools.is_empty() {
                "(none)".to_string()
            } else {
                pools.join(",")
            }
        ));
    }
    if !sub.tags.iter().any(|t| t == &p4.subnet_tag) {
        off.push(format!("tags lack {}", p4.subnet_tag));
    }
    off
}

fn refuse_present(what: &str, off: &[String]) -> Refusal {
    Refusal::Guard(format!(
        "{what} exists but is not the runbook's: {}; Neutron keeps it and allows a second of the same name, so nothing is created beside it: fix or delete it by hand, then plan again",
        off.join("; ")
    ))
}

/// After the network create: `network show` finds it with the runbook's attributes.
fn network_made(p4: &Phase04) -> Check {
    let p4 = p4.clone();
    Check::new(
        format!(
            "{} is external, {} on {}, not shared",
            p4.network, p4.network_type, p4.physical_network
        ),
        vec![Read::OpenstackNetwork {
            name: p4.network.clone(),
        }],
        move |snapshot, _| match snapshot.openstack_network(&p4.network) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(Presence::Absent { message }) => Poll::Fail(format!("absent ({message})")),
            Ok(Presence::Present(net)) => {
                let off = network_differs(net, &p4);
                if off.is_empty() {
                    Poll::Pass(format!("{} id {}", p4.network, net.id))
                } else {
                    Poll::Fail(off.join("; "))
                }
            }
        },
    )
}

fn plan_network_create(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let missing = |what: &str| Refusal::Precondition(format!("profile {}: {what}", profile.name));
    let p4 = profile
        .phase04
        .as_ref()
        .ok_or_else(|| missing("has no [phase04] section"))?;
    let plane = profile
        .plane(&p4.provider_plane)
        .ok_or_else(|| missing(&format!("names no plane {}", p4.provider_plane)))?;
    let openrc = profile
        .openrc
        .as_ref()
        .ok_or_else(|| missing("has no [phase03.openrc]: where the admin-openrc is"))?;
    let mut plan = Plan::new("network-create");
    match need(snapshot.path_stat(&ExecHost::Local, &openrc.path))? {
        PathStat::Absent { message } => {
            return Err(Refusal::Guard(format!(
                "no admin-openrc at {} ({message}): phase 03 (admin-openrc) writes it and the operator sources it before the openstack commands run",
                openrc.path
            )));
        }
        present => plan.resolve(
            "admin-openrc",
            format!("{} {}", openrc.path, present.describe()),
        ),
    }
    let pre = by_id("P04-PRE")
        .expect("stackgate bug: no gate P04-PRE")
        .run(snapshot, profile);
    match pre.status {
        Status::Pass | Status::Proceed => {}
        Status::Precondition => {
            return Err(Refusal::Precondition(format!(
                "P04-PRE PRECONDITION: {}",
                pre.summary
            )));
        }
        other => {
            return Err(Refusal::Guard(format!(
                "P04-PRE is {}: {}",
                other.label(),
                pre.summary
            )));
        }
    }
    // DOCFIX-047: the provider subnet by CIDR, whatever its id this cycle, and the
    // gateway it holds (P04-PRE proved it is the plane's).
    let subnets = need(snapshot.maas_subnets(&maas_profile(profile)))?;
    let maas_subnet = crate::resolve::subnet_by_cidr(subnets, plane.cidr)
        .ok_or_else(|| Refusal::Guard(format!("no MAAS subnet has the CIDR {}", plane.cidr)))?;
    let gateway = maas_subnet.gateway_ip.clone().ok_or_else(|| {
        Refusal::Guard(format!(
            "MAAS subnet {} (id {}) has no gateway",
            plane.cidr, maas_subnet.id
        ))
    })?;
    plan.resolve(
        format!(
            "gateway of {} (MAAS subnet id {}, by CIDR)",
            plane.cidr, maas_subnet.id
        ),
        gateway.clone(),
    );
    let pool = format!("{}-{}", p4.fip_start, p4.fip_end);
    plan.resolve("FIP pool (reserved in MAAS)", pool.clone());
    let network = need(snapshot.openstack_network(&p4.network))?;
    let subnet = need(snapshot.openstack_subnet(&p4.subnet))?;
    let network_id = match network {
        Presence::Present(net) => {
            let off = network_differs(net, p4);
            if !off.is_empty() {
                return Err(refuse_present(&format!("network {}", p4.network), &off));
            }
            plan.resolve(
                format!("network {}", p4.network),
                format!("present (id {})", net.id),
            );
            plan.note(format!(
                "{} already exists, external {} on {}, not shared: skipped",
                p4.network, p4.network_type, p4.physical_network
            ));
            Some(net.id.clone())
        }
        Presence::Absent { .. } => {
            plan.resolve(format!("network {}", p4.network), "absent");
            None
        }
    };
    if let Presence::Present(sub) = subnet {
        let off = subnet_differs(sub, network_id.as_deref(), p4, plane, &gateway);
        if !off.is_empty() {
            return Err(refuse_present(&format!("subnet {}", p4.subnet), &off));
        }
        plan.resolve(
            format!("subnet {}", p4.subnet),
            format!("present (id {})", sub.id),
        );
        plan.note(format!(
            "{} already exists on {} with {} gateway {gateway}, DHCP off, pool {pool} only: skipped",
            p4.subnet, p4.network, plane.cidr
        ));
        return Ok(plan);
    }
    plan.resolve(format!("subnet {}", p4.subnet), "absent");
    if network_id.is_none() {
        plan.push(Step::run(
            [
                "openstack",
                "network",
                "create",
                "-f",
                "json",
                "--external",
                "--provider-network-type",
                &p4.network_type,
                "--provider-physical-network",
                &p4.physical_network,
                "--tag",
                &p4.subnet_tag,
                &p4.network,
            ],
            format!(
                "Step 4.1: the external provider network, {} on {}, not shared (Neutron's default)",
                p4.network_type, p4.physical_network
            ),
            network_made(p4),
        ));
    }
    plan.push(Step::run(
        [
            "openstack",
            "subnet",
            "create",
            "-f",
            "json",
            "--network",
            &p4.network,
            "--subnet-range",
            &plane.cidr.to_string(),
            "--gateway",
            &gateway,
            "--no-dhcp",
            "--allocation-pool",
            &format!("start={},end={}", p4.fip_start, p4.fip_end),
            "--tag",
            &p4.subnet_tag,
            "--tag",
            &iprange_tag(p4),
            &p4.subnet,
        ],
        format!(
            "Step 4.1: the floating-IP subnet on {}: {} gateway {gateway} (MAAS's, by CIDR: DOCFIX-047), DHCP off, only the pool MAAS reserves ({pool}), so Neutron never hands out an address MAAS owns",
            p4.network, plane.cidr
        ),
        gate_holds("P04-POST", profile),
    ));
    Ok(plan)
}
