//! The replay backend: answers from a fixture world. An argv the world does not hold is
//! an error naming the argv, never an empty answer, and unused entries can be listed.

use std::collections::{BTreeMap, BTreeSet};
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
    /// [`Replay::releasing`]: the large stdouts not served yet. Each is given away on
    /// its first serve and read from its file again on any later one.
    unserved: Option<Mutex<BTreeMap<Vec<String>, bytes::Bytes>>>,
}

impl Replay {
    pub fn new(world: World) -> Self {
        Self {
            world,
            used: Mutex::new(BTreeSet::new()),
            unserved: None,
        }
    }

    /// Serves `world` holding no large output it has served: a world file from 4 MiB (a
    /// `machines read` of 1,000 machines is 29 MB) is handed to its first reader and no
    /// longer kept here, so it is freed once parsed rather than held to the end of the
    /// run; asked again, it is read from its file again. For one evaluation's reads
    /// (`gate` without `--wait`), where the parsed model, not the bytes, is what gates
    /// use.
    pub fn releasing(mut world: World) -> Self {
        let unserved = world.take_large_stdouts();
        Self {
            world,
            used: Mutex::new(BTreeSet::new()),
            unserved: Some(Mutex::new(unserved)),
        }
    }

    /// A recording's stdout: from the world, or, when [`Replay::releasing`], the held
    /// large one on its first serve and its file after that.
    fn stdout(&self, argv: &[String], recorded: &bytes::Bytes) -> Result<bytes::Bytes, RunError> {
        let Some(unserved) = &self.unserved else {
            return Ok(recorded.clone());
        };
        if let Some(bytes) = unserved.lock().expect("replay lock poisoned").remove(argv) {
            return Ok(bytes);
        }
        match self.world.reread_stdout(argv) {
            None => Ok(recorded.clone()),
            Some(read) => read.map_err(|e| RunError::World {
                world: self.world.name.clone(),
                message: format!("{}: reading its stdout again: {e}", display_argv(argv)),
            }),
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
            let stdout = self.stdout(argv, &recording.stdout)?;
            Ok(CommandOutput {
                argv: argv.to_vec(),
                exit_code: Some(recording.exit),
                stdout,
                stderr: recording.stderr.clone(),
                duration: Duration::ZERO,
            })
        })
    }

    fn describe(&self) -> String {
        format!("world {}", self.world.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LARGE: &[&str] = &["maas", "admin", "machines", "read"];
    const SMALL: &[&str] = &["juju", "whoami", "--format=json"];

    async fn stdout(replay: &Replay, argv: &[&str]) -> Result<Vec<u8>, RunError> {
        let out = replay.run(&Invocation::new(argv.iter().copied())).await?;
        Ok(out.stdout.to_vec())
    }

    #[tokio::test]
    async fn a_releasing_replay_gives_a_large_output_away_and_reads_its_file_when_asked_again() {
        let dir = tempfile::tempdir().unwrap();
        let large = vec![b'a'; 4 << 20];
        let changed = vec![b'b'; (4 << 20) + 1];
        std::fs::write(dir.path().join("large.json"), &large).unwrap();
        std::fs::write(dir.path().join("small.json"), b"{}").unwrap();
        std::fs::write(
            dir.path().join("world.toml"),
            r#"profile = "testcloud"

[[command]]
argv = ["maas", "admin", "machines", "read"]
stdout = "large.json"

[[command]]
argv = ["juju", "whoami", "--format=json"]
stdout = "small.json"
"#,
        )
        .unwrap();
        let world = World::from_dir(dir.path()).unwrap();
        let holding = Replay::new(world.clone());
        let releasing = Replay::releasing(world);
        assert_eq!(stdout(&holding, LARGE).await.unwrap(), large);
        assert_eq!(stdout(&releasing, LARGE).await.unwrap(), large);
        // Served once, the large output is no longer held; the small one is.
        let argv = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert!(
            releasing
                .world()
                .get(&argv(LARGE))
                .unwrap()
                .stdout
                .is_empty()
        );
        assert_eq!(
            &releasing.world().get(&argv(SMALL)).unwrap().stdout[..],
            b"{}"
        );
        // The files change: holding answers what it loaded; releasing reads the large
        // file again, and answers the small output as loaded.
        std::fs::write(dir.path().join("large.json"), &changed).unwrap();
        std::fs::write(dir.path().join("small.json"), b"[]").unwrap();
        assert_eq!(stdout(&holding, LARGE).await.unwrap(), large);
        assert_eq!(stdout(&releasing, LARGE).await.unwrap(), changed);
        assert_eq!(stdout(&releasing, SMALL).await.unwrap(), b"{}");
        // Gone from disk: an error naming the argv, never an empty answer.
        std::fs::remove_file(dir.path().join("large.json")).unwrap();
        let err = stdout(&releasing, LARGE).await.unwrap_err().to_string();
        assert!(err.contains("maas admin machines read"), "{err}");
        assert_eq!(stdout(&holding, LARGE).await.unwrap(), large);
    }
}
