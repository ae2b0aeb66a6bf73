use std::sync::Arc;

use super::*;
use crate::world::{EMBEDDED, World};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const VIRSH: &[&str] = &["sudo", "-n", "virsh", "-c", "qemu:///system"];

fn virsh(args: &[&str]) -> Vec<String> {
    s(&[VIRSH, args].concat())
}

/// Every embedded testcloud world.
pub(crate) fn testcloud_worlds() -> Vec<String> {
    let dir = EMBEDDED.get_dir("testcloud").expect("embedded testcloud");
    let mut names: Vec<String> = dir
        .dirs()
        .filter(|d| d.get_file(d.path().join("world.toml")).is_some())
        .map(|d| d.path().display().to_string())
        .collect();
    names.sort();
    names
}

fn host(world: &str) -> HostState {
    HostState::load(&World::embedded(world).unwrap()).unwrap()
}

fn ask(h: &mut HostState, argv: &[String]) -> Answer {
    h.answer(argv, None, &SimConfig::default())
        .expect("the host's argv")
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

#[test]
fn every_recorded_host_argv_renders_its_recording() {
    let mut answered = 0;
    for name in testcloud_worlds() {
        let world = World::embedded(&name).unwrap();
        let mut h = HostState::load(&world).unwrap_or_else(|e| panic!("{name}: {e}"));
        for argv in world.argvs() {
            let Some(got) = h.answer(argv, None, &SimConfig::default()) else {
                continue;
            };
            let rec = world.get(argv).unwrap();
            let shown = crate::runner::display_argv(argv);
            assert_eq!(got.exit, rec.exit, "{name}: `{shown}` exit");
            assert_eq!(
                text(&got.stdout),
                text(&rec.stdout),
                "{name}: `{shown}` stdout"
            );
            assert_eq!(
                text(&got.stderr),
                text(&rec.stderr),
                "{name}: `{shown}` stderr"
            );
            answered += 1;
        }
    }
    assert!(answered > 300, "only {answered} recordings answered");
}

#[test]
fn other_programs_are_not_the_hosts_and_unmodelled_forms_are_errors() {
    let mut h = host("testcloud/phase00-ready-carved");
    assert!(
        h.answer(
            &s(&["maas", "admin", "machines", "read"]),
            None,
            &SimConfig::default()
        )
        .is_none()
    );
    assert!(
        h.answer(&s(&["sed", "-n", "p", "x"]), None, &SimConfig::default())
            .is_none()
    );
    for argv in [
        virsh(&["list"]),
        s(&["cat", "bundle.yaml"]),
        s(&["rm", "-rf", "/"]),
        s(&["qemu-img", "convert", "a", "b"]),
        s(&[
            "stat",
            "-c",
            "%s",
            "/var/lib/libvirt/images/openstack0-1.qcow2",
        ]),
    ] {
        let a = ask(&mut h, &argv);
        assert_eq!(a.exit, 1, "{argv:?}");
        assert!(
            text(&a.stderr).contains("not modelled"),
            "{argv:?}: {}",
            text(&a.stderr)
        );
    }
    let a = ask(&mut h, &virsh(&["frobnicate"]));
    assert_eq!(text(&a.stderr), "error: unknown command: 'frobnicate'\n");
}

#[test]
fn unknown_domains_and_networks_fail_as_virsh_does() {
    let mut h = host("testcloud/phase00-ready-carved");
    let a = ask(&mut h, &virsh(&["dumpxml", "nosuch"]));
    assert_eq!((a.exit, text(&a.stdout)), (1, "\n"));
    assert_eq!(text(&a.stderr), "error: failed to get domain 'nosuch'\n");
    for cmd in ["net-dumpxml", "net-destroy", "net-undefine"] {
        let a = ask(&mut h, &virsh(&[cmd, "8_lbaas"]));
        assert_eq!(a.exit, 1);
        assert_eq!(
            text(&a.stderr),
            "error: failed to get network '8_lbaas'\nerror: Network not found: no network with matching name '8_lbaas'\n"
        );
    }
}

const LBAAS_MACS: [(&str, &str); 4] = [
    ("openstack0", "52:54:00:7c:b5:40"),
    ("openstack1", "52:54:00:7d:b5:41"),
    ("openstack2", "52:54:00:7e:b5:42"),
    ("openstack3", "52:54:00:7f:b5:43"),
];

#[test]
fn detach_without_config_on_a_shut_off_domain_is_refused() {
    let mut h = host("testcloud/phase00-lbaas-present");
    let before = ask(&mut h, &virsh(&["dumpxml", "openstack0"]));
    let a = ask(
        &mut h,
        &virsh(&[
            "detach-interface",
            "openstack0",
            "network",
            "--mac",
            "52:54:00:7c:b5:40",
        ]),
    );
    assert_eq!((a.exit, text(&a.stdout)), (1, "\n"));
    assert_eq!(
        text(&a.stderr),
        "error: Failed to detach interface\nerror: Requested operation is not valid: domain is not running\n"
    );
    assert_eq!(ask(&mut h, &virsh(&["dumpxml", "openstack0"])), before);
    let a = ask(
        &mut h,
        &virsh(&[
            "detach-interface",
            "openstack0",
            "network",
            "--mac",
            "52:54:00:00:00:99",
            "--config",
        ]),
    );
    assert_eq!(
        text(&a.stderr),
        "error: No interface with MAC address 52:54:00:00:00:99 was found\nerror: Failed to detach interface\n"
    );
}

/// Step 3 of seed 002 on `phase00-lbaas-present`: back up, detach each idle NIC with
/// `--config`, destroy and undefine the network; the end state is `phase00-ready-carved`'s
/// recordings, byte for byte.
#[test]
fn the_lbaas_removal_ends_in_the_recorded_exit_state() {
    let mut h = host("testcloud/phase00-lbaas-present");
    let backup = ask(&mut h, &virsh(&["net-dumpxml", "8_lbaas"]));
    assert_eq!(
        text(&backup.stdout),
        "<network>\n  <name>8_lbaas</name>\n  <uuid>0c1d3a5e-1b2f-4c7d-8e9a-1f2e3d4c5b08</uuid>\n  <bridge name='virbr6' stp='on' delay='0'/>\n</network>\n\n"
    );
    for (dom, mac) in LBAAS_MACS {
        let a = ask(
            &mut h,
            &virsh(&["detach-interface", dom, "network", "--mac", mac, "--config"]),
        );
        assert_eq!(
            (a.exit, text(&a.stdout)),
            (0, "Interface detached successfully\n\n"),
            "{dom}"
        );
    }
    let a = ask(&mut h, &virsh(&["net-destroy", "8_lbaas"]));
    assert_eq!(text(&a.stdout), "Network 8_lbaas destroyed\n\n");
    let again = ask(&mut h, &virsh(&["net-destroy", "8_lbaas"]));
    assert_eq!(
        text(&again.stderr),
        "error: Failed to destroy network 8_lbaas\nerror: Requested operation is not valid: network '8_lbaas' is not active\n"
    );
    let a = ask(&mut h, &virsh(&["net-undefine", "8_lbaas"]));
    assert_eq!(text(&a.stdout), "Network 8_lbaas has been undefined\n\n");
    let done = World::embedded("testcloud/phase00-ready-carved").unwrap();
    let mut argvs = vec![virsh(&["net-list", "--all"]), virsh(&["list", "--all"])];
    for (dom, _) in LBAAS_MACS {
        argvs.push(virsh(&["dumpxml", dom]));
        argvs.push(virsh(&["domstate", dom]));
    }
    for argv in argvs {
        let rec = done.get(&argv).unwrap();
        assert_eq!(
            text(&ask(&mut h, &argv).stdout),
            text(&rec.stdout),
            "{argv:?}"
        );
    }
}

#[test]
fn undefining_an_active_network_leaves_it_transient_until_destroyed() {
    let mut h = host("testcloud/phase00-lbaas-present");
    ask(&mut h, &virsh(&["net-undefine", "8_lbaas"]));
    let list = ask(&mut h, &virsh(&["net-list", "--all"]));
    assert!(
        text(&list.stdout).contains(" 8_lbaas         active   no          no\n"),
        "{}",
        text(&list.stdout)
    );
    ask(&mut h, &virsh(&["net-destroy", "8_lbaas"]));
    let list = ask(&mut h, &virsh(&["net-list", "--all"]));
    assert!(!text(&list.stdout).contains("8_lbaas"));
}

/// Runs the real virsh on a world's test-driver node, one session of `;`-separated
/// commands (the test driver's state lives for one process), or None when virsh is not
/// installed.
// A test skipped for a missing program says so on the test's stderr.
#[allow(clippy::print_stderr)]
fn real_virsh(node: &std::path::Path, script: &str) -> Option<std::process::Output> {
    let out = std::process::Command::new("virsh")
        .env("LC_ALL", "C")
        .args(["-c", &format!("test://{}", node.display()), script])
        .output();
    match out {
        Ok(o) => Some(o),
        Err(_) => {
            eprintln!("skipped: virsh is not installed");
            None
        }
    }
}

/// The renderer against virsh 9.0 on libvirt's test driver: every network's XML, and
/// `net-list --all` after `net-destroy` and `net-undefine` (the test driver refuses to
/// undefine an active network, so the order is the runbook's).
#[test]
fn network_renders_match_the_real_virsh() {
    let node = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/testcloud/phase00-lbaas-present/libvirt-node.xml");
    let mut h = host("testcloud/phase00-lbaas-present");
    let defs = virsh::parse_node_networks(&std::fs::read_to_string(&node).unwrap()).unwrap();
    for name in defs.keys() {
        let Some(real) = real_virsh(&node, &format!("net-dumpxml {name}")) else {
            return;
        };
        let sim = ask(&mut h, &virsh(&["net-dumpxml", name]));
        assert_eq!(text(&sim.stdout), text(&real.stdout), "{name}");
    }
    let Some(real) = real_virsh(
        &node,
        "net-destroy 8_lbaas; net-list --all; net-undefine 8_lbaas; net-list --all",
    ) else {
        return;
    };
    let mut sim = String::new();
    for args in [
        &["net-destroy", "8_lbaas"][..],
        &["net-list", "--all"],
        &["net-undefine", "8_lbaas"],
        &["net-list", "--all"],
    ] {
        sim.push_str(text(&ask(&mut h, &virsh(args)).stdout));
    }
    assert_eq!(sim, text(&real.stdout));
}

const OSD: &str = "/var/lib/libvirt/images/openstack0-1.qcow2";

#[test]
fn a_recreated_osd_disk_is_blank_512g_root_600() {
    let mut h = host("testcloud/phase00-osd-data");
    let sudo = |args: &[&str]| s(&[&["sudo", "-n"][..], args].concat());
    let path = "/var/lib/libvirt/images/openstack2-1.qcow2";
    assert_eq!(ask(&mut h, &sudo(&["rm", "-f", "--", path])).exit, 0);
    let a = ask(&mut h, &sudo(&["stat", "-c", "%U:%G %a", path]));
    assert_eq!(
        (a.exit, text(&a.stderr)),
        (
            1,
            "stat: cannot statx '/var/lib/libvirt/images/openstack2-1.qcow2': No such file or directory\n"
        )
    );
    // rm -f of a missing file is no error.
    assert_eq!(ask(&mut h, &sudo(&["rm", "-f", "--", path])).exit, 0);
    let a = ask(
        &mut h,
        &sudo(&["qemu-img", "create", "-f", "qcow2", path, "512G"]),
    );
    assert_eq!(
        text(&a.stdout),
        format!(
            "Formatting '{path}', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=549755813888 lazy_refcounts=off refcount_bits=16\n"
        )
    );
    let a = ask(&mut h, &sudo(&["stat", "-c", "%U:%G %a", path]));
    assert_eq!(text(&a.stdout), "root:root 644\n", "umask 022 until chmod");
    ask(&mut h, &sudo(&["chown", "root:root", path]));
    ask(&mut h, &sudo(&["chmod", "600", path]));
    assert_eq!(
        text(&ask(&mut h, &sudo(&["stat", "-c", "%U:%G %a", path])).stdout),
        "root:root 600\n"
    );
    let blank = World::embedded("testcloud/phase00-ready-carved").unwrap();
    let info = sudo(&["qemu-img", "info", "--output=json", path]);
    assert_eq!(
        text(&ask(&mut h, &info).stdout),
        text(&blank.get(&info).unwrap().stdout),
        "the recorded blank disk"
    );
    // Without sudo the operator cannot give the file away.
    let a = ask(&mut h, &s(&["chown", "root:root", path]));
    assert_eq!(
        text(&a.stderr),
        format!("chown: changing ownership of '{path}': Operation not permitted\n")
    );
}

#[test]
#[allow(clippy::print_stderr)]
fn fresh_image_matches_real_qemu_img() {
    let dir = tempfile::tempdir().unwrap();
    for size in ["512M", "100G", "512G", "1T", "4T"] {
        let f = dir.path().join("x.qcow2");
        let made = std::process::Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&f)
            .arg(size)
            .status();
        if made.is_err() {
            eprintln!("skipped: qemu-img is not installed");
            return;
        }
        let out = std::process::Command::new("qemu-img")
            .args(["info", "--output=json"])
            .arg(&f)
            .output()
            .unwrap();
        let mut real: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // QEMU 8.0+ adds the block graph; the jumphost's 7.2 does not print it.
        real.as_object_mut().unwrap().remove("children");
        let p = f.display().to_string();
        let sim: serde_json::Value =
            serde_json::from_str(&ImageInfo::blank(&p, fs::parse_size(size).unwrap()).render())
                .unwrap();
        assert_eq!(sim, real, "{size}");
        std::fs::remove_file(&f).unwrap();
    }
}

#[test]
fn a_running_domain_holds_its_osd_image() {
    let mut h = host("testcloud/phase00-domain-running");
    let path = "/var/lib/libvirt/images/openstack1-1.qcow2";
    let a = ask(
        &mut h,
        &s(&["sudo", "-n", "qemu-img", "info", "--output=json", path]),
    );
    assert!(text(&a.stderr).contains("Failed to get shared \"write\" lock"));
}

#[test]
fn files_cat_ls_mkdir_tee_and_written_files() {
    let mut h = host("testcloud/phase00-ready-carved");
    let a = ask(&mut h, &s(&["cat", "--", "/home/ubuntu/nope"]));
    assert_eq!(
        (a.exit, text(&a.stderr)),
        (1, "cat: /home/ubuntu/nope: No such file or directory\n")
    );
    let a = ask(&mut h, &s(&["ls", "-A", "--", "/home/ubuntu/nope"]));
    assert_eq!(
        (a.exit, text(&a.stderr)),
        (
            2,
            "ls: cannot access '/home/ubuntu/nope': No such file or directory\n"
        )
    );
    let dir = "/home/ubuntu/backups/pre-destroy-1";
    assert_eq!(
        ask(&mut h, &s(&["mkdir", "-p", "-m", "700", "--", dir])).exit,
        0
    );
    assert_eq!(text(&ask(&mut h, &s(&["ls", "-A", "--", dir])).stdout), "");
    assert_eq!(
        text(&ask(&mut h, &s(&["stat", "-c", "%U:%G %a", dir])).stdout),
        "ubuntu:ubuntu 700\n"
    );
    assert_eq!(
        text(&ask(&mut h, &s(&["stat", "-c", "%a", "/home/ubuntu/backups"])).stdout),
        "755\n"
    );
    let status = format!("{dir}/juju-status.json");
    let a = h
        .answer(
            &s(&["tee", "--", &status]),
            Some(b"{}\n"),
            &SimConfig::default(),
        )
        .unwrap();
    assert_eq!(text(&a.stdout), "{}\n", "tee echoes its input");
    h.apply(&Effect::WroteFile {
        path: format!("{dir}/juju-export-bundle.yaml"),
        contents: b"applications: {}\n".to_vec(),
    });
    h.apply(&Effect::MachineKept {
        hostname: "openstack0".into(),
    });
    assert_eq!(
        text(&ask(&mut h, &s(&["ls", "-A", "--", dir])).stdout),
        "juju-export-bundle.yaml\njuju-status.json\n"
    );
    let bundle = format!("{dir}/juju-export-bundle.yaml");
    assert_eq!(
        text(&ask(&mut h, &s(&["cat", "--", &bundle])).stdout),
        "applications: {}\n"
    );
    assert_eq!(
        text(&ask(&mut h, &s(&["stat", "-c", "%U:%G %a", &bundle])).stdout),
        "ubuntu:ubuntu 600\n"
    );
    assert_eq!(
        text(&ask(&mut h, &s(&["stat", "-c", "%U:%G %a", &status])).stdout),
        "ubuntu:ubuntu 644\n"
    );
    let a = ask(&mut h, &s(&["cat", "--", dir]));
    assert_eq!(text(&a.stderr), format!("cat: {dir}: Is a directory\n"));
}

/// P00-OSD on `world` fails; after the seed-002 step-4 wipe of `path` (rm, qemu-img
/// create 512G, chown, chmod), run through the simulator, it passes.
async fn the_osd_gate_passes_after_a_wipe(world: &str, path: &str, config: SimConfig) {
    let world = World::embedded(world).unwrap();
    let profile = crate::profile::Profile::embedded(&world.profile).unwrap();
    let gate = crate::gates::by_id("P00-OSD").unwrap();
    let sim = Arc::new(crate::sim::Sim::new(world, "admin", config).unwrap());
    let run = |sim: Arc<crate::sim::Sim>| {
        let profile = profile.clone();
        async move {
            let (_, v) = crate::run::evaluate(
                &[gate],
                &profile,
                std::sync::Arc::new(crate::runner::Logged::new(sim)),
                Default::default(),
            )
            .await;
            v.into_iter().next().unwrap()
        }
    };
    assert_eq!(run(sim.clone()).await.status, crate::gates::Status::Fail);
    for argv in [
        &["rm", "-f", "--", path][..],
        &["qemu-img", "create", "-f", "qcow2", path, "512G"],
        &["chown", "root:root", path],
        &["chmod", "600", path],
    ] {
        let a = sim
            .answer(&s(&[&["sudo", "-n"][..], argv].concat()), None)
            .unwrap();
        assert_eq!(a.exit, 0, "{argv:?}");
    }
    let v = run(sim).await;
    assert_eq!(v.status, crate::gates::Status::Pass, "{v:#?}");
}

/// On `phase00-osd-data` openstack2's disk holds 48 MiB.
#[tokio::test]
async fn the_osd_gate_passes_on_a_simulated_wipe() {
    the_osd_gate_passes_after_a_wipe(
        "testcloud/phase00-osd-data",
        "/var/lib/libvirt/images/openstack2-1.qcow2",
        SimConfig::default(),
    )
    .await;
}

#[test]
fn a_qemu_img_size_reads_qemus_suffixes() {
    assert_eq!(fs::parse_size("512G"), Some(512 << 30));
    assert_eq!(fs::parse_size("1024"), Some(1024));
    assert_eq!(fs::parse_size("2k"), Some(2048));
    assert_eq!(fs::parse_size("G"), None);
    let _ = OSD;
}

/// Whether virsh, qemu-img and qemu-io start here; a test without them says it skipped
/// on stderr.
#[allow(clippy::print_stderr)]
fn real_programs_installed() -> bool {
    for (program, _) in real::PROGRAMS {
        if std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: {program} is not installed");
            return false;
        }
    }
    true
}

/// A world's jumphost with real programs, or None where they are not installed.
fn real_host(world: &str) -> Option<HostState> {
    real_programs_installed()
        .then(|| HostState::load_real(&World::embedded(world).unwrap()).unwrap())
}

const DIRTY: &str = "testcloud/sim-phase00-dirty";
const DIRTY_OSD: &str = "/var/lib/libvirt/images/openstack2-1.qcow2";

fn sudo(args: &[&str]) -> Vec<String> {
    s(&[&["sudo", "-n"][..], args].concat())
}

fn json(a: &Answer) -> serde_json::Value {
    serde_json::from_slice(&a.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&a.stdout)))
}

/// The dirty OSD disk is a real qcow2 holding data; after the wipe's `rm` and
/// `qemu-img create ... 512G` the real qemu-img reads a blank image, and every path it
/// prints is the jumphost's, not the tempdir's.
#[test]
fn real_qemu_img_reads_the_dirty_disk_then_the_recreated_blank_one() {
    let Some(mut h) = real_host(DIRTY) else {
        return;
    };
    let mapped = h.real.as_ref().unwrap().mapped(DIRTY_OSD).unwrap();
    let tmp = mapped.parent().unwrap().display().to_string();
    assert!(mapped.is_file(), "{}", mapped.display());
    let info = sudo(&["qemu-img", "info", "--output=json", DIRTY_OSD]);
    let a = ask(&mut h, &info);
    assert_eq!(a.exit, 0, "{}", text(&a.stderr));
    assert!(!text(&a.stdout).contains(&tmp), "{}", text(&a.stdout));
    let v = json(&a);
    assert_eq!(v["filename"], DIRTY_OSD);
    assert_eq!(v["virtual-size"], 512u64 << 30);
    let actual = v["actual-size"].as_u64().unwrap();
    assert!(actual > 48 << 20, "data written: actual-size {actual}");
    // The real file's allocation is what qemu-img read (st_blocks * 512).
    use std::os::unix::fs::MetadataExt as _;
    assert_eq!(std::fs::metadata(&mapped).unwrap().blocks() * 512, actual);
    // A blank disk of the same world is blank for real.
    let other = "/var/lib/libvirt/images/openstack0-1.qcow2";
    let v = json(&ask(
        &mut h,
        &sudo(&["qemu-img", "info", "--output=json", other]),
    ));
    assert!(v["actual-size"].as_u64().unwrap() <= 256 << 10, "{v}");

    assert_eq!(ask(&mut h, &sudo(&["rm", "-f", "--", DIRTY_OSD])).exit, 0);
    assert!(!mapped.exists(), "rm removed the real file");
    let a = ask(&mut h, &info);
    assert_eq!(
        (a.exit, text(&a.stderr)),
        (
            1,
            "qemu-img: Could not open '/var/lib/libvirt/images/openstack2-1.qcow2': Could not open '/var/lib/libvirt/images/openstack2-1.qcow2': No such file or directory\n"
        )
    );
    let a = ask(
        &mut h,
        &sudo(&["qemu-img", "create", "-f", "qcow2", DIRTY_OSD, "512G"]),
    );
    assert_eq!(
        text(&a.stdout),
        format!(
            "Formatting '{DIRTY_OSD}', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=549755813888 lazy_refcounts=off refcount_bits=16\n"
        )
    );
    assert!(mapped.is_file());
    let v = json(&ask(&mut h, &info));
    assert_eq!(v["filename"], DIRTY_OSD);
    assert_eq!(v["virtual-size"], 512u64 << 30);
    assert!(v["actual-size"].as_u64().unwrap() <= 256 << 10, "{v}");
    // Owner and mode stay the sim's: the runner need not be root.
    ask(&mut h, &sudo(&["chmod", "600", DIRTY_OSD]));
    assert_eq!(
        text(&ask(&mut h, &sudo(&["stat", "-c", "%U:%G %a", DIRTY_OSD])).stdout),
        "root:root 600\n"
    );
}

#[test]
fn real_qemu_img_keeps_the_modelled_lock_of_a_running_domain() {
    let Some(mut h) = real_host("testcloud/phase00-domain-running") else {
        return;
    };
    let path = "/var/lib/libvirt/images/openstack1-1.qcow2";
    let a = ask(&mut h, &sudo(&["qemu-img", "info", "--output=json", path]));
    assert!(text(&a.stderr).contains("Failed to get shared \"write\" lock"));
}

/// virsh answers come from the test driver: it names an interface the node document
/// gave no target (test_driver.c `testDomainGenerateIfnames`), which the model would not
/// print; net-destroy and net-undefine run on it and the model follows.
#[test]
fn real_virsh_reads_and_removes_the_network_on_the_test_driver() {
    let Some(mut h) = real_host(DIRTY) else {
        return;
    };
    let recorded = World::embedded(DIRTY).unwrap();
    for argv in [virsh(&["list", "--all"]), virsh(&["net-list", "--all"])] {
        let a = ask(&mut h, &argv);
        assert_eq!(
            text(&a.stdout),
            text(&recorded.get(&argv).unwrap().stdout),
            "{argv:?}"
        );
    }
    let dump = virsh(&["dumpxml", "openstack0"]);
    let i = h
        .libvirt
        .domains
        .iter()
        .position(|d| d.name == "openstack0")
        .unwrap();
    let xml = h.libvirt.domains[i].xml.take().unwrap();
    h.libvirt.domains[i].xml = Some(xml.replace("      <target dev='testnet5'/>\n", ""));
    let modelled = h.libvirt.clone().answer(&dump[5..]);
    assert!(!text(&modelled.stdout).contains("testnet5"));
    let a = ask(&mut h, &dump);
    assert_eq!(a.exit, 0, "{}", text(&a.stderr));
    assert!(
        text(&a.stdout).contains("<target dev='testnet5'/>"),
        "{}",
        text(&a.stdout)
    );

    let a = ask(&mut h, &virsh(&["net-destroy", "8_lbaas"]));
    assert_eq!(
        (a.exit, text(&a.stdout)),
        (0, "Network 8_lbaas destroyed\n\n")
    );
    // Destroyed but defined: the test driver is brought there in the same process.
    let l = ask(&mut h, &virsh(&["net-list", "--all"]));
    let list = format!("{}{}", text(&l.stdout), text(&l.stderr));
    assert!(
        list.contains(" 8_lbaas         inactive   no          yes\n"),
        "{list}"
    );
    let a = ask(&mut h, &virsh(&["net-dumpxml", "8_lbaas"]));
    assert!(text(&a.stdout).contains("<name>8_lbaas</name>"));
    // The test driver destroys an inactive network again; qemu's refuses: reported.
    let a = ask(&mut h, &virsh(&["net-destroy", "8_lbaas"]));
    assert_eq!(a.exit, 1);
    assert!(
        text(&a.stderr).contains("the real program exited 0 but the model 1"),
        "{}",
        text(&a.stderr)
    );
    let a = ask(&mut h, &virsh(&["net-undefine", "8_lbaas"]));
    assert_eq!(
        (a.exit, text(&a.stdout)),
        (0, "Network 8_lbaas has been undefined\n\n")
    );
    let a = ask(&mut h, &virsh(&["net-list", "--all"]));
    assert!(!text(&a.stdout).contains("8_lbaas"), "{}", text(&a.stdout));
    assert!(h.libvirt.network("8_lbaas").is_none(), "the model followed");
    let a = ask(&mut h, &virsh(&["net-dumpxml", "8_lbaas"]));
    assert_eq!(
        text(&a.stderr),
        "error: failed to get network '8_lbaas'\nerror: Network not found: no network with matching name '8_lbaas'\n"
    );
}

#[test]
fn real_virsh_refusing_to_undefine_an_active_network_is_a_named_disagreement() {
    let Some(mut h) = real_host(DIRTY) else {
        return;
    };
    let a = ask(&mut h, &virsh(&["net-undefine", "8_lbaas"]));
    assert_eq!(a.exit, 1);
    assert!(
        text(&a.stderr).contains("is still running"),
        "{}",
        text(&a.stderr)
    );
    let list = ask(&mut h, &virsh(&["net-list", "--all"]));
    assert!(
        text(&list.stdout).contains(" 8_lbaas         active   no          yes\n"),
        "the model's change was undone: {}",
        text(&list.stdout)
    );
}

#[test]
fn real_virsh_holds_transient_and_autostarted_networks() {
    let Some(mut h) = real_host(DIRTY) else {
        return;
    };
    let n = h.libvirt.network("8_lbaas").unwrap();
    h.libvirt.networks[n].persistent = false;
    let m = h.libvirt.network("2_metal").unwrap();
    h.libvirt.networks[m].autostart = true;
    let list = text(&ask(&mut h, &virsh(&["net-list", "--all"])).stdout).to_string();
    assert!(
        list.contains(" 8_lbaas         active   no          no\n"),
        "{list}"
    );
    assert!(
        list.contains(" 2_metal         active   yes         yes\n"),
        "{list}"
    );
    assert!(
        list.starts_with(" Name "),
        "the preparation is not shown: {list}"
    );
}

/// The wipe on the simulated cloud with real programs: P00-OSD fails on the real
/// qemu-img reading the dirty disk and passes on the recreated one.
#[tokio::test]
async fn the_osd_gate_passes_on_a_real_wipe() {
    if !real_programs_installed() {
        return;
    }
    let config = SimConfig {
        real_programs: true,
        ..SimConfig::default()
    };
    the_osd_gate_passes_after_a_wipe(DIRTY, DIRTY_OSD, config).await;
}

/// The admin-openrc's owner-only write (`umask 077 && set -C && exec cat > "$1"`):
/// modelled as the real `sh` does it, checked against the real one in a tempdir: a new
/// file 0600 with stdin's bytes; a second write is dash's noclobber refusal, exit 2,
/// and the file keeps what the first wrote.
#[test]
fn the_owner_only_write_answers_as_the_real_sh() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin-openrc").display().to_string();
    let script = crate::actions::phase03::WRITE_SCRIPT;
    let real = |bytes: &[u8]| {
        let mut child = Command::new("sh")
            .args(["-c", script, "sh", &path])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh runs");
        // A refused write (noclobber) exits without reading stdin: the pipe may be
        // closed before the bytes are written, which is that refusal, not a failure.
        if let Err(e) = child.stdin.take().unwrap().write_all(bytes) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut h = HostState::default();
    let argv = s(&["sh", "-c", script, "sh", &path]);
    let mut model = |bytes: &[u8]| {
        let a = h
            .answer(&argv, Some(bytes), &SimConfig::default())
            .expect("the host's argv");
        (
            Some(a.exit),
            String::from_utf8_lossy(&a.stderr).into_owned(),
        )
    };
    assert_eq!(model(b"first\n"), real(b"first\n"));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);
    let again = real(b"second\n");
    assert_eq!(again.0, Some(2));
    assert_eq!(model(b"second\n"), again);
    assert_eq!(std::fs::read(&path).unwrap(), b"first\n");
    assert_eq!(h.file_contents(&path), Some(&b"first\n"[..]));
    let stat = ask(&mut h, &s(&["stat", "-c", "%a", &path]));
    assert_eq!(text(&stat.stdout), "600\n");
}
