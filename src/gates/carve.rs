//! P00-CARVE (seed 002 step 6, D-060 Pattern A; 004 carve hardening) and
//! P00-RELEASE-CANARY (002 step 2 Path A, D-061). One sub-result per host and interface:
//! the tree (type, bridge type, parent, VID), the STATIC on each plane by CIDR, the
//! retired interfaces absent, and the host Ready (link-subnet is rejected on Deployed).
//!
//! A missing static whose address MAAS holds as DISCOVERED (alloc_type 6) is the
//! commissioning ghost 004 records: released when it is the host's own (no owner, or
//! this host's system_id), refused when another node owns it (by system_id; 004's
//! release_self_indexed refuses a foreign system_id or MAC).

use super::substrate::{
    all_good, maas_profile, maas_site, machine, machines_read, section, subnet_for, tally,
};
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::{Carve, Host, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::maas::{ALLOC_DISCOVERED, Interface, Machine};

pub(super) static GATES: [GateSpec; 2] = [
    GateSpec {
        id: "P00-CARVE",
        phase: "00",
        tags: &["read-only"],
        description: "per host, Pattern A: br-ex (ovs, parent enp1s0) .4.N, br-metal .8.N, br-metal.103 -> br-internal .12.N, enp8s0/9s0/10s0 .16/.32/.36.N; no retired interfaces; hosts Ready; DISCOVERED ghosts on own IPs released, foreign ones refused",
        reads: |p| {
            let mut r = machines_read(p);
            r.push(Read::MaasSubnets {
                profile: maas_profile(p),
            });
            r
        },
        follow_up: Some(carve_follow_up),
        evaluate: gate_carve,
        from_parts: None,
    },
    GateSpec {
        id: "P00-RELEASE-CANARY",
        phase: "00",
        tags: &["read-only"],
        description: "Path A (release --keep-instance): the canary host survives in MAAS, Deployed, carve intact (survival only, not re-acquisition)",
        reads: machines_read,
        follow_up: None,
        evaluate: gate_canary,
        from_parts: None,
    },
];

/// The addresses held on each carved plane's subnet (a host's interfaces are its
/// `interface_set` in `machines read`: one output for every host).
fn carve_follow_up(snapshot: &Snapshot, profile: &Profile) -> Vec<Read> {
    let maas = maas_profile(profile);
    let mut reads = Vec::new();
    if let (Ok(subnets), Some(carve)) = (snapshot.maas_subnets(&maas), &profile.carve) {
        for link in &carve.links {
            if let Some(subnet) = profile
                .plane(&link.plane)
                .and_then(|p| subnet_for(subnets, p))
            {
                reads.push(Read::MaasSubnetIps {
                    profile: maas.clone(),
                    subnet_id: subnet.id,
                });
            }
        }
    }
    reads.sort();
    reads.dedup();
    reads
}

fn carve_of<'p>(gate: &GateSpec, profile: &'p Profile) -> Result<&'p Carve, Box<Verdict>> {
    section(gate, profile, profile.carve.as_ref(), "carve")
}

fn line(
    ok: bool,
    subject: String,
    property: &str,
    actual: String,
    expected: String,
) -> (bool, Evidence) {
    let mark = if ok { Mark::Ok } else { Mark::Bad };
    (
        ok,
        Evidence::new(mark, subject, property, actual).expected(expected),
    )
}

/// What one host's interfaces lack of the Pattern A carve, one line per problem (the
/// carve action's post-condition reads this, the gate the same tree).
pub fn carve_problems(
    host: &Host,
    interfaces: &[Interface],
    carve: &Carve,
    profile: &Profile,
) -> Vec<String> {
    host_tree(host, interfaces, carve, profile)
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, e)| format!("{} {}: {}", e.subject, e.property, e.actual))
        .collect()
}

/// The tree, statics and retired interfaces of one host: one line per interface.
fn host_tree(
    host: &Host,
    interfaces: &[Interface],
    carve: &Carve,
    profile: &Profile,
) -> Vec<(bool, Evidence)> {
    let mut out = Vec::new();
    let find = |name: &str| interfaces.iter().find(|i| i.name == name);
    for want in &carve.structure {
        let subject = format!("host {} {}", host.hostname, want.name);
        let mut expected = vec![want.kind.clone()];
        if let Some(bt) = &want.bridge_type {
            expected.push(format!("bridge_type {bt}"));
        }
        if let Some(p) = &want.parent {
            expected.push(format!("parent {p}"));
        }
        if let Some(v) = want.vid {
            expected.push(format!("vid {v}"));
        }
        let expected = expected.join(", ");
        let Some(i) = find(&want.name) else {
            out.push(line(false, subject, "interface", "absent".into(), expected));
            continue;
        };
        let mut actual = vec![i.interface_type.to_string()];
        let mut ok = i.interface_type == want.kind;
        if let Some(bt) = &want.bridge_type {
            let got = i.bridge_type().unwrap_or("(none)");
            ok &= got == bt;
            actual.push(format!("bridge_type {got}"));
        }
        if let Some(p) = &want.parent {
            ok &= i.parents.iter().any(|x| x == p);
            actual.push(format!(
                "parent {}",
                if i.parents.is_empty() {
                    "(none)".to_string()
                } else {
                    i.parents.join("+")
                }
            ));
        }
        if let Some(v) = want.vid {
            let got = i.vlan.as_ref().map(|l| l.vid);
            ok &= got == Some(i64::from(v));
            actual.push(format!(
                "vid {}",
                got.map_or("(none)".into(), |g| g.to_string())
            ));
        }
        out.push(line(ok, subject, "interface", actual.join(", "), expected));
    }
    for link in &carve.links {
        let Some(plane) = profile.plane(&link.plane) else {
            continue;
        };
        let want = format!(
            "STATIC {} on {}",
            plane.host_address(host.octet),
            plane.cidr
        );
        let found: Vec<String> = interfaces
            .iter()
            .filter(|i| i.name == link.interface)
            .flat_map(|i| {
                i.static_links()
                    .map(|(ip, cidr)| format!("STATIC {ip} on {cidr}"))
            })
            .collect();
        let ok = found.iter().any(|f| f == &want);
        out.push(line(
            ok,
            format!("host {} {}", host.hostname, link.interface),
            "link",
            if found.is_empty() {
                "no STATIC link".into()
            } else {
                found.join(", ")
            },
            want,
        ));
    }
    for name in &carve.forbidden {
        let present = find(name).is_some();
        out.push(line(
            !present,
            format!("host {} {name}", host.hostname),
            "retired interface",
            if present {
                "present".into()
            } else {
                "absent".into()
            },
            "absent".into(),
        ));
    }
    out
}

fn gate_carve(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let carve = match carve_of(gate, profile) {
        Ok(c) => c,
        Err(v) => return *v,
    };
    let maas = maas_profile(profile);
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas));
    let subnets = read_or_precondition!(gate, snapshot.maas_subnets(&maas));
    let mut checks = Vec::new();
    let (mut releasable, mut refused) = (0u64, 0u64);
    for host in &profile.hosts {
        let Some(m) = machine(machines, &host.hostname) else {
            checks.push(line(
                false,
                format!("host {}", host.hostname),
                "presence",
                "not in MAAS".into(),
                "present, Ready".into(),
            ));
            continue;
        };
        checks.push(line(
            m.status_name == "Ready",
            format!("host {}", host.hostname),
            "status_name",
            m.status_name.clone(),
            "Ready (link-subnet is rejected on a Deployed machine)".into(),
        ));
        let interfaces = &m.interface_set;
        let tree = host_tree(host, interfaces, carve, profile);
        // A missing static: who holds its address?
        for link in &carve.links {
            let Some(plane) = profile.plane(&link.plane) else {
                continue;
            };
            let ip = plane.host_address(host.octet).to_string();
            let linked = interfaces
                .iter()
                .filter(|i| i.name == link.interface)
                .any(|i| i.static_links().any(|(a, _)| a == ip));
            if linked {
                continue;
            }
            let Some(subnet) = subnet_for(subnets, plane) else {
                continue;
            };
            let records = read_or_precondition!(gate, snapshot.maas_subnet_ips(&maas, subnet.id));
            for r in records.iter().filter(|r| r.ip == ip) {
                let owner = r
                    .node_summary
                    .as_ref()
                    .and_then(|n| n.system_id.as_deref())
                    .filter(|s| !s.is_empty());
                let owner_name = r
                    .node_summary
                    .as_ref()
                    .and_then(|n| n.hostname.clone())
                    .or_else(|| owner.map(str::to_string))
                    .unwrap_or_default();
                let subject = format!("host {} {ip}", host.hostname);
                match owner {
                    Some(sid) if sid != m.system_id => {
                        refused += 1;
                        checks.push(line(
                            false,
                            subject,
                            "address holder",
                            format!(
                                "alloc_type {} owned by {owner_name} ({}): REFUSED, the carve never releases another node's address",
                                r.alloc_type,
                                owner_of(machines, sid)
                            ),
                            "free or this host's own DISCOVERED record".to_string(),
                        ));
                    }
                    _ if r.alloc_type == ALLOC_DISCOVERED => {
                        releasable += 1;
                        checks.push((
                            true,
                            Evidence::new(
                                Mark::Info,
                                subject,
                                "address holder",
                                "DISCOVERED (alloc_type 6), this host's own commissioning lease: the carve releases it before link-subnet",
                            ),
                        ));
                    }
                    _ => {}
                }
            }
        }
        checks.extend(tree);
    }
    let (good, total, bad) = tally(&checks);
    let status = all_good(good, total);
    let summary = if bad.is_empty() {
        format!(
            "Pattern A carve complete: {good}/{total} checks on {} host(s)",
            profile.hosts.len()
        )
    } else {
        format!(
            "{} of {total} carve checks fail: {}",
            bad.len(),
            bad.join("; ")
        )
    };
    Verdict::new(gate, status, summary)
        .with_evidence(checks.into_iter().map(|(_, e)| e).collect())
        .metric("checks_ok", good)
        .metric("checks", total)
        .metric("discovered_own", releasable)
        .metric("refused_foreign", refused)
}

fn owner_of(machines: &[Machine], system_id: &str) -> String {
    machines
        .iter()
        .find(|m| m.system_id == system_id)
        .map_or_else(
            || format!("system_id {system_id}, not a machine"),
            |m| format!("machine {}", m.hostname),
        )
}

fn gate_canary(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    if let Err(v) = maas_site(gate, profile) {
        return *v;
    }
    let carve = match carve_of(gate, profile) {
        Ok(c) => c,
        Err(v) => return *v,
    };
    let Some(canary) = &profile.teardown.canary else {
        return Verdict::new(
            gate,
            Status::Precondition,
            format!(
                "profile {} names no [teardown] canary for Path A",
                profile.name
            ),
        );
    };
    let Some(host) = profile.hosts.iter().find(|h| &h.hostname == canary) else {
        return Verdict::new(
            gate,
            Status::Precondition,
            format!("canary {} is not a host of the profile", canary),
        );
    };
    let maas = maas_profile(profile);
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas));
    let subject = format!("canary {}", host.hostname);
    let Some(m) = machine(machines, &host.hostname) else {
        return Verdict::new(
            gate,
            Status::Fail,
            format!(
                "canary {} is gone from MAAS: decomposed, not kept (the D-061 Path A failure)",
                host.hostname
            ),
        )
        .with_evidence(vec![
            Evidence::new(Mark::Bad, subject, "presence", "not in MAAS")
                .expected("present, Deployed"),
        ]);
    };
    let site = profile.maas.as_ref().expect("maas_site checked above");
    // Path A keeps the machine object, so the canary keeps last cycle's system_id; a
    // freshly minted one means the host was decomposed and re-enrolled (Path B), and
    // this gate has nothing to say about that run.
    if !site.previous_system_ids.contains(&m.system_id) {
        return Verdict::new(
            gate,
            Status::Skip,
            format!(
                "Path A was not taken: canary {} carries a system_id minted this cycle ({}), so it was re-enrolled by the destroy path (Path B); run this gate after `phase-00-teardown-release.sh --apply --canary`",
                host.hostname, m.system_id
            ),
        )
        .with_evidence(vec![Evidence::new(
            Mark::Info,
            subject,
            "system_id",
            m.system_id.clone(),
        )
        .expected(format!("one of last cycle's: {}", site.previous_system_ids.join(", ")))]);
    }
    let mut checks = vec![line(
        m.status_name == "Deployed",
        subject.clone(),
        "status_name",
        m.status_name.clone(),
        "Deployed (kept with --keep-instance)".into(),
    )];
    let interfaces = &m.interface_set;
    checks.extend(host_tree(host, interfaces, carve, profile));
    let total = checks.len() as u64;
    let good = checks.iter().filter(|(ok, _)| *ok).count() as u64;
    let status = all_good(good, total);
    let summary = if status == Status::Pass {
        format!(
            "canary {} survived: Deployed, carve intact ({good}/{total}); re-acquisition by a next model is not validated",
            host.hostname
        )
    } else {
        format!(
            "canary {} did not survive intact: {}",
            host.hostname,
            checks
                .iter()
                .filter(|(ok, _)| !ok)
                .map(|(_, e)| format!("{} {} = {}", e.subject, e.property, e.actual))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    Verdict::new(gate, status, summary)
        .with_evidence(checks.into_iter().map(|(_, e)| e).collect())
        .metric("checks_ok", good)
        .metric("checks", total)
}
