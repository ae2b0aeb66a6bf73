//! Phase-05 action: octavia-configure-resources, seed 004 Step 5.1: `juju run
//! octavia/leader configure-resources --wait=20m` once P05-PRE says PROCEED (every
//! octavia unit blocked awaiting it, the lb-mgmt resources absent), then P05-POST
//! polled until it holds.
//!
//! - juju 3.6 `juju run` (juju/juju `cmd/juju/action/run.go`, `runCommandBase`):
//!   `<unit>|<app>/leader <action>`, `-m <model>`; it waits for the task unless
//!   `--background`, for `--wait` at most (0 means the 60 s default), and exits non-zero
//!   when the task fails or the wait runs out. The seed's `--wait=20m` is kept.
//! - the action (openstack/charm-octavia stable/2024.1 `actions.yaml`
//!   `configure-resources`, no parameters) creates lb-mgmt-net, lb-mgmt-subnetv6,
//!   lb-mgmt-sec-grp (and the router) and each unit's o-hm0 health-manager port.
//! - o-hm0 comes up after the action (seed 004: "a transient `ovs-vsctl: no row o-hm0`
//!   appeared mid-run ... and self-cleared"): P05-POST failing while the port comes up
//!   is waited out, three passes in a row within 20 minutes; still failing at the bound
//!   is the step's failure, naming what P05-POST saw last.
//!
//! Idempotent: once octavia is active P05-PRE is SKIP (ALREADY-CONFIGURED) and nothing
//! is planned; blocked with the resources already there is P05-PRE's anomaly, refused.
//!
//! amphora-pipeline, seed 004 Step 5.2 (`phase-05-amphora-pipeline.sh`, D-056: a
//! consequential mutation scripted because it is idempotent and self-gating):
//! - P05-CONFIG first: the retrofit must use internal endpoints, upload raw and tag
//!   with octavia's amp-image-tag, or the amphora it builds is one octavia cannot use
//!   (refused otherwise, whatever glance holds);
//! - P05-AMPHORA PASS (exactly one ACTIVE tagged image): nothing to do; anything but
//!   CONTROL-PLANE-DONE: refused;
//! - the base image (`[phase05.amphora_base]`, found in glance by name with `image
//!   show`) present and active: the retrofit alone, nothing downloaded or uploaded;
//! - absent: the download in-process (ureq over rustls, [`super::download`]) from the
//!   profile's URL, its sha256 checked against the published SHA256SUMS before the
//!   file is moved into place (a mismatch fails the step, so the upload never runs);
//!   `openstack image create --disk-format qcow2 --container-format bare --file F -f
//!   json NAME` (python-openstackclient image v2); the retrofit on the id glance gave
//!   it, resolved by name when the step runs;
//! - the retrofit: `juju run -m M --wait=30m <retrofit>/leader retrofit-image
//!   source-image=<id>` (openstack/charm-octavia-diskimage-retrofit `actions.yaml`;
//!   seed 004 waited 30 minutes), then P05-AMPHORA PASS, polled.

use std::time::Duration;

use super::checks::{gate_holds, gate_passes, verdict};
use super::plan::{Check, Native, Plan, Step, Target};
use super::wait::{Poll, WaitPolicy};
use super::{Action, ActionArgs, Refusal, need};
use crate::gates::{Status, by_id};
use crate::profile::{AmphoraBase, Phase05, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::Presence;

/// juju's wait for the action's task, as seed 004 ran it.
const JUJU_WAIT: &str = "20m";
/// The runner's bound on that `juju run`: juju's own 20 minutes and a minute to report.
const JUJU_RUN_TIMEOUT: Duration = Duration::from_secs(21 * 60);

/// A poll every 10 s, `passes` in a row, for at most `minutes`.
fn every_ten_seconds(passes: u32, minutes: u64) -> WaitPolicy {
    WaitPolicy {
        passes,
        interval: Duration::from_secs(10),
        bound: Duration::from_secs(minutes * 60),
    }
}

/// P05-POST after the action: the o-hm0 bring-up is waited out within 20 minutes.
fn bring_up() -> WaitPolicy {
    every_ten_seconds(3, 20)
}

pub static ACTIONS: [Action; 2] = [
    Action {
        name: "octavia-configure-resources",
        phase: "05",
        description: "Step 5.1: juju run <octavia>/leader configure-resources --wait=20m once P05-PRE is PROCEED; then P05-POST, the o-hm0 bring-up waited out",
        destructive: false,
        guards: "P05-PRE is PROCEED: every octavia unit blocked awaiting configure-resources, lb-mgmt-net, lb-mgmt-subnetv6 and lb-mgmt-sec-grp absent",
        takes_host: false,
        reads: |profile, _| by_id("P05-PRE").map_or_else(Vec::new, |g| (g.reads)(profile)),
        follow_up: super::no_follow_up,
        plan: plan_configure_resources,
    },
    Action {
        name: "amphora-pipeline",
        phase: "05",
        description: "Step 5.2: P05-CONFIG first; the amphora present: nothing; the base image in glance: retrofit-image only; else download in-process, sha256-verify against the published SHA256SUMS, upload, retrofit; then P05-AMPHORA PASS",
        destructive: false,
        guards: "P05-CONFIG PASS; P05-AMPHORA CONTROL-PLANE-DONE (PASS: nothing to do); the base image, when present, active",
        takes_host: false,
        reads: amphora_reads,
        follow_up: |s, p, _| {
            by_id("P05-AMPHORA")
                .and_then(|g| g.follow_up)
                .map_or_else(Vec::new, |f| f(s, p))
        },
        plan: plan_amphora_pipeline,
    },
];

/// The profile's `[phase05]`, or the PRECONDITION naming its absence.
fn phase05_of(profile: &Profile) -> Result<&Phase05, Refusal> {
    profile.phase05.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!("profile {} has no [phase05] section", profile.name))
    })
}

fn plan_configure_resources(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let p5 = phase05_of(profile)?;
    let pre = by_id("P05-PRE")
        .expect("stackgate bug: no gate P05-PRE")
        .run(snapshot, profile);
    let mut plan = Plan::new("octavia-configure-resources");
    let label = pre.outcome.as_deref().unwrap_or(pre.status.label());
    let line = format!("P05-PRE {label}: {}", pre.summary);
    plan.resolve("P05-PRE", line.clone());
    match pre.status {
        Status::Proceed => {}
        Status::Skip => {
            plan.note(format!(
                "{line}; nothing to do (P05-POST checks the control plane)"
            ));
            return Ok(plan);
        }
        Status::Precondition => return Err(Refusal::Precondition(line)),
        _ => {
            return Err(Refusal::Guard(format!(
                "{line}; configure-resources runs only on P05-PRE PROCEED"
            )));
        }
    }
    let mut check = gate_holds("P05-POST", profile).polled(bring_up());
    check.describe = format!(
        "P05-POST holds: {} active, the lb-mgmt resources present, {} up with its ULA on every unit (its bring-up, ovs-vsctl's \"no row {}\" until the port exists, waited out)",
        p5.octavia, p5.mgmt_interface, p5.mgmt_interface
    );
    plan.push(
        Step::run(
            [
                "juju",
                "run",
                "-m",
                &profile.model,
                &format!("--wait={JUJU_WAIT}"),
                &format!("{}/leader", p5.octavia),
                "configure-resources",
            ],
            format!(
                "Step 5.1: charm-octavia creates {}, {}, {} and each unit's {} (juju waits up to {JUJU_WAIT} for the task)",
                p5.lb_mgmt_network, p5.lb_mgmt_subnet, p5.lb_mgmt_security_group, p5.mgmt_interface
            ),
            check,
        )
        .targets([Target::Model {
            name: profile.model.clone(),
        }])
        .timeout(JUJU_RUN_TIMEOUT),
    );
    Ok(plan)
}

/// juju's wait for the retrofit's task, as seed 004 ran it (it builds the amphora).
const RETROFIT_WAIT: &str = "30m";
/// The runner's bound on that `juju run`: juju's own 30 minutes and a minute to report.
const RETROFIT_RUN_TIMEOUT: Duration = Duration::from_secs(31 * 60);
/// The base image's download and upload (a jammy cloud image is ~650 MB).
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// P05-AMPHORA after the retrofit: glance may take a moment to show the upload active.
fn amphora_settle() -> WaitPolicy {
    every_ten_seconds(1, 10)
}

fn amphora_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let mut reads: Vec<Read> = ["P05-CONFIG", "P05-AMPHORA"]
        .iter()
        .filter_map(|id| by_id(id))
        .flat_map(|g| (g.reads)(profile))
        .collect();
    if let Some(base) = profile
        .phase05
        .as_ref()
        .and_then(|p| p.amphora_base.as_ref())
    {
        reads.push(base_read(base));
    }
    reads
}

/// `openstack image show <name> -f json`: glance finds the base image by name.
fn base_read(base: &AmphoraBase) -> Read {
    Read::OpenstackImage {
        id: base.name.clone(),
    }
}

/// Where the verified download lands.
fn base_path(base: &AmphoraBase) -> Result<String, Refusal> {
    let name = super::download::file_name(&base.url)
        .map_err(|e| Refusal::Precondition(format!("phase05.amphora_base.url: {e}")))?;
    Ok(std::path::Path::new(&base.download_dir)
        .join(name)
        .display()
        .to_string())
}

/// The origin (`http://127.0.0.1:40633`) of a URL on this machine's loopback, which
/// only a server of this process (the simulator's) answers.
fn loopback_origin(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.host_str()
        .is_some_and(|h| h == "127.0.0.1" || h == "[::1]" || h == "localhost")
        .then(|| url.origin().ascii_serialization())
}

fn plan_amphora_pipeline(
    snapshot: &Snapshot,
    profile: &Profile,
    _: &ActionArgs,
) -> Result<Plan, Refusal> {
    let p5 = phase05_of(profile)?;
    let mut plan = Plan::new("amphora-pipeline");
    // A loopback image server is this process's own (the simulator's): its port and
    // download directory differ per run, so the fingerprint masks them.
    if let Some(base) = p5.amphora_base.as_ref()
        && let Some(origin) = loopback_origin(&base.url)
    {
        plan.volatile.push(origin);
        plan.volatile.push(base.download_dir.clone());
    }
    let (config, line) = verdict("P05-CONFIG", snapshot, profile);
    plan.resolve("P05-CONFIG", line.clone());
    match config {
        Status::Pass => {}
        Status::Precondition => return Err(Refusal::Precondition(line)),
        _ => {
            return Err(Refusal::Guard(format!(
                "{line}; the amphora pipeline runs only on P05-CONFIG PASS (a retrofit with these options builds an amphora octavia cannot boot)"
            )));
        }
    }
    let (amphora, line) = verdict("P05-AMPHORA", snapshot, profile);
    plan.resolve("P05-AMPHORA", line.clone());
    match amphora {
        Status::Pass => {
            plan.note(format!(
                "{line}; nothing to do: the amphora is ACTIVE and tagged {}",
                p5.amp_image_tag
            ));
            return Ok(plan);
        }
        Status::Proceed => {}
        Status::Precondition => return Err(Refusal::Precondition(line)),
        _ => {
            return Err(Refusal::Guard(format!(
                "{line}; the amphora pipeline runs only on P05-AMPHORA CONTROL-PLANE-DONE (the control plane up, no image tagged {})",
                p5.amp_image_tag
            )));
        }
    }
    let base = p5.amphora_base.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!(
            "profile {} has no [phase05.amphora_base]: the base image's name, URL and SHA256SUMS URL",
            profile.name
        ))
    })?;
    let key = format!("base image {}", base.name);
    match need(snapshot.openstack_image(&base.name))? {
        Presence::Present(image) if image.status == "active" => {
            plan.resolve(
                key,
                format!(
                    "{} (active, {})",
                    image.id,
                    image.disk_format.as_deref().unwrap_or("no disk_format")
                ),
            );
            plan.note(format!(
                "base image {} ({}) is in glance: retrofit only; nothing is downloaded or uploaded",
                base.name, image.id
            ));
            let argv = retrofit_argv(profile, p5, &image.id);
            plan.push(
                Step::run(argv, retrofit_reason(p5, base), amphora_check(profile, p5))
                    .targets([Target::Model {
                        name: profile.model.clone(),
                    }])
                    .timeout(RETROFIT_RUN_TIMEOUT),
            );
        }
        Presence::Present(image) => {
            return Err(Refusal::Guard(format!(
                "base image {} ({}) is {}, not active: a half-run upload? Delete it or let it finish; the pipeline neither retrofits nor replaces it",
                base.name, image.id, image.status
            )));
        }
        Presence::Absent { message } => {
            plan.resolve(key, format!("absent ({message})"));
            push_fresh(&mut plan, profile, p5, base)?;
        }
    }
    Ok(plan)
}

fn retrofit_argv(profile: &Profile, p5: &Phase05, id: &str) -> Vec<String> {
    [
        "juju",
        "run",
        "-m",
        &profile.model,
        &format!("--wait={RETROFIT_WAIT}"),
        &format!("{}/leader", p5.retrofit),
        "retrofit-image",
        &format!("source-image={id}"),
    ]
    .map(String::from)
    .to_vec()
}

fn retrofit_reason(p5: &Phase05, base: &AmphoraBase) -> String {
    format!(
        "Step 5.2: {} retrofits {} into the amphora, uploaded {} and tagged {} (juju waits up to {RETROFIT_WAIT} for the task)",
        p5.retrofit, base.name, p5.image_format, p5.amp_image_tag
    )
}

fn amphora_check(profile: &Profile, p5: &Phase05) -> Check {
    let mut check = gate_passes("P05-AMPHORA", profile).polled(amphora_settle());
    check.describe = format!(
        "P05-AMPHORA PASS: exactly one ACTIVE image tagged {}",
        p5.amp_image_tag
    );
    check
}

/// The fresh path: download and verify, upload, retrofit the id glance gave it.
fn push_fresh(
    plan: &mut Plan,
    profile: &Profile,
    p5: &Phase05,
    base: &AmphoraBase,
) -> Result<(), Refusal> {
    let path = base_path(base)?;
    let (url, sums_url, file) = (base.url.clone(), base.sums_url.clone(), path.clone());
    let verified = Check::new(
        format!(
            "{path} holds the sha256 {} publishes for it (hashed again from disk)",
            base.sums_url
        ),
        Vec::new(),
        move |_, _| match super::download::verify_on_disk(
            std::path::Path::new(&file),
            &url,
            &sums_url,
            Duration::from_secs(60),
        ) {
            Ok(v) => Poll::Pass(format!("{}: {} bytes, sha256 {}", file, v.bytes, v.sha256)),
            Err(e) => Poll::Fail(e.to_string()),
        },
    );
    plan.push(
        Step::native(
            Native::DownloadVerified {
                url: base.url.clone(),
                sums_url: base.sums_url.clone(),
                dir: base.download_dir.clone(),
                max_bytes: base.max_bytes,
            },
            format!(
                "base image {} is not in glance: fetch it; a digest that is not the published one removes the download and stops the pipeline before any upload",
                base.name
            ),
            verified,
        )
        .targets([Target::File { path: path.clone() }])
        .timeout(TRANSFER_TIMEOUT),
    );
    let name = base.name.clone();
    let uploaded = Check::new(
        format!("glance shows {} active", base.name),
        vec![base_read(base)],
        move |snapshot, _| match snapshot.openstack_image(&name) {
            Ok(Presence::Present(i)) if i.status == "active" => {
                Poll::Pass(format!("image {} ({}) active", i.name, i.id))
            }
            Ok(Presence::Present(i)) => {
                Poll::Fail(format!("image {} ({}) is {}", i.name, i.id, i.status))
            }
            Ok(Presence::Absent { message }) => Poll::Fail(message.clone()),
            Err(e) => Poll::Fail(e.to_string()),
        },
    );
    plan.push(
        Step::run(
            [
                "openstack",
                "image",
                "create",
                "--disk-format",
                &base.disk_format,
                "--container-format",
                "bare",
                "--file",
                &path,
                "-f",
                "json",
                &base.name,
            ],
            format!("upload the verified {path} to glance as {}", base.name),
            uploaded,
        )
        .timeout(TRANSFER_TIMEOUT),
    );
    let (model, retrofit, name) = (
        profile.model.clone(),
        p5.retrofit.clone(),
        base.name.clone(),
    );
    plan.push(
        Step::resolved(
            format!(
                "juju run -m {model} --wait={RETROFIT_WAIT} {retrofit}/leader retrofit-image source-image=<id of {name}>"
            ),
            vec![base_read(base)],
            move |snapshot, profile| {
                let p5 = profile
                    .phase05
                    .as_ref()
                    .ok_or("the profile has no [phase05] section")?;
                match snapshot.openstack_image(&name).map_err(|e| e.to_string())? {
                    Presence::Present(i) if i.status == "active" => Ok((
                        retrofit_argv(profile, p5, &i.id),
                        vec![Target::Model {
                            name: profile.model.clone(),
                        }],
                    )),
                    Presence::Present(i) => Err(format!("image {name} ({}) is {}", i.id, i.status)),
                    Presence::Absent { message } => Err(message.clone()),
                }
            },
            retrofit_reason(p5, base),
            amphora_check(profile, p5),
        )
        .targets([Target::Model {
            name: profile.model.clone(),
        }])
        .timeout(RETROFIT_RUN_TIMEOUT),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::runner::Logged;
    use crate::sim::{Sim, SimConfig};
    use crate::snapshot::Reader;
    use crate::world::World;

    fn pipeline() -> &'static Action {
        ACTIONS
            .iter()
            .find(|a| a.name == "amphora-pipeline")
            .expect("registered")
    }

    /// The planner's read of a simulated world, as the executor takes it.
    async fn plan_on(world: &str, profile: &Profile) -> Result<Plan, Refusal> {
        let world = World::embedded(&format!("testcloud/{world}")).unwrap();
        let sim = Sim::new(world, &profile.maas_profile(), SimConfig::default()).unwrap();
        let reader = Reader::new(Arc::new(Logged::new(sim)), Duration::from_secs(10));
        let (action, args) = (pipeline(), ActionArgs::default());
        let mut snapshot = Snapshot::collect(&reader, (action.reads)(profile, &args)).await;
        let more = (action.follow_up)(&snapshot, profile, &args);
        snapshot.extend(&reader, more).await;
        (action.plan)(&snapshot, profile, &args)
    }

    fn commands(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(Step::command).collect()
    }

    #[tokio::test]
    async fn fresh_plans_download_then_upload_then_the_retrofit_by_name() {
        let profile = Profile::testcloud();
        let plan = plan_on("phase05-control-plane-done", &profile)
            .await
            .unwrap();
        assert_eq!(
            commands(&plan),
            [
                "(in-process) download https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img into /var/tmp/stackgate-amphora, sha256 verified against https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS",
                "openstack image create --disk-format qcow2 --container-format bare --file /var/tmp/stackgate-amphora/jammy-server-cloudimg-amd64.img -f json jammy-amphora-base",
                "juju run -m openstack --wait=30m octavia-diskimage-retrofit/leader retrofit-image source-image=<id of jammy-amphora-base>",
            ]
        );
        assert!(plan.steps[0].native.is_some() && plan.steps[0].argv.is_none());
        assert!(plan.steps[2].argv_from.is_some(), "the id is resolved late");
        assert_eq!(
            plan.resolved["base image jammy-amphora-base"],
            "absent (No Image found for jammy-amphora-base)"
        );
        assert!(plan.resolved["P05-CONFIG"].starts_with("P05-CONFIG PASS"));
        assert!(!plan.destructive());
    }

    #[tokio::test]
    async fn a_base_image_in_glance_plans_the_retrofit_alone_with_its_id() {
        let profile = Profile::testcloud();
        let plan = plan_on("phase05-base-present", &profile).await.unwrap();
        assert_eq!(
            commands(&plan),
            [
                "juju run -m openstack --wait=30m octavia-diskimage-retrofit/leader retrofit-image source-image=6ed034f7-10b0-4231-adcd-89e36ff79901"
            ]
        );
        assert!(plan.steps.iter().all(|s| s.native.is_none()));
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("nothing is downloaded or uploaded"))
        );
        assert_eq!(
            plan.steps[0].check.describe,
            "P05-AMPHORA PASS: exactly one ACTIVE image tagged octavia-amphora"
        );
    }

    #[tokio::test]
    async fn the_amphora_present_plans_nothing_and_says_so() {
        let plan = plan_on("phase05-complete", &Profile::testcloud())
            .await
            .unwrap();
        assert!(plan.is_empty());
        assert!(
            plan.notes[0].contains("nothing to do: the amphora is ACTIVE and tagged"),
            "{:?}",
            plan.notes
        );
    }

    #[tokio::test]
    async fn the_config_gate_comes_first_even_with_the_amphora_present() {
        for world in ["phase05-image-format-qcow2", "phase05-amp-image-tag-unset"] {
            match plan_on(world, &Profile::testcloud()).await {
                Err(Refusal::Guard(why)) => {
                    assert!(why.starts_with("P05-CONFIG FAIL"), "{why}");
                    assert!(why.contains("runs only on P05-CONFIG PASS"), "{why}");
                }
                other => panic!("{world}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_control_plane_not_done_is_refused_and_an_unreadable_one_is_a_precondition() {
        match plan_on("phase05-entry", &Profile::testcloud()).await {
            Err(Refusal::Guard(why)) => {
                assert!(
                    why.contains("runs only on P05-AMPHORA CONTROL-PLANE-DONE"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            plan_on("phase05-no-openrc", &Profile::testcloud()).await,
            Err(Refusal::Precondition(_))
        ));
    }

    #[tokio::test]
    async fn without_an_amphora_base_section_it_will_not_plan() {
        let mut profile = Profile::testcloud();
        profile.phase05.as_mut().unwrap().amphora_base = None;
        match plan_on("phase05-control-plane-done", &profile).await {
            Err(Refusal::Precondition(why)) => {
                assert!(why.contains("[phase05.amphora_base]"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        // Nothing to do needs no base image.
        assert!(
            plan_on("phase05-complete", &profile)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn only_a_loopback_origin_is_masked() {
        for (url, origin) in [
            (
                "http://127.0.0.1:40633/jammy/x.img",
                Some("http://127.0.0.1:40633"),
            ),
            ("http://[::1]:8080/x.img", Some("http://[::1]:8080")),
            ("http://localhost:9/x.img", Some("http://localhost:9")),
            ("https://cloud-images.ubuntu.com/jammy/x.img", None),
            ("http://127.0.0.2/x.img", None),
            ("not a url", None),
        ] {
            assert_eq!(loopback_origin(url).as_deref(), origin, "{url}");
        }
    }

    #[tokio::test]
    async fn an_unreadable_config_gate_is_a_precondition() {
        // phase04-before-create records no `juju config` of the retrofit or octavia.
        match plan_on("phase04-before-create", &Profile::testcloud()).await {
            Err(Refusal::Precondition(why)) => {
                assert!(why.starts_with("P05-CONFIG PRECONDITION"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_retrofit_says_what_it_builds_and_each_id_must_be_an_active_image() {
        let profile = Profile::testcloud();
        let plan = plan_on("phase05-control-plane-done", &profile)
            .await
            .unwrap();
        let reason = &plan.steps[2].reason;
        for word in [
            "octavia-diskimage-retrofit",
            "jammy-amphora-base",
            "raw",
            "octavia-amphora",
            "30m",
        ] {
            assert!(reason.contains(word), "{reason} lacks {word}");
        }
        let base = profile
            .phase05
            .as_ref()
            .and_then(|p| p.amphora_base.as_ref())
            .unwrap();
        let with = |status: &str| {
            let image = crate::sources::openstack::Image {
                id: "6ed034f7-10b0-4231-adcd-89e36ff79901".into(),
                name: base.name.clone(),
                status: status.into(),
                tags: Vec::new(),
                disk_format: Some("qcow2".into()),
                visibility: Some("shared".into()),
            };
            Snapshot::from_parts("test").with(
                base_read(base),
                Ok(crate::snapshot::Value::OpenstackImage(Arc::new(
                    Presence::Present(image),
                ))),
            )
        };
        // The upload's post-condition: glance shows it active, not queued or saving.
        let uploaded = &plan.steps[1].check;
        assert!(matches!(
            (uploaded.verify)(&with("active"), &profile),
            Poll::Pass(_)
        ));
        assert!(matches!(
            (uploaded.verify)(&with("saving"), &profile),
            Poll::Fail(_)
        ));
        // The retrofit's id, resolved when it runs: an active image only.
        let late = plan.steps[2].argv_from.as_ref().unwrap();
        let (argv, _) = (late.resolve)(&with("active"), &profile).unwrap();
        assert!(argv.contains(&"source-image=6ed034f7-10b0-4231-adcd-89e36ff79901".to_string()));
        let why = (late.resolve)(&with("queued"), &profile).unwrap_err();
        assert!(why.contains("is queued"), "{why}");
    }

    #[tokio::test]
    async fn a_base_image_not_active_is_refused() {
        let profile = Profile::testcloud();
        let world = World::embedded("testcloud/phase05-base-present").unwrap();
        let sim = Sim::new(world, "admin", SimConfig::default()).unwrap();
        let reader = Reader::new(Arc::new(Logged::new(sim)), Duration::from_secs(10));
        let (action, args) = (pipeline(), ActionArgs::default());
        let mut snapshot = Snapshot::collect(&reader, (action.reads)(&profile, &args)).await;
        let more = (action.follow_up)(&snapshot, &profile, &args);
        snapshot.extend(&reader, more).await;
        let base = profile
            .phase05
            .as_ref()
            .unwrap()
            .amphora_base
            .as_ref()
            .unwrap();
        let queued = crate::sources::openstack::Image {
            id: "6ed034f7-10b0-4231-adcd-89e36ff79901".into(),
            name: base.name.clone(),
            status: "queued".into(),
            tags: Vec::new(),
            disk_format: Some("qcow2".into()),
            visibility: Some("shared".into()),
        };
        let snapshot = snapshot.with(
            base_read(base),
            Ok(crate::snapshot::Value::OpenstackImage(Arc::new(
                Presence::Present(queued),
            ))),
        );
        match (action.plan)(&snapshot, &profile, &args) {
            Err(Refusal::Guard(why)) => assert!(why.contains("is queued, not active"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
