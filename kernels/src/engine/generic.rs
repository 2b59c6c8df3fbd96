//! The fallback microkernel for any kernel size, stride and dilation: up to `W` outputs of
//! one row × one channel block, unrolled over the tile's outputs only; every tap is
//! bounds-checked at run time.

use super::TileIo;
use super::store::{Ep, store_tile};
use crate::simd::{Simd, load_block};

/// Tile width of the generic kernel.
pub(crate) const GENERIC_WIDTH: usize = 8;

/// Computes and stores outputs `0 .. n` (`1 <= n <= W`) of one tile of a `k`×`k` kernel.
///
/// # Safety
/// As [`super::tile::tile`] with `CHECKED`, for the first `n` outputs.
#[allow(clippy::too_many_arguments)]
// The unrolled copies compare constant indices (`0 >= x`...).
#[allow(clippy::absurd_extreme_comparisons)]
#[inline(always)]
pub(crate) unsafe fn tile<I: Simd, const W: usize, const TAIL: bool>(
    isa: I,
    t: &TileIo<I>,
    ep: &Ep<I>,
    k: usize,
    stride: usize,
    dilation: usize,
    n: usize,
) {
    let lanes = I::LANES;
    let span = (n - 1) * stride + (k - 1) * dilation + 1;
    let (lo, hi) = t.valid_columns(span);
    let mut acc = [t.bias; W];
    let mut row = t.row0;
    let mut w = t.w;
    for _ in 0..t.nrows {
        for kx in 0..k {
            // SAFETY: `w` is a kernel row of the block's weights (caller); columns are read
            // only when they lie in `lo .. hi`, inside the input row `row`.
            unsafe {
                let wv = isa.load(w.add(kx * lanes));
                unroll!(W, j => {
                    let c = j * stride + kx * dilation;
                    if j < n && c >= lo && c < hi {
                        let x = load_block::<I, TAIL>(isa, t.column(row, c), t.mask);
                        acc[j] = isa.fma(x, wv, acc[j]);
                    }
                });
            }
        }
        // Past the last row these may point outside the slices; they are not used then.
        row = row.wrapping_add(t.row_step);
        w = w.wrapping_add(k * lanes);
    }
    // SAFETY: the tile's first n outputs are in the region (caller).
    unsafe { store_tile::<I, W, TAIL>(isa, ep, &acc, t.out, t.out_ps, t.mask, n) };
}
