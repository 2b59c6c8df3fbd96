//! Running a plan: checking the caller's buffers, then each group's kernel over the output.

use crate::error::{Error, Result};
use crate::plan::Plan;
use mixconv_kernels::{Region, depthwise};

impl Plan {
    /// Runs the layer: `input` is NHWC (`N·H·W` pixels, input pixel stride apart), `output`
    /// receives NHWC (`N·H_out·W_out` pixels). Only the layer's channels of each output
    /// pixel are written. Allocates nothing.
    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<()> {
        check_len("input", &self.input_lens(), input.len())?;
        check_len("output", &self.output_lens(), output.len())?;
        let (_, out_h, out_w, _) = self.output_dims();
        for batch in 0..self.batch {
            for group in &self.groups {
                let region = Region {
                    batch,
                    rows: 0..out_h,
                    cols: 0..out_w,
                };
                depthwise(
                    self.isa,
                    &group.geometry,
                    &region,
                    &self.epilogue,
                    input,
                    &group.weights,
                    &group.bias,
                    output,
                    0,
                )?;
            }
        }
        Ok(())
    }

    /// [`Plan::run`] on raw bytes holding native-endian f32, as engines that keep tensors as
    /// bytes pass them. Misaligned buffers or lengths that are not a multiple of 4 are errors.
    pub fn run_bytes(&self, input: &[u8], output: &mut [u8]) -> Result<()> {
        let input: &[f32] =
            bytemuck::try_cast_slice(input).map_err(|_| Error::Misaligned { what: "input" })?;
        let output: &mut [f32] = bytemuck::try_cast_slice_mut(output)
            .map_err(|_| Error::Misaligned { what: "output" })?;
        self.run(input, output)
    }
}

/// An error naming `what` unless `len` lies in `lens`.
pub(crate) fn check_len(
    what: &str,
    lens: &std::ops::RangeInclusive<usize>,
    len: usize,
) -> Result<()> {
    if lens.contains(&len) {
        return Ok(());
    }
    let expected = if lens.start() == lens.end() {
        lens.start().to_string()
    } else {
        format!("{}..={}", lens.start(), lens.end())
    };
    Err(Error::BufferLength {
        what: what.to_string(),
        expected,
        given: len,
    })
}
