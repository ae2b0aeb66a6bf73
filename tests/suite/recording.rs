//! Process-level tests of the CI-regression use (issue 11): `stackgate record` writes
//! a world of exactly what a run read, redacted at capture, that replays to the same
//! verdicts; `stackgate fixtures check` over the project's worlds and over damaged ones;
//! `stackgate drift` on the shape changes juju and the OpenStack client really made.
//!
//! Recording here reads from fixture worlds (`record --world`), so nothing runs but
//! stackgate; the `@needs-openstack` scenarios record the real client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use stackgate::world::World;
use tempfile::TempDir;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn world_dir(name: &str) -> PathBuf {
    manifest_dir().join("fixtures").join("testcloud").join(name)
}

fn drift_data(name: &str) -> PathBuf {
    manifest_dir()
        .join("tests")
        .join("data")
        .join("drift")
        .join(name)
}

fn stackgate() -> Command {
    let mut cmd = Command::cargo_bin("stackgate").expect("the stackgate binary is built");
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// (exit code, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("stackgate runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

/// The verdicts of a JSON report, by gate id.
fn verdicts(report: &str) -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(report).expect("a JSON report");
    doc["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Writes a world as one directory, every inherited entry flattened into it.
fn flatten(world: &World, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut manifest = format!(
        "profile = {}\ndescription = \"flattened for a test\"\n",
        toml::Value::String(world.profile.clone())
    );
    for (n, argv) in world.argvs().enumerate() {
        let r = world.get(argv).unwrap();
        let words: Vec<String> = argv
            .iter()
            .map(|w| toml::Value::String(w.clone()).to_string())
            .collect();
        manifest.push_str(&format!("\n[[command]]\nargv = [{}]\n", words.join(", ")));
        std::fs::write(dir.join(format!("{n}.out")), &r.stdout).unwrap();
        manifest.push_str(&format!("stdout = \"{n}.out\"\n"));
        if !r.stderr.is_empty() {
            std::fs::write(dir.join(format!("{n}.err")), &r.stderr).unwrap();
            manifest.push_str(&format!("stderr = \"{n}.err\"\n"));
        }
        manifest.push_str(&format!("exit = {}\n", r.exit));
    }
    std::fs::write(dir.join("world.toml"), manifest).unwrap();
}

#[test]
fn a_recorded_world_replays_to_the_same_verdicts() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("recorded");
    let source = world_dir("phase02-pre-vault");
    let (code, stdout, stderr) = run(stackgate().args([
        "record",
        "--phase",
        "02",
        "--world",
        source.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("recorded 4 command(s) into"), "{stdout}");
    let (_, original, _) = run(stackgate().args([
        "gate",
        "--phase",
        "02",
        "--world",
        source.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let (code, replayed, _) = run(stackgate().args([
        "gate",
        "--phase",
        "02",
        "--world",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(verdicts(&replayed), verdicts(&original));
    // Byte for byte: nothing in this world is a secret.
    let recorded = World::from_dir(&out).unwrap();
    let healthy = World::from_dir(&source).unwrap();
    assert_eq!(recorded.argvs().count(), 4);
    for argv in recorded.argvs() {
        assert_eq!(
            recorded.get(argv).unwrap().stdout,
            healthy.get(argv).unwrap().stdout,
            "{argv:?}"
        );
    }
    assert!(recorded.redactions().is_empty());
}

#[test]
fn record_refuses_to_write_over_a_world_unless_forced() {
    let tmp = TempDir::new().unwrap();
    let source = world_dir("phase02-pre-vault");
    std::fs::write(tmp.path().join("world.toml"), "profile = \"testcloud\"\n").unwrap();
    let args = |force: bool| {
        let mut a = vec![
            "record".to_string(),
            "--phase".into(),
            "02".into(),
            "--world".into(),
            source.display().to_string(),
            "--out".into(),
            tmp.path().display().to_string(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let (code, _, stderr) = run(stackgate().args(args(false)));
    assert_eq!(code, 2);
    assert!(stderr.contains("already holds a world"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("world.toml")).unwrap(),
        "profile = \"testcloud\"\n"
    );
    let (code, _, stderr) = run(stackgate().args(args(true)));
    assert_eq!(code, 0, "{stderr}");
    assert!(World::from_dir(tmp.path()).unwrap().argvs().count() == 4);
}

/// Canaries planted where secrets really show up: a MAAS power password, the
/// operator's OS_PASSWORD echoed on a CLI's stderr, a vault root token in JSON, a PEM
/// private key in a charm option, a vault token in free text. None may reach the
/// recorded world, the report or stderr.
#[test]
fn a_planted_canary_reaches_no_file_report_or_message() {
    const POWER: &str = "canary-power-Zq8vT2pW9kL4";
    const OS_PASSWORD: &str = "canary-osp-Hx7Rm2Kq9Wd";
    const ROOT_TOKEN: &str = "hvs.CanaryRootTokenAbCdEfGhIjKlMn0123";
    const FREE_TOKEN: &str = "hvs.CanaryFreeTokenZyXwVuTsRqPoNm9876";
    const KEY_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCanaryKeyBody";
    let tmp = TempDir::new().unwrap();
    let mut world = World::embedded("testcloud/phase00-ready-carved").unwrap();
    // MAAS: power parameters of the first machine.
    let machines = ["maas", "admin", "machines", "read"].map(String::from);
    let mut doc: Value = serde_json::from_slice(&world.get(&machines).unwrap().stdout).unwrap();
    doc[0]["power_parameters"] = serde_json::json!({
        "power_address": "qemu+ssh://virsh@10.12.1.1/system", "power_pass": POWER});
    doc[0]["description"] = Value::from(format!("root token {ROOT_TOKEN} kept here"));
    let mut r = world.get(&machines).unwrap().clone();
    r.stdout = serde_json::to_vec_pretty(&doc).unwrap().into();
    world.set(machines.to_vec(), r);
    // juju: the operator's password echoed on stderr; a private key in free text.
    let models = ["juju", "models", "--format=json"].map(String::from);
    let mut r = world.get(&models).unwrap().clone();
    r.stderr = format!(
        "WARNING OS_PASSWORD={OS_PASSWORD} in the environment\n-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\nnote {FREE_TOKEN}\n"
    )
    .into_bytes();
    world.set(models.to_vec(), r);
    let source = tmp.path().join("planted");
    flatten(&world, &source);
    let out = tmp.path().join("recorded");
    let (code, stdout, stderr) = run(stackgate().env("OS_PASSWORD", OS_PASSWORD).args([
        "record",
        "--phase",
        "00",
        "--world",
        source.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_ne!(code, 2, "{stdout}{stderr}");
    let canaries = [POWER, OS_PASSWORD, ROOT_TOKEN, FREE_TOKEN, KEY_BODY];
    for c in canaries {
        assert!(!stdout.contains(c), "report holds {c}");
        assert!(!stderr.contains(c), "stderr holds {c}");
    }
    let mut files = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        for c in canaries {
            assert!(
                !bytes.windows(c.len()).any(|w| w == c.as_bytes()),
                "{} holds {c}",
                path.display()
            );
        }
    }
    assert!(files > 10, "{files} files");
    let manifest = std::fs::read_to_string(out.join("world.toml")).unwrap();
    assert!(manifest.contains("power_parameters"), "{manifest}");
    assert!(manifest.contains("redacted = ["), "{manifest}");
    assert!(
        stdout.contains("redacted (the manifest lists each"),
        "{stdout}"
    );
}

#[test]
fn fixtures_check_passes_on_the_project_worlds_and_lists_every_source() {
    let (code, stdout, stderr) = run(stackgate().args(["fixtures", "check"]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("parse failures: none"), "{stdout}");
    assert!(stdout.ends_with("result: OK\n"), "{stdout}");
    for source in [
        "juju-status",
        "maas-machines",
        "openstack-subnet-show",
        "vault-status",
        "haproxy-show-stat",
    ] {
        assert!(stdout.contains(&format!("  {source}: ")), "{source}");
    }
    let present = regex::Regex::new(r"declared key paths present: (\d+)/(\d+)").unwrap();
    let c = present.captures(&stdout).expect("a coverage line");
    assert_eq!(c[1], c[2], "{stdout}");
    // The reviewed baseline: a recording that adds a key no model reads, or drops one a
    // gate reads, changes this snapshot, so the change is reviewed, never unseen.
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(manifest_dir().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description("stackgate fixtures check");
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("fixtures_check", stdout));
}

#[test]
fn fixtures_check_fails_on_a_key_no_recording_holds_and_on_a_parse_failure() {
    let tmp = TempDir::new().unwrap();
    // The DOCFIX-044 shape: juju status without `juju-status` on any unit.
    let mut world = World::embedded("testcloud/phase02-pre-vault").unwrap();
    let status = ["juju", "status", "-m", "openstack", "--format=json"].map(String::from);
    let mut doc: Value = serde_json::from_slice(&world.get(&status).unwrap().stdout).unwrap();
    for app in doc["applications"].as_object_mut().unwrap().values_mut() {
        for unit in app["units"]
            .as_object_mut()
            .into_iter()
            .flat_map(|u| u.values_mut())
        {
            unit.as_object_mut().unwrap().shift_remove("juju-status");
        }
    }
    let mut r = world.get(&status).unwrap().clone();
    r.stdout = serde_json::to_vec(&doc).unwrap().into();
    world.set(status.to_vec(), r);
    flatten(&world, &tmp.path().join("agentless"));
    let (code, stdout, _) =
        run(stackgate().args(["fixtures", "check", tmp.path().to_str().unwrap()]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("ABSENT  applications.<app>.units.<unit>.juju-status (required;"),
        "{stdout}"
    );
    // A truncated document is a parse failure naming the world and argv.
    let mut world = World::embedded("testcloud/phase02-pre-vault").unwrap();
    let mut r = world.get(&status).unwrap().clone();
    r.stdout.truncate(r.stdout.len() / 2);
    world.set(status.to_vec(), r);
    let cut = TempDir::new().unwrap();
    flatten(&world, &cut.path().join("cut"));
    let (code, stdout, _) =
        run(stackgate().args(["fixtures", "check", cut.path().to_str().unwrap()]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL ") && stdout.contains("`juju status -m openstack --format=json`"),
        "{stdout}"
    );
}

#[test]
fn drift_names_the_gates_osc_4_broke_and_none_for_identical_shapes() {
    let old = drift_data("osc-3.x-subnet-show.json");
    let new = drift_data("osc-4.0-subnet-show.json");
    let (code, stdout, _) = run(stackgate().args([
        "drift",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--source",
        "openstack-subnet-show",
    ]));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("~ allocation_pools: string -> array"),
        "{stdout}"
    );
    assert!(stdout.contains("gates affected: P04-POST"), "{stdout}");
    let (code, stdout, _) = run(stackgate().args([
        "drift",
        new.to_str().unwrap(),
        new.to_str().unwrap(),
        "--source",
        "openstack-subnet-show",
    ]));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("drift: 0 change(s)"), "{stdout}");
}

#[test]
fn drift_between_juju_29_and_36_names_relations_and_base() {
    let (code, stdout, _) = run(stackgate().args([
        "drift",
        drift_data("juju-2.9-status-keystone.json")
            .to_str()
            .unwrap(),
        drift_data("juju-3.6-status-keystone.json")
            .to_str()
            .unwrap(),
        "--source",
        "juju-status",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1, "{stdout}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let changes = doc[0]["changes"].as_array().unwrap();
    let has = |kind: &str, path: &str| {
        changes
            .iter()
            .any(|c| c["change"] == kind && c["path"] == path)
    };
    assert!(has(
        "type_changed",
        "applications.<app>.relations.<endpoint>[]"
    ));
    assert!(has("removed", "applications.<app>.series"));
    assert!(has("added", "applications.<app>.base"));
    let gates: Vec<&str> = doc[0]["impacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["gate"].as_str().unwrap())
        .collect();
    assert!(gates.contains(&"P02-E"), "{gates:?}");
}

#[test]
fn drift_between_two_worlds_compares_each_command_both_recorded() {
    let (code, stdout, stderr) = run(stackgate().args([
        "drift",
        world_dir("phase04-network-created").to_str().unwrap(),
        world_dir("phase04-osc3-display-strings").to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("openstack subnet show provider-ext-fip -f json (openstack-subnet-show)"),
        "{stdout}"
    );
    assert!(stdout.contains("P04-POST"), "{stdout}");
}
