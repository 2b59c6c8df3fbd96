//! The channel-group planner: per group its channels, padding, microkernel, packed weights and
//! how the output is covered (interior and border).

use crate::AlignedVec;
use crate::error::{Error, Result};
use crate::layer::{MixConv, ResolvedGroup};
use crate::shape::Shape;
use crate::tasks::{self, Task};
use crate::weights::{Weights, pack};
use crate::{Epilogue, Isa};
use mixconv_kernels::Geometry;
use std::fmt;
use std::ops::{Range, RangeInclusive};

/// A layer planned for one input shape and instruction set: weights packed once, kernels chosen.
/// Running it allocates nothing.
///
/// ```
/// use mixconv::{Isa, MixConv, Plan, Shape, Weights};
/// let layer = MixConv::new(4, &[3, 5]); // 2 channels with 3×3, 2 with 5×5
/// let weights = Weights::hwc(vec![vec![1.0; 3 * 3 * 2], vec![1.0; 5 * 5 * 2]]);
/// let plan = Plan::new(&layer, &weights, Shape::new(1, 8, 8), Isa::Portable).unwrap();
/// let input = vec![1.0; plan.input_len()];
/// let mut output = vec![0.0; plan.output_len()];
/// plan.run(&input, &mut output).unwrap();
/// // The centre pixel sees all 9 (resp. 25) taps.
/// let centre = (4 * 8 + 4) * 4;
/// assert_eq!(&output[centre..centre + 4], &[9.0, 9.0, 25.0, 25.0]);
/// println!("{plan}"); // which microkernel runs each group
/// ```
#[derive(Clone, Debug)]
pub struct Plan {
    pub(crate) isa: Isa,
    pub(crate) channels: usize,
    pub(crate) stride: usize,
    pub(crate) batch: usize,
    pub(crate) in_size: (usize, usize),
    pub(crate) out_size: (usize, usize),
    pub(crate) in_pixel_stride: usize,
    pub(crate) out_pixel_stride: usize,
    pub(crate) epilogue: Epilogue,
    pub(crate) groups: Vec<PlannedGroup>,
    pub(crate) tasks: Vec<Task>,
    /// Cost of output rows `0..y` of one image, for `y` in `0..=out_h`.
    pub(crate) row_cost_prefix: Vec<u64>,
    input_lens: RangeInclusive<usize>,
    output_lens: RangeInclusive<usize>,
}

/// One group of a plan.
#[derive(Clone, Debug)]
pub struct PlannedGroup {
    /// The group resolved for the input size.
    pub group: ResolvedGroup,
    /// Name of the microkernel that runs it, e.g. `avx512_k7s2_16c14w`.
    pub microkernel: &'static str,
    /// Whether the group runs staged: its input rows copied, zero-padded, into an
    /// L1-resident ring per channel block before the tiles read them (pixel strides that
    /// alias in L1, such as 256 channels with AVX2 or 512 with AVX-512; see
    /// `mixconv_kernels::staged`), rather than in place.
    pub staged: bool,
    /// Output rows whose every kernel row lies inside the input.
    pub interior_rows: Range<usize>,
    /// Output columns whose every kernel column lies inside the input.
    pub interior_cols: Range<usize>,
    pub(crate) geometry: Geometry,
    pub(crate) weights: AlignedVec,
    pub(crate) bias: AlignedVec,
}

impl Plan {
    /// Plans `layer` with `weights` for tensors of `shape` on `isa`.
    ///
    /// Errors name the offending value: invalid layer, weights or bias of the wrong length,
    /// pixel strides smaller than the channels, sizes that overflow, an ISA the CPU lacks.
    pub fn new(layer: &MixConv, weights: &Weights, shape: Shape, isa: Isa) -> Result<Plan> {
        crate::isa::require(isa)?;
        let (groups, out_size) = layer.resolve(shape.height, shape.width)?;
        if shape.batch == 0 {
            return Err(Error::EmptyTensor { what: "batch" });
        }
        let channels = layer.channels();
        let pixel_stride = |which, given: Option<usize>| match given.unwrap_or(channels) {
            s if s < channels => Err(Error::PixelStride {
                which,
                stride: s,
                channels,
            }),
            s => Ok(s),
        };
        let in_pixel_stride = pixel_stride("input", shape.input_pixel_stride)?;
        let out_pixel_stride = pixel_stride("output", shape.output_pixel_stride)?;
        weights.check(&groups, channels)?;
        // Both lengths must be representable before any kernel computes an index.
        let input_lens = len_range(
            shape.batch,
            (shape.height, shape.width),
            in_pixel_stride,
            channels,
            "input size",
        )?;
        let output_lens = len_range(
            shape.batch,
            out_size,
            out_pixel_stride,
            channels,
            "output size",
        )?;
        let mut plan = Plan {
            isa,
            channels,
            stride: layer.stride_value(),
            batch: shape.batch,
            in_size: (shape.height, shape.width),
            out_size,
            in_pixel_stride,
            out_pixel_stride,
            epilogue: layer.epilogue(),
            groups: Vec::with_capacity(groups.len()),
            tasks: Vec::new(),
            row_cost_prefix: Vec::new(),
            input_lens,
            output_lens,
        };
        for (g, group) in groups.into_iter().enumerate() {
            let bias = weights
                .bias()
                .map(|b| &b[group.channel_offset..group.channel_offset + group.channels]);
            let geometry = Geometry {
                batch: plan.batch,
                in_h: shape.height,
                in_w: shape.width,
                out_h: out_size.0,
                out_w: out_size.1,
                kernel: group.kernel,
                dilation: group.dilation,
                stride: plan.stride,
                pad_top: group.pads.top,
                pad_left: group.pads.left,
                channels: group.channels,
                in_channel_offset: group.channel_offset,
                in_pixel_stride,
                out_channel_offset: group.channel_offset,
                out_pixel_stride,
            };
            let (packed, packed_bias) = pack(
                weights.group(g),
                bias,
                group.kernel,
                group.channels,
                isa.lanes(),
                geometry.lead(isa.lanes()),
            );
            let reach = (group.kernel - 1) * group.dilation;
            plan.groups.push(PlannedGroup {
                staged: mixconv_kernels::staged(isa, &geometry)
                    && packed.iter().all(|w| w.is_finite()),
                group,
                microkernel: mixconv_kernels::microkernel(
                    isa,
                    group.kernel,
                    plan.stride,
                    group.dilation,
                ),
                interior_rows: interior(
                    shape.height,
                    out_size.0,
                    group.pads.top,
                    reach,
                    plan.stride,
                ),
                interior_cols: interior(
                    shape.width,
                    out_size.1,
                    group.pads.left,
                    reach,
                    plan.stride,
                ),
                geometry,
                weights: packed,
                bias: packed_bias,
            });
        }
        let costs = tasks::row_costs(out_size, shape.height, plan.stride, &plan.groups);
        plan.tasks = tasks::split(plan.batch, out_size, &costs);
        plan.row_cost_prefix = std::iter::once(0)
            .chain(costs.iter().scan(0u64, |acc, &c| {
                *acc = acc.saturating_add(c);
                Some(*acc)
            }))
            .collect();
        Ok(plan)
    }

    /// The instruction set the plan runs on.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The planned groups, in channel order.
    pub fn groups(&self) -> &[PlannedGroup] {
        &self.groups
    }

    /// Output rows that every group runs in turn before the next rows, when a run covers
    /// whole rows: the whole image for one group or a small input, else bands whose input
    /// rows stay in L2, so that one group's input lines are still cached for the next.
    pub fn band_rows(&self) -> usize {
        crate::bands::band_rows(
            self.groups.len(),
            self.stride,
            self.in_size,
            self.in_pixel_stride,
            self.out_size.0,
        )
    }

    /// Output (batch, height, width, channels).
    pub fn output_dims(&self) -> (usize, usize, usize, usize) {
        (self.batch, self.out_size.0, self.out_size.1, self.channels)
    }

    /// Multiply-adds of one run, padding taps counted (`Σ_groups K²·C_g · N·H_out·W_out`).
    pub fn macs(&self) -> u64 {
        let pixels = (self.batch * self.out_size.0 * self.out_size.1) as u64;
        self.groups
            .iter()
            .map(|g| (g.group.kernel * g.group.kernel * g.group.channels) as u64 * pixels)
            .sum()
    }

    /// The input length of a dense tensor (`N·H·W·pixel_stride`); see [`Plan::input_lens`].
    pub fn input_len(&self) -> usize {
        *self.input_lens.end()
    }

    /// The output length of a dense tensor (`N·H_out·W_out·pixel_stride`).
    pub fn output_len(&self) -> usize {
        *self.output_lens.end()
    }

    /// Accepted input lengths: from the one ending at the last pixel's last channel
    /// (`(N·H·W − 1)·stride + C`) to the full tensor (`N·H·W·stride`).
    pub fn input_lens(&self) -> RangeInclusive<usize> {
        self.input_lens.clone()
    }

    /// Accepted output lengths, as for the input.
    pub fn output_lens(&self) -> RangeInclusive<usize> {
        self.output_lens.clone()
    }
}

/// Lengths from `(pixels − 1)·stride + channels` to `pixels·stride`.
fn len_range(
    batch: usize,
    (h, w): (usize, usize),
    stride: usize,
    channels: usize,
    what: &'static str,
) -> Result<RangeInclusive<usize>> {
    let overflow = Error::Overflow { what };
    let pixels = batch
        .checked_mul(h)
        .and_then(|v| v.checked_mul(w))
        .ok_or(overflow.clone())?;
    let full = pixels.checked_mul(stride).ok_or(overflow)?;
    Ok(full - stride + channels..=full)
}

/// Output positions along one axis whose window lies wholly inside `0..size`.
fn interior(size: usize, out: usize, pad: usize, reach: usize, stride: usize) -> Range<usize> {
    let lo = pad.div_ceil(stride).min(out);
    let hi = match (size + pad).checked_sub(reach + 1) {
        Some(last) => (last / stride + 1).min(out),
        None => 0,
    };
    lo..hi.max(lo)
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, (h, w), (oh, ow), c) = (self.batch, self.in_size, self.out_size, self.channels);
        writeln!(
            f,
            "mixconv plan: {n}x{h}x{w}x{c} -> {n}x{oh}x{ow}x{c}, stride {}, isa {}, activation {}{}",
            self.stride,
            self.isa,
            self.epilogue.activation.name(),
            if self.epilogue.min > f32::NEG_INFINITY || self.epilogue.max < f32::INFINITY {
                format!(", clamp [{}, {}]", self.epilogue.min, self.epilogue.max)
            } else {
                String::new()
            }
        )?;
        writeln!(
            f,
            "  {} task(s) of about equal cost (threads take whole tasks); bands of {} output row(s), every group in turn",
            self.tasks.len(),
            self.band_rows()
        )?;
        for (i, g) in self.groups.iter().enumerate() {
            let r = &g.group;
            let p = r.pads;
            let interior = g.interior_rows.len() * g.interior_cols.len();
            writeln!(
                f,
                "  group {i}: channels {}..{} ({}), {}x{} dilation {}, pad t{} b{} l{} r{}, kernel {}{}, interior rows {:?} cols {:?} ({} of {} px, {} border)",
                r.channel_offset,
                r.channel_offset + r.channels,
                r.channels,
                r.kernel,
                r.kernel,
                r.dilation,
                p.top,
                p.bottom,
                p.left,
                p.right,
                g.microkernel,
                if g.staged { " staged" } else { "" },
                g.interior_rows,
                g.interior_cols,
                interior,
                oh * ow,
                oh * ow - interior
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_excludes_every_window_that_touches_padding() {
        // 8 wide, K=3 symmetric (pad 1, reach 2), stride 1: outputs 1..7 see no padding.
        assert_eq!(interior(8, 8, 1, 2, 1), 1..7);
        // Stride 2, TF SAME (0, 1): outputs 0..3 of 4.
        assert_eq!(interior(8, 4, 0, 2, 2), 0..3);
        // 9×9 on 7×7: no interior pixel.
        assert!(interior(7, 7, 4, 8, 1).is_empty());
    }
}
