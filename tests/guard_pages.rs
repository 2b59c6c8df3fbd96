//! Out-of-bounds accesses fault: every slice a kernel gets (input, output, packed weights,
//! bias) is placed flush against an inaccessible page, at its end and, separately, at its
//! start. Each call runs in a forked child so that a fault fails the test with the signal and
//! the configuration instead of killing the harness. Elements inside the slices that the
//! layer must not write carry canaries.
#![cfg(target_os = "linux")]

mod common;

use common::{CANARY_BITS, Rng, canary, geometry_reference, pack, tolerance};
use mixconv::{Activation, Epilogue, Isa, MixConv, Plan, Shape, Split, Weights, available_isas};
use mixconv_kernels::{Geometry, Region, depthwise};
use std::panic::AssertUnwindSafe;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The slice's last element is the last byte before a `PROT_NONE` page.
    End,
    /// The slice's first element is the first byte after a `PROT_NONE` page.
    Start,
}

/// `len` f32 in a shared anonymous mapping with an inaccessible page on one side.
///
/// The mapping is `MAP_SHARED` so that what a forked child writes is seen by the parent.
struct Guarded {
    base: *mut libc::c_void,
    map_len: usize,
    data: *mut f32,
    len: usize,
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

impl Guarded {
    fn new(len: usize, side: Side) -> Guarded {
        assert!(len > 0);
        let page = page_size();
        let data_bytes = (len * 4).div_ceil(page) * page;
        let map_len = data_bytes + page;
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap failed");
        let (guard, data) = match side {
            // SAFETY (both arms): the offsets stay inside the `map_len`-byte mapping; `data`
            // is 4-byte aligned because page sizes and `data_bytes - len·4` are multiples of 4.
            Side::End => unsafe {
                (
                    base.cast::<u8>().add(data_bytes),
                    base.cast::<u8>().add(data_bytes - len * 4),
                )
            },
            Side::Start => unsafe { (base.cast::<u8>(), base.cast::<u8>().add(page)) },
        };
        // SAFETY: `guard` is a page-aligned page of our own mapping.
        let rc = unsafe { libc::mprotect(guard.cast(), page, libc::PROT_NONE) };
        assert_eq!(rc, 0, "mprotect failed");
        Guarded {
            base,
            map_len,
            data: data.cast(),
            len,
        }
    }

    fn slice(&self) -> &[f32] {
        // SAFETY: `data .. data + len` is readable, writable memory of the mapping, which lives
        // as long as `self`; the borrow of `self` keeps it from being aliased mutably.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }

    fn slice_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `slice`, with an exclusive borrow of `self`.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.len) }
    }

    fn from_values(values: &[f32], side: Side) -> Guarded {
        let mut g = Guarded::new(values.len(), side);
        g.slice_mut().copy_from_slice(values);
        g
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no slice of it outlives `self`.
        unsafe { libc::munmap(self.base, self.map_len) };
    }
}

/// Runs `f` in a forked child; `Err` names how the child ended unless `f` returned `true`.
///
/// The child only runs `f` (kernel calls that neither allocate nor lock) and `_exit`s, so the
/// other threads of the test harness, which the child does not have, cannot be waited on.
fn in_child(f: impl FnOnce() -> bool) -> Result<(), String> {
    // SAFETY: see above: between fork and _exit the child touches no lock another thread
    // could hold (no allocation unless `f` panics, which only happens on failure).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(_) => 2,
        };
        // SAFETY: ends the child at once, without running the harness's destructors or
        // atexit handlers (which belong to the parent).
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; `status` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR),
            "waitpid failed"
        );
    }
    if libc::WIFSIGNALED(status) {
        Err(format!(
            "child killed by signal {} (SIGSEGV = {}, SIGBUS = {})",
            libc::WTERMSIG(status),
            libc::SIGSEGV,
            libc::SIGBUS
        ))
    } else if libc::WEXITSTATUS(status) != 0 {
        Err(format!(
            "child exited with {} (1: call refused, 2: panic)",
            libc::WEXITSTATUS(status)
        ))
    } else {
        Ok(())
    }
}

#[test]
fn a_read_past_a_guarded_slice_faults() {
    // Guards the harness itself: a child touching the guard page is reported, not ignored.
    for side in [Side::End, Side::Start] {
        let g = Guarded::new(10, side);
        let ptr = g.slice().as_ptr();
        let result = in_child(|| {
            let outside = match side {
                // SAFETY: deliberately one element past / before the slice, inside our own
                // mapping's PROT_NONE page: it faults, in the child only.
                Side::End => unsafe { ptr.add(10) },
                Side::Start => unsafe { ptr.sub(1) },
            };
            // SAFETY: see above; a volatile read so that it is not optimised away.
            let v = unsafe { std::ptr::read_volatile(outside) };
            v.is_nan()
        });
        let e = result.expect_err("the guard page did not fault");
        assert!(e.contains("signal"), "{e}");
        assert!(in_child(|| g.slice()[0] == 0.0 && g.slice()[9] == 0.0).is_ok());
    }
}

/// A layer and its tensors' layout.
#[derive(Clone, Debug)]
struct Config {
    channels: usize,
    kernels: Vec<usize>,
    dilations: Vec<usize>,
    stride: usize,
    batch: usize,
    h: usize,
    w: usize,
    in_extra: usize,
    out_extra: usize,
    activation: Activation,
}

fn configs() -> Vec<Config> {
    let mut out = Vec::new();
    let shapes: &[(&[usize], &[usize], usize)] = &[
        (&[3], &[1], 1),
        (&[3], &[1], 2),
        (&[5], &[1], 1),
        (&[5], &[1], 2),
        (&[7], &[1], 1),
        (&[7], &[1], 2),
        (&[9], &[1], 1),
        (&[11], &[1], 2),
        (&[13], &[1], 1),
        (&[13], &[1], 2),
        (&[3], &[2], 1),
        (&[3], &[5], 1),
        (&[5], &[2], 1),
        (&[7], &[2], 1),
        (&[1], &[1], 3),
        (&[3, 5, 7, 9], &[1, 1, 1, 1], 1),
        (&[3, 5, 7], &[1, 2, 1], 2),
        (&[9, 3], &[1, 6], 1),
    ];
    let channels = [1, 3, 7, 9, 13, 17, 23, 31, 33, 47, 45, 19];
    let widths = [1, 3, 7, 13, 15, 29, 5, 17, 9, 31];
    for (i, &(kernels, dilations, stride)) in shapes.iter().enumerate() {
        for j in 0..3 {
            let n = i * 3 + j;
            let c = channels[n % channels.len()].max(kernels.len());
            out.push(Config {
                channels: c,
                kernels: kernels.to_vec(),
                dilations: dilations.to_vec(),
                stride,
                batch: 1 + n % 2,
                h: [2, 5, 9, 14][n % 4],
                w: widths[n % widths.len()],
                // 0: a dense input, whose single groups fill their pixels.
                in_extra: [3, 0, 16, 5][n % 4],
                out_extra: [2, 7, 1, 16][n % 4],
                activation: Activation::ALL[n % 5],
            });
        }
    }
    out
}

/// Plans on every ISA with input and output flush against guard pages (the shortest accepted
/// slices: they end at the layer's last channel of the last pixel), canary margins on the
/// other side of the output, and NaN in every input element outside the layer.
#[test]
fn plans_stay_inside_guarded_buffers() {
    let margin = 37;
    for (index, cfg) in configs().iter().enumerate() {
        let layer = MixConv::new(cfg.channels, &cfg.kernels)
            .dilations(&cfg.dilations)
            .stride(cfg.stride)
            .split(Split::Equal)
            .activation(cfg.activation)
            .clamp(-4.0, 4.0);
        let mut rng = Rng::new(index as u64);
        let sizes = layer.group_channels().unwrap();
        let weights = Weights::hwc(
            cfg.kernels
                .iter()
                .zip(&sizes)
                .map(|(&k, &c)| rng.vec(k * k * c, -1.0, 1.0))
                .collect(),
        )
        .with_bias(rng.vec(cfg.channels, -1.0, 1.0));
        let (c, s_in, s_out) = (
            cfg.channels,
            cfg.channels + cfg.in_extra,
            cfg.channels + cfg.out_extra,
        );
        let shape = Shape::new(cfg.batch, cfg.h, cfg.w)
            .input_pixel_stride(s_in)
            .output_pixel_stride(s_out);
        let reference_plan = Plan::new(&layer, &weights, shape, Isa::Portable).unwrap();
        let in_len = *reference_plan.input_lens().start();
        let out_len = *reference_plan.output_lens().start();
        let mut input = vec![f32::NAN; in_len];
        for (i, v) in input.iter_mut().enumerate() {
            if i % s_in < c {
                *v = rng.f32(-2.0, 2.0);
            }
        }
        let mut want = vec![0.0; out_len];
        mixconv::reference::mixconv(&layer, &weights, shape, &input, &mut want).unwrap();
        let mags = mixconv::reference::magnitudes(&layer, &weights, shape, &input).unwrap();

        for isa in available_isas() {
            let plan = Plan::new(&layer, &weights, shape, isa).unwrap();
            for side in [Side::End, Side::Start] {
                let guarded_in = Guarded::from_values(&input, side);
                let mut guarded_out = Guarded::new(out_len + margin, side);
                guarded_out.slice_mut().fill(canary());
                let range = match side {
                    Side::End => margin..margin + out_len,
                    Side::Start => 0..out_len,
                };
                let out_ptr = guarded_out.slice_mut().as_mut_ptr();
                let result = in_child(|| {
                    // SAFETY: `range` lies inside the guarded output, which the parent does
                    // not touch while the child runs.
                    let out = unsafe {
                        std::slice::from_raw_parts_mut(out_ptr.add(range.start), range.len())
                    };
                    plan.run(guarded_in.slice(), out).is_ok()
                });
                if let Err(e) = result {
                    panic!("{isa} {side:?}: {e}\nconfig {cfg:?}\n{plan}");
                }
                let all = guarded_out.slice();
                for (i, &v) in all.iter().enumerate() {
                    let inside = range.contains(&i) && (i - range.start) % s_out < c;
                    if inside {
                        let j = i - range.start;
                        let tol = tolerance(mags[j], cfg.activation);
                        assert!(
                            (v - want[j]).abs() <= tol,
                            "{isa} {side:?}: element {j} = {v}, want {} (tol {tol})\nconfig {cfg:?}",
                            want[j]
                        );
                    } else {
                        assert_eq!(
                            v.to_bits(),
                            CANARY_BITS,
                            "{isa} {side:?}: element {i} of the guarded buffer (slice {range:?}) \
                             was written\nconfig {cfg:?}"
                        );
                    }
                }
            }
        }
    }
}

/// Splits `0..n` into pieces that start at `cuts` (clamped), e.g. to make border and interior
/// tiles.
fn pieces(n: usize, cuts: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(n)).collect();
    points.push(0);
    points.push(n);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|p| p[0]..p[1]).collect()
}

/// One group through `mixconv_kernels::depthwise` directly, region by region, with the input,
/// the packed weights, the bias and each region's output slice all flush against guard pages.
#[test]
fn kernels_stay_inside_guarded_slices() {
    let mut cases = Vec::new();
    // Every specialized kernel (the list that drives dispatch) and a few generic ones.
    let generic = [(1, 1, 1), (5, 3, 3), (15, 1, 1)];
    let kernels: Vec<(usize, usize, usize)> = mixconv_kernels::SPECIALIZED
        .iter()
        .copied()
        .chain(generic)
        .collect();
    let channels = [1, 5, 7, 9, 15, 17, 23, 31, 33, 41, 47];
    let widths = [1, 2, 7, 13, 15, 29, 19, 31];
    for (i, &(k, s, d)) in kernels.iter().enumerate() {
        for j in 0..4 {
            let n = i * 4 + j;
            cases.push((
                k,
                s,
                d,
                channels[n % channels.len()],
                widths[n % widths.len()],
                n,
                false,
                false,
            ));
        }
        // Groups that start mid-vector in pixels of whole vectors: their blocks lie on the
        // pixel's vectors, block 0 masked at its front (`Geometry::lead`), and with the
        // output on the guard page's side, the lead lanes lie on the guard page.
        let lead = 1 + (i * 5) % 15;
        for (j, c) in [channels[i % channels.len()], 16 - lead]
            .into_iter()
            .enumerate()
        {
            let n = 16 * (2 - j) + lead;
            cases.push((k, s, d, c, widths[i % widths.len()], n, false, true));
        }
        // The staged path (a ring of rows copied from the input): stride 1, 2 KiB pixels;
        // 126 channels on a 28-wide map take two blocks a ring pixel (AVX-512: 8 blocks,
        // K ≤ 9; AVX2: 16 blocks, windows of up to 9 rows; four for 3×3 of dilation 1, 2).
        if s == 1 && i < kernels.len() - generic.len() {
            cases.push((k, s, d, 47, 64, 4 * kernels.len() + 3 * i, true, false));
            cases.push((k, s, d, 126, 28, 4 * kernels.len() + 3 * i + 1, true, false));
        }
    }
    let (mut pairs, mut leads) = (0, [0; 3]);
    for (k, stride, dilation, c, w, n, staged, aligned) in cases {
        let reach = (k - 1) * dilation;
        let h = if staged {
            3 * reach + 4
        } else {
            [3, reach + 4, 1, 8][n % 4]
        };
        // Pads: symmetric, larger than the reach, or none (then the map must hold a window).
        let (pad_top, pad_bottom, pad_left, pad_right) = match if staged { 0 } else { n % 3 } {
            0 => (reach / 2, reach / 2, reach / 2, reach / 2),
            1 => (reach + 2, reach / 2, reach / 2 + 1, reach + 3),
            _ => (0, 0, 0, 0),
        };
        let (pad_top, pad_bottom) = if h + pad_top + pad_bottom <= reach {
            (reach, reach)
        } else {
            (pad_top, pad_bottom)
        };
        let (pad_left, pad_right) = if w + pad_left + pad_right <= reach {
            (reach, reach)
        } else {
            (pad_left, pad_right)
        };
        let out_h = (h + pad_top + pad_bottom - reach - 1) / stride + 1;
        let out_w = (w + pad_left + pad_right - reach - 1) / stride + 1;
        // The group sits at the end of the pixel (odd n) or in its middle (even n).
        let in_extra = if staged { 512 - c } else { 1 + n % 9 };
        let out_extra = 3 + n % 5;
        let (in_off, out_off) = if n % 2 == 1 {
            (in_extra, out_extra)
        } else {
            (in_extra / 2, 1)
        };
        // Aligned cases: the group at channel n (n mod 16 is the lead), strides of 16s.
        let (in_off, out_off, in_extra, out_extra) = if aligned {
            let ps = (n + c + 3).next_multiple_of(16);
            (n, n, ps - c, ps - c)
        } else {
            (in_off, out_off, in_extra, out_extra)
        };
        let geom = Geometry {
            batch: 2,
            in_h: h,
            in_w: w,
            out_h,
            out_w,
            kernel: k,
            dilation,
            stride,
            pad_top,
            pad_left,
            channels: c,
            in_channel_offset: in_off,
            in_pixel_stride: c + in_extra,
            out_channel_offset: out_off,
            out_pixel_stride: c + out_extra,
        };
        let epilogue = Epilogue {
            activation: Activation::ALL[n % 5],
            min: if n % 2 == 0 { -1.5 } else { f32::NEG_INFINITY },
            max: f32::INFINITY,
        };
        let mut rng = Rng::new(1000 + n as u64);
        let batch = 1; // the second image: the first lies before it in the input
        // Input up to the last channel of the region's image's last pixel; NaN outside the group.
        let in_len = ((batch + 1) * h * w - 1) * geom.in_pixel_stride + in_off + c;
        let mut input = vec![f32::NAN; in_len];
        for (i, v) in input.iter_mut().enumerate() {
            if (in_off..in_off + c).contains(&(i % geom.in_pixel_stride)) {
                *v = rng.f32(-2.0, 2.0);
            }
        }
        let hwc = rng.vec(k * k * c, -1.0, 1.0);
        let bias = rng.vec(c, -1.0, 1.0);
        let rows = pieces(out_h, &[1, out_h / 2, out_h - 1]);
        let cols = pieces(out_w, &[1, 8, 14, out_w.saturating_sub(3)]);
        let mut regions = vec![Region {
            batch,
            rows: 0..out_h,
            cols: 0..out_w,
        }];
        for (ri, r) in rows.iter().enumerate() {
            for (ci, cr) in cols.iter().enumerate() {
                // Staged cases (large maps): the first and last pieces only.
                if !staged || (ri + ci) % 3 == 0 {
                    regions.push(Region {
                        batch,
                        rows: r.clone(),
                        cols: cr.clone(),
                    });
                }
            }
        }

        for isa in available_isas() {
            assert_eq!(
                mixconv_kernels::staged(isa, &geom),
                staged,
                "{isa} {geom:?}"
            );
            pairs += usize::from(mixconv_kernels::staged_blocks(isa, &geom) >= 2);
            let lead = geom.lead(isa.lanes());
            leads[isa as usize] += usize::from(lead > 0);
            let (packed, packed_bias) = pack(&hwc, &bias, k, c, isa.lanes(), lead);
            assert_eq!(Some(packed.len()), geom.packed_weights_len(isa.lanes()));
            for side in [Side::End, Side::Start] {
                let g_in = Guarded::from_values(&input, side);
                let g_w = Guarded::from_values(&packed, side);
                let g_b = Guarded::from_values(&packed_bias, side);
                for region in &regions {
                    let first = (((batch * out_h + region.rows.start) * out_w) + region.cols.start)
                        * geom.out_pixel_stride
                        + out_off;
                    let last = (((batch * out_h + region.rows.end - 1) * out_w) + region.cols.end
                        - 1)
                        * geom.out_pixel_stride
                        + out_off
                        + c
                        - 1;
                    let mut g_out = Guarded::new(last - first + 1, side);
                    g_out.slice_mut().fill(canary());
                    let out_ptr = g_out.slice_mut().as_mut_ptr();
                    let out_len = g_out.slice().len();
                    let result = in_child(|| {
                        // SAFETY: the guarded output, untouched by the parent meanwhile.
                        let out = unsafe { std::slice::from_raw_parts_mut(out_ptr, out_len) };
                        depthwise(
                            isa,
                            &geom,
                            region,
                            &epilogue,
                            g_in.slice(),
                            g_w.slice(),
                            g_b.slice(),
                            out,
                            first,
                        )
                        .is_ok()
                    });
                    if let Err(e) = result {
                        panic!("{isa} {side:?} {region:?}: {e}\n{geom:?}\n{epilogue:?}");
                    }
                    let mut expected = vec![None; out_len];
                    for (index, value, mag) in geometry_reference(
                        &geom,
                        batch,
                        region.rows.clone(),
                        region.cols.clone(),
                        &epilogue,
                        &input,
                        &hwc,
                        &bias,
                    ) {
                        expected[index - first] = Some((value, mag));
                    }
                    for (i, (&got, want)) in g_out.slice().iter().zip(&expected).enumerate() {
                        match want {
                            Some((v, mag)) => assert!(
                                (got - v).abs() <= tolerance(*mag, epilogue.activation),
                                "{isa} {side:?} {region:?}: element {} = {got}, want {v}\n{geom:?}",
                                first + i
                            ),
                            None => assert_eq!(
                                got.to_bits(),
                                CANARY_BITS,
                                "{isa} {side:?} {region:?}: element {} outside the region's \
                                 channels was written\n{geom:?}",
                                first + i
                            ),
                        }
                    }
                }
            }
        }
    }
    if mixconv_kernels::Isa::Avx512.is_available() {
        assert!(pairs > 0, "no case ran two or more blocks a ring pixel");
    }
    for isa in available_isas() {
        assert!(
            leads[isa as usize] > 10,
            "{isa}: {leads:?} cases with a lead"
        );
    }
}

#[test]
fn the_memory_floor_probe_stays_inside_guarded_slices() {
    use mixconv_kernels::stream::{LINE, stream};
    // Whole lines and partial last lines, at a stride-2 ratio, at 1:1 and with more output
    // lines than input ones; each slice flush against a guard page on either side.
    let lens = [
        (16 * LINE, 4 * LINE),
        (16 * LINE + 7, 4 * LINE + 3),
        (5 * LINE + 1, 5 * LINE + 15),
        (3 * LINE, 8 * LINE + 9),
    ];
    for isa in available_isas() {
        for &(in_len, out_len) in &lens {
            for (in_side, out_side) in [(Side::End, Side::End), (Side::Start, Side::Start)] {
                let values: Vec<f32> = (0..in_len).map(|i| (i % 5) as f32).collect();
                let input = Guarded::from_values(&values, in_side);
                let mut output = Guarded::from_values(&vec![canary(); out_len], out_side);
                let whole = out_len / LINE * LINE;
                let result = in_child(|| {
                    stream(isa, input.slice(), output.slice_mut()).is_some()
                        && output.slice()[whole..]
                            .iter()
                            .all(|x| x.to_bits() == CANARY_BITS)
                });
                assert!(
                    result.is_ok(),
                    "{isa}, {in_len} -> {out_len}, {in_side:?}: {result:?}"
                );
            }
        }
    }
}
