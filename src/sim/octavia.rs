//! charm-octavia's `configure-resources` action as the simulator plays it: `juju run
//! -m <model> [--wait=<d>] <octavia>/leader configure-resources`; and
//! charm-octavia-diskimage-retrofit's `retrofit-image source-image=<id>` (see
//! `OctaviaState::retrofit`), which adds the tagged amphora image to glance.
//!
//! What the action does (openstack/charm-octavia stable/2024.1 `src/actions/actions.py`
//! `configure_resources`, `src/lib/charm/openstack/api_crud.py` `get_mgmt_network`,
//! `setup_hm_port`): it creates, through the Neutron API, the network `lb-mgmt-net`,
//! the IPv6 subnet `lb-mgmt-subnetv6` (an RFC 4193 prefix made from the network's id),
//! the router and `lb-mgmt-sec-grp`, each tagged `charm-octavia` and reused when one so
//! tagged exists; then each unit plugs its health-manager port `o-hm0` into br-int
//! (`ovs-vsctl add-port`) and the unit goes active. The simulator has no recording of a
//! cloud mid-way, so it moves to the recorded post-configure moment
//! ([`CONFIGURED_WORLD`], seed 004's step 5.1 result): its lb-mgmt objects join the
//! simulated Neutron, and `juju status` and each unit's `ip -j addr show dev o-hm0`
//! answer as that world recorded them. The o-hm0 bring-up (seed 004: "a transient
//! `ovs-vsctl: no row o-hm0` appeared mid-run ... and self-cleared") is played as the
//! port not existing yet: for [`SimConfig::o_hm0_bringup_reads`] reads each unit's `ip`
//! still answers what the world recorded before the action (`Device "o-hm0" does not
//! exist.`). Where on the live cloud the `ovs-vsctl` line itself surfaced, the change
//! log does not record, so no read here prints it.
//!
//! This part answers only those `juju run`s and, once configure-resources ran, the reads it
//! changed; every other juju argv goes to [`super::juju`]. (The juju part would take
//! the new status itself given a hook like `JujuState::set_status(model, bytes)`; until
//! then this part answers those reads before it.)

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::openstack::OpenstackState;
use super::{Answer, SimConfig};
use crate::sources::openstack::Resource;
use crate::world::World;

/// The recorded moment after configure-resources: octavia/0 active, the lb-mgmt
/// resources present, o-hm0 up with its ULA, no amphora image yet.
pub const CONFIGURED_WORLD: &str = "testcloud/phase05-control-plane-done";

/// The recorded moment after the amphora pipeline: the retrofitted amphora image in
/// glance, ACTIVE, raw, tagged octavia-amphora.
pub const RETROFITTED_WORLD: &str = "testcloud/phase05-complete";

/// The octavia units of one model, as `juju status` lists them.
#[derive(Debug, Clone)]
struct Octavia {
    model: String,
    application: String,
    units: Vec<String>,
    leader: Option<String>,
}

/// The simulated action's state.
#[derive(Debug, Default)]
pub struct OctaviaState {
    /// Octavia applications the world's `juju status` recordings hold.
    deployed: Vec<Octavia>,
    /// octavia-diskimage-retrofit applications: model, application, leader unit.
    retrofits: Vec<(String, String, String)>,
    /// After the action: the answers it changed.
    changed: BTreeMap<Vec<String>, Answer>,
    /// Reads of o-hm0 that still find no device, per argv.
    bringup: BTreeMap<Vec<String>, u32>,
    operations: u32,
}

fn status_argv(model: &str) -> Vec<String> {
    ["juju", "status", "-m", model, "--format=json"]
        .map(String::from)
        .to_vec()
}

/// `juju exec ... -- ip -j addr show dev o-hm0` as the gates read it
/// (`Read::JujuIpAddr`).
fn ip_argv(model: &str, unit: &str) -> Vec<String> {
    crate::snapshot::Read::JujuIpAddr {
        model: model.to_string(),
        unit: unit.to_string(),
        device: "o-hm0".to_string(),
    }
    .invocation()
    .argv()
    .to_vec()
}

/// The applications of charm octavia in a recorded `juju status`, with their units.
fn octavia_in(model: &str, status: &[u8]) -> Vec<Octavia> {
    let Ok(v) = serde_json::from_slice::<Value>(status) else {
        return Vec::new();
    };
    let empty = Map::new();
    v["applications"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .filter(|(_, a)| a["charm-name"] == "octavia" || a["charm"] == "octavia")
        .map(|(name, a)| Octavia {
            model: model.to_string(),
            application: name.clone(),
            units: a["units"]
                .as_object()
                .map(|u| u.keys().cloned().collect())
                .unwrap_or_default(),
            leader: a["units"].as_object().and_then(|u| {
                u.iter()
                    .find(|(_, unit)| unit["leader"] == true)
                    .map(|(n, _)| n.clone())
            }),
        })
        .collect()
}

/// The octavia-diskimage-retrofit applications of a recorded `juju status` and their
/// leader: a subordinate, so its units are listed under their principals'.
fn retrofit_in(model: &str, status: &[u8]) -> Vec<(String, String, String)> {
    let Ok(v) = serde_json::from_slice::<Value>(status) else {
        return Vec::new();
    };
    let empty = Map::new();
    let apps = v["applications"].as_object().unwrap_or(&empty);
    apps.iter()
        .filter(|(_, a)| a["charm-name"] == "octavia-diskimage-retrofit")
        .filter_map(|(name, _)| {
            let prefix = format!("{name}/");
            apps.values()
                .filter_map(|a| a["units"].as_object())
                .flat_map(|units| units.values())
                .filter_map(|u| u["subordinates"].as_object())
                .flat_map(|subs| subs.iter())
                .find(|(unit, s)| unit.starts_with(&prefix) && s["leader"] == true)
                .map(|(unit, _)| (model.to_string(), name.clone(), unit.clone()))
        })
        .collect()
}

fn juju_error(message: &str) -> Answer {
    Answer::fail(1, format!("ERROR {message}\n"))
}

impl OctaviaState {
    pub fn load(world: &World) -> OctaviaState {
        // Each model's recorded `juju status`: (model, stdout).
        let statuses = || {
            world
                .argvs()
                .filter(|a| a.len() == 5 && a[0] == "juju" && a[1] == "status" && a[2] == "-m")
                .filter_map(|a| world.get(a).filter(|r| r.exit == 0).map(|r| (&a[3], r)))
        };
        let deployed = statuses()
            .flat_map(|(model, r)| octavia_in(model, &r.stdout))
            .collect();
        let retrofits = statuses()
            .flat_map(|(model, r)| retrofit_in(model, &r.stdout))
            .collect();
        OctaviaState {
            deployed,
            retrofits,
            ..OctaviaState::default()
        }
    }

    /// Answers the action, and the reads it changed; `None` for anything else.
    pub fn answer(
        &mut self,
        argv: &[String],
        openstack: &mut OpenstackState,
        config: &SimConfig,
    ) -> Option<Answer> {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        if let ["juju", "run", rest @ ..] = a.as_slice() {
            return self.run(rest, openstack, config);
        }
        if let Some(left) = self.bringup.get_mut(argv)
            && *left > 0
        {
            // o-hm0 not plugged yet: the world's own answer (no such device).
            *left -= 1;
            return None;
        }
        self.changed.get(argv).cloned()
    }

    fn run(
        &mut self,
        rest: &[&str],
        openstack: &mut OpenstackState,
        config: &SimConfig,
    ) -> Option<Answer> {
        let (mut model, mut target, mut action) = (None, None, None);
        let mut params = Vec::new();
        let mut it = rest.iter();
        while let Some(w) = it.next() {
            match *w {
                "-m" | "--model" => model = it.next().copied(),
                w if w.starts_with("--wait=") => {}
                w if w.starts_with('-') => return None,
                w if target.is_none() => target = Some(w),
                w if action.is_none() => action = Some(w),
                w => params.push(w.split_once('=')?),
            }
        }
        let (Some(model), Some(target)) = (model, target) else {
            return None;
        };
        match (action, params.as_slice()) {
            (Some("configure-resources"), []) => {}
            (Some("retrofit-image"), params) => {
                return self.retrofit(model, target, params, openstack);
            }
            _ => return None,
        }
        let app = target.strip_suffix("/leader").unwrap_or(target);
        let octavia = self
            .deployed
            .iter()
            .find(|o| o.model == model && o.application == app)?
            .clone();
        // cmd/juju/action/run.go resolves `<app>/leader` through the controller.
        let Some(leader) = octavia.leader.clone() else {
            return Some(juju_error(&format!(
                "could not determine leader for {:?}",
                octavia.application
            )));
        };
        let configured = World::embedded(CONFIGURED_WORLD).ok()?;
        let after = configured.get(&status_argv(model))?;
        let shape: Vec<Vec<String>> = octavia_in(model, &after.stdout)
            .into_iter()
            .map(|o| o.units)
            .collect();
        if shape != [octavia.units.clone()] {
            return Some(juju_error(&format!(
                "stackgate simulator: configure-resources on {} unit(s) {} has no recorded post-configure world ({CONFIGURED_WORLD} holds {shape:?})",
                octavia.application,
                octavia.units.join(", ")
            )));
        }
        for (resource, words) in [
            (Resource::Network, &["network", "show", "lb-mgmt-net"][..]),
            (
                Resource::Subnet,
                &["subnet", "show", "lb-mgmt-subnetv6"][..],
            ),
            (
                Resource::SecurityGroup,
                &["security", "group", "show", "lb-mgmt-sec-grp"][..],
            ),
        ] {
            let argv: Vec<String> = std::iter::once("openstack")
                .chain(words.iter().copied())
                .chain(["-f", "json"])
                .map(String::from)
                .collect();
            if let Some(Value::Object(doc)) = configured
                .get(&argv)
                .and_then(|r| serde_json::from_slice(&r.stdout).ok())
            {
                openstack.adopt(resource, doc);
            }
        }
        let answer = |r: &crate::world::Recording| Answer {
            exit: r.exit,
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
        };
        self.changed.insert(status_argv(model), answer(after));
        for unit in &octavia.units {
            let ip = ip_argv(model, unit);
            if let Some(r) = configured.get(&ip) {
                self.changed.insert(ip.clone(), answer(r));
                self.bringup.entry(ip).or_insert(config.o_hm0_bringup_reads);
            }
        }
        Some(self.ran(&leader))
    }

    /// cmd/juju/action/run.go: the operation and its task on stderr while it waits; the
    /// action sets no results, so nothing on stdout.
    fn ran(&mut self, leader: &str) -> Answer {
        self.operations += 1;
        let (op, task) = (self.operations * 2 + 9, self.operations * 2 + 10);
        Answer {
            exit: 0,
            stdout: Default::default(),
            stderr: format!(
                "Running operation {op} with 1 task\n  - task {task} on unit-{}\n\nWaiting for task {task}...\n",
                leader.replace('/', "-")
            )
            .into_bytes(),
        }
    }

    /// charm-octavia-diskimage-retrofit's `retrofit-image source-image=<id>`: the charm
    /// downloads the glance image `<id>`, retrofits it with the amphora agent and uploads
    /// the result tagged with its amp-image-tag in its image-format. The simulator has
    /// no recording of a retrofit mid-way: glance gains the amphora image the recorded
    /// exit world ([`RETROFITTED_WORLD`], seed 004 step 5.2) holds. A source image
    /// glance does not hold active fails the task.
    fn retrofit(
        &mut self,
        model: &str,
        target: &str,
        params: &[(&str, &str)],
        openstack: &mut OpenstackState,
    ) -> Option<Answer> {
        let app = target.strip_suffix("/leader")?;
        let leader = self
            .retrofits
            .iter()
            .find(|(m, a, _)| m == model && a == app)
            .map(|(_, _, l)| l.clone())?;
        let source = match params {
            [("source-image", id)] if !id.is_empty() => *id,
            _ => {
                return Some(juju_error(&format!(
                    "stackgate simulator: retrofit-image is modelled with source-image=<glance id> only, not {params:?}"
                )));
            }
        };
        if !openstack.image_active(source) {
            return Some(juju_error(&format!(
                "the following task failed:\n task on unit-{}: glance holds no active image {source} to retrofit",
                leader.replace('/', "-")
            )));
        }
        let world = World::embedded(RETROFITTED_WORLD).ok()?;
        let images = world
            .argvs()
            .filter(|a| a.len() == 6 && a[0] == "openstack" && a[1] == "image" && a[2] == "show")
            .filter_map(|a| world.get(a))
            .filter_map(|r| serde_json::from_slice::<Value>(&r.stdout).ok());
        for image in images {
            if let Value::Object(doc) = image {
                openstack.adopt_image(doc);
            }
        }
        Some(self.ran(&leader))
    }
}
