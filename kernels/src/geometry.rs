//! The shape of one channel group's depthwise convolution, and the part of its output a call computes.

use core::ops::Range;

/// One channel group of a depthwise convolution over NHWC tensors.
///
/// The group reads channels `in_channel_offset .. in_channel_offset + channels` of each input
/// pixel and writes channels `out_channel_offset ..` of each output pixel; pixels are
/// `in_pixel_stride` / `out_pixel_stride` elements apart (≥ the channel count of the tensor).
/// Output pixel `(y, x)` sums the taps `(ky, kx)` whose input position
/// `(y·stride − pad_top + ky·dilation, x·stride − pad_left + kx·dilation)` lies inside the input;
/// taps outside it (padding) contribute zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Kernel size K (the kernel is K×K); odd.
    pub kernel: usize,
    /// Distance between taps, ≥ 1.
    pub dilation: usize,
    /// Distance between output pixels' windows, ≥ 1.
    pub stride: usize,
    /// Padding rows above the input.
    pub pad_top: usize,
    /// Padding columns left of the input.
    pub pad_left: usize,
    /// Channels in this group.
    pub channels: usize,
    /// First channel of the group in an input pixel.
    pub in_channel_offset: usize,
    /// Elements from one input pixel to the next.
    pub in_pixel_stride: usize,
    /// First channel of the group in an output pixel.
    pub out_channel_offset: usize,
    /// Elements from one output pixel to the next.
    pub out_pixel_stride: usize,
}

/// A rectangle of output pixels of one image: what one kernel call computes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// The image in the batch.
    pub batch: usize,
    /// Output rows.
    pub rows: Range<usize>,
    /// Output columns.
    pub cols: Range<usize>,
}

impl Geometry {
    /// Channel blocks of `lanes` channels (the first one, past [`Geometry::lead`] lanes, and
    /// the last one possibly partial).
    pub const fn blocks(&self, lanes: usize) -> usize {
        self.channels.div_ceil(lanes)
    }

    /// Lanes of the group's first `lanes`-wide block that come before its first channel, so
    /// that its blocks lie on the pixel's vectors: `in_channel_offset % lanes` where every
    /// pixel puts the group at that offset within a vector in both tensors (pixel strides
    /// multiples of `lanes`, channel offsets equal modulo `lanes`) and the shift adds no
    /// block; else 0. Channel `c` of the group is packed in block `(c + lead) / lanes`, lane
    /// `(c + lead) % lanes`. (Aligned blocks assume tensors that start on a `4 · lanes`-byte
    /// boundary; misaligned AVX2 loads made 28×28 5×5 groups 1.18–1.23× slower on Zen 4.)
    ///
    /// ```
    /// use mixconv_kernels::Geometry;
    /// let g = Geometry {
    ///     batch: 1, in_h: 28, in_w: 28, out_h: 28, out_w: 28, kernel: 5, dilation: 1,
    ///     stride: 1, pad_top: 2, pad_left: 2, channels: 60, in_channel_offset: 60,
    ///     in_pixel_stride: 120, out_channel_offset: 60, out_pixel_stride: 120,
    /// };
    /// assert_eq!(g.lead(8), 4); // blocks of channels 56..64 (front masked), 64..72, …
    /// assert_eq!(g.blocks(8), 8);
    /// assert_eq!(g.lead(16), 0); // 12 lanes would add a fifth block
    /// let odd = Geometry { in_pixel_stride: 180, out_pixel_stride: 180, ..g };
    /// assert_eq!(odd.lead(8), 0); // pixels alternate between two offsets
    /// ```
    pub const fn lead(&self, lanes: usize) -> usize {
        let lead = self.in_channel_offset % lanes;
        let aligned = self.in_pixel_stride.is_multiple_of(lanes)
            && self.out_pixel_stride.is_multiple_of(lanes)
            && self.out_channel_offset % lanes == lead;
        if aligned && (lead + self.channels).div_ceil(lanes) == self.blocks(lanes) {
            lead
        } else {
            0
        }
    }

    /// Length of the packed weights for `lanes`-wide blocks: `[block][ky][kx][lane]`.
    pub const fn packed_weights_len(&self, lanes: usize) -> Option<usize> {
        match self.kernel.checked_mul(self.kernel) {
            Some(taps) => match taps.checked_mul(lanes) {
                Some(per_block) => per_block.checked_mul(self.blocks(lanes)),
                None => None,
            },
            None => None,
        }
    }

    /// Index of element `channel` of output pixel `(batch, y, x)` in the whole output tensor.
    pub(crate) fn out_index(
        &self,
        batch: usize,
        y: usize,
        x: usize,
        channel: usize,
    ) -> Option<usize> {
        let dims = (
            self.out_h,
            self.out_w,
            self.out_pixel_stride,
            self.out_channel_offset,
        );
        nhwc_index(dims, batch, y, x, channel)
    }

    /// Index of element `channel` of input pixel `(batch, y, x)` in the whole input tensor.
    pub(crate) fn in_index(
        &self,
        batch: usize,
        y: usize,
        x: usize,
        channel: usize,
    ) -> Option<usize> {
        let dims = (
            self.in_h,
            self.in_w,
            self.in_pixel_stride,
            self.in_channel_offset,
        );
        nhwc_index(dims, batch, y, x, channel)
    }
}

/// `((batch·h + y)·w + x)·pixel_stride + offset + channel` for `(h, w, pixel_stride, offset)`,
/// or `None` on overflow.
fn nhwc_index(
    (h, w, pixel_stride, offset): (usize, usize, usize, usize),
    batch: usize,
    y: usize,
    x: usize,
    channel: usize,
) -> Option<usize> {
    let pixel = batch
        .checked_mul(h)?
        .checked_add(y)?
        .checked_mul(w)?
        .checked_add(x)?;
    pixel
        .checked_mul(pixel_stride)?
        .checked_add(offset)?
        .checked_add(channel)
}
