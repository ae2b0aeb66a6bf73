//! Plain files on the jumphost, read through `cat` and `ls` so a fixture world replays
//! them like any other CLI output: the pre-destroy backup pointer and the backup
//! directory it names (seed 000 acceptance). Only non-secret files are read this way.

use super::SourceError;
use crate::runner::{CommandOutput, Invocation};

/// `cat -- <path>`
pub fn cat_invocation(path: &str) -> Invocation {
    Invocation::new(["cat", "--", path])
}

/// `ls -A -- <path>`: one entry per line when stdout is not a terminal.
pub fn ls_invocation(path: &str) -> Invocation {
    Invocation::new(["ls", "-A", "--", path])
}

/// The file's text; a missing file is the exit error naming the argv (R3: absence is
/// the exit status and message, never an empty answer).
pub fn parse_text(output: &CommandOutput) -> Result<String, SourceError> {
    if !output.success() {
        return Err(SourceError::exit(output));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The directory's entries, in the order ls printed them.
pub fn parse_ls(output: &CommandOutput) -> Result<Vec<String>, SourceError> {
    if !output.success() {
        return Err(SourceError::exit(output));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}
