//! Phase-00 actions (seed 002 steps 2-6, seed 003, change log 004): teardown (destroy
//! path and the Path A canary), 8_lbaas removal, OSD wipe, re-enrollment, carve.
//! Every planner is pure: what it targets comes from the snapshot, resolved by
//! hostname (R1), never from an id in the profile or a document.

use std::time::Duration;

use super::checks::{gate_holds, maas_profile, machine_gone, settle};
use super::plan::{Check, Input, Plan, Step, Target};
use super::wait::Poll;
use super::{Action, ActionArgs, Refusal, need, no_follow_up};
use crate::profile::{LibvirtSite, MaasSite, Profile};
use crate::resolve::{ModelState, Protected, machine, model_state, teardown_targets};
use crate::snapshot::{Read, Snapshot};
use crate::sources::Presence;

pub static ACTIONS: [Action; 4] = [
    Action {
        name: "teardown-destroy",
        phase: "00",
        description: "Path B (D-061): capture export-bundle, status and models to a new backup directory and point the backup pointer at it; destroy the model (the hosts decompose out of MAAS); delete the retired machines; remediate a model still destroying past the bound",
        destructive: true,
        guards: "every host resolves in MAAS by hostname; no protected machine among the targets or carrying the host tag; a model destroying past the bound gets remove-machine --force per lingering machine",
        takes_host: false,
        reads: teardown_reads,
        follow_up: teardown_follow_up,
        plan: plan_teardown_destroy,
    },
    Action {
        name: "teardown-release",
        phase: "00",
        description: "Path A canary (D-061): remove the canary host's machine from the model with --keep-instance, verify it survives Deployed with its carve, stop",
        destructive: true,
        guards: "the canary is a profile host, not protected, and in the model; validates survival only, not re-acquisition",
        takes_host: false,
        reads: teardown_reads,
        follow_up: teardown_follow_up,
        plan: plan_teardown_release,
    },
    Action {
        name: "lbaas-net-remove",
        phase: "00",
        description: "seed 002 step 3: back up the 8_lbaas network XML, detach each host's NIC on it (--config), net-destroy and net-undefine it",
        destructive: true,
        guards: "every host domain shut off",
        takes_host: false,
        reads: lbaas_reads,
        follow_up: no_follow_up,
        plan: plan_lbaas_net_remove,
    },
    Action {
        name: "osd-wipe",
        phase: "00",
        description: "seed 002 step 4: recreate each host's <host>-1.qcow2 OSD disk blank (512G qcow2, root:root, 600); the OS disk is never touched",
        destructive: true,
        guards: "every host domain shut off",
        takes_host: false,
        reads: osd_reads,
        follow_up: no_follow_up,
        plan: plan_osd_wipe,
    },
];

fn site(profile: &Profile) -> Result<&MaasSite, Refusal> {
    profile.maas.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!("profile {} has no [maas] section", profile.name))
    })
}

fn libvirt(profile: &Profile) -> Result<&LibvirtSite, Refusal> {
    profile.libvirt.as_ref().ok_or_else(|| {
        Refusal::Guard(format!(
            "profile {} has no [libvirt] section: this site's hosts are not KVM domains",
            profile.name
        ))
    })
}

fn hostnames(profile: &Profile) -> Vec<String> {
    profile.hosts.iter().map(|h| h.hostname.clone()).collect()
}

fn teardown_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    vec![
        Read::MaasMachines {
            profile: maas_profile(profile),
        },
        Read::JujuModels,
    ]
}

/// `juju status` of the model, when `juju models` lists it: its machines are what the
/// remediation and the canary act on.
fn teardown_follow_up(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    match snapshot.models() {
        Ok(models) if models.find(&profile.model).is_some() => vec![Read::JujuStatus {
            model: profile.model.clone(),
        }],
        _ => Vec::new(),
    }
}

/// The model is gone from `juju models`.
fn model_gone(profile: &Profile, bound: Duration) -> Check {
    let model = profile.model.clone();
    Check::new(
        format!("model {model} is gone from juju models"),
        vec![Read::JujuModels],
        move |snapshot, _| match snapshot.models() {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(models) => match models.find(&model) {
                None => Poll::Pass(format!("no model {model}")),
                Some(m) => Poll::Pending(format!(
                    "model {model} still listed (life {}, status {})",
                    m.life.as_str(),
                    m.status
                        .as_ref()
                        .and_then(|s| s.current.as_deref())
                        .unwrap_or("not shown")
                )),
            },
        },
    )
    .polled(settle(bound))
}

fn plan_teardown_destroy(
    snapshot: &Snapshot,
    profile: &Profile,
    args: &ActionArgs,
) -> Result<Plan, Refusal> {
    let site = site(profile)?;
    let machines = need(snapshot.maas_machines(&site.profile))?;
    let models = need(snapshot.models())?;
    let summary = models.find(&profile.model);
    let protected = Protected::resolve(&site.protected, machines, std::iter::empty());
    let targets = teardown_targets(
        &hostnames(profile),
        &site.retired,
        &site.host_tag,
        &protected,
        machines,
        summary.is_some(),
    );
    let mut plan = Plan::new("teardown-destroy");
    if !targets.refused.is_empty() {
        return Err(Refusal::Guard(targets.refused.join("; ")));
    }
    for e in &targets.excluded {
        match &e.machine {
            Some(m) if e.carries_host_tag => {
                return Err(Refusal::Guard(format!(
                    "protected {} (system_id {}) carries tag {}: the model could have placed units on it; untag it before destroying",
                    e.name, m.system_id, site.host_tag
                )));
            }
            Some(m) => plan.exclude(
                &e.name,
                format!("EXCLUDED, system_id {} ({})", m.system_id, m.status_name),
            ),
            None => plan.exclude(&e.name, "EXCLUDED (not in MAAS)"),
        }
    }
    if !targets.unresolved.is_empty() {
        return Err(Refusal::Guard(format!(
            "model {} exists but MAAS does not hold {}: resolve them before destroying (a host the plan cannot name is not a host it can check)",
            profile.model,
            targets.unresolved.join(", ")
        )));
    }
    let state = model_state(summary);
    plan.resolve(
        format!("model {}", profile.model),
        match (&state, summary) {
            (ModelState::Absent, _) | (_, None) => "absent".to_string(),
            (_, Some(m)) => format!(
                "{} (uuid {}, life {})",
                m.name,
                m.model_uuid.as_deref().unwrap_or("not shown"),
                m.life.as_str()
            ),
        },
    );
    for t in &targets.decompose {
        plan.resolve(
            format!("host {}", t.hostname),
            format!("system_id {} ({})", t.system_id, t.status_name),
        );
    }
    for name in &targets.retired_gone {
        plan.resolve(format!("retired {name}"), "gone from MAAS");
    }
    for t in &targets.delete {
        plan.resolve(
            format!("retired {}", t.hostname),
            format!("system_id {} ({})", t.system_id, t.status_name),
        );
    }
    let bound = Duration::from_secs(profile.teardown.remediate_destroying_after_minutes * 60);
    let model_target = Target::Model {
        name: profile.model.clone(),
    };
    let host_targets: Vec<Target> = targets
        .decompose
        .iter()
        .map(|t| Target::Machine {
            hostname: t.hostname.clone(),
            system_id: t.system_id.clone(),
        })
        .collect();
    match &state {
        ModelState::Absent => plan.note(format!("no model {}: nothing to destroy", profile.model)),
        ModelState::Alive { .. } => {
            capture_steps(&mut plan, profile, args)?;
            let mut argv = vec![
                "juju".to_string(),
                "destroy-model".into(),
                profile.model.clone(),
                "--force".into(),
                "--no-wait".into(),
                "--no-prompt".into(),
            ];
            argv.extend(profile.teardown.storage_flag.clone());
            plan.push(
                Step::run(
                    argv,
                    format!(
                        "destroy model {}: on this virsh-pod MAAS its {} hosts decompose out of MAAS, their domains survive (D-055, D-061)",
                        profile.model,
                        targets.decompose.len()
                    ),
                    model_gone(profile, bound),
                )
                .destructive()
                .targets(std::iter::once(model_target.clone()).chain(host_targets.clone())),
            );
        }
        ModelState::Destroying { age, since, .. } if *age >= bound => {
            let status = need(snapshot.juju_status(&profile.model))?;
            plan.note(format!(
                "model {} still destroying since {since}, past the {} min bound: remove-machine --force per lingering machine (seed 002 step 2)",
                profile.model,
                bound.as_secs() / 60
            ));
            for (id, m) in &status.machines {
                let hostname = m
                    .hostname
                    .as_deref()
                    .map_or_else(|| format!("machine {id}"), str::to_string);
                plan.resolve(format!("lingering machine {id}"), hostname.clone());
                let mut step = Step::run(
                    [
                        "juju",
                        "remove-machine",
                        "-m",
                        profile.model.as_str(),
                        "--force",
                        "--no-prompt",
                        id.as_str(),
                    ],
                    format!("remediation: force-remove lingering machine {id} ({hostname})"),
                    machine_left_model(profile, id),
                )
                .destructive();
                if let Some(t) = targets.decompose.iter().find(|t| t.hostname == hostname) {
                    step = step.targets([Target::Machine {
                        hostname: t.hostname.clone(),
                        system_id: t.system_id.clone(),
                    }]);
                }
                plan.push(step);
            }
            plan.push(Step::wait(
                format!("model {} finishes destroying", profile.model),
                model_gone(profile, bound),
            ));
        }
        ModelState::Destroying { age, since, .. } => {
            plan.note(format!(
                "model {} destroying since {since}: waiting (the remediation is due at {} min)",
                profile.model,
                bound.as_secs() / 60
            ));
            plan.push(Step::wait(
                format!("model {} finishes destroying", profile.model),
                model_gone(profile, bound.saturating_sub(*age)),
            ));
        }
        ModelState::DestroyingSinceUnknown { .. } => {
            return Err(Refusal::Precondition(format!(
                "model {} is destroying, but juju models does not say since when (models[{}].status.since): cannot decide whether the remediation is due",
                profile.model, profile.model
            )));
        }
    }
    for t in &targets.delete {
        plan.push(
            Step::run(
                [
                    "maas",
                    site.profile.as_str(),
                    "machine",
                    "delete",
                    t.system_id.as_str(),
                ],
                format!(
                    "delete the retired {} machine (D-033 out-of-cloud node)",
                    t.hostname
                ),
                machine_gone(&t.hostname, profile),
            )
            .destructive()
            .targets([Target::Machine {
                hostname: t.hostname.clone(),
                system_id: t.system_id.clone(),
            }]),
        );
    }
    if !plan.is_empty() {
        plan.push(Step::wait(
            "the teardown gate holds: no model, hosts decomposed, retired machines gone, domains shut off",
            gate_holds("P00-TEARDOWN", profile).polled(settle(bound)),
        ));
    }
    Ok(plan)
}

/// The machine is no longer in the model's `juju status`.
fn machine_left_model(profile: &Profile, id: &str) -> Check {
    let (model, id) = (profile.model.clone(), id.to_string());
    Check::new(
        format!("machine {id} left model {model}"),
        vec![Read::JujuModels],
        move |snapshot, _| match snapshot.models() {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(models) if models.find(&model).is_none() => {
                Poll::Pass(format!("model {model} gone with machine {id}"))
            }
            Ok(_) => Poll::Pass(format!("remove-machine accepted for machine {id}")),
        },
    )
}

/// The pre-destroy capture (seed 000 acceptance; seed 002 step 2): reference only, not
/// a restore path (D-017).
fn capture_steps(plan: &mut Plan, profile: &Profile, args: &ActionArgs) -> Result<(), Refusal> {
    let (Some(pattern), Some(pointer)) = (
        profile.teardown.backup_dir.as_ref(),
        profile.teardown.backup_pointer.as_ref(),
    ) else {
        return Err(Refusal::Precondition(
            "the destroy path captures the model before destroying it: the profile needs teardown.backup_dir and teardown.backup_pointer".to_string(),
        ));
    };
    if args.stamp.is_empty() {
        return Err(Refusal::Precondition(
            "stackgate bug: no run stamp for the backup directory".to_string(),
        ));
    }
    let dir = pattern.replace("{stamp}", &args.stamp);
    plan.volatile.push(args.stamp.clone());
    plan.resolve("backup directory", dir.clone());
    let listed = |file: &'static str| {
        let dir = dir.clone();
        Check::new(
            if file.is_empty() {
                format!("{dir} exists")
            } else {
                format!("{dir}/{file} exists")
            },
            vec![Read::DirList { path: dir.clone() }],
            move |snapshot, _| match snapshot.dir_list(&dir) {
                Ok(entries) if file.is_empty() || entries.iter().any(|e| e == file) => {
                    Poll::Pass(if entries.is_empty() {
                        format!("{dir} exists, empty")
                    } else {
                        format!("{dir} holds {}", entries.join(", "))
                    })
                }
                Ok(entries) => Poll::Fail(format!(
                    "{dir} holds {} but not {file}",
                    if entries.is_empty() {
                        "nothing".to_string()
                    } else {
                        entries.join(", ")
                    }
                )),
                Err(e) => Poll::Fail(e.to_string()),
            },
        )
    };
    plan.push(Step::run(
        ["mkdir", "-p", "-m", "700", "--", dir.as_str()],
        "make the pre-destroy backup directory, owner-only",
        listed(""),
    ));
    let bundle = format!("{dir}/juju-export-bundle.yaml");
    plan.push(Step::run(
        [
            "juju",
            "export-bundle",
            "-m",
            profile.model.as_str(),
            "--filename",
            bundle.as_str(),
        ],
        "capture the deployed bundle",
        listed("juju-export-bundle.yaml"),
    ));
    for (from, file) in [
        (
            crate::sources::juju::status_invocation(&profile.model),
            "juju-status.json",
        ),
        (
            crate::sources::juju::models_invocation(),
            "juju-models.json",
        ),
    ] {
        let path = format!("{dir}/{file}");
        plan.push(
            Step::run(
                ["tee", "--", path.as_str()],
                format!("capture `{}`", from.display()),
                listed(file),
            )
            .input(Input::OutputOf(from.argv().to_vec())),
        );
    }
    let pointer = pointer.clone();
    let expected = dir.clone();
    let tee_pointer = ["tee".to_string(), "--".to_string(), pointer.clone()];
    plan.push(
        Step::run(
            tee_pointer,
            "point the backup pointer at this capture",
            Check::new(
                format!("{pointer} names {expected}"),
                vec![Read::TextFile {
                    path: pointer.clone(),
                }],
                move |snapshot, _| match snapshot.text_file(&pointer) {
                    Ok(text) if text.trim() == expected => {
                        Poll::Pass(format!("{pointer} -> {expected}"))
                    }
                    Ok(text) => {
                        Poll::Fail(format!("{pointer} names {:?}, not {expected}", text.trim()))
                    }
                    Err(e) => Poll::Fail(e.to_string()),
                },
            ),
        )
        .input(Input::Text(format!("{dir}\n"))),
    );
    Ok(())
}

fn plan_teardown_release(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let site = site(profile)?;
    let canary = profile.teardown.canary.clone().ok_or_else(|| {
        Refusal::Precondition("the profile names no teardown.canary host".to_string())
    })?;
    if !profile.hosts.iter().any(|h| h.hostname == canary) {
        return Err(Refusal::Guard(format!(
            "canary {canary} is not one of the profile's hosts"
        )));
    }
    let machines = need(snapshot.maas_machines(&site.profile))?;
    let models = need(snapshot.models())?;
    let protected = Protected::resolve(&site.protected, machines, std::iter::empty());
    let mut plan = Plan::new("teardown-release");
    let Some(m) = machine(machines, &canary) else {
        return Err(Refusal::Guard(format!(
            "canary {canary} is not in MAAS: Path A keeps machines, there is nothing to keep"
        )));
    };
    if let Some(why) = protected.refuses(m) {
        return Err(Refusal::Guard(why));
    }
    plan.resolve(
        format!("canary {canary}"),
        format!("system_id {} ({})", m.system_id, m.status_name),
    );
    if models.find(&profile.model).is_none() {
        plan.note(format!(
            "no model {}: the canary is not in a model",
            profile.model
        ));
        return Ok(plan);
    }
    let status = need(snapshot.juju_status(&profile.model))?;
    let Some((id, _)) = status.machines.iter().find(|(_, jm)| {
        jm.hostname.as_deref() == Some(canary.as_str())
            || jm.instance_id.as_deref() == Some(m.system_id.as_str())
    }) else {
        plan.note(format!(
            "{canary} is no machine of model {}: already released",
            profile.model
        ));
        return Ok(plan);
    };
    plan.resolve(format!("juju machine of {canary}"), id.clone());
    plan.push(
        Step::run(
            [
                "juju",
                "remove-machine",
                "-m",
                profile.model.as_str(),
                "--force",
                "--keep-instance",
                "--no-prompt",
                id.as_str(),
            ],
            format!(
                "Path A canary: juju forgets machine {id} ({canary}) and its units (--force: a machine hosting units is not removed otherwise), MAAS keeps it; this validates survival, not re-acquisition (D-061)"
            ),
            gate_holds("P00-RELEASE-CANARY", profile).polled(settle(Duration::from_secs(600))),
        )
        .destructive()
        .targets([Target::Machine {
            hostname: canary.clone(),
            system_id: m.system_id.clone(),
        }]),
    );
    plan.note("STOP after the canary: Path A is not a route into phase 01 until re-acquisition is validated (D-061)");
    Ok(plan)
}

fn lbaas_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let Some(lv) = &profile.libvirt else {
        return Vec::new();
    };
    let conn = lv.connection();
    let mut reads = vec![
        Read::VirshList { conn: conn.clone() },
        Read::VirshNetList { conn: conn.clone() },
    ];
    reads.extend(profile.hosts.iter().map(|h| Read::VirshDumpxml {
        conn: conn.clone(),
        domain: h.hostname.clone(),
    }));
    reads
}

/// Every host domain is shut off, or the guard naming the ones that are not.
fn domains_shut_off(
    snapshot: &Snapshot,
    profile: &Profile,
    lv: &LibvirtSite,
) -> Result<(), Refusal> {
    let domains = need(snapshot.virsh_domains(&lv.connection()))?;
    let mut running = Vec::new();
    for host in &profile.hosts {
        match domains.get(&host.hostname) {
            Some(d) if d.state.is_shut_off() => {}
            Some(d) => running.push(format!("{} is {}", host.hostname, d.state.label())),
            None => running.push(format!("{} is not defined", host.hostname)),
        }
    }
    if running.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Guard(format!(
            "every host domain must be shut off first: {}",
            running.join(", ")
        )))
    }
}

fn plan_lbaas_net_remove(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let lv = libvirt(profile)?;
    let conn = lv.connection();
    let network = lv.lbaas_network.as_str();
    let networks = need(snapshot.virsh_networks(&conn))?;
    let mut plan = Plan::new("lbaas-net-remove");
    let mut detach = Vec::new();
    for host in &profile.hosts {
        let xml = need(snapshot.virsh_domain_xml(&conn, &host.hostname))?;
        let Presence::Present(xml) = xml else {
            return Err(Refusal::Guard(format!(
                "domain {} is not defined: the hosts' domains must exist",
                host.hostname
            )));
        };
        for nic in xml.interfaces_on(network) {
            let mac = nic.mac.clone().ok_or_else(|| {
                Refusal::Precondition(format!(
                    "domain {}: an interface on {network} has no MAC (dumpxml interface/mac/@address)",
                    host.hostname
                ))
            })?;
            plan.resolve(format!("{} NIC on {network}", host.hostname), mac.clone());
            detach.push((host.hostname.clone(), mac));
        }
    }
    let entry = networks.get(network);
    plan.resolve(
        format!("network {network}"),
        entry.map_or("not defined".to_string(), |n| n.state.clone()),
    );
    if entry.is_none() && detach.is_empty() {
        plan.note(format!(
            "{network} is not defined and no host domain references it"
        ));
        return Ok(plan);
    }
    domains_shut_off(snapshot, profile, lv)?;
    if entry.is_some() {
        let backup = lv.lbaas_backup.clone().ok_or_else(|| {
            Refusal::Precondition(
                "the profile needs libvirt.lbaas_backup: the network XML is backed up before it is undefined".to_string(),
            )
        })?;
        let check_backup = backup.clone();
        plan.push(
            Step::run(
                ["tee", "--", backup.as_str()],
                format!("back up {network}'s XML (the removal is reversible from it)"),
                Check::new(
                    format!("{backup} holds {network}'s XML"),
                    vec![Read::TextFile {
                        path: backup.clone(),
                    }],
                    move |snapshot, _| match snapshot.text_file(&check_backup) {
                        Ok(t) if t.trim_start().starts_with("<network") => {
                            Poll::Pass(format!("{check_backup} saved"))
                        }
                        Ok(_) => Poll::Fail(format!("{check_backup} is not a network XML")),
                        Err(e) => Poll::Fail(e.to_string()),
                    },
                ),
            )
            .input(Input::OutputOf(conn.argv(&["net-dumpxml", network]))),
        );
    }
    for (domain, mac) in &detach {
        let (check_conn, check_domain, check_mac) = (conn.clone(), domain.clone(), mac.clone());
        let net = network.to_string();
        plan.push(
            Step::run(
                conn.argv(&[
                    "detach-interface",
                    domain,
                    "network",
                    "--mac",
                    mac,
                    "--config",
                ]),
                format!("detach {domain}'s idle NIC {mac} from its persistent config"),
                Check::new(
                    format!("{domain} no longer references {network}"),
                    vec![Read::VirshDumpxml {
                        conn: conn.clone(),
                        domain: domain.clone(),
                    }],
                    move |snapshot, _| match snapshot.virsh_domain_xml(&check_conn, &check_domain) {
                        Ok(Presence::Present(xml)) => {
                            if xml.interfaces_on(&net).next().is_none() {
                                Poll::Pass(format!("{check_domain}: no NIC on {net}"))
                            } else {
                                Poll::Fail(format!("{check_domain} still has {check_mac} on {net}"))
                            }
                        }
                        Ok(Presence::Absent { message }) => Poll::Fail(message.clone()),
                        Err(e) => Poll::Fail(e.to_string()),
                    },
                ),
            )
            .destructive()
            .targets([Target::Domain {
                name: domain.clone(),
            }]),
        );
    }
    if let Some(entry) = entry {
        if entry.state == "active" {
            plan.push(
                Step::run(
                    conn.argv(&["net-destroy", network]),
                    format!("stop {network}"),
                    network_state(&conn, network, Some("inactive")),
                )
                .destructive()
                .targets([Target::Network {
                    name: network.to_string(),
                }]),
            );
        }
        plan.push(
            Step::run(
                conn.argv(&["net-undefine", network]),
                format!("undefine {network}"),
                network_state(&conn, network, None),
            )
            .destructive()
            .targets([Target::Network {
                name: network.to_string(),
            }]),
        );
    }
    plan.push(Step::wait(
        "the 8_lbaas gate holds",
        gate_holds("P00-LBAAS", profile),
    ));
    Ok(plan)
}

/// `net-list --all` shows the network in `state`, or (None) not at all.
fn network_state(
    conn: &crate::sources::virsh::Connection,
    network: &str,
    state: Option<&'static str>,
) -> Check {
    let (conn, network) = (conn.clone(), network.to_string());
    Check::new(
        match state {
            Some(s) => format!("{network} is {s}"),
            None => format!("{network} is not defined"),
        },
        vec![Read::VirshNetList { conn: conn.clone() }],
        move |snapshot, _| match snapshot.virsh_networks(&conn) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(list) => match (list.get(&network), state) {
                (None, None) => Poll::Pass(format!("{network} not in net-list")),
                (Some(n), Some(s)) if n.state == s => Poll::Pass(format!("{network} {s}")),
                (Some(n), _) => Poll::Fail(format!("{network} is {}", n.state)),
                (None, Some(s)) => Poll::Fail(format!("{network} is gone, expected {s}")),
            },
        },
    )
}

fn osd_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let Some(lv) = &profile.libvirt else {
        return Vec::new();
    };
    let mut reads = vec![Read::VirshList {
        conn: lv.connection(),
    }];
    for host in &profile.hosts {
        let path = lv.osd.path_for(&host.hostname);
        reads.push(Read::QemuImgInfo {
            prefix: lv.command_prefix.clone(),
            path: path.clone(),
        });
        reads.push(Read::FileStat {
            prefix: lv.command_prefix.clone(),
            path,
        });
    }
    reads
}

fn prefixed(lv: &LibvirtSite, args: &[&str]) -> Vec<String> {
    lv.command_prefix
        .iter()
        .map(String::as_str)
        .chain(args.iter().copied())
        .map(str::to_string)
        .collect()
}

fn plan_osd_wipe(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let lv = libvirt(profile)?;
    let osd = &lv.osd;
    let mut plan = Plan::new("osd-wipe");
    let size = format!("{}G", osd.virtual_size_gib);
    let mut wipe = Vec::new();
    let mut fix_mode = Vec::new();
    for host in &profile.hosts {
        let path = osd.path_for(&host.hostname);
        let info = need(snapshot.qemu_img_info(&lv.command_prefix, &path))?;
        let stat = need(snapshot.file_stat(&lv.command_prefix, &path))?;
        let blank = match info {
            Presence::Absent { .. } => {
                plan.resolve(
                    format!("{} OSD disk", host.hostname),
                    format!("{path} absent"),
                );
                false
            }
            Presence::Present(info) => {
                let actual = info
                    .actual_size()
                    .map_err(|e| Refusal::Precondition(format!("`qemu-img info {path}`: {e}")))?;
                plan.resolve(
                    format!("{} OSD disk", host.hostname),
                    format!(
                        "{path} {} virtual {} B, actual {} KiB",
                        info.format,
                        info.virtual_size,
                        actual / 1024
                    ),
                );
                info.format == osd.format
                    && info.virtual_size == osd.virtual_size_bytes()
                    && actual / 1024 <= osd.blank_max_actual_kib
            }
        };
        let mode_ok = stat
            .present()
            .is_some_and(|m| m.owner_group() == osd.owner && m.mode == osd.mode);
        if !blank {
            wipe.push((host.hostname.clone(), path));
        } else if !mode_ok {
            fix_mode.push((host.hostname.clone(), path));
        } else {
            plan.note(format!(
                "{}: {path} already blank, {} {}",
                host.hostname, osd.owner, osd.mode
            ));
        }
    }
    if wipe.is_empty() && fix_mode.is_empty() {
        return Ok(plan);
    }
    domains_shut_off(snapshot, profile, lv)?;
    let stat_check = |path: &str| {
        let (prefix, path, owner, mode) = (
            lv.command_prefix.clone(),
            path.to_string(),
            osd.owner.clone(),
            osd.mode.clone(),
        );
        Check::new(
            format!("{path} is {owner} {mode}"),
            vec![Read::FileStat {
                prefix: prefix.clone(),
                path: path.clone(),
            }],
            move |snapshot, _| match snapshot.file_stat(&prefix, &path) {
                Ok(Presence::Present(m)) if m.owner_group() == owner && m.mode == mode => {
                    Poll::Pass(format!("{path} {owner} {mode}"))
                }
                Ok(Presence::Present(m)) => {
                    Poll::Fail(format!("{path} is {} {}", m.owner_group(), m.mode))
                }
                Ok(Presence::Absent { message }) => Poll::Fail(message.clone()),
                Err(e) => Poll::Fail(e.to_string()),
            },
        )
    };
    let info_check = |path: &str, exists: bool| {
        let (prefix, path) = (lv.command_prefix.clone(), path.to_string());
        let (format, virtual_size) = (osd.format.clone(), osd.virtual_size_bytes());
        Check::new(
            if exists {
                format!("{path} is a {format} of {virtual_size} B")
            } else {
                format!("{path} is gone")
            },
            vec![Read::QemuImgInfo {
                prefix: prefix.clone(),
                path: path.clone(),
            }],
            move |snapshot, _| match (snapshot.qemu_img_info(&prefix, &path), exists) {
                (Ok(Presence::Absent { .. }), false) => Poll::Pass(format!("{path} removed")),
                (Ok(Presence::Present(i)), true)
                    if i.format == format && i.virtual_size == virtual_size =>
                {
                    Poll::Pass(format!("{path} {format} {virtual_size} B"))
                }
                (Ok(Presence::Present(i)), _) => {
                    Poll::Fail(format!("{path} is {} of {} B", i.format, i.virtual_size))
                }
                (Ok(Presence::Absent { message }), true) => Poll::Fail(message.clone()),
                (Err(e), _) => Poll::Fail(e.to_string()),
            },
        )
    };
    for (host, path) in &wipe {
        let target = || Target::File { path: path.clone() };
        plan.push(
            Step::run(
                prefixed(lv, &["rm", "-f", "--", path]),
                format!("{host}: delete the OSD disk (all Ceph OSD data on it); vda untouched"),
                info_check(path, false),
            )
            .destructive()
            .targets([target(), Target::Domain { name: host.clone() }]),
        );
        plan.push(
            Step::run(
                prefixed(lv, &["qemu-img", "create", "-f", &osd.format, path, &size]),
                format!("{host}: recreate it blank"),
                info_check(path, true),
            )
            .targets([target()]),
        );
    }
    for (host, path) in wipe.iter().chain(&fix_mode) {
        plan.push(
            Step::run(
                prefixed(lv, &["chown", &osd.owner, path]),
                format!("{host}: owner {}", osd.owner),
                Check::new("chown accepted", vec![], |_, _| {
                    Poll::Pass("chown exited 0".into())
                }),
            )
            .targets([Target::File { path: path.clone() }]),
        );
        plan.push(
            Step::run(
                prefixed(lv, &["chmod", &osd.mode, path]),
                format!("{host}: mode {}", osd.mode),
                stat_check(path),
            )
            .targets([Target::File { path: path.clone() }]),
        );
    }
    plan.push(Step::wait(
        "the OSD gate holds",
        gate_holds("P00-OSD", profile),
    ));
    Ok(plan)
}

pub static ENROLL: [Action; 2] = [
    Action {
        name: "reenroll",
        phase: "00",
        description: "D-055: create the missing MAAS machines for the hosts' surviving domains (virsh power, boot MAC), wait New -> Commissioning -> Ready with new system_ids, ensure and apply the host tag",
        destructive: false,
        guards: "each missing host's domain exists with one NIC on the boot network; no MAAS machine already holds its boot MAC; the libvirt SSH password is typed or read from a file descriptor, never an argument",
        takes_host: false,
        reads: reenroll_reads,
        follow_up: no_follow_up,
        plan: plan_reenroll,
    },
    Action {
        name: "carve",
        phase: "00",
        description: "D-060 Pattern A for one host: bridges, VLAN and STATIC links by CIDR, ids resolved live; a DISCOVERED ghost on the host's own IP released first (release_self_indexed)",
        destructive: false,
        guards: "the host is Ready (link-subnet is rejected on Deployed); an address another node holds is refused; no retired interface present",
        takes_host: true,
        reads: carve_reads,
        follow_up: carve_follow_up,
        plan: plan_carve,
    },
];

fn reenroll_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let maas = maas_profile(profile);
    let mut reads = vec![
        Read::MaasMachines {
            profile: maas.clone(),
        },
        Read::MaasTags { profile: maas },
    ];
    if let Some(lv) = &profile.libvirt {
        let conn = lv.connection();
        reads.push(Read::VirshList { conn: conn.clone() });
        reads.extend(profile.hosts.iter().map(|h| Read::VirshDumpxml {
            conn: conn.clone(),
            domain: h.hostname.clone(),
        }));
    }
    reads
}

/// MAAS statuses a commissioning machine passes before Ready, and the ones that end it.
const COMMISSIONING: [&str; 3] = ["New", "Commissioning", "Testing"];

/// The host is Ready in MAAS with a system_id no earlier cycle had (DOCFIX-040).
fn enrolled(hostname: &str, profile: &Profile) -> Check {
    let hostname = hostname.to_string();
    let maas = maas_profile(profile);
    let previous = profile
        .maas
        .as_ref()
        .map(|m| m.previous_system_ids.clone())
        .unwrap_or_default();
    Check::new(
        format!("{hostname} is Ready with a new system_id"),
        vec![Read::MaasMachines {
            profile: maas.clone(),
        }],
        move |snapshot, _| match snapshot.maas_machines(&maas) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(machines) => match machine(machines, &hostname) {
                None => Poll::Fail(format!("{hostname} is not in MAAS after machines create")),
                Some(m) if previous.contains(&m.system_id) => Poll::Fail(format!(
                    "{hostname} has system_id {} of a previous cycle (DOCFIX-040)",
                    m.system_id
                )),
                Some(m) if m.status_name == "Ready" => {
                    Poll::Pass(format!("{hostname} Ready, system_id {}", m.system_id))
                }
                Some(m) if COMMISSIONING.contains(&m.status_name.as_str()) => Poll::Pending(
                    format!("{hostname} {} (system_id {})", m.status_name, m.system_id),
                ),
                Some(m) => Poll::Fail(format!(
                    "{hostname} is {} (system_id {}): commissioning did not reach Ready",
                    m.status_name, m.system_id
                )),
            },
        },
    )
    .polled(settle(Duration::from_secs(30 * 60)))
}

fn tag_holds(tag: &str, hostname: Option<&str>, profile: &Profile) -> Check {
    let (tag, hostname, maas) = (
        tag.to_string(),
        hostname.map(str::to_string),
        maas_profile(profile),
    );
    let reads = match hostname {
        Some(_) => vec![Read::MaasMachines {
            profile: maas.clone(),
        }],
        None => vec![Read::MaasTags {
            profile: maas.clone(),
        }],
    };
    Check::new(
        match &hostname {
            Some(h) => format!("{h} carries tag {tag}"),
            None => format!("tag {tag} exists"),
        },
        reads,
        move |snapshot, _| match &hostname {
            None => match snapshot.maas_tags(&maas) {
                Ok(tags) if tags.iter().any(|t| t.name == tag) => Poll::Pass(format!("tag {tag}")),
                Ok(_) => Poll::Fail(format!("tags read has no {tag}")),
                Err(e) => Poll::Fail(e.to_string()),
            },
            Some(h) => match snapshot.maas_machines(&maas) {
                Ok(machines) => match machine(machines, h) {
                    Some(m) if m.tag_names.contains(&tag) => {
                        Poll::Pass(format!("{h} tagged {tag}"))
                    }
                    Some(m) => Poll::Fail(format!("{h} tags: {}", m.tag_names.join(", "))),
                    None => Poll::Fail(format!("{h} not in MAAS")),
                },
                Err(e) => Poll::Fail(e.to_string()),
            },
        },
    )
}

fn plan_reenroll(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let site = site(profile)?;
    let lv = libvirt(profile)?;
    let conn = lv.connection();
    let machines = need(snapshot.maas_machines(&site.profile))?;
    let tags = need(snapshot.maas_tags(&site.profile))?;
    let domains = need(snapshot.virsh_domains(&conn))?;
    let protected = Protected::resolve(&site.protected, machines, std::iter::empty());
    let mut plan = Plan::new("reenroll");
    let tag = site.host_tag.as_str();
    let mut created = Vec::new();
    let mut untagged = Vec::new();
    for host in &profile.hosts {
        let name = host.hostname.as_str();
        if let Some(m) = machine(machines, name) {
            if let Some(why) = protected.refuses(m) {
                return Err(Refusal::Guard(why));
            }
            plan.resolve(
                format!("host {name}"),
                format!("system_id {} ({})", m.system_id, m.status_name),
            );
            if !m.tag_names.iter().any(|t| t == tag) {
                untagged.push((name.to_string(), Some(m.system_id.clone())));
            }
            continue;
        }
        if domains.get(name).is_none() {
            return Err(Refusal::Guard(format!(
                "{name} is not in MAAS and libvirt defines no domain {name}: reenroll re-creates MAAS machines for surviving domains, not VMs"
            )));
        }
        let (boot, address) = match (&lv.boot_network, &lv.power_address) {
            (Some(b), Some(a)) => (b.as_str(), a.as_str()),
            _ => {
                return Err(Refusal::Precondition(
                    "the profile needs libvirt.boot_network and libvirt.power_address to enroll a host".to_string(),
                ));
            }
        };
        let Presence::Present(xml) = need(snapshot.virsh_domain_xml(&conn, name))? else {
            return Err(Refusal::Guard(format!(
                "libvirt says domain {name} is not defined"
            )));
        };
        let macs: Vec<&str> = xml
            .interfaces_on(boot)
            .filter_map(|i| i.mac.as_deref())
            .collect();
        let [mac] = macs.as_slice() else {
            return Err(Refusal::Precondition(format!(
                "domain {name} has {} NIC(s) with a MAC on {boot}: the boot MAC must be one",
                macs.len()
            )));
        };
        let mac = mac.to_ascii_lowercase();
        if let Some(holder) = machines
            .iter()
            .find(|m| crate::resolve::machine_macs(m).contains(&mac))
        {
            return Err(Refusal::Guard(format!(
                "{name}'s boot MAC {mac} is already MAAS machine {} (system_id {}): refusing to enroll it twice",
                holder.hostname, holder.system_id
            )));
        }
        plan.resolve(
            format!("host {name}"),
            format!("not in MAAS; domain boot MAC {mac}"),
        );
        plan.push(
            Step::run(
                [
                    "maas".to_string(),
                    site.profile.clone(),
                    "machines".into(),
                    "create".into(),
                    format!("hostname={name}"),
                    "architecture=amd64/generic".into(),
                    "power_type=virsh".into(),
                    format!("mac_addresses={mac}"),
                    format!("power_parameters_power_address={address}"),
                    format!("power_parameters_power_id={name}"),
                    format!("power_parameters_power_pass@={}", super::plan::SECRET_FILE),
                ],
                format!(
                    "enroll {name} (virsh power, boot MAC on {boot}); MAAS commissions it to Ready"
                ),
                enrolled(name, profile),
            )
            .secret(format!("libvirt SSH password for {address}"))
            .targets([Target::Domain {
                name: name.to_string(),
            }]),
        );
        created.push(name.to_string());
        untagged.push((name.to_string(), None));
    }
    if !tags.iter().any(|t| t.name == tag) {
        plan.push(Step::run(
            [
                "maas".to_string(),
                site.profile.clone(),
                "tags".into(),
                "create".into(),
                format!("name={tag}"),
                "comment=hosts the bundle places units on (constraint tags)".into(),
            ],
            format!("the bundle places units with tags={tag}"),
            tag_holds(tag, None, profile),
        ));
    }
    for (name, system_id) in untagged {
        let reason = format!("tag {name} {tag} (004: without it the bundle cannot place units)");
        let check = tag_holds(tag, Some(&name), profile);
        let step = match system_id {
            Some(sid) => Step::run(
                [
                    "maas".to_string(),
                    site.profile.clone(),
                    "tag".into(),
                    "update-nodes".into(),
                    tag.to_string(),
                    format!("add={sid}"),
                ],
                reason,
                check,
            )
            .targets([Target::Machine {
                hostname: name.clone(),
                system_id: sid,
            }]),
            None => {
                let (maas, tag, host) = (site.profile.clone(), tag.to_string(), name.clone());
                Step::resolved(
                    format!("maas {maas} tag update-nodes {tag} add=<system_id of {name}>"),
                    vec![Read::MaasMachines {
                        profile: maas.clone(),
                    }],
                    move |snapshot, _| {
                        let machines = snapshot.maas_machines(&maas).map_err(|e| e.to_string())?;
                        let m = machine(machines, &host)
                            .ok_or_else(|| format!("{host} is not in MAAS"))?;
                        Ok((
                            vec![
                                "maas".into(),
                                maas.clone(),
                                "tag".into(),
                                "update-nodes".into(),
                                tag.clone(),
                                format!("add={}", m.system_id),
                            ],
                            vec![Target::Machine {
                                hostname: host.clone(),
                                system_id: m.system_id.clone(),
                            }],
                        ))
                    },
                    reason,
                    check,
                )
            }
        };
        plan.push(step);
    }
    if !plan.is_empty() {
        plan.push(Step::wait(
            "the re-enroll gate holds",
            gate_holds("P00-REENROLL", profile),
        ));
    }
    if created.is_empty() && plan.is_empty() {
        plan.note("every host is in MAAS with its tag");
    }
    Ok(plan)
}

fn carve_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let maas = maas_profile(profile);
    vec![
        Read::MaasMachines {
            profile: maas.clone(),
        },
        Read::MaasSubnets { profile: maas },
    ]
}

/// The host's interfaces and the addresses held on each carved plane's subnet.
fn carve_follow_up(snapshot: &Snapshot, profile: &Profile, args: &ActionArgs) -> Vec<Read> {
    let maas = maas_profile(profile);
    let mut reads = Vec::new();
    if let (Ok(machines), Some(host)) = (snapshot.maas_machines(&maas), &args.host) {
        if let Some(m) = machine(machines, host) {
            reads.push(Read::MaasInterfaces {
                profile: maas.clone(),
                system_id: m.system_id.clone(),
            });
        }
    }
    if let (Ok(subnets), Some(carve)) = (snapshot.maas_subnets(&maas), &profile.carve) {
        for link in &carve.links {
            if let Some(subnet) = profile
                .plane(&link.plane)
                .and_then(|p| crate::resolve::subnet_by_cidr(subnets, p.cidr))
            {
                reads.push(Read::MaasSubnetIps {
                    profile: maas.clone(),
                    subnet_id: subnet.id,
                });
            }
        }
    }
    reads.sort();
    reads.dedup();
    reads
}

/// The host a carve step acts on: MAAS CLI profile, system_id, hostname.
struct HostRef<'a> {
    maas: &'a str,
    sid: &'a str,
    name: &'a str,
}

/// Builds a late argv from the interface ids it resolved.
type Build = Box<dyn Fn(&[i64]) -> Vec<String> + Send + Sync>;

/// A step on an interface that may not exist yet: its id is read when the step runs.
fn on_interface(
    on: &HostRef<'_>,
    names: Vec<String>,
    template: String,
    build: impl Fn(&[i64]) -> Vec<String> + Send + Sync + 'static,
    reason: String,
    check: Check,
) -> Step {
    let (maas, sid, host) = (on.maas.to_string(), on.sid.to_string(), on.name.to_string());
    Step::resolved(
        template,
        vec![Read::MaasInterfaces {
            profile: maas.clone(),
            system_id: sid.clone(),
        }],
        move |snapshot, _| {
            let interfaces = snapshot
                .maas_interfaces(&maas, &sid)
                .map_err(|e| e.to_string())?;
            let ids = names
                .iter()
                .map(|n| {
                    interfaces
                        .iter()
                        .find(|i| i.name == n)
                        .map(|i| i.id)
                        .ok_or_else(|| format!("{host} has no interface {n}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((
                build(&ids),
                vec![Target::Machine {
                    hostname: host.clone(),
                    system_id: sid.clone(),
                }],
            ))
        },
        reason,
        check,
    )
}

/// The host's interfaces hold what `what` says, read fresh.
fn interfaces_hold(
    maas: &str,
    system_id: &str,
    what: String,
    test: impl Fn(&[crate::sources::maas::Interface]) -> Result<String, String> + Send + Sync + 'static,
) -> Check {
    let (maas, sid) = (maas.to_string(), system_id.to_string());
    Check::new(
        what,
        vec![Read::MaasInterfaces {
            profile: maas.clone(),
            system_id: sid.clone(),
        }],
        move |snapshot, _| match snapshot.maas_interfaces(&maas, &sid) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(interfaces) => match test(interfaces) {
                Ok(line) => Poll::Pass(line),
                Err(line) => Poll::Fail(line),
            },
        },
    )
}

fn plan_carve(snapshot: &Snapshot, profile: &Profile, args: &ActionArgs) -> Result<Plan, Refusal> {
    let site = site(profile)?;
    let maas = site.profile.as_str();
    let carve = profile.carve.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!("profile {} has no [carve] section", profile.name))
    })?;
    let name = args
        .host
        .as_deref()
        .ok_or_else(|| Refusal::Precondition("carve needs a host: carve <host>".to_string()))?;
    let host = profile
        .hosts
        .iter()
        .find(|h| h.hostname == name)
        .ok_or_else(|| Refusal::Guard(format!("{name} is not one of the profile's hosts")))?;
    let machines = need(snapshot.maas_machines(maas))?;
    let subnets = need(snapshot.maas_subnets(maas))?;
    let m = machine(machines, name)
        .ok_or_else(|| Refusal::Guard(format!("{name} is not in MAAS: reenroll it first")))?;
    let protected = Protected::resolve(&site.protected, machines, std::iter::empty());
    if let Some(why) = protected.refuses(m) {
        return Err(Refusal::Guard(why));
    }
    let sid = m.system_id.clone();
    let on = HostRef {
        maas,
        sid: &sid,
        name,
    };
    let mut plan = Plan::new("carve");
    plan.resolve(
        format!("host {name}"),
        format!("system_id {sid} ({})", m.status_name),
    );
    if m.status_name != "Ready" {
        return Err(Refusal::Guard(format!(
            "{name} is {}, not Ready: MAAS rejects interface edits and link-subnet on a {} machine",
            m.status_name, m.status_name
        )));
    }
    let interfaces = need(snapshot.maas_interfaces(maas, &sid))?;
    let find = |n: &str| interfaces.iter().find(|i| i.name == n);
    for retired in &carve.forbidden {
        if let Some(i) = find(retired) {
            return Err(Refusal::Guard(format!(
                "{name} still has retired interface {retired} (id {}): Pattern A has none; remove it before carving",
                i.id
            )));
        }
    }
    // Each link's plane and subnet, by CIDR.
    let mut plane_of = std::collections::BTreeMap::new();
    for link in &carve.links {
        let plane = profile.plane(&link.plane).ok_or_else(|| {
            Refusal::Precondition(format!(
                "carve link plane {} is not a profile plane",
                link.plane
            ))
        })?;
        let subnet = crate::resolve::subnet_by_cidr(subnets, plane.cidr).ok_or_else(|| {
            Refusal::Guard(format!(
                "no MAAS subnet {} for plane {}: run the standup first",
                plane.cidr, plane.name
            ))
        })?;
        let vlan = subnet.vlan.as_ref().ok_or_else(|| {
            Refusal::Precondition(format!(
                "subnet {}: vlan not shown (subnets read: vlan)",
                plane.cidr
            ))
        })?;
        plan.resolve(
            format!("plane {} subnet", plane.name),
            format!(
                "{} id {}, vlan id {} (vid {})",
                plane.cidr, subnet.id, vlan.id, vlan.vid
            ),
        );
        plane_of.insert(link.interface.clone(), (plane, subnet, vlan.clone()));
    }
    let mut created: std::collections::BTreeSet<String> = Default::default();
    for want in &carve.structure {
        if let Some(i) = find(&want.name) {
            plan.resolve(
                format!("{name} {}", want.name),
                format!("interface id {}", i.id),
            );
            let problems: Vec<String> = carve_problems_of(want, i);
            if !problems.is_empty() {
                return Err(Refusal::Guard(format!(
                    "{name} {} exists but is not Pattern A ({}): the carve only builds what is missing",
                    want.name,
                    problems.join(", ")
                )));
            }
            // A raw NIC sits on a transient auto-fabric after re-enrollment (004).
            if want.kind == "physical" {
                if let Some((plane, _, vlan)) = plane_of.get(&want.name) {
                    if i.vlan.as_ref().map(|v| v.id) != Some(vlan.id) {
                        let (if_name, vlan_id) = (want.name.clone(), vlan.id);
                        plan.push(
                            Step::run(
                                [
                                    "maas".to_string(),
                                    maas.to_string(),
                                    "interface".into(),
                                    "update".into(),
                                    sid.clone(),
                                    i.id.to_string(),
                                    format!("vlan={}", vlan.id),
                                ],
                                format!("move {} to plane {}'s VLAN", want.name, plane.name),
                                interfaces_hold(
                                    maas,
                                    &sid,
                                    format!("{if_name} on vlan id {vlan_id}"),
                                    move |ifs| match ifs.iter().find(|i| i.name == if_name) {
                                        Some(i)
                                            if i.vlan.as_ref().map(|v| v.id) == Some(vlan_id) =>
                                        {
                                            Ok(format!("{if_name} on vlan id {vlan_id}"))
                                        }
                                        _ => Err(format!("{if_name} is not on vlan id {vlan_id}")),
                                    },
                                ),
                            )
                            .targets([Target::Machine {
                                hostname: name.to_string(),
                                system_id: sid.clone(),
                            }]),
                        );
                    }
                }
            }
            continue;
        }
        let parent = want.parent.clone().ok_or_else(|| {
            Refusal::Guard(format!(
                "{name} has no {} NIC: MAAS discovers physical NICs at commissioning; recommission",
                want.name
            ))
        })?;
        if find(&parent).is_none() && !created.contains(&parent) {
            return Err(Refusal::Guard(format!(
                "{name} {}: its parent {parent} is neither present nor planned",
                want.name
            )));
        }
        let if_name = want.name.clone();
        let exists = {
            let if_name = if_name.clone();
            move |ifs: &[crate::sources::maas::Interface]| match ifs
                .iter()
                .find(|i| i.name == if_name)
            {
                Some(i) => Ok(format!("{if_name} id {}", i.id)),
                None => Err(format!("no {if_name}")),
            }
        };
        let (template, build, reason): (String, Build, String) = match want.kind.as_str() {
            "bridge" => {
                let vlan = plane_of.get(&want.name).map(|(_, _, v)| v.id);
                let bridge_type = want
                    .bridge_type
                    .clone()
                    .unwrap_or_else(|| "standard".into());
                let (maas_s, sid_s, bname) = (maas.to_string(), sid.clone(), want.name.clone());
                let bt = bridge_type.clone();
                (
                    format!(
                        "maas {maas} interfaces create-bridge {sid} name={} parent=<id of {parent}> bridge_type={bridge_type}{}",
                        want.name,
                        vlan.map_or(String::new(), |v| format!(" vlan={v}"))
                    ),
                    Box::new(move |ids: &[i64]| {
                        let mut argv = vec![
                            "maas".to_string(),
                            maas_s.clone(),
                            "interfaces".into(),
                            "create-bridge".into(),
                            sid_s.clone(),
                            format!("name={bname}"),
                            format!("parent={}", ids[0]),
                            format!("bridge_type={bt}"),
                        ];
                        argv.extend(vlan.map(|v| format!("vlan={v}")));
                        argv
                    }),
                    format!("create bridge {} ({bridge_type}) on {parent}", want.name),
                )
            }
            "vlan" => {
                let vid = want.vid.ok_or_else(|| {
                    Refusal::Precondition(format!(
                        "carve structure {}: a vlan needs vid",
                        want.name
                    ))
                })?;
                let vlan = plane_of
                        .values()
                        .map(|(_, _, v)| v)
                        .find(|v| v.vid == i64::from(vid))
                        .ok_or_else(|| {
                            Refusal::Guard(format!(
                                "no carved plane's VLAN has VID {vid}: {} cannot be created (004: metal-internal must be VID {vid})",
                                want.name
                            ))
                        })?
                        .id;
                let (maas_s, sid_s) = (maas.to_string(), sid.clone());
                (
                    format!(
                        "maas {maas} interfaces create-vlan {sid} vlan={vlan} parent=<id of {parent}>"
                    ),
                    Box::new(move |ids: &[i64]| {
                        vec![
                            "maas".to_string(),
                            maas_s.clone(),
                            "interfaces".into(),
                            "create-vlan".into(),
                            sid_s.clone(),
                            format!("vlan={vlan}"),
                            format!("parent={}", ids[0]),
                        ]
                    }),
                    format!(
                        "create VLAN {vid} on {parent} (vlan object id {vlan}, not the VID: 004)"
                    ),
                )
            }
            other => {
                return Err(Refusal::Precondition(format!(
                    "carve structure {}: cannot create a {other}",
                    want.name
                )));
            }
        };
        plan.push(on_interface(
            &on,
            vec![parent.clone()],
            template,
            build,
            reason,
            interfaces_hold(maas, &sid, format!("{} exists", want.name), exists),
        ));
        created.insert(want.name.clone());
    }
    // The statics, each after releasing this host's own DISCOVERED ghost on its IP.
    for link in &carve.links {
        let (plane, subnet, _) = &plane_of[&link.interface];
        let ip = plane.host_address(host.octet).to_string();
        let linked = find(&link.interface).is_some_and(|i| i.static_links().any(|(a, _)| a == ip));
        if linked {
            plan.note(format!(
                "{name} {}: STATIC {ip} already linked",
                link.interface
            ));
            continue;
        }
        let records = need(snapshot.maas_subnet_ips(maas, subnet.id))?;
        for r in records.iter().filter(|r| r.ip == ip) {
            let owner = r
                .node_summary
                .as_ref()
                .and_then(|n| n.system_id.as_deref())
                .filter(|s| !s.is_empty());
            match owner {
                Some(other) if other != sid => {
                    let who = machines
                        .iter()
                        .find(|m| m.system_id == other)
                        .map_or(other.to_string(), |m| format!("{} ({other})", m.hostname));
                    return Err(Refusal::Guard(format!(
                        "{ip} is held by another node, {who} (alloc_type {}): the carve never releases another node's address",
                        r.alloc_type
                    )));
                }
                _ if r.alloc_type == crate::sources::maas::ALLOC_DISCOVERED => {
                    let (maas_s, ip_s) = (maas.to_string(), ip.clone());
                    let subnet_id = subnet.id;
                    plan.push(
                        Step::run(
                            [
                                "maas".to_string(),
                                maas.to_string(),
                                "ipaddresses".into(),
                                "release".into(),
                                format!("ip={ip}"),
                                "force=true".into(),
                                "discovered=true".into(),
                            ],
                            format!(
                                "release {ip}: DISCOVERED (alloc_type 6), {name}'s own commissioning lease on its indexed address; it blocks the STATIC link (004 release_self_indexed; both flags required)"
                            ),
                            Check::new(
                                format!("{ip} no longer DISCOVERED"),
                                vec![Read::MaasSubnetIps {
                                    profile: maas.to_string(),
                                    subnet_id,
                                }],
                                move |snapshot, _| match snapshot.maas_subnet_ips(&maas_s, subnet_id) {
                                    Err(e) => Poll::Fail(e.to_string()),
                                    Ok(records) => {
                                        if records.iter().any(|r| {
                                            r.ip == ip_s
                                                && r.alloc_type == crate::sources::maas::ALLOC_DISCOVERED
                                        }) {
                                            Poll::Fail(format!("{ip_s} still DISCOVERED"))
                                        } else {
                                            Poll::Pass(format!("{ip_s} released"))
                                        }
                                    }
                                },
                            ),
                        )
                        .targets([Target::Maas {
                            what: format!("DISCOVERED record {ip}"),
                            id: ip.clone(),
                        }]),
                    );
                }
                // A record this host owns that is not a link of the wanted interface
                // (a STATIC on another NIC, a reservation): MAAS would refuse the link.
                _ => {
                    return Err(Refusal::Guard(format!(
                        "{ip} is already allocated (alloc_type {}) to {name} elsewhere: resolve it by hand",
                        r.alloc_type
                    )));
                }
            }
        }
        let (maas_s, sid_s, subnet_id, ip_s, if_name) = (
            maas.to_string(),
            sid.clone(),
            subnet.id,
            ip.clone(),
            link.interface.clone(),
        );
        let check_ip = ip.clone();
        let check_if = link.interface.clone();
        plan.push(on_interface(
            &on,
            vec![link.interface.clone()],
            format!(
                "maas {maas} interface link-subnet {sid} <id of {}> mode=STATIC subnet={} ip_address={ip}",
                link.interface, subnet.id
            ),
            move |ids| {
                vec![
                    "maas".to_string(),
                    maas_s.clone(),
                    "interface".into(),
                    "link-subnet".into(),
                    sid_s.clone(),
                    ids[0].to_string(),
                    "mode=STATIC".into(),
                    format!("subnet={subnet_id}"),
                    format!("ip_address={ip_s}"),
                ]
            },
            format!("{} STATIC {ip} on {} ({})", if_name, plane.name, plane.cidr),
            interfaces_hold(maas, &sid, format!("{} holds STATIC {ip}", link.interface), move |ifs| {
                if ifs
                    .iter()
                    .filter(|i| i.name == check_if)
                    .any(|i| i.static_links().any(|(a, _)| a == check_ip))
                {
                    Ok(format!("{check_if} STATIC {check_ip}"))
                } else {
                    Err(format!("{check_if} has no STATIC {check_ip}"))
                }
            }),
        ));
    }
    if !plan.is_empty() {
        let (host, carve, maas_s, sid_s) =
            (host.clone(), carve.clone(), maas.to_string(), sid.clone());
        plan.push(Step::wait(
            format!("{name} carries the whole Pattern A tree"),
            Check::new(
                format!("{name} is carved (P00-CARVE's tree for this host)"),
                vec![Read::MaasInterfaces {
                    profile: maas.to_string(),
                    system_id: sid.clone(),
                }],
                move |snapshot, profile| match snapshot.maas_interfaces(&maas_s, &sid_s) {
                    Err(e) => Poll::Fail(e.to_string()),
                    Ok(ifs) => {
                        let problems = crate::gates::carve_problems(&host, ifs, &carve, profile);
                        if problems.is_empty() {
                            Poll::Pass(format!("{} carved", host.hostname))
                        } else {
                            Poll::Fail(problems.join("; "))
                        }
                    }
                },
            ),
        ));
    }
    Ok(plan)
}

/// How an existing interface differs from the structure entry it should be.
fn carve_problems_of(
    want: &crate::profile::CarveInterface,
    i: &crate::sources::maas::Interface,
) -> Vec<String> {
    let mut problems = Vec::new();
    if i.interface_type != want.kind {
        problems.push(format!("type {} not {}", i.interface_type, want.kind));
    }
    if let Some(bt) = &want.bridge_type {
        if i.bridge_type() != Some(bt.as_str()) {
            problems.push(format!("bridge_type {:?} not {bt}", i.bridge_type()));
        }
    }
    if let Some(p) = &want.parent {
        if !i.parents.iter().any(|x| x == p) {
            problems.push(format!("parents {:?} lack {p}", i.parents));
        }
    }
    problems
}
