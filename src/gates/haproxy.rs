//! P03-HAPROXY: the haproxy backend sweep of seed 004 step 3.1b (D-045, DOCFIX-031).
//! Every principal unit of the applications the profile names as running haproxy is
//! read (`show stat` through `juju exec`, at most `--jobs` at once) and every DOWN row
//! is named by unit, proxy and server with its check status. Units are found by
//! application name in `juju status`, never by machine id (R1); an expected application
//! without units is a finding, not "zero DOWN" (R4); a unit whose stats cannot be read,
//! or whose header lacks a column the gate reads, makes the gate PRECONDITION naming the
//! unit and the column (R2).
//!
//! Rows are told apart by `type`, never by name (issue 8: listener rows of `option
//! socket-stats` were counted as servers, so a unit with only a frontend and its
//! listeners passed "no server in show stat"). Each `status` is read in haproxy's
//! vocabulary for its row type (`sources::haproxy::health`); a value outside it is
//! PRECONDITION naming the line and column, never "not DOWN", and a dump cut short is
//! unreadable. DOWN rows are servers "DOWN", "DOWN (agent)", "DOWN n/m" and backends
//! "DOWN"; a server in MAINT (any form) is not DOWN but fails as a finding (out of
//! service, its health hidden; the charm never sets it); NOLB and DRAIN (up, its checks
//! passing, load-balancing off) and "UP n/m" are shown, not failed. Frontends and
//! listeners are read for their vocabulary and shown when not OPEN; reachability of the
//! VIPs is P03-HORIZON's and P03-ENDPOINTS' to judge.

use super::phase02::status_read;
use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};
use crate::sources::haproxy::{self, Health, RowType, health};
use crate::sources::keys::KeyPath;

/// What a row type may say (haproxy/haproxy v2.8.0 src/stats.c, src/listener.c).
fn vocabulary(row_type: RowType) -> &'static str {
    match row_type {
        RowType::Server => {
            "UP, UP n/m, DOWN, DOWN (agent), DOWN n/m, NOLB[ n/m], DRAIN[ n/m], DRAIN (agent), no check, MAINT, MAINT (via p/s) or MAINT (resolution) (src/stats.c srv_hlt_st)"
        }
        RowType::Backend => "UP or DOWN, with \" (n/m)\" when rows are hidden (src/stats.c)",
        RowType::Frontend => "OPEN, STOP or PAUSED (src/stats.c)",
        RowType::Listener => "WAITING, OPEN or FULL (src/listener.c li_status_st)",
    }
}

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-HAPROXY",
    phase: "03",
    tags: &["read-only"],
    description: "haproxy `show stat` on every principal unit of the haproxy applications: zero DOWN rows; each DOWN row named (unit, proxy, server, check)",
    reads: status_read,
    follow_up: Some(stat_reads),
    evaluate: gate_haproxy,
    from_parts: None,
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
            let absent: Vec<_> = haproxy::KEYS
                .iter()
                .filter_map(|c| stat.column(c).err())
                .collect();
            if !absent.is_empty() {
                unreadable += 1;
                for missing in absent {
                    evidence.push(
                        Evidence::new(
                            Mark::Missing,
                            missing.path,
                            "key",
                            "absent from the CSV header",
                        )
                        .expected(format!(
                            "present (declared `{}`; haproxy doc/management.txt 9.1; R2)",
                            missing.key
                        )),
                    );
                }
                continue;
            }
            let (mut unit_servers, mut unit_down, mut unit_off, mut unit_unread) =
                (0u64, 0u64, 0u64, 0u64);
            for row in stat.rows() {
                // Every column was found in the header above.
                let cell = |c: &'static KeyPath| row.get(c).unwrap_or_default();
                // "If a check is currently running, the last known status will be
                // reported, prefixed with "* "" (haproxy doc/management.txt 9.1 field
                // 36): the result is the same, so a row reads the same whichever moment
                // it was dumped (the loopback scenario once caught `* L4CON`).
                let (proxy, server, state, check) = (
                    cell(&haproxy::PXNAME),
                    cell(&haproxy::SVNAME),
                    cell(&haproxy::STATUS),
                    cell(&haproxy::CHECK_STATUS).trim_start_matches("* "),
                );
                // By `type`, never by name: listener rows (`option socket-stats`) are
                // named after their bind and are no servers (issue 8).
                let Some(row_type) = RowType::parse(cell(&haproxy::TYPE)) else {
                    unit_unread += 1;
                    evidence.push(
                        Evidence::new(
                            Mark::Missing,
                            subject.clone(),
                            format!("show stat line {} column `type`", row.line),
                            "not a row type haproxy prints",
                        )
                        .expected("0, 1, 2 or 3 (doc/management.txt 9.1 field 32)"),
                    );
                    continue;
                };
                let Some(health) = health(row_type, state) else {
                    // Never counted as "not DOWN": the value is outside what haproxy
                    // prints for the row type (a newer haproxy, or not haproxy's).
                    unit_unread += 1;
                    evidence.push(
                        Evidence::new(
                            Mark::Missing,
                            subject.clone(),
                            format!("show stat line {} column `status`", row.line),
                            format!(
                                "a value outside haproxy's vocabulary for a {} row",
                                row_type.label()
                            ),
                        )
                        .expected(vocabulary(row_type)),
                    );
                    continue;
                };
                if row_type == RowType::Server {
                    unit_servers += 1;
                }
                let row_name = format!("proxy {proxy} server {server}");
                let check = if check.is_empty() { "-" } else { check };
                match (row_type, health) {
                    (RowType::Server | RowType::Backend, Health::Down) => {
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
                    }
                    (_, Health::Maintenance) => {
                        unit_off += 1;
                        evidence.push(
                            Evidence::new(
                                Mark::Bad,
                                subject.clone(),
                                row_name,
                                format!("{state}, check {check}"),
                            )
                            .expected("UP: a server in maintenance takes no traffic and shows no health; the charm never sets it"),
                        );
                    }
                    (RowType::Server, Health::Up) if state == "UP" => {}
                    (RowType::Server, _) | (_, Health::NotAccepting) => {
                        // UP 1/3, no check, NOLB, DRAIN; a frontend STOP or a listener
                        // FULL: not DOWN, but shown.
                        evidence.push(Evidence::new(
                            Mark::Info,
                            subject.clone(),
                            row_name,
                            format!("{} {state}, check {check}", row_type.label()),
                        ));
                    }
                    _ => {}
                }
            }
            if unit_unread > 0 {
                unreadable += 1;
                continue;
            }
            findings += unit_off;
            servers += unit_servers;
            down_rows += unit_down;
            if unit_servers == 0 {
                findings += 1;
                evidence.push(
                    Evidence::new(Mark::Bad, subject, "haproxy servers", "none in show stat")
                        .expected("the charm's backend servers"),
                );
            } else if unit_down == 0 && unit_off == 0 {
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
