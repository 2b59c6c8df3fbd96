//! Every available ISA against `mixconv::reference`: random layers (proptest) and
//! deterministic sweeps over the kernel shapes, channel counts and widths that the
//! register-blocked SIMD engines specialise for (tiles of up to 14 pixels along W,
//! 8- or 16-lane channel blocks with masked tails, border tiles).
//!
//! Every comparison is scaled by the element's `Σ|x·w| + |bias|` (`reference::magnitudes`),
//! and every output element outside the layer's channels must keep a canary's exact bits.

mod common;

use common::{Rng, canary, check_output};
use mixconv::{
    Activation, Error, MixConv, Padding, Pads, Plan, Shape, Split, Weights, available_isas,
    reference,
};
use proptest::prelude::*;

/// One test layer with its tensors' layout.
#[derive(Clone, Debug)]
struct Case {
    channels: usize,
    kernels: Vec<usize>,
    dilations: Vec<usize>,
    /// One per group.
    paddings: Vec<Padding>,
    split: Split,
    stride: usize,
    batch: usize,
    h: usize,
    w: usize,
    activation: Activation,
    clamp: Option<(f32, f32)>,
    bias: bool,
    /// Input pixel stride = channels + in_extra; the layer reads channels in_offset.. of it.
    in_extra: usize,
    in_offset: usize,
    /// Pass the shortest accepted input slice (ending at the layer's last channel).
    in_trim: bool,
    out_extra: usize,
    out_offset: usize,
    out_trim: bool,
    /// A group whose input channels are NaN: its outputs are not compared, the others must
    /// be unaffected.
    nan_group: Option<usize>,
    seed: u64,
}

impl Case {
    /// A dense single-image case with symmetric padding and no extras.
    fn simple(channels: usize, kernels: &[usize], h: usize, w: usize) -> Case {
        Case {
            channels,
            kernels: kernels.to_vec(),
            dilations: vec![1; kernels.len()],
            paddings: vec![Padding::Symmetric; kernels.len()],
            split: Split::Equal,
            stride: 1,
            batch: 1,
            h,
            w,
            activation: Activation::None,
            clamp: None,
            bias: true,
            in_extra: 0,
            in_offset: 0,
            in_trim: false,
            out_extra: 0,
            out_offset: 0,
            out_trim: false,
            nan_group: None,
            seed: 1,
        }
    }

    fn layer(&self) -> MixConv {
        let mut layer = MixConv::new(self.channels, &self.kernels)
            .dilations(&self.dilations)
            .stride(self.stride)
            .split(self.split.clone())
            .activation(self.activation);
        if let Some((lo, hi)) = self.clamp {
            layer = layer.clamp(lo, hi);
        }
        for (g, &p) in self.paddings.iter().enumerate() {
            layer = layer.group_padding(g, p);
        }
        layer
    }

    fn shape(&self) -> Shape {
        let mut shape = Shape::new(self.batch, self.h, self.w);
        if self.in_extra > 0 || self.in_trim {
            shape = shape.input_pixel_stride(self.channels + self.in_extra);
        }
        if self.out_extra > 0 || self.out_trim {
            shape = shape.output_pixel_stride(self.channels + self.out_extra);
        }
        shape
    }
}

/// Independent oracle of the split rules (documented in `Split`).
fn oracle_split(split: &Split, channels: usize, groups: usize) -> Vec<usize> {
    match split {
        Split::Equal => (0..groups)
            .map(|g| channels / groups + if g == 0 { channels % groups } else { 0 })
            .collect(),
        Split::Exponential => {
            let mut sizes: Vec<usize> = (0..groups - 1).map(|i| channels >> (i + 1)).collect();
            let rest = channels - sizes.iter().sum::<usize>();
            sizes.push(rest);
            sizes
        }
        Split::Explicit(sizes) => sizes.clone(),
    }
}

/// Independent oracle of a group's pads and output size along one axis.
fn oracle_axis(
    padding: Padding,
    size: usize,
    kernel: usize,
    dilation: usize,
    stride: usize,
    first: bool,
) -> (usize, usize, Option<usize>) {
    let reach = (kernel - 1) * dilation;
    let (before, after) = match padding {
        Padding::Symmetric => (reach / 2, reach / 2),
        Padding::TfSame => {
            let out = size.div_ceil(stride);
            let total = ((out - 1) * stride + reach + 1).saturating_sub(size);
            (total / 2, total - total / 2)
        }
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => {
            if first {
                (top, bottom)
            } else {
                (left, right)
            }
        }
    };
    let padded = size + before + after;
    let out = (padded > reach).then(|| (padded - reach - 1) / stride + 1);
    (before, after, out)
}

/// What `Plan::new` must return for a case: the pads of each group and the output size, or
/// the error (in the order `MixConv::resolve` checks).
/// Group channel counts, pads, and the shared output (height, width).
type Resolved = (Vec<usize>, Vec<Pads>, (usize, usize));

fn oracle(case: &Case) -> Result<Resolved, Error> {
    let groups = case.kernels.len();
    let sizes = oracle_split(&case.split, case.channels, groups);
    if let Some(group) = sizes.iter().position(|&s| s == 0) {
        return Err(Error::EmptyGroup { group });
    }
    let mut pads = Vec::new();
    let mut out = None;
    for g in 0..groups {
        let (k, d, p) = (case.kernels[g], case.dilations[g], case.paddings[g]);
        let (top, bottom, oh) = oracle_axis(p, case.h, k, d, case.stride, true);
        let (left, right, ow) = oracle_axis(p, case.w, k, d, case.stride, false);
        let size = match (oh, ow) {
            (Some(oh), Some(ow)) => (oh, ow),
            _ => return Err(Error::NoOutput { group: g }),
        };
        match out {
            None => out = Some(size),
            Some(expected) if expected != size => {
                return Err(Error::GroupOutputMismatch {
                    group: g,
                    size,
                    expected,
                });
            }
            _ => {}
        }
        pads.push(Pads {
            top,
            bottom,
            left,
            right,
        });
    }
    Ok((sizes, pads, out.unwrap()))
}

/// Plans and runs `case` on every available ISA and compares with the reference.
fn run_case(case: &Case) -> Result<(), String> {
    let layer = case.layer();
    let shape = case.shape();
    let mut rng = Rng::new(case.seed);
    let expected = oracle(case);
    let group_sizes = match &expected {
        Ok((sizes, _, _)) => sizes.clone(),
        Err(_) => oracle_split(&case.split, case.channels, case.kernels.len()),
    };
    let weights: Vec<Vec<f32>> = case
        .kernels
        .iter()
        .zip(&group_sizes)
        .map(|(&k, &c)| rng.vec(k * k * c, -1.0, 1.0))
        .collect();
    let mut weights = Weights::hwc(weights);
    if case.bias {
        weights = weights.with_bias(rng.vec(case.channels, -1.0, 1.0));
    }

    let (sizes, pads, (oh, ow)) = match expected {
        Err(e) => {
            for isa in available_isas() {
                let got = Plan::new(&layer, &weights, shape, isa).err();
                if got.as_ref() != Some(&e) {
                    return Err(format!("{isa}: expected {e:?}, Plan::new gave {got:?}"));
                }
            }
            return Ok(());
        }
        Ok(v) => v,
    };

    let plans: Vec<Plan> = available_isas()
        .into_iter()
        .map(|isa| Plan::new(&layer, &weights, shape, isa))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("Plan::new failed: {e}"))?;
    let first = &plans[0];
    if first.output_dims() != (case.batch, oh, ow, case.channels) {
        return Err(format!(
            "output dims {:?}, expected {:?}",
            first.output_dims(),
            (case.batch, oh, ow, case.channels)
        ));
    }
    let mut macs = 0u64;
    for (g, planned) in first.groups().iter().enumerate() {
        if planned.group.pads != pads[g] || planned.group.channels != sizes[g] {
            return Err(format!(
                "group {g}: planned {:?}, expected pads {:?} and {} channels",
                planned.group, pads[g], sizes[g]
            ));
        }
        // Interior: the output positions whose whole window lies inside the input, by brute force.
        let (k, d) = (case.kernels[g], case.dilations[g]);
        let inside = |o: usize, pad: usize, size: usize| {
            (0..k).all(|t| {
                (o * case.stride + t * d)
                    .checked_sub(pad)
                    .is_some_and(|i| i < size)
            })
        };
        let rows: Vec<usize> = (0..oh)
            .filter(|&y| inside(y, pads[g].top, case.h))
            .collect();
        let cols: Vec<usize> = (0..ow)
            .filter(|&x| inside(x, pads[g].left, case.w))
            .collect();
        let listed = |r: &std::ops::Range<usize>| r.clone().collect::<Vec<_>>();
        if listed(&planned.interior_rows) != rows || listed(&planned.interior_cols) != cols {
            return Err(format!(
                "group {g}: interior rows {:?} cols {:?}, expected {rows:?} {cols:?}",
                planned.interior_rows, planned.interior_cols
            ));
        }
        macs += (k * k * sizes[g] * case.batch * oh * ow) as u64;
    }
    if first.macs() != macs {
        return Err(format!("macs {} expected {macs}", first.macs()));
    }

    // Input: the layer's channels random, every other element NaN (must never be read).
    let (c, s_in, s_out) = (
        case.channels,
        case.channels + case.in_extra,
        case.channels + case.out_extra,
    );
    let in_pixels = case.batch * case.h * case.w;
    let mut input = vec![f32::NAN; in_pixels * s_in];
    let nan_channels = case.nan_group.map(|g| {
        let start: usize = sizes[..g].iter().sum();
        start..start + sizes[g]
    });
    for p in 0..in_pixels {
        for ch in 0..c {
            let v = rng.f32(-2.0, 2.0);
            if !nan_channels.as_ref().is_some_and(|r| r.contains(&ch)) {
                input[p * s_in + case.in_offset + ch] = v;
            }
        }
    }
    let in_end = if case.in_trim {
        case.in_offset + (in_pixels - 1) * s_in + c
    } else {
        input.len()
    };
    let input_slice = &input[case.in_offset..in_end];

    let out_pixels = case.batch * oh * ow;
    let out_len = out_pixels * s_out;
    let out_range = case.out_offset..if case.out_trim {
        case.out_offset + (out_pixels - 1) * s_out + c
    } else {
        out_len
    };
    let mut want = vec![canary(); out_len];
    reference::mixconv(
        &layer,
        &weights,
        shape,
        input_slice,
        &mut want[out_range.clone()],
    )
    .map_err(|e| format!("reference failed: {e}"))?;
    let mags_rel = reference::magnitudes(&layer, &weights, shape, input_slice)
        .map_err(|e| format!("magnitudes failed: {e}"))?;
    let mut mags = vec![0.0; out_len];
    for (i, m) in mags_rel.into_iter().enumerate() {
        if case.out_offset + i < out_len {
            mags[case.out_offset + i] = m;
        }
    }
    let compared = |i: usize| {
        let ch = i % s_out;
        (case.out_offset..case.out_offset + c).contains(&ch)
            && !nan_channels
                .as_ref()
                .is_some_and(|r| r.contains(&(ch - case.out_offset)))
    };
    let in_layer = |i: usize| {
        let ch = i % s_out;
        (case.out_offset..case.out_offset + c).contains(&ch)
    };

    for plan in &plans {
        let mut got = vec![canary(); out_len];
        plan.run(input_slice, &mut got[out_range.clone()])
            .map_err(|e| format!("{}: run failed: {e}", plan.isa()))?;
        if nan_channels.is_some() {
            // The NaN group's outputs are free: mark them with the canary so that only the
            // other groups' elements are compared.
            for (i, v) in got.iter_mut().enumerate() {
                if in_layer(i) && !compared(i) {
                    *v = canary();
                }
            }
        }
        let result = check_output(&got, &want, &mags, case.activation, compared);
        result.map_err(|e| format!("{}: {e}\nplan:\n{plan}", plan.isa()))?;
    }
    Ok(())
}

fn assert_case(case: &Case) {
    if let Err(e) = run_case(case) {
        panic!("{e}\ncase: {case:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Random layers.

#[derive(Clone, Debug)]
struct GroupSpec {
    kernel: usize,
    dilation: usize,
    /// 0 symmetric, 1 TF SAME, 2 explicit.
    mode: u8,
    /// Explicit pads before (top, left) and after (bottom, right), 0..=8.
    pads: [usize; 4],
    /// Remainder added so an explicit group's output matches group 0's (0..stride).
    slack: (usize, usize),
    /// Adjust the explicit pads after to match group 0's output size.
    align: bool,
}

fn group_spec() -> impl Strategy<Value = GroupSpec> {
    (
        0usize..7,
        1usize..=4,
        0u8..3,
        [0usize..=8, 0usize..=8, 0usize..=8, 0usize..=8],
        (0usize..3, 0usize..3),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(k, dilation, mode, pads, slack, align)| GroupSpec {
            kernel: 2 * k + 1,
            dilation,
            mode,
            pads,
            slack,
            align,
        })
}

/// Explicit pads (before, after) that give `target` outputs, keeping at most `before` before.
fn aligned(
    size: usize,
    before: usize,
    reach: usize,
    stride: usize,
    target: usize,
    slack: usize,
) -> Option<(usize, usize)> {
    let total = ((target - 1) * stride + reach + 1 + slack % stride).checked_sub(size)?;
    let before = before.min(total);
    Some((before, total - before))
}

#[allow(clippy::type_complexity)]
fn case_strategy() -> impl Strategy<Value = Case> {
    let dims = (
        prop_oneof![1usize..=40, 1usize..=300],
        1usize..=3,
        1usize..=40,
        1usize..=40,
        1usize..=3,
    );
    let epilogue = (
        0usize..5,
        prop_oneof![
            Just(None),
            (-2.0f32..0.5, 0.0f32..3.0).prop_map(|(lo, span)| Some((lo, lo + span))),
            (-2.0f32..1.0).prop_map(|lo| Some((lo, f32::INFINITY))),
            (-1.0f32..2.0).prop_map(|hi| Some((f32::NEG_INFINITY, hi))),
        ],
        any::<bool>(),
    );
    let layout = (
        prop_oneof![Just(0usize), 1usize..=20],
        prop_oneof![Just(0usize), 1usize..=20],
        any::<(u8, u8, bool, bool)>(),
    );
    (
        prop::collection::vec(group_spec(), 1..=6),
        dims,
        0u8..3,
        epilogue,
        layout,
        any::<u64>(),
    )
        .prop_map(
            |(
                specs,
                (channels, stride, mut h, mut w, mut batch),
                split,
                (act, clamp, bias),
                (in_extra, out_extra, (in_off, out_off, in_trim, out_trim)),
                seed,
            )| {
                let groups = specs.len();
                let mut rng = Rng::new(seed ^ 0x5eed);
                let split = match split {
                    0 => Split::Equal,
                    1 => Split::Exponential,
                    _ => {
                        // Random cut points; groups may come out empty when C < g.
                        let mut cuts: Vec<usize> =
                            (0..groups - 1).map(|_| rng.below(channels + 1)).collect();
                        cuts.push(0);
                        cuts.push(channels);
                        cuts.sort_unstable();
                        Split::Explicit(cuts.windows(2).map(|p| p[1] - p[0]).collect())
                    }
                };
                // Bound the work: N·H·W·Σ C_g·K_g² MACs per pass.
                let weight = channels * specs.iter().map(|s| s.kernel * s.kernel).max().unwrap()
                    / stride
                    / stride;
                while batch * h * w * weight > 6_000_000 {
                    if batch > 1 {
                        batch -= 1;
                    } else if h >= w {
                        h = h.div_ceil(2);
                    } else {
                        w = w.div_ceil(2);
                    }
                }
                // Pads: explicit groups aligned to the shared output size where possible: the
                // symmetric / TF SAME size ceil(H/s) if any group uses those, else group 0's.
                let explicit = |spec: &GroupSpec| Padding::Explicit {
                    top: spec.pads[0],
                    left: spec.pads[1],
                    bottom: spec.pads[2],
                    right: spec.pads[3],
                };
                let target = if specs.iter().all(|s| s.mode == 2) {
                    let s0 = &specs[0];
                    let (_, _, oh) =
                        oracle_axis(explicit(s0), h, s0.kernel, s0.dilation, stride, true);
                    let (_, _, ow) =
                        oracle_axis(explicit(s0), w, s0.kernel, s0.dilation, stride, false);
                    oh.zip(ow)
                } else {
                    Some((h.div_ceil(stride), w.div_ceil(stride)))
                };
                let mut paddings = Vec::new();
                for spec in &specs {
                    let reach = (spec.kernel - 1) * spec.dilation;
                    let mut p = match spec.mode {
                        0 => Padding::Symmetric,
                        1 => Padding::TfSame,
                        _ => explicit(spec),
                    };
                    if let (Some((th, tw)), Padding::Explicit { top, left, .. }) = (target, p)
                        && spec.align
                    {
                        let rows = aligned(h, top, reach, stride, th, spec.slack.0);
                        let cols = aligned(w, left, reach, stride, tw, spec.slack.1);
                        if let (Some((top, bottom)), Some((left, right))) = (rows, cols) {
                            p = Padding::Explicit {
                                top,
                                bottom,
                                left,
                                right,
                            };
                        }
                    }
                    paddings.push(p);
                }
                let in_offset = in_off as usize % (in_extra + 1);
                let out_offset = out_off as usize % (out_extra + 1);
                Case {
                    channels,
                    kernels: specs.iter().map(|s| s.kernel).collect(),
                    dilations: specs.iter().map(|s| s.dilation).collect(),
                    paddings,
                    split,
                    stride,
                    batch,
                    h,
                    w,
                    activation: Activation::ALL[act],
                    clamp,
                    bias,
                    in_extra,
                    in_offset,
                    in_trim: in_trim && in_extra > 0,
                    out_extra,
                    out_offset,
                    out_trim: out_trim && out_extra > 0,
                    nan_group: None,
                    seed,
                }
            },
        )
}

/// `PROPTEST_CASES` when set, otherwise `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn random_layers_match_the_reference_on_every_isa(case in case_strategy()) {
        if let Err(e) = run_case(&case) {
            return Err(TestCaseError::fail(e));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic sweeps.

/// (K, stride, dilation) the engines run with generic kernels; the specialized ones come from
/// `mixconv_kernels::SPECIALIZED`, the list that also drives dispatch.
const GENERIC: &[(usize, usize, usize)] = &[
    (3, 2, 2),
    (3, 2, 4),
    (5, 2, 2),
    (7, 2, 2),
    (1, 1, 1),
    (1, 2, 1),
    (3, 3, 1),
    (5, 3, 2),
    (9, 1, 3),
    (5, 1, 4),
    (15, 1, 1),
    (11, 2, 2),
];
const CHANNELS: &[usize] = &[1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 90];

fn sweep(combos: &[(usize, usize, usize)]) {
    let mut index = 0u64;
    for &(k, stride, dilation) in combos {
        let reach = (k - 1) * dilation;
        let mut widths = vec![1, k - 1, k, 13, 14, 15, 28, 29, 30];
        widths.retain(|&w| w > 0);
        widths.sort_unstable();
        widths.dedup();
        for &c in CHANNELS {
            for &w in &widths {
                index += 1;
                let mut case = Case::simple(c, &[k], 0, w);
                case.dilations = vec![dilation];
                case.stride = stride;
                // Alternate between heights with interior rows and maps shorter than the window.
                case.h = if index.is_multiple_of(2) {
                    reach + 3
                } else {
                    1 + index as usize % 4
                };
                case.paddings = vec![match index % 3 {
                    0 => Padding::Symmetric,
                    1 => Padding::TfSame,
                    _ => Padding::Explicit {
                        top: reach / 2 + 1,
                        bottom: reach / 2,
                        left: reach / 2 + 1,
                        right: reach + 2,
                    },
                }];
                case.activation = Activation::ALL[index as usize % 5];
                if index.is_multiple_of(4) {
                    case.clamp = Some((-0.5, 0.75));
                }
                if index.is_multiple_of(5) {
                    case.batch = 2;
                }
                if index.is_multiple_of(7) {
                    case.in_extra = 5;
                    case.in_offset = 3;
                    case.out_extra = 9;
                    case.out_offset = 9;
                    case.in_trim = true;
                }
                case.seed = index;
                assert_case(&case);
            }
        }
    }
}

#[test]
fn specialized_kernels_match_the_reference() {
    assert!(
        GENERIC
            .iter()
            .all(|c| !mixconv_kernels::SPECIALIZED.contains(c))
    );
    sweep(mixconv_kernels::SPECIALIZED);
}

#[test]
fn generic_kernels_match_the_reference() {
    sweep(GENERIC);
}

#[test]
fn every_activation_with_and_without_clamp() {
    let clamps = [
        None,
        Some((-0.25, 0.5)),
        Some((0.1, 0.1)),
        Some((f32::NEG_INFINITY, -0.2)),
        Some((0.3, f32::INFINITY)),
    ];
    for (i, &activation) in Activation::ALL.iter().enumerate() {
        for (j, &clamp) in clamps.iter().enumerate() {
            let mut case = Case::simple(37, &[3, 5, 7], 11, 17);
            case.activation = activation;
            case.clamp = clamp;
            case.seed = (i * 10 + j) as u64;
            assert_case(&case);
        }
    }
}

#[test]
fn activations_change_the_output() {
    // Guards the test above: the activations and clamps really act on these values.
    let case = Case::simple(37, &[3, 5, 7], 11, 17);
    let layer = case.layer();
    let mut rng = Rng::new(1);
    let sizes = layer.group_channels().unwrap();
    let weights = Weights::hwc(
        case.kernels
            .iter()
            .zip(&sizes)
            .map(|(&k, &c)| rng.vec(k * k * c, -1.0, 1.0))
            .collect(),
    );
    let input = rng.vec(11 * 17 * 37, -2.0, 2.0);
    let run = |layer: &MixConv| {
        let mut out = vec![0.0; 11 * 17 * 37];
        reference::mixconv(layer, &weights, case.shape(), &input, &mut out).unwrap();
        out
    };
    let plain = run(&layer);
    assert!(plain.iter().any(|&v| v < -0.5) && plain.iter().any(|&v| v > 6.0));
    for activation in &Activation::ALL[1..] {
        assert_ne!(run(&layer.clone().activation(*activation)), plain);
    }
    assert_ne!(run(&layer.clone().clamp(-0.25, 0.5)), plain);
}

#[test]
fn mixnet_shaped_groups_fall_mid_vector() {
    // 362 = 92 + 90 + 90 + 90: every group boundary falls inside an 8- and a 16-lane block.
    for (stride, split, activation) in [
        (1, Split::Equal, Activation::Silu),
        (2, Split::Equal, Activation::Relu),
        (1, Split::Exponential, Activation::None),
        (
            2,
            Split::Explicit(vec![17, 100, 200, 45]),
            Activation::HardSwish,
        ),
    ] {
        let mut case = Case::simple(362, &[3, 5, 7, 9], 9, 9);
        case.stride = stride;
        case.split = split;
        case.activation = activation;
        assert_case(&case);
    }
    assert_eq!(
        MixConv::new(362, &[3, 5, 7, 9]).group_channels().unwrap(),
        [92, 90, 90, 90]
    );
    // Pixels of whole vectors (MixNet's 4 × 90 and 2 × 60): the groups after the first start
    // mid-vector at the same lane of every pixel, so their blocks lie on the pixel's vectors,
    // the first masked at its front (`Geometry::lead`: AVX2 2, 4, 6 and 4 lanes).
    for (channels, kernels, stride) in [(360, &[3, 5, 7, 9][..], 1), (120, &[3, 5][..], 2)] {
        let mut case = Case::simple(channels, kernels, 11, 10);
        case.stride = stride;
        case.activation = Activation::Silu;
        assert_case(&case);
    }
}

#[test]
fn banded_plans_match_the_reference() {
    // Inputs whose rows fill a band's bytes (`Plan::band_rows`) before the image ends: every
    // group runs band by band, the bands' first and last rows at the input's top and bottom
    // borders, groups starting mid-vector.
    for (channels, kernels, stride, h, w) in [
        (200, &[3, 5, 7][..], 2, 61, 96),
        (1000, &[3, 5, 7, 9][..], 1, 23, 40),
    ] {
        let mut case = Case::simple(channels, kernels, h, w);
        case.stride = stride;
        case.batch = 2;
        case.activation = Activation::Silu;
        let plan = Plan::new(
            &case.layer(),
            &Weights::hwc(
                case.layer()
                    .group_channels()
                    .unwrap()
                    .iter()
                    .zip(kernels)
                    .map(|(c, k)| vec![0.0; k * k * c])
                    .collect(),
            ),
            case.shape(),
            mixconv::Isa::Portable,
        )
        .unwrap();
        let out_h = plan.output_dims().1;
        assert!(
            (2..out_h).contains(&plan.band_rows()) && !out_h.is_multiple_of(plan.band_rows()),
            "{channels} channels: bands of {} of {out_h} rows",
            plan.band_rows()
        );
        assert_case(&case);
    }
}

#[test]
fn kernels_larger_than_the_map() {
    // 9×9 on 7×7: no output pixel sees the whole window.
    let case = Case::simple(20, &[9], 7, 7);
    assert_case(&case);
    let plan = Plan::new(
        &case.layer(),
        &Weights::hwc(vec![vec![0.0; 81 * 20]]),
        case.shape(),
        mixconv::Isa::Portable,
    )
    .unwrap();
    assert!(plan.groups()[0].interior_rows.is_empty());
    // 11×11 stride 2 on 14×14 (TF SAME and symmetric), mixed with a 3×3 group.
    for padding in [Padding::TfSame, Padding::Symmetric] {
        let mut case = Case::simple(35, &[11, 3], 14, 14);
        case.stride = 2;
        case.paddings = vec![padding; 2];
        assert_case(&case);
    }
    // 13×13 on 1×1 .. 3×3 with dilation, and 1-pixel-wide strips.
    for (h, w) in [(1, 1), (2, 3), (3, 2), (1, 30), (30, 1)] {
        let mut case = Case::simple(19, &[13, 3], h, w);
        case.dilations = vec![1, 4];
        assert_case(&case);
    }
}

#[test]
fn rows_of_every_width() {
    // Rows cut into full and narrower tiles in every order, with and without padding, at
    // strides 1 and 2: interior tiles of the full width and (at stride 1) 7-wide ones run
    // unchecked, border tiles checked; at stride 2 the driver also moves border tiles (an
    // unchecked full tile ending the row stands in for narrow ones). No output may be
    // left out, and no tile may read past the row.
    for (stride, k, dilation) in [(1, 3, 1), (1, 5, 1), (1, 7, 1), (1, 9, 1), (1, 3, 2)]
        .into_iter()
        .chain([3, 5, 7, 9].map(|k| (2, k, 1)))
    {
        let reach = (k - 1) * dilation + 1;
        for w in stride * reach..=stride * reach + 34 {
            for (i, padding) in [
                Padding::Symmetric,
                Padding::Explicit {
                    top: 0,
                    bottom: 0,
                    left: 0,
                    right: 0,
                },
            ]
            .into_iter()
            .enumerate()
            {
                let mut case = Case::simple(9 + 8 * i, &[k], reach + 1, w);
                case.stride = stride;
                case.dilations = vec![dilation];
                case.paddings = vec![padding];
                case.seed = (stride * 10_000 + k * 100 + w * 2 + i) as u64;
                assert_case(&case);
            }
        }
    }
}

#[test]
fn paddings_larger_than_the_reach() {
    // Output rows and columns that lie wholly in the padding hold just the bias.
    for (k, stride) in [(3, 1), (5, 2), (7, 1), (1, 1)] {
        let mut case = Case::simple(24, &[k], 5, 6);
        case.stride = stride;
        case.paddings = vec![Padding::Explicit {
            top: k + 3,
            bottom: k + 1,
            left: k + 4,
            right: 2 * k + 2,
        }];
        case.activation = Activation::Relu6;
        assert_case(&case);
    }
}

#[test]
fn nan_in_other_groups_and_outside_the_slice_does_not_leak() {
    for (nan_group, channels, kernels) in [
        (0, 40, vec![3, 5, 7]),
        (1, 40, vec![3, 5, 7]),
        (2, 33, vec![5, 3, 9]),
        (1, 17, vec![3, 3]),
    ] {
        let mut case = Case::simple(channels, &kernels, 9, 15);
        case.nan_group = Some(nan_group);
        case.in_extra = 11;
        case.in_offset = 5;
        case.out_extra = 3;
        case.out_offset = 1;
        assert_case(&case);
    }
}

#[test]
fn strided_slices_at_both_ends_of_the_pixel() {
    for (c, extra, offset_in, offset_out, trim) in [
        (9, 7, 0, 7, true),
        (16, 16, 16, 0, false),
        (17, 31, 31, 13, true),
        (33, 1, 1, 1, true),
        (1, 15, 15, 0, true),
    ] {
        let mut case = Case::simple(c, &[3, 7], 6, 15);
        case.split = Split::Exponential;
        case.in_extra = extra;
        case.out_extra = extra;
        case.in_offset = offset_in;
        case.out_offset = offset_out;
        case.in_trim = trim;
        case.out_trim = trim;
        case.batch = 2;
        assert_case(&case);
    }
}

#[test]
fn runs_are_bit_exact_and_ignore_the_output_contents() {
    let layer = MixConv::new(50, &[3, 5, 9])
        .stride(2)
        .activation(Activation::Silu);
    let mut rng = Rng::new(7);
    let sizes = layer.group_channels().unwrap();
    let weights = Weights::hwc(
        [3, 5, 9]
            .iter()
            .zip(&sizes)
            .map(|(&k, &c)| rng.vec(k * k * c, -1.0, 1.0))
            .collect(),
    )
    .with_bias(rng.vec(50, -1.0, 1.0));
    let shape = Shape::new(2, 17, 23);
    for isa in available_isas() {
        let plan = Plan::new(&layer, &weights, shape, isa).unwrap();
        let input = rng.vec(plan.input_len(), -3.0, 3.0);
        let mut a = vec![0.0; plan.output_len()];
        let mut b = vec![f32::NAN; plan.output_len()];
        let mut c = vec![1e30; plan.output_len()];
        plan.run(&input, &mut a).unwrap();
        plan.run(&input, &mut b).unwrap();
        plan.clone().run(&input, &mut c).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{isa}: two runs differ");
        assert_eq!(bits(&a), bits(&c), "{isa}: a cloned plan differs");
        assert!(a.iter().all(|v| v.is_finite()), "{isa}");
    }
}

#[test]
fn pytorch_weights_match_hwc_weights() {
    let layer = MixConv::new(21, &[3, 5]).split(Split::Explicit(vec![9, 12]));
    let mut rng = Rng::new(3);
    let torch = [rng.vec(9 * 9, -1.0, 1.0), rng.vec(12 * 25, -1.0, 1.0)];
    let mut hwc = vec![vec![0.0; 9 * 9], vec![0.0; 12 * 25]];
    for (g, (c, k)) in [(9, 3), (12, 5)].into_iter().enumerate() {
        for ch in 0..c {
            for t in 0..k * k {
                hwc[g][t * c + ch] = torch[g][ch * k * k + t];
            }
        }
    }
    let from_torch = Weights::from_pytorch(&layer, &torch).unwrap();
    assert_eq!(from_torch, Weights::hwc(hwc));
}

#[test]
fn oracle_agrees_with_documented_examples() {
    // Guards the test oracles against the documented behaviour.
    assert_eq!(oracle_split(&Split::Equal, 362, 4), [92, 90, 90, 90]);
    assert_eq!(oracle_split(&Split::Exponential, 32, 4), [16, 8, 4, 4]);
    assert_eq!(
        oracle_axis(Padding::TfSame, 112, 11, 1, 2, true),
        (4, 5, Some(56))
    );
    assert_eq!(
        oracle_axis(Padding::Symmetric, 7, 9, 1, 1, true),
        (4, 4, Some(7))
    );
    let mut case = Case::simple(4, &[3, 5], 8, 8);
    case.paddings = vec![
        Padding::Symmetric,
        Padding::Explicit {
            top: 0,
            bottom: 0,
            left: 2,
            right: 2,
        },
    ];
    assert_eq!(
        oracle(&case).unwrap_err(),
        Error::GroupOutputMismatch {
            group: 1,
            size: (4, 8),
            expected: (8, 8)
        }
    );
    assert_case(&case); // and the library agrees
}

/// With no activation and no clamp the epilogue is the identity: a NaN sum (from a NaN in the
/// layer's own input) stays NaN, it does not become a number.
#[test]
fn nan_in_the_layers_own_input_stays_nan_without_clamp() {
    assert!(reference::epilogue(&mixconv::Epilogue::default(), f32::NAN).is_nan());
    let layer = MixConv::new(1, &[1]);
    let weights = Weights::hwc(vec![vec![1.0]]);
    let shape = Shape::new(1, 1, 2);
    let input = [f32::NAN, 2.0];
    let mut out = [0.0; 2];
    reference::mixconv(&layer, &weights, shape, &input, &mut out).unwrap();
    assert!(out[0].is_nan() && out[1] == 2.0, "reference gives {out:?}");
    for isa in available_isas() {
        let plan = Plan::new(&layer, &weights, shape, isa).unwrap();
        plan.run(&input, &mut out).unwrap();
        assert!(out[0].is_nan() && out[1] == 2.0, "{isa} gives {out:?}");
    }
}
