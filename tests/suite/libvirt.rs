//! Process-level tests of the phase-00 libvirt gates (P00-TEARDOWN, P00-LBAAS, P00-OSD):
//! the `stackgate` binary on a fresh clone's default world, on every libvirt fixture
//! world, and with the embedded bare-metal profile, whose libvirt gates SKIP and say why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::common;
use common::{status_of, verdict};

const LIBVIRT_GATES: [&str; 3] = ["P00-TEARDOWN", "P00-LBAAS", "P00-OSD"];

fn world(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("testcloud")
        .join(name)
}

/// Runs `stackgate gate --phase 00 <args> --format json`: (exit code, document).
fn phase00(args: &[&str]) -> (i32, Value) {
    let output = Command::cargo_bin("stackgate")
        .expect("the stackgate binary is built")
        .timeout(Duration::from_secs(60))
        .args(["gate", "--phase", "00", "--format", "json"])
        .args(args)
        .output()
        .expect("stackgate runs");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}):\n{stdout}"));
    (output.status.code().expect("an exit code"), doc)
}

fn on_world(name: &str) -> (i32, Value) {
    let dir = world(name);
    phase00(&["--world", dir.to_str().unwrap()])
}

#[test]
fn fresh_clone_phase00_passes_the_libvirt_gates_on_the_default_world() {
    let (code, doc) = phase00(&[]);
    assert_eq!(doc["source"], "world testcloud/phase00-ready-carved");
    for id in LIBVIRT_GATES {
        assert_eq!(status_of(&doc, id), "PASS", "{id}: {doc:#}");
    }
    assert_eq!(code, 0, "{doc:#}");
    // The libvirt and disk reads run under the profile's `sudo -n`, never with a secret.
    let reads: Vec<&str> = doc["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["argv"].as_str().unwrap())
        .collect();
    for argv in [
        "sudo -n virsh -c qemu:///system list --all",
        "sudo -n virsh -c qemu:///system net-list --all",
        "sudo -n virsh -c qemu:///system dumpxml openstack3",
        "sudo -n qemu-img info --output=json /var/lib/libvirt/images/openstack0-1.qcow2",
        "sudo -n stat -c '%U:%G %a' /var/lib/libvirt/images/openstack2-1.qcow2",
    ] {
        assert!(reads.contains(&argv), "{argv} not in {reads:#?}");
    }
}

/// Each libvirt world and what it proves (fixtures/README.md table).
const WORLDS: &[(&str, &str, &str, i32)] = &[
    ("phase00-lbaas-present", "P00-LBAAS", "FAIL", 1),
    ("phase00-lbaas-referenced", "P00-LBAAS", "FAIL", 1),
    ("phase00-domain-running", "P00-LBAAS", "HOLD", 1),
    ("phase00-domain-running", "P00-OSD", "HOLD", 1),
    ("phase00-domain-running", "P00-TEARDOWN", "FAIL", 1),
    ("phase00-domain-undefined", "P00-TEARDOWN", "FAIL", 1),
    ("phase00-osd-data", "P00-OSD", "FAIL", 1),
    ("phase00-osd-wrong-size", "P00-OSD", "FAIL", 1),
    ("phase00-osd-wrong-mode", "P00-OSD", "FAIL", 1),
    ("phase00-osd-missing", "P00-OSD", "FAIL", 1),
    ("phase00-model-destroying", "P00-TEARDOWN", "FAIL", 1),
    ("phase00-model-destroying-stuck", "P00-TEARDOWN", "FAIL", 1),
    ("phase00-capi-present", "P00-TEARDOWN", "FAIL", 1),
    ("phase00-dirty", "P00-TEARDOWN", "FAIL", 1),
    ("phase00-renumbered", "P00-OSD", "PASS", 0),
    ("phase00-bare-metal", "P00-TEARDOWN", "PASS", 0),
];

#[test]
fn every_libvirt_world_gives_its_verdict_and_exit_code() {
    for (name, gate, expected, code) in WORLDS {
        let (got_code, doc) = on_world(name);
        assert_eq!(status_of(&doc, gate), *expected, "{name} {gate}: {doc:#}");
        assert_eq!(got_code, *code, "{name}: {doc:#}");
        // No world is unreadable for these gates: every argv they run is recorded.
        for id in LIBVIRT_GATES {
            assert_ne!(status_of(&doc, id), "PRECONDITION", "{name} {id}: {doc:#}");
        }
    }
}

#[test]
fn the_bare_metal_world_skips_the_libvirt_gates_saying_why() {
    let (code, doc) = on_world("phase00-bare-metal");
    assert_eq!(doc["profile"], "bare-metal");
    for id in ["P00-LBAAS", "P00-OSD"] {
        let v = verdict(&doc, id);
        assert_eq!(v["status"], "SKIP", "{v:#}");
        let summary = v["summary"].as_str().unwrap();
        assert!(
            summary.contains("profile bare-metal has no [libvirt] section"),
            "{summary}"
        );
    }
    assert_eq!(doc["result"], "PASS", "SKIP never hides a failure: {doc:#}");
    assert_eq!(code, 0);
    let reads = doc["reads"].to_string();
    assert!(
        !reads.contains("virsh") && !reads.contains("qemu-img"),
        "{reads}"
    );
}

#[test]
fn the_bare_metal_profile_file_skips_on_the_testcloud_world() {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/bare-metal.toml");
    let (code, doc) = phase00(&["--profile", profile.to_str().unwrap()]);
    assert_eq!(status_of(&doc, "P00-LBAAS"), "SKIP");
    assert_eq!(status_of(&doc, "P00-OSD"), "SKIP");
    // The testcloud's re-enrolled hosts are Ready with no owner: released.
    assert_eq!(status_of(&doc, "P00-TEARDOWN"), "PASS", "{doc:#}");
    assert_eq!(code, 0);
}
