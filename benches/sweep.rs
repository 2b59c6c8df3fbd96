//! Kernel sweep, one group per layer: K = 3..13 on 28×28×256 stride 1 and on 56×56×128
//! stride 2; 3×3 with dilation 2..6 and K = 5, 7 with dilation 2 on 28×28×256; every ISA, and
//! the reference on the 3×3 layer for scale. Throughput in FLOP: elem/s reads FLOP/s.
//! `MIXCONV_BENCH_QUICK=1`: fewer sizes, the widest ISA only.

#[path = "common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use mixconv::{MixConv, Shape};

fn sweep(c: &mut Criterion) {
    common::preamble("kernel sweep");
    let quick = common::quick();
    let kernels: &[usize] = if quick {
        &[3, 7, 13]
    } else {
        &[3, 5, 7, 9, 11, 13]
    };

    let mut group = c.benchmark_group("sweep_k_28x28x256_s1");
    let shape = Shape::new(1, 28, 28);
    for &k in kernels {
        let layer = MixConv::new(256, &[k]);
        for isa in common::isas() {
            common::layer(&mut group, &format!("k{k}"), &layer, shape, isa);
        }
    }
    if !quick {
        common::reference(&mut group, "k3", &MixConv::new(256, &[3]), shape);
    }
    group.finish();

    let mut group = c.benchmark_group("sweep_k_56x56x128_s2");
    let shape = Shape::new(1, 56, 56);
    for &k in kernels {
        let layer = MixConv::new(128, &[k]).stride(2);
        for isa in common::isas() {
            common::layer(&mut group, &format!("k{k}"), &layer, shape, isa);
        }
    }
    group.finish();

    let mut group = c.benchmark_group("sweep_dilation_28x28x256_s1");
    let shape = Shape::new(1, 28, 28);
    let mut cases: Vec<(usize, usize)> = if quick {
        vec![(3, 2), (3, 6)]
    } else {
        (2..=6).map(|d| (3, d)).collect()
    };
    cases.extend([(5, 2), (7, 2)]);
    for (k, d) in cases {
        let layer = MixConv::new(256, &[k]).dilations(&[d]);
        for isa in common::isas() {
            common::layer(&mut group, &format!("k{k}d{d}"), &layer, shape, isa);
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = sweep
}
criterion_main!(benches);
