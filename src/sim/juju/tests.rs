use super::*;
use crate::sim::host::tests::testcloud_worlds;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

fn juju(world: &str) -> JujuState {
    JujuState::load(&World::embedded(world).unwrap()).unwrap()
}

fn ask(j: &mut JujuState, argv: &[&str], config: &SimConfig) -> Answer {
    j.answer(&s(argv), None, config, &MaasState::default())
        .expect("a juju argv")
}

const MODELS: &[&str] = &["juju", "models", "--format=json"];
const DESTROY: &[&str] = &[
    "juju",
    "destroy-model",
    "openstack",
    "--force",
    "--no-wait",
    "--no-prompt",
];

/// Worlds listing a model without its `juju status` do not load (the load names what is
/// missing); every other world renders each juju recording it answers byte for byte.
#[test]
fn every_recorded_juju_argv_renders_its_recording() {
    let mut answered = 0;
    let mut refused = Vec::new();
    for name in testcloud_worlds() {
        let world = World::embedded(&name).unwrap();
        let mut j = match JujuState::load(&world) {
            Ok(j) => j,
            Err(e) => {
                assert!(
                    e.contains("no `juju status -m openstack --format=json` recording"),
                    "{name}: {e}"
                );
                refused.push(name);
                continue;
            }
        };
        for argv in world.argvs() {
            if argv.first().map(String::as_str) != Some("juju") {
                continue;
            }
            let got = j
                .answer(argv, None, &SimConfig::default(), &MaasState::default())
                .unwrap();
            let shown = crate::runner::display_argv(argv);
            if text(&got.stderr).contains("not modelled") {
                continue;
            }
            let rec = world.get(argv).unwrap();
            assert!(
                got.stdout == rec.stdout,
                "{name}: `{shown}` stdout differs: {}",
                text(&got.stdout)
            );
            assert_eq!(got.exit, rec.exit, "{name}: `{shown}`");
            answered += 1;
        }
    }
    assert!(answered > 100, "only {answered}");
    assert_eq!(refused.len(), 7, "{refused:?}");
}

#[test]
fn destroying_for_the_polls_then_gone_with_each_machine() {
    let mut j = juju("testcloud/sim-phase00-dirty");
    let config = SimConfig::default();
    let a = ask(&mut j, DESTROY, &config);
    assert_eq!(a.exit, 0);
    assert_eq!(
        text(&a.stderr),
        "Destroying model\nWaiting for model to be removed, 4 machine(s)...\n"
    );
    let dying = World::embedded("testcloud/phase00-model-destroying").unwrap();
    let recorded =
        text(&dying.get(&s(MODELS)).unwrap().stdout).replace("4 minutes ago", "just now");
    for _ in 0..config.destroy_polls {
        let a = ask(&mut j, MODELS, &config);
        // The recorded dying model's shape; its current-model line stays until gone.
        assert_eq!(
            text(&a.stdout).replace(r#","current-model":"openstack""#, ""),
            recorded.replace(
                r#""last-connection":"6 minutes ago""#,
                r#""last-connection":"just now""#
            )
        );
        assert!(j.drain_effects().is_empty());
    }
    let a = ask(&mut j, MODELS, &config);
    let done = World::embedded("testcloud/phase00-ready-carved").unwrap();
    assert_eq!(text(&a.stdout), text(&done.get(&s(MODELS)).unwrap().stdout));
    let mut gone: Vec<String> = j
        .drain_effects()
        .into_iter()
        .map(|e| match e {
            Effect::ModelMachineGone { hostname } => hostname,
            other => panic!("{other:?}"),
        })
        .collect();
    gone.sort();
    assert_eq!(
        gone,
        ["openstack0", "openstack1", "openstack2", "openstack3"]
    );
    let a = ask(
        &mut j,
        &["juju", "status", "-m", "openstack", "--format=json"],
        &config,
    );
    assert_eq!(
        (a.exit, text(&a.stderr)),
        (
            1,
            "ERROR model juju-controller:jessea123/openstack not found\n"
        )
    );
}

#[test]
fn a_stuck_destroy_waits_for_remove_machine_force() {
    let mut j = juju("testcloud/sim-phase00-dirty");
    let config = SimConfig {
        destroy_stuck: true,
        ..SimConfig::default()
    };
    ask(&mut j, DESTROY, &config);
    for _ in 0..10 {
        assert!(text(&ask(&mut j, MODELS, &config).stdout).contains(r#""life":"dying""#));
    }
    for id in ["0", "1", "2"] {
        let a = ask(
            &mut j,
            &["juju", "remove-machine", "-m", "openstack", "--force", id],
            &config,
        );
        assert_eq!(a.exit, 0, "{}", text(&a.stderr));
        assert!(text(&a.stdout).starts_with(&format!("will remove machine {id}\n")));
    }
    assert_eq!(j.drain_effects().len(), 3);
    assert!(text(&ask(&mut j, MODELS, &config).stdout).contains("dying"));
    ask(
        &mut j,
        &["juju", "remove-machine", "-m", "openstack", "--force", "3"],
        &config,
    );
    assert!(!text(&ask(&mut j, MODELS, &config).stdout).contains("openstack"));
    assert_eq!(
        j.drain_effects(),
        [Effect::ModelMachineGone {
            hostname: "openstack2".into()
        }]
    );
    let a = ask(
        &mut j,
        &["juju", "remove-machine", "-m", "openstack", "--force", "3"],
        &config,
    );
    assert_eq!(
        text(&a.stderr),
        "ERROR model juju-controller:jessea123/openstack not found\n"
    );
}

#[test]
fn remove_machine_keep_instance_keeps_the_host() {
    let mut j = juju("testcloud/sim-phase00-dirty");
    let config = SimConfig::default();
    let a = ask(
        &mut j,
        &[
            "juju",
            "remove-machine",
            "-m",
            "openstack",
            "0",
            "--keep-instance",
        ],
        &config,
    );
    assert_eq!(a.exit, 1, "units still on it without --force");
    let a = ask(
        &mut j,
        &[
            "juju",
            "remove-machine",
            "-m",
            "openstack",
            "0",
            "--keep-instance",
            "--force",
        ],
        &config,
    );
    assert!(text(&a.stdout).starts_with("will remove machine 0 (but retaining cloud instance)\n"));
    assert_eq!(
        j.drain_effects(),
        [Effect::MachineKept {
            hostname: "openstack0".into()
        }]
    );
    let a = ask(
        &mut j,
        &["juju", "remove-machine", "-m", "openstack", "9"],
        &config,
    );
    assert_eq!(
        text(&a.stderr),
        "ERROR removing machine failed: machine 9 not found\n"
    );
    assert_eq!(j.machines("openstack").unwrap().len(), 3);
}

#[test]
fn export_bundle_writes_the_file_through_an_effect() {
    let mut j = juju("testcloud/sim-phase00-dirty");
    let path = "/home/jessea123/backups/x/juju-export-bundle.yaml";
    let a = ask(
        &mut j,
        &[
            "juju",
            "export-bundle",
            "-m",
            "openstack",
            "--filename",
            path,
        ],
        &SimConfig::default(),
    );
    assert_eq!(
        text(&a.stdout),
        format!("Bundle successfully exported to {path}\n")
    );
    let effects = j.drain_effects();
    let [Effect::WroteFile { path: p, contents }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(p, path);
    let doc: serde_json::Value = yaml_serde::from_slice(contents).unwrap();
    assert_eq!(doc["applications"]["mysql-innodb-cluster"]["num_units"], 3);
}

#[test]
fn unmodelled_juju_argvs_are_errors_and_others_are_not_juju() {
    let mut j = juju("testcloud/phase00-ready-carved");
    let a = ask(
        &mut j,
        &["juju", "deploy", "bundle.yaml"],
        &SimConfig::default(),
    );
    assert_eq!(a.exit, 1);
    assert!(
        text(&a.stderr)
            .starts_with("ERROR stackgate simulator: `juju deploy bundle.yaml` is not modelled")
    );
    assert!(
        j.answer(
            &s(&["maas", "admin"]),
            None,
            &SimConfig::default(),
            &MaasState::default()
        )
        .is_none()
    );
}

/// Phase 01 (seed 004, DOCFIX-039): spaces before add-model fail "model not found"; the
/// default-space fix, add-model and reload-spaces end in the recorded model-added world.
#[test]
fn model_prep_ends_in_the_recorded_model_added_world() {
    let mut j = juju("testcloud/phase01-dead-default-space");
    let config = SimConfig::default();
    let spaces = ["juju", "spaces", "-m", "openstack", "--format=json"];
    let a = ask(&mut j, &spaces, &config);
    assert_eq!(
        (a.exit, text(&a.stderr)),
        (1, "ERROR model juju-controller:admin/openstack not found\n")
    );
    assert_eq!(
        ask(
            &mut j,
            &["juju", "model-defaults", "default-space=metal-admin"],
            &config
        )
        .exit,
        0
    );
    let live = World::embedded("testcloud/phase01-live-default-space").unwrap();
    let defaults = ["juju", "model-defaults", "--format=json"];
    assert_eq!(
        text(&ask(&mut j, &defaults, &config).stdout),
        text(&live.get(&s(&defaults)).unwrap().stdout)
    );
    let a = ask(&mut j, &["juju", "add-model", "openstack"], &config);
    assert_eq!(
        text(&a.stderr),
        "Added 'openstack' model on maas/default with credential 'maas' for user 'admin'\n"
    );
    let added = World::embedded("testcloud/phase01-model-added").unwrap();
    let cfg = ["juju", "model-config", "-m", "openstack", "--format=json"];
    let uuid = |t: &str| {
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        v["uuid"]["Value"].as_str().unwrap().to_string()
    };
    let got = text(&ask(&mut j, &cfg, &config).stdout).to_string();
    let want = text(&added.get(&s(&cfg)).unwrap().stdout).replace(
        &uuid(text(&added.get(&s(&cfg)).unwrap().stdout)),
        &uuid(&got),
    );
    assert_eq!(got, want);
    // The new model's `juju status`: empty, byte for byte as the recording.
    let status = ["juju", "status", "-m", "openstack", "--format=json"];
    assert_eq!(
        text(&ask(&mut j, &status, &config).stdout),
        text(&added.get(&s(&status)).unwrap().stdout)
    );
    // MAAS's spaces are another part's (empty until it lands): alpha alone.
    assert_eq!(
        text(&ask(&mut j, &spaces, &config).stdout),
        "{\"spaces\":[{\"id\":\"0\",\"name\":\"alpha\",\"subnets\":null}]}\n"
    );
    assert_eq!(
        ask(
            &mut j,
            &["juju", "reload-spaces", "-m", "openstack"],
            &config
        )
        .exit,
        0
    );
    let models = text(&ask(&mut j, MODELS, &config).stdout).to_string();
    assert!(
        models.ends_with(",\"current-model\":\"openstack\"}\n"),
        "{models}"
    );
    assert!(models.contains("\"name\":\"admin/openstack\""));
}

#[test]
fn spaces_render_from_maas_subnets_with_their_provider_ids() {
    let j = juju("testcloud/phase01-model-added");
    let spaces = j.import_spaces(&MaasState::default(), None);
    assert_eq!(spaces.len(), 1);
    assert_eq!(
        j.subnet_ids.get("10.12.8.0/22").map(String::as_str),
        Some("2")
    );
}

/// The status edit keeps a recorded `juju status` byte for byte when the machine it
/// removes is not there, for every recorded status.
#[test]
fn status_edit_keeps_every_recorded_status_byte_for_byte() {
    let mut checked = 0;
    for name in testcloud_worlds() {
        let world = World::embedded(&name).unwrap();
        for argv in world.argvs() {
            let a: Vec<&str> = argv.iter().map(String::as_str).collect();
            if !matches!(a.as_slice(), ["juju", "status", "-m", _, "--format=json"]) {
                continue;
            }
            let rec = world.get(argv).unwrap();
            if rec.exit != 0 || serde_json::from_slice::<serde_json::Value>(&rec.stdout).is_err() {
                continue;
            }
            let same = status_without_machine(&rec.stdout, "no-such-machine").unwrap();
            assert!(same == rec.stdout, "{name}: {}", text(&same));
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked}");
}

const REMOVE_0: &[&str] = &[
    "juju",
    "remove-machine",
    "-m",
    "openstack",
    "--force",
    "--keep-instance",
    "--no-prompt",
    "0",
];

/// After `remove-machine --keep-instance` the model's status no longer lists the
/// machine, its containers or their units, and a second removal finds nothing.
#[test]
fn remove_machine_takes_the_machine_and_its_units_out_of_juju_status() {
    let mut j = juju("testcloud/sim-phase00-dirty");
    let config = SimConfig::default();
    let status = &["juju", "status", "-m", "openstack", "--format=json"];
    let before: serde_json::Value =
        serde_json::from_slice(&ask(&mut j, status, &config).stdout).unwrap();
    let on_0 = |doc: &serde_json::Value| -> Vec<String> {
        let mut units = Vec::new();
        for app in doc["applications"].as_object().unwrap().values() {
            for (name, u) in app
                .get("units")
                .and_then(|u| u.as_object())
                .into_iter()
                .flatten()
            {
                let m = u["machine"].as_str().unwrap_or_default();
                if m == "0" || m.starts_with("0/") {
                    units.push(name.clone());
                }
            }
        }
        units
    };
    assert!(
        !on_0(&before).is_empty(),
        "machine 0 hosts units in the dirty world"
    );
    let a = ask(&mut j, REMOVE_0, &config);
    assert_eq!(a.exit, 0, "{}", text(&a.stderr));
    let after = ask(&mut j, status, &config);
    assert_eq!(after.exit, 0, "{}", text(&after.stderr));
    let after: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert!(after["machines"].get("0").is_none());
    assert!(
        after["machines"].get("1").is_some(),
        "the other machines stay"
    );
    assert_eq!(on_0(&after), Vec::<String>::new());
    let a = ask(&mut j, REMOVE_0, &config);
    assert_eq!(
        text(&a.stderr),
        "ERROR removing machine failed: machine 0 not found\n"
    );
}

/// authorize-charm with a params file holding a token, then generate-root-ca, walk the
/// model's `juju status` through the recordings of phase02-missing-ca and
/// phase02-authorized byte for byte; without a token, or in the wrong order, or twice,
/// juju answers an error and the status stays.
#[test]
fn the_vault_charm_actions_walk_juju_status_through_the_recorded_worlds() {
    let config = SimConfig::default();
    let mut j = juju("testcloud/phase02-pre-vault");
    let status = ["juju", "status", "-m", "openstack", "--format=json"];
    let recorded = |world: &str| {
        World::embedded(world)
            .unwrap()
            .get(&s(&status))
            .unwrap()
            .stdout
            .clone()
    };
    let before = ask(&mut j, &status, &config).stdout;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "other: x\n").unwrap();
    let params = dir.path().join("params.yaml");
    std::fs::write(&params, "token: s.child\n").unwrap();
    let run = |j: &mut JujuState, action: &str, file: Option<&std::path::Path>| {
        let shown = file.map(|f| f.display().to_string());
        let mut argv = vec!["juju", "run", "-m", "openstack", "--wait=90s"];
        if let Some(f) = &shown {
            argv.extend(["--params", f.as_str()]);
        }
        argv.extend(["vault/leader", action]);
        ask(j, &argv, &config)
    };
    for refused in [
        run(&mut j, "generate-root-ca", None),
        run(&mut j, "authorize-charm", None),
        run(&mut j, "authorize-charm", Some(&empty)),
    ] {
        assert_eq!(refused.exit, 1, "{}", text(&refused.stderr));
    }
    assert_eq!(ask(&mut j, &status, &config).stdout, before);
    assert_eq!(run(&mut j, "authorize-charm", Some(&params)).exit, 0);
    assert_eq!(
        ask(&mut j, &status, &config).stdout,
        recorded(VAULT_AUTHORIZED_WORLDS[0])
    );
    assert_eq!(run(&mut j, "authorize-charm", Some(&params)).exit, 1);
    assert_eq!(run(&mut j, "generate-root-ca", None).exit, 0);
    assert_eq!(
        ask(&mut j, &status, &config).stdout,
        recorded(VAULT_AUTHORIZED_WORLDS[1])
    );
    let other = ask(
        &mut j,
        &["juju", "run", "-m", "openstack", "vault/leader", "pause"],
        &config,
    );
    assert!(text(&other.stderr).contains("not modelled"));
}
