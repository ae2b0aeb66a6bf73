//! The one choke point for external commands: an argv (never a shell string) runs
//! with a timeout, stdin closed unless a secret is fed on it, and every call is logged
//! by the one decorator, [`Logged`], wrapped around whichever backend answers.
//!
//! Backends: [`Live`] spawns the real CLI; [`Replay`] serves a fixture world;
//! [`Layered`] serves a world's argvs and passes the rest to another backend. [`Record`] answers through
//! another backend and keeps a redacted copy of each answer for a fixture world; the
//! simulator plugs in behind the same [`CommandRunner`] trait. Backends do not log.

mod layered;
mod live;
mod logged;
mod record;
mod replay;

pub use layered::Layered;
pub use live::{DEFAULT_MAX_OUTPUT, Live};
pub use logged::{CallRecord, Logged};
pub use record::{Record, RecordError, RecordLog, RecordedCommand, WrittenWorld};
pub use replay::Replay;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

/// Default time one command may take before its process group is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A command to run: the argv and how long it may take.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Invocation {
    argv: Vec<String>,
    timeout: Duration,
    stdin: Option<SecretInput>,
}

impl Invocation {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let argv: Vec<String> = argv.into_iter().map(Into::into).collect();
        assert!(!argv.is_empty(), "an invocation needs a program name");
        Self {
            argv,
            timeout: DEFAULT_TIMEOUT,
            stdin: None,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Feed a secret on stdin (vault unseal keys, passwords): never on argv.
    pub fn with_secret_stdin(mut self, secret: SecretInput) -> Self {
        self.stdin = Some(secret);
        self
    }

    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn secret_stdin(&self) -> Option<&SecretInput> {
        self.stdin.as_ref()
    }

    /// The argv as one line for messages: words joined by spaces, quoted when needed.
    pub fn display(&self) -> String {
        display_argv(&self.argv)
    }
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("argv", &self.argv)
            .field("timeout", &self.timeout)
            .field("stdin", &self.stdin.as_ref().map(|_| "<secret>"))
            .finish()
    }
}

/// Bytes fed on stdin. Debug never shows them, and they never reach a log.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretInput(Arc<Vec<u8>>);

impl SecretInput {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Arc::new(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput(<redacted>)")
    }
}

/// Joins an argv for display, quoting words that hold spaces or quotes.
pub fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if w.is_empty()
                || w.chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\'')
            {
                format!("'{}'", w.replace('\'', r"'\''"))
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a finished command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub argv: Vec<String>,
    /// The exit code; `None` when the process was ended by a signal.
    pub exit_code: Option<i32>,
    /// Shared: a recording's bytes or a process's, never copied to reach a reader.
    pub stdout: bytes::Bytes,
    pub stderr: Vec<u8>,
    pub duration: Duration,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Why a command produced no output at all. A non-zero exit is not a `RunError`: the
/// output is returned and the source decides what the status means.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RunError {
    #[error("failed to start `{argv}`: {message}")]
    Spawn { argv: String, message: String },
    #[error("`{argv}` did not finish within {waited:?}; its process group was killed")]
    Timeout { argv: String, waited: Duration },
    #[error("`{argv}` is not in fixture world {world}")]
    NotInWorld { argv: String, world: String },
    #[error("fixture world {world}: {message}")]
    World { world: String, message: String },
    #[error("i/o with `{argv}` failed: {message}")]
    Io { argv: String, message: String },
    /// The command printed more than the bound on one stream. Only the size is said:
    /// what it printed may hold secrets.
    #[error(
        "`{argv}` printed more than {} on {stream}; its process group was killed (the profile's [runner] max_output_mib bounds it)",
        show_bytes(*limit)
    )]
    OutputTooLarge {
        argv: String,
        stream: &'static str,
        limit: usize,
    },
    /// A signal reached stackgate while the command ran.
    #[error("`{argv}` was interrupted; its process group was killed")]
    Interrupted { argv: String },
}

/// A byte count as the profile states it (whole MiB), or in bytes when it is not.
fn show_bytes(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Runs one invocation. Implementations must be safe to call concurrently.
pub trait CommandRunner: Send + Sync {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>>;

    /// Where the answers come from, for reports ("live", "world testcloud/phase02-pre-vault").
    fn describe(&self) -> String;

    /// A signal reached stackgate: end every command still running (each then returns
    /// [`RunError::Interrupted`]) and start no more. Backends that start no processes
    /// have nothing to end. [`Logged`] logs the calls this cut short.
    fn interrupt(&self) {}
}

/// A shared backend is a backend: `Logged::new(runner.clone())` keeps a handle on it.
impl<R: CommandRunner + ?Sized> CommandRunner for Arc<R> {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        (**self).run(invocation)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn interrupt(&self) {
        (**self).interrupt()
    }
}
