//! Running a plan: checking the caller's buffers, then every task's kernels, on one thread,
//! on rayon, or task by task on an engine's own threads.

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::tasks::Task;

use mixconv_kernels::{Region, depthwise};
use std::ops::Range;

/// Below this many multiply-adds per thread, waking another thread costs more than it saves.
#[cfg(feature = "rayon")]
const MIN_PART_MACS: u64 = 1 << 18;

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
    /// thread computes it. On one thread each image runs band by band ([`Plan::band_rows`]),
    /// every group over a band before the next; on more, the plan's [`Plan::tasks`] are
    /// shared out.
    pub fn run_with(
        &self,
        input: &[f32],
        output: &mut [f32],
        threads_arg: Threads<'_>,
    ) -> Result<()> {
        check_len("input", &self.input_lens(), input.len())?;
        check_len("output", &self.output_lens(), output.len())?;
        let (_, out_h, out_w, _) = self.output_dims();
        let pixels = 0..self.batch * out_h * out_w;
        #[cfg(feature = "rayon")]
        {
            let threads = match threads_arg {
                Threads::Current => rayon::current_num_threads(),
                Threads::Pool(pool) => pool.current_num_threads(),
                Threads::Single => 1,
            };
            let total = self.pixel_cost(pixels.end);
            let parts = threads.min((total / MIN_PART_MACS) as usize).max(1);
            if parts > 1 {
                return match threads_arg {
                    Threads::Pool(pool) => {
                        pool.install(|| self.run_parts(pixels, parts, input, output, 0))
                    }
                    _ => self.run_parts(pixels, parts, input, output, 0),
                };
            }
        }
        // Without rayon every call runs on the calling thread.
        #[cfg(not(feature = "rayon"))]
        let _ = threads_arg;
        self.run_pixels(pixels, input, output, 0)
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

    /// Runs output pixels `pixels` (raster order over the batch) as `parts` parts of about
    /// equal cost, halving the range and the output between rayon's two sides.
    /// `output` starts at element `offset` of the whole output tensor.
    #[cfg(feature = "rayon")]
    fn run_parts(
        &self,
        pixels: Range<usize>,
        parts: usize,
        input: &[f32],
        output: &mut [f32],
        offset: usize,
    ) -> Result<()> {
        let (start, end) = (self.pixel_cost(pixels.start), self.pixel_cost(pixels.end));
        let target = start + (end - start) / parts as u64 * (parts / 2) as u64;
        // The first pixel from which the cost before it reaches the target.
        let (mut low, mut high) = (pixels.start, pixels.end);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.pixel_cost(mid) < target {
                low = mid + 1
            } else {
                high = mid
            }
        }
        if parts < 2 || low <= pixels.start || low >= pixels.end {
            return self.run_pixels(pixels, input, output, offset);
        }
        let split = low * self.out_pixel_stride - offset;
        let (out_low, out_high) = output.split_at_mut(split);
        let (a, b) = rayon::join(
            || self.run_parts(pixels.start..low, parts / 2, input, out_low, offset),
            || {
                self.run_parts(
                    low..pixels.end,
                    parts - parts / 2,
                    input,
                    out_high,
                    offset + split,
                )
            },
        );
        a.and(b)
    }

    /// The cost of the output pixels before pixel `pixel` (raster order over the batch),
    /// pixels of a row counted as equal shares of its cost.
    #[cfg(feature = "rayon")]
    fn pixel_cost(&self, pixel: usize) -> u64 {
        let (out_h, out_w) = self.out_size;
        let prefix = &self.row_cost_prefix;
        let (image, rest) = (pixel / (out_h * out_w), pixel % (out_h * out_w));
        let (y, x) = (rest / out_w, rest % out_w);
        let in_row = (prefix[y + 1] - prefix[y]).saturating_mul(x as u64) / out_w as u64;
        (image as u64)
            .saturating_mul(prefix[out_h])
            .saturating_add(prefix[y])
            .saturating_add(in_row)
    }

    /// Runs output pixels `pixels` (raster order over the batch) on the calling thread: per
    /// image, at most a partial first row, bands of whole rows ([`Plan::band_rows`], every
    /// group over a band before the next band) and a partial last row.
    fn run_pixels(
        &self,
        pixels: Range<usize>,
        input: &[f32],
        output: &mut [f32],
        offset: usize,
    ) -> Result<()> {
        let (out_h, out_w) = self.out_size;
        let per_image = out_h * out_w;
        let band_rows = self.band_rows();
        let mut first = pixels.start;
        while first < pixels.end {
            let batch = first / per_image;
            let last = ((batch + 1) * per_image).min(pixels.end) - 1;
            let (y0, x0) = (first % per_image / out_w, first % out_w);
            let (y1, x1) = (last % per_image / out_w, last % out_w);
            let mut run = |rows: Range<usize>, cols: Range<usize>| {
                self.run_region(&Task { batch, rows, cols }, input, output, offset)
            };
            if y0 == y1 {
                run(y0..y0 + 1, x0..x1 + 1)?;
            } else {
                let full_start = if x0 > 0 {
                    run(y0..y0 + 1, x0..out_w)?;
                    y0 + 1
                } else {
                    y0
                };
                let full_end = if x1 + 1 < out_w { y1 } else { y1 + 1 };
                let mut y = full_start;
                while y < full_end {
                    let band_end = (y + band_rows).min(full_end);
                    run(y..band_end, 0..out_w)?;
                    y = band_end;
                }
                if x1 + 1 < out_w {
                    run(y1..y1 + 1, 0..x1 + 1)?;
                }
            }
            first = last + 1;
        }
        Ok(())
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
