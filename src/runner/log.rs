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
        let record = CallRecord {
            argv: display_argv(argv),
            exit_code,
            duration,
            error,
        };
        self.0.lock().expect("call log poisoned").push(record);
    }

    pub fn records(&self) -> Vec<CallRecord> {
        self.0.lock().expect("call log poisoned").clone()
    }
}
