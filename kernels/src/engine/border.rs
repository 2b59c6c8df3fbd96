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
