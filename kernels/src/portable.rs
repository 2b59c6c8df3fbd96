//! The portable engine: `wide::f32x8` (SSE2 on x86-64, NEON on aarch64, scalar elsewhere).

use wide::{f32x8, i32x8};

use crate::Isa;
use crate::engine::driver;
use crate::job::Job;
use crate::simd::Simd;

/// Token for the portable vectors (always available).
#[derive(Clone, Copy)]
pub(crate) struct Portable;

// Never inlined, as the x86 ISAs' `with_features`: each path the engine runs in it gets
// registers of its own (`driver::run`), and LLVM optimizes some 60 functions rather than
// one that held every kernel's paths (3.2 MB of machine code in the test build).
#[inline(never)]
fn separately<R>(f: impl FnOnce() -> R) -> R {
    f()
}

impl Simd for Portable {
    const LANES: usize = 8;
    // f32x8 is two SSE registers on the baseline target.
    const REGISTERS: usize = Isa::Portable.registers();
    const FREE_MASKS: bool = false;
    type V = f32x8;
    /// Lanes `lo .. hi` of a partial block.
    type Mask = (usize, usize);

    #[inline(always)]
    fn enabled<R>(self, f: impl FnOnce() -> R) -> R {
        separately(f)
    }
    #[inline(always)]
    fn zero(self) -> f32x8 {
        f32x8::ZERO
    }
    #[inline(always)]
    fn splat(self, x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn mask(self, lo: usize, hi: usize) -> (usize, usize) {
        let hi = hi.min(8);
        (lo.min(hi), hi)
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> f32x8 {
        // SAFETY: p .. p + 8 is readable (caller); the read is unaligned.
        f32x8::from(unsafe { p.cast::<[f32; 8]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn load_masked(self, p: *const f32, (lo, hi): (usize, usize)) -> f32x8 {
        let mut a = [0.0f32; 8];
        // SAFETY: p + lo .. p + hi is readable (caller) and lo <= hi <= 8 fits the local array.
        unsafe {
            core::ptr::copy_nonoverlapping(p.wrapping_add(lo), a.as_mut_ptr().add(lo), hi - lo)
        };
        f32x8::from(a)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: f32x8) {
        // SAFETY: p .. p + 8 is writable (caller); the write is unaligned.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(v.to_array()) }
    }
    #[inline(always)]
    unsafe fn store_masked(self, p: *mut f32, (lo, hi): (usize, usize), v: f32x8) {
        let a = v.to_array();
        // SAFETY: p + lo .. p + hi is writable (caller) and lo <= hi <= 8.
        unsafe { core::ptr::copy_nonoverlapping(a.as_ptr().add(lo), p.wrapping_add(lo), hi - lo) };
    }
    #[inline(always)]
    fn add(self, a: f32x8, b: f32x8) -> f32x8 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32x8, b: f32x8) -> f32x8 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32x8, b: f32x8) -> f32x8 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32x8, b: f32x8) -> f32x8 {
        a / b
    }
    #[inline(always)]
    fn fma(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn max(self, a: f32x8, b: f32x8) -> f32x8 {
        a.fast_max(b)
    }
    #[inline(always)]
    fn min(self, a: f32x8, b: f32x8) -> f32x8 {
        a.fast_min(b)
    }
    #[inline(always)]
    fn round(self, a: f32x8) -> f32x8 {
        a.round()
    }
    #[inline(always)]
    fn pow2i(self, n: f32x8) -> f32x8 {
        let e = (n.round_int() + i32x8::splat(127)) << 23u32;
        wide::bytemuck::cast::<i32x8, f32x8>(e)
    }
}

/// Runs `job` with the portable kernels.
///
/// # Safety
/// `job` was checked by `Job::new` for `Isa::Portable`.
pub(crate) unsafe fn run(job: &Job) {
    let isa = Portable;
    let g = job.geom;
    macro_rules! specialized {
        ($k:literal, $s:literal, $d:literal, $w:literal) => {
            // SAFETY: the job has this kernel, stride and dilation (the match) and 8 lanes.
            isa.enabled(
                #[inline(always)]
                || unsafe { driver::run::<Portable, $k, $s, $d, $w>(isa, job) },
            )
        };
    }
    dispatch_portable!((g.kernel, g.stride, g.dilation), specialized, {
        // SAFETY: the job has 8 lanes.
        isa.enabled(
            #[inline(always)]
            || unsafe { driver::run_generic::<Portable>(isa, job) },
        )
    });
}
