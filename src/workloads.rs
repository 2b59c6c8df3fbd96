//! The MixNet-S/M/L depthwise layers at 224×224 (`workloads/mixnet.json`), compiled in as a
//! table: what the `mixconv` command, the benches and the tests measure.
//!
//! ```
//! use mixconv::workloads;
//! let s = workloads::model("s").unwrap();
//! assert_eq!(s[3].name, "mixnet_s.3");
//! let (layer, shape) = s[3].layer();
//! assert_eq!(layer.group_channels().unwrap(), [48, 48, 48]);
//! assert_eq!(layer.output_size(shape.height, shape.width).unwrap(), (28, 28));
//! ```

use crate::{MixConv, Padding, Shape, Split};

/// One depthwise layer of a model, as the workload file describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadLayer {
    /// `mixnet_s.0`, `mixnet_m.12`, …: stable, scripts depend on them.
    pub name: &'static str,
    /// Images per batch.
    pub batch: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Total channels.
    pub channels: usize,
    /// Kernel size of each group.
    pub kernels: &'static [usize],
    /// Channels of each group (explicit sizes).
    pub splits: &'static [usize],
    /// Stride of every group.
    pub stride: usize,
    /// Dilation of every group.
    pub dilation: usize,
    /// Symmetric padding of each group.
    pub pad: &'static [usize],
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Multiply-adds of one run, padding taps counted.
    pub macs: u64,
}

include!(concat!(env!("OUT_DIR"), "/workloads.rs"));

impl WorkloadLayer {
    /// The layer (explicit split, symmetric padding, no activation) and its input shape.
    pub fn layer(&self) -> (MixConv, Shape) {
        let layer = MixConv::new(self.channels, self.kernels)
            .split(Split::Explicit(self.splits.to_vec()))
            .dilations(&vec![self.dilation; self.kernels.len()])
            .stride(self.stride)
            .padding(Padding::Symmetric);
        (layer, Shape::new(self.batch, self.h, self.w))
    }
}

/// A model's layers by name: `s`, `m`, `l` or the full `mixnet_s`, `mixnet_m`, `mixnet_l`.
pub fn model(name: &str) -> Option<&'static [WorkloadLayer]> {
    let full = match name {
        "s" | "m" | "l" => format!("mixnet_{name}"),
        _ => name.to_string(),
    };
    MODELS.iter().find(|(n, _)| *n == full).map(|(_, l)| *l)
}

/// A layer by its name (`mixnet_s.3`).
pub fn layer(name: &str) -> Option<&'static WorkloadLayer> {
    MODELS
        .iter()
        .flat_map(|(_, layers)| layers.iter())
        .find(|l| l.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Isa, Plan, Weights};

    #[test]
    fn every_layer_plans_to_the_files_output_size_and_macs() {
        assert_eq!(MODELS.len(), 3);
        for (_, layers) in MODELS {
            for l in *layers {
                let (layer, shape) = l.layer();
                let weights = Weights::hwc(
                    l.kernels
                        .iter()
                        .zip(l.splits)
                        .map(|(k, c)| vec![0.0; k * k * c])
                        .collect(),
                );
                let plan = Plan::new(&layer, &weights, shape, Isa::Portable).unwrap();
                assert_eq!(plan.output_dims(), (l.batch, l.out_h, l.out_w, l.channels));
                assert_eq!(plan.macs(), l.macs, "{}", l.name);
                for (g, p) in plan.groups().iter().zip(l.pad) {
                    assert_eq!(g.group.pads.top, *p, "{}", l.name);
                }
            }
        }
    }

    #[test]
    fn models_and_layers_are_found_by_name() {
        assert_eq!(model("s").unwrap().len(), 16);
        assert_eq!(model("mixnet_l").unwrap().len(), 19);
        assert!(model("xl").is_none());
        assert_eq!(layer("mixnet_m.1").unwrap().channels, 144);
    }
}
