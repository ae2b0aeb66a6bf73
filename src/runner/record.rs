//! The record backend: another backend (live, or a world layered over live) answers,
//! and every answer is redacted at capture ([`crate::redact`]) before it is returned,
//! logged, parsed into a report or written. [`RecordLog::write_world`] then writes the
//! fixture world of exactly the commands the run read: a manifest plus each stdout and
//! stderr byte for byte as printed, except where a redaction marker stands, which the
//! manifest lists (so the world says it is not byte-identical there).
//!
//! Before a file is written the scanner's rules run over it; a file that still matches
//! one is not written and the record fails naming the file and the rule, never the
//! value. Nothing is written unless every file passes, and a world is never written over
//! another unless the caller says so.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use super::{CommandOutput, CommandRunner, Invocation, RunError, display_argv};
use crate::redact::{self, Mark, Redactor, Stream};

/// One command the run read, as it will be written.
#[derive(Debug, Clone)]
pub struct RecordedCommand {
    pub argv: Vec<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `None`: ended by a signal, which a world cannot replay.
    pub exit: Option<i32>,
    pub marks: Vec<Mark>,
}

/// What a record run captured, shared between the runner and whoever writes it.
#[derive(Debug)]
pub struct RecordLog {
    redactor: Mutex<Redactor>,
    commands: Mutex<Vec<RecordedCommand>>,
}

/// Answers through `inner` and keeps a redacted copy of every answer.
pub struct Record {
    inner: Box<dyn CommandRunner>,
    log: Arc<RecordLog>,
}

impl Record {
    /// `redactor` holds the secrets the run already knows (its environment's
    /// credentials: [`Redactor::from_env`]); secrets fed on stdin are added as they go.
    pub fn new(inner: impl CommandRunner + 'static, redactor: Redactor) -> Self {
        Record {
            inner: Box::new(inner),
            log: Arc::new(RecordLog {
                redactor: Mutex::new(redactor),
                commands: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The log to write the world from once the run is over.
    pub fn log(&self) -> Arc<RecordLog> {
        self.log.clone()
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("inner", &self.inner.describe())
            .finish()
    }
}

impl CommandRunner for Record {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            if let Some(secret) = invocation.secret_stdin() {
                let mut redactor = self.log.redactor.lock().expect("record lock poisoned");
                let label = format!("stdin of `{}`", invocation.display());
                redactor.add_known(label.clone(), trim_newline(secret.expose()));
                // A secret per line (unseal keys, a password then a token).
                for (n, line) in secret.expose().split(|b| *b == b'\n').enumerate() {
                    if !line.is_empty() {
                        redactor.add_known(format!("{label} line {}", n + 1), line);
                    }
                }
            }
            // Errors carry no output (argv, a bound, a duration): nothing to redact.
            let output = self.inner.run(invocation).await?;
            let (stdout, stderr, marks) = {
                let mut redactor = self.log.redactor.lock().expect("record lock poisoned");
                let out = redactor.redact(Stream::Stdout, &output.stdout);
                let err = redactor.redact(Stream::Stderr, &output.stderr);
                let mut marks = out.marks;
                marks.extend(err.marks);
                (out.bytes, err.bytes, marks)
            };
            let mut commands = self.log.commands.lock().expect("record lock poisoned");
            if !commands.iter().any(|c| c.argv == output.argv) {
                commands.push(RecordedCommand {
                    argv: output.argv.clone(),
                    stdout: stdout.clone(),
                    stderr: stderr.clone(),
                    exit: output.exit_code,
                    marks,
                });
            }
            Ok(CommandOutput {
                stdout: stdout.into(),
                stderr,
                ..output
            })
        })
    }

    fn describe(&self) -> String {
        format!("record of {}", self.inner.describe())
    }

    fn interrupt(&self) {
        self.inner.interrupt();
    }
}

fn trim_newline(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\n").unwrap_or(bytes)
}

/// Why a world was not written. Names files, argvs and rules, never a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RecordError {
    #[error(
        "{dir} already holds a world; pass --force to replace it, or record to a new directory"
    )]
    Exists { dir: String },
    #[error("`{argv}` was ended by a signal: a world cannot replay that")]
    Signalled { argv: String },
    #[error(
        "{file} still matches the secret rule `{rule}` at line {line} after redaction: nothing was written"
    )]
    StillSecret {
        file: String,
        rule: &'static str,
        line: usize,
    },
    #[error("the run read no command: there is nothing to record")]
    Empty,
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenWorld {
    pub dir: PathBuf,
    pub commands: usize,
    /// Per command (display argv) the redactions made, as the manifest lists them.
    pub redactions: BTreeMap<String, Vec<String>>,
}

impl RecordLog {
    /// The commands captured so far, in the order they finished.
    pub fn commands(&self) -> Vec<RecordedCommand> {
        self.commands.lock().expect("record lock poisoned").clone()
    }

    /// Writes the world: `world.toml` and one file per stdout and stderr. Every
    /// output is redacted once more with everything the run learned (a token printed by
    /// a later command is taken out of an earlier one's stderr too), then scanned; the
    /// directory appears whole or not at all.
    pub fn write_world(
        &self,
        dir: &Path,
        profile: &str,
        description: &str,
        overwrite: bool,
    ) -> Result<WrittenWorld, RecordError> {
        let io = |path: &Path, e: std::io::Error| RecordError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if dir.exists() && !overwrite {
            let empty = std::fs::read_dir(dir)
                .map_err(|e| io(dir, e))?
                .next()
                .is_none();
            if !empty {
                return Err(RecordError::Exists {
                    dir: dir.display().to_string(),
                });
            }
        }
        let mut commands = self.commands();
        if commands.is_empty() {
            return Err(RecordError::Empty);
        }
        commands.sort_by(|a, b| a.argv.cmp(&b.argv));
        let mut redactor = self.redactor.lock().expect("record lock poisoned").clone();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut manifest = String::new();
        let _ = writeln!(manifest, "profile = {}", toml_string(profile));
        let _ = writeln!(manifest, "description = {}", toml_string(description));
        let mut redactions = BTreeMap::new();
        let mut taken: Vec<String> = Vec::new();
        for command in &commands {
            let shown = display_argv(&command.argv);
            let exit = command.exit.ok_or_else(|| RecordError::Signalled {
                argv: shown.clone(),
            })?;
            let out = redactor.redact(Stream::Stdout, &command.stdout);
            let err = redactor.redact(Stream::Stderr, &command.stderr);
            let mut marks = command.marks.clone();
            marks.extend(out.marks);
            marks.extend(err.marks);
            let listed = list_marks(&marks);
            let stem = unique_stem(&command.argv, &mut taken);
            let _ = writeln!(manifest, "\n[[command]]");
            let _ = writeln!(
                manifest,
                "argv = [{}]",
                command
                    .argv
                    .iter()
                    .map(|w| toml_string(w))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !out.bytes.is_empty() {
                let ext = if serde_json::from_slice::<serde_json::Value>(&out.bytes).is_ok() {
                    "json"
                } else {
                    "txt"
                };
                let name = format!("{stem}.{ext}");
                let _ = writeln!(manifest, "stdout = {}", toml_string(&name));
                files.push((name, out.bytes));
            }
            if !err.bytes.is_empty() {
                let name = format!("{stem}.stderr");
                let _ = writeln!(manifest, "stderr = {}", toml_string(&name));
                files.push((name, err.bytes));
            }
            if exit != 0 {
                let _ = writeln!(manifest, "exit = {exit}");
            }
            if !listed.is_empty() {
                let _ = writeln!(
                    manifest,
                    "redacted = [{}]",
                    listed
                        .iter()
                        .map(|m| toml_string(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                redactions.insert(shown, listed);
            }
        }
        files.push(("world.toml".to_string(), manifest.into_bytes()));
        for (name, bytes) in &files {
            if let Some(finding) = redact::scan(bytes).into_iter().next() {
                return Err(RecordError::StillSecret {
                    file: dir.join(name).display().to_string(),
                    rule: finding.rule,
                    line: finding.line,
                });
            }
        }
        // Write beside the target, then move into place: whole or not at all.
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".stackgate-record-")
            .tempdir_in(parent)
            .map_err(|e| io(parent, e))?;
        for (name, bytes) in &files {
            let path = staging.path().join(name);
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let staged = staging.keep();
        std::fs::rename(&staged, dir).map_err(|e| io(dir, e))?;
        Ok(WrittenWorld {
            dir: dir.to_path_buf(),
            commands: commands.len(),
            redactions,
        })
    }
}

/// The manifest's list: one line per stream and rule, with its count.
fn list_marks(marks: &[Mark]) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for m in marks {
        *counts
            .entry(format!("{}: {}", m.stream, m.kind))
            .or_default() += m.count;
    }
    counts
        .into_iter()
        .map(|(what, n)| format!("{what} ({n})"))
        .collect()
}

/// A file name for an argv: its words, lower-case, non-alphanumerics as `-`, at most
/// 80 characters, unique within the world.
fn unique_stem(argv: &[String], taken: &mut Vec<String>) -> String {
    let mut stem = String::new();
    for c in argv.join(" ").chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            stem.push(c);
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
        if stem.len() >= 80 {
            break;
        }
    }
    let stem = stem.trim_matches('-').to_string();
    let stem = if stem.is_empty() {
        "command".to_string()
    } else {
        stem
    };
    let mut candidate = stem.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{stem}-{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Replay, SecretInput};
    use crate::world::{Recording, World};

    fn world_with(entries: &[(&[&str], &str, &str, i32)]) -> World {
        let mut world = World::empty("test", "testcloud");
        for (argv, stdout, stderr, exit) in entries {
            world.set(
                argv.iter().map(|s| s.to_string()).collect(),
                Recording {
                    stdout: stdout.as_bytes().to_vec().into(),
                    stderr: stderr.as_bytes().to_vec(),
                    exit: *exit,
                    declared_in: "test".into(),
                    damaged: None,
                },
            );
        }
        world
    }

    fn run(record: &Record, argv: &[&str]) -> CommandOutput {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(record.run(&Invocation::new(argv.iter().copied())))
            .unwrap()
    }

    const MACHINES: &str = "[\n    {\n        \"hostname\": \"openstack0\",\n        \"power_parameters\": {\n            \"power_address\": \"qemu+ssh://virsh@10.12.1.1/system\",\n            \"power_pass\": \"Zq8#vT2!pW9kL4\"\n        },\n        \"status_name\": \"Ready\"\n    }\n]";

    #[test]
    fn a_recorded_world_replays_what_was_read_with_its_redactions_listed() {
        let dir = tempfile::tempdir().unwrap();
        let record = Record::new(
            Replay::new(world_with(&[
                (&["maas", "admin", "machines", "read"], MACHINES, "", 0),
                (
                    &["juju", "status", "-m", "openstack", "--format=json"],
                    "",
                    "ERROR model not found\n",
                    1,
                ),
            ])),
            Redactor::new(),
        );
        let answer = run(&record, &["maas", "admin", "machines", "read"]);
        let text = String::from_utf8(answer.stdout.to_vec()).unwrap();
        assert!(!text.contains("Zq8#vT2!pW9kL4"), "returned redacted");
        assert!(text.contains(redact::MARKER));
        run(
            &record,
            &["juju", "status", "-m", "openstack", "--format=json"],
        );
        let target = dir.path().join("recorded");
        let written = record
            .log()
            .write_world(&target, "testcloud", "a test recording", false)
            .unwrap();
        assert_eq!(written.commands, 2);
        let manifest = std::fs::read_to_string(target.join("world.toml")).unwrap();
        assert!(manifest.contains("redacted = ["), "{manifest}");
        assert!(manifest.contains("power_parameters"), "{manifest}");
        let replayed = World::from_dir(&target).unwrap();
        let machines = replayed
            .get(&["maas", "admin", "machines", "read"].map(String::from))
            .unwrap();
        // Byte for byte but the marker: indent=4, no trailing newline.
        assert!(
            machines
                .stdout
                .starts_with(b"[\n    {\n        \"hostname\"")
        );
        assert!(!machines.stdout.ends_with(b"\n"));
        let failed = replayed
            .get(&["juju", "status", "-m", "openstack", "--format=json"].map(String::from))
            .unwrap();
        assert_eq!(failed.exit, 1);
        assert_eq!(failed.stderr, b"ERROR model not found\n");
        for entry in walkdir(&target) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !bytes.windows(14).any(|w| w == b"Zq8#vT2!pW9kL4"),
                "{entry:?}"
            );
        }
    }

    fn walkdir(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn a_world_is_never_written_over_another_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let record = Record::new(
            Replay::new(world_with(&[(&["juju", "whoami"], "{}", "", 0)])),
            Redactor::new(),
        );
        run(&record, &["juju", "whoami"]);
        std::fs::write(dir.path().join("keep"), "x").unwrap();
        let err = record
            .log()
            .write_world(dir.path(), "testcloud", "d", false)
            .unwrap_err();
        assert!(matches!(err, RecordError::Exists { .. }), "{err}");
        assert!(dir.path().join("keep").exists());
        record
            .log()
            .write_world(dir.path(), "testcloud", "d", true)
            .unwrap();
        assert!(!dir.path().join("keep").exists());
        assert!(dir.path().join("world.toml").exists());
    }

    #[test]
    fn a_secret_fed_on_stdin_is_taken_out_of_what_the_command_printed() {
        let secret = "c2VjcmV0LXVuc2VhbC1rZXktb25l";
        let record = Record::new(
            Replay::new(world_with(&[(
                &["vault", "operator", "unseal"],
                "",
                &format!("Error unsealing: invalid key {secret}\n"),
                2,
            )])),
            Redactor::new(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let inv = Invocation::new(["vault", "operator", "unseal"])
            .with_secret_stdin(SecretInput::new(format!("{secret}\n").into_bytes()));
        let out = rt.block_on(record.run(&inv)).unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains(secret), "{err}");
        assert!(err.contains(redact::MARKER), "{err}");
    }

    #[test]
    fn a_file_still_matching_a_rule_is_not_written_and_the_error_names_no_value() {
        let dir = tempfile::tempdir().unwrap();
        // A vault token in free text that no key or known value covers.
        let token = "hvs.CAESIJl3kQ8vTzY2nR5wXcP0aB4dE6fG";
        let log = RecordLog {
            redactor: Mutex::new(Redactor::new()),
            commands: Mutex::new(vec![RecordedCommand {
                argv: vec!["cat".into(), "--".into(), "notes".into()],
                stdout: format!("token is {token}\n").into_bytes(),
                stderr: Vec::new(),
                exit: Some(0),
                marks: Vec::new(),
            }]),
        };
        let target = dir.path().join("w");
        match log.write_world(&target, "testcloud", "d", false) {
            // The redactor may take it out itself (its token rule); then the file is
            // clean and written.
            Ok(_) => {
                let text = std::fs::read_to_string(target.join("cat-notes.txt")).unwrap();
                assert!(!text.contains(token));
            }
            Err(e) => {
                let shown = e.to_string();
                assert!(!shown.contains(token), "{shown}");
                assert!(matches!(e, RecordError::StillSecret { .. }), "{shown}");
                assert!(!target.exists());
            }
        }
    }

    #[test]
    fn stems_are_readable_and_unique() {
        let mut taken = Vec::new();
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            unique_stem(&argv("juju status -m openstack --format=json"), &mut taken),
            "juju-status-m-openstack-format-json"
        );
        assert_eq!(
            unique_stem(&argv("juju status -m openstack --format=json"), &mut taken),
            "juju-status-m-openstack-format-json-2"
        );
    }
}
