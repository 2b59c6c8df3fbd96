//! The ISA-generic depthwise engine: a driver that walks a region by output row, column tile
//! and channel block ([`driver`]), reading the input in place or from a ring of copied,
//! zero-padded rows ([`staged`]), the register-blocked microkernels it calls ([`tile`] for
//! the specialized (K, stride, dilation), [`generic`] for any other), which output rows and
//! columns see the input ([`border`]), and the fused epilogue in the tiles' stores
//! ([`store`]).

pub(crate) mod border;
pub(crate) mod driver;
pub(crate) mod generic;
pub(crate) mod row_tiles;
pub(crate) mod staged;
pub(crate) mod store;
pub(crate) mod tile;

use crate::simd::Simd;

/// What one tile reads and writes: one channel block of `W` output pixels of one row.
pub(crate) struct TileIo<I: Simd> {
    /// Channel block of input pixel (first valid row, column 0).
    pub row0: *const f32,
    /// Elements from one used input row to the next (`dilation` rows apart).
    pub row_step: usize,
    /// Kernel rows whose input row lies inside the input.
    pub nrows: usize,
    /// When not null: the `nrows` input row pointers, read instead of `row0 + r·row_step`
    /// (the staged driver's ring of rows). Specialized tiles only.
    pub ring: *const *const f32,
    /// The block's weights of the first valid kernel row.
    pub w: *const f32,
    /// Input column of the first output's first tap (may be negative: padding).
    pub ix0: isize,
    /// Input width.
    pub in_w: usize,
    /// Elements from one input pixel to the next.
    pub in_ps: usize,
    /// Channel block of the tile's first output pixel.
    pub out: *mut f32,
    /// Elements from one output pixel to the next.
    pub out_ps: usize,
    /// The block's bias: the accumulators' initial value.
    pub bias: I::V,
    /// Lanes of the block that belong to the group.
    pub mask: I::Mask,
}

impl<I: Simd> TileIo<I> {
    /// Input columns `lo .. hi` (relative to `ix0`) of a window `span` columns wide lie in
    /// the input.
    #[inline(always)]
    pub fn valid_columns(&self, span: usize) -> (usize, usize) {
        let lo = if self.ix0 < 0 {
            (self.ix0.unsigned_abs()).min(span)
        } else {
            0
        };
        let hi = (self.in_w as isize - self.ix0).clamp(0, span as isize) as usize;
        (lo, hi.max(lo))
    }

    /// Input column `c` (relative to `ix0`) of kernel row `row`.
    ///
    /// # Safety
    /// `row` is a valid input row pointer of this tile and `ix0 + c` lies in `0 .. in_w`.
    #[inline(always)]
    pub unsafe fn column(&self, row: *const f32, c: usize) -> *const f32 {
        let ix = (self.ix0 + c as isize) as usize;
        // SAFETY: the column lies in the input row (caller), so its pixel is in the slice.
        unsafe { row.add(ix * self.in_ps) }
    }
}
