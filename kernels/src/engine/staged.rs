//! The staged path: for each column strip and channel block (or pair of blocks side by
//! side, [`pixel_blocks`]), the blocks' input rows are copied, with zeros in the padding
//! columns, into a ring of rows on the stack, and every tile reads the ring.
//!
//! Why: in NHWC a channel block's pixels are a whole pixel stride apart. With power-of-two
//! strides (256 channels: 1 KiB) a tile's input lines fall into a few L1 sets and evict each
//! other, so that every load comes from L2 at half speed or worse. In the ring a block's
//! pixels are contiguous, the window of `(K − 1)·D + 1` rows stays in L1 while the block's
//! rows are swept top to bottom (each input line is fetched once, then read `K²` times
//! from L1), and padding is plain zeros: every full tile runs unchecked (kernel rows
//! outside the input are skipped, padding columns computed). The price is the copy and the
//! padding columns' taps, so [`chosen`] takes this path only where the padding is a small
//! part of the work.
//!
//! Where the time goes (Zen 5, AVX-512, 28×28×256, inputs rotating through 8 MiB): without
//! the copy, the 5×5 and 7×7 tiles and their stores run at 93–96% of the FMA peak. The copy
//! alone (no tiles) takes 17–21 µs, about half the 5×5 tiles' time, and as much with loads
//! only, no stores: the cost is fetching input lines 1 KiB apart (~4 cycles a line even
//! with one input reused from L2), not the ring's stores. Copied in a burst before each
//! row, it hid little behind the tiles; copied in parts between kernel rows
//! ([`Ring::spreads`]), it hides some of it for 7×7 and up.
//!
//! 5×5 in one run of the speed example (best of 3 alternating rounds, before the padding
//! was zeroed once per block): 174 GFLOP/s with the copy, 217 when every copy reads the
//! same two (L1-hot) input pixels, 230 so and without the padding's stores, 252 without the
//! copy. The same layer with 272 channels (a 17-line pixel stride, whose lines spread over
//! every L1 set; staged by force) ran 1.12× faster per channel (207 against 184 GFLOP/s,
//! one run): about a third of the copy's cost is the input's and output's lines evicting
//! ring lines in the few L1 sets they share. Neither
//! the TLB (inputs in 2 MiB pages: 5×5 the same, 3×3 1.15–1.3× faster) nor an L2-resident
//! input (14×14×256: 1.00–1.07×) explains it.
//!
//! On Zen 4, AVX2, 28×28×256 (speed example, best of 3 rounds alternating, one block a ring
//! pixel): 5×5 81 GFLOP/s with the copy, 91 when every copy reads the same L1-hot pixel, 98
//! without the copy (83% of the FMA peak); 7×7 89, 96 and 100. The input's fetch and the
//! copy's own loads and stores each cost about as much. Again on 2026-11-27 (speed example,
//! 3 rounds alternating, medians; the copy at once for 3×3, in parts for 5×5 and 7×7, with
//! the blocks a pixel [`pixel_blocks`] chooses), without the copy: 3×3 63 → 88 GFLOP/s
//! (1.39×), 5×5 86 → 101 (1.17×), 7×7 93 → 101 (1.09×); AVX-512 3×3 71 → 105 (1.49×), 5×5
//! 98 → 114 (1.17×), 7×7 102 → 117 (1.15×). So AVX2 3×3 tiles alone would take about 41 µs,
//! the copy some 16 µs more: about the layer's memory floor (16 µs), not overlapped. The
//! AVX2 copy in parts (3×3 0.85×) and the prefetches below did not overlap it either.
//!
//! Measured and not kept (none was faster on every kernel size and ISA):
//! - ring pixels two cache lines apart, the ring on the lines whose parity the block's
//!   input lines do not have, so that they share no L1 set (AVX-512 5×5 0.80×, 7×7 0.88×);
//! - software prefetch of the rows to come (T0, T1, T2, NTA; 1–4 rows ahead; with the
//!   copy in parts also T1 of the next row or block, T0 one or two parts ahead; T0/T1 two
//!   or four rows ahead again with the padding zeroed once): no gain or slower (5×5
//!   0.95×, 9×9 to 13×13 up to 1.02×); on Zen 4 (AVX2, two blocks a pixel, T0 or T1 one,
//!   two or four rows ahead) 1.00–1.04×, and AVX-512 0.94–0.99×; again on Zen 4 after the
//!   AVX2 copy in parts, T0 of the row after the one ahead spread over the tiles' kernel
//!   rows (28×28×256, speed example, 2–3 rounds alternating): AVX2 3×3, 5×5, 7×7 0.95–0.99×,
//!   AVX-512 0.96–0.97×;
//! - on Zen 5, two channel blocks per ring pixel for AVX2 (5×5 much slower; with the
//!   blocks' tiles taking turns at each tile position so that each input and output line is
//!   touched once: 0.87–0.98×). On Zen 4 two blocks a pixel are faster for AVX2 up to 9×9
//!   ([`pixel_blocks`]), and the portable ISA mixed (5×5 1.10×, 9×9 0.96×: not paired);
//! - on Zen 4, AVX2, the row ahead copied in parts between the tiles: 0.96–1.02×;
//! - rows first, every block's ring in L2 (1.1–1.2× slower: the tiles then read L2);
//! - the next row's copy spread over the row's tiles (rather than their kernel rows);
//! - a narrower last tile rather than a whole one past the strip's end (AVX2 7×7 1.04×
//!   faster, 3×3 1.1× and 5×5 1.05× slower);
//! - tile halves taking turns by column, for shorter FMA chains (7×7 1.15× slower);
//! - on Zen 4, AVX2 3×3 (28×28×256, speed example, 3 rounds alternating): the row ahead
//!   copied in parts before each tile (rather than each kernel row) 0.88–1.06× from round
//!   to round; no copy at all, each tile loading its window's newest input row from the
//!   input and storing it to the ring for the rows below (a branch per column in that
//!   kernel row): 0.73×, with that kernel row summed first 0.79×;
//! - on a Zen 3 host (AVX2, 2026-11-28) whose shared L3 kept only some 5 MB of ours (28×28×256
//!   5×5 ran 210 µs with one or two copies of the data in rotation, 470–580 µs with four or
//!   more, so that `mixconv`'s 8 MiB rotation read DRAM there): an earlier form of the copy's
//!   prefetch (below), with T0 of the next output row's lines at each row as well
//!   (28×28×256, speed example, 3–4 rounds alternating, several runs): with 8 MiB rotating
//!   3×3 1.4–2.1×, 5×5 1.6–1.7×, 7×7 1.3–1.4×, 9×9 1.06–1.23× faster; with one copy, the
//!   data in L3, 3×3 0.84–0.89×, 5×5 0.66–0.88×, 7×7 0.96–0.98× (T1 and NTA hints about
//!   the same);
//! - on a Zen 3 host (AVX2, 2026-12-07; speed example, 25 samples a variant alternating,
//!   3 runs; an A/A pair there spread 0.91–1.11×), beside the kept prefetch: PREFETCHW of
//!   the next output row's lines at each row (28×28×256 5×5 0.98–1.10×, 7×7 0.92–0.97×,
//!   3×3 0.93–1.02×), and a prefetch of every line of a pixel's blocks rather than its
//!   first (3×3 with four blocks a pixel 0.97–1.06×).
//!
//! Where AVX2 5×5 loses its time on that Zen 3 host (28×28×256, same runs, 8 MiB rotating or
//! one copy of the data): the same tiles storing one sum a tile instead of their `W`
//! outputs ran 1.12–1.33× faster (3×3 1.21–1.26×, 7×7 1.06–1.09×), without the row copies
//! 1.13–1.42× (7×7 1.08–1.30×); the tile alone, repeated on an L1-resident window, runs at
//! 88–92% of the FMA peak there (`tile.rs`). The output's and input's memory traffic, not
//! the FMAs, holds 5×5 at 45–58% of the peak there in `mixconv bench` (7×7 54–74%).
//!
//! Kept: AVX2's row copies prefetch (T0) each pixel's blocks one input row below, the row
//! copied next ([`Simd::prefetch_row_below`]). The copy reads one block (or 2 or 4) of each
//! pixel, a pixel stride apart: across pages, where the hardware prefetchers do not follow,
//! so that each line waits on memory in turn. Measured on that Zen 3 host, 2026-11-28, in
//! one process (runs alternating in batches of 5, 60–200 rounds; every MixNet layer), with
//! the 8 MiB rotation and with one copy of the data: L.2 (56×56×120) 2.07–2.09× and
//! 1.15–1.16×, S.2 (×72) 1.74–1.77× and 1.15×, L.11 (14×14×624) 1.34–1.37× and 1.05–1.06×,
//! M.2 (×96) 1.07–1.10× and 0.98–0.99×, S.8, S.9 1.20× and 1.02×, 28×28×256 5×5 and 7×7
//! 1.21–1.23× and 1.00–1.02×; the MixNet S, M and L sums 1.04× and 1.00×. Two to four
//! rows below and T1 ran about the same or a little less; the next pass's blocks of the
//! same pixel 0.93–1.37× with 8 MiB rotating. Not AVX-512, whose prefetches of the rows to
//! come ran 0.94–0.99× on Zen 4 (above), where AVX2's ran 1.00–1.04×; this prefetch in
//! AVX-512's copies, on an Intel Xeon host (family 6 model 207, 2026-12-07; 16 stride-1
//! layers of 72 to 624 channels, 8 MiB rotating, one process, 30 samples alternating):
//! 0.96–1.04×, geomean 0.995.

use core::mem::MaybeUninit;

use super::TileIo;
use super::driver::Blocks;
use super::store::Ep;
use super::tile::{BeforeRow, span, tile};
use crate::Geometry;
use crate::job::Job;
use crate::simd::{Simd, load_block};

/// f32 elements of the ring (48 KiB, on the stack): 14 slots of 54 AVX-512 pixels for a
/// 13-row window.
const RING_FLOATS: usize = 12 * 1024;

/// The widest tile of any ISA (`specialized.list`): a strip holds at least one.
const MAX_TILE_WIDTH: usize = 16;

/// Largest padding overhead (taps computed / taps that see the input) the staged path
/// accepts: 30%, or 60% for 3×3 kernels (dilated ones have the most padding), whose direct
/// tiles do only 3 FMAs per loaded input vector and so pay the most for loads from L2.
/// Measured on Zen 5: 28×28×256 3×3 dilation 6 (36% padding) ran 1.5× faster staged; 14×14×256
/// 9×9 and 11×11 (35%, 54%) ran 1.2× and 1.4× slower staged.
fn max_padded_ratio(k: usize) -> f64 {
    if k == 3 { 1.6 } else { 1.3 }
}

/// Bytes of a direct row window (a full-width band of `(K − 1)·D + 1` input rows of the
/// group's blocks) that L1 keeps across a row of tiles.
const DIRECT_WINDOW_BYTES: usize = 32 * 1024;

/// L1 sets (64-byte lines, 4 KiB apart wrap around) that a block's pixels may occupy, at
/// most, for the staged path to be taken: at this many or fewer, the direct path's loads
/// evict each other. With 8 lanes or fewer (a block is half a line or less, so that the
/// next block reuses each line), 16: 64- to 256-channel pixels and other multiples of 64
/// bytes. With 16 lanes (AVX-512: a block is a whole line, each loaded once a tile), 2: pixels
/// of 512 channels and other multiples of 2 KiB. Measured on Zen 4 (2026-12-08, AVX-512,
/// `mixconv bench`, 5–6 rounds alternating, minima; an A/A pair within 0.97–1.03×), direct
/// against staged: 4-set pixels (256 and 768 channels) 28×28×256 K = 3, 5, 7, 9, 11, 13
/// 1.10, 1.12, 1.15, 1.13, 1.14, 1.17×, 3×3 dilation 2, 3, 6 1.11, 1.14, 1.08×, 14×14×512
/// 5×5 1.10×, 56×56×256 3×3 + 5×5 1.24×, 56×56×256 3×3 1.06×, 28×28×768 3×3 1.23×; 8- and
/// 16-set pixels (128 and 64 channels) 112×112 3×3 1.14×, 5×5 1.05×, 56×56×128 7×7 1.08×;
/// but 2-set pixels 28×28×512 3×3 0.84×, 5×5 0.81×, 3×3 dilation 2 0.75×, 14×14×512 3×3
/// 0.93× (7×7 1.03×), and 1-set pixels (1024 channels) 28×28 3×3 0.65×, 14×14 5×5 0.64×.
/// AVX2 by force direct on 28×28×256 ran 0.64–0.80×. (An Intel Xeon host measured AVX-512
/// 4-set pixels as Zen 4 did, 1.01–1.43× rotating, 5×5 in L2 0.85×.)
fn aliased_sets(lanes: usize) -> usize {
    if lanes >= 16 { 2 } else { 16 }
}

/// Whether the staged path runs this job. All of:
/// - stride 1 (at stride 2 each input line feeds few taps and the copy does not pay: on
///   Zen 4, 112×112×64 stride 2, whose 256-byte pixels alias 16 L1 sets, staged by force,
///   `mixconv bench`, 2 rounds: AVX2 3×3 0.81×, 5×5 0.94–0.96×, 7×7 0.94–1.01×; AVX-512
///   0.65–0.76×);
/// - the pixel stride is aliased: a block's pixels fall into at most [`aliased_sets`] of
///   the 64 L1 sets (16 with 8 lanes or fewer, 2 with 16; 256 channels: 4 sets, 512: 2), so
///   that the direct path thrashes L1, and the direct row window would not stay in L1
///   anyway; or the job is a [`staged_3x3`] one;
/// - the padding taps add at most 30% to the work (60% for 3×3 kernels: `max_padded_ratio`),
///   and a strip of one tile fits the ring.
///
/// Measured on Zen 5 (an earlier direct path), 28×28×256: K = 5 1.3×, K = 7 1.2×, 3×3
/// dilation 2 1.2× faster than direct (AVX-512 and AVX2); with unaliased strides (90, 156
/// channels) direct was as fast or faster. On Zen 4, AVX-512 runs 256-channel pixels
/// faster direct ([`aliased_sets`]).
///
/// On an Intel Xeon host (family 6 model 207, 2026-12-08; `mixconv bench`, 6–8 rounds
/// alternating, minima; an A/A pair spread 0.97–1.02×), direct by force against staged:
/// AVX-512 with 8 MiB rotating 28×28×256 K = 3, 5, 7, 9, 13 1.13, 1.01, 1.09, 1.05, 1.14×,
/// 3×3 dilation 2 and 6 1.16× and 1.43×, 14×14×512 5×5 1.26×, 56×56×256 3×3 + 5×5 1.19×;
/// with one copy of the data (in L2) 0.99, 0.85, 1.09, 1.11, 1.12×, 1.02×, 1.15×, 1.21×,
/// 1.15×. No MixNet layer runs staged on AVX-512. AVX2, rotating: 28×28×256 0.76–1.00×
/// (3×3 dilation 6 1.37×); MixNet S.2, M.2, L.2 ([`staged_3x3`], 29 to 56 wide) 1.27–1.32×,
/// but 32- to 56-wide 3×3 maps of 48 to 160 channels 0.94–1.04× (in L2 0.80–0.98×). A rule
/// by CPU vendor would leave the staged AVX-512 path untested on such hosts; the rule by
/// lanes ([`aliased_sets`], from Zen 4's measurements) takes these 256-channel layers
/// direct on AVX-512 on every host.
pub(crate) fn chosen(g: &Geometry, k: usize, s: usize, d: usize, lanes: usize) -> bool {
    let window = ((k - 1) * d + 1)
        .saturating_mul(g.in_w)
        .saturating_mul(g.blocks(lanes) * lanes * 4);
    let aliased = l1_sets(g.in_pixel_stride.saturating_mul(4)) <= aliased_sets(lanes)
        && window > DIRECT_WINDOW_BYTES;
    if s != 1
        || !(aliased || staged_3x3(g, k, d, lanes))
        || max_columns(k, s, d, lanes) < MAX_TILE_WIDTH
    {
        return false;
    }
    let h = valid_taps(g.out_h, k, s, d, g.pad_top, g.in_h);
    let w = valid_taps(g.out_w, k, s, d, g.pad_left, g.in_w);
    let all = (g.out_h * k) as f64 * (g.out_w * k) as f64;
    h > 0 && w > 0 && all <= max_padded_ratio(k) * h as f64 * w as f64
}

/// Whether a stride-1 job is an AVX2 3×3 one of dilation 1 on a map 14 to 56 outputs wide,
/// whatever its pixel stride and its blocks a ring pixel ([`pixel_blocks`]).
///
/// 14 to 28 wide: the direct path runs half or all of a row's tiles checked (two 7-wide
/// tiles on 14 columns, four on 28, padding on either side), where the staged path runs
/// every tile unchecked, whatever the pixel stride. Measured on Zen 4 (`mixconv bench`, 3
/// rounds alternating, unaliased pixels): 14×14 with 32 to 240 channels 1.14–1.28×, 28×28
/// with 64 to 240 channels 1.11–1.22×; MixNet-M layer 11 (14×14×480) 1.20×, layers with such
/// a group 0.98–1.04×; not taken: 7×7 maps (7×7×1200 0.79×), 5×5 and 7×7 kernels (whose
/// direct tiles are 10 and 8 wide; 14×14 and 28×28 with 80 to 240 channels 0.83–0.98×).
/// One block a pixel (an odd block count) first ran 0.95× (28×28×120); after the row
/// copies' prefetch, again on Zen 4 (2026-12-08, `mixconv bench`, 5 rounds alternating,
/// minima; an A/A pair 0.97–1.02×): 28×28×120 1.12×, 28×28×168 1.17×, 14×14×120 1.06×,
/// MixNet S.4, M.4, L.4 (28×28, 3×3 on 120 or 168 of 240 or 336 channels) 1.10, 1.09,
/// 1.05×; 14×14 layers: M.8 (3×3 on 120 of 480) 1.01–1.08× in two runs, M.12 and S.11 (90 of
/// 360) 1.00–1.02×, L.8 0.99×.
///
/// 29 to 56 wide: the ring's row copies read each input line once, in bursts whose misses
/// overlap, where the direct tiles' loads wait on each new line in turn. On Zen 4, 56×56×96
/// ran as fast either way; on a Zen 3 host whose data came from DRAM (its shared L3 kept
/// some 5 MB of ours; 2026-11-28, `mixconv bench`, 5 rounds alternating) the MixNet layers
/// with such a map ran faster staged: S.2 (56×56×72, one block a pixel) 2.23×, M.2 (×96,
/// four) 1.35–1.37×, L.2 (×120, one) 2.27×. Not taken on 112-wide maps there: S.0 (×16)
/// 0.67×, M.0 (×24) 0.88–1.16×, L.0 (×32) 0.95–1.22×.
fn staged_3x3(g: &Geometry, k: usize, d: usize, lanes: usize) -> bool {
    k == 3 && d == 1 && lanes == 8 && (14..=56).contains(&g.out_w)
}

/// Whether a job runs staged and with how many channel blocks side by side in a ring
/// pixel: 0 (direct: not [`chosen`], or a weight is not finite, since a padding tap computes
/// 0·w, which must be 0), else [`pixel_blocks`].
pub(crate) fn blocks_per_pixel(
    job: &Job,
    k: usize,
    s: usize,
    d: usize,
    lanes: usize,
    registers: usize,
) -> usize {
    if !chosen(job.geom, k, s, d, lanes) || !job.weights_finite() {
        0
    } else {
        pixel_blocks(job.geom, k, s, d, lanes, registers)
    }
}

/// The most channel blocks an ISA of `lanes` and `registers` puts side by side in a ring
/// pixel for a `k`×`k` kernel whose window is `reach` input rows high ([`pixel_blocks`]):
/// with 16 lanes, 2; with 8 lanes and 16 registers (AVX2, whose two blocks fill a 64-byte
/// line), 4 for 3×3 kernels of reach up to 5 (dilation 1 and 2), 2 for reaches up to 9;
/// else 1.
pub(crate) const fn max_pixel_blocks(
    lanes: usize,
    registers: usize,
    k: usize,
    reach: usize,
) -> usize {
    let avx2 = lanes == 8 && registers == 16;
    if avx2 && k == 3 && reach <= 5 {
        4
    } else if lanes == 16 || (avx2 && reach <= 9) {
        2
    } else {
        1
    }
}

/// Channel blocks side by side in a ring pixel of a staged geometry: the most of 4 and 2
/// that the ISA allows ([`max_pixel_blocks`]), that divides the block count and whose
/// strip spans the output's width, else 1. Two blocks a pixel halve the input streams the
/// copy starts (each pixel's fetch is 128 bytes rather than 64 with AVX-512; one whole line rather
/// than half of one, fetched twice, with AVX2). Measured on Zen 5, AVX-512, 28×28×256: a
/// copy loop alone 1.5× faster (12.1 → 7.8 µs, input in L2); K = 3 to 9 1.02–1.17× faster
/// (speed example, 4 rounds alternating). On Zen 4, AVX2, 28×28×256 (3 rounds alternating):
/// K = 3 1.09–1.14×, 5 1.04–1.07×, 7 1.02–1.04× (7-wide tiles), 9 1.02–1.04×, but 11 and
/// 13 0.90× (their rings, 30 and 38 KB, crowd L1), so AVX2 pairs only windows of up to 9
/// rows. AVX2 3×3 kernels take four blocks (two lines) a pixel, as AVX-512 pairs do: on
/// Zen 4, 28×28×256 (speed example, 4 rounds alternating) 1.11–1.15×, and with the
/// `mixconv` command's medians (3–6 rounds alternating) dilation 1 1.02–1.08×, dilation 2
/// 1.04–1.05×, 14×14×512 1.09×, 56×56×256 and 28×28×512 the same; dilations 3 to 6 ran
/// 0.95–1.00×, 5×5 1.01× (0.89× once its rows copied the row ahead in parts, speed example,
/// 4 rounds alternating), 7×7 0.98×, 9×9 0.96×, and AVX-512 four blocks (256 bytes) a pixel
/// 3×3 dilation 1 the same, dilation 2 0.89× (one round). The tiles are the same either way,
/// so the results are too.
pub(crate) fn pixel_blocks(
    g: &Geometry,
    k: usize,
    s: usize,
    d: usize,
    lanes: usize,
    registers: usize,
) -> usize {
    let most = max_pixel_blocks(lanes, registers, k, (k - 1) * d + 1);
    [4, 2]
        .into_iter()
        .find(|&nb| {
            nb <= most
                && g.blocks(lanes).is_multiple_of(nb)
                && max_columns(k, s, d, nb * lanes) >= g.out_w.max(MAX_TILE_WIDTH)
        })
        .unwrap_or(1)
}

/// Whether a staged row `n` outputs wide runs 7-wide tiles rather than full ones `wb` wide:
/// as many tiles, fewer columns computed past its end (the ring takes whole tiles). With
/// 16 registers only (the driver: AVX2 3×3 and 7×7, 8 wide, run 7-wide tiles on rows of 28).
/// Measured on Zen 5, AVX2, 28×28×256 7×7 (4 tiles of 7 rather than 4 of 8, 32
/// columns computed for 28), speed example, 3 rounds alternating both orders: 1.07× faster.
pub(crate) fn seven_wide(n: usize, wb: usize) -> bool {
    let tiles = n.div_ceil(7);
    tiles <= n.div_ceil(wb) && 7 * tiles < wb * n.div_ceil(wb)
}

/// Of the 64 L1 sets, how many the lines of pixels `stride_bytes` apart fall into.
fn l1_sets(stride_bytes: usize) -> usize {
    if !stride_bytes.is_multiple_of(64) {
        return 64;
    }
    let lines = stride_bytes / 64;
    // 64 / gcd(lines, 64): the largest power of two dividing `lines`, capped at 64.
    64 >> lines.trailing_zeros().min(6)
}

/// Taps of outputs `0 .. out` along one axis whose input lies in `0 .. n`.
fn valid_taps(out: usize, k: usize, s: usize, d: usize, pad: usize, n: usize) -> usize {
    (0..out)
        .map(|o| {
            (0..k)
                .filter(|&t| {
                    let i = (o * s + t * d) as isize - pad as isize;
                    i >= 0 && (i as usize) < n
                })
                .count()
        })
        .sum()
}

/// Output columns whose window of ring slots, `pixel` floats a pixel, fits the ring (0 if
/// not even one does).
fn max_columns(k: usize, s: usize, d: usize, pixel: usize) -> usize {
    let slots = (k - 1) * d + 1 + s;
    let max_pw = RING_FLOATS / (slots * pixel);
    if max_pw < span(k, s, d, 1) {
        0
    } else {
        (max_pw - span(k, s, d, 1)) / s + 1
    }
}

/// Runs a staged job with `NB` channel blocks a ring pixel: for each column strip, `NB`
/// blocks, output row (the ring takes the rows entering the window; where [`Ring::spreads`]
/// the row ahead is copied in parts between the tiles' kernel rows), block, full-width
/// unchecked tile (the ring is as wide as whole tiles; a strip's last tile stores only the
/// outputs that are in the region).
///
/// # Safety
/// As [`super::driver::run`]; [`blocks_per_pixel`] returned `NB` for the job.
#[inline(always)]
pub(crate) unsafe fn run<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const WB: usize,
    const NB: usize,
>(
    isa: I,
    job: &Job,
) {
    let (g, r) = (job.geom, job.region);
    let (ep, blocks) = (&Ep::new(isa, job.epilogue), Blocks::new(isa, g));
    let mut ring = Ring::<I, K, S, D, NB>::new(isa, job, blocks);
    let strip = max_columns(K, S, D, NB * I::LANES) / WB * WB;
    debug_assert!(strip >= WB);
    let mut c0 = r.cols.start;
    while c0 < r.cols.end {
        let c1 = (c0 + strip).min(r.cols.end);
        for b in (0..blocks.count).step_by(NB) {
            let tiles = (c1 - c0).div_ceil(WB);
            // SAFETY: the strip's whole tiles are at most `strip` ≤ max_columns columns at
            // NB blocks a pixel; blocks b .. b + NB exist (`Ring::new`).
            unsafe { ring.start(b, c0, tiles * WB) };
            // A pass of each kind in code of its own: where the hook may copy, it costs the
            // tiles that do not (AVX2 14×14×512 5×5, copied at once, 0.93×).
            // SAFETY: the ring was started on the strip's whole tiles and the pass's blocks.
            unsafe {
                if Ring::<I, K, S, D, NB>::spreads(tiles) {
                    pass::<I, K, S, D, WB, NB, true>(isa, &mut ring, ep, c0..c1)
                } else {
                    pass::<I, K, S, D, WB, NB, false>(isa, &mut ring, ep, c0..c1)
                }
            }
        }
        c0 = c1;
    }
}

/// The rows of one pass (a started ring: a strip of output columns `cols`, `NB` blocks
/// from the ring's first): for each output row, block, tile. `SPREAD`
/// ([`Ring::spreads`]): the row ahead is copied in parts before the tiles' kernel rows.
///
/// # Safety
/// As [`run`]; `ring` was started on `cols` (rounded up to whole tiles) since its last pass.
#[inline(always)]
unsafe fn pass<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const WB: usize,
    const NB: usize,
    const SPREAD: bool,
>(
    isa: I,
    ring: &mut Ring<I, K, S, D, NB>,
    ep: &Ep<I>,
    cols: core::ops::Range<usize>,
) {
    let (g, r) = (ring.job.geom, ring.job.region);
    let (c0, c1, b) = (cols.start, cols.end, ring.b);
    let tiles = (c1 - c0).div_ceil(WB);
    for y in r.rows.clone() {
        let mut rows = [[core::ptr::null::<f32>(); K]; NB];
        // SAFETY: y is a row of the region, rows are swept downwards.
        let (mut t, mut ahead) = unsafe { ring.tile_io(y, y + 1 < r.rows.end, SPREAD, &mut rows) };
        // The row ahead, if it is left to copy, in equal parts before each kernel row
        // of the row's tiles.
        if let Some(c) = ahead.as_mut() {
            c.in_parts(tiles * K * NB);
        }
        for (j, rows) in rows.iter().enumerate() {
            let tail = ring.blocks.partial(b + j);
            // SAFETY: block b + j is one of the pass's.
            unsafe { ring.block(&mut t, j, rows) };
            let row_out = t.out;
            let mut x = c0;
            while x < c1 {
                t.ix0 = ((x - c0) * S) as isize;
                // Output x of the row is in the region (wrapping: see `Blocks::output`).
                t.out = row_out.wrapping_add((x - c0) * g.out_pixel_stride);
                let n = (c1 - x).min(WB);
                // SAFETY: the tile's first n outputs are in the region; its rows are
                // filled ring slots as wide as the strip's whole tiles, so its window
                // lies in them; the copy ahead writes only the slot of the row ahead.
                unsafe {
                    if tail || I::FREE_MASKS {
                        tile::<I, K, S, D, WB, false, true>(isa, &t, ep, n, &mut ahead)
                    } else {
                        tile::<I, K, S, D, WB, false, false>(isa, &t, ep, n, &mut ahead)
                    }
                }
                x += WB;
            }
        }
        if let Some(c) = ahead.as_mut() {
            // SAFETY: the slot of the row ahead is not one the tiles read; they are done.
            unsafe { c.finish() }
        }
    }
}

/// The ring's storage, on a cache line so that each slot pixel (a whole number of lines
/// wide for AVX-512 and two per line for AVX2) is one line.
#[repr(align(64))]
struct RingBuf([MaybeUninit<f32>; RING_FLOATS]);

/// `NB` channel blocks' input rows for one column strip: `SLOTS` slots of `pw` pixels ×
/// `NB · LANES`, input rows entering in slot order, zeros in the columns outside the input
/// (rows outside it are not written: the tiles skip them).
pub(crate) struct Ring<'j, I: Simd, const K: usize, const S: usize, const D: usize, const NB: usize>
{
    isa: I,
    job: &'j Job<'j>,
    buf: RingBuf,
    /// The strip: first output column, pixels per slot, input column of pixel 0.
    c0: usize,
    pw: usize,
    ix_start: isize,
    /// The group's channel blocks.
    blocks: Blocks<I>,
    /// The pass: its first block (of `NB` side by side in a ring pixel, `NB · LANES`
    /// floats), each block's weights and bias.
    b: usize,
    w: [*const f32; NB],
    bias: [I::V; NB],
    /// Of the current output row: the first kernel row in the input, the pass's first
    /// block of the strip's first output.
    ky0: usize,
    out: *mut f32,
    /// Input rows `next − rows .. next` are in the ring; row `next` goes to slot `next_slot`.
    next: isize,
    next_slot: usize,
}

impl<'j, I: Simd, const K: usize, const S: usize, const D: usize, const NB: usize>
    Ring<'j, I, K, S, D, NB>
{
    /// Input rows one output row reads.
    const ROWS: usize = (K - 1) * D + 1;
    /// Slots: `ROWS + S`, so that the next output row's rows are copied one row ahead of
    /// their first read (reading a line right after storing it stalls on the store).
    const SLOTS: usize = Self::ROWS + S;
    /// Whether the row ahead is copied in parts between the kernel rows of a strip's
    /// `tiles` tiles ([`RowCopy`]) rather than at once before them, so that its loads
    /// overlap the FMAs: for K ≥ 5, at stride 1 (the only stride the staged path runs), with
    /// 16 registers only on rows of 3 tiles or more.
    /// Measured on Zen 5, AVX-512, 28×28×256, best of 12 rounds alternating with the
    /// previous binary: K = 7 to 13 1.06–1.08× faster, K = 5 unchanged. Not taken: 3×3
    /// (1.08× slower: its tiles are too short to hide the loads; AVX2 on Zen 4, 28×28×256,
    /// 0.85×). With 16 registers on Zen 4 (AVX2, `mixconv bench`, 3–5 rounds alternating):
    /// 28×28×256 5×5 1.07–1.08×, 7×7 1.08×, 9×9 1.06×, 56×56×128 5×5 1.05×, 28×28 5×5 and 7×7
    /// groups of 256 1.03×; but 14-wide rows (two 7-wide tiles) 14×14×512 5×5 0.94–0.97×, 7×7
    /// 0.99×, 3×3 to 9×9 groups of 256 0.92–0.98×, so those copy at once. (On Zen 5, early,
    /// AVX2 ran 1.3–1.7× slower: the copy's registers then spilled accumulators.)
    const fn spreads(tiles: usize) -> bool {
        K >= 5 && S == 1 && (I::REGISTERS >= 32 || tiles >= 3)
    }

    /// The (empty) ring for a job with this kernel, stride and dilation, and its blocks.
    #[inline(always)]
    fn new(isa: I, job: &'j Job<'j>, blocks: Blocks<I>) -> Self {
        Ring {
            isa,
            job,
            buf: RingBuf([const { MaybeUninit::uninit() }; RING_FLOATS]),
            c0: 0,
            pw: 0,
            ix_start: 0,
            blocks,
            b: 0,
            w: [core::ptr::null(); NB],
            bias: [isa.zero(); NB],
            ky0: 0,
            out: core::ptr::null_mut(),
            next: isize::MIN,
            next_slot: 0,
        }
    }

    /// Starts blocks `b .. b + NB` on the strip of `cols` output columns from `c0` (some
    /// may lie past the region: their pixels are zeros or input that is not stored): the
    /// ring is empty.
    ///
    /// # Safety
    /// `cols ≤ max_columns(K, S, D, NB · LANES)`, so that the ring holds `SLOTS` slots of
    /// the strip's pixels; `b + NB ≤ blocks.count`.
    #[inline(always)]
    pub unsafe fn start(&mut self, b: usize, c0: usize, cols: usize) {
        let g = self.job.geom;
        debug_assert!(cols <= max_columns(K, S, D, NB * I::LANES));
        debug_assert!(b + NB <= g.blocks(I::LANES));
        self.c0 = c0;
        self.pw = span(K, S, D, cols);
        self.ix_start = (c0 * S) as isize - g.pad_left as isize;
        self.b = b;
        for j in 0..NB {
            // SAFETY: block b + j's weights and bias are in the packed slices (`Job::new`
            // checked their lengths for every block; b + j < blocks).
            unsafe {
                self.w[j] = self.job.weights.add((b + j) * K * K * I::LANES);
                self.bias[j] = self.isa.load(self.job.bias.add((b + j) * I::LANES));
            }
        }
        self.next = isize::MIN;
        self.next_slot = 0;
        // The pixels outside the input's columns are zeros in every slot, written once here;
        // row copies write only the others. Measured on Zen 5, 28×28×256, against zeroing
        // them with each row: AVX-512 5×5 1.07–1.18× faster, the other sizes and AVX2 the same.
        let (lo, hi) = self.columns();
        let ring = self.buf.0.as_mut_ptr().cast::<f32>();
        let pixel = NB * I::LANES;
        for slot in 0..Self::SLOTS {
            for j in (0..lo).chain(hi..self.pw) {
                for k in 0..NB {
                    // SAFETY: slot pixels j < pw lie in the ring (cols fit it: caller).
                    unsafe {
                        self.isa.store(
                            ring.add((slot * self.pw + j) * pixel + k * I::LANES),
                            self.isa.zero(),
                        )
                    };
                }
            }
        }
    }

    /// Slot pixels `lo .. hi` whose input column (`ix_start + j`) lies in the input.
    #[inline(always)]
    fn columns(&self) -> (usize, usize) {
        let pw = self.pw as isize;
        let lo = (-self.ix_start).clamp(0, pw);
        let hi = (self.job.geom.in_w as isize - self.ix_start).clamp(lo, pw);
        (lo as usize, hi as usize)
    }

    /// Brings output row `y`'s input rows (and, if `ahead`, row `y + 1`'s) into the ring
    /// and returns the tile of `y`'s first strip column (`ix0` relative to the slot) for the
    /// pass's block 0 ([`Self::block`] points it at another), each block's `K` row pointers
    /// in `rows`. With `spread` ([`Self::spreads`]), row `y + 1`'s last input row is
    /// not copied but returned as a [`RowCopy`], to be completed before the next call.
    ///
    /// # Safety
    /// `y` is a row of the region, below the previous call's since `start`, and the
    /// previous call's [`RowCopy`] is complete.
    #[inline(always)]
    pub unsafe fn tile_io(
        &mut self,
        y: usize,
        ahead: bool,
        spread: bool,
        rows: &mut [[*const f32; K]; NB],
    ) -> (TileIo<I>, Option<RowCopy<I, NB>>) {
        let g = self.job.geom;
        let lanes = I::LANES;
        let slot = self.pw * NB * lanes;
        debug_assert!(Self::SLOTS * slot <= RING_FLOATS);
        let ring = self.buf.0.as_mut_ptr().cast::<f32>();
        let top = (y * S) as isize - g.pad_top as isize;
        let end = top + (Self::ROWS + if ahead { S } else { 0 }) as isize;
        if self.next < top {
            // First row of the block: start afresh.
            self.next = top;
        }
        let mut left = None;
        while self.next < end {
            // SAFETY: the slot's `pw` pixels lie in the ring (slots·slot fits it).
            let mut copy = unsafe { self.row_copy(self.next, ring.add(self.next_slot * slot)) };
            if spread && ahead && self.next + 1 == end {
                left = Some(copy);
            } else {
                // SAFETY: the slot is not read before the copy is complete.
                unsafe { copy.finish() };
            }
            self.next += 1;
            self.next_slot = wrap(self.next_slot + 1, Self::SLOTS);
        }
        // Rows top .. next are in the ring, at most `slots` of them: row `top` is
        // `next − top` slots before `next_slot`.
        let back = (self.next - top) as usize;
        debug_assert!(back <= Self::SLOTS);
        let top_slot = wrap(self.next_slot + Self::SLOTS - back, Self::SLOTS);
        for (j, rows) in rows.iter_mut().enumerate() {
            for (ky, row) in rows.iter_mut().enumerate() {
                *row = ring.wrapping_add(wrap(top_slot + ky * D, Self::SLOTS) * slot + j * lanes);
            }
        }
        // Kernel rows whose input row lies in the input: the others are not copied, and their
        // taps are skipped.
        let (ky0, ky1) = (
            (0..K).find(|&ky| top + (ky * D) as isize >= 0).unwrap_or(K),
            (0..K)
                .rposition(|ky| top + ((ky * D) as isize) < g.in_h as isize)
                .map_or(0, |ky| ky + 1),
        );
        let ky1 = ky1.max(ky0);
        self.ky0 = ky0;
        // SAFETY: (y, c0) is in the region.
        let pixel = unsafe { self.job.output_pixel(y, self.c0) };
        self.out = self.blocks.output(pixel, self.b);
        let mut io = TileIo {
            row0: core::ptr::null(),
            row_step: 0,
            nrows: ky1 - ky0,
            ring: core::ptr::null(),
            w: core::ptr::null(),
            ix0: 0,
            in_w: self.pw,
            in_ps: NB * lanes,
            out: self.out,
            out_ps: g.out_pixel_stride,
            bias: self.bias[0],
            mask: self.blocks.mask(self.b),
        };
        // SAFETY: block 0 is one of the pass's.
        unsafe { self.block(&mut io, 0, &rows[0]) };
        (io, left)
    }

    /// Points `t` (from [`Self::tile_io`] for the same row) at the pass's block `j`, whose
    /// ring rows `rows` are.
    ///
    /// # Safety
    /// `j` is less than the pass's blocks.
    #[inline(always)]
    pub unsafe fn block(&self, t: &mut TileIo<I>, j: usize, rows: &[*const f32; K]) {
        let lanes = I::LANES;
        t.row0 = rows[self.ky0.min(K - 1)];
        t.ring = rows.as_ptr().wrapping_add(self.ky0);
        t.w = self.w[j].wrapping_add(self.ky0 * K * lanes);
        t.bias = self.bias[j];
        t.mask = self.blocks.mask(self.b + j);
        // Block b + j's masked lanes of the row's first output are in the region.
        t.out = self.out.wrapping_add(j * lanes);
    }

    /// The copy of input row `iy`'s strip pixels of the pass's blocks to `dst`, those in the
    /// input's columns (the others are zeros since [`Ring::start`]; zeros in the lanes past
    /// the group; a lead's lanes hold the channels before the group unless block 0 is the
    /// pass's last, and are never stored). Nothing if the row lies outside the input: the
    /// tiles skip its kernel rows ([`Ring::tile_io`]).
    ///
    /// # Safety
    /// `dst .. dst + pw·NB·LANES` is writable and stays so while the copy is used.
    #[inline(always)]
    unsafe fn row_copy(&self, iy: isize, dst: *mut f32) -> RowCopy<I, NB> {
        let (lo, mut hi) = self.columns();
        let src = if lo < hi && iy >= 0 && (iy as usize) < self.job.geom.in_h {
            // SAFETY: pixel (iy, ix_start + lo) is inside the input, and with it the lanes of
            // blocks b .. b + NB up to the group's last channel (block 0's lead lanes are the
            // pixel's channels before the group's).
            let pixel = unsafe {
                self.job
                    .input_pixel(iy as usize, (self.ix_start + lo as isize) as usize)
            };
            self.blocks.input(pixel, self.b)
        } else {
            hi = lo;
            core::ptr::null()
        };
        let g = self.job.geom;
        // Elements from a pixel to the one below it, if that row is in the input.
        let below = if iy >= 0 && (iy as usize) + 1 < g.in_h {
            g.in_w * g.in_pixel_stride
        } else {
            0
        };
        RowCopy {
            isa: self.isa,
            src,
            below,
            in_ps: g.in_pixel_stride,
            lo,
            hi,
            tail: self.blocks.partial(self.b + NB - 1),
            mask: self.blocks.mask(self.b + NB - 1),
            dst,
            done: lo,
            part: hi - lo,
        }
    }
}

/// The copy of one input row's strip pixels of `NB` channel blocks into a ring slot, done in
/// parts: slot pixels `done .. hi` are left. They come from the input (`src` is pixel `lo`'s
/// first block, `in_ps` elements to the next; null only if `lo == hi`, nothing to copy).
pub(crate) struct RowCopy<I: Simd, const NB: usize> {
    isa: I,
    src: *const f32,
    /// Elements from a pixel to the one a row below, whose blocks each pixel's copy
    /// prefetches ([`Simd::prefetch_row_below`]); 0 on the input's last row: no prefetch.
    below: usize,
    in_ps: usize,
    lo: usize,
    hi: usize,
    tail: bool,
    mask: I::Mask,
    dst: *mut f32,
    done: usize,
    /// Pixels one [`BeforeRow::before_row`] copies.
    part: usize,
}

impl<I: Simd, const NB: usize> RowCopy<I, NB> {
    /// Makes [`BeforeRow::before_row`] copy the slot in `calls` equal parts.
    #[inline(always)]
    pub fn in_parts(&mut self, calls: usize) {
        self.part = (self.hi - self.lo).div_ceil(calls.max(1));
    }

    /// Writes the next `n` pixels of the slot (fewer where it ends).
    ///
    /// # Safety
    /// The ring that made the copy ([`Ring::row_copy`]) is alive, and nothing reads the
    /// slot before the copy is complete.
    #[inline(always)]
    pub unsafe fn copy(&mut self, n: usize) {
        let (isa, lanes) = (self.isa, I::LANES);
        let (from, to) = (self.done, self.done.saturating_add(n).min(self.hi));
        // SAFETY: slot pixels j < hi are writable and pixels lo .. hi of the row are in the
        // input, the pass's blocks of them in the slice (`Ring::row_copy`); `src` is null
        // only when that range is empty.
        unsafe {
            for j in from..to {
                let p = self.src.add((j - self.lo) * self.in_ps);
                if self.below != 0 {
                    isa.prefetch_row_below(p.wrapping_add(self.below));
                }
                let d = self.dst.add(j * NB * lanes);
                for k in 0..NB - 1 {
                    isa.store(d.add(k * lanes), isa.load(p.add(k * lanes)));
                }
                let k = NB - 1;
                let v = if self.tail {
                    load_block::<I, true>(isa, p.add(k * lanes), self.mask)
                } else {
                    load_block::<I, false>(isa, p.add(k * lanes), self.mask)
                };
                isa.store(d.add(k * lanes), v);
            }
        }
        self.done = to;
    }

    /// Writes the pixels left.
    ///
    /// # Safety
    /// As [`RowCopy::copy`].
    #[inline(always)]
    pub unsafe fn finish(&mut self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.copy(self.hi) }
    }
}

/// The row ahead's copy, if any is left: one part before each kernel row of the tiles.
/// Its contract is [`RowCopy::copy`]'s: the ring that made it is alive, and the tiles read
/// other slots than the copy's.
impl<I: Simd, const NB: usize> BeforeRow for Option<RowCopy<I, NB>> {
    #[inline(always)]
    unsafe fn before_row(&mut self) {
        if let Some(c) = self {
            // SAFETY: the ring that made the copy is alive while its tiles run, and they
            // read other slots than the copy's (this impl's contract).
            unsafe { c.copy(c.part) }
        }
    }
}

/// `i mod n` for `i < 2n`, without a division.
#[inline(always)]
fn wrap(i: usize, n: usize) -> usize {
    if i >= n { i - n } else { i }
}
