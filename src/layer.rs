//! A MixConv layer: its groups, kernel sizes, dilations, paddings, stride and epilogue.

use crate::error::{Error, Result};
use crate::padding::{Padding, Pads};
use crate::split::Split;
use crate::{Activation, Epilogue};

/// A mixed depthwise convolution layer: C channels split into groups in channel order, each
/// convolved depthwise with its own odd K×K kernel and dilation; outputs concatenated in the
/// same channel order. One group is plain depthwise convolution.
///
/// The builder methods record what they are given; everything is validated when the layer
/// is planned ([`crate::Plan::new`]) or run by the reference, which return an [`Error`].
///
/// ```
/// use mixconv::{Activation, MixConv, Padding, Split};
/// let layer = MixConv::new(144, &[3, 5, 7])
///     .split(Split::Equal)
///     .stride(2)
///     .padding(Padding::TfSame)
///     .activation(Activation::Silu);
/// assert_eq!(layer.group_channels().unwrap(), [48, 48, 48]);
/// assert_eq!(layer.output_size(56, 56).unwrap(), (28, 28));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MixConv {
    channels: usize,
    kernels: Vec<usize>,
    dilations: Vec<usize>,
    paddings: Vec<Padding>,
    split: Split,
    stride: usize,
    epilogue: Epilogue,
    /// A `group_padding` call for a group that does not exist, reported at validation.
    bad_group: Option<usize>,
}

/// One group of a layer resolved for an input size: what planner and reference consume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedGroup {
    /// First channel of the group.
    pub channel_offset: usize,
    /// Channels in the group.
    pub channels: usize,
    /// Kernel size K.
    pub kernel: usize,
    /// Dilation.
    pub dilation: usize,
    /// Padding in rows and columns.
    pub pads: Pads,
}

impl MixConv {
    /// A layer of `channels` channels with one group per kernel size, split equally,
    /// stride 1, dilation 1, symmetric padding, no activation.
    pub fn new(channels: usize, kernels: &[usize]) -> Self {
        MixConv {
            channels,
            kernels: kernels.to_vec(),
            dilations: vec![1; kernels.len()],
            paddings: vec![Padding::Symmetric; kernels.len()],
            split: Split::Equal,
            stride: 1,
            epilogue: Epilogue::default(),
            bad_group: None,
        }
    }

    /// How channels are divided among the groups (default [`Split::Equal`]).
    pub fn split(mut self, split: Split) -> Self {
        self.split = split;
        self
    }

    /// The stride of every group (default 1).
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// One dilation per group (default 1 each).
    pub fn dilations(mut self, dilations: &[usize]) -> Self {
        self.dilations = dilations.to_vec();
        self
    }

    /// The padding of every group (default [`Padding::Symmetric`]).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.paddings = vec![padding; self.kernels.len()];
        self
    }

    /// The padding of one group.
    pub fn group_padding(mut self, group: usize, padding: Padding) -> Self {
        match self.paddings.get_mut(group) {
            Some(p) => *p = padding,
            None => self.bad_group = Some(group),
        }
        self
    }

    /// The activation applied after the bias (default none).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.epilogue.activation = activation;
        self
    }

    /// Clamps every output to `[min, max]` after the activation.
    pub fn clamp(mut self, min: f32, max: f32) -> Self {
        self.epilogue.min = min;
        self.epilogue.max = max;
        self
    }

    /// Total channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.kernels.len()
    }

    /// Kernel size of each group.
    pub fn kernels(&self) -> &[usize] {
        &self.kernels
    }

    /// Dilation of each group.
    pub fn dilation_list(&self) -> &[usize] {
        &self.dilations
    }

    /// The stride.
    pub fn stride_value(&self) -> usize {
        self.stride
    }

    /// The epilogue (activation and clamp).
    pub fn epilogue(&self) -> Epilogue {
        self.epilogue
    }

    /// Channels of each group under the layer's split rule.
    pub fn group_channels(&self) -> Result<Vec<usize>> {
        self.split.sizes(self.channels, self.groups())
    }

    /// Checks everything that does not depend on the input size.
    pub fn validate(&self) -> Result<()> {
        if self.channels == 0 {
            return Err(Error::NoChannels);
        }
        if self.kernels.is_empty() {
            return Err(Error::NoGroups);
        }
        if let Some(group) = self.bad_group {
            return Err(Error::NoSuchGroup {
                group,
                groups: self.groups(),
            });
        }
        if let Some((group, &kernel)) = self.kernels.iter().enumerate().find(|(_, k)| **k % 2 == 0)
        {
            return Err(Error::BadKernel { group, kernel });
        }
        if self.dilations.len() != self.groups() {
            return Err(Error::GroupCount {
                what: "dilations",
                given: self.dilations.len(),
                groups: self.groups(),
            });
        }
        if let Some(group) = self.dilations.iter().position(|&d| d == 0) {
            return Err(Error::ZeroDilation { group });
        }
        if self.stride == 0 {
            return Err(Error::ZeroStride);
        }
        let (min, max) = (self.epilogue.min, self.epilogue.max);
        if min.is_nan() || max.is_nan() || min > max {
            return Err(Error::BadClamp { min, max });
        }
        self.group_channels().map(|_| ())
    }

    /// The groups resolved for an `h`×`w` input, and the output size they all share.
    pub fn resolve(&self, h: usize, w: usize) -> Result<(Vec<ResolvedGroup>, (usize, usize))> {
        self.validate()?;
        if h == 0 {
            return Err(Error::EmptyTensor {
                what: "input height",
            });
        }
        if w == 0 {
            return Err(Error::EmptyTensor {
                what: "input width",
            });
        }
        let sizes = self.group_channels()?;
        let mut groups = Vec::with_capacity(sizes.len());
        let mut out_size = None;
        let mut channel_offset = 0;
        for (group, &channels) in sizes.iter().enumerate() {
            let (kernel, dilation) = (self.kernels[group], self.dilations[group]);
            let pads = self.paddings[group].resolve(kernel, dilation, self.stride, h, w)?;
            let reach = (kernel - 1) * dilation; // no overflow: checked by `resolve`
            let size = pads
                .output_size(h, w, reach, self.stride)?
                .ok_or(Error::NoOutput { group })?;
            // Every window coordinate a kernel computes, `(out − 1)·stride + reach`, must fit isize.
            let fits = |out: usize, pad: usize| {
                (out - 1)
                    .checked_mul(self.stride)
                    .and_then(|v| v.checked_add(reach))
                    .and_then(|v| v.checked_add(pad))
                    .is_some_and(|v| v <= isize::MAX as usize)
            };
            if !fits(size.0, pads.top) || !fits(size.1, pads.left) {
                return Err(Error::WindowTooLarge {
                    group,
                    kernel,
                    dilation,
                });
            }
            match out_size {
                None => out_size = Some(size),
                Some(expected) if expected != size => {
                    return Err(Error::GroupOutputMismatch {
                        group,
                        size,
                        expected,
                    });
                }
                Some(_) => {}
            }
            groups.push(ResolvedGroup {
                channel_offset,
                channels,
                kernel,
                dilation,
                pads,
            });
            channel_offset += channels;
        }
        Ok((groups, out_size.ok_or(Error::NoGroups)?))
    }

    /// Output (height, width) for an `h`×`w` input.
    pub fn output_size(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        self.resolve(h, w).map(|(_, size)| size)
    }
}
