//! The simulated rehearsal of the rebuild, as `stackgate rehearse` runs it
//! (src/rehearsal.rs): phase 00 from the dirty testcloud to P00-EXIT, phase 01's
//! model-prep, phase 02's vault actions to P02-AUTHORIZED, phase 03's admin-openrc,
//! phase 04's network-create and phase 05's configure-resources and amphora pipeline
//! (its base image from a loopback server) to P05-AMPHORA PASS, each action dry-run
//! then applied with its fingerprint and proven step by step. Waits take simulated
//! time; the issue-13 target is under 5 s.
//!
//! `cargo bench --bench rehearsal` prints the wall time of one whole rehearsal.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use stackgate::events::Discard;
use stackgate::rehearsal;

async fn rehearse() {
    let report = rehearsal::rehearse(&rehearsal::testcloud(), &Discard, "20261202T120000Z").await;
    assert!(report.passed, "{report:#?}");
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut group = c.benchmark_group("rehearsal");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("testcloud_rebuild_dirty_to_every_exit_gate", |b| {
        b.iter(|| runtime.block_on(rehearse()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
