//! The replay backend: answers from a fixture world. An argv the world does not hold is
//! an error naming the argv, never an empty answer, and unused entries can be listed.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{CommandOutput, CommandRunner, Invocation, RunError, display_argv};
use crate::world::World;

/// Serves one fixture world.
#[derive(Debug)]
pub struct Replay {
    world: World,
    used: Mutex<BTreeSet<Vec<String>>>,
}

impl Replay {
    pub fn new(world: World) -> Self {
        Self {
            world,
            used: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    /// Entries of the world no call asked for, as display strings.
    pub fn unused(&self) -> Vec<String> {
        let used = self.used.lock().expect("replay lock poisoned");
        self.world
            .argvs()
            .filter(|argv| !used.contains(*argv))
            .map(|argv| display_argv(argv))
            .collect()
    }
}

impl CommandRunner for Replay {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            let argv = invocation.argv();
            let Some(recording) = self.world.get(argv) else {
                return Err(RunError::NotInWorld {
                    argv: invocation.display(),
                    world: self.world.name.clone(),
                });
            };
            self.used
                .lock()
                .expect("replay lock poisoned")
                .insert(argv.to_vec());
            Ok(CommandOutput {
                argv: argv.to_vec(),
                exit_code: Some(recording.exit),
                stdout: recording.stdout.clone(),
                stderr: recording.stderr.clone(),
                duration: Duration::ZERO,
            })
        })
    }

    fn describe(&self) -> String {
        format!("world {}", self.world.name)
    }
}
