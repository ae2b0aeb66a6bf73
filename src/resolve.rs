//! Target resolution (rule R1): machines by hostname, subnets by CIDR, protected
//! machines by the identity MAAS and libvirt give them. Pure functions over what the
//! sources parsed, below both the gates (P00-TEARDOWN-PLAN reports the targets) and the
//! actions (which act on them), so the plan a gate shows and the plan an action runs
//! are resolved by the same code. Ids (system_id, subnet id, interface id) are
//! re-minted every rebuild (DOCFIX-040, -043, -047, -050): they are outputs of
//! resolution, never inputs.

use std::collections::BTreeSet;

use ipnet::Ipv4Net;

use std::time::Duration;

use crate::sources::juju::{ModelSummary, humanised_age};
use crate::sources::maas::{Machine, Machines, Subnet};
use crate::sources::virsh::DomainXml;

/// The machine with this hostname, whatever its system_id (the first in MAAS's order,
/// should two share it).
pub fn machine<'a>(machines: &'a Machines, hostname: &str) -> Option<&'a Machine> {
    machines.by_hostname(hostname)
}

/// The subnet whose CIDR is `cidr`, whatever its id.
pub fn subnet_by_cidr(subnets: &[Subnet], cidr: Ipv4Net) -> Option<&Subnet> {
    subnets
        .iter()
        .find(|s| s.cidr.parse::<Ipv4Net>().is_ok_and(|c| c == cidr))
}

/// Every MAC a machine shows: its boot interface and its interface set, lower-cased.
pub fn machine_macs(machine: &Machine) -> BTreeSet<String> {
    machine
        .boot_interface
        .iter()
        .chain(&machine.interface_set)
        .filter_map(|i| i.mac_address.as_deref())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// One protected machine (the management substrate: juju, lxd, tailscale, and what the
/// profile adds) with every identity it was resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedMachine {
    /// The name the profile gives (the MAAS hostname and the libvirt domain name).
    pub name: String,
    /// The system_id MAAS holds for that hostname, if it holds one.
    pub system_id: Option<String>,
    /// MACs of the MAAS machine and of the libvirt domain of that name.
    pub macs: BTreeSet<String>,
}

/// The protected set, resolved live. A target is refused when any identity matches:
/// its hostname, its system_id, or any of its MACs, so renaming or re-tagging a
/// protected machine does not make it a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protected {
    pub machines: Vec<ProtectedMachine>,
}

impl Protected {
    /// Resolves `names` against MAAS's machines and the libvirt domains read.
    pub fn resolve<'a>(
        names: &[String],
        machines: &[Machine],
        domains: impl IntoIterator<Item = &'a DomainXml> + Clone,
    ) -> Protected {
        let machines = names
            .iter()
            .map(|name| {
                // A handful of protected names: a scan each, over any list of machines.
                let found = machines.iter().find(|m| &m.hostname == name);
                let mut macs = found.map(machine_macs).unwrap_or_default();
                for domain in domains.clone().into_iter().filter(|d| &d.name == name) {
                    macs.extend(
                        domain
                            .interfaces
                            .iter()
                            .filter_map(|i| i.mac.as_deref())
                            .map(str::to_ascii_lowercase),
                    );
                }
                ProtectedMachine {
                    name: name.clone(),
                    system_id: found.map(|m| m.system_id.clone()),
                    macs,
                }
            })
            .collect();
        Protected { machines }
    }

    /// Why `machine` is protected, if it is: which protected machine it is and by
    /// which identity.
    pub fn refuses(&self, machine: &Machine) -> Option<String> {
        let macs = machine_macs(machine);
        self.machines.iter().find_map(|p| {
            if p.name == machine.hostname {
                Some(format!("{} is protected (hostname)", machine.hostname))
            } else if p.system_id.as_deref() == Some(machine.system_id.as_str()) {
                Some(format!(
                    "{} is protected machine {} (system_id {})",
                    machine.hostname, p.name, machine.system_id
                ))
            } else {
                p.macs.intersection(&macs).next().map(|mac| {
                    format!(
                        "{} is protected machine {} (MAC {mac})",
                        machine.hostname, p.name
                    )
                })
            }
        })
    }

    /// Why a libvirt domain is protected, if it is: by name, or by a MAC it shares with
    /// a protected machine.
    pub fn refuses_domain(&self, domain: &str, macs: &BTreeSet<String>) -> Option<String> {
        self.machines.iter().find_map(|p| {
            if p.name == domain {
                Some(format!("domain {domain} is protected"))
            } else {
                p.macs.intersection(macs).next().map(|mac| {
                    format!(
                        "domain {domain} is protected machine {} (MAC {mac})",
                        p.name
                    )
                })
            }
        })
    }

    /// Why the system_id is protected, if it is.
    pub fn refuses_system_id(&self, system_id: &str) -> Option<String> {
        self.machines
            .iter()
            .find(|p| p.system_id.as_deref() == Some(system_id))
            .map(|p| format!("system_id {system_id} is protected machine {}", p.name))
    }
}

/// One resolved machine target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineTarget {
    pub hostname: String,
    pub system_id: String,
    pub status_name: String,
}

impl MachineTarget {
    fn of(machine: &Machine) -> MachineTarget {
        MachineTarget {
            hostname: machine.hostname.clone(),
            system_id: machine.system_id.clone(),
            status_name: machine.status_name.clone(),
        }
    }
}

/// A protected machine as the destroy plan shows it: EXCLUDED, with what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub name: String,
    /// The MAAS machine of that name, when MAAS holds one.
    pub machine: Option<MachineTarget>,
    /// The machine carries the host tag, so the model's placement could take it.
    pub carries_host_tag: bool,
}

/// The destroy path's targets (seed 002 step 2, D-061): the hosts juju's MAAS provider
/// will decompose with the model, the retired machines to delete, the protected
/// machines excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeardownTargets {
    /// The model exists (in `juju models`).
    pub model_present: bool,
    /// Hosts to decompose with the model, in profile order.
    pub decompose: Vec<MachineTarget>,
    /// Hosts the profile names that MAAS does not hold (only while the model exists:
    /// a host the model still runs on must resolve).
    pub unresolved: Vec<String>,
    /// Retired machines MAAS still holds: to delete.
    pub delete: Vec<MachineTarget>,
    /// Retired machines already gone.
    pub retired_gone: Vec<String>,
    pub excluded: Vec<Excluded>,
    /// Targets refused as protected, with why: a host or retired name that resolves to
    /// a protected machine.
    pub refused: Vec<String>,
}

/// Resolves the destroy path's targets from MAAS's machines (by hostname) and whether
/// the model is present.
pub fn teardown_targets(
    hosts: &[String],
    retired: &[String],
    host_tag: &str,
    protected: &Protected,
    machines: &Machines,
    model_present: bool,
) -> TeardownTargets {
    let mut t = TeardownTargets {
        model_present,
        decompose: Vec::new(),
        unresolved: Vec::new(),
        delete: Vec::new(),
        retired_gone: Vec::new(),
        excluded: Vec::new(),
        refused: Vec::new(),
    };
    if model_present {
        for host in hosts {
            match machine(machines, host) {
                Some(m) => match protected.refuses(m) {
                    Some(why) => t.refused.push(why),
                    None => t.decompose.push(MachineTarget::of(m)),
                },
                None => t.unresolved.push(host.clone()),
            }
        }
    }
    for name in retired {
        match machine(machines, name) {
            Some(m) => match protected.refuses(m) {
                Some(why) => t.refused.push(why),
                None => t.delete.push(MachineTarget::of(m)),
            },
            None => t.retired_gone.push(name.clone()),
        }
    }
    for p in &protected.machines {
        let m = machine(machines, &p.name);
        t.excluded.push(Excluded {
            name: p.name.clone(),
            machine: m.map(MachineTarget::of),
            carries_host_tag: m.is_some_and(|m| m.tag_names.iter().any(|tag| tag == host_tag)),
        });
    }
    t
}

/// How the model stands in `juju models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelState {
    Absent,
    Alive {
        life: String,
        status: String,
    },
    /// Destroying for at least `age` (juju's humanised `since`, relative to the read).
    Destroying {
        age: Duration,
        since: String,
        life: String,
    },
    /// Destroying, but `status.since` does not say for how long.
    DestroyingSinceUnknown {
        since: Option<String>,
    },
}

pub fn model_state(model: Option<&ModelSummary>) -> ModelState {
    let Some(m) = model else {
        return ModelState::Absent;
    };
    let shown = |v: Option<&str>| v.unwrap_or("not shown").to_string();
    let current = m.status.as_ref().and_then(|s| s.current.as_deref());
    let destroying = matches!(m.life.as_str(), "dying" | "dead") || current == Some("destroying");
    if !destroying {
        return ModelState::Alive {
            life: m.life.clone(),
            status: shown(current),
        };
    }
    let since = m.status.as_ref().and_then(|s| s.since.clone());
    match since.as_deref().and_then(humanised_age) {
        Some(age) => ModelState::Destroying {
            age,
            since: since.unwrap_or_default(),
            life: m.life.clone(),
        },
        None => ModelState::DestroyingSinceUnknown { since },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine_json(hostname: &str, system_id: &str, mac: &str, tags: &[&str]) -> Machine {
        serde_json::from_value(serde_json::json!({
            "system_id": system_id,
            "hostname": hostname,
            "status": 6,
            "status_name": "Deployed",
            "power_state": "on",
            "power_type": "virsh",
            "owner": "admin",
            "tag_names": tags,
            "boot_interface": {
                "id": 1, "name": "enp1s0", "type": "physical", "mac_address": mac,
                "parents": [], "children": [], "vlan": null, "links": [], "params": "",
                "enabled": true
            },
            "interface_set": [],
            "node_type_name": "Machine"
        }))
        .unwrap()
    }

    proptest::proptest! {
        /// The index finds what a scan in MAAS's order finds: the first machine of that
        /// hostname, whatever the order, repeats and shared prefixes (openstack1 and
        /// openstack10), and nothing for a hostname MAAS does not hold.
        #[test]
        fn a_machine_by_hostname_is_the_first_a_scan_finds(
            hostnames in proptest::collection::vec("(openstack|juju)[0-9]{0,2}", 0..24),
            wanted in "(openstack|juju)[0-9]{0,2}",
        ) {
            let list: Vec<Machine> = hostnames
                .iter()
                .enumerate()
                .map(|(n, h)| machine_json(h, &format!("id{n}"), "52:54:00:00:00:01", &[]))
                .collect();
            let scanned = list.iter().find(|m| m.hostname == wanted).map(|m| m.system_id.clone());
            let machines = Machines::new(list);
            proptest::prop_assert_eq!(
                machine(&machines, &wanted).map(|m| m.system_id.clone()),
                scanned
            );
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_renamed_protected_machine_is_refused_by_system_id_and_by_mac() {
        let before = [machine_json("lxd", "m3qdrk", "52:54:00:aa:00:01", &[])];
        let protected = Protected::resolve(&names(&["lxd"]), &before, std::iter::empty());
        // Same machine, renamed into the host list and tagged: still lxd.
        let renamed = machine_json("openstack2", "m3qdrk", "52:54:00:aa:00:01", &["openstack"]);
        assert!(
            protected
                .refuses(&renamed)
                .unwrap()
                .contains("system_id m3qdrk")
        );
        // Re-created with a new system_id on the same hardware: the MAC says lxd.
        let recreated = machine_json("openstack2", "zzzzzz", "52:54:00:AA:00:01", &[]);
        assert!(
            protected
                .refuses(&recreated)
                .unwrap()
                .contains("MAC 52:54:00:aa:00:01")
        );
        let host = machine_json("openstack2", "c8rxma", "52:54:00:bb:00:02", &[]);
        assert_eq!(protected.refuses(&host), None);
    }

    #[test]
    fn a_protected_domain_mac_protects_the_maas_machine_on_it() {
        let xml = DomainXml {
            name: "tailscale".into(),
            interfaces: vec![crate::sources::virsh::DomainInterface {
                kind: "network".into(),
                mac: Some("52:54:00:cc:00:03".into()),
                source_network: Some("2_metal".into()),
                source_bridge: None,
            }],
        };
        // MAAS lost the tailscale machine; the domain still says which MAC it has.
        let protected = Protected::resolve(&names(&["tailscale"]), &[], [&xml]);
        let imposter = machine_json("openstack3", "yf6gh2", "52:54:00:cc:00:03", &["openstack"]);
        assert!(protected.refuses(&imposter).is_some());
        let macs = BTreeSet::from(["52:54:00:cc:00:03".to_string()]);
        assert!(protected.refuses_domain("openstack3", &macs).is_some());
        assert!(
            protected
                .refuses_domain("openstack3", &BTreeSet::new())
                .is_none()
        );
    }

    #[test]
    fn teardown_targets_resolve_by_hostname_and_exclude_the_protected() {
        let machines = Machines::new(vec![
            machine_json("juju", "hbt6xc", "52:54:00:00:00:01", &["juju"]),
            machine_json("openstack0", "w7e3kq", "52:54:00:00:00:02", &["openstack"]),
            machine_json("capi-mgmt", "k3pq7a", "52:54:00:00:00:03", &[]),
        ]);
        let protected = Protected::resolve(&names(&["juju"]), &machines, std::iter::empty());
        let t = teardown_targets(
            &names(&["openstack0", "openstack1"]),
            &names(&["capi-mgmt"]),
            "openstack",
            &protected,
            &machines,
            true,
        );
        assert_eq!(t.decompose.len(), 1);
        assert_eq!(t.decompose[0].system_id, "w7e3kq");
        assert_eq!(t.unresolved, names(&["openstack1"]));
        assert_eq!(t.delete[0].hostname, "capi-mgmt");
        assert_eq!(t.excluded[0].machine.as_ref().unwrap().system_id, "hbt6xc");
        assert!(!t.excluded[0].carries_host_tag);
        let tagged = Machines::new(vec![machine_json(
            "juju",
            "hbt6xc",
            "52:54:00:00:00:01",
            &["juju", "openstack"],
        )]);
        let t = teardown_targets(&[], &[], "openstack", &protected, &tagged, false);
        assert!(t.excluded[0].carries_host_tag);
        // A host list that names a protected machine refuses it, never targets it.
        let t = teardown_targets(
            &names(&["juju"]),
            &[],
            "openstack",
            &protected,
            &machines,
            true,
        );
        assert!(t.decompose.is_empty());
        assert_eq!(t.refused.len(), 1);
        // No model: nothing to decompose, whatever MAAS holds.
        let t = teardown_targets(
            &names(&["openstack0"]),
            &[],
            "openstack",
            &protected,
            &machines,
            false,
        );
        assert!(t.decompose.is_empty() && t.unresolved.is_empty());
    }

    fn summary(life: &str, current: &str, since: &str) -> ModelSummary {
        serde_json::from_value(serde_json::json!({
            "name": "admin/openstack", "short-name": "openstack", "life": life,
            "status": {"current": current, "since": since}
        }))
        .unwrap()
    }

    #[test]
    fn a_model_is_destroying_by_its_life_or_by_its_status() {
        // juju shows a destroy either way: life dying, or status destroying.
        for (life, current) in [
            ("dying", "available"),
            ("alive", "destroying"),
            ("dead", ""),
        ] {
            let m = summary(life, current, "12 minutes ago");
            let state = model_state(Some(&m));
            assert_eq!(
                state,
                ModelState::Destroying {
                    age: Duration::from_secs(12 * 60),
                    since: "12 minutes ago".into(),
                    life: life.into()
                },
                "{life} {current}"
            );
        }
        let m = summary("alive", "available", "2026-06-09");
        assert!(matches!(model_state(Some(&m)), ModelState::Alive { .. }));
        assert_eq!(model_state(None), ModelState::Absent);
        let m = summary("dying", "destroying", "at some point");
        assert!(matches!(
            model_state(Some(&m)),
            ModelState::DestroyingSinceUnknown { .. }
        ));
    }
}
