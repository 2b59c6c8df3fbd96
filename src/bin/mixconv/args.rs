//! The command line: subcommands, their flags, and turning a described layer into a `MixConv`.

use clap::{Args, Parser, Subcommand};
use mixconv::{Activation, Isa, MixConv, Padding, Shape, Split, workloads};

/// Benchmarks, verifies and runs mixconv's mixed depthwise convolution kernels.
///
/// With no subcommand: measures the MixNet layers (MixNet-S unless --model says otherwise) and
/// prints a table of time, GFLOP/s, % of this CPU's FMA peak, speed-up over the reference and
/// max error against it.
#[derive(Parser, Debug)]
#[command(name = "mixconv", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub main: MainArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The same report as the main job for one layer that you describe.
    Bench(BenchArgs),
    /// Every ISA against the reference on the MixNet layers and random layers; prints
    /// `N passed, M failed` and exits non-zero on a failure.
    Verify(VerifyArgs),
    /// Runs one layer on .npy/.npz files (for validating against other frameworks).
    Run(RunArgs),
    /// CPU features, ISAs available, FMA peaks and the plan of a described layer.
    Info(InfoArgs),
}

#[derive(Args, Debug)]
pub struct MainArgs {
    /// Which MixNet's depthwise layers to measure.
    #[arg(long, default_value = "s", value_parser = ["s", "m", "l", "all"])]
    pub model: String,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Flags shared by the reports (main job and `bench`).
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Instruction set: portable, avx2 or avx512 (default: MIXCONV_ISA, else the widest available).
    #[arg(long)]
    pub isa: Option<String>,
    /// Threads (at least 1): 1 runs on the calling thread, more on a rayon pool of that size.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub threads: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Time budget per layer in milliseconds (at least 5 timed runs each).
    #[arg(long, default_value_t = 200)]
    pub budget_ms: u64,
}

/// A layer's groups and options, shared by `bench`, `info` and `run`.
#[derive(Args, Debug, Clone)]
pub struct LayerArgs {
    /// Odd kernel size of each group, e.g. 3,5,7 (`bench` and `info` default to 3,5,7).
    #[arg(long, value_delimiter = ',')]
    pub kernels: Vec<usize>,
    /// Channel split: equal, exp, or explicit sizes a,b,c.
    #[arg(long, default_value = "equal")]
    pub split: String,
    /// Dilation of each group, e.g. 1,1,2 (default 1 each).
    #[arg(long, value_delimiter = ',')]
    pub dilations: Vec<usize>,
    /// Stride of every group.
    #[arg(long, default_value_t = 1)]
    pub stride: usize,
    /// Padding: symmetric (PyTorch) or tf-same (TensorFlow SAME).
    #[arg(long, default_value = "symmetric")]
    pub padding: String,
    /// Activation: none, relu, relu6, silu or hardswish.
    #[arg(long, default_value = "none")]
    pub activation: String,
}

/// A layer described by sizes, or taken from the workload table by name.
#[derive(Args, Debug)]
pub struct DescribedLayer {
    /// A MixNet layer by name (e.g. mixnet_s.3) instead of the flags below.
    #[arg(long)]
    pub layer: Option<String>,
    #[command(flatten)]
    pub groups: LayerArgs,
    /// Channels of the layer.
    #[arg(long, default_value_t = 144)]
    pub channels: usize,
    /// Input height and width.
    #[arg(long, default_value_t = 56)]
    pub size: usize,
    /// Input height (overrides --size).
    #[arg(long)]
    pub height: Option<usize>,
    /// Input width (overrides --size).
    #[arg(long)]
    pub width: Option<usize>,
    /// Images per batch.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub layer: DescribedLayer,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub layer: DescribedLayer,
    /// Instruction set of the plan shown (default: the widest available).
    #[arg(long)]
    pub isa: Option<String>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Verify only this instruction set (default: every available one).
    #[arg(long)]
    pub isa: Option<String>,
    /// Number of random layers.
    #[arg(long, default_value_t = 300)]
    pub random: usize,
    /// Seed of the random layers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip the MixNet layers (random layers only).
    #[arg(long)]
    pub quick: bool,
    /// Activations the random layers draw from (default: all).
    #[arg(long, value_delimiter = ',')]
    pub activations: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Input tensor: .npy, f32, shape (N, H, W, C) or (H, W, C).
    #[arg(long)]
    pub input: std::path::PathBuf,
    /// Weights: .npz with g0, g1, … of shape (K, K, C_g) in group order, optional bias (C,).
    #[arg(long)]
    pub weights: std::path::PathBuf,
    /// Output tensor: .npy, f32, NHWC (3-D if the input was).
    #[arg(long)]
    pub output: std::path::PathBuf,
    #[command(flatten)]
    pub groups: LayerArgs,
    /// Instruction set (default: MIXCONV_ISA, else the widest available).
    #[arg(long)]
    pub isa: Option<String>,
}

/// The ISA asked for, or the default one; an error if unknown or not on this CPU.
pub fn isa(name: &Option<String>) -> Result<Isa, String> {
    match name {
        Some(n) => mixconv::parse_isa(n)
            .and_then(mixconv::require)
            .map_err(|e| e.to_string()),
        None => mixconv::default_isa().map_err(|e| e.to_string()),
    }
}

/// Parses a comma-separated list of numbers.
fn numbers(flag: &str, text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|s| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("{flag}: {s:?} is not a non-negative integer"))
        })
        .collect()
}

impl LayerArgs {
    /// The layer of `channels` channels these flags describe, validated.
    pub fn layer(&self, channels: usize) -> Result<MixConv, String> {
        let kernels = &self.kernels;
        if kernels.is_empty() {
            return Err("--kernels is required (e.g. --kernels 3,5,7)".into());
        }
        let groups = kernels.len();
        if !self.dilations.is_empty() && self.dilations.len() != groups {
            return Err(format!(
                "--dilations gives {} values for {groups} kernels",
                self.dilations.len()
            ));
        }
        let split = match self.split.as_str() {
            "equal" => Split::Equal,
            "exp" | "exponential" => Split::Exponential,
            sizes => {
                let sizes = numbers("--split", sizes).map_err(|_| {
                    format!("--split {sizes:?}: expected equal, exp or sizes like 48,48,48")
                })?;
                if sizes.len() != groups {
                    return Err(format!(
                        "--split gives {} sizes for {groups} kernels",
                        sizes.len()
                    ));
                }
                Split::Explicit(sizes)
            }
        };
        let padding = match self.padding.as_str() {
            "symmetric" => Padding::Symmetric,
            "tf-same" | "same" => Padding::TfSame,
            other => {
                return Err(format!(
                    "--padding {other:?}: expected symmetric or tf-same"
                ));
            }
        };
        let activation = Activation::from_name(&self.activation).ok_or_else(|| {
            format!(
                "--activation {:?}: expected none, relu, relu6, silu or hardswish",
                self.activation
            )
        })?;
        let dilations = if self.dilations.is_empty() {
            vec![1; groups]
        } else {
            self.dilations.clone()
        };
        let layer = MixConv::new(channels, kernels)
            .split(split)
            .dilations(&dilations)
            .stride(self.stride)
            .padding(padding)
            .activation(activation);
        layer.validate().map_err(|e| e.to_string())?;
        Ok(layer)
    }
}

impl DescribedLayer {
    /// (name, layer, shape): the named workload layer, or the one the flags describe.
    pub fn resolve(&self) -> Result<(String, MixConv, Shape), String> {
        if let Some(name) = &self.layer {
            let entry = workloads::layer(name).ok_or_else(|| {
                format!("--layer {name:?}: no such MixNet layer (try mixnet_s.3)")
            })?;
            let (layer, shape) = entry.layer();
            return Ok((entry.name.to_string(), layer, shape));
        }
        let mut groups = self.groups.clone();
        if groups.kernels.is_empty() {
            groups.kernels = vec![3, 5, 7];
        }
        let layer = groups.layer(self.channels)?;
        let shape = Shape::new(
            self.batch,
            self.height.unwrap_or(self.size),
            self.width.unwrap_or(self.size),
        );
        layer
            .output_size(shape.height, shape.width)
            .map_err(|e| e.to_string())?;
        Ok(("custom".to_string(), layer, shape))
    }
}
