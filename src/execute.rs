//! Running a plan: checking the caller's buffers, then every task's kernels, on one thread,
//! on rayon, or task by task on an engine's own threads.

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::tasks::Task;
use mixconv_kernels::{Region, depthwise};
use std::ops::Range;

/// Where [`Plan::run_with`] runs its tasks.
#[derive(Clone, Copy, Debug)]
pub enum Threads<'a> {
    /// On the calling thread only; no thread is created or woken.
    Single,
    /// On the rayon pool the call is made from (rayon's global pool outside any pool).
    #[cfg(feature = "rayon")]
    Current,
    /// On this rayon pool (its thread count is the call's thread count).
    #[cfg(feature = "rayon")]
    Pool(&'a rayon::ThreadPool),
    #[doc(hidden)]
    #[cfg(not(feature = "rayon"))]
    _Lifetime(std::marker::PhantomData<&'a ()>),
}

impl Default for Threads<'_> {
    /// [`Threads::Current`] with the `rayon` feature, [`Threads::Single`] without.
    fn default() -> Self {
        #[cfg(feature = "rayon")]
        return Threads::Current;
        #[cfg(not(feature = "rayon"))]
        return Threads::Single;
    }
}

impl Plan {
    /// Runs the layer: `input` is NHWC (`N·H·W` pixels, input pixel stride apart), `output`
    /// receives NHWC (`N·H_out·W_out` pixels). Only the layer's channels of each output pixel
    /// are written. Uses rayon's current pool when the layer is large enough to gain from it
    /// (see [`Plan::run_with`]). Allocates nothing.
    pub fn run(&self, input: &[f32], output: &mut [f32]) -> Result<()> {
        self.run_with(input, output, Threads::default())
    }

    /// [`Plan::run`] with the threads to use. Results are bit-identical whatever the threads:
    /// every output element sums the same taps in the same order, whichever task, tile or
    /// thread computes it. On one thread each image runs in one call per group; on more, the
    /// plan's [`Plan::tasks`] are shared out.
    pub fn run_with(&self, input: &[f32], output: &mut [f32], threads: Threads<'_>) -> Result<()> {
        check_len("input", &self.input_lens(), input.len())?;
        check_len("output", &self.output_lens(), output.len())?;
        let tasks = 0..self.tasks.len();
        match threads {
            #[cfg(feature = "rayon")]
            Threads::Current if tasks.len() > 1 && rayon::current_num_threads() > 1 => {
                self.run_parallel(tasks, input, output, 0)
            }
            #[cfg(feature = "rayon")]
            Threads::Pool(pool) if tasks.len() > 1 && pool.current_num_threads() > 1 => {
                pool.install(|| self.run_parallel(tasks, input, output, 0))
            }
            // One thread: each image in one call per group, for the widest tiles. Every output
            // element sums the same taps in the same order whatever region computes it, so
            // this gives the tasks' bits.
            _ => (0..self.batch).try_for_each(|batch| {
                let whole = Task {
                    batch,
                    rows: 0..self.out_size.0,
                    cols: 0..self.out_size.1,
                };
                self.run_region(&whole, input, output, 0)
            }),
        }
    }

    /// [`Plan::run`] on raw bytes holding native-endian f32, as engines that keep tensors as
    /// bytes pass them. Misaligned buffers or lengths that are not a multiple of 4 are errors.
    pub fn run_bytes(&self, input: &[u8], output: &mut [u8]) -> Result<()> {
        let input: &[f32] =
            bytemuck::try_cast_slice(input).map_err(|_| Error::Misaligned { what: "input" })?;
        let output: &mut [f32] = bytemuck::try_cast_slice_mut(output)
            .map_err(|_| Error::Misaligned { what: "output" })?;
        self.run(input, output)
    }

    /// The tasks the output is cut into, of about equal cost. Running every task once, in any
    /// order and on any threads ([`Plan::run_task`]), computes the whole output.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The elements of the whole output tensor that task `task` writes (the tasks' ranges
    /// are disjoint and in order): pass that part of the output to [`Plan::run_task`].
    pub fn task_output_range(&self, task: usize) -> Result<Range<usize>> {
        let t = self.tasks.get(task).ok_or(Error::NoSuchTask {
            task,
            tasks: self.tasks.len(),
        })?;
        let (_, out_h, out_w, channels) = self.output_dims();
        let pixel = |y: usize, x: usize| (t.batch * out_h + y) * out_w + x;
        let first = pixel(t.rows.start, t.cols.start) * self.out_pixel_stride;
        let last = pixel(t.rows.end - 1, t.cols.end - 1) * self.out_pixel_stride + channels;
        Ok(first..last)
    }

    /// Runs task `task` on the calling thread, for engines that own their thread pool.
    /// `input` is the whole input; `output` is exactly the part of the whole output tensor
    /// given by [`Plan::task_output_range`].
    ///
    /// ```
    /// use mixconv::{Isa, MixConv, Plan, Shape, Weights};
    /// let layer = MixConv::new(64, &[3, 5]);
    /// let weights = Weights::hwc(vec![vec![0.5; 9 * 32], vec![0.25; 25 * 32]]);
    /// let plan = Plan::new(&layer, &weights, Shape::new(2, 64, 64), Isa::Portable).unwrap();
    /// let input = vec![1.0; plan.input_len()];
    /// let mut output = vec![0.0; plan.output_len()];
    /// for task in 0..plan.tasks().len() {
    ///     let range = plan.task_output_range(task).unwrap();
    ///     plan.run_task(task, &input, &mut output[range]).unwrap();
    /// }
    /// let mut whole = vec![0.0; plan.output_len()];
    /// plan.run(&input, &mut whole).unwrap();
    /// assert_eq!(output, whole);
    /// ```
    pub fn run_task(&self, task: usize, input: &[f32], output: &mut [f32]) -> Result<()> {
        let range = self.task_output_range(task)?;
        check_len("input", &self.input_lens(), input.len())?;
        if output.len() != range.len() {
            let what = format!("task {task} output");
            return check_len(&what, &(range.len()..=range.len()), output.len());
        }
        self.run_region(&self.tasks[task], input, output, range.start)
    }

    /// Runs tasks `tasks` on rayon, halving the range and the output between the halves.
    /// `output` starts at element `offset` of the whole output tensor.
    #[cfg(feature = "rayon")]
    fn run_parallel(
        &self,
        tasks: Range<usize>,
        input: &[f32],
        output: &mut [f32],
        offset: usize,
    ) -> Result<()> {
        if tasks.len() == 1 {
            return self.run_region(&self.tasks[tasks.start], input, output, offset);
        }
        let middle = tasks.start + tasks.len() / 2;
        let split = self.task_output_range(middle)?.start - offset;
        let (out_low, out_high) = output.split_at_mut(split);
        let (low, high) = rayon::join(
            || self.run_parallel(tasks.start..middle, input, out_low, offset),
            || self.run_parallel(middle..tasks.end, input, out_high, offset + split),
        );
        low.and(high)
    }

    /// Every group's kernel over one task's region; `output` starts at element `offset`.
    fn run_region(
        &self,
        task: &Task,
        input: &[f32],
        output: &mut [f32],
        offset: usize,
    ) -> Result<()> {
        let region = Region {
            batch: task.batch,
            rows: task.rows.clone(),
            cols: task.cols.clone(),
        };
        for group in &self.groups {
            depthwise(
                self.isa,
                &group.geometry,
                &region,
                &self.epilogue,
                input,
                &group.weights,
                &group.bias,
                output,
                offset,
            )?;
        }
        Ok(())
    }
}

/// An error naming `what` unless `len` lies in `lens`.
pub(crate) fn check_len(
    what: &str,
    lens: &std::ops::RangeInclusive<usize>,
    len: usize,
) -> Result<()> {
    if lens.contains(&len) {
        return Ok(());
    }
    let expected = if lens.start() == lens.end() {
        lens.start().to_string()
    } else {
        format!("{}..={}", lens.start(), lens.end())
    };
    Err(Error::BufferLength {
        what: what.to_string(),
        expected,
        given: len,
    })
}
