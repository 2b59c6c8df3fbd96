//! AVX-512F: 16 f32 lanes, 32 registers, mask registers for channel tails.

use core::arch::x86_64::*;

use crate::Isa;
use crate::engine::driver;
use crate::job::Job;
use crate::simd::Simd;

/// Token: AVX-512F, AVX2 and FMA are available.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// # Safety
    /// The CPU and OS support AVX-512F, AVX2 and FMA.
    #[inline(always)]
    pub unsafe fn new() -> Self {
        Avx512(())
    }
}

// Never inlined, so that each path the engine runs in it (direct, staged) gets registers of
// its own (`driver::run`).
#[inline(never)]
#[target_feature(enable = "avx512f,avx2,fma")]
fn with_features<R>(f: impl FnOnce() -> R) -> R {
    f()
}

// SAFETY (every `unsafe` block calling an intrinsic below): an `Avx512` token exists only
// where AVX-512F, AVX2 and FMA are available (`Avx512::new`).
impl Simd for Avx512 {
    const LANES: usize = 16;
    const REGISTERS: usize = Isa::Avx512.registers();
    const FREE_MASKS: bool = true;
    type V = __m512;
    type Mask = __mmask16;

    #[inline(always)]
    fn enabled<R>(self, f: impl FnOnce() -> R) -> R {
        // SAFETY: the token proves the features are available.
        unsafe { with_features(f) }
    }
    #[inline(always)]
    fn zero(self) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    fn mask(self, lo: usize, hi: usize) -> __mmask16 {
        debug_assert!(lo < hi && hi <= 16);
        (((1u32 << hi) - (1u32 << lo)) & 0xffff) as __mmask16
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m512 {
        // SAFETY: p .. p + 16 is readable (caller); AVX-512F is available.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_masked(self, p: *const f32, m: __mmask16) -> __m512 {
        // SAFETY: the masked lanes are readable (caller); masked-off lanes are not accessed.
        unsafe { _mm512_maskz_loadu_ps(m, p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m512) {
        // SAFETY: p .. p + 16 is writable (caller).
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, m: __mmask16, v: __m512) {
        // SAFETY: the masked lanes are writable (caller); masked-off lanes are not accessed.
        unsafe { _mm512_mask_storeu_ps(p, m, v) }
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_div_ps(a, b) }
    }
    #[inline(always)]
    fn fma(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn max(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_min_ps(a, b) }
    }
    #[inline(always)]
    fn round(self, a: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe { _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a) }
    }
    #[inline(always)]
    fn pow2i(self, n: __m512) -> __m512 {
        // SAFETY: see the impl.
        unsafe {
            let e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(e))
        }
    }
}

/// Runs `job` with the AVX-512 kernels.
///
/// # Safety
/// `job` was checked by `Job::new` for `Isa::Avx512`, which is available.
pub(crate) unsafe fn run(job: &Job) {
    // SAFETY: the caller checked that AVX-512F (with AVX2 and FMA) is available.
    let isa = unsafe { Avx512::new() };
    let g = job.geom;
    macro_rules! specialized {
        ($k:literal, $s:literal, $d:literal, $w:literal) => {
            // SAFETY: the job has this kernel, stride and dilation (the match) and 16 lanes.
            isa.enabled(
                #[inline(always)]
                || unsafe { driver::run::<Avx512, $k, $s, $d, $w>(isa, job) },
            )
        };
    }
    dispatch_avx512!((g.kernel, g.stride, g.dilation), specialized, {
        // SAFETY: the job has 16 lanes.
        isa.enabled(
            #[inline(always)]
            || unsafe { driver::run_generic::<Avx512>(isa, job) },
        )
    });
}
