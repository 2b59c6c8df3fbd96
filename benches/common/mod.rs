//! Shared by the criterion benches: configuration (full or `MIXCONV_BENCH_QUICK=1`), the ISAs
//! to measure, and benching one layer with inputs rotated so no iteration finds its data in
//! cache.
//!
//! Throughput is declared in FLOP (2 × multiply-adds, padding taps counted as the field does)
//! through `Throughput::Elements`: where criterion prints `elem/s`, read FLOP/s (`Gelem/s` =
//! GFLOP/s). The measured FMA peak of each ISA is printed first, for "% of peak".

#![allow(dead_code)]

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use mixconv::{Isa, MixConv, Plan, Shape, bench};
use std::time::Duration;

/// `MIXCONV_BENCH_QUICK=1`: the CI subset (widest ISA only, fewer shapes, short samples).
pub fn quick() -> bool {
    std::env::var("MIXCONV_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Criterion configured for the full suite or the quick subset; command-line flags still apply.
pub fn criterion() -> Criterion {
    let c = Criterion::default();
    let c = if quick() {
        c.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1000))
    } else {
        c.sample_size(20)
            .warm_up_time(Duration::from_millis(1000))
            .measurement_time(Duration::from_millis(2000))
    };
    c.configure_from_args()
}

/// The ISAs to measure: every available one, or only the widest when quick.
pub fn isas() -> Vec<Isa> {
    if quick() {
        vec![Isa::best()]
    } else {
        mixconv::available_isas()
    }
}

/// Prints the unit note and each ISA's measured peak (once per bench binary).
pub fn preamble(what: &str) {
    eprintln!(
        "mixconv {what} benches{}: throughput in FLOP, so elem/s reads FLOP/s (Gelem/s = GFLOP/s)",
        if quick() { " (quick subset)" } else { "" }
    );
    for isa in mixconv::available_isas() {
        eprintln!(
            "  f32 FMA peak, 1 core, {isa}: {:.1} GFLOP/s",
            bench::peak_gflops(isa)
        );
    }
}

/// Benches `layer` on `shape` with `isa` as `<isa>/<id>`.
pub fn layer(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    layer: &MixConv,
    shape: Shape,
    isa: Isa,
) {
    let weights = bench::random_weights(layer, 1).expect("valid layer");
    let plan = Plan::new(layer, &weights, shape, isa).expect("valid layer");
    let mut buffers = bench::Buffers::for_plan(&plan);
    group.throughput(Throughput::Elements(bench::flops(plan.macs())));
    group.bench_function(BenchmarkId::new(isa.name(), id), |b| {
        b.iter(|| buffers.run())
    });
}

/// Benches the reference on `layer` as `reference/<id>` (slow: small shapes only).
pub fn reference(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    layer: &MixConv,
    shape: Shape,
) {
    let weights = bench::random_weights(layer, 1).expect("valid layer");
    let plan = Plan::new(layer, &weights, shape, Isa::Portable).expect("valid layer");
    let mut buffers = bench::Buffers::new(&plan, 4);
    group.throughput(Throughput::Elements(bench::flops(plan.macs())));
    group.bench_function(BenchmarkId::new("reference", id), |b| {
        b.iter(|| {
            let i = buffers.advance();
            mixconv::reference::mixconv(
                layer,
                &weights,
                shape,
                &buffers.inputs[i],
                &mut buffers.outputs[i],
            )
            .expect("valid layer")
        })
    });
}
