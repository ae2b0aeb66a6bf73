use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const STATUS: &[&str] = &[
    "juju",
    "exec",
    "-m",
    "openstack",
    "--unit",
    "vault/0",
    "--format=json",
    "--",
    "vault",
    "status",
    "-format=json",
    "-address=http://127.0.0.1:8200",
];
const INIT: &str = "umask 077 && mkdir -p -- /home/ubuntu/vault-init && set -C && exec vault operator init -key-shares=5 -key-threshold=3 -address=http://127.0.0.1:8200 > /home/ubuntu/vault-init/init.txt 2>&1";
const UNSEAL: &str =
    "sh -c 'exec vault write -format=json -address=http://127.0.0.1:8200 sys/unseal key=-'";
const MINT: &str = "sh -c 'read -r VAULT_TOKEN && export VAULT_TOKEN && exec vault token create -ttl=10m -field=token -address=http://127.0.0.1:8200'";

fn exec_sh(script: &str) -> Vec<String> {
    let mut argv = s(&STATUS[..8]);
    argv.extend(s(&["sh", "-c", script]));
    argv
}

fn ssh(remote: &str) -> Vec<String> {
    s(&[
        "juju",
        "ssh",
        "-m",
        "openstack",
        "--pty=false",
        "vault/0",
        remote,
    ])
}

fn vault(world: &str) -> VaultState {
    VaultState::load(&World::embedded(world).unwrap())
        .unwrap()
        .expect("the world recorded vault status")
}

fn recorded(world: &str, argv: &[&str]) -> Vec<u8> {
    World::embedded(world)
        .unwrap()
        .get(&s(argv))
        .unwrap()
        .stdout
        .to_vec()
}

/// Fresh -> init -> three shares -> unsealed, each read answered with the recording of
/// the moment the vault is in (a partial unseal rendered from the sealed one), and a
/// child token minted only with the root token.
#[test]
fn a_fresh_vault_goes_through_the_recorded_moments() {
    let mut v = vault(FRESH_WORLD);
    assert_eq!(v.moment(), Moment::Fresh);
    let a = v.answer(&s(STATUS), None).unwrap();
    assert_eq!(a.stdout, recorded(FRESH_WORLD, STATUS));
    assert!(
        v.answer(&ssh(UNSEAL), Some(b"00\n")).unwrap().exit != 0,
        "not initialized"
    );

    let init = v.answer(&exec_sh(INIT), None).unwrap();
    assert_eq!(init.exit, 0, "{}", String::from_utf8_lossy(&init.stderr));
    assert!(
        !String::from_utf8_lossy(&init.stdout).contains("stdout"),
        "the output went to the capture"
    );
    assert_eq!(
        v.drain_effects(),
        [Effect::RecordedStatus {
            model: "openstack".into(),
            world: INITIALIZED_WORLD
        }]
    );
    assert_eq!(
        v.answer(&s(STATUS), None).unwrap().stdout,
        recorded(INITIALIZED_WORLD, STATUS)
    );
    let again = v.answer(&exec_sh(INIT), None).unwrap();
    assert_eq!(again.exit, 1, "a second init is refused by set -C");

    let (shares, root) = v.capture().unwrap();
    assert_eq!(shares.len(), 5);
    let wrong = v.answer(&ssh(UNSEAL), Some(b"0123abcd\n")).unwrap();
    assert_eq!(wrong.exit, 2);
    for (k, share) in shares.iter().take(2).enumerate() {
        let a = v
            .answer(&ssh(UNSEAL), Some(format!("{share}\n").as_bytes()))
            .unwrap();
        assert_eq!(a.exit, 0);
        let doc: Value = serde_json::from_slice(&a.stdout).unwrap();
        assert_eq!(doc["data"]["progress"], k + 1);
        assert_eq!(doc["data"]["sealed"], true);
        let status = v.answer(&s(STATUS), None).unwrap();
        let inner: Value = serde_json::from_str(&task_stdout(&status.stdout).unwrap()).unwrap();
        assert_eq!(inner["progress"], k + 1);
        assert_eq!(status.exit, 1, "sealed: vault status exits 2, juju 1");
    }
    assert!(
        v.answer(&ssh(MINT), Some(root.as_bytes())).unwrap().exit != 0,
        "sealed"
    );
    let last = v.answer(&ssh(UNSEAL), Some(shares[4].as_bytes())).unwrap();
    let doc: Value = serde_json::from_slice(&last.stdout).unwrap();
    assert_eq!(doc["data"]["sealed"], false);
    assert_eq!(v.moment(), Moment::Unsealed);
    assert_eq!(
        v.drain_effects(),
        [Effect::RecordedStatus {
            model: "openstack".into(),
            world: UNSEALED_WORLD
        }]
    );
    assert_eq!(
        v.answer(&s(STATUS), None).unwrap().stdout,
        recorded(UNSEALED_WORLD, STATUS)
    );

    assert_eq!(v.answer(&ssh(MINT), Some(b"s.notroot")).unwrap().exit, 2);
    let child = v
        .answer(&ssh(MINT), Some(format!("{root}\n").as_bytes()))
        .unwrap();
    assert_eq!(child.exit, 0);
    let token = String::from_utf8(child.stdout.to_vec()).unwrap();
    assert!(
        token.starts_with("s.") && token.len() == 26 && !token.ends_with('\n'),
        "{token}"
    );
    assert_ne!(token, root);
    // Not the vault's commands: the juju part's.
    assert!(
        v.answer(
            &s(&["juju", "status", "-m", "openstack", "--format=json"]),
            None
        )
        .is_none()
    );
}

/// Worlds before phase 02 have no vault; phase-02 worlds load at their recorded moment.
#[test]
fn the_vault_loads_at_the_moment_its_world_recorded() {
    assert!(
        VaultState::load(&World::embedded("testcloud/sim-phase00-dirty").unwrap())
            .unwrap()
            .is_none()
    );
    assert_eq!(vault(INITIALIZED_WORLD).moment(), Moment::Sealed);
    assert_eq!(vault(UNSEALED_WORLD).moment(), Moment::Unsealed);
}

/// Before any init the capture's stat answers as recorded on a unit without one.
#[test]
fn before_the_init_the_capture_is_missing() {
    let mut v = vault(FRESH_WORLD);
    let mut argv = s(&STATUS[..8]);
    argv.extend(s(&["stat", "-c", "%f %a %U", "/home/ubuntu/vault-init"]));
    let a = v.answer(&argv, None).expect("the vault part answers");
    assert_eq!(a.exit, 1);
    assert!(String::from_utf8_lossy(&a.stdout).contains("No such file or directory"));
}
