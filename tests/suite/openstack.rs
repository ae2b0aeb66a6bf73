//! Process-level tests of phases 04 and 05: `stackgate gate --phase 04|05` on a fresh
//! clone (the embedded default worlds), the verdicts and exit code on every phase-04/05
//! fixture world, and `--live` runs against fake `maas`, `openstack` and `juju`
//! programs generated from a world's manifest (each prints the recorded stdout and
//! stderr and exits with the recorded status), so the live runner, the argvs and the
//! absence decisions (R3) are exercised through real processes.
//!
//! Fake CLIs are bash scripts in a tempdir put first on PATH; they only `cat` files,
//! so nothing here reaches the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use stackgate::world::World;
use tempfile::TempDir;

fn world_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("testcloud")
        .join(name)
}

fn stackgate() -> Command {
    let mut cmd = Command::cargo_bin("stackgate").expect("the stackgate binary is built");
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd
}

/// (exit code, JSON report) of `stackgate <args> --format json`.
fn run_json(cmd: &mut Command) -> (i32, Value) {
    let output = cmd
        .args(["--format", "json"])
        .output()
        .expect("stackgate runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().expect("an exit code"), doc)
}

/// Gate id -> "STATUS" or "STATUS/OUTCOME".
fn verdicts(doc: &Value) -> BTreeMap<String, String> {
    doc["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            let status = v["status"].as_str().unwrap().to_string();
            let shown = match v["outcome"].as_str() {
                Some(o) => format!("{status}/{o}"),
                None => status,
            };
            (v["id"].as_str().unwrap().to_string(), shown)
        })
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn fresh_clone_phase04_and_05_pass_on_the_embedded_exit_state_worlds() {
    let (code, doc) = run_json(stackgate().args(["gate", "--phase", "04"]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["source"], "world testcloud/phase04-network-created");
    assert_eq!(
        verdicts(&doc),
        expect(&[("P04-PRE", "PASS"), ("P04-POST", "PASS")])
    );
    let (code, doc) = run_json(stackgate().args(["gate", "--phase", "05"]));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["source"], "world testcloud/phase05-complete");
    assert_eq!(doc["result"], "PASS");
    assert_eq!(
        verdicts(&doc),
        expect(&[
            ("P05-CONFIG", "PASS"),
            ("P05-PRE", "SKIP/ALREADY-CONFIGURED"),
            ("P05-POST", "PASS"),
            ("P05-AMPHORA", "PASS"),
        ])
    );
}

/// Every phase-04/05 world: the verdict of each gate (`ID=STATUS[/OUTCOME]`) and the
/// run's exit code.
const WORLDS: &[(&str, &str, i32, &str)] = &[
    (
        "04",
        "phase04-network-created",
        0,
        "P04-PRE=PASS P04-POST=PASS",
    ),
    (
        "04",
        "phase04-before-create",
        1,
        "P04-PRE=PROCEED P04-POST=FAIL",
    ),
    // The phase-04 gates do not read the admin-openrc file (network-create does).
    (
        "04",
        "phase04-openrc-absent",
        1,
        "P04-PRE=PROCEED P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-osc3-display-strings",
        0,
        "P04-PRE=PASS P04-POST=PASS",
    ),
    (
        "04",
        "phase04-fip-pool-not-reserved",
        1,
        "P04-PRE=FAIL P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-wrong-gateway",
        1,
        "P04-PRE=FAIL P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-provider-subnet-absent",
        1,
        "P04-PRE=FAIL P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-network-shared",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-network-internal",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-wrong-physnet",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-network-vlan",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-subnet-dhcp-on",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-pool-whole-cidr",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-subnet-untagged",
        1,
        "P04-PRE=PASS P04-POST=FAIL",
    ),
    (
        "04",
        "phase04-no-openrc",
        2,
        "P04-PRE=PRECONDITION P04-POST=PRECONDITION",
    ),
    (
        "05",
        "phase05-complete",
        0,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-entry",
        1,
        "P05-CONFIG=PASS P05-PRE=PROCEED P05-POST=FAIL P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-control-plane-done",
        0,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PROCEED/CONTROL-PLANE-DONE",
    ),
    (
        "05",
        "phase05-base-present",
        0,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PROCEED/CONTROL-PLANE-DONE",
    ),
    (
        "05",
        "phase05-blocked-resources-present",
        1,
        "P05-CONFIG=PASS P05-PRE=FAIL/ANOMALY P05-POST=FAIL P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-certs-missing",
        1,
        "P05-CONFIG=PASS P05-PRE=HOLD P05-POST=FAIL P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-entry-two-octavia",
        1,
        "P05-CONFIG=PASS P05-PRE=PROCEED P05-POST=FAIL P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-image-format-qcow2",
        1,
        "P05-CONFIG=FAIL P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-amp-image-tag-unset",
        1,
        "P05-CONFIG=FAIL P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-internal-endpoints-off",
        1,
        "P05-CONFIG=FAIL P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-retrofit-without-image-format",
        2,
        "P05-CONFIG=PRECONDITION P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-octavia-tag-custom",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-sec-grp-missing",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=FAIL P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-o-hm0-down",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=FAIL P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-o-hm0-absent",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=FAIL P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-o-hm0-no-ula",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=FAIL P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-o-hm0-up",
        0,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=PASS",
    ),
    (
        "05",
        "phase05-two-amphorae",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-amphora-deactivated",
        1,
        "P05-CONFIG=PASS P05-PRE=SKIP/ALREADY-CONFIGURED P05-POST=PASS P05-AMPHORA=FAIL",
    ),
    (
        "05",
        "phase05-no-openrc",
        2,
        "P05-CONFIG=PASS P05-PRE=PRECONDITION P05-POST=PRECONDITION P05-AMPHORA=PRECONDITION",
    ),
];

#[test]
fn every_phase04_and_05_world_gives_its_verdicts_and_exit_code() {
    for (phase, name, want_code, want) in WORLDS {
        let dir = world_dir(name);
        let (code, doc) = run_json(stackgate().args([
            "gate",
            "--phase",
            phase,
            "--world",
            dir.to_str().unwrap(),
        ]));
        let want: BTreeMap<String, String> = want
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(id, v)| (id.to_string(), v.to_string()))
            .collect();
        assert_eq!(verdicts(&doc), want, "world {name}");
        assert_eq!(code, *want_code, "world {name}");
        assert_eq!(doc["exit_code"], *want_code, "world {name}");
    }
    // A phase-04/05 world added without a row here would prove nothing.
    let root = world_dir("");
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("phase04-") || name.starts_with("phase05-") {
            assert!(
                WORLDS.iter().any(|(_, w, _, _)| *w == name),
                "world {name} has no row in WORLDS"
            );
        }
    }
}

/// Fake programs answering from a world: one bash script per program the manifest
/// names, mapping each exact argv to the recorded stdout, stderr and exit status.
struct FakeClis {
    dir: TempDir,
}

impl FakeClis {
    fn from_world(name: &str) -> FakeClis {
        let world = World::from_dir(&world_dir(name)).expect("the world loads");
        let dir = tempfile::Builder::new()
            .prefix("stackgate-fake-clis-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path().display().to_string();
        assert!(!d.contains('\''), "tempdir path must not hold a quote");
        let mut arms: BTreeMap<String, String> = BTreeMap::new();
        for (i, argv) in world.argvs().enumerate() {
            let rec = world.get(argv).expect("listed argv");
            let args = argv[1..].join(" ");
            assert!(!args.contains('\''), "argv must not hold a quote: {args}");
            std::fs::write(dir.path().join(format!("out-{i}")), &rec.stdout).unwrap();
            std::fs::write(dir.path().join(format!("err-{i}")), &rec.stderr).unwrap();
            arms.entry(argv[0].clone()).or_default().push_str(&format!(
                "  '{args}') cat '{d}/out-{i}'; cat '{d}/err-{i}' >&2; exit {} ;;\n",
                rec.exit
            ));
        }
        for (program, arms) in arms {
            let script = format!(
                "#!/bin/bash\n\
                 # Fake {program} written by tests/suite/openstack.rs from a fixture world.\n\
                 echo \"{program} $*\" >> '{d}/calls.log'\n\
                 case \"$*\" in\n{arms}  *) echo \"fake {program}: unexpected argv: $*\" >&2; exit 97 ;;\nesac\n"
            );
            let path = dir.path().join(&program);
            std::fs::write(&path, script).unwrap();
            let mut perms = std::fs::metadata(&path).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(&path, perms).unwrap();
        }
        FakeClis { dir }
    }

    fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The credentials admin-openrc exports live in the environment the CLI inherits;
/// stackgate never puts them on an argv or in its report (R6).
const OS_PASSWORD: &str = "not-a-real-password-3f9c";

#[test]
fn live_phase04_before_create_proceeds_on_the_real_exit_status_of_show() {
    let fakes = FakeClis::from_world("phase04-before-create");
    let (code, doc) = run_json(
        stackgate()
            .args(["gate", "--phase", "04", "--live"])
            .env("PATH", fakes.path_env())
            .env("OS_PASSWORD", OS_PASSWORD),
    );
    assert_eq!(
        verdicts(&doc),
        expect(&[("P04-PRE", "PROCEED"), ("P04-POST", "FAIL")]),
        "{doc:#}"
    );
    assert_eq!(code, 1);
    let calls = fakes.calls();
    for want in [
        "maas admin subnets read",
        "maas admin ipranges read",
        "openstack network show provider-ext -f json",
        "openstack subnet show provider-ext-fip -f json",
    ] {
        assert_eq!(
            calls.iter().filter(|c| *c == want).count(),
            1,
            "{want} runs exactly once: {calls:?}"
        );
    }
    assert!(!doc.to_string().contains(OS_PASSWORD));
}

#[test]
fn live_phase05_reads_o_hm0_through_juju_exec_on_each_octavia_unit() {
    for (name, post) in [
        ("phase05-complete", "PASS"),
        ("phase05-o-hm0-absent", "FAIL"),
    ] {
        let fakes = FakeClis::from_world(name);
        let (_, doc) = run_json(
            stackgate()
                .args(["gate", "--phase", "05", "--live"])
                .env("PATH", fakes.path_env())
                .env("OS_PASSWORD", OS_PASSWORD),
        );
        assert_eq!(verdicts(&doc)["P05-POST"], post, "{name}: {doc:#}");
        let calls = fakes.calls();
        let exec = "juju exec -m openstack --format=json --wait=60s --unit octavia/0 -- ip -j addr show dev o-hm0";
        assert_eq!(
            calls.iter().filter(|c| *c == exec).count(),
            1,
            "{name}: o-hm0 read once on octavia/0: {calls:?}"
        );
        // Octavia's settings are read one key at a time: never the whole document,
        // which holds the lb-mgmt CA key and passphrase (R6).
        assert!(
            !calls
                .iter()
                .any(|c| c.starts_with("juju config -m openstack octavia --format")),
            "{calls:?}"
        );
        assert!(!doc.to_string().contains(OS_PASSWORD));
    }
}
