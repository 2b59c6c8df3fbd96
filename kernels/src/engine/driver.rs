//! The loops around the microkernels: for each output row of the region, for each channel
//! block, for each column tile. A row's valid kernel rows are computed once; a tile whose
//! input window lies inside the input runs the unchecked microkernel, a border tile the
//! checked one; a row's last columns run narrower tiles (7, 4, 2, 1 wide).

use super::TileIo;
use super::border::{ValidRows, interior};
use super::generic::{self, GENERIC_WIDTH};
use super::store::Ep;
use super::tile::{span, tile};
use crate::job::Job;
use crate::simd::Simd;

/// Runs a job with the specialized `K`×`K` kernel of stride `S` and dilation `D`,
/// `WB` outputs per full tile.
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
    const WB: usize,
>(
    isa: I,
    job: &Job,
) {
    debug_assert!(job.geom.kernel == K && job.geom.stride == S && job.geom.dilation == D);
    debug_assert_eq!(job.lanes, I::LANES);
    for_blocks(
        isa,
        job,
        K,
        S,
        D,
        #[inline(always)]
        |t, ep, tail| {
            // SAFETY: `t` is a row block of the job (`for_blocks`).
            unsafe {
                if tail {
                    row::<I, K, S, D, WB, true>(isa, job, t, ep)
                } else {
                    row::<I, K, S, D, WB, false>(isa, job, t, ep)
                }
            }
        },
    );
}

/// Runs a job with the generic kernel.
///
/// # Safety
/// `job` was checked by `Job::new` and `job.lanes == I::LANES`.
#[inline(always)]
pub(crate) unsafe fn run_generic<I: Simd>(isa: I, job: &Job) {
    let g = job.geom;
    debug_assert_eq!(job.lanes, I::LANES);
    let (k, s, d) = (g.kernel, g.stride, g.dilation);
    for_blocks(
        isa,
        job,
        k,
        s,
        d,
        #[inline(always)]
        |t, ep, tail| {
            let cols = job.region.cols.clone();
            let row_out = t.out;
            let mut x = cols.start;
            while x < cols.end {
                let n = (cols.end - x).min(GENERIC_WIDTH);
                t.out = row_out;
                // SAFETY: outputs x .. x + n lie in the region's row, and the tile reads
                // only columns inside the input.
                unsafe {
                    place(job, t, x, s);
                    if tail {
                        generic::tile::<I, GENERIC_WIDTH, true>(isa, t, ep, k, s, d, n);
                    } else {
                        generic::tile::<I, GENERIC_WIDTH, false>(isa, t, ep, k, s, d, n);
                    }
                }
                x += n;
            }
        },
    );
}

/// Calls `f(tile, epilogue, masked)` for each output row × channel block of the region, with
/// the tile's input rows, weights, bias and mask set (the columns, `ix0` and `out`, are the
/// caller's). `out` is set to the block's channels of the row's first output pixel.
#[inline(always)]
fn for_blocks<I: Simd>(
    isa: I,
    job: &Job,
    k: usize,
    s: usize,
    d: usize,
    mut f: impl FnMut(&mut TileIo<I>, &Ep<I>, bool),
) {
    let g = job.geom;
    let r = job.region;
    let lanes = I::LANES;
    let ep = Ep::new(isa, job.epilogue);
    let blocks = g.blocks(lanes);
    let tail = g.channels - (blocks - 1) * lanes;
    let full_mask = isa.mask(lanes);
    let tail_mask = isa.mask(tail);
    for y in r.rows.clone() {
        let rows = ValidRows::new(y, k, s, d, g.pad_top, g.in_h);
        for b in 0..blocks {
            let partial = b + 1 == blocks && tail < lanes;
            // SAFETY: input row `rows.iy` < in_h and column 0 exist, and block b starts at
            // channel b·lanes < channels; block b's weights and bias exist in the packed
            // slices (`Job::new` checked their lengths for every block); output pixel
            // (y, cols.start) is in the region.
            let mut t = unsafe {
                TileIo {
                    row0: if rows.n > 0 {
                        job.input_pixel(rows.iy, 0).add(b * lanes)
                    } else {
                        job.input_pixel(0, 0)
                    },
                    row_step: d * g.in_w * g.in_pixel_stride,
                    nrows: rows.n,
                    w: job.weights.add((b * k * k + rows.ky_lo * k) * lanes),
                    ix0: 0,
                    in_w: g.in_w,
                    in_ps: g.in_pixel_stride,
                    out: job.output_pixel(y, r.cols.start).add(b * lanes),
                    out_ps: g.out_pixel_stride,
                    bias: isa.load(job.bias.add(b * lanes)),
                    mask: if partial { tail_mask } else { full_mask },
                }
            };
            f(&mut t, &ep, partial || I::FREE_MASKS);
        }
    }
}

/// Points `t` at the tile whose first output is column `x` of the row block.
///
/// # Safety
/// `t.out` is the block of the row's first output (`for_blocks`) and `x` a column of the region.
#[inline(always)]
unsafe fn place<I: Simd>(job: &Job, t: &mut TileIo<I>, x: usize, stride: usize) {
    let g = job.geom;
    let start = job.region.cols.start;
    t.ix0 = (x * stride) as isize - g.pad_left as isize;
    // SAFETY: output pixel x of the row is in the region.
    t.out = unsafe { t.out.add((x - start) * g.out_pixel_stride) };
}

/// The column tiles of one row block.
///
/// # Safety
/// `t` comes from `for_blocks` for this job; without `TAIL` the block is full.
#[inline(always)]
unsafe fn row<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const WB: usize,
    const TAIL: bool,
>(
    isa: I,
    job: &Job,
    t: &mut TileIo<I>,
    ep: &Ep<I>,
) {
    let cols = job.region.cols.clone();
    let row_out = t.out;
    let mut x = cols.start;
    while x < cols.end {
        let rem = cols.end - x;
        t.out = row_out;
        // SAFETY: every tile below is at most `rem` wide, so its outputs are in the region;
        // the unchecked one is used only when its whole input window is inside the input.
        unsafe {
            place(job, t, x, S);
            if rem >= WB {
                if interior(t.ix0, span(K, S, D, WB), t.in_w) {
                    tile::<I, K, S, D, WB, false, TAIL>(isa, t, ep);
                } else {
                    tile::<I, K, S, D, WB, true, TAIL>(isa, t, ep);
                }
                x += WB;
            } else if const { WB > 7 } && rem >= 7 {
                tile::<I, K, S, D, 7, true, TAIL>(isa, t, ep);
                x += 7;
            } else if const { WB > 4 } && rem >= 4 {
                tile::<I, K, S, D, 4, true, TAIL>(isa, t, ep);
                x += 4;
            } else if const { WB > 2 } && rem >= 2 {
                tile::<I, K, S, D, 2, true, TAIL>(isa, t, ep);
                x += 2;
            } else {
                tile::<I, K, S, D, 1, true, TAIL>(isa, t, ep);
                x += 1;
            }
        }
    }
}
