//! Single-thread speed of every engine on MixConv layers.
//!
//! `cargo run --release -p mixconv-kernels --example speed [isa ...] [--valid] [-- filter]`
//!
//! `filter`: only the layers whose label (`name kK,K..`, e.g. `28x28x256 k5`) contains it.
//! `SPEED_MIB=n`: input and output buffers total n MiB (default 8).
//! `--valid`: no padding (every full tile runs the unchecked microkernel).
//! Input, output and weights start on a cache line (64 bytes), as the crate's own benches.
//!
//! GFLOP/s = 2·K²·out_h·out_w·C / time (padding taps counted), median and best of 25 samples of
//! ≥ 2 ms each; inputs and outputs rotate between buffers (together ≥ 8 MiB) so that
//! they come from L2/L3 as in a network (as the `mixconv` command's report), not from L1.

use std::hint::black_box;
use std::time::Instant;

use mixconv_kernels::{Epilogue, Geometry, Isa, Region, depthwise, microkernel};

struct Layer {
    name: &'static str,
    hw: usize,
    stride: usize,
    /// (kernel, channels) of each group.
    groups: Vec<(usize, usize)>,
}

fn layers() -> Vec<Layer> {
    let mut v = Vec::new();
    for k in [3, 5, 7, 9, 11, 13] {
        v.push(Layer {
            name: "28x28x256",
            hw: 28,
            stride: 1,
            groups: vec![(k, 256)],
        });
    }
    v.push(Layer {
        name: "56x56x128 s2",
        hw: 56,
        stride: 2,
        groups: vec![(3, 128)],
    });
    v.push(Layer {
        name: "112x112x96 s2",
        hw: 112,
        stride: 2,
        groups: vec![(3, 96)],
    });
    v.push(Layer {
        name: "14x14x256 s2",
        hw: 14,
        stride: 2,
        groups: vec![(11, 256)],
    });
    let mix = |name, hw, stride, ks: &[usize], c| Layer {
        name,
        hw,
        stride,
        groups: ks.iter().map(|&k| (k, c)).collect(),
    };
    // Stride-2 5×5 and 7×7 on inputs that `SPEED_MIB=0` keeps in L2: the tile alone, without
    // the memory (tile.rs: what bounds AVX2 at stride 2). 64 channels alias L1 sets, 72 not.
    for (name, c) in [
        ("28x28x16 s2", 16),
        ("28x28x64 s2", 64),
        ("28x28x72 s2", 72),
    ] {
        for k in [5, 7] {
            v.push(mix(name, 28, 2, &[k], c));
        }
    }
    v.push(mix("56x56x3*48", 56, 1, &[3, 5, 7], 48));
    v.push(mix("28x28x2*120", 28, 1, &[3, 5], 120));
    v.push(mix("28x28x2*168", 28, 1, &[3, 5], 168));
    v.push(mix("28x28x4*90", 28, 1, &[3, 5, 7, 9], 90));
    v.push(mix("28x28x4*60 s2", 28, 2, &[3, 5, 7, 9], 60));
    v.push(mix("112x112x3*64 s2", 112, 2, &[3, 5, 7], 64));
    v.push(mix("56x56x4*60 s2", 56, 2, &[3, 5, 7, 9], 60));
    v.push(mix("28x28x3*112 s2", 28, 2, &[3, 5, 7], 112));
    v.push(mix("14x14x2*240", 14, 1, &[3, 5], 240));
    v.push(mix("14x14x4*156", 14, 1, &[3, 5, 7, 9], 156));
    v.push(mix("14x14x5*396", 14, 1, &[3, 5, 7, 9, 11], 396));
    v.push(mix("14x14x5*144 s2", 14, 2, &[3, 5, 7, 9, 11], 144));
    v.push(mix("7x7x4*160", 7, 1, &[3, 5, 7, 9], 160));
    v.push(mix("7x7x4*300", 7, 1, &[3, 5, 7, 9], 300));
    v.push(mix("7x7x4*396", 7, 1, &[3, 5, 7, 9], 396));
    v
}

struct Prepared {
    geoms: Vec<Geometry>,
    weights: Vec<Vec<f32>>,
    biases: Vec<Vec<f32>>,
    inputs: Vec<Vec<f32>>,
    outputs: Vec<Vec<f32>>,
    flops: f64,
}

/// `valid`: no padding, the input grown by K − 1 (every tile interior: the pure microkernel).
fn prepare(l: &Layer, isa: Isa, valid: bool) -> Prepared {
    let c: usize = l.groups.iter().map(|g| g.1).sum();
    let lanes = isa.lanes();
    let out = l.hw.div_ceil(l.stride);
    let (mut geoms, mut weights, mut biases, mut flops, mut off) = (vec![], vec![], vec![], 0.0, 0);
    let kmax = l.groups.iter().map(|g| g.0).max().unwrap();
    let in_hw = if valid {
        (out - 1) * l.stride + kmax
    } else {
        l.hw
    };
    for &(k, gc) in &l.groups {
        let pad = if valid { 0 } else { (k - 1) / 2 };
        let g = Geometry {
            batch: 1,
            in_h: in_hw,
            in_w: in_hw,
            out_h: out,
            out_w: out,
            kernel: k,
            dilation: 1,
            stride: l.stride,
            pad_top: pad,
            pad_left: pad,
            channels: gc,
            in_channel_offset: off,
            in_pixel_stride: c,
            out_channel_offset: off,
            out_pixel_stride: c,
        };
        off += gc;
        flops += 2.0 * (k * k * out * out * gc) as f64;
        weights.push(
            (0..g.packed_weights_len(lanes).unwrap() + 15)
                .map(|i| ((i % 7) as f32 - 3.0) * 0.01)
                .collect(),
        );
        biases.push(vec![0.1; g.blocks(lanes) * lanes]);
        geoms.push(g);
    }
    let in_len = in_hw * in_hw * c;
    let total_mib: usize = std::env::var("SPEED_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let nbuf = (total_mib * 1024 * 1024)
        .div_ceil((in_len + out * out * c) * 4)
        .clamp(1, 16);
    let inputs = (0..nbuf)
        .map(|b| {
            (0..in_len + 15)
                .map(|i| ((i * 31 + b) % 17) as f32 * 0.05 - 0.4)
                .collect()
        })
        .collect();
    Prepared {
        geoms,
        weights,
        biases,
        inputs,
        outputs: vec![vec![0.0; out * out * c + 15]; nbuf],
        flops,
    }
}

/// Elements of `v` before its first 64-byte-aligned one (buffers have 15 spare).
fn skip(v: &[f32]) -> usize {
    (16 - (v.as_ptr() as usize % 64) / 4) % 16
}

fn run(p: &mut Prepared, isa: Isa, buf: usize) {
    let epi = Epilogue::default();
    let (in_len, out_len) = (p.inputs[buf].len() - 15, p.outputs[buf].len() - 15);
    let out_skip = skip(&p.outputs[buf]);
    for (i, g) in p.geoms.iter().enumerate() {
        let region = Region {
            batch: 0,
            rows: 0..g.out_h,
            cols: 0..g.out_w,
        };
        depthwise(
            isa,
            g,
            &region,
            &epi,
            &p.inputs[buf][skip(&p.inputs[buf])..][..in_len],
            &p.weights[i][skip(&p.weights[i])..][..p.weights[i].len() - 15],
            &p.biases[i],
            &mut p.outputs[buf][out_skip..][..out_len],
            0,
        )
        .unwrap();
    }
    black_box(&mut p.outputs[buf]);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (isa_args, filter) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], args.get(i + 1).cloned()),
        None => (&args[..], None),
    };
    let valid = isa_args.iter().any(|a| a == "--valid");
    let isa_args: Vec<&String> = isa_args.iter().filter(|a| *a != "--valid").collect();
    let isas: Vec<Isa> = if isa_args.is_empty() {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    } else {
        isa_args
            .iter()
            .map(|a| Isa::from_name(a).expect("isa: portable|avx2|avx512"))
            .collect()
    };
    for isa in isas {
        println!("\n{isa}: single thread, median and best of 25 samples");
        println!(
            "{:<16} {:>13} {:>9} {:>8}  kernels",
            "layer", "kernels K", "µs", "GFLOP/s"
        );
        for l in layers() {
            let ks: Vec<String> = l.groups.iter().map(|g| g.0.to_string()).collect();
            let label = format!("{} k{}", l.name, ks.join(","));
            if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
                continue;
            }
            let mut p = prepare(&l, isa, valid);
            let nbuf = p.inputs.len();
            // Calibrate: reps per sample so that a sample takes >= 2 ms.
            let t = Instant::now();
            run(&mut p, isa, 0);
            let once = t.elapsed().as_secs_f64();
            let reps = ((2e-3 / once).ceil() as usize).max(1);
            let mut samples = Vec::new();
            let mut buf = 0;
            for _ in 0..25 {
                let t = Instant::now();
                for _ in 0..reps {
                    buf = (buf + 1) % nbuf;
                    run(&mut p, isa, buf);
                }
                samples.push(t.elapsed().as_secs_f64() / reps as f64);
            }
            samples.sort_by(f64::total_cmp);
            let med = samples[samples.len() / 2];
            let best = samples[0];
            let mut names: Vec<&str> = l
                .groups
                .iter()
                .map(|g| microkernel(isa, g.0, l.stride, 1))
                .collect();
            names.dedup();
            let k_label = if l.groups.len() == 1 {
                format!("k{}", ks[0])
            } else {
                ks.join(",")
            };
            println!(
                "{:<16} {:>13} {:>9.1} {:>8.1} {:>8.1}  {}",
                l.name,
                k_label,
                med * 1e6,
                p.flops / med * 1e-9,
                p.flops / best * 1e-9,
                if names.len() > 2 {
                    format!("{} …", names[0])
                } else {
                    names.join(" ")
                }
            );
        }
    }
}
