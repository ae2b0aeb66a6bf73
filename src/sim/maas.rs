//! The simulated MAAS region: machines, interfaces, subnets, VLANs, IP records, ranges
//! and tags, loaded from a world's `maas <profile> ...` recordings.
//!
//! The state is the recorded documents themselves, held as JSON values in the key
//! order MAAS printed them (serde_json `preserve_order`), so an unchanged read renders
//! the recorded bytes exactly ([`render`]). A mutation edits every document an object
//! appears in: MAAS nests whole copies (a subnet inside each link, range and space; a
//! VLAN inside each subnet and interface), and each copy carries the object's
//! `resource_uri`, by which the simulator finds them all.
//!
//! Where each answer comes from (canonical/maas, `src/`):
//! - output and exit status: `maascli/utils.py` `print_response_content` (the body as
//!   received, no newline off a TTY) and `maascli/api.py` `Action.__call__` (a non-2xx
//!   status raises `CommandError(2)`, i.e. `SystemExit(2)`: exit 2, the error body on
//!   stdout, nothing on stderr);
//! - 404s: `maasserver/api/support.py` `OperationsResource.error_handler` returns
//!   `str(Http404)`, Django's "No <Model> matches the given query." (`get_object_or_404`,
//!   and `maasserver/utils/orm.py` `get_object_by_specifiers_or_raise`);
//! - form errors: `maasserver/exceptions.py` `MAASAPIValidationError.make_http_response`
//!   (`json.dumps(form.errors)`, 400); plain `ValidationError`s:
//!   `maasserver/middleware.py` `APIRPCErrorsMiddleware.process_exception` (400, text);
//! - `name@=file` parameters: `maascli/api.py` `Action.name_value_pair` (the value is
//!   read from the file when the request is built). The simulator never opens the file
//!   and keeps no value of any `power_parameters_*` parameter.
//!
//! Commissioning, decomposition and the DISCOVERED ghost follow the change log (seed
//! 004: D-055, DOCFIX-040, "carve hardening"), see [`MaasState::apply`] and
//! [`MaasState::answer`].

mod render;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use serde_json::{Map, Value, json};

pub use render::{python_float, render, render_compact, render_indented};

use super::{Answer, Effect, SimConfig};
use crate::world::World;

/// The API root every `resource_uri` starts with.
const API: &str = "/MAAS/api/2.0";

/// The timestamp the simulator stamps on IP records it creates (`created`, `updated`:
/// `maasserver/websockets/base.py` `dehydrate_datetime` format). Fixed: the
/// simulator has no clock.
const SIM_STAMP: &str = "Wed, 02 Dec. 2026 12:00:00";

/// Node status codes and names (`maascommon/enums/node.py` `NODE_STATUS`,
/// `NODE_STATUS_CHOICES`).
pub mod status {
    pub const NEW: i64 = 0;
    pub const COMMISSIONING: i64 = 1;
    pub const READY: i64 = 4;
    pub const DEPLOYED: i64 = 6;
    pub const BROKEN: i64 = 8;
    pub const ALLOCATED: i64 = 10;
    pub const FAILED_TESTING: i64 = 22;

    /// `status_name` of a status code.
    pub fn name(code: i64) -> &'static str {
        match code {
            0 => "New",
            1 => "Commissioning",
            2 => "Failed commissioning",
            3 => "Missing",
            4 => "Ready",
            5 => "Reserved",
            6 => "Deployed",
            7 => "Retired",
            8 => "Broken",
            9 => "Deploying",
            10 => "Allocated",
            11 => "Failed deployment",
            12 => "Releasing",
            21 => "Testing",
            22 => "Failed testing",
            _ => "Unknown",
        }
    }
}

/// IP record `alloc_type`s (`maascommon/enums/ipaddress.py` `IPADDRESS_TYPE`).
pub mod alloc {
    pub const AUTO: i64 = 0;
    pub const STICKY: i64 = 1;
    pub const USER_RESERVED: i64 = 4;
    pub const DHCP: i64 = 5;
    pub const DISCOVERED: i64 = 6;
}

/// The argv a sim world uses to supply a host's hardware (see
/// `fixtures/testcloud/sim-hosts-decomposed/world.toml`): `["sim", "hardware",
/// <hostname>]`, whose stdout is that host's last `machines read` entry as MAAS printed
/// it before the host was decomposed (the as-built capture D-055 names). It is a
/// simulator input, never a command anything runs.
pub const HARDWARE_ARGV0: &str = "sim";

/// A machine still commissioning: how many `machines read`s it has spent in its state.
#[derive(Debug, Clone)]
struct Enrolment {
    polls: u32,
    /// The machine document it was created from (remembered or supplied hardware).
    template: Value,
}

/// MAAS as the simulator holds it.
#[derive(Debug, Default)]
pub struct MaasState {
    profile: String,
    world: String,
    machines: Option<Vec<Value>>,
    subnets: Option<Vec<Value>>,
    spaces: Option<Vec<Value>>,
    vlans: BTreeMap<i64, Vec<Value>>,
    ip_addresses: BTreeMap<i64, Vec<Value>>,
    ipranges: Option<Vec<Value>>,
    tags: Option<Vec<Value>>,
    /// `interfaces read <system_id>` recordings of machines `machines read` does not
    /// hold: leftovers an `extends` world inherited; MAAS answers 404 for them.
    stale_interfaces: BTreeSet<String>,
    enrolling: BTreeMap<String, Enrolment>,
    /// Hostname -> the machine document at the moment it was deleted or decomposed.
    remembered: BTreeMap<String, Value>,
    /// Hostname -> the hardware a sim world supplies ([`HARDWARE_ARGV0`]).
    hardware: BTreeMap<String, Value>,
    /// Every system_id the simulation has seen or minted (DOCFIX-040: never reused).
    seen_system_ids: BTreeSet<String>,
    mint_state: u64,
    next_interface: i64,
    next_link: i64,
    next_vlan: i64,
    next_fabric: i64,
    next_subnet: i64,
    next_iprange: i64,
}

/// One parsed `maas` argv: positionals and `key=value` parameters.
struct Call<'a> {
    handler: &'a str,
    action: &'a str,
    args: Vec<&'a str>,
    /// `key=value` pairs in order; `key@=file` pairs carry `None` (never read).
    params: Vec<(String, Option<String>)>,
}

impl Call<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }
    fn params_named(&self, key: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
    fn flag(&self, key: &str) -> bool {
        // maasserver/api/utils.py get_optional_param with StringBool (formencode):
        // "true", "yes", "on", "1" are true.
        self.param(key)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1"))
    }
}

/// What the API answered: 2xx with a body, or an error status with its body.
fn ok_doc(value: &Value) -> Answer {
    Answer::ok(render(value))
}

/// A non-2xx answer: maascli prints the body on stdout and exits 2.
fn http_error(body: impl Into<Vec<u8>>) -> Answer {
    Answer {
        exit: 2,
        stdout: bytes::Bytes::from(body.into()),
        stderr: Vec::new(),
    }
}

/// `rc.DELETED` (204, empty body): nothing printed, exit 0.
fn deleted() -> Answer {
    Answer::ok(Vec::new())
}

/// A form's errors, `{"field": ["message"]}`, 400.
fn form_error(field: &str, message: &str) -> Answer {
    let mut m = Map::new();
    m.insert(field.to_string(), json!([message]));
    http_error(render_compact(&Value::Object(m)))
}

fn not_found(model: &str) -> Answer {
    http_error(format!("No {model} matches the given query."))
}

/// `maasserver/api/interfaces.py` `raise_error_for_invalid_state_on_allocated_operations`
/// (409).
fn invalid_state(operation: &str) -> Answer {
    http_error(format!(
        "Cannot {operation} interface because the machine is not New, Ready, Allocated, or Broken."
    ))
}

/// A simulator gap, labelled as such: the world did not record what this answer needs.
fn sim_gap(message: String) -> Answer {
    Answer::fail(1, format!("stackgate sim: {message}\n"))
}

/// `maasserver/api/interfaces.py` `ALLOWED_STATES`.
const INTERFACE_STATES: [i64; 5] = [
    status::NEW,
    status::READY,
    status::FAILED_TESTING,
    status::ALLOCATED,
    status::BROKEN,
];

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn parse_int(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// Visits every object in `value`, depth first.
fn each_object(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(m) => {
            f(m);
            for v in m.values_mut() {
                each_object(v, f);
            }
        }
        Value::Array(a) => {
            for v in a {
                each_object(v, f);
            }
        }
        _ => {}
    }
}

/// Replaces every string equal to `old`, and every `/old/` path segment, with `new`.
fn rename_strings(value: &mut Value, old: &str, new: &str) {
    match value {
        Value::String(s) => {
            if s == old {
                *s = new.to_string();
            } else {
                let seg = format!("/{old}/");
                if s.contains(&seg) {
                    *s = s.replace(&seg, &format!("/{new}/"));
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rename_strings(v, old, new)),
        Value::Object(m) => m.values_mut().for_each(|v| rename_strings(v, old, new)),
        _ => {}
    }
}

fn max_id(value: &Value, pick: &dyn Fn(&str) -> bool) -> i64 {
    let mut best = 0;
    let mut v = value.clone();
    each_object(&mut v, &mut |m| {
        if let (Some(uri), Some(id)) = (
            m.get("resource_uri").and_then(Value::as_str),
            m.get("id").and_then(Value::as_i64),
        ) {
            if pick(uri) {
                best = best.max(id);
            }
        }
    });
    best
}

impl MaasState {
    /// Loads MAAS from the world's `maas <profile> ...` recordings (and the hardware a
    /// sim world supplies). A recorded read that is not a JSON document is an error.
    pub fn load(world: &World, profile: &str) -> Result<Self, String> {
        let mut state = MaasState {
            profile: profile.to_string(),
            world: world.name.clone(),
            mint_state: 0x5eed,
            ..MaasState::default()
        };
        let mut interfaces: BTreeMap<String, Value> = BTreeMap::new();
        for argv in world.argvs() {
            let Some(rec) = world.get(argv) else { continue };
            let words: Vec<&str> = argv.iter().map(String::as_str).collect();
            if words.first() == Some(&HARDWARE_ARGV0) && words.get(1) == Some(&"hardware") {
                if let Some(host) = words.get(2) {
                    let doc: Value = serde_json::from_slice(&rec.stdout)
                        .map_err(|e| format!("`{}`: not JSON: {e}", argv.join(" ")))?;
                    state.hardware.insert(host.to_string(), doc);
                }
                continue;
            }
            if words.first() != Some(&"maas") || words.get(1) != Some(&profile) || rec.exit != 0 {
                continue;
            }
            let parse = || -> Result<Value, String> {
                serde_json::from_slice(&rec.stdout)
                    .map_err(|e| format!("`{}`: not a JSON document: {e}", argv.join(" ")))
            };
            let list = |v: Value| -> Result<Vec<Value>, String> {
                match v {
                    Value::Array(a) => Ok(a),
                    _ => Err(format!("`{}`: not a JSON list", argv.join(" "))),
                }
            };
            match &words[2..] {
                ["machines", "read"] => state.machines = Some(list(parse()?)?),
                ["subnets", "read"] => state.subnets = Some(list(parse()?)?),
                ["spaces", "read"] => state.spaces = Some(list(parse()?)?),
                ["ipranges", "read"] => state.ipranges = Some(list(parse()?)?),
                ["tags", "read"] => state.tags = Some(list(parse()?)?),
                ["vlans", "read", fabric] => {
                    if let Some(id) = parse_int(fabric) {
                        state.vlans.insert(id, list(parse()?)?);
                    }
                }
                ["subnet", "ip-addresses", id] => {
                    if let Some(id) = parse_int(id) {
                        state.ip_addresses.insert(id, list(parse()?)?);
                    }
                }
                ["interfaces", "read", sid] => {
                    interfaces.insert(sid.to_string(), parse()?);
                }
                _ => {}
            }
        }
        // `interfaces read` is rendered from the machine's interface_set (MAAS prints
        // the same objects in both); a recording that disagrees would be lost, so it
        // is refused.
        for (sid, doc) in interfaces {
            match state.machine_index(&sid) {
                Some(i) => {
                    let set = &state
                        .machines
                        .as_ref()
                        .map(|m| m[i]["interface_set"].clone());
                    if set.as_ref() != Some(&doc) {
                        return Err(format!(
                            "`maas {profile} interfaces read {sid}` disagrees with that machine's interface_set in `machines read`"
                        ));
                    }
                }
                None => {
                    state.stale_interfaces.insert(sid.clone());
                }
            }
            state.seen_system_ids.insert(sid);
        }
        state.index_ids();
        Ok(state)
    }

    /// Records every id the loaded documents hold: system_ids never to mint, and the
    /// highest interface, link, VLAN, fabric, subnet and range ids.
    fn index_ids(&mut self) {
        let mut all = Vec::new();
        all.extend(self.machines.iter().flatten().cloned());
        all.extend(self.subnets.iter().flatten().cloned());
        all.extend(self.spaces.iter().flatten().cloned());
        all.extend(self.ipranges.iter().flatten().cloned());
        all.extend(self.vlans.values().flatten().cloned());
        all.extend(self.ip_addresses.values().flatten().cloned());
        all.extend(self.hardware.values().cloned());
        let mut doc = Value::Array(all);
        let mut sids = BTreeSet::new();
        let (mut links, mut fabrics) = (0, 0);
        each_object(&mut doc, &mut |m| {
            if let Some(s) = m.get("system_id").and_then(Value::as_str) {
                if !s.is_empty() {
                    sids.insert(s.to_string());
                }
            }
            if let Some(f) = m.get("fabric_id").and_then(Value::as_i64) {
                fabrics = fabrics.max(f);
            }
            if let Some(Value::Array(ls)) = m.get("links") {
                for l in ls {
                    links = links.max(int(l, "id").unwrap_or(0));
                }
            }
        });
        self.seen_system_ids.extend(sids);
        self.next_interface = max_id(&doc, &|u| u.contains("/interfaces/")) + 1;
        self.next_vlan = max_id(&doc, &|u| u.starts_with(&format!("{API}/vlans/"))) + 1;
        self.next_subnet = max_id(&doc, &|u| u.starts_with(&format!("{API}/subnets/"))) + 1;
        self.next_iprange = max_id(&doc, &|u| u.starts_with(&format!("{API}/ipranges/"))) + 1;
        self.next_link = links + 1;
        self.next_fabric = fabrics + 1;
    }

    /// Adds system_ids the simulation must never mint (a previous cycle's, DOCFIX-040).
    pub fn exclude_system_ids<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, ids: I) {
        self.seen_system_ids.extend(ids.into_iter().map(Into::into));
    }

    /// The system_id MAAS holds for a hostname now.
    pub fn system_id(&self, hostname: &str) -> Option<String> {
        self.machines
            .iter()
            .flatten()
            .find(|m| text(m, "hostname") == Some(hostname))
            .and_then(|m| text(m, "system_id").map(str::to_string))
    }

    /// `interfaces read <system_id>` recordings the world inherited for machines it no
    /// longer holds (MAAS answers them 404).
    pub fn stale_interface_reads(&self) -> impl Iterator<Item = &String> {
        self.stale_interfaces.iter()
    }

    fn machine_index(&self, sid: &str) -> Option<usize> {
        self.machines
            .as_ref()?
            .iter()
            .position(|m| text(m, "system_id") == Some(sid))
    }

    fn machine_by_hostname(&self, hostname: &str) -> Option<usize> {
        self.machines
            .as_ref()?
            .iter()
            .position(|m| text(m, "hostname") == Some(hostname))
    }

    /// A fresh system_id: MAAS's znum alphabet and length (`maasserver/models/node.py`
    /// `generate_node_system_id`, `provisioningserver/utils/znums.py` `from_int` over
    /// 24**5..24**6), drawn from a fixed-seed sequence so runs repeat, never one seen.
    fn mint_system_id(&mut self) -> String {
        const ZCHARS: &[u8] = b"34678abcdefghkmnpqrstwxy";
        const LOW: u64 = 24u64.pow(5);
        const SPAN: u64 = 24u64.pow(6) - 24u64.pow(5);
        loop {
            // splitmix64
            self.mint_state = self.mint_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.mint_state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let mut n = LOW + z % SPAN;
            let mut chars = Vec::new();
            while n > 0 {
                chars.push(ZCHARS[(n % 24) as usize]);
                n /= 24;
            }
            chars.reverse();
            let sid = String::from_utf8(chars).unwrap_or_default();
            if !sid.is_empty() && self.seen_system_ids.insert(sid.clone()) {
                return sid;
            }
        }
    }

    // ---- propagation over every document ----

    fn for_each_doc(&mut self, f: &mut dyn FnMut(&mut Value)) {
        for list in [
            self.machines.as_mut(),
            self.subnets.as_mut(),
            self.spaces.as_mut(),
            self.ipranges.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            for v in list.iter_mut() {
                f(v);
            }
        }
        for list in self
            .vlans
            .values_mut()
            .chain(self.ip_addresses.values_mut())
        {
            for v in list.iter_mut() {
                f(v);
            }
        }
    }

    /// Applies `edit` to every copy of the object whose `resource_uri` is `uri`.
    fn edit_everywhere(&mut self, uri: &str, edit: &dyn Fn(&mut Map<String, Value>)) {
        self.for_each_doc(&mut |doc| {
            each_object(doc, &mut |m| {
                if m.get("resource_uri").and_then(Value::as_str) == Some(uri) {
                    edit(m);
                }
            })
        });
    }

    /// Any copy of the object whose `resource_uri` is `uri`.
    fn find_object(&self, uri: &str) -> Option<Value> {
        let mut found = None;
        let mut docs: Vec<Value> = Vec::new();
        docs.extend(self.subnets.iter().flatten().cloned());
        docs.extend(self.vlans.values().flatten().cloned());
        docs.extend(self.spaces.iter().flatten().cloned());
        docs.extend(self.machines.iter().flatten().cloned());
        docs.extend(self.ipranges.iter().flatten().cloned());
        let mut all = Value::Array(docs);
        each_object(&mut all, &mut |m| {
            if found.is_none() && m.get("resource_uri").and_then(Value::as_str) == Some(uri) {
                found = Some(Value::Object(m.clone()));
            }
        });
        found
    }

    fn subnet(&self, id: i64) -> Option<Value> {
        self.find_object(&format!("{API}/subnets/{id}/"))
    }

    fn vlan(&self, id: i64) -> Option<Value> {
        self.find_object(&format!("{API}/vlans/{id}/"))
    }

    /// Every subnet MAAS holds (subnets read, else the subnets nested elsewhere).
    fn all_subnets(&self) -> Vec<Value> {
        if let Some(s) = &self.subnets {
            return s.clone();
        }
        self.nested(&|m| {
            let uri = m.get("resource_uri").and_then(Value::as_str).unwrap_or("");
            uri.starts_with(&format!("{API}/subnets/")) && m.contains_key("cidr")
        })
    }

    /// The objects nested anywhere in the documents that `pick` selects, one per id,
    /// by id.
    fn nested(&self, pick: &dyn Fn(&Map<String, Value>) -> bool) -> Vec<Value> {
        let mut out: BTreeMap<i64, Value> = BTreeMap::new();
        let mut docs = Value::Array(
            self.subnets
                .iter()
                .flatten()
                .chain(self.spaces.iter().flatten())
                .chain(self.ipranges.iter().flatten())
                .chain(self.machines.iter().flatten())
                .cloned()
                .collect(),
        );
        each_object(&mut docs, &mut |m| {
            if pick(m) {
                if let Some(id) = m.get("id").and_then(Value::as_i64) {
                    out.entry(id).or_insert_with(|| Value::Object(m.clone()));
                }
            }
        });
        out.into_values().collect()
    }

    /// Each space MAAS holds, with the CIDRs of its subnets, as juju's MAAS provider
    /// imports them at add-model and reload-spaces.
    pub fn spaces(&self) -> Vec<(String, Vec<String>)> {
        if let Some(spaces) = &self.spaces {
            return spaces
                .iter()
                .filter_map(|s| {
                    let name = text(s, "name")?.to_string();
                    let cidrs = s
                        .get("subnets")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| text(x, "cidr").map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((name, cidrs))
                })
                .collect();
        }
        let mut by_space: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in self.all_subnets() {
            if let (Some(space), Some(cidr)) = (text(&s, "space"), text(&s, "cidr")) {
                by_space
                    .entry(space.to_string())
                    .or_default()
                    .push(cidr.to_string());
            }
        }
        by_space.into_iter().collect()
    }

    // ---- the CLI ----

    /// Answers a `maas <profile> ...` argv; `None` for any other command. A `maas`
    /// argv the simulator does not model is answered with maascli's argparse refusal
    /// (exit 2), never passed on to the world's recording.
    pub fn answer(
        &mut self,
        argv: &[String],
        _stdin: Option<&[u8]>,
        config: &SimConfig,
    ) -> Option<Answer> {
        if argv.first().map(String::as_str) != Some("maas") {
            return None;
        }
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let Some(&profile) = words.get(1) else {
            return Some(usage_error("maas", "too few arguments"));
        };
        if profile != self.profile {
            // No such profile is logged in: the top-level parser has no such choice.
            return Some(usage_error(
                "maas",
                &format!("argument COMMAND: invalid choice: '{profile}'"),
            ));
        }
        let (Some(&handler), Some(&action)) = (words.get(2), words.get(3)) else {
            return Some(usage_error(&format!("maas {profile}"), "too few arguments"));
        };
        let positional = match (handler, action) {
            ("interfaces", _) | ("machine", _) => 1,
            ("interface", _) => 2,
            ("subnet", _) | ("iprange", _) | ("tag", _) | ("vlans", _) => 1,
            _ => 0,
        };
        let rest = &words[4..];
        if rest.len() < positional {
            return Some(usage_error(
                &format!("maas {profile} {handler} {action}"),
                "the following arguments are required",
            ));
        }
        let mut params = Vec::new();
        for raw in &rest[positional..] {
            match split_param(raw) {
                Some(p) => params.push(p),
                None => {
                    // CommandError(msg) is SystemExit(msg): the message on stderr, exit 1.
                    return Some(Answer::fail(
                        1,
                        format!("'{raw}' is not a name=value or name@=filename pair\n"),
                    ));
                }
            }
        }
        let call = Call {
            handler,
            action,
            args: rest[..positional].to_vec(),
            params,
        };
        Some(self.dispatch(&call, config))
    }

    fn dispatch(&mut self, call: &Call, config: &SimConfig) -> Answer {
        let arg = |n: usize| call.args.get(n).copied().unwrap_or("");
        match (call.handler, call.action) {
            ("machines", "read") => self.machines_read(config),
            ("machines", "create") => self.machines_create(call),
            ("machine", "read") => match self.machine_index(arg(0)) {
                Some(i) => ok_doc(&self.machines.as_ref().map_or(Value::Null, |m| m[i].clone())),
                None => not_found("Machine"),
            },
            ("machine", "delete") => self.machine_delete(arg(0)),
            ("machine", "release") => self.machine_release(arg(0)),
            ("interfaces", "read") => self.interfaces_read(arg(0)),
            ("interfaces", "create-bridge") => self.create_bridge(arg(0), call),
            ("interfaces", "create-vlan") => self.create_vlan(arg(0), call),
            ("interface", "read") => match self.interface_pos(arg(0), arg(1)) {
                Some((m, i)) => ok_doc(&self.iface(m, i)),
                None => not_found("Interface"),
            },
            ("interface", "update") => self.interface_update(arg(0), arg(1), call),
            ("interface", "link-subnet") => self.link_subnet(arg(0), arg(1), call),
            ("interface", "unlink-subnet") => self.unlink_subnet(arg(0), arg(1), call),
            ("subnets", "read") => self.doc_read(self.subnets.clone(), "subnets read"),
            ("subnets", "create") => self.subnets_create(call),
            ("subnet", "read") => match parse_int(arg(0)).and_then(|id| self.subnet(id)) {
                Some(s) => ok_doc(&s),
                None => not_found("Subnet"),
            },
            ("subnet", "update") => self.subnet_update(arg(0), call),
            ("subnet", "delete") => self.subnet_delete(arg(0), call),
            ("subnet", "ip-addresses") => self.subnet_ip_addresses(arg(0)),
            ("spaces", "read") => self.doc_read(self.spaces.clone(), "spaces read"),
            ("vlans", "read") => self.vlans_read(arg(0)),
            ("ipranges", "read") => self.doc_read(self.ipranges.clone(), "ipranges read"),
            ("ipranges", "create") => self.ipranges_create(call),
            ("iprange", "delete") => self.iprange_delete(arg(0)),
            ("tags", "read") => self.doc_read(self.tags.clone(), "tags read"),
            ("tags", "create") => self.tags_create(call),
            ("tag", "update-nodes") => self.tag_update_nodes(arg(0), call),
            ("ipaddresses", "release") => self.ipaddresses_release(call),
            (handler, action) => {
                let known = [
                    "machines",
                    "machine",
                    "interfaces",
                    "interface",
                    "subnets",
                    "subnet",
                    "spaces",
                    "vlans",
                    "ipranges",
                    "iprange",
                    "tags",
                    "tag",
                    "ipaddresses",
                ];
                if known.contains(&handler) {
                    usage_error(
                        &format!("maas {} {handler}", self.profile),
                        &format!("argument COMMAND: invalid choice: '{action}'"),
                    )
                } else {
                    usage_error(
                        &format!("maas {}", self.profile),
                        &format!("argument COMMAND: invalid choice: '{handler}'"),
                    )
                }
            }
        }
    }

    fn doc_read(&self, doc: Option<Vec<Value>>, what: &str) -> Answer {
        match doc {
            Some(d) => ok_doc(&Value::Array(d)),
            None => sim_gap(format!(
                "world {} recorded no `maas {} {what}`: the simulated MAAS does not know it",
                self.world, self.profile
            )),
        }
    }

    // ---- machines ----

    /// `machines read`. Each read is one poll of the machines still enrolling: after
    /// [`SimConfig::commission_polls`] reads in New a machine is Commissioning (its NICs
    /// discovered), after as many more Ready (D-055: `machines create` auto-commissions
    /// New -> Commissioning -> Ready).
    fn machines_read(&mut self, config: &SimConfig) -> Answer {
        let Some(machines) = &self.machines else {
            return self.doc_read(None, "machines read");
        };
        let out = ok_doc(&Value::Array(machines.clone()));
        self.advance(config);
        out
    }

    fn advance(&mut self, config: &SimConfig) {
        let sids: Vec<String> = self.enrolling.keys().cloned().collect();
        for sid in sids {
            let Some(e) = self.enrolling.get_mut(&sid) else {
                continue;
            };
            e.polls += 1;
            while self
                .enrolling
                .get(&sid)
                .is_some_and(|e| e.polls >= config.commission_polls)
            {
                let Some(i) = self.machine_index(&sid) else {
                    self.enrolling.remove(&sid);
                    break;
                };
                let code = self.machines.as_ref().and_then(|m| int(&m[i], "status"));
                match code {
                    Some(status::NEW) => {
                        self.commission(&sid);
                        if let Some(e) = self.enrolling.get_mut(&sid) {
                            e.polls = 0;
                        }
                    }
                    _ => {
                        self.set_status(i, status::READY, "");
                        self.set_field(i, "power_state", json!("off"));
                        self.enrolling.remove(&sid);
                    }
                }
                if config.commission_polls > 0 {
                    break;
                }
            }
        }
    }

    fn set_field(&mut self, i: usize, key: &str, value: Value) {
        if let Some(Value::Object(m)) = self.machines.as_mut().and_then(|ms| ms.get_mut(i)) {
            if let Some(slot) = m.get_mut(key) {
                *slot = value;
            } else {
                m.insert(key.to_string(), value);
            }
        }
    }

    fn set_status(&mut self, i: usize, code: i64, message: &str) {
        self.set_field(i, "status", json!(code));
        self.set_field(i, "status_name", json!(status::name(code)));
        self.set_field(i, "status_message", json!(message));
    }

    /// `machines create` (`maasserver/api/machines.py` `MachinesHandler.create`,
    /// `maasserver/forms/__init__.py` `MachineWithMACAddressesForm`): a New machine
    /// with a fresh system_id that then commissions by itself. Its hardware is the
    /// machine this simulation last deleted under that hostname or boot MAC, else the
    /// hardware the sim world supplies; without either the simulator says so.
    fn machines_create(&mut self, call: &Call) -> Answer {
        if self.machines.is_none() {
            return self.doc_read(None, "machines read");
        }
        let hostname = call.param("hostname").unwrap_or("").to_string();
        let macs: Vec<String> = call
            .params_named("mac_addresses")
            .iter()
            .map(|m| m.to_ascii_lowercase())
            .collect();
        if call.param("architecture").is_none() {
            return form_error("architecture", "This field is required.");
        }
        if macs.is_empty() {
            return form_error("mac_addresses", "This field is required.");
        }
        // forms/__init__.py `_mac_in_use_on_node_error`.
        for mac in &macs {
            let holder = self.machines.iter().flatten().find(|m| {
                m.get("interface_set")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|i| text(i, "mac_address") == Some(mac)))
            });
            if let Some(h) = holder {
                return form_error(
                    "mac_addresses",
                    &format!(
                        "MAC address {mac} already in use on {}.",
                        text(h, "hostname").unwrap_or("")
                    ),
                );
            }
        }
        if !hostname.is_empty() && self.machine_by_hostname(&hostname).is_some() {
            return form_error(
                "hostname",
                &format!("Node with hostname \"{hostname}\" already exists"),
            );
        }
        let boot_mac = macs[0].clone();
        let template = self
            .remembered
            .get(&hostname)
            .or_else(|| {
                self.remembered
                    .values()
                    .find(|m| boot_mac_of(m).as_deref() == Some(&boot_mac))
            })
            .or_else(|| self.hardware.get(&hostname))
            .cloned();
        let Some(template) = template else {
            return sim_gap(format!(
                "no hardware known for `{hostname}` (boot MAC {boot_mac}): no machine of that name or MAC was deleted in this simulation and world {} supplies no `sim hardware {hostname}`",
                self.world
            ));
        };
        let old_sid = text(&template, "system_id").unwrap_or("").to_string();
        let sid = self.mint_system_id();
        let mut doc = template.clone();
        if !old_sid.is_empty() {
            rename_strings(&mut doc, &old_sid, &sid);
        }
        if let Value::Object(m) = &mut doc {
            let set = |m: &mut Map<String, Value>, k: &str, v: Value| {
                if let Some(slot) = m.get_mut(k) {
                    *slot = v;
                }
            };
            set(m, "system_id", json!(sid));
            if !hostname.is_empty() {
                set(m, "hostname", json!(hostname));
                let domain = m
                    .get("domain")
                    .and_then(|d| text(d, "name"))
                    .unwrap_or("maas")
                    .to_string();
                set(m, "fqdn", json!(format!("{hostname}.{domain}")));
            }
            set(m, "status", json!(status::NEW));
            set(m, "status_name", json!(status::name(status::NEW)));
            set(m, "status_message", json!(""));
            set(m, "owner", Value::Null);
            set(m, "power_state", json!("off"));
            if let Some(pt) = call.param("power_type") {
                set(m, "power_type", json!(pt));
            }
            set(m, "tag_names", json!([]));
            set(m, "ip_addresses", json!([]));
            set(m, "interface_set", json!([]));
            set(m, "boot_interface", Value::Null);
            set(m, "resource_uri", json!(format!("{API}/machines/{sid}/")));
        }
        // At New MAAS holds one interface per given MAC; commissioning replaces them.
        let boot = physical_interfaces(&template)
            .into_iter()
            .find(|i| text(i, "mac_address") == Some(boot_mac.as_str()));
        if let Some(mut boot) = boot {
            let id = self.next_interface;
            self.next_interface += 1;
            raw_interface(&mut boot, &sid, id, None);
            if let Value::Object(m) = &mut doc {
                m.insert("interface_set".into(), json!([boot.clone()]));
                if let Some(slot) = m.get_mut("boot_interface") {
                    *slot = boot;
                }
            }
        }
        if let Some(ms) = self.machines.as_mut() {
            ms.push(doc.clone());
        }
        self.enrolling.insert(sid, Enrolment { polls: 0, template });
        ok_doc(&doc)
    }

    /// New -> Commissioning: the physical NICs are discovered raw. The boot NIC sits on
    /// the metal VLAN it PXE-boots from (dhcp_on) with commissioning's AUTO link, and
    /// the host's own former metal IP is recorded DISCOVERED (alloc_type 6) with no
    /// node (seed 004 carve hardening: the self-discovered metal IP ghost; its record
    /// shows no node_summary, as `phase00-discovered-own` recorded it). Every other NIC
    /// lands on a fabric of its own (MAAS auto-creates one per unknown L2 segment; the
    /// re-enrolled raw NICs "sit on transient auto-fabrics", seed 004).
    fn commission(&mut self, sid: &str) {
        let Some(e) = self.enrolling.get(sid).cloned() else {
            return;
        };
        let Some(i) = self.machine_index(sid) else {
            return;
        };
        let template = e.template;
        let boot_mac = self
            .machines
            .as_ref()
            .and_then(|m| {
                m[i].get("boot_interface")
                    .and_then(|b| text(b, "mac_address"))
                    .map(str::to_string)
            })
            .or_else(|| boot_mac_of(&template));
        // The metal VLAN: the remembered boot NIC's (its bridge's) untagged dhcp_on VLAN.
        let metal = metal_link(&template);
        let mut set = Vec::new();
        let mut boot_value = Value::Null;
        for mut nic in physical_interfaces(&template) {
            let id = self.next_interface;
            self.next_interface += 1;
            let is_boot = text(&nic, "mac_address").map(str::to_string) == boot_mac;
            let vlan = if is_boot {
                metal.as_ref().map(|(vlan, _, _)| vlan.clone())
            } else {
                Some(self.transient_fabric())
            };
            raw_interface(&mut nic, sid, id, vlan);
            if is_boot {
                if let Some((_, subnet, _)) = &metal {
                    let link_id = self.next_link;
                    self.next_link += 1;
                    nic["links"] = json!([{"id": link_id, "mode": "auto", "subnet": subnet}]);
                }
                boot_value = nic.clone();
            }
            set.push(nic);
        }
        if let Some((_, subnet, Some(ip))) = &metal {
            if let Some(id) = int(subnet, "id") {
                let records = self.ip_addresses.entry(id).or_default();
                records.retain(|r| text(r, "ip") != Some(ip.as_str()));
                records.push(json!({
                    "ip": ip, "alloc_type": alloc::DISCOVERED,
                    "created": SIM_STAMP, "updated": SIM_STAMP,
                }));
            }
        }
        let virtual_tag = template
            .get("tag_names")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("virtual")));
        self.set_field(i, "interface_set", Value::Array(set));
        self.set_field(i, "boot_interface", boot_value);
        self.set_status(i, status::COMMISSIONING, "Commissioning");
        self.set_field(i, "power_state", json!("on"));
        if virtual_tag {
            self.set_field(i, "tag_names", json!(["virtual"]));
        }
    }

    /// A new fabric with its untagged VLAN (`maasserver/models/fabric.py`: every fabric
    /// gets VLAN "untagged", vid 0; named `fabric-<id>`), recorded for `vlans read`.
    fn transient_fabric(&mut self) -> Value {
        let (id, fabric) = (self.next_vlan, self.next_fabric);
        self.next_vlan += 1;
        self.next_fabric += 1;
        let vlan = json!({
            "vid": 0, "mtu": 1500, "dhcp_on": false, "external_dhcp": null,
            "relay_vlan": null, "space": "undefined", "id": id,
            "fabric": format!("fabric-{fabric}"), "secondary_rack": null,
            "primary_rack": null, "fabric_id": fabric, "name": "untagged",
            "resource_uri": format!("{API}/vlans/{id}/"),
        });
        self.vlans.insert(fabric, vec![vlan.clone()]);
        vlan
    }

    /// `machine delete` (`MachineHandler.delete`): the object and its IP records go;
    /// the simulation remembers its hardware for a later `machines create`.
    fn machine_delete(&mut self, sid: &str) -> Answer {
        match self.machine_index(sid) {
            Some(i) => {
                self.remove_machine(i);
                deleted()
            }
            None => not_found("Machine"),
        }
    }

    fn remove_machine(&mut self, i: usize) {
        let Some(ms) = self.machines.as_mut() else {
            return;
        };
        let doc = ms.remove(i);
        let sid = text(&doc, "system_id").unwrap_or("").to_string();
        if let Some(h) = text(&doc, "hostname") {
            self.remembered.insert(h.to_string(), doc.clone());
        }
        self.enrolling.remove(&sid);
        for records in self.ip_addresses.values_mut() {
            records.retain(|r| {
                r.get("node_summary").and_then(|n| text(n, "system_id")) != Some(sid.as_str())
            });
        }
    }

    /// `machine release` (`maasserver/api/machines.py` `MachineHandler.release`):
    /// Ready is already released (no-op); a releasable machine goes to Ready with no
    /// owner, powered off, interfaces kept (the simulator skips Releasing); anything
    /// else is refused.
    fn machine_release(&mut self, sid: &str) -> Answer {
        let Some(i) = self.machine_index(sid) else {
            return not_found("Machine");
        };
        let code = self
            .machines
            .as_ref()
            .and_then(|m| int(&m[i], "status"))
            .unwrap_or(-1);
        // maascommon/enums/node.py RELEASABLE_STATUSES (the ones the sim holds).
        let releasable = [
            status::DEPLOYED,
            status::ALLOCATED,
            status::BROKEN,
            9,
            11,
            12,
            13,
            14,
            15,
            16,
            17,
            18,
        ];
        if code == status::READY || code == 12 {
        } else if releasable.contains(&code) {
            self.release(i);
        } else {
            return http_error(format!(
                "Machine cannot be released in its current state ('{}').",
                status::name(code)
            ));
        }
        ok_doc(&self.machines.as_ref().map_or(Value::Null, |m| m[i].clone()))
    }

    fn release(&mut self, i: usize) {
        self.set_status(i, status::READY, "Released");
        self.set_field(i, "owner", Value::Null);
        self.set_field(i, "power_state", json!("off"));
    }

    /// Applies what juju did to MAAS machines ([`Effect::ModelMachineGone`],
    /// [`Effect::MachineKept`]); other effects are not MAAS's.
    ///
    /// A machine whose model is gone is decomposed (deleted, its IP records with it,
    /// its hardware remembered) on a virsh-pod MAAS with
    /// [`SimConfig::decompose_on_destroy`] (D-055, D-061, observed three times), else
    /// released to Ready. A kept machine (`remove-machine --keep-instance`, seed 002
    /// Path A) stays as it is.
    pub fn apply(&mut self, effect: &Effect, config: &SimConfig) {
        match effect {
            Effect::ModelMachineGone { hostname } => {
                if let Some(i) = self.machine_by_hostname(hostname) {
                    if config.decompose_on_destroy {
                        self.remove_machine(i);
                    } else {
                        self.release(i);
                    }
                }
            }
            Effect::MachineKept { .. }
            | Effect::WroteFile { .. }
            | Effect::RecordedStatus { .. } => {}
        }
    }

    // ---- interfaces ----

    fn interfaces_read(&self, sid: &str) -> Answer {
        if self.machines.is_none() {
            return self.doc_read(None, "machines read");
        }
        match self.machine_index(sid) {
            Some(i) => ok_doc(
                &self
                    .machines
                    .as_ref()
                    .map_or(Value::Null, |m| m[i]["interface_set"].clone()),
            ),
            // InterfacesHandler.read: Node.objects.get_node_or_404.
            None => not_found("Node"),
        }
    }

    fn machine(&self, i: usize) -> Value {
        self.machines.as_ref().map_or(Value::Null, |m| m[i].clone())
    }

    fn ifaces(&self, i: usize) -> Vec<Value> {
        self.machine(i)
            .get("interface_set")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    fn iface(&self, m: usize, i: usize) -> Value {
        self.ifaces(m).get(i).cloned().unwrap_or(Value::Null)
    }

    /// The machine and interface positions of `<system_id> <interface id|name>`.
    fn interface_pos(&self, sid: &str, spec: &str) -> Option<(usize, usize)> {
        let m = self.machine_index(sid)?;
        let i = self.ifaces(m).iter().position(|x| {
            parse_int(spec).is_some_and(|id| int(x, "id") == Some(id))
                || text(x, "name") == Some(spec)
        })?;
        Some((m, i))
    }

    fn machine_status(&self, m: usize) -> i64 {
        int(&self.machine(m), "status").unwrap_or(-1)
    }

    /// Writes an interface list back, keeping parents' `children`, the boot interface
    /// and the machine's `ip_addresses` consistent with it.
    fn store_interfaces(&mut self, m: usize, mut set: Vec<Value>) {
        let names: Vec<(String, Vec<String>)> = set
            .iter()
            .map(|x| {
                (
                    text(x, "name").unwrap_or("").to_string(),
                    x.get("parents")
                        .and_then(Value::as_array)
                        .map(|p| {
                            p.iter()
                                .filter_map(|s| s.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            })
            .collect();
        for x in set.iter_mut() {
            let me = text(x, "name").unwrap_or("").to_string();
            let children: Vec<Value> = names
                .iter()
                .filter(|(_, parents)| parents.contains(&me))
                .map(|(n, _)| json!(n))
                .collect();
            x["children"] = Value::Array(children);
        }
        let mut ips: Vec<String> = Vec::new();
        for x in &set {
            for l in x
                .get("links")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(ip) = text(l, "ip_address") {
                    ips.push(ip.to_string());
                }
            }
        }
        let boot_id = self
            .machine(m)
            .get("boot_interface")
            .and_then(|b| int(b, "id"));
        let boot = set
            .iter()
            .find(|x| boot_id.is_some() && int(x, "id") == boot_id)
            .cloned();
        self.set_field(m, "interface_set", Value::Array(set));
        if let Some(b) = boot {
            self.set_field(m, "boot_interface", b);
        }
        // Machine.ip_addresses lists the link addresses; keep the recorded order for
        // addresses still held and append new ones.
        let mut current: Vec<String> = self
            .machine(m)
            .get("ip_addresses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        current.retain(|ip| ips.contains(ip));
        for ip in ips {
            if !current.contains(&ip) {
                current.push(ip);
            }
        }
        self.set_field(m, "ip_addresses", json!(current));
    }

    /// `interfaces create-bridge` (`maasserver/api/interfaces.py`
    /// `InterfacesHandler.create_bridge`, `maasserver/forms/interface.py`
    /// `BridgeInterfaceForm`).
    fn create_bridge(&mut self, sid: &str, call: &Call) -> Answer {
        if call.param("parent").is_some() && call.param("parents").is_some() {
            return http_error("Cannot specify both parent and parents fields.");
        }
        let spec = call.param("parent").or(call.param("parents")).unwrap_or("");
        let (m, set, parent) = match self.child_parent(sid, spec, "create bridge") {
            Ok(found) => found,
            Err(refused) => return refused,
        };
        if text(&parent, "type") == Some("bridge") {
            return form_error(
                "parent",
                "A bridge interface can't have another bridge interface as parent.",
            );
        }
        let parent_name = text(&parent, "name").unwrap_or("").to_string();
        let busy = set.iter().any(|x| {
            matches!(text(x, "type"), Some("bond" | "bridge"))
                && x.get("parents")
                    .and_then(Value::as_array)
                    .is_some_and(|p| p.iter().any(|n| n.as_str() == Some(parent_name.as_str())))
        });
        if busy {
            return form_error(
                "parent",
                "A bridge interface can't have a parent that is already in a bond or a bridge.",
            );
        }
        let bridge_type = call.param("bridge_type").unwrap_or("standard");
        if !matches!(bridge_type, "standard" | "ovs") {
            return form_error(
                "bridge_type",
                &format!(
                    "'{bridge_type}' is not a valid bridge_type.  It should be one of: 'standard', 'ovs'."
                ),
            );
        }
        let vlan = match call.param("vlan") {
            Some(v) => match parse_int(v).and_then(|id| self.vlan(id)) {
                Some(vlan) => vlan,
                None => {
                    return form_error(
                        "vlan",
                        "Select a valid choice. That choice is not one of the available choices.",
                    );
                }
            },
            None => parent.get("vlan").cloned().unwrap_or(Value::Null),
        };
        let name = call
            .param("name")
            .map_or_else(|| format!("br-{parent_name}"), str::to_string);
        let params = json!({
            "bridge_type": bridge_type,
            "bridge_stp": call.flag("bridge_stp"),
            "bridge_fd": call.param("bridge_fd").and_then(parse_int).unwrap_or(15),
        });
        self.add_child(m, set, &parent, (&name, "bridge"), vlan, params)
    }

    /// The machine, its interfaces and the parent a bridge or VLAN is created on: 404
    /// without the machine, the state refusal, or the form's choice error.
    fn child_parent(
        &self,
        sid: &str,
        spec: &str,
        operation: &str,
    ) -> Result<(usize, Vec<Value>, Value), Answer> {
        let m = self
            .machine_index(sid)
            .ok_or_else(|| not_found("Machine"))?;
        if !INTERFACE_STATES.contains(&self.machine_status(m)) {
            return Err(invalid_state(operation));
        }
        let set = self.ifaces(m);
        let parent = set
            .iter()
            .find(|x| parse_int(spec).is_some_and(|id| int(x, "id") == Some(id)))
            .cloned()
            .ok_or_else(|| {
                // ModelMultipleChoiceField's invalid_choice.
                form_error(
                    "parent",
                    &format!("Select a valid choice. {spec} is not one of the available choices."),
                )
            })?;
        Ok((m, set, parent))
    }

    /// Appends a child interface `(name, type)` of `parent` on `vlan`; the parent's
    /// links are reset (a parent of a bridge or VLAN carries no IP:
    /// `forms/interface.py` `AcquiredBridgeInterfaceForm.save` notes creating a child
    /// "resets the IP links on the parent").
    fn add_child(
        &mut self,
        m: usize,
        mut set: Vec<Value>,
        parent: &Value,
        (name, kind): (&str, &str),
        vlan: Value,
        params: Value,
    ) -> Answer {
        if let Some(err) = name_taken(&set, name, &self.machine(m)) {
            return err;
        }
        let sid = text(&self.machine(m), "system_id")
            .unwrap_or("")
            .to_string();
        let parent_name = text(parent, "name").unwrap_or("").to_string();
        let id = self.next_interface;
        self.next_interface += 1;
        let mut child = parent.clone();
        raw_interface(&mut child, &sid, id, Some(vlan));
        child["name"] = json!(name);
        child["type"] = json!(kind);
        child["parents"] = json!([parent_name]);
        child["params"] = params;
        for k in ["vendor", "product", "firmware_version", "numa_node"] {
            if child.get(k).is_some() {
                child[k] = Value::Null;
            }
        }
        let mut dropped = Vec::new();
        for x in set.iter_mut() {
            if text(x, "name") == Some(parent_name.as_str()) {
                if let Some(Value::Array(ls)) = x.get_mut("links") {
                    dropped.append(ls);
                }
            }
        }
        for l in dropped {
            self.drop_link_record(&l, &sid);
        }
        set.push(child);
        self.store_interfaces(m, set);
        let set = self.ifaces(m);
        ok_doc(
            set.iter()
                .find(|x| int(x, "id") == Some(id))
                .unwrap_or(&Value::Null),
        )
    }

    /// `interfaces create-vlan` (`InterfacesHandler.create_vlan`, `VLANInterfaceForm`).
    fn create_vlan(&mut self, sid: &str, call: &Call) -> Answer {
        let spec = call.param("parent").unwrap_or("");
        let (m, set, parent) = match self.child_parent(sid, spec, "create VLAN") {
            Ok(found) => found,
            Err(refused) => return refused,
        };
        if text(&parent, "type") == Some("vlan") {
            return form_error(
                "parent",
                "A VLAN interface can't have another VLAN interface as parent.",
            );
        }
        let Some(vlan) = call
            .param("vlan")
            .and_then(parse_int)
            .and_then(|id| self.vlan(id))
        else {
            return match call.param("vlan") {
                None => form_error(
                    "vlan",
                    "A VLAN interface must be connected to a tagged VLAN.",
                ),
                Some(_) => form_error(
                    "vlan",
                    "Select a valid choice. That choice is not one of the available choices.",
                ),
            };
        };
        let vid = int(&vlan, "vid").unwrap_or(0);
        if vid == 0 {
            return form_error("vlan", "A VLAN interface can only belong to a tagged VLAN.");
        }
        let parent_fabric = parent.get("vlan").and_then(|v| int(v, "fabric_id"));
        if parent_fabric != int(&vlan, "fabric_id") {
            return form_error(
                "vlan",
                "A VLAN interface can only belong to a tagged VLAN on the same fabric as its parent interface.",
            );
        }
        let parent_name = text(&parent, "name").unwrap_or("").to_string();
        // forms/interface.py build_vlan_interface_name: "<parent>.<vid>".
        let name = call
            .param("name")
            .map_or_else(|| format!("{parent_name}.{vid}"), str::to_string);
        self.add_child(m, set, &parent, (&name, "vlan"), vlan, json!({}))
    }

    /// `interface update` (`InterfaceHandler.update`): on a Ready machine the
    /// interface form sets `vlan`; on a Deployed one MAAS uses
    /// `DeployedInterfaceForm` (name, MAC, link fields only), so a `vlan=` is ignored
    /// and the unchanged interface is answered; other states are refused.
    fn interface_update(&mut self, sid: &str, spec: &str, call: &Call) -> Answer {
        let Some((m, i)) = self.interface_pos(sid, spec) else {
            return not_found("Interface");
        };
        let code = self.machine_status(m);
        if code == status::DEPLOYED {
            return ok_doc(&self.iface(m, i));
        }
        if !INTERFACE_STATES.contains(&code) {
            return invalid_state("update interface");
        }
        let mut set = self.ifaces(m);
        let msid = sid.to_string();
        if let Some(v) = call.param("vlan") {
            let Some(vlan) = parse_int(v).and_then(|id| self.vlan(id)) else {
                return form_error(
                    "vlan",
                    "Select a valid choice. That choice is not one of the available choices.",
                );
            };
            let vlan_uri = text(&vlan, "resource_uri").unwrap_or("").to_string();
            // Links to subnets off the new VLAN cannot stay (the subnet choice of a
            // link is the interface's VLAN's subnets, forms/interface_link.py).
            let mut dropped = Vec::new();
            if let Value::Object(x) = &mut set[i] {
                x.insert("vlan".into(), vlan.clone());
                if let Some(Value::Array(ls)) = x.get_mut("links") {
                    let (keep, drop): (Vec<Value>, Vec<Value>) = ls.drain(..).partition(|l| {
                        l.get("subnet")
                            .and_then(|s| s.get("vlan"))
                            .and_then(|v| text(v, "resource_uri"))
                            == Some(vlan_uri.as_str())
                    });
                    *ls = keep;
                    dropped = drop;
                }
            }
            for l in dropped {
                self.drop_link_record(&l, &msid);
            }
        }
        if let Some(name) = call.param("name") {
            set[i]["name"] = json!(name);
        }
        self.store_interfaces(m, set);
        ok_doc(&self.iface(m, i))
    }

    /// `interface link-subnet` (`InterfaceHandler.link_subnet`,
    /// `forms/interface_link.py` `InterfaceLinkForm`, `models/interface.py`
    /// `Interface._link_subnet_static`). An address any IP record already holds - a
    /// DISCOVERED commissioning lease included - is refused with MAAS's
    /// `StaticIPAddressUnavailable("IP address is already in use.")` (404).
    fn link_subnet(&mut self, sid: &str, spec: &str, call: &Call) -> Answer {
        let Some((m, i)) = self.interface_pos(sid, spec) else {
            return not_found("Interface");
        };
        if !INTERFACE_STATES.contains(&self.machine_status(m)) {
            return invalid_state("link subnet");
        }
        let Some(mode) = call.param("mode").map(str::to_ascii_lowercase) else {
            return form_error("mode", "This field is required.");
        };
        if !matches!(mode.as_str(), "static" | "auto" | "dhcp" | "link_up") {
            return form_error(
                "mode",
                &format!(
                    "'{mode}' is not a valid mode.  It should be one of: 'AUTO', 'DHCP', 'STATIC', 'LINK_UP'."
                ),
            );
        }
        if mode != "static" {
            return usage_error(
                &format!("maas {} interface link-subnet", self.profile),
                &format!("the simulator models mode=STATIC only, not mode={mode}"),
            );
        }
        let iface = self.iface(m, i);
        let force = call.flag("force");
        let Some(subnet_spec) = call.param("subnet") else {
            return form_error("subnet", "This field is required.");
        };
        let on_vlan = |s: &Value| {
            force
                || iface.get("vlan").and_then(|v| text(v, "resource_uri"))
                    == s.get("vlan").and_then(|v| text(v, "resource_uri"))
        };
        let subnet = parse_int(subnet_spec)
            .and_then(|id| self.subnet(id))
            .or_else(|| {
                self.all_subnets()
                    .into_iter()
                    .find(|s| text(s, "cidr") == Some(subnet_spec))
            })
            .filter(on_vlan);
        let Some(subnet) = subnet else {
            // fields.py SpecifierOrModelChoiceField.clean.
            return form_error("subnet", &format!("None found with id={subnet_spec}."));
        };
        let Some(ip) = call.param("ip_address").filter(|s| !s.is_empty()) else {
            return usage_error(
                &format!("maas {} interface link-subnet", self.profile),
                "the simulator models STATIC links with an ip_address only",
            );
        };
        let Ok(addr) = ip.parse::<Ipv4Addr>() else {
            return form_error("ip_address", "Enter a valid IPv4 or IPv6 address.");
        };
        let cidr = text(&subnet, "cidr").unwrap_or("");
        if !cidr
            .parse::<ipnet::Ipv4Net>()
            .is_ok_and(|n| n.contains(&addr))
        {
            let vid = subnet.get("vlan").and_then(|v| int(v, "vid")).unwrap_or(0);
            return form_error(
                "ip_address",
                &format!(
                    "IP address is not in the given subnet '{}:{cidr}(vid={vid})'.",
                    text(&subnet, "name").unwrap_or("")
                ),
            );
        }
        if self.ip_held(ip) {
            return http_error("IP address is already in use.");
        }
        let subnet_id = int(&subnet, "id").unwrap_or(0);
        let link_id = self.next_link;
        self.next_link += 1;
        let mut set = self.ifaces(m);
        let via = text(&set[i], "name").unwrap_or("").to_string();
        if let Some(Value::Array(ls)) = set[i].get_mut("links") {
            ls.retain(|l| text(l, "mode") != Some("link_up"));
            ls.push(json!({"id": link_id, "mode": "static", "ip_address": ip, "subnet": subnet}));
        }
        self.store_interfaces(m, set);
        let machine = self.machine(m);
        self.ip_addresses.entry(subnet_id).or_default().push(json!({
            "ip": ip, "alloc_type": alloc::STICKY, "created": SIM_STAMP, "updated": SIM_STAMP,
            "node_summary": {
                "system_id": text(&machine, "system_id"),
                "node_type": int(&machine, "node_type").unwrap_or(0),
                "fqdn": text(&machine, "fqdn"),
                "hostname": text(&machine, "hostname"),
                "is_container": false,
                "via": via,
            }
        }));
        ok_doc(&self.iface(m, i))
    }

    /// Whether any IP record or link holds `ip` (`StaticIPAddress.objects.get_or_create`
    /// in `_link_subnet_static` finds any record of the address, whatever its type).
    fn ip_held(&self, ip: &str) -> bool {
        let in_records = self
            .ip_addresses
            .values()
            .flatten()
            .any(|r| text(r, "ip") == Some(ip));
        let in_links = self.any_link(&|l| text(l, "ip_address") == Some(ip));
        in_records || in_links
    }

    /// Whether any link of any machine's interfaces satisfies `pick`.
    fn any_link(&self, pick: &dyn Fn(&Value) -> bool) -> bool {
        self.machines.iter().flatten().any(|m| {
            m.get("interface_set")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.get("links").and_then(Value::as_array))
                .flatten()
                .any(pick)
        })
    }

    /// Removes the IP record a link held.
    fn drop_link_record(&mut self, link: &Value, sid: &str) {
        let (Some(ip), Some(subnet)) = (
            text(link, "ip_address"),
            link.get("subnet").and_then(|s| int(s, "id")),
        ) else {
            return;
        };
        if let Some(records) = self.ip_addresses.get_mut(&subnet) {
            records.retain(|r| {
                !(text(r, "ip") == Some(ip)
                    && r.get("node_summary").and_then(|n| text(n, "system_id")) == Some(sid))
            });
        }
    }

    /// `interface unlink-subnet` (`InterfaceHandler.unlink_subnet`,
    /// `forms/interface_link.py` `InterfaceUnlinkForm`).
    fn unlink_subnet(&mut self, sid: &str, spec: &str, call: &Call) -> Answer {
        let Some((m, i)) = self.interface_pos(sid, spec) else {
            return not_found("Interface");
        };
        if !INTERFACE_STATES.contains(&self.machine_status(m)) {
            return invalid_state("unlink subnet");
        }
        let mut set = self.ifaces(m);
        let ids: Vec<i64> = set[i]
            .get("links")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|l| int(l, "id")).collect())
            .unwrap_or_default();
        let want = call.param("id");
        let Some(link_id) = want.and_then(parse_int).filter(|id| ids.contains(id)) else {
            let Some(want) = want else {
                return form_error("id", "This field is required.");
            };
            let choices: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
            return form_error(
                "id",
                &format!(
                    "'{want}' is not a valid id.  It should be one of: {}.",
                    choices.join(", ")
                ),
            );
        };
        let mut removed = None;
        if let Some(Value::Array(ls)) = set[i].get_mut("links") {
            if let Some(pos) = ls.iter().position(|l| int(l, "id") == Some(link_id)) {
                removed = Some(ls.remove(pos));
            }
        }
        if let Some(l) = removed {
            self.drop_link_record(&l, sid);
        }
        self.store_interfaces(m, set);
        ok_doc(&self.iface(m, i))
    }

    /// `ipaddresses release` (`maasserver/api/ip_addresses.py`
    /// `IPAddressesHandler.release`): `force=true discovered=true` releases a
    /// DISCOVERED record; `force=true` alone looks only at non-DISCOVERED ones, so a
    /// DISCOVERED address "does not exist" (seed 004).
    fn ipaddresses_release(&mut self, call: &Call) -> Answer {
        let Some(ip) = call.param("ip") else {
            // api/utils.py get_mandatory_param.
            return http_error("No provided ip!");
        };
        let (force, discovered) = (call.flag("force"), call.flag("discovered"));
        let matches = |r: &Value| {
            text(r, "ip") == Some(ip) && {
                let t = int(r, "alloc_type").unwrap_or(-1);
                if force {
                    if discovered {
                        t == alloc::DISCOVERED
                    } else {
                        t != alloc::DISCOVERED
                    }
                } else {
                    t == alloc::USER_RESERVED && text(r, "user") == Some("admin")
                }
            }
        };
        let found = self
            .ip_addresses
            .iter()
            .find_map(|(id, rs)| rs.iter().position(matches).map(|p| (*id, p)));
        let Some((subnet, pos)) = found else {
            return http_error(if force {
                format!("IP address {ip} does not exist.")
            } else {
                format!(
                    "IP address {ip} does not exist, is not the correct type of address, or does not belong to the requesting user.\nIf you are sure you want to release this address, use force=true as a MAAS administrator."
                )
            });
        };
        let record = self.ip_addresses.get_mut(&subnet).map(|rs| rs.remove(pos));
        // "Unlink the IP address from the interfaces it is connected."
        if let Some(sid) = record
            .as_ref()
            .and_then(|r| r.get("node_summary"))
            .and_then(|n| text(n, "system_id"))
            .map(str::to_string)
        {
            if let Some(m) = self.machine_index(&sid) {
                let mut set = self.ifaces(m);
                for x in set.iter_mut() {
                    if let Some(Value::Array(ls)) = x.get_mut("links") {
                        ls.retain(|l| text(l, "ip_address") != Some(ip));
                    }
                }
                self.store_interfaces(m, set);
            }
        }
        deleted()
    }

    // ---- subnets, VLANs, ranges, tags ----

    /// `subnet ip-addresses <id>` (`maasserver/api/subnets.py`
    /// `SubnetHandler.ip_addresses`): the recorded list, as mutations left it; for a
    /// subnet the world recorded none of, the records its links imply.
    fn subnet_ip_addresses(&mut self, id: &str) -> Answer {
        let Some(id) = parse_int(id) else {
            return http_error("Subnet ID must be numeric.");
        };
        if let Some(records) = self.ip_addresses.get(&id) {
            return ok_doc(&Value::Array(records.clone()));
        }
        if self.subnet(id).is_none() {
            return not_found("Subnet");
        }
        let mut records = Vec::new();
        for m in self.machines.iter().flatten() {
            for x in m
                .get("interface_set")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for l in x
                    .get("links")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if l.get("subnet").and_then(|s| int(s, "id")) == Some(id) {
                        if let Some(ip) = text(l, "ip_address") {
                            records.push(json!({
                                "ip": ip, "alloc_type": alloc::STICKY,
                                "created": SIM_STAMP, "updated": SIM_STAMP,
                                "node_summary": {
                                    "system_id": text(m, "system_id"),
                                    "node_type": int(m, "node_type").unwrap_or(0),
                                    "fqdn": text(m, "fqdn"), "hostname": text(m, "hostname"),
                                    "is_container": false, "via": text(x, "name"),
                                }
                            }));
                        }
                    }
                }
            }
        }
        self.ip_addresses.insert(id, records.clone());
        ok_doc(&Value::Array(records))
    }

    /// `vlans read <fabric_id>` (`maasserver/api/vlans.py` `VlansHandler.read`).
    fn vlans_read(&self, fabric: &str) -> Answer {
        let Some(fid) = parse_int(fabric) else {
            return not_found("Fabric");
        };
        if let Some(v) = self.vlans.get(&fid) {
            return ok_doc(&Value::Array(v.clone()));
        }
        // VLANs of that fabric nested in other documents.
        let found = self.nested(&|m| m.get("fabric_id").and_then(Value::as_i64) == Some(fid));
        if found.is_empty() {
            return not_found("Fabric");
        }
        ok_doc(&Value::Array(found))
    }

    /// `subnet update <id>` (`SubnetHandler.update`, `maasserver/forms/subnet.py`
    /// `SubnetForm`): gateway_ip, dns_servers (comma or space separated), name,
    /// description; every nested copy of the subnet changes with it.
    fn subnet_update(&mut self, id: &str, call: &Call) -> Answer {
        let Some(subnet) = parse_int(id).and_then(|i| self.subnet(i)) else {
            return not_found("Subnet");
        };
        let cidr: Option<ipnet::Ipv4Net> = text(&subnet, "cidr").and_then(|c| c.parse().ok());
        let mut changes: Vec<(&str, Value)> = Vec::new();
        if let Some(gw) = call.param("gateway_ip") {
            if gw.is_empty() {
                changes.push(("gateway_ip", Value::Null));
            } else {
                match gw.parse::<Ipv4Addr>() {
                    Ok(a) if cidr.is_some_and(|c| c.contains(&a)) => {
                        changes.push(("gateway_ip", json!(gw)))
                    }
                    Ok(_) => {
                        // models/subnet.py Subnet.validate_gateway_ip.
                        return form_error("gateway_ip", "Gateway IP must be within CIDR range.");
                    }
                    Err(_) => {
                        return form_error("gateway_ip", "Enter a valid IPv4 or IPv6 address.");
                    }
                }
            }
        }
        if let Some(dns) = call.param("dns_servers") {
            let list: Vec<&str> = dns.split([',', ' ']).filter(|s| !s.is_empty()).collect();
            changes.push(("dns_servers", json!(list)));
        }
        for key in ["name", "description"] {
            if let Some(v) = call.param(key) {
                changes.push((key, json!(v)));
            }
        }
        let uri = text(&subnet, "resource_uri").unwrap_or("").to_string();
        self.edit_everywhere(&uri, &|m| {
            for (k, v) in &changes {
                if m.contains_key(*k) {
                    m.insert((*k).to_string(), v.clone());
                }
            }
        });
        match parse_int(id).and_then(|i| self.subnet(i)) {
            Some(s) => ok_doc(&s),
            None => not_found("Subnet"),
        }
    }

    /// `subnets create` (`SubnetsHandler.create`, `SubnetForm`).
    fn subnets_create(&mut self, call: &Call) -> Answer {
        let Some(cidr) = call.param("cidr") else {
            return form_error("cidr", "This field is required.");
        };
        let Ok(net) = cidr.parse::<ipnet::Ipv4Net>() else {
            return form_error("cidr", "Required format: <network>/<prefixlen>.");
        };
        let existing = self.all_subnets();
        if existing
            .iter()
            .any(|s| text(s, "cidr").and_then(|c| c.parse::<ipnet::Ipv4Net>().ok()) == Some(net))
        {
            return form_error("cidr", "Subnet with this Cidr already exists.");
        }
        let Some(vlan) = call
            .param("vlan")
            .and_then(parse_int)
            .and_then(|id| self.vlan(id))
        else {
            return form_error(
                "vlan",
                "Select a valid choice. That choice is not one of the available choices.",
            );
        };
        let id = self.next_subnet;
        self.next_subnet += 1;
        let space = vlan.get("space").cloned().unwrap_or(json!("undefined"));
        let gateway = call.param("gateway_ip").map_or(Value::Null, |g| json!(g));
        let dns: Vec<&str> = call
            .param("dns_servers")
            .map(|d| d.split([',', ' ']).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let fresh = json!({
            "name": call.param("name").unwrap_or(&net.to_string()),
            "description": call.param("description").unwrap_or(""),
            "vlan": vlan, "cidr": net.to_string(), "rdns_mode": 2, "gateway_ip": gateway,
            "dns_servers": dns, "allow_dns": true, "allow_proxy": true, "active_discovery": false,
            "managed": true, "disabled_boot_architectures": [], "id": id, "space": space,
            "resource_uri": format!("{API}/subnets/{id}/"),
        });
        // Keep the recorded key order of subnet objects.
        let doc = match existing.first() {
            Some(template) => reorder_like(template, &fresh),
            None => fresh,
        };
        if let Some(s) = self.subnets.as_mut() {
            s.push(doc.clone());
        }
        let space_name = text(&doc, "space").unwrap_or("").to_string();
        if let Some(spaces) = self.spaces.as_mut() {
            for sp in spaces.iter_mut() {
                if text(sp, "name") == Some(space_name.as_str()) {
                    if let Some(Value::Array(subs)) = sp.get_mut("subnets") {
                        subs.push(doc.clone());
                    }
                }
            }
        }
        self.ip_addresses.insert(id, Vec::new());
        ok_doc(&doc)
    }

    /// `subnet delete <id>` (`SubnetHandler.delete`, `models/subnet.py`
    /// `Subnet.delete`): refused while a node's interface holds a non-DISCOVERED,
    /// non-DHCP address on it (unless `force`), or while DHCP serves a dynamic range.
    fn subnet_delete(&mut self, id: &str, call: &Call) -> Answer {
        let Some(subnet) = parse_int(id).and_then(|i| self.subnet(i)) else {
            return not_found("Subnet");
        };
        let sid = int(&subnet, "id").unwrap_or(-1);
        let cidr = text(&subnet, "cidr").unwrap_or("").to_string();
        let dhcp = subnet
            .get("vlan")
            .and_then(|v| v.get("dhcp_on"))
            .and_then(Value::as_bool)
            == Some(true);
        let dynamic = self.ipranges.iter().flatten().any(|r| {
            text(r, "type") == Some("dynamic")
                && r.get("subnet").and_then(|s| int(s, "id")) == Some(sid)
        });
        if dhcp && dynamic {
            return http_error(
                "Cannot delete a subnet that is actively servicing a dynamic IP range. (Delete the dynamic range or disable DHCP first.)",
            );
        }
        let linked = self.any_link(&|l| {
            l.get("subnet").and_then(|s| int(s, "id")) == Some(sid)
                && text(l, "ip_address").is_some()
        });
        let held = self.ip_addresses.get(&sid).into_iter().flatten().any(|r| {
            !matches!(int(r, "alloc_type"), Some(alloc::DISCOVERED | alloc::DHCP))
                && r.get("node_summary")
                    .is_some_and(|n| n.get("via").is_some())
        });
        // The query string carries force on DELETE (maascli prepare_payload).
        if (linked || held) && !call.flag("force") {
            return http_error(
                "Cannot delete a subnet that has IP addresses in use by nodes. (Use the 'force' parameter to override.)",
            );
        }
        let uri = format!("{API}/subnets/{sid}/");
        let is_it = |v: &Value| text(v, "resource_uri") == Some(uri.as_str());
        if let Some(s) = self.subnets.as_mut() {
            s.retain(|v| !is_it(v));
        }
        for sp in self.spaces.iter_mut().flatten() {
            if let Some(Value::Array(subs)) = sp.get_mut("subnets") {
                subs.retain(|v| !is_it(v));
            }
        }
        if let Some(r) = self.ipranges.as_mut() {
            r.retain(|v| v.get("subnet").is_none_or(|s| !is_it(s)));
        }
        for m in self.machines.iter_mut().flatten() {
            if let Some(Value::Array(set)) = m.get_mut("interface_set") {
                for x in set.iter_mut() {
                    if let Some(Value::Array(ls)) = x.get_mut("links") {
                        ls.retain(|l| l.get("subnet").is_none_or(|s| !is_it(s)));
                    }
                }
            }
        }
        self.ip_addresses.remove(&sid);
        let _ = cidr;
        deleted()
    }

    /// `ipranges create` (`maasserver/api/ipranges.py` `IPRangesHandler.create`,
    /// `maasserver/forms/iprange.py` `IPRangeForm`: the subnet is the one holding
    /// `start_ip` when none is given).
    fn ipranges_create(&mut self, call: &Call) -> Answer {
        let Some(kind) = call.param("type") else {
            return form_error("type", "This field is required.");
        };
        let (Some(start), Some(end)) = (call.param("start_ip"), call.param("end_ip")) else {
            return form_error("start_ip", "This field is required.");
        };
        let (Ok(a), Ok(b)) = (start.parse::<Ipv4Addr>(), end.parse::<Ipv4Addr>()) else {
            return form_error("start_ip", "Enter a valid IPv4 or IPv6 address.");
        };
        let subnet = match call.param("subnet") {
            Some(s) => parse_int(s).and_then(|id| self.subnet(id)),
            None => self.all_subnets().into_iter().find(|s| {
                text(s, "cidr")
                    .and_then(|c| c.parse::<ipnet::Ipv4Net>().ok())
                    .is_some_and(|n| n.contains(&a))
            }),
        };
        let Some(subnet) = subnet else {
            return form_error("subnet", "This field is required.");
        };
        if a > b {
            return form_error(
                "end_ip",
                "End IP address must not be less than Start IP address.",
            );
        }
        let id = self.next_iprange;
        self.next_iprange += 1;
        let template = self.ipranges.iter().flatten().next().cloned();
        let user = template
            .as_ref()
            .and_then(|t| t.get("user").cloned())
            .unwrap_or(Value::Null);
        let fresh = json!({
            "id": id, "type": kind, "start_ip": start, "end_ip": end,
            "comment": call.param("comment").unwrap_or(""), "user": user, "subnet": subnet,
            "resource_uri": format!("{API}/ipranges/{id}/"),
        });
        let doc = match &template {
            Some(t) => reorder_like(t, &fresh),
            None => fresh,
        };
        match self.ipranges.as_mut() {
            Some(r) => r.push(doc.clone()),
            None => self.ipranges = Some(vec![doc.clone()]),
        }
        ok_doc(&doc)
    }

    /// `iprange delete <id>` (`IPRangeHandler.delete`).
    fn iprange_delete(&mut self, id: &str) -> Answer {
        let uri = format!("{API}/ipranges/{}/", id.trim());
        let Some(r) = self.ipranges.as_mut() else {
            return not_found("IPRange");
        };
        let before = r.len();
        r.retain(|v| text(v, "resource_uri") != Some(uri.as_str()));
        if r.len() == before {
            return not_found("IPRange");
        }
        deleted()
    }

    /// `tags create` (`maasserver/api/tags.py` `TagsHandler.create`, `TagForm`).
    fn tags_create(&mut self, call: &Call) -> Answer {
        let Some(name) = call.param("name") else {
            return form_error("name", "This field is required.");
        };
        let tags = self.tags.get_or_insert_with(Vec::new);
        if tags.iter().any(|t| text(t, "name") == Some(name)) {
            return form_error("name", "Tag with this Name already exists.");
        }
        let doc = json!({
            "name": name, "definition": call.param("definition").unwrap_or(""),
            "comment": call.param("comment").unwrap_or(""),
            "kernel_opts": call.param("kernel_opts").unwrap_or(""),
            "resource_uri": format!("{API}/tags/{name}/"),
        });
        tags.push(doc.clone());
        ok_doc(&doc)
    }

    /// `tag update-nodes <name> add=<system_id>` (`TagHandler.update_nodes`): answers
    /// `{"added": n, "removed": m}`, counting the named nodes MAAS holds.
    fn tag_update_nodes(&mut self, name: &str, call: &Call) -> Answer {
        if !self
            .tags
            .iter()
            .flatten()
            .any(|t| text(t, "name") == Some(name))
        {
            return not_found("Tag");
        }
        let (mut added, mut removed) = (0, 0);
        for sid in call.params_named("add") {
            if let Some(i) = self.machine_index(sid) {
                added += 1;
                let mut tags = self
                    .machine(i)
                    .get("tag_names")
                    .cloned()
                    .unwrap_or(json!([]));
                if let Value::Array(t) = &mut tags {
                    if !t.iter().any(|x| x.as_str() == Some(name)) {
                        t.push(json!(name));
                    }
                }
                self.set_field(i, "tag_names", tags);
            }
        }
        for sid in call.params_named("remove") {
            if let Some(i) = self.machine_index(sid) {
                removed += 1;
                let mut tags = self
                    .machine(i)
                    .get("tag_names")
                    .cloned()
                    .unwrap_or(json!([]));
                if let Value::Array(t) = &mut tags {
                    t.retain(|x| x.as_str() != Some(name));
                }
                self.set_field(i, "tag_names", tags);
            }
        }
        ok_doc(&json!({"added": added, "removed": removed}))
    }
}

/// argparse's refusal as maascli prints it (`maascli/parser.py` `ArgumentParser.error`:
/// the parser's help, then the message, on stderr; exit 2). The help maascli prints is
/// the server's API description; the simulator prints its usage line only.
fn usage_error(prog: &str, message: &str) -> Answer {
    Answer::fail(
        2,
        format!("usage: {prog} [-h] COMMAND ...\n\n{prog}: error: {message}\n"),
    )
}

/// `name=value` or `name@=file` (`maascli/api.py` `Action.name_value_pair`: split at
/// the first `=` or `@=`). A file's contents are never read: the simulator keeps only
/// that the parameter was given.
fn split_param(raw: &str) -> Option<(String, Option<String>)> {
    let eq = raw.find('=')?;
    if eq > 0 && raw.as_bytes()[eq - 1] == b'@' {
        return Some((raw[..eq - 1].to_string(), None));
    }
    Some((raw[..eq].to_string(), Some(raw[eq + 1..].to_string())))
}

/// `Node <system_id> (<hostname>) already has an interface named '<name>'.`
/// (`forms/interface.py` `clean_interface_name_uniqueness`, `Node.__str__`).
fn name_taken(set: &[Value], name: &str, machine: &Value) -> Option<Answer> {
    set.iter().any(|x| text(x, "name") == Some(name)).then(|| {
        form_error(
            "name",
            &format!(
                "Node {} ({}) already has an interface named '{name}'.",
                text(machine, "system_id").unwrap_or(""),
                text(machine, "hostname").unwrap_or("")
            ),
        )
    })
}

/// `fresh`'s members in `template`'s key order (template keys `fresh` lacks are left
/// out, `fresh` keys the template lacks follow).
fn reorder_like(template: &Value, fresh: &Value) -> Value {
    let (Some(t), Some(f)) = (template.as_object(), fresh.as_object()) else {
        return fresh.clone();
    };
    let mut out = Map::new();
    for k in t.keys() {
        if let Some(v) = f.get(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in f {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// The physical interfaces of a machine document.
fn physical_interfaces(machine: &Value) -> Vec<Value> {
    machine
        .get("interface_set")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|i| text(i, "type") == Some("physical"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn boot_mac_of(machine: &Value) -> Option<String> {
    machine
        .get("boot_interface")
        .and_then(|b| text(b, "mac_address"))
        .map(str::to_string)
}

/// The metal plane of a remembered machine: the dhcp_on VLAN its boot NIC (or the
/// bridge over it) sits on, that VLAN's subnet as linked, and the host's STATIC
/// address there (its "own former metal IP").
fn metal_link(machine: &Value) -> Option<(Value, Value, Option<String>)> {
    let set = machine.get("interface_set").and_then(Value::as_array)?;
    let boot = machine.get("boot_interface")?;
    let vlan = boot
        .get("vlan")
        .filter(|v| !v.is_null())
        .cloned()
        .or_else(|| {
            set.iter()
                .filter_map(|i| i.get("vlan"))
                .find(|v| v.get("dhcp_on").and_then(Value::as_bool) == Some(true))
                .cloned()
        })?;
    let vlan_uri = text(&vlan, "resource_uri")?.to_string();
    let mut subnet = None;
    let mut ip = None;
    for i in set {
        for l in i
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(s) = l.get("subnet") else { continue };
            if s.get("vlan").and_then(|v| text(v, "resource_uri")) == Some(vlan_uri.as_str()) {
                subnet.get_or_insert_with(|| s.clone());
                if text(l, "mode") == Some("static") {
                    ip = ip.or_else(|| text(l, "ip_address").map(str::to_string));
                }
            }
        }
    }
    Some((vlan, subnet?, ip))
}

/// Resets an interface document to a freshly discovered raw NIC on `vlan`.
fn raw_interface(nic: &mut Value, sid: &str, id: i64, vlan: Option<Value>) {
    let Value::Object(m) = nic else { return };
    let mut set = |k: &str, v: Value| {
        if let Some(slot) = m.get_mut(k) {
            *slot = v;
        }
    };
    set("system_id", json!(sid));
    set("id", json!(id));
    set("vlan", vlan.unwrap_or(Value::Null));
    set("children", json!([]));
    set("parents", json!([]));
    set("links", json!([]));
    set("params", json!({}));
    set("discovered", Value::Null);
    set(
        "resource_uri",
        json!(format!("{API}/nodes/{sid}/interfaces/{id}/")),
    );
}
