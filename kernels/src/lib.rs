//! The SIMD microkernels of [mixconv](https://docs.rs/mixconv): one depthwise-convolution
//! engine per instruction set, and all of mixconv's `unsafe` code.
//!
//! `#![no_std]`, so that inference engines can embed it. The single entry point, [`depthwise`],
//! checks every bound the kernels rely on before any of them runs.
//!
//! # Layout
//! - `simd.rs`: the `Simd` trait (a zero-sized token per ISA: loads/stores, masked
//!   loads/stores for channel tails, FMA, min/max, the vectorized `exp` behind SiLU).
//! - `x86/avx512.rs`, `x86/avx2.rs`, `portable.rs`: one `Simd` implementation each, and a
//!   thin `run` that dispatches to the specialized kernels inside a `#[target_feature]`
//!   function (`Simd::enabled`).
//! - `engine/driver.rs`: the loops over rows, column tiles and channel blocks;
//!   `engine/row_tiles.rs`: the tile widths a row is cut into;
//!   `engine/staged.rs`: the ring of zero-padded input rows the driver copies a block's rows
//!   into when the pixel stride aliases in L1 (see [`staged`]);
//!   `engine/tile.rs`: the unrolled register-blocked microkernel (const K, stride, dilation,
//!   width, checked, tail); `engine/generic.rs`: the fallback for any other geometry;
//!   `engine/border.rs`: valid kernel rows and interior tiles; `engine/store.rs`: the fused
//!   epilogue.
//! - `peak.rs`, `stream.rs`: the probes behind reports' "% of peak" and memory floor.
//! - `specialized.list` → `build.rs` → [`SPECIALIZED`], [`microkernel`] names and the
//!   per-ISA dispatch `match`.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

#[macro_use]
mod unroll;

// `SPECIALIZED`, `specialized_name` and the `dispatch_*!` macros, from `specialized.list`.
include!(concat!(env!("OUT_DIR"), "/specialized.rs"));

mod engine;
mod epilogue;
mod error;
mod geometry;
mod isa;
mod job;
/// The f32 FMA peak probe: independent FMA chains per ISA, for "% of peak" in reports.
pub mod peak;
mod portable;
mod simd;
/// The memory-floor probe: an input read and an output written once, for "× floor" in reports.
pub mod stream;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use epilogue::{Activation, Epilogue};
pub use error::KernelError;
pub use geometry::{Geometry, Region};
pub use isa::Isa;

use job::Job;

/// Computes `region` of one channel group's depthwise convolution with `isa`'s kernels.
///
/// - `input`: the whole NHWC input tensor (all groups' channels, `geom.in_pixel_stride` apart).
/// - `weights`: the group's weights packed as `[block][ky][kx][lane]` with
///   `isa.lanes()`-channel blocks, channel `c` in lane `c + geom.lead(isa.lanes())` of the
///   blocks ([`Geometry::lead`]), lanes before the first and past the last channel zero.
/// - `bias`: `[block][lane]`, the same blocks.
/// - `output`: elements `output_offset ..` of the whole NHWC output tensor; only the region's
///   channels `out_channel_offset .. + channels` of its pixels are written.
///
/// Returns an error, having written nothing, when the ISA is not available or a slice is
/// too short for the geometry. Needs about 50 KiB of stack (the [`staged`] path's ring).
#[allow(clippy::too_many_arguments)]
pub fn depthwise(
    isa: Isa,
    geom: &Geometry,
    region: &Region,
    epilogue: &Epilogue,
    input: &[f32],
    weights: &[f32],
    bias: &[f32],
    output: &mut [f32],
    output_offset: usize,
) -> Result<(), KernelError> {
    if !isa.is_available() {
        return Err(KernelError::IsaUnavailable(isa));
    }
    let job = Job::new(
        isa,
        geom,
        region,
        epilogue,
        input,
        weights,
        bias,
        output,
        output_offset,
    )?;
    // SAFETY (each arm): `Job::new` checked that every element the engine addresses lies in
    // the slices, for this ISA's lanes, and the ISA is available on this CPU.
    match isa {
        Isa::Portable => unsafe { portable::run(&job) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { x86::avx2::run(&job) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::avx512::run(&job) },
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Avx2 | Isa::Avx512 => return Err(KernelError::IsaUnavailable(isa)),
    }
    Ok(())
}

/// The name of the microkernel [`depthwise`] runs for a `kernel`×`kernel` convolution of this
/// stride and dilation with `isa`, XNNPACK-style: ISA, `k{K}[d{dilation}]s{stride}`, lanes × 1
/// channel vector, and tile width, e.g. `avx512_k7s2_16c14w`; `{isa}_generic_{lanes}c8w` for
/// geometries without a specialized kernel (see [`SPECIALIZED`]).
pub fn microkernel(isa: Isa, kernel: usize, stride: usize, dilation: usize) -> &'static str {
    specialized_name(isa, kernel, stride, dilation).unwrap_or(match isa {
        Isa::Portable => "portable_generic_8c8w",
        Isa::Avx2 => "avx2_generic_8c8w",
        Isa::Avx512 => "avx512_generic_16c8w",
    })
}

/// Whether [`depthwise`] runs this geometry (any region of it) through the staged path: the
/// group's input rows copied, zero-padded, into a ring of L1-resident rows per channel block
/// before the tiles read them, rather than read in place. Taken by specialized stride-1
/// kernels on pixel strides that alias in L1 with little padding (with AVX2 and the
/// portable ISA multiples of 64 channels, such as 256; with AVX-512 multiples of 512), and
/// by AVX2's 3×3 kernel on maps 14 to 56 wide (on maps up to 28 wide its direct tiles are
/// mostly border tiles; on wider ones the ring copies rows in bursts). (A call whose
/// weights are not all finite still reads in place: a padding tap computes 0·w.) The
/// choice never depends on the region, so results do not depend on how a layer is cut into
/// tasks.
///
/// ```
/// use mixconv_kernels::{Geometry, Isa, staged};
/// let g = Geometry {
///     batch: 1, in_h: 28, in_w: 28, out_h: 28, out_w: 28, kernel: 5, dilation: 1,
///     stride: 1, pad_top: 2, pad_left: 2, channels: 256, in_channel_offset: 0,
///     in_pixel_stride: 256, out_channel_offset: 0, out_pixel_stride: 256,
/// };
/// assert!(staged(Isa::Portable, &g) && staged(Isa::Avx2, &g));
/// // AVX-512 reads 256-channel pixels in place, 512-channel ones staged.
/// assert!(!staged(Isa::Avx512, &g));
/// let wide = Geometry { channels: 512, in_pixel_stride: 512, out_pixel_stride: 512, ..g };
/// assert!(staged(Isa::Avx512, &wide));
/// // 3×3 with dilation 6 (36% padding taps) runs staged; 9×9 on 14×14 (35%) does not.
/// let d6 = Geometry { kernel: 3, dilation: 6, pad_top: 6, pad_left: 6, ..g };
/// assert!(staged(Isa::Portable, &d6));
/// let k9 = Geometry { in_h: 14, in_w: 14, out_h: 14, out_w: 14, kernel: 9, pad_top: 4, pad_left: 4, ..g };
/// assert!(!staged(Isa::Portable, &k9));
/// let narrow = Geometry {
///     in_h: 14, in_w: 14, out_h: 14, out_w: 14, kernel: 3, pad_top: 1, pad_left: 1,
///     channels: 96, in_pixel_stride: 96, out_pixel_stride: 96, ..g
/// };
/// assert!(staged(Isa::Avx2, &narrow) && !staged(Isa::Avx512, &narrow));
/// let odd = Geometry { channels: 88, ..narrow }; // 11 blocks: one a ring pixel
/// assert!(staged(Isa::Avx2, &odd));
/// let narrower = Geometry { in_w: 13, out_w: 13, ..narrow }; // 13 wide: direct
/// assert!(!staged(Isa::Avx2, &narrower));
/// let g = Geometry { in_pixel_stride: 240, out_pixel_stride: 240, channels: 240, ..g };
/// assert!(!staged(Isa::Portable, &g));
/// ```
pub fn staged(isa: Isa, geom: &Geometry) -> bool {
    staged_blocks(isa, geom) > 0
}

/// How many channel blocks side by side the staged path copies into each pixel of its ring
/// for this geometry: 0 where it does not run staged ([`staged`]); where the ring holds the
/// whole output width with them, 4 for AVX2 3×3 kernels of dilation 1 or 2 and a block
/// count divisible by 4 (each pixel then fetches two adjacent cache lines), else 2 where
/// the block count is even and the ISA is AVX-512 (two lines a pixel) or AVX2 with a window
/// of at most 9 rows (two blocks fill a line); else 1. The tiles, and so the results, are
/// the same either way.
///
/// ```
/// use mixconv_kernels::{Geometry, Isa, staged_blocks};
/// let g = Geometry {
///     batch: 1, in_h: 28, in_w: 28, out_h: 28, out_w: 28, kernel: 5, dilation: 1,
///     stride: 1, pad_top: 2, pad_left: 2, channels: 256, in_channel_offset: 0,
///     in_pixel_stride: 256, out_channel_offset: 0, out_pixel_stride: 256,
/// };
/// assert_eq!(staged_blocks(Isa::Avx2, &g), 2);
/// assert_eq!(staged_blocks(Isa::Portable, &g), 1);
/// assert_eq!(staged_blocks(Isa::Avx512, &g), 0); // 1 KiB pixels: in place
/// let k3 = Geometry { kernel: 3, pad_top: 1, pad_left: 1, ..g };
/// assert_eq!(staged_blocks(Isa::Avx2, &k3), 4);
/// let k3_14 = Geometry { channels: 240, ..k3 }; // 30 AVX2 blocks: not divisible by 4
/// assert_eq!(staged_blocks(Isa::Avx2, &k3_14), 2);
/// let wide = Geometry { kernel: 11, pad_top: 5, pad_left: 5, ..g };
/// assert_eq!(staged_blocks(Isa::Avx2, &wide), 1);
/// // AVX-512 with 2 KiB pixels: 16 blocks, two a ring pixel; 15, one.
/// let g = Geometry { in_pixel_stride: 512, out_pixel_stride: 512, ..g };
/// assert_eq!(staged_blocks(Isa::Avx512, &g), 2);
/// let k3 = Geometry { kernel: 3, pad_top: 1, pad_left: 1, ..g };
/// assert_eq!(staged_blocks(Isa::Avx512, &k3), 2);
/// let odd = Geometry { channels: 240, ..g }; // 15 blocks
/// assert_eq!(staged_blocks(Isa::Avx512, &odd), 1);
/// let direct = Geometry { channels: 240, in_pixel_stride: 240, out_pixel_stride: 240, ..g };
/// assert_eq!(staged_blocks(Isa::Avx512, &direct), 0);
/// ```
pub fn staged_blocks(isa: Isa, geom: &Geometry) -> usize {
    let (k, s, d) = (geom.kernel, geom.stride, geom.dilation);
    if job::check_geometry(geom).is_err() || specialized_name(isa, k, s, d).is_none() {
        return 0;
    }
    if engine::staged::chosen(geom, k, s, d, isa.lanes()) {
        engine::staged::pixel_blocks(geom, k, s, d, isa.lanes(), isa.registers())
    } else {
        0
    }
}
