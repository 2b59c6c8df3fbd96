//! TEMPORARY scalar engine so the crate runs while the SIMD engines are written.

use crate::Activation;
use crate::job::Job;

/// # Safety
/// `job` was checked by `Job::new` and its ISA is available.
pub(crate) unsafe fn run(job: &Job) {
    let g = job.geom;
    let r = job.region;
    for y in r.rows.clone() {
        for x in r.cols.clone() {
            for c in 0..g.channels {
                let lanes = job.lanes;
                let (blk, lane) = (c / lanes, c % lanes);
                let mut acc = unsafe { *job.bias.add(blk * lanes + lane) };
                for ky in 0..g.kernel {
                    let iy = (y * g.stride + ky * g.dilation) as isize - g.pad_top as isize;
                    if iy < 0 || iy >= g.in_h as isize {
                        continue;
                    }
                    for kx in 0..g.kernel {
                        let ix = (x * g.stride + kx * g.dilation) as isize - g.pad_left as isize;
                        if ix < 0 || ix >= g.in_w as isize {
                            continue;
                        }
                        let xv = unsafe { *job.input_pixel(iy as usize, ix as usize).add(c) };
                        let wv = unsafe {
                            *job.weights
                                .add(((blk * g.kernel + ky) * g.kernel + kx) * lanes + lane)
                        };
                        acc += xv * wv;
                    }
                }
                let e = job.epilogue;
                let v = match e.activation {
                    Activation::None => acc,
                    Activation::Relu => acc.max(0.0),
                    Activation::Relu6 => acc.clamp(0.0, 6.0),
                    _ => acc,
                };
                unsafe { *job.output_pixel(y, x).add(c) = v.max(e.min).min(e.max) };
            }
        }
    }
}

/// TEMPORARY: the name of the kernel that runs (K, stride, dilation).
pub fn microkernel(
    _isa: crate::Isa,
    _kernel: usize,
    _stride: usize,
    _dilation: usize,
) -> &'static str {
    "stub_scalar"
}
