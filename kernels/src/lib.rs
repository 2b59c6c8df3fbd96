//! The SIMD microkernels of [mixconv](https://docs.rs/mixconv): one depthwise-convolution
//! engine per instruction set, and all of mixconv's `unsafe` code.
//!
//! `#![no_std]`, so that inference engines can embed it. The single entry point, [`depthwise`],
//! checks every bound the kernels rely on before any of them runs.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

mod epilogue;
mod error;
mod geometry;
mod isa;
mod job;
/// The f32 FMA peak probe: independent FMA chains per ISA, for "% of peak" in reports.
pub mod peak;
mod stub;

pub use epilogue::{Activation, Epilogue};
pub use error::KernelError;
pub use geometry::{Geometry, Region};
pub use isa::Isa;

use job::Job;
pub use stub::microkernel;

/// Computes `region` of one channel group's depthwise convolution with `isa`'s kernels.
///
/// - `input`: the whole NHWC input tensor (all groups' channels, `geom.in_pixel_stride` apart).
/// - `weights`: the group's weights packed as `[block][ky][kx][lane]` with
///   `isa.lanes()`-channel blocks, lanes past the last channel zero.
/// - `bias`: `[block][lane]`, the same blocks.
/// - `output`: elements `output_offset ..` of the whole NHWC output tensor; only the region's
///   channels `out_channel_offset .. + channels` of its pixels are written.
///
/// Returns an error, having written nothing, when the ISA is not available or a slice is
/// too short for the geometry.
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
    // SAFETY: `Job::new` checked that every element the engine addresses lies in the slices,
    // and the ISA is available on this CPU.
    unsafe { stub::run(&job) };
    Ok(())
}
