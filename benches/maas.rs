//! MAAS at bare-metal scale (issue 13), two measurements in one run:
//!
//! 1. **The reads at 1,000 machines.** `stackgate gate --phase 00 --world DIR --profile
//!    FILE` as a child process, as the operator runs it, over a `machines read` of 1,000
//!    machines with their interface sets (900 of them the profile's hosts), its wall time
//!    and peak RSS from `wait4`; beside it jq running the runbooks' reads of the same
//!    bytes (`benches/maas.jq`), when jq is installed. Targets: at least 10x faster than
//!    jq, peak RSS at most 2x the `machines read` document.
//! 2. **Phase 00 live over 500 hosts at 200 ms a read.** Every phase-00 gate of the
//!    bare-metal site, in process, through a runner that answers each read after 200 ms
//!    (a MAAS CLI round trip), with the default `--jobs`. Its critical path (the slowest
//!    chain of dependent reads) is measured by running the same gates with no bound on
//!    concurrency: the number of 200 ms waves. Target: within 1.5x that path, not the
//!    sum of the reads.
//!
//! The worlds scale the bare-metal site's own phase-00 world (`phase00-bare-metal`):
//! each added host is openstack0 with a fresh system_id, MACs, interface and link ids
//! and its own address on every plane, added to the profile, the subnets' address
//! lists and the bundle's bridge-interface-mappings. Every gate's verdict at scale must
//! equal its verdict on the recorded four hosts, or the bench fails.
//!
//! `cargo bench --bench maas` (about 10 s; `MAAS_HOSTS=900` and `MAAS_LATENCY_HOSTS=500` to
//! choose, `MAAS_KEEP=DIR` keeps the 1,000-machine world).

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::{Value, json};

use stackgate::gates::{self, Status};
use stackgate::profile::Profile;
use stackgate::run::{self, RunOptions};
use stackgate::runner::{CommandOutput, CommandRunner, Invocation, Logged, Replay, RunError};
use stackgate::world::{Recording, World};

#[path = "common/child.rs"]
mod child;
use child::{RUNS, headings, serve_measurer, side_by_side};

const BASE_WORLD: &str = "testcloud/phase00-bare-metal";
const PROFILE: &str = include_str!("../profiles/bare-metal.toml");
const MAAS_JQ: &str = include_str!("maas.jq");
/// One MAAS CLI round trip, as issue 13 sets it.
const LATENCY: Duration = Duration::from_millis(200);
/// The machines `machines read` lists beyond the profile's hosts and the protected ones:
/// spare servers, enlisted but not this cloud's.
const SPARES: usize = 97;

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// Host `n`'s number on every plane: openstack0-3 keep .40-.43; the rest count on past
/// the metal planes' reserved ranges (.2-.110) to the top of each /22.
fn octet(n: usize) -> u16 {
    if n < 4 {
        40 + n as u16
    } else {
        111 + (n - 4) as u16
    }
}

fn hostname(n: usize) -> String {
    if n < 4 {
        format!("openstack{n}")
    } else {
        format!("node{n:04}")
    }
}

/// A six-letter system_id no other machine has (MAAS mints lowercase base-36).
fn system_id(n: usize) -> String {
    let mut id = String::new();
    let mut v = n + 36usize.pow(5);
    for _ in 0..6 {
        id.insert(0, char::from_digit((v % 36) as u32, 36).unwrap());
        v /= 36;
    }
    id
}

fn mac(n: usize, nic: usize) -> String {
    format!(
        "52:54:{:02x}:{:02x}:{:02x}:{:02x}",
        0x10 + nic,
        n >> 8,
        n & 0xff,
        nic
    )
}

/// The scaled world and profile, written to `dir`; returns the profile path and the
/// size of `machines read`.
fn scaled(dir: &Path, hosts: usize, spares: usize) -> (std::path::PathBuf, u64) {
    let base = World::embedded(BASE_WORLD).expect("the bare-metal phase-00 world");
    let profile = Profile::parse(PROFILE, "bare-metal").expect("the bare-metal profile");
    let machines_argv = argv(&["maas", "admin", "machines", "read"]);
    let machines: Vec<Value> =
        serde_json::from_slice(&base.get(&machines_argv).unwrap().stdout).unwrap();
    let template = machines
        .iter()
        .find(|m| m["hostname"] == "openstack0")
        .cloned()
        .unwrap();
    let plane_of = |cidr: &str| {
        profile
            .planes
            .iter()
            .find(|p| p.cidr.to_string() == cidr)
            .unwrap_or_else(|| panic!("no plane {cidr}"))
    };
    let mut new_ids = 100_000i64;
    let mut next_id = || {
        new_ids += 1;
        new_ids
    };
    let host = |n: usize, carved: bool, next_id: &mut dyn FnMut() -> i64| {
        let mut m = template.clone();
        let (name, sid) = (hostname(n), system_id(n));
        m["hostname"] = json!(name);
        m["fqdn"] = json!(format!("{name}.maas"));
        m["system_id"] = json!(sid);
        m["resource_uri"] = json!(format!("/MAAS/api/2.0/machines/{sid}/"));
        let mut addresses = Vec::new();
        let mut macs = std::collections::BTreeMap::new();
        for (k, iface) in m["interface_set"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            // A bridge or VLAN takes its parent's MAC, as MAAS shows it.
            let parent_mac = iface["parents"]
                .as_array()
                .and_then(|p| p.first())
                .and_then(|p| macs.get(p.as_str().unwrap()).cloned());
            let own = parent_mac.unwrap_or_else(|| mac(n, k));
            macs.insert(iface["name"].as_str().unwrap().to_string(), own.clone());
            iface["mac_address"] = json!(own);
            iface["system_id"] = json!(sid);
            iface["id"] = json!(next_id());
            let via = iface["name"].clone();
            let links = iface["links"].as_array_mut().unwrap();
            if !carved {
                links.clear();
            }
            for link in links {
                link["id"] = json!(next_id());
                if let Some(cidr) = link["subnet"]["cidr"].as_str().map(str::to_string) {
                    let ip = plane_of(&cidr).host_address(octet(n)).to_string();
                    link["ip_address"] = json!(ip);
                    addresses.push((cidr, ip, via.clone()));
                }
            }
        }
        let boot = m["boot_interface"]["name"].clone();
        m["boot_interface"] = m["interface_set"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == boot)
            .cloned()
            .unwrap();
        m["ip_addresses"] = json!(addresses.iter().map(|(_, ip, _)| ip).collect::<Vec<_>>());
        (m, addresses, macs)
    };
    let mut ip_records: Vec<(String, Value)> = Vec::new();
    let mut provider_macs = Vec::new();
    // The recorded hosts keep their ids and MACs; only the count changes.
    let (recorded, mut scaled_machines): (Vec<Value>, Vec<Value>) = machines
        .into_iter()
        .partition(|m| m["hostname"].as_str().unwrap().starts_with("openstack"));
    for n in 0..hosts + spares {
        if n < 4 {
            let name = json!(hostname(n));
            scaled_machines.push(
                recorded
                    .iter()
                    .find(|r| r["hostname"] == name)
                    .cloned()
                    .unwrap(),
            );
            continue;
        }
        let carved = n < hosts;
        let (mut m, addresses, macs) = host(n, carved, &mut next_id);
        if carved {
            provider_macs.push(macs["enp1s0"].clone());
            for (cidr, ip, via) in addresses {
                ip_records.push((
                    cidr,
                    json!({
                        "ip": ip,
                        "alloc_type": 1,
                        "created": "Tue, 14 Jul. 2026 13:08:31",
                        "updated": "Tue, 14 Jul. 2026 13:08:31",
                        "node_summary": {
                            "system_id": m["system_id"],
                            "node_type": 0,
                            "fqdn": m["fqdn"],
                            "hostname": m["hostname"],
                            "is_container": false,
                            "via": via,
                        }
                    }),
                ));
            }
        } else {
            m["hostname"] = json!(format!("spare{n:04}"));
            m["fqdn"] = json!(format!("spare{n:04}.maas"));
            m["tag_names"] = json!(["spare"]);
        }
        scaled_machines.push(m);
    }
    let machines_bytes = serde_json::to_vec_pretty(&scaled_machines).unwrap();
    let mut world = base.clone();
    world.set(
        machines_argv.clone(),
        Recording::new(machines_bytes.clone(), Vec::new(), 0),
    );
    // Each plane's addresses: the recorded ones and every added host's.
    let subnets: Vec<Value> = serde_json::from_slice(
        &base
            .get(&argv(&["maas", "admin", "subnets", "read"]))
            .unwrap()
            .stdout,
    )
    .unwrap();
    for subnet in &subnets {
        let ips_argv = argv(&[
            "maas",
            "admin",
            "subnet",
            "ip-addresses",
            &subnet["id"].to_string(),
        ]);
        let Some(recorded) = base.get(&ips_argv) else {
            continue;
        };
        let mut records: Vec<Value> = serde_json::from_slice(&recorded.stdout).unwrap();
        let cidr = subnet["cidr"].as_str().unwrap();
        records.extend(
            ip_records
                .iter()
                .filter(|(c, _)| c == cidr)
                .map(|(_, r)| r.clone()),
        );
        world.set(
            ips_argv,
            Recording::new(serde_json::to_vec_pretty(&records).unwrap(), Vec::new(), 0),
        );
    }
    // The bundle maps every host's provider NIC onto br-ex.
    let bundle_argv = argv(&["cat", "--", "bundle.yaml"]);
    if let Some(bundle) = base.get(&bundle_argv) {
        let text = String::from_utf8(bundle.stdout.to_vec()).unwrap();
        let extra: String = provider_macs
            .iter()
            .map(|m| format!(" br-ex:{m}"))
            .collect();
        let text = text.replacen(
            "br-ex:52:54:00:7f:1e:43\n",
            &format!("br-ex:52:54:00:7f:1e:43{extra}\n"),
            1,
        );
        world.set(
            bundle_argv,
            Recording::new(text.into_bytes(), Vec::new(), 0),
        );
    }
    write_world(dir, &world);
    // The profile lists every carved host.
    let start = PROFILE.find("[[hosts]]").unwrap();
    let end = PROFILE.find("# Pattern A carve").unwrap();
    let mut hosts_toml = String::new();
    for n in 0..hosts {
        hosts_toml.push_str(&format!(
            "[[hosts]]\nhostname = \"{}\"\noctet = {}\n",
            hostname(n),
            octet(n)
        ));
        if n < 4 {
            let mac = &profile.hosts[n].provider_mac.clone().unwrap();
            hosts_toml.push_str(&format!("provider_mac = \"{mac}\"\n"));
        } else {
            hosts_toml.push_str(&format!("provider_mac = \"{}\"\n", provider_macs[n - 4]));
        }
        hosts_toml.push('\n');
    }
    let profile_text = format!("{}{}{}", &PROFILE[..start], hosts_toml, &PROFILE[end..]);
    let profile_path = dir.join("profile.toml");
    std::fs::write(&profile_path, profile_text).unwrap();
    (profile_path, machines_bytes.len() as u64)
}

/// Writes a world directory the binary loads with `--world`.
fn write_world(dir: &Path, world: &World) {
    let mut manifest = format!(
        "profile = \"bare-metal\"\ndescription = \"benches/maas.rs: {} scaled\"\n",
        BASE_WORLD
    );
    for (n, argv) in world.argvs().enumerate() {
        let r = world.get(argv).unwrap();
        let out = format!("{n}.out");
        std::fs::write(dir.join(&out), &r.stdout).unwrap();
        manifest.push_str(&format!(
            "\n[[command]]\nargv = {}\nstdout = \"{out}\"\n",
            serde_json::to_string(argv).unwrap()
        ));
        if !r.stderr.is_empty() {
            let err = format!("{n}.err");
            std::fs::write(dir.join(&err), &r.stderr).unwrap();
            manifest.push_str(&format!("stderr = \"{err}\"\n"));
        }
        if r.exit != 0 {
            manifest.push_str(&format!("exit = {}\n", r.exit));
        }
    }
    std::fs::write(dir.join("world.toml"), manifest).unwrap();
}

/// A MAAS CLI `LATENCY` away: each read answers after it, and its start is noted.
struct Latent {
    inner: Replay,
    started: Instant,
    starts: Mutex<Vec<Duration>>,
}

impl CommandRunner for Latent {
    fn run<'a>(
        &'a self,
        invocation: &'a Invocation,
    ) -> BoxFuture<'a, Result<CommandOutput, RunError>> {
        Box::pin(async move {
            self.starts.lock().unwrap().push(self.started.elapsed());
            tokio::time::sleep(LATENCY).await;
            self.inner.run(invocation).await
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} at {} ms a read",
            self.inner.describe(),
            LATENCY.as_millis()
        )
    }
}

/// One in-process phase-00 run: wall time, the reads' starts, the verdicts.
fn latent_run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    profile: &Profile,
    jobs: usize,
) -> (Duration, Vec<Duration>, Vec<(String, Status)>) {
    let world = World::from_dir(dir).unwrap();
    let latent = Arc::new(Latent {
        inner: Replay::new(world),
        started: Instant::now(),
        starts: Mutex::new(Vec::new()),
    });
    let options = RunOptions {
        jobs,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let (_, verdicts) = runtime.block_on(run::evaluate(
        &gates::for_phase("00"),
        profile,
        Arc::new(Logged::new(latent.clone())),
        options,
    ));
    let wall = started.elapsed();
    let starts = latent.starts.lock().unwrap().clone();
    (
        wall,
        starts,
        verdicts
            .into_iter()
            .map(|v| (v.id.to_string(), v.status))
            .collect(),
    )
}

/// The phase-00 verdicts of a world as the binary gives them (JSON report).
fn verdicts_of(dir: &Path, profile: &Path) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_stackgate"))
        .args(["gate", "--phase", "00", "--format", "json", "--world"])
        .arg(dir)
        .arg("--profile")
        .arg(profile)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stackgate's JSON report: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["verdicts"]
        .as_array()
        .expect("verdicts in the report")
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn main() {
    serve_measurer();
    let hosts: usize = std::env::var("MAAS_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(900);
    let latency_hosts: usize = std::env::var("MAAS_LATENCY_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let stackgate = env!("CARGO_BIN_EXE_stackgate");

    // The recorded four hosts: what every scaled run must answer.
    let four = tempfile::tempdir().unwrap();
    let (four_profile, _) = scaled(four.path(), 4, 0);
    let expected = verdicts_of(four.path(), &four_profile);

    // 1. The reads at bare-metal scale, as a child process, beside jq.
    let dir = tempfile::tempdir().unwrap();
    let (profile_path, input) = scaled(dir.path(), hosts, SPARES);
    // MAAS_KEEP=DIR keeps this world (and its profile.toml) for profiling by hand.
    if let Some(keep) = std::env::var_os("MAAS_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), Path::new(&keep).join(f.file_name())).unwrap();
        }
    }
    let machines = World::from_dir(dir.path()).unwrap();
    let count = {
        let doc: Vec<Value> = serde_json::from_slice(
            &machines
                .get(&argv(&["maas", "admin", "machines", "read"]))
                .unwrap()
                .stdout,
        )
        .unwrap();
        doc.len()
    };
    assert_eq!(
        verdicts_of(dir.path(), &profile_path),
        expected,
        "phase 00 over {hosts} hosts answers as over the recorded four"
    );
    let machines_file = dir.path().join("machines-read.json");
    std::fs::write(
        &machines_file,
        &machines
            .get(&argv(&["maas", "admin", "machines", "read"]))
            .unwrap()
            .stdout,
    )
    .unwrap();
    drop(machines);
    println!(
        "maas: `stackgate gate --phase 00 --world DIR --profile FILE` vs the runbooks' jq (benches/maas.jq); best of {RUNS}"
    );
    println!(
        "{:>9} {:>6} {:>9} {}  targets (>=10x, RSS <= 2x input)",
        "machines",
        "hosts",
        "input",
        headings()
    );
    let (_, columns) = side_by_side(
        || {
            let mut c = Command::new(stackgate);
            c.args(["gate", "--phase", "00", "--format", "json", "--world"])
                .arg(dir.path())
                .arg("--profile")
                .arg(&profile_path);
            c
        },
        &machines_file,
        |c| {
            c.args(["-r", MAAS_JQ]).arg(&machines_file);
        },
    );
    println!(
        "{:>9} {:>6} {:>6.1} MB {columns}",
        count,
        hosts,
        input as f64 / 1e6
    );

    // 2. Phase 00 live over `latency_hosts` hosts, every read 200 ms away.
    let dir = tempfile::tempdir().unwrap();
    let (profile_path, _) = scaled(dir.path(), latency_hosts, 0);
    let profile = Profile::from_file(&profile_path).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // With no bound on concurrency, the run takes one LATENCY per wave of dependent
    // reads: that count of waves is the critical path.
    let (free_wall, free_starts, free_verdicts) =
        latent_run(&runtime, dir.path(), &profile, 1 << 20);
    // A wave: reads that start together. The next starts only once an answer of the
    // last arrived, at least LATENCY later; within one, starts are microseconds apart.
    let waves = {
        let mut starts = free_starts.clone();
        starts.sort();
        starts
            .windows(2)
            .filter(|w| w[1] - w[0] >= LATENCY / 2)
            .count()
            + usize::from(!starts.is_empty())
    };
    let critical = LATENCY * waves as u32;
    let jobs = stackgate::snapshot::DEFAULT_JOBS;
    let (wall, starts, verdicts) = latent_run(&runtime, dir.path(), &profile, jobs);
    let want: Vec<(String, Status)> = expected
        .iter()
        .map(|(id, s)| (id.clone(), Status::parse(s).unwrap()))
        .collect();
    assert_eq!(free_verdicts, want, "the unbounded run's verdicts");
    assert_eq!(verdicts, want, "the --jobs {jobs} run's verdicts");
    let ratio = wall.as_secs_f64() / critical.as_secs_f64();
    println!(
        "phase 00 live, {latency_hosts} hosts, {} ms a read, --jobs {jobs}: {} reads ({} if each ran alone: {:.1} s) in {:.0} ms; critical path {waves} waves = {:.0} ms (unbounded run {:.0} ms); {ratio:.2}x the path  target (<= 1.5x) {}",
        LATENCY.as_millis(),
        starts.len(),
        starts.len(),
        (LATENCY * starts.len() as u32).as_secs_f64(),
        wall.as_secs_f64() * 1e3,
        critical.as_secs_f64() * 1e3,
        free_wall.as_secs_f64() * 1e3,
        if ratio <= 1.5 { "MET" } else { "MISSED" },
    );
}
