//! Disk-image sources: `qemu-img info --output=json <file>` and the file's owner and mode
//! through `stat -c '%U:%G %a' <file>` (the two `stat` formats of seed 002 step 1 in one
//! call), each run under the site's command prefix: the OSD disks are root:root mode 600,
//! so the runbook reads them with `sudo` (seed 002 step 4).
//!
//! `qemu-img info` prints QAPI `ImageInfo` (QEMU 8.0+: `BlockGraphInfo`, which adds
//! `children`) as pretty JSON (docs/schemas/qemu-img.md#shape; qemu/qemu
//! qapi/block-core.json): `filename`, `format` and `virtual-size` are required,
//! `actual-size` is optional in the schema, so a gate that reads it gets a missing key
//! (R2), never a zero. A file that does not exist is told by the exit status and the
//! "No such file or directory" message of either tool (R3).

use serde::Deserialize;

use super::keys::{Doc, KeyPath};
use super::{MissingKey, Presence, SourceError, parse_json};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const QEMU_IMG_INFO_READERS: &[&str] = &["P00-OSD"];

/// Every key a gate reads from `qemu-img info --output=json`.
pub static KEYS: &[&KeyPath] = &[
    &KeyPath::required(Doc::QemuImgInfo, "format", QEMU_IMG_INFO_READERS),
    &KeyPath::required(Doc::QemuImgInfo, "virtual-size", QEMU_IMG_INFO_READERS),
    &ACTUAL_SIZE,
    &KeyPath::required(Doc::QemuImgInfo, "filename", QEMU_IMG_INFO_READERS),
];

/// Optional in QAPI; the OSD gate reads it, so a missing one is named, never zero.
pub static ACTUAL_SIZE: KeyPath =
    KeyPath::required(Doc::QemuImgInfo, "actual-size", QEMU_IMG_INFO_READERS);

/// The `stat` format: `owner:group mode`, mode in octal without a leading zero.
pub const STAT_FORMAT: &str = "%U:%G %a";

fn prefixed(prefix: &[String], args: &[&str]) -> Invocation {
    Invocation::new(
        prefix
            .iter()
            .map(String::as_str)
            .chain(args.iter().copied()),
    )
}

/// `qemu-img info --output=json <path>`
pub fn qemu_img_info_invocation(prefix: &[String], path: &str) -> Invocation {
    prefixed(prefix, &["qemu-img", "info", "--output=json", path])
}

/// `stat -c '%U:%G %a' <path>`
pub fn stat_invocation(prefix: &[String], path: &str) -> Invocation {
    prefixed(prefix, &["stat", "-c", STAT_FORMAT, path])
}

/// What gates read from `qemu-img info --output=json`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ImageInfo {
    pub filename: String,
    pub format: String,
    #[serde(rename = "virtual-size")]
    pub virtual_size: u64,
    #[serde(rename = "actual-size")]
    actual_size: Option<u64>,
    #[serde(rename = "cluster-size")]
    pub cluster_size: Option<u64>,
    #[serde(rename = "dirty-flag")]
    pub dirty_flag: Option<bool>,
}

impl ImageInfo {
    /// Bytes the image takes on the host's filesystem. Optional in QAPI: a missing key
    /// is named, never read as zero (a zero would look blank).
    pub fn actual_size(&self) -> Result<u64, MissingKey> {
        self.actual_size
            .ok_or_else(|| ACTUAL_SIZE.missing_at(format!("{}: actual-size", self.filename)))
    }
}

/// A file's owner, group and permission bits, as `stat -c '%U:%G %a'` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMode {
    pub owner: String,
    pub group: String,
    /// Octal permission bits without a leading zero: `600`, `644`, `2755`.
    pub mode: String,
}

impl FileMode {
    /// `owner:group`, the form the runbook and profiles use.
    pub fn owner_group(&self) -> String {
        format!("{}:{}", self.owner, self.group)
    }
}

/// A missing file: non-zero exit and the OS's own words for it.
fn missing_file(output: &CommandOutput) -> Option<String> {
    let stderr = output.stderr_text();
    // The phrase matched, never the rest of stderr.
    (!output.success() && stderr.contains("No such file or directory"))
        .then(|| "No such file or directory".to_string())
}

/// Parses `qemu-img info --output=json`.
pub fn parse_image_info(output: &CommandOutput) -> Result<Presence<ImageInfo>, SourceError> {
    if let Some(message) = missing_file(output) {
        return Ok(Presence::Absent { message });
    }
    if !output.success() {
        // qemu-img's own words for an image a running VM holds open (block/file-posix.c
        // raw_check_lock_bytes): the disk is busy, which the gate decides on (HOLD).
        let stderr = output.stderr_text();
        if stderr.contains("Failed to get") && stderr.contains("lock") {
            return Err(SourceError::Busy {
                argv: crate::runner::display_argv(&output.argv),
                message: "Failed to get shared \"write\" lock".to_string(),
            });
        }
        return Err(SourceError::exit(output));
    }
    parse_json(output).map(Presence::Present)
}

/// Parses `stat -c '%U:%G %a'`.
pub fn parse_stat(output: &CommandOutput) -> Result<Presence<FileMode>, SourceError> {
    if let Some(message) = missing_file(output) {
        return Ok(Presence::Absent { message });
    }
    if !output.success() {
        return Err(SourceError::exit(output));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let fail = |message: String| SourceError::Parse {
        argv: display_argv(&output.argv),
        path: format!("`{STAT_FORMAT}` line"),
        message,
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let [owner_group, mode] = words.as_slice() else {
        return Err(fail(format!(
            "expected `owner:group mode`, found {} word(s)",
            words.len()
        )));
    };
    let Some((owner, group)) = owner_group.split_once(':') else {
        return Err(fail("the first word is not owner:group".into()));
    };
    if mode.is_empty() || !mode.chars().all(|c| ('0'..='7').contains(&c)) {
        return Err(fail("the second word is not octal mode bits".into()));
    }
    Ok(Presence::Present(FileMode {
        owner: owner.to_string(),
        group: group.to_string(),
        mode: (*mode).to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_output as output;

    const INFO_ARGV: &[&str] = &["qemu-img", "info", "--output=json", "/i/o0-1.qcow2"];

    // qemu-img 7.2 on a fresh `qemu-img create -f qcow2 ... 512G` on ext4.
    const BLANK: &str = "{\n    \"virtual-size\": 549755813888,\n    \"filename\": \"/i/o0-1.qcow2\",\n    \"cluster-size\": 65536,\n    \"format\": \"qcow2\",\n    \"actual-size\": 204800,\n    \"format-specific\": {\n        \"type\": \"qcow2\",\n        \"data\": {\n            \"compat\": \"1.1\",\n            \"compression-type\": \"zlib\",\n            \"lazy-refcounts\": false,\n            \"refcount-bits\": 16,\n            \"corrupt\": false,\n            \"extended-l2\": false\n        }\n    },\n    \"dirty-flag\": false\n}\n";

    #[test]
    fn image_info_reads_sizes_and_format() {
        let info = parse_image_info(&output(INFO_ARGV, 0, BLANK, "")).unwrap();
        let info = info.present().unwrap();
        assert_eq!(info.format, "qcow2");
        assert_eq!(info.virtual_size, 512 << 30);
        assert_eq!(info.actual_size().unwrap(), 200 << 10);
    }

    #[test]
    fn a_missing_actual_size_is_a_missing_key_never_zero() {
        let doc = BLANK.replace("    \"actual-size\": 204800,\n", "");
        let info = parse_image_info(&output(INFO_ARGV, 0, &doc, "")).unwrap();
        let err = info.present().unwrap().actual_size().unwrap_err();
        assert_eq!(err.path, "/i/o0-1.qcow2: actual-size");
    }

    #[test]
    fn a_missing_virtual_size_names_the_key() {
        let doc = BLANK.replace("    \"virtual-size\": 549755813888,\n", "");
        let err = parse_image_info(&output(INFO_ARGV, 0, &doc, ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("virtual-size"), "{err}");
    }

    #[test]
    fn a_missing_file_is_absent_and_a_held_lock_is_an_error() {
        let gone = output(
            INFO_ARGV,
            1,
            "",
            "qemu-img: Could not open '/i/o0-1.qcow2': Could not open '/i/o0-1.qcow2': No such file or directory\n",
        );
        assert!(matches!(
            parse_image_info(&gone).unwrap(),
            Presence::Absent { .. }
        ));
        let locked = output(
            INFO_ARGV,
            1,
            "",
            "qemu-img: Could not open '/i/o0-1.qcow2': Failed to get shared \"write\" lock\nIs another process using the image [/i/o0-1.qcow2]?\n",
        );
        let err = parse_image_info(&locked).unwrap_err().to_string();
        assert!(
            err.contains("busy") && !err.contains("another process"),
            "{err}"
        );
    }

    #[test]
    fn stat_reads_owner_group_and_mode() {
        let argv = &["stat", "-c", STAT_FORMAT, "/i/o0-1.qcow2"];
        let mode = parse_stat(&output(argv, 0, "root:root 600\n", "")).unwrap();
        let mode = mode.present().unwrap();
        assert_eq!(
            (mode.owner_group(), mode.mode.as_str()),
            ("root:root".into(), "600")
        );
        let gone = output(
            argv,
            1,
            "",
            "stat: cannot statx '/i/o0-1.qcow2': No such file or directory\n",
        );
        assert!(matches!(
            parse_stat(&gone).unwrap(),
            Presence::Absent { .. }
        ));
        for bad in ["root 600\n", "root:root\n", "root:root rw-\n", ""] {
            assert!(parse_stat(&output(argv, 0, bad, "")).is_err(), "{bad:?}");
        }
    }
}
