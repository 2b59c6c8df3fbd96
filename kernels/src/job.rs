//! A kernel call whose bounds have been checked: the engines' only input.

use crate::{Epilogue, Geometry, Isa, KernelError, Region};

/// A checked call. Every pointer that [`Job::input_pixel`] and [`Job::output_pixel`] return
/// for coordinates inside the input / the region addresses elements of the caller's slices,
/// and so do the `Geometry::lead` elements before an input pixel's (the input slice is the
/// whole tensor).
pub(crate) struct Job<'a> {
    /// f32 lanes of the ISA's blocks.
    pub lanes: usize,
    pub geom: &'a Geometry,
    pub region: &'a Region,
    pub epilogue: &'a Epilogue,
    /// Element `(region.batch, 0, 0, in_channel_offset)` of the input.
    input: *const f32,
    /// `[block][ky][kx][lane]`, `geom.packed_weights_len(lanes)` elements.
    pub weights: *const f32,
    /// `[block][lane]`.
    pub bias: *const f32,
    /// Element `(region.batch, region.rows.start, region.cols.start, out_channel_offset)`.
    output: *mut f32,
}

impl<'a> Job<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        isa: Isa,
        geom: &'a Geometry,
        region: &'a Region,
        epilogue: &'a Epilogue,
        input: &'a [f32],
        weights: &'a [f32],
        bias: &'a [f32],
        output: &'a mut [f32],
        output_offset: usize,
    ) -> Result<Self, KernelError> {
        check_geometry(geom)?;
        let r = region;
        if r.batch >= geom.batch
            || r.rows.start >= r.rows.end
            || r.cols.start >= r.cols.end
            || r.rows.end > geom.out_h
            || r.cols.end > geom.out_w
        {
            return Err(KernelError::BadRegion);
        }
        let overflow = KernelError::BadGeometry("tensor size overflows usize");
        let last_in = geom
            .in_index(r.batch, geom.in_h - 1, geom.in_w - 1, geom.channels - 1)
            .ok_or(overflow)?;
        if last_in >= input.len() {
            return Err(KernelError::SliceTooShort(
                "input",
                last_in + 1,
                input.len(),
            ));
        }
        let lanes = isa.lanes();
        let weights_len = geom.packed_weights_len(lanes).ok_or(overflow)?;
        if weights.len() < weights_len {
            return Err(KernelError::SliceTooShort(
                "weights",
                weights_len,
                weights.len(),
            ));
        }
        let bias_len = geom.blocks(lanes) * lanes;
        if bias.len() < bias_len {
            return Err(KernelError::SliceTooShort("bias", bias_len, bias.len()));
        }
        let first_out = geom
            .out_index(r.batch, r.rows.start, r.cols.start, 0)
            .ok_or(overflow)?;
        let last_out = geom
            .out_index(r.batch, r.rows.end - 1, r.cols.end - 1, geom.channels - 1)
            .ok_or(overflow)?;
        if first_out < output_offset {
            return Err(KernelError::BadRegion);
        }
        let needed = last_out - output_offset + 1;
        if needed > output.len() {
            return Err(KernelError::SliceTooShort("output", needed, output.len()));
        }
        let first_in = geom.in_index(r.batch, 0, 0, 0).ok_or(overflow)?;
        Ok(Job {
            lanes,
            geom,
            region,
            epilogue,
            // From the whole slices: a block's lead lanes lie before the group's channels.
            input: input.as_ptr().wrapping_add(first_in),
            weights: weights.as_ptr(),
            bias: bias.as_ptr(),
            output: output.as_mut_ptr().wrapping_add(first_out - output_offset),
        })
    }

    /// Whether every packed weight is finite.
    pub fn weights_finite(&self) -> bool {
        let n = self.geom.packed_weights_len(self.lanes).unwrap_or(0);
        // SAFETY: `Job::new` checked that the weights slice holds `n` elements.
        let w = unsafe { core::slice::from_raw_parts(self.weights, n) };
        // A fold without early exit, so that it vectorizes.
        w.iter().fold(true, |all, x| all & x.is_finite())
    }

    /// Channel `in_channel_offset` of input pixel `(y, x)` of the region's image.
    ///
    /// # Safety
    /// `y < in_h` and `x < in_w`; then the pixel's `channels` elements are in the input slice.
    #[inline(always)]
    pub unsafe fn input_pixel(&self, y: usize, x: usize) -> *const f32 {
        let g = self.geom;
        // SAFETY: (y, x) is inside the image, whose last element `Job::new` checked.
        unsafe { self.input.add((y * g.in_w + x) * g.in_pixel_stride) }
    }

    /// Channel `out_channel_offset` of output pixel `(y, x)`.
    ///
    /// # Safety
    /// `(y, x)` lies in the region; then the pixel's `channels` elements are in the output slice.
    #[inline(always)]
    pub unsafe fn output_pixel(&self, y: usize, x: usize) -> *mut f32 {
        let g = self.geom;
        let r = self.region;
        let offset = ((y - r.rows.start) * g.out_w + x - r.cols.start) * g.out_pixel_stride;
        // SAFETY: (y, x) lies between the region's first and last pixel, both checked in `Job::new`.
        unsafe { self.output.add(offset) }
    }
}

/// The sizes a kernel relies on: nonzero, odd kernel, and every coordinate it computes fits `isize`.
pub(crate) fn check_geometry(g: &Geometry) -> Result<(), KernelError> {
    let bad = KernelError::BadGeometry;
    if g.batch == 0 || g.in_h == 0 || g.in_w == 0 || g.out_h == 0 || g.out_w == 0 || g.channels == 0
    {
        return Err(bad("empty tensor"));
    }
    if g.kernel.is_multiple_of(2) {
        return Err(bad("kernel size must be odd"));
    }
    if g.dilation == 0 || g.stride == 0 {
        return Err(bad("stride and dilation must be at least 1"));
    }
    if g.in_channel_offset
        .checked_add(g.channels)
        .is_none_or(|end| end > g.in_pixel_stride)
        || g.out_channel_offset
            .checked_add(g.channels)
            .is_none_or(|end| end > g.out_pixel_stride)
    {
        return Err(bad("group channels exceed the pixel stride"));
    }
    let span = |out: usize, pad: usize| -> Option<usize> {
        let reach = (out - 1)
            .checked_mul(g.stride)?
            .checked_add((g.kernel - 1).checked_mul(g.dilation)?)?;
        reach.checked_add(pad).filter(|&v| v <= isize::MAX as usize)
    };
    if span(g.out_h, g.pad_top).is_none() || span(g.out_w, g.pad_left).is_none() {
        return Err(bad("window coordinates overflow"));
    }
    Ok(())
}
