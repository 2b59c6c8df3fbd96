//! Equal vs exponential split of the same layer: 56×56×192, g = 1..6 groups with kernels
//! 3, 5, …, 2g+1, every ISA. Throughput in FLOP: elem/s reads FLOP/s (the exponential split
//! gives the large kernels fewer channels, so it does fewer FLOP for the same g).
//! `MIXCONV_BENCH_QUICK=1`: g = 1, 3, 6 on the widest ISA only.

#[path = "common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use mixconv::{MixConv, Shape, Split};

fn splits(c: &mut Criterion) {
    common::preamble("split");
    let groups: &[usize] = if common::quick() {
        &[1, 3, 6]
    } else {
        &[1, 2, 3, 4, 5, 6]
    };
    let mut group = c.benchmark_group("splits_56x56x192_s1");
    let shape = Shape::new(1, 56, 56);
    for &g in groups {
        let kernels: Vec<usize> = (0..g).map(|i| 2 * i + 3).collect();
        for (name, split) in [("equal", Split::Equal), ("exp", Split::Exponential)] {
            if g == 1 && name == "exp" {
                continue; // one group: both splits are the same layer
            }
            let layer = MixConv::new(192, &kernels).split(split);
            for isa in common::isas() {
                common::layer(&mut group, &format!("{name}_g{g}"), &layer, shape, isa);
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = splits
}
criterion_main!(benches);
