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

/// One read a gate needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Read {
    JujuStatus { model: String },
    JujuWhoami,
    JujuModels,
}

impl Read {
    pub fn invocation(&self) -> Invocation {
        match self {
            Read::JujuStatus { model } => juju::status_invocation(model),
            Read::JujuWhoami => juju::whoami_invocation(),
            Read::JujuModels => juju::models_invocation(),
        }
    }
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
    juju_status: BTreeMap<String, Result<Arc<JujuStatus>, SourceError>>,
    whoami: Option<Result<Whoami, SourceError>>,
    models: Option<Result<JujuModels, SourceError>>,
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

enum Parsed {
    Status(String, Result<Arc<JujuStatus>, SourceError>),
    Whoami(Result<Whoami, SourceError>),
    Models(Result<JujuModels, SourceError>),
}

impl Snapshot {
    /// Runs every read (deduplicated, concurrently) and parses each output.
    pub async fn collect(reader: &Reader, reads: impl IntoIterator<Item = Read>) -> Snapshot {
        let reads: BTreeSet<Read> = reads.into_iter().collect();
        let jobs = reads.into_iter().map(|read| async move {
            let output = reader
                .output(read.invocation())
                .await
                .map_err(SourceError::from);
            match read {
                Read::JujuStatus { model } => {
                    let parsed = output.and_then(|o| juju::parse_status(&o).map(Arc::new));
                    Parsed::Status(model, parsed)
                }
                Read::JujuWhoami => Parsed::Whoami(output.and_then(|o| juju::parse_whoami(&o))),
                Read::JujuModels => Parsed::Models(output.and_then(|o| juju::parse_models(&o))),
            }
        });
        let mut snapshot = Snapshot {
            source: reader.runner().describe(),
            ..Snapshot::default()
        };
        for parsed in futures::future::join_all(jobs).await {
            match parsed {
                Parsed::Status(model, result) => {
                    snapshot.juju_status.insert(model, result);
                }
                Parsed::Whoami(result) => snapshot.whoami = Some(result),
                Parsed::Models(result) => snapshot.models = Some(result),
            }
        }
        snapshot.calls = reader.runner().log().records();
        snapshot
    }

    /// Builds a snapshot from already-parsed values (tests, benchmarks, the simulator).
    pub fn from_parts(source: impl Into<String>) -> Snapshot {
        Snapshot {
            source: source.into(),
            ..Snapshot::default()
        }
    }

    pub fn with_juju_status(
        mut self,
        model: &str,
        status: Result<JujuStatus, SourceError>,
    ) -> Self {
        self.juju_status
            .insert(model.to_string(), status.map(Arc::new));
        self
    }

    pub fn with_whoami(mut self, whoami: Result<Whoami, SourceError>) -> Self {
        self.whoami = Some(whoami);
        self
    }

    pub fn juju_status(&self, model: &str) -> Result<&JujuStatus, ReadError> {
        match self.juju_status.get(model) {
            Some(Ok(status)) => Ok(status),
            Some(Err(e)) => Err(e.clone().into()),
            None => Err(ReadError::NotCollected(format!(
                "juju status of model {model}"
            ))),
        }
    }

    pub fn whoami(&self) -> Result<&Whoami, ReadError> {
        match &self.whoami {
            Some(Ok(w)) => Ok(w),
            Some(Err(e)) => Err(e.clone().into()),
            None => Err(ReadError::NotCollected("juju whoami".into())),
        }
    }

    pub fn models(&self) -> Result<&JujuModels, ReadError> {
        match &self.models {
            Some(Ok(m)) => Ok(m),
            Some(Err(e)) => Err(e.clone().into()),
            None => Err(ReadError::NotCollected("juju models".into())),
        }
    }

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
