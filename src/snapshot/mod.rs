//! What one run read. Gates declare the reads they need; each distinct argv runs at most
//! once per run (cached behind a once-cell, so concurrent askers share one process) and
//! independent reads run at the same time. Gates then see only typed, already-read data.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::runner::{CallRecord, CommandOutput, CommandRunner, Invocation, RunError};
use crate::sources::SourceError;
use crate::sources::juju::{self, JujuModels, JujuStatus, Whoami};
use crate::sources::maas;
use crate::sources::secret_files::{self, FileLabels, LabelKind, PathStat};
use crate::sources::unit_exec::ExecHost;
use crate::sources::vault::{self, SealStatus};

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
            Read::VaultStatus { host, cli, address } => {
                vault::status_invocation(host, cli, address)
            }
            Read::PathStat { host, path } => secret_files::stat_invocation(host, path),
            Read::FileLabels { host, kind, path } => {
                secret_files::labels_invocation(host, *kind, path)
            }
        }
    }

    /// Runs the source's parser for this read's output.
    fn parse(&self, output: &CommandOutput) -> Result<Value, SourceError> {
        Ok(match self {
            Read::JujuStatus { .. } => Value::JujuStatus(Arc::new(juju::parse_status(output)?)),
            Read::JujuWhoami => Value::Whoami(Arc::new(juju::parse_whoami(output)?)),
            Read::JujuModels => Value::JujuModels(Arc::new(juju::parse_models(output)?)),
            Read::MaasMachines { .. } => Value::MaasMachines(Arc::new(maas::parse(output)?)),
            Read::MaasSpaces { .. } => Value::MaasSpaces(Arc::new(maas::parse(output)?)),
            Read::MaasSubnets { .. } => Value::MaasSubnets(Arc::new(maas::parse(output)?)),
            Read::MaasIpRanges { .. } => Value::MaasIpRanges(Arc::new(maas::parse(output)?)),
            Read::MaasTags { .. } => Value::MaasTags(Arc::new(maas::parse(output)?)),
            Read::MaasVlans { .. } => Value::MaasVlans(Arc::new(maas::parse(output)?)),
            Read::MaasSubnetIps { .. } => Value::MaasSubnetIps(Arc::new(maas::parse(output)?)),
            Read::MaasInterfaces { .. } => Value::MaasInterfaces(Arc::new(maas::parse(output)?)),
            Read::VaultStatus { host, cli, address } => {
                Value::VaultStatus(Arc::new(vault::parse_status(host, cli, address, output)?))
            }
            Read::PathStat { host, path } => {
                Value::PathStat(Arc::new(secret_files::parse_stat(host, path, output)?))
            }
            Read::FileLabels { host, kind, path } => Value::FileLabels(Arc::new(
                secret_files::parse_labels(host, *kind, path, output)?,
            )),
        })
    }
}

/// A parsed read.
#[derive(Debug, Clone)]
pub enum Value {
    JujuStatus(Arc<JujuStatus>),
    Whoami(Arc<Whoami>),
    JujuModels(Arc<JujuModels>),
    MaasMachines(Arc<Vec<maas::Machine>>),
    MaasSpaces(Arc<Vec<maas::Space>>),
    MaasSubnets(Arc<Vec<maas::Subnet>>),
    MaasIpRanges(Arc<Vec<maas::IpRange>>),
    MaasTags(Arc<Vec<maas::Tag>>),
    MaasVlans(Arc<Vec<maas::Vlan>>),
    MaasSubnetIps(Arc<Vec<maas::IpAddressRecord>>),
    MaasInterfaces(Arc<Vec<maas::Interface>>),
    VaultStatus(Arc<SealStatus>),
    PathStat(Arc<PathStat>),
    FileLabels(Arc<FileLabels>),
}

type Cell = Arc<OnceCell<Result<Arc<CommandOutput>, RunError>>>;

/// Runs argvs through a runner, each distinct argv once.
pub struct Reader {
    runner: Arc<dyn CommandRunner>,
    timeout: Duration,
    cache: Mutex<HashMap<Vec<String>, Cell>>,
}

impl Reader {
    pub fn new(runner: Arc<dyn CommandRunner>, timeout: Duration) -> Self {
        Self {
            runner,
            timeout,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn runner(&self) -> &Arc<dyn CommandRunner> {
        &self.runner
    }

    /// The output of an argv, running it only the first time it is asked for.
    pub async fn output(&self, invocation: Invocation) -> Result<Arc<CommandOutput>, RunError> {
        let invocation = invocation.with_timeout(self.timeout);
        let cell = {
            let mut cache = self.cache.lock().expect("reader cache poisoned");
            cache.entry(invocation.argv().to_vec()).or_default().clone()
        };
        cell.get_or_init(|| async { self.runner.run(&invocation).await.map(Arc::new) })
            .await
            .clone()
    }
}

/// The typed results of every read of a run.
#[derive(Debug, Default)]
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

    /// Adds reads that depend on earlier ones (ids from `machines read` name the
    /// `interfaces read` argvs). Reads already held are not run again.
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
        self.calls = reader.runner().log().records();
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
    accessor!(maas_machines(profile: &str) -> Vec<maas::Machine>, Read::MaasMachines { profile: profile.to_string() }, MaasMachines);
    accessor!(maas_spaces(profile: &str) -> Vec<maas::Space>, Read::MaasSpaces { profile: profile.to_string() }, MaasSpaces);
    accessor!(maas_subnets(profile: &str) -> Vec<maas::Subnet>, Read::MaasSubnets { profile: profile.to_string() }, MaasSubnets);
    accessor!(maas_ipranges(profile: &str) -> Vec<maas::IpRange>, Read::MaasIpRanges { profile: profile.to_string() }, MaasIpRanges);
    accessor!(maas_tags(profile: &str) -> Vec<maas::Tag>, Read::MaasTags { profile: profile.to_string() }, MaasTags);
    accessor!(maas_vlans(profile: &str, fabric_id: i64) -> Vec<maas::Vlan>, Read::MaasVlans { profile: profile.to_string(), fabric_id }, MaasVlans);
    accessor!(maas_subnet_ips(profile: &str, subnet_id: i64) -> Vec<maas::IpAddressRecord>, Read::MaasSubnetIps { profile: profile.to_string(), subnet_id }, MaasSubnetIps);
    accessor!(maas_interfaces(profile: &str, system_id: &str) -> Vec<maas::Interface>, Read::MaasInterfaces { profile: profile.to_string(), system_id: system_id.to_string() }, MaasInterfaces);
    accessor!(vault_status(host: &ExecHost, cli: &str, address: &str) -> SealStatus, Read::VaultStatus { host: host.clone(), cli: cli.to_string(), address: address.to_string() }, VaultStatus);
    accessor!(path_stat(host: &ExecHost, path: &str) -> PathStat, Read::PathStat { host: host.clone(), path: path.to_string() }, PathStat);
    accessor!(file_labels(host: &ExecHost, kind: LabelKind, path: &str) -> FileLabels, Read::FileLabels { host: host.clone(), kind, path: path.to_string() }, FileLabels);

    /// Every call the run made, in the order they were logged.
    pub fn calls(&self) -> &[CallRecord] {
        &self.calls
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::future::BoxFuture;

    use super::*;
    use crate::runner::CallLog;

    /// Counts spawns and answers slowly, so concurrent askers overlap.
    #[derive(Default)]
    struct Counting {
        spawns: AtomicUsize,
        log: CallLog,
    }

    impl CommandRunner for Counting {
        fn run<'a>(
            &'a self,
            inv: &'a Invocation,
        ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
            Box::pin(async move {
                self.spawns.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                self.log
                    .record(inv.argv(), Some(0), Duration::from_millis(50), None);
                Ok(CommandOutput {
                    argv: inv.argv().to_vec(),
                    exit_code: Some(0),
                    stdout: br#"{"controller":"c","model":"admin/openstack","user":"u"}"#.to_vec(),
                    stderr: vec![],
                    duration: Duration::from_millis(50),
                })
            })
        }
        fn describe(&self) -> String {
            "counting".into()
        }
        fn log(&self) -> &CallLog {
            &self.log
        }
    }

    #[tokio::test]
    async fn each_distinct_argv_runs_once_even_when_asked_concurrently() {
        let runner = Arc::new(Counting::default());
        let reader = Reader::new(runner.clone(), Duration::from_secs(5));
        let asks = (0..8).map(|_| reader.output(juju::whoami_invocation()));
        let outs = futures::future::join_all(asks).await;
        assert!(outs.iter().all(Result::is_ok));
        assert_eq!(runner.spawns.load(Ordering::SeqCst), 1);
        let snapshot = Snapshot::collect(&reader, [Read::JujuWhoami, Read::JujuWhoami]).await;
        assert_eq!(runner.spawns.load(Ordering::SeqCst), 1);
        assert_eq!(snapshot.whoami().unwrap().user, "u");
    }

    #[tokio::test]
    async fn independent_reads_run_at_the_same_time() {
        let runner = Arc::new(Counting::default());
        let reader = Reader::new(runner.clone(), Duration::from_secs(5));
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
