//! The jumphost's real-program mode ([`SimConfig::real_programs`](crate::sim::SimConfig)):
//! where the real program runs on this machine, it runs for real inside the simulation.
//!
//! The host owns a tempdir (kept alive by the [`Sim`](crate::sim::Sim), removed when it
//! drops) with two parts:
//!
//! - `root/`: the jumphost's disk images. Every image the world holds (a
//!   [`Node::File`] with an [`ImageInfo`]) is a real qcow2 file at
//!   `<tmp>/root/<absolute path>`, made at load with `qemu-img create -f qcow2 <mapped>
//!   <virtual-size>`; where the recording shows data (an `actual-size` above
//!   [`ImageInfo::blank`]'s), `qemu-io -c 'write 0 <n>'` writes that much (qemu-io's
//!   default pattern 0xcd, qemu-io-cmds.c `write_f`: allocated, non-zero clusters), so a
//!   dirty OSD disk is dirty on disk. `qemu-img info`, `qemu-img create` and `rm -f --`
//!   of an image run the real program on the mapped path; `<tmp>/root` is removed from
//!   what they print, so callers read the paths they asked for.
//! - `libvirt/`: for each virsh argv, the test-driver node document rendered from the
//!   simulated libvirt state ([`node_xml`]), which the real `virsh -c
//!   test:///<node.xml>` loads afresh: libvirt's test driver is in-process and keeps no
//!   state between processes (src/test/test_driver.c `testOpenFromFile`).
//!
//! What stays modelled, and why:
//!
//! - `sudo -n`: the programs run as the test runner, on files and a node document it
//!   owns;
//! - owner and mode (`stat`, `chown`, `chmod`): the test runner may not be root, so the
//!   real files are the runner's; the sim's metadata says whose they are on the host;
//! - a running domain's image: no qemu holds the real file, so `qemu-img info` of it
//!   answers the modelled lock error (block/file-posix.c `raw_check_lock_bytes`:
//!   "Failed to get shared \"write\" lock");
//! - `detach-interface`: the test driver has no device detach (virsh 9.0 on it, with
//!   `--config` or live: "error: this function is not supported by the connection
//!   driver: virDomainDetachDeviceFlags"); the model edits the domain XML, which the
//!   next node document carries;
//! - `dumpxml` of a domain and `net-dumpxml` of a network the world recorded no
//!   definition of: the node document holds a stand-in for them (so `list --all` and
//!   `net-list --all` are real), which the real virsh would print as if it were theirs.
//!
//! States a node document cannot hold are set up in the same virsh process before the
//! caller's command: the test driver makes every node `<network>` persistent and active
//! (test_driver.c `testParseNetworks`: `virNetworkObjSetActive(obj, true)`), so a
//! defined-but-inactive network is `net-destroy`ed, an autostarted one
//! `net-autostart`ed and a transient one (undefined while active) `net-create`d from its
//! XML, each checked by what the test driver prints for it, then an `echo` of a marker;
//! stdout up to the marker is that preparation's and is dropped, the rest is the
//! caller's command (virsh runs every `;`-separated command and exits with the last
//! one's status, tools/vsh.c `vshCommandRun`).
//!
//! Each real answer is checked against the model's own: they must agree on the exit
//! status, or the answer is an error naming the disagreement and the simulated state is
//! left as it was before the command. Two places where the test driver is not
//! qemu:///system's network driver end there, reported, never papered over:
//! `net-undefine` of an active network, which the network driver makes transient
//! (src/network/bridge_driver.c `networkUndefine`) but the test driver refuses
//! (test_driver.c `testNetworkUndefine`: "Network '%s' is still running"), and
//! `net-destroy` of an inactive network, which the network driver refuses ("network
//! '%s' is not active") but the test driver's `testNetworkDestroy`, checking nothing,
//! destroys again with exit 0. The runbook's order (destroy, then undefine, each once)
//! meets neither.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use super::fs::{CLUSTER, Files, ImageInfo, Meta, Node};
use super::virsh::{self, Libvirt, NetworkDef};
use crate::sim::Answer;

/// The programs the mode runs, and the package that ships each (Debian/Ubuntu).
pub(crate) const PROGRAMS: &[(&str, &str)] = &[
    ("virsh", "libvirt-clients"),
    ("qemu-img", "qemu-utils"),
    ("qemu-io", "qemu-utils"),
];

/// What virsh echoes between the preparation and the caller's command.
const MARKER: &str = "stackgate-sim-prepared";

/// The tempdir of a real-program host.
#[derive(Debug)]
pub(crate) struct Real {
    dir: TempDir,
}

/// Processes the simulation started, in this process (every test and rehearsal):
/// a rehearsal reports the difference across its run.
static SPAWNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many processes the simulator has started so far in this process.
pub fn processes_spawned() -> usize {
    SPAWNED.load(std::sync::atomic::Ordering::Relaxed)
}

fn spawned() {
    SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// A program that ran: its output, or why it could not start.
fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<Output, String> {
    spawned();
    Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("{program}: {e}"))
}

fn exit_of(out: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    out.status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0))
}

/// Every occurrence of `from` in `hay` replaced by `to`.
fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

fn failed(what: &str, out: &Output) -> String {
    format!(
        "`{what}` exited {}: {}",
        exit_of(out),
        String::from_utf8_lossy(&out.stderr).trim_end()
    )
}

/// The error answer for a real program and the model disagreeing.
fn disagree(argv: &str, real: &Answer, model: &Answer) -> Answer {
    Answer::fail(
        1,
        format!(
            "stackgate simulator: `{argv}`: the real program exited {} but the model {}; real stdout {:?}, stderr {:?}; model stderr {:?}\n",
            real.exit,
            model.exit,
            String::from_utf8_lossy(&real.stdout),
            String::from_utf8_lossy(&real.stderr),
            String::from_utf8_lossy(&model.stderr),
        ),
    )
}

fn sim_error(what: &str) -> Answer {
    Answer::fail(1, format!("stackgate simulator: {what}\n"))
}

impl Real {
    /// Checks the programs are installed, makes the tempdir and a real file for every
    /// image `files` holds.
    pub fn new(files: &Files) -> Result<Real, String> {
        for (program, package) in PROGRAMS {
            spawned();
            if let Err(e) = Command::new(program).arg("--version").output() {
                return Err(format!(
                    "the simulator's real-program mode runs {program}, which cannot start ({e}): apt-get install {package}"
                ));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("stackgate-sim-")
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        for sub in ["root", "libvirt"] {
            std::fs::create_dir(dir.path().join(sub)).map_err(|e| format!("tempdir: {e}"))?;
        }
        let real = Real { dir };
        for (path, node) in &files.nodes {
            if let Node::File {
                image: Some(info), ..
            } = node
            {
                real.make_image(path, info)?;
            }
        }
        Ok(real)
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Where a jumphost path lives in the tempdir: absolute paths without `..` only.
    pub fn mapped(&self, path: &str) -> Option<PathBuf> {
        let rel = path.strip_prefix('/')?;
        if rel.is_empty() || rel.split('/').any(|c| c == "..") {
            return None;
        }
        Some(self.root().join(rel))
    }

    /// The recorded image as a real file: blank with its virtual size, then data written
    /// until its actual size is past a blank image's.
    fn make_image(&self, path: &str, info: &ImageInfo) -> Result<(), String> {
        let blank = ImageInfo::blank(path, info.virtual_size);
        if info.format != "qcow2"
            || info.cluster_size != CLUSTER
            || info.format_specific != blank.format_specific
            || info.dirty_flag
        {
            return Err(format!(
                "{path}: the real-program mode makes qcow2 images with qemu-img's defaults only; the world records {} cluster {} {:?} dirty-flag {}",
                info.format, info.cluster_size, info.format_specific.data, info.dirty_flag
            ));
        }
        let mapped = self
            .mapped(path)
            .ok_or_else(|| format!("{path}: the real-program mode needs an absolute image path"))?;
        if let Some(parent) = mapped.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let size = info.virtual_size.to_string();
        let args = ["create", "-q", "-f", "qcow2"];
        let mut argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        argv.extend([mapped.as_os_str(), size.as_ref()]);
        let out = run("qemu-img", &argv)?;
        if !out.status.success() {
            return Err(failed(&format!("qemu-img create {path}"), &out));
        }
        let data = info.actual_size.saturating_sub(blank.actual_size);
        if data > 0 {
            let n = (data.div_ceil(CLUSTER) * CLUSTER).min(info.virtual_size);
            let write = format!("write 0 {n}");
            let argv: [&std::ffi::OsStr; 5] = [
                "-f".as_ref(),
                "qcow2".as_ref(),
                "-c".as_ref(),
                write.as_ref(),
                mapped.as_os_str(),
            ];
            let out = run("qemu-io", &argv)?;
            if !out.status.success() {
                return Err(failed(&format!("qemu-io -c '{write}' {path}"), &out));
            }
        }
        Ok(())
    }

    /// A real program's output as an answer, the tempdir's root taken out of what it
    /// printed (`<tmp>/root/var/...` reads `/var/...` again).
    fn answer_of(&self, out: &Output) -> Answer {
        let root = self.root();
        let prefix = root.as_os_str().as_encoded_bytes();
        Answer {
            exit: exit_of(out),
            stdout: replace(&out.stdout, prefix, b"").into(),
            stderr: replace(&out.stderr, prefix, b""),
        }
    }

    /// Runs `program args.. <mapped path>` and maps the answer back.
    fn run_on(&self, program: &str, args: &[&str], mapped: &Path, tail: &[&str]) -> Answer {
        let mut argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        argv.push(mapped.as_os_str());
        argv.extend(tail.iter().map(std::ffi::OsStr::new));
        match run(program, &argv) {
            Ok(out) => self.answer_of(&out),
            Err(e) => sim_error(&e),
        }
    }

    /// `qemu-img info --output=json <path>`: real for an image the sim holds or a path it
    /// holds nothing at (qemu-img's own "No such file or directory"); modelled for a
    /// running domain's image, other files and directories.
    pub fn qemu_img_info(&self, files: &Files, path: &str, locked: bool) -> Answer {
        let model = files.qemu_img_info(path, locked);
        let Some(mapped) = self.mapped(path) else {
            return model;
        };
        if locked
            || !matches!(
                files.get(path),
                None | Some(Node::File { image: Some(_), .. })
            )
        {
            return model;
        }
        let real = self.run_on("qemu-img", &["info", "--output=json"], &mapped, &[]);
        if real.exit == model.exit {
            real
        } else {
            disagree(
                &format!("qemu-img info --output=json {path}"),
                &real,
                &model,
            )
        }
    }

    /// `qemu-img create -f qcow2 <path> <size>` on the mapped path (its directory made
    /// first: the model holds images, not the host's directory tree), then the model's.
    pub fn qemu_img_create(
        &self,
        files: &mut Files,
        path: &str,
        size: &str,
        who: &Meta,
        umask: u32,
    ) -> Answer {
        let Some(mapped) = self.mapped(path) else {
            return files.qemu_img_create(path, size, who, umask);
        };
        if let Some(Node::Dir { .. }) = files.get(path) {
            return files.qemu_img_create(path, size, who, umask);
        }
        if let Some(parent) = mapped.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            return sim_error(&format!("{}: {e}", parent.display()));
        }
        let before = files.get(path).cloned();
        let real = self.run_on("qemu-img", &["create", "-f", "qcow2"], &mapped, &[size]);
        let model = files.qemu_img_create(path, size, who, umask);
        if real.exit == model.exit {
            return real;
        }
        restore(files, path, before);
        disagree(
            &format!("qemu-img create -f qcow2 {path} {size}"),
            &real,
            &model,
        )
    }

    /// `rm -f -- <path>`: the model's, and for an image the real `rm` of its file too.
    pub fn rm_f(&self, files: &mut Files, path: &str) -> Answer {
        let before = files.get(path).cloned();
        let model = files.rm_f(path);
        let is_image = matches!(before, Some(Node::File { image: Some(_), .. }));
        let Some(mapped) = self.mapped(path).filter(|_| is_image) else {
            return model;
        };
        let real = self.run_on("rm", &["-f", "--"], &mapped, &[]);
        if real.exit == model.exit {
            return real;
        }
        restore(files, path, before);
        disagree(&format!("rm -f -- {path}"), &real, &model)
    }

    /// One virsh subcommand: the read forms, `net-destroy` and `net-undefine` on the
    /// real virsh and test driver (cross-checked with the model, which then holds the
    /// same change), every other form by the model.
    pub fn virsh(&self, lv: &mut Libvirt, args: &[String]) -> Answer {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let real_form = match a.as_slice() {
            ["list", "--all"] | ["net-list", "--all"] => true,
            ["domstate", _] | ["net-destroy", _] | ["net-undefine", _] => true,
            ["dumpxml", dom] => !lv.domains.iter().any(|d| d.name == *dom && d.xml.is_none()),
            ["net-dumpxml", net] => {
                !lv.networks.iter().any(|n| n.name == *net) || lv.defs.contains_key(*net)
            }
            _ => false,
        };
        if !real_form {
            return lv.answer(args);
        }
        let before = lv.clone();
        let real = self.run_virsh(&before, args);
        let model = lv.answer(args);
        let shown = format!("virsh {}", a.join(" "));
        match real {
            Ok(real) if real.exit == model.exit => real,
            Ok(real) => {
                *lv = before;
                disagree(&shown, &real, &model)
            }
            Err(e) => {
                *lv = before;
                sim_error(&format!("`{shown}` on libvirt's test driver: {e}"))
            }
        }
    }

    /// Writes the node document (and any transient network's XML) for `lv` and runs
    /// `virsh -c test:///<node.xml>` with the preparation and the caller's args.
    fn run_virsh(&self, lv: &Libvirt, args: &[String]) -> Result<Answer, String> {
        let dir = self.dir.path().join("libvirt");
        let node = dir.join("node.xml");
        std::fs::write(&node, node_xml(lv)?).map_err(|e| format!("{}: {e}", node.display()))?;
        let mut prepare: Vec<String> = Vec::new();
        let mut expected = String::new();
        for (i, n) in lv.networks.iter().enumerate() {
            let name = quoted(&n.name)?;
            if !n.persistent {
                if !n.active {
                    return Err(format!("network {}: transient yet inactive", n.name));
                }
                let file = dir.join(format!("transient-{i}.xml"));
                std::fs::write(&file, virsh::render_network_xml(&def_of(lv, &n.name)))
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                let shown = file.display().to_string();
                prepare.push(format!("net-create {}", quoted(&shown)?));
                // tools/virsh-network.c cmdNetworkCreate.
                expected.push_str(&format!("Network {} created from {shown}\n\n", n.name));
                continue;
            }
            if n.autostart {
                prepare.push(format!("net-autostart {name}"));
                // tools/virsh-network.c cmdNetworkAutostart.
                expected.push_str(&format!("Network {} marked as autostarted\n\n", n.name));
            }
            if !n.active {
                prepare.push(format!("net-destroy {name}"));
                expected.push_str(&format!("Network {} destroyed\n\n", n.name));
            }
        }
        let uri = format!("test://{}", node.display());
        let mut argv: Vec<String> = vec!["-c".into(), uri];
        if prepare.is_empty() {
            argv.extend(args.iter().cloned());
        } else {
            let words = args
                .iter()
                .map(|a| quoted(a))
                .collect::<Result<Vec<_>, _>>()?;
            prepare.push(format!("echo {MARKER}"));
            prepare.push(words.join(" "));
            argv.push(prepare.join("; "));
        }
        let os: Vec<&std::ffi::OsStr> = argv.iter().map(|a| a.as_ref()).collect();
        let out = run("virsh", &os)?;
        let mut answer = self.answer_of(&out);
        if !expected.is_empty() {
            // virsh 9.0 prints no blank line after `echo` (observed), after the others one.
            let cut = format!("{expected}{MARKER}\n");
            match answer.stdout.strip_prefix(cut.as_bytes()) {
                Some(rest) => answer.stdout = rest.to_vec().into(),
                None => {
                    return Err(format!(
                        "setting up the state the node document cannot hold failed: stdout {:?}, stderr {:?}",
                        String::from_utf8_lossy(&answer.stdout),
                        String::from_utf8_lossy(&answer.stderr)
                    ));
                }
            }
        }
        Ok(answer)
    }
}

/// Puts back what `path` held before a command the real program and the model
/// disagreed on.
fn restore(files: &mut Files, path: &str, before: Option<Node>) {
    match before {
        Some(node) => {
            files.nodes.insert(path.to_string(), node);
        }
        None => {
            files.nodes.remove(path);
        }
    }
}

/// A word in virsh's command string, single-quoted (tools/vsh.c
/// `vshCommandStringGetArg`: nothing is special inside single quotes).
fn quoted(word: &str) -> Result<String, String> {
    if word.contains('\'') {
        Err(format!(
            "{word:?}: a quote cannot pass through virsh's command string"
        ))
    } else {
        Ok(format!("'{word}'"))
    }
}

/// The network's definition, or a stand-in holding its name only.
fn def_of(lv: &Libvirt, name: &str) -> NetworkDef {
    lv.defs.get(name).cloned().unwrap_or_else(|| NetworkDef {
        name: name.to_string(),
        ..NetworkDef::default()
    })
}

/// `test:runstate` of a virsh state label (the `virDomainState` numbers;
/// tools/virsh-domain-monitor.c `virshDomainStateToString` gives the labels).
fn runstate(label: &str) -> Option<u8> {
    Some(match label {
        "running" => 1,
        "idle" => 2,
        "paused" => 3,
        "in shutdown" => 4,
        "shut off" => 5,
        "crashed" => 6,
        "pmsuspended" => 7,
        _ => return None,
    })
}

fn indent(out: &mut String, xml: &str) {
    for line in xml.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}

/// The test driver's `<node>` for the simulated libvirt: each persistent network's
/// definition, then each domain's XML with its state as `test:runstate`
/// (src/test/test_driver.c `testParseDomains`; the `test` namespace is
/// `http://libvirt.org/schemas/domain/test/1.0`). A domain the world recorded no XML
/// for gets a stand-in (name, 1 GiB, hvm) so it is listed; transient networks are not
/// in the node (the test driver cannot load one), [`Real::run_virsh`] creates them.
pub(crate) fn node_xml(lv: &Libvirt) -> Result<String, String> {
    let mut out = String::from("<node>\n");
    for n in lv.networks.iter().filter(|n| n.persistent) {
        indent(&mut out, &virsh::render_network_xml(&def_of(lv, &n.name)));
    }
    for d in &lv.domains {
        let state = runstate(&d.state).ok_or_else(|| {
            format!(
                "domain {}: state {:?} has no test:runstate",
                d.name, d.state
            )
        })?;
        let xml = d.xml.clone().unwrap_or_else(|| {
            format!(
                "<domain type='kvm'>\n  <name>{}</name>\n  <memory unit='KiB'>1048576</memory>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n</domain>\n",
                d.name
            )
        });
        let open_end = xml
            .find('>')
            .filter(|_| xml.starts_with("<domain"))
            .ok_or_else(|| format!("domain {}: its XML does not open with <domain>", d.name))?;
        let close = xml
            .rfind("</domain>")
            .ok_or_else(|| format!("domain {}: its XML does not close </domain>", d.name))?;
        let mut doc = String::new();
        doc.push_str(&xml[..open_end]);
        doc.push_str(" xmlns:test='http://libvirt.org/schemas/domain/test/1.0'");
        doc.push_str(&xml[open_end..close]);
        doc.push_str(&format!("  <test:runstate>{state}</test:runstate>\n"));
        doc.push_str(&xml[close..]);
        indent(&mut out, &doc);
    }
    out.push_str("</node>\n");
    Ok(out)
}

/// GNU sed over a file's content, fed on its stdin (the file lives in the simulation,
/// not on this disk): the script is the caller's, so what the gate's sed prints is what
/// sed prints. sed is in every base system (Debian and Ubuntu mark it Essential); one
/// that cannot start is the simulator's error, never a modelled answer.
pub(crate) fn sed(script: &str, contents: &[u8]) -> Answer {
    use std::io::Write as _;
    use std::process::Stdio;
    spawned();
    let child = Command::new("sed")
        .args(["-n", "-E", script])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return sim_error(&format!("sed (package sed) cannot run here: {e}")),
    };
    if let Some(mut stdin) = child.stdin.take()
        && let Err(e) = stdin.write_all(contents)
    {
        return sim_error(&format!("sed: cannot feed the file: {e}"));
    }
    match child.wait_with_output() {
        Ok(out) => Answer {
            exit: exit_of(&out),
            stdout: out.stdout.into(),
            stderr: out.stderr,
        },
        Err(e) => sim_error(&format!("sed: {e}")),
    }
}
