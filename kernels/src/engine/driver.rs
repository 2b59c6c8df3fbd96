//! The loops around the microkernels. Specialized kernels: for each output row, for each
//! column tile, for each channel block (a tile's input window stays cached across its
//! blocks and the output is written pixel by pixel), unless the job runs [`staged`] or, a 3×3
//! kernel at stride 2 with free masks, column [`strips`]; the generic kernel: for each
//! output row, channel block, column tile. A row's valid kernel rows are computed once; a
//! full tile (at stride 1 also a 7-wide one) whose input window lies inside the input runs
//! the unchecked microkernel, a border tile the checked one; narrower tiles (7, 4, 2, 1
//! wide) run a row's last columns, or wherever [`RowTiles`] finds them faster;
//! [`StridedBorders`] lets a stride-2 row run more of its tiles unchecked.

use super::TileIo;
use super::border::{ValidRows, interior};
use super::generic::{self, GENERIC_WIDTH};
use super::row_tiles::RowTiles;
use super::staged;
use super::store::Ep;
use super::tile::{span, tile};
use crate::job::Job;
use crate::simd::Simd;

/// Runs a job with the specialized `K`×`K` kernel of stride `S` and dilation `D`,
/// `WB` outputs per full tile: for each output row, for each column tile, for each channel
/// block (a tile's input window, all channels, stays in L1/L2 while its blocks run, and the
/// output is written pixel by pixel).
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
    // Each path in a function of its own: the code of one does not change the registers
    // LLVM gives the other (an unrelated change to the staged path once made direct-path
    // mixes 1.1× slower).
    // 7-wide staged tiles with 16 registers only (`seven_wide`).
    let seven = I::REGISTERS < 32 && WB > 7 && staged::seven_wide(job.region.cols.len(), WB);
    // Only ISAs that put 2 or 4 blocks in a ring pixel for this kernel compile those runs.
    let most = const { staged::max_pixel_blocks(I::LANES, I::REGISTERS, K, (K - 1) * D + 1) };
    match staged::blocks_per_pixel(job, K, S, D, I::LANES, I::REGISTERS) {
        0 if S > 1 && K == 3 && I::FREE_MASKS => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller.
            || unsafe { strips::<I, K, S, D, WB>(isa, job) },
        ),
        0 => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller.
            || unsafe { direct::<I, K, S, D, WB>(isa, job) },
        ),
        4 if most >= 4 && seven => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller; four blocks a pixel were chosen.
            || unsafe { staged::run::<I, K, S, D, 7, 4>(isa, job) },
        ),
        4 if most >= 4 => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller; four blocks a pixel were chosen.
            || unsafe { staged::run::<I, K, S, D, WB, 4>(isa, job) },
        ),
        2 if most >= 2 && seven => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller; two blocks a pixel were chosen.
            || unsafe { staged::run::<I, K, S, D, 7, 2>(isa, job) },
        ),
        2 if most >= 2 => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller; two blocks a pixel were chosen.
            || unsafe { staged::run::<I, K, S, D, WB, 2>(isa, job) },
        ),
        _ if seven => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller; one block a pixel was chosen.
            || unsafe { staged::run::<I, K, S, D, 7, 1>(isa, job) },
        ),
        _ => isa.enabled(
            #[inline(always)]
            // SAFETY: forwarded from the caller; one block a pixel was chosen.
            || unsafe { staged::run::<I, K, S, D, WB, 1>(isa, job) },
        ),
    }
}

/// The direct path: tiles read the input in place.
///
/// Measured on Zen 4 and removed (commit 1ced6f8 has it): AVX2 3×3 stride-2 pixel tiles for
/// single-group layers, one output × 8 channel blocks with the weights as FMA memory
/// operands, each input pixel read whole in address order. On a Zen 3 host whose input came
/// from DRAM they ran MixNet-S layer 1 (112×112×96) 2.6× faster than these tiles, but with
/// the data in cache they load two vectors per FMA: on Zen 4 (`mixconv bench`, 8 MiB
/// rotating, which its L3 holds; 4–5 rounds alternating, minima) S.1 217 → 158 µs (1.37×),
/// 56×56×128 60.8 → 53.1 µs (1.15×) without them.
///
/// Measured on Zen 4 (speed example, 2 rounds alternating) and not kept: software prefetch,
/// at each tile position of a stride-2 row, of the input pixels that the next output row
/// reads first (all the group's lines): into L1 one row ahead, AVX2 0.82–0.96×; into L2 two
/// rows ahead, AVX2 0.85–1.00×, AVX-512 (one round) 0.94–1.04×; within a tile, of the lines
/// the block after next reads (AVX2, each even block; 3 rounds): 3×3 0.91–0.96×, 5×5 and 7×7
/// 0.81–0.92×, mixes 0.87–0.98×. Rows in bands of 8 or 16 with every group run on a band
/// before the next (so that a band's input stays in L2): CLI, 3 rounds, MixNet-L layer 1
/// (112×112×192 stride 2) 0.98–1.09× (band of 16: 1.03–1.09×), layers M.1, L.3 and S.1
/// 0.85–1.11×, little beside that host's noise; on an Intel Xeon host they gained 1.1–1.3×
/// and `Plan::run` now runs large multi-group inputs in bands (`mixconv::bands`). On a
/// Zen 3 host whose L3 kept some 5 MB of ours (2026-11-28, AVX2, `mixconv bench`, 3 rounds
/// alternating, MixNet-S layers 1–4, 7 and 11), prefetch T0 of the next tile's newest input
/// rows and output pixels, or of the next output row's at this tile's columns, ran 0.84–1.14×
/// (that host's noise) while the staged path's prefetches gained there (`staged`). Again
/// there in one process (runs alternating in batches of 5, 20–30 rounds), T0 at each
/// stride-2 tile position of the input rows that the next (or next but one) output row reads
/// first, all the group's lines: with 8 MiB rotating M.1 1.09–1.17×, L.1 1.00–1.06×, L.7
/// 1.08–1.09×, S.3, L.3, L.15 and M.3 0.98–1.05×; with one copy of the data (M.1's and
/// L.1's still larger than that L3 kept) M.1 1.11–1.16×, but L.3, S.3, L.7 and L.15
/// 0.78–0.95×.
///
/// Tried and reverted: choosing the tile width once per tile position for all channel
/// blocks, and running whole blocks in their own loop before the partial ones (commit
/// 34b905f). Zen 3, AVX2: mean 1.01×, 112×112×16 3×3 1.06–1.22×. Intel Xeon (family 6
/// model 207), 45 single-group 3×3–7×7 layers at stride 1 and 2, data in L1/L2: geomean
/// 0.78× AVX-512 and 0.90–0.91× AVX2, down to 0.47× (28×28×240 5×5). The control, a second
/// copy of this code, ran 0.94–0.98×. Measured in one process, variants alternating,
/// 80–150 samples, two orders.
///
/// # Safety
/// As [`run`].
#[inline(always)]
unsafe fn direct<I: Simd, const K: usize, const S: usize, const D: usize, const WB: usize>(
    isa: I,
    job: &Job,
) {
    let (g, r) = (job.geom, job.region);
    let (ep, blocks) = (&Ep::new(isa, job.epilogue), &Blocks::new(isa, g));
    // The pixel stride as a value known before the loops, so that LLVM computes the tiles'
    // column offsets once, not per tile (read through `job`, any output store might have
    // changed it): AVX2 56×56×144 stride 2 (MixNet-S layer 3) 100 → 94 µs, where it had
    // become 115–123 µs once the direct path ran in a function of its own.
    let in_ps = g.in_pixel_stride;
    let borders = StridedBorders::new::<K, S, D, WB>(g, r.cols.clone());
    for y in r.rows.clone() {
        let rows = ValidRows::new(y, K, S, D, g.pad_top, g.in_h);
        let mut x = r.cols.start;
        while x < r.cols.end {
            // The row is cut by estimated time; at stride 2 and more, borders adjust it.
            let w = RowTiles::<WB>::next(r.cols.end - x);
            let ix0 = (x * S) as isize - g.pad_left as isize;
            // Full tiles, and at stride 1 7-wide ones, run unchecked inside the input (7-wide
            // tiles cut rows of 14, 21 and 28 where `WB` is 8 to 12: on Zen 4, AVX2, 28×28
            // mixes of 2 × 120 and 2 × 168 channels 1.02–1.03×, 4 × 90 1.02×; at stride 2,
            // where they follow `StridedBorders`, 0.96–1.00×).
            let unchecked = if w == WB {
                interior(ix0, span(K, S, D, WB), g.in_w)
            } else {
                S == 1 && w == 7 && interior(ix0, span(K, S, D, 7), g.in_w)
            };
            let (x0, w, ix0, unchecked) = if S > 1 && !unchecked {
                borders.adjust::<WB>(x, w, ix0)
            } else {
                (x, w, ix0, unchecked)
            };
            x = x0;
            for b in 0..blocks.count {
                let partial = blocks.partial(b);
                // SAFETY: `block_io` gets a row, block and column of the region.
                let mut t = unsafe { block_io(isa, job, y, &rows, b, x, blocks, K, D) };
                t.ix0 = ix0;
                t.in_ps = in_ps;
                // SAFETY: the tile's `w` outputs from `x` are in the region, and it runs
                // unchecked only when its whole input window is inside the input.
                unsafe {
                    if partial || I::FREE_MASKS {
                        tile_of_width::<I, K, S, D, WB, true>(isa, &t, ep, w, unchecked)
                    } else {
                        tile_of_width::<I, K, S, D, WB, false>(isa, &t, ep, w, unchecked)
                    }
                }
            }
            x += w;
        }
    }
}

/// The strip path, for 3×3 kernels at stride 2 and more where masked loads and stores cost
/// nothing extra (AVX-512): for each strip of `WB` output columns (the last one narrower),
/// for each output row, for each channel block, one tile. A strip's input window (`2·WB + 1`
/// columns at stride 2) of every block stays in L1 from one output row to the next, which
/// reads one of its input rows again; row by row, the window of a whole row does not fit L1
/// with the 512-byte pixels of 128 channels. Measured on Zen 4, AVX-512, speed example,
/// 4 rounds alternating: 56×56×128 and 112×112×96 stride 2 1.11–1.15× faster with 7-wide
/// strips than rows of 14-wide tiles (4- and 5-wide strips 1.04–1.11×; 5×5 and larger
/// kernels, whose windows are wider, unchanged; software prefetch of the next row's
/// input into L1, 0.92–0.99×; of the strip's input rows 1 to 4 output rows ahead into L2,
/// every line or every fourth, 0.86–1.00×, 2026-11-27, 3 rounds). On AVX2 (masks not free: only a partial block runs the
/// masked tile) strips were no faster: 56×56×128 and 112×112×96 stride 2 0.99–1.01×,
/// stride-2 mixes 0.99–1.00× (Zen 4, speed example, 3 rounds alternating).
///
/// # Safety
/// As [`run`].
#[inline(always)]
unsafe fn strips<I: Simd, const K: usize, const S: usize, const D: usize, const WB: usize>(
    isa: I,
    job: &Job,
) {
    let (g, r) = (job.geom, job.region);
    let (ep, blocks) = (&Ep::new(isa, job.epilogue), &Blocks::new(isa, g));
    // Known before the loops (as in `direct`).
    let in_ps = g.in_pixel_stride;
    let mut x = r.cols.start;
    while x < r.cols.end {
        let n = (r.cols.end - x).min(WB);
        let ix0 = (x * S) as isize - g.pad_left as isize;
        let unchecked = interior(ix0, span(K, S, D, WB), g.in_w);
        for y in r.rows.clone() {
            let rows = ValidRows::new(y, K, S, D, g.pad_top, g.in_h);
            for b in 0..blocks.count {
                // SAFETY: `block_io` gets a row, block and column of the region.
                let mut t = unsafe { block_io(isa, job, y, &rows, b, x, blocks, K, D) };
                t.ix0 = ix0;
                t.in_ps = in_ps;
                // SAFETY: the tile's first n outputs are in the region; it runs unchecked only
                // when its whole input window (all WB outputs') is inside the input; masks
                // are free, so every block runs the masked tile.
                unsafe {
                    if unchecked {
                        tile::<I, K, S, D, WB, false, true>(isa, &t, ep, n, &mut ());
                    } else {
                        tile::<I, K, S, D, WB, true, true>(isa, &t, ep, n, &mut ());
                    }
                }
            }
        }
        x += n;
    }
}

/// At stride 2 and more, where a checked tile is replaced by one that lets more of a row
/// run unchecked. A checked stride-2 tile ran ~1.6× slower than an unchecked one (3×3,
/// AVX-512), and 56×56 stride 2 ran half its tiles checked for one border output. (Making
/// the checked tile itself branch-free, with masked loads and FMAs, measured slower still,
/// so the driver avoids it instead. Not faster either on Zen 4, AVX2 stride 2: padding
/// columns read from a zero block rather than skipped, 0.82–0.98×; for 7-wide tiles run
/// unchecked see `direct`.)
struct StridedBorders {
    /// Outputs left of `xa` (whose windows start left of the input) get a tile only as wide
    /// as that border, so that full unchecked tiles start at `xa`; `0` when that would not
    /// pay (no full unchecked tile at `xa`, or none to end the row).
    xa: usize,
    /// The region's last full tile (first output, input column), if it is unchecked: a
    /// narrow tile inside it runs it instead, over outputs already computed (computed again
    /// to the same values) and those after the narrow tile, up to the row's end.
    last: Option<(usize, isize)>,
}

impl StridedBorders {
    #[inline(always)]
    fn new<const K: usize, const S: usize, const D: usize, const WB: usize>(
        g: &crate::Geometry,
        cols: core::ops::Range<usize>,
    ) -> Self {
        let ix = |x: usize| (x * S) as isize - g.pad_left as isize;
        let inside = |x: usize| interior(ix(x), span(K, S, D, WB), g.in_w);
        let last =
            (cols.len() >= WB && inside(cols.end - WB)).then(|| (cols.end - WB, ix(cols.end - WB)));
        let xa = g.pad_left.div_ceil(S);
        let xa = if last.is_some() && xa + WB <= cols.end && inside(xa) {
            xa
        } else {
            0
        };
        StridedBorders { xa, last }
    }

    /// The tile `(x, w, ix0, unchecked)` to run instead of the checked tile `w` wide at `x`.
    #[inline(always)]
    fn adjust<const WB: usize>(
        &self,
        x: usize,
        w: usize,
        ix0: isize,
    ) -> (usize, usize, isize, bool) {
        if w == WB && x < self.xa {
            (x, tile_width::<WB>((self.xa - x).min(WB - 1)), ix0, false)
        } else if let (true, Some((last, ix))) = (w < WB, self.last)
            && x >= last
        {
            (last, WB, ix, true)
        } else {
            (x, w, ix0, false)
        }
    }
}

/// The widest tile (`WB`, then 7, 4, 2, 1 outputs) that fits `rem` outputs.
#[inline(always)]
fn tile_width<const WB: usize>(rem: usize) -> usize {
    if rem >= WB {
        WB
    } else if WB > 7 && rem >= 7 {
        7
    } else if WB > 4 && rem >= 4 {
        4
    } else if WB > 2 && rem >= 2 {
        2
    } else {
        1
    }
}

/// The tile of block `b` whose first output is `(y, x)`, with `ix0` left to the caller.
///
/// # Safety
/// `job` was checked, `(y, x)` is in the region, `rows` are `y`'s valid rows, `b` a block.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn block_io<I: Simd>(
    isa: I,
    job: &Job,
    y: usize,
    rows: &ValidRows,
    b: usize,
    x: usize,
    blocks: &Blocks<I>,
    k: usize,
    d: usize,
) -> TileIo<I> {
    let g = job.geom;
    let lanes = I::LANES;
    // SAFETY: input row `rows.iy` < in_h and column 0 exist, and block b's masked lanes are
    // channels of the group; block b's weights and bias exist in the packed slices
    // (`Job::new` checked their lengths for every block); output pixel (y, x) is in the
    // region.
    unsafe {
        TileIo {
            row0: if rows.n > 0 {
                blocks.input(job.input_pixel(rows.iy, 0), b)
            } else {
                job.input_pixel(0, 0)
            },
            row_step: d * g.in_w * g.in_pixel_stride,
            nrows: rows.n,
            ring: core::ptr::null(),
            w: job.weights.add((b * k * k + rows.ky_lo * k) * lanes),
            ix0: 0,
            in_w: g.in_w,
            in_ps: g.in_pixel_stride,
            out: blocks.output(job.output_pixel(y, x), b),
            out_ps: g.out_pixel_stride,
            bias: isa.load(job.bias.add(b * lanes)),
            mask: blocks.mask(b),
        }
    }
}

/// Runs the tile `w` outputs wide (`WB`, 7, 4, 2 or 1), unchecked only if `unchecked`
/// (and `w` is `WB` or 7).
///
/// # Safety
/// As [`tile`], for `t`'s first `w` outputs.
#[inline(always)]
unsafe fn tile_of_width<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const WB: usize,
    const TAIL: bool,
>(
    isa: I,
    t: &TileIo<I>,
    ep: &Ep<I>,
    w: usize,
    unchecked: bool,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if w == WB {
            if unchecked {
                tile::<I, K, S, D, WB, false, TAIL>(isa, t, ep, w, &mut ());
            } else {
                tile::<I, K, S, D, WB, true, TAIL>(isa, t, ep, w, &mut ());
            }
        } else if const { WB > 7 } && w == 7 {
            // Only stride 1 runs 7-wide tiles unchecked: at stride 2 the unused copy made
            // LLVM compile the rest worse (28×28×240 stride 2 mix, AVX2: 45 → 55 µs).
            if S == 1 && unchecked {
                tile::<I, K, S, D, 7, false, TAIL>(isa, t, ep, w, &mut ());
            } else {
                tile::<I, K, S, D, 7, true, TAIL>(isa, t, ep, w, &mut ());
            }
        } else if const { WB > 4 } && w == 4 {
            tile::<I, K, S, D, 4, true, TAIL>(isa, t, ep, w, &mut ());
        } else if const { WB > 2 } && w == 2 {
            tile::<I, K, S, D, 2, true, TAIL>(isa, t, ep, w, &mut ());
        } else {
            tile::<I, K, S, D, 1, true, TAIL>(isa, t, ep, w, &mut ());
        }
    }
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

/// A group's channel blocks: how many, where they start, their masks (full, first, last),
/// and which are partial.
///
/// Blocks lie on the pixel's vectors where [`crate::Geometry::lead`] allows it: block 0
/// then starts `lead` lanes before the group's first channel, its front lanes masked.
/// Otherwise, where the group does not start on a vector boundary, AVX2's loads straddle
/// cache lines: on Zen 4 (`mixconv bench --kernels 5,5,5 --channels 120`, splits 56,56,8
/// against 60,56,4 and 58,56,6, 2 rounds; one more block is 1.07×) 14×14 1.15–1.17×, 28×28
/// 1.18–1.23×, 56×56 stride 2 1.18–1.42× slower; AVX-512 (28×28, splits 60,60 against
/// 64,56) 1.00–1.03×.
#[derive(Clone, Copy)]
pub(crate) struct Blocks<I: Simd> {
    pub count: usize,
    /// Lanes of block 0 before the group's first channel.
    lead: usize,
    /// Lanes of the last block up to the group's last channel.
    end: usize,
    masks: (I::Mask, I::Mask, I::Mask),
}

impl<I: Simd> Blocks<I> {
    /// The blocks of a group.
    #[inline(always)]
    pub fn new(isa: I, g: &crate::Geometry) -> Self {
        let (lanes, lead) = (I::LANES, g.lead(I::LANES));
        let count = g.blocks(lanes);
        let end = lead + g.channels - (count - 1) * lanes;
        Blocks {
            count,
            lead,
            end,
            masks: (
                isa.mask(0, lanes),
                isa.mask(lead, if count == 1 { end } else { lanes }),
                isa.mask(0, end),
            ),
        }
    }

    /// Block `b`'s lanes.
    #[inline(always)]
    pub fn mask(&self, b: usize) -> I::Mask {
        if b == 0 {
            self.masks.1
        } else if b + 1 == self.count {
            self.masks.2
        } else {
            self.masks.0
        }
    }

    /// Whether block `b` holds fewer than `LANES` of the group's channels.
    #[inline(always)]
    pub fn partial(&self, b: usize) -> bool {
        (b == 0 && self.lead > 0) || (b + 1 == self.count && self.end < I::LANES)
    }

    /// Lane 0 of block `b` in the pixel whose group channels start at `p` (for block 0 with
    /// a lead, outside the group, maybe outside the slice: only `mask(b)`'s lanes of it may
    /// be accessed).
    #[inline(always)]
    pub fn input(&self, p: *const f32, b: usize) -> *const f32 {
        p.wrapping_add(b * I::LANES).wrapping_sub(self.lead)
    }

    /// As [`Blocks::input`], in an output pixel.
    #[inline(always)]
    pub fn output(&self, p: *mut f32, b: usize) -> *mut f32 {
        p.wrapping_add(b * I::LANES).wrapping_sub(self.lead)
    }
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
    let ep = Ep::new(isa, job.epilogue);
    let blocks = Blocks::new(isa, g);
    for y in r.rows.clone() {
        let rows = ValidRows::new(y, k, s, d, g.pad_top, g.in_h);
        for b in 0..blocks.count {
            let partial = blocks.partial(b);
            // SAFETY: `job` was checked, (y, cols.start) is in the region, `rows` are y's
            // valid rows and b < blocks.
            let mut t = unsafe { block_io(isa, job, y, &rows, b, r.cols.start, &blocks, k, d) };
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
    // Output pixel x of the row is in the region (a block's lead lanes may lie before the
    // slice: wrapping arithmetic).
    t.out = t.out.wrapping_add((x - start) * g.out_pixel_stride);
}
