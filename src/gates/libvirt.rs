//! Phase 00 gates on the teardown and the libvirt host (seed 002 steps 2-4): the model
//! gone, the hosts decomposed and their domains shut off (P00-TEARDOWN), the idle
//! 8_lbaas network gone (P00-LBAAS), the OSD disks blank (P00-OSD). Hosts are found by
//! hostname and their domains carry the same name; ids are never read (R1). A site
//! without libvirt (bare metal) SKIPs the libvirt and qcow2 gates, saying why.

use std::time::Duration;

use super::substrate::{maas_profile, maas_site, machine, machines_read};
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::{LibvirtSite, MaasSite, OsdDisks, Profile};
use crate::resolve::{ModelState, model_state};
use crate::snapshot::{Read, ReadError, Snapshot};
use crate::sources::Presence;
use crate::sources::disk::{FileMode, ImageInfo};
use crate::sources::maas::Machines;
use crate::sources::virsh::{Connection, DomainList, DomainState};

pub(super) static GATES: [GateSpec; 3] = [
    GateSpec {
        id: "P00-TEARDOWN",
        phase: "00",
        tags: &["read-only"],
        description: "no openstack model (destroying past the bound -> remediation); hosts decomposed out of MAAS (or re-enrolled fresh) and the retired machines gone; virsh still lists every host domain, shut off",
        reads: |p| {
            let mut r = machines_read(p);
            r.push(Read::JujuModels);
            if let Some(site) = &p.libvirt {
                r.push(Read::VirshList {
                    conn: site.connection(),
                });
            }
            r
        },
        follow_up: None,
        evaluate: gate_teardown,
        from_parts: None,
    },
    GateSpec {
        id: "P00-LBAAS",
        phase: "00",
        // Testcloud only (the @testcloud tag, see `stackgate list`): a site without libvirt SKIPs it.
        tags: &["read-only", "libvirt"],
        description: "no 8_lbaas libvirt network and no host domain interface on it; the detach is refused (HOLD) unless every host domain is shut off",
        reads: |p| {
            let Some(site) = &p.libvirt else {
                return Vec::new();
            };
            let conn = site.connection();
            let mut r = vec![Read::VirshNetList { conn: conn.clone() }];
            for host in &p.hosts {
                r.push(Read::VirshDumpxml {
                    conn: conn.clone(),
                    domain: host.hostname.clone(),
                });
            }
            r.extend(domstate_reads(p, site));
            r
        },
        follow_up: None,
        evaluate: gate_lbaas,
        from_parts: None,
    },
    GateSpec {
        id: "P00-OSD",
        phase: "00",
        // Testcloud only (the @testcloud tag, see `stackgate list`): a site without libvirt SKIPs it.
        tags: &["read-only", "libvirt"],
        description: "every host's OSD disk is a blank qcow2 (512 GiB virtual, about 200 KiB actual), root:root mode 600; the wipe is refused (HOLD) unless every host domain is shut off",
        reads: |p| {
            let Some(site) = &p.libvirt else {
                return Vec::new();
            };
            let prefix = &site.command_prefix;
            let mut r = domstate_reads(p, site);
            for host in &p.hosts {
                let path = site.osd.path_for(&host.hostname);
                r.push(Read::QemuImgInfo {
                    prefix: prefix.clone(),
                    path: path.clone(),
                });
                r.push(Read::FileStat {
                    prefix: prefix.clone(),
                    path,
                });
            }
            r
        },
        follow_up: None,
        evaluate: gate_osd,
        from_parts: None,
    },
];

/// The profile's libvirt host, or the SKIP verdict saying the site has none: a bare-metal
/// site has no libvirt networks and no qcow2 disks (seed 002 step 3, seed 000).
pub(super) fn libvirt_site<'p>(
    gate: &GateSpec,
    profile: &'p Profile,
    why: &str,
) -> Result<&'p LibvirtSite, Box<Verdict>> {
    profile.libvirt.as_ref().ok_or_else(|| {
        Box::new(Verdict::new(
            gate,
            Status::Skip,
            format!(
                "skipped: profile {} has no [libvirt] section, a site without libvirt: {why}",
                profile.name
            ),
        ))
    })
}

fn domstate_reads(profile: &Profile, site: &LibvirtSite) -> Vec<Read> {
    profile
        .hosts
        .iter()
        .map(|h| Read::VirshDomstate {
            conn: site.connection(),
            domain: h.hostname.clone(),
        })
        .collect()
}

/// A host domain as `virsh domstate <hostname>` reports it: its state, or `None` when
/// libvirt does not define it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDomain<'a> {
    pub hostname: &'a str,
    pub state: Option<&'a DomainState>,
}

impl HostDomain<'_> {
    /// What stops a detach or a wipe (seed 002 steps 3-4: "domstate = shut off (REFUSE
    /// otherwise)"): a defined domain in any state but shut off.
    pub fn blocks_mutation(&self) -> bool {
        self.state.is_some_and(|s| !s.is_shut_off())
    }

    fn shown(&self) -> String {
        self.state
            .map_or_else(|| "not defined".to_string(), |s| s.label().to_string())
    }
}

/// Every profile host's domain state, in profile order. The guard of the libvirt
/// mutations (detach, wipe) that the lead's exit gate can share.
pub fn host_domains<'a>(
    snapshot: &'a Snapshot,
    profile: &'a Profile,
    conn: &Connection,
) -> Result<Vec<HostDomain<'a>>, ReadError> {
    profile
        .hosts
        .iter()
        .map(|h| {
            let state = snapshot.virsh_domstate(conn, &h.hostname)?;
            Ok(HostDomain {
                hostname: &h.hostname,
                state: state.present(),
            })
        })
        .collect()
}

/// One evidence line per host domain. Context while nothing needs mutating; once a
/// mutation is due, a domain that is not shut off is why it is refused.
fn guard_evidence(domains: &[HostDomain<'_>], mutation_due: bool, refused: &str) -> Vec<Evidence> {
    domains
        .iter()
        .map(|d| {
            let mark = match (mutation_due, d.state) {
                (false, _) | (true, None) => Mark::Info,
                (true, Some(_)) if d.blocks_mutation() => Mark::Bad,
                (true, Some(_)) => Mark::Ok,
            };
            let e = Evidence::new(
                mark,
                format!("domain {}", d.hostname),
                "domstate",
                d.shown(),
            );
            if mark == Mark::Bad {
                e.expected(format!("shut off ({refused} while it is not)"))
            } else {
                e
            }
        })
        .collect()
}

/// "openstack1 (running), openstack2 (paused)"
fn blocking(domains: &[HostDomain<'_>]) -> Vec<String> {
    domains
        .iter()
        .filter(|d| d.blocks_mutation())
        .map(|d| format!("{} ({})", d.hostname, d.shown()))
        .collect()
}

fn gate_lbaas(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match libvirt_site(
        gate,
        profile,
        "no libvirt networks to remove (seed 002 step 3: Roosevelt is bare metal)",
    ) {
        Ok(site) => site,
        Err(v) => return *v,
    };
    let conn = site.connection();
    let network = site.lbaas_network.as_str();
    let networks = read_or_precondition!(gate, snapshot.virsh_networks(&conn));
    let domains = read_or_precondition!(gate, host_domains(snapshot, profile, &conn));
    let mut evidence = Vec::new();
    let defined = networks.get(network);
    evidence.push(
        Evidence::new(
            if defined.is_some() {
                Mark::Bad
            } else {
                Mark::Ok
            },
            format!("libvirt network {network}"),
            "net-list --all",
            defined.map_or_else(
                || "absent".to_string(),
                |n| format!("present ({}, persistent {})", n.state, n.persistent),
            ),
        )
        .expected("absent (net-destroy, net-undefine)"),
    );
    let mut referencing = Vec::new();
    for host in &profile.hosts {
        let subject = format!("domain {}", host.hostname);
        let xml = read_or_precondition!(gate, snapshot.virsh_domain_xml(&conn, &host.hostname));
        match xml {
            Presence::Present(dom) => {
                let on: Vec<_> = dom.interfaces_on(network).collect();
                if on.is_empty() {
                    evidence.push(
                        Evidence::new(
                            Mark::Ok,
                            subject.clone(),
                            format!("interfaces on {network}"),
                            "none",
                        )
                        .expected("none"),
                    );
                }
                for iface in &on {
                    evidence.push(
                        Evidence::new(
                            Mark::Bad,
                            subject.clone(),
                            format!(
                                "interface {} source network",
                                iface.mac.as_deref().unwrap_or("(no mac)")
                            ),
                            network,
                        )
                        .expected(format!(
                            "no interface on {network} (detach-interface --config)"
                        )),
                    );
                }
                if !on.is_empty() {
                    referencing.push(host.hostname.clone());
                }
            }
            Presence::Absent { message } => evidence.push(Evidence::new(
                Mark::Info,
                subject,
                "dumpxml",
                format!("not defined ({message})"),
            )),
        }
    }
    let clean = defined.is_none() && referencing.is_empty();
    evidence.extend(guard_evidence(&domains, !clean, "the detach is refused"));
    let blockers = blocking(&domains);
    let mut what = Vec::new();
    if defined.is_some() {
        what.push(format!("{network} still defined"));
    }
    if !referencing.is_empty() {
        what.push(format!("referenced by {}", referencing.join(", ")));
    }
    let n = profile.hosts.len();
    if clean {
        Verdict::new(
            gate,
            Status::Pass,
            format!(
                "{network} gone: not in net-list --all, no interface of the {n} host domains on it"
            ),
        )
        .with_evidence(evidence)
    } else if blockers.is_empty() {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "{}; every host domain is shut off: step 3 may run (detach --config, net-destroy, net-undefine)",
                what.join(", ")
            ),
        )
        .with_outcome("DETACH-READY")
        .with_evidence(evidence)
    } else {
        Verdict::new(
            gate,
            Status::Hold,
            format!(
                "detach refused: {} not shut off; {}",
                blockers.join(", "),
                what.join(", ")
            ),
        )
        .with_outcome("DETACH-REFUSED")
        .with_evidence(evidence)
    }
}

/// Bytes as an operator reads them: `512 GiB`, `1.3 MiB`, `200 KiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, scale) in UNITS {
        if bytes >= scale {
            return if bytes % scale == 0 {
                format!("{} {unit}", bytes / scale)
            } else {
                format!("{:.1} {unit}", bytes as f64 / scale as f64)
            };
        }
    }
    format!("{bytes} B")
}

/// The evidence lines of one OSD disk, and whether it is as step 4 leaves it. A read that
/// failed is a MISSING line (a running domain's qemu holds the image lock, so the wipe
/// guard may still decide the verdict).
fn disk_evidence(
    subject: &str,
    osd: &OsdDisks,
    info: Result<&Presence<ImageInfo>, ReadError>,
    stat: Result<&Presence<FileMode>, ReadError>,
) -> Vec<Evidence> {
    let mut lines = Vec::new();
    let absent = |message: &str| {
        Evidence::new(
            Mark::Bad,
            subject,
            "presence",
            format!("absent ({message})"),
        )
        .expected(format!("a blank {} image", osd.format))
    };
    match info {
        Err(e) => lines.push(Evidence::new(
            Mark::Missing,
            subject,
            "qemu-img info",
            e.to_string(),
        )),
        Ok(Presence::Absent { message }) => lines.push(absent(message)),
        Ok(Presence::Present(info)) => {
            let check = |ok: bool, property: &str, actual: String, expected: String| {
                Evidence::new(
                    if ok { Mark::Ok } else { Mark::Bad },
                    subject,
                    property,
                    actual,
                )
                .expected(expected)
            };
            lines.push(check(
                info.format == osd.format,
                "format",
                info.format.clone(),
                osd.format.clone(),
            ));
            let want = osd.virtual_size_bytes();
            lines.push(check(
                info.virtual_size == want,
                "virtual-size",
                format!("{} ({} bytes)", size(info.virtual_size), info.virtual_size),
                format!("{} ({want} bytes)", size(want)),
            ));
            let max = osd.blank_max_actual_bytes();
            match info.actual_size() {
                Ok(actual) => lines.push(check(
                    actual <= max,
                    "actual-size",
                    format!(
                        "{} ({actual} bytes){}",
                        size(actual),
                        if actual <= max { "" } else { ": holds data" }
                    ),
                    format!("at most {} (blank)", size(max)),
                )),
                Err(missing) => lines.push(
                    Evidence::new(
                        Mark::Missing,
                        missing.path.clone(),
                        "key",
                        "absent from the CLI output",
                    )
                    .expected(format!(
                        "present (declared `{}`; R2: never read as zero, which would look blank)",
                        missing.key
                    )),
                ),
            }
        }
    }
    match stat {
        Err(e) => lines.push(Evidence::new(Mark::Missing, subject, "stat", e.to_string())),
        // The qemu-img line already says the file is absent.
        Ok(Presence::Absent { message }) => {
            if !lines.iter().any(|l| l.property == "presence") {
                lines.push(absent(message));
            }
        }
        Ok(Presence::Present(mode)) => {
            let owner = mode.owner_group();
            lines.push(
                Evidence::new(
                    if owner == osd.owner {
                        Mark::Ok
                    } else {
                        Mark::Bad
                    },
                    subject,
                    "owner",
                    owner,
                )
                .expected(osd.owner.clone()),
            );
            lines.push(
                Evidence::new(
                    if mode.mode == osd.mode {
                        Mark::Ok
                    } else {
                        Mark::Bad
                    },
                    subject,
                    "mode",
                    mode.mode.clone(),
                )
                .expected(osd.mode.clone()),
            );
        }
    }
    lines
}

fn gate_osd(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match libvirt_site(
        gate,
        profile,
        "no qcow2 OSD disks to wipe (seed 000: real disks, which MAAS commissioning wipes)",
    ) {
        Ok(site) => site,
        Err(v) => return *v,
    };
    let osd = &site.osd;
    let prefix = site.command_prefix.as_slice();
    let domains = read_or_precondition!(gate, host_domains(snapshot, profile, &site.connection()));
    let mut evidence = Vec::new();
    let (mut off_spec, mut unreadable) = (Vec::new(), Vec::new());
    let mut blank = 0u64;
    for host in &profile.hosts {
        let path = osd.path_for(&host.hostname);
        let subject = format!("{} OSD disk {path}", host.hostname);
        let lines = disk_evidence(
            &subject,
            osd,
            snapshot.qemu_img_info(prefix, &path),
            snapshot.file_stat(prefix, &path),
        );
        let bad: Vec<&str> = lines
            .iter()
            .filter(|l| l.mark == Mark::Bad)
            .map(|l| l.property.as_str())
            .collect();
        if !bad.is_empty() {
            off_spec.push(format!("{} ({})", host.hostname, bad.join(", ")));
        }
        if lines.iter().any(|l| l.mark == Mark::Missing) {
            unreadable.push(host.hostname.clone());
        }
        blank += u64::from(lines.iter().all(|l| l.mark == Mark::Ok));
        evidence.extend(lines);
    }
    let n = profile.hosts.len();
    let all_blank = off_spec.is_empty() && unreadable.is_empty() && n > 0;
    evidence.extend(guard_evidence(&domains, !all_blank, "the wipe is refused"));
    let blockers = blocking(&domains);
    let mut what = Vec::new();
    if !off_spec.is_empty() {
        what.push(format!(
            "not as the wipe leaves them: {}",
            off_spec.join(", ")
        ));
    }
    if !unreadable.is_empty() {
        what.push(format!("unreadable: {}", unreadable.join(", ")));
    }
    let spec = format!(
        "blank {}: {} virtual, at most {} actual, {} mode {}",
        osd.format,
        size(osd.virtual_size_bytes()),
        size(osd.blank_max_actual_bytes()),
        osd.owner,
        osd.mode
    );
    let verdict = if all_blank {
        Verdict::new(gate, Status::Pass, format!("{n}/{n} OSD disks {spec}"))
    } else if !blockers.is_empty() {
        Verdict::new(
            gate,
            Status::Hold,
            format!(
                "wipe refused: {} not shut off; OSD disks {}",
                blockers.join(", "),
                what.join("; ")
            ),
        )
        .with_outcome("WIPE-REFUSED")
    } else if !unreadable.is_empty() {
        Verdict::new(
            gate,
            Status::Precondition,
            format!("could not read every OSD disk: {}", what.join("; ")),
        )
    } else {
        Verdict::new(
            gate,
            Status::Fail,
            format!(
                "OSD disks {}; expected {spec}; every host domain is shut off: step 4 may run",
                what.join("; ")
            ),
        )
        .with_outcome("WIPE-READY")
    };
    verdict.with_evidence(evidence).metric("blank", blank)
}

/// States a re-enrolled host passes through (D-055: New -> Commissioning -> Ready).
const REENROLLED: &[&str] = &["New", "Commissioning", "Testing", "Ready"];

/// What one part of the teardown shows: evidence lines, and what is still to do.
#[derive(Default)]
struct Findings {
    evidence: Vec<Evidence>,
    problems: Vec<String>,
}

impl Findings {
    /// An ok line, or a BAD line (with what was expected) and the problem it shows.
    fn check(
        &mut self,
        ok: bool,
        line: Evidence,
        expected: &str,
        problem: impl FnOnce() -> String,
    ) {
        if ok {
            self.evidence.push(line);
        } else {
            self.evidence.push(
                Evidence {
                    mark: Mark::Bad,
                    ..line
                }
                .expected(expected),
            );
            self.problems.push(problem());
        }
    }
}

fn model_findings(f: &mut Findings, state: &ModelState, profile: &Profile) {
    let line = |actual: String| {
        Evidence::new(
            Mark::Ok,
            "juju models",
            format!("model {}", profile.model),
            actual,
        )
    };
    let bound = profile.teardown.remediate_destroying_after_minutes;
    match state {
        ModelState::Absent => f.evidence.push(line("absent".into())),
        ModelState::Alive { life, status } => f.check(
            false,
            line(format!("present (life {life}, status {status})")),
            "absent (teardown not run)",
            || format!("model {} present", profile.model),
        ),
        ModelState::Destroying { since, life, .. } => f.check(
            false,
            line(format!("destroying since {since} (life {life})")),
            &format!("absent; still destroying after {bound} min: remediation"),
            || format!("model {} still destroying", profile.model),
        ),
        // Decided before: PRECONDITION.
        ModelState::DestroyingSinceUnknown { .. } => {}
    }
}

/// Retired machines (capi-mgmt) are deleted by the teardown.
fn retired_findings(f: &mut Findings, maas: &MaasSite, machines: &Machines) {
    for name in &maas.retired {
        let found = machine(machines, name);
        let actual = found.map_or_else(
            || "absent".to_string(),
            |m| format!("present ({}, system_id {})", m.status_name, m.system_id),
        );
        f.check(
            found.is_none(),
            Evidence::new(
                Mark::Ok,
                format!("machine {name}"),
                "maas machines read",
                actual,
            ),
            "absent (retired: deleted by the teardown)",
            || format!("{name} still in MAAS"),
        );
    }
}

/// A virsh-pod MAAS decomposes the hosts (D-061), and a later re-enrollment mints fresh
/// system_ids (DOCFIX-040); bare metal is released to Ready with no owner (seed 000
/// Phase C/D).
fn host_findings(f: &mut Findings, profile: &Profile, maas: &MaasSite, machines: &Machines) {
    let pod = profile.libvirt.is_some();
    for host in &profile.hosts {
        let found = machine(machines, &host.hostname);
        let (ok, actual) = match (pod, found) {
            (true, None) => (true, "not in MAAS (decomposed)".to_string()),
            (true, Some(m)) => {
                let fresh = !maas.previous_system_ids.contains(&m.system_id);
                if fresh && REENROLLED.contains(&m.status_name.as_str()) {
                    let actual = format!(
                        "re-enrolled after the teardown ({}, fresh system_id {})",
                        m.status_name, m.system_id
                    );
                    (true, actual)
                } else {
                    let previous = if fresh { "" } else { ", a previous cycle's id" };
                    (
                        false,
                        format!(
                            "still in MAAS ({}, system_id {}{previous})",
                            m.status_name, m.system_id
                        ),
                    )
                }
            }
            (false, Some(m)) => {
                let owner = m.owner.as_deref().filter(|o| !o.is_empty());
                let actual = format!("{}, owner {}", m.status_name, owner.unwrap_or("(none)"));
                (m.status_name == "Ready" && owner.is_none(), actual)
            }
            (false, None) => (false, "not in MAAS".to_string()),
        };
        let (expected, problem) = if pod {
            (
                "decomposed (absent), or re-enrolled with a fresh system_id",
                "not decomposed",
            )
        } else {
            ("Ready, owner (none): released", "not released")
        };
        f.check(
            ok,
            Evidence::new(
                Mark::Ok,
                format!("host {}", host.hostname),
                "maas machines read",
                actual,
            ),
            expected,
            || format!("{} {problem}", host.hostname),
        );
    }
}

/// The host domains survive the teardown, shut off: the re-enrollment powers them.
fn domain_findings(f: &mut Findings, profile: &Profile, domains: Option<&DomainList>) {
    let Some(list) = domains else {
        f.evidence.push(Evidence::new(
            Mark::Info,
            "libvirt domains",
            "virsh list --all",
            format!(
                "not read: profile {} has no [libvirt] section (bare metal)",
                profile.name
            ),
        ));
        return;
    };
    for host in &profile.hosts {
        let (ok, actual) = match list.get(&host.hostname) {
            Some(d) => (d.state.is_shut_off(), d.state.label().to_string()),
            None => (false, "not listed".to_string()),
        };
        f.check(
            ok,
            Evidence::new(
                Mark::Ok,
                format!("domain {}", host.hostname),
                "virsh list --all",
                actual.clone(),
            ),
            "shut off (the domains survive the teardown: reenroll needs them)",
            || format!("domain {} {actual}", host.hostname),
        );
    }
}

fn gate_teardown(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let maas = match maas_site(gate, profile) {
        Ok(m) => m,
        Err(v) => return *v,
    };
    let models = read_or_precondition!(gate, snapshot.models());
    let machines = read_or_precondition!(gate, snapshot.maas_machines(&maas_profile(profile)));
    let domains = match &profile.libvirt {
        Some(site) => Some(read_or_precondition!(
            gate,
            snapshot.virsh_domains(&site.connection())
        )),
        None => None,
    };
    let state = model_state(models.find(&profile.model));
    if let ModelState::DestroyingSinceUnknown { since } = &state {
        let line = Evidence::new(
            Mark::Missing,
            format!("models[{}].status.since", profile.model),
            "humanised age",
            since.clone().unwrap_or_else(|| "absent from the CLI output".to_string()),
        )
        .expected("juju's \"N minutes ago\" form (R2: without it the remediation bound cannot be decided)");
        return Verdict::new(
            gate,
            Status::Precondition,
            format!(
                "model {} is destroying, but juju models does not say since when: cannot decide whether the remediation is due",
                profile.model
            ),
        )
        .with_evidence(vec![line]);
    }
    let mut f = Findings::default();
    model_findings(&mut f, &state, profile);
    retired_findings(&mut f, maas, machines);
    host_findings(&mut f, profile, maas, machines);
    domain_findings(&mut f, profile, domains);

    let bound = Duration::from_secs(profile.teardown.remediate_destroying_after_minutes * 60);
    let minutes = |d: &Duration| d.as_secs() / 60;
    let verdict = if f.problems.is_empty() {
        Verdict::new(
            gate,
            Status::Pass,
            format!(
                "torn down: no model {}, {} hosts {}, retired machines gone",
                profile.model,
                profile.hosts.len(),
                if profile.libvirt.is_some() {
                    "decomposed or re-enrolled, their domains shut off"
                } else {
                    "released"
                },
            ),
        )
    } else {
        let (outcome, advice) = match &state {
            ModelState::Destroying { age, .. } if *age >= bound => (
                "REMEDIATE",
                format!(
                    "still destroying after {} min (bound {} min): juju remove-machine -m {} --force <id> for each lingering machine, then re-run the teardown --apply",
                    minutes(age),
                    minutes(&bound),
                    profile.model
                ),
            ),
            ModelState::Destroying { age, .. } => (
                "DESTROYING",
                format!(
                    "destroying for {} min: re-check; the remediation is due at {} min",
                    minutes(age),
                    minutes(&bound)
                ),
            ),
            ModelState::Alive { .. } => (
                "MODEL-PRESENT",
                "run the teardown (destroy path)".to_string(),
            ),
            _ => ("INCOMPLETE", "finish the teardown".to_string()),
        };
        Verdict::new(
            gate,
            Status::Fail,
            format!("teardown incomplete: {}; {advice}", f.problems.join(", ")),
        )
        .with_outcome(outcome)
    };
    let verdict = match &state {
        ModelState::Destroying { age, .. } => verdict.metric("destroying_minutes", minutes(age)),
        _ => verdict,
    };
    verdict.with_evidence(f.evidence)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::runner::{CommandOutput, Logged, Replay};
    use crate::snapshot::{Reader, Value};
    use crate::sources::{disk, juju, virsh};
    use crate::world::World;

    /// The phase-00 exit world, read for one gate the way the binary reads it.
    async fn exit_state(gate: &GateSpec, profile: &Profile) -> Snapshot {
        let world = World::embedded("testcloud/phase00-ready-carved").unwrap();
        let reader = Reader::new(
            Arc::new(Logged::new(Replay::new(world))),
            Duration::from_secs(5),
        );
        Snapshot::collect(&reader, (gate.reads)(profile)).await
    }

    fn output(stdout: &str) -> CommandOutput {
        crate::sources::test_output(&["test"], 0, stdout, "")
    }

    fn conn(profile: &Profile) -> Connection {
        profile.libvirt.as_ref().unwrap().connection()
    }

    fn with_state(snapshot: Snapshot, profile: &Profile, host: &str, state: &str) -> Snapshot {
        let read = Read::VirshDomstate {
            conn: conn(profile),
            domain: host.into(),
        };
        let state = virsh::parse_domstate(&output(&format!("{state}\n\n"))).unwrap();
        snapshot.with(read, Ok(Value::VirshDomstate(Arc::new(state))))
    }

    #[tokio::test]
    async fn a_destroying_model_without_since_is_precondition_naming_the_key() {
        let (gate, profile) = (&GATES[0], Profile::testcloud());
        let models = r#"{"models":[{"name":"admin/openstack","short-name":"openstack","life":"dying","status":{"current":"destroying"}}]}"#;
        let models = juju::parse_models(&output(models)).unwrap();
        let snapshot = exit_state(gate, &profile)
            .await
            .with(Read::JujuModels, Ok(Value::JujuModels(Arc::new(models))));
        let v = gate.run(&snapshot, &profile);
        assert_eq!(v.status, Status::Precondition, "{v:#?}");
        assert!(
            v.evidence
                .iter()
                .any(|e| e.mark == Mark::Missing && e.subject == "models[openstack].status.since")
        );
    }

    #[tokio::test]
    async fn a_host_in_maas_under_a_previous_cycle_id_was_not_decomposed() {
        let gate = &GATES[0];
        let mut profile = Profile::testcloud();
        profile
            .maas
            .as_mut()
            .unwrap()
            .previous_system_ids
            .push("c8rxma".into());
        let v = gate.run(&exit_state(gate, &profile).await, &profile);
        assert_eq!(v.status, Status::Fail);
        let bad: Vec<_> = v.evidence.iter().filter(|e| e.mark == Mark::Bad).collect();
        assert_eq!(bad.len(), 1, "{v:#?}");
        assert!(bad[0].actual.contains("a previous cycle's id"));
        assert_eq!(bad[0].subject, "host openstack2");
    }

    #[tokio::test]
    async fn a_paused_domain_refuses_the_detach_and_an_unknown_state_is_refused() {
        let (gate, profile) = (&GATES[1], Profile::testcloud());
        let nets = " Name      State    Autostart   Persistent\n--------------------------------------------\n 8_lbaas   active   no          yes\n\n";
        let nets = virsh::parse_net_list(&output(nets)).unwrap();
        let snapshot = exit_state(gate, &profile).await.with(
            Read::VirshNetList {
                conn: conn(&profile),
            },
            Ok(Value::VirshNetList(Arc::new(nets))),
        );
        let snapshot = with_state(snapshot, &profile, "openstack0", "paused");
        let v = gate.run(&snapshot, &profile);
        assert_eq!(v.status, Status::Hold, "{v:#?}");
        assert!(v.summary.contains("openstack0 (paused)"), "{}", v.summary);
        // A state libvirt does not print is refused, never taken for shut off or for
        // any other state (issue 8: an unknown enum value is PRECONDITION).
        let err = virsh::parse_domstate(&output("hibernating\n\n")).unwrap_err();
        assert!(err.to_string().contains("domain states"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_actual_size_is_never_blank() {
        let (gate, profile) = (&GATES[2], Profile::testcloud());
        let path = profile.libvirt.as_ref().unwrap().osd.path_for("openstack0");
        let info =
            format!(r#"{{"virtual-size": 549755813888, "filename": "{path}", "format": "qcow2"}}"#);
        let info = disk::parse_image_info(&output(&info)).unwrap();
        let read = Read::QemuImgInfo {
            prefix: profile.libvirt.as_ref().unwrap().command_prefix.clone(),
            path,
        };
        let snapshot = exit_state(gate, &profile)
            .await
            .with(read, Ok(Value::QemuImgInfo(Arc::new(info))));
        let v = gate.run(&snapshot, &profile);
        assert_eq!(v.status, Status::Precondition, "{v:#?}");
        assert!(
            v.evidence.iter().any(|e| e.mark == Mark::Missing
                && e.subject.ends_with("openstack0-1.qcow2: actual-size"))
        );
        // With that domain running, the wipe guard decides: HOLD, never PASS.
        let v = gate.run(
            &with_state(snapshot, &profile, "openstack0", "running"),
            &profile,
        );
        assert_eq!(v.status, Status::Hold, "{v:#?}");
    }

    #[test]
    fn sizes_read_like_qemu_img() {
        assert_eq!(size(549_755_813_888), "512 GiB");
        assert_eq!(size(204_800), "200 KiB");
        assert_eq!(size(1_318_912), "1.3 MiB");
        assert_eq!(size(536_870_912), "512 MiB");
        assert_eq!(size(512), "512 B");
    }
}
