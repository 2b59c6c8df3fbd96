//! Weights as users hold them (HWC per group, or PyTorch's layout), and their packing for the kernels.

use crate::AlignedVec;
use crate::error::{Error, Result};
use crate::layer::{MixConv, ResolvedGroup};

/// A layer's weights: per group `[K][K][C_g]` (TensorFlow's depthwise layout with
/// multiplier 1), and an optional bias `[C]`.
///
/// ```
/// use mixconv::{MixConv, Weights};
/// let layer = MixConv::new(3, &[3]);
/// // PyTorch holds a depthwise kernel as [C][1][K][K].
/// let torch: Vec<f32> = (0..27).map(|i| i as f32).collect();
/// let w = Weights::from_pytorch(&layer, &[torch]).unwrap().with_bias(vec![0.5; 3]);
/// // HWC: tap (0, 1) of channel 2 sits at (0·3 + 1)·3 + 2.
/// assert_eq!(w.group(0)[(0 * 3 + 1) * 3 + 2], 2.0 * 9.0 + 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    groups: Vec<Vec<f32>>,
    bias: Option<Vec<f32>>,
}

impl Weights {
    /// Weights given per group in HWC order `[K][K][C_g]`; no bias.
    pub fn hwc(groups: Vec<Vec<f32>>) -> Self {
        Weights { groups, bias: None }
    }

    /// Converts PyTorch depthwise weights, per group `[C_g][1][K][K]`, to HWC.
    pub fn from_pytorch(layer: &MixConv, groups: &[Vec<f32>]) -> Result<Self> {
        layer.validate()?;
        let sizes = layer.group_channels()?;
        if groups.len() != sizes.len() {
            return Err(Error::GroupCount {
                what: "weight tensors",
                given: groups.len(),
                groups: sizes.len(),
            });
        }
        let mut hwc = Vec::with_capacity(groups.len());
        for (g, (torch, (&c, &k))) in groups
            .iter()
            .zip(sizes.iter().zip(layer.kernels()))
            .enumerate()
        {
            let taps = k.checked_mul(k).ok_or(Error::Overflow {
                what: "kernel taps",
            })?;
            let len = taps.checked_mul(c).ok_or(Error::Overflow {
                what: "weight tensor size",
            })?;
            if torch.len() != len {
                return Err(Error::BufferLength {
                    what: format!("group {g} weights"),
                    expected: len.to_string(),
                    given: torch.len(),
                });
            }
            let mut out = vec![0.0; len];
            for ch in 0..c {
                for tap in 0..taps {
                    out[tap * c + ch] = torch[ch * taps + tap];
                }
            }
            hwc.push(out);
        }
        Ok(Weights {
            groups: hwc,
            bias: None,
        })
    }

    /// Adds a bias of one value per channel.
    pub fn with_bias(mut self, bias: Vec<f32>) -> Self {
        self.bias = Some(bias);
        self
    }

    /// Group `g`'s weights in HWC order.
    pub fn group(&self, g: usize) -> &[f32] {
        &self.groups[g]
    }

    /// Number of weight tensors.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_deref()
    }

    /// Checks that there is one tensor of the right length per group and a bias of `channels`.
    pub(crate) fn check(&self, groups: &[ResolvedGroup], channels: usize) -> Result<()> {
        if self.groups.len() != groups.len() {
            return Err(Error::GroupCount {
                what: "weight tensors",
                given: self.groups.len(),
                groups: groups.len(),
            });
        }
        for (g, (w, group)) in self.groups.iter().zip(groups).enumerate() {
            let len = group
                .kernel
                .checked_mul(group.kernel)
                .and_then(|t| t.checked_mul(group.channels))
                .ok_or(Error::Overflow {
                    what: "weight tensor size",
                })?;
            if w.len() != len {
                return Err(Error::BufferLength {
                    what: format!(
                        "group {g} weights ({0}x{0}x{1})",
                        group.kernel, group.channels
                    ),
                    expected: len.to_string(),
                    given: w.len(),
                });
            }
        }
        match &self.bias {
            Some(b) if b.len() != channels => Err(Error::BufferLength {
                what: "bias".into(),
                expected: channels.to_string(),
                given: b.len(),
            }),
            _ => Ok(()),
        }
    }
}

/// One group's weights and bias packed for `lanes`-wide kernels: weights `[block][ky][kx][lane]`,
/// bias `[block][lane]`, channel `c` in lane `c + lead` of the blocks (`Geometry::lead`),
/// the lanes before the first and past the last channel zero.
pub(crate) fn pack(
    hwc: &[f32],
    bias: Option<&[f32]>,
    kernel: usize,
    channels: usize,
    lanes: usize,
    lead: usize,
) -> (AlignedVec, AlignedVec) {
    let blocks = (lead + channels).div_ceil(lanes);
    let taps = kernel * kernel;
    let mut weights = AlignedVec::zeros(blocks * taps * lanes);
    let mut packed_bias = AlignedVec::zeros(blocks * lanes);
    for c in 0..channels {
        let (block, lane) = ((c + lead) / lanes, (c + lead) % lanes);
        for tap in 0..taps {
            weights[(block * taps + tap) * lanes + lane] = hwc[tap * channels + c];
        }
        if let Some(b) = bias {
            packed_bias[block * lanes + lane] = b[c];
        }
    }
    (weights, packed_bias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_puts_each_channel_in_its_block_and_lane() {
        // 3 channels, K=1, 2 lanes: blocks [c0 c1] [c2 0].
        let (w, b) = pack(&[1.0, 2.0, 3.0], Some(&[4.0, 5.0, 6.0]), 1, 3, 2, 0);
        assert_eq!(w[..], [1.0, 2.0, 3.0, 0.0]);
        assert_eq!(b[..], [4.0, 5.0, 6.0, 0.0]);
        // The same with a lead lane: blocks [0 c0] [c1 c2].
        let (w, b) = pack(&[1.0, 2.0, 3.0], Some(&[4.0, 5.0, 6.0]), 1, 3, 2, 1);
        assert_eq!(w[..], [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(b[..], [0.0, 4.0, 5.0, 6.0]);
        // K=3, 1 channel, 4 lanes: taps in order in lane 0.
        let hwc: Vec<f32> = (0..9).map(|i| i as f32).collect();
        let (w, b) = pack(&hwc, None, 3, 1, 4, 0);
        assert_eq!(w.len(), 36);
        assert!((0..9).all(|t| w[t * 4] == t as f32 && w[t * 4 + 1..t * 4 + 4] == [0.0; 3]));
        assert_eq!(b[..], [0.0; 4]);
    }

    #[test]
    fn pytorch_weights_transpose_to_hwc() {
        let layer = MixConv::new(5, &[1, 3]); // groups of 3 and 2 channels
        let g0 = vec![10.0, 11.0, 12.0];
        let g1: Vec<f32> = (0..18).map(|i| i as f32).collect(); // [2][1][3][3]
        let w = Weights::from_pytorch(&layer, &[g0.clone(), g1]).unwrap();
        assert_eq!(w.group(0), g0);
        for tap in 0..9 {
            assert_eq!(w.group(1)[tap * 2], tap as f32);
            assert_eq!(w.group(1)[tap * 2 + 1], (9 + tap) as f32);
        }
        assert!(matches!(
            Weights::from_pytorch(&layer, &[vec![0.0; 3]]),
            Err(Error::GroupCount {
                given: 1,
                groups: 2,
                ..
            })
        ));
        assert!(matches!(
            Weights::from_pytorch(&layer, &[vec![0.0; 3], vec![0.0; 17]]),
            Err(Error::BufferLength { given: 17, .. })
        ));
    }
}
