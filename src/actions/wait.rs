//! Bounded polls: wait until a condition holds N times in a row (3 by default), fail
//! fast on a state waiting cannot fix, give up at a bound, on an injectable clock so
//! tests take no wall time. The executor's waits (model destroying, commissioning,
//! settle) and `gate --wait` use this; each poll and the end are events (`WaitPoll`,
//! `WaitDone`), so the progress line and the reports see every wait alike.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::events::{Event, Pending, Sink, WaitSummary};

/// Time as the wait sees it.
pub trait Clock: Send + Sync {
    /// Time since the clock started.
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// Wall time (tokio's sleep).
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when slept on: a wait of an hour takes no wall time.
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<Duration>);

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.0.lock().expect("clock poisoned")
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        *self.0.lock().expect("clock poisoned") += duration;
        Box::pin(std::future::ready(()))
    }
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// The condition holds.
    Pass(String),
    /// Not yet; waiting may fix it.
    Pending(String),
    /// A state waiting cannot fix (a unit in error, a machine failed commissioning,
    /// output that cannot be read): the wait ends at once.
    Fail(String),
}

impl Poll {
    /// The poll's line, as the progress line and the reports show it.
    pub fn describe(&self) -> String {
        match self {
            Poll::Pass(l) => format!("holds: {l}"),
            Poll::Pending(l) => format!("not yet: {l}"),
            Poll::Fail(l) => format!("failed: {l}"),
        }
    }
}

/// How long and how often to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Consecutive passes needed; any miss resets the count.
    pub passes: u32,
    pub interval: Duration,
    /// Give up once this much time has passed.
    pub bound: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            passes: 3,
            interval: Duration::from_secs(10),
            bound: Duration::from_secs(30 * 60),
        }
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    Passed {
        polls: u32,
        waited: Duration,
        last: String,
    },
    Failed {
        polls: u32,
        waited: Duration,
        reason: String,
    },
    TimedOut {
        polls: u32,
        waited: Duration,
        last: String,
    },
}

impl WaitOutcome {
    pub fn passed(&self) -> bool {
        matches!(self, WaitOutcome::Passed { .. })
    }

    /// The reports' record of the wait.
    pub fn summary(&self, policy: WaitPolicy) -> WaitSummary {
        let (outcome, polls, waited, last) = match self {
            WaitOutcome::Passed {
                polls,
                waited,
                last,
            } => ("PASSED", polls, waited, last),
            WaitOutcome::Failed {
                polls,
                waited,
                reason,
            } => ("FAILED", polls, waited, reason),
            WaitOutcome::TimedOut {
                polls,
                waited,
                last,
            } => (crate::events::TIMED_OUT, polls, waited, last),
        };
        WaitSummary {
            outcome,
            polls: *polls,
            needed: policy.passes.max(1),
            interval_secs: policy.interval.as_secs(),
            bound_secs: policy.bound.as_secs(),
            waited_secs: waited.as_secs(),
            last: last.clone(),
        }
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        match self {
            WaitOutcome::Passed {
                polls,
                waited,
                last,
            } => format!("held after {polls} poll(s), {}s: {last}", waited.as_secs()),
            WaitOutcome::Failed {
                polls,
                waited,
                reason,
            } => format!(
                "failed at poll {polls} after {}s: {reason}",
                waited.as_secs()
            ),
            WaitOutcome::TimedOut {
                polls,
                waited,
                last,
            } => format!(
                "still not holding after {polls} poll(s), {}s (the bound): {last}",
                waited.as_secs()
            ),
        }
    }
}

/// Polls `probe` until it passes `policy.passes` times in a row, fails, or the bound
/// passes. The first poll runs at once; later ones `interval` apart.
pub async fn wait_for<F, Fut>(
    what: &str,
    policy: WaitPolicy,
    clock: &dyn Clock,
    events: &dyn Sink,
    mut probe: F,
) -> WaitOutcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Poll>,
{
    polls(false, what, policy, clock, events, || {
        let poll = probe();
        async move { (poll.await, Vec::new()) }
    })
    .await
}

/// A gate wait: as [`wait_for`], each poll re-running gates (whose verdicts it emits)
/// and naming the gates still not passing, which each `WaitPoll` event carries.
pub async fn wait_for_gates<F, Fut>(
    what: &str,
    policy: WaitPolicy,
    clock: &dyn Clock,
    events: &dyn Sink,
    probe: F,
) -> WaitOutcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (Poll, Vec<Pending>)>,
{
    polls(true, what, policy, clock, events, probe).await
}

async fn polls<F, Fut>(
    gates: bool,
    what: &str,
    policy: WaitPolicy,
    clock: &dyn Clock,
    events: &dyn Sink,
    mut probe: F,
) -> WaitOutcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (Poll, Vec<Pending>)>,
{
    let started = clock.now();
    let needed = policy.passes.max(1);
    let (mut polls, mut streak) = (0u32, 0u32);
    loop {
        polls += 1;
        let (state, pending) = probe().await;
        let waited = clock.now().saturating_sub(started);
        match &state {
            Poll::Pass(_) => streak += 1,
            Poll::Pending(_) => streak = 0,
            Poll::Fail(_) => {}
        }
        events.emit(&Event::WaitPoll {
            what: what.to_string(),
            gates,
            poll: polls,
            streak,
            needed,
            waited_secs: waited.as_secs(),
            pending,
            state: state.describe(),
        });
        let outcome = match state {
            Poll::Fail(reason) => Some(WaitOutcome::Failed {
                polls,
                waited,
                reason,
            }),
            Poll::Pass(last) if streak >= needed => Some(WaitOutcome::Passed {
                polls,
                waited,
                last,
            }),
            Poll::Pass(last) | Poll::Pending(last) if waited + policy.interval > policy.bound => {
                Some(WaitOutcome::TimedOut {
                    polls,
                    waited,
                    last,
                })
            }
            _ => None,
        };
        if let Some(outcome) = outcome {
            events.emit(&Event::WaitDone {
                what: what.to_string(),
                gates,
                summary: outcome.summary(policy),
            });
            return outcome;
        }
        clock.sleep(policy.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Discard;

    fn policy() -> WaitPolicy {
        WaitPolicy {
            passes: 3,
            interval: Duration::from_secs(10),
            bound: Duration::from_secs(120),
        }
    }

    async fn run(states: Vec<Poll>) -> (WaitOutcome, Duration) {
        let clock = ManualClock::new();
        let mut states = states.into_iter();
        let outcome = wait_for("x", policy(), &clock, &Discard, || {
            std::future::ready(states.next().unwrap_or(Poll::Pending("no more".into())))
        })
        .await;
        (outcome, clock.now())
    }

    fn pass() -> Poll {
        Poll::Pass("ok".into())
    }

    fn pending() -> Poll {
        Poll::Pending("not yet".into())
    }

    #[tokio::test]
    async fn it_needs_three_passes_in_a_row_and_a_miss_resets_the_count() {
        let (outcome, _) = run(vec![
            pending(),
            pass(),
            pass(),
            pending(),
            pass(),
            pass(),
            pass(),
        ])
        .await;
        assert!(
            matches!(outcome, WaitOutcome::Passed { polls: 7, .. }),
            "{outcome:?}"
        );
        let (outcome, waited) = run(vec![pass(), pass(), pass()]).await;
        assert!(matches!(outcome, WaitOutcome::Passed { polls: 3, .. }));
        assert_eq!(waited, Duration::from_secs(20));
    }

    #[tokio::test]
    async fn a_failure_ends_the_wait_at_once() {
        let (outcome, waited) = run(vec![pass(), Poll::Fail("unit in error".into()), pass()]).await;
        assert_eq!(
            outcome,
            WaitOutcome::Failed {
                polls: 2,
                waited: Duration::from_secs(10),
                reason: "unit in error".into()
            }
        );
        assert_eq!(waited, Duration::from_secs(10));
    }

    #[tokio::test]
    async fn the_bound_ends_a_wait_that_never_holds_without_wall_time() {
        let started = Instant::now();
        let (outcome, waited) = run(vec![]).await;
        let WaitOutcome::TimedOut { polls, .. } = outcome else {
            panic!("{outcome:?}")
        };
        // Polls at 0, 10, ..., 120 s: the next would pass the bound.
        assert_eq!(polls, 13);
        assert_eq!(waited, Duration::from_secs(120));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
