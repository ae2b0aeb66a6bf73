//! Steps that run the phase-00 libvirt gates against real programs: `virsh` on libvirt's
//! in-process test driver (a `<node>` document of the four host domains and the
//! networks, written to a tempdir) and real qcow2 images made with `qemu-img` (data
//! written with `qemu-io`). The scenario's profile points the libvirt URI and the OSD
//! path at the tempdir; juju and MAAS are read from the phase-00 exit world, every other
//! argv runs for real. Scenarios are tagged `@needs-virsh` / `@needs-qemu-img` /
//! `@needs-qemu-io` and skipped by name where those are missing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use cucumber::{given, then, when};
use stackgate::cli::{Format, GateRun};
use stackgate::gates::{self as catalog, GateSpec};
use stackgate::profile::{LibvirtSite, OsdDisks, Profile};
use stackgate::run::RunOptions;
use stackgate::runner::{DEFAULT_TIMEOUT, Layered, Live, Logged, Replay};
use stackgate::world::World;
use tempfile::TempDir;

use crate::{Gate, GateRunResult, GateWorld, describe};

/// The world the juju and MAAS reads come from: the phase-00 exit state.
const JUJU_MAAS_WORLD: &str = "testcloud/phase00-ready-carved";

/// A libvirt test-driver node and OSD images in a tempdir, removed when the scenario ends.
#[derive(Debug)]
pub struct Lab {
    dir: TempDir,
    hosts: Vec<String>,
    lbaas_network: String,
    running: BTreeSet<String>,
    on_lbaas: BTreeSet<String>,
    network_defined: bool,
    /// The owner the scenario's profile expects, when not the test runner's own.
    expected_owner: Option<String>,
}

impl Lab {
    fn new() -> Result<Lab, String> {
        let profile = Profile::testcloud();
        let site = profile
            .libvirt
            .ok_or("the testcloud profile has no [libvirt] section")?;
        Ok(Lab {
            dir: tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?,
            hosts: profile.hosts.into_iter().map(|h| h.hostname).collect(),
            lbaas_network: site.lbaas_network,
            running: BTreeSet::new(),
            on_lbaas: BTreeSet::new(),
            network_defined: false,
            expected_owner: None,
        })
    }

    fn node_path(&self) -> PathBuf {
        self.dir.path().join("node.xml")
    }

    fn disk(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("{host}-1.qcow2"))
    }

    fn host(&self, host: &str) -> Result<String, String> {
        self.hosts
            .iter()
            .find(|h| *h == host)
            .cloned()
            .ok_or_else(|| format!("{host} is not a host of the testcloud profile"))
    }

    /// The test driver's `<node>`: the networks, then each host domain with its state
    /// (`test:runstate`: 1 running, 5 shut off; libvirt src/test/test_driver.c).
    fn node_xml(&self) -> String {
        let mut xml = String::from(
            "<node>\n  <network>\n    <name>2_metal</name>\n    <bridge name='virbr2'/>\n  </network>\n",
        );
        if self.network_defined {
            let _ = write!(
                xml,
                "  <network>\n    <name>{}</name>\n    <bridge name='virbr6'/>\n  </network>\n",
                self.lbaas_network
            );
        }
        for (n, host) in self.hosts.iter().enumerate() {
            let _ = write!(
                xml,
                "  <domain type='kvm' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n    <name>{host}</name>\n    <memory unit='GiB'>1</memory>\n    <os>\n      <type arch='x86_64'>hvm</type>\n    </os>\n    <devices>\n      <interface type='network'>\n        <mac address='52:54:00:00:71:4{n}'/>\n        <source network='2_metal'/>\n      </interface>\n"
            );
            if self.on_lbaas.contains(host) {
                let _ = write!(
                    xml,
                    "      <interface type='network'>\n        <mac address='52:54:00:00:b5:4{n}'/>\n        <source network='{}'/>\n      </interface>\n",
                    self.lbaas_network
                );
            }
            let state = if self.running.contains(host) { 1 } else { 5 };
            let _ = write!(
                xml,
                "    </devices>\n    <test:runstate>{state}</test:runstate>\n  </domain>\n"
            );
        }
        xml.push_str("</node>\n");
        xml
    }

    /// The scenario's profile: the testcloud's, its libvirt host this tempdir.
    fn profile(&self) -> Result<Profile, String> {
        let mut profile = Profile::testcloud();
        let site = profile
            .libvirt
            .take()
            .ok_or("the testcloud profile has no [libvirt] section")?;
        let owner = match &self.expected_owner {
            Some(owner) => owner.clone(),
            None => format!("{}:{}", id("-un")?, id("-gn")?),
        };
        profile.libvirt = Some(LibvirtSite {
            uri: format!("test://{}", self.node_path().display()),
            command_prefix: Vec::new(),
            osd: OsdDisks {
                path: self.dir.path().join("{host}-1.qcow2").display().to_string(),
                owner,
                ..site.osd
            },
            ..site
        });
        Ok(profile)
    }
}

/// The test runner's user or group name (as root, CI's case: `root`), so the blank
/// disks it makes are owned as the profile expects without a chown it may not be
/// allowed to do.
fn id(flag: &str) -> Result<String, String> {
    let out = Command::new("id")
        .arg(flag)
        .output()
        .map_err(|e| format!("id {flag}: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs a program the scenario needs, failing the step with its stderr. Awaited, not
/// waited on: the other scenarios go on meanwhile (see [`crate::on_worker`]).
async fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

async fn chmod(path: &Path, mode: &str) -> Result<(), String> {
    run("chmod", &[mode, &path.display().to_string()]).await
}

fn lab(w: &mut GateWorld) -> Result<&mut Lab, String> {
    w.libvirt.as_mut().ok_or_else(|| {
        "no test node: a `Given a libvirt test node ...` step must come first".into()
    })
}

#[given("a libvirt test node with the four host domains, shut off")]
fn test_node(w: &mut GateWorld) -> Result<(), String> {
    w.libvirt = Some(Lab::new()?);
    Ok(())
}

#[given(expr = "the {string} network is defined on the test node")]
fn network_defined(w: &mut GateWorld, network: String) -> Result<(), String> {
    let lab = lab(w)?;
    if network != lab.lbaas_network {
        return Err(format!(
            "the profile's lbaas network is {}, not {network}",
            lab.lbaas_network
        ));
    }
    lab.network_defined = true;
    Ok(())
}

#[given(expr = "domain {word} still has an interface on {string}")]
fn interface_on(w: &mut GateWorld, host: String, network: String) -> Result<(), String> {
    let lab = lab(w)?;
    if network != lab.lbaas_network {
        return Err(format!(
            "only the lbaas network {} is modelled",
            lab.lbaas_network
        ));
    }
    let host = lab.host(&host)?;
    lab.on_lbaas.insert(host);
    Ok(())
}

#[given(expr = "every host domain still has an interface on {string}")]
fn every_interface_on(w: &mut GateWorld, network: String) -> Result<(), String> {
    let hosts = lab(w)?.hosts.clone();
    for host in hosts {
        interface_on(w, host, network.clone())?;
    }
    Ok(())
}

#[given(expr = "domain {word} is running")]
fn domain_running(w: &mut GateWorld, host: String) -> Result<(), String> {
    let lab = lab(w)?;
    let host = lab.host(&host)?;
    lab.running.insert(host);
    Ok(())
}

#[given("blank 512G OSD disks made with qemu-img for the four hosts, mode 600")]
async fn blank_disks(w: &mut GateWorld) -> Result<(), String> {
    let lab = lab(w)?;
    for host in lab.hosts.clone() {
        let disk = lab.disk(&host).display().to_string();
        run("qemu-img", &["create", "-q", "-f", "qcow2", &disk, "512G"]).await?;
        chmod(Path::new(&disk), "600").await?;
    }
    Ok(())
}

#[given(expr = "{int} MiB of data is written into the OSD disk of {word} with qemu-io")]
async fn data_written(w: &mut GateWorld, mib: u32, host: String) -> Result<(), String> {
    let lab = lab(w)?;
    let disk = lab.disk(&lab.host(&host)?).display().to_string();
    let write = format!("write -P 0x5a 0 {mib}M");
    run("qemu-io", &["-f", "qcow2", "-c", &write, &disk]).await
}

#[given(expr = "the OSD disk of {word} is recreated with qemu-img as {word}")]
async fn recreated(w: &mut GateWorld, host: String, size: String) -> Result<(), String> {
    let lab = lab(w)?;
    let disk = lab.disk(&lab.host(&host)?);
    std::fs::remove_file(&disk).map_err(|e| format!("{}: {e}", disk.display()))?;
    let shown = disk.display().to_string();
    run("qemu-img", &["create", "-q", "-f", "qcow2", &shown, &size]).await?;
    chmod(&disk, "600").await
}

#[given(expr = "the OSD disk of {word} has mode {word}")]
async fn disk_mode(w: &mut GateWorld, host: String, mode: String) -> Result<(), String> {
    let lab = lab(w)?;
    let disk = lab.disk(&lab.host(&host)?);
    chmod(&disk, &mode).await
}

#[given(expr = "the profile expects the OSD disks owned by {string}")]
fn expected_owner(w: &mut GateWorld, owner: String) -> Result<(), String> {
    lab(w)?.expected_owner = Some(owner);
    Ok(())
}

async fn run_on_test_node(
    w: &mut GateWorld,
    phase: &str,
    gates: Vec<&'static GateSpec>,
) -> Result<(), String> {
    let lab = lab(w)?;
    std::fs::write(lab.node_path(), lab.node_xml())
        .map_err(|e| format!("{}: {e}", lab.node_path().display()))?;
    let profile = lab.profile()?;
    let world = World::embedded(JUJU_MAAS_WORLD).map_err(|e| e.to_string())?;
    let run = GateRun {
        phase: phase.to_string(),
        gates,
        profile: profile.clone(),
        // The juju and MAAS argvs from the world, every other (virsh, qemu-img, stat) live.
        runner: Arc::new(Logged::new(Layered::new(Replay::new(world), Live::new()))),
        options: RunOptions {
            timeout: DEFAULT_TIMEOUT,
            jobs: stackgate::snapshot::DEFAULT_JOBS,
            today: crate::TODAY.parse().expect("a date"),
        },
        format: Format::Text,
    };
    let (snapshot, report) =
        crate::on_worker(async move { run.execute_with_snapshot().await }).await;
    w.profile = Some(profile);
    w.run = Some(GateRunResult { report, snapshot });
    Ok(())
}

#[when(expr = "gate {gate} runs on the test node")]
async fn gate_on_test_node(w: &mut GateWorld, gate: Gate) -> Result<(), String> {
    run_on_test_node(w, gate.0.phase, vec![gate.0]).await
}

#[when("the phase 00 libvirt gates run on the test node")]
async fn libvirt_gates_on_test_node(w: &mut GateWorld) -> Result<(), String> {
    let gates = ["P00-TEARDOWN", "P00-LBAAS", "P00-OSD"]
        .iter()
        .map(|id| catalog::by_id(id).ok_or(format!("{id} is not in the catalog")))
        .collect::<Result<Vec<_>, _>>()?;
    run_on_test_node(w, "00", gates).await
}

#[then(expr = "the summary of gate {gate} names {string}")]
fn summary_names(w: &mut GateWorld, gate: Gate, text: String) -> Result<(), String> {
    let v = w.verdict(gate)?;
    if v.summary.contains(&text) {
        Ok(())
    } else {
        Err(format!(
            "expected the summary of gate {} to name {text:?}, the verdict was:\n{}",
            gate.0.id,
            describe(v)
        ))
    }
}

#[then("the run read nothing from virsh, qemu-img or stat")]
fn read_no_libvirt(w: &mut GateWorld) -> Result<(), String> {
    let report = w.report()?;
    let libvirt: Vec<&str> = report
        .reads
        .iter()
        .map(|r| r.argv.as_str())
        .filter(|argv| {
            ["virsh", "qemu-img", "stat"]
                .iter()
                .any(|p| argv.split(' ').any(|w| w == *p))
        })
        .collect();
    if libvirt.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected no libvirt or disk reads, the run made: {libvirt:?}"
        ))
    }
}
