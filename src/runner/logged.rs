//! The call log, kept in one place: [`Logged`] wraps any backend and records every call
//! made through it (argv, exit status, duration, why it failed, whether a signal cut it
//! short). Backends do not log.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::{CommandOutput, CommandRunner, Invocation, RunError, display_argv};

/// One logged call. Holds no stdout, stderr or stdin: those may carry secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub argv: String,
    /// Exit code, or `None` for a call that never finished (timeout, spawn failure) or
    /// was ended by a signal.
    pub exit_code: Option<i32>,
    pub duration: Duration,
    /// Why the call produced no output, when it did not.
    pub error: Option<String>,
    /// A signal reached stackgate while the call ran, and the call was ended.
    pub interrupted: bool,
}

/// A backend whose every call is logged. A call is logged when it ends: with its exit
/// code and the backend's duration when it produced output, with the error and the time
/// it took when it did not. [`CommandRunner::interrupt`] ends the backend's commands and
/// logs every call still running as interrupted, so a report made right after it lists
/// each read in flight. Not logged: a call the backend refused to start after an
/// interrupt (it never ran), and a call dropped before it ended (its caller gave up).
pub struct Logged {
    inner: Box<dyn CommandRunner>,
    calls: Mutex<Calls>,
}

#[derive(Debug, Default)]
struct Calls {
    records: Vec<CallRecord>,
    /// The calls running now, in the order they started.
    running: BTreeMap<u64, Running>,
    next: u64,
}

#[derive(Debug)]
struct Running {
    argv: Vec<String>,
    started: Instant,
}

impl Logged {
    pub fn new(inner: impl CommandRunner + 'static) -> Self {
        Logged {
            inner: Box::new(inner),
            calls: Mutex::new(Calls::default()),
        }
    }

    /// Every call logged so far, in the order each ended (or was interrupted).
    pub fn records(&self) -> Vec<CallRecord> {
        self.calls().records.clone()
    }

    fn calls(&self) -> MutexGuard<'_, Calls> {
        // The log holds plain data; a panic elsewhere leaves it consistent.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self, argv: &[String]) -> InFlight<'_> {
        let mut calls = self.calls();
        let id = calls.next;
        calls.next += 1;
        calls.running.insert(
            id,
            Running {
                argv: argv.to_vec(),
                started: Instant::now(),
            },
        );
        InFlight { log: self, id }
    }
}

impl std::fmt::Debug for Logged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logged")
            .field("inner", &self.inner.describe())
            .finish_non_exhaustive()
    }
}

/// One call running through a [`Logged`]. Dropped before `finish`, it leaves the log
/// without a record.
struct InFlight<'a> {
    log: &'a Logged,
    id: u64,
}

impl InFlight<'_> {
    fn finish(self, result: &Result<CommandOutput, RunError>) {
        let mut calls = self.log.calls();
        // Gone when `interrupt` logged it while it ran.
        let Some(running) = calls.running.remove(&self.id) else {
            return;
        };
        let (exit_code, duration, error) = match result {
            Ok(out) => (out.exit_code, out.duration, None),
            // Refused after an interrupt: it never ran, so it is not a read.
            Err(RunError::Interrupted { .. }) => return,
            Err(e) => (None, running.started.elapsed(), Some(e.to_string())),
        };
        calls.records.push(CallRecord {
            argv: display_argv(&running.argv),
            exit_code,
            duration,
            error,
            interrupted: false,
        });
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.log.calls().running.remove(&self.id);
    }
}

impl CommandRunner for Logged {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            let call = self.start(invocation.argv());
            let result = self.inner.run(invocation).await;
            // In the poll that saw the backend finish: no interrupt comes between.
            call.finish(&result);
            result
        })
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn interrupt(&self) {
        // Held across the backend's interrupt, so a call it ends cannot finish (and
        // leave the log as refused) before it is logged as interrupted here.
        let mut calls = self.calls();
        self.inner.interrupt();
        for running in std::mem::take(&mut calls.running).into_values() {
            let argv = display_argv(&running.argv);
            let error = RunError::Interrupted { argv: argv.clone() };
            calls.records.push(CallRecord {
                argv,
                exit_code: None,
                duration: running.started.elapsed(),
                error: Some(error.to_string()),
                interrupted: true,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::runner::SecretInput;

    /// `hang` waits until interrupted and then ends as interrupted; after an interrupt
    /// every call is refused; `fail` cannot start; anything else exits with its argc.
    #[derive(Default)]
    struct Gated {
        interrupted: AtomicBool,
        interrupts: AtomicUsize,
        hanging: AtomicUsize,
        release: tokio::sync::Notify,
    }

    impl CommandRunner for Gated {
        fn run<'a>(
            &'a self,
            invocation: &'a Invocation,
        ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
            Box::pin(async move {
                let argv = invocation.argv();
                let interrupted = RunError::Interrupted {
                    argv: invocation.display(),
                };
                if self.interrupted.load(Ordering::SeqCst) {
                    return Err(interrupted);
                }
                match argv[0].as_str() {
                    "hang" => {
                        let released = self.release.notified();
                        self.hanging.fetch_add(1, Ordering::SeqCst);
                        released.await;
                        Err(interrupted)
                    }
                    "fail" => Err(RunError::Spawn {
                        argv: invocation.display(),
                        message: "no such file".into(),
                    }),
                    _ => Ok(CommandOutput {
                        duration: Duration::from_millis(7),
                        ..crate::sources::test_invocation_output(
                            invocation.clone(),
                            i32::try_from(argv.len()).unwrap(),
                            "out-secret",
                            "err-secret",
                        )
                    }),
                }
            })
        }

        fn describe(&self) -> String {
            "gated".into()
        }

        fn interrupt(&self) {
            self.interrupted.store(true, Ordering::SeqCst);
            self.interrupts.fetch_add(1, Ordering::SeqCst);
            self.release.notify_waiters();
        }
    }

    #[tokio::test]
    async fn every_finished_call_is_logged_with_its_status_and_never_its_output() {
        let gated = Arc::new(Gated::default());
        let logged = Logged::new(gated.clone());
        let ok = Invocation::new(["juju", "status", "two words"])
            .with_secret_stdin(SecretInput::new(b"stdin-secret".to_vec()));
        assert!(logged.run(&ok).await.is_ok());
        assert!(logged.run(&Invocation::new(["fail", "x"])).await.is_err());
        assert_eq!(
            logged.records(),
            [
                CallRecord {
                    argv: "juju status 'two words'".into(),
                    exit_code: Some(3),
                    duration: Duration::from_millis(7),
                    error: None,
                    interrupted: false,
                },
                CallRecord {
                    argv: "fail x".into(),
                    exit_code: None,
                    duration: logged.records()[1].duration,
                    error: Some("failed to start `fail x`: no such file".into()),
                    interrupted: false,
                },
            ]
        );
        assert!(!format!("{:?}", logged.records()).contains("secret"));
        assert_eq!(logged.describe(), "gated");
    }

    /// An interrupt logs every call still running as interrupted at once, before those
    /// calls return; a call that finished before it keeps its exit status; a call the
    /// backend refuses afterwards is not a read.
    #[tokio::test]
    async fn an_interrupt_logs_each_running_call_once_as_interrupted() {
        let gated = Arc::new(Gated::default());
        let logged = Arc::new(Logged::new(gated.clone()));
        logged
            .run(&Invocation::new(["juju", "whoami"]))
            .await
            .unwrap();
        let runs: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|unit| {
                let logged = logged.clone();
                let inv = Invocation::new(["hang", unit]);
                tokio::spawn(async move { logged.run(&inv).await })
            })
            .collect();
        while gated.hanging.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        logged.interrupt();
        assert_eq!(gated.interrupts.load(Ordering::SeqCst), 1, "passed on");
        let shown = |records: Vec<CallRecord>| -> Vec<(String, Option<i32>, bool)> {
            records
                .into_iter()
                .map(|r| (r.argv, r.exit_code, r.interrupted))
                .collect()
        };
        let expected = vec![
            ("juju whoami".to_string(), Some(2), false),
            ("hang a".to_string(), None, true),
            ("hang b".to_string(), None, true),
        ];
        assert_eq!(shown(logged.records()), expected, "logged by interrupt");
        for record in &logged.records()[1..] {
            let error = record.error.as_deref().unwrap();
            assert!(error.contains("was interrupted"), "{error}");
        }
        for run in runs {
            let err = run.await.unwrap().unwrap_err();
            assert!(matches!(err, RunError::Interrupted { .. }), "{err}");
        }
        let refused = logged.run(&Invocation::new(["juju", "status"])).await;
        assert!(matches!(refused, Err(RunError::Interrupted { .. })));
        assert_eq!(shown(logged.records()), expected, "nothing logged twice");
    }

    /// Whatever the backend does on an interrupt, a call running through the log when
    /// it comes was cut short by it.
    #[tokio::test]
    async fn a_call_in_flight_is_interrupted_even_when_the_backend_ends_nothing() {
        struct Never;
        impl CommandRunner for Never {
            fn run<'a>(
                &'a self,
                _: &'a Invocation,
            ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
                Box::pin(futures::future::pending())
            }
            fn describe(&self) -> String {
                "never".into()
            }
        }
        let logged = Logged::new(Never);
        let inv = Invocation::new(["sleep", "300"]);
        let mut run = logged.run(&inv);
        assert!(futures::poll!(&mut run).is_pending());
        logged.interrupt();
        drop(run);
        let records = logged.records();
        assert_eq!(records.len(), 1, "{records:?}");
        assert!(records[0].interrupted);
    }

    #[tokio::test]
    async fn a_call_dropped_before_it_ends_is_not_logged() {
        let gated = Arc::new(Gated::default());
        let logged = Logged::new(gated.clone());
        let inv = Invocation::new(["hang", "a"]);
        let mut run = logged.run(&inv);
        assert!(futures::poll!(&mut run).is_pending());
        drop(run);
        logged.interrupt();
        assert_eq!(logged.records(), []);
    }
}
