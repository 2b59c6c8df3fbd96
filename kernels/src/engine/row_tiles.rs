//! How the direct path cuts a row of outputs into tiles: the widths, among the full tile
//! (`WB`) and the narrower 7, 4, 2 and 1, whose estimated time adds up least (at stride 2
//! and more the driver then adjusts the tiles at the borders).
//!
//! A tile of `w` outputs is `w` chains of dependent FMAs. With two FMA pipes and four
//! cycles of latency (Zen 4 and 5, and Intel since Skylake) it issues two FMAs a cycle only
//! with 8 chains or more, so it takes about `max(w, 8)` units of time: 4 outputs cost as
//! much as 8, and a 14-wide row runs faster as 7 + 7 than as 8 + 4 + 2 (AVX2 7×7),
//! 10 + 4 (AVX2 5×5) or 12 + 2 (12-wide tiles). The greedy cut (widest tile first) is kept
//! wherever it is as good.
//!
//! Measured on Zen 5 against the greedy cut (speed example, AVX2, 3 rounds alternating,
//! both orders): 14×14 mixes of 4 × 156 and 5 × 396 channels 1.07–1.13× faster, 28×28 of
//! 4 × 90 1.01–1.08×, 7×7 mixes 1.00–1.03×; AVX-512's cuts (14-wide tiles) are the same.
//! At stride 2 on Zen 4 (speed example, 3 rounds alternating): AVX2 28×28 inputs (14 outputs a
//! row: 7 + 7 rather than 8 + 4 + 2) 7×7 and 9×9 1.17–1.22×, mixes 1.12–1.15×, other sizes
//! 0.96–1.03×; AVX-512 0.99–1.04×.

/// Chains of dependent FMAs that keep both FMA pipes busy (2 pipes × 4 cycles).
const CHAINS: usize = 8;

/// Rows this wide and wider start with a full tile; the table covers the narrower ones.
const TABLE: usize = 48;

/// The cut of rows for full tiles `WB` wide: the first tile of every remainder narrower than
/// [`TABLE`], worked out at compile time.
pub(crate) struct RowTiles<const WB: usize>;

impl<const WB: usize> RowTiles<WB> {
    /// Width of the first tile of a remainder of `n` outputs.
    const FIRST: [u8; TABLE] = Self::first_tiles();

    /// Estimated time of a tile `w` wide, in units of one output's FMAs at full rate: its
    /// chains, plus one unit of per-tile overhead (stores, setup), so that ties go to
    /// fewer tiles.
    const fn cost(w: usize) -> usize {
        if w > CHAINS { w + 1 } else { CHAINS + 1 }
    }

    /// The cheapest cuts of every remainder up to [`TABLE`] outputs.
    const fn first_tiles() -> [u8; TABLE] {
        let widths = [WB, 7, 4, 2, 1];
        let mut best = [0usize; TABLE];
        let mut first = [0u8; TABLE];
        let mut n = 1;
        while n < TABLE {
            let (mut c, mut f) = (usize::MAX, 0);
            let mut i = 0;
            while i < widths.len() {
                let w = widths[i];
                if w <= WB && w <= n && Self::cost(w) + best[n - w] < c {
                    (c, f) = (Self::cost(w) + best[n - w], w);
                }
                i += 1;
            }
            // Some width fits: 1 always does.
            assert!(f >= 1 && f <= n && f <= WB);
            best[n] = c;
            first[n] = f as u8;
            n += 1;
        }
        first
    }

    /// The width (`WB`, 7, 4, 2 or 1, at most `rem`) of the first tile of the `rem` (≥ 1)
    /// outputs left of a row.
    #[inline(always)]
    pub fn next(rem: usize) -> usize {
        if rem >= TABLE {
            WB
        } else {
            Self::FIRST[rem] as usize
        }
    }
}

// The cuts the module's comment promises, checked at compile time (the crate has no unit
// tests): 14 wide as 7 + 7, 28 as 7 · 4 for 10-wide tiles, greedy for 14-wide tiles and
// for 12-wide ones at 28 (12 + 12 + 4).
const _: () = {
    assert!(RowTiles::<8>::FIRST[14] == 7 && RowTiles::<8>::FIRST[7] == 7);
    assert!(RowTiles::<10>::FIRST[14] == 7 && RowTiles::<10>::FIRST[28] == 7);
    assert!(RowTiles::<12>::FIRST[14] == 7);
    assert!(RowTiles::<12>::FIRST[28] == 12 && RowTiles::<12>::FIRST[16] == 12);
    assert!(RowTiles::<14>::FIRST[28] == 14 && RowTiles::<14>::FIRST[14] == 14);
    assert!(RowTiles::<14>::FIRST[7] == 7);
};
