//! How a layer's channels are divided among its groups.

use crate::error::{Error, Result};

/// A rule that divides C channels among g groups, in channel order.
///
/// ```
/// use mixconv::Split;
/// assert_eq!(Split::Equal.sizes(144, 3).unwrap(), [48, 48, 48]);
/// assert_eq!(Split::Equal.sizes(362, 4).unwrap(), [92, 90, 90, 90]);
/// assert_eq!(Split::Exponential.sizes(32, 4).unwrap(), [16, 8, 4, 4]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Split {
    /// `C / g` each, the remainder to group 0 (as the reference MixNet models do).
    #[default]
    Equal,
    /// Group i gets `floor(C / 2^(i+1))`, the last group the rest (the paper's exponential split).
    Exponential,
    /// The given sizes, which must add up to C.
    Explicit(Vec<usize>),
}

impl Split {
    /// The channels of each of `groups` groups; an error if a group would get none or
    /// explicit sizes do not add up to `channels`.
    pub fn sizes(&self, channels: usize, groups: usize) -> Result<Vec<usize>> {
        if groups == 0 {
            return Err(Error::NoGroups);
        }
        if channels == 0 {
            return Err(Error::NoChannels);
        }
        let sizes = match self {
            Split::Equal => {
                let mut sizes = vec![channels / groups; groups];
                sizes[0] += channels % groups;
                sizes
            }
            Split::Exponential => {
                let mut sizes: Vec<usize> = (0..groups - 1)
                    .map(|i| channels.checked_shr(i as u32 + 1).unwrap_or(0))
                    .collect();
                sizes.push(channels - sizes.iter().sum::<usize>());
                sizes
            }
            Split::Explicit(sizes) => {
                if sizes.len() != groups {
                    return Err(Error::GroupCount {
                        what: "split sizes",
                        given: sizes.len(),
                        groups,
                    });
                }
                let sum = sizes.iter().try_fold(0usize, |a, &s| a.checked_add(s));
                if sum != Some(channels) {
                    return Err(Error::ChannelSum {
                        sum: sum.unwrap_or(usize::MAX),
                        channels,
                    });
                }
                sizes.clone()
            }
        };
        match sizes.iter().position(|&s| s == 0) {
            Some(group) => Err(Error::EmptyGroup { group }),
            None => Ok(sizes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_gives_the_remainder_to_group_zero() {
        assert_eq!(Split::Equal.sizes(144, 3).unwrap(), [48, 48, 48]);
        assert_eq!(Split::Equal.sizes(90 * 4 + 2, 4).unwrap(), [92, 90, 90, 90]);
        assert_eq!(Split::Equal.sizes(7, 1).unwrap(), [7]);
    }

    #[test]
    fn exponential_halves_and_gives_the_rest_to_the_last() {
        assert_eq!(Split::Exponential.sizes(32, 4).unwrap(), [16, 8, 4, 4]);
        assert_eq!(Split::Exponential.sizes(100, 3).unwrap(), [50, 25, 25]);
        assert_eq!(Split::Exponential.sizes(9, 1).unwrap(), [9]);
    }

    #[test]
    fn splits_that_leave_a_group_empty_are_errors() {
        assert_eq!(
            Split::Equal.sizes(2, 3),
            Err(Error::EmptyGroup { group: 1 })
        );
        assert_eq!(
            Split::Exponential.sizes(3, 3),
            Err(Error::EmptyGroup { group: 1 })
        );
        assert_eq!(
            Split::Explicit(vec![3, 0]).sizes(3, 2),
            Err(Error::EmptyGroup { group: 1 })
        );
    }

    #[test]
    fn explicit_sizes_must_add_up() {
        assert_eq!(Split::Explicit(vec![1, 2]).sizes(3, 2).unwrap(), [1, 2]);
        assert_eq!(
            Split::Explicit(vec![1, 2]).sizes(4, 2),
            Err(Error::ChannelSum {
                sum: 3,
                channels: 4
            })
        );
        assert_eq!(
            Split::Explicit(vec![1, 2]).sizes(3, 3),
            Err(Error::GroupCount {
                what: "split sizes",
                given: 2,
                groups: 3
            })
        );
        assert!(matches!(
            Split::Explicit(vec![usize::MAX, 2]).sizes(3, 2),
            Err(Error::ChannelSum { .. })
        ));
    }
}
