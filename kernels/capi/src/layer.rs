//! The C descriptions of a layer, its weights and its tensors, and their conversion to
//! mixconv's [`MixConv`], [`Weights`] and [`Shape`].

use mixconv::{Activation, MixConv, Padding, Shape, Split, Weights};

use crate::slices::{optional, slice};
use crate::status::Failure;

/// Channels divided equally, the remainder to group 0.
pub const MIXCONV_SPLIT_EQUAL: i32 = 0;
/// Group i gets C / 2^(i+1), the last group the rest.
pub const MIXCONV_SPLIT_EXPONENTIAL: i32 = 1;
/// The sizes in [`MixconvLayer::split_sizes`].
pub const MIXCONV_SPLIT_EXPLICIT: i32 = 2;

/// `dilation·(K−1)/2` on every side (PyTorch).
pub const MIXCONV_PADDING_SYMMETRIC: i32 = 0;
/// TensorFlow's SAME.
pub const MIXCONV_PADDING_TF_SAME: i32 = 1;
/// Per group: top, bottom, left, right in [`MixconvLayer::pads`].
pub const MIXCONV_PADDING_EXPLICIT: i32 = 2;

/// No activation.
pub const MIXCONV_ACTIVATION_NONE: i32 = 0;
/// max(x, 0).
pub const MIXCONV_ACTIVATION_RELU: i32 = 1;
/// min(max(x, 0), 6).
pub const MIXCONV_ACTIVATION_RELU6: i32 = 2;
/// x·sigmoid(x) (swish, MixNet's).
pub const MIXCONV_ACTIVATION_SILU: i32 = 3;
/// x·relu6(x + 3)/6.
pub const MIXCONV_ACTIVATION_HARDSWISH: i32 = 4;

/// Weights per group as `[K][K][C_g]` (TensorFlow's depthwise layout).
pub const MIXCONV_LAYOUT_HWC: i32 = 0;
/// Weights per group as `[C_g][1][K][K]` (PyTorch's).
pub const MIXCONV_LAYOUT_PYTORCH: i32 = 1;

/// A MixConv layer (`mixconv_layer` in C). Arrays hold one entry per group.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MixconvLayer {
    /// Channels of the layer.
    pub channels: usize,
    /// Groups (at least 1): one kernel size each.
    pub groups: usize,
    /// `[groups]` odd kernel sizes.
    pub kernels: *const usize,
    /// `[groups]` dilations, or null: 1 each.
    pub dilations: *const usize,
    /// `MIXCONV_SPLIT_*`.
    pub split: i32,
    /// `[groups]` channels per group with [`MIXCONV_SPLIT_EXPLICIT`]; else ignored.
    pub split_sizes: *const usize,
    /// Stride of every group.
    pub stride: usize,
    /// `MIXCONV_PADDING_*`.
    pub padding: i32,
    /// `[groups][4]` top, bottom, left, right with [`MIXCONV_PADDING_EXPLICIT`]; else ignored.
    pub pads: *const usize,
    /// `MIXCONV_ACTIVATION_*`, applied after the bias.
    pub activation: i32,
    /// Nonzero: clamp outputs to `[clamp_min, clamp_max]` after the activation.
    pub clamp: i32,
    /// Lower clamp bound.
    pub clamp_min: f32,
    /// Upper clamp bound.
    pub clamp_max: f32,
}

/// A layer's weights (`mixconv_weights` in C).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MixconvWeights {
    /// [`MIXCONV_LAYOUT_HWC`] or [`MIXCONV_LAYOUT_PYTORCH`].
    pub layout: i32,
    /// `[groups]` pointers to each group's `K·K·C_g` weights.
    pub groups: *const *const f32,
    /// `[groups]` lengths of those arrays, in floats.
    pub lens: *const usize,
    /// `[bias_len]` one bias per channel, or null: none.
    pub bias: *const f32,
    /// Length of `bias` (the layer's channels).
    pub bias_len: usize,
}

/// The NHWC tensors a plan runs on (`mixconv_shape` in C).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MixconvShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Elements between input pixels; 0: the layer's channels.
    pub input_pixel_stride: usize,
    /// Elements between output pixels; 0: the layer's channels.
    pub output_pixel_stride: usize,
}

/// Which value of an enumerated field `code` is, or an error naming it.
fn pick<T: Copy>(field: &str, code: i32, values: &[T], names: &str) -> Result<T, Failure> {
    usize::try_from(code)
        .ok()
        .and_then(|i| values.get(i).copied())
        .ok_or_else(|| {
            Failure::invalid(format!(
                "{field} {code} is not one of {names} (0 to {})",
                values.len() - 1
            ))
        })
}

impl MixconvLayer {
    /// The layer it describes; mixconv validates it when it is planned.
    ///
    /// # Safety
    /// Each non-null array holds the entries the field's doc gives, readable during the call.
    pub(crate) unsafe fn to_layer(self) -> Result<MixConv, Failure> {
        let g = self.groups;
        // SAFETY: `kernels` holds `groups` readable entries (caller).
        let kernels = unsafe { slice(self.kernels, g, "layer.kernels") }?;
        let mut layer = MixConv::new(self.channels, kernels).stride(self.stride);
        // SAFETY: `dilations` is null or holds `groups` readable entries (caller).
        if let Some(d) = unsafe { optional(self.dilations, g, "layer.dilations") }? {
            layer = layer.dilations(d);
        }
        let split = pick(
            "layer.split",
            self.split,
            &[
                MIXCONV_SPLIT_EQUAL,
                MIXCONV_SPLIT_EXPONENTIAL,
                MIXCONV_SPLIT_EXPLICIT,
            ],
            "MIXCONV_SPLIT_*",
        )?;
        layer = layer.split(match split {
            MIXCONV_SPLIT_EQUAL => Split::Equal,
            MIXCONV_SPLIT_EXPONENTIAL => Split::Exponential,
            _ => Split::Explicit(
                // SAFETY: with an explicit split, `split_sizes` holds `groups` entries (caller).
                unsafe { slice(self.split_sizes, g, "layer.split_sizes") }?.to_vec(),
            ),
        });
        let padding = pick(
            "layer.padding",
            self.padding,
            &[
                MIXCONV_PADDING_SYMMETRIC,
                MIXCONV_PADDING_TF_SAME,
                MIXCONV_PADDING_EXPLICIT,
            ],
            "MIXCONV_PADDING_*",
        )?;
        layer = match padding {
            MIXCONV_PADDING_SYMMETRIC => layer.padding(Padding::Symmetric),
            MIXCONV_PADDING_TF_SAME => layer.padding(Padding::TfSame),
            _ => {
                let n = g
                    .checked_mul(4)
                    .ok_or_else(|| Failure::invalid(format!("{g} groups overflow layer.pads")))?;
                // SAFETY: with explicit pads, `pads` holds 4·groups entries (caller).
                let pads = unsafe { slice(self.pads, n, "layer.pads") }?;
                pads.chunks_exact(4)
                    .enumerate()
                    .fold(layer, |layer, (i, p)| {
                        layer.group_padding(
                            i,
                            Padding::Explicit {
                                top: p[0],
                                bottom: p[1],
                                left: p[2],
                                right: p[3],
                            },
                        )
                    })
            }
        };
        layer = layer.activation(pick(
            "layer.activation",
            self.activation,
            &Activation::ALL,
            "MIXCONV_ACTIVATION_*",
        )?);
        if self.clamp != 0 {
            layer = layer.clamp(self.clamp_min, self.clamp_max);
        }
        Ok(layer)
    }
}

impl MixconvWeights {
    /// The weights it describes for `layer`.
    ///
    /// # Safety
    /// `groups` and `lens` hold one entry per group of `layer`, each group's pointer
    /// `lens[i]` floats, `bias` (if not null) `bias_len`: all readable during the call.
    pub(crate) unsafe fn to_weights(self, layer: &MixConv) -> Result<Weights, Failure> {
        let g = layer.groups();
        // SAFETY: `groups` and `lens` hold one readable entry per group (caller).
        let (pointers, lens) = unsafe {
            (
                slice(self.groups, g, "weights.groups")?,
                slice(self.lens, g, "weights.lens")?,
            )
        };
        let mut tensors = Vec::with_capacity(g);
        for (i, (&p, &n)) in pointers.iter().zip(lens).enumerate() {
            // SAFETY: group i's pointer holds `lens[i]` readable floats (caller).
            tensors.push(unsafe { slice(p, n, &format!("weights.groups[{i}]")) }?.to_vec());
        }
        let layout = pick(
            "weights.layout",
            self.layout,
            &[MIXCONV_LAYOUT_HWC, MIXCONV_LAYOUT_PYTORCH],
            "MIXCONV_LAYOUT_*",
        )?;
        let mut weights = match layout {
            MIXCONV_LAYOUT_HWC => Weights::hwc(tensors),
            _ => Weights::from_pytorch(layer, &tensors)?,
        };
        // SAFETY: `bias` is null or holds `bias_len` readable floats (caller).
        if let Some(bias) = unsafe { optional(self.bias, self.bias_len, "weights.bias") }? {
            weights = weights.with_bias(bias.to_vec());
        }
        Ok(weights)
    }
}

impl MixconvShape {
    /// The shape it describes.
    pub(crate) fn to_shape(self) -> Shape {
        let mut shape = Shape::new(self.batch, self.height, self.width);
        if self.input_pixel_stride != 0 {
            shape = shape.input_pixel_stride(self.input_pixel_stride);
        }
        if self.output_pixel_stride != 0 {
            shape = shape.output_pixel_stride(self.output_pixel_stride);
        }
        shape
    }
}
