//! The memory-floor probe against its definition: output line `o` of `n_out` is the lane-wise
//! sum, in order, of input lines `⌊o·n_in/n_out⌋ .. ⌊(o+1)·n_in/n_out⌋`; floats past the last
//! whole line are left alone; every ISA this CPU has gives the same bits.

use mixconv_kernels::Isa;
use mixconv_kernels::stream::{LINE, stream};

/// What `stream` must write, line by line, summing in the same order.
fn model(input: &[f32], output_len: usize) -> Vec<f32> {
    let (n_in, n_out) = (input.len() / LINE, output_len / LINE);
    let mut out = vec![0.0f32; n_out * LINE];
    for o in 0..n_out {
        for line in o * n_in / n_out..(o + 1) * n_in / n_out {
            for lane in 0..LINE {
                out[o * LINE + lane] += input[line * LINE + lane];
            }
        }
    }
    out
}

/// Values whose sums round differently in another order.
fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0 + 1e-3 * (s >> 28) as f32
        })
        .collect()
}

#[test]
fn every_isa_writes_the_defined_sums_and_nothing_past_the_whole_lines() {
    const CANARY: f32 = -7.25;
    // (input floats, output floats): stride 2 (4 lines to 1), stride 1, ratios that leave
    // remainders, more output lines than input ones (empty ranges), partial last lines, none.
    let cases = [
        (64 * LINE, 16 * LINE),
        (33 * LINE, 33 * LINE),
        (37 * LINE + 5, 10 * LINE + 3),
        (10 * LINE, 23 * LINE),
        (3 * LINE, 7),
        (5, 2 * LINE),
        (0, LINE),
        (4 * LINE, 0),
        (0, 0),
    ];
    for isa in Isa::ALL {
        assert_eq!(
            stream(isa, &[], &mut []).is_some(),
            isa.is_available(),
            "{isa}"
        );
        if !isa.is_available() {
            continue;
        }
        for (seed, &(in_len, out_len)) in cases.iter().enumerate() {
            let input = values(in_len, seed as u32);
            let mut output = vec![CANARY; out_len];
            stream(isa, &input, &mut output).unwrap();
            let expected = model(&input, out_len);
            let whole = expected.len();
            let same = output[..whole]
                .iter()
                .zip(&expected)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{isa}, {in_len} -> {out_len}: sums differ");
            assert!(
                output[whole..].iter().all(|&x| x == CANARY),
                "{isa}, {in_len} -> {out_len}: wrote past the last whole line"
            );
        }
    }
}
