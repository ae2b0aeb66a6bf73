//! MAAS topology actions of phase 00: `standup` (seed 002 step 7, seed 003 step 4: the
//! planes' gateways, DNS and reserved ranges, only what drifts) and `recidr` (seed 003
//! step 3, D-058: the migrating planes' subnets deleted, reserved ranges first, then
//! recreated on the same VLANs; every delete before any create; refused while live
//! links remain, as MAAS refuses to delete a subnet with addresses in use).

use std::net::Ipv4Addr;

use super::checks::{gate_holds, maas_profile};
use super::plan::{Check, Plan, Step, Target};
use super::wait::Poll;
use super::{Action, ActionArgs, Refusal, need, no_follow_up};
use crate::profile::{Plane, Profile, ReservedRange};
use crate::resolve::subnet_by_cidr;
use crate::snapshot::{Read, Snapshot};
use crate::sources::maas::{IpRange, Subnet};

pub static ACTIONS: [Action; 2] = [
    Action {
        name: "standup",
        phase: "00",
        description: "seed 002 step 7 / 003 step 4: each plane's gateway, DNS and reserved ranges (VIP band, mgmt, provider FIP pool) set where they drift, then P00-STANDUP",
        destructive: false,
        guards: "every plane's subnet exists by CIDR, in its space, with its VID (otherwise the topology itself drifts: recidr or by hand); no range overlapping a wanted one",
        takes_host: false,
        reads: topology_reads,
        follow_up: no_follow_up,
        plan: plan_standup,
    },
    Action {
        name: "recidr",
        phase: "00",
        description: "seed 003 step 3 (D-058): delete each migrating plane's subnet (its reserved ranges first), then recreate the profile's CIDR on the same VLAN; every delete before any create",
        destructive: true,
        guards: "no live address (a node's link or a sticky, user or DHCP record) on a migrating subnet; a plane already on its CIDR is skipped",
        takes_host: false,
        reads: topology_reads,
        follow_up: recidr_follow_up,
        plan: plan_recidr,
    },
];

fn topology_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let maas = maas_profile(profile);
    vec![
        Read::MaasSubnets {
            profile: maas.clone(),
        },
        Read::MaasIpRanges { profile: maas },
    ]
}

fn covers(r: &IpRange, want: &ReservedRange) -> bool {
    r.start_ip.parse::<Ipv4Addr>().ok() == Some(want.start)
        && r.end_ip.parse::<Ipv4Addr>().ok() == Some(want.end)
}

fn overlaps(r: &IpRange, want: &ReservedRange) -> bool {
    match (r.start_ip.parse::<Ipv4Addr>(), r.end_ip.parse::<Ipv4Addr>()) {
        (Ok(s), Ok(e)) => s <= want.end && want.start <= e,
        _ => true,
    }
}

fn subnet_reads(maas: &str) -> Vec<Read> {
    vec![Read::MaasSubnets {
        profile: maas.to_string(),
    }]
}

/// The plane's subnet, read fresh, shows `gateway` and `dns`.
fn subnet_says(maas: &str, plane: &Plane) -> Check {
    let (maas, plane) = (maas.to_string(), plane.clone());
    Check::new(
        format!(
            "{} gateway {} dns {}",
            plane.cidr,
            plane
                .gateway
                .map_or("(none)".to_string(), |g| g.to_string()),
            plane
                .dns
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        subnet_reads(&maas),
        move |snapshot, _| match snapshot.maas_subnets(&maas) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(subnets) => match subnet_by_cidr(subnets, plane.cidr) {
                None => Poll::Fail(format!("no subnet {}", plane.cidr)),
                Some(s) => {
                    let gateway = s.gateway_ip.as_deref().and_then(|g| g.parse().ok());
                    let mut dns: Vec<String> = s.dns_servers.clone();
                    dns.sort();
                    let mut want: Vec<String> = plane.dns.iter().map(ToString::to_string).collect();
                    want.sort();
                    if gateway == plane.gateway && dns == want {
                        Poll::Pass(format!("{} gateway and DNS match", plane.cidr))
                    } else {
                        Poll::Fail(format!(
                            "{} gateway {:?} dns {:?}",
                            plane.cidr, s.gateway_ip, s.dns_servers
                        ))
                    }
                }
            },
        },
    )
}

/// `ipranges read` holds the reserved range.
fn range_held(maas: &str, cidr: ipnet::Ipv4Net, want: &ReservedRange) -> Check {
    let (maas, want) = (maas.to_string(), want.clone());
    Check::new(
        format!(
            "reserved {}-{} ({}) on {cidr}",
            want.start, want.end, want.purpose
        ),
        vec![Read::MaasIpRanges {
            profile: maas.clone(),
        }],
        move |snapshot, _| match snapshot.maas_ipranges(&maas) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(ranges) => {
                if ranges.iter().any(|r| {
                    r.range_type == "reserved"
                        && r.subnet.cidr.parse::<ipnet::Ipv4Net>().ok() == Some(cidr)
                        && covers(r, &want)
                }) {
                    Poll::Pass(format!("{}-{} reserved", want.start, want.end))
                } else {
                    Poll::Fail(format!("{}-{} not reserved", want.start, want.end))
                }
            }
        },
    )
}

fn plan_standup(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let maas = maas_profile(profile);
    let subnets = need(snapshot.maas_subnets(&maas))?;
    let ranges = need(snapshot.maas_ipranges(&maas))?;
    let mut plan = Plan::new("standup");
    for plane in &profile.planes {
        let Some(subnet) = subnet_by_cidr(subnets, plane.cidr) else {
            return Err(Refusal::Guard(format!(
                "no MAAS subnet {} for plane {}: the standup sets a plane's addresses, not its topology (D-058: recidr, or create it by hand)",
                plane.cidr, plane.name
            )));
        };
        plan.resolve(
            format!("plane {} subnet", plane.name),
            format!("{} id {}", plane.cidr, subnet.id),
        );
        topology_guard(subnet, plane)?;
        let gateway = subnet
            .gateway_ip
            .as_deref()
            .and_then(|g| g.parse::<Ipv4Addr>().ok());
        let mut have: Vec<String> = subnet.dns_servers.clone();
        have.sort();
        let mut want: Vec<String> = plane.dns.iter().map(ToString::to_string).collect();
        want.sort();
        let mut params = Vec::new();
        if gateway != plane.gateway {
            params.push(format!(
                "gateway_ip={}",
                plane.gateway.map_or(String::new(), |g| g.to_string())
            ));
        }
        if have != want {
            params.push(format!("dns_servers={}", want.join(",")));
        }
        if params.is_empty() {
            plan.note(format!("{}: gateway and DNS match", plane.cidr));
        } else {
            let mut argv = vec![
                "maas".to_string(),
                maas.clone(),
                "subnet".into(),
                "update".into(),
                subnet.id.to_string(),
            ];
            argv.extend(params);
            plan.push(
                Step::run(
                    argv,
                    format!(
                        "plane {}: gateway and DNS as the profile sets them",
                        plane.name
                    ),
                    subnet_says(&maas, plane),
                )
                .targets([Target::Maas {
                    what: format!("subnet {}", plane.cidr),
                    id: subnet.id.to_string(),
                }]),
            );
        }
        let on_subnet: Vec<&IpRange> = ranges.iter().filter(|r| r.subnet.id == subnet.id).collect();
        for want in &plane.reserved {
            if on_subnet
                .iter()
                .any(|r| r.range_type == "reserved" && covers(r, want))
            {
                continue;
            }
            if let Some(r) = on_subnet.iter().find(|r| overlaps(r, want)) {
                return Err(Refusal::Guard(format!(
                    "{} range {}-{} (id {}) overlaps the wanted {} {}-{}: resolve it by hand; the standup never deletes a range",
                    r.range_type, r.start_ip, r.end_ip, r.id, want.purpose, want.start, want.end
                )));
            }
            plan.push(Step::run(
                [
                    "maas".to_string(),
                    maas.clone(),
                    "ipranges".into(),
                    "create".into(),
                    "type=reserved".into(),
                    format!("subnet={}", subnet.id),
                    format!("start_ip={}", want.start),
                    format!("end_ip={}", want.end),
                    format!("comment={}", want.purpose),
                ],
                format!(
                    "plane {}: reserve {} ({}-{})",
                    plane.name, want.purpose, want.start, want.end
                ),
                range_held(&maas, plane.cidr, want),
            ));
        }
    }
    if !plan.is_empty() {
        plan.push(Step::wait(
            "the standup gate holds: no drift",
            gate_holds("P00-STANDUP", profile),
        ));
    }
    Ok(plan)
}

/// A plane whose subnet sits in another space or VLAN VID drifts in topology, which
/// the standup does not change.
fn topology_guard(subnet: &Subnet, plane: &Plane) -> Result<(), Refusal> {
    let vid = subnet.vlan.as_ref().map(|v| v.vid);
    if subnet.space.as_deref() != Some(plane.name.as_str()) || vid != Some(i64::from(plane.vid)) {
        return Err(Refusal::Guard(format!(
            "{} is in space {:?} on VID {:?}, the profile's plane {} is VID {}: that is topology drift (D-058 recidr), not the standup's",
            plane.cidr,
            subnet.space.as_deref().unwrap_or("(none)"),
            vid,
            plane.name,
            plane.vid
        )));
    }
    Ok(())
}

/// The planes that migrate: the profile names a space MAAS has on another CIDR.
fn migrations<'a>(subnets: &'a [Subnet], profile: &'a Profile) -> Vec<(&'a Plane, &'a Subnet)> {
    profile
        .planes
        .iter()
        .filter(|p| {
            subnet_by_cidr(subnets, p.cidr)
                .is_none_or(|s| s.space.as_deref() != Some(p.name.as_str()))
        })
        .filter_map(|p| {
            subnets
                .iter()
                .find(|s| s.space.as_deref() == Some(p.name.as_str()))
                .map(|s| (p, s))
        })
        .collect()
}

fn recidr_follow_up(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let maas = maas_profile(profile);
    let Ok(subnets) = snapshot.maas_subnets(&maas) else {
        return Vec::new();
    };
    migrations(subnets, profile)
        .into_iter()
        .map(|(_, s)| Read::MaasSubnetIps {
            profile: maas.clone(),
            subnet_id: s.id,
        })
        .collect()
}

fn plan_recidr(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let maas = maas_profile(profile);
    let subnets = need(snapshot.maas_subnets(&maas))?;
    let ranges = need(snapshot.maas_ipranges(&maas))?;
    let mut plan = Plan::new("recidr");
    let moving = migrations(subnets, profile);
    for plane in &profile.planes {
        if !moving.iter().any(|(p, _)| p.name == plane.name) {
            plan.note(format!(
                "plane {}: already {} (or not in MAAS): SKIP",
                plane.name, plane.cidr
            ));
        }
    }
    // Live addresses on a migrating subnet: MAAS refuses the delete (models/subnet.py
    // Subnet.delete), so the plan is refused before anything is deleted.
    let mut live = Vec::new();
    for (plane, old) in &moving {
        plan.resolve(
            format!("plane {}", plane.name),
            format!(
                "{} (id {}) -> {} on vlan id {}",
                old.cidr,
                old.id,
                plane.cidr,
                old.vlan.as_ref().map_or(-1, |v| v.id)
            ),
        );
        let records = need(snapshot.maas_subnet_ips(&maas, old.id))?;
        for r in records {
            let who = r
                .node_summary
                .as_ref()
                .and_then(|n| n.hostname.clone())
                .or_else(|| r.user.clone())
                .unwrap_or_else(|| "no node".to_string());
            live.push(format!(
                "{} {} (alloc_type {}, {who})",
                old.cidr, r.ip, r.alloc_type
            ));
        }
        if let Some(taken) = subnet_by_cidr(subnets, plane.cidr) {
            if !moving.iter().any(|(_, s)| s.id == taken.id) {
                return Err(Refusal::Guard(format!(
                    "{} is already MAAS subnet {} in space {:?}, which does not migrate: the create would collide",
                    plane.cidr,
                    taken.id,
                    taken.space.as_deref().unwrap_or("(none)")
                )));
            }
        }
    }
    if !live.is_empty() {
        return Err(Refusal::Guard(format!(
            "live addresses remain on migrating subnets, and MAAS refuses to delete a subnet with addresses in use: release or delete them, then re-run: {}",
            live.join("; ")
        )));
    }
    // Reserved ranges first, then the subnets: every delete before any create, so a
    // CIDR one plane leaves and another takes never exists twice (D-058 collision).
    for (plane, old) in &moving {
        for r in ranges.iter().filter(|r| r.subnet.id == old.id) {
            let (maas_c, id) = (maas.clone(), r.id);
            plan.push(
                Step::run(
                    [
                        "maas".to_string(),
                        maas.clone(),
                        "iprange".into(),
                        "delete".into(),
                        r.id.to_string(),
                    ],
                    format!(
                        "plane {}: delete {} range {}-{} on the old {}",
                        plane.name, r.range_type, r.start_ip, r.end_ip, old.cidr
                    ),
                    Check::new(
                        format!("range {} is gone", r.id),
                        vec![Read::MaasIpRanges {
                            profile: maas.clone(),
                        }],
                        move |snapshot, _| match snapshot.maas_ipranges(&maas_c) {
                            Err(e) => Poll::Fail(e.to_string()),
                            Ok(rs) if rs.iter().any(|r| r.id == id) => {
                                Poll::Fail(format!("range {id} still there"))
                            }
                            Ok(_) => Poll::Pass(format!("range {id} deleted")),
                        },
                    ),
                )
                .destructive()
                .targets([Target::Maas {
                    what: format!("range on {}", old.cidr),
                    id: r.id.to_string(),
                }]),
            );
        }
    }
    for (plane, old) in &moving {
        let (maas_c, cidr) = (maas.clone(), old.cidr.clone());
        plan.push(
            Step::run(
                [
                    "maas".to_string(),
                    maas.clone(),
                    "subnet".into(),
                    "delete".into(),
                    old.id.to_string(),
                ],
                format!("plane {}: delete the old subnet {}", plane.name, old.cidr),
                Check::new(
                    format!("{} is gone", old.cidr),
                    subnet_reads(&maas),
                    move |snapshot, _| match snapshot.maas_subnets(&maas_c) {
                        Err(e) => Poll::Fail(e.to_string()),
                        Ok(ss) if ss.iter().any(|s| s.cidr == cidr) => {
                            Poll::Fail(format!("{cidr} still there"))
                        }
                        Ok(_) => Poll::Pass(format!("{cidr} deleted")),
                    },
                ),
            )
            .destructive()
            .targets([Target::Maas {
                what: format!("subnet {}", old.cidr),
                id: old.id.to_string(),
            }]),
        );
    }
    for (plane, old) in &moving {
        let vlan = old.vlan.as_ref().ok_or_else(|| {
            Refusal::Precondition(format!(
                "subnet {}: vlan not shown (subnets read: vlan)",
                old.cidr
            ))
        })?;
        let mut argv = vec![
            "maas".to_string(),
            maas.clone(),
            "subnets".into(),
            "create".into(),
            format!("cidr={}", plane.cidr),
            format!("name={}", plane.cidr),
            format!("vlan={}", vlan.id),
        ];
        if let Some(g) = plane.gateway {
            argv.push(format!("gateway_ip={g}"));
        }
        if !plane.dns.is_empty() {
            argv.push(format!(
                "dns_servers={}",
                plane
                    .dns
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        let (maas_c, cidr, space) = (maas.clone(), plane.cidr, plane.name.clone());
        plan.push(Step::run(
            argv,
            format!(
                "plane {}: {} on the same VLAN (vid {}), its space inherited from the VLAN",
                plane.name, plane.cidr, vlan.vid
            ),
            Check::new(
                format!("{cidr} exists in space {space}"),
                subnet_reads(&maas),
                move |snapshot, _| match snapshot.maas_subnets(&maas_c) {
                    Err(e) => Poll::Fail(e.to_string()),
                    Ok(ss) => match subnet_by_cidr(ss, cidr) {
                        Some(s) if s.space.as_deref() == Some(space.as_str()) => {
                            Poll::Pass(format!("{cidr} in {space}"))
                        }
                        Some(s) => Poll::Fail(format!("{cidr} in space {:?}", s.space)),
                        None => Poll::Fail(format!("no {cidr}")),
                    },
                },
            ),
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::snapshot::Value;

    fn fixture<T: serde::de::DeserializeOwned>(file: &str) -> T {
        let path = format!("testcloud/phase00-ready-carved/{file}");
        let bytes = crate::world::EMBEDDED.get_file(&path).unwrap().contents();
        serde_json::from_slice(bytes).unwrap()
    }

    /// The D-052 testcloud's subnets and ranges under the D-058 profile, with every
    /// migrating subnet empty of addresses (the hosts released, as seed 003 step 1
    /// requires).
    fn d052_released() -> (Snapshot, Profile) {
        let profile = Profile::from_file(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/profiles/d058.toml"
        )))
        .unwrap();
        let subnets: Vec<Subnet> = fixture("maas-subnets-read.json");
        let ranges: Vec<IpRange> = fixture("maas-ipranges-read.json");
        let mut snapshot = Snapshot::from_parts("test")
            .with(
                Read::MaasSubnets {
                    profile: "admin".into(),
                },
                Ok(Value::MaasSubnets(Arc::new(subnets.clone()))),
            )
            .with(
                Read::MaasIpRanges {
                    profile: "admin".into(),
                },
                Ok(Value::MaasIpRanges(Arc::new(ranges))),
            );
        for s in &subnets {
            snapshot = snapshot.with(
                Read::MaasSubnetIps {
                    profile: "admin".into(),
                    subnet_id: s.id,
                },
                Ok(Value::MaasSubnetIps(Arc::new(Vec::new()))),
            );
        }
        (snapshot, profile)
    }

    #[test]
    fn recidr_deletes_ranges_then_subnets_before_any_create_on_the_same_vlans() {
        let (snapshot, profile) = d052_released();
        let plan = plan_recidr(&snapshot, &profile, &ActionArgs::default()).unwrap();
        let commands: Vec<String> = plan.steps.iter().map(|s| s.command()).collect();
        let first_create = commands
            .iter()
            .position(|c| c.contains("subnets create"))
            .unwrap();
        let last_delete = commands
            .iter()
            .rposition(|c| c.contains(" delete "))
            .unwrap();
        assert!(last_delete < first_create, "{commands:#?}");
        let first_subnet_delete = commands
            .iter()
            .position(|c| c.contains("subnet delete"))
            .unwrap();
        assert!(
            commands[..first_subnet_delete]
                .iter()
                .all(|c| c.contains("iprange delete")),
            "{commands:#?}"
        );
        // The three D-058 migrations, each on the VLAN its space already had.
        for expected in [
            "subnets create cidr=10.12.12.0/22 name=10.12.12.0/22 vlan=5001",
            "subnets create cidr=10.12.16.0/22 name=10.12.16.0/22 vlan=5011",
            "subnets create cidr=10.12.20.0/22 name=10.12.20.0/22 vlan=5004",
        ] {
            assert!(
                commands.iter().any(|c| c.contains(expected)),
                "{expected}: {commands:#?}"
            );
        }
        for deleted in ["subnet delete 2", "subnet delete 10", "subnet delete 6"] {
            assert!(
                commands.iter().any(|c| c.ends_with(deleted)),
                "{deleted}: {commands:#?}"
            );
        }
        assert!(
            plan.steps
                .iter()
                .filter(|s| s
                    .argv
                    .as_ref()
                    .is_some_and(|a| a.contains(&"delete".to_string())))
                .all(|s| s.destructive)
        );
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("provider-public") && n.contains("SKIP"))
        );
    }

    #[test]
    fn recidr_is_refused_while_a_migrating_subnet_holds_a_live_address() {
        let (snapshot, profile) = d052_released();
        let record: crate::sources::maas::IpAddressRecord = serde_json::from_value(serde_json::json!({
            "ip": "10.12.8.102", "alloc_type": 1,
            "node_summary": {"system_id": "hbt6xc", "hostname": "juju", "fqdn": "juju.maas", "via": "enp1s0"},
            "user": null
        }))
        .unwrap();
        let snapshot = snapshot.with(
            Read::MaasSubnetIps {
                profile: "admin".into(),
                subnet_id: 2,
            },
            Ok(Value::MaasSubnetIps(Arc::new(vec![record]))),
        );
        let Err(Refusal::Guard(why)) = plan_recidr(&snapshot, &profile, &ActionArgs::default())
        else {
            panic!("a live address must refuse the recidr");
        };
        assert!(
            why.contains("10.12.8.0/22 10.12.8.102 (alloc_type 1, juju)"),
            "{why}"
        );
    }

    #[test]
    fn a_d058_cloud_plans_no_recidr() {
        // Under its own profile the D-052 cloud migrates nothing.
        let (snapshot, _) = d052_released();
        let plan = plan_recidr(&snapshot, &Profile::testcloud(), &ActionArgs::default()).unwrap();
        assert!(plan.is_empty(), "{:#?}", plan.steps);
    }
}
