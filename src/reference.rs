//! The reference implementation: plain loops, obviously correct, slow. Every kernel is tested
//! against it, and users validate against it.

use crate::error::Result;
use crate::execute::check_len;
use crate::layer::MixConv;
use crate::shape::Shape;
use crate::weights::Weights;
use crate::{Activation, Epilogue};

/// Computes `layer` on `input` into `output` with plain loops, accumulating in f64.
///
/// Same arguments, validation and output as [`crate::Plan::run`] (on the plan of the same
/// layer, weights and shape), on any CPU.
///
/// ```
/// use mixconv::{MixConv, Shape, Weights, reference};
/// let layer = MixConv::new(1, &[3]);
/// let weights = Weights::hwc(vec![vec![1.0; 9]]).with_bias(vec![0.5]);
/// let input = vec![1.0; 4 * 4];
/// let mut output = vec![0.0; 4 * 4];
/// reference::mixconv(&layer, &weights, Shape::new(1, 4, 4), &input, &mut output).unwrap();
/// assert_eq!(output[0], 4.5); // corner: 4 taps inside, 5 in the padding
/// assert_eq!(output[5], 9.5); // interior
/// ```
pub fn mixconv(
    layer: &MixConv,
    weights: &Weights,
    shape: Shape,
    input: &[f32],
    output: &mut [f32],
) -> Result<()> {
    let layout = Layout::new(layer, weights, shape)?;
    check_len("input", &layout.input_lens, input.len())?;
    check_len("output", &layout.output_lens, output.len())?;
    layout.for_each_output(weights, input, |index, sum, _| {
        output[index] = epilogue(&layer.epilogue(), sum as f32);
    });
    Ok(())
}

/// Per output element, `Σ|x·w| + |bias|`: the scale of the rounding error any order of summing
/// can make. Tests compare `|kernel − reference| ≤ ε · magnitude`. Elements outside the layer's
/// channels are 0.
pub fn magnitudes(
    layer: &MixConv,
    weights: &Weights,
    shape: Shape,
    input: &[f32],
) -> Result<Vec<f32>> {
    let layout = Layout::new(layer, weights, shape)?;
    check_len("input", &layout.input_lens, input.len())?;
    let mut out = vec![0.0; *layout.output_lens.end()];
    layout.for_each_output(weights, input, |index, _, magnitude| {
        out[index] = magnitude as f32
    });
    Ok(out)
}

/// The epilogue of one value: activation, then clamp. NaN stays NaN (as in the kernels,
/// whose `max`/`min` instructions pass a NaN operand through).
pub fn epilogue(e: &Epilogue, x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let y = match e.activation {
        Activation::None => x,
        Activation::Relu => x.max(0.0),
        Activation::Relu6 => x.clamp(0.0, 6.0),
        Activation::Silu => x / (1.0 + (-x).exp()),
        Activation::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
    };
    y.max(e.min).min(e.max)
}

/// The sizes the reference loops over, validated like a plan's.
struct Layout {
    plan: crate::Plan,
    input_lens: std::ops::RangeInclusive<usize>,
    output_lens: std::ops::RangeInclusive<usize>,
}

impl Layout {
    fn new(layer: &MixConv, weights: &Weights, shape: Shape) -> Result<Layout> {
        // The portable plan validates exactly what a plan validates; its kernels are not used.
        let plan = crate::Plan::new(layer, weights, shape, crate::Isa::Portable)?;
        Ok(Layout {
            input_lens: plan.input_lens(),
            output_lens: plan.output_lens(),
            plan,
        })
    }

    /// Calls `f(output index, sum + bias, Σ|x·w| + |bias|)` for every output element of the layer.
    fn for_each_output(
        &self,
        weights: &Weights,
        input: &[f32],
        mut f: impl FnMut(usize, f64, f64),
    ) {
        let p = &self.plan;
        let (in_h, in_w) = p.in_size;
        let (out_h, out_w) = p.out_size;
        for n in 0..p.batch {
            for (index, g) in p.groups().iter().enumerate() {
                let r = g.group;
                let hwc = weights.group(index);
                for oy in 0..out_h {
                    for ox in 0..out_w {
                        for c in 0..r.channels {
                            let channel = r.channel_offset + c;
                            let bias = weights.bias().map_or(0.0, |b| b[channel]) as f64;
                            let (mut sum, mut magnitude) = (bias, bias.abs());
                            for ky in 0..r.kernel {
                                for kx in 0..r.kernel {
                                    let iy = (oy * p.stride + ky * r.dilation) as isize
                                        - r.pads.top as isize;
                                    let ix = (ox * p.stride + kx * r.dilation) as isize
                                        - r.pads.left as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= in_h as isize
                                        || ix >= in_w as isize
                                    {
                                        continue;
                                    }
                                    let pixel = (n * in_h + iy as usize) * in_w + ix as usize;
                                    let x = input[pixel * p.in_pixel_stride + channel] as f64;
                                    let w = hwc[(ky * r.kernel + kx) * r.channels + c] as f64;
                                    sum += x * w;
                                    magnitude += (x * w).abs();
                                }
                            }
                            let index =
                                ((n * out_h + oy) * out_w + ox) * p.out_pixel_stride + channel;
                            f(index, sum, magnitude);
                        }
                    }
                }
            }
        }
    }
}
