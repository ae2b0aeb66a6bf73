//! OpenStack sources: `openstack endpoint list`, `network show`, `subnet show`,
//! `security group show`, `image list --tag`, `image show`, all `-f json`.
//!
//! Shapes (docs/schemas/openstack.md, checked against openstack/python-openstackclient
//! `network/v2/network.py`, `network/v2/subnet.py`, `network/v2/security_group.py`,
//! `image/v2/image.py` and openstack/cliff `formatters/json_format.py`):
//! - `show -f json` is one object whose keys are the SDK attribute names after the
//!   command's column map (`is_router_external` -> `router:external`, `is_shared` ->
//!   `shared`, `is_dhcp_enabled` -> `enable_dhcp`), sorted; cliff writes it with
//!   `json.dump(indent=2)` and a newline. `list -f json` is an array of objects keyed by
//!   the human column headers (`ID`, `Name`, `Status`).
//! - Since OSC 4.0.0 (commit c44f26eb, cliff formattable columns) JSON carries native
//!   types: `allocation_pools` a list of `{start, end}`, `tags` a list, `router:external`
//!   a bool. Before it, JSON carried the table strings: `allocation_pools`
//!   `"10.12.5.0-10.12.7.254"` (pools comma-joined), `tags` `"a, b"`, `router:external`
//!   `"External"` / `"Internal"`. Both eras parse to the same model here.
//! - A key a gate reads is required: when it is missing the parse error names it (R2);
//!   keys that can be `null` (`gateway_ip`, `provider:physical_network`) are required
//!   and nullable, never defaulted.
//!
//! Absence (R3): a `show` of a missing object exits 1 and prints, on stderr, the SDK's
//! `No <Resource> found for <name>` (openstacksdk `resource.py` `find`, raised with
//! `ignore_missing=False`; cliff logs the message and returns 1), or osc-lib
//! `find_resource`'s `No <resource> with a name or ID of '<name>' exists.` Only that,
//! naming the object asked for, is [`Presence::Absent`]; anything else (expired token,
//! no `OS_AUTH_URL`, a 500) is an error and the gate reads PRECONDITION.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use super::keys::{Doc, KeyPath};
use super::{Presence, SourceError, parse_json};
use crate::runner::{CommandOutput, Invocation};

/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const OPENSTACK_ENDPOINTS_READERS: &[&str] = &["P03-ENDPOINTS"];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const OPENSTACK_NETWORK_READERS: &[&str] =
    &["P04-POST", "P04-PRE", "P05-AMPHORA", "P05-POST", "P05-PRE"];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const OPENSTACK_SUBNET_READERS: &[&str] = &["P04-POST", "P05-AMPHORA", "P05-POST", "P05-PRE"];
/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const OPENSTACK_IMAGES_READERS: &[&str] = &["P05-AMPHORA"];

/// Every key path a phase-03/04/05 gate reads from OpenStack output
/// (docs/schemas/openstack.md).
pub static KEYS: &[&KeyPath] = &[
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].Service Name",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].Service Type",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].Interface",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].URL",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].Region",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].Enabled",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(Doc::OpenstackNetwork, "id", OPENSTACK_NETWORK_READERS),
    &KeyPath::required(
        Doc::OpenstackNetwork,
        "router:external",
        OPENSTACK_NETWORK_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackNetwork,
        "provider:network_type",
        OPENSTACK_NETWORK_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackNetwork,
        "provider:physical_network",
        OPENSTACK_NETWORK_READERS,
    ),
    &KeyPath::required(Doc::OpenstackNetwork, "shared", OPENSTACK_NETWORK_READERS),
    &KeyPath::required(Doc::OpenstackSubnet, "network_id", OPENSTACK_SUBNET_READERS),
    &KeyPath::required(Doc::OpenstackSubnet, "cidr", OPENSTACK_SUBNET_READERS),
    &KeyPath::required(Doc::OpenstackSubnet, "gateway_ip", OPENSTACK_SUBNET_READERS),
    &KeyPath::required(
        Doc::OpenstackSubnet,
        "enable_dhcp",
        OPENSTACK_SUBNET_READERS,
    ),
    &KeyPath::required(
        Doc::OpenstackSubnet,
        "allocation_pools",
        OPENSTACK_SUBNET_READERS,
    ),
    &KeyPath::required(Doc::OpenstackSubnet, "tags", OPENSTACK_SUBNET_READERS),
    &KeyPath::required(
        Doc::OpenstackSecurityGroup,
        "id",
        &["P05-AMPHORA", "P05-POST", "P05-PRE"],
    ),
    &KeyPath::required(Doc::OpenstackImages, "[].ID", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(Doc::OpenstackImages, "[].Status", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(Doc::OpenstackImage, "status", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(Doc::OpenstackImage, "tags", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(
        Doc::OpenstackEndpoints,
        "[].ID",
        OPENSTACK_ENDPOINTS_READERS,
    ),
    &KeyPath::required(Doc::OpenstackImages, "[].Name", OPENSTACK_IMAGES_READERS),
    &KeyPath::optional(Doc::OpenstackImage, "disk_format", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(Doc::OpenstackImage, "id", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(Doc::OpenstackImage, "name", OPENSTACK_IMAGES_READERS),
    &KeyPath::required(Doc::OpenstackNetwork, "name", OPENSTACK_NETWORK_READERS),
    &KeyPath::required(
        Doc::OpenstackSecurityGroup,
        "name",
        &["P05-AMPHORA", "P05-POST", "P05-PRE"],
    ),
    &KeyPath::required(Doc::OpenstackSubnet, "id", OPENSTACK_SUBNET_READERS),
    &KeyPath::required(Doc::OpenstackSubnet, "name", OPENSTACK_SUBNET_READERS),
];

fn show(object: &[&str], name: &str) -> Invocation {
    Invocation::new(
        std::iter::once("openstack")
            .chain(object.iter().copied())
            .chain(["show", name, "-f", "json"]),
    )
}

/// `openstack endpoint list -f json` (the service catalog; P03-ENDPOINTS).
pub fn endpoint_list_invocation() -> Invocation {
    Invocation::new(["openstack", "endpoint", "list", "-f", "json"])
}

/// `openstack network show <name> -f json`
pub fn network_show_invocation(name: &str) -> Invocation {
    show(&["network"], name)
}

/// `openstack subnet show <name> -f json`
pub fn subnet_show_invocation(name: &str) -> Invocation {
    show(&["subnet"], name)
}

/// `openstack security group show <name> -f json`
pub fn security_group_show_invocation(name: &str) -> Invocation {
    show(&["security", "group"], name)
}

/// `openstack image list --tag <tag> -f json`: the images carrying the tag, whatever
/// their status (glance filters by tag; the list is the answer, `[]` included).
pub fn image_list_invocation(tag: &str) -> Invocation {
    Invocation::new(["openstack", "image", "list", "--tag", tag, "-f", "json"])
}

/// `openstack image show <id> -f json`, for an id the same run's image list returned.
pub fn image_show_invocation(id: &str) -> Invocation {
    show(&["image"], id)
}

/// The resource class name the SDK puts in its not-found message, per `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Network,
    Subnet,
    SecurityGroup,
    Image,
}

impl Resource {
    /// `cls.__name__` in openstacksdk (`No SecurityGroup found for ...`).
    fn class_name(self) -> &'static str {
        match self {
            Resource::Network => "Network",
            Resource::Subnet => "Subnet",
            Resource::SecurityGroup => "SecurityGroup",
            Resource::Image => "Image",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Network => "network",
            Resource::Subnet => "subnet",
            Resource::SecurityGroup => "security group",
            Resource::Image => "image",
        })
    }
}

/// Whether stderr is the CLI saying that this named object does not exist.
fn says_absent(stderr: &str, resource: Resource, name: &str) -> bool {
    let text = stderr.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    let sdk = format!(
        "no {} found for {name}",
        resource.class_name().to_ascii_lowercase()
    );
    let osc_lib = format!("with a name or id of '{name}' exists");
    text.lines()
        .map(str::trim)
        .any(|l| l.ends_with(&sdk) || (l.starts_with("no ") && l.contains(&osc_lib)))
}

/// Parses a `show`: the object, [`Presence::Absent`] when the CLI exited 1 saying it does
/// not exist, or an error for any other failure.
pub fn parse_show<T: serde::de::DeserializeOwned>(
    output: &CommandOutput,
    resource: Resource,
    name: &str,
) -> Result<Presence<T>, SourceError> {
    if output.success() {
        return parse_json(output).map(Presence::Present);
    }
    let stderr = output.stderr_text();
    if output.exit_code == Some(1) && says_absent(&stderr, resource, name) {
        return Ok(Presence::Absent {
            message: format!("No {} found for {name}", resource.class_name()),
        });
    }
    Err(SourceError::exit(output))
}

/// Parses a `list -f json`: an array (an empty array is an answer; empty output is not).
pub fn parse_list<T: serde::de::DeserializeOwned>(
    output: &CommandOutput,
) -> Result<Vec<T>, SourceError> {
    if !output.success() {
        return Err(SourceError::exit(output));
    }
    parse_json(output)
}

/// One row of `openstack endpoint list -f json` (keystone v3: identity/v3/endpoint.py
/// columns `ID, Region, Service Name, Service Type, Enabled, Interface, URL`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Endpoint {
    #[serde(rename = "ID")]
    pub id: String,
    /// `null` when the endpoint has no region.
    #[serde(rename = "Region", deserialize_with = "nullable")]
    pub region: Option<String>,
    #[serde(rename = "Service Name")]
    pub service_name: String,
    #[serde(rename = "Service Type")]
    pub service_type: String,
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// `public`, `internal` or `admin`.
    #[serde(rename = "Interface")]
    pub interface: String,
    #[serde(rename = "URL")]
    pub url: String,
}

/// `openstack network show -f json`: the keys the gates read.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Network {
    pub id: String,
    pub name: String,
    /// A bool since OSC 4.0; `"External"` / `"Internal"` before.
    #[serde(rename = "router:external", deserialize_with = "router_external")]
    pub router_external: bool,
    #[serde(rename = "provider:network_type", deserialize_with = "nullable")]
    pub network_type: Option<String>,
    #[serde(rename = "provider:physical_network", deserialize_with = "nullable")]
    pub physical_network: Option<String>,
    pub shared: bool,
    #[serde(default, deserialize_with = "string_list")]
    pub tags: Vec<String>,
}

/// `openstack subnet show -f json`: the keys the gates read.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub network_id: String,
    pub cidr: String,
    #[serde(deserialize_with = "nullable")]
    pub gateway_ip: Option<String>,
    pub enable_dhcp: bool,
    #[serde(deserialize_with = "allocation_pools")]
    pub allocation_pools: Vec<AllocationPool>,
    #[serde(deserialize_with = "string_list")]
    pub tags: Vec<String>,
}

/// One allocation pool, whichever shape the CLI printed it in.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AllocationPool {
    pub start: String,
    pub end: String,
}

impl fmt::Display for AllocationPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// `openstack security group show -f json`: presence is what the gates read.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
}

/// One row of `openstack image list -f json`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ImageRow {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
    /// glance's status: `active`, `queued`, `saving`, `killed`, `deactivated`, ...
    #[serde(rename = "Status")]
    pub status: String,
}

/// `openstack image show -f json` (image/v2/image.py `_format_image`: core fields, a
/// `properties` dict of the rest, `tags` a list; keys whose value is None are dropped).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(deserialize_with = "string_list")]
    pub tags: Vec<String>,
    pub disk_format: Option<String>,
    pub visibility: Option<String>,
}

/// A required key whose value may be `null`: missing is an error, `null` is `None`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// `router:external`: `true`/`false`, or the pre-4.0 display string.
fn router_external<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shape {
        Bool(bool),
        Display(String),
    }
    match Shape::deserialize(d)? {
        Shape::Bool(b) => Ok(b),
        Shape::Display(s) if s == "External" => Ok(true),
        Shape::Display(s) if s == "Internal" => Ok(false),
        Shape::Display(_) => Err(de::Error::custom(
            "expected true, false, \"External\" or \"Internal\"",
        )),
    }
}

/// A list of strings, or the pre-4.0 display string `"a, b"` (`""` when empty).
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shape {
        List(Vec<String>),
        Display(String),
    }
    Ok(match Shape::deserialize(d)? {
        Shape::List(v) => v,
        Shape::Display(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// `allocation_pools`: a list of `{start, end}` (OSC >= 4.0), a list of `"start-end"`
/// strings, or the pre-4.0 display string `"start-end,start-end"`
/// (subnet.py `_format_allocation_pools` / `AllocationPoolsColumn.human_readable`).
fn allocation_pools<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<AllocationPool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "an allocation pool as an object with `start` and `end`, or \"start-end\""
    )]
    enum Item {
        Object(AllocationPool),
        Display(String),
    }
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "allocation pools as a list of objects with `start` and `end`, or of \"start-end\" strings"
    )]
    enum Shape {
        List(Vec<Item>),
        Display(String),
    }
    fn range<E: de::Error>(s: &str) -> Result<AllocationPool, E> {
        s.trim()
            .split_once('-')
            .map(|(a, b)| AllocationPool {
                start: a.trim().to_string(),
                end: b.trim().to_string(),
            })
            .ok_or_else(|| E::custom("expected \"start-end\""))
    }
    match Shape::deserialize(d)? {
        Shape::List(items) => items
            .into_iter()
            .map(|i| match i {
                Item::Object(p) => Ok(p),
                Item::Display(s) => range(&s),
            })
            .collect(),
        Shape::Display(s) => s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(range)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_invocation_output as output;

    const SUBNET_OSC6: &str = r#"{
  "allocation_pools": [
    {
      "start": "10.12.5.0",
      "end": "10.12.7.254"
    }
  ],
  "cidr": "10.12.4.0/22",
  "enable_dhcp": false,
  "gateway_ip": "10.12.4.1",
  "id": "544afa6a-b0cf-486b-89be-2b8e36983072",
  "name": "provider-ext-fip",
  "network_id": "bb386c86-d646-4c71-b6b7-550f5c691bfb",
  "tags": [
    "role=provider"
  ]
}
"#;

    #[test]
    fn allocation_pools_parse_in_every_shape() {
        let objects = SUBNET_OSC6;
        let strings = SUBNET_OSC6.replace(
            "[\n    {\n      \"start\": \"10.12.5.0\",\n      \"end\": \"10.12.7.254\"\n    }\n  ]",
            "[\"10.12.5.0-10.12.7.254\"]",
        );
        let display = SUBNET_OSC6.replace(
            "[\n    {\n      \"start\": \"10.12.5.0\",\n      \"end\": \"10.12.7.254\"\n    }\n  ]",
            "\"10.12.5.0-10.12.7.254\"",
        );
        assert_ne!(strings, objects);
        assert_ne!(display, objects);
        for doc in [objects.to_string(), strings, display] {
            let inv = subnet_show_invocation("provider-ext-fip");
            let found: Presence<Subnet> = parse_show(
                &output(inv, 0, &doc, ""),
                Resource::Subnet,
                "provider-ext-fip",
            )
            .unwrap();
            let subnet = found.present().unwrap();
            assert_eq!(
                subnet.allocation_pools,
                [AllocationPool {
                    start: "10.12.5.0".into(),
                    end: "10.12.7.254".into()
                }],
                "{doc}"
            );
        }
        // Two pools in the pre-4.0 display string are comma-joined without spaces.
        let two = SUBNET_OSC6.replace(
            "[\n    {\n      \"start\": \"10.12.5.0\",\n      \"end\": \"10.12.7.254\"\n    }\n  ]",
            "\"10.12.5.0-10.12.5.254,10.12.6.0-10.12.7.254\"",
        );
        let inv = subnet_show_invocation("provider-ext-fip");
        let found: Presence<Subnet> = parse_show(
            &output(inv, 0, &two, ""),
            Resource::Subnet,
            "provider-ext-fip",
        )
        .unwrap();
        assert_eq!(found.present().unwrap().allocation_pools.len(), 2);
    }

    proptest::proptest! {
        /// Whatever the pools, the three shapes a client prints parse to the same list.
        #[test]
        fn every_allocation_pool_shape_parses_to_the_same_pools(
            pools in proptest::collection::vec((proptest::prelude::any::<u32>(), proptest::prelude::any::<u32>()), 0..4)
        ) {
            let pools: Vec<AllocationPool> = pools
                .iter()
                .map(|(a, b)| AllocationPool {
                    start: std::net::Ipv4Addr::from(*a).to_string(),
                    end: std::net::Ipv4Addr::from(*b).to_string(),
                })
                .collect();
            let objects: Vec<serde_json::Value> = pools
                .iter()
                .map(|p| serde_json::json!({"start": p.start, "end": p.end}))
                .collect();
            let strings: Vec<String> = pools.iter().map(ToString::to_string).collect();
            let display = strings.join(",");
            for shape in [
                serde_json::json!(objects),
                serde_json::json!(strings),
                serde_json::json!(display),
            ] {
                let doc = serde_json::json!({
                    "id": "s", "name": "n", "network_id": "x", "cidr": "10.0.0.0/8",
                    "gateway_ip": null, "enable_dhcp": false, "allocation_pools": shape, "tags": [],
                });
                let subnet: Subnet = serde_json::from_value(doc).unwrap();
                proptest::prop_assert_eq!(&subnet.allocation_pools, &pools);
            }
        }
    }

    #[test]
    fn pre_osc4_display_strings_parse() {
        let doc = r#"{"id": "n1", "name": "provider-ext", "router:external": "External", "provider:network_type": "flat", "provider:physical_network": "physnet1", "shared": false, "tags": "netbox-iprange=10.12.5.0-10.12.7.254, role=provider"}"#;
        let inv = network_show_invocation("provider-ext");
        let found: Presence<Network> =
            parse_show(&output(inv, 0, doc, ""), Resource::Network, "provider-ext").unwrap();
        let net = found.present().unwrap();
        assert!(net.router_external);
        assert_eq!(
            net.tags,
            ["netbox-iprange=10.12.5.0-10.12.7.254", "role=provider"]
        );
        let internal = doc.replace("\"External\"", "\"Internal\"");
        let inv = network_show_invocation("provider-ext");
        let found: Presence<Network> = parse_show(
            &output(inv, 0, &internal, ""),
            Resource::Network,
            "provider-ext",
        )
        .unwrap();
        assert!(!found.present().unwrap().router_external);
    }

    #[test]
    fn a_missing_key_names_itself_and_null_is_not_missing() {
        // R2: the key a gate reads is required even where its value may be null.
        let doc = SUBNET_OSC6.replace("  \"gateway_ip\": \"10.12.4.1\",\n", "");
        let inv = subnet_show_invocation("provider-ext-fip");
        let err = parse_show::<Subnet>(&output(inv, 0, &doc, ""), Resource::Subnet, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `gateway_ip`"), "{err}");
        let null = SUBNET_OSC6.replace("\"10.12.4.1\"", "null");
        let inv = subnet_show_invocation("provider-ext-fip");
        let found: Presence<Subnet> =
            parse_show(&output(inv, 0, &null, ""), Resource::Subnet, "x").unwrap();
        assert_eq!(found.present().unwrap().gateway_ip, None);
    }

    #[test]
    fn absence_is_the_exit_status_and_the_message_naming_the_object() {
        let inv = || network_show_invocation("lb-mgmt-net");
        let absent: Presence<Network> = parse_show(
            &output(inv(), 1, "", "No Network found for lb-mgmt-net\n"),
            Resource::Network,
            "lb-mgmt-net",
        )
        .unwrap();
        assert!(matches!(absent, Presence::Absent { .. }));
        // osc-lib find_resource's wording counts too.
        let absent: Presence<SecurityGroup> = parse_show(
            &output(
                security_group_show_invocation("lb-mgmt-sec-grp"),
                1,
                "",
                "No security_group with a name or ID of 'lb-mgmt-sec-grp' exists.\n",
            ),
            Resource::SecurityGroup,
            "lb-mgmt-sec-grp",
        )
        .unwrap();
        assert!(matches!(absent, Presence::Absent { .. }));
        // Empty output with exit 0 is not absence (R3): it is a parse error.
        assert!(
            parse_show::<Network>(&output(inv(), 0, "", ""), Resource::Network, "lb-mgmt-net")
                .is_err()
        );
        // A message about another object, or any other failure, is not absence.
        for stderr in [
            "No Network found for lb-mgmt-net-old\n",
            "Missing value auth-url required for auth plugin password\n",
            "The request you have made requires authentication. (HTTP 401)\n",
        ] {
            let err = parse_show::<Network>(
                &output(inv(), 1, "", stderr),
                Resource::Network,
                "lb-mgmt-net",
            );
            assert!(err.is_err(), "{stderr}");
        }
    }

    #[test]
    fn endpoint_rows_parse() {
        let doc = r#"[
  {
    "ID": "0b1e6c1a4a3c4f0e9d4f3c2b1a0f9e8d",
    "Region": "RegionOne",
    "Service Name": "keystone",
    "Service Type": "identity",
    "Enabled": true,
    "Interface": "admin",
    "URL": "http://10.12.8.50:35357/v3"
  },
  {
    "ID": "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f",
    "Region": null,
    "Service Name": "image-stream",
    "Service Type": "product-streams",
    "Enabled": true,
    "Interface": "public",
    "URL": "http://10.12.8.226/swift/v1/simplestreams/images"
  }
]
"#;
        let rows: Vec<Endpoint> =
            parse_list(&output(endpoint_list_invocation(), 0, doc, "")).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].url, "http://10.12.8.50:35357/v3");
        assert_eq!(rows[1].region, None);
        let no_url = doc
            .replace("    \"URL\": \"http://10.12.8.50:35357/v3\"\n", "")
            .replace("\"Interface\": \"admin\",", "\"Interface\": \"admin\"");
        let err = parse_list::<Endpoint>(&output(endpoint_list_invocation(), 0, &no_url, ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `URL`"), "{err}");
    }
}
