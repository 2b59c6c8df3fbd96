//! The fused epilogue, applied to a tile's accumulators as they are stored.

use crate::simd::{self, Simd, store_block};
use crate::{Activation, Epilogue};

/// An [`Epilogue`] with its bounds broadcast.
pub(crate) struct Ep<I: Simd> {
    act: Activation,
    lo: I::V,
    hi: I::V,
    /// Whether the bounds can change anything (not both infinite).
    clamp: bool,
}

impl<I: Simd> Ep<I> {
    #[inline(always)]
    pub fn new(isa: I, e: &Epilogue) -> Self {
        Ep {
            act: e.activation,
            lo: isa.splat(e.min),
            hi: isa.splat(e.max),
            clamp: !(e.min == f32::NEG_INFINITY && e.max == f32::INFINITY),
        }
    }
}

/// Stores outputs `0 .. n` (`n <= W`) of a tile, `out_ps` elements apart, through the epilogue.
/// The activation and clamp are chosen once per tile, outside the per-output code.
///
/// # Safety
/// Outputs `0 .. n` of the block (its masked lanes when `TAIL`) are writable.
// The unrolled copies compare constant indices (`0 >= x`...).
#[allow(clippy::absurd_extreme_comparisons)]
#[inline(always)]
pub(crate) unsafe fn store_tile<I: Simd, const W: usize, const TAIL: bool>(
    isa: I,
    ep: &Ep<I>,
    acc: &[I::V; W],
    out: *mut f32,
    out_ps: usize,
    mask: I::Mask,
    n: usize,
) {
    #[inline(always)]
    unsafe fn put<I: Simd, const W: usize, const TAIL: bool>(
        isa: I,
        acc: &[I::V; W],
        out: *mut f32,
        out_ps: usize,
        mask: I::Mask,
        n: usize,
        f: impl Fn(I::V) -> I::V,
    ) {
        unroll!(W, j => {
            if j < n {
                // Wrapping: `out` may lie before the slice by a block's lead lanes.
                let p = out.wrapping_add(j * out_ps);
                // SAFETY: output j < n of the tile is writable (caller).
                unsafe { store_block::<I, TAIL>(isa, p, mask, f(acc[j])) };
            }
        });
    }
    let (lo, hi) = (ep.lo, ep.hi);
    #[inline(always)]
    fn bound<I: Simd>(isa: I, v: I::V, lo: I::V, hi: I::V) -> I::V {
        isa.min(isa.max(v, lo), hi)
    }
    let zero = isa.zero();
    let six = isa.splat(6.0);
    // One `put` per epilogue, so that each store loop is monomorphized with its function.
    macro_rules! put_with {
        (|$v:ident| $f:expr) => {
            // SAFETY: forwarded from the caller.
            unsafe {
                put::<I, W, TAIL>(
                    isa,
                    acc,
                    out,
                    out_ps,
                    mask,
                    n,
                    #[inline(always)]
                    |$v| $f,
                )
            }
        };
    }
    match (ep.act, ep.clamp) {
        (Activation::None, false) => put_with!(|v| v),
        (Activation::None, true) => put_with!(|v| bound(isa, v, lo, hi)),
        (Activation::Relu, _) => put_with!(|v| bound(isa, isa.max(v, zero), lo, hi)),
        (Activation::Relu6, _) => put_with!(|v| bound(isa, isa.min(isa.max(v, zero), six), lo, hi)),
        (Activation::Silu, _) => put_with!(|v| bound(isa, simd::silu(isa, v), lo, hi)),
        (Activation::HardSwish, _) => put_with!(|v| bound(isa, simd::hardswish(isa, v), lo, hi)),
    }
}
