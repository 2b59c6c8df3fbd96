//! Helpers shared by the integration tests: deterministic data, tolerance, canaries, and a
//! reference for one kernel `Geometry` (used when the kernels crate is called directly).
#![allow(dead_code)]

use mixconv::{Activation, Epilogue};
use mixconv_kernels::Geometry;

/// A NaN whose exact bits mark output elements that nothing may write.
pub const CANARY_BITS: u32 = 0x7fc0_dead;

/// The canary as an f32.
pub fn canary() -> f32 {
    f32::from_bits(CANARY_BITS)
}

/// A small deterministic generator (xorshift64*), so failures reproduce exactly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[lo, hi)`.
    pub fn f32(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.f32(lo, hi)).collect()
    }
}

/// The largest |f'| of an activation (clamping does not increase it).
pub fn slope(activation: Activation) -> f32 {
    match activation {
        Activation::None | Activation::Relu | Activation::Relu6 => 1.0,
        Activation::Silu => 1.1,
        Activation::HardSwish => 1.5,
    }
}

/// Tolerance of one output element whose `Σ|x·w| + |bias|` is `magnitude`.
pub fn tolerance(magnitude: f32, activation: Activation) -> f32 {
    1e-5 * 4.0 * magnitude * slope(activation) + 1e-6
}

/// Per-channel-range check of `got` against `want` with magnitudes: every element of
/// `layer_elements` must be finite and within tolerance; every other element of `got` must keep
/// the canary's exact bits. Returns a description of the first failure.
pub fn check_output(
    got: &[f32],
    want: &[f32],
    magnitudes: &[f32],
    activation: Activation,
    is_layer_element: impl Fn(usize) -> bool,
) -> Result<(), String> {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if is_layer_element(i) {
            let tol = tolerance(magnitudes[i], activation);
            if !g.is_finite() || (g - w).abs() > tol || (w - g).abs() > tol {
                return Err(format!(
                    "element {i}: got {g} ({:#x}), want {w}, |diff| {} > tol {tol} (magnitude {})",
                    g.to_bits(),
                    (g - w).abs(),
                    magnitudes[i]
                ));
            }
        } else if g.to_bits() != CANARY_BITS {
            return Err(format!(
                "element {i} is outside the layer but was overwritten with {g} ({:#x})",
                g.to_bits()
            ));
        }
    }
    Ok(())
}

/// Packs HWC weights `[K][K][C]` and a bias `[C]` as the kernels expect: `[block][ky][kx][lane]`
/// and `[block][lane]`, channel `c` in lane `c + lead` of the blocks (`Geometry::lead`), the
/// other lanes zero.
pub fn pack(
    hwc: &[f32],
    bias: &[f32],
    kernel: usize,
    channels: usize,
    lanes: usize,
    lead: usize,
) -> (Vec<f32>, Vec<f32>) {
    let blocks = (channels + lead).div_ceil(lanes);
    let taps = kernel * kernel;
    let mut w = vec![0.0; blocks * taps * lanes];
    let mut b = vec![0.0; blocks * lanes];
    for c in 0..channels {
        let (block, lane) = ((c + lead) / lanes, (c + lead) % lanes);
        for t in 0..taps {
            w[(block * taps + t) * lanes + lane] = hwc[t * channels + c];
        }
        b[block * lanes + lane] = bias[c];
    }
    (w, b)
}

/// The epilogue of one value, as documented for the kernels.
pub fn apply_epilogue(e: &Epilogue, x: f32) -> f32 {
    mixconv::reference::epilogue(e, x)
}

/// Direct reference of one `Geometry` (from its documentation), written independently of
/// `mixconv::reference`: `(output index, value, magnitude)` for every element of `rows × cols`
/// of image `batch`. `hwc` is `[K][K][C]`, `bias` `[C]`.
#[allow(clippy::too_many_arguments)]
pub fn geometry_reference(
    g: &Geometry,
    batch: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    epilogue: &Epilogue,
    input: &[f32],
    hwc: &[f32],
    bias: &[f32],
) -> Vec<(usize, f32, f32)> {
    let mut out = Vec::new();
    for y in rows {
        for x in cols.clone() {
            for c in 0..g.channels {
                let mut sum = bias[c] as f64;
                let mut mag = sum.abs();
                for ky in 0..g.kernel {
                    for kx in 0..g.kernel {
                        let iy = (y * g.stride + ky * g.dilation) as i64 - g.pad_top as i64;
                        let ix = (x * g.stride + kx * g.dilation) as i64 - g.pad_left as i64;
                        if iy < 0 || ix < 0 || iy >= g.in_h as i64 || ix >= g.in_w as i64 {
                            continue;
                        }
                        let pixel = (batch * g.in_h + iy as usize) * g.in_w + ix as usize;
                        let v = input[pixel * g.in_pixel_stride + g.in_channel_offset + c] as f64;
                        let w = hwc[(ky * g.kernel + kx) * g.channels + c] as f64;
                        sum += v * w;
                        mag += (v * w).abs();
                    }
                }
                let pixel = (batch * g.out_h + y) * g.out_w + x;
                let index = pixel * g.out_pixel_stride + g.out_channel_offset + c;
                out.push((index, apply_epilogue(epilogue, sum as f32), mag as f32));
            }
        }
    }
    out
}
