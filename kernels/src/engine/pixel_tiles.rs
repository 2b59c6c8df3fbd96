//! Pixel tiles: one output pixel × up to [`BLOCKS`] channel blocks, for AVX2's 3×3 kernel
//! at stride 2 on groups that fill their input pixels. A tile reads each input pixel of its
//! window once, several blocks (whole cache lines) at a time, so that the rows' input is
//! read in address order; the weights are FMA memory operands.
//!
//! The direct path's tiles (7 outputs × one block) read the window of each block in turn,
//! 15 pixels a row, 32 bytes of each: the misses to memory come in strided bursts the
//! hardware prefetchers do not follow. Measured on a Zen 3 host whose shared L3 kept some
//! 5 MB of ours (`mixconv bench`, 8 MiB of rotating buffers, so the input comes from DRAM;
//! 4 rounds alternating, 2026-11-28): MixNet-S layer 1 (112×112×96) 2.57× (1190 → 462 µs),
//! 112×112×88 3.35×, 56×56×128 1.98×, 14×14×512 1.28×, 28×28×256 1.04×. With the data
//! nearer (speed example, one copy, 3 rounds): 56×56×128 0.93–1.00×, 112×112×96 0.70–1.33×
//! (that host's noise). Tiles of 4 and 2 blocks ran MixNet-S layer 1 1.71× and 1.91×; two
//! outputs × 4 blocks 0.98×, four outputs × 2 blocks 0.70×. Not taken where the group
//! shares its pixels (MixNet 3×3 groups of mixes at stride 2, whose 192- or 320-byte spans
//! are not read in address order either): S.3, S.7 and M.3 ran 0.68–0.97×. Not yet
//! measured on Zen 4. Not taken at stride 1, where each input vector would feed one FMA
//! rather than three: on that host (in one process, runs alternating, 40–200 rounds), tiles
//! of 1 output × 4 blocks ran the staged path's single-group layers (S.2, M.2, L.2, M.11,
//! L.11, 28×28×256) 1.01–1.66× faster with 8 MiB rotating but 0.48–0.61× with one copy of
//! the data, and the 112-wide maps of 16 to 32 channels (S.0, M.0, L.0) 0.51–1.18× and
//! 0.22–0.43×; 1 × 8, 2 × 3, 2 × 4, 2 × 6, 3 × 2, 3 × 4 and 4 × 2 tiles ran no better.

use super::border::{ValidRows, interior};
use super::driver::Blocks;
use super::store::{Ep, store_tile};
use super::tile::span;
use crate::Geometry;
use crate::job::Job;
use crate::simd::{Simd, load_block};

/// Channel blocks a tile spans at most: 8 accumulators, the input vector, and the weights
/// as memory operands fit AVX2's 16 registers.
pub(crate) const BLOCKS: usize = 8;

/// The tiles' microkernel name: AVX2, 3×3 stride 2, `BLOCKS` × 8 channels, one output.
pub(crate) const NAME: &str = "avx2_k3s2_64c1w";
const _: () = assert!(BLOCKS * 8 == 64, "NAME states the channels a tile spans");

/// Whether the ISA of `lanes` and `registers` runs the `k`×`k` kernel of stride `s` and
/// dilation `d` with pixel tiles where the group allows ([`chosen`]): AVX2 (8 lanes, 16
/// registers), 3×3, stride 2, dilation 1.
pub(crate) const fn takes(lanes: usize, registers: usize, k: usize, s: usize, d: usize) -> bool {
    lanes == 8 && registers == 16 && k == 3 && s == 2 && d == 1
}

/// Whether a job runs pixel tiles: its kernel [`takes`] them and its group fills its input
/// pixels (it is the layer's only group).
pub(crate) fn chosen(
    g: &Geometry,
    k: usize,
    s: usize,
    d: usize,
    lanes: usize,
    registers: usize,
) -> bool {
    takes(lanes, registers, k, s, d) && g.in_channel_offset == 0 && g.channels == g.in_pixel_stride
}

/// Runs a job with pixel tiles of `NB` blocks: for each output row, for each output pixel,
/// for each run of `NB` blocks (the last one shorter).
///
/// # Safety
/// `job` was checked by `Job::new`; `job.geom` has this kernel size, stride and dilation,
/// and `job.lanes == I::LANES`.
#[inline(always)]
pub(crate) unsafe fn run<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const NB: usize,
>(
    isa: I,
    job: &Job,
) {
    let (g, r) = (job.geom, job.region);
    let (ep, blocks) = (&Ep::new(isa, job.epilogue), &Blocks::new(isa, g));
    for y in r.rows.clone() {
        let rows = ValidRows::new(y, K, S, D, g.pad_top, g.in_h);
        for x in r.cols.clone() {
            let ix0 = (x * S) as isize - g.pad_left as isize;
            let inside = interior(ix0, span(K, S, D, 1), g.in_w);
            let mut b0 = 0;
            while b0 < blocks.count {
                let nb = (blocks.count - b0).min(NB);
                let t = Pixel { y, x, ix0, b0, nb };
                let tail = blocks.partial(b0) || blocks.partial(b0 + nb - 1);
                // SAFETY: the output pixel and the blocks are in the region and group; the
                // tile runs unchecked only when its whole window is inside the input and it
                // spans `NB` whole blocks.
                unsafe {
                    if inside && nb == NB && !tail {
                        tile::<I, K, S, D, NB, false, false>(isa, job, blocks, &rows, ep, &t)
                    } else if tail {
                        tile::<I, K, S, D, NB, true, true>(isa, job, blocks, &rows, ep, &t)
                    } else {
                        tile::<I, K, S, D, NB, true, false>(isa, job, blocks, &rows, ep, &t)
                    }
                }
                b0 += nb;
            }
        }
    }
}

/// Where a tile lies: output pixel `(y, x)`, whose first tap reads input column `ix0`,
/// blocks `b0 .. b0 + nb`.
struct Pixel {
    y: usize,
    x: usize,
    ix0: isize,
    b0: usize,
    nb: usize,
}

/// One tile. `CHECKED`: input columns outside the input are skipped, and `t.nb` blocks run;
/// `TAIL`: loads and stores are masked to each block's lanes.
///
/// # Safety
/// As [`run`]; `t`'s pixel is in the region, its blocks in the group, `rows` are row
/// `t.y`'s valid rows, and unless `CHECKED` its window lies inside the input and
/// `t.nb == NB`.
#[inline(always)]
unsafe fn tile<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const NB: usize,
    const CHECKED: bool,
    const TAIL: bool,
>(
    isa: I,
    job: &Job,
    blocks: &Blocks<I>,
    rows: &ValidRows,
    ep: &Ep<I>,
    t: &Pixel,
) {
    let g = job.geom;
    let lanes = I::LANES;
    let nb = if CHECKED { t.nb } else { NB };
    let mut acc = [[isa.zero(); 1]; NB];
    for (j, a) in acc.iter_mut().enumerate().take(nb) {
        // SAFETY: block b0 + j's bias exists (`Job::new` checked every block's).
        a[0] = unsafe { isa.load(job.bias.add((t.b0 + j) * lanes)) };
    }
    for r in 0..rows.n {
        let ky = rows.ky_lo + r;
        // SAFETY: input row `rows.iy + r·D` is a valid row (`ValidRows`), column 0 exists.
        let row = unsafe { job.input_pixel(rows.iy + r * D, 0) };
        // Plain loops of constant trip counts, which LLVM unrolls.
        for kx in 0..K {
            let ix = t.ix0 + (kx * D) as isize;
            if CHECKED && (ix < 0 || ix as usize >= g.in_w) {
                continue;
            }
            let pixel = row.wrapping_add(ix as usize * g.in_pixel_stride);
            for (j, a) in acc.iter_mut().enumerate().take(nb) {
                let b = t.b0 + j;
                // SAFETY: column ix lies in the input, so the pixel's channels are in the
                // slice; a partial block loads its group lanes only; weight (b, ky, kx) is
                // in the packed slice.
                unsafe {
                    let v = load_block::<I, TAIL>(isa, blocks.input(pixel, b), blocks.mask(b));
                    let w = isa.load(job.weights.add(((b * K + ky) * K + kx) * lanes));
                    a[0] = isa.fma(v, w, a[0]);
                }
            }
        }
    }
    // SAFETY: output pixel (y, x) is in the region.
    let out = unsafe { job.output_pixel(t.y, t.x) };
    for (j, a) in acc.iter().enumerate().take(nb) {
        let b = t.b0 + j;
        // SAFETY: the pixel's block b (its masked lanes) is in the output slice.
        unsafe {
            store_tile::<I, 1, TAIL>(
                isa,
                ep,
                a,
                blocks.output(out, b),
                g.out_pixel_stride,
                blocks.mask(b),
                1,
            )
        };
    }
}
