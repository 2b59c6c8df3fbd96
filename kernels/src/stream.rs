//! The memory-floor probe: reads an input once and writes an output once, in step, with an
//! ISA's widest vectors and nothing else, so that reports can show how far a layer's time is
//! from the time of moving its data alone (a stride-2 layer whose input comes from L3 can be
//! bound by that, not by its FMAs). Timing is the caller's (this crate is `no_std`).
//!
//! Both slices are streamed in [`LINE`](crate::stream::LINE)s of 16 floats; the floats past the last whole line of
//! each are left alone. Output line `o` of `n_out` becomes the lane-wise sum, in order, of
//! input lines `⌊o·n_in/n_out⌋ .. ⌊(o+1)·n_in/n_out⌋` of `n_in` (zeros when that range is
//! empty), so that every input line is read once, every output line written once, and the
//! reads of a stride-2 layer's four input lines per output line come between its writes as in
//! the layer. With no whole output line nothing is read.
//!
//! ```
//! use mixconv_kernels::{Isa, stream};
//! let input: Vec<f32> = (0..64).map(|i| i as f32).collect();
//! let mut output = vec![0.0; 16];
//! stream::stream(Isa::Portable, &input, &mut output).unwrap();
//! // Output line 0 sums input lines 0 to 3: lane 0 is 0 + 16 + 32 + 48.
//! assert_eq!(output[0], 96.0);
//! ```

use crate::Isa;

/// Floats per streamed line: one 64-byte cache line.
pub const LINE: usize = 16;

/// Streams `input` into `output` as the [module](self) describes with `isa`'s widest vectors
/// (the portable probe uses `wide::f32x8`, whatever it compiles to); `None` when the ISA is
/// not available on this CPU.
pub fn stream(isa: Isa, input: &[f32], output: &mut [f32]) -> Option<()> {
    if !isa.is_available() {
        return None;
    }
    let (n_in, n_out) = (input.len() / LINE, output.len() / LINE);
    let (input, output) = (&input[..n_in * LINE], &mut output[..n_out * LINE]);
    match isa {
        Isa::Portable => portable(input, output),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_available` confirmed AVX2 and FMA on this CPU.
        Isa::Avx2 => unsafe { x86::avx2(input, output) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_available` confirmed AVX-512F on this CPU.
        Isa::Avx512 => unsafe { x86::avx512(input, output) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => return None,
    }
    Some(())
}

/// The input lines of each output line in turn: `⌊o·n_in/n_out⌋ .. ⌊(o+1)·n_in/n_out⌋`,
/// by increments (no division per line).
struct Ranges {
    quotient: usize,
    remainder: usize,
    n_out: usize,
    error: usize,
    next: usize,
}

impl Ranges {
    fn new(n_in: usize, n_out: usize) -> Self {
        Ranges {
            quotient: n_in / n_out.max(1),
            remainder: n_in % n_out.max(1),
            n_out,
            error: 0,
            next: 0,
        }
    }

    /// The next output line's input lines.
    #[inline(always)]
    fn next(&mut self) -> core::ops::Range<usize> {
        let lo = self.next;
        self.next += self.quotient;
        self.error += self.remainder;
        if self.error >= self.n_out {
            self.error -= self.n_out;
            self.next += 1;
        }
        lo..self.next
    }
}

fn portable(input: &[f32], output: &mut [f32]) {
    use wide::f32x8;
    let load = |i: usize| f32x8::new(input[i..i + 8].try_into().expect("8 floats"));
    let mut ranges = Ranges::new(input.len() / LINE, output.len() / LINE);
    for out in output.chunks_exact_mut(LINE) {
        let (mut a, mut b) = (f32x8::ZERO, f32x8::ZERO);
        for line in ranges.next() {
            a += load(line * LINE);
            b += load(line * LINE + 8);
        }
        out[..8].copy_from_slice(&a.to_array());
        out[8..].copy_from_slice(&b.to_array());
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{LINE, Ranges};
    use core::arch::x86_64::*;

    /// # Safety
    /// AVX2 is available; both lengths are whole lines.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(input: &[f32], output: &mut [f32]) {
        let mut ranges = Ranges::new(input.len() / LINE, output.len() / LINE);
        for out in output.chunks_exact_mut(LINE) {
            let (mut a, mut b) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            for line in ranges.next() {
                let x = &input[line * LINE..(line + 1) * LINE];
                // SAFETY: `x` holds 16 floats, two unaligned 256-bit loads.
                unsafe {
                    a = _mm256_add_ps(a, _mm256_loadu_ps(x.as_ptr()));
                    b = _mm256_add_ps(b, _mm256_loadu_ps(x.as_ptr().add(8)));
                }
            }
            // SAFETY: `out` holds 16 floats, two unaligned 256-bit stores.
            unsafe {
                _mm256_storeu_ps(out.as_mut_ptr(), a);
                _mm256_storeu_ps(out.as_mut_ptr().add(8), b);
            }
        }
    }

    /// # Safety
    /// AVX-512F is available; both lengths are whole lines.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(input: &[f32], output: &mut [f32]) {
        let mut ranges = Ranges::new(input.len() / LINE, output.len() / LINE);
        for out in output.chunks_exact_mut(LINE) {
            let mut a = _mm512_setzero_ps();
            for line in ranges.next() {
                let x = &input[line * LINE..(line + 1) * LINE];
                // SAFETY: `x` holds 16 floats, one unaligned 512-bit load.
                a = _mm512_add_ps(a, unsafe { _mm512_loadu_ps(x.as_ptr()) });
            }
            // SAFETY: `out` holds 16 floats, one unaligned 512-bit store.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr(), a) };
        }
    }
}
