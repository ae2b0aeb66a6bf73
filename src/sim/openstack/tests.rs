use super::*;

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

fn world(name: &str) -> World {
    World::embedded(&format!("testcloud/{name}")).expect("world")
}

/// A command line as typed (no quoting needed by these).
fn split(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn ask(s: &mut OpenstackState, words: &[&str]) -> Answer {
    s.answer(&argv(words), None).expect("an openstack argv")
}

fn doc(a: &Answer) -> Map<String, Value> {
    assert_eq!(a.exit, 0, "{}", String::from_utf8_lossy(&a.stderr));
    match serde_json::from_slice(&a.stdout).expect("json") {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn stderr(a: &Answer) -> String {
    String::from_utf8_lossy(&a.stderr).into_owned()
}

#[test]
fn every_recorded_openstack_read_renders_its_recording() {
    let root = crate::world::EMBEDDED
        .get_dir("testcloud")
        .expect("testcloud");
    let (mut worlds, mut reads, mut stale) = (0, 0, 0);
    for dir in root.dirs() {
        let name = dir.path().display().to_string();
        if dir.get_file(dir.path().join("world.toml")).is_none() {
            continue;
        }
        let w = World::embedded(&name).expect("world");
        let recorded: Vec<Vec<String>> =
            w.argvs().filter(|a| a[0] == "openstack").cloned().collect();
        if recorded.is_empty() {
            continue;
        }
        worlds += 1;
        let mut s = OpenstackState::load(&w).unwrap_or_else(|e| panic!("{name}: {e}"));
        let inherited: Vec<Vec<String>> = s.stale_reads().cloned().collect();
        for a in recorded {
            let rec = w.get(&a).expect("recorded");
            let got = s.answer(&a, None).expect("answered");
            if inherited.contains(&a) {
                // Inherited from the world this one extends: an image its own image
                // list no longer holds (Glance has no such image at this moment), or a
                // success where the client has no credentials.
                let said = stderr(&got);
                assert_eq!(got.exit, 1, "{name}: {a:?}");
                assert!(
                    said.starts_with("No Image found for ")
                        || said.starts_with("Missing value auth-url"),
                    "{name}: {said}"
                );
                stale += 1;
                continue;
            }
            reads += 1;
            assert_eq!(got.exit, rec.exit, "{name}: {a:?}");
            assert!(
                got.stdout == rec.stdout,
                "{name}: {a:?} renders differently:\n{}\n---\n{}",
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&rec.stdout)
            );
            assert_eq!(
                stderr(&got),
                String::from_utf8_lossy(&rec.stderr),
                "{name}: {a:?}"
            );
        }
    }
    assert!(worlds >= 20, "only {worlds} worlds hold openstack reads");
    assert!(reads >= 40, "only {reads} reads compared");
    assert!(
        stale >= 2,
        "phase05-control-plane-done's image show, phase05-no-openrc's"
    );
}

const NETWORK_CREATE: &str = "openstack network create -f json --external --provider-network-type flat --provider-physical-network physnet1 --tag role=provider provider-ext";

const SUBNET_CREATE: &str = "openstack subnet create -f json --network provider-ext --subnet-range 10.12.4.0/22 --gateway 10.12.4.1 --no-dhcp --allocation-pool start=10.12.5.0,end=10.12.7.254 --tag role=provider --tag netbox-iprange=10.12.5.0-10.12.7.254 provider-ext-fip";

/// The keys whose values are the moment's (ids, clocks, the subnet ids a network lists).
const MINTED: &[&str] = &["id", "created_at", "updated_at", "network_id", "subnets"];

fn same_shape(got: &Map<String, Value>, want: &Map<String, Value>, what: &str) {
    let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(got), keys(want), "{what}: keys, in order");
    for (k, v) in want {
        if !MINTED.contains(&k.as_str()) {
            assert_eq!(&got[k], v, "{what}: {k}");
        }
    }
}

#[test]
fn creating_on_the_entry_world_reaches_the_recorded_exit_state() {
    let mut s = OpenstackState::load(&world("phase04-before-create")).unwrap();
    let absent = ask(
        &mut s,
        &["openstack", "network", "show", "provider-ext", "-f", "json"],
    );
    assert_eq!(
        (absent.exit, stderr(&absent).as_str()),
        (
            1,
            "Error while executing command: No Network found for provider-ext\n"
        )
    );
    let created = doc(&ask(&mut s, &split(NETWORK_CREATE)));
    // The create prints the object the SDK holds: tagged, revision 1.
    assert_eq!(created["revision_number"], json!(1));
    assert_eq!(created["tags"], json!(["role=provider"]));
    let sub = doc(&ask(&mut s, &split(SUBNET_CREATE)));
    assert_eq!(sub["revision_number"], json!(1));
    assert_eq!(sub["network_id"], created["id"]);

    let target = world("phase04-network-created");
    let recorded = |words: &[&str]| {
        let r = target.get(&argv(words)).expect("recorded");
        match serde_json::from_slice(&r.stdout).unwrap() {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    };
    let net_show = ["openstack", "network", "show", "provider-ext", "-f", "json"];
    let sub_show = [
        "openstack",
        "subnet",
        "show",
        "provider-ext-fip",
        "-f",
        "json",
    ];
    let net = doc(&ask(&mut s, &net_show));
    let subnet = doc(&ask(&mut s, &sub_show));
    same_shape(&net, &recorded(&net_show), "network show provider-ext");
    same_shape(
        &subnet,
        &recorded(&sub_show),
        "subnet show provider-ext-fip",
    );
    assert_eq!(net["subnets"], json!([subnet["id"]]));
    assert_eq!(subnet["network_id"], net["id"]);
    assert_ne!(net["created_at"], net["updated_at"]);

    let list: Value =
        serde_json::from_slice(&ask(&mut s, &["openstack", "subnet", "list", "-f", "json"]).stdout)
            .unwrap();
    assert_eq!(
        list,
        json!([{"ID": subnet["id"], "Name": "provider-ext-fip", "Network": net["id"], "Subnet": "10.12.4.0/22"}])
    );
    let list: Value = serde_json::from_slice(
        &ask(&mut s, &["openstack", "network", "list", "-f", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(
        list,
        json!([{"ID": net["id"], "Name": "provider-ext", "Subnets": [subnet["id"]]}])
    );
}

#[test]
fn neutron_refuses_a_second_flat_network_on_the_physnet_but_not_a_second_name() {
    let mut s = OpenstackState::load(&world("phase04-network-created")).unwrap();
    let again = ask(&mut s, &split(NETWORK_CREATE));
    assert_eq!(again.exit, 1);
    assert_eq!(
        stderr(&again),
        "ConflictException: 409: Client Error for url: http://10.12.4.55:9696/v2.0/networks, Unable to create the flat network. Physical network physnet1 is in use.\n"
    );
    // The same name on another physical network is allowed: then `show` by name is
    // ambiguous.
    let mut other = split(NETWORK_CREATE);
    other[9] = "physnet2";
    assert_eq!(ask(&mut s, &other).exit, 0);
    let show = ask(
        &mut s,
        &["openstack", "network", "show", "provider-ext", "-f", "json"],
    );
    assert_eq!(
        (show.exit, stderr(&show).as_str()),
        (
            1,
            "Error while executing command: More than one Network exists with the name 'provider-ext'.\n"
        )
    );
    let sub = ask(&mut s, &split(SUBNET_CREATE));
    assert_eq!(
        stderr(&sub),
        "More than one Network exists with the name 'provider-ext'.\n"
    );
}

#[test]
fn neutron_refuses_pools_and_gateways_that_do_not_fit_the_cidr() {
    let mut s = OpenstackState::load(&world("phase04-before-create")).unwrap();
    assert_eq!(ask(&mut s, &split(NETWORK_CREATE)).exit, 0);
    let with = |i: usize, v: &'static str| {
        let mut a = split(SUBNET_CREATE);
        a[i] = v;
        a
    };
    let url =
        "BadRequestException: 400: Client Error for url: http://10.12.4.55:9696/v2.0/subnets, ";
    for (argv, said) in [
        (
            with(13, "start=10.12.5.0,end=10.12.8.10"),
            "The allocation pool 10.12.5.0-10.12.8.10 spans beyond the subnet cidr 10.12.4.0/22.",
        ),
        (
            with(10, "10.12.5.1"),
            "Gateway ip 10.12.5.1 conflicts with allocation pool 10.12.5.0-10.12.7.254.",
        ),
        (
            with(10, "10.12.8.1"),
            "Invalid input for operation: Gateway is not valid on subnet.",
        ),
    ] {
        let a = ask(&mut s, &argv);
        assert_eq!((a.exit, stderr(&a)), (1, format!("{url}{said}\n")));
    }
    let missing = {
        let mut a = split(SUBNET_CREATE);
        a[6] = "provider-ext-old";
        a
    };
    assert_eq!(
        stderr(&ask(&mut s, &missing)),
        "No Network found for provider-ext-old\n"
    );
    assert_eq!(ask(&mut s, &split(SUBNET_CREATE)).exit, 0);
    let overlap = ask(&mut s, &with(18, "provider-ext-fip2"));
    assert!(
        stderr(&overlap).contains("overlaps with another subnet."),
        "{}",
        stderr(&overlap)
    );
    // Nothing refused left a trace.
    let list: Value =
        serde_json::from_slice(&ask(&mut s, &["openstack", "subnet", "list", "-f", "json"]).stdout)
            .unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn without_credentials_every_command_fails_as_keystoneauth_says() {
    let mut s = OpenstackState::load(&world("phase04-no-openrc")).unwrap();
    for line in [NETWORK_CREATE, "openstack network list -f json"] {
        let a = ask(&mut s, &split(line));
        assert_eq!(
            (a.exit, stderr(&a).as_str()),
            (
                1,
                "Missing value auth-url required for auth plugin password\n"
            )
        );
    }
}

#[test]
fn a_flat_network_needs_its_physical_network_and_unmodelled_forms_say_so() {
    let mut s = OpenstackState::load(&world("phase04-before-create")).unwrap();
    let no_physnet: Vec<&str> = split(NETWORK_CREATE)
        .into_iter()
        .filter(|w| *w != "--provider-physical-network" && *w != "physnet1")
        .collect();
    assert!(
        stderr(&ask(&mut s, &no_physnet))
            .ends_with("physical_network required for flat provider network.\n")
    );
    // The table layout is not rendered: no `-f json`, no answer pretending it ran.
    let table: Vec<&str> = split(NETWORK_CREATE)
        .into_iter()
        .filter(|w| *w != "-f" && *w != "json")
        .collect();
    let a = ask(&mut s, &table);
    assert!(stderr(&a).contains("is not modelled"), "{}", stderr(&a));
    let list: Value = serde_json::from_slice(
        &ask(&mut s, &["openstack", "network", "list", "-f", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(list, json!([]));
}

#[test]
fn non_ascii_is_escaped_as_python_json_does() {
    assert_eq!(
        render(&json!({"description": "r\u{e9}seau \u{1f310}"})),
        b"{\n  \"description\": \"r\\u00e9seau \\ud83c\\udf10\"\n}\n".to_vec()
    );
}
