//! The layered backend: a fixture world answers the argvs it holds, and another backend
//! answers every other argv. The `@needs-<program>` scenarios read juju and MAAS from a
//! recorded world while virsh, qemu-img, stat or curl run for real on this machine.

use futures::future::BoxFuture;

use super::{CommandOutput, CommandRunner, Invocation, Replay, RunError};

/// Asks the world first; an argv it does not hold falls through to `then`. The world's
/// answer wins even when it is a failure it recorded: only absence falls through.
pub struct Layered {
    first: Replay,
    then: Box<dyn CommandRunner>,
}

impl Layered {
    pub fn new(first: Replay, then: impl CommandRunner + 'static) -> Self {
        Layered {
            first,
            then: Box::new(then),
        }
    }

    /// The world asked first (what it served, [`Replay::unused`]).
    pub fn first(&self) -> &Replay {
        &self.first
    }
}

impl std::fmt::Debug for Layered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layered")
            .field("first", &self.first.describe())
            .field("then", &self.then.describe())
            .finish()
    }
}

impl CommandRunner for Layered {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        if self.first.world().get(invocation.argv()).is_some() {
            self.first.run(invocation)
        } else {
            self.then.run(invocation)
        }
    }

    fn describe(&self) -> String {
        format!("{} + {}", self.first.describe(), self.then.describe())
    }

    fn interrupt(&self) {
        self.first.interrupt();
        self.then.interrupt();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::runner::Logged;
    use crate::sources::juju;
    use crate::world::{Recording, World};

    /// Answers every argv with exit 7 and an empty stdout; remembers an interrupt.
    #[derive(Default)]
    struct Elsewhere {
        interrupted: AtomicBool,
    }

    impl CommandRunner for Elsewhere {
        fn run<'a>(
            &'a self,
            invocation: &'a Invocation,
        ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
            let out = crate::sources::test_invocation_output(invocation.clone(), 7, "", "");
            Box::pin(async move { Ok(out) })
        }

        fn describe(&self) -> String {
            "elsewhere".into()
        }

        fn interrupt(&self) {
            self.interrupted.store(true, Ordering::SeqCst);
        }
    }

    fn world() -> World {
        World::embedded("testcloud/phase02-pre-vault").unwrap()
    }

    #[tokio::test]
    async fn the_world_answers_what_it_holds_and_the_other_backend_the_rest() {
        let elsewhere = Arc::new(Logged::new(Elsewhere::default()));
        let layered = Layered::new(Replay::new(world()), elsewhere.clone());
        let whoami = juju::whoami_invocation();
        let recorded = world().get(whoami.argv()).unwrap().clone();
        let out = layered.run(&whoami).await.unwrap();
        assert_eq!(
            (out.exit_code, out.stdout),
            (Some(recorded.exit), recorded.stdout)
        );
        let virsh = Invocation::new(["virsh", "-c", "test:///x", "list", "--all"]);
        assert_eq!(layered.run(&virsh).await.unwrap().exit_code, Some(7));
        let asked: Vec<String> = elsewhere.records().into_iter().map(|r| r.argv).collect();
        assert_eq!(
            asked,
            [virsh.display()],
            "the world's argv never falls through"
        );
        assert!(!layered.first().unused().contains(&whoami.display()));
        assert_eq!(
            layered.describe(),
            "world testcloud/phase02-pre-vault + elsewhere"
        );
    }

    /// A failure the world recorded is its answer, not a reason to ask elsewhere.
    #[tokio::test]
    async fn a_recorded_failure_is_the_worlds_answer() {
        let mut failing = world();
        let whoami = juju::whoami_invocation();
        failing.set(
            whoami.argv().to_vec(),
            Recording {
                stdout: Default::default(),
                stderr: b"ERROR not logged in\n".to_vec(),
                exit: 1,
                declared_in: "test".into(),
                damaged: None,
            },
        );
        let layered = Layered::new(Replay::new(failing), Elsewhere::default());
        let out = layered.run(&whoami).await.unwrap();
        assert_eq!(out.exit_code, Some(1));
    }

    #[test]
    fn an_interrupt_reaches_the_other_backend() {
        let elsewhere = Arc::new(Elsewhere::default());
        let layered = Layered::new(Replay::new(world()), elsewhere.clone());
        layered.interrupt();
        assert!(elsewhere.interrupted.load(Ordering::SeqCst));
    }
}
