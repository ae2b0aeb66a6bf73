//! The call log: every command a runner ran, with its exit status and duration.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::display_argv;

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

/// A shared, append-only log of calls.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<CallRecord>>>);

impl CallLog {
    pub fn record(
        &self,
        argv: &[String],
        exit_code: Option<i32>,
        duration: Duration,
        error: Option<String>,
    ) {
        self.push(CallRecord {
            argv: display_argv(argv),
            exit_code,
            duration,
            error,
            interrupted: false,
        });
    }

    /// A call a signal cut short: it has no exit code, and `error` says why.
    pub fn record_interrupted(&self, argv: &[String], duration: Duration, error: String) {
        self.push(CallRecord {
            argv: display_argv(argv),
            exit_code: None,
            duration,
            error: Some(error),
            interrupted: true,
        });
    }

    fn push(&self, record: CallRecord) {
        self.0.lock().expect("call log poisoned").push(record);
    }

    pub fn records(&self) -> Vec<CallRecord> {
        self.0.lock().expect("call log poisoned").clone()
    }
}
