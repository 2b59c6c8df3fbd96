//! Padding conventions, resolved to rows and columns per side for one group.

use crate::error::{Error, Result};

/// How a group pads its input.
///
/// ```
/// use mixconv::Padding;
/// // TensorFlow SAME at stride 2 on 112×112: K=3 pads (0, 1), K=11 pads (4, 5).
/// let p = Padding::TfSame.resolve(3, 1, 2, 112, 112).unwrap();
/// assert_eq!((p.top, p.bottom), (0, 1));
/// let p = Padding::TfSame.resolve(11, 1, 2, 112, 112).unwrap();
/// assert_eq!((p.top, p.bottom), (4, 5));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Padding {
    /// `dilation·(K−1)/2` on every side (the PyTorch convention).
    #[default]
    Symmetric,
    /// TensorFlow SAME: `max((ceil(H/s)−1)·s + d·(K−1) + 1 − H, 0)` in total per axis,
    /// half (rounded down) before and the rest after.
    TfSame,
    /// Explicit rows and columns per side.
    Explicit {
        /// Rows above.
        top: usize,
        /// Rows below.
        bottom: usize,
        /// Columns left.
        left: usize,
        /// Columns right.
        right: usize,
    },
}

/// Padding resolved for one input size: rows and columns added on each side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pads {
    /// Rows above.
    pub top: usize,
    /// Rows below.
    pub bottom: usize,
    /// Columns left.
    pub left: usize,
    /// Columns right.
    pub right: usize,
}

impl Padding {
    /// The pads of a `kernel`×`kernel` window with `dilation` at `stride` on an `h`×`w` input.
    pub fn resolve(
        self,
        kernel: usize,
        dilation: usize,
        stride: usize,
        h: usize,
        w: usize,
    ) -> Result<Pads> {
        let reach = (kernel.max(1) - 1)
            .checked_mul(dilation)
            .ok_or(Error::Overflow {
                what: "dilated kernel size",
            })?;
        Ok(match self {
            Padding::Symmetric => {
                let p = reach / 2;
                Pads {
                    top: p,
                    bottom: p,
                    left: p,
                    right: p,
                }
            }
            Padding::TfSame => {
                let (top, bottom) = tf_same(h, stride, reach)?;
                let (left, right) = tf_same(w, stride, reach)?;
                Pads {
                    top,
                    bottom,
                    left,
                    right,
                }
            }
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => Pads {
                top,
                bottom,
                left,
                right,
            },
        })
    }
}

/// TF SAME pads (before, after) of one axis of `size` with a window reaching `reach` past its first tap.
fn tf_same(size: usize, stride: usize, reach: usize) -> Result<(usize, usize)> {
    let overflow = Error::Overflow {
        what: "TF SAME padding",
    };
    let out = size.div_ceil(stride.max(1));
    let needed = (out.max(1) - 1)
        .checked_mul(stride)
        .and_then(|v| v.checked_add(reach + 1))
        .ok_or(overflow)?;
    let total = needed.saturating_sub(size);
    Ok((total / 2, total - total / 2))
}

impl Pads {
    /// Output (height, width) of a window reaching `reach` past its first tap at `stride`,
    /// or `None` when the padded input is smaller than the window; `Err` on overflow.
    pub(crate) fn output_size(
        &self,
        h: usize,
        w: usize,
        reach: usize,
        stride: usize,
    ) -> Result<Option<(usize, usize)>> {
        let axis = |size: usize, before: usize, after: usize| -> Result<Option<usize>> {
            let padded = size
                .checked_add(before)
                .and_then(|v| v.checked_add(after))
                .ok_or(Error::Overflow {
                    what: "padded input size",
                })?;
            Ok(padded.checked_sub(reach + 1).map(|span| span / stride + 1))
        };
        Ok(
            match (
                axis(h, self.top, self.bottom)?,
                axis(w, self.left, self.right)?,
            ) {
                (Some(oh), Some(ow)) => Some((oh, ow)),
                _ => None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_pads_half_the_dilated_reach() {
        let p = Padding::Symmetric.resolve(7, 1, 1, 10, 10).unwrap();
        assert_eq!(
            p,
            Pads {
                top: 3,
                bottom: 3,
                left: 3,
                right: 3
            }
        );
        let p = Padding::Symmetric.resolve(3, 3, 2, 10, 10).unwrap();
        assert_eq!(
            p,
            Pads {
                top: 3,
                bottom: 3,
                left: 3,
                right: 3
            }
        );
    }

    #[test]
    fn tf_same_matches_tensorflow_at_stride_two_on_even_sizes() {
        for (k, before, after) in [(3, 0, 1), (5, 1, 2), (7, 2, 3), (9, 3, 4), (11, 4, 5)] {
            let p = Padding::TfSame.resolve(k, 1, 2, 112, 112).unwrap();
            assert_eq!(
                (p.top, p.bottom, p.left, p.right),
                (before, after, before, after),
                "K={k}"
            );
        }
    }

    #[test]
    fn tf_same_at_stride_one_keeps_the_size() {
        let p = Padding::TfSame.resolve(5, 2, 1, 9, 9).unwrap();
        assert_eq!((p.top, p.bottom), (4, 4));
        assert_eq!(p.output_size(9, 9, 8, 1).unwrap(), Some((9, 9)));
        // Odd size, stride 2: ceil(7/2) = 4 outputs.
        let p = Padding::TfSame.resolve(3, 1, 2, 7, 7).unwrap();
        assert_eq!((p.top, p.bottom), (1, 1));
        assert_eq!(p.output_size(7, 7, 2, 2).unwrap(), Some((4, 4)));
    }

    #[test]
    fn a_window_larger_than_the_padded_input_has_no_output() {
        let p = Pads::default();
        assert_eq!(p.output_size(3, 3, 4, 1).unwrap(), None);
        assert_eq!(p.output_size(5, 5, 4, 1).unwrap(), Some((1, 1)));
    }
}
