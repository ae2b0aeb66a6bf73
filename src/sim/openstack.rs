//! The simulated `openstack` client (python-openstackclient on openstacksdk), loaded
//! from a world's `openstack ...` recordings: networks, subnets, security groups,
//! images and the service catalog, as Neutron, Glance and Keystone hold them.
//!
//! The state is the recorded `show -f json` documents themselves, kept in the key order
//! the client printed them (serde_json `preserve_order`), so an unchanged read renders
//! the recorded bytes. Where each answer comes from:
//! - `-f json`: openstack/cliff `formatters/json_format.py` `JSONFormatter`:
//!   `json.dump(..., indent=2)` (Python's `", "`/`": "` separators when indenting,
//!   `ensure_ascii=True`), one newline after the document (every recording ends `}\n`
//!   or `]\n`). `show` keys are the display columns sorted (python-openstackclient
//!   `network/v2/network.py` `_get_columns`, `subnet.py` `_get_columns`), which is the
//!   order the simulator writes the objects it creates in.
//! - `list -f json`: objects keyed by the column headers: `network list` `ID, Name,
//!   Subnets`; `subnet list` `ID, Name, Network, Subnet` (`subnet.py` `ListSubnet`);
//!   `image list` `ID, Name, Status` (`image/v2/image.py` `ListImage`).
//! - not found: openstacksdk `resource.py` `Resource.find` with `ignore_missing=False`:
//!   `No <Class> found for <name>`; two objects of one name: `_get_one_match`'s
//!   `More than one <Class> exists with the name '<name>'.` (Neutron allows duplicate
//!   names: nothing refuses a second `provider-ext`, so the action skips by name
//!   itself). cliff prints the message on stderr and exits 1.
//! - API refusals: openstacksdk `exceptions.py` `HttpException.__str__`
//!   (`<Class>: <status>: Client Error for url: <url>, <neutron's message>`), with
//!   Neutron's messages (neutron-lib `exceptions/__init__.py`): `FlatNetworkInUse` (one
//!   flat network per physical network: a second flat `physnet1` network is a 409),
//!   `InvalidInput` (a flat network without a physical network), `OutOfBoundsAllocationPool`,
//!   `GatewayConflictWithAllocationPools`, a gateway outside the CIDR, a CIDR overlapping
//!   another subnet of the network.
//! - no credentials: keystoneauth's `Missing value auth-url required for auth plugin
//!   password` when the world recorded it (admin-openrc not sourced): every command
//!   answers it, as the real client does without `OS_AUTH_URL`.
//!
//! Revisions follow Neutron's revision plugin as the recorded phase-04 exit state shows
//! them: a create is revision 1, the client's separate tag update (`_tag.update_tags_for_set`,
//! after the create) bumps it, and a subnet created on a network bumps the network.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::Answer;
use crate::sources::openstack::Resource;
use crate::world::World;

/// The world whose service catalog gives the network endpoint's URL (in API errors)
/// to a world that recorded no `endpoint list`.
pub const CATALOG_FALLBACK_WORLD: &str = "testcloud/phase03-settled";

/// The world whose `provider-ext` names the admin project the admin-openrc scopes to:
/// the project what the operator creates belongs to.
pub const ADMIN_PROJECT_WORLD: &str = "testcloud/phase04-network-created";

/// The simulated clock's start: Neutron stamps `created_at`/`updated_at` from it, one
/// second per API write. Fixed: the simulator has no clock.
const SIM_DAY: &str = "2026-12-02";
const SIM_HOUR: u64 = 12;

/// What `show` names and the SDK's class name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Network,
    Subnet,
    SecurityGroup,
    Image,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Network => "Network",
            Kind::Subnet => "Subnet",
            Kind::SecurityGroup => "SecurityGroup",
            Kind::Image => "Image",
        }
    }
}

/// One Glance image: its `image list` row, and its `show` document when recorded.
#[derive(Debug, Clone)]
struct Image {
    id: String,
    row: Map<String, Value>,
    show: Option<Map<String, Value>>,
    /// The tags it was listed under.
    listed: BTreeSet<String>,
}

impl Image {
    fn tagged(&self, tag: &str) -> bool {
        self.listed.contains(tag)
            || self
                .show
                .as_ref()
                .and_then(|s| s.get("tags"))
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|v| v.as_str() == Some(tag)))
    }
}

/// The cloud as the openstack client sees it.
#[derive(Debug, Default)]
pub struct OpenstackState {
    networks: Vec<Map<String, Value>>,
    subnets: Vec<Map<String, Value>>,
    security_groups: Vec<Map<String, Value>>,
    images: Vec<Image>,
    endpoints: Option<Vec<Value>>,
    /// The answer to every command when the client has no credentials.
    no_credentials: Option<Answer>,
    /// Other failures the world recorded (an expired token, a 500): replayed.
    failures: BTreeMap<Vec<String>, Answer>,
    /// Recordings inherited from the world this one extends that its moment no longer
    /// answers: `image show` of an image its own `image list` does not hold, and any
    /// success in a world without credentials.
    stale: Vec<Vec<String>>,
    admin_project: String,
    network_url: String,
    /// API writes so far: the clock and the id sequence.
    writes: u64,
    minted: u64,
}

fn words(argv: &[String]) -> Vec<&str> {
    argv.iter().map(String::as_str).collect()
}

fn object(value: Value, what: &str) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(format!("`{what}`: not a JSON object")),
    }
}

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// `json.dump(value, indent=2)` with `ensure_ascii=True`, and cliff's newline.
pub fn render(value: &Value) -> Vec<u8> {
    let pretty = super::maas::render_indented(value, b"  ");
    let mut out = String::with_capacity(pretty.len() + 1);
    for c in String::from_utf8_lossy(&pretty).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out.push('\n');
    out.into_bytes()
}

fn unmodelled(argv: &[String]) -> Answer {
    Answer::fail(
        1,
        format!(
            "stackgate simulator: `{}` is not modelled\n",
            crate::runner::display_argv(argv)
        ),
    )
}

/// Whether stderr is the SDK saying the object asked for does not exist.
/// How python-openstackclient 6.x prints an error its network/common.py
/// `NetworkAndCompute` commands caught (`network show`, `security group show`).
const ERROR_PREFIX: &str = "Error while executing command: ";

fn says_absent(stderr: &[u8]) -> bool {
    let t = String::from_utf8_lossy(stderr);
    // python-openstackclient's network commands that also speak nova-network (network
    // and security group: network/common.py) print their error behind this prefix.
    let line = t.trim().trim_start_matches(ERROR_PREFIX);
    ["Network", "Subnet", "SecurityGroup", "Image"]
        .iter()
        .any(|c| line.starts_with(&format!("No {c} found for ")))
}

impl OpenstackState {
    pub fn load(world: &World) -> Result<OpenstackState, String> {
        let mut st = OpenstackState::default();
        let mut image_shows: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let mut lists: Vec<(String, Vec<Map<String, Value>>)> = Vec::new();
        for argv in world.argvs().filter(|a| a[0] == "openstack") {
            let rec = world.get(argv).expect("listed argv");
            let shown = crate::runner::display_argv(argv);
            if rec.exit != 0 {
                if says_absent(&rec.stderr) {
                    continue;
                }
                let answer = Answer {
                    exit: rec.exit,
                    stdout: rec.stdout.clone(),
                    stderr: rec.stderr.clone(),
                };
                if String::from_utf8_lossy(&rec.stderr).contains("Missing value auth-url") {
                    st.no_credentials = Some(answer);
                } else {
                    st.failures.insert(argv.clone(), answer);
                }
                continue;
            }
            let value: Value =
                serde_json::from_slice(&rec.stdout).map_err(|e| format!("`{shown}`: {e}"))?;
            if render(&value) != rec.stdout {
                return Err(format!(
                    "`{shown}`: not in the layout python-openstackclient prints (cliff json, indent 2)"
                ));
            }
            let a = words(argv);
            match &a[1..] {
                ["network", "show", _, "-f", "json"] => {
                    st.insert(Kind::Network, object(value, &shown)?)
                }
                ["subnet", "show", _, "-f", "json"] => {
                    st.insert(Kind::Subnet, object(value, &shown)?)
                }
                ["security", "group", "show", _, "-f", "json"] => {
                    st.insert(Kind::SecurityGroup, object(value, &shown)?)
                }
                ["image", "show", id, "-f", "json"] => {
                    image_shows.insert(id.to_string(), object(value, &shown)?);
                }
                ["image", "list", "--tag", tag, "-f", "json"] => {
                    let rows = match value {
                        Value::Array(rows) => rows
                            .into_iter()
                            .map(|r| object(r, &shown))
                            .collect::<Result<Vec<_>, _>>()?,
                        _ => return Err(format!("`{shown}`: not a JSON array")),
                    };
                    lists.push((tag.to_string(), rows));
                }
                ["endpoint", "list", "-f", "json"] => match value {
                    Value::Array(rows) => st.endpoints = Some(rows),
                    _ => return Err(format!("`{shown}`: not a JSON array")),
                },
                _ => {}
            }
        }
        // An image list is what Glance holds under its tag: an image shown with that
        // tag but not listed is a recording inherited from an earlier moment.
        for (tag, rows) in &lists {
            for row in rows {
                let id = text(row, "ID").to_string();
                match st.images.iter_mut().find(|i| i.id == id) {
                    Some(i) => {
                        i.listed.insert(tag.clone());
                    }
                    None => st.images.push(Image {
                        id: id.clone(),
                        row: row.clone(),
                        show: image_shows.remove(&id),
                        listed: BTreeSet::from([tag.clone()]),
                    }),
                }
            }
        }
        for (id, show) in image_shows {
            // `image show` by name: the image's id is the document's.
            let image = Image {
                id: match text(&show, "id") {
                    "" => id.clone(),
                    shown => shown.to_string(),
                },
                row: Map::new(),
                show: Some(show),
                listed: BTreeSet::new(),
            };
            if lists.iter().any(|(tag, _)| image.tagged(tag)) {
                st.stale.push(
                    ["openstack", "image", "show", &id, "-f", "json"]
                        .map(String::from)
                        .to_vec(),
                );
                continue;
            }
            st.images.push(image);
        }
        if st.no_credentials.is_some() {
            // Without credentials every command fails so: any other recording (a
            // success, an absence) is one inherited from the world this one extends.
            st.stale = world
                .argvs()
                .filter(|a| a[0] == "openstack")
                .filter(|a| {
                    world.get(a).is_some_and(|r| {
                        !String::from_utf8_lossy(&r.stderr).contains("Missing value auth-url")
                    })
                })
                .cloned()
                .collect();
        }
        st.admin_project = project_of(world)
            .or_else(|| {
                World::embedded(ADMIN_PROJECT_WORLD)
                    .ok()
                    .and_then(|w| project_of(&w))
            })
            .ok_or("no recorded provider network names the admin project")?;
        let catalog = match &st.endpoints {
            Some(rows) => Some(rows.clone()),
            None => World::embedded(CATALOG_FALLBACK_WORLD).ok().and_then(|w| {
                w.get(&["openstack", "endpoint", "list", "-f", "json"].map(String::from))
                    .and_then(|r| serde_json::from_slice::<Vec<Value>>(&r.stdout).ok())
            }),
        };
        st.network_url = catalog
            .unwrap_or_default()
            .iter()
            .find(|e| e["Service Type"] == "network" && e["Interface"] == "public")
            .and_then(|e| e["URL"].as_str())
            .map(|u| u.trim_end_matches('/').to_string())
            .ok_or("no service catalog names the network endpoint")?;
        Ok(st)
    }

    /// Inherited recordings this state does not answer (see [`OpenstackState::load`]).
    pub fn stale_reads(&self) -> impl Iterator<Item = &Vec<String>> {
        self.stale.iter()
    }

    fn store(&mut self, kind: Kind) -> &mut Vec<Map<String, Value>> {
        match kind {
            Kind::Network => &mut self.networks,
            Kind::Subnet => &mut self.subnets,
            Kind::SecurityGroup => &mut self.security_groups,
            Kind::Image => unreachable!("images are held with their list rows"),
        }
    }

    fn insert(&mut self, kind: Kind, doc: Map<String, Value>) {
        let id = text(&doc, "id").to_string();
        let store = self.store(kind);
        match store.iter_mut().find(|d| text(d, "id") == id) {
            Some(d) => *d = doc,
            None => store.push(doc),
        }
    }

    /// Adds an object another part's command created through the API (charm-octavia's
    /// configure-resources creating the lb-mgmt resources), as `show` prints it.
    pub fn adopt(&mut self, resource: Resource, doc: Map<String, Value>) {
        let kind = match resource {
            Resource::Network => Kind::Network,
            Resource::Subnet => Kind::Subnet,
            Resource::SecurityGroup => Kind::SecurityGroup,
            Resource::Image => return,
        };
        self.insert(kind, doc);
    }

    /// Adds an image another part's command made through glance's API (the retrofit's
    /// amphora), as `image show` prints it, listed under its tags.
    pub fn adopt_image(&mut self, doc: Map<String, Value>) {
        let id = text(&doc, "id").to_string();
        self.images.retain(|i| i.id != id);
        self.images.push(Image {
            id,
            row: Map::new(),
            show: Some(doc),
            listed: BTreeSet::new(),
        });
    }

    /// Whether glance holds an active image of this id.
    pub fn image_active(&self, id: &str) -> bool {
        self.images
            .iter()
            .filter(|i| i.id == id)
            .filter_map(|i| i.show.as_ref())
            .any(|d| text(d, "status") == "active")
    }

    /// Whether a network of this name exists.
    pub fn has_network(&self, name: &str) -> bool {
        self.networks.iter().any(|n| text(n, "name") == name)
    }

    /// openstacksdk `find`: by id first, then by name; none or several is an error.
    fn find(&self, kind: Kind, name_or_id: &str) -> Result<usize, Answer> {
        let docs: Vec<&Map<String, Value>> = match kind {
            Kind::Network => self.networks.iter().collect(),
            Kind::Subnet => self.subnets.iter().collect(),
            Kind::SecurityGroup => self.security_groups.iter().collect(),
            Kind::Image => Vec::new(),
        };
        if let Some(i) = docs.iter().position(|d| text(d, "id") == name_or_id) {
            return Ok(i);
        }
        let named: Vec<usize> = docs
            .iter()
            .enumerate()
            .filter(|(_, d)| text(d, "name") == name_or_id)
            .map(|(i, _)| i)
            .collect();
        match named.as_slice() {
            [i] => Ok(*i),
            [] => Err(Answer::fail(
                1,
                format!("No {} found for {name_or_id}\n", kind.class()),
            )),
            _ => Err(Answer::fail(
                1,
                format!(
                    "More than one {} exists with the name '{name_or_id}'.\n",
                    kind.class()
                ),
            )),
        }
    }

    fn show(&self, kind: Kind, name_or_id: &str) -> Answer {
        if kind == Kind::Image {
            // openstacksdk `find_image`: by id, then by name among the images shown.
            let by_id = self
                .images
                .iter()
                .find(|i| i.id == name_or_id)
                .and_then(|i| i.show.as_ref());
            let named: Vec<&Map<String, Value>> = self
                .images
                .iter()
                .filter_map(|i| i.show.as_ref())
                .filter(|d| text(d, "name") == name_or_id)
                .collect();
            return match (by_id, named.as_slice()) {
                (Some(doc), _) | (None, &[doc]) => Answer::ok(render(&Value::Object(doc.clone()))),
                (None, []) => Answer::fail(1, format!("No Image found for {name_or_id}\n")),
                (None, _) => Answer::fail(
                    1,
                    format!("More than one Image exists with the name '{name_or_id}'.\n"),
                ),
            };
        }
        let docs = match kind {
            Kind::Network => &self.networks,
            Kind::Subnet => &self.subnets,
            _ => &self.security_groups,
        };
        match self.find(kind, name_or_id) {
            Ok(i) => Answer::ok(render(&Value::Object(docs[i].clone()))),
            // `network show` and `security group show` are network/common.py
            // `NetworkAndCompute` commands, which print the error behind a prefix.
            Err(mut a) if matches!(kind, Kind::Network | Kind::SecurityGroup) => {
                let mut stderr = ERROR_PREFIX.as_bytes().to_vec();
                stderr.extend_from_slice(&a.stderr);
                a.stderr = stderr;
                a
            }
            Err(a) => a,
        }
    }

    pub fn answer(&mut self, argv: &[String], _stdin: Option<&[u8]>) -> Option<Answer> {
        if argv.first().map(String::as_str) != Some("openstack") {
            return None;
        }
        if let Some(fail) = &self.no_credentials {
            return Some(fail.clone());
        }
        if let Some(fail) = self.failures.get(argv) {
            return Some(fail.clone());
        }
        let a = words(argv);
        let answer = match &a[1..] {
            ["network", "show", name, "-f", "json"] => self.show(Kind::Network, name),
            ["subnet", "show", name, "-f", "json"] => self.show(Kind::Subnet, name),
            ["security", "group", "show", name, "-f", "json"] => {
                self.show(Kind::SecurityGroup, name)
            }
            ["image", "show", id, "-f", "json"] => self.show(Kind::Image, id),
            ["image", "list", "--tag", tag, "-f", "json"] => self.image_list(tag),
            ["endpoint", "list", "-f", "json"] => match &self.endpoints {
                Some(rows) => Answer::ok(render(&Value::Array(rows.clone()))),
                None => unmodelled(argv),
            },
            ["network", "list", "-f", "json"] => self.network_list(),
            ["subnet", "list", "-f", "json"] => self.subnet_list(None),
            ["subnet", "list", "--network", net, "-f", "json"] => {
                match self.find(Kind::Network, net) {
                    Ok(i) => {
                        let id = text(&self.networks[i], "id").to_string();
                        self.subnet_list(Some(&id))
                    }
                    Err(a) => a,
                }
            }
            ["image", "create", rest @ ..] => self.image_create(argv, rest),
            ["network", "create", rest @ ..] => self.network_create(argv, rest),
            ["subnet", "create", rest @ ..] => self.subnet_create(argv, rest),
            _ => unmodelled(argv),
        };
        Some(answer)
    }

    fn image_list(&self, tag: &str) -> Answer {
        let rows: Vec<Value> = self
            .images
            .iter()
            .filter(|i| i.tagged(tag))
            .map(|i| match &i.show {
                Some(s) => json!({"ID": s["id"], "Name": s["name"], "Status": s["status"]}),
                None => Value::Object(i.row.clone()),
            })
            .collect();
        Answer::ok(render(&Value::Array(rows)))
    }

    fn network_list(&self) -> Answer {
        let rows: Vec<Value> = self
            .networks
            .iter()
            .map(|n| json!({"ID": n["id"], "Name": n["name"], "Subnets": n["subnets"]}))
            .collect();
        Answer::ok(render(&Value::Array(rows)))
    }

    fn subnet_list(&self, network_id: Option<&str>) -> Answer {
        let rows: Vec<Value> = self
            .subnets
            .iter()
            .filter(|s| network_id.is_none_or(|id| text(s, "network_id") == id))
            .map(|s| {
                json!({"ID": s["id"], "Name": s["name"], "Network": s["network_id"], "Subnet": s["cidr"]})
            })
            .collect();
        Answer::ok(render(&Value::Array(rows)))
    }

    /// The next API write's time stamp (`2026-12-02T12:00:01Z`, ...).
    fn tick(&mut self) -> String {
        self.writes += 1;
        let s = self.writes;
        format!(
            "{SIM_DAY}T{:02}:{:02}:{:02}Z",
            SIM_HOUR + s / 3600,
            (s / 60) % 60,
            s % 60
        )
    }

    /// A fresh UUID (version 4 layout), deterministic per simulated cloud.
    fn mint(&mut self) -> String {
        self.minted += 1;
        let digest = Sha256::digest(format!("stackgate-sim-openstack/{}", self.minted));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-4{}-8{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    /// openstacksdk's HttpException as cliff prints it.
    fn api_error(&self, class: &str, status: u16, path: &str, message: &str) -> Answer {
        Answer::fail(
            1,
            format!(
                "{class}: {status}: Client Error for url: {}/v2.0/{path}, {message}\n",
                self.network_url
            ),
        )
    }

    /// `openstack network create [--external|--internal] [--share|--no-share]
    /// [--provider-network-type flat --provider-physical-network P] [--tag T]...
    /// -f json NAME`
    fn network_create(&mut self, argv: &[String], rest: &[&str]) -> Answer {
        let Some(c) = Create::parse(
            rest,
            &["--external", "--internal", "--share", "--no-share"],
            &["--provider-network-type", "--provider-physical-network"],
        ) else {
            return unmodelled(argv);
        };
        // The last of a pair of switches wins, as argparse stores it.
        let last = |on: &str, off: &str| {
            c.switches
                .iter()
                .rev()
                .find(|w| **w == on || **w == off)
                .is_some_and(|w| *w == on)
        };
        let (external, shared) = (
            last("--external", "--internal"),
            last("--share", "--no-share"),
        );
        let net_type = c.value("--provider-network-type");
        let physnet = c.value("--provider-physical-network").map(String::from);
        let (name, tags, json_out) = (c.name.clone(), c.tags.clone(), c.json);
        // Only what the runbook creates is modelled: a flat provider network, printed
        // as JSON (the table layout is not rendered).
        let (true, Some("flat")) = (json_out, net_type) else {
            return unmodelled(argv);
        };
        let Some(physnet) = physnet else {
            return self.api_error(
                "BadRequestException",
                400,
                "networks",
                "Invalid input for operation: physical_network required for flat provider network.",
            );
        };
        let in_use = self.networks.iter().any(|n| {
            text(n, "provider:network_type") == "flat"
                && text(n, "provider:physical_network") == physnet
        });
        if in_use {
            return self.api_error(
                "ConflictException",
                409,
                "networks",
                &format!(
                    "Unable to create the flat network. Physical network {physnet} is in use."
                ),
            );
        }
        let now = self.tick();
        let id = self.mint();
        let mut doc: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in [
            ("admin_state_up", json!(true)),
            ("availability_zone_hints", json!([])),
            ("availability_zones", json!([])),
            ("created_at", json!(now)),
            ("description", json!("")),
            ("dns_domain", Value::Null),
            ("id", json!(id)),
            ("ipv4_address_scope", Value::Null),
            ("ipv6_address_scope", Value::Null),
            // The external-net extension answers is_default for external networks.
            (
                "is_default",
                if external { json!(false) } else { Value::Null },
            ),
            ("is_vlan_transparent", Value::Null),
            ("l2_adjacency", json!(true)),
            ("mtu", json!(1500)),
            ("name", json!(name)),
            ("port_security_enabled", json!(true)),
            ("project_id", json!(self.admin_project)),
            ("provider:network_type", json!("flat")),
            ("provider:physical_network", json!(physnet)),
            ("provider:segmentation_id", Value::Null),
            ("qos_policy_id", Value::Null),
            ("revision_number", json!(1)),
            ("router:external", json!(external)),
            ("segments", Value::Null),
            ("shared", json!(shared)),
            ("status", json!("ACTIVE")),
            ("subnets", json!([])),
            ("tags", json!([])),
            // OSC 6.x prints neutron's tenant_id beside project_id (hidden from 7.0).
            ("tenant_id", json!(self.admin_project)),
            ("updated_at", json!(now)),
        ] {
            doc.insert(k.to_string(), v);
        }
        let mut doc: Map<String, Value> = doc.into_iter().collect();
        let printed = self.set_tags(&mut doc, &tags);
        self.networks.push(doc);
        Answer::ok(render(&Value::Object(printed)))
    }

    /// `openstack image create --disk-format F --container-format C --file PATH
    /// [--tag T]... -f json NAME` (python-openstackclient `image/v2/image.py`
    /// `CreateImage`: the data is uploaded from the file, so the image is active when
    /// the command returns, and it prints `_format_image`, as `image show` does). The
    /// file is read from this machine, as the client reads it; glance's sha512
    /// `os_hash_value` is computed from it. The legacy md5 `checksum` is left out: the
    /// simulator has no md5.
    fn image_create(&mut self, argv: &[String], rest: &[&str]) -> Answer {
        let Some(c) = Create::parse(
            rest,
            &[],
            &["--disk-format", "--container-format", "--file"],
        ) else {
            return unmodelled(argv);
        };
        let (Some(disk), Some(container), Some(path), true) = (
            c.value("--disk-format"),
            c.value("--container-format"),
            c.value("--file"),
            c.json,
        ) else {
            return unmodelled(argv);
        };
        // The client opens the file before it calls glance (Python's own error).
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(2);
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "No such file or directory".to_string()
                } else {
                    e.to_string()
                };
                return Answer::fail(1, format!("[Errno {errno}] {why}: '{path}'\n"));
            }
        };
        let now = self.tick();
        let id = self.mint();
        let hash: String = sha2::Sha512::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let size = data.len() as u64;
        // glance inspects the upload: a qcow2 header's size field, a raw image's length.
        let virtual_size = match (disk, data.get(..32)) {
            ("qcow2", Some(h)) if h.starts_with(b"QFI\xfb") => Some(u64::from_be_bytes(
                h[24..32].try_into().expect("eight bytes"),
            )),
            ("raw", _) => Some(size),
            _ => None,
        };
        let mut doc: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in [
            ("container_format", json!(container)),
            ("created_at", json!(now)),
            ("disk_format", json!(disk)),
            ("file", json!(format!("/v2/images/{id}/file"))),
            ("id", json!(id)),
            ("min_disk", json!(0)),
            ("min_ram", json!(0)),
            ("name", json!(c.name)),
            ("owner", json!(self.admin_project)),
            (
                "properties",
                json!({"os_hidden": false, "os_hash_algo": "sha512", "os_hash_value": hash}),
            ),
            ("protected", json!(false)),
            ("schema", json!("/v2/schemas/image")),
            ("size", json!(size)),
            ("status", json!("active")),
            ("tags", json!(c.tags)),
            ("updated_at", json!(now)),
            ("visibility", json!("shared")),
        ] {
            doc.insert(k.to_string(), v);
        }
        if let Some(v) = virtual_size {
            doc.insert("virtual_size".to_string(), json!(v));
        }
        let doc: Map<String, Value> = doc.into_iter().collect();
        self.adopt_image(doc.clone());
        Answer::ok(render(&Value::Object(doc)))
    }

    /// The client's tag update after a create: the document as the create printed it
    /// (the SDK sets the tags on the object it holds, revision unchanged) and the stored
    /// one bumped.
    fn set_tags(&mut self, doc: &mut Map<String, Value>, tags: &[String]) -> Map<String, Value> {
        if tags.is_empty() {
            return doc.clone();
        }
        doc.insert("tags".into(), json!(tags));
        let printed = doc.clone();
        let now = self.tick();
        bump(doc, &now);
        printed
    }

    /// `openstack subnet create --network N --subnet-range CIDR [--gateway IP]
    /// [--dhcp|--no-dhcp] [--allocation-pool start=A,end=B]... [--tag T]... -f json NAME`
    fn subnet_create(&mut self, argv: &[String], rest: &[&str]) -> Answer {
        let Some(c) = Create::parse(
            rest,
            &["--dhcp", "--no-dhcp"],
            &[
                "--network",
                "--subnet-range",
                "--gateway",
                "--allocation-pool",
            ],
        ) else {
            return unmodelled(argv);
        };
        let dhcp = c
            .switches
            .iter()
            .rev()
            .find(|w| **w == "--dhcp" || **w == "--no-dhcp")
            .is_none_or(|w| *w == "--dhcp");
        let Some(mut pools) = c
            .values("--allocation-pool")
            .map(parse_pool)
            .collect::<Option<Vec<(IpAddr, IpAddr)>>>()
        else {
            return unmodelled(argv);
        };
        let (name, tags, json_out) = (c.name.clone(), c.tags.clone(), c.json);
        let network = c.value("--network").map(String::from);
        let range = c
            .value("--subnet-range")
            .and_then(|r| r.parse::<IpNet>().ok());
        let gateway = c.value("--gateway").map(String::from);
        let (Some(network), Some(cidr), true) = (network, range, json_out) else {
            return unmodelled(argv);
        };
        let IpNet::V4(cidr4) = cidr else {
            return unmodelled(argv);
        };
        let net = match self.find(Kind::Network, &network) {
            Ok(i) => i,
            Err(a) => return a,
        };
        let network_id = text(&self.networks[net], "id").to_string();
        let bad = |m: String| ("BadRequestException", 400, m);
        let gateway: Option<IpAddr> = match gateway.as_deref() {
            None | Some("auto") => cidr4.hosts().next().map(IpAddr::V4),
            Some("none") => None,
            Some(g) => match g.parse() {
                Ok(ip) => Some(ip),
                Err(_) => return unmodelled(argv),
            },
        };
        let refusal = (|| {
            if let Some(gw) = gateway
                && (!cidr.contains(&gw) || gw == cidr.network() || gw == cidr.broadcast())
            {
                return Some(bad(
                    "Invalid input for operation: Gateway is not valid on subnet.".into(),
                ));
            }
            for (start, end) in &pools {
                if !cidr.contains(start) || !cidr.contains(end) || start > end {
                    return Some(bad(format!(
                        "The allocation pool {start}-{end} spans beyond the subnet cidr {cidr}."
                    )));
                }
                if let Some(gw) = gateway
                    && *start <= gw
                    && gw <= *end
                {
                    return Some(bad(format!(
                        "Gateway ip {gw} conflicts with allocation pool {start}-{end}."
                    )));
                }
            }
            let overlaps = self.subnets.iter().any(|s| {
                text(s, "network_id") == network_id
                    && text(s, "cidr")
                        .parse::<IpNet>()
                        .is_ok_and(|c| c.contains(&cidr.network()) || cidr.contains(&c.network()))
            });
            overlaps.then(|| {
                bad(format!(
                    "Invalid input for operation: Requested subnet with cidr: {cidr} for network: {network_id} overlaps with another subnet."
                ))
            })
        })();
        if let Some((class, status, message)) = refusal {
            return self.api_error(class, status, "subnets", &message);
        }
        if pools.is_empty() {
            // Neutron's default pool: the CIDR's hosts less the gateway.
            let hosts: Vec<std::net::Ipv4Addr> = cidr4.hosts().collect();
            let gw = gateway.and_then(|g| match g {
                IpAddr::V4(v) => Some(v),
                IpAddr::V6(_) => None,
            });
            let start = hosts.iter().copied().find(|h| Some(*h) != gw);
            let end = hosts.iter().rev().copied().find(|h| Some(*h) != gw);
            if let (Some(s), Some(e)) = (start, end) {
                pools.push((IpAddr::V4(s), IpAddr::V4(e)));
            }
        }
        let now = self.tick();
        let id = self.mint();
        let pools: Vec<Value> = pools
            .iter()
            .map(|(s, e)| json!({"start": s.to_string(), "end": e.to_string()}))
            .collect();
        let mut doc: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in [
            ("allocation_pools", json!(pools)),
            ("cidr", json!(cidr.to_string())),
            ("created_at", json!(now)),
            ("description", json!("")),
            ("dns_nameservers", json!([])),
            ("dns_publish_fixed_ip", Value::Null),
            ("enable_dhcp", json!(dhcp)),
            ("gateway_ip", json!(gateway.map(|g| g.to_string()))),
            ("host_routes", json!([])),
            ("id", json!(id)),
            ("ip_version", json!(4)),
            ("ipv6_address_mode", Value::Null),
            ("ipv6_ra_mode", Value::Null),
            ("name", json!(name)),
            ("network_id", json!(network_id)),
            ("project_id", json!(self.admin_project)),
            ("revision_number", json!(1)),
            ("segment_id", Value::Null),
            ("service_types", json!([])),
            ("subnetpool_id", Value::Null),
            ("tags", json!([])),
            ("updated_at", json!(now)),
        ] {
            doc.insert(k.to_string(), v);
        }
        let mut doc: Map<String, Value> = doc.into_iter().collect();
        // The network gains the subnet (Neutron bumps its revision).
        let net_doc = &mut self.networks[net];
        if let Some(Value::Array(ids)) = net_doc.get_mut("subnets") {
            ids.push(json!(id));
        }
        bump(net_doc, &now);
        let printed = self.set_tags(&mut doc, &tags);
        self.subnets.push(doc);
        Answer::ok(render(&Value::Object(printed)))
    }
}

/// A `create`'s arguments as argparse takes them: switches, options with a value, the
/// repeatable `--tag`, `-f json`, and one positional name. `None` for anything else
/// (an option the simulator does not model is never silently ignored).
struct Create<'a> {
    name: String,
    tags: Vec<String>,
    json: bool,
    switches: Vec<&'a str>,
    options: Vec<(&'a str, &'a str)>,
}

impl<'a> Create<'a> {
    fn parse(rest: &[&'a str], switches: &[&str], valued: &[&str]) -> Option<Create<'a>> {
        let mut c = Create {
            name: String::new(),
            tags: Vec::new(),
            json: false,
            switches: Vec::new(),
            options: Vec::new(),
        };
        let mut it = rest.iter().copied();
        while let Some(w) = it.next() {
            match w {
                "--tag" => c.tags.push(it.next()?.to_string()),
                "-f" => c.json = it.next()? == "json" || return None,
                _ if switches.contains(&w) => c.switches.push(w),
                _ if valued.contains(&w) => c.options.push((w, it.next()?)),
                _ if w.starts_with('-') || !c.name.is_empty() => return None,
                _ => c.name = w.to_string(),
            }
        }
        (!c.name.is_empty()).then_some(c)
    }

    /// An option's last value.
    fn value(&self, option: &str) -> Option<&'a str> {
        self.values(option).last()
    }

    fn values<'s>(&'s self, option: &'s str) -> impl DoubleEndedIterator<Item = &'a str> + 's {
        self.options
            .iter()
            .filter(move |(o, _)| *o == option)
            .map(|(_, v)| *v)
    }
}

/// A write Neutron's revision plugin counts.
fn bump(doc: &mut Map<String, Value>, now: &str) {
    let rev = doc
        .get("revision_number")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    doc.insert("revision_number".into(), json!(rev + 1));
    doc.insert("updated_at".into(), json!(now));
}

/// `start=A,end=B` (python-openstackclient `parseractions.MultiKeyValueAction`).
fn parse_pool(spec: &str) -> Option<(IpAddr, IpAddr)> {
    let mut start = None;
    let mut end = None;
    for kv in spec.split(',') {
        match kv.split_once('=')? {
            ("start", v) => start = v.parse().ok(),
            ("end", v) => end = v.parse().ok(),
            _ => return None,
        }
    }
    Some((start?, end?))
}

/// The admin project: the owner of a recorded external network.
fn project_of(world: &World) -> Option<String> {
    world
        .argvs()
        .filter(|a| a.len() > 2 && a[1] == "network" && a[2] == "show")
        .filter_map(|a| world.get(a))
        .filter(|r| r.exit == 0)
        .filter_map(|r| serde_json::from_slice::<Value>(&r.stdout).ok())
        .find(|v| v["router:external"] == json!(true))
        .and_then(|v| v["project_id"].as_str().map(String::from))
}

#[cfg(test)]
mod tests;
