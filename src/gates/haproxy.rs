//! P03-HAPROXY: the haproxy backend sweep of seed 004 step 3.1b (D-045, DOCFIX-031).
//! Every principal unit of the applications the profile names as running haproxy is
//! read (`show stat` through `juju exec`, at most `--jobs` at once) and every DOWN row
//! is named by unit, proxy and server with its check status. Units are found by
//! application name in `juju status`, never by machine id (R1); an expected application
//! without units is a finding, not "zero DOWN" (R4); a unit whose stats cannot be read,
//! or whose header lacks a column the gate reads, makes the gate PRECONDITION naming the
//! unit and the column (R2).

use super::phase02::status_read;
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};
use crate::sources::haproxy::{GATE_COLUMNS, is_aggregate, is_down};

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-HAPROXY",
    phase: "03",
    tags: &["read-only"],
    description: "haproxy `show stat` on every principal unit of the haproxy applications: zero DOWN rows; each DOWN row named (unit, proxy, server, check)",
    reads: status_read,
    follow_up: Some(stat_reads),
    evaluate: gate_haproxy,
}];

/// One `show stat` per principal unit of each haproxy application found in the status.
fn stat_reads(snapshot: &Snapshot, profile: &Profile) -> Vec<Read> {
    let (Some(sweep), Ok(status)) = (&profile.haproxy, snapshot.juju_status(&profile.model)) else {
        return Vec::new();
    };
    sweep
        .applications
        .iter()
        .flat_map(|app| status.units_of(app))
        .filter(|unit| !unit.is_subordinate())
        .map(|unit| Read::HaproxyStat {
            model: profile.model.clone(),
            unit: unit.name.to_string(),
            socket: sweep.stats_socket.clone(),
        })
        .collect()
}

fn gate_haproxy(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let Some(sweep) = &profile.haproxy else {
        return Verdict::new(
            gate,
            Status::Precondition,
            "the profile names no applications that run haproxy",
        )
        .with_evidence(vec![
            Evidence::new(Mark::Missing, "profile", "phase03.haproxy", "absent")
                .expected("the applications whose units run haproxy"),
        ]);
    };
    let status = read_or_precondition!(gate, snapshot.juju_status(&profile.model));
    let mut evidence = Vec::new();
    let (mut units, mut unreadable, mut servers, mut down_rows, mut findings) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for app in &sweep.applications {
        let principals: Vec<_> = status
            .units_of(app)
            .into_iter()
            .filter(|u| !u.is_subordinate())
            .collect();
        if principals.is_empty() {
            findings += 1;
            let actual = if status.applications.contains_key(app) {
                "no units"
            } else {
                "not in the model"
            };
            evidence.push(
                Evidence::new(
                    Mark::Bad,
                    format!("application {app}"),
                    "units running haproxy",
                    actual,
                )
                .expected("at least one principal unit (profile phase03.haproxy)"),
            );
            continue;
        }
        for unit in principals {
            units += 1;
            let subject = format!("unit {}", unit.name);
            let stat = match snapshot.haproxy_stat(&profile.model, unit.name, &sweep.stats_socket) {
                Ok(stat) => stat,
                Err(e) => {
                    unreadable += 1;
                    evidence.push(
                        Evidence::new(Mark::Missing, subject, "haproxy show stat", e.to_string())
                            .expected(format!("the CSV of `show stat` on {}", sweep.stats_socket)),
                    );
                    continue;
                }
            };
            let absent: Vec<String> = GATE_COLUMNS
                .iter()
                .filter_map(|c| stat.column(c).err())
                .map(|m| m.path)
                .collect();
            if !absent.is_empty() {
                unreadable += 1;
                for path in absent {
                    evidence.push(
                        Evidence::new(Mark::Missing, path, "key", "absent from the CSV header")
                            .expected("present (haproxy doc/management.txt 9.1; R2)"),
                    );
                }
                continue;
            }
            let (mut unit_servers, mut unit_down) = (0u64, 0u64);
            for row in stat.rows() {
                // Every column was found in the header above.
                let cell = |c: &str| row.get(c).unwrap_or_default();
                let (proxy, server, state, check) = (
                    cell("pxname"),
                    cell("svname"),
                    cell("status"),
                    cell("check_status"),
                );
                if server == "FRONTEND" {
                    continue;
                }
                if !is_aggregate(server) {
                    unit_servers += 1;
                }
                let row_name = format!("proxy {proxy} server {server}");
                let check = if check.is_empty() { "-" } else { check };
                if is_down(state) {
                    unit_down += 1;
                    evidence.push(
                        Evidence::new(
                            Mark::Bad,
                            subject.clone(),
                            row_name,
                            format!("{state}, check {check}"),
                        )
                        .expected("UP"),
                    );
                } else if !is_aggregate(server) && state != "UP" {
                    // UP 1/3, MAINT, DRAIN, NOLB, no check: not DOWN, but shown.
                    evidence.push(Evidence::new(
                        Mark::Info,
                        subject.clone(),
                        row_name,
                        format!("{state}, check {check}"),
                    ));
                }
            }
            servers += unit_servers;
            down_rows += unit_down;
            if unit_servers == 0 {
                findings += 1;
                evidence.push(
                    Evidence::new(Mark::Bad, subject, "haproxy servers", "none in show stat")
                        .expected("the charm's backend servers"),
                );
            } else if unit_down == 0 {
                evidence.push(Evidence::new(
                    Mark::Ok,
                    subject,
                    "haproxy servers",
                    format!("{unit_servers} server(s), none DOWN"),
                ));
            }
        }
    }
    let summary = format!(
        "{units} haproxy unit(s), {unreadable} unreadable, {servers} server(s), {down_rows} DOWN row(s), {findings} other finding(s)"
    );
    let status = if unreadable > 0 {
        Status::Precondition
    } else if down_rows > 0 || findings > 0 || units == 0 {
        Status::Fail
    } else {
        Status::Pass
    };
    Verdict::new(gate, status, summary)
        .with_evidence(evidence)
        .metric("units", units)
        .metric("unreadable", unreadable)
        .metric("servers", servers)
        .metric("down_rows", down_rows)
        .metric("findings", findings)
}
