//! How a plan's output is cut into tasks of balanced cost, for threads or an engine's own pool.

use crate::plan::PlannedGroup;
use std::ops::Range;

/// A piece of a plan's output: image `batch`, output `rows` × `cols`, covering either whole
/// rows or part of a single row, so that the output elements it writes form one contiguous
/// range ([`crate::Plan::task_output_range`]). Every group's channels are computed in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Task {
    /// The image in the batch.
    pub batch: usize,
    /// Output rows.
    pub rows: Range<usize>,
    /// Output columns.
    pub cols: Range<usize>,
}

/// Below this many multiply-adds a task costs more to hand to another thread than it saves
/// (about 1 µs of kernel time here; rayon's hand-off costs a fraction of that).
const MIN_TASK_MACS: u64 = 1 << 17;

/// Row bands of fewer rows than this balance badly (7 rows in 5 bands); rows are then cut
/// into column bands instead.
const MIN_BAND_ROWS: usize = 4;

/// The narrowest column band worth a task: half of the kernels' widest tile.
const MIN_BAND_COLS: usize = 7;

/// Enough tasks to balance any thread count a 2–64-core machine offers.
const MAX_TASKS: u64 = 256;

/// The cost of each output row of one image in multiply-adds, counting only the kernel rows
/// that fall inside the input (border rows cost less).
pub(crate) fn row_costs(
    out: (usize, usize),
    in_h: usize,
    stride: usize,
    groups: &[PlannedGroup],
) -> Vec<u64> {
    let (out_h, out_w) = out;
    let row_cost = |y: usize| -> u64 {
        groups
            .iter()
            .map(|g| {
                let r = &g.group;
                let valid = (0..r.kernel)
                    .filter(|ky| {
                        let iy = (y * stride + ky * r.dilation) as isize - r.pads.top as isize;
                        (0..in_h as isize).contains(&iy)
                    })
                    .count();
                (valid.max(1) * r.kernel * r.channels) as u64 * out_w as u64
            })
            .fold(0u64, |a, c| a.saturating_add(c))
    };
    (0..out_h).map(row_cost).collect()
}

/// Cuts `batch` images of `out` pixels, whose rows cost `costs`, into tasks of about equal cost.
pub(crate) fn split(batch: usize, out: (usize, usize), costs: &[u64]) -> Vec<Task> {
    let (out_h, out_w) = out;
    let image_cost = costs.iter().fold(0u64, |a, &c| a.saturating_add(c));
    let wanted =
        (image_cost.saturating_mul(batch as u64) / MIN_TASK_MACS).clamp(1, MAX_TASKS) as usize;
    let per_image = wanted.div_ceil(batch);
    let mut tasks = Vec::new();
    for b in 0..batch {
        if per_image * MIN_BAND_ROWS <= out_h {
            // Row bands cut at equal shares of the image's cost.
            let (mut start, mut acc, mut cut) = (0, 0u64, 1u64);
            for (y, cost) in costs.iter().enumerate() {
                acc = acc.saturating_add(*cost);
                if acc.saturating_mul(per_image as u64) >= cut.saturating_mul(image_cost)
                    || y + 1 == out_h
                {
                    tasks.push(Task {
                        batch: b,
                        rows: start..y + 1,
                        cols: 0..out_w,
                    });
                    start = y + 1;
                    cut = acc.saturating_mul(per_image as u64) / image_cost + 1;
                }
            }
        } else {
            // More tasks than rows: each row cut into equal column bands, none narrower than
            // half a microkernel tile (narrower tiles lose the register blocking).
            let bands = per_image.div_ceil(out_h).min(out_w / MIN_BAND_COLS).max(1);
            let width = out_w.div_ceil(bands);
            for y in 0..out_h {
                for x in (0..out_w).step_by(width) {
                    tasks.push(Task {
                        batch: b,
                        rows: y..y + 1,
                        cols: x..(x + width).min(out_w),
                    });
                }
            }
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use crate::{Isa, MixConv, Plan, Shape, Weights};

    fn plan(channels: usize, kernels: &[usize], shape: Shape, stride: usize) -> Plan {
        let layer = MixConv::new(channels, kernels).stride(stride);
        let sizes = layer.group_channels().unwrap();
        let weights = Weights::hwc(
            kernels
                .iter()
                .zip(&sizes)
                .map(|(k, c)| vec![1.0; k * k * c])
                .collect(),
        );
        Plan::new(&layer, &weights, shape, Isa::Portable).unwrap()
    }

    /// Every output pixel lies in exactly one task, and task ranges are disjoint and in order.
    fn assert_partition(plan: &Plan) {
        let (n, h, w, _) = plan.output_dims();
        let mut seen = vec![0u8; n * h * w];
        for t in plan.tasks() {
            assert!(
                t.rows.len() == 1 || t.cols == (0..w),
                "{t:?} is not contiguous"
            );
            for y in t.rows.clone() {
                for x in t.cols.clone() {
                    seen[(t.batch * h + y) * w + x] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
        let ranges: Vec<_> = (0..plan.tasks().len())
            .map(|i| plan.task_output_range(i).unwrap())
            .collect();
        assert!(ranges.windows(2).all(|r| r[0].end <= r[1].start));
    }

    #[test]
    fn small_layers_are_one_task() {
        let p = plan(16, &[3], Shape::new(1, 8, 8), 1);
        assert_eq!(p.tasks().len(), 1);
        assert_partition(&p);
    }

    #[test]
    fn large_layers_are_cut_into_bands_of_equal_cost() {
        let p = plan(192, &[3, 5, 7, 9], Shape::new(1, 56, 56), 1);
        assert!(p.tasks().len() >= 8, "{} tasks", p.tasks().len());
        assert_partition(&p);
        let rows: Vec<usize> = p.tasks().iter().map(|t| t.rows.len()).collect();
        let (min, max) = (rows.iter().min().unwrap(), rows.iter().max().unwrap());
        assert!(max - min <= 2, "row bands {rows:?}");
    }

    #[test]
    fn small_maps_with_many_channels_are_cut_within_rows() {
        let p = plan(1536, &[3, 5, 7, 9], Shape::new(1, 14, 14), 1);
        assert!(p.tasks().len() > 14, "{} tasks", p.tasks().len());
        assert!(
            p.tasks()
                .iter()
                .all(|t| t.rows.len() == 1 && t.cols.len() >= 7)
        );
        assert_partition(&p);
        // Columns are not cut narrower than 7: one task per row.
        let p = plan(1536, &[3, 5, 7, 9], Shape::new(1, 7, 7), 1);
        assert_eq!(p.tasks().len(), 7);
        assert_partition(&p);
    }

    #[test]
    fn tasks_never_straddle_images() {
        let p = plan(96, &[3, 5], Shape::new(3, 30, 30), 2);
        assert_partition(&p);
        assert!(p.tasks().iter().all(|t| t.rows.end <= p.output_dims().1));
    }
}
