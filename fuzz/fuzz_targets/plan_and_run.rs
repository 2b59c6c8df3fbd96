//! Any layer, shape, weights and buffers the fuzzer makes, on every ISA of this machine:
//! `Plan::new` and `Plan::run` either refuse with an error that names something, writing
//! nothing, or run; a run writes only the layer's elements of its output, matches the
//! reference within `Σ|x·w| + |bias|`-scaled tolerance where the data is finite, and gives
//! the same bits when its tasks run one by one.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mixconv::{
    Activation, Error, MixConv, Padding, Plan, Shape, Split, Weights, available_isas, reference,
};

/// Reference work (multiply-adds) above which a case is skipped, to keep runs fast.
const MAX_MACS: u64 = 1 << 20;

/// Output elements no run may write hold these bits.
const CANARY: u32 = 0x7fc0_dead;

#[derive(Arbitrary, Debug)]
enum SplitKind {
    Equal,
    Exponential,
    Explicit(Vec<u16>),
}

#[derive(Arbitrary, Debug)]
enum PaddingKind {
    Symmetric,
    TfSame,
    Explicit(u8, u8, u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Case {
    channels: u16,
    kernels: Vec<u8>,
    split: SplitKind,
    stride: u8,
    dilations: Option<Vec<u8>>,
    padding: PaddingKind,
    /// Padding of group 0 alone (mixed paddings).
    group0_padding: Option<PaddingKind>,
    activation: u8,
    clamp: Option<(i8, i8)>,
    batch: u8,
    height: u8,
    width: u8,
    /// Extra floats between pixels, beyond the channels.
    in_gap: Option<u8>,
    out_gap: Option<u8>,
    /// Weights one float too short or too long for group `.0`.
    weights_off: Option<(u8, bool)>,
    bias: bool,
    /// Buffers shorter or longer than the plan allows (wrapping).
    input_len_off: i8,
    output_len_off: i8,
    /// A non-finite value put in the input or the weights (no tolerance check then).
    non_finite: Option<(bool, u16, u8)>,
    seed: u64,
}

fn padding(p: &PaddingKind) -> Padding {
    match *p {
        PaddingKind::Symmetric => Padding::Symmetric,
        PaddingKind::TfSame => Padding::TfSame,
        PaddingKind::Explicit(top, bottom, left, right) => Padding::Explicit {
            top: top as usize % 16,
            bottom: bottom as usize % 16,
            left: left as usize % 16,
            right: right as usize % 16,
        },
    }
}

/// Values in [-1, 1) from a 64-bit LCG.
fn values(seed: &mut u64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// An error must name what it refuses.
fn named(e: Error) {
    assert!(!e.to_string().is_empty(), "{e:?} has no message");
}

fn canaries(n: usize) -> Vec<f32> {
    vec![f32::from_bits(CANARY); n]
}

fn untouched(out: &[f32]) -> bool {
    out.iter().all(|x| x.to_bits() == CANARY)
}

fuzz_target!(|case: Case| {
    let kernels: Vec<usize> = case
        .kernels
        .iter()
        .take(7)
        .map(|&k| k as usize % 17)
        .collect();
    let mut layer = MixConv::new(case.channels as usize % 400, &kernels)
        .stride(case.stride as usize % 5)
        .padding(padding(&case.padding));
    layer = layer.split(match &case.split {
        SplitKind::Equal => Split::Equal,
        SplitKind::Exponential => Split::Exponential,
        SplitKind::Explicit(v) => {
            Split::Explicit(v.iter().take(7).map(|&c| c as usize % 400).collect())
        }
    });
    if let Some(d) = &case.dilations {
        layer = layer.dilations(
            &d.iter()
                .take(7)
                .map(|&d| d as usize % 7)
                .collect::<Vec<_>>(),
        );
    }
    if let Some(p) = &case.group0_padding {
        layer = layer.group_padding(0, padding(p));
    }
    let activation = match case.activation % 5 {
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::Relu6,
        3 => Activation::Silu,
        _ => Activation::HardSwish,
    };
    layer = layer.activation(activation);
    if let Some((lo, hi)) = case.clamp {
        layer = layer.clamp(lo as f32 / 8.0, hi as f32 / 8.0);
    }
    let sizes = match layer.group_channels() {
        Ok(sizes) => sizes,
        Err(e) => return named(e),
    };
    let mut seed = case.seed;
    let mut groups: Vec<Vec<f32>> = kernels
        .iter()
        .zip(&sizes)
        .map(|(k, c)| values(&mut seed, k * k * c))
        .collect();
    let group_count = groups.len();
    if let Some((g, longer)) = case.weights_off
        && group_count > 0
    {
        let g = &mut groups[g as usize % group_count];
        if longer {
            g.push(0.5);
        } else {
            g.pop();
        }
    }
    let channels = layer.channels();
    if let Some((in_input, at, which)) = case.non_finite
        && !in_input
        && group_count > 0
    {
        let g = &mut groups[which as usize % group_count];
        if !g.is_empty() {
            let n = g.len();
            g[at as usize % n] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][which as usize % 3];
        }
    }
    let mut weights = Weights::hwc(groups);
    if case.bias {
        weights = weights.with_bias(values(&mut seed, channels));
    }
    let mut shape = Shape::new(
        case.batch as usize % 3,
        case.height as usize % 40,
        case.width as usize % 40,
    );
    if let Some(gap) = case.in_gap {
        shape = shape.input_pixel_stride(channels + gap as usize % 20);
    }
    if let Some(gap) = case.out_gap {
        shape = shape.output_pixel_stride(channels + gap as usize % 20);
    }

    for isa in available_isas() {
        let plan = match Plan::new(&layer, &weights, shape, isa) {
            Ok(plan) => plan,
            Err(e) => return named(e),
        };
        if plan.macs() > MAX_MACS {
            return;
        }
        let in_len = plan
            .input_len()
            .wrapping_add_signed(case.input_len_off as isize % 3);
        let out_len = plan
            .output_len()
            .wrapping_add_signed(case.output_len_off as isize % 3);
        if in_len > 1 << 24 || out_len > 1 << 24 {
            return;
        }
        let mut input = values(&mut seed, in_len);
        if let Some((true, at, which)) = case.non_finite
            && in_len > 0
        {
            input[at as usize % in_len] =
                [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][which as usize % 3];
        }
        let mut output = canaries(out_len);
        if let Err(e) = plan.run(&input, &mut output) {
            assert!(untouched(&output), "{isa:?}: refused ({e}) but wrote");
            assert!(!plan.input_lens().contains(&in_len) || !plan.output_lens().contains(&out_len));
            return named(e);
        }
        assert!(plan.input_lens().contains(&in_len) && plan.output_lens().contains(&out_len));

        // The tasks one by one give the same bits.
        let mut by_task = canaries(out_len);
        for t in 0..plan.tasks().len() {
            let range = plan
                .task_output_range(t)
                .expect("a task of a plan that ran");
            plan.run_task(t, &input, &mut by_task[range])
                .expect("a task of a plan that ran");
        }
        assert!(
            output
                .iter()
                .zip(&by_task)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{isa:?}: tasks one by one differ from the whole run"
        );

        let (n, oh, ow, _) = plan.output_dims();
        let out_ps = shape.output_pixel_stride.unwrap_or(channels);
        let is_layer = |i: usize| i / out_ps < n * oh * ow && i % out_ps < channels;
        let mut want = canaries(out_len);
        reference::mixconv(&layer, &weights, shape, &input, &mut want)
            .expect("the reference runs what the plan runs");
        let magnitude = reference::magnitudes(&layer, &weights, shape, &input).expect("as above");
        // The test suite's tolerance (tests/common: `tolerance`, `slope`).
        let slope = match activation {
            Activation::Silu => 1.1,
            Activation::HardSwish => 1.5,
            _ => 1.0,
        };
        for (i, (&got, &want)) in output.iter().zip(&want).enumerate() {
            if !is_layer(i) {
                assert_eq!(
                    got.to_bits(),
                    CANARY,
                    "{isa:?}: element {i} outside the layer was written"
                );
            } else if case.non_finite.is_none() {
                let tol = 1e-5 * 4.0 * magnitude[i] * slope + 1e-6;
                assert!(
                    (got - want).abs() <= tol,
                    "{isa:?}: element {i}: got {got}, want {want}, tolerance {tol}"
                );
            } else {
                assert!(
                    got.to_bits() != CANARY,
                    "{isa:?}: element {i} of the layer not written"
                );
            }
        }
    }
});
