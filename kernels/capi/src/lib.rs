//! The C ABI of mixconv, declared in `include/mixconv.h`: describe a layer, its weights and
//! its tensors in plain structs, plan it once ([`mixconv_plan_new`]), run the plan as often
//! as needed ([`mixconv_plan_run`], or task by task on the caller's threads), free it.
//!
//! Every function checks its pointers (null, alignment, overlap of input and output) and
//! returns a status; the message of the last failure on the calling thread, naming the
//! offending value, is [`mixconv_last_error`]. No panic crosses the ABI. This crate lives
//! under `kernels/` because, like the kernels, it cannot be written without `unsafe`: it
//! turns the caller's pointers into slices (checked in `slices`) and hands out plans as
//! raw handles; every `unsafe` block says why it is sound.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod describe;
mod layer;
mod plan;
mod slices;
mod status;

pub use describe::{mixconv_plan_describe, mixconv_version};
pub use layer::{
    MIXCONV_ACTIVATION_HARDSWISH, MIXCONV_ACTIVATION_NONE, MIXCONV_ACTIVATION_RELU,
    MIXCONV_ACTIVATION_RELU6, MIXCONV_ACTIVATION_SILU, MIXCONV_LAYOUT_HWC, MIXCONV_LAYOUT_PYTORCH,
    MIXCONV_PADDING_EXPLICIT, MIXCONV_PADDING_SYMMETRIC, MIXCONV_PADDING_TF_SAME,
    MIXCONV_SPLIT_EQUAL, MIXCONV_SPLIT_EXPLICIT, MIXCONV_SPLIT_EXPONENTIAL, MixconvLayer,
    MixconvShape, MixconvWeights,
};
pub use plan::{
    MIXCONV_ISA_AVX2, MIXCONV_ISA_AVX512, MIXCONV_ISA_BEST, MIXCONV_ISA_PORTABLE, MixconvPlan,
    mixconv_best_isa, mixconv_plan_free, mixconv_plan_input_len, mixconv_plan_isa,
    mixconv_plan_new, mixconv_plan_output_dims, mixconv_plan_output_len, mixconv_plan_run,
    mixconv_plan_run_task, mixconv_plan_task_output_range, mixconv_plan_tasks,
};
pub use status::{
    MIXCONV_ERROR_INTERNAL, MIXCONV_ERROR_INVALID, MIXCONV_ERROR_ISA, MIXCONV_ERROR_NULL,
    MIXCONV_OK, mixconv_last_error,
};
