//! The strings the real charms print, exactly as upstream prints them, fed through the
//! gates that match them (issue 8, section 1: a prefix match let P05-PRE PROCEED and
//! P03-ACCEPT allow charm-octavia's awaiting state joined with its certificate state, and
//! a substring match let P02-C pass a mysql cluster with " 1 member is not active.").
//!
//! Each row names the upstream repository and file that print the string and the
//! verdict each gate gives on it. The workload status is set on a unit of an embedded
//! world's `juju status` (every other unit as recorded), so the gates read it exactly as
//! they read a live cloud. haproxy's `show stat` status vocabulary (haproxy/haproxy
//! v2.8.0 src/stats.c, src/listener.c), which P03-HAPROXY reads, is held the same way in
//! `src/sources/haproxy.rs`'s tests.

use std::sync::Arc;

use serde_json::Value;
use stackgate::gates::{self, Status};
use stackgate::profile::Profile;
use stackgate::runner::{DEFAULT_TIMEOUT, Logged, Replay};
use stackgate::snapshot::{Reader, Snapshot};
use stackgate::sources::juju::{JujuStatus, status_invocation};
use stackgate::world::World;

const OCTAVIA: &str = "openstack/charm-octavia (stable/2024.1) src/lib/charm/openstack/octavia.py";
const CHARMS_OPENSTACK: &str =
    "openstack/charms.openstack (stable/caracal) charms_openstack/charm/core.py";
const GLANCE_SYNC: &str =
    "openstack/charm-glance-simplestreams-sync (stable/2024.1) files/glance_simplestreams_sync.py";
const GLANCE_HOOKS: &str =
    "openstack/charm-glance-simplestreams-sync (stable/2024.1) hooks/hooks.py";
const JUJU_STATUS: &str = "juju/juju core/status/status.go";
const JUJU_RUNHOOK: &str = "juju/juju worker/uniter/operation/runhook.go";
const MYSQL_CHARM: &str = "openstack/charm-mysql-innodb-cluster (stable/jammy) src/lib/charm/openstack/mysql_innodb_cluster.py";
const MYSQL_SHELL: &str = "mysql/mysql-shell modules/adminapi/cluster/status.cc";

// charm-octavia `BaseOctaviaCharm.states_to_check`, all blocked.
const OCTAVIA_LEADER: &str =
    "Awaiting end-user execution of `configure-resources` action to create required resources";
const OCTAVIA_NON_LEADER: &str = "Awaiting leader to create required resources";
const OCTAVIA_NO_CREATE: &str =
    "Awaiting end-user to create required resources and execute `configure-resources` action";
const OCTAVIA_CERTS: &str =
    "Missing required certificate configuration, please examine documentation";
const OCTAVIA_HM_PORT: &str = "Virtual network for access to Amphorae is down";
// charm-octavia `custom_assess_status_last_check`.
const OCTAVIA_NO_ADDRESS: &str = "no address on mgmt interface";

/// One unit's workload status as a charm sets it.
struct Set {
    unit: &'static str,
    workload: &'static str,
    message: String,
}

fn set(unit: &'static str, workload: &'static str, message: impl Into<String>) -> Set {
    Set {
        unit,
        workload,
        message: message.into(),
    }
}

/// A row: where upstream prints the message(s), what is set, and the verdicts.
struct Row {
    source: &'static str,
    sets: Vec<Set>,
    want: &'static [(&'static str, Status)],
}

/// The raw `juju status` of an embedded world, as JSON.
fn world_status(world: &World) -> Value {
    let argv = status_invocation(&Profile::testcloud().model)
        .argv()
        .to_vec();
    let recording = world.get(&argv).expect("the world holds juju status");
    serde_json::from_slice(&recording.stdout).expect("juju status is JSON")
}

/// Sets a unit's workload status (principal or subordinate) the way juju prints it:
/// `message` omitted when empty.
fn apply(doc: &mut Value, s: &Set) {
    let app = s.unit.split('/').next().unwrap();
    let unit = &mut doc["applications"][app]["units"][s.unit];
    assert!(
        unit.is_object(),
        "{} is not a principal unit of the world",
        s.unit
    );
    let mut status = serde_json::json!({"current": s.workload, "since": "27 Jun 2026 16:30:00Z"});
    if !s.message.is_empty() {
        status["message"] = Value::String(s.message.clone());
    }
    unit["workload-status"] = status;
}

/// Runs every row's gates on `world` with the row's statuses set, and checks each verdict.
async fn check(world_name: &str, rows: &[Row]) {
    let profile = Profile::testcloud();
    let world = World::embedded(&format!("testcloud/{world_name}")).expect("embedded world");
    let reader = Reader::new(
        Arc::new(Logged::new(Replay::new(world.clone()))),
        DEFAULT_TIMEOUT,
    );
    let mut failures = Vec::new();
    for row in rows {
        let mut doc = world_status(&world);
        for s in &row.sets {
            apply(&mut doc, s);
        }
        let status: JujuStatus = serde_json::from_value(doc).expect("still juju's shape");
        for (id, want) in row.want {
            let gate = gates::by_id(id).expect(id);
            let snapshot = Snapshot::collect(&reader, (gate.reads)(&profile))
                .await
                .with_juju_status(&profile.model, Ok(status.clone()));
            // As a run judges it, on a fixed date: the profile's FINDING-1 waives
            // keystone's broken policy override in every world here, so a row (which is
            // about the unit it sets) that passes reads WAIVED.
            let verdict = stackgate::run::verdicts(
                &[gate],
                &snapshot,
                &profile,
                "2026-12-07".parse().expect("a date"),
            )
            .remove(0);
            let got = match verdict.status {
                Status::Waived => Status::Pass,
                other => other,
            };
            if got != *want {
                let shown: Vec<String> = row
                    .sets
                    .iter()
                    .map(|s| format!("{} {} {:?}", s.unit, s.workload, s.message))
                    .collect();
                failures.push(format!(
                    "{id} on {world_name} with {} ({}): {} (want {want}): {}",
                    shown.join("; "),
                    row.source,
                    verdict.status,
                    verdict.summary
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const PROCEED_PASS: &[(&str, Status)] =
    &[("P05-PRE", Status::Proceed), ("P03-ACCEPT", Status::Pass)];
const HOLD_FAIL: &[(&str, Status)] = &[("P05-PRE", Status::Hold), ("P03-ACCEPT", Status::Fail)];

/// charm-octavia's states on the two-unit phase-05 entry world (octavia/0 the leader):
/// P05-PRE and P03-ACCEPT take only each role's awaiting state, whole.
#[tokio::test]
async fn octavia_states_at_p05_pre_and_p03_accept() {
    let joined = |a: &str, b: &str| format!("{a}, {b}");
    let rows = vec![
        Row {
            source: OCTAVIA,
            sets: vec![
                set("octavia/0", "blocked", OCTAVIA_LEADER),
                set("octavia/1", "blocked", OCTAVIA_NON_LEADER),
            ],
            want: PROCEED_PASS,
        },
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![set("octavia/0", "blocked", format!("PO: {OCTAVIA_LEADER}"))],
            want: PROCEED_PASS,
        },
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![set(
                "octavia/0",
                "blocked",
                format!("PO (broken): {OCTAVIA_LEADER}"),
            )],
            want: HOLD_FAIL,
        },
        // Issue 8: the awaiting state joined with the certificate state, on either role.
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![set(
                "octavia/0",
                "blocked",
                joined(OCTAVIA_LEADER, OCTAVIA_CERTS),
            )],
            want: HOLD_FAIL,
        },
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![set(
                "octavia/1",
                "blocked",
                joined(OCTAVIA_NON_LEADER, OCTAVIA_CERTS),
            )],
            want: HOLD_FAIL,
        },
        // A required relation's state joined before it (core.py states_to_check).
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![set(
                "octavia/0",
                "blocked",
                joined("'identity-service' missing", OCTAVIA_LEADER),
            )],
            want: HOLD_FAIL,
        },
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![set("octavia/0", "waiting", "'shared-db' incomplete")],
            want: HOLD_FAIL,
        },
        // Each role's form on the other role.
        Row {
            source: OCTAVIA,
            sets: vec![set("octavia/0", "blocked", OCTAVIA_NON_LEADER)],
            want: HOLD_FAIL,
        },
        Row {
            source: OCTAVIA,
            sets: vec![set("octavia/1", "blocked", OCTAVIA_LEADER)],
            want: HOLD_FAIL,
        },
        // create-mgmt-network false: the bundle creates them, so this is another path.
        Row {
            source: OCTAVIA,
            sets: vec![set("octavia/0", "blocked", OCTAVIA_NO_CREATE)],
            want: HOLD_FAIL,
        },
        Row {
            source: OCTAVIA,
            sets: vec![set("octavia/0", "blocked", OCTAVIA_CERTS)],
            want: HOLD_FAIL,
        },
        Row {
            source: OCTAVIA,
            sets: vec![set("octavia/0", "blocked", OCTAVIA_HM_PORT)],
            want: HOLD_FAIL,
        },
        Row {
            source: OCTAVIA,
            sets: vec![set("octavia/0", "blocked", OCTAVIA_NO_ADDRESS)],
            want: HOLD_FAIL,
        },
        // configure-resources has run: P05-PRE does not apply, phase 03 is settled.
        Row {
            source: CHARMS_OPENSTACK,
            sets: vec![
                set("octavia/0", "active", "Unit is ready"),
                set("octavia/1", "active", "Unit is ready"),
            ],
            want: &[("P05-PRE", Status::Skip), ("P03-ACCEPT", Status::Pass)],
        },
    ];
    check("phase05-entry-two-octavia", &rows).await;
}

const PASS: &[(&str, Status)] = &[("P03-ACCEPT", Status::Pass)];
const FAIL: &[(&str, Status)] = &[("P03-ACCEPT", Status::Fail)];

/// Every state charm-glance-simplestreams-sync's sync script sets (it sets no other),
/// and juju's own, at P03-ACCEPT on the settled world.
#[tokio::test]
async fn glance_simplestreams_sync_states_at_p03_accept() {
    const G: &str = "glance-simplestreams-sync/0";
    let rows = vec![
        Row {
            source: JUJU_RUNHOOK,
            sets: vec![set(G, "unknown", "")],
            want: PASS,
        },
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(G, "maintenance", "Synchronising images")],
            want: PASS,
        },
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(
                G,
                "active",
                "Unit is ready (Glance sync completed at 06/27/26 16:05:33, metadata uploaded to object store)",
            )],
            want: PASS,
        },
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(
                G,
                "active",
                "Unit is ready (Glance sync completed at 06/27/26 16:05:33, metadata not uploaded - object-store usage disabled)",
            )],
            want: PASS,
        },
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(G, "blocked", "Image sync failed, retrying soon.")],
            want: FAIL,
        },
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(
                G,
                "maintenance",
                "Swift usage has been requested but its endpoints are not yet in the catalog",
            )],
            want: FAIL,
        },
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(
                G,
                "blocked",
                "Error in /etc/glance-simplestreams-sync/identity.yaml configuration file.Check juju config values for errors.Exception: mapping values are not allowed here",
            )],
            want: FAIL,
        },
        Row {
            source: GLANCE_HOOKS,
            sets: vec![set(
                G,
                "blocked",
                "Ready for do-release-upgrade and reboot. Set complete when finished.",
            )],
            want: FAIL,
        },
        // The charm never sets waiting: juju's own waiting states mean not installed.
        Row {
            source: JUJU_STATUS,
            sets: vec![set(G, "waiting", "waiting for machine")],
            want: FAIL,
        },
        Row {
            source: JUJU_STATUS,
            sets: vec![set(G, "waiting", "agent initialising")],
            want: FAIL,
        },
        // From cron the script quotes the message for juju-exec's shell, which removes
        // the quotes (juju/juju cmd/jujud/run/run.go); were they shown, the state is not
        // the allowed one.
        Row {
            source: GLANCE_SYNC,
            sets: vec![set(G, "maintenance", "\"Synchronising images\"")],
            want: FAIL,
        },
    ];
    check("phase03-settled", &rows).await;
}

/// mysql-innodb-cluster's active message with MySQL Shell's statusText, at P02-C.
#[tokio::test]
async fn mysql_innodb_cluster_messages_at_p02_c() {
    let ready = |mode: &str, text: &str| format!("Unit is ready: Mode: {mode}, {text}");
    let cluster = |text: &str| {
        vec![
            set("mysql-innodb-cluster/0", "active", ready("R/W", text)),
            set("mysql-innodb-cluster/1", "active", ready("R/O", text)),
            set("mysql-innodb-cluster/2", "active", ready("R/O", text)),
        ]
    };
    let one = "Cluster is ONLINE and can tolerate up to ONE failure.";
    let pass: &[(&str, Status)] = &[("P02-C", Status::Pass)];
    let fail: &[(&str, Status)] = &[("P02-C", Status::Fail)];
    let mut unknown_mode = cluster(one);
    unknown_mode[2] = set("mysql-innodb-cluster/2", "active", ready("(Unknown)", one));
    let mut two_rw = cluster(one);
    two_rw[1] = set("mysql-innodb-cluster/1", "active", ready("R/W", one));
    let rows = vec![
        Row {
            source: MYSQL_SHELL,
            sets: cluster(one),
            want: pass,
        },
        // Issue 8: the Shell appends this while a member is RECOVERING; the charm stays
        // active.
        Row {
            source: MYSQL_SHELL,
            sets: cluster(&format!("{one} 1 member is not active.")),
            want: fail,
        },
        Row {
            source: MYSQL_SHELL,
            sets: cluster(&format!("{one} 2 members are not active.")),
            want: fail,
        },
        Row {
            source: MYSQL_SHELL,
            sets: cluster("Cluster is ONLINE and can tolerate up to 2 failures."),
            want: fail,
        },
        Row {
            source: MYSQL_SHELL,
            sets: cluster("Cluster is NOT tolerant to any failures."),
            want: fail,
        },
        Row {
            source: MYSQL_CHARM,
            sets: cluster("(empty)"),
            want: fail,
        },
        Row {
            source: MYSQL_CHARM,
            sets: unknown_mode,
            want: fail,
        },
        Row {
            source: MYSQL_CHARM,
            sets: two_rw,
            want: fail,
        },
    ];
    check("phase02-pre-vault", &rows).await;
}
