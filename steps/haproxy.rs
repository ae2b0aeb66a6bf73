//! P03-HAPROXY steps: real haproxy processes on loopback standing for units (one per
//! unit, its admin socket in the scenario's temp dir, servers checked against a
//! listener the scenario opens or a closed port), and the DOWN rows a verdict names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use cucumber::gherkin::Step;
use cucumber::{given, then};
use stackgate::gates::Mark;
use stackgate::runner::CommandOutput;
use stackgate::sources::haproxy::{self, RowType, ShowStat, parse_show_stat};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::loopback::{Loopback, Program, STARTUP, accepting_listener, closed_port};
use crate::{Gate, GateWorld, Unit, describe};

/// The rows of a step table after its header row.
fn table_rows(step: &Step, columns: usize) -> Result<Vec<Vec<String>>, String> {
    let table = step.table.as_ref().ok_or("the step needs a table")?;
    let rows: Vec<Vec<String>> = table.rows.iter().skip(1).cloned().collect();
    if let Some(bad) = rows.iter().find(|r| r.len() != columns) {
        return Err(format!(
            "a row has {} cells, expected {columns}: {bad:?}",
            bad.len()
        ));
    }
    Ok(rows)
}

#[given(expr = "the profile's haproxy applications are {string}")]
fn haproxy_applications(w: &mut GateWorld, list: String) -> Result<(), String> {
    let profile = w.profile.as_mut().ok_or("no site profile")?;
    let sweep = profile
        .haproxy
        .as_mut()
        .ok_or("the profile has no [phase03.haproxy]")?;
    sweep.applications = list.split(',').map(|a| a.trim().to_string()).collect();
    Ok(())
}

/// One `show stat` straight from the socket, for the settle wait only (the gate reads
/// through `juju exec`'s transport).
async fn show_stat(unit: &str, socket: &std::path::Path) -> Result<ShowStat, String> {
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"show stat\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut stdout = Vec::new();
    stream
        .read_to_end(&mut stdout)
        .await
        .map_err(|e| e.to_string())?;
    let output = CommandOutput {
        argv: vec!["show stat".into()],
        exit_code: Some(0),
        stdout: stdout.into(),
        stderr: vec![],
        duration: Duration::ZERO,
    };
    parse_show_stat(unit, &output).map_err(|e| e.to_string())
}

/// Every server checked at least once and in a final state: `UP` or `DOWN`, a check
/// status that is neither pending (`INI`, `UNK`) nor running (`* ` prefix). Frontends,
/// backends and listeners have no check to wait for.
fn settled(stat: &ShowStat) -> bool {
    stat.rows().all(|row| {
        if RowType::parse(row.get(&haproxy::TYPE).unwrap_or_default()) != Some(RowType::Server) {
            return true;
        }
        let status = row.get(&haproxy::STATUS).unwrap_or_default();
        let check = row.get(&haproxy::CHECK_STATUS).unwrap_or_default();
        // A server in maintenance is in its final state from the start.
        status.starts_with("MAINT")
            || (matches!(status, "UP" | "DOWN")
                && !check.is_empty()
                && !check.starts_with('*')
                && !matches!(check, "INI" | "UNK"))
    })
}

/// A unit's backends: proxy -> (server, port, in maintenance).
type Backends = BTreeMap<String, Vec<(String, u16, bool)>>;

/// The backends of a unit as charm-helpers' template renders them, with one-second checks.
fn backends_cfg(backends: &Backends) -> String {
    let mut cfg = String::new();
    for (proxy, servers) in backends {
        let _ = writeln!(cfg, "backend {proxy}\n    balance leastconn");
        for (server, port, disabled) in servers {
            // `disabled`: the server starts in maintenance (haproxy prints MAINT).
            let _ = writeln!(
                cfg,
                "    server {server} 127.0.0.1:{port} check inter 1s fall 1 rise 1{}",
                if *disabled { " disabled" } else { "" }
            );
        }
        cfg.push('\n');
    }
    cfg
}

/// Starts one haproxy for a unit with these proxies and waits, bounded, until its checks
/// settle.
async fn start_haproxy(loopback: &mut Loopback, unit: &str, proxies: &str) -> Result<(), String> {
    let dir = loopback.dir()?.join(unit.replace('/', "-"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let socket = dir.join("admin.sock");
    // charm-helpers' template with one-second checks: a dead port is DOWN after one
    // check, and the check's connect timeout (min of inter and timeout connect) is 1 s,
    // so a loaded CI machine does not turn a live listener DOWN.
    let cfg = format!(
        "global\n    maxconn 256\n    spread-checks 0\n    stats socket {} mode 600 level admin\n    stats timeout 2m\n\n\
         defaults\n    mode tcp\n    retries 3\n    timeout queue 5000\n    timeout connect 1000\n    timeout client 30000\n    timeout server 30000\n\n{proxies}",
        socket.display()
    );
    let cfg_path = dir.join("haproxy.cfg");
    std::fs::write(&cfg_path, cfg).map_err(|e| e.to_string())?;
    let cfg_arg = cfg_path.display().to_string();
    let mut program = Program::start(
        &format!("haproxy for {unit}"),
        &["haproxy", "-db", "-f", &cfg_arg],
        &dir,
        &dir.join("haproxy.log"),
    )?;
    let started = Instant::now();
    loop {
        program.check_running()?;
        let last = match show_stat(unit, &socket).await {
            Ok(stat) if settled(&stat) => break,
            Ok(stat) => format!("{} rows, not settled", stat.len()),
            Err(e) => e,
        };
        if started.elapsed() > STARTUP {
            return Err(format!(
                "haproxy for {unit} did not settle within {STARTUP:?}: {last}\n{}",
                program.log_text()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loopback.keep(program);
    loopback.unit_sockets.insert(unit.to_string(), socket);
    Ok(())
}

#[given("real haproxy processes on loopback serve these units:")]
async fn haproxy_on_loopback(w: &mut GateWorld, step: &Step) -> Result<(), String> {
    // | unit | proxy | server | backend (up: a listener the scenario opens; closed;
    // maint: up, but the server in maintenance) |
    let rows = table_rows(step, 4)?;
    let up = accepting_listener(&mut w.loopback).await?;
    let mut units: BTreeMap<String, Backends> = BTreeMap::new();
    for row in rows {
        let (port, disabled) = match row[3].as_str() {
            "up" => (up, false),
            "closed" => (closed_port()?, false),
            "maint" => (up, true),
            other => return Err(format!("backend {other:?}: expected up, closed or maint")),
        };
        units
            .entry(row[0].clone())
            .or_default()
            .entry(row[1].clone())
            .or_default()
            .push((row[2].clone(), port, disabled));
    }
    for (unit, backends) in &units {
        start_haproxy(&mut w.loopback, unit, &backends_cfg(backends)).await?;
    }
    Ok(())
}

/// A unit whose haproxy has a frontend with `option socket-stats` (a row per listener,
/// type 3) and no backend: it serves nothing, whatever its listener rows say.
#[given(expr = "real haproxy on loopback serves {unit} with only a frontend and its listeners")]
async fn haproxy_listeners_only(w: &mut GateWorld, unit: Unit) -> Result<(), String> {
    let (a, b) = (closed_port()?, closed_port()?);
    let service = unit.0.split('/').next().unwrap_or_default().to_string();
    let proxies = format!(
        "frontend tcp-in_{service}\n    bind 127.0.0.1:{a}\n    bind 127.0.0.1:{b}\n    option socket-stats\n\n"
    );
    start_haproxy(&mut w.loopback, &unit.0, &proxies).await
}

#[given(expr = "{unit} runs no haproxy on loopback")]
fn no_haproxy(w: &mut GateWorld, unit: Unit) -> Result<(), String> {
    let socket = w
        .loopback
        .dir()?
        .join(unit.0.replace('/', "-"))
        .join("admin.sock");
    w.loopback.unit_sockets.insert(unit.0, socket);
    Ok(())
}

/// The DOWN rows of a verdict as (unit, proxy, server, check); a server in MAINT is a
/// BAD row but not a DOWN one.
fn down_rows(w: &GateWorld, gate: Gate) -> Result<BTreeSet<[String; 4]>, String> {
    let v = w.verdict(gate)?;
    Ok(v.evidence
        .iter()
        .filter(|e| {
            e.mark == Mark::Bad && e.property.starts_with("proxy ") && e.actual.starts_with("DOWN")
        })
        .filter_map(|e| {
            let unit = e.subject.strip_prefix("unit ")?;
            let (proxy, server) = e.property.strip_prefix("proxy ")?.split_once(" server ")?;
            let check = e.actual.split_once(", check ")?.1;
            Some([
                unit.to_string(),
                proxy.to_string(),
                server.to_string(),
                check.to_string(),
            ])
        })
        .collect())
}

#[then(expr = "gate {gate} names exactly these DOWN rows:")]
fn names_down_rows(w: &mut GateWorld, gate: Gate, step: &Step) -> Result<(), String> {
    let want: BTreeSet<[String; 4]> = table_rows(step, 4)?
        .into_iter()
        .map(|r| [r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()])
        .collect();
    let got = down_rows(w, gate)?;
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "expected DOWN rows {want:?}\nthe gate named {got:?}:\n{}",
            describe(w.verdict(gate)?)
        ))
    }
}

#[then(expr = "gate {gate} names no DOWN row")]
fn names_no_down_row(w: &mut GateWorld, gate: Gate) -> Result<(), String> {
    let got = down_rows(w, gate)?;
    if got.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected no DOWN row, the gate named {got:?}:\n{}",
            describe(w.verdict(gate)?)
        ))
    }
}
