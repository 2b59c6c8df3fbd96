//! The MixNet-S, -M and -L depthwise layers (one bench per layer and ISA, plus the whole model
//! as a sum). Throughput in FLOP: criterion's elem/s reads FLOP/s.
//! `MIXCONV_BENCH_QUICK=1 cargo bench --bench mixnet`: MixNet-S on the widest ISA only.

#[path = "common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mixconv::{Plan, bench, workloads};

fn mixnet(c: &mut Criterion) {
    common::preamble("MixNet");
    let models: &[&str] = if common::quick() {
        &["s"]
    } else {
        &["s", "m", "l"]
    };
    for model in models {
        let layers = workloads::model(model).expect("model in the workload table");
        let mut group = c.benchmark_group(format!("mixnet_{model}"));
        for isa in common::isas() {
            for l in layers {
                let (layer, shape) = l.layer();
                common::layer(&mut group, l.name, &layer, shape, isa);
            }
            // The whole model: every layer once per iteration, each on its own rotated buffers.
            let mut model: Vec<bench::Buffers> = layers
                .iter()
                .map(|l| {
                    let (layer, shape) = l.layer();
                    let weights = bench::random_weights(&layer, 1).expect("valid layer");
                    let plan = Plan::new(&layer, &weights, shape, isa).expect("valid layer");
                    bench::Buffers::for_plan(&plan)
                })
                .collect();
            let macs: u64 = model.iter().map(|b| b.plans[0].macs()).sum();
            group.throughput(Throughput::Elements(bench::flops(macs)));
            group.bench_function(BenchmarkId::new(isa.name(), "model"), |b| {
                b.iter(|| {
                    for buffers in model.iter_mut() {
                        buffers.run();
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = mixnet
}
criterion_main!(benches);
