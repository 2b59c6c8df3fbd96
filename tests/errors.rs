//! Every bad input is refused with an `Err` (never a panic) whose message names the offending
//! value, and nothing is written when a run is refused.

mod common;

use common::{CANARY_BITS, canary};
use mixconv::{
    Activation, Error, Isa, MixConv, Padding, Plan, Shape, Split, Weights, available_isas,
    parse_isa, reference, require,
};
use mixconv_kernels::{Epilogue, Geometry, KernelError, Region, depthwise};

/// Unit weights for `layer` (one tensor per group of the right length).
fn weights_for(layer: &MixConv) -> Weights {
    let sizes = layer.group_channels().unwrap();
    Weights::hwc(
        layer
            .kernels()
            .iter()
            .zip(&sizes)
            .map(|(&k, &c)| vec![0.5; k * k * c])
            .collect(),
    )
}

/// The error of `Plan::new` (on every available ISA, all agreeing) and of the reference, which
/// validates the same way; also checks that `text` appears in the message.
fn plan_error(layer: &MixConv, weights: &Weights, shape: Shape, texts: &[&str]) -> Error {
    let mut first: Option<Error> = None;
    for isa in available_isas() {
        let e = Plan::new(layer, weights, shape, isa).expect_err("Plan::new accepted a bad input");
        if let Some(f) = &first {
            // Debug text, not `==`: a NaN clamp bound never compares equal.
            assert_eq!(
                format!("{e:?}"),
                format!("{f:?}"),
                "{isa} refuses differently"
            );
        }
        first = Some(e);
    }
    let e = first.unwrap();
    // The reference validates like a plan (on 1-element buffers: the layout error comes first).
    let reference = reference::mixconv(layer, weights, shape, &[0.0], &mut [0.0]).unwrap_err();
    assert_eq!(
        format!("{reference:?}"),
        format!("{e:?}"),
        "reference refuses differently"
    );
    let text = e.to_string();
    for t in texts {
        assert!(text.contains(t), "message {text:?} does not mention {t:?}");
    }
    e
}

fn good_layer() -> MixConv {
    MixConv::new(6, &[3, 5])
}

fn shape() -> Shape {
    Shape::new(1, 8, 8)
}

#[test]
fn buffers_of_the_wrong_length_are_refused_and_nothing_is_written() {
    for (layer, shape) in [
        (good_layer(), shape()),
        (
            MixConv::new(5, &[3, 7]).stride(2),
            Shape::new(2, 9, 7)
                .input_pixel_stride(9)
                .output_pixel_stride(13),
        ),
    ] {
        let weights = weights_for(&layer);
        for isa in available_isas() {
            let plan = Plan::new(&layer, &weights, shape, isa).unwrap();
            let (ins, outs) = (plan.input_lens(), plan.output_lens());
            let good_in = vec![1.0; *ins.end()];
            for bad in [*ins.start() - 1, *ins.end() + 1, 0] {
                let mut out = vec![canary(); *outs.end()];
                let e = plan.run(&vec![1.0; bad], &mut out).unwrap_err();
                assert!(
                    matches!(&e, Error::BufferLength { what, given, .. } if what == "input" && *given == bad),
                    "{e:?}"
                );
                let text = e.to_string();
                assert!(text.contains(&format!("holds {bad} elements")), "{text}");
                assert!(text.contains(&ins.start().to_string()), "{text}");
                assert!(
                    out.iter().all(|v| v.to_bits() == CANARY_BITS),
                    "written on error"
                );
                // The reference and the magnitudes refuse it too.
                assert_eq!(
                    reference::mixconv(&layer, &weights, shape, &vec![1.0; bad], &mut out),
                    Err(e.clone())
                );
                assert_eq!(
                    reference::magnitudes(&layer, &weights, shape, &vec![1.0; bad]),
                    Err(e)
                );
            }
            for bad in [*outs.start() - 1, *outs.end() + 1, 0] {
                let mut out = vec![canary(); bad];
                let e = plan.run(&good_in, &mut out).unwrap_err();
                assert!(
                    matches!(&e, Error::BufferLength { what, given, .. } if what == "output" && *given == bad),
                    "{e:?}"
                );
                assert!(e.to_string().contains(&bad.to_string()));
                assert!(
                    out.iter().all(|v| v.to_bits() == CANARY_BITS),
                    "written on error"
                );
            }
            // Both ends of the accepted ranges work.
            for (i, o) in [(*ins.start(), *outs.start()), (*ins.end(), *outs.end())] {
                plan.run(&good_in[..i], &mut vec![0.0; o]).unwrap();
            }
        }
    }
}

#[test]
fn explicit_split_must_add_up() {
    let layer = MixConv::new(10, &[3, 5]).split(Split::Explicit(vec![4, 5]));
    let weights = Weights::hwc(vec![vec![0.0; 36], vec![0.0; 125]]);
    let e = plan_error(&layer, &weights, shape(), &["9", "10"]);
    assert_eq!(
        e,
        Error::ChannelSum {
            sum: 9,
            channels: 10
        }
    );
    let layer = MixConv::new(10, &[3, 5]).split(Split::Explicit(vec![4, 5, 1]));
    let e = plan_error(&layer, &weights, shape(), &["3 split sizes", "2 groups"]);
    assert!(matches!(e, Error::GroupCount { given: 3, .. }));
    // Sizes whose sum overflows.
    let layer = MixConv::new(10, &[3, 5]).split(Split::Explicit(vec![usize::MAX, 11]));
    let e = plan_error(&layer, &weights, shape(), &["10"]);
    assert!(matches!(e, Error::ChannelSum { channels: 10, .. }));
}

#[test]
fn splits_leaving_a_group_empty() {
    let w3 = Weights::hwc(vec![vec![0.0; 9]; 3]);
    for (layer, group) in [
        (MixConv::new(2, &[3, 3, 3]), 1), // [2, 0, 0]
        (MixConv::new(3, &[3, 3, 3]).split(Split::Exponential), 1),
        (
            MixConv::new(4, &[3, 3, 3]).split(Split::Explicit(vec![2, 2, 0])),
            2,
        ),
        (
            MixConv::new(4, &[3, 3, 3]).split(Split::Explicit(vec![0, 2, 2])),
            0,
        ),
    ] {
        let e = plan_error(
            &layer,
            &w3,
            shape(),
            &[&format!("group {group}"), "0 channels"],
        );
        assert_eq!(e, Error::EmptyGroup { group }, "{layer:?}");
    }
}

#[test]
fn even_and_zero_kernels() {
    for (kernels, group, kernel) in [
        (vec![2], 0, 2),
        (vec![3, 4], 1, 4),
        (vec![0, 3], 0, 0),
        (vec![3, 5, 12], 2, 12),
    ] {
        let layer = MixConv::new(6, &kernels);
        let weights = Weights::hwc(vec![vec![0.0; 1]; kernels.len()]);
        let e = plan_error(
            &layer,
            &weights,
            shape(),
            &[&format!("kernel size {kernel}"), &format!("group {group}")],
        );
        assert_eq!(e, Error::BadKernel { group, kernel });
        assert!(Weights::from_pytorch(&layer, &[]).is_err());
    }
}

#[test]
fn zero_stride_and_dilation() {
    let weights = weights_for(&good_layer());
    let e = plan_error(&good_layer().stride(0), &weights, shape(), &["stride 0"]);
    assert_eq!(e, Error::ZeroStride);
    let e = plan_error(
        &good_layer().dilations(&[1, 0]),
        &weights,
        shape(),
        &["group 1", "dilation 0"],
    );
    assert_eq!(e, Error::ZeroDilation { group: 1 });
}

#[test]
fn dilation_count_must_match_the_groups() {
    let weights = weights_for(&good_layer());
    for dilations in [vec![1], vec![1, 2, 3], vec![]] {
        let n = dilations.len();
        let e = plan_error(
            &good_layer().dilations(&dilations),
            &weights,
            shape(),
            &[&format!("{n} dilations"), "2 groups"],
        );
        assert_eq!(
            e,
            Error::GroupCount {
                what: "dilations",
                given: n,
                groups: 2
            }
        );
    }
}

#[test]
fn group_padding_for_a_missing_group() {
    let weights = weights_for(&good_layer());
    let layer = good_layer().group_padding(5, Padding::TfSame);
    let e = plan_error(&layer, &weights, shape(), &["group 5", "2 groups"]);
    assert_eq!(
        e,
        Error::NoSuchGroup {
            group: 5,
            groups: 2
        }
    );
    // Setting every group's padding afterwards does not hide the mistake.
    let e = plan_error(
        &layer.padding(Padding::Symmetric),
        &weights,
        shape(),
        &["group 5"],
    );
    assert!(matches!(e, Error::NoSuchGroup { group: 5, .. }));
}

#[test]
fn groups_whose_outputs_disagree() {
    let weights = weights_for(&good_layer());
    let layer = good_layer().group_padding(
        1,
        Padding::Explicit {
            top: 2,
            bottom: 2,
            left: 0,
            right: 1,
        },
    );
    // Group 1 (5×5) on 8×8 with pads l0 r1: 8 + 1 − 4 = 5 columns.
    let e = plan_error(&layer, &weights, shape(), &["group 1", "8x5", "8x8"]);
    assert_eq!(
        e,
        Error::GroupOutputMismatch {
            group: 1,
            size: (8, 5),
            expected: (8, 8)
        }
    );
    // A window larger than the padded input: no output at all.
    let layer = good_layer().group_padding(
        0,
        Padding::Explicit {
            top: 0,
            bottom: 0,
            left: 0,
            right: 0,
        },
    );
    let e = plan_error(&layer, &weights, Shape::new(1, 2, 9), &["group 0"]);
    assert_eq!(e, Error::NoOutput { group: 0 });
}

#[test]
fn empty_tensors() {
    let weights = weights_for(&good_layer());
    for (shape, what) in [
        (Shape::new(0, 8, 8), "batch is 0"),
        (Shape::new(1, 0, 8), "input height is 0"),
        (Shape::new(1, 8, 0), "input width is 0"),
    ] {
        let e = plan_error(&good_layer(), &weights, shape, &[what]);
        assert!(matches!(e, Error::EmptyTensor { .. }), "{e:?}");
    }
    let e = plan_error(
        &MixConv::new(0, &[3]),
        &Weights::hwc(vec![vec![]]),
        shape(),
        &["0 channels"],
    );
    assert_eq!(e, Error::NoChannels);
    let e = plan_error(
        &MixConv::new(4, &[]),
        &Weights::hwc(vec![]),
        shape(),
        &["no groups"],
    );
    assert_eq!(e, Error::NoGroups);
}

#[test]
fn sizes_that_overflow_usize() {
    let weights = Weights::hwc(vec![vec![0.0; 9 * 4]]);
    let layer = MixConv::new(4, &[3]);
    // H·W·C overflows although H·W does not.
    let e = plan_error(
        &layer,
        &weights,
        Shape::new(1, 1 << 31, 1 << 31),
        &["overflow"],
    );
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    // N·H·W overflows.
    let e = plan_error(
        &layer,
        &weights,
        Shape::new(usize::MAX / 2, 3, 3),
        &["overflow"],
    );
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    // The pixel stride makes the tensor overflow.
    let e = plan_error(
        &layer,
        &weights,
        Shape::new(1, 4, 4).input_pixel_stride(usize::MAX / 4),
        &["input size", "overflow"],
    );
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    // A dilated window whose reach overflows, or whose padded input does.
    for (dilation, h) in [(usize::MAX, 8), (usize::MAX / 2, 8), (1 << 62, 3 << 62)] {
        let e = plan_error(
            &layer.clone().dilations(&[dilation]),
            &weights,
            Shape::new(1, h, h),
            &["overflow"],
        );
        assert!(matches!(e, Error::Overflow { .. }), "d={dilation}: {e:?}");
    }
    // Explicit pads that overflow the padded size.
    let e = plan_error(
        &layer.clone().padding(Padding::Explicit {
            top: usize::MAX,
            bottom: 1,
            left: 0,
            right: 0,
        }),
        &weights,
        shape(),
        &["overflow"],
    );
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    // A kernel whose K² overflows.
    let huge_k = (1usize << 32) + 1;
    let e = plan_error(
        &MixConv::new(4, &[huge_k]),
        &Weights::hwc(vec![vec![]]),
        Shape::new(1, 1 << 33, 1 << 33),
        &["overflow"],
    );
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    assert!(matches!(
        Weights::from_pytorch(&MixConv::new(4, &[huge_k]), &[vec![]]),
        Err(Error::Overflow { .. })
    ));
}

/// A dilation so large that the window's coordinates no longer fit `isize`, on a 1×1 map where
/// the padded input still fits `usize`: the plan must refuse it (or run it), the reference must
/// not panic.
#[test]
fn window_coordinates_beyond_isize() {
    let layer = MixConv::new(1, &[3]).dilations(&[usize::MAX / 2]);
    let weights = Weights::hwc(vec![vec![1.0; 9]]);
    let shape = Shape::new(1, 1, 1);
    let e = Plan::new(&layer, &weights, shape, Isa::Portable).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WindowTooLarge {
                group: 0,
                kernel: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains(&(usize::MAX / 2).to_string()), "{e}");
    let result = std::panic::catch_unwind(|| {
        let mut out = [0.0];
        reference::mixconv(&layer, &weights, shape, &[2.0], &mut out).map(|_| out)
    });
    assert!(result.is_ok(), "reference::mixconv panicked");
    // On 8×8 with dilation 2^62 (pads 2^62 each side; the padded size fits usize).
    let layer = MixConv::new(1, &[3]).dilations(&[1 << 62]);
    let shape8 = Shape::new(1, 8, 8);
    if let Ok(plan) = Plan::new(&layer, &weights, shape8, Isa::Portable) {
        let input: Vec<f32> = (0..64).map(|i| i as f32).collect();
        let mut out = vec![0.0; 64];
        plan.run(&input, &mut out).unwrap();
        assert_eq!(out, input);
    }
    // The same through a huge stride and explicit padding.
    let layer = MixConv::new(1, &[1])
        .stride(1 << 62)
        .padding(Padding::Explicit {
            top: 1 << 62,
            bottom: 0,
            left: 0,
            right: 0,
        });
    let weights = Weights::hwc(vec![vec![1.0]]);
    if let Ok(plan) = Plan::new(&layer, &weights, shape, Isa::Portable) {
        let mut out = [0.0; 2];
        plan.run(&[3.0], &mut out).unwrap();
        assert_eq!(out, [0.0, 3.0]);
    }
}

#[test]
fn pixel_strides_smaller_than_the_channels() {
    let weights = weights_for(&good_layer());
    let e = plan_error(
        &good_layer(),
        &weights,
        shape().input_pixel_stride(5),
        &["input pixel stride 5", "6 channels"],
    );
    assert_eq!(
        e,
        Error::PixelStride {
            which: "input",
            stride: 5,
            channels: 6
        }
    );
    let e = plan_error(
        &good_layer(),
        &weights,
        shape().output_pixel_stride(0),
        &["output pixel stride 0", "6 channels"],
    );
    assert!(matches!(
        e,
        Error::PixelStride {
            which: "output",
            ..
        }
    ));
}

#[test]
fn nan_or_inverted_clamp() {
    let weights = weights_for(&good_layer());
    for (min, max, texts) in [
        (1.0f32, -1.0f32, vec!["min 1", "max -1"]),
        (f32::NAN, 1.0, vec!["NaN", "1"]),
        (0.0, f32::NAN, vec!["NaN", "0"]),
        (f32::INFINITY, f32::NEG_INFINITY, vec!["inf", "-inf"]),
    ] {
        let layer = good_layer().clamp(min, max).activation(Activation::Relu);
        let e = plan_error(&layer, &weights, shape(), &texts);
        assert!(matches!(e, Error::BadClamp { .. }), "{e:?}");
    }
    // Equal bounds are fine.
    Plan::new(
        &good_layer().clamp(0.5, 0.5),
        &weights,
        shape(),
        Isa::Portable,
    )
    .unwrap();
}

#[test]
fn run_bytes_refuses_misaligned_or_ragged_buffers() {
    let layer = good_layer();
    let weights = weights_for(&layer);
    let plan = Plan::new(&layer, &weights, shape(), Isa::Portable).unwrap();
    let (n_in, n_out) = (plan.input_len(), plan.output_len());
    // u32 storage is 4-byte aligned; one byte in is not.
    let mut in_store = vec![0u32; n_in + 1];
    let mut out_store = vec![0u32; n_out + 1];
    for (i, v) in in_store.iter_mut().enumerate() {
        *v = (i as f32 * 0.25).to_bits();
    }
    let in_aligned: &[u8] = bytemuck::cast_slice(&in_store);
    let out_aligned: &mut [u8] = bytemuck::cast_slice_mut(&mut out_store);
    let e = plan
        .run_bytes(&in_aligned[1..n_in * 4 + 1], &mut out_aligned[..n_out * 4])
        .unwrap_err();
    assert_eq!(e, Error::Misaligned { what: "input" });
    assert!(e.to_string().contains("input"));
    let e = plan
        .run_bytes(&in_aligned[..n_in * 4], &mut out_aligned[1..n_out * 4 + 1])
        .unwrap_err();
    assert_eq!(e, Error::Misaligned { what: "output" });
    assert!(e.to_string().contains("output"));
    for ragged in [1, 2, 3] {
        let e = plan
            .run_bytes(
                &in_aligned[..n_in * 4 - ragged],
                &mut out_aligned[..n_out * 4],
            )
            .unwrap_err();
        assert_eq!(e, Error::Misaligned { what: "input" });
        let e = plan
            .run_bytes(
                &in_aligned[..n_in * 4],
                &mut out_aligned[..n_out * 4 + ragged],
            )
            .unwrap_err();
        assert_eq!(e, Error::Misaligned { what: "output" });
    }
    assert!(out_aligned.iter().all(|&b| b == 0), "written on error");
    // Whole f32 but the wrong count.
    let e = plan
        .run_bytes(&in_aligned[..(n_in - 1) * 4], &mut out_aligned[..n_out * 4])
        .unwrap_err();
    assert!(matches!(e, Error::BufferLength { given, .. } if given == n_in - 1));
    // Good bytes give what `run` gives.
    plan.run_bytes(&in_aligned[..n_in * 4], &mut out_aligned[..n_out * 4])
        .unwrap();
    let input: Vec<f32> = in_store[..n_in]
        .iter()
        .map(|&b| f32::from_bits(b))
        .collect();
    let mut want = vec![0.0; n_out];
    plan.run(&input, &mut want).unwrap();
    let got: Vec<f32> = out_store[..n_out]
        .iter()
        .map(|&b| f32::from_bits(b))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn weights_and_bias_of_the_wrong_shape() {
    let layer = good_layer(); // groups of 3 channels: 3×3 and 5×5
    let e = plan_error(
        &layer,
        &Weights::hwc(vec![vec![0.0; 27], vec![0.0; 74]]),
        shape(),
        &["group 1", "74", "75"],
    );
    assert!(matches!(e, Error::BufferLength { given: 74, .. }), "{e:?}");
    let e = plan_error(
        &layer,
        &Weights::hwc(vec![vec![0.0; 28], vec![0.0; 75]]),
        shape(),
        &["group 0", "28", "27"],
    );
    assert!(matches!(e, Error::BufferLength { given: 28, .. }), "{e:?}");
    for n in [1, 3] {
        let e = plan_error(
            &layer,
            &Weights::hwc(vec![vec![0.0; 27]; n]),
            shape(),
            &[&format!("{n} weight tensors"), "2 groups"],
        );
        assert!(matches!(e, Error::GroupCount { given, .. } if given == n));
    }
    for bias in [5, 7, 0] {
        let e = plan_error(
            &layer,
            &weights_for(&layer).with_bias(vec![0.0; bias]),
            shape(),
            &["bias", &format!("holds {bias}"), "6"],
        );
        assert!(matches!(e, Error::BufferLength { given, .. } if given == bias));
    }
    // PyTorch conversion refuses the same mistakes.
    let e = Weights::from_pytorch(&layer, &[vec![0.0; 27], vec![0.0; 76]]).unwrap_err();
    assert!(e.to_string().contains("76"), "{e}");
    let e = Weights::from_pytorch(&layer, &[vec![0.0; 27]]).unwrap_err();
    assert!(e.to_string().contains("1 weight tensors"), "{e}");
    let e = Weights::from_pytorch(&layer.clone().stride(0), &[]).unwrap_err();
    assert_eq!(e, Error::ZeroStride);
}

#[test]
fn isas_the_cpu_lacks_are_refused() {
    let layer = good_layer();
    let weights = weights_for(&layer);
    for isa in Isa::ALL {
        let plan = Plan::new(&layer, &weights, shape(), isa);
        if isa.is_available() {
            assert_eq!(require(isa), Ok(isa));
            assert!(plan.is_ok(), "{isa}");
        } else {
            let e = plan.unwrap_err();
            assert_eq!(e, Error::IsaUnavailable(isa));
            assert!(e.to_string().contains(isa.name()));
            assert_eq!(require(isa), Err(Error::IsaUnavailable(isa)));
            // The kernels refuse it too.
            let geom = small_geometry();
            let r = depthwise(
                isa,
                &geom,
                &full_region(&geom),
                &Epilogue::default(),
                &[0.0; 64],
                &[0.0; 1024],
                &[0.0; 64],
                &mut [0.0; 64],
                0,
            );
            assert_eq!(r, Err(KernelError::IsaUnavailable(isa)));
        }
    }
    assert!(available_isas().contains(&Isa::Portable));
}

#[test]
fn unknown_isa_names() {
    for name in ["sse9", "", "avx", "avx-512", "neon", "portable2"] {
        let e = parse_isa(name).unwrap_err();
        assert_eq!(e, Error::UnknownIsa(name.to_string()));
        assert!(e.to_string().contains(&format!("{name:?}")), "{e}");
    }
    for isa in Isa::ALL {
        assert_eq!(parse_isa(isa.name()), Ok(isa));
        assert_eq!(parse_isa(&format!(" {}\n", isa.name())), Ok(isa));
    }
}

// ---------------------------------------------------------------------------------------------
// The kernels crate's own checks.

/// 3 channels in the middle of 7-channel input and 6-channel output pixels, 3×3 on 4×5, symmetric padding.
fn small_geometry() -> Geometry {
    Geometry {
        batch: 2,
        in_h: 4,
        in_w: 5,
        out_h: 4,
        out_w: 5,
        kernel: 3,
        dilation: 1,
        stride: 1,
        pad_top: 1,
        pad_left: 1,
        channels: 3,
        in_channel_offset: 2,
        in_pixel_stride: 7,
        out_channel_offset: 1,
        out_pixel_stride: 6,
    }
}

fn full_region(g: &Geometry) -> Region {
    Region {
        batch: g.batch - 1,
        rows: 0..g.out_h,
        cols: 0..g.out_w,
    }
}

/// Calls `depthwise` with exactly-sized slices, optionally shortened, and returns its result;
/// checks that nothing was written when it fails.
fn call(
    isa: Isa,
    g: &Geometry,
    region: &Region,
    short: (usize, usize, usize, usize),
    output_offset: usize,
) -> Result<(), KernelError> {
    let lanes = isa.lanes();
    let in_len = g.batch * g.in_h * g.in_w * g.in_pixel_stride;
    let out_len = g.batch * g.out_h * g.out_w * g.out_pixel_stride;
    let w_len = g.kernel * g.kernel * g.channels.div_ceil(lanes) * lanes;
    let b_len = g.channels.div_ceil(lanes) * lanes;
    let input = vec![1.0; in_len - short.0];
    let weights = vec![1.0; w_len - short.1];
    let bias = vec![1.0; b_len - short.2];
    let mut output = vec![canary(); (out_len - short.3).saturating_sub(output_offset)];
    let r = depthwise(
        isa,
        g,
        region,
        &Epilogue::default(),
        &input,
        &weights,
        &bias,
        &mut output,
        output_offset,
    );
    if r.is_err() {
        assert!(
            output.iter().all(|v| v.to_bits() == CANARY_BITS),
            "written on error"
        );
    }
    r
}

#[test]
#[allow(clippy::reversed_empty_ranges)]
fn kernels_refuse_bad_regions_and_short_slices() {
    for isa in available_isas() {
        let g = small_geometry();
        let full = full_region(&g);
        assert_eq!(call(isa, &g, &full, (0, 0, 0, 0), 0), Ok(()));
        // The input may end at the region's image's last channel, the output at the region's
        // last pixel's last channel.
        assert_eq!(call(isa, &g, &full, (2, 0, 0, 0), 0), Ok(()));
        assert_eq!(call(isa, &g, &full, (0, 0, 0, 2), 0), Ok(()));
        let bad_regions = [
            Region {
                batch: 2,
                ..full.clone()
            },
            Region {
                rows: 0..5,
                ..full.clone()
            },
            Region {
                cols: 2..6,
                ..full.clone()
            },
            Region {
                rows: 2..2,
                ..full.clone()
            },
            Region {
                cols: 3..3,
                ..full.clone()
            },
            Region {
                rows: 3..1,
                ..full.clone()
            },
        ];
        for region in bad_regions {
            assert_eq!(
                call(isa, &g, &region, (0, 0, 0, 0), 0),
                Err(KernelError::BadRegion),
                "{isa} {region:?}"
            );
        }
        // An output offset past the region's first element.
        let sub = Region {
            batch: 1,
            rows: 1..3,
            cols: 1..4,
        };
        let first = ((g.out_h + 1) * g.out_w + 1) * g.out_pixel_stride + g.out_channel_offset;
        assert_eq!(call(isa, &g, &sub, (0, 0, 0, 0), first), Ok(()));
        assert_eq!(
            call(isa, &g, &sub, (0, 0, 0, 0), first + 1),
            Err(KernelError::BadRegion)
        );
        // Short slices, each named with the lengths needed and given.
        for (short, which) in [
            ((3, 0, 0, 0), "input"),
            ((0, 1, 0, 0), "weights"),
            ((0, 0, 1, 0), "bias"),
            ((0, 0, 0, 3), "output"),
        ] {
            let e = call(isa, &g, &full, short, 0).unwrap_err();
            assert!(
                matches!(e, KernelError::SliceTooShort(w, _, _) if w == which),
                "{isa} {which}: {e:?}"
            );
            let KernelError::SliceTooShort(_, needed, given) = e else {
                unreachable!()
            };
            assert!(needed > given);
            let text = e.to_string();
            assert!(
                text.contains(which)
                    && text.contains(&needed.to_string())
                    && text.contains(&given.to_string()),
                "{text}"
            );
        }
        // Geometries the kernels cannot run.
        let bad_geometries = [
            Geometry { kernel: 4, ..g },
            Geometry { kernel: 0, ..g },
            Geometry { stride: 0, ..g },
            Geometry { dilation: 0, ..g },
            Geometry { channels: 0, ..g },
            Geometry { in_h: 0, ..g },
            Geometry { out_w: 0, ..g },
            Geometry {
                in_channel_offset: 5,
                ..g
            },
            Geometry {
                out_pixel_stride: 3,
                ..g
            },
            Geometry {
                out_channel_offset: usize::MAX,
                ..g
            },
            Geometry {
                pad_top: usize::MAX,
                ..g
            },
            Geometry {
                dilation: usize::MAX / 2,
                ..g
            },
            Geometry {
                stride: usize::MAX,
                ..g
            },
        ];
        for bad in bad_geometries {
            let region = Region {
                batch: 0,
                rows: 0..1,
                cols: 0..1,
            };
            let r = depthwise(
                isa,
                &bad,
                &region,
                &Epilogue::default(),
                &[0.0; 200],
                &[0.0; 2048],
                &[0.0; 64],
                &mut [0.0; 200],
                0,
            );
            assert!(
                matches!(r, Err(KernelError::BadGeometry(_))),
                "{isa} {bad:?}: {r:?}"
            );
        }
        // Index products that overflow.
        let huge = Geometry {
            batch: usize::MAX / 2,
            in_h: 1 << 40,
            ..g
        };
        let r = depthwise(
            isa,
            &huge,
            &Region {
                batch: usize::MAX / 2 - 1,
                rows: 0..1,
                cols: 0..1,
            },
            &Epilogue::default(),
            &[0.0; 200],
            &[0.0; 2048],
            &[0.0; 64],
            &mut [0.0; 200],
            0,
        );
        assert!(r.is_err(), "{r:?}");
    }
}
