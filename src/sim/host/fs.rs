//! The jumphost's files: disk images (`qemu-img`), owners and modes (`stat`, `chown`,
//! `chmod`), plain files and directories (`cat`, `ls`, `mkdir`, `tee`, `rm`), as GNU
//! coreutils 9.1 and qemu-img 7.2 print them.
//!
//! Messages: coreutils quotes a file name in an error with `quotef` (shell-escape
//! quoting, only when needed: `cat`, `tee`) or `quoteaf` (always: `ls`, `stat`, `chown`,
//! `chmod`, `rm`, `mkdir`) (coreutils src/system.h); the reason is `strerror(errno)`
//! (ENOENT "No such file or directory", EISDIR "Is a directory", EEXIST "File exists",
//! EPERM "Operation not permitted").
//!
//! In the real-program mode (`super::real`) `qemu-img info`, `qemu-img create` and `rm`
//! of an image also run for real on a qcow2 file in a tempdir; owners and modes stay
//! this model's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::sim::Answer;

/// A qcow2 image's header fields, as `qemu-img info --output=json` prints them (QAPI
/// `ImageInfo`, qemu/qemu qapi/block-core.json; `ImageInfoSpecificQCow2`). Field order
/// is qemu-img 7.2's (block/qapi.c `bdrv_query_image_info` fills them in this order and
/// the QObject JSON visitor prints them as filled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageInfo {
    #[serde(rename = "virtual-size")]
    pub virtual_size: u64,
    pub filename: String,
    #[serde(rename = "cluster-size")]
    pub cluster_size: u64,
    pub format: String,
    #[serde(rename = "actual-size")]
    pub actual_size: u64,
    #[serde(rename = "format-specific")]
    pub format_specific: FormatSpecific,
    #[serde(rename = "dirty-flag")]
    pub dirty_flag: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatSpecific {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Qcow2Data,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qcow2Data {
    pub compat: String,
    #[serde(rename = "compression-type")]
    pub compression_type: String,
    #[serde(rename = "lazy-refcounts")]
    pub lazy_refcounts: bool,
    #[serde(rename = "refcount-bits")]
    pub refcount_bits: u32,
    pub corrupt: bool,
    #[serde(rename = "extended-l2")]
    pub extended_l2: bool,
}

/// qcow2's default cluster size (block/qcow2.h `DEFAULT_CLUSTER_SIZE`).
pub const CLUSTER: u64 = 65536;

impl ImageInfo {
    /// A blank qcow2 as `qemu-img create -f qcow2 <path> <size>` makes it with the
    /// defaults (block/qcow2.c `qcow2_co_create`: compat 1.1, zlib, 16-bit refcounts,
    /// no lazy refcounts, no extended L2).
    ///
    /// `actual-size` is the blocks the fresh file holds on the jumphost's ext4: 192 KiB
    /// (header, refcount table and block) plus the 4 KiB blocks of the L1 table, one
    /// 8-byte entry per 512 MiB of virtual size. Measured with qemu-img 7.2 (the
    /// recordings) and 10.0: 512M and 100G 200704, 512G 204800, 1T 212992, 4T 262144;
    /// `tests::fresh_image_matches_real_qemu_img` checks it when qemu-img is installed.
    pub fn blank(path: &str, virtual_size: u64) -> ImageInfo {
        let per_l2 = CLUSTER * (CLUSTER / 8);
        let l1_bytes = virtual_size.div_ceil(per_l2) * 8;
        ImageInfo {
            virtual_size,
            filename: path.to_string(),
            cluster_size: CLUSTER,
            format: "qcow2".into(),
            actual_size: 192 * 1024 + l1_bytes.div_ceil(4096) * 4096,
            format_specific: FormatSpecific {
                kind: "qcow2".into(),
                data: Qcow2Data {
                    compat: "1.1".into(),
                    compression_type: "zlib".into(),
                    lazy_refcounts: false,
                    refcount_bits: 16,
                    corrupt: false,
                    extended_l2: false,
                },
            },
            dirty_flag: false,
        }
    }

    /// qemu-img's pretty JSON: four-space indent, `": "`, a final newline
    /// (qobject/qjson.c `to_json` with pretty true).
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        self.serialize(&mut ser).expect("image info serialises");
        let mut s = String::from_utf8(buf).expect("JSON is UTF-8");
        s.push('\n');
        s
    }
}

/// One file or directory the host holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File {
        /// `None` for a file only a directory listing named: it exists, its bytes were
        /// never recorded.
        contents: Option<Vec<u8>>,
        image: Option<ImageInfo>,
        meta: Meta,
    },
    Dir {
        meta: Meta,
    },
}

/// Owner, group and permission bits; `None` where no recording said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<u32>,
}

impl Node {
    pub fn meta(&self) -> &Meta {
        match self {
            Node::File { meta, .. } | Node::Dir { meta } => meta,
        }
    }
    pub fn meta_mut(&mut self) -> &mut Meta {
        match self {
            Node::File { meta, .. } | Node::Dir { meta } => meta,
        }
    }
    fn is_dir(&self) -> bool {
        matches!(self, Node::Dir { .. })
    }
}

/// The files, by absolute (or world-relative) path as argvs name them.
#[derive(Debug, Clone, Default)]
pub struct Files {
    pub nodes: BTreeMap<String, Node>,
}

/// coreutils `quotef`: the name bare when the shell would read it unchanged, else in
/// single quotes (gnulib quotearg.c `shell_escape_quoting_style`).
pub fn quotef(path: &str) -> String {
    let plain = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        path.to_string()
    } else {
        quoteaf(path)
    }
}

/// coreutils `quoteaf`: always single-quoted (`shell_escape_always_quoting_style`).
pub fn quoteaf(path: &str) -> String {
    format!("'{}'", path.replace('\'', "'\\''"))
}

const ENOENT: &str = "No such file or directory";

fn parent(path: &str) -> Option<&str> {
    let trimmed = path.trim_end_matches('/');
    trimmed
        .rfind('/')
        .map(|i| if i == 0 { "/" } else { &trimmed[..i] })
}

impl Files {
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Adds a file a recording shows, merging with what other recordings said of it.
    pub fn know_file(&mut self, path: &str) -> &mut Node {
        self.nodes.entry(path.to_string()).or_insert(Node::File {
            contents: None,
            image: None,
            meta: Meta::default(),
        })
    }

    /// `cat -- <path>` (coreutils src/cat.c: `error (0, errno, "%s", quotef (infile))`).
    pub fn cat(&self, path: &str) -> Answer {
        match self.nodes.get(path) {
            None => Answer::fail(1, format!("cat: {}: {ENOENT}\n", quotef(path))),
            Some(Node::Dir { .. }) => {
                Answer::fail(1, format!("cat: {}: Is a directory\n", quotef(path)))
            }
            Some(Node::File {
                contents: Some(c), ..
            }) => Answer::ok(c.clone()),
            Some(Node::File { image: Some(_), .. }) => unmodelled(&format!(
                "cat -- {path}: the bytes of a disk image are not modelled"
            )),
            Some(Node::File { .. }) => unmodelled(&format!(
                "cat -- {path}: the world lists this file but never recorded its contents"
            )),
        }
    }

    /// `ls -A -- <path>`: a directory's entries but `.` and `..`, one a line (stdout is
    /// not a terminal), sorted by name in the C locale; a file's own name; a missing one
    /// exits 2 (coreutils src/ls.c: `LS_FAILURE` for a command-line argument,
    /// "cannot access %s" with `quoteaf`).
    pub fn ls(&self, path: &str) -> Answer {
        match self.nodes.get(path) {
            None => Answer::fail(
                2,
                format!("ls: cannot access {}: {ENOENT}\n", quoteaf(path)),
            ),
            Some(Node::File { .. }) => Answer::ok(format!("{path}\n")),
            Some(Node::Dir { .. }) => {
                let prefix = format!("{}/", path.trim_end_matches('/'));
                let mut out = String::new();
                // BTreeMap order is byte order: strcoll under LC_ALL=C.
                for key in self.nodes.keys() {
                    if let Some(name) = key.strip_prefix(&prefix)
                        && !name.is_empty()
                        && !name.contains('/')
                    {
                        out.push_str(name);
                        out.push('\n');
                    }
                }
                Answer::ok(out)
            }
        }
    }

    /// `mkdir -p [-m MODE] -- <dir>`: the missing parents with `0777 & ~umask`, the
    /// directory itself with MODE (coreutils src/mkdir.c, gnulib mkancesdirs.c); an
    /// existing directory is left as it is; a file in the way is EEXIST.
    pub fn mkdir_p(&mut self, dir: &str, mode: Option<u32>, who: &Meta, umask: u32) -> Answer {
        let dir = dir.trim_end_matches('/');
        let mut chain = vec![dir];
        let mut cur = dir;
        while let Some(p) = parent(cur) {
            if p == "/" || p.is_empty() {
                break;
            }
            chain.push(p);
            cur = p;
        }
        for (i, p) in chain.iter().rev().enumerate() {
            match self.nodes.get(*p) {
                Some(Node::Dir { .. }) => {}
                Some(Node::File { .. }) => {
                    return Answer::fail(
                        1,
                        format!(
                            "mkdir: cannot create directory {}: File exists\n",
                            quoteaf(p)
                        ),
                    );
                }
                None => {
                    let last = i + 1 == chain.len();
                    let m = if last {
                        mode.unwrap_or(0o777 & !umask)
                    } else {
                        0o777 & !umask
                    };
                    let meta = Meta {
                        mode: Some(m),
                        ..who.clone()
                    };
                    self.nodes.insert(p.to_string(), Node::Dir { meta });
                }
            }
        }
        Answer::ok("")
    }

    /// Writes a whole file (`tee`, juju's `export-bundle --filename`): a new file gets
    /// `who` and `mode`; an existing one keeps its owner and mode (O_TRUNC).
    pub fn write(&mut self, path: &str, bytes: &[u8], who: &Meta, mode: u32) -> Result<(), String> {
        if let Some(p) = parent(path)
            && let Some(Node::File { .. }) = self.nodes.get(p)
        {
            return Err("Not a directory".into());
        }
        match self.nodes.get_mut(path) {
            Some(Node::Dir { .. }) => Err("Is a directory".into()),
            Some(Node::File {
                contents, image, ..
            }) => {
                *contents = Some(bytes.to_vec());
                *image = None;
                Ok(())
            }
            None => {
                self.nodes.insert(
                    path.to_string(),
                    Node::File {
                        contents: Some(bytes.to_vec()),
                        image: None,
                        meta: Meta {
                            mode: Some(mode),
                            ..who.clone()
                        },
                    },
                );
                Ok(())
            }
        }
    }

    /// What a file holds, when known.
    pub fn contents(&self, path: &str) -> Option<&[u8]> {
        match self.nodes.get(path) {
            Some(Node::File {
                contents: Some(c), ..
            }) => Some(c),
            _ => None,
        }
    }

    /// `sh -c 'umask <umask> && set -C && exec cat > "$1"' sh <path>`, the content on
    /// stdin: a new file `0666 & !umask`; an existing one is dash's noclobber refusal
    /// (src/redir.c `openredirect`: "cannot create %s: %s", exit 2).
    pub fn create_new(&mut self, path: &str, stdin: &[u8], who: &Meta, umask: u32) -> Answer {
        let refuse =
            |reason: &str| Answer::fail(2, format!("sh: 1: cannot create {path}: {reason}\n"));
        if self.nodes.contains_key(path) {
            return refuse("File exists");
        }
        match self.write(path, stdin, who, 0o666 & !umask) {
            Ok(()) => Answer::ok(""),
            Err(reason) => refuse(&reason),
        }
    }

    /// `tee -- <path>` with the content on stdin: stdout echoes it (coreutils
    /// src/tee.c); a file it cannot open is reported with `quotef` and exit 1, stdout
    /// still echoing.
    pub fn tee(&mut self, path: &str, stdin: &[u8], who: &Meta, umask: u32) -> Answer {
        match self.write(path, stdin, who, 0o666 & !umask) {
            Ok(()) => Answer::ok(stdin.to_vec()),
            Err(reason) => Answer {
                exit: 1,
                stdout: stdin.to_vec().into(),
                stderr: format!("tee: {}: {reason}\n", quotef(path)).into_bytes(),
            },
        }
    }

    /// `rm -f -- <path>`: a missing file is no error under `-f`; a directory needs `-r`
    /// (coreutils src/remove.c: "cannot remove %s: Is a directory").
    pub fn rm_f(&mut self, path: &str) -> Answer {
        match self.nodes.get(path) {
            Some(Node::Dir { .. }) => Answer::fail(
                1,
                format!("rm: cannot remove {}: Is a directory\n", quoteaf(path)),
            ),
            _ => {
                self.nodes.remove(path);
                Answer::ok("")
            }
        }
    }

    /// `chown OWNER:GROUP <path>` (coreutils src/chown-core.c: "cannot access %s" for a
    /// missing file, "changing ownership of %s" EPERM for a caller that is not root).
    pub fn chown(&mut self, spec: &str, path: &str, root: bool) -> Answer {
        let Some((owner, group)) = spec.split_once(':') else {
            return unmodelled(&format!("chown {spec}: only OWNER:GROUP is modelled"));
        };
        let Some(node) = self.nodes.get_mut(path) else {
            return Answer::fail(
                1,
                format!("chown: cannot access {}: {ENOENT}\n", quoteaf(path)),
            );
        };
        if !root {
            return Answer::fail(
                1,
                format!(
                    "chown: changing ownership of {}: Operation not permitted\n",
                    quoteaf(path)
                ),
            );
        }
        let meta = node.meta_mut();
        meta.owner = Some(owner.to_string());
        meta.group = Some(group.to_string());
        Answer::ok("")
    }

    /// `chmod OCTAL <path>` (coreutils src/chmod.c: "cannot access %s").
    pub fn chmod(&mut self, mode: &str, path: &str) -> Answer {
        let Ok(bits) = u32::from_str_radix(mode, 8) else {
            return unmodelled(&format!("chmod {mode}: only octal modes are modelled"));
        };
        match self.nodes.get_mut(path) {
            None => Answer::fail(
                1,
                format!("chmod: cannot access {}: {ENOENT}\n", quoteaf(path)),
            ),
            Some(node) => {
                node.meta_mut().mode = Some(bits & 0o7777);
                Answer::ok("")
            }
        }
    }

    /// `stat -c FORMAT <path>` with the directives `%U`, `%G`, `%a`, `%f`, `%n` and
    /// `%%` (coreutils src/stat.c `print_stat`; statx since 8.32: "cannot statx %s").
    pub fn stat(&self, format: &str, path: &str) -> Answer {
        let Some(node) = self.nodes.get(path) else {
            return Answer::fail(
                1,
                format!("stat: cannot statx {}: {ENOENT}\n", quoteaf(path)),
            );
        };
        match render_stat(format, path, node) {
            Some(line) => Answer::ok(format!("{line}\n")),
            None => unmodelled(&format!(
                "stat -c {format} {path}: a directive or a value the world never recorded"
            )),
        }
    }

    /// `qemu-img info --output=json <path>`; `locked` when a running domain holds the
    /// image (block/file-posix.c `raw_check_lock_bytes`: "Failed to get shared \"write\"
    /// lock" and the hint "Is another process using the image [%s]?"; qemu-img.c
    /// `img_open_file` prefixes "Could not open '%s': ").
    pub fn qemu_img_info(&self, path: &str, locked: bool) -> Answer {
        match self.nodes.get(path) {
            None => Answer::fail(
                1,
                format!("qemu-img: Could not open '{path}': Could not open '{path}': {ENOENT}\n"),
            ),
            Some(_) if locked => Answer::fail(
                1,
                format!(
                    "qemu-img: Could not open '{path}': Failed to get shared \"write\" lock\nIs another process using the image [{path}]?\n"
                ),
            ),
            Some(Node::File {
                image: Some(info), ..
            }) => Answer::ok(info.render()),
            Some(_) => unmodelled(&format!(
                "qemu-img info {path}: not a disk image the sim holds"
            )),
        }
    }

    /// `qemu-img create -f qcow2 <path> <size>`: a blank image, owned by the caller, mode
    /// `0644 & ~umask` (util/osdep.c `qemu_create` with 0644 from block/file-posix.c
    /// `raw_co_create`), and the line qemu-img prints (block.c `bdrv_img_create`:
    /// "Formatting '%s', fmt=%s " and the creation options).
    pub fn qemu_img_create(&mut self, path: &str, size: &str, who: &Meta, umask: u32) -> Answer {
        let Some(bytes) = parse_size(size) else {
            // qemu-img.c img_create: qemu_strtosz_MiB failing.
            return Answer::fail(
                1,
                "qemu-img: Invalid image size specified. You may use k, M, G, T, P or E suffixes for\nqemu-img: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n".to_string(),
            );
        };
        if let Some(Node::Dir { .. }) = self.nodes.get(path) {
            return Answer::fail(
                1,
                format!("qemu-img: {path}: Could not create '{path}': Is a directory\n"),
            );
        }
        let meta = match self.nodes.get(path) {
            Some(n) => n.meta().clone(),
            None => Meta {
                mode: Some(0o644 & !umask),
                ..who.clone()
            },
        };
        self.nodes.insert(
            path.to_string(),
            Node::File {
                contents: None,
                image: Some(ImageInfo::blank(path, bytes)),
                meta,
            },
        );
        Answer::ok(format!(
            "Formatting '{path}', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size={bytes} lazy_refcounts=off refcount_bits=16\n"
        ))
    }
}

/// qemu-img's size argument: bytes, or a `k`/`K`, `M`, `G`, `T`, `P`, `E` suffix in
/// powers of 1024 (util/cutils.c `qemu_strtosz`).
pub fn parse_size(s: &str) -> Option<u64> {
    let (digits, shift) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 10),
        (i, 'M') => (&s[..i], 20),
        (i, 'G') => (&s[..i], 30),
        (i, 'T') => (&s[..i], 40),
        (i, 'P') => (&s[..i], 50),
        (i, 'E') => (&s[..i], 60),
        (i, 'B' | 'b') => (&s[..i], 0),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

fn render_stat(format: &str, path: &str, node: &Node) -> Option<String> {
    let meta = node.meta();
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'U' => out.push_str(meta.owner.as_deref()?),
            'G' => out.push_str(meta.group.as_deref()?),
            'a' => out.push_str(&format!("{:o}", meta.mode?)),
            'f' => {
                let kind = if node.is_dir() { 0o040000 } else { 0o100000 };
                out.push_str(&format!("{:x}", kind | meta.mode?));
            }
            'n' => out.push_str(path),
            '%' => out.push('%'),
            _ => return None,
        }
    }
    Some(out)
}

/// Reads back what a recorded `stat -c FORMAT` line says of the file, for the
/// directives [`Files::stat`] renders.
pub fn parse_stat_line(format: &str, line: &str, meta: &mut Meta) -> Result<(), String> {
    let fmt_words: Vec<&str> = format.split(' ').collect();
    let words: Vec<&str> = line.split(' ').collect();
    if fmt_words.len() != words.len() {
        return Err(format!("`{format}`: the line has {} word(s)", words.len()));
    }
    for (f, w) in fmt_words.iter().zip(words) {
        match *f {
            "%U:%G" => {
                let (o, g) = w.split_once(':').ok_or("owner:group")?;
                meta.owner = Some(o.into());
                meta.group = Some(g.into());
            }
            "%U" => meta.owner = Some(w.into()),
            "%G" => meta.group = Some(w.into()),
            "%a" => meta.mode = Some(u32::from_str_radix(w, 8).map_err(|_| "%a not octal")?),
            "%f" => {
                let raw = u32::from_str_radix(w, 16).map_err(|_| "%f not hex")?;
                meta.mode = Some(raw & 0o7777);
            }
            other => return Err(format!("the directive {other} is not modelled")),
        }
    }
    Ok(())
}

pub(crate) fn unmodelled(what: &str) -> Answer {
    Answer::fail(1, format!("stackgate simulator: {what}: not modelled\n"))
}
