use std::sync::Arc;

use super::*;
use crate::gates::{Status, Verdict};
use crate::profile::Profile;
use crate::run::{RunOptions, evaluate};
use crate::sim::Sim;

fn world(name: &str) -> World {
    World::embedded(&format!("testcloud/{name}")).expect("embedded world")
}

fn state(name: &str) -> MaasState {
    MaasState::load(&world(name), "admin").expect("loads")
}

fn cfg() -> SimConfig {
    SimConfig::default()
}

fn run(s: &mut MaasState, args: &str) -> Answer {
    let argv: Vec<String> = std::iter::once("maas".to_string())
        .chain(std::iter::once("admin".to_string()))
        .chain(args.split_whitespace().map(str::to_string))
        .collect();
    s.answer(&argv, None, &cfg())
        .expect("maas argvs are always answered")
}

fn doc(a: &Answer) -> Value {
    assert_eq!(
        a.exit,
        0,
        "{}{}",
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&a.stderr)
    );
    serde_json::from_slice(&a.stdout).expect("a JSON document")
}

fn body(a: &Answer) -> String {
    String::from_utf8_lossy(&a.stdout).into_owned()
}

fn machine<'v>(machines: &'v Value, hostname: &str) -> Option<&'v Value> {
    machines
        .as_array()?
        .iter()
        .find(|m| text(m, "hostname") == Some(hostname))
}

fn iface_id(s: &mut MaasState, sid: &str, name: &str) -> i64 {
    let set = doc(&run(s, &format!("interfaces read {sid}")));
    set.as_array()
        .and_then(|a| a.iter().find(|i| text(i, "name") == Some(name)))
        .and_then(|i| int(i, "id"))
        .unwrap_or_else(|| panic!("{name} on {sid}"))
}

fn records(s: &mut MaasState, subnet: i64) -> Vec<Value> {
    doc(&run(s, &format!("subnet ip-addresses {subnet}")))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn verdicts(sim: Sim, gates: &[&str]) -> Vec<Verdict> {
    let profile = Profile::embedded("testcloud").expect("profile");
    let specs: Vec<_> = crate::gates::catalog()
        .into_iter()
        .filter(|g| gates.contains(&g.id))
        .collect();
    let (_, v) = evaluate(
        &specs,
        &profile,
        Arc::new(crate::runner::Logged::new(sim)),
        RunOptions::default(),
    )
    .await;
    v
}

#[test]
fn every_recorded_maas_read_renders_byte_for_byte() {
    let root = crate::world::EMBEDDED
        .get_dir("testcloud")
        .expect("testcloud");
    let mut worlds = 0;
    let mut reads = 0;
    for dir in root.dirs() {
        let name = dir.path().display().to_string();
        if dir.get_file(dir.path().join("world.toml")).is_none() {
            continue;
        }
        let w = World::embedded(&name).expect("world");
        let maas: Vec<Vec<String>> = w
            .argvs()
            .filter(|a| a.first().map(String::as_str) == Some("maas"))
            .cloned()
            .collect();
        if maas.is_empty() {
            continue;
        }
        worlds += 1;
        let mut s = MaasState::load(&w, "admin").unwrap_or_else(|e| panic!("{name}: {e}"));
        let stale: Vec<String> = s.stale_interface_reads().cloned().collect();
        for argv in maas {
            let rec = w.get(&argv).expect("recorded");
            let got = s.answer(&argv, None, &cfg()).expect("answered");
            if argv.get(2).map(String::as_str) == Some("interfaces") && stale.contains(&argv[4]) {
                // Inherited from the world this one extends, for a machine it no
                // longer holds: MAAS answers 404 (InterfacesHandler.read).
                assert_eq!(
                    (got.exit, body(&got).as_str()),
                    (2, "No Node matches the given query.")
                );
                continue;
            }
            reads += 1;
            assert_eq!(got.exit, rec.exit, "{name}: {argv:?}");
            assert!(
                got.stdout == rec.stdout,
                "{name}: {argv:?} renders differently:\n{}",
                first_difference(&got.stdout, &rec.stdout)
            );
        }
    }
    assert!(
        worlds >= 17 && reads > 300,
        "{worlds} worlds, {reads} reads"
    );
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(80);
    format!(
        "at byte {at}: got {:?} recorded {:?}",
        String::from_utf8_lossy(&a[from..(at + 80).min(a.len())]),
        String::from_utf8_lossy(&b[from..(at + 80).min(b.len())])
    )
}

#[test]
fn unmodelled_and_foreign_argvs() {
    let mut s = state("phase00-ready-carved");
    let a = run(&mut s, "machine power-parameters w7e3kq");
    assert_eq!(a.exit, 2);
    assert!(String::from_utf8_lossy(&a.stderr).contains("invalid choice: 'power-parameters'"));
    let a = run(&mut s, "frobnicate read");
    assert!(String::from_utf8_lossy(&a.stderr).contains("invalid choice: 'frobnicate'"));
    let a = s
        .answer(
            &[
                "maas".into(),
                "other".into(),
                "machines".into(),
                "read".into(),
            ],
            None,
            &cfg(),
        )
        .expect("answered");
    assert_eq!(a.exit, 2);
    assert!(String::from_utf8_lossy(&a.stderr).contains("invalid choice: 'other'"));
    assert!(
        s.answer(&["juju".into(), "models".into()], None, &cfg())
            .is_none()
    );
    let a = run(&mut s, "tags create justaword");
    assert_eq!(a.exit, 1);
}

#[test]
fn unknown_system_ids_answer_maas_404() {
    let mut s = state("phase00-ready-carved");
    for args in ["machine delete zzzzzz", "machine release zzzzzz"] {
        let a = run(&mut s, args);
        assert_eq!(
            (a.exit, body(&a).as_str(), a.stderr.is_empty()),
            (2, "No Machine matches the given query.", true)
        );
    }
    let a = run(&mut s, "interfaces read zzzzzz");
    assert_eq!(body(&a), "No Node matches the given query.");
    let a = run(
        &mut s,
        "interface link-subnet zzzzzz 1 mode=STATIC subnet=2 ip_address=10.12.8.9",
    );
    assert_eq!(body(&a), "No Interface matches the given query.");
}

#[test]
fn create_commissions_over_polls_with_a_fresh_system_id_and_no_password() {
    let mut s = state("phase00-dirty");
    let old = s.system_id("openstack1").expect("openstack1");
    s.apply(
        &Effect::ModelMachineGone {
            hostname: "openstack1".into(),
        },
        &cfg(),
    );
    assert!(s.system_id("openstack1").is_none());
    let a = run(
        &mut s,
        "machines create hostname=openstack1 architecture=amd64/generic power_type=virsh \
         mac_addresses=52:54:00:7d:71:41 power_parameters_power_address=qemu+ssh://logxen@10.12.64.1/system \
         power_parameters_power_id=openstack1 power_parameters_power_pass@=/home/ubuntu/.virsh-pass",
    );
    let created = doc(&a);
    let sid = text(&created, "system_id").expect("sid").to_string();
    assert_ne!(sid, old);
    assert_eq!(sid.len(), 6);
    assert!(!["4na83t", "qdbqd6", "h8frng", "tmsafc"].contains(&sid.as_str()));
    assert_eq!(int(&created, "status"), Some(status::NEW));
    let mut seen = Vec::new();
    for _ in 0..6 {
        let ms = doc(&run(&mut s, "machines read"));
        let m = machine(&ms, "openstack1").expect("present");
        assert_eq!(text(m, "system_id"), Some(sid.as_str()));
        seen.push(text(m, "status_name").unwrap_or("").to_string());
        let out = String::from_utf8(render(&ms)).unwrap();
        assert!(!out.contains("power_parameters") && !out.contains(".virsh-pass"));
    }
    assert_eq!(
        seen,
        [
            "New",
            "New",
            "Commissioning",
            "Commissioning",
            "Ready",
            "Ready"
        ]
    );
    let ms = doc(&run(&mut s, "machines read"));
    assert_eq!(
        int(machine(&ms, "openstack1").unwrap(), "status"),
        Some(status::READY)
    );
    // A second machine never reuses an id.
    s.apply(
        &Effect::ModelMachineGone {
            hostname: "openstack1".into(),
        },
        &cfg(),
    );
    let again = doc(&run(
        &mut s,
        "machines create hostname=openstack1 architecture=amd64/generic power_type=virsh mac_addresses=52:54:00:7d:71:41",
    ));
    assert_ne!(text(&again, "system_id"), Some(sid.as_str()));
}

#[test]
fn a_host_never_seen_needs_the_world_to_supply_its_hardware() {
    let mut s = state("phase00-ready-carved");
    let a = run(
        &mut s,
        "machines create hostname=newhost architecture=amd64/generic power_type=virsh mac_addresses=52:54:00:00:00:01",
    );
    assert_eq!(a.exit, 1);
    assert!(String::from_utf8_lossy(&a.stderr).contains("no hardware known for `newhost`"));
    let a = run(
        &mut s,
        "machines create hostname=x architecture=amd64/generic power_type=virsh mac_addresses=52:54:00:7c:71:40",
    );
    assert_eq!(
        body(&a),
        r#"{"mac_addresses": ["MAC address 52:54:00:7c:71:40 already in use on openstack0."]}"#
    );
}

#[test]
fn decompose_then_reenroll_restores_the_nics_raw_with_the_discovered_ghost() {
    let mut s = state("phase00-ready-carved");
    let before = doc(&run(&mut s, "interfaces read c8rxma"));
    let physical: Vec<(String, String)> = before
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| text(i, "type") == Some("physical"))
        .map(|i| {
            (
                text(i, "name").unwrap().into(),
                text(i, "mac_address").unwrap().into(),
            )
        })
        .collect();
    s.apply(
        &Effect::ModelMachineGone {
            hostname: "openstack2".into(),
        },
        &cfg(),
    );
    assert!(
        records(&mut s, 2)
            .iter()
            .all(|r| text(r, "ip") != Some("10.12.8.42"))
    );
    assert_eq!(
        body(&run(&mut s, "interfaces read c8rxma")),
        "No Node matches the given query."
    );
    let created = doc(&run(
        &mut s,
        "machines create hostname=openstack2 architecture=amd64/generic power_type=virsh mac_addresses=52:54:00:7e:71:42 power_parameters_power_pass@=pw",
    ));
    let sid = text(&created, "system_id").unwrap().to_string();
    for _ in 0..4 {
        run(&mut s, "machines read");
    }
    let set = doc(&run(&mut s, &format!("interfaces read {sid}")));
    let set = set.as_array().unwrap();
    let got: Vec<(String, String)> = set
        .iter()
        .map(|i| {
            (
                text(i, "name").unwrap().into(),
                text(i, "mac_address").unwrap().into(),
            )
        })
        .collect();
    assert_eq!(got, physical);
    assert!(set.iter().all(|i| text(i, "type") == Some("physical")));
    for i in set {
        let links = i["links"].as_array().unwrap();
        if text(i, "name") == Some("enp7s0") {
            assert_eq!(i["vlan"]["id"], json!(5001));
            assert_eq!(i["vlan"]["dhcp_on"], json!(true));
            assert_eq!(links.len(), 1);
            assert_eq!(links[0]["mode"], json!("auto"));
        } else {
            assert!(links.is_empty(), "{i}");
            assert_eq!(i["vlan"]["space"], json!("undefined"));
            let fabric = int(&i["vlan"], "fabric_id").unwrap();
            let vl = doc(&run(&mut s, &format!("vlans read {fabric}")));
            assert_eq!(vl[0]["id"], i["vlan"]["id"]);
        }
    }
    let ghost: Vec<Value> = records(&mut s, 2)
        .into_iter()
        .filter(|r| text(r, "ip") == Some("10.12.8.42"))
        .collect();
    assert_eq!(ghost.len(), 1);
    assert_eq!(int(&ghost[0], "alloc_type"), Some(alloc::DISCOVERED));
    assert!(
        ghost[0]
            .get("node_summary")
            .and_then(|n| text(n, "system_id"))
            .unwrap_or("")
            .is_empty()
    );
    let ms = doc(&run(&mut s, "machines read"));
    let m = machine(&ms, "openstack2").unwrap();
    assert_eq!(text(m, "status_name"), Some("Ready"));
    assert_eq!(m["boot_interface"]["name"], json!("enp7s0"));
    assert_eq!(m["tag_names"], json!(["virtual"]));
}

#[test]
fn the_discovered_ghost_blocks_link_subnet_until_released_with_both_flags() {
    let mut s = state("phase00-discovered-own");
    let sid = s.system_id("openstack3").unwrap();
    let enp7 = iface_id(&mut s, &sid, "enp7s0");
    let br = doc(&run(
        &mut s,
        &format!(
            "interfaces create-bridge {sid} name=br-metal parent={enp7} bridge_type=standard vlan=5001"
        ),
    ));
    assert_eq!(br["params"]["bridge_type"], json!("standard"));
    assert_eq!(br["parents"], json!(["enp7s0"]));
    let bid = int(&br, "id").unwrap();
    let link =
        format!("interface link-subnet {sid} {bid} mode=STATIC subnet=2 ip_address=10.12.8.43");
    let a = run(&mut s, &link);
    assert_eq!(
        (a.exit, body(&a).as_str()),
        (2, "IP address is already in use.")
    );
    let a = run(&mut s, "ipaddresses release ip=10.12.8.43 force=true");
    assert_eq!(
        (a.exit, body(&a).as_str()),
        (2, "IP address 10.12.8.43 does not exist.")
    );
    let a = run(
        &mut s,
        "ipaddresses release ip=10.12.8.43 force=true discovered=true",
    );
    assert_eq!((a.exit, a.stdout.len()), (0, 0));
    let linked = doc(&run(&mut s, &link));
    assert_eq!(linked["links"][0]["ip_address"], json!("10.12.8.43"));
    let recs = records(&mut s, 2);
    let r = recs
        .iter()
        .find(|r| text(r, "ip") == Some("10.12.8.43"))
        .unwrap();
    assert_eq!(int(r, "alloc_type"), Some(alloc::STICKY));
    assert_eq!(r["node_summary"]["system_id"], json!(sid));
    assert_eq!(r["node_summary"]["via"], json!("br-metal"));
    // Every later read agrees.
    let ms = doc(&run(&mut s, "machines read"));
    let m = machine(&ms, "openstack3").unwrap();
    assert!(
        m["ip_addresses"]
            .as_array()
            .unwrap()
            .contains(&json!("10.12.8.43"))
    );
    let enp7 = m["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "enp7s0")
        .unwrap();
    assert_eq!(enp7["children"], json!(["br-metal"]));
    assert!(enp7["links"].as_array().unwrap().is_empty());
}

#[test]
fn pattern_a_carve_mutations_and_their_refusals() {
    let mut s = state("phase00-deployed-during-carve");
    let sid = s.system_id("openstack0").unwrap();
    let enp8 = iface_id(&mut s, &sid, "enp8s0");
    let brm = iface_id(&mut s, &sid, "br-metal");
    let refusals = [
        (
            format!("interfaces create-bridge {sid} name=br-internal parent={brm} vlan=5011"),
            "create bridge",
        ),
        (
            format!("interfaces create-vlan {sid} vlan=5011 parent={brm}"),
            "create VLAN",
        ),
        (
            format!(
                "interface link-subnet {sid} {enp8} mode=STATIC subnet=6 ip_address=10.12.16.40"
            ),
            "link subnet",
        ),
        (
            format!("interface unlink-subnet {sid} {enp8} id=1"),
            "unlink subnet",
        ),
    ];
    for (args, op) in refusals {
        let a = run(&mut s, &args);
        assert_eq!(
            (a.exit, body(&a)),
            (
                2,
                format!(
                    "Cannot {op} interface because the machine is not New, Ready, Allocated, or Broken."
                )
            )
        );
    }
    // Deployed: DeployedInterfaceForm ignores vlan=.
    let before = doc(&run(&mut s, &format!("interfaces read {sid}")));
    doc(&run(
        &mut s,
        &format!("interface update {sid} {enp8} vlan=5001"),
    ));
    assert_eq!(doc(&run(&mut s, &format!("interfaces read {sid}"))), before);
    // Released to Ready, the carve goes through.
    let released = doc(&run(&mut s, &format!("machine release {sid}")));
    assert_eq!(
        (int(&released, "status"), released["owner"].clone()),
        (Some(status::READY), Value::Null)
    );
    let vlan = doc(&run(
        &mut s,
        &format!("interfaces create-vlan {sid} vlan=5011 parent={brm}"),
    ));
    assert_eq!(vlan["name"], json!("br-metal.103"));
    let bad = run(
        &mut s,
        &format!("interfaces create-vlan {sid} vlan=5001 parent={brm}"),
    );
    assert_eq!(
        body(&bad),
        r#"{"vlan": ["A VLAN interface can only belong to a tagged VLAN."]}"#
    );
    let vid = int(&vlan, "id").unwrap();
    let bi = doc(&run(
        &mut s,
        &format!(
            "interfaces create-bridge {sid} name=br-internal parent={vid} bridge_type=standard vlan=5011"
        ),
    ));
    let bii = int(&bi, "id").unwrap();
    let l = doc(&run(
        &mut s,
        &format!("interface link-subnet {sid} {bii} mode=STATIC subnet=10 ip_address=10.12.12.40"),
    ));
    assert_eq!(l["links"][0]["subnet"]["cidr"], json!("10.12.12.0/22"));
    // A subnet off the interface's VLAN is not a choice.
    let a = run(
        &mut s,
        &format!("interface link-subnet {sid} {enp8} mode=STATIC subnet=10 ip_address=10.12.12.99"),
    );
    assert_eq!(body(&a), r#"{"subnet": ["None found with id=10."]}"#);
    let l = doc(&run(
        &mut s,
        &format!("interface link-subnet {sid} {enp8} mode=STATIC subnet=6 ip_address=10.12.16.40"),
    ));
    let link_id = int(&l["links"][0], "id").unwrap();
    assert!(
        records(&mut s, 6)
            .iter()
            .any(|r| text(r, "ip") == Some("10.12.16.40"))
    );
    let u = doc(&run(
        &mut s,
        &format!("interface unlink-subnet {sid} {enp8} id={link_id}"),
    ));
    assert!(u["links"].as_array().unwrap().is_empty());
    assert!(
        records(&mut s, 6)
            .iter()
            .all(|r| text(r, "ip") != Some("10.12.16.40"))
    );
    // interface update moves a NIC to another VLAN on a Ready machine.
    let moved = doc(&run(
        &mut s,
        &format!("interface update {sid} {enp8} vlan=5001"),
    ));
    assert_eq!(moved["vlan"]["id"], json!(5001));
    let tree = doc(&run(&mut s, &format!("interfaces read {sid}")));
    let names: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| text(i, "name"))
        .collect();
    assert!(names.contains(&"br-metal.103") && names.contains(&"br-internal"));
    let ms = doc(&run(&mut s, "machines read"));
    assert_eq!(machine(&ms, "openstack0").unwrap()["interface_set"], tree);
}

#[test]
fn tags_subnets_and_ranges() {
    let mut s = state("phase00-ready-carved");
    let t = doc(&run(&mut s, "tags create name=canary comment=path-a"));
    assert_eq!(t["resource_uri"], json!("/MAAS/api/2.0/tags/canary/"));
    assert_eq!(
        body(&run(&mut s, "tags create name=canary")),
        r#"{"name": ["Tag with this Name already exists."]}"#
    );
    let sid = s.system_id("openstack0").unwrap();
    let r = doc(&run(&mut s, &format!("tag update-nodes canary add={sid}")));
    assert_eq!(r, json!({"added": 1, "removed": 0}));
    assert_eq!(
        body(&run(&mut s, "tag update-nodes nosuch add=x")),
        "No Tag matches the given query."
    );
    let ms = doc(&run(&mut s, "machines read"));
    assert!(
        machine(&ms, "openstack0").unwrap()["tag_names"]
            .as_array()
            .unwrap()
            .contains(&json!("canary"))
    );

    let u = doc(&run(
        &mut s,
        "subnet update 6 gateway_ip=10.12.16.1 dns_servers=10.12.8.1,10.12.8.2",
    ));
    assert_eq!(
        (u["gateway_ip"].clone(), u["dns_servers"].clone()),
        (json!("10.12.16.1"), json!(["10.12.8.1", "10.12.8.2"]))
    );
    let sp = doc(&run(&mut s, "spaces read"));
    let nested = sp
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["subnets"].as_array().cloned().unwrap_or_default())
        .find(|x| x["id"] == 6)
        .unwrap();
    assert_eq!(nested["gateway_ip"], json!("10.12.16.1"));
    let ifs = doc(&run(&mut s, &format!("interfaces read {sid}")));
    let enp8 = ifs
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "enp8s0")
        .unwrap();
    assert_eq!(
        enp8["links"][0]["subnet"]["gateway_ip"],
        json!("10.12.16.1")
    );

    let a = run(&mut s, "subnet delete 6");
    assert_eq!(
        (a.exit, body(&a).as_str()),
        (
            2,
            "Cannot delete a subnet that has IP addresses in use by nodes. (Use the 'force' parameter to override.)"
        )
    );
    let n = doc(&run(
        &mut s,
        "subnets create cidr=10.12.20.0/22 vlan=5004 name=data-tenant-2",
    ));
    let nid = int(&n, "id").unwrap();
    assert_eq!(n["space"], json!("data-tenant"));
    assert_eq!(
        body(&run(&mut s, "subnets create cidr=10.12.20.0/22 vlan=5004")),
        r#"{"cidr": ["Subnet with this Cidr already exists."]}"#
    );
    assert!(
        s.spaces()
            .iter()
            .any(|(name, cidrs)| name == "data-tenant"
                && cidrs.contains(&"10.12.20.0/22".to_string()))
    );
    let r = doc(&run(
        &mut s,
        "ipranges create type=reserved start_ip=10.12.20.2 end_ip=10.12.20.100 comment=VIPs",
    ));
    assert_eq!(r["subnet"]["id"], json!(nid));
    let rid = int(&r, "id").unwrap();
    assert!(
        doc(&run(&mut s, "ipranges read"))
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == rid)
    );
    assert_eq!(run(&mut s, &format!("iprange delete {rid}")).exit, 0);
    assert_eq!(
        body(&run(&mut s, &format!("iprange delete {rid}"))),
        "No IPRange matches the given query."
    );
    assert_eq!(run(&mut s, &format!("subnet delete {nid}")).exit, 0);
    assert_eq!(
        body(&run(&mut s, &format!("subnet delete {nid}"))),
        "No Subnet matches the given query."
    );
}

#[test]
fn release_and_delete_and_kept() {
    let mut s = state("phase00-dirty");
    let sid = s.system_id("openstack0").unwrap();
    let keep = SimConfig {
        decompose_on_destroy: false,
        ..SimConfig::default()
    };
    let before = doc(&run(&mut s, &format!("interfaces read {sid}")));
    s.apply(
        &Effect::MachineKept {
            hostname: "openstack0".into(),
        },
        &keep,
    );
    let ms = doc(&run(&mut s, "machines read"));
    assert_eq!(
        text(machine(&ms, "openstack0").unwrap(), "status_name"),
        Some("Deployed")
    );
    s.apply(
        &Effect::ModelMachineGone {
            hostname: "openstack0".into(),
        },
        &keep,
    );
    let ms = doc(&run(&mut s, "machines read"));
    let m = machine(&ms, "openstack0").unwrap();
    assert_eq!(
        (text(m, "status_name"), m["owner"].clone()),
        (Some("Ready"), Value::Null)
    );
    assert_eq!(doc(&run(&mut s, &format!("interfaces read {sid}"))), before);
    let a = run(&mut s, &format!("machine release {sid}"));
    assert_eq!(a.exit, 0);
    assert_eq!(
        run(&mut s, &format!("machine delete {sid}")).stdout.len(),
        0
    );
    assert!(s.system_id("openstack0").is_none());
}

#[tokio::test]
async fn gates_read_the_simulated_maas() {
    let sim = Sim::new(world("phase00-ready-carved"), "admin", cfg()).unwrap();
    let v = verdicts(
        sim,
        &["P00-CARVE", "P00-REENROLL", "P00-SPACES", "P00-STANDUP"],
    )
    .await;
    assert!(v.iter().all(|v| v.status == Status::Pass), "{v:#?}");

    let sim = Sim::new(world("phase00-discovered-own"), "admin", cfg()).unwrap();
    let v = verdicts(sim, &["P00-CARVE"]).await;
    assert_eq!(v[0].status, Status::Fail);
    assert_eq!(v[0].metrics.get("discovered_own"), Some(&1));
}

#[tokio::test]
async fn after_a_decompose_the_teardown_gate_sees_the_hosts_gone() {
    let sim = Sim::new(world("sim-phase00-dirty"), "admin", cfg()).unwrap();
    let v = verdicts(sim, &["P00-TEARDOWN"]).await;
    let gone = |v: &Verdict| {
        v.evidence
            .iter()
            .filter(|e| {
                e.subject.starts_with("host openstack") && e.actual == "not in MAAS (decomposed)"
            })
            .count()
    };
    assert_eq!(gone(&v[0]), 0);
    // The destroy path's MAAS half, as the CLI does it (the juju part raises
    // ModelMachineGone for the same hosts; MaasState::apply is tested above).
    let sim = Sim::new(world("sim-phase00-dirty"), "admin", cfg()).unwrap();
    let st = MaasState::load(&world("phase00-dirty"), "admin").unwrap();
    for h in [
        "openstack0",
        "openstack1",
        "openstack2",
        "openstack3",
        "capi-mgmt",
    ] {
        if let Some(sid) = st.system_id(h) {
            let argv: Vec<String> = ["maas", "admin", "machine", "delete", &sid]
                .map(String::from)
                .to_vec();
            assert_eq!(sim.answer(&argv, None).unwrap().exit, 0);
        }
    }
    let v = verdicts(sim, &["P00-TEARDOWN"]).await;
    assert_eq!(gone(&v[0]), 4, "{:#?}", v[0].evidence);
}

#[tokio::test]
async fn a_sim_world_supplies_the_hardware_of_hosts_never_seen() {
    let sim = Sim::new(world("sim-hosts-decomposed"), "admin", cfg()).unwrap();
    let ask = |args: &str| -> Answer {
        let argv: Vec<String> = ["maas", "admin"]
            .iter()
            .map(|s| s.to_string())
            .chain(args.split_whitespace().map(str::to_string))
            .collect();
        sim.answer(&argv, None).unwrap()
    };
    assert!(machine(&doc(&ask("machines read")), "openstack0").is_none());
    let boot = [
        ("openstack0", "52:54:00:7c:71:40"),
        ("openstack1", "52:54:00:7d:71:41"),
        ("openstack2", "52:54:00:7e:71:42"),
        ("openstack3", "52:54:00:7f:71:43"),
    ];
    let mut sids = Vec::new();
    for (h, mac) in boot {
        let m = doc(&ask(&format!(
            "machines create hostname={h} architecture=amd64/generic power_type=virsh mac_addresses={mac} power_parameters_power_id={h} power_parameters_power_pass@=/dev/stdin"
        )));
        sids.push(text(&m, "system_id").unwrap().to_string());
    }
    for _ in 0..4 {
        ask("machines read");
    }
    for sid in &sids {
        assert_eq!(
            ask(&format!("tag update-nodes openstack add={sid}")).exit,
            0
        );
    }
    let ghosts = doc(&ask("subnet ip-addresses 2"));
    let n = ghosts
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| int(r, "alloc_type") == Some(alloc::DISCOVERED))
        .count();
    assert_eq!(n, 4);
    let v = verdicts(sim, &["P00-REENROLL", "P00-CARVE"]).await;
    assert_eq!(v[0].id, "P00-REENROLL");
    assert_eq!(v[0].status, Status::Pass, "{:#?}", v[0]);
    // Raw NICs: the carve is still to be done, and each host's own ghost is releasable.
    assert_eq!(v[1].status, Status::Fail);
    assert_eq!(v[1].metrics.get("discovered_own"), Some(&4));
    assert_eq!(v[1].metrics.get("refused_foreign"), Some(&0));
}
