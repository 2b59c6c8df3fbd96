//! AVX2 + FMA: 8 f32 lanes, 16 registers; channel tails loaded with `vmaskmovps`, stored
//! with plain partial stores.

use core::arch::x86_64::*;

use crate::Isa;
use crate::engine::driver;
use crate::job::Job;
use crate::simd::Simd;

/// Token: AVX2 and FMA are available.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// # Safety
    /// The CPU and OS support AVX2 and FMA.
    #[inline(always)]
    pub unsafe fn new() -> Self {
        Avx2(())
    }
}

// Never inlined, so that each path the engine runs in it (direct, staged) gets registers of
// its own (`driver::run`).
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
fn with_features<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `MASKS[8 - lo ..][.. 8]` selects lanes `lo ..`, `MASKS[16 - hi ..][.. 8]` lanes `.. hi`.
static MASKS: [i32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0,
];

// SAFETY (every `unsafe` block calling an intrinsic below): an `Avx2` token exists only
// where AVX2 and FMA are available (`Avx2::new`).
impl Simd for Avx2 {
    const LANES: usize = 8;
    const REGISTERS: usize = Isa::Avx2.registers();
    const FREE_MASKS: bool = false;
    type V = __m256;
    type Mask = __m256i;

    #[inline(always)]
    fn enabled<R>(self, f: impl FnOnce() -> R) -> R {
        // SAFETY: the token proves the features are available.
        unsafe { with_features(f) }
    }
    #[inline(always)]
    fn zero(self) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn mask(self, lo: usize, hi: usize) -> __m256i {
        let (lo, hi) = (lo.min(7), hi.clamp(1, 8));
        // SAFETY: elements 1 .. 16 and 8 .. 23 of MASKS are read; AVX2 is available.
        unsafe {
            let from = _mm256_loadu_si256(MASKS.as_ptr().add(8 - lo).cast());
            let below = _mm256_loadu_si256(MASKS.as_ptr().add(16 - hi).cast());
            _mm256_and_si256(from, below)
        }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m256 {
        // SAFETY: p .. p + 8 is readable (caller).
        unsafe { _mm256_loadu_ps(p) }
    }
    // Not the cost of partial blocks on Zen 4: plain loads in its place (an experiment that
    // read past the group) ran MixNet-like mixes with 60, 90, 156 and 396-channel groups
    // 0.98-1.03x (speed example, 3 rounds alternating, 2026-11-27).
    #[inline(always)]
    unsafe fn load_masked(self, p: *const f32, m: __m256i) -> __m256 {
        // SAFETY: the masked lanes are readable (caller); vmaskmovps does not access
        // (nor fault on) the others.
        unsafe { _mm256_maskload_ps(p, m) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m256) {
        // SAFETY: p .. p + 8 is writable (caller).
        unsafe { _mm256_storeu_ps(p, v) }
    }
    /// Writes lanes `lo .. lo + n`, `m` being `mask(lo, lo + n)`, with plain 16-, 8- and
    /// 4-byte stores (after a lane rotation if `lo > 0`): a `vmaskmovps` store takes about
    /// 11 cycles on Zen 4 (a loop of them, one per 4-cycle FMA, ran 3.3 ns a store against
    /// 1.1 for plain ones), so that a partial block's tile spent about as long on its
    /// stores as on its FMAs.
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, m: __m256i, v: __m256) {
        // SAFETY: see the impl. `mask` sets a run of lanes, `first` is its first and `n`
        // counts it, so exactly `p + first ..` `+ n` is written, which the caller says is
        // writable (`p` itself need not be: it is only offset with wrapping arithmetic).
        unsafe {
            let bits = _mm256_movemask_ps(_mm256_castsi256_ps(m)) as u32;
            let n = bits.count_ones() as usize;
            if n == 8 {
                return _mm256_storeu_ps(p, v);
            }
            let first = bits.trailing_zeros();
            let (p, v) = if first > 0 {
                let rotate = _mm256_add_epi32(
                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                    _mm256_set1_epi32(first as i32),
                );
                // vpermps reads each index modulo 8.
                (
                    p.wrapping_add(first as usize),
                    _mm256_permutevar8x32_ps(v, rotate),
                )
            } else {
                (p, v)
            };
            let lo = _mm256_castps256_ps128(v);
            let (p, rest, n) = if n >= 4 {
                _mm_storeu_ps(p, lo);
                (p.add(4), _mm256_extractf128_ps::<1>(v), n - 4)
            } else {
                (p, lo, n)
            };
            let (p, rest) = if n >= 2 {
                // Through a general register: `p` is only as aligned as an f32.
                let pair = _mm_cvtsi128_si64(_mm_castps_si128(rest)) as u64;
                p.cast::<u64>().write_unaligned(pair);
                (p.add(2), _mm_movehl_ps(rest, rest))
            } else {
                (p, rest)
            };
            if n % 2 == 1 {
                _mm_store_ss(p, rest);
            }
        }
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_div_ps(a, b) }
    }
    #[inline(always)]
    fn fma(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn max(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_min_ps(a, b) }
    }
    #[inline(always)]
    fn round(self, a: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe { _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a) }
    }
    #[inline(always)]
    fn pow2i(self, n: __m256) -> __m256 {
        // SAFETY: see the impl.
        unsafe {
            let e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(e))
        }
    }
    #[inline(always)]
    fn prefetch_row_below(self, p: *const f32) {
        // SAFETY: a prefetch neither faults nor reads memory architecturally, whatever the
        // address; SSE is part of x86-64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
}

/// Runs `job` with the AVX2 kernels.
///
/// # Safety
/// `job` was checked by `Job::new` for `Isa::Avx2`, which is available.
pub(crate) unsafe fn run(job: &Job) {
    // SAFETY: the caller checked that AVX2 and FMA are available.
    let isa = unsafe { Avx2::new() };
    let g = job.geom;
    macro_rules! specialized {
        ($k:literal, $s:literal, $d:literal, $w:literal) => {
            // SAFETY: the job has this kernel, stride and dilation (the match) and 8 lanes.
            isa.enabled(
                #[inline(always)]
                || unsafe { driver::run::<Avx2, $k, $s, $d, $w>(isa, job) },
            )
        };
    }
    dispatch_avx2!((g.kernel, g.stride, g.dilation), specialized, {
        // SAFETY: the job has 8 lanes.
        isa.enabled(
            #[inline(always)]
            || unsafe { driver::run_generic::<Avx2>(isa, job) },
        )
    });
}
