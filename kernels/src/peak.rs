//! The f32 FMA peak probe: independent chains of fused multiply-adds per ISA, so that reports
//! can show a measured "% of peak" next to GFLOP/s. Timing is the caller's (this crate is
//! `no_std`): [`fma_flops`](crate::peak::fma_flops) runs a given number of iterations and returns the FLOPs it did.

use crate::Isa;
use core::hint::black_box;

/// Independent accumulator chains of the AVX2 and AVX-512 probes: enough to cover FMA latency ×
/// throughput on current cores (4 cycles × 2 pipes = 8 in flight) with margin, and few enough
/// to stay in registers (16 ymm, 32 zmm) with the two operands.
pub const CHAINS_AVX2: usize = 12;
/// See [`CHAINS_AVX2`].
pub const CHAINS_AVX512: usize = 16;
/// Chains of `wide::f32x8` in the portable probe: on SSE2 each is two 4-lane registers, so
/// 6 of them are 12 independent chains in 12 of the 16 xmm registers.
pub const CHAINS_PORTABLE: usize = 6;

/// Runs `iterations` rounds of `CHAINS_*` independent `acc = acc · m + a` vector FMAs with
/// `isa`'s widest vectors (the portable one is `wide::f32x8`, whatever it compiles to) and
/// returns the FLOPs done (2 per lane per FMA), or `None` when the ISA is not available.
pub fn fma_flops(isa: Isa, iterations: u64) -> Option<u64> {
    if !isa.is_available() {
        return None;
    }
    let sum = match isa {
        Isa::Portable => portable(iterations),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_available` confirmed AVX2 and FMA on this CPU.
        Isa::Avx2 => unsafe { x86::avx2(iterations) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_available` confirmed AVX-512F on this CPU.
        Isa::Avx512 => unsafe { x86::avx512(iterations) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => return None,
    };
    black_box(sum);
    let lanes_per_round = match isa {
        Isa::Portable => CHAINS_PORTABLE * 8,
        Isa::Avx2 => CHAINS_AVX2 * 8,
        Isa::Avx512 => CHAINS_AVX512 * 16,
    };
    Some(iterations * (lanes_per_round * 2) as u64)
}

/// Factors that keep the chains bounded and away from denormals: acc → a / (1 − m).
const M: f32 = 0.999_9;
const A: f32 = 1.0e-3;

fn portable(iterations: u64) -> f32 {
    use wide::f32x8;
    let m = f32x8::splat(black_box(M));
    let a = f32x8::splat(black_box(A));
    let mut acc = [f32x8::splat(black_box(1.0)); CHAINS_PORTABLE];
    for _ in 0..iterations {
        for v in acc.iter_mut() {
            *v = v.mul_add(m, a);
        }
    }
    acc.iter().map(|v| v.reduce_add()).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{A, CHAINS_AVX2, CHAINS_AVX512, M};
    use core::arch::x86_64::*;
    use core::hint::black_box;

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2(iterations: u64) -> f32 {
        let m = _mm256_set1_ps(black_box(M));
        let a = _mm256_set1_ps(black_box(A));
        let mut acc = [_mm256_set1_ps(black_box(1.0)); CHAINS_AVX2];
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, m, a);
            }
        }
        let mut total = _mm256_setzero_ps();
        for v in acc {
            total = _mm256_add_ps(total, v);
        }
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds 8 f32, exactly one unaligned 256-bit store.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), total) };
        lanes.iter().sum()
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512(iterations: u64) -> f32 {
        let m = _mm512_set1_ps(black_box(M));
        let a = _mm512_set1_ps(black_box(A));
        let mut acc = [_mm512_set1_ps(black_box(1.0)); CHAINS_AVX512];
        for _ in 0..iterations {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, m, a);
            }
        }
        let mut total = _mm512_setzero_ps();
        for v in acc {
            total = _mm512_add_ps(total, v);
        }
        _mm512_reduce_add_ps(total)
    }
}
