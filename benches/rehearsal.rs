//! The simulated rehearsal of the rebuild, as `stackgate rehearse` runs it
//! (src/rehearsal.rs): phase 00 from the dirty testcloud to P00-EXIT, then phase 01's
//! model-prep to every phase-01 gate, each action dry-run then applied with its
//! fingerprint and proven step by step. Waits take simulated time.
//!
//! `cargo bench --bench rehearsal` prints the wall time of one whole rehearsal.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use stackgate::actions::wait::Silent;
use stackgate::rehearsal;

async fn rehearse() {
    let report = rehearsal::rehearse(&rehearsal::testcloud(), &Silent, "20261202T120000Z").await;
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
