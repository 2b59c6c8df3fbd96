//! The vector operations every engine is written against, one implementation per ISA.
//!
//! A value of a type implementing [`Simd`] is a zero-sized token proving that the ISA's
//! instructions may run; the arithmetic methods are therefore safe, and only memory
//! accesses are `unsafe`. Every method is `#[inline(always)]`: the engine is generic
//! code that is instantiated, and compiled with the ISA's target features, inside the
//! `#[target_feature]` function that [`Simd::enabled`] provides.

/// One f32 vector ISA.
pub(crate) trait Simd: Copy {
    /// f32 lanes per vector (= the packed block size).
    const LANES: usize;
    /// Vector registers (of `V`) the tiles may plan with: a tile keeps its kernel row's
    /// weights in registers where they fit beside its accumulators (`engine::tile`),
    /// otherwise the weights are FMA memory operands.
    const REGISTERS: usize;
    /// Whether a masked load/store costs the same as a plain one, so that full blocks may
    /// run the tail-block code with an all-ones mask instead of an instantiation of their own.
    const FREE_MASKS: bool;

    /// A vector of `LANES` f32.
    type V: Copy;
    /// Which lanes of a partial channel block are loaded and stored.
    type Mask: Copy;

    /// Runs `f` inside a function compiled with this ISA's target features, so that the
    /// `#[inline(always)]` engine code `f` calls is compiled for them.
    fn enabled<R>(self, f: impl FnOnce() -> R) -> R;

    fn zero(self) -> Self::V;
    fn splat(self, x: f32) -> Self::V;
    /// Lanes `lo .. hi`, `lo < hi <= LANES`.
    fn mask(self, lo: usize, hi: usize) -> Self::Mask;

    /// # Safety
    /// `p .. p + LANES` is readable.
    unsafe fn load(self, p: *const f32) -> Self::V;
    /// Lanes outside `m` are zero and their memory is not read.
    ///
    /// # Safety
    /// The lanes of `p` selected by `m` are readable.
    unsafe fn load_masked(self, p: *const f32, m: Self::Mask) -> Self::V;
    /// # Safety
    /// `p .. p + LANES` is writable.
    unsafe fn store(self, p: *mut f32, v: Self::V);
    /// Writes only the lanes selected by `m` (a [`Simd::mask`]).
    ///
    /// # Safety
    /// The lanes of `p` selected by `m` are writable.
    unsafe fn store_masked(self, p: *mut f32, m: Self::Mask, v: Self::V);

    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c`, fused where the ISA has FMA.
    fn fma(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `max(a, b)` (which operand a NaN yields is ISA-specific).
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// Rounds to the nearest integer.
    fn round(self, a: Self::V) -> Self::V;
    /// `2^n` for integral `n` in `-126 ..= 127`.
    fn pow2i(self, n: Self::V) -> Self::V;

    /// The staged path's hint, as it copies an input pixel's blocks into the ring, that the
    /// same blocks of the pixel one row below, at `p`, are copied next: a prefetch into L1
    /// where it was measured to pay (AVX2: `engine::staged`), else nothing. Never faults
    /// and reads nothing, whatever `p`.
    #[inline(always)]
    fn prefetch_row_below(self, p: *const f32) {
        let _ = p;
    }
}

/// Load of a full (`TAIL == false`) or partial channel block.
///
/// # Safety
/// As [`Simd::load`] (`TAIL == false`) or [`Simd::load_masked`].
#[inline(always)]
pub(crate) unsafe fn load_block<I: Simd, const TAIL: bool>(
    isa: I,
    p: *const f32,
    m: I::Mask,
) -> I::V {
    if TAIL {
        // SAFETY: forwarded from the caller.
        unsafe { isa.load_masked(p, m) }
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { isa.load(p) }
    }
}

/// Store of a full (`TAIL == false`) or partial channel block.
///
/// # Safety
/// As [`Simd::store`] (`TAIL == false`) or [`Simd::store_masked`].
#[inline(always)]
pub(crate) unsafe fn store_block<I: Simd, const TAIL: bool>(
    isa: I,
    p: *mut f32,
    m: I::Mask,
    v: I::V,
) {
    if TAIL {
        // SAFETY: forwarded from the caller.
        unsafe { isa.store_masked(p, m, v) }
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { isa.store(p, v) }
    }
}

/// `exp(x)` within 2 ulp for `x` in `[-87.3, 88.3]`; clamped outside (so `exp` of a
/// large negative number is ~1e-38, not 0, and never overflows to infinity).
/// NaN inputs give an unspecified (possibly non-NaN) result.
#[inline(always)]
pub(crate) fn exp<I: Simd>(isa: I, x: I::V) -> I::V {
    let x = isa.min(isa.max(x, isa.splat(-87.33)), isa.splat(88.37));
    // x = n·ln2 + r, |r| <= ln2/2, with ln2 split in two for an exact n·ln2_hi.
    let n = isa.round(isa.mul(x, isa.splat(core::f32::consts::LOG2_E)));
    let r = isa.fma(n, isa.splat(-0.693_359_4), x);
    let r = isa.fma(n, isa.splat(2.121_944_4e-4), r);
    // e^r ≈ 1 + r + r²·P(r) (Cephes expf coefficients).
    let mut p = isa.splat(1.987_569_1e-4);
    p = isa.fma(p, r, isa.splat(1.398_199_9e-3));
    p = isa.fma(p, r, isa.splat(8.333_452e-3));
    p = isa.fma(p, r, isa.splat(4.166_579_6e-2));
    p = isa.fma(p, r, isa.splat(1.666_666_5e-1));
    p = isa.fma(p, r, isa.splat(0.5));
    let r2 = isa.mul(r, r);
    let e = isa.add(isa.fma(p, r2, r), isa.splat(1.0));
    isa.mul(e, isa.pow2i(n))
}

/// SiLU: `x / (1 + exp(-x))`.
#[inline(always)]
pub(crate) fn silu<I: Simd>(isa: I, x: I::V) -> I::V {
    let one = isa.splat(1.0);
    let e = exp(isa, isa.sub(isa.zero(), x));
    isa.div(x, isa.add(one, e))
}

/// HardSwish: `x · min(max(x + 3, 0), 6) / 6`.
#[inline(always)]
pub(crate) fn hardswish<I: Simd>(isa: I, x: I::V) -> I::V {
    let t = isa.add(x, isa.splat(3.0));
    let t = isa.min(isa.max(t, isa.zero()), isa.splat(6.0));
    isa.mul(isa.mul(x, t), isa.splat(1.0 / 6.0))
}
