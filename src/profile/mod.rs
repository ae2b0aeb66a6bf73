//! Site profiles: what the cloud should look like (model name, mysql shape, vault unit,
//! allowlists, waivers). TOML, parsed in two stages: the raw file, then a
//! validated [`Profile`] with compiled patterns, before any command runs.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use ipnet::{Ipv4Net, Ipv6Net};

use regex::Regex;
use serde::Deserialize;

use crate::sources::charms;
use crate::sources::virsh::Connection;

/// The embedded default: the testcloud profile.
pub const TESTCLOUD: &str = include_str!("../../profiles/testcloud.toml");

/// The embedded bare-metal profile: a site without libvirt (seed 000's Roosevelt), whose
/// libvirt and qcow2 gates SKIP.
pub const BARE_METAL: &str = include_str!("../../profiles/bare-metal.toml");

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid profile {source_name}: {message}")]
pub struct ProfileError {
    pub source_name: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    description: Option<String>,
    juju: RawJuju,
    phase02: RawPhase02,
    #[serde(default)]
    phase03: RawPhase03,
    #[serde(default)]
    waiver: Vec<crate::waivers::RawWaiver>,
    maas: Option<MaasSite>,
    #[serde(default)]
    planes: Vec<RawPlane>,
    #[serde(default)]
    hosts: Vec<Host>,
    carve: Option<Carve>,
    bundle: Option<BundleSite>,
    phase01: Option<Phase01>,
    libvirt: Option<LibvirtSite>,
    #[serde(default)]
    teardown: Teardown,
    phase04: Option<RawPhase04>,
    phase05: Option<RawPhase05>,
    endpoints: Option<EndpointsSite>,
    #[serde(default)]
    runner: RunnerSettings,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlane {
    name: String,
    cidr: String,
    vid: u16,
    gateway: Option<String>,
    #[serde(default)]
    dns: Vec<String>,
    #[serde(default)]
    reserved: Vec<RawRange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: String,
    end: String,
    purpose: String,
}

/// The MAAS side of the site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaasSite {
    pub profile: String,
    pub host_tag: String,
    #[serde(default)]
    pub protected: Vec<String>,
    #[serde(default)]
    pub retired: Vec<String>,
    #[serde(default)]
    pub previous_system_ids: Vec<String>,
}

/// One network plane, identified by its CIDR (rule R1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plane {
    pub name: String,
    pub cidr: Ipv4Net,
    pub vid: u16,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub reserved: Vec<ReservedRange>,
}

impl Plane {
    /// The host's address on this plane: the network's address plus `octet` (the last
    /// octet on a /24; a /22 plane and a larger site count on past 255).
    pub fn host_address(&self, octet: u16) -> Ipv4Addr {
        let base = u32::from(self.cidr.network());
        Ipv4Addr::from(base + u32::from(octet))
    }
}

/// A reserved IP range a plane must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedRange {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
    pub purpose: String,
}

/// A host of the cloud, by hostname (never by system_id: DOCFIX-040).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub hostname: String,
    /// The host's number on every plane (`host_address`): inside each plane's CIDR,
    /// neither its network nor its broadcast address.
    pub octet: u16,
    /// The provider NIC's MAC: ovn-chassis enslaves it to br-ex by MAC
    /// (bridge-interface-mappings, 004 as-built correction).
    pub provider_mac: Option<String>,
}

/// The Pattern A interface carve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carve {
    pub boot_nic: String,
    pub boot_plane: String,
    #[serde(default)]
    pub phase01_links: Vec<String>,
    pub links: Vec<CarveLink>,
    #[serde(default)]
    pub forbidden: Vec<String>,
    /// The interface tree the carve builds: type, bridge type, parent, VID.
    #[serde(default)]
    pub structure: Vec<CarveInterface>,
}

/// One interface of the carved tree as MAAS reports it (`interfaces read`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarveInterface {
    pub name: String,
    /// MAAS interface type: `physical`, `bridge`, `vlan`, `bond`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `params.bridge_type` of a bridge: `standard` or `ovs`.
    pub bridge_type: Option<String>,
    pub parent: Option<String>,
    pub vid: Option<u16>,
}

/// Which interface carries the STATIC address on which plane.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarveLink {
    pub interface: String,
    pub plane: String,
}

/// The deploy bundle and the invariants P00-BUNDLE, P01-VIPS and P01-OVERLAY check
/// (seed 002 step 7, provider-bundle-check.py; 004 checkpoint).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSite {
    /// The bundle file as the jumphost holds it.
    pub path: String,
    /// The API charms: each binds `public` to `public_space` and carries a VIP triple.
    pub api_applications: Vec<String>,
    pub public_space: String,
    /// The planes of a VIP triple, in the order the `vip` option lists them.
    pub vip_planes: Vec<String>,
    /// The band every VIP's last octet lies in (.50-.60).
    pub vip_octets: OctetBand,
    /// The application whose bridge-interface-mappings name every host's provider MAC.
    pub chassis_application: String,
    pub chassis_bridge: String,
    pub policyd: Policyd,
    /// The overlays the deploy uses: exactly these (002: ONE overlay, octavia-pki).
    #[serde(default)]
    pub overlays: Vec<Overlay>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OctetBand {
    pub first: u8,
    pub last: u8,
}

/// keystone's policy-override resource and the option that enables it (DOCFIX-071).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policyd {
    pub application: String,
    pub resource: String,
    pub option: String,
}

/// An overlay file and the option keys it must set on its application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    pub path: String,
    pub application: String,
    pub keys: Vec<String>,
}

/// Phase-01 model expectations: the live default space and the endpoint bindings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase01 {
    /// The space controller model-defaults and the model must name (004: metal-admin;
    /// the dead name `metal` poisoned network-get for every endpoint).
    pub default_space: String,
    #[serde(default)]
    pub bindings: Vec<Binding>,
}

/// Endpoints of an application that must bind to a space (004 DOCFIX-039 item 5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub application: String,
    /// `""` is the application's default binding.
    pub endpoints: Vec<String>,
    pub space: String,
    pub reason: Option<String>,
}

/// The service catalog (seed 004 phase-03 3.2, corrected for D-052): each interface on
/// its plane, the host octet of each service the bundle's VIP, keystone admin on its port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsSite {
    /// Interface (`public`, `internal`, `admin`) -> plane name.
    pub interfaces: std::collections::BTreeMap<String, String>,
    /// Catalog service name -> the bundle application whose VIP it answers on.
    pub services: std::collections::BTreeMap<String, String>,
    /// The identity service, whose admin endpoint listens on `keystone_admin_port`.
    pub identity_service: String,
    pub keystone_admin_port: u16,
    /// Service types registered per deploy (the simplestreams image stream): reported,
    /// never pinned to an address.
    #[serde(default)]
    pub unpinned_types: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJuju {
    model: String,
    controller: Option<String>,
    user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase02 {
    mysql: MysqlExpectation,
    vault: VaultExpectation,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase03 {
    #[serde(default)]
    allow: Vec<RawAllow>,
    haproxy: Option<HaproxySweep>,
    horizon: Option<RawHorizon>,
    openrc: Option<OpenrcExpectation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHorizon {
    proxy: String,
    dashboard: String,
    path: String,
    login_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    application: String,
    workload: String,
    message: Option<String>,
    pattern: Option<String>,
    leader: Option<bool>,
    reason: String,
    source: String,
}

/// The mysql-innodb-cluster shape gate P02-C expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlExpectation {
    pub application: String,
    pub units: usize,
    /// MySQL Shell's `statusText` every unit's active message must end in, exactly
    /// (after "Unit is ready: Mode: R/W|R/O, "; `sources::charms::mysql`).
    pub online_message: String,
}

/// The vault unit and its fresh state (P02-D).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultExpectation {
    pub unit: String,
    pub fresh_status: String,
    pub fresh_message: String,
    /// `[phase02.vault.server]`: without it P02-SEALED, P02-INIT and P02-UNSEALED are
    /// PRECONDITION (the profile does not say where vault runs or what it must say).
    pub server: Option<VaultServer>,
    /// `[phase02.vault.authorized]`: without it P02-AUTHORIZED is PRECONDITION.
    pub authorized: Option<VaultAuthorized>,
}

/// Where the vault CLI runs and what `vault status` must say (P02-SEALED,
/// P02-UNSEALED), and where the init capture lives (P02-INIT).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultServer {
    /// `vault` (the charm's snap) or OpenBao's `bao`.
    pub cli: String,
    /// Passed as `-address=`: the CLI's own default is https.
    pub address: String,
    pub run_on: RunOn,
    /// `storage_type` in `vault status` (the charm runs vault on mysql).
    pub storage_type: String,
    pub ha_enabled: bool,
    /// The init capture: a file in a directory only its owner may enter, both absolute
    /// paths on the vault host.
    pub init_dir: String,
    pub init_file: String,
    pub key_shares: u32,
}

/// The host the vault CLI and the init capture are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOn {
    /// The vault unit, through `juju exec` (live use).
    Unit,
    /// This machine (a test's loopback server, or a jumphost that reaches vault).
    Local,
}

/// What an authorized vault and its certificate consumers look like (P02-AUTHORIZED).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultAuthorized {
    pub ready_status: String,
    /// The vault unit's workload message starts with this.
    pub ready_message: String,
    pub cert_consumers: Vec<CertConsumer>,
}

/// An application that waits for vault's certificates, and how many units it has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertConsumer {
    pub application: String,
    pub units: usize,
}

/// The admin-openrc on this machine (P03-OPENRC).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenrcExpectation {
    /// Absolute: stackgate runs argvs without a shell, so `~` is not expanded.
    pub path: String,
    /// `OS_*` names the file must assign a non-empty value.
    pub required: Vec<String>,
    /// How the admin-openrc action writes it; without it the action is PRECONDITION.
    pub build: Option<OpenrcBuild>,
}

/// What the admin-openrc action writes (seed 004 Step 3.2). The user, its domain and
/// the projects are charm-keystone's (`hooks/keystone_utils.py`: `ADMIN_DOMAIN =
/// 'admin_domain'`, `ADMIN_PROJECT = 'admin'`; config `admin-user` default `admin`):
/// `ensure_initial_admin` grants the admin role on project admin of admin_domain, and
/// `keystone-manage bootstrap` makes another project admin in Default, which the user
/// has no role on. Which one scopes is discovered, never assumed (DOCFIX-022).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenrcBuild {
    /// Where vault's root CA goes (`OS_CACERT`); absolute.
    pub ca_path: String,
    /// `OS_AUTH_URL` with `{vip}` for keystone's bundle VIP on the public plane.
    pub auth_url: String,
    pub username: String,
    pub user_domain: String,
    pub region: String,
    /// The project scopes to try, in order: the first that issues a token is written.
    pub scopes: Vec<OpenrcScope>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenrcScope {
    pub project: String,
    pub domain: String,
}

/// How a profile entry matches a workload message: always the whole message.
#[derive(Debug, Clone)]
pub enum MessageMatch {
    /// `message = "..."`: exactly this state, or it after the "PO: " prefix of loaded
    /// policy overrides (`sources::charms::match_state`); never a message that holds it
    /// among other states.
    Exact(String),
    /// `pattern = "^...$"`: a regex over the whole message, for a state whose message
    /// carries a value (a timestamp); compiled as `^(?:...)$` so an alternation cannot
    /// escape the anchors.
    Pattern(Regex),
}

impl MessageMatch {
    pub fn is_match(&self, message: &str) -> bool {
        match self {
            MessageMatch::Exact(state) => charms::match_state(message, state).holds(),
            MessageMatch::Pattern(re) => re.is_match(message),
        }
    }

    /// The state as the profile declares it, for evidence lines.
    pub fn shown(&self) -> String {
        match self {
            MessageMatch::Exact(state) => format!("{state:?}"),
            MessageMatch::Pattern(re) => format!("/{}/", re.as_str()),
        }
    }
}

/// The workload statuses an allowlist entry may name: a settled unit is active and
/// needs none, and `error` is never allowed (P02-E's rule).
const ALLOWABLE_WORKLOADS: &[&str] = &["unknown", "maintenance", "waiting", "blocked"];

/// One allowlisted non-active/idle state for the phase-03 acceptance walk.
#[derive(Debug, Clone)]
pub struct Allowance {
    pub application: String,
    pub workload: String,
    pub message: MessageMatch,
    /// `Some(true)`: only the application's leader unit (juju status `leader`) may be
    /// in this state; `Some(false)`: only its other units.
    pub leader: Option<bool>,
    pub reason: String,
    /// The upstream repository and file that print the state.
    pub source: String,
}

impl Allowance {
    /// Whether the entry names this application, status and whole message, whatever
    /// the unit's role.
    pub fn names(&self, application: &str, workload: &str, message: &str) -> bool {
        self.application == application
            && self.workload == workload
            && self.message.is_match(message)
    }

    pub fn allows(&self, application: &str, workload: &str, message: &str, leader: bool) -> bool {
        self.names(application, workload, message) && self.leader.is_none_or(|l| l == leader)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase04 {
    provider_plane: String,
    network: String,
    subnet: String,
    network_type: String,
    physical_network: String,
    fip_pool: RawPool,
    subnet_tag: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    start: String,
    end: String,
}

/// The provider network of phase 04 (seed 004 phase-04, D-052): the external flat
/// network on the provider plane and its floating-IP subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase04 {
    /// The plane (by name in `[[planes]]`) whose CIDR and gateway the subnet takes.
    pub provider_plane: String,
    pub network: String,
    pub subnet: String,
    pub network_type: String,
    pub physical_network: String,
    /// The FIP pool: a reserved range in MAAS and the subnet's one allocation pool.
    pub fip_start: Ipv4Addr,
    pub fip_end: Ipv4Addr,
    /// A tag the subnet must carry (`role=provider`).
    pub subnet_tag: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase05 {
    octavia: String,
    retrofit: String,
    awaiting_leader_message: String,
    awaiting_non_leader_message: String,
    lb_mgmt_network: String,
    lb_mgmt_subnet: String,
    lb_mgmt_security_group: String,
    mgmt_interface: String,
    mgmt_prefix: String,
    image_format: String,
    use_internal_endpoints: bool,
    amp_image_tag: String,
    #[serde(default)]
    amphora_base: Option<AmphoraBase>,
}

/// Octavia of phase 05 (seed 004 phase-05): the applications, the lb-mgmt resources
/// charm-octavia creates, the health-manager interface and the amphora image.
#[derive(Debug, Clone)]
pub struct Phase05 {
    pub octavia: String,
    /// The octavia-diskimage-retrofit application.
    pub retrofit: String,
    /// octavia's blocked message on its leader while it waits for configure-resources,
    /// matched whole (`sources::charms::match_state`).
    pub awaiting_leader_message: String,
    /// ... and on every other octavia unit.
    pub awaiting_non_leader_message: String,
    pub lb_mgmt_network: String,
    pub lb_mgmt_subnet: String,
    pub lb_mgmt_security_group: String,
    /// The health-manager port on each octavia unit (`o-hm0`).
    pub mgmt_interface: String,
    /// The prefix its address must lie in (RFC 4193 ULA, `fc00::/7`).
    pub mgmt_prefix: Ipv6Net,
    /// The retrofit's `image-format` (raw on Ceph-backed glance).
    pub image_format: String,
    /// The retrofit's `use-internal-endpoints` (LP#1937003).
    pub use_internal_endpoints: bool,
    /// The tag amphora images carry and octavia boots by.
    pub amp_image_tag: String,
    /// The base image the amphora pipeline retrofits (`[phase05.amphora_base]`); the
    /// pipeline refuses to plan without it.
    pub amphora_base: Option<AmphoraBase>,
}

/// The Ubuntu cloud image the amphora is retrofitted from (seed 004 step 5.2,
/// `phase-05-amphora-pipeline.sh`): found in glance by name; when absent, downloaded
/// in-process from `url`, its sha256 checked against the published `sums_url`, and
/// uploaded under `name`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AmphoraBase {
    /// The glance image name (seed 004: `jammy-amphora-base`).
    pub name: String,
    /// The image's URL; its last path segment is the name `SHA256SUMS` lists it by.
    pub url: String,
    /// The published `SHA256SUMS` (GNU sha256sum output) beside it.
    pub sums_url: String,
    /// Where on the machine stackgate runs on the download goes (made if missing).
    pub download_dir: String,
    /// The upload's `--disk-format` (Ubuntu cloud images are qcow2).
    #[serde(default = "default_base_disk_format")]
    pub disk_format: String,
    /// A download larger than this is refused (a jammy cloud image is ~650 MB).
    #[serde(default = "default_base_max_bytes")]
    pub max_bytes: u64,
}

fn default_base_disk_format() -> String {
    "qcow2".to_string()
}

fn default_base_max_bytes() -> u64 {
    4 << 30
}

/// `[phase05.amphora_base]`: a name, http(s) URLs whose image URL names a file, and
/// an absolute download directory.
fn check_amphora_base(b: AmphoraBase) -> Result<AmphoraBase, String> {
    if b.name.trim().is_empty() {
        return Err("phase05.amphora_base.name is empty".to_string());
    }
    for (key, value) in [("url", &b.url), ("sums_url", &b.sums_url)] {
        let parsed = url::Url::parse(value)
            .map_err(|e| format!("phase05.amphora_base.{key} {value:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "phase05.amphora_base.{key} {value:?}: not an http(s) URL"
            ));
        }
    }
    crate::actions::download::file_name(&b.url)
        .map_err(|e| format!("phase05.amphora_base.url: {e}"))?;
    if !std::path::Path::new(&b.download_dir).is_absolute() {
        return Err(format!(
            "phase05.amphora_base.download_dir {:?} is not an absolute path",
            b.download_dir
        ));
    }
    Ok(b)
}

/// Which principal units run haproxy (P03-HAPROXY): the applications by name (R4:
/// identity, an expected application that is absent is a finding) and where their
/// charm puts the stats socket.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HaproxySweep {
    pub applications: Vec<String>,
    #[serde(default = "default_stats_socket")]
    pub stats_socket: String,
}

fn default_stats_socket() -> String {
    crate::sources::haproxy::CHARM_STATS_SOCKET.to_string()
}

/// The Horizon reverse-proxy leg (P03-HORIZON, D-044): the proxy's address and the
/// dashboard VIP it forwards to over plain http.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HorizonExpectation {
    pub proxy: SocketAddrV4,
    pub dashboard: SocketAddrV4,
    /// `/horizon/`: answers 302 to the login page.
    pub path: String,
    /// `/horizon/auth/login/`: sets the csrftoken cookie.
    pub login_path: String,
}

impl HorizonExpectation {
    pub fn proxy_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.proxy)
    }

    pub fn dashboard_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.dashboard)
    }
}

/// A validated site profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub model: String,
    pub controller: Option<String>,
    pub user: Option<String>,
    pub mysql: MysqlExpectation,
    pub vault: VaultExpectation,
    pub phase03_allow: Vec<Allowance>,
    /// Failures accepted until a date (`[[waiver]]`; more from `--waivers FILE`).
    pub waivers: Vec<crate::waivers::Waiver>,
    /// The MAAS substrate; `None` for a profile that covers only later phases.
    pub maas: Option<MaasSite>,
    pub planes: Vec<Plane>,
    pub hosts: Vec<Host>,
    pub carve: Option<Carve>,
    pub bundle: Option<BundleSite>,
    pub phase01: Option<Phase01>,
    /// The libvirt host of a site whose hosts are KVM domains; `None` on bare metal.
    pub libvirt: Option<LibvirtSite>,
    pub teardown: Teardown,
    /// Phase 04; `None` for a profile that does not cover it.
    pub phase04: Option<Phase04>,
    /// Phase 05; `None` for a profile that does not cover it.
    pub phase05: Option<Phase05>,
    /// The service catalog P03-ENDPOINTS expects.
    pub endpoints: Option<EndpointsSite>,
    pub haproxy: Option<HaproxySweep>,
    pub horizon: Option<HorizonExpectation>,
    /// `[phase03.openrc]`; without it P03-OPENRC is PRECONDITION.
    pub openrc: Option<OpenrcExpectation>,
    /// `[runner]`: bounds on the commands the live runner starts.
    pub runner: RunnerSettings,
}

impl Profile {
    /// The MAAS CLI profile every `maas` argv names (`admin` when the site has no
    /// [maas] section).
    pub fn maas_profile(&self) -> String {
        self.maas
            .as_ref()
            .map_or_else(|| "admin".to_string(), |m| m.profile.clone())
    }

    pub fn plane(&self, name: &str) -> Option<&Plane> {
        self.planes.iter().find(|p| p.name == name)
    }

    /// The embedded testcloud profile.
    pub fn testcloud() -> Profile {
        Profile::parse(TESTCLOUD, "embedded testcloud")
            .expect("the embedded testcloud profile is valid")
    }

    /// An embedded profile by name.
    pub fn embedded(name: &str) -> Option<Profile> {
        match name {
            "testcloud" => Some(Profile::testcloud()),
            "bare-metal" => Some(
                Profile::parse(BARE_METAL, "embedded bare-metal")
                    .expect("the embedded bare-metal profile is valid"),
            ),
            _ => None,
        }
    }

    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?;
        Profile::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source_name: &str) -> Result<Profile, ProfileError> {
        let fail = |message: String| ProfileError {
            source_name: source_name.to_string(),
            message,
        };
        let raw: RawProfile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let regex = |what: &str, pattern: &str| {
            Regex::new(pattern).map_err(|e| fail(format!("{what}: {e}")))
        };
        if raw.phase02.mysql.units == 0 {
            return Err(fail("phase02.mysql.units must be at least 1".into()));
        }
        // An entry matches a whole message, exactly or by an anchored pattern, and
        // names where upstream prints it (issue 8: a prefix regex allowed a message
        // that joined the allowed state with others).
        let message_match = |what: &str,
                             message: Option<String>,
                             pattern: Option<String>,
                             source: &str|
         -> Result<MessageMatch, ProfileError> {
            if source.trim().is_empty() {
                return Err(fail(format!(
                    "{what}: `source` must name the upstream repository and file that print the state"
                )));
            }
            match (message, pattern) {
                (Some(m), None) => Ok(MessageMatch::Exact(m)),
                (None, Some(p)) => {
                    if !(p.starts_with('^') && p.ends_with('$')) {
                        return Err(fail(format!(
                            "{what}: pattern {p:?} must match the whole message, anchored ^...$"
                        )));
                    }
                    Ok(MessageMatch::Pattern(regex(what, &format!("^(?:{p})$"))?))
                }
                _ => Err(fail(format!(
                    "{what}: give exactly one of `message` (exact) or `pattern` (^...$)"
                ))),
            }
        };
        let phase03_allow = raw
            .phase03
            .allow
            .into_iter()
            .map(|a| {
                let what = format!("phase03.allow {} {}", a.application, a.workload);
                if !ALLOWABLE_WORKLOADS.contains(&a.workload.as_str()) {
                    return Err(fail(format!(
                        "{what}: workload must be one of {}",
                        ALLOWABLE_WORKLOADS.join(", ")
                    )));
                }
                Ok(Allowance {
                    message: message_match(&what, a.message, a.pattern, &a.source)?,
                    leader: a.leader,
                    reason: a.reason,
                    source: a.source,
                    application: a.application,
                    workload: a.workload,
                })
            })
            .collect::<Result<Vec<_>, ProfileError>>()?;
        let waivers = crate::waivers::validate(raw.waiver, &format!("in profile {}", raw.name))
            .map_err(|e| ProfileError {
                source_name: source_name.to_string(),
                message: e.to_string(),
            })?;
        let planes = raw
            .planes
            .into_iter()
            .map(|p| {
                let what = format!("plane {}", p.name);
                let addr = |field: &str, v: &str| {
                    v.parse::<Ipv4Addr>()
                        .map_err(|e| fail(format!("{what} {field} {v:?}: {e}")))
                };
                let cidr: Ipv4Net = p
                    .cidr
                    .parse()
                    .map_err(|e| fail(format!("{what} cidr {:?}: {e}", p.cidr)))?;
                if cidr != cidr.trunc() {
                    return Err(fail(format!("{what} cidr {cidr} has host bits set")));
                }
                let reserved = p
                    .reserved
                    .iter()
                    .map(|r| {
                        let (start, end) = (
                            addr("reserved start", &r.start)?,
                            addr("reserved end", &r.end)?,
                        );
                        if !(cidr.contains(&start) && cidr.contains(&end) && start <= end) {
                            return Err(fail(format!(
                                "{what}: reserved {start}-{end} is not inside {cidr}"
                            )));
                        }
                        Ok(ReservedRange {
                            start,
                            end,
                            purpose: r.purpose.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, ProfileError>>()?;
                Ok(Plane {
                    gateway: p
                        .gateway
                        .as_deref()
                        .map(|g| addr("gateway", g))
                        .transpose()?,
                    dns: p
                        .dns
                        .iter()
                        .map(|d| addr("dns", d))
                        .collect::<Result<_, _>>()?,
                    name: p.name,
                    cidr,
                    vid: p.vid,
                    reserved,
                })
            })
            .collect::<Result<Vec<_>, ProfileError>>()?;
        for host in &raw.hosts {
            for plane in &planes {
                let ip = plane.host_address(host.octet);
                if host.octet == 0 || !plane.cidr.contains(&ip) || ip == plane.cidr.broadcast() {
                    return Err(fail(format!(
                        "host {} octet {} is not a host address of plane {} {}",
                        host.hostname, host.octet, plane.name, plane.cidr
                    )));
                }
            }
        }
        if let Some(carve) = &raw.carve {
            for link in &carve.links {
                if !planes.iter().any(|p| p.name == link.plane) {
                    return Err(fail(format!(
                        "carve link {} names unknown plane {}",
                        link.interface, link.plane
                    )));
                }
            }
        }
        if let Some(bundle) = &raw.bundle {
            for plane in &bundle.vip_planes {
                if !planes.iter().any(|p| &p.name == plane) {
                    return Err(fail(format!(
                        "bundle vip_planes names unknown plane {plane}"
                    )));
                }
            }
            if bundle.vip_octets.first > bundle.vip_octets.last {
                return Err(fail("bundle vip_octets: first is above last".into()));
            }
        }
        if let Some(maas) = &raw.maas {
            for host in &raw.hosts {
                if maas.protected.contains(&host.hostname) {
                    return Err(fail(format!(
                        "host {} is also a protected machine: a protected machine is never a target",
                        host.hostname
                    )));
                }
            }
        }
        if let Some(libvirt) = &raw.libvirt {
            libvirt.validate().map_err(fail)?;
        }
        if let Some(flag) = &raw.teardown.storage_flag {
            if !["--destroy-storage", "--release-storage"].contains(&flag.as_str()) {
                return Err(fail(format!(
                    "teardown.storage_flag {flag:?} is not a juju destroy-model storage flag (--destroy-storage or --release-storage)"
                )));
            }
        }
        if let Some(dir) = &raw.teardown.backup_dir {
            if !dir.starts_with('/') || !dir.contains("{stamp}") {
                return Err(fail(format!(
                    "teardown.backup_dir {dir:?} must be an absolute path holding {{stamp}}: every capture gets its own directory"
                )));
            }
        }
        let phase04 = raw
            .phase04
            .map(|p| {
                let what = "phase04";
                let plane = planes
                    .iter()
                    .find(|pl| pl.name == p.provider_plane)
                    .ok_or_else(|| {
                        fail(format!(
                            "{what}.provider_plane {} names no plane",
                            p.provider_plane
                        ))
                    })?;
                let addr = |field: &str, v: &str| {
                    v.parse::<Ipv4Addr>()
                        .map_err(|e| fail(format!("{what}.fip_pool {field} {v:?}: {e}")))
                };
                let (start, end) = (
                    addr("start", &p.fip_pool.start)?,
                    addr("end", &p.fip_pool.end)?,
                );
                if !(plane.cidr.contains(&start) && plane.cidr.contains(&end) && start <= end) {
                    return Err(fail(format!(
                        "{what}.fip_pool {start}-{end} is not inside {}",
                        plane.cidr
                    )));
                }
                Ok(Phase04 {
                    provider_plane: p.provider_plane,
                    network: p.network,
                    subnet: p.subnet,
                    network_type: p.network_type,
                    physical_network: p.physical_network,
                    fip_start: start,
                    fip_end: end,
                    subnet_tag: p.subnet_tag,
                })
            })
            .transpose()?;
        let phase05 = raw
            .phase05
            .map(|p| {
                for (key, message) in [
                    ("awaiting_leader_message", &p.awaiting_leader_message),
                    (
                        "awaiting_non_leader_message",
                        &p.awaiting_non_leader_message,
                    ),
                ] {
                    if message.trim().is_empty() {
                        return Err(fail(format!("phase05.{key} is empty")));
                    }
                }
                Ok(Phase05 {
                    awaiting_leader_message: p.awaiting_leader_message,
                    awaiting_non_leader_message: p.awaiting_non_leader_message,
                    mgmt_prefix: p.mgmt_prefix.parse().map_err(|e| {
                        fail(format!("phase05.mgmt_prefix {:?}: {e}", p.mgmt_prefix))
                    })?,
                    octavia: p.octavia,
                    retrofit: p.retrofit,
                    lb_mgmt_network: p.lb_mgmt_network,
                    lb_mgmt_subnet: p.lb_mgmt_subnet,
                    lb_mgmt_security_group: p.lb_mgmt_security_group,
                    mgmt_interface: p.mgmt_interface,
                    image_format: p.image_format,
                    use_internal_endpoints: p.use_internal_endpoints,
                    amp_image_tag: p.amp_image_tag,
                    amphora_base: p
                        .amphora_base
                        .map(|b| check_amphora_base(b).map_err(&fail))
                        .transpose()?,
                })
            })
            .transpose()?;
        let horizon = raw
            .phase03
            .horizon
            .map(|h| {
                let addr = |field: &str, v: &str| {
                    v.parse::<SocketAddrV4>()
                        .map_err(|e| fail(format!("phase03.horizon {field} {v:?}: {e}")))
                };
                for (field, path) in [("path", &h.path), ("login_path", &h.login_path)] {
                    if !path.starts_with('/') {
                        return Err(fail(format!(
                            "phase03.horizon {field} {path:?} must start with /"
                        )));
                    }
                }
                Ok(HorizonExpectation {
                    proxy: addr("proxy", &h.proxy)?,
                    dashboard: addr("dashboard", &h.dashboard)?,
                    path: h.path,
                    login_path: h.login_path,
                })
            })
            .transpose()?;
        if let Some(sweep) = &raw.phase03.haproxy
            && sweep.applications.is_empty()
        {
            return Err(fail(
                "phase03.haproxy.applications must name at least one application".into(),
            ));
        }
        if let Some(server) = &raw.phase02.vault.server {
            for (key, path) in [
                ("init_dir", &server.init_dir),
                ("init_file", &server.init_file),
            ] {
                if !path.starts_with('/') {
                    return Err(fail(format!(
                        "phase02.vault.server.{key} {path:?} must be absolute (no shell expands `~`)"
                    )));
                }
            }
            if Path::new(&server.init_file).parent() != Some(Path::new(&server.init_dir)) {
                return Err(fail(format!(
                    "phase02.vault.server.init_file {:?} must sit directly in init_dir {:?}",
                    server.init_file, server.init_dir
                )));
            }
            if server.key_shares == 0 {
                return Err(fail(
                    "phase02.vault.server.key_shares must be at least 1".into(),
                ));
            }
        }
        if raw.runner.max_output_mib == 0 {
            return Err(fail("runner.max_output_mib must be at least 1".into()));
        }
        if raw.runner.max_output_bytes().is_none() {
            return Err(fail(format!(
                "runner.max_output_mib {} is more than this machine can address",
                raw.runner.max_output_mib
            )));
        }
        if let Some(openrc) = &raw.phase03.openrc {
            if !openrc.path.starts_with('/') {
                return Err(fail(format!(
                    "phase03.openrc.path {:?} must be absolute (no shell expands `~`)",
                    openrc.path
                )));
            }
            if let Some(build) = &openrc.build {
                if !build.ca_path.starts_with('/') {
                    return Err(fail(format!(
                        "phase03.openrc.build.ca_path {:?} must be absolute",
                        build.ca_path
                    )));
                }
                if !build.auth_url.contains("{vip}") {
                    return Err(fail(
                        "phase03.openrc.build.auth_url must hold {vip}: keystone's address is resolved from the bundle, never pinned".to_string(),
                    ));
                }
                if build.scopes.is_empty() {
                    return Err(fail(
                        "phase03.openrc.build.scopes is empty: the discovery needs a scope to try"
                            .to_string(),
                    ));
                }
            }
        }
        Ok(Profile {
            endpoints: raw.endpoints,
            phase04,
            phase05,
            bundle: raw.bundle,
            phase01: raw.phase01,
            libvirt: raw.libvirt,
            teardown: raw.teardown,
            haproxy: raw.phase03.haproxy,
            horizon,
            openrc: raw.phase03.openrc,
            runner: raw.runner,
            maas: raw.maas,
            planes,
            hosts: raw.hosts,
            carve: raw.carve,
            name: raw.name,
            description: raw.description.unwrap_or_default(),
            model: raw.juju.model,
            controller: raw.juju.controller,
            user: raw.juju.user,
            mysql: raw.phase02.mysql,
            vault: raw.phase02.vault,
            phase03_allow,
            waivers,
        })
    }
}

/// The libvirt side of a site whose hosts are KVM domains on one host (the testcloud's
/// jumphost). Each host's domain is named by its [[hosts]] hostname.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LibvirtSite {
    /// Connection URI of every virsh read (seed 002 step 1: `qemu:///system`).
    pub uri: String,
    /// argv prefix of virsh, qemu-img and stat: the runbook runs them with `sudo`, and
    /// `sudo -n` fails at once instead of prompting on a closed stdin. Empty: none.
    #[serde(default)]
    pub command_prefix: Vec<String>,
    /// The idle network every host's NIC leaves in seed 002 step 3.
    pub lbaas_network: String,
    /// Where lbaas-net-remove backs up that network's XML before undefining it (seed
    /// 002 step 3: `~/8_lbaas-net.xml.bak`).
    #[serde(default)]
    pub lbaas_backup: Option<String>,
    /// The libvirt network each host PXE-boots from: its NIC there is the boot MAC
    /// `reenroll` gives `machines create` (D-055: "the boot NIC MAC", on 2_metal).
    #[serde(default)]
    pub boot_network: Option<String>,
    /// MAAS's virsh power address for the hosts (`qemu+ssh://user@host/system`),
    /// reconstructed, never read from a machine's power-parameters (004 security note).
    #[serde(default)]
    pub power_address: Option<String>,
    pub osd: OsdDisks,
}

impl LibvirtSite {
    pub fn connection(&self) -> Connection {
        Connection {
            uri: self.uri.clone(),
            prefix: self.command_prefix.clone(),
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.uri.trim().is_empty() {
            return Err("libvirt.uri is empty".into());
        }
        if self.lbaas_network.trim().is_empty() {
            return Err("libvirt.lbaas_network is empty".into());
        }
        let osd = &self.osd;
        if !osd.path.contains("{host}") {
            return Err(format!(
                "libvirt.osd.path {:?} does not hold {{host}}: every host has its own disk",
                osd.path
            ));
        }
        if osd.virtual_size_gib == 0 {
            return Err("libvirt.osd.virtual_size_gib must be at least 1".into());
        }
        if !osd
            .owner
            .split_once(':')
            .is_some_and(|(u, g)| !u.is_empty() && !g.is_empty())
        {
            return Err(format!(
                "libvirt.osd.owner {:?} is not owner:group",
                osd.owner
            ));
        }
        let octal = osd.mode.chars().all(|c| ('0'..='7').contains(&c));
        if !(octal && (3..=4).contains(&osd.mode.len())) || osd.mode.starts_with('0') {
            return Err(format!(
                "libvirt.osd.mode {:?} is not octal mode bits as stat %a prints them (600)",
                osd.mode
            ));
        }
        Ok(())
    }
}

/// Each host's OSD disk (its vdb): what the wipe of seed 002 step 4 leaves.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OsdDisks {
    /// The image path; `{host}` stands for the hostname (`<host>-1.qcow2`).
    pub path: String,
    /// The image format qemu-img must report (`qcow2`).
    pub format: String,
    pub virtual_size_gib: u64,
    /// The most a blank image may take on disk: a fresh 512G qcow2 takes about 200 KiB
    /// (header, L1 table, refcount table and block), one written cluster adds its L2
    /// table and data (seed 004 osd-blank-check: 512 GiB / 200 KiB).
    pub blank_max_actual_kib: u64,
    /// `owner:group` as stat %U:%G prints it.
    pub owner: String,
    /// Octal mode bits as stat %a prints them.
    pub mode: String,
}

impl OsdDisks {
    pub fn path_for(&self, hostname: &str) -> String {
        self.path.replace("{host}", hostname)
    }

    pub fn virtual_size_bytes(&self) -> u64 {
        self.virtual_size_gib << 30
    }

    pub fn blank_max_actual_bytes(&self) -> u64 {
        self.blank_max_actual_kib << 10
    }
}

/// Bounds of the teardown (P00-TEARDOWN).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Teardown {
    /// Minutes the model may stay destroying before the remediation is due (seed 002
    /// step 2: "still destroying after ~10 min: remove-machine --force, re-run"). A
    /// profile without [teardown] takes the seed's 10.
    #[serde(default = "ten_minutes")]
    pub remediate_destroying_after_minutes: u64,
    /// The Path A canary host (release --keep-instance; D-061).
    pub canary: Option<String>,
    /// The file the destroy path's pre-destroy capture points at its backup directory
    /// with (seed 000 acceptance).
    pub backup_pointer: Option<String>,
    /// The directory the destroy path's pre-destroy capture writes (export-bundle,
    /// status, models); `{stamp}` stands for the run's UTC time (seed 000:
    /// `pre-caracal-destroy-20261120T091204Z`).
    pub backup_dir: Option<String>,
    /// The storage flag `juju destroy-model` gets: `--destroy-storage` (runbook 01; on
    /// this virsh-pod MAAS the machines decompose either way, D-055/D-061),
    /// `--release-storage`, or none.
    pub storage_flag: Option<String>,
}

/// `[runner]`: how the live runner bounds one command.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RunnerSettings {
    /// MiB one command may print on stdout, and as many on stderr; past it the
    /// command's group is killed and its read is PRECONDITION. A 100 MB `juju status`
    /// once took 873 MB of memory unbounded.
    #[serde(default = "default_max_output_mib")]
    pub max_output_mib: u64,
}

impl RunnerSettings {
    /// The bound in bytes; `None` only for a value `Profile::parse` rejects.
    pub fn max_output_bytes(&self) -> Option<usize> {
        usize::try_from(self.max_output_mib)
            .ok()?
            .checked_mul(1 << 20)
    }
}

fn default_max_output_mib() -> u64 {
    (crate::runner::DEFAULT_MAX_OUTPUT >> 20) as u64
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            max_output_mib: default_max_output_mib(),
        }
    }
}

fn ten_minutes() -> u64 {
    10
}

impl Default for Teardown {
    fn default() -> Self {
        Teardown {
            remediate_destroying_after_minutes: ten_minutes(),
            backup_dir: None,
            storage_flag: None,
            canary: None,
            backup_pointer: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_testcloud_parses() {
        let p = Profile::testcloud();
        assert_eq!(p.model, "openstack");
        assert_eq!(p.mysql.units, 3);
        assert_eq!(p.phase03_allow.len(), 4);
        assert!(p.phase03_allow.iter().all(|a| !a.source.is_empty()));
    }

    /// The octavia leader's allow entry, rewritten by the tests below.
    const OCTAVIA_LEADER_ALLOW: &str = "message = \"Awaiting end-user execution of `configure-resources` action to create required resources\"\nleader = true";

    fn with_octavia_entry(entry: &str) -> Result<Profile, ProfileError> {
        assert!(TESTCLOUD.contains(OCTAVIA_LEADER_ALLOW));
        Profile::parse(&TESTCLOUD.replacen(OCTAVIA_LEADER_ALLOW, entry, 1), "t")
    }

    #[test]
    fn a_bad_pattern_is_rejected_before_anything_runs() {
        let err = with_octavia_entry("pattern = \"^(unclosed$\"").unwrap_err();
        assert!(err.message.contains("octavia"), "{err}");
    }

    /// Issue 8: a prefix regex ("^Awaiting .*configure-resources") allowed octavia's
    /// awaiting state joined with its certificate state. A pattern must cover the whole
    /// message, and an alternation cannot escape its anchors.
    #[test]
    fn an_allow_pattern_matches_the_whole_message_only() {
        let err = with_octavia_entry("pattern = \"^Awaiting .*configure-resources\"").unwrap_err();
        assert!(err.message.contains("anchored"), "{err}");
        let p = with_octavia_entry("pattern = \"^Awaiting leader|x$\"").unwrap();
        let a = &p.phase03_allow[0];
        assert!(
            !a.message
                .is_match("Awaiting leader to create required resources")
        );
        assert!(a.message.is_match("Awaiting leader"));
    }

    #[test]
    fn an_allow_entry_has_one_matcher_a_source_and_no_error_or_active_status() {
        let both = format!("{OCTAVIA_LEADER_ALLOW}\npattern = \"^x$\"");
        assert!(
            with_octavia_entry(&both)
                .unwrap_err()
                .message
                .contains("exactly one")
        );
        assert!(with_octavia_entry("leader = true").is_err());
        let unsourced = TESTCLOUD.replacen(
            "source = \"openstack/charm-octavia (stable/2024.1)",
            "source = \" \"\n# openstack/charm-octavia (stable/2024.1)",
            1,
        );
        let err = Profile::parse(&unsourced, "t").unwrap_err();
        assert!(err.message.contains("source"), "{err}");
        for workload in ["error", "active"] {
            let text = TESTCLOUD.replacen(
                "workload = \"blocked\"",
                &format!("workload = \"{workload}\""),
                1,
            );
            let err = Profile::parse(&text, "t").unwrap_err();
            assert!(err.message.contains("workload must be"), "{err}");
        }
    }

    #[test]
    fn planes_hosts_and_carve_load() {
        let p = Profile::testcloud();
        assert_eq!(p.planes.len(), 6);
        let internal = p
            .planes
            .iter()
            .find(|p| p.name == "metal-internal")
            .unwrap();
        assert_eq!((internal.vid, internal.gateway), (103, None));
        assert_eq!(internal.host_address(42).to_string(), "10.12.12.42");
        assert_eq!(p.hosts.len(), 4);
        assert_eq!(
            p.maas.as_ref().unwrap().protected,
            ["juju", "lxd", "tailscale"]
        );
    }

    #[test]
    fn a_reserved_range_outside_its_plane_is_rejected() {
        let text = TESTCLOUD.replace("{ start = \"10.12.5.0\"", "{ start = \"10.13.5.0\"");
        let err = Profile::parse(&text, "t").unwrap_err();
        assert!(err.message.contains("provider-public"), "{err}");
    }

    #[test]
    fn a_host_number_counts_past_255_inside_its_planes_and_never_out_of_them() {
        // A /22 plane holds 1,022 hosts: octet 1000 is 10.12.7.232 on 10.12.4.0/22.
        let text = TESTCLOUD.replacen("octet = 40", "octet = 1000", 1);
        let p = Profile::parse(&text, "t").unwrap();
        let provider = p.plane("provider-public").unwrap();
        assert_eq!(provider.host_address(1000).to_string(), "10.12.7.232");
        for (octet, why) in [("1023", "broadcast"), ("1024", "outside"), ("0", "network")] {
            let text = TESTCLOUD.replacen("octet = 40", &format!("octet = {octet}"), 1);
            let err = Profile::parse(&text, "t").unwrap_err();
            assert!(
                err.message
                    .contains(&format!("octet {octet} is not a host address")),
                "{why}: {err}"
            );
        }
    }

    #[test]
    fn phase04_and_phase05_load() {
        let p = Profile::testcloud();
        let p4 = p.phase04.as_ref().unwrap();
        assert_eq!(p4.fip_start.to_string(), "10.12.5.0");
        assert_eq!(p4.fip_end.to_string(), "10.12.7.254");
        assert_eq!(
            p.plane(&p4.provider_plane).unwrap().cidr.to_string(),
            "10.12.4.0/22"
        );
        let p5 = p.phase05.as_ref().unwrap();
        // charm-octavia src/lib/charm/openstack/octavia.py states_to_check, exactly.
        assert_eq!(
            p5.awaiting_leader_message,
            "Awaiting end-user execution of `configure-resources` action to create required resources"
        );
        assert_eq!(
            p5.awaiting_non_leader_message,
            "Awaiting leader to create required resources"
        );
        assert!(
            p5.mgmt_prefix.contains(
                &"fc00:7bab:3c0b:ae43::1"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
            )
        );
    }

    #[test]
    fn the_amphora_base_loads_and_a_bad_one_is_refused_naming_its_key() {
        let p = Profile::testcloud();
        let base = p.phase05.unwrap().amphora_base.unwrap();
        assert_eq!(base.name, "jammy-amphora-base");
        assert_eq!(base.disk_format, "qcow2");
        assert!(base.url.ends_with("/jammy-server-cloudimg-amd64.img"));
        assert!(base.sums_url.ends_with("/SHA256SUMS"));
        for (from, to, says) in [
            (
                "sums_url = \"https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS\"",
                "sums_url = \"ftp://example.org/SHA256SUMS\"",
                "phase05.amphora_base.sums_url",
            ),
            (
                "download_dir = \"/var/tmp/stackgate-amphora\"",
                "download_dir = \"var/tmp\"",
                "not an absolute path",
            ),
            (
                "url = \"https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img\"",
                "url = \"https://cloud-images.ubuntu.com/jammy/current/\"",
                "phase05.amphora_base.url",
            ),
            (
                "disk_format = \"qcow2\"",
                "disk_format = \"qcow2\"\nchecksum = \"x\"",
                "unknown field",
            ),
        ] {
            assert!(TESTCLOUD.contains(from), "{from}");
            let err = Profile::parse(&TESTCLOUD.replace(from, to), "t").unwrap_err();
            assert!(err.message.contains(says), "{says}: {err}");
        }
    }

    #[test]
    fn a_fip_pool_outside_the_provider_plane_is_rejected() {
        let text = TESTCLOUD.replace(
            "fip_pool = { start = \"10.12.5.0\"",
            "fip_pool = { start = \"10.12.3.0\"",
        );
        let err = Profile::parse(&text, "t").unwrap_err();
        assert!(err.message.contains("phase04.fip_pool"), "{err}");
    }

    #[test]
    fn vault_and_openrc_sections_load_and_paths_must_be_absolute() {
        let p = Profile::testcloud();
        let server = p.vault.server.as_ref().unwrap();
        assert_eq!(
            (server.run_on, server.storage_type.as_str()),
            (RunOn::Unit, "mysql")
        );
        assert_eq!(p.vault.authorized.as_ref().unwrap().cert_consumers.len(), 5);
        assert!(
            p.openrc
                .as_ref()
                .unwrap()
                .required
                .contains(&"OS_PASSWORD".to_string())
        );
        // No shell expands `~` for stackgate's argvs.
        let text = TESTCLOUD.replace("\"/home/ubuntu/admin-openrc\"", "\"~/admin-openrc\"");
        assert!(
            Profile::parse(&text, "t")
                .unwrap_err()
                .message
                .contains("phase03.openrc.path")
        );
        let text = TESTCLOUD.replace(
            "init_file = \"/home/ubuntu/vault-init/init.txt\"",
            "init_file = \"/home/ubuntu/init.txt\"",
        );
        assert!(
            Profile::parse(&text, "t")
                .unwrap_err()
                .message
                .contains("init_dir")
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = TESTCLOUD.replace(
            "model = \"openstack\"",
            "model = \"openstack\"\nmodle = \"x\"",
        );
        assert!(Profile::parse(&text, "t").is_err());
    }

    #[test]
    fn the_testcloud_libvirt_host_and_osd_disks_load() {
        let p = Profile::testcloud();
        let libvirt = p.libvirt.as_ref().unwrap();
        assert_eq!(libvirt.lbaas_network, "8_lbaas");
        assert_eq!(
            libvirt.osd.path_for("openstack2"),
            "/var/lib/libvirt/images/openstack2-1.qcow2"
        );
        assert_eq!(libvirt.osd.virtual_size_bytes(), 549_755_813_888);
        assert_eq!(
            (libvirt.osd.owner.as_str(), libvirt.osd.mode.as_str()),
            ("root:root", "600")
        );
        assert_eq!(p.teardown.remediate_destroying_after_minutes, 10);
    }

    #[test]
    fn the_bare_metal_profile_is_embedded_and_has_no_libvirt() {
        let p = Profile::embedded("bare-metal").unwrap();
        assert_eq!(p.name, "bare-metal");
        assert!(p.libvirt.is_none());
        assert_eq!(p.hosts.len(), 4);
    }

    #[test]
    fn the_output_bound_defaults_to_256_mib_and_must_be_at_least_1() {
        let p = Profile::testcloud();
        assert_eq!(p.runner.max_output_mib, 256);
        assert_eq!(p.runner.max_output_bytes(), Some(256 << 20));
        // A profile without [runner] takes the default.
        let bare = Profile::embedded("bare-metal").unwrap();
        assert_eq!(bare.runner, RunnerSettings::default());
        assert_eq!(bare.runner.max_output_mib, 256);
        let one = TESTCLOUD.replace("max_output_mib = 256", "max_output_mib = 1");
        assert_ne!(one, TESTCLOUD);
        assert_eq!(
            Profile::parse(&one, "t").unwrap().runner.max_output_bytes(),
            Some(1 << 20)
        );
        for (value, says) in [("0", "at least 1"), ("18446744073709551615", "address")] {
            let text =
                TESTCLOUD.replace("max_output_mib = 256", &format!("max_output_mib = {value}"));
            let err = Profile::parse(&text, "t").unwrap_err();
            assert!(err.message.contains("runner.max_output_mib"), "{err}");
            assert!(err.message.contains(says), "{err}");
        }
        let typo = TESTCLOUD.replace("max_output_mib = 256", "max_output_mb = 256");
        assert!(Profile::parse(&typo, "t").is_err());
    }

    #[test]
    fn osd_settings_are_checked_before_anything_runs() {
        for (from, to, says) in [
            ("mode = \"600\"", "mode = \"rw-------\"", "mode"),
            ("mode = \"600\"", "mode = \"0600\"", "mode"),
            ("{host}-1.qcow2", "osd-1.qcow2", "{host}"),
            ("owner = \"root:root\"", "owner = \"root\"", "owner"),
        ] {
            let text = TESTCLOUD.replace(from, to);
            assert_ne!(text, TESTCLOUD, "{from}");
            let err = Profile::parse(&text, "t").unwrap_err();
            assert!(err.message.contains(says), "{err}");
        }
    }
}
