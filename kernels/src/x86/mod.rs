//! The x86-64 engines: the [`Simd`](crate::simd::Simd) implementations for AVX2+FMA and
//! AVX-512F, and their dispatch to the specialized kernels.

pub(crate) mod avx2;
pub(crate) mod avx512;
