//! Row bands: how many output rows every group of a plan runs in turn before the next rows.
//!
//! A group reads only its own channels of each input pixel, but (we think) the hardware
//! prefetchers fetch the lines beside them, which hold the other groups' channels. When each
//! group ran over the whole image in turn, those lines were evicted before their group came,
//! so that a large input came from memory about once per group. In bands whose input rows
//! stay in L2, the next group finds them there.
//!
//! Measured on an Intel Xeon host (family 6 model 207, 2 MiB L2, AVX-512, 2026-12-07;
//! `mixconv --model all`, rounds alternating, minimum of the rounds):
//! - one binary, fixed bands of 4 output rows against whole images (2 rounds): MixNet-M
//!   layer 1 (112×112×144, stride 2, three groups) 1.32×, L.1 (112×112×192) 1.26×, M.3
//!   1.21×, L.3 1.20×, S.3 1.09×; bands of 1, 2 and 8 rows about as fast, 16 rows 1.12–1.19×.
//!   On AVX2, in one noisy pair of rounds, bands of 4 ran 14×14 and 7×7 layers (whose inputs
//!   fit L2 anyway, and whose staged rings refill their first rows each band) down to 0.7×:
//!   so bands hold as many rows as [`BAND_INPUT_BYTES`] allows, and small inputs run whole.
//! - these bands against whole images (two builds, 3 rounds, twice): AVX-512 M.1
//!   1.29–1.31×, L.1 1.22–1.24×, M.3 1.19–1.20×, L.3 1.17–1.19×, S.3 1.09–1.11×; AVX2 M.1
//!   1.25–1.26×, L.1 1.29×, M.3 and L.3 1.12–1.13×, S.3 1.05–1.07×. MixNet sums of the
//!   layers' minima, AVX-512: S 1.24–1.27 → 1.24–1.25 ms, M 2.05 → 1.85–1.86, L 3.09–3.14
//!   → 2.83–2.84; AVX2: S 1.61–1.68 → 1.60–1.62, M 2.70–2.79 → 2.50–2.52, L 3.91–3.92 →
//!   3.55–3.57. Layers whose plans did not change ran 0.94–1.04× in the first run, and in
//!   the second AVX2 single-group layers up to 1.32×: noise or code layout, as their code
//!   did not change.
//!
//! On Zen 4 (AVX2 and AVX-512) bands of 8 or 16 rows ran MixNet-L layer 1 0.98–1.09×, no
//! gain beyond noise there. These bands on Zen 4 (1 MiB L2, 2026-12-07; `mixconv bench
//! --layer L`, whole images, these bands and bands of 256 KiB alternating, 10 rounds,
//! minima): S.3, M.1, M.3, L.1, L.3 0.98–1.06× over whole images on both ISAs, 256 KiB the
//! same (0.97–1.03×): neutral there, kept for the Intel gain.
//!
//! Single-group plans run whole images: nothing is shared between their calls.

/// Input bytes that a band's new rows (`stride` input rows an output row) may take: a
/// quarter of a 2 MiB L2, half of a 1 MiB one.
pub(crate) const BAND_INPUT_BYTES: usize = 512 * 1024;

/// Output rows of a band, at least 1 and at most `out_h`: all of them for a single group or
/// an image of at most twice [`BAND_INPUT_BYTES`], else as many as [`BAND_INPUT_BYTES`] of
/// input rows hold (each output row `stride` input rows of `in_w` pixels `in_pixel_stride`
/// floats apart).
pub(crate) fn band_rows(
    groups: usize,
    stride: usize,
    (in_h, in_w): (usize, usize),
    in_pixel_stride: usize,
    out_h: usize,
) -> usize {
    let bytes = |rows: usize| {
        rows.saturating_mul(in_w)
            .saturating_mul(in_pixel_stride)
            .saturating_mul(size_of::<f32>())
    };
    if groups < 2 || bytes(in_h) <= 2 * BAND_INPUT_BYTES {
        return out_h.max(1);
    }
    (BAND_INPUT_BYTES / bytes(stride).max(1)).clamp(1, out_h.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_hold_the_rows_that_fit_and_small_or_single_group_layers_run_whole() {
        // MixNet-L layer 1: 112 pixels of 192 channels, stride 2: 172 KiB an output row.
        assert_eq!(band_rows(3, 2, (112, 112), 192, 56), 3);
        // MixNet-S layer 3, 56×56×144 stride 2: 63 KiB an output row.
        assert_eq!(band_rows(3, 2, (56, 56), 144, 28), 8);
        // 14×14×480 and 28×28×240 (0.72 MiB) run whole.
        assert_eq!(band_rows(4, 1, (14, 14), 480, 14), 14);
        assert_eq!(band_rows(2, 1, (28, 28), 240, 28), 28);
        // One group, however large: the whole image.
        assert_eq!(band_rows(1, 2, (112, 112), 192, 56), 56);
        // Rows wider than a band's bytes still get one row; overflowing sizes saturate.
        assert_eq!(band_rows(2, 1, (8, 1 << 20), 64, 8), 1);
        assert_eq!(band_rows(2, usize::MAX, (9, usize::MAX), 3, 5), 1);
    }
}
