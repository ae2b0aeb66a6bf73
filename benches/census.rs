//! The phase-02 census as the operator runs it, side by side with jq, at 2,000, 20,000
//! and 100,000 units: `stackgate gate --phase 02 --world DIR` (parse and every phase-02
//! gate over a bare-metal-scale `juju status`, plus whoami, models and vault's status) as
//! a child process, its wall time and peak RSS read from `wait4`; and the runbook's jq
//! census over the same bytes (`benches/census.jq`), when jq is installed.
//!
//! Issue 13's targets, printed per scale: stackgate at least 10x faster than jq, and a
//! peak RSS at most 2x the status document's size.
//!
//! `cargo bench --bench census` (about a minute; `CENSUS_SCALES=2000,20000` to choose).

use std::path::Path;
use std::process::Command;

#[path = "common/child.rs"]
mod child;
use child::{RUNS, headings, serve_measurer, side_by_side};

use stackgate::sim::{CloudShape, status};

const WHOAMI: &str = include_str!("../fixtures/testcloud/phase02-pre-vault/juju-whoami.json");
const MODELS: &str = include_str!("../fixtures/testcloud/phase02-pre-vault/juju-models.json");
const VAULT: &str =
    include_str!("../fixtures/testcloud/phase02-pre-vault/juju-exec-vault-status.json");
const VAULT_ERR: &str =
    include_str!("../fixtures/testcloud/phase02-pre-vault/juju-exec-vault-status.stderr");
/// The runbook's census (seed 004: the phase-02 pre-flight's "one jq metrics pass"),
/// reconstructed over the same keys P02-B and P02-E read.
const CENSUS_JQ: &str = include_str!("census.jq");

/// A bare-metal shape with about `units` units, principals and subordinates (3
/// subordinates per principal, 2 containers per machine).
fn shape(units: usize) -> CloudShape {
    let principals = units / 4;
    let units_per_app = 100.min(principals.max(1));
    let principal_apps = (principals / units_per_app).max(1);
    CloudShape {
        machines: (principals / 2).max(4),
        containers_per_machine: 2,
        principal_apps,
        units_per_app,
        subordinates_per_unit: 3,
        ..CloudShape::bare_metal()
    }
}

/// A fixture world of the phase-02 reads with `status` as `juju status`.
fn world(dir: &Path, status: &[u8]) {
    std::fs::write(dir.join("juju-status.json"), status).unwrap();
    std::fs::write(dir.join("juju-whoami.json"), WHOAMI).unwrap();
    std::fs::write(dir.join("juju-models.json"), MODELS).unwrap();
    std::fs::write(dir.join("vault.json"), VAULT).unwrap();
    std::fs::write(dir.join("vault.stderr"), VAULT_ERR).unwrap();
    std::fs::write(
        dir.join("world.toml"),
        r#"profile = "testcloud"
description = "benches/census.rs: a bare-metal-scale phase-02 cloud"

[[command]]
argv = ["juju", "status", "-m", "openstack", "--format=json"]
stdout = "juju-status.json"

[[command]]
argv = ["juju", "whoami", "--format=json"]
stdout = "juju-whoami.json"

[[command]]
argv = ["juju", "models", "--format=json"]
stdout = "juju-models.json"

[[command]]
argv = ["juju", "exec", "-m", "openstack", "--unit", "vault/0", "--format=json", "--", "vault", "status", "-format=json", "-address=http://127.0.0.1:8200"]
stdout = "vault.json"
stderr = "vault.stderr"
exit = 1
"#,
    )
    .unwrap();
}

fn main() {
    serve_measurer();
    // `cargo bench` passes --bench; a plain run does too: nothing to parse.
    let scales: Vec<usize> = std::env::var("CENSUS_SCALES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![2_000, 20_000, 100_000]);
    let stackgate = env!("CARGO_BIN_EXE_stackgate");
    println!(
        "census: `stackgate gate --phase 02 --world DIR` vs the runbook's jq census (benches/census.jq); best of {RUNS}"
    );
    println!(
        "{:>8} {:>9} {}  targets (>=10x, RSS <= 2x input)",
        "units",
        "input",
        headings()
    );
    for units in scales {
        let shape = shape(units);
        let output = status::status_output(&shape);
        let dir = tempfile::tempdir().unwrap();
        world(dir.path(), &output.stdout);
        // CENSUS_KEEP=DIR keeps each world (DIR/<units>) for profiling by hand.
        if let Some(keep) = std::env::var_os("CENSUS_KEEP") {
            let to = Path::new(&keep).join(units.to_string());
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(dir.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
        let input = output.stdout.len() as u64;
        drop(output);
        let status_file = dir.path().join("juju-status.json");
        let (sg, columns) = side_by_side(
            || {
                let mut c = Command::new(stackgate);
                c.args(["gate", "--phase", "02", "--format", "json", "--world"])
                    .arg(dir.path());
                c
            },
            &status_file,
            |c| {
                c.args(["-r", CENSUS_JQ]).arg(&status_file);
            },
        );
        // The fresh vault: P02-D and P02-SEALED PROCEED, exit 0.
        assert_eq!(
            sg.code, 0,
            "stackgate's phase-02 run on the {units}-unit world"
        );
        println!(
            "{:>8} {:>6.1} MB {columns}",
            shape.units(),
            input as f64 / 1e6
        );
    }
}
