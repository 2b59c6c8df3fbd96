//! Plans: made from the C descriptions, queried, run whole or task by task, freed.

use mixconv::{Isa, Plan, Threads};

use crate::layer::{MixconvLayer, MixconvShape, MixconvWeights};
use crate::slices::{overlap, reference, slice, slice_mut};
use crate::status::{Failure, call};

/// The widest instruction set this CPU runs.
pub const MIXCONV_ISA_BEST: i32 = 0;
/// Portable SIMD (any CPU).
pub const MIXCONV_ISA_PORTABLE: i32 = 1;
/// AVX2 + FMA (x86-64-v3).
pub const MIXCONV_ISA_AVX2: i32 = 2;
/// AVX-512F (x86-64-v4).
pub const MIXCONV_ISA_AVX512: i32 = 3;

/// A planned layer (opaque in C): packed weights and the kernels chosen for each group.
/// Read-only once made: any number of threads may run it at once, each on its own output.
#[derive(Debug)]
pub struct MixconvPlan {
    pub(crate) plan: Plan,
}

// Running one plan from several threads at once is sound: it is Send and Sync.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<MixconvPlan>();
};

fn isa_from_code(code: i32) -> Result<Isa, Failure> {
    match code {
        MIXCONV_ISA_BEST => Ok(mixconv::default_isa()?),
        MIXCONV_ISA_PORTABLE => Ok(Isa::Portable),
        MIXCONV_ISA_AVX2 => Ok(Isa::Avx2),
        MIXCONV_ISA_AVX512 => Ok(Isa::Avx512),
        _ => Err(Failure::invalid(format!(
            "isa {code} is not one of MIXCONV_ISA_* (0 to 3)"
        ))),
    }
}

fn isa_code(isa: Isa) -> i32 {
    match isa {
        Isa::Portable => MIXCONV_ISA_PORTABLE,
        Isa::Avx2 => MIXCONV_ISA_AVX2,
        Isa::Avx512 => MIXCONV_ISA_AVX512,
    }
}

/// The plan behind a handle, or `None` for null.
///
/// # Safety
/// `plan` is null or from [`mixconv_plan_new`] and not freed.
unsafe fn get<'a>(plan: *const MixconvPlan) -> Option<&'a Plan> {
    // SAFETY: a live plan from mixconv_plan_new (caller), only read.
    unsafe { plan.as_ref() }.map(|p| &p.plan)
}

/// The plan behind a handle, or a [`Failure`] for null.
///
/// # Safety
/// As [`get`].
unsafe fn require<'a>(plan: *const MixconvPlan) -> Result<&'a Plan, Failure> {
    // SAFETY: null or a live plan (caller).
    unsafe { get(plan) }.ok_or_else(|| Failure::null("plan"))
}

/// Plans `layer` with `weights` for tensors of `shape` on instruction set `isa`
/// (`MIXCONV_ISA_*`) and stores the plan in `*out` (null on failure). The descriptions are
/// copied: they may be freed once this returns.
///
/// # Safety
/// `out` is writable. The structs are readable, and each of their non-null arrays holds
/// the entries its field's doc gives.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_new(
    layer: *const MixconvLayer,
    weights: *const MixconvWeights,
    shape: *const MixconvShape,
    isa: i32,
    out: *mut *mut MixconvPlan,
) -> i32 {
    call(|| {
        // SAFETY: one writable pointer at `out` (caller).
        let out = &mut unsafe { slice_mut(out, 1, "out") }?[0];
        *out = std::ptr::null_mut();
        // SAFETY: a readable layer whose arrays are as its fields document (caller).
        let layer = unsafe { reference(layer, "layer")?.to_layer() }?;
        // SAFETY: readable weights whose arrays are as its fields document (caller).
        let weights = unsafe { reference(weights, "weights")?.to_weights(&layer) }?;
        // SAFETY: a readable shape (caller).
        let shape = unsafe { reference(shape, "shape") }?.to_shape();
        let plan = Plan::new(&layer, &weights, shape, isa_from_code(isa)?)?;
        *out = Box::into_raw(Box::new(MixconvPlan { plan }));
        Ok(())
    })
}

/// Frees a plan (nothing for null).
///
/// # Safety
/// `plan` is null or from [`mixconv_plan_new`], not freed before and not used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_free(plan: *mut MixconvPlan) {
    if !plan.is_null() {
        // SAFETY: made by Box::into_raw in mixconv_plan_new, freed once (caller).
        drop(unsafe { Box::from_raw(plan) });
    }
}

/// Floats of a dense input tensor (`N·H·W·input_pixel_stride`); 0 for a null plan.
///
/// # Safety
/// `plan` is null or a live plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_input_len(plan: *const MixconvPlan) -> usize {
    // SAFETY: null or a live plan (caller).
    unsafe { get(plan) }.map_or(0, Plan::input_len)
}

/// Floats of a dense output tensor (`N·H_out·W_out·output_pixel_stride`); 0 for a null plan.
///
/// # Safety
/// `plan` is null or a live plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_output_len(plan: *const MixconvPlan) -> usize {
    // SAFETY: null or a live plan (caller).
    unsafe { get(plan) }.map_or(0, Plan::output_len)
}

/// Writes the output's batch, height, width and channels to `dims[0..4]`.
///
/// # Safety
/// `plan` is null or a live plan; `dims` is null or holds 4 writable entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_output_dims(
    plan: *const MixconvPlan,
    dims: *mut usize,
) -> i32 {
    call(|| {
        // SAFETY: null or a live plan (caller).
        let plan = unsafe { require(plan) }?;
        // SAFETY: 4 writable entries at `dims` (caller).
        let dims = unsafe { slice_mut(dims, 4, "dims") }?;
        let (n, h, w, c) = plan.output_dims();
        dims.copy_from_slice(&[n, h, w, c]);
        Ok(())
    })
}

/// The plan's instruction set (`MIXCONV_ISA_*`, never BEST); -1 for a null plan.
///
/// # Safety
/// `plan` is null or a live plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_isa(plan: *const MixconvPlan) -> i32 {
    // SAFETY: null or a live plan (caller).
    unsafe { get(plan) }.map_or(-1, |p| isa_code(p.isa()))
}

/// The instruction set `MIXCONV_ISA_BEST` picks on this CPU (`MIXCONV_ISA_*`).
#[unsafe(no_mangle)]
pub extern "C" fn mixconv_best_isa() -> i32 {
    mixconv::default_isa().map_or(MIXCONV_ISA_PORTABLE, isa_code)
}

/// Runs the layer: `input` is NHWC (`input_len` floats, see [`mixconv_plan_input_len`]),
/// `output` receives NHWC; only the layer's channels of each output pixel are written.
/// `threads`: 1 runs on the calling thread; 0 on every core (rayon's global pool). An engine
/// with its own threads runs the tasks instead ([`mixconv_plan_run_task`]). Results are
/// bit-identical whatever the threads.
///
/// # Safety
/// `plan` is null or a live plan; `input` holds `input_len` readable floats and `output`
/// `output_len` writable ones (either may be null when its length is 0), not otherwise
/// accessed during the call. Input and output must not overlap (checked).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_run(
    plan: *const MixconvPlan,
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
    threads: usize,
) -> i32 {
    call(|| {
        // SAFETY: null or a live plan (caller).
        let plan = unsafe { require(plan) }?;
        let threads = match threads {
            0 => Threads::Current,
            1 => Threads::Single,
            n => {
                return Err(Failure::invalid(format!(
                    "threads {n}: give 1 (the calling thread) or 0 (every core); run tasks \
                     on your own threads with mixconv_plan_run_task"
                )));
            }
        };
        // SAFETY: the buffers are as this function's contract gives.
        let (input, output) = unsafe { buffers(input, input_len, output, output_len) }?;
        Ok(plan.run_with(input, output, threads)?)
    })
}

/// The number of tasks the output is cut into, of about equal cost; 0 for a null plan.
/// Running each once, in any order and on any threads, computes the whole output.
///
/// # Safety
/// `plan` is null or a live plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_tasks(plan: *const MixconvPlan) -> usize {
    // SAFETY: null or a live plan (caller).
    unsafe { get(plan) }.map_or(0, |p| p.tasks().len())
}

/// The elements `[*start, *end)` of the whole output tensor that task `task` writes (the
/// tasks' ranges are disjoint and in order).
///
/// # Safety
/// `plan` is null or a live plan; `start` and `end` are null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_task_output_range(
    plan: *const MixconvPlan,
    task: usize,
    start: *mut usize,
    end: *mut usize,
) -> i32 {
    call(|| {
        // SAFETY: null or a live plan (caller).
        let plan = unsafe { require(plan) }?;
        // SAFETY: `start` and `end` are null or writable (caller).
        let (start, end) = unsafe { (slice_mut(start, 1, "start")?, slice_mut(end, 1, "end")?) };
        let range = plan.task_output_range(task)?;
        (start[0], end[0]) = (range.start, range.end);
        Ok(())
    })
}

/// Runs task `task` on the calling thread: `input` is the whole input, `output` exactly the
/// task's part of the output tensor ([`mixconv_plan_task_output_range`]).
///
/// # Safety
/// As [`mixconv_plan_run`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_run_task(
    plan: *const MixconvPlan,
    task: usize,
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
) -> i32 {
    call(|| {
        // SAFETY: null or a live plan (caller).
        let plan = unsafe { require(plan) }?;
        // SAFETY: the buffers are as this function's contract gives.
        let (input, output) = unsafe { buffers(input, input_len, output, output_len) }?;
        Ok(plan.run_task(task, input, output)?)
    })
}

/// The input and output slices of a run, refused if they overlap.
///
/// # Safety
/// As [`mixconv_plan_run`]'s buffers.
unsafe fn buffers<'a>(
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
) -> Result<(&'a [f32], &'a mut [f32]), Failure> {
    if overlap(input, input_len, output.cast_const(), output_len) {
        return Err(Failure::invalid(format!(
            "input ({input:p}, {input_len} floats) and output ({output:p}, {output_len} floats) overlap"
        )));
    }
    // SAFETY: readable and writable as given (caller), disjoint (checked).
    unsafe {
        Ok((
            slice(input, input_len, "input")?,
            slice_mut(output, output_len, "output")?,
        ))
    }
}
