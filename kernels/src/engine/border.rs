//! Which kernel rows of an output row, and which tiles of a row, see only the input.

/// The kernel rows `ky_lo .. ky_lo + n` of output row `y` whose input row
/// `y·stride − pad_top + ky·dilation` lies in `0 .. in_h`; `iy` is the first one's input row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ValidRows {
    pub ky_lo: usize,
    pub n: usize,
    pub iy: usize,
}

impl ValidRows {
    #[inline(always)]
    pub fn new(
        y: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        pad_top: usize,
        in_h: usize,
    ) -> ValidRows {
        // Input row of tap ky: top + ky·dilation. `Job::new` checked this fits isize.
        let top = (y * stride) as isize - pad_top as isize;
        let d = dilation as isize;
        // First ky with top + ky·d >= 0.
        let ky_lo = if top >= 0 {
            0
        } else {
            ((-top + d - 1) / d) as usize
        };
        // One past the last ky with top + ky·d <= in_h − 1.
        let last = in_h as isize - 1 - top;
        let ky_hi = if last < 0 {
            0
        } else {
            (last / d + 1).min(kernel as isize) as usize
        };
        if ky_lo >= ky_hi {
            return ValidRows {
                ky_lo: 0,
                n: 0,
                iy: 0,
            };
        }
        ValidRows {
            ky_lo,
            n: ky_hi - ky_lo,
            iy: (top + (ky_lo as isize) * d) as usize,
        }
    }
}

/// Whether all `span` input columns of a tile starting at input column `ix0` lie in the input.
#[inline(always)]
pub(crate) fn interior(ix0: isize, span: usize, in_w: usize) -> bool {
    ix0 >= 0 && ix0 as usize + span <= in_w
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::ValidRows;

    #[test]
    fn valid_rows_match_brute_force() {
        for k in [1, 3, 5, 7] {
            for s in 1..4 {
                for d in 1..4 {
                    for pad in 0..12 {
                        for in_h in 1..9 {
                            for y in 0..8 {
                                let v = ValidRows::new(y, k, s, d, pad, in_h);
                                let ok: std::vec::Vec<usize> = (0..k)
                                    .filter(|&ky| {
                                        let iy = (y * s + ky * d) as isize - pad as isize;
                                        iy >= 0 && iy < in_h as isize
                                    })
                                    .collect();
                                assert_eq!(v.n, ok.len(), "k{k} s{s} d{d} pad{pad} h{in_h} y{y}");
                                if let Some(&first) = ok.first() {
                                    assert_eq!(v.ky_lo, first);
                                    assert_eq!(v.iy, y * s + first * d - pad);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
