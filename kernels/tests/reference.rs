//! Every engine against a naive scalar reference over the same packed layout: every ISA
//! available × every specialized (K, stride, dilation) and some generic ones × channel
//! counts around the lane width × maps smaller than, equal to and larger than the kernel ×
//! paddings (some past the kernel's reach) × activations × strided, offset pixels; checks
//! the values, that nothing outside the group's channels and the region is written, and
//! that NaNs in other groups' channels do not leak in.

use mixconv_kernels::{
    Activation, Epilogue, Geometry, Isa, KernelError, Region, SPECIALIZED, depthwise, microkernel,
    staged, staged_blocks,
};

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Uniform in [-1, 1).
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

const CANARY: u32 = 0x7fc0_dead;

fn canary() -> f32 {
    f32::from_bits(CANARY)
}

fn act(a: Activation, x: f64) -> f64 {
    match a {
        Activation::None => x,
        Activation::Relu => x.max(0.0),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::Silu => x / (1.0 + (-x).exp()),
        Activation::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
    }
}

/// Packs `[c][ky][kx]` weights and `[c]` bias into `lanes`-channel blocks, channel `ch` in
/// lane `ch + lead` of them.
fn pack(
    w: &[f32],
    b: &[f32],
    c: usize,
    k: usize,
    lanes: usize,
    lead: usize,
) -> (Vec<f32>, Vec<f32>) {
    let blocks = (c + lead).div_ceil(lanes);
    let mut pw = vec![0.0; blocks * k * k * lanes];
    let mut pb = vec![0.0; blocks * lanes];
    for ch in 0..c {
        let (blk, lane) = ((ch + lead) / lanes, (ch + lead) % lanes);
        for t in 0..k * k {
            pw[(blk * k * k + t) * lanes + lane] = w[ch * k * k + t];
        }
        pb[blk * lanes + lane] = b[ch];
    }
    (pw, pb)
}

#[derive(Clone, Debug)]
struct Case {
    k: usize,
    s: usize,
    d: usize,
    c: usize,
    in_h: usize,
    in_w: usize,
    pad_top: usize,
    pad_left: usize,
    out_h: usize,
    out_w: usize,
    act: Activation,
    clamp: bool,
    /// (rows, cols) of the region, inside the output.
    region: Option<((usize, usize), (usize, usize))>,
    /// Pass the output as a sub-slice starting at the region's first element.
    sub_slice: bool,
    /// Input pixel stride; 0: the group's channels plus 5 of other groups.
    in_stride: usize,
    /// The group's first channel in input and output pixels whose strides are multiples
    /// of 16 (the input's `in_stride` if set), its blocks led by `offset % LANES` lanes
    /// (asserted: `Geometry::lead`); `None`: channel 3 of the input, 1 of the output.
    offset: Option<usize>,
    /// Which path `depthwise` must take, if the case is about one.
    staged: Option<bool>,
}

impl Case {
    /// "Same" padding on every side (`(K − 1)·D / 2`) and the output size it gives; no
    /// activation or clamp, the whole output, the group's own pixel stride, either path.
    fn same(k: usize, s: usize, d: usize, c: usize, in_h: usize, in_w: usize) -> Case {
        let pad = (k - 1) * d / 2;
        Case {
            k,
            s,
            d,
            c,
            in_h,
            in_w,
            pad_top: pad,
            pad_left: pad,
            out_h: out_size(in_h, k, s, d, pad, pad),
            out_w: out_size(in_w, k, s, d, pad, pad),
            act: Activation::None,
            clamp: false,
            region: None,
            sub_slice: false,
            in_stride: 0,
            offset: None,
            staged: None,
        }
    }
}

/// Runs a case and checks it; returns the channel blocks a staged ring pixel held (0: the
/// direct path ran).
fn run_case(isa: Isa, case: &Case, rng: &mut Rng) -> usize {
    let Case {
        k,
        s,
        d,
        c,
        in_h,
        in_w,
        ..
    } = *case;
    let lanes = isa.lanes();
    let batch = 2;
    // Pixels with other groups' channels around this group's.
    let ((in_off, in_ps), (out_off, out_ps)) = match case.offset {
        None => ((3, c + 3 + 2), (1, c + 1 + 4)),
        Some(o) => {
            let ps = (o + c + 5).next_multiple_of(16);
            ((o, ps), (o, ps))
        }
    };
    let in_ps = if case.in_stride > 0 {
        case.in_stride
    } else {
        in_ps
    };
    let g = Geometry {
        batch,
        in_h,
        in_w,
        out_h: case.out_h,
        out_w: case.out_w,
        kernel: k,
        dilation: d,
        stride: s,
        pad_top: case.pad_top,
        pad_left: case.pad_left,
        channels: c,
        in_channel_offset: in_off,
        in_pixel_stride: in_ps,
        out_channel_offset: out_off,
        out_pixel_stride: out_ps,
    };
    let ((r0, r1), (c0, c1)) = case.region.unwrap_or(((0, case.out_h), (0, case.out_w)));
    let region = Region {
        batch: 1,
        rows: r0..r1,
        cols: c0..c1,
    };
    // The input slice ends at the group's last channel of the last pixel: reading past it
    // would be a bug. Other groups' channels hold NaN.
    let in_len = (batch * in_h * in_w - 1) * in_ps + in_off + c;
    let mut input = vec![f32::NAN; in_len];
    for p in 0..batch * in_h * in_w {
        for ch in 0..c {
            input[p * in_ps + in_off + ch] = rng.f();
        }
    }
    let w: Vec<f32> = (0..c * k * k).map(|_| rng.f()).collect();
    let b: Vec<f32> = (0..c).map(|_| rng.f()).collect();
    let (pw, pb) = pack(&w, &b, c, k, lanes, g.lead(lanes));
    if let Some(o) = case.offset {
        assert_eq!(g.lead(lanes), o % lanes, "{isa} {case:?}: lead");
        assert_eq!(pw.len(), g.packed_weights_len(lanes).unwrap());
    }
    let epi = Epilogue {
        activation: case.act,
        min: if case.clamp { -0.25 } else { f32::NEG_INFINITY },
        max: if case.clamp { 0.75 } else { f32::INFINITY },
    };
    let out_len = batch * case.out_h * case.out_w * out_ps;
    let mut output = vec![canary(); out_len];
    let first = ((batch - 1) * case.out_h * case.out_w + r0 * case.out_w + c0) * out_ps;
    if let Some(want) = case.staged {
        assert_eq!(staged(isa, &g), want, "{isa} {case:?}: staged path");
    }
    let result = if case.sub_slice {
        depthwise(
            isa,
            &g,
            &region,
            &epi,
            &input,
            &pw,
            &pb,
            &mut output[first..],
            first,
        )
    } else {
        depthwise(isa, &g, &region, &epi, &input, &pw, &pb, &mut output, 0)
    };
    result.unwrap_or_else(|e| panic!("{isa} {case:?}: {e}"));

    let slope = 1.5;
    for img in 0..batch {
        for y in 0..case.out_h {
            for x in 0..case.out_w {
                let pix = (img * case.out_h + y) * case.out_w + x;
                let inside = img == 1 && (r0..r1).contains(&y) && (c0..c1).contains(&x);
                for e in 0..out_ps {
                    let got = output[pix * out_ps + e];
                    let ch = e.wrapping_sub(out_off);
                    if !inside || ch >= c {
                        assert_eq!(
                            got.to_bits(),
                            CANARY,
                            "{isa} {case:?}: element {e} of pixel ({img},{y},{x}) was written"
                        );
                        continue;
                    }
                    let mut sum = b[ch] as f64;
                    let mut mag = (b[ch] as f64).abs();
                    for ky in 0..k {
                        let iy = (y * s + ky * d) as isize - case.pad_top as isize;
                        if iy < 0 || iy >= in_h as isize {
                            continue;
                        }
                        for kx in 0..k {
                            let ix = (x * s + kx * d) as isize - case.pad_left as isize;
                            if ix < 0 || ix >= in_w as isize {
                                continue;
                            }
                            let p = (img * in_h + iy as usize) * in_w + ix as usize;
                            let xv = input[p * in_ps + in_off + ch] as f64;
                            let t = xv * w[ch * k * k + ky * k + kx] as f64;
                            sum += t;
                            mag += t.abs();
                        }
                    }
                    let want = act(case.act, sum).max(epi.min as f64).min(epi.max as f64);
                    let tol = (1e-5 * mag * 4.0 + 1e-6) * slope;
                    assert!(
                        (got as f64 - want).abs() <= tol,
                        "{isa} ({}) {case:?}: pixel ({y},{x}) channel {ch}: got {got}, want {want}",
                        microkernel(isa, k, s, d)
                    );
                }
            }
        }
    }
    staged_blocks(isa, &g)
}

fn isas() -> Vec<Isa> {
    let v: Vec<Isa> = Isa::ALL.into_iter().filter(|i| i.is_available()).collect();
    eprintln!("testing ISAs {v:?}");
    v
}

fn out_size(input: usize, k: usize, s: usize, d: usize, pad: usize, pad_end: usize) -> usize {
    let span = (k - 1) * d + 1;
    let total = input + pad + pad_end;
    if total < span {
        1
    } else {
        (total - span) / s + 1
    }
}

/// Map sizes (in_h, in_w) smaller than, equal to and larger than the kernel's reach, one
/// 14 wide (MixNet's; stride 1 cuts its rows into two 7-wide tiles where full tiles are
/// 8 to 12 wide), and one wide enough for interior (unchecked) 16-wide tiles at any stride.
fn maps(k: usize, s: usize, d: usize) -> Vec<(usize, usize)> {
    let reach = (k - 1) * d + 1;
    vec![
        (1, 2),
        (reach.saturating_sub(2).max(1), reach.div_ceil(2)),
        (reach, reach),
        (reach + 3, 2 * reach + 19),
        (5, 33),
        (3, 14),
        (2, 3 * (15 * s + reach) + 5),
    ]
}

fn sweep(kernels: &[(usize, usize, usize)], seed: u64) {
    let mut rng = Rng(seed);
    let mut cases = 0;
    for isa in isas() {
        let l = isa.lanes();
        for &(k, s, d) in kernels {
            for (ci, c) in [1, l - 1, l, l + 1, 2 * l + 3, 90].into_iter().enumerate() {
                for (mi, (in_h, in_w)) in maps(k, s, d).into_iter().enumerate() {
                    let i = ci * 7 + mi;
                    let half = (k - 1) * d / 2;
                    // Paddings: "same", none, odd, and past the kernel's reach.
                    let pads = [
                        (half, half),
                        (0, 0),
                        (half + 1, half.saturating_sub(1)),
                        ((k - 1) * d + 2, 1),
                    ];
                    let (pt, pl) = pads[rng.below(pads.len())];
                    let (pb, pr) = (pt + rng.below(3), pl + rng.below(3));
                    let out_h = out_size(in_h, k, s, d, pt, pb);
                    let out_w = out_size(in_w, k, s, d, pl, pr);
                    let region = match rng.below(4) {
                        0 if out_h > 1 && out_w > 2 => {
                            let r0 = rng.below(out_h);
                            let c0 = rng.below(out_w - 1);
                            Some((
                                (r0, (r0 + 2).min(out_h)),
                                (c0, c0 + 1 + rng.below(out_w - c0)),
                            ))
                        }
                        _ => None,
                    };
                    let case = Case {
                        k,
                        s,
                        d,
                        c,
                        in_h,
                        in_w,
                        pad_top: pt,
                        pad_left: pl,
                        out_h,
                        out_w,
                        act: Activation::ALL[i % 5],
                        clamp: i % 3 == 1,
                        region,
                        sub_slice: i % 2 == 0,
                        in_stride: 0,
                        offset: None,
                        staged: None,
                    };
                    run_case(isa, &case, &mut rng);
                    cases += 1;
                }
            }
        }
    }
    eprintln!("{cases} cases");
}

#[test]
fn specialized_kernels_match_reference() {
    sweep(SPECIALIZED, 0x9e37_79b9_7f4a_7c15);
}

#[test]
fn generic_kernels_match_reference() {
    sweep(
        &[
            (1, 1, 1),
            (3, 3, 1),
            (15, 1, 1),
            (5, 1, 3),
            (9, 2, 2),
            (7, 3, 1),
            (3, 2, 2),
        ],
        0x2545_f491_4f6c_dd1d,
    );
}

/// Every activation and clamp on every ISA with a map wide enough for full interior tiles.
#[test]
fn activations_on_interior_tiles() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for isa in isas() {
        for (ai, act) in Activation::ALL.into_iter().enumerate() {
            for (k, s) in [(3, 1), (5, 2), (7, 1)] {
                let case = Case {
                    act,
                    clamp: ai % 2 == 1,
                    ..Case::same(k, s, 1, 2 * isa.lanes() + 5, 6, 64)
                };
                run_case(isa, &case, &mut rng);
            }
        }
    }
}

/// The staged path: every stride-1 specialized kernel on an aliased pixel stride (512
/// floats: 2 KiB, aliased for every ISA) with maps large enough for it to be chosen —
/// several column strips for the 13-row windows — channel tails, sub-regions, each
/// epilogue; and the direct path on the same maps with an unaliased stride.
#[test]
fn staged_path_matches_reference() {
    let mut rng = Rng(0x0dd_ba11_5ca1_ab1e);
    let mut cases = 0;
    for isa in isas() {
        let l = isa.lanes();
        for (i, &(k, s, d)) in SPECIALIZED.iter().filter(|t| t.1 == 1).enumerate() {
            let reach = (k - 1) * d + 1;
            for (j, c) in [4 * l, 3 * l + 3].into_iter().enumerate() {
                let same = Case::same(k, s, d, c, 3 * reach + 4, 100);
                let (out_h, out_w) = (same.out_h, same.out_w);
                for (in_stride, staged) in [(512, true), (c + 7, false)] {
                    let region = match (i + j) % 3 {
                        0 => None,
                        1 => Some(((2, out_h - 1), (5, out_w - 7))),
                        _ => Some(((0, out_h), (out_w / 3, out_w))),
                    };
                    let case = Case {
                        act: Activation::ALL[(i + j) % 5],
                        clamp: (i + j) % 2 == 1,
                        region,
                        sub_slice: j == 1,
                        in_stride,
                        staged: Some(staged),
                        ..same.clone()
                    };
                    run_case(isa, &case, &mut rng);
                    cases += 1;
                }
            }
        }
    }
    eprintln!("{cases} cases");
}

/// AVX2's 3×3 kernel on maps 14 to 56 outputs wide runs staged whatever the pixel stride,
/// with one, two or four blocks a ring pixel; on narrower and wider maps, direct: full and
/// partial last blocks, sub-regions, sub-slices, epilogues.
#[test]
fn avx2_3x3_maps_14_to_56_wide_run_staged_and_match_reference() {
    if !Isa::Avx2.is_available() {
        return;
    }
    let mut rng = Rng(0x0a77_0e3e);
    // (in_h, in_w, channels, blocks a ring pixel; 0: direct)
    let cases = [
        (14, 14, 96, 4),
        (14, 14, 125, 4),
        (9, 28, 80, 2),
        (20, 21, 77, 2),
        (14, 14, 88, 1),
        (28, 28, 120, 1),
        (12, 13, 96, 0),
        (6, 29, 96, 4),
        (9, 56, 72, 1),
        (7, 56, 125, 4),
        (8, 40, 77, 2),
        (5, 57, 96, 0),
    ];
    for (i, &(in_h, in_w, c, blocks)) in cases.iter().enumerate() {
        let same = Case::same(3, 1, 1, c, in_h, in_w);
        let (out_h, out_w) = (same.out_h, same.out_w);
        let case = Case {
            act: Activation::ALL[i % 5],
            clamp: i % 2 == 1,
            region: (i % 3 == 1).then_some(((1, out_h - 1), (2, out_w - 3))),
            sub_slice: i % 3 == 2,
            ..same
        };
        let got = run_case(Isa::Avx2, &case, &mut rng);
        assert_eq!(got, blocks, "{case:?}: blocks a ring pixel");
    }
}

/// AVX2's 3×3 kernel at stride 2 on groups that fill their input pixels and on one that
/// shares them: 1 to 17 channel blocks, the last one partial or whole, odd and even sizes,
/// padding on each side, sub-regions, sub-slices, epilogues.
#[test]
fn avx2_3x3_stride_2_matches_reference() {
    if !Isa::Avx2.is_available() {
        return;
    }
    let mut rng = Rng(0x0e1_7115);
    // (in_h, in_w, channels, whether the group fills its input pixels)
    let cases = [
        (112, 112, 96, true),
        (15, 16, 64, true),
        (16, 15, 88, true),
        (9, 9, 136, true),
        (7, 12, 8, true),
        (1, 1, 3, true),
        (2, 3, 17, true),
        (11, 10, 130, true),
        (10, 11, 96, false),
    ];
    for (i, &(in_h, in_w, c, fills)) in cases.iter().enumerate() {
        let same = Case::same(3, 2, 1, c, in_h, in_w);
        let (out_h, out_w) = (same.out_h, same.out_w);
        let sub_region = i % 3 == 1 && out_h > 2 && out_w > 2;
        let case = Case {
            act: Activation::ALL[i % 5],
            clamp: i % 2 == 1,
            region: sub_region.then_some(((1, out_h - 1), (1, out_w - 1))),
            sub_slice: i % 3 == 2,
            in_stride: if fills { c } else { c + 48 },
            offset: Some(if fills { 0 } else { 16 }),
            ..same
        };
        run_case(Isa::Avx2, &case, &mut rng);
    }
}

/// The staged path with two channel blocks side by side in each ring pixel (AVX-512; AVX2
/// up to 9×9, with 7-wide tiles for 7×7; an even block count, MixNet-like 28-wide maps),
/// and four (AVX2 3×3 of dilation 1 and 2; a block count divisible by 4): full and partial
/// last blocks, sub-regions, epilogues; an odd block count falls back to one block a pixel.
#[test]
fn staged_pairs_match_reference() {
    let mut rng = Rng(0x009a_14ed_b10c);
    let (mut paired, mut quads, mut pairs_of_112) = ([0; 3], 0, 0);
    for isa in isas().into_iter().filter(|&i| i != Isa::Portable) {
        // 128 channels (an even block count), 125 (the last block partial), 128 − LANES (odd),
        // 112 (AVX2: 14 blocks, even but not divisible by 4).
        let l = isa.lanes();
        for (i, &(k, s, d)) in SPECIALIZED.iter().filter(|t| t.1 == 1).enumerate() {
            let reach = (k - 1) * d + 1;
            for (j, c) in [128, 125, 128 - l, 112].into_iter().enumerate() {
                let same = Case::same(k, s, d, c, reach + 6, 28);
                let case = Case {
                    act: Activation::ALL[(i + j) % 5],
                    clamp: (i + j) % 2 == 0,
                    region: (j == 1).then_some(((1, same.out_h - 1), (3, same.out_w - 2))),
                    sub_slice: j == 2,
                    in_stride: 512,
                    ..same
                };
                let blocks = run_case(isa, &case, &mut rng);
                if j == 2 {
                    assert!(blocks < 2, "{case:?}: an odd block count cannot pair");
                }
                if j < 2 {
                    paired[isa as usize] += usize::from(blocks >= 2);
                    quads += usize::from(blocks == 4);
                } else if j == 3 && isa == Isa::Avx2 {
                    pairs_of_112 += usize::from(blocks == 2);
                }
            }
        }
    }
    // K = 3, 5, 7 and 9 with dilation 1, 3×3 with dilation 2 to 4, full and partial (these
    // 5×5 dilation-2 maps have too much padding to run staged).
    for isa in [Isa::Avx512, Isa::Avx2] {
        let n = paired[isa as usize];
        assert!(
            !isa.is_available() || n >= 14,
            "{isa}: only {n} cases ran two or more blocks a pixel"
        );
    }
    // AVX2: 3×3 with dilation 1 and 2, full and partial; with 14 blocks, pairs for the seven.
    assert!(
        !Isa::Avx2.is_available() || (quads == 4 && pairs_of_112 >= 7),
        "AVX2: {quads} cases ran four blocks a pixel (not 4), {pairs_of_112} two (of 14 blocks)"
    );
}

/// The staged path with 7-wide tiles (AVX2's 7×7 kernel, whose full tile is 8 wide): a
/// 28-wide map (4 tiles of 7 rather than 8) and a 21-wide sub-region (3 tiles: both copy the
/// row ahead in parts, `Ring::spreads`), full and partial last blocks, epilogues.
#[test]
fn staged_seven_wide_tiles_match_reference() {
    let mut rng = Rng(0x7e7e_11de);
    for isa in isas().into_iter().filter(|&i| i == Isa::Avx2) {
        let l = isa.lanes();
        for (j, c) in [31 * l, 30 * l + 3].into_iter().enumerate() {
            let same = Case::same(7, 1, 1, c, 20, 28);
            let case = Case {
                act: Activation::ALL[2 * j + 1],
                clamp: j == 1,
                region: (j == 1).then_some(((2, same.out_h - 1), (2, 23))),
                sub_slice: j == 0,
                in_stride: 512,
                staged: Some(true),
                ..same
            };
            run_case(isa, &case, &mut rng);
        }
    }
}

/// A last block of every width from 1 to `LANES − 1` channels (AVX2 writes it with plain
/// 16-, 8- and 4-byte stores, not a masked store): direct tiles at stride 1 and 2 (the
/// stride-2 5×5 tile visits its columns by phases) and the staged path (512-channel pixel
/// stride), beside NaN channels of other groups and with canaries around the group's
/// channels in the output.
#[test]
fn every_partial_block_width_matches_reference() {
    let mut rng = Rng(0x7a11_b10c);
    for isa in isas() {
        let l = isa.lanes();
        for t in 1..l {
            // (kernel, stride, blocks before the partial one, input height and width, staged)
            for (k, s, full, h, w, staged) in [
                (3, 1, 1, 9, 11, false),
                (5, 2, 1, 9, 13, false),
                (5, 1, 3, 16, 100, true),
            ] {
                let same = Case::same(k, s, 1, full * l + t, h, w);
                let case = Case {
                    act: Activation::ALL[t % 5],
                    clamp: t % 2 == 1,
                    sub_slice: t % 2 == 0,
                    in_stride: if staged { 512 } else { 0 },
                    staged: Some(staged),
                    ..same
                };
                run_case(isa, &case, &mut rng);
            }
        }
    }
}

/// Groups that start mid-vector in pixels whose strides are multiples of the lanes, so that
/// their blocks lie on the pixel's vectors, block 0 masked at its front (`Geometry::lead`):
/// every lead from 1 to `LANES − 1`; one block (ending mid-vector or at its end), two,
/// three and four; direct tiles at stride 1 and 2, the generic kernel, and the staged path with one,
/// two and (AVX2 3×3) four blocks a ring pixel. Other groups' channels hold NaN (the staged
/// copy reads a lead's lanes in place), canaries surround the output's group channels, and
/// half the calls get an output slice that starts at the group's first channel (the lead
/// lanes before it are never touched).
#[test]
fn blocks_aligned_to_the_pixel_match_reference() {
    let mut rng = Rng(0x1ead_b10c);
    for isa in isas() {
        let l = isa.lanes();
        let mut ring_blocks = [0usize; 5];
        for lead in 1..l {
            // (kernel, stride, dilation, input height and width, input pixel stride)
            for (i, (k, s, d, h, w, in_stride)) in [
                (3, 1, 1, 9, 11, 0),
                (5, 2, 1, 9, 13, 0),
                (3, 2, 1, 9, 15, 0),
                (3, 3, 1, 10, 11, 0),
                (5, 1, 1, 16, 100, 512),
                // AVX-512 pairs blocks only where the ring spans the map: 40 wide, not 100.
                (5, 1, 1, 12, 40, 512),
                (3, 1, 1, 14, 14, 0),
            ]
            .into_iter()
            .enumerate()
            {
                // Full blocks before the last, and the last block's channels.
                for (full, t) in [(0, 1), (0, l - lead), (1, l - lead), (2, 1), (3, 1)] {
                    let c = full * l + t;
                    let same = Case::same(k, s, d, c, h, w);
                    let j = i + full + lead;
                    let case = Case {
                        act: Activation::ALL[j % 5],
                        clamp: j % 3 == 1,
                        region: (j % 4 == 1).then_some(((1, same.out_h), (1, same.out_w - 1))),
                        sub_slice: j % 2 == 0,
                        in_stride,
                        offset: Some(2 * l + lead),
                        ..same
                    };
                    let blocks = run_case(isa, &case, &mut rng);
                    ring_blocks[blocks] += 1;
                }
            }
        }
        // Staged cases with one block a pixel on every ISA, two on AVX2 and AVX-512, four
        // on AVX2.
        let want = match isa {
            Isa::Portable => [1, 0, 0],
            Isa::Avx2 => [1, 1, 1],
            Isa::Avx512 => [1, 1, 0],
        };
        let got = [ring_blocks[1], ring_blocks[2], ring_blocks[4]].map(|n| usize::from(n > 0));
        assert!(
            got >= want,
            "{isa}: ring pixels of 1, 2, 4 blocks: {ring_blocks:?}"
        );
    }
}

/// A weight that is not finite on a geometry that runs staged: its padding taps must stay
/// skipped (0·∞ would be NaN), so the call reads in place; inside the image it still counts.
#[test]
fn infinite_weight_is_not_applied_to_padding() {
    for isa in isas() {
        let l = isa.lanes();
        let (k, hw, pad) = (5, 28, 2);
        let g = Geometry {
            batch: 1,
            in_h: hw,
            in_w: hw,
            out_h: hw,
            out_w: hw,
            kernel: k,
            dilation: 1,
            stride: 1,
            pad_top: pad,
            pad_left: pad,
            channels: 8 * l,
            in_channel_offset: 0,
            in_pixel_stride: 512,
            out_channel_offset: 0,
            out_pixel_stride: 8 * l,
        };
        assert!(staged(isa, &g), "{isa}: the geometry should run staged");
        let mut w = vec![0.01f32; g.packed_weights_len(l).unwrap()];
        // Block 0, tap (0, 0), lane 0: channel 0's top-left tap.
        w[0] = f32::INFINITY;
        let b = vec![0.0f32; g.blocks(l) * l];
        let input = vec![1.0f32; hw * hw * 512];
        let mut out = vec![0.0f32; hw * hw * 8 * l];
        let region = Region {
            batch: 0,
            rows: 0..hw,
            cols: 0..hw,
        };
        depthwise(
            isa,
            &g,
            &region,
            &Epilogue::default(),
            &input,
            &w,
            &b,
            &mut out,
            0,
        )
        .unwrap();
        let at = |y: usize, x: usize, ch: usize| out[(y * hw + x) * 8 * l + ch];
        // Output (1, 1): tap (0, 0) reads input (-1, -1), padding.
        assert!(at(1, 1, 0).is_finite(), "{isa}: got {}", at(1, 1, 0));
        assert_eq!(at(2, 2, 0), f32::INFINITY, "{isa}");
        assert!(
            (at(1, 1, 1) - 0.16).abs() < 1e-5,
            "{isa}: got {}",
            at(1, 1, 1)
        );
    }
}

/// Large pre-activation values: SiLU's exp must neither overflow nor lose accuracy.
#[test]
fn silu_extremes() {
    for isa in isas() {
        let l = isa.lanes();
        let xs: Vec<f32> = (0..l * 25)
            .map(|i| (i as f32 - (l * 25 / 2) as f32) * 0.37)
            .collect();
        let g = Geometry {
            batch: 1,
            in_h: 1,
            in_w: 25,
            out_h: 1,
            out_w: 25,
            kernel: 1,
            dilation: 1,
            stride: 1,
            pad_top: 0,
            pad_left: 0,
            channels: l,
            in_channel_offset: 0,
            in_pixel_stride: l,
            out_channel_offset: 0,
            out_pixel_stride: l,
        };
        let w = vec![1.0f32; l];
        let b = vec![0.0f32; l];
        let mut out = vec![0.0f32; l * 25];
        let epi = Epilogue {
            activation: Activation::Silu,
            ..Epilogue::default()
        };
        let region = Region {
            batch: 0,
            rows: 0..1,
            cols: 0..25,
        };
        depthwise(isa, &g, &region, &epi, &xs, &w, &b, &mut out, 0).unwrap();
        for (x, y) in xs.iter().zip(&out) {
            let want = *x as f64 / (1.0 + (-*x as f64).exp());
            let tol = 4e-7 * want.abs() + 1e-30;
            assert!(
                (*y as f64 - want).abs() <= tol,
                "{isa}: silu({x}) = {y}, want {want}"
            );
        }
    }
}

#[test]
fn names_and_table() {
    assert!(SPECIALIZED.contains(&(7, 2, 1)));
    assert!(SPECIALIZED.contains(&(3, 1, 6)));
    assert_eq!(microkernel(Isa::Avx512, 7, 2, 1), "avx512_k7s2_16c14w");
    assert_eq!(microkernel(Isa::Avx512, 3, 1, 2), "avx512_k3d2s1_16c14w");
    assert_eq!(microkernel(Isa::Avx2, 15, 1, 1), "avx2_generic_8c8w");
    for isa in Isa::ALL {
        for &(k, s, d) in SPECIALIZED {
            let name = microkernel(isa, k, s, d);
            assert!(
                name.starts_with(isa.name()) && !name.contains("generic"),
                "{name}"
            );
        }
    }
}

#[test]
fn refuses_short_slices() {
    let isa = Isa::Portable;
    let g = Geometry {
        batch: 1,
        in_h: 4,
        in_w: 4,
        out_h: 4,
        out_w: 4,
        kernel: 3,
        dilation: 1,
        stride: 1,
        pad_top: 1,
        pad_left: 1,
        channels: 9,
        in_channel_offset: 0,
        in_pixel_stride: 9,
        out_channel_offset: 0,
        out_pixel_stride: 9,
    };
    let region = Region {
        batch: 0,
        rows: 0..4,
        cols: 0..4,
    };
    let epi = Epilogue::default();
    let input = vec![0.0; 16 * 9];
    let w = vec![0.0; 2 * 9 * 8];
    let b = vec![0.0; 16];
    let mut out = vec![0.0; 16 * 9];
    assert!(depthwise(isa, &g, &region, &epi, &input, &w, &b, &mut out, 0).is_ok());
    let short = |r: Result<(), KernelError>| matches!(r, Err(KernelError::SliceTooShort(..)));
    assert!(short(depthwise(
        isa,
        &g,
        &region,
        &epi,
        &input[1..],
        &w,
        &b,
        &mut out,
        0
    )));
    assert!(short(depthwise(
        isa,
        &g,
        &region,
        &epi,
        &input,
        &w[1..],
        &b,
        &mut out,
        0
    )));
    assert!(short(depthwise(
        isa,
        &g,
        &region,
        &epi,
        &input,
        &w,
        &b[1..],
        &mut out,
        0
    )));
    assert!(short(depthwise(
        isa,
        &g,
        &region,
        &epi,
        &input,
        &w,
        &b,
        &mut out[1..],
        0
    )));
}
