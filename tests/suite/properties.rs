//! Property tests over the recorded testcloud worlds: the status gates' verdicts do not
//! depend on the order juju prints maps in or on how machines are numbered; an error on
//! any one unit, principal or subordinate, fails P02-E naming that unit; and a unit
//! without `juju-status` is PRECONDITION naming its key path, never PASS (DOCFIX-044,
//! rule R2).
//!
//! Documents are edited as an order-preserving tree (serde_json's `Value` sorts keys
//! without its `preserve_order` feature) and written back with the simulator's Go-style
//! writer, so an unedited world round-trips byte for byte.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use stackgate::gates::{self, Mark, Status, Verdict};
use stackgate::profile::Profile;
use stackgate::runner::CommandOutput;
use stackgate::sim::json::JsonWriter;
use stackgate::sim::{CloudShape, VaultState, status};
use stackgate::snapshot::Snapshot;
use stackgate::sources::juju::{parse_status, status_invocation};
use stackgate::world::World;

/// The healthy worlds the properties start from.
const WORLDS: [&str; 2] = ["testcloud/phase02-pre-vault", "testcloud/phase03-settled"];
/// The gates that read `juju status`.
const STATUS_GATES: [&str; 5] = ["P02-B", "P02-C", "P02-D", "P02-E", "P03-ACCEPT"];
/// The shape juju prints for a failed hook (workload error, agent still idle).
const HOOK_FAILED: &str = "hook failed: \"config-changed\"";

// ---------------------------------------------------------------------------------
// An order-preserving JSON tree.

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(serde_json::Value),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn parse(text: &[u8]) -> Node {
        serde_json::from_slice(text).expect("the world's status is JSON")
    }

    fn str(s: &str) -> Node {
        Node::Leaf(serde_json::Value::String(s.to_string()))
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Leaf(serde_json::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Object(entries) => entries,
            other => panic!("not an object: {other:?}"),
        }
    }

    fn entries_mut(&mut self) -> &mut Vec<(String, Node)> {
        match self {
            Node::Object(entries) => entries,
            other => panic!("not an object: {other:?}"),
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries_mut()
            .iter_mut()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    fn at_mut(&mut self, path: &[&str]) -> &mut Node {
        path.iter().fold(self, |node, key| {
            node.get_mut(key)
                .unwrap_or_else(|| panic!("no key {key} on the path {path:?}"))
        })
    }

    fn remove(&mut self, key: &str) -> Option<Node> {
        let entries = self.entries_mut();
        let i = entries.iter().position(|(k, _)| k == key)?;
        Some(entries.remove(i).1)
    }

    fn set(&mut self, key: &str, value: Node) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.entries_mut().push((key.to_string(), value)),
        }
    }

    fn write(&self, w: &mut JsonWriter) {
        match self {
            Node::Leaf(serde_json::Value::String(s)) => {
                w.string(s);
            }
            Node::Leaf(serde_json::Value::Bool(b)) => {
                w.bool(*b);
            }
            Node::Leaf(serde_json::Value::Null) => {
                w.null();
            }
            Node::Leaf(serde_json::Value::Number(n)) => {
                w.raw(&n.to_string());
            }
            Node::Leaf(other) => unreachable!("leaves are scalars: {other}"),
            Node::Array(items) => {
                w.begin_array();
                for item in items {
                    item.write(w);
                }
                w.end_array();
            }
            Node::Object(entries) => {
                w.begin_object();
                for (k, v) in entries {
                    w.key(k);
                    v.write(w);
                }
                w.end_object();
            }
        }
    }

    /// The document as juju prints it: compact, with a trailing newline.
    fn to_text(&self) -> String {
        let mut w = JsonWriter::new();
        self.write(&mut w);
        let mut text = w.finish();
        text.push('\n');
        text
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Leaf(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Leaf(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Leaf(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Leaf(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::str(v))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf(serde_json::Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Node::Object(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

// ---------------------------------------------------------------------------------
// Worlds, units and verdicts.

fn status_argv() -> Vec<String> {
    status_invocation(&Profile::testcloud().model)
        .argv()
        .to_vec()
}

/// The raw `juju status` stdout of an embedded world.
fn world_status(world: &str) -> &'static [u8] {
    static TEXTS: OnceLock<BTreeMap<&'static str, Vec<u8>>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        WORLDS
            .iter()
            .map(|&name| {
                let world = World::embedded(name).unwrap_or_else(|e| panic!("{e}"));
                let recording = world
                    .get(&status_argv())
                    .unwrap_or_else(|| panic!("{name} holds no juju status"));
                (name, recording.stdout.to_vec())
            })
            .collect()
    })[world]
        .as_slice()
}

/// Runs the status gates on a `juju status` stdout.
fn verdicts(stdout: &[u8]) -> Vec<Verdict> {
    let profile = Profile::testcloud();
    let output = CommandOutput {
        argv: status_argv(),
        exit_code: Some(0),
        stdout: stdout.to_vec().into(),
        stderr: Vec::new(),
        duration: Duration::ZERO,
    };
    let snapshot =
        Snapshot::from_parts("prop").with_juju_status(&profile.model, parse_status(&output));
    let verdicts = STATUS_GATES
        .iter()
        .map(|id| gates::by_id(id).expect(id).run(&snapshot, &profile))
        .collect();
    // As a run judges them: the profile's waivers (FINDING-1) on a fixed date.
    stackgate::waivers::apply(
        verdicts,
        &profile.waivers,
        "2026-12-07".parse().expect("a date"),
    )
}

fn verdict<'a>(verdicts: &'a [Verdict], id: &str) -> &'a Verdict {
    verdicts.iter().find(|v| v.id == id).expect(id)
}

/// The verdicts of an unedited world, computed once.
fn baseline(world: &str) -> &'static [Verdict] {
    static BASELINES: OnceLock<BTreeMap<&'static str, Vec<Verdict>>> = OnceLock::new();
    BASELINES.get_or_init(|| {
        WORLDS
            .iter()
            .map(|&name| (name, verdicts(world_status(name))))
            .collect()
    })[world]
        .as_slice()
}

/// A unit in a document: its name and the keys that lead to its object.
#[derive(Debug, Clone)]
struct UnitAt {
    name: String,
    keys: Vec<String>,
}

impl UnitAt {
    fn keys(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).collect()
    }

    /// The key path the gates name (`applications.A.units.U[.subordinates.S]`).
    fn path(&self) -> String {
        self.keys.join(".")
    }
}

/// Every unit of a document, principals and subordinates, in document order.
fn units(doc: &Node) -> Vec<UnitAt> {
    let mut out = Vec::new();
    for (app, app_node) in doc.get("applications").unwrap().entries() {
        for (unit, unit_node) in app_node.get("units").map_or(&[][..], Node::entries) {
            let keys = vec![
                "applications".into(),
                app.clone(),
                "units".into(),
                unit.clone(),
            ];
            for (sub, _) in unit_node.get("subordinates").map_or(&[][..], Node::entries) {
                let mut sub_keys = keys.clone();
                sub_keys.extend(["subordinates".to_string(), sub.clone()]);
                out.push(UnitAt {
                    name: sub.clone(),
                    keys: sub_keys,
                });
            }
            out.push(UnitAt {
                name: unit.clone(),
                keys,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Reordering and renumbering.

/// A small deterministic generator (splitmix64) driven by a proptest seed.
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Renames machine `N` (and its containers `N/lxd/M`) through `ids`.
fn renumber(id: &str, ids: &BTreeMap<String, String>) -> String {
    match id.split_once('/') {
        Some((machine, rest)) => format!("{}/{rest}", ids[machine]),
        None => ids[id].clone(),
    }
}

/// Shuffles every map juju prints in sorted order (applications, units, subordinates,
/// machines, containers) and renumbers machines consistently: machine keys, container
/// keys and container hostnames, and every unit's `machine`.
fn reorder_and_renumber(doc: &mut Node, rng: &mut Shuffler, id_offset: u64) {
    let machines = doc.get_mut("machines").unwrap().entries_mut();
    let mut new_ids: Vec<u64> = (0..machines.len() as u64).map(|i| i + id_offset).collect();
    rng.shuffle(&mut new_ids);
    let ids: BTreeMap<String, String> = machines
        .iter()
        .zip(&new_ids)
        .map(|((old, _), new)| (old.clone(), new.to_string()))
        .collect();
    for (id, machine) in machines.iter_mut() {
        let old = id.clone();
        *id = ids[&old].clone();
        if let Some(containers) = machine.get_mut("containers") {
            let containers = containers.entries_mut();
            for (cid, container) in containers.iter_mut() {
                *cid = renumber(cid, &ids);
                // `juju-<model tag>-N-lxd-M`: the container's name carries its id.
                for key in ["hostname", "instance-id"] {
                    if let Some(name) = container.get(key).and_then(Node::as_str) {
                        let renamed = name.replace(&format!("-{old}-lxd-"), &format!("-{id}-lxd-"));
                        container.set(key, Node::str(&renamed));
                    }
                }
            }
            rng.shuffle(containers);
        }
    }
    rng.shuffle(machines);

    let apps = doc.get_mut("applications").unwrap().entries_mut();
    for (_, app) in apps.iter_mut() {
        let Some(units) = app.get_mut("units") else {
            continue;
        };
        let units = units.entries_mut();
        for (_, unit) in units.iter_mut() {
            if let Some(machine) = unit.get("machine").and_then(Node::as_str) {
                let renamed = renumber(machine, &ids);
                unit.set("machine", Node::str(&renamed));
            }
            if let Some(subs) = unit.get_mut("subordinates") {
                rng.shuffle(subs.entries_mut());
            }
        }
        rng.shuffle(units);
    }
    rng.shuffle(apps);
}

// ---------------------------------------------------------------------------------
// Properties.

fn world_strategy() -> impl Strategy<Value = &'static str> {
    prop::sample::select(WORLDS.to_vec())
}

/// Whether an evidence subject ("unit keystone/0", "keystone/0: ...") names the unit.
fn names(subject: &str, unit: &str) -> bool {
    subject
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .any(|word| word == unit)
}

#[derive(Debug, Clone, Copy)]
enum UnitError {
    /// workload-status error "hook failed: ..." (juju-status stays idle).
    HookFailed,
    /// juju-status error.
    Agent,
}

proptest! {
    // 64 cases each keep the file to a few seconds in a debug build. Failures print
    // the minimal input; nothing is persisted (proptest's default would write
    // regression files beside the source; a failure's printed input is the record).
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Verdicts read identities, never positions: the same cloud printed in another
    /// map order, with its machines numbered differently, gets the same verdicts.
    #[test]
    fn verdicts_ignore_map_order_and_machine_numbering(
        world in world_strategy(),
        seed in any::<u64>(),
        id_offset in 0u64..40,
    ) {
        let mut doc = Node::parse(world_status(world));
        reorder_and_renumber(&mut doc, &mut Shuffler(seed), id_offset);
        let edited = verdicts(doc.to_text().as_bytes());
        for (before, after) in baseline(world).iter().zip(&edited) {
            prop_assert_eq!(before.status, after.status, "{} on {}", before.id, world);
            prop_assert_eq!(&before.metrics, &after.metrics, "{} on {}", before.id, world);
        }
        // P02-E and P03-ACCEPT name units only: their whole verdict is unchanged.
        for id in ["P02-E", "P03-ACCEPT"] {
            prop_assert_eq!(verdict(baseline(world), id), verdict(&edited, id));
        }
    }

    /// An error on any one unit, principal or subordinate, fails P02-E and the
    /// evidence names the unit.
    #[test]
    fn an_error_on_any_one_unit_fails_p02_e_naming_it(
        world in world_strategy(),
        pick in any::<Index>(),
        kind in prop_oneof![Just(UnitError::HookFailed), Just(UnitError::Agent)],
    ) {
        let mut doc = Node::parse(world_status(world));
        let all = units(&doc);
        let target = pick.get(&all).clone();
        let unit = doc.at_mut(&target.keys());
        let (key, metric) = match kind {
            UnitError::HookFailed => ("workload-status", "workload_error"),
            UnitError::Agent => ("juju-status", "juju_status_error"),
        };
        let status = unit.get_mut(key).unwrap();
        status.set("current", Node::str("error"));
        if let UnitError::HookFailed = kind {
            status.set("message", Node::str(HOOK_FAILED));
        }
        let edited = verdicts(doc.to_text().as_bytes());
        let e = verdict(&edited, "P02-E");
        prop_assert_eq!(e.status, Status::Fail, "{} {:?}: {:#?}", target.path(), kind, e);
        prop_assert_eq!(e.metrics[metric], 1);
        prop_assert_eq!(e.metrics["units"], all.len() as u64);
        prop_assert!(
            e.evidence
                .iter()
                .any(|ev| ev.mark == Mark::Bad && ev.property == key && names(&ev.subject, &target.name)),
            "no BAD {} evidence names {}: {:#?}", key, target.name, e.evidence
        );
    }

    /// DOCFIX-044 / R2: a unit without `juju-status` is a schema fault the gate cannot
    /// read past. P02-E (and P03-ACCEPT) report PRECONDITION naming the key path, never
    /// PASS.
    #[test]
    fn a_unit_without_juju_status_is_precondition_naming_its_path(
        world in world_strategy(),
        pick in any::<Index>(),
    ) {
        let mut doc = Node::parse(world_status(world));
        let target = pick.get(&units(&doc)).clone();
        prop_assert!(doc.at_mut(&target.keys()).remove("juju-status").is_some());
        let edited = verdicts(doc.to_text().as_bytes());
        let missing = format!("{}.juju-status", target.path());
        for id in ["P02-E", "P03-ACCEPT"] {
            let v = verdict(&edited, id);
            prop_assert_eq!(v.status, Status::Precondition, "{} on {}: {:#?}", id, missing, v);
            prop_assert!(
                v.evidence.iter().any(|ev| ev.mark == Mark::Missing && ev.subject == missing),
                "{} names no missing {}: {:#?}", id, missing, v.evidence
            );
            prop_assert!(v.summary.contains(&missing), "{}", v.summary);
        }
    }
}

// ---------------------------------------------------------------------------------
// The harness itself, and the simulator against the recorded shape.

/// The tree and writer reproduce a recorded world byte for byte, so the properties
/// above edit only what they mean to.
#[test]
fn an_unedited_world_round_trips_byte_for_byte() {
    for world in WORLDS {
        let text = world_status(world);
        let round = Node::parse(text).to_text();
        assert!(round.as_bytes() == text, "{world} does not round-trip");
    }
}

#[test]
fn the_healthy_worlds_have_the_verdicts_the_properties_start_from() {
    let pre = baseline(WORLDS[0]);
    assert_eq!(verdict(pre, "P02-E").status, Status::Pass);
    assert_eq!(verdict(pre, "P02-B").status, Status::Pass);
    assert_eq!(verdict(pre, "P02-C").status, Status::Pass);
    assert_eq!(verdict(pre, "P02-D").status, Status::Proceed);
    let settled = baseline(WORLDS[1]);
    assert_eq!(verdict(settled, "P03-ACCEPT").status, Status::Waived);
    assert_eq!(verdict(settled, "P02-E").status, Status::Pass);
}

/// The kind of each object in a `juju status` document, for comparing key orders.
fn object_kinds<'a>(doc: &'a Node, out: &mut BTreeMap<&'static str, Vec<&'a Node>>) {
    let mut add = |kind: &'static str, node: &'a Node| out.entry(kind).or_default().push(node);
    add("top level", doc);
    add("model", doc.get("model").unwrap());
    for (_, machine) in doc.get("machines").unwrap().entries() {
        add("machine", machine);
        for (_, container) in machine.get("containers").map_or(&[][..], Node::entries) {
            add("container", container);
        }
    }
    for (_, app) in doc.get("applications").unwrap().entries() {
        let subordinate = app.get("subordinate-to").is_some();
        add(
            if subordinate {
                "subordinate application"
            } else {
                "principal application"
            },
            app,
        );
        for (_, unit) in app.get("units").map_or(&[][..], Node::entries) {
            add("principal unit", unit);
            add("workload-status", unit.get("workload-status").unwrap());
            add("juju-status", unit.get("juju-status").unwrap());
            for (_, sub) in unit.get("subordinates").map_or(&[][..], Node::entries) {
                add("subordinate unit", sub);
            }
        }
    }
}

/// Go maps print sorted; every map of the document must be.
fn assert_maps_sorted(doc: &Node, what: &str) {
    let sorted = |entries: &[(String, Node)], map: &str| {
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let mut want = keys.clone();
        want.sort_unstable();
        assert_eq!(keys, want, "{what}: {map} is not in Go map order");
    };
    sorted(doc.get("machines").unwrap().entries(), "machines");
    sorted(doc.get("applications").unwrap().entries(), "applications");
    for (id, machine) in doc.get("machines").unwrap().entries() {
        if let Some(c) = machine.get("containers") {
            sorted(c.entries(), &format!("machines.{id}.containers"));
        }
    }
    for (name, app) in doc.get("applications").unwrap().entries() {
        for map in ["units", "relations", "endpoint-bindings"] {
            if let Some(m) = app.get(map) {
                sorted(m.entries(), &format!("applications.{name}.{map}"));
            }
        }
        for (unit, node) in app.get("units").map_or(&[][..], Node::entries) {
            if let Some(s) = node.get("subordinates") {
                sorted(
                    s.entries(),
                    &format!("applications.{name}.units.{unit}.subordinates"),
                );
            }
        }
    }
}

/// The simulator prints each kind of object with its keys in the order the recorded
/// juju 3.6 worlds do, and every map in Go's sorted order.
#[test]
fn the_simulator_prints_keys_in_the_recorded_order() {
    let recorded = Node::parse(world_status(WORLDS[0]));
    let shape = CloudShape::testcloud().with_vault(VaultState::Fresh);
    let simulated = Node::parse(status::render(&shape).as_bytes());
    assert_maps_sorted(&recorded, WORLDS[0]);
    assert_maps_sorted(&simulated, "the simulator");
    let (mut rec_kinds, mut sim_kinds) = (BTreeMap::new(), BTreeMap::new());
    object_kinds(&recorded, &mut rec_kinds);
    object_kinds(&simulated, &mut sim_kinds);
    assert_eq!(
        rec_kinds.keys().collect::<Vec<_>>(),
        sim_kinds.keys().collect::<Vec<_>>()
    );
    for (kind, sims) in &sim_kinds {
        for rec in &rec_kinds[kind] {
            let rec_keys: Vec<&str> = rec.entries().iter().map(|(k, _)| k.as_str()).collect();
            for sim in sims {
                let common: Vec<&str> = sim
                    .entries()
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .filter(|k| rec_keys.contains(k))
                    .collect();
                let rec_common: Vec<&str> = rec_keys
                    .iter()
                    .copied()
                    .filter(|k| common.contains(k))
                    .collect();
                assert_eq!(common, rec_common, "{kind}: key order differs");
            }
        }
    }
}
