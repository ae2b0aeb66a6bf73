//! Files that hold secrets, read without reading the secret (R6): the vault init
//! capture (five unseal key shares and the root token, seed 004 Step 2.1b) and the
//! admin-openrc (the keystone admin password, Step 3.2).
//!
//! Two kinds of read, both ordinary argvs so a fixture world replays them:
//! - `stat -c '%f %a %U' PATH`: raw mode in hex (file type bits, locale-free, unlike
//!   `%F`), permission bits in octal, owner. A missing path is exit 1 with
//!   "No such file or directory" on stderr (R3: absence from the exit status and the
//!   message, never from empty output).
//! - `sed -n -E 's/^(LABEL): +VALUE$/\1/p' PATH`: prints the label of each line that
//!   holds a value, never the value. So what stackgate receives, logs, snapshots or
//!   records is `Unseal Key 1` ... `Initial Root Token`, or `OS_PASSWORD`: no secret
//!   ever leaves the file. The parser refuses any line outside the label grammar, and
//!   says so without echoing it. A missing file is sed's exit 2 with "No such file or
//!   directory".
//!
//! `vault operator init` (hashicorp/vault `command/operator_init.go`; OpenBao 2.7.2
//! checked) prints `Unseal Key N: <share>` lines and `Initial Root Token: <token>`;
//! the runbook captures that text with `| tee ~/vault-init/init.txt`.

use regex::Regex;

use super::SourceError;
use super::unit_exec::ExecHost;
use crate::runner::{CommandOutput, Invocation, display_argv};

const NO_SUCH_FILE: &str = "No such file or directory";

/// `stat` of one path.
pub fn stat_argv(path: &str) -> Vec<String> {
    ["stat", "-c", "%f %a %U", path].map(String::from).to_vec()
}

pub fn stat_invocation(host: &ExecHost, path: &str) -> Invocation {
    host.invocation(&stat_argv(path))
}

/// What `stat` said about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStat {
    Present {
        raw_mode: u32,
        owner: String,
    },
    /// stat exited 1 with "No such file or directory".
    Absent {
        message: String,
    },
}

/// The file-type bits of `st_mode` (`S_IFMT`, `S_IFDIR`, `S_IFREG`).
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;

impl PathStat {
    pub fn is_dir(&self) -> bool {
        matches!(self, PathStat::Present { raw_mode, .. } if raw_mode & S_IFMT == S_IFDIR)
    }

    pub fn is_regular_file(&self) -> bool {
        matches!(self, PathStat::Present { raw_mode, .. } if raw_mode & S_IFMT == S_IFREG)
    }

    /// Permission bits (`0o600`), when present.
    pub fn permissions(&self) -> Option<u32> {
        match self {
            PathStat::Present { raw_mode, .. } => Some(raw_mode & 0o7777),
            PathStat::Absent { .. } => None,
        }
    }

    /// `directory 0700 owner ubuntu`, `absent (...)`: for evidence lines.
    pub fn describe(&self) -> String {
        match self {
            PathStat::Present { raw_mode, owner } => {
                let kind = match raw_mode & S_IFMT {
                    S_IFDIR => "directory".to_string(),
                    S_IFREG => "regular file".to_string(),
                    other => format!("file type {other:o}"),
                };
                format!("{kind} {:04o} owner {owner}", raw_mode & 0o7777)
            }
            PathStat::Absent { message } => format!("absent ({message})"),
        }
    }
}

pub fn parse_stat(host: &ExecHost, output: &CommandOutput) -> Result<PathStat, SourceError> {
    let out = host.unwrap(output)?;
    let stderr = out.stderr_text();
    match out.exit_code {
        Some(0) => {}
        Some(1) if stderr.contains(NO_SUCH_FILE) => {
            return Ok(PathStat::Absent {
                message: NO_SUCH_FILE.to_string(),
            });
        }
        _ => return Err(SourceError::exit(&out)),
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let bad = |message: String| SourceError::Parse {
        argv: display_argv(&out.argv),
        path: "(stdout)".into(),
        message,
    };
    let mut words = text.split_whitespace();
    let (Some(hex), Some(octal), Some(owner), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(bad(format!(
            "expected `<hex mode> <octal perms> <owner>`, got {} word(s)",
            text.split_whitespace().count()
        )));
    };
    // What stat printed is never quoted back: only which word is wrong.
    let raw_mode =
        u32::from_str_radix(hex, 16).map_err(|_| bad("the mode word is not hexadecimal".into()))?;
    let perms = u32::from_str_radix(octal, 8)
        .map_err(|_| bad("the permissions word is not octal".into()))?;
    if raw_mode & 0o7777 != perms {
        return Err(bad("the mode and permissions words disagree".into()));
    }
    Ok(PathStat::Present {
        raw_mode,
        owner: owner.to_string(),
    })
}

/// Which labels a `sed` read extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LabelKind {
    /// `Unseal Key N` and `Initial Root Token` of a vault init capture.
    InitCapture,
    /// `OS_*` names that an openrc assigns a non-empty value.
    OpenrcNames,
    /// Numbers of openrc lines that would print the password when sourced: an `echo` or
    /// `printf` of `OS_PASSWORD`, or shell tracing (`set -x`, `set -v`, `set -o xtrace`).
    OpenrcEchoLines,
}

impl LabelKind {
    /// The sed script. Each prints a label or a line number, never a value.
    fn script(self) -> &'static str {
        match self {
            LabelKind::InitCapture => {
                r"s/^(Unseal Key [0-9]+|Initial Root Token): +[^[:space:]].*$/\1/p"
            }
            LabelKind::OpenrcNames => {
                r#"s/^[[:space:]]*(export[[:space:]]+)?(OS_[A-Za-z0-9_]+)=([^[:space:]"']|"[^"]|'[^']).*$/\2/p"#
            }
            LabelKind::OpenrcEchoLines => {
                r"/^[^#]*((echo|printf)[^#]*OS_PASSWORD|(^|[^[:alnum:]_])set[[:space:]]+([^#;&|]*[[:space:]])?-[[:alnum:]]*[xv]|(^|[^[:alnum:]_])set[[:space:]]+-o[[:space:]]+(xtrace|verbose))/="
            }
        }
    }

    /// What one output line may be.
    fn grammar(self) -> &'static str {
        match self {
            LabelKind::InitCapture => r"^(Unseal Key [0-9]+|Initial Root Token)$",
            LabelKind::OpenrcNames => r"^OS_[A-Za-z0-9_]+$",
            LabelKind::OpenrcEchoLines => r"^[0-9]+$",
        }
    }
}

pub fn labels_argv(kind: LabelKind, path: &str) -> Vec<String> {
    ["sed", "-n", "-E", kind.script(), path]
        .map(String::from)
        .to_vec()
}

pub fn labels_invocation(host: &ExecHost, kind: LabelKind, path: &str) -> Invocation {
    host.invocation(&labels_argv(kind, path))
}

/// The labels a file holds, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLabels {
    Present(Vec<String>),
    /// sed exited 2 with "No such file or directory".
    Absent {
        message: String,
    },
}

pub fn parse_labels(
    host: &ExecHost,
    kind: LabelKind,
    output: &CommandOutput,
) -> Result<FileLabels, SourceError> {
    let out = host.unwrap(output)?;
    let stderr = out.stderr_text();
    match out.exit_code {
        Some(0) => {}
        Some(2) if stderr.contains(NO_SUCH_FILE) => {
            return Ok(FileLabels::Absent {
                message: NO_SUCH_FILE.to_string(),
            });
        }
        _ => return Err(SourceError::exit(&out)),
    }
    let grammar = Regex::new(kind.grammar()).expect("label grammars are valid");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut labels = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if !grammar.is_match(line) {
            // Never echo the line: it is not a label, so it may be a secret.
            return Err(SourceError::Parse {
                argv: display_argv(&out.argv),
                path: format!("(stdout line {})", n + 1),
                message: "not a label; its content is withheld".into(),
            });
        }
        labels.push(line.to_string());
    }
    Ok(FileLabels::Present(labels))
}

/// Argvs of the reads that run on a unit (the init capture), for the juju-quoting
/// test. The openrc reads run on this machine only: the echo-lines script holds shell
/// metacharacters and no whitespace, so juju would pass it to the unit's shell bare,
/// and [`ExecHost::invocation`] refuses it there.
#[cfg(test)]
pub(crate) fn unit_hosted_examples() -> Vec<Vec<String>> {
    vec![
        stat_argv("/home/ubuntu/vault-init"),
        stat_argv("/home/ubuntu/vault-init/init.txt"),
        labels_argv(LabelKind::InitCapture, "/home/ubuntu/vault-init/init.txt"),
    ]
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use super::*;

    fn run(argv: &[String]) -> CommandOutput {
        let out = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .env("LC_ALL", "C")
            .output()
            .expect("runs");
        CommandOutput {
            argv: argv.to_vec(),
            exit_code: out.status.code(),
            stdout: out.stdout.into(),
            stderr: out.stderr,
            duration: Duration::ZERO,
        }
    }

    fn labels(kind: LabelKind, path: &str) -> FileLabels {
        parse_labels(&ExecHost::Local, kind, &run(&labels_argv(kind, path))).unwrap()
    }

    const SECRET: &str = "s3cr3t-never-printed";

    /// The text `vault operator init` prints (OpenBao 2.7.2's layout), with fake values.
    fn capture_text() -> String {
        let mut text: String = (1..=5)
            .map(|n| format!("Unseal Key {n}: {SECRET}{n}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"))
            .collect();
        text.push_str(&format!("\nInitial Root Token: {SECRET}root\n\nVault initialized with 5 key shares and a key threshold of 3. Please securely\ndistribute the key shares printed above.\n"));
        text
    }

    #[test]
    fn real_sed_prints_labels_never_values() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("init.txt");
        std::fs::write(&file, capture_text()).unwrap();
        let path = file.to_str().unwrap();
        let out = run(&labels_argv(LabelKind::InitCapture, path));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
        let FileLabels::Present(found) = labels(LabelKind::InitCapture, path) else {
            panic!("present")
        };
        let mut want: Vec<String> = (1..=5).map(|n| format!("Unseal Key {n}")).collect();
        want.push("Initial Root Token".into());
        assert_eq!(found, want);
    }

    #[test]
    fn an_empty_value_is_no_label() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("init.txt");
        std::fs::write(
            &file,
            "Unseal Key 1: \nUnseal Key 2: abc\nInitial Root Token:\n",
        )
        .unwrap();
        assert_eq!(
            labels(LabelKind::InitCapture, file.to_str().unwrap()),
            FileLabels::Present(vec!["Unseal Key 2".into()])
        );
    }

    #[test]
    fn openrc_names_and_echo_lines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admin-openrc");
        let text = format!(
            "# admin-openrc\nexport OS_AUTH_URL=https://10.12.4.50:5000/v3\nexport OS_USERNAME=admin\nexport OS_PASSWORD='{SECRET}'\nexport OS_PROJECT_NAME=\"\"\nset -euo pipefail\nunset -v OS_TENANT_ID\necho \"Please enter your password for $OS_USERNAME\"\necho $OS_PASSWORD\n# echo $OS_PASSWORD\nset -x\n"
        );
        std::fs::write(&file, text).unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(
            labels(LabelKind::OpenrcNames, path),
            FileLabels::Present(
                ["OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            labels(LabelKind::OpenrcEchoLines, path),
            FileLabels::Present(vec!["9".into(), "11".into()])
        );
    }

    #[test]
    fn a_line_outside_the_grammar_is_refused_without_echoing_it() {
        let out = CommandOutput {
            argv: labels_argv(LabelKind::InitCapture, "/x"),
            exit_code: Some(0),
            stdout: format!("Unseal Key 1\nUnseal Key 2: {SECRET}\n")
                .into_bytes()
                .into(),
            stderr: vec![],
            duration: Duration::ZERO,
        };
        let err = parse_labels(&ExecHost::Local, LabelKind::InitCapture, &out)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && !err.contains(SECRET), "{err}");
    }

    #[test]
    fn real_stat_and_sed_report_absence_by_exit_and_message() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let path = missing.to_str().unwrap();
        let stat = parse_stat(&ExecHost::Local, &run(&stat_argv(path))).unwrap();
        assert!(matches!(stat, PathStat::Absent { .. }), "{stat:?}");
        assert!(matches!(
            labels(LabelKind::InitCapture, path),
            FileLabels::Absent { .. }
        ));
    }

    #[test]
    fn real_stat_reads_type_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        for (path, dir_wanted) in [(dir.path(), true), (file.as_path(), false)] {
            let path = path.to_str().unwrap();
            let stat = parse_stat(&ExecHost::Local, &run(&stat_argv(path))).unwrap();
            assert_eq!(stat.is_dir(), dir_wanted, "{stat:?}");
            assert_eq!(stat.is_regular_file(), !dir_wanted, "{stat:?}");
            assert_eq!(
                stat.permissions(),
                Some(if dir_wanted { 0o700 } else { 0o600 })
            );
        }
    }
}
