//! Re-embeds the fixture worlds when any file under `fixtures/` changes (`include_dir!`
//! alone does not see a new world directory), and records the commit stackgate is built
//! from (`STACKGATE_COMMIT`, named by every as-executed log entry): `git rev-parse
//! --short=12 HEAD` in a clone, `unknown` in a source tree without git.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=fixtures");
    println!("cargo:rerun-if-changed=profiles");
    println!("cargo:rerun-if-changed=docs/gate-seeds.toml");
    println!("cargo:rerun-if-changed=features");
    // A new commit moves HEAD or the branch it points at.
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD")
        && let Some(branch) = head.strip_prefix("ref: ")
        && std::path::Path::new(".git").join(branch.trim()).is_file()
    {
        println!("cargo:rerun-if-changed=.git/{}", branch.trim());
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=STACKGATE_COMMIT={commit}");
}
