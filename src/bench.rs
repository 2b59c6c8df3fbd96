//! Bench support: this CPU's measured f32 FMA peak per ISA, a timing helper that does not let
//! the previous iteration's data flatter the figures, FLOP counting, and deterministic random
//! layers' weights and inputs. Used by the `mixconv` command and the criterion benches.
//!
//! ```
//! use mixconv::{Isa, MixConv, Plan, Shape, bench};
//! let layer = MixConv::new(16, &[3, 5]);
//! let shape = Shape::new(1, 12, 12);
//! let weights = bench::random_weights(&layer, 1).unwrap();
//! let plan = Plan::new(&layer, &weights, shape, Isa::Portable).unwrap();
//! let mut buffers = bench::Buffers::new(&plan, 2);
//! let median = bench::median_time(3, 1, || buffers.run());
//! let gflops = bench::gflops(plan.macs(), median);
//! assert!(gflops > 0.0);
//! ```

use crate::{AlignedVec, Isa, MixConv, Plan, Result, Threads, Weights};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// FLOPs of `macs` multiply-adds (2 each, padding taps counted as [`Plan::macs`] does).
pub fn flops(macs: u64) -> u64 {
    2 * macs
}

/// GFLOP/s of `macs` multiply-adds done in `time`.
pub fn gflops(macs: u64, time: Duration) -> f64 {
    flops(macs) as f64 / time.as_secs_f64().max(1e-12) / 1e9
}

/// This CPU's f32 FMA peak on one core with `isa`'s vectors, in GFLOP/s: 12–16 independent FMA
/// chains ([`mixconv_kernels::peak`]), the best of 10 runs of about 4 ms (short, so that some
/// escape other processes, which only ever lower a run's figure). Measured once per ISA per
/// process (~50 ms), then cached. Returns 0.0 when the CPU cannot run `isa`.
pub fn peak_gflops(isa: Isa) -> f64 {
    static PEAKS: [OnceLock<f64>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = Isa::ALL.iter().position(|&i| i == isa).unwrap_or(0);
    *PEAKS[slot].get_or_init(|| measure_peak(isa))
}

fn measure_peak(isa: Isa) -> f64 {
    use mixconv_kernels::peak::fma_flops;
    if !isa.is_available() {
        return 0.0;
    }
    // Calibrate: grow the iteration count until one run takes a few milliseconds.
    let mut iterations = 1u64 << 12;
    loop {
        let start = Instant::now();
        fma_flops(isa, iterations);
        let t = start.elapsed();
        if t >= Duration::from_millis(3) || iterations >= 1 << 34 {
            let scale = 0.004 / t.as_secs_f64().max(1e-9);
            iterations = ((iterations as f64 * scale) as u64).max(1);
            break;
        }
        iterations *= 4;
    }
    (0..10)
        .map(|_| {
            let start = Instant::now();
            let done = fma_flops(isa, iterations).unwrap_or(0);
            done as f64 / start.elapsed().as_secs_f64().max(1e-12) / 1e9
        })
        .fold(0.0, f64::max)
}

/// The median time of `runs` calls of `f` after `warmup` untimed ones.
pub fn median_time(runs: usize, warmup: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Runs `f` at least `min_runs` times and until `budget` has passed (at most `max_runs`
/// times), after one warm-up call; returns the median time and the number of timed runs.
pub fn median_time_within(
    min_runs: usize,
    max_runs: usize,
    budget: Duration,
    mut f: impl FnMut(),
) -> (Duration, usize) {
    f();
    let begin = Instant::now();
    let mut times = Vec::new();
    while times.len() < max_runs.max(1)
        && (times.len() < min_runs.max(1) || begin.elapsed() < budget)
    {
        let start = Instant::now();
        f();
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times.len())
}

/// Bytes of inputs, outputs and packed weights that [`Buffers::for_plan`] spreads the runs
/// over: more than L2 holds, so no iteration finds the previous one's data in L1 or L2 (as a
/// layer of a network finds neither its weights nor, mostly, its input there), and less than
/// L3 holds (as a network's layer finds the input the layer before it has just written).
pub const ROTATION_BYTES: usize = 8 << 20;

/// Copies of one plan (each with its own packed weights) and as many random inputs and
/// outputs, used in turn so that successive runs do not find their data, weights included,
/// left in L1 (or L2) by the previous run.
pub struct Buffers {
    /// Copies of the plan.
    pub plans: Vec<Plan>,
    /// Inputs, random in `[-1, 1)`.
    pub inputs: Vec<AlignedVec>,
    /// Outputs.
    pub outputs: Vec<AlignedVec>,
    next: usize,
}

impl Buffers {
    /// `count` (at least 1) copies of `plan`, random inputs and outputs.
    pub fn new(plan: &Plan, count: usize) -> Self {
        let count = count.max(1);
        Buffers {
            plans: vec![plan.clone(); count],
            inputs: (0..count)
                .map(|i| AlignedVec::from_slice(&random_vec(plan.input_len(), 0x5eed + i as u64)))
                .collect(),
            outputs: (0..count)
                .map(|_| AlignedVec::zeros(plan.output_len()))
                .collect(),
            next: 0,
        }
    }

    /// As many copies as make [`ROTATION_BYTES`] of inputs, outputs and weights, at most 64.
    /// A layer larger than that runs one copy: its next run starts on the rows the last one
    /// left L2 first (a second copy of MixNet-L's 12 MB layer 1 put 24 MB in rotation, out of
    /// this machine's shared L3: 2.4–2.8× slower, the time of reading it from memory).
    pub fn for_plan(plan: &Plan) -> Self {
        let weights: usize = plan
            .groups()
            .iter()
            .map(|g| g.weights.len() + g.bias.len())
            .sum();
        let bytes = ((plan.input_len() + plan.output_len() + weights) * 4).max(1);
        Self::new(plan, ROTATION_BYTES.div_ceil(bytes).clamp(1, 64))
    }

    /// Index of the copy the next run uses, advancing the rotation.
    pub fn advance(&mut self) -> usize {
        let i = self.next;
        self.next = (self.next + 1) % self.inputs.len();
        i
    }

    /// Runs the next copy of the plan on the next input and output, on the calling thread.
    pub fn run(&mut self) {
        self.run_with(Threads::Single);
    }

    /// [`Buffers::run`] on the given threads.
    pub fn run_with(&mut self, threads: Threads<'_>) {
        let i = self.advance();
        self.plans[i]
            .run_with(&self.inputs[i], &mut self.outputs[i], threads)
            .expect("buffers sized for the plan");
    }

    /// Instead of a run, moves its data alone: streams the next copy's input into its output
    /// with `isa`'s vectors ([`mixconv_kernels::stream`]), each of `threads` threads an equal
    /// share of the output lines and the input lines they sum. Timed like runs, this is the
    /// layer's memory floor: what no kernel reading the input and writing the output once
    /// can beat. Does nothing when the CPU lacks `isa`.
    pub fn stream_with(&mut self, isa: Isa, threads: Threads<'_>) {
        use mixconv_kernels::stream::stream;
        let i = self.advance();
        let (input, output) = (&self.inputs[i][..], &mut self.outputs[i][..]);
        match threads {
            #[cfg(feature = "rayon")]
            Threads::Current => stream_shares(isa, input, output, rayon::current_num_threads()),
            #[cfg(feature = "rayon")]
            Threads::Pool(pool) => {
                pool.install(|| stream_shares(isa, input, output, pool.current_num_threads()))
            }
            _ => {
                stream(isa, input, output);
            }
        }
    }
}

/// [`Buffers::stream_with`] on the current rayon pool: `parts` equal shares of the output
/// lines, each with the input lines it sums.
#[cfg(feature = "rayon")]
fn stream_shares(isa: Isa, input: &[f32], output: &mut [f32], parts: usize) {
    use mixconv_kernels::stream::{LINE, stream};
    use rayon::prelude::*;
    let (n_in, n_out) = (input.len() / LINE, output.len() / LINE);
    let per_part = n_out.div_ceil(parts.max(1)).max(1) * LINE;
    // Output line `o` starts on input line ⌊o·n_in/n_out⌋, as in `stream`.
    let first_input = |o: usize| (o / LINE * n_in).checked_div(n_out).unwrap_or(0) * LINE;
    output
        .par_chunks_mut(per_part)
        .enumerate()
        .for_each(|(p, out)| {
            let o = p * per_part;
            let end = (o + out.len()).min(n_out * LINE);
            stream(isa, &input[first_input(o)..first_input(end)], out);
        });
}

/// A small deterministic generator (64-bit LCG, high bits out): no `rand` dependency.
#[derive(Clone, Debug)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut g = Lcg(seed ^ 0x9e37_79b9_7f4a_7c15);
        g.next_u32();
        g
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// Uniform in `[-1, 1)`.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u32() as usize) % (hi - lo + 1)
    }
}

/// `len` values uniform in `[-1, 1)` from `seed`.
pub fn random_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut g = Lcg::new(seed);
    (0..len).map(|_| g.next_f32()).collect()
}

/// Random HWC weights for every group of `layer` (no bias), from `seed`.
pub fn random_weights(layer: &MixConv, seed: u64) -> Result<Weights> {
    let sizes = layer.group_channels()?;
    Ok(Weights::hwc(
        sizes
            .iter()
            .zip(layer.kernels())
            .enumerate()
            .map(|(g, (c, k))| random_vec(k * k * c, seed.wrapping_add(g as u64 * 7919)))
            .collect(),
    ))
}

/// Name of this CPU (the brand string the OS reports), or the architecture.
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_positive_for_available_isas_and_cached() {
        for isa in crate::available_isas() {
            let p = peak_gflops(isa);
            assert!(p > 0.1, "{isa}: {p}");
            assert_eq!(peak_gflops(isa), p);
        }
    }

    #[test]
    fn lcg_is_deterministic_and_in_range() {
        let a = random_vec(1000, 3);
        assert_eq!(a, random_vec(1000, 3));
        assert_ne!(a, random_vec(1000, 4));
        assert!(a.iter().all(|v| (-1.0..1.0).contains(v)));
        let mut g = Lcg::new(1);
        assert!((0..1000).all(|_| (3..=5).contains(&g.range(3, 5))));
    }

    #[test]
    fn rotation_spans_8_mib_of_inputs_and_outputs_with_one_copy_of_large_layers() {
        let bytes = |b: &Buffers| {
            let p = &b.plans[0];
            let w: usize = p
                .groups()
                .iter()
                .map(|g| g.weights.len() + g.bias.len())
                .sum();
            (p.input_len() + p.output_len() + w) * 4
        };
        let plan = |c: usize, hw: usize| {
            let layer = MixConv::new(c, &[3, 5]);
            let weights = random_weights(&layer, 1).unwrap();
            Plan::new(
                &layer,
                &weights,
                crate::Shape::new(1, hw, hw),
                Isa::Portable,
            )
            .unwrap()
        };
        // 28×28×240 (1.5 MB a copy): enough copies for 8 MiB, not one more.
        let small = Buffers::for_plan(&plan(240, 28));
        let n = small.inputs.len();
        assert!(n * bytes(&small) >= ROTATION_BYTES, "{n} copies");
        assert!((n - 1) * bytes(&small) < ROTATION_BYTES, "{n} copies");
        assert_eq!((small.plans.len(), small.outputs.len()), (n, n));
        // 112×112×192 with its output: 12 MB, more than the rotation: one copy.
        let large = Buffers::for_plan(&plan(192, 112));
        assert!(bytes(&large) > ROTATION_BYTES);
        assert_eq!(large.inputs.len(), 1);
    }

    #[cfg(feature = "rayon")]
    #[test]
    fn streaming_sums_every_input_line_into_one_output_line_on_any_threads() {
        // A stride-2 layer (output lines a quarter of the input's) whose last output line is
        // partial; integer inputs, so that the sums are exact in any grouping.
        let layer = MixConv::new(19, &[3, 5]).stride(2);
        let weights = random_weights(&layer, 1).unwrap();
        let shape = crate::Shape::new(1, 13, 13);
        let plan = Plan::new(&layer, &weights, shape, Isa::Portable).unwrap();
        let mut buffers = Buffers::new(&plan, 1);
        let line = mixconv_kernels::stream::LINE;
        let (in_whole, out_whole) = (
            plan.input_len() / line * line,
            plan.output_len() / line * line,
        );
        assert!(in_whole > out_whole && out_whole > 2 * line && out_whole < plan.output_len());
        for (i, x) in buffers.inputs[0].iter_mut().enumerate() {
            *x = (i % 7) as f32;
        }
        let in_sum: f32 = buffers.inputs[0][..in_whole].iter().sum();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for threads in [Threads::Single, Threads::Pool(&pool)] {
            for isa in crate::available_isas() {
                buffers.outputs[0].fill(-1.0);
                buffers.stream_with(isa, threads);
                let out = &buffers.outputs[0];
                let out_sum: f32 = out[..out_whole].iter().sum();
                assert_eq!(out_sum, in_sum, "{isa}");
                assert!(out[out_whole..].iter().all(|&x| x == -1.0), "{isa}");
            }
        }
    }

    #[test]
    fn gflops_counts_two_flops_per_mac() {
        assert_eq!(flops(10), 20);
        assert!((gflops(500_000_000, Duration::from_secs(1)) - 1.0).abs() < 1e-9);
    }
}
