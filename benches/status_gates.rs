//! How fast stackgate reads a bare-metal-scale `juju status`: 2,000 machines (4,000
//! containers) and 20,016 units including subordinates, rendered by the simulator.
//! Measures (i) parsing alone and (ii) parsing plus every phase-02 gate and
//! P03-ACCEPT, with throughput in bytes of JSON so criterion reports MB/s.
//!
//! `cargo bench --bench status_gates` (small samples: it finishes in about a minute).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use stackgate::gates::{self, GateSpec, Status, Verdict};
use stackgate::profile::Profile;
use stackgate::runner::CommandOutput;
use stackgate::sim::{CloudShape, status};
use stackgate::snapshot::{Read, Snapshot, Value};
use stackgate::sources::juju::{JujuModels, Whoami, parse_status};
use stackgate::sources::vault;

/// `juju whoami` and `juju models` for P02-A, in the shape juju 3.6 prints them.
const WHOAMI: &str = r#"{"controller":"juju-controller","model":"openstack","user":"admin"}"#;
const MODELS: &str = r#"{"models":[{"name":"admin/openstack","short-name":"openstack","model-type":"iaas","controller-name":"juju-controller","is-controller":false,"life":"alive","status":{"current":"available","since":"just now"}}],"current-model":"openstack"}"#;

fn phase_gates() -> Vec<&'static GateSpec> {
    let mut gates = gates::for_phase("02");
    gates.push(gates::by_id("P03-ACCEPT").expect("P03-ACCEPT is in the catalog"));
    gates
}

/// P02-SEALED's read of the fresh vault (`juju exec` of `vault status`, exit 1 because
/// the sealed vault exits 2), as the phase02-pre-vault world holds it.
const VAULT_STATUS: &str =
    include_str!("../fixtures/testcloud/phase02-pre-vault/juju-exec-vault-status.json");

/// The vault status value P02-SEALED reads, parsed from the fixture.
fn vault_status(profile: &Profile) -> (Read, Value) {
    let read = (gates::by_id("P02-SEALED")
        .expect("P02-SEALED is in the catalog")
        .reads)(profile)
    .remove(0);
    let Read::VaultStatus { host, .. } = &read else {
        unreachable!("P02-SEALED reads vault status")
    };
    let output = CommandOutput {
        argv: read.invocation().argv().to_vec(),
        exit_code: Some(1),
        stdout: VAULT_STATUS.as_bytes().to_vec().into(),
        stderr: Vec::new(),
        duration: Duration::ZERO,
    };
    let status = vault::parse_status(host, &output).expect("the fixture parses");
    (read, Value::VaultStatus(std::sync::Arc::new(status)))
}

fn evaluate(output: &CommandOutput, profile: &Profile, gates: &[&GateSpec]) -> Vec<Verdict> {
    let (vault_read, vault_value) = vault_status(profile);
    let snapshot = Snapshot::from_parts("sim")
        .with_juju_status(&profile.model, parse_status(output))
        .with_whoami(Ok(serde_json::from_str::<Whoami>(WHOAMI).unwrap()))
        .with_models(Ok(serde_json::from_str::<JujuModels>(MODELS).unwrap()))
        .with(vault_read, Ok(vault_value));
    gates.iter().map(|g| g.run(&snapshot, profile)).collect()
}

fn status_gates(c: &mut Criterion) {
    let shape = CloudShape::bare_metal();
    let output = status::status_output(&shape);
    let profile = Profile::testcloud();
    let gates = phase_gates();

    // The benchmark measures real work only if the gates see a healthy cloud: every
    // phase-02 gate passes (vault fresh) and the acceptance walk reaches every unit,
    // finding vault/0 the one unit not yet active.
    let verdicts = evaluate(&output, &profile, &gates);
    for v in &verdicts {
        let want = match v.id {
            "P02-D" | "P02-SEALED" => Status::Proceed,
            "P03-ACCEPT" => Status::Fail,
            _ => Status::Pass,
        };
        assert_eq!(v.status, want, "{}: {}", v.id, v.summary);
    }
    let accept = verdicts.iter().find(|v| v.id == "P03-ACCEPT").unwrap();
    assert_eq!(accept.metrics["units"], shape.units() as u64);
    assert_eq!(accept.metrics["unexpected"], 1);

    let mut group = c.benchmark_group(format!(
        "juju_status/{}_machines_{}_units",
        shape.machines,
        shape.units()
    ));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(12))
        .throughput(Throughput::Bytes(output.stdout.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse_status(black_box(&output)).expect("the simulated status parses"))
    });
    group.bench_function("parse_and_gates", |b| {
        b.iter(|| evaluate(black_box(&output), &profile, &gates))
    });
    group.finish();
}

criterion_group!(benches, status_gates);
criterion_main!(benches);
