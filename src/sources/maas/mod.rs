//! MAAS sources: `maas <profile> machines read`, `spaces read`, `subnets read`,
//! `vlans read <fabric_id>`, `ipranges read`, `subnet ip-addresses <id>`,
//! `interfaces read <system_id>`, `tags read`.
//!
//! The CLI prints the API's JSON body (docs/schemas/maas.md#how-the-cli-prints; canonical/maas
//! src/maasserver/api/*.py field tuples). Piston prints every displayed field, so keys
//! are present with nullable values; fields added across 2.x-3.x are optional here.
//! Ids (subnet, VLAN, fabric, system_id) are re-minted by every rebuild: gates resolve
//! subnets by CIDR and machines by hostname (rule R1) and use ids only to build the
//! next argv.

use compact_str::CompactString;
use serde::Deserialize;

use super::keys::{Doc, KeyPath};
use super::{SourceError, parse_json};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const MAAS_MACHINES_READERS: &[&str] = &[
    "P00-CARVE",
    "P00-REENROLL",
    "P00-RELEASE-CANARY",
    "P00-ROUTE",
    "P00-TEARDOWN",
    "P00-TEARDOWN-PLAN",
    "P01-LINKS",
    "P01-NODES",
];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const MAAS_SPACES_READERS: &[&str] = &["P00-SPACES", "P01-DEFAULT-SPACE"];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const MAAS_SUBNETS_READERS: &[&str] = &[
    "P00-CARVE",
    "P00-REENROLL",
    "P00-STANDUP",
    "P01-PLANES",
    "P04-PRE",
];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const MAAS_IP_RANGES_READERS: &[&str] = &["P00-STANDUP", "P04-PRE"];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const MAAS_SUBNET_IPS_READERS: &[&str] = &["P00-CARVE"];

/// Every key path a phase-00/01 gate reads from MAAS output (docs/schemas/maas.md).
pub static KEYS: &[&KeyPath] = &[
    &KeyPath::required(Doc::MaasMachines, "[].hostname", MAAS_MACHINES_READERS),
    &KeyPath::required(Doc::MaasMachines, "[].system_id", MAAS_MACHINES_READERS),
    &KeyPath::required(Doc::MaasMachines, "[].status_name", MAAS_MACHINES_READERS),
    &KeyPath::required(Doc::MaasMachines, "[].power_state", MAAS_MACHINES_READERS),
    &KeyPath::required(Doc::MaasMachines, "[].tag_names", MAAS_MACHINES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].name", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].subnets[].cidr", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].cidr", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].vlan.vid", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].gateway_ip", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].dns_servers", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].space", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].type", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].start_ip", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].end_ip", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].subnet.cidr", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasSubnetIps, "[].ip", MAAS_SUBNET_IPS_READERS),
    &KeyPath::required(Doc::MaasSubnetIps, "[].alloc_type", MAAS_SUBNET_IPS_READERS),
    // Present when MAAS knows the node holding the address: a DISCOVERED address's owner.
    &KeyPath::optional(
        Doc::MaasSubnetIps,
        "[].node_summary",
        MAAS_SUBNET_IPS_READERS,
    ),
    &KeyPath::optional(
        Doc::MaasSubnetIps,
        "[].node_summary.system_id",
        MAAS_SUBNET_IPS_READERS,
    ),
    &KeyPath::optional(
        Doc::MaasSubnetIps,
        "[].node_summary.hostname",
        MAAS_SUBNET_IPS_READERS,
    ),
    &KeyPath::required(Doc::MaasIpRanges, "[].id", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].subnet", MAAS_IP_RANGES_READERS),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.dns_servers",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.gateway_ip",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(Doc::MaasIpRanges, "[].subnet.id", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].subnet.space", MAAS_IP_RANGES_READERS),
    &KeyPath::required(Doc::MaasIpRanges, "[].subnet.vlan", MAAS_IP_RANGES_READERS),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.vlan.dhcp_on",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.vlan.fabric_id",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.vlan.id",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.vlan.space",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasIpRanges,
        "[].subnet.vlan.vid",
        MAAS_IP_RANGES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links[].id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links[].ip_address",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links[].mode",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links[].subnet",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links[].subnet.cidr",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.links[].subnet.id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.name",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.params",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.parents",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.type",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.vlan",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.vlan.dhcp_on",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.vlan.fabric_id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.vlan.id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.vlan.space",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].boot_interface.vlan.vid",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links[].id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links[].ip_address",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links[].mode",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links[].subnet",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links[].subnet.cidr",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].links[].subnet.id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].name",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].params",
        MAAS_MACHINES_READERS,
    ),
    // On a bridge: the carve's tree is judged on it (parse_machines).
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].params.bridge_type",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(Doc::MaasMachines, "[].interface_set", MAAS_MACHINES_READERS),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].parents",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].type",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].vlan",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].vlan.dhcp_on",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].vlan.fabric_id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].vlan.id",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].vlan.space",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasMachines,
        "[].interface_set[].vlan.vid",
        MAAS_MACHINES_READERS,
    ),
    &KeyPath::required(Doc::MaasSpaces, "[].id", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].subnets", MAAS_SPACES_READERS),
    &KeyPath::required(
        Doc::MaasSpaces,
        "[].subnets[].dns_servers",
        MAAS_SPACES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasSpaces,
        "[].subnets[].gateway_ip",
        MAAS_SPACES_READERS,
    ),
    &KeyPath::required(Doc::MaasSpaces, "[].subnets[].id", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].subnets[].space", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].subnets[].vlan", MAAS_SPACES_READERS),
    &KeyPath::required(
        Doc::MaasSpaces,
        "[].subnets[].vlan.dhcp_on",
        MAAS_SPACES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasSpaces,
        "[].subnets[].vlan.fabric_id",
        MAAS_SPACES_READERS,
    ),
    &KeyPath::required(Doc::MaasSpaces, "[].subnets[].vlan.id", MAAS_SPACES_READERS),
    &KeyPath::required(
        Doc::MaasSpaces,
        "[].subnets[].vlan.space",
        MAAS_SPACES_READERS,
    ),
    &KeyPath::required(
        Doc::MaasSpaces,
        "[].subnets[].vlan.vid",
        MAAS_SPACES_READERS,
    ),
    &KeyPath::required(Doc::MaasSpaces, "[].vlans[].dhcp_on", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].vlans[].fabric_id", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].vlans[].id", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].vlans[].space", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSpaces, "[].vlans[].vid", MAAS_SPACES_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].id", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].vlan", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].vlan.dhcp_on", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].vlan.fabric_id", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].vlan.id", MAAS_SUBNETS_READERS),
    &KeyPath::required(Doc::MaasSubnets, "[].vlan.space", MAAS_SUBNETS_READERS),
];

pub fn machines_invocation(profile: &str) -> Invocation {
    Invocation::new(["maas", profile, "machines", "read"])
}
pub fn spaces_invocation(profile: &str) -> Invocation {
    Invocation::new(["maas", profile, "spaces", "read"])
}
pub fn subnets_invocation(profile: &str) -> Invocation {
    Invocation::new(["maas", profile, "subnets", "read"])
}
pub fn ipranges_invocation(profile: &str) -> Invocation {
    Invocation::new(["maas", profile, "ipranges", "read"])
}
pub fn tags_invocation(profile: &str) -> Invocation {
    Invocation::new(["maas", profile, "tags", "read"])
}
pub fn vlans_invocation(profile: &str, fabric_id: i64) -> Invocation {
    Invocation::new([
        "maas".to_string(),
        profile.to_string(),
        "vlans".into(),
        "read".into(),
        fabric_id.to_string(),
    ])
}
pub fn subnet_ip_addresses_invocation(profile: &str, subnet_id: i64) -> Invocation {
    Invocation::new([
        "maas".to_string(),
        profile.to_string(),
        "subnet".into(),
        "ip-addresses".into(),
        subnet_id.to_string(),
    ])
}
pub fn interfaces_invocation(profile: &str, system_id: &str) -> Invocation {
    Invocation::new(["maas", profile, "interfaces", "read", system_id])
}

/// A VLAN (`vlans read`, and nested in subnets and interfaces).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Vlan {
    pub id: i64,
    pub vid: i64,
    pub name: Option<CompactString>,
    pub fabric: Option<CompactString>,
    pub fabric_id: i64,
    pub dhcp_on: bool,
    /// "undefined" when the VLAN has no space.
    #[serde(deserialize_with = "super::present")]
    pub space: Option<CompactString>,
    pub mtu: Option<i64>,
}

/// A subnet (`subnets read`, and nested in links, ranges and spaces).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Subnet {
    pub id: i64,
    pub name: Option<String>,
    pub cidr: String,
    #[serde(deserialize_with = "super::present")]
    pub vlan: Option<Vlan>,
    #[serde(deserialize_with = "super::present")]
    pub space: Option<String>,
    #[serde(deserialize_with = "super::present")]
    pub gateway_ip: Option<String>,
    pub dns_servers: Vec<String>,
    pub managed: Option<bool>,
}

/// A space. The pseudo-space `undefined` has id -1 and no subnets.
#[derive(Debug, Clone, Deserialize)]
pub struct Space {
    pub id: i64,
    pub name: String,
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub vlans: Vec<Vlan>,
}

/// An IP range (`ipranges read`).
#[derive(Debug, Clone, Deserialize)]
pub struct IpRange {
    pub id: i64,
    #[serde(rename = "type")]
    pub range_type: String,
    pub start_ip: String,
    pub end_ip: String,
    #[serde(default)]
    pub comment: Option<String>,
    pub subnet: Subnet,
}

/// A link of an interface to a subnet. `link_up` links may have neither ip nor subnet.
/// One link of an interface. MAAS prints `ip_address` and `subnet` only when the link
/// has them (maasserver/models/interface.py `get_links`), so both are optional; a
/// STATIC link always has both, and one printed without either is refused at parse
/// time, naming the key, rather than read as "no static address" (rule R2).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "RawLink")]
pub struct Link {
    pub id: i64,
    pub mode: CompactString,
    pub ip_address: Option<CompactString>,
    pub subnet: Option<LinkSubnet>,
}

/// The subnet a link names. MAAS nests the whole Subnet (and its VLAN) in every link;
/// what a gate or an action reads of it is which subnet, by CIDR, and its id for the
/// next argv. The rest is `subnets read`'s, read there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LinkSubnet {
    pub id: i64,
    pub cidr: CompactString,
}

#[derive(Deserialize)]
struct RawLink {
    id: i64,
    mode: CompactString,
    ip_address: Option<CompactString>,
    subnet: Option<LinkSubnet>,
}

impl TryFrom<RawLink> for Link {
    type Error = String;

    fn try_from(raw: RawLink) -> Result<Self, Self::Error> {
        if raw.mode.eq_ignore_ascii_case("static") {
            for (key, present) in [
                ("ip_address", raw.ip_address.is_some()),
                ("subnet", raw.subnet.is_some()),
            ] {
                if !present {
                    return Err(format!("missing key `{key}` on a static link"));
                }
            }
        }
        Ok(Link {
            id: raw.id,
            mode: raw.mode,
            ip_address: raw.ip_address,
            subnet: raw.subnet,
        })
    }
}

/// An interface (`interfaces read <system_id>`, `boot_interface`, `interface_set`).
/// Its strings, its VLAN's (a type `subnets read` and `spaces read` share) and its
/// links' are `CompactString`s: names, types, MACs and IPv4 addresses and CIDRs are
/// short enough (up to 24 bytes) to be held inline, a longer one on the heap. A
/// 1,000-machine `machines read` holds about 10,000 interfaces and 5,000 links; as
/// `String`s they were over 100,000 heap allocations, in a phase-00 run that spent a
/// fifth of its time in malloc and free.
#[derive(Debug, Clone, Deserialize)]
pub struct Interface {
    pub id: i64,
    pub name: CompactString,
    #[serde(rename = "type")]
    pub interface_type: CompactString,
    pub mac_address: Option<CompactString>,
    pub parents: Vec<CompactString>,
    #[serde(default)]
    pub children: Vec<CompactString>,
    #[serde(deserialize_with = "super::present")]
    pub vlan: Option<Vlan>,
    pub links: Vec<Link>,
    pub params: Params,
    pub enabled: Option<bool>,
}

/// An interface's `params`: `""`, or an object of settings by interface type (a
/// bridge's `bridge_type`, `bridge_stp`, `bridge_fd`; a bond's mode, a VLAN's MTU).
/// What a gate reads of it is a bridge's `bridge_type`; every other key and value is
/// walked (the strict layer refuses a key given twice anywhere in it) and not kept: a
/// `serde_json::Value` of each params object was a megabyte of a 1,000-machine read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// `bridge_type` when it is a string, as `params.get("bridge_type")?.as_str()` read it.
    bridge_type: Option<CompactString>,
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess, Visitor};
        use serde_json::Value;

        /// A key of params: `bridge_type` or any other, matched without a copy.
        enum Key {
            BridgeType,
            Other,
        }
        impl<'de> Deserialize<'de> for Key {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct KeyVisitor;
                impl Visitor<'_> for KeyVisitor {
                    type Value = Key;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a key of params")
                    }
                    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key, E> {
                        Ok(if key == "bridge_type" {
                            Key::BridgeType
                        } else {
                            Key::Other
                        })
                    }
                }
                d.deserialize_str(KeyVisitor)
            }
        }

        struct ParamsVisitor;
        impl<'de> Visitor<'de> for ParamsVisitor {
            type Value = Params;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an interface's params")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
                let mut params = Params::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let value: Value = map.next_value()?;
                    if let Key::BridgeType = key {
                        params.bridge_type = value.as_str().map(CompactString::from);
                    }
                }
                Ok(params)
            }
            // Not an object (MAAS prints `""` for an interface without settings): no
            // settings, as a `Value` read them.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Params, A::Error> {
                while seq.next_element::<Value>()?.is_some() {}
                Ok(Params::default())
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Params, E> {
                Ok(Params::default())
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Params, E> {
                Ok(Params::default())
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Params, E> {
                Ok(Params::default())
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Params, E> {
                Ok(Params::default())
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Params, E> {
                Ok(Params::default())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Params, E> {
                Ok(Params::default())
            }
        }
        deserializer.deserialize_any(ParamsVisitor)
    }
}

impl Interface {
    /// `params.bridge_type` of a bridge (`standard` or `ovs`).
    pub fn bridge_type(&self) -> Option<&str> {
        self.params.bridge_type.as_deref()
    }

    /// The STATIC links with their address and subnet CIDR.
    pub fn static_links(&self) -> impl Iterator<Item = (&str, &str)> {
        self.links
            .iter()
            .filter(|l| l.mode.eq_ignore_ascii_case("static"))
            .filter_map(|l| Some((l.ip_address.as_deref()?, l.subnet.as_ref()?.cidr.as_str())))
    }
}

/// A machine (`machines read`).
#[derive(Debug, Clone, Deserialize)]
pub struct Machine {
    pub system_id: String,
    pub hostname: String,
    pub status: Option<i64>,
    pub status_name: String,
    #[serde(deserialize_with = "super::present")]
    pub power_state: Option<String>,
    pub power_type: Option<String>,
    pub owner: Option<String>,
    pub tag_names: Vec<String>,
    #[serde(deserialize_with = "super::present")]
    pub boot_interface: Option<Interface>,
    pub interface_set: Vec<Interface>,
    pub node_type_name: Option<String>,
}

/// `machines read`: every machine in MAAS's order, and an index of them by hostname.
/// The gates and actions resolve each of a site's hosts by hostname (rule R1); at
/// bare-metal scale (900 hosts in 1,000 machines) a scan per lookup made that quadratic,
/// and string compares were a fifteenth of a phase-00 run.
#[derive(Debug, Clone, Default)]
pub struct Machines {
    list: Vec<Machine>,
    /// Indices into `list`, sorted by hostname; equal hostnames keep MAAS's order.
    by_hostname: Vec<usize>,
}

impl Machines {
    pub fn new(list: Vec<Machine>) -> Self {
        let mut by_hostname: Vec<usize> = (0..list.len()).collect();
        by_hostname.sort_by(|&a, &b| list[a].hostname.cmp(&list[b].hostname));
        Machines { list, by_hostname }
    }

    /// The first machine, in MAAS's order, with this hostname.
    pub fn by_hostname(&self, hostname: &str) -> Option<&Machine> {
        let at = self
            .by_hostname
            .partition_point(|&i| self.list[i].hostname.as_str() < hostname);
        self.by_hostname
            .get(at)
            .map(|&i| &self.list[i])
            .filter(|m| m.hostname == hostname)
    }
}

impl std::ops::Deref for Machines {
    type Target = [Machine];

    fn deref(&self) -> &[Machine] {
        &self.list
    }
}

/// A tag (`tags read`).
#[derive(Debug, Clone, Deserialize)]
pub struct Tag {
    pub name: String,
    pub definition: Option<String>,
    pub comment: Option<String>,
}

/// Who holds an address (`subnet ip-addresses <id>`).
#[derive(Debug, Clone, Deserialize)]
pub struct IpAddressRecord {
    pub ip: String,
    /// 0 AUTO, 1 STICKY, 4 USER_RESERVED, 5 DHCP, 6 DISCOVERED.
    pub alloc_type: i64,
    pub node_summary: Option<NodeSummary>,
    pub user: Option<String>,
}

/// alloc_type of an address MAAS observed (a commissioning lease, seed 004 carve
/// hardening): it blocks a STATIC link to the same IP.
pub const ALLOC_DISCOVERED: i64 = 6;

#[derive(Debug, Clone, Deserialize)]
pub struct NodeSummary {
    pub system_id: Option<String>,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub via: Option<String>,
}

/// Classifies a MAAS command that did not succeed.
fn check_maas(output: &CommandOutput) -> Result<(), SourceError> {
    if output.success() {
        return Ok(());
    }
    let stderr = output.stderr_text();
    // An unknown profile is an argparse error: "invalid choice: 'admin'".
    if stderr.contains("invalid choice") || stderr.contains("not logged in") {
        return Err(SourceError::NotLoggedIn {
            argv: display_argv(&output.argv),
            detail: super::excerpt(&stderr),
        });
    }
    Err(SourceError::exit(output))
}

/// Parses `interfaces read <system_id>`: a bridge's `params` always hold its
/// `bridge_type` (maasserver/forms/interface.py BridgeInterfaceForm sets it on every
/// bridge, `standard` or `ovs`), so one without it is refused naming the key, never
/// read as "not an OVS bridge".
pub fn parse_interfaces(output: &CommandOutput) -> Result<Vec<Interface>, SourceError> {
    let interfaces: Vec<Interface> = parse(output)?;
    bridges_typed(output, "", &interfaces)?;
    Ok(interfaces)
}

/// `machines read`: every machine with its interface set. The gates read a host's
/// interfaces from here (MAAS renders `interface_set` with the handler `interfaces read`
/// uses: the same fields), so one output serves every host; a bridge without
/// `params.bridge_type` is refused here as it is in `interfaces read`.
pub fn parse_machines(output: &CommandOutput) -> Result<Machines, SourceError> {
    let machines: Vec<Machine> = parse(output)?;
    for (n, m) in machines.iter().enumerate() {
        bridges_typed(output, &format!("[{n}].interface_set"), &m.interface_set)?;
    }
    Ok(Machines::new(machines))
}

/// A bridge must say its type (`standard` or `ovs`): the carve's tree is judged on it.
fn bridges_typed(
    output: &CommandOutput,
    at: &str,
    interfaces: &[Interface],
) -> Result<(), SourceError> {
    for (n, iface) in interfaces.iter().enumerate() {
        if iface.interface_type == "bridge" && iface.bridge_type().is_none() {
            return Err(SourceError::Parse {
                argv: display_argv(&output.argv),
                path: format!("{at}[{n}].params.bridge_type"),
                message: "missing key on a bridge".into(),
            });
        }
    }
    Ok(())
}

/// Parses any MAAS read into its model.
pub fn parse<T: serde::de::DeserializeOwned>(output: &CommandOutput) -> Result<T, SourceError> {
    check_maas(output)?;
    parse_json(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interfaces_read(params: &str) -> Result<Vec<Interface>, SourceError> {
        let body = format!(
            r#"[{{"id": 1, "name": "br-ex", "type": "bridge", "mac_address": null, "parents": [], "children": [], "vlan": null, "links": [], "params": {params}, "enabled": true}}]"#
        );
        parse_interfaces(&CommandOutput {
            argv: ["maas", "admin", "interfaces", "read", "abc123"]
                .map(String::from)
                .to_vec(),
            exit_code: Some(0),
            stdout: body.into_bytes().into(),
            stderr: Vec::new(),
            duration: std::time::Duration::ZERO,
        })
    }

    #[test]
    fn params_keep_a_bridges_type_and_walk_the_rest() {
        for (params, want) in [
            (
                r#"{"bridge_type": "ovs", "bridge_stp": false, "bridge_fd": 15}"#,
                "ovs",
            ),
            (
                r#"{"mtu": 9000, "x": {"y": [1, {"z": null}, "w"]}, "bridge_type": "standard"}"#,
                "standard",
            ),
        ] {
            let read = interfaces_read(params).unwrap();
            assert_eq!(read[0].bridge_type(), Some(want), "{params}");
        }
    }

    #[test]
    fn a_bridge_whose_params_hold_no_string_type_is_refused_naming_the_key() {
        for params in [
            r#"{}"#,
            r#""""#,
            "null",
            r#"{"bridge_type": 3}"#,
            r#"{"bridge_type": null}"#,
            r#"["bridge_type", "ovs"]"#,
            r#"{"bridge_stp": false}"#,
        ] {
            let err = interfaces_read(params).unwrap_err().to_string();
            assert!(err.contains("params.bridge_type"), "{params}: {err}");
        }
    }

    #[test]
    fn a_key_twice_in_params_is_refused_wherever_it_is() {
        for params in [
            r#"{"bridge_type": "ovs", "bridge_type": "ovs"}"#,
            r#"{"bridge_type": "ovs", "bridge_fd": 15, "bridge_fd": 15}"#,
            r#"{"bridge_type": "ovs", "x": {"y": 1, "y": 2}}"#,
        ] {
            let err = interfaces_read(params).unwrap_err().to_string();
            assert!(
                err.contains("twice") || err.contains("duplicate"),
                "{params}: {err}"
            );
        }
    }
}
