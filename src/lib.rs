//! # mixconv
//!
//! Hand-optimized SIMD CPU kernels for mixed depthwise convolution (MixConv, Tan & Le 2019) on
//! NHWC f32 tensors: channels split into groups, each convolved depthwise with its own kernel
//! size (3×3 … 13×13, optionally dilated), outputs concatenated in channel order.
//!
//! Describe a layer ([`MixConv`]), give its [`Weights`], plan it for an input [`Shape`] and an
//! instruction set ([`Isa`]; [`default_isa`] picks the widest the CPU has), then [`Plan::run`]
//! it as often as needed. [`reference`](mod@reference) holds the plain-loop implementation everything is
//! tested against.
//!
//! ```
//! use mixconv::{MixConv, Plan, Shape, Weights, default_isa, reference};
//! let layer = MixConv::new(6, &[3, 5, 7]).stride(2);
//! let weights = Weights::hwc(vec![vec![0.1; 9 * 2], vec![0.2; 25 * 2], vec![0.3; 49 * 2]]);
//! let shape = Shape::new(1, 16, 16);
//! let plan = Plan::new(&layer, &weights, shape, default_isa().unwrap()).unwrap();
//! let input: Vec<f32> = (0..plan.input_len()).map(|i| (i % 7) as f32).collect();
//! let mut output = vec![0.0; plan.output_len()];
//! plan.run(&input, &mut output).unwrap();
//!
//! let mut expected = vec![0.0; plan.output_len()];
//! reference::mixconv(&layer, &weights, shape, &input, &mut expected).unwrap();
//! assert!(output.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-4));
//! ```

mod aligned;
mod bands;
pub mod bench;
mod error;
mod execute;
mod isa;
mod layer;
mod padding;
mod plan;
pub mod reference;
mod shape;
mod split;
mod tasks;
mod weights;
pub mod workloads;

pub use aligned::AlignedVec;
pub use error::{Error, Result};
pub use execute::Threads;
pub use isa::{ISA_ENV, Isa, available_isas, cpu_features, default_isa, parse_isa, require};
pub use layer::{MixConv, ResolvedGroup};
pub use mixconv_kernels::{Activation, Epilogue};
pub use padding::{Padding, Pads};
pub use plan::{Plan, PlannedGroup};
pub use shape::Shape;
pub use split::Split;
pub use tasks::Task;
pub use weights::Weights;

/// The README's usage example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
