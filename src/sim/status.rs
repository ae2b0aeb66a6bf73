//! `juju status --format=json` for a simulated charmed-OpenStack model: a healthy,
//! settled cloud of any size, rendered byte for byte in the juju 3.6 shape.
//!
//! The shape follows juju 3.6 `cmd/juju/status/formatted.go` (docs/schemas/juju.md#status)
//! and the recorded testcloud worlds: compact JSON with one trailing
//! newline; struct keys in Go field order; map keys (machines, containers,
//! applications, units, subordinates, relations, bindings) sorted byte-wise as Go sorts
//! them; `leader` only when true; `subordinates`, `containers` and `open-ports` only
//! when non-empty; subordinate applications carry `subordinate-to` and no `units`; every
//! unit prints both `workload-status` and `juju-status`, and every machine `juju-status`,
//! `machine-status` and `modification-status` (Go `omitempty` never drops a struct).
//!
//! Output is deterministic: no randomness and no clock (`since` strings are fixed), so
//! the same [`CloudShape`] always renders the same bytes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::json::JsonWriter;
use crate::runner::CommandOutput;
use crate::sources::juju;

/// The juju agent version every simulated agent reports.
pub const AGENT_VERSION: &str = "3.6.14";
/// Controller, cloud and region of the simulated model (the testcloud's).
pub const CONTROLLER: &str = "juju-controller";
pub const CLOUD: &str = "maas";
pub const REGION: &str = "default";

/// The database cluster every charmed OpenStack has (gate P02-C).
pub const MYSQL_APP: &str = "mysql-innodb-cluster";
/// mysql-innodb-cluster's unit count: three, tolerating one failure.
pub const MYSQL_UNITS: usize = 3;
/// The read/write member's workload message; the other members say `Mode: R/O`.
pub const MYSQL_RW_MESSAGE: &str =
    "Unit is ready: Mode: R/W, Cluster is ONLINE and can tolerate up to ONE failure.";
pub const MYSQL_RO_MESSAGE: &str =
    "Unit is ready: Mode: R/O, Cluster is ONLINE and can tolerate up to ONE failure.";
/// The vault application (gate P02-D reads `vault/0`).
pub const VAULT_APP: &str = "vault";
/// vault/0 before `vault operator init`: blocked with this message.
pub const VAULT_FRESH_MESSAGE: &str = "Vault needs to be initialized";
/// vault/0 initialized and unsealed.
pub const VAULT_UNSEALED_MESSAGE: &str = "Unit is ready (active: true, mlock: disabled)";

/// The fixed `since` stamps (juju's `02 Jan 2006 15:04:05Z07:00`, UTC).
const SINCE_MODEL: &str = "26 Jun 2026 15:52:07Z";
const SINCE_MACHINE: &str = "26 Jun 2026 16:14:53Z";
const SINCE_AGENT_STARTED: &str = "26 Jun 2026 16:34:01Z";
const SINCE_MODIFICATION: &str = "26 Jun 2026 16:03:00Z";
const SINCE_WORKLOAD: &str = "26 Jun 2026 19:24:00Z";
const SINCE_AGENT_IDLE: &str = "27 Jun 2026 14:02:25Z";
const CONTROLLER_TIMESTAMP: &str = "14:03:11Z";

/// The Ubuntu base of every machine and application.
const BASE_NAME: &str = "ubuntu";
const BASE_CHANNEL: &str = "22.04";
/// The juju space every endpoint and interface is bound to.
const SPACE: &str = "alpha";
/// The short model tag juju puts in container hostnames (`juju-5e1a00-0-lxd-0`).
const MODEL_TAG: &str = "5e1a00";

/// vault/0's state: fresh before phase 02's `vault operator init`, unsealed after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultState {
    /// blocked "Vault needs to be initialized": the phase-02 pre-flight world.
    Fresh,
    /// active "Unit is ready (active: true, mlock: disabled)": the settled phase-03 world.
    Unsealed,
}

/// The size and state of a simulated model. Every shape renders a healthy cloud: all
/// machines and containers `started`, every unit `idle`, every workload `active` except
/// vault/0 when [`VaultState::Fresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudShape {
    /// The model name (`model.name`; gates read the profile's model).
    pub model: String,
    /// Bare-metal machines, ids `"0"`, `"1"`, ...
    pub machines: usize,
    /// LXD containers on every machine, ids `"N/lxd/M"`. With none, principal units sit
    /// on the machines themselves.
    pub containers_per_machine: usize,
    /// Principal applications besides mysql-innodb-cluster (3 units) and vault (1 unit),
    /// which every shape has.
    pub principal_apps: usize,
    /// Units of each of those principal applications.
    pub units_per_app: usize,
    /// Subordinate units under every principal unit: one subordinate application each,
    /// related to every principal application.
    pub subordinates_per_unit: usize,
    pub vault: VaultState,
}

impl CloudShape {
    /// About the testcloud's size (4 hosts, 7 containers each, 31 principals, 62 units),
    /// vault fresh.
    pub fn testcloud() -> Self {
        Self {
            model: "openstack".into(),
            machines: 4,
            containers_per_machine: 7,
            principal_apps: 9,
            units_per_app: 3,
            subordinates_per_unit: 1,
            vault: VaultState::Fresh,
        }
    }

    /// A bare-metal region: 2,000 machines with 2 containers each, 5,004 principal
    /// units with 3 subordinates each (20,016 units), vault fresh.
    pub fn bare_metal() -> Self {
        Self {
            model: "openstack".into(),
            machines: 2_000,
            containers_per_machine: 2,
            principal_apps: 50,
            units_per_app: 100,
            subordinates_per_unit: 3,
            vault: VaultState::Fresh,
        }
    }

    pub fn with_vault(mut self, vault: VaultState) -> Self {
        self.vault = vault;
        self
    }

    /// Containers in the whole model.
    pub fn containers(&self) -> usize {
        self.machines * self.containers_per_machine
    }

    /// Applications, principal and subordinate.
    pub fn applications(&self) -> usize {
        2 + self.principal_apps + self.subordinates_per_unit
    }

    pub fn principal_units(&self) -> usize {
        MYSQL_UNITS + 1 + self.principal_apps * self.units_per_app
    }

    pub fn subordinate_units(&self) -> usize {
        self.principal_units() * self.subordinates_per_unit
    }

    /// Every unit, principals and subordinates.
    pub fn units(&self) -> usize {
        self.principal_units() + self.subordinate_units()
    }
}

impl Default for CloudShape {
    fn default() -> Self {
        Self::testcloud()
    }
}

/// `juju status -m <model> --format=json` as the real CLI prints it for `shape`, with
/// the trailing newline.
///
/// # Panics
///
/// If `shape.machines` is 0: an IaaS model with units has machines to put them on.
pub fn render(shape: &CloudShape) -> String {
    assert!(
        shape.machines > 0,
        "a simulated model needs at least one machine to place units on"
    );
    let layout = Layout::new(shape);
    let estimate = shape.machines * 1_000 + shape.containers() * 800 + shape.units() * 400;
    let mut w = JsonWriter::with_capacity(estimate);
    w.begin_object();
    write_model(&mut w, shape);
    w.key("machines").begin_object();
    for m in sorted_ids(shape.machines) {
        w.key(&m.to_string());
        write_machine(&mut w, shape, m);
    }
    w.end_object();
    w.key("applications").begin_object();
    for (name, app) in &layout.apps {
        w.key(name);
        write_application(&mut w, &layout, name, app);
    }
    w.end_object();
    w.key("storage").begin_object().end_object();
    w.key("controller")
        .begin_object()
        .field_str("timestamp", CONTROLLER_TIMESTAMP)
        .end_object();
    w.end_object();
    let mut text = w.finish();
    text.push('\n');
    text
}

/// The rendered status as the runner would return it from the real CLI: the argv
/// stackgate runs for `shape.model`, exit 0, the JSON on stdout.
pub fn status_output(shape: &CloudShape) -> CommandOutput {
    CommandOutput {
        argv: juju::status_invocation(&shape.model).argv().to_vec(),
        exit_code: Some(0),
        stdout: render(shape).into_bytes().into(),
        stderr: Vec::new(),
        duration: Duration::ZERO,
    }
}

/// A charm the simulator deploys.
struct Charm {
    name: &'static str,
    channel: &'static str,
    rev: i64,
    /// Workload version (`version`), empty when the charm sets none.
    version: &'static str,
    /// The active workload message of a ready unit.
    ready: &'static str,
    open_ports: &'static [&'static str],
}

const MYSQL: Charm = Charm {
    name: MYSQL_APP,
    channel: "8.0/stable",
    rev: 137,
    version: "8.0.39",
    ready: MYSQL_RW_MESSAGE,
    open_ports: &[],
};

const VAULT: Charm = Charm {
    name: VAULT_APP,
    channel: "1.8/stable",
    rev: 386,
    version: "1.8.8",
    ready: VAULT_UNSEALED_MESSAGE,
    open_ports: &["8200/tcp"],
};

/// Principal charms, cycled (with a `-N` suffix on later rounds) to make
/// `principal_apps` applications.
const PRINCIPAL_CHARMS: &[Charm] = &[
    openstack_api("keystone", 705, "25.0.0", &["5000/tcp", "35357/tcp"]),
    openstack_api("glance", 613, "28.0.1", &["9292/tcp"]),
    openstack_api("cinder", 688, "24.0.0", &["8776/tcp"]),
    openstack_api(
        "nova-cloud-controller",
        761,
        "29.0.1",
        &["8774/tcp", "8775/tcp"],
    ),
    openstack_api("neutron-api", 594, "24.0.0", &["9696/tcp"]),
    openstack_api("placement", 103, "11.0.0", &["8778/tcp"]),
    openstack_api("openstack-dashboard", 676, "24.0.0", &["80/tcp", "443/tcp"]),
    openstack_api("barbican", 185, "18.0.0", &["9311/tcp"]),
    openstack_api("heat", 590, "22.0.0", &["8000/tcp", "8004/tcp"]),
    Charm {
        name: "rabbitmq-server",
        channel: "3.9/stable",
        rev: 204,
        version: "3.9.27",
        ready: "Unit is ready and clustered",
        open_ports: &["5672/tcp", "15672/tcp"],
    },
    Charm {
        name: "ceph-mon",
        channel: "reef/stable",
        rev: 228,
        version: "18.2.4",
        ready: "Unit is ready and clustered",
        open_ports: &[],
    },
    Charm {
        name: "ovn-central",
        channel: "23.09/stable",
        rev: 236,
        version: "23.09.4",
        ready: "Unit is ready (leader: ovnnb_db, ovnsb_db northd: active)",
        open_ports: &["6641/tcp", "6642/tcp"],
    },
    Charm {
        name: "nova-compute",
        channel: "2024.1/stable",
        rev: 760,
        version: "29.0.1",
        ready: "Unit is ready",
        open_ports: &[],
    },
];

/// Subordinate charms, cycled like [`PRINCIPAL_CHARMS`].
const SUBORDINATE_CHARMS: &[Charm] = &[
    subordinate("filebeat", 72, "Filebeat ready."),
    subordinate("telegraf", 75, "Monitoring the unit"),
    subordinate("ntp", 50, "chrony: Ready"),
    subordinate("nrpe", 111, "Ready"),
    subordinate("landscape-client", 73, "Client registered"),
    subordinate("ubuntu-advantage", 92, "Attached (esm-infra)"),
];

const fn openstack_api(
    name: &'static str,
    rev: i64,
    version: &'static str,
    open_ports: &'static [&'static str],
) -> Charm {
    Charm {
        name,
        channel: "2024.1/stable",
        rev,
        version,
        ready: "Unit is ready",
        open_ports,
    }
}

const fn subordinate(name: &'static str, rev: i64, ready: &'static str) -> Charm {
    Charm {
        name,
        channel: "latest/stable",
        rev,
        version: "",
        ready,
        open_ports: &[],
    }
}

/// The `i`-th application of a charm cycle: the charm name, then `name-1`, `name-2`...
fn cycled(charms: &'static [Charm], i: usize) -> (String, &'static Charm) {
    let charm = &charms[i % charms.len()];
    let round = i / charms.len();
    let name = if round == 0 {
        charm.name.to_string()
    } else {
        format!("{}-{round}", charm.name)
    };
    (name, charm)
}

/// Where everything sits: applications by name (Go map order) with their units.
struct Layout {
    apps: BTreeMap<String, App>,
    /// Principal application names, sorted (a subordinate's `subordinate-to`).
    principal_names: Vec<String>,
    /// Subordinate application names, sorted.
    subordinate_names: Vec<String>,
}

struct App {
    charm: &'static Charm,
    status: Workload,
    kind: AppKind,
}

enum AppKind {
    Principal {
        units: BTreeMap<String, PrincipalUnit>,
    },
    Subordinate,
}

#[derive(Clone, Copy)]
struct Workload {
    current: &'static str,
    message: &'static str,
}

struct PrincipalUnit {
    workload: Workload,
    leader: bool,
    machine: String,
    address: String,
    open_ports: &'static [&'static str],
    /// Subordinate units: (name, workload, leader), sorted by name.
    subordinates: Vec<(String, Workload, bool)>,
}

impl Layout {
    fn new(shape: &CloudShape) -> Layout {
        // Principals in creation order: unit placement and subordinate numbering
        // follow it, so both are stable when the shape grows.
        let mut principals: Vec<(String, &'static Charm, Vec<Workload>)> = Vec::new();
        let ready = |charm: &Charm| Workload {
            current: "active",
            message: charm.ready,
        };
        principals.push((
            MYSQL_APP.to_string(),
            &MYSQL,
            (0..MYSQL_UNITS)
                .map(|i| Workload {
                    current: "active",
                    message: if i == 0 {
                        MYSQL_RW_MESSAGE
                    } else {
                        MYSQL_RO_MESSAGE
                    },
                })
                .collect(),
        ));
        let vault = match shape.vault {
            VaultState::Fresh => Workload {
                current: "blocked",
                message: VAULT_FRESH_MESSAGE,
            },
            VaultState::Unsealed => ready(&VAULT),
        };
        principals.push((VAULT_APP.to_string(), &VAULT, vec![vault]));
        for i in 0..shape.principal_apps {
            let (name, charm) = cycled(PRINCIPAL_CHARMS, i);
            principals.push((name, charm, vec![ready(charm); shape.units_per_app]));
        }
        let subordinates: Vec<(String, &'static Charm)> = (0..shape.subordinates_per_unit)
            .map(|j| cycled(SUBORDINATE_CHARMS, j))
            .collect();

        let mut apps = BTreeMap::new();
        let mut placement = Placement::new(shape);
        let mut next_subordinate = vec![0usize; subordinates.len()];
        for (app_name, charm, workloads) in principals {
            let mut units = BTreeMap::new();
            for (n, workload) in workloads.into_iter().enumerate() {
                let (machine, address) = placement.next();
                let mut subs: Vec<(String, Workload, bool)> = subordinates
                    .iter()
                    .zip(next_subordinate.iter_mut())
                    .map(|((sub_name, sub_charm), next)| {
                        let number = *next;
                        *next += 1;
                        (
                            format!("{sub_name}/{number}"),
                            ready(sub_charm),
                            number == 0,
                        )
                    })
                    .collect();
                subs.sort_by(|a, b| a.0.cmp(&b.0));
                units.insert(
                    format!("{app_name}/{n}"),
                    PrincipalUnit {
                        workload,
                        leader: n == 0,
                        machine,
                        address,
                        open_ports: charm.open_ports,
                        subordinates: subs,
                    },
                );
            }
            // juju shows the leader's workload status as the application's.
            let status = units
                .get(&format!("{app_name}/0"))
                .map_or(ready(charm), |u| u.workload);
            apps.insert(
                app_name,
                App {
                    charm,
                    status,
                    kind: AppKind::Principal { units },
                },
            );
        }
        for (name, charm) in subordinates {
            apps.insert(
                name,
                App {
                    charm,
                    status: ready(charm),
                    kind: AppKind::Subordinate,
                },
            );
        }
        let (mut principal_names, mut subordinate_names) = (Vec::new(), Vec::new());
        for (name, app) in &apps {
            match app.kind {
                AppKind::Principal { .. } => principal_names.push(name.clone()),
                AppKind::Subordinate => subordinate_names.push(name.clone()),
            }
        }
        Layout {
            apps,
            principal_names,
            subordinate_names,
        }
    }
}

/// Round-robin placement of principal units: container 0 of every machine, then
/// container 1, ... so consecutive units of an application land on different machines
/// (mysql's three members on three hosts). Without containers, units go on machines.
struct Placement {
    machines: usize,
    containers_per_machine: usize,
    cursor: usize,
}

impl Placement {
    fn new(shape: &CloudShape) -> Self {
        Self {
            machines: shape.machines,
            containers_per_machine: shape.containers_per_machine,
            cursor: 0,
        }
    }

    /// The next target's machine id and address.
    fn next(&mut self) -> (String, String) {
        let slots = self.machines * self.containers_per_machine.max(1);
        let slot = self.cursor % slots;
        self.cursor += 1;
        let machine = slot % self.machines;
        if self.containers_per_machine == 0 {
            return (machine.to_string(), machine_address(machine));
        }
        let container = slot / self.machines;
        (
            container_id(machine, container),
            container_address(machine * self.containers_per_machine + container),
        )
    }
}

/// `0..n` as juju prints map keys: sorted as strings ("0", "1", "10", "2", ...).
fn sorted_ids(n: usize) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..n).collect();
    ids.sort_by_cached_key(|i| i.to_string());
    ids
}

fn container_id(machine: usize, container: usize) -> String {
    format!("{machine}/lxd/{container}")
}

/// An address in 10.0.0.0/8 from a host number.
fn ipv4(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// Host numbers: machines from 10.1.0.10, containers from 10.2.0.10 (by global index).
fn machine_host(machine: usize) -> usize {
    (1 << 16) + 10 + machine
}

fn container_host(index: usize) -> usize {
    (2 << 16) + 10 + index
}

fn machine_address(machine: usize) -> String {
    ipv4(machine_host(machine))
}

fn container_address(index: usize) -> String {
    ipv4(container_host(index))
}

fn mac(prefix: &str, n: usize) -> String {
    format!(
        "{prefix}:{:02x}:{:02x}:{:02x}",
        (n >> 16) & 255,
        (n >> 8) & 255,
        n & 255
    )
}

/// A MAAS system id: six characters, distinct for every machine index below 36^6.
fn system_id(machine: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    const SPACE: u64 = 36u64.pow(6);
    // An odd multiplier not divisible by 3 is coprime to 36^6: a bijection.
    let mut n = (machine as u64)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(1_234_567)
        % SPACE;
    let mut id = [b'0'; 6];
    for slot in id.iter_mut().rev() {
        *slot = ALPHABET[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(id.to_vec()).expect("the alphabet is ASCII")
}

fn write_status(w: &mut JsonWriter, current: &str, message: &str, since: &str, version: &str) {
    w.begin_object()
        .field_str("current", current)
        .field_str_omitempty("message", message)
        .field_str("since", since)
        .field_str_omitempty("version", version)
        .end_object();
}

fn write_base(w: &mut JsonWriter) {
    w.key("base")
        .begin_object()
        .field_str("name", BASE_NAME)
        .field_str("channel", BASE_CHANNEL)
        .end_object();
}

fn write_model(w: &mut JsonWriter, shape: &CloudShape) {
    w.key("model").begin_object();
    w.field_str("name", &shape.model)
        .field_str("type", "iaas")
        .field_str("controller", CONTROLLER)
        .field_str("cloud", CLOUD)
        .field_str("region", REGION)
        .field_str("version", AGENT_VERSION);
    w.key("model-status");
    write_status(w, "available", "", SINCE_MODEL, "");
    w.field_str("sla", "unsupported");
    w.end_object();
}

/// `network-interfaces` with one interface on `host`'s /16, whose gateway is `.0.1`.
fn write_interface(w: &mut JsonWriter, name: &str, host: usize, mac_address: &str) {
    let address = ipv4(host);
    let gateway = ipv4(((host >> 16) << 16) + 1);
    w.key("network-interfaces").begin_object();
    w.key(name).begin_object();
    w.field_strs("ip-addresses", &[&address])
        .field_str("mac-address", mac_address)
        .field_str("gateway", &gateway)
        .field_strs("dns-nameservers", &[gateway.as_str()])
        .field_str("space", SPACE)
        .key("is-up")
        .bool(true);
    w.end_object();
    w.end_object();
}

fn write_machine(w: &mut JsonWriter, shape: &CloudShape, m: usize) {
    let hostname = format!("node-{m:04}");
    let address = machine_address(m);
    w.begin_object();
    w.key("juju-status");
    write_status(w, "started", "", SINCE_AGENT_STARTED, AGENT_VERSION);
    w.field_str("hostname", &hostname)
        .field_str("dns-name", &address)
        .field_strs("ip-addresses", &[&address])
        .field_str("instance-id", &system_id(m))
        .field_str("display-name", &hostname);
    w.key("machine-status");
    write_status(w, "running", "Deployed", SINCE_MACHINE, "");
    w.key("modification-status");
    write_status(w, "idle", "", SINCE_MODIFICATION, "");
    write_base(w);
    write_interface(w, "br-enp1s0", machine_host(m), &mac("52:54:00", m));
    if shape.containers_per_machine > 0 {
        w.key("containers").begin_object();
        let mut containers: Vec<usize> = (0..shape.containers_per_machine).collect();
        containers.sort_by_cached_key(|c| container_id(m, *c));
        for c in containers {
            w.key(&container_id(m, c));
            write_container(w, m * shape.containers_per_machine + c, m, c);
        }
        w.end_object();
    }
    w.field_str("constraints", "tags=openstack").field_str(
        "hardware",
        "arch=amd64 cores=16 mem=65536M tags=openstack availability-zone=default",
    );
    w.end_object();
}

fn write_container(w: &mut JsonWriter, index: usize, machine: usize, container: usize) {
    let hostname = format!("juju-{MODEL_TAG}-{machine}-lxd-{container}");
    let address = container_address(index);
    w.begin_object();
    w.key("juju-status");
    write_status(w, "started", "", SINCE_AGENT_STARTED, AGENT_VERSION);
    w.field_str("hostname", &hostname)
        .field_str("dns-name", &address)
        .field_strs("ip-addresses", &[&address])
        .field_str("instance-id", &hostname);
    w.key("machine-status");
    write_status(w, "running", "Container started", SINCE_MACHINE, "");
    w.key("modification-status");
    write_status(w, "idle", "", SINCE_MODIFICATION, "");
    write_base(w);
    write_interface(w, "eth0", container_host(index), &mac("00:16:3e", index));
    w.field_str("hardware", "availability-zone=default");
    w.end_object();
}

fn write_relation(w: &mut JsonWriter, related: &str, interface: &str, scope: &str) {
    w.begin_object()
        .field_str("related-application", related)
        .field_str("interface", interface)
        .field_str("scope", scope)
        .end_object();
}

fn write_application(w: &mut JsonWriter, layout: &Layout, name: &str, app: &App) {
    let charm = app.charm;
    w.begin_object();
    w.field_str("charm", charm.name);
    write_base(w);
    w.field_str("charm-origin", "charmhub")
        .field_str("charm-name", charm.name)
        .key("charm-rev")
        .int(charm.rev)
        .field_str("charm-channel", charm.channel)
        .key("exposed")
        .bool(false);
    w.key("application-status");
    write_status(
        w,
        app.status.current,
        app.status.message,
        SINCE_WORKLOAD,
        "",
    );
    // Relations: a peer `cluster` on principals, `juju-info` (container scope) between
    // every principal and every subordinate. Endpoint keys sort as Go map keys.
    w.key("relations").begin_object();
    let endpoints: &[&str] = match &app.kind {
        AppKind::Principal { units } => {
            w.key("cluster").begin_array();
            write_relation(w, name, &format!("{}-peer", charm.name), "global");
            w.end_array();
            if !layout.subordinate_names.is_empty() {
                w.key("juju-info").begin_array();
                for sub in &layout.subordinate_names {
                    write_relation(w, sub, "juju-info", "container");
                }
                w.end_array();
            }
            w.end_object();
            w.key("units").begin_object();
            for (unit_name, unit) in units {
                w.key(unit_name);
                write_principal_unit(w, unit);
            }
            w.end_object();
            &["", "cluster", "juju-info"]
        }
        AppKind::Subordinate => {
            w.key("juju-info").begin_array();
            for principal in &layout.principal_names {
                write_relation(w, principal, "juju-info", "container");
            }
            w.end_array();
            w.end_object();
            w.field_strs("subordinate-to", &layout.principal_names);
            &["", "juju-info"]
        }
    };
    w.field_str_omitempty("version", charm.version);
    w.key("endpoint-bindings").begin_object();
    for endpoint in endpoints {
        w.field_str(endpoint, SPACE);
    }
    w.end_object();
    w.end_object();
}

fn write_unit_statuses(w: &mut JsonWriter, workload: Workload) {
    w.key("workload-status");
    write_status(w, workload.current, workload.message, SINCE_WORKLOAD, "");
    w.key("juju-status");
    write_status(w, "idle", "", SINCE_AGENT_IDLE, AGENT_VERSION);
}

fn write_principal_unit(w: &mut JsonWriter, unit: &PrincipalUnit) {
    w.begin_object();
    write_unit_statuses(w, unit.workload);
    if unit.leader {
        w.key("leader").bool(true);
    }
    w.field_str("machine", &unit.machine);
    if !unit.open_ports.is_empty() {
        w.field_strs("open-ports", unit.open_ports);
    }
    w.field_str("public-address", &unit.address);
    if !unit.subordinates.is_empty() {
        w.key("subordinates").begin_object();
        for (name, workload, leader) in &unit.subordinates {
            w.key(name).begin_object();
            write_unit_statuses(w, *workload);
            if *leader {
                w.key("leader").bool(true);
            }
            w.field_str("public-address", &unit.address);
            w.end_object();
        }
        w.end_object();
    }
    w.end_object();
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::gates::{self, Status, Verdict};
    use crate::profile::Profile;
    use crate::snapshot::Snapshot;
    use crate::sources::juju::{JujuStatus, parse_status};

    fn parsed(shape: &CloudShape) -> JujuStatus {
        parse_status(&status_output(shape)).expect("the simulated status parses")
    }

    /// Every gate that reads `juju status`, on the rendered status.
    fn verdicts(shape: &CloudShape) -> Vec<Verdict> {
        let profile = Profile::testcloud();
        let snapshot =
            Snapshot::from_parts("sim").with_juju_status(&profile.model, Ok(parsed(shape)));
        ["P02-B", "P02-C", "P02-D", "P02-E", "P03-ACCEPT"]
            .into_iter()
            .map(|id| gates::by_id(id).expect(id).run(&snapshot, &profile))
            .collect()
    }

    fn status_of(verdicts: &[Verdict], id: &str) -> Status {
        verdicts
            .iter()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("no verdict {id}"))
            .status
    }

    fn shapes() -> Vec<CloudShape> {
        vec![
            CloudShape::testcloud(),
            // Units straight on machines, no subordinates, no generic apps.
            CloudShape {
                model: "openstack".into(),
                machines: 3,
                containers_per_machine: 0,
                principal_apps: 0,
                units_per_app: 0,
                subordinates_per_unit: 0,
                vault: VaultState::Fresh,
            },
            // Enough apps and subordinates to cycle both charm lists (`-1` suffixes)
            // and ids past 10 (string-sorted keys).
            CloudShape {
                model: "openstack".into(),
                machines: 12,
                containers_per_machine: 11,
                principal_apps: PRINCIPAL_CHARMS.len() + 2,
                units_per_app: 12,
                subordinates_per_unit: SUBORDINATE_CHARMS.len() + 1,
                vault: VaultState::Unsealed,
            },
        ]
    }

    #[test]
    fn unit_machine_and_application_counts_match_the_shape() {
        for shape in shapes() {
            let status = parsed(&shape);
            let units = status.units();
            assert_eq!(units.len(), shape.units(), "{shape:?}");
            assert_eq!(
                units.iter().filter(|u| u.is_subordinate()).count(),
                shape.subordinate_units()
            );
            assert_eq!(status.machines.len(), shape.machines);
            let containers = status
                .machines_all()
                .iter()
                .filter(|m| m.is_container)
                .count();
            assert_eq!(containers, shape.containers());
            assert_eq!(status.applications.len(), shape.applications());
            let subordinate_apps = status
                .applications
                .values()
                .filter(|a| a.is_subordinate())
                .count();
            assert_eq!(subordinate_apps, shape.subordinates_per_unit);
            assert_eq!(status.units_of(MYSQL_APP).len(), MYSQL_UNITS);
            // Unit names are unique and every principal unit sits on a listed machine.
            let names: BTreeSet<&str> = units.iter().map(|u| u.name).collect();
            assert_eq!(names.len(), units.len());
            let hosts: BTreeSet<&str> = status.machines_all().iter().map(|m| m.id).collect();
            for u in units.iter().filter(|u| !u.is_subordinate()) {
                let machine = u.unit.machine.as_deref().expect("principal has a machine");
                assert!(hosts.contains(machine), "{} on {machine}", u.name);
            }
        }
    }

    #[test]
    fn rendering_is_deterministic_compact_and_newline_terminated() {
        let shape = CloudShape::testcloud();
        let a = render(&shape);
        assert_eq!(a, render(&shape));
        assert!(a.ends_with("}\n") && !a[..a.len() - 1].contains('\n'));
        assert!(a.starts_with(r#"{"model":{"name":"openstack","type":"iaas","#));
        assert!(!a.contains("\": ") && !a.contains("\", \"") && !a.contains(", {"));
        assert!(!a.contains("\"leader\":false"));
    }

    #[test]
    fn the_juju_3_6_shape_holds() {
        let shape = shapes().pop().unwrap();
        let value: serde_json::Value = serde_json::from_str(&render(&shape)).unwrap();
        for (name, app) in value["applications"].as_object().unwrap() {
            let subordinate = app.get("subordinate-to").is_some();
            assert_eq!(app.get("units").is_none(), subordinate, "{name}");
            let Some(units) = app.get("units").and_then(|u| u.as_object()) else {
                continue;
            };
            let subordinates = units
                .values()
                .filter_map(|u| u.get("subordinates"))
                .flat_map(|s| s.as_object().unwrap());
            for (unit_name, unit) in units.iter().chain(subordinates) {
                assert!(
                    unit["workload-status"]["current"].is_string(),
                    "{unit_name}"
                );
                assert_eq!(unit["juju-status"]["current"], "idle", "{unit_name}");
                assert_ne!(unit.get("leader"), Some(&serde_json::Value::Bool(false)));
                if let Some(subs) = unit.get("subordinates") {
                    assert!(!subs.as_object().unwrap().is_empty(), "{unit_name}");
                }
            }
        }
        for (id, machine) in value["machines"].as_object().unwrap() {
            for key in [
                "juju-status",
                "hostname",
                "dns-name",
                "ip-addresses",
                "instance-id",
                "machine-status",
                "base",
                "hardware",
            ] {
                assert!(machine.get(key).is_some(), "machine {id} lacks {key}");
            }
            assert!(!machine["containers"].as_object().unwrap().is_empty());
        }
        let ids: BTreeSet<String> = (0..shape.machines).map(system_id).collect();
        assert_eq!(ids.len(), shape.machines, "system ids are distinct");
    }

    #[test]
    fn every_status_gate_of_phase_02_passes_before_vault_init() {
        for shape in shapes() {
            let v = verdicts(&shape.clone().with_vault(VaultState::Fresh));
            for (id, want) in [
                ("P02-B", Status::Pass),
                ("P02-C", Status::Pass),
                ("P02-D", Status::Proceed),
                ("P02-E", Status::Pass),
            ] {
                assert_eq!(status_of(&v, id), want, "{id} on {shape:?}: {v:#?}");
            }
            let e = v.iter().find(|v| v.id == "P02-E").unwrap();
            assert_eq!(e.metrics["units"], shape.units() as u64);
            assert_eq!(e.metrics["blocked"], 1, "vault/0 only");
        }
    }

    #[test]
    fn the_acceptance_walk_passes_once_vault_is_unsealed() {
        for shape in shapes() {
            let v = verdicts(&shape.clone().with_vault(VaultState::Unsealed));
            assert_eq!(status_of(&v, "P03-ACCEPT"), Status::Pass, "{v:#?}");
            assert_eq!(status_of(&v, "P02-B"), Status::Pass);
            assert_eq!(status_of(&v, "P02-C"), Status::Pass);
            assert_eq!(status_of(&v, "P02-E"), Status::Pass);
            // vault/0 is no longer fresh: the irreversible init is refused.
            assert_eq!(status_of(&v, "P02-D"), Status::Hold);
            let accept = v.iter().find(|v| v.id == "P03-ACCEPT").unwrap();
            assert_eq!(accept.metrics["active_idle"], shape.units() as u64);
        }
    }

    #[test]
    fn a_fresh_vault_is_the_one_unexpected_unit_of_the_acceptance_walk() {
        let v = verdicts(&CloudShape::testcloud());
        let accept = v.iter().find(|v| v.id == "P03-ACCEPT").unwrap();
        assert_eq!(accept.status, Status::Fail);
        assert_eq!(accept.metrics["unexpected"], 1);
    }

    #[test]
    fn the_bare_metal_shape_counts() {
        let shape = CloudShape::bare_metal();
        assert_eq!(shape.units(), 20_016);
        assert_eq!(shape.containers(), 4_000);
    }
}
