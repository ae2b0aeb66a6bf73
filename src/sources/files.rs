//! Plain files on the jumphost, read through `cat` and `ls` so a fixture world replays
//! them like any other CLI output: the pre-destroy backup pointer and the backup
//! directory it names (seed 000 acceptance). Only non-secret files are read this way.

use super::SourceError;
use super::integrity::Damage;
use crate::runner::{CommandOutput, Invocation};

/// `cat -- <path>`
pub fn cat_invocation(path: &str) -> Invocation {
    Invocation::new(["cat", "--", path])
}

/// `ls -A -- <path>`: one entry per line when stdout is not a terminal.
pub fn ls_invocation(path: &str) -> Invocation {
    Invocation::new(["ls", "-A", "--", path])
}

/// The file's text; a missing file is [`SourceError::NotFound`] (R3: absence is the
/// exit status and message, never an empty answer), any other failure an exit error.
pub fn parse_text(output: &CommandOutput) -> Result<String, SourceError> {
    if !output.success() {
        return Err(SourceError::not_found_or_exit(output));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The directory's entries, in the order ls printed them. `ls -A` prints each entry
/// once on its own line: a blank or whitespace-only line, or a name twice, is not a
/// listing (a whitespace-only answer once read as a populated backup directory).
pub fn parse_ls(output: &CommandOutput) -> Result<Vec<String>, SourceError> {
    if !output.success() {
        return Err(SourceError::not_found_or_exit(output));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut entries: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let damaged = |reason: &str| {
            SourceError::damaged(output, Damage::new(format!("line {}", n + 1), reason))
        };
        if line.trim().is_empty() {
            return Err(damaged("a blank line in a directory listing"));
        }
        if entries.iter().any(|e| e == line) {
            return Err(damaged("the same entry twice in a directory listing"));
        }
        entries.push(line.to_string());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_output;

    const LS: &[&str] = &["ls", "-A", "--", "/b"];

    #[test]
    fn a_listing_is_one_entry_a_line() {
        let entries = parse_ls(&test_output(LS, 0, "juju.tgz\nmaas.sql\n", "")).unwrap();
        assert_eq!(entries, ["juju.tgz", "maas.sql"]);
        assert!(parse_ls(&test_output(LS, 0, "", "")).unwrap().is_empty());
    }

    #[test]
    fn whitespace_or_a_repeated_entry_is_not_a_listing() {
        // Issue 8: a whitespace-only `ls` was read as a populated backup directory.
        for bad in [" \n\t\n", "a\n\nb\n", "a\na\n"] {
            let err = parse_ls(&test_output(LS, 0, bad, "")).unwrap_err();
            assert!(matches!(err, SourceError::Damaged { .. }), "{bad:?}: {err}");
        }
    }

    #[test]
    fn only_no_such_file_is_absence() {
        let gone = test_output(
            LS,
            2,
            "",
            "ls: cannot access '/b': No such file or directory\n",
        );
        assert!(matches!(parse_ls(&gone), Err(SourceError::NotFound { .. })));
        let denied = test_output(
            LS,
            2,
            "",
            "ls: cannot open directory '/b': Permission denied\n",
        );
        assert!(matches!(parse_ls(&denied), Err(SourceError::Exit { .. })));
    }
}
