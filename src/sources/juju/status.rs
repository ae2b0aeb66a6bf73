//! The `juju status --format=json` model and walkers over units and machines.

use compact_str::CompactString;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use serde::Deserialize;

use crate::sources::MissingKey;
use crate::sources::keys::KeyPath;

/// Top level of `juju status --format=json`.
#[derive(Debug, Clone, Deserialize)]
pub struct JujuStatus {
    pub model: ModelStatus,
    pub machines: Entries<Machine>,
    pub applications: BTreeMap<String, Application>,
    #[serde(rename = "application-endpoints", default)]
    pub application_endpoints: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    pub offers: BTreeMap<String, serde::de::IgnoredAny>,
    /// [`JujuStatus::unjustified_emptiness`], worked out once: every gate that reads the
    /// status asks for it.
    #[serde(skip)]
    gaps: std::sync::OnceLock<Vec<MissingKey>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub model_type: Option<String>,
    pub controller: String,
    pub cloud: String,
    pub region: Option<String>,
    pub version: String,
    #[serde(rename = "model-status")]
    pub model_status: Option<StatusInfo>,
}

/// StatusInfo: every key is omitempty in juju; `status-error` replaces the rest when
/// juju could not read the status.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct StatusInfo {
    pub current: Option<String>,
    pub message: Option<String>,
    pub since: Option<String>,
    pub version: Option<String>,
    pub life: Option<String>,
    pub reason: Option<String>,
    #[serde(rename = "status-error")]
    pub status_error: Option<String>,
}

/// The status of a machine, container or unit as gates read it: `current` and
/// `message`, or `status-error` when juju could not read it. The rest of juju's
/// StatusInfo (`since`, `version`, ...) is not read, so not kept: at 100,000 units it was
/// most of what parsing allocated.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct EntityStatus {
    pub current: Option<CompactString>,
    pub message: Option<CompactString>,
    #[serde(rename = "status-error")]
    pub status_error: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Base {
    pub name: CompactString,
    pub channel: CompactString,
}

/// A machine or container. All keys are omitempty in juju.
#[derive(Debug, Clone, Deserialize)]
pub struct Machine {
    #[serde(rename = "juju-status")]
    pub juju_status: Option<EntityStatus>,
    pub hostname: Option<CompactString>,
    #[serde(rename = "dns-name")]
    pub dns_name: Option<CompactString>,
    #[serde(rename = "instance-id")]
    pub instance_id: Option<CompactString>,
    pub base: Option<Base>,
    /// juju 2.9 prints `series` where 3.x prints `base`.
    pub series: Option<CompactString>,
    pub containers: Option<Entries<Machine>>,
    #[serde(rename = "status-error")]
    pub status_error: Option<String>,
}

/// One entry of an application's `relations`: a bare application name (juju 2.9 and
/// early 3.x) or an object (juju 3.6).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(
    untagged,
    expecting = "a related application's name, or an object with `related-application`"
)]
pub enum Relation {
    Name(String),
    Detailed {
        #[serde(rename = "related-application")]
        related_application: String,
        interface: Option<String>,
        scope: Option<String>,
    },
}

impl Relation {
    pub fn related_application(&self) -> &str {
        match self {
            Relation::Name(name) => name,
            Relation::Detailed {
                related_application,
                ..
            } => related_application,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub charm: Option<String>,
    pub base: Option<Base>,
    pub series: Option<String>,
    pub exposed: Option<bool>,
    pub life: Option<String>,
    pub relations: Option<BTreeMap<String, Vec<Relation>>>,
    #[serde(rename = "subordinate-to")]
    pub subordinate_to: Option<Vec<String>>,
    /// Absent for subordinate applications: their units sit under principals.
    pub units: Option<Entries<Unit>>,
    #[serde(rename = "endpoint-bindings")]
    pub endpoint_bindings: Option<BTreeMap<String, String>>,
    pub version: Option<String>,
    #[serde(rename = "status-error")]
    pub status_error: Option<String>,
}

impl Application {
    pub fn is_subordinate(&self) -> bool {
        self.subordinate_to.as_ref().is_some_and(|s| !s.is_empty())
    }
}

/// A unit. Every key is omitempty except the two status structs; `leader` is absent
/// when false.
#[derive(Debug, Clone, Deserialize)]
pub struct Unit {
    #[serde(rename = "workload-status")]
    pub workload_status: Option<EntityStatus>,
    #[serde(rename = "juju-status")]
    pub juju_status: Option<EntityStatus>,
    #[serde(default)]
    pub leader: bool,
    pub machine: Option<CompactString>,
    pub subordinates: Option<Entries<Unit>>,
    #[serde(rename = "status-error")]
    pub status_error: Option<String>,
}

/// An object juju keys by name (the machines, an application's units, a unit's
/// subordinates, a machine's containers): its entries in key order, in one allocation
/// of exactly their number. A `BTreeMap` allocates a node of eleven entries for the
/// three subordinates of a unit or the two containers of a machine: at 20,016 units
/// that was more than half the model (issue 13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entries<V>(Box<[(CompactString, V)]>);

impl<V> Entries<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn iter(&self) -> std::iter::Map<std::slice::Iter<'_, (CompactString, V)>, EntryRef<V>> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

type EntryRef<V> = for<'a> fn(&'a (CompactString, V)) -> (&'a CompactString, &'a V);

impl<'a, V> IntoIterator for &'a Entries<V> {
    type Item = (&'a CompactString, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (CompactString, V)>, EntryRef<V>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<CompactString, V>()? {
                    entries.push(entry);
                }
                // juju prints keys in order (Go's encoding/json sorts them): keys in
                // strictly rising order are sorted and hold no key twice, in one pass.
                if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    if entries.windows(2).any(|w| w[0].0 == w[1].0) {
                        return Err(serde::de::Error::custom(
                            "duplicate key (refused: which one a reader keeps is arbitrary)",
                        ));
                    }
                }
                Ok(Entries(entries.into_boxed_slice()))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

/// A status a gate read, or why the unit had none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRead<'a> {
    /// `current` and `message` (empty when juju omitted it).
    Status { current: &'a str, message: &'a str },
    /// juju replaced the entity with `{"status-error": ...}`.
    StatusError(&'a str),
}

impl<'a> StatusRead<'a> {
    pub fn current(&self) -> &'a str {
        match self {
            StatusRead::Status { current, .. } => current,
            StatusRead::StatusError(_) => "error",
        }
    }

    pub fn message(&self) -> &'a str {
        match self {
            StatusRead::Status { message, .. } => message,
            StatusRead::StatusError(msg) => msg,
        }
    }
}

/// The key paths of `juju status` that its walkers and accessors raise: one
/// declaration each, listed in [`super::KEYS`].
pub mod keys {
    use crate::sources::keys::{Doc, KeyPath};

    /// Gates that read each unit's agent status (the census, the acceptance sweep).
    const UNIT_AGENT_READERS: &[&str] = &["P02-E", "P03-ACCEPT"];
    /// Gates that read each principal unit's workload status.
    const UNIT_WORKLOAD_READERS: &[&str] = &[
        "P02-AUTHORIZED",
        "P02-C",
        "P02-D",
        "P02-E",
        "P03-ACCEPT",
        "P05-AMPHORA",
        "P05-POST",
        "P05-PRE",
    ];
    /// Gates that read each machine's and container's agent status.
    const MACHINE_AGENT_READERS: &[&str] = &["P02-B"];
    /// Gates that read a deployed model's status; each parses it whole, so the maps
    /// whose emptiness the status contradicts are theirs too.
    pub(crate) const DEPLOYED_STATUS_READERS: &[&str] = &[
        "P01-BINDINGS",
        "P02-AUTHORIZED",
        "P02-B",
        "P02-C",
        "P02-D",
        "P02-E",
        "P03-ACCEPT",
        "P03-HAPROXY",
        "P05-AMPHORA",
        "P05-POST",
        "P05-PRE",
    ];
    macro_rules! status_key {
        ($name:ident, $path:literal, $gates:expr) => {
            pub static $name: KeyPath = KeyPath::required(Doc::JujuStatus, $path, $gates);
        };
    }
    status_key!(
        UNIT_WORKLOAD,
        "applications.<app>.units.<unit>.workload-status",
        UNIT_WORKLOAD_READERS
    );
    status_key!(
        UNIT_WORKLOAD_CURRENT,
        "applications.<app>.units.<unit>.workload-status.current",
        UNIT_WORKLOAD_READERS
    );
    status_key!(
        UNIT_AGENT,
        "applications.<app>.units.<unit>.juju-status",
        UNIT_AGENT_READERS
    );
    status_key!(
        UNIT_AGENT_CURRENT,
        "applications.<app>.units.<unit>.juju-status.current",
        UNIT_AGENT_READERS
    );
    status_key!(
        SUB_WORKLOAD,
        "applications.<app>.units.<unit>.subordinates.<unit>.workload-status",
        &["P02-AUTHORIZED", "P02-E", "P03-ACCEPT"]
    );
    status_key!(
        SUB_WORKLOAD_CURRENT,
        "applications.<app>.units.<unit>.subordinates.<unit>.workload-status.current",
        &["P02-AUTHORIZED", "P02-E", "P03-ACCEPT"]
    );
    status_key!(
        SUB_AGENT,
        "applications.<app>.units.<unit>.subordinates.<unit>.juju-status",
        UNIT_AGENT_READERS
    );
    status_key!(
        SUB_AGENT_CURRENT,
        "applications.<app>.units.<unit>.subordinates.<unit>.juju-status.current",
        UNIT_AGENT_READERS
    );
    status_key!(
        MACHINE_AGENT,
        "machines.<id>.juju-status",
        MACHINE_AGENT_READERS
    );
    status_key!(
        MACHINE_AGENT_CURRENT,
        "machines.<id>.juju-status.current",
        MACHINE_AGENT_READERS
    );
    status_key!(
        CONTAINER_AGENT,
        "machines.<id>.containers.<id>.juju-status",
        MACHINE_AGENT_READERS
    );
    status_key!(
        CONTAINER_AGENT_CURRENT,
        "machines.<id>.containers.<id>.juju-status.current",
        MACHINE_AGENT_READERS
    );
    // Maps juju omits when empty, whose emptiness the rest of the status contradicts.
    status_key!(
        APP_UNITS,
        "applications.<app>.units",
        DEPLOYED_STATUS_READERS
    );
    status_key!(
        UNIT_SUBORDINATES,
        "applications.<app>.units.<unit>.subordinates",
        DEPLOYED_STATUS_READERS
    );
    status_key!(MACHINE, "machines.<id>", DEPLOYED_STATUS_READERS);
    status_key!(
        CONTAINER,
        "machines.<id>.containers.<id>",
        DEPLOYED_STATUS_READERS
    );
    status_key!(
        ENDPOINT_BINDINGS,
        "applications.<app>.endpoint-bindings",
        &["P01-BINDINGS"]
    );
}

/// Which status struct an accessor reads, with its two declarations.
struct StatusKeys {
    info: &'static KeyPath,
    current: &'static KeyPath,
}

const UNIT_WORKLOAD: StatusKeys = StatusKeys {
    info: &keys::UNIT_WORKLOAD,
    current: &keys::UNIT_WORKLOAD_CURRENT,
};
const UNIT_AGENT: StatusKeys = StatusKeys {
    info: &keys::UNIT_AGENT,
    current: &keys::UNIT_AGENT_CURRENT,
};
const SUB_WORKLOAD: StatusKeys = StatusKeys {
    info: &keys::SUB_WORKLOAD,
    current: &keys::SUB_WORKLOAD_CURRENT,
};
const SUB_AGENT: StatusKeys = StatusKeys {
    info: &keys::SUB_AGENT,
    current: &keys::SUB_AGENT_CURRENT,
};
const MACHINE_AGENT: StatusKeys = StatusKeys {
    info: &keys::MACHINE_AGENT,
    current: &keys::MACHINE_AGENT_CURRENT,
};
const CONTAINER_AGENT: StatusKeys = StatusKeys {
    info: &keys::CONTAINER_AGENT,
    current: &keys::CONTAINER_AGENT_CURRENT,
};

/// `path` builds the entity's key path, only when a key is missing (a walk over a large
/// status reads every entity, and a path per entity would be most of its cost).
fn read_status<'a>(
    entity_error: Option<&'a str>,
    info: Option<&'a EntityStatus>,
    path: impl Fn() -> String,
    key: StatusKeys,
) -> Result<StatusRead<'a>, MissingKey> {
    if let Some(err) = entity_error {
        return Ok(StatusRead::StatusError(err));
    }
    // The key's leaf is worked out only for a missing key's path, as `path` is.
    let info = info.ok_or_else(|| {
        key.info
            .missing_at(format!("{}.{}", path(), key.info.leaf()))
    })?;
    if let Some(err) = info.status_error.as_deref() {
        return Ok(StatusRead::StatusError(err));
    }
    let current = info.current.as_deref().ok_or_else(|| {
        key.current
            .missing_at(format!("{}.{}.current", path(), key.info.leaf()))
    })?;
    Ok(StatusRead::Status {
        current,
        message: info.message.as_deref().unwrap_or(""),
    })
}

/// A unit found by a walk, with what leads to it.
#[derive(Debug, Clone)]
pub struct UnitRef<'a> {
    pub name: &'a str,
    pub unit: &'a Unit,
    /// The key of the application under `applications` whose `units` holds the unit (or
    /// its principal).
    pub app_key: &'a str,
    /// The principal unit, for a subordinate.
    pub principal: Option<&'a str>,
}

impl<'a> UnitRef<'a> {
    /// `applications.keystone.units.keystone/0` or `...subordinates.keystone-hacluster/0`.
    pub fn path(&self) -> String {
        match self.principal {
            None => format!("applications.{}.units.{}", self.app_key, self.name),
            Some(p) => format!(
                "applications.{}.units.{p}.subordinates.{}",
                self.app_key, self.name
            ),
        }
    }

    /// The application a unit belongs to, from its name (`app/N`).
    pub fn application(&self) -> &'a str {
        application_of(self.name)
    }

    pub fn workload(&self) -> Result<StatusRead<'a>, MissingKey> {
        read_status(
            self.unit.status_error.as_deref(),
            self.unit.workload_status.as_ref(),
            || self.path(),
            if self.is_subordinate() {
                SUB_WORKLOAD
            } else {
                UNIT_WORKLOAD
            },
        )
    }

    pub fn agent(&self) -> Result<StatusRead<'a>, MissingKey> {
        // A unit replaced by status-error has no agent status to read; the workload
        // read reports it.
        if self.unit.status_error.is_some() {
            return Ok(StatusRead::Status {
                current: "unknown",
                message: "",
            });
        }
        read_status(
            None,
            self.unit.juju_status.as_ref(),
            || self.path(),
            if self.is_subordinate() {
                SUB_AGENT
            } else {
                UNIT_AGENT
            },
        )
    }

    pub fn is_subordinate(&self) -> bool {
        self.principal.is_some()
    }
}

/// The application part of a unit name.
pub fn application_of(unit: &str) -> &str {
    // On the bytes: `/` is ASCII, and this runs for every unit of a large status.
    unit.as_bytes()
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(unit, |i| &unit[..i])
}

/// A machine or container found by a walk.
#[derive(Debug, Clone)]
pub struct MachineRef<'a> {
    pub id: &'a str,
    pub machine: &'a Machine,
    /// The machine holding a container.
    pub host: Option<&'a str>,
    pub is_container: bool,
}

impl<'a> MachineRef<'a> {
    /// `machines.3` or `machines.3.containers.3/lxd/5`.
    pub fn path(&self) -> String {
        match self.host {
            None => format!("machines.{}", self.id),
            Some(h) => format!("machines.{h}.containers.{}", self.id),
        }
    }

    pub fn agent(&self) -> Result<StatusRead<'a>, MissingKey> {
        read_status(
            self.machine.status_error.as_deref(),
            self.machine.juju_status.as_ref(),
            || self.path(),
            if self.is_container {
                CONTAINER_AGENT
            } else {
                MACHINE_AGENT
            },
        )
    }

    /// The hostname (3.x) or, failing that, the DNS name, for evidence lines.
    pub fn label(&self) -> String {
        match (&self.machine.hostname, &self.machine.dns_name) {
            (Some(h), _) => format!("{} ({h})", self.id),
            (None, Some(d)) => format!("{} ({d})", self.id),
            _ => self.id.to_string(),
        }
    }
}

impl JujuStatus {
    /// Every unit, principals and their subordinates (recursively), in key order.
    pub fn units(&self) -> Vec<UnitRef<'_>> {
        let mut out = Vec::new();
        self.each_unit(&mut |u| {
            out.push(u);
            ControlFlow::Continue(())
        });
        out
    }

    /// Every unit in the order of [`JujuStatus::units`], to `visit` until it breaks: a
    /// lookup walks the units without collecting them all (the vault gates look up each
    /// consumer application's units).
    fn each_unit<'a>(&'a self, visit: &mut dyn FnMut(UnitRef<'a>) -> ControlFlow<()>) {
        for (app_name, app) in &self.applications {
            for (unit_name, unit) in app.units.iter().flatten() {
                if walk_unit(visit, unit_name, unit, app_name, None).is_break() {
                    return;
                }
            }
        }
    }

    /// Every unit in the order of [`JujuStatus::units`], without collecting them: a
    /// census of a large status.
    pub fn for_each_unit<'a>(&'a self, mut visit: impl FnMut(UnitRef<'a>)) {
        self.each_unit(&mut |u| {
            visit(u);
            ControlFlow::Continue(())
        });
    }

    /// Every machine and container, in key order.
    pub fn machines_all(&self) -> Vec<MachineRef<'_>> {
        let mut out = Vec::new();
        for (id, machine) in &self.machines {
            push_machine(&mut out, id, machine, None);
        }
        out
    }

    /// The maps juju omits when empty (`omitempty`: `units`, `subordinates`,
    /// `containers`) whose emptiness another part of the same status contradicts, each
    /// as the key path that should have held something. A census over a status that lost
    /// them would count zero where there are units (issue 8: a status whose applications
    /// carry no `units` once gave P02-E PASS with units=0), so a gate that counts must be
    /// PRECONDITION on any of these:
    /// - a principal application without units: deployed principals in this cloud have
    ///   at least one, and juju prints `units` whenever there is one;
    /// - a principal unit without a unit of a subordinate application that names its
    ///   application in `subordinate-to` (a container-scoped relation puts one on every
    ///   principal unit);
    /// - a unit whose `machine` names a machine or container `machines` does not hold.
    pub fn unjustified_emptiness(&self) -> &[MissingKey] {
        self.gaps.get_or_init(|| self.find_gaps())
    }

    fn find_gaps(&self) -> Vec<MissingKey> {
        let mut gaps = Vec::new();
        for (name, app) in &self.applications {
            if app.status_error.is_none()
                && !app.is_subordinate()
                && app.units.as_ref().is_none_or(Entries::is_empty)
            {
                // A subordinate that lost `subordinate-to` looks like a principal
                // without units: the path names both keys.
                gaps.push(keys::APP_UNITS.missing_at(format!(
                    "applications.{name}.units (a subordinate names subordinate-to)"
                )));
            }
        }
        for (sub_name, sub) in &self.applications {
            for principal in sub.subordinate_to.iter().flatten() {
                let Some(app) = self.applications.get(principal) else {
                    continue;
                };
                for (unit_name, unit) in app.units.iter().flatten() {
                    if unit.status_error.is_some() {
                        continue;
                    }
                    let hosts = unit
                        .subordinates
                        .iter()
                        .flatten()
                        .any(|(s, _)| application_of(s) == sub_name);
                    if !hosts {
                        gaps.push(keys::UNIT_SUBORDINATES.missing_at(format!(
                            "applications.{principal}.units.{unit_name}.subordinates"
                        )));
                    }
                }
            }
        }
        // The principal units: an application's own.
        for (_, unit) in self
            .applications
            .values()
            .flat_map(|a| a.units.iter().flatten())
        {
            let Some(machine) = unit.machine.as_deref() else {
                continue;
            };
            let top = machine.split('/').next().unwrap_or(machine);
            match self.machines.get(top) {
                None => gaps.push(keys::MACHINE.missing_at(format!("machines.{top}"))),
                Some(host) if top != machine => {
                    if !holds_container(host, machine) && host.status_error.is_none() {
                        gaps.push(
                            keys::CONTAINER
                                .missing_at(format!("machines.{top}.containers.{machine}")),
                        );
                    }
                }
                Some(_) => {}
            }
        }
        gaps.sort_by(|a, b| a.path.cmp(&b.path));
        gaps.dedup();
        gaps
    }

    /// The unit with this name, wherever it sits.
    pub fn unit(&self, name: &str) -> Option<UnitRef<'_>> {
        let mut found = None;
        self.each_unit(&mut |u| {
            if u.name == name {
                found = Some(u);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        found
    }

    /// The units of an application (principal units or subordinate units).
    pub fn units_of(&self, application: &str) -> Vec<UnitRef<'_>> {
        let mut out = Vec::new();
        self.each_unit(&mut |u| {
            if u.application() == application {
                out.push(u);
            }
            ControlFlow::Continue(())
        });
        out
    }
}

fn walk_unit<'a>(
    visit: &mut dyn FnMut(UnitRef<'a>) -> ControlFlow<()>,
    name: &'a str,
    unit: &'a Unit,
    app_key: &'a str,
    principal: Option<&'a str>,
) -> ControlFlow<()> {
    visit(UnitRef {
        name,
        unit,
        app_key,
        principal,
    })?;
    for (sub_name, sub) in unit.subordinates.iter().flatten() {
        walk_unit(visit, sub_name, sub, app_key, Some(name))?;
    }
    ControlFlow::Continue(())
}

/// Whether the container `id` sits under `machine`: juju nests a container under its
/// host (`0/lxd/1` under `0`) and a nested one under its container (`0/lxd/1/kvm/0`).
fn holds_container(machine: &Machine, id: &str) -> bool {
    machine.containers.iter().flatten().any(|(cid, container)| {
        cid == id
            || (id.len() > cid.len()
                && id.starts_with(cid.as_str())
                && id.as_bytes()[cid.len()] == b'/'
                && holds_container(container, id))
    })
}

fn push_machine<'a>(
    out: &mut Vec<MachineRef<'a>>,
    id: &'a str,
    machine: &'a Machine,
    host: Option<&'a str>,
) {
    out.push(MachineRef {
        id,
        machine,
        host,
        is_container: host.is_some(),
    });
    for (cid, container) in machine.containers.iter().flatten() {
        push_machine(out, cid, container, Some(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_in_key_order_and_found_by_key() {
        // Out of order on purpose: juju sorts, a hand-written status may not.
        let units: Entries<u32> =
            serde_json::from_str(r#"{"nova/2": 2, "nova/10": 10, "nova/0": 0}"#).unwrap();
        let keys: Vec<&str> = units.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["nova/0", "nova/10", "nova/2"]);
        assert_eq!(units.get("nova/10"), Some(&10));
        assert_eq!(units.get("nova/1"), None);
        assert_eq!(units.len(), 3);
        let empty: Entries<u32> = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty() && empty.get("nova/0").is_none());
    }

    #[test]
    fn a_key_given_twice_is_refused_even_without_the_strict_parse() {
        let err = serde_json::from_str::<Entries<u32>>(r#"{"nova/0": 1, "nova/0": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate key"), "{err}");
    }

    #[test]
    fn a_unit_on_a_container_its_host_does_not_hold_is_a_gap() {
        let status = |containers: &str| -> JujuStatus {
            serde_json::from_str(&format!(
                r#"{{"model": {{"name": "m", "controller": "c", "cloud": "x", "version": "3.6"}},
                "machines": {{"0": {{"containers": {containers}}}, "1": {{}}}},
                "applications": {{"mysql": {{"units": {{
                    "mysql/0": {{"machine": "0/lxd/1"}},
                    "mysql/1": {{"machine": "0/lxd/1/kvm/0"}},
                    "mysql/2": {{"machine": "1"}}}}}}}}}}"#
            ))
            .unwrap()
        };
        let gaps = |s: &JujuStatus| -> Vec<String> {
            s.unjustified_emptiness()
                .iter()
                .map(|g| g.path.clone())
                .collect()
        };
        // Nested: a container under its host, a container under that container.
        let whole = status(r#"{"0/lxd/1": {"containers": {"0/lxd/1/kvm/0": {}}}}"#);
        assert_eq!(gaps(&whole), Vec::<String>::new());
        let nested_lost = status(r#"{"0/lxd/1": {}}"#);
        assert_eq!(gaps(&nested_lost), ["machines.0.containers.0/lxd/1/kvm/0"]);
        // A prefix of the id is not its container (`0/lxd/10` does not hold `0/lxd/1`'s).
        let other = status(r#"{"0/lxd/10": {"containers": {"0/lxd/1/kvm/0": {}}}}"#);
        assert_eq!(
            gaps(&other),
            [
                "machines.0.containers.0/lxd/1",
                "machines.0.containers.0/lxd/1/kvm/0"
            ]
        );
    }
}
