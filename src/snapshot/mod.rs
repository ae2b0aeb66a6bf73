//! What one run read. Gates declare the reads they need; each distinct argv runs at most
//! once per run (cached behind a once-cell, so concurrent askers share one process) and
//! independent reads run at the same time. Gates then see only typed, already-read data.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::runner::{CallRecord, CommandOutput, CommandRunner, Invocation, Logged, RunError};
use crate::sources::SourceError;
use crate::sources::juju::{self, JujuModels, JujuStatus, Whoami};
use crate::sources::keys::Doc;
use crate::sources::secret_files::{self, FileLabels, LabelKind, PathStat};
use crate::sources::unit_exec::ExecHost;
use crate::sources::vault::{self, SealStatus};
use crate::sources::virsh::{self, Connection};
use crate::sources::{
    Presence, bundle, curl, disk, files, haproxy, integrity, iproute, maas, openstack,
};

/// One read a gate needs. Each maps to exactly one argv.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Read {
    JujuStatus {
        model: String,
    },
    JujuWhoami,
    JujuModels,
    MaasMachines {
        profile: String,
    },
    MaasSpaces {
        profile: String,
    },
    MaasSubnets {
        profile: String,
    },
    MaasIpRanges {
        profile: String,
    },
    MaasTags {
        profile: String,
    },
    MaasVlans {
        profile: String,
        fabric_id: i64,
    },
    MaasSubnetIps {
        profile: String,
        subnet_id: i64,
    },
    MaasInterfaces {
        profile: String,
        system_id: String,
    },
    JujuModelDefaults,
    JujuModelConfig {
        model: String,
    },
    JujuSpaces {
        model: String,
    },
    /// A bundle or overlay file, by the path the profile gives.
    BundleFile {
        path: String,
    },
    /// A small text file (`cat -- <path>`), e.g. the pre-destroy backup pointer.
    TextFile {
        path: String,
    },
    /// A directory's entries (`ls -A -- <path>`).
    DirList {
        path: String,
    },
    VirshList {
        conn: Connection,
    },
    VirshDomstate {
        conn: Connection,
        domain: String,
    },
    VirshNetList {
        conn: Connection,
    },
    VirshDumpxml {
        conn: Connection,
        domain: String,
    },
    QemuImgInfo {
        prefix: Vec<String>,
        path: String,
    },
    FileStat {
        prefix: Vec<String>,
        path: String,
    },
    OpenstackEndpoints,
    OpenstackNetwork {
        name: String,
    },
    OpenstackSubnet {
        name: String,
    },
    OpenstackSecurityGroup {
        name: String,
    },
    OpenstackImages {
        tag: String,
    },
    OpenstackImage {
        id: String,
    },
    JujuConfig {
        model: String,
        application: String,
    },
    JujuConfigKey {
        model: String,
        application: String,
        key: String,
    },
    JujuIpAddr {
        model: String,
        unit: String,
        device: String,
    },
    /// `show stat` of one unit's haproxy, through `juju exec`.
    HaproxyStat {
        model: String,
        unit: String,
        socket: String,
    },
    /// One HTTP GET through curl, headers only.
    HttpGet {
        url: String,
    },
    /// `vault status -format=json` (or `bao`) on the vault host.
    VaultStatus {
        host: ExecHost,
        cli: String,
        address: String,
    },
    /// `stat` of a path that holds, or leads to, a secret.
    PathStat {
        host: ExecHost,
        path: String,
    },
    /// The labels of a secret-holding file, never its values.
    FileLabels {
        host: ExecHost,
        kind: LabelKind,
        path: String,
    },
}

impl Read {
    /// The kind of document this read parses, whose key paths [`keys`] declares.
    pub fn doc(&self) -> Doc {
        match self {
            Read::JujuStatus { .. } => Doc::JujuStatus,
            Read::JujuWhoami => Doc::JujuWhoami,
            Read::JujuModels => Doc::JujuModels,
            Read::MaasMachines { .. } => Doc::MaasMachines,
            Read::MaasSpaces { .. } => Doc::MaasSpaces,
            Read::MaasSubnets { .. } => Doc::MaasSubnets,
            Read::MaasIpRanges { .. } => Doc::MaasIpRanges,
            Read::MaasTags { .. } => Doc::MaasTags,
            Read::MaasVlans { .. } => Doc::MaasVlans,
            Read::MaasSubnetIps { .. } => Doc::MaasSubnetIps,
            Read::MaasInterfaces { .. } => Doc::MaasInterfaces,
            Read::JujuModelDefaults => Doc::JujuModelDefaults,
            Read::JujuModelConfig { .. } => Doc::JujuModelConfig,
            Read::JujuSpaces { .. } => Doc::JujuSpaces,
            Read::BundleFile { .. } => Doc::Bundle,
            Read::TextFile { .. } => Doc::TextFile,
            Read::DirList { .. } => Doc::DirList,
            Read::VirshList { .. } => Doc::VirshList,
            Read::VirshDomstate { .. } => Doc::VirshDomstate,
            Read::VirshNetList { .. } => Doc::VirshNetList,
            Read::VirshDumpxml { .. } => Doc::VirshDumpxml,
            Read::QemuImgInfo { .. } => Doc::QemuImgInfo,
            Read::FileStat { .. } => Doc::FileStat,
            Read::OpenstackEndpoints => Doc::OpenstackEndpoints,
            Read::OpenstackNetwork { .. } => Doc::OpenstackNetwork,
            Read::OpenstackSubnet { .. } => Doc::OpenstackSubnet,
            Read::OpenstackSecurityGroup { .. } => Doc::OpenstackSecurityGroup,
            Read::OpenstackImages { .. } => Doc::OpenstackImages,
            Read::OpenstackImage { .. } => Doc::OpenstackImage,
            Read::JujuConfig { .. } => Doc::JujuConfig,
            Read::JujuConfigKey { .. } => Doc::JujuConfigKey,
            Read::JujuIpAddr { .. } => Doc::IpAddr,
            Read::HaproxyStat { .. } => Doc::HaproxyStat,
            Read::HttpGet { .. } => Doc::HttpGet,
            Read::VaultStatus { .. } => Doc::VaultStatus,
            Read::PathStat { .. } => Doc::PathStat,
            Read::FileLabels { .. } => Doc::FileLabels,
        }
    }

    pub fn invocation(&self) -> Invocation {
        match self {
            Read::JujuStatus { model } => juju::status_invocation(model),
            Read::JujuWhoami => juju::whoami_invocation(),
            Read::JujuModels => juju::models_invocation(),
            Read::MaasMachines { profile } => maas::machines_invocation(profile),
            Read::MaasSpaces { profile } => maas::spaces_invocation(profile),
            Read::MaasSubnets { profile } => maas::subnets_invocation(profile),
            Read::MaasIpRanges { profile } => maas::ipranges_invocation(profile),
            Read::MaasTags { profile } => maas::tags_invocation(profile),
            Read::MaasVlans { profile, fabric_id } => maas::vlans_invocation(profile, *fabric_id),
            Read::MaasSubnetIps { profile, subnet_id } => {
                maas::subnet_ip_addresses_invocation(profile, *subnet_id)
            }
            Read::MaasInterfaces { profile, system_id } => {
                maas::interfaces_invocation(profile, system_id)
            }
            Read::JujuModelDefaults => juju::model_defaults_invocation(),
            Read::JujuModelConfig { model } => juju::model_config_invocation(model),
            Read::JujuSpaces { model } => juju::spaces_invocation(model),
            Read::BundleFile { path } => bundle::file_invocation(path),
            Read::TextFile { path } => files::cat_invocation(path),
            Read::DirList { path } => files::ls_invocation(path),
            Read::VirshList { conn } => virsh::list_all_invocation(conn),
            Read::VirshDomstate { conn, domain } => virsh::domstate_invocation(conn, domain),
            Read::VirshNetList { conn } => virsh::net_list_invocation(conn),
            Read::VirshDumpxml { conn, domain } => virsh::dumpxml_invocation(conn, domain),
            Read::QemuImgInfo { prefix, path } => disk::qemu_img_info_invocation(prefix, path),
            Read::FileStat { prefix, path } => disk::stat_invocation(prefix, path),
            Read::OpenstackEndpoints => openstack::endpoint_list_invocation(),
            Read::OpenstackNetwork { name } => openstack::network_show_invocation(name),
            Read::OpenstackSubnet { name } => openstack::subnet_show_invocation(name),
            Read::OpenstackSecurityGroup { name } => {
                openstack::security_group_show_invocation(name)
            }
            Read::OpenstackImages { tag } => openstack::image_list_invocation(tag),
            Read::OpenstackImage { id } => openstack::image_show_invocation(id),
            Read::JujuConfig { model, application } => juju::config_invocation(model, application),
            Read::JujuConfigKey {
                model,
                application,
                key,
            } => juju::config_key_invocation(model, application, key),
            Read::JujuIpAddr {
                model,
                unit,
                device,
            } => juju::exec_invocation(model, unit, &iproute::ip_addr_command(device)),
            Read::HaproxyStat {
                model,
                unit,
                socket,
            } => haproxy::stat_invocation(model, unit, socket),
            Read::HttpGet { url } => curl::get_invocation(url),
            Read::VaultStatus { host, cli, address } => {
                vault::status_invocation(host, cli, address)
            }
            Read::PathStat { host, path } => secret_files::stat_invocation(host, path),
            Read::FileLabels { host, kind, path } => {
                secret_files::labels_invocation(host, *kind, path)
            }
        }
    }

    /// Whether this CLI prints its document on stdout when it exits non-zero: `juju
    /// exec` exits 1 when the remote command fails and still prints the task; `vault
    /// status` exits 2 on a sealed vault with its JSON. Every other read that exits
    /// non-zero with a document on stdout disagrees with itself.
    fn stdout_on_failure(&self) -> bool {
        match self {
            Read::JujuIpAddr { .. } | Read::HaproxyStat { .. } | Read::VaultStatus { .. } => true,
            Read::PathStat { host, .. } | Read::FileLabels { host, .. } => {
                matches!(host, ExecHost::Unit { .. })
            }
            _ => false,
        }
    }

    /// Refuses damaged output as a whole ([`integrity`]), then runs the source's parser.
    pub fn parse(&self, output: &CommandOutput) -> Result<Value, SourceError> {
        // Held to the end of the parse: the source's own check of these bytes is not a
        // second scan.
        let _checked =
            integrity::Checked::new(&output.stdout).map_err(|d| SourceError::damaged(output, d))?;
        integrity::check_exit_agreement(output, self.stdout_on_failure())
            .map_err(|d| SourceError::damaged(output, d))?;
        Ok(match self {
            Read::JujuStatus { .. } => Value::JujuStatus(Arc::new(juju::parse_status(output)?)),
            Read::JujuWhoami => Value::Whoami(Arc::new(juju::parse_whoami(output)?)),
            Read::JujuModels => Value::JujuModels(Arc::new(juju::parse_models(output)?)),
            Read::MaasMachines { .. } => {
                Value::MaasMachines(Arc::new(maas::parse_machines(output)?))
            }
            Read::MaasSpaces { .. } => Value::MaasSpaces(Arc::new(maas::parse(output)?)),
            Read::MaasSubnets { .. } => Value::MaasSubnets(Arc::new(maas::parse(output)?)),
            Read::MaasIpRanges { .. } => Value::MaasIpRanges(Arc::new(maas::parse(output)?)),
            Read::MaasTags { .. } => Value::MaasTags(Arc::new(maas::parse(output)?)),
            Read::MaasVlans { .. } => Value::MaasVlans(Arc::new(maas::parse(output)?)),
            Read::MaasSubnetIps { .. } => Value::MaasSubnetIps(Arc::new(maas::parse(output)?)),
            Read::MaasInterfaces { .. } => {
                Value::MaasInterfaces(Arc::new(maas::parse_interfaces(output)?))
            }
            Read::JujuModelDefaults => {
                Value::JujuModelDefaults(Arc::new(juju::parse_model_defaults(output)?))
            }
            Read::JujuModelConfig { .. } => {
                Value::JujuModelConfig(Arc::new(juju::parse_model_config(output)?))
            }
            Read::JujuSpaces { .. } => Value::JujuSpaces(Arc::new(juju::parse_spaces(output)?)),
            Read::BundleFile { .. } => Value::BundleFile(Arc::new(bundle::parse_file(output)?)),
            Read::TextFile { .. } => Value::Text(Arc::new(files::parse_text(output)?)),
            Read::DirList { .. } => Value::DirList(Arc::new(files::parse_ls(output)?)),
            Read::VirshList { .. } => Value::VirshList(Arc::new(virsh::parse_list(output)?)),
            Read::VirshDomstate { .. } => {
                Value::VirshDomstate(Arc::new(virsh::parse_domstate(output)?))
            }
            Read::VirshNetList { .. } => {
                Value::VirshNetList(Arc::new(virsh::parse_net_list(output)?))
            }
            Read::VirshDumpxml { .. } => {
                Value::VirshDumpxml(Arc::new(virsh::parse_dumpxml(output)?))
            }
            Read::QemuImgInfo { .. } => {
                Value::QemuImgInfo(Arc::new(disk::parse_image_info(output)?))
            }
            Read::FileStat { .. } => Value::FileStat(Arc::new(disk::parse_stat(output)?)),
            Read::OpenstackEndpoints => {
                Value::OpenstackEndpoints(Arc::new(openstack::parse_list(output)?))
            }
            Read::OpenstackNetwork { name } => Value::OpenstackNetwork(Arc::new(
                openstack::parse_show(output, openstack::Resource::Network, name)?,
            )),
            Read::OpenstackSubnet { name } => Value::OpenstackSubnet(Arc::new(
                openstack::parse_show(output, openstack::Resource::Subnet, name)?,
            )),
            Read::OpenstackSecurityGroup { name } => Value::OpenstackSecurityGroup(Arc::new(
                openstack::parse_show(output, openstack::Resource::SecurityGroup, name)?,
            )),
            Read::OpenstackImages { .. } => {
                Value::OpenstackImages(Arc::new(openstack::parse_list(output)?))
            }
            Read::OpenstackImage { id } => Value::OpenstackImage(Arc::new(openstack::parse_show(
                output,
                openstack::Resource::Image,
                id,
            )?)),
            Read::JujuConfig { .. } => Value::JujuConfig(Arc::new(juju::parse_config(output)?)),
            Read::JujuConfigKey {
                application, key, ..
            } => Value::JujuConfigValue(Arc::new(juju::parse_config_value(
                output,
                application,
                key,
            )?)),
            Read::JujuIpAddr { unit, device, .. } => Value::IpLink(Arc::new(
                iproute::parse_ip_addr_on_unit(output, unit, device)?,
            )),
            Read::HaproxyStat { unit, .. } => {
                Value::HaproxyStat(Arc::new(haproxy::parse_show_stat(unit, output)?))
            }
            Read::HttpGet { .. } => Value::HttpGet(Arc::new(curl::parse_get(output)?)),
            Read::VaultStatus { host, .. } => {
                Value::VaultStatus(Arc::new(vault::parse_status(host, output)?))
            }
            Read::PathStat { host, .. } => {
                Value::PathStat(Arc::new(secret_files::parse_stat(host, output)?))
            }
            Read::FileLabels { host, kind, .. } => {
                Value::FileLabels(Arc::new(secret_files::parse_labels(host, *kind, output)?))
            }
        })
    }
}

/// A parsed read.
#[derive(Debug, Clone)]
pub enum Value {
    JujuStatus(Arc<JujuStatus>),
    Whoami(Arc<Whoami>),
    JujuModels(Arc<JujuModels>),
    MaasMachines(Arc<maas::Machines>),
    MaasSpaces(Arc<Vec<maas::Space>>),
    MaasSubnets(Arc<Vec<maas::Subnet>>),
    MaasIpRanges(Arc<Vec<maas::IpRange>>),
    MaasTags(Arc<Vec<maas::Tag>>),
    MaasVlans(Arc<Vec<maas::Vlan>>),
    MaasSubnetIps(Arc<Vec<maas::IpAddressRecord>>),
    MaasInterfaces(Arc<Vec<maas::Interface>>),
    JujuModelDefaults(Arc<juju::ModelDefaults>),
    JujuModelConfig(Arc<juju::ModelConfig>),
    JujuSpaces(Arc<juju::JujuSpaces>),
    BundleFile(Arc<bundle::BundleFile>),
    Text(Arc<String>),
    DirList(Arc<Vec<String>>),
    VirshList(Arc<virsh::DomainList>),
    VirshDomstate(Arc<Presence<virsh::DomainState>>),
    VirshNetList(Arc<virsh::NetworkList>),
    VirshDumpxml(Arc<Presence<virsh::DomainXml>>),
    QemuImgInfo(Arc<Presence<disk::ImageInfo>>),
    FileStat(Arc<Presence<disk::FileMode>>),
    OpenstackEndpoints(Arc<Vec<openstack::Endpoint>>),
    OpenstackNetwork(Arc<Presence<openstack::Network>>),
    OpenstackSubnet(Arc<Presence<openstack::Subnet>>),
    OpenstackSecurityGroup(Arc<Presence<openstack::SecurityGroup>>),
    OpenstackImages(Arc<Vec<openstack::ImageRow>>),
    OpenstackImage(Arc<Presence<openstack::Image>>),
    JujuConfig(Arc<juju::AppConfig>),
    JujuConfigValue(Arc<Presence<String>>),
    IpLink(Arc<Presence<iproute::IpLink>>),
    HaproxyStat(Arc<haproxy::ShowStat>),
    HttpGet(Arc<curl::HttpProbe>),
    VaultStatus(Arc<SealStatus>),
    PathStat(Arc<PathStat>),
    FileLabels(Arc<FileLabels>),
}

type Cell = Arc<OnceCell<Result<Arc<CommandOutput>, RunError>>>;

/// How many commands a reader runs at once unless told otherwise: a sweep over every
/// unit (`juju exec` per haproxy unit) must not open one process per unit of a large
/// cloud at the same moment.
pub const DEFAULT_JOBS: usize = 32;

/// Runs argvs through a runner, each distinct argv once, at most `jobs` at a time. The
/// runner's log holds every call made, for the snapshot's [`Snapshot::calls`].
pub struct Reader {
    runner: Arc<Logged>,
    timeout: Duration,
    cache: Mutex<HashMap<Vec<String>, Cell>>,
    jobs: Arc<tokio::sync::Semaphore>,
    max_output: Option<usize>,
}

impl Reader {
    pub fn new(runner: Arc<Logged>, timeout: Duration) -> Self {
        Self {
            runner,
            timeout,
            cache: Mutex::new(HashMap::new()),
            jobs: Arc::new(tokio::sync::Semaphore::new(DEFAULT_JOBS)),
            max_output: None,
        }
    }

    /// Refuses any output past this many bytes on stdout or stderr, whatever backend
    /// answered: the live runner stops reading there, and a recorded world holding more
    /// is refused the same way, so a fixture cannot pass what the jumphost would not.
    pub fn with_max_output(mut self, bytes: Option<usize>) -> Self {
        self.max_output = bytes;
        self
    }

    /// At most `jobs` commands run at once (at least one).
    pub fn with_jobs(mut self, jobs: usize) -> Self {
        self.jobs = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
        self
    }

    pub fn runner(&self) -> &Arc<Logged> {
        &self.runner
    }

    /// The output of an argv, running it only the first time it is asked for.
    pub async fn output(&self, invocation: Invocation) -> Result<Arc<CommandOutput>, RunError> {
        let invocation = invocation.with_timeout(self.timeout);
        let cell = {
            let mut cache = self.cache.lock().expect("reader cache poisoned");
            cache.entry(invocation.argv().to_vec()).or_default().clone()
        };
        // Only the asker that runs the command takes a slot; askers served from the
        // cache wait on the cell, not on the bound.
        cell.get_or_init(|| async {
            let _slot = self
                .jobs
                .acquire()
                .await
                .expect("the reader's semaphore is never closed");
            let output = self.runner.run(&invocation).await?;
            if let Some(limit) = self.max_output {
                for (stream, bytes) in [
                    ("stdout", &output.stdout[..]),
                    ("stderr", &output.stderr[..]),
                ] {
                    if bytes.len() > limit {
                        return Err(RunError::OutputTooLarge {
                            argv: invocation.display(),
                            stream,
                            limit,
                        });
                    }
                }
            }
            Ok(Arc::new(output))
        })
        .await
        .clone()
    }
}

/// The typed results of every read of a run.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Where answers came from ("live", "world testcloud/phase02-pre-vault").
    pub source: String,
    values: BTreeMap<Read, Result<Value, SourceError>>,
    calls: Vec<CallRecord>,
}

/// Why a gate could not get a read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A gate asked for something it did not declare: a bug in stackgate.
    #[error("stackgate bug: {0} was not collected; the gate must declare it in its reads")]
    NotCollected(String),
}

/// Generates a typed accessor over the value store.
macro_rules! accessor {
    ($(#[$doc:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty, $read:expr, $variant:ident) => {
        $(#[$doc])*
        pub fn $name(&self, $($arg: $ty),*) -> Result<&$out, ReadError> {
            let read = $read;
            match self.values.get(&read) {
                Some(Ok(Value::$variant(v))) => Ok(v),
                Some(Ok(other)) => unreachable!("{read:?} holds {other:?}"),
                Some(Err(e)) => Err(e.clone().into()),
                None => Err(ReadError::NotCollected(read.invocation().display())),
            }
        }
    };
}

impl Snapshot {
    /// Runs every read (deduplicated, concurrently) and parses each output.
    pub async fn collect(reader: &Reader, reads: impl IntoIterator<Item = Read>) -> Snapshot {
        let mut snapshot = Snapshot {
            source: reader.runner().describe(),
            ..Snapshot::default()
        };
        snapshot.extend(reader, reads).await;
        snapshot
    }

    /// Adds reads that depend on earlier ones (ids from `subnets read` name the
    /// `subnet ip-addresses` argvs). Reads already held are not run again.
    pub async fn extend(&mut self, reader: &Reader, reads: impl IntoIterator<Item = Read>) {
        let reads: BTreeSet<Read> = reads
            .into_iter()
            .filter(|r| !self.values.contains_key(r))
            .collect();
        let jobs = reads.into_iter().map(|read| async move {
            let parsed = match reader.output(read.invocation()).await {
                Ok(output) => read.parse(&output),
                Err(e) => Err(SourceError::from(e)),
            };
            (read, parsed)
        });
        for (read, parsed) in futures::future::join_all(jobs).await {
            self.values.insert(read, parsed);
        }
        self.calls = reader.runner().records();
    }

    /// Builds a snapshot from already-parsed values (tests, benchmarks, the simulator).
    pub fn from_parts(source: impl Into<String>) -> Snapshot {
        Snapshot {
            source: source.into(),
            ..Snapshot::default()
        }
    }

    /// Inserts a value (or failure) for a read.
    pub fn with(mut self, read: Read, value: Result<Value, SourceError>) -> Self {
        self.values.insert(read, value);
        self
    }

    pub fn with_juju_status(self, model: &str, status: Result<JujuStatus, SourceError>) -> Self {
        let read = Read::JujuStatus {
            model: model.to_string(),
        };
        self.with(read, status.map(|s| Value::JujuStatus(Arc::new(s))))
    }

    pub fn with_whoami(self, whoami: Result<Whoami, SourceError>) -> Self {
        self.with(Read::JujuWhoami, whoami.map(|w| Value::Whoami(Arc::new(w))))
    }

    pub fn with_models(self, models: Result<JujuModels, SourceError>) -> Self {
        self.with(
            Read::JujuModels,
            models.map(|m| Value::JujuModels(Arc::new(m))),
        )
    }

    accessor!(juju_status(model: &str) -> JujuStatus, Read::JujuStatus { model: model.to_string() }, JujuStatus);
    accessor!(whoami() -> Whoami, Read::JujuWhoami, Whoami);
    accessor!(models() -> JujuModels, Read::JujuModels, JujuModels);
    accessor!(maas_machines(profile: &str) -> maas::Machines, Read::MaasMachines { profile: profile.to_string() }, MaasMachines);
    accessor!(maas_spaces(profile: &str) -> Vec<maas::Space>, Read::MaasSpaces { profile: profile.to_string() }, MaasSpaces);
    accessor!(maas_subnets(profile: &str) -> Vec<maas::Subnet>, Read::MaasSubnets { profile: profile.to_string() }, MaasSubnets);
    accessor!(maas_ipranges(profile: &str) -> Vec<maas::IpRange>, Read::MaasIpRanges { profile: profile.to_string() }, MaasIpRanges);
    accessor!(maas_tags(profile: &str) -> Vec<maas::Tag>, Read::MaasTags { profile: profile.to_string() }, MaasTags);
    accessor!(maas_vlans(profile: &str, fabric_id: i64) -> Vec<maas::Vlan>, Read::MaasVlans { profile: profile.to_string(), fabric_id }, MaasVlans);
    accessor!(maas_subnet_ips(profile: &str, subnet_id: i64) -> Vec<maas::IpAddressRecord>, Read::MaasSubnetIps { profile: profile.to_string(), subnet_id }, MaasSubnetIps);
    accessor!(model_defaults() -> juju::ModelDefaults, Read::JujuModelDefaults, JujuModelDefaults);
    accessor!(model_config(model: &str) -> juju::ModelConfig, Read::JujuModelConfig { model: model.to_string() }, JujuModelConfig);
    accessor!(juju_spaces(model: &str) -> juju::JujuSpaces, Read::JujuSpaces { model: model.to_string() }, JujuSpaces);
    accessor!(bundle_file(path: &str) -> bundle::BundleFile, Read::BundleFile { path: path.to_string() }, BundleFile);
    accessor!(text_file(path: &str) -> String, Read::TextFile { path: path.to_string() }, Text);
    accessor!(dir_list(path: &str) -> Vec<String>, Read::DirList { path: path.to_string() }, DirList);
    accessor!(maas_interfaces(profile: &str, system_id: &str) -> Vec<maas::Interface>, Read::MaasInterfaces { profile: profile.to_string(), system_id: system_id.to_string() }, MaasInterfaces);
    accessor!(
        /// `virsh list --all`: every defined domain with its state.
        virsh_domains(conn: &Connection) -> virsh::DomainList, Read::VirshList { conn: conn.clone() }, VirshList);
    accessor!(
        /// `virsh domstate <dom>`: the state, or Absent when libvirt does not define it.
        virsh_domstate(conn: &Connection, domain: &str) -> Presence<virsh::DomainState>, Read::VirshDomstate { conn: conn.clone(), domain: domain.to_string() }, VirshDomstate);
    accessor!(
        /// `virsh net-list --all`: every defined network, active or not.
        virsh_networks(conn: &Connection) -> virsh::NetworkList, Read::VirshNetList { conn: conn.clone() }, VirshNetList);
    accessor!(
        /// `virsh dumpxml <dom>`: name and interfaces, or Absent when not defined.
        virsh_domain_xml(conn: &Connection, domain: &str) -> Presence<virsh::DomainXml>, Read::VirshDumpxml { conn: conn.clone(), domain: domain.to_string() }, VirshDumpxml);
    accessor!(
        /// `qemu-img info --output=json <path>`, or Absent when the file does not exist.
        qemu_img_info(prefix: &[String], path: &str) -> Presence<disk::ImageInfo>, Read::QemuImgInfo { prefix: prefix.to_vec(), path: path.to_string() }, QemuImgInfo);
    accessor!(
        /// `stat -c '%U:%G %a' <path>`, or Absent when the file does not exist.
        file_stat(prefix: &[String], path: &str) -> Presence<disk::FileMode>, Read::FileStat { prefix: prefix.to_vec(), path: path.to_string() }, FileStat);
    accessor!(
        /// `openstack endpoint list -f json`: the service catalog, one typed row per
        /// endpoint (service name and type, interface, URL, region, enabled).
        openstack_endpoints() -> Vec<openstack::Endpoint>, Read::OpenstackEndpoints, OpenstackEndpoints);
    accessor!(openstack_network(name: &str) -> Presence<openstack::Network>, Read::OpenstackNetwork { name: name.to_string() }, OpenstackNetwork);
    accessor!(openstack_subnet(name: &str) -> Presence<openstack::Subnet>, Read::OpenstackSubnet { name: name.to_string() }, OpenstackSubnet);
    accessor!(openstack_security_group(name: &str) -> Presence<openstack::SecurityGroup>, Read::OpenstackSecurityGroup { name: name.to_string() }, OpenstackSecurityGroup);
    accessor!(openstack_images(tag: &str) -> Vec<openstack::ImageRow>, Read::OpenstackImages { tag: tag.to_string() }, OpenstackImages);
    accessor!(openstack_image(id: &str) -> Presence<openstack::Image>, Read::OpenstackImage { id: id.to_string() }, OpenstackImage);
    accessor!(juju_config(model: &str, application: &str) -> juju::AppConfig, Read::JujuConfig { model: model.to_string(), application: application.to_string() }, JujuConfig);
    accessor!(juju_config_value(model: &str, application: &str, key: &str) -> Presence<String>, Read::JujuConfigKey { model: model.to_string(), application: application.to_string(), key: key.to_string() }, JujuConfigValue);
    accessor!(ip_link(model: &str, unit: &str, device: &str) -> Presence<iproute::IpLink>, Read::JujuIpAddr { model: model.to_string(), unit: unit.to_string(), device: device.to_string() }, IpLink);
    accessor!(haproxy_stat(model: &str, unit: &str, socket: &str) -> haproxy::ShowStat, Read::HaproxyStat { model: model.to_string(), unit: unit.to_string(), socket: socket.to_string() }, HaproxyStat);
    accessor!(http_get(url: &str) -> curl::HttpProbe, Read::HttpGet { url: url.to_string() }, HttpGet);
    accessor!(vault_status(host: &ExecHost, cli: &str, address: &str) -> SealStatus, Read::VaultStatus { host: host.clone(), cli: cli.to_string(), address: address.to_string() }, VaultStatus);
    accessor!(path_stat(host: &ExecHost, path: &str) -> PathStat, Read::PathStat { host: host.clone(), path: path.to_string() }, PathStat);
    accessor!(file_labels(host: &ExecHost, kind: LabelKind, path: &str) -> FileLabels, Read::FileLabels { host: host.clone(), kind, path: path.to_string() }, FileLabels);

    /// Every read the snapshot holds, parsed or not.
    pub fn reads(&self) -> impl Iterator<Item = &Read> {
        self.values.keys()
    }

    /// The failure of a read the snapshot holds, if it failed.
    pub fn error_of(&self, read: &Read) -> Option<&SourceError> {
        match self.values.get(read) {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether the snapshot holds this read.
    pub fn holds(&self, read: &Read) -> bool {
        self.values.contains_key(read)
    }

    /// Every call the reader's runner made, in the order they were logged.
    pub fn calls(&self) -> &[CallRecord] {
        &self.calls
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::future::BoxFuture;

    use super::*;

    /// Counts spawns and answers slowly, so concurrent askers overlap.
    #[derive(Default)]
    struct Counting {
        spawns: AtomicUsize,
    }

    impl CommandRunner for Counting {
        fn run<'a>(
            &'a self,
            inv: &'a Invocation,
        ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
            Box::pin(async move {
                self.spawns.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(CommandOutput {
                    argv: inv.argv().to_vec(),
                    exit_code: Some(0),
                    stdout: br#"{"controller":"c","model":"admin/openstack","user":"u"}"#
                        .to_vec()
                        .into(),
                    stderr: vec![],
                    duration: Duration::from_millis(50),
                })
            })
        }
        fn describe(&self) -> String {
            "counting".into()
        }
    }

    #[tokio::test]
    async fn each_distinct_argv_runs_once_even_when_asked_concurrently() {
        let runner = Arc::new(Counting::default());
        let reader = Reader::new(
            Arc::new(Logged::new(runner.clone())),
            Duration::from_secs(5),
        );
        let asks = (0..8).map(|_| reader.output(juju::whoami_invocation()));
        let outs = futures::future::join_all(asks).await;
        assert!(outs.iter().all(Result::is_ok));
        assert_eq!(runner.spawns.load(Ordering::SeqCst), 1);
        let snapshot = Snapshot::collect(&reader, [Read::JujuWhoami, Read::JujuWhoami]).await;
        assert_eq!(runner.spawns.load(Ordering::SeqCst), 1);
        assert_eq!(snapshot.whoami().unwrap().user, "u");
        let calls: Vec<_> = snapshot.calls().iter().map(|c| c.argv.as_str()).collect();
        assert_eq!(
            calls,
            ["juju whoami --format=json"],
            "one call, logged once"
        );
    }

    /// Records how many calls were in flight at once.
    #[derive(Default)]
    struct InFlight {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl CommandRunner for InFlight {
        fn run<'a>(
            &'a self,
            inv: &'a Invocation,
        ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
            Box::pin(async move {
                let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                self.now.fetch_sub(1, Ordering::SeqCst);
                Ok(CommandOutput {
                    argv: inv.argv().to_vec(),
                    exit_code: Some(0),
                    stdout: Default::default(),
                    stderr: vec![],
                    duration: Duration::ZERO,
                })
            })
        }
        fn describe(&self) -> String {
            "in-flight".into()
        }
    }

    #[tokio::test]
    async fn no_more_than_jobs_commands_run_at_once() {
        let runner = Arc::new(InFlight::default());
        let reader = Reader::new(
            Arc::new(Logged::new(runner.clone())),
            Duration::from_secs(5),
        )
        .with_jobs(3);
        let reads = (0..12).map(|n| Read::HaproxyStat {
            model: "openstack".into(),
            unit: format!("keystone/{n}"),
            socket: haproxy::CHARM_STATS_SOCKET.into(),
        });
        let _ = Snapshot::collect(&reader, reads).await;
        assert_eq!(runner.most.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn independent_reads_run_at_the_same_time() {
        let runner = Arc::new(Counting::default());
        let reader = Reader::new(
            Arc::new(Logged::new(runner.clone())),
            Duration::from_secs(5),
        );
        let started = std::time::Instant::now();
        let reads = [
            Read::JujuWhoami,
            Read::JujuModels,
            Read::JujuStatus { model: "a".into() },
            Read::JujuStatus { model: "b".into() },
        ];
        let _ = Snapshot::collect(&reader, reads).await;
        assert_eq!(runner.spawns.load(Ordering::SeqCst), 4);
        // Four 50 ms reads run concurrently, not one after another (200 ms).
        assert!(
            started.elapsed() < Duration::from_millis(180),
            "{:?}",
            started.elapsed()
        );
    }
}
