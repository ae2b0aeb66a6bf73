//! The simulated jumphost: libvirt domains and networks (virsh), disk images
//! (qemu-img, stat, rm, chown, chmod) and plain files (cat, ls, mkdir, tee).
//!
//! State is loaded from the world's recordings of the argvs this part answers, and each
//! answer is rendered from that state, so a world answered with nothing changed prints
//! its recordings byte for byte (`tests::every_recorded_host_argv_renders_its_recording`).
//!
//! With [`SimConfig::real_programs`] the host is loaded by [`HostState::load_real`] and
//! the forms the table's last column calls real run the real program ([`real`]: virsh
//! on libvirt's test driver with a node document rendered from this state, qemu-img
//! and rm on real qcow2 files in a tempdir), as the test runner (a `sudo -n` is not
//! run), each cross-checked with the model's own answer on the exit status; the other
//! forms are modelled in both modes.
//!
//! The argvs, each optionally under `sudo -n` (then the caller is root; without it the
//! operator, [`HostState::operator`]):
//!
//! | program | forms | real mode |
//! |---|---|---|
//! | `virsh -c <uri>` | `list --all`, `net-list --all`, `domstate <dom>`, `dumpxml <dom>`, `net-dumpxml <net>`, `net-destroy <net>`, `net-undefine <net>` ([`virsh`]) | real (`-c test:///<node.xml>`), but `dumpxml`/`net-dumpxml` of what the world recorded no definition of |
//! | `virsh -c <uri>` | `detach-interface <dom> <type> --mac <mac> [--config] [--live] [--persistent]` | modelled: the test driver has no device detach |
//! | `qemu-img` | `info --output=json <path>`, `create -f qcow2 <path> <size>` | real, but `info` of a running domain's image (the modelled lock error) |
//! | `stat` | `-c <format> <path>` with `%U %G %a %f %n %%` | modelled |
//! | `rm` | `-f -- <path>` (the wipe's removal: `--` so a path cannot read as an option) | real for an image, also modelled |
//! | `chown` | `<owner>:<group> <path>` (also after `--`) | modelled |
//! | `chmod` | `<octal> <path>` (also after `--`) | modelled |
//! | `cat` | `-- <path>` | modelled |
//! | `ls` | `-A -- <path>` | modelled |
//! | `mkdir` | `-p [-m <octal>] -- <dir>` | modelled |
//! | `tee` | `-- <path>`, the content on stdin | modelled |
//! | `sh -c` | the admin-openrc's owner-only write (`umask 077 && set -C && exec cat > "$1"`, [`crate::actions::phase03::WRITE_SCRIPT`]), the content on stdin | modelled (dash's noclobber error) |
//! | `sed` | `-n -E <script> <path>` of a file whose content the simulation holds (one an action wrote) | real: GNU sed over the content on its stdin |
//!
//! Any other form of these programs is answered with an error naming it as not
//! modelled (exit 1), never with a recording; other programs are not this part's
//! (`None`). One libvirt host is modelled, whatever `-c` URI names it; the real mode
//! replaces that URI with the test driver's (the history keeps the caller's argv).

mod fs;
mod real;

pub use real::processes_spawned;
mod virsh;

pub use fs::{ImageInfo, Meta, Node};

use super::{Answer, Effect, SimConfig};
use crate::world::World;

/// The programs this part answers.
const PROGRAMS: &[&str] = &[
    "virsh", "qemu-img", "stat", "rm", "chown", "chmod", "cat", "ls", "mkdir", "tee", "sh", "sed",
];

/// The jumphost as the simulator holds it.
#[derive(Debug, Default)]
pub struct HostState {
    libvirt: virsh::Libvirt,
    files: fs::Files,
    /// The real-program mode's tempdir, removed with the host ([`HostState::load_real`]).
    real: Option<real::Real>,
    /// The operator's login, owner of what a command without `sudo` creates (the
    /// runbook's user; `ubuntu` unless [`HostState::set_operator`] says otherwise).
    operator: String,
    /// The shells' umask (Ubuntu's default 022, for root and the operator alike).
    umask: u32,
}

/// `argv` without a leading `sudo -n`, and whether it was there (the caller is root).
pub(crate) fn strip_sudo(argv: &[String]) -> (&[String], bool) {
    match argv {
        [sudo, n, rest @ ..] if sudo == "sudo" && n == "-n" => (rest, true),
        _ => (argv, false),
    }
}

/// A file a world's directory (or a world it extends) holds beside its manifest, such
/// as `libvirt-node.xml`, from the embedded fixtures or from disk.
pub(crate) fn world_file(world: &World, file: &str) -> Option<String> {
    fn read(dir: &std::path::Path, file: &str, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let get = |p: &std::path::Path| -> Option<Vec<u8>> {
            crate::world::EMBEDDED
                .get_file(p)
                .map(|f| f.contents().to_vec())
                .or_else(|| std::fs::read(p).ok())
        };
        if let Some(bytes) = get(&dir.join(file)) {
            return String::from_utf8(bytes).ok();
        }
        let manifest = String::from_utf8(get(&dir.join("world.toml"))?).ok()?;
        let value: toml::Table = toml::from_str(&manifest).ok()?;
        let base = value.get("extends")?.as_str()?;
        let mut next = std::path::PathBuf::new();
        for c in dir.join(base).components() {
            match c {
                std::path::Component::ParentDir => {
                    next.pop();
                }
                std::path::Component::CurDir => {}
                other => next.push(other),
            }
        }
        read(&next, file, depth + 1)
    }
    read(std::path::Path::new(&world.name), file, 0)
}

impl HostState {
    /// Loads the jumphost a world recorded: libvirt from its virsh recordings and
    /// `libvirt-node.xml`, files from its `cat`, `ls`, `stat` and `qemu-img info`
    /// recordings (a recorded "No such file or directory" leaves the path absent).
    pub fn load(world: &World) -> Result<Self, String> {
        let libvirt = virsh::Libvirt::load(world)?;
        let mut files = fs::Files::default();
        for argv in world.argvs() {
            let rec = world.get(argv).expect("listed argv");
            if rec.exit != 0 {
                continue;
            }
            let shown = || crate::runner::display_argv(argv);
            let (rest, _) = strip_sudo(argv);
            let a: Vec<&str> = rest.iter().map(String::as_str).collect();
            match a.as_slice() {
                ["cat", "--", path] => {
                    if let Node::File { contents, .. } = files.know_file(path) {
                        *contents = Some(rec.stdout.to_vec());
                    }
                }
                ["ls", "-A", "--", path] => {
                    let text = String::from_utf8_lossy(&rec.stdout).into_owned();
                    if text.trim_end_matches('\n') == *path {
                        files.know_file(path);
                        continue;
                    }
                    files.nodes.entry(path.to_string()).or_insert(Node::Dir {
                        meta: Meta::default(),
                    });
                    for name in text.lines() {
                        files.know_file(&format!("{}/{name}", path.trim_end_matches('/')));
                    }
                }
                ["stat", "-c", format, path] => {
                    let text = String::from_utf8_lossy(&rec.stdout);
                    let line = text.strip_suffix('\n').unwrap_or(&text);
                    let node = files.know_file(path);
                    fs::parse_stat_line(format, line, node.meta_mut())
                        .map_err(|e| format!("`{}`: {e}", shown()))?;
                }
                ["qemu-img", "info", "--output=json", path] => {
                    let info: ImageInfo = serde_json::from_slice(&rec.stdout)
                        .map_err(|e| format!("`{}`: {e}", shown()))?;
                    if info.render().as_bytes() != &rec.stdout[..] {
                        return Err(format!(
                            "`{}`: not in qemu-img 7.2's layout (key order, indent)",
                            shown()
                        ));
                    }
                    if let Node::File { image, .. } = files.know_file(path) {
                        *image = Some(info);
                    }
                }
                _ => {}
            }
        }
        Ok(HostState {
            libvirt,
            files,
            real: None,
            operator: "ubuntu".into(),
            umask: 0o022,
        })
    }

    /// [`HostState::load`], then the real-program mode: a tempdir with a real qcow2 file
    /// for every image the world holds, and virsh, qemu-img, qemu-io checked to start
    /// (an error naming the missing one and its package otherwise).
    pub fn load_real(world: &World) -> Result<Self, String> {
        let mut host = HostState::load(world)?;
        host.real = Some(real::Real::new(&host.files)?);
        Ok(host)
    }

    /// Whether the host runs the real programs ([`HostState::load_real`]).
    /// What a file holds, when the simulation knows it (an action or juju wrote it).
    pub fn file_contents(&self, path: &str) -> Option<&[u8]> {
        self.files.contents(path)
    }

    pub fn is_real(&self) -> bool {
        self.real.is_some()
    }

    /// The login that owns what the operator's own commands create.
    pub fn operator(&self) -> &str {
        &self.operator
    }

    pub fn set_operator(&mut self, login: &str) {
        self.operator = login.to_string();
    }

    /// The file or directory at `path`, if the host holds one.
    pub fn file(&self, path: &str) -> Option<&Node> {
        self.files.get(path)
    }

    fn caller(&self, root: bool) -> Meta {
        let login = if root { "root" } else { self.operator.as_str() };
        Meta {
            owner: Some(login.to_string()),
            group: Some(login.to_string()),
            mode: None,
        }
    }

    /// Whether a running domain's XML names `path` as a disk source: its qemu holds the
    /// image's lock.
    fn image_locked(&self, path: &str) -> bool {
        let needle = format!("<source file='{path}'/>");
        self.libvirt
            .domains
            .iter()
            .any(|d| d.state != "shut off" && d.xml.as_deref().is_some_and(|x| x.contains(&needle)))
    }

    pub fn answer(
        &mut self,
        argv: &[String],
        stdin: Option<&[u8]>,
        _config: &SimConfig,
    ) -> Option<Answer> {
        let (rest, root) = strip_sudo(argv);
        let program = rest.first()?;
        if !PROGRAMS.contains(&program.as_str()) {
            return None;
        }
        if let Some(args) = virsh::virsh_args(argv) {
            return Some(match &self.real {
                Some(real) => real.virsh(&mut self.libvirt, args),
                None => self.libvirt.answer(args),
            });
        }
        let a: Vec<&str> = rest.iter().map(String::as_str).collect();
        let who = self.caller(root);
        let umask = self.umask;
        let answer = match a.as_slice() {
            ["qemu-img", "info", "--output=json", path] => {
                let locked = self.image_locked(path);
                match &self.real {
                    Some(real) => real.qemu_img_info(&self.files, path, locked),
                    None => self.files.qemu_img_info(path, locked),
                }
            }
            ["qemu-img", "create", "-f", "qcow2", path, size] => match &self.real {
                Some(real) => real.qemu_img_create(&mut self.files, path, size, &who, umask),
                None => self.files.qemu_img_create(path, size, &who, umask),
            },
            ["stat", "-c", format, path] => self.files.stat(format, path),
            ["rm", "-f", "--", path] => match &self.real {
                Some(real) => real.rm_f(&mut self.files, path),
                None => self.files.rm_f(path),
            },
            ["chown", spec, path] | ["chown", spec, "--", path] | ["chown", "--", spec, path] => {
                self.files.chown(spec, path, root)
            }
            ["chmod", mode, path] | ["chmod", mode, "--", path] | ["chmod", "--", mode, path] => {
                self.files.chmod(mode, path)
            }
            ["cat", "--", path] => self.files.cat(path),
            ["ls", "-A", "--", path] => self.files.ls(path),
            ["mkdir", "-p", "-m", mode, "--", dir] => match u32::from_str_radix(mode, 8) {
                Ok(m) => self.files.mkdir_p(dir, Some(m), &who, umask),
                Err(_) => fs::unmodelled(&format!("mkdir -m {mode}: only octal modes")),
            },
            ["mkdir", "-p", "--", dir] => self.files.mkdir_p(dir, None, &who, umask),
            ["tee", "--", path] => self.files.tee(path, stdin.unwrap_or_default(), &who, umask),
            ["sh", "-c", script, "sh", path]
                if *script == crate::actions::phase03::WRITE_SCRIPT =>
            {
                self.files
                    .create_new(path, stdin.unwrap_or_default(), &who, 0o077)
            }
            // A file the simulation holds the content of; else the world's recording.
            ["sed", "-n", "-E", script, path] => match self.files.contents(path) {
                Some(bytes) => real::sed(script, bytes),
                None if self.files.get(path).is_none() => Answer::fail(
                    2,
                    format!("sed: can't read {path}: No such file or directory\n"),
                ),
                None => return None,
            },
            ["sh", ..] | ["sed", ..] => return None,
            _ => fs::unmodelled(&format!("`{}`", crate::runner::display_argv(argv))),
        };
        Some(answer)
    }

    /// Applies a file another part wrote ([`Effect::WroteFile`]: juju's `export-bundle
    /// --filename`, which creates it 0600 for the operator, juju/juju
    /// cmd/juju/model/exportbundle.go `Run`); other effects are not the jumphost's.
    pub fn apply(&mut self, effect: &Effect) {
        if let Effect::WroteFile { path, contents } = effect {
            let who = self.caller(false);
            // A file juju cannot create is juju's error to report, not the host's.
            let _ = self.files.write(path, contents, &who, 0o600);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
