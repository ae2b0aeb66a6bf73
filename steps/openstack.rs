//! OpenStack-side steps: the JSON shape a scenario's fixture really prints (so a
//! scenario about the pre-4.0 display strings cannot silently run on the list shape),
//! and the o-hm0 reader on what the real `ip` prints, wrapped as `juju exec` returns it.

use std::str::FromStr;

use cucumber::{Parameter, then};
use serde_json::Value;
use stackgate::runner::{CommandOutput, CommandRunner, Invocation, Live};
use stackgate::sources::Presence;
use stackgate::sources::iproute::{ip_addr_command, parse_ip_addr_on_unit};
use stackgate::sources::juju::exec_invocation;

use crate::{GateWorld, Unit};

/// `{shape}`: how a JSON value is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(
    name = "shape",
    regex = "a list of objects|a list of strings|a display string|a boolean"
)]
pub enum Shape {
    ListOfObjects,
    ListOfStrings,
    DisplayString,
    Boolean,
}

impl FromStr for Shape {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "a list of objects" => Shape::ListOfObjects,
            "a list of strings" => Shape::ListOfStrings,
            "a display string" => Shape::DisplayString,
            "a boolean" => Shape::Boolean,
            other => return Err(format!("{other} is not a JSON shape")),
        })
    }
}

fn shape_of(value: &Value) -> Option<Shape> {
    match value {
        Value::Bool(_) => Some(Shape::Boolean),
        Value::String(_) => Some(Shape::DisplayString),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            Some(Shape::ListOfObjects)
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Some(Shape::ListOfStrings)
        }
        _ => None,
    }
}

/// The key of `openstack <object> show <name> -f json` as the scenario's world holds it.
#[then(expr = "the world's `openstack {word} show {word}` prints {string} as {shape}")]
fn show_prints(
    w: &mut GateWorld,
    object: String,
    name: String,
    key: String,
    shape: Shape,
) -> Result<(), String> {
    let world = w
        .fixture
        .as_ref()
        .ok_or("no fixture world: a `Given the fixture world \"...\"` step must come first")?;
    let argv: Vec<String> = ["openstack", &object, "show", &name, "-f", "json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let recording = world
        .get(&argv)
        .ok_or_else(|| format!("world {} holds no `{}`", world.name, argv.join(" ")))?;
    let doc: Value = serde_json::from_slice(&recording.stdout).map_err(|e| {
        format!(
            "`{}` in world {} is not JSON: {e}",
            argv.join(" "),
            world.name
        )
    })?;
    let value = doc
        .get(&key)
        .ok_or_else(|| format!("`{}` prints no key {key:?}", argv.join(" ")))?;
    if shape_of(value) == Some(shape) {
        Ok(())
    } else {
        Err(format!(
            "expected {key} of `{}` to be {shape:?}, it prints {value}",
            argv.join(" ")
        ))
    }
}

/// Runs the real `ip -j addr show dev <device>` here through the project's runner and
/// wraps its answer the way `juju exec --format=json` returns a task (juju/juju
/// cmd/juju/action/run.go `formatActionResult`: empty stdout/stderr dropped; juju exits
/// 1 when the command did).
async fn real_ip_through_exec(unit: &str, device: &str) -> Result<CommandOutput, String> {
    let ip = Live::new()
        .run(&Invocation::new(ip_addr_command(device)))
        .await
        .map_err(|e| e.to_string())?;
    let code = ip.exit_code.ok_or("ip was ended by a signal".to_string())?;
    let mut results = serde_json::Map::new();
    results.insert("return-code".into(), code.into());
    for (key, bytes) in [("stdout", &ip.stdout[..]), ("stderr", &ip.stderr[..])] {
        if !bytes.is_empty() {
            results.insert(
                key.into(),
                String::from_utf8_lossy(bytes).into_owned().into(),
            );
        }
    }
    let doc = serde_json::json!({
        unit: {"id": "1", "results": results, "status": "completed", "unit": unit}
    });
    Ok(CommandOutput {
        argv: exec_invocation("openstack", unit, &ip_addr_command(device))
            .argv()
            .to_vec(),
        exit_code: Some(i32::from(code != 0)),
        stdout: format!("{doc}\n").into_bytes().into(),
        stderr: if code == 0 {
            Vec::new()
        } else {
            b"ERROR the following task failed:\n".to_vec()
        },
        duration: ip.duration,
    })
}

#[then(
    expr = "the real `ip -j addr show dev {word}`, as juju exec returns it from {unit}, reads as absent"
)]
async fn real_ip_absent(_w: &mut GateWorld, device: String, unit: Unit) -> Result<(), String> {
    let output = real_ip_through_exec(&unit.0, &device).await?;
    match parse_ip_addr_on_unit(&output, &unit.0, &device) {
        Ok(Presence::Absent { message }) if message.contains(&device) => Ok(()),
        other => Err(format!(
            "expected the real ip's answer for {device} to read as absent, it reads as {other:?} (ip said {:?})",
            String::from_utf8_lossy(&output.stdout)
        )),
    }
}

#[then(
    expr = "the real `ip -j addr show dev {word}`, as juju exec returns it from {unit}, reads as present with operstate {word}"
)]
async fn real_ip_present(
    _w: &mut GateWorld,
    device: String,
    unit: Unit,
    operstate: String,
) -> Result<(), String> {
    let output = real_ip_through_exec(&unit.0, &device).await?;
    match parse_ip_addr_on_unit(&output, &unit.0, &device) {
        Ok(Presence::Present(link)) if link.ifname == device && link.operstate == operstate => {
            Ok(())
        }
        other => Err(format!(
            "expected the real ip's answer for {device} to read as present with operstate {operstate}, it reads as {other:?}"
        )),
    }
}
