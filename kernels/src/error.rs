//! Why a kernel call was refused.

/// A kernel call's arguments that do not fit together; nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelError {
    /// The ISA's kernels cannot run on this CPU.
    IsaUnavailable(crate::Isa),
    /// A size is zero or even where it must not be, or a product of sizes overflows.
    BadGeometry(&'static str),
    /// The region lies outside the output or is empty.
    BadRegion,
    /// A slice is shorter than the geometry needs: `(which, needed, given)`.
    SliceTooShort(&'static str, usize, usize),
}

impl core::fmt::Display for KernelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KernelError::IsaUnavailable(isa) => write!(f, "ISA {isa} is not available on this CPU"),
            KernelError::BadGeometry(what) => write!(f, "bad geometry: {what}"),
            KernelError::BadRegion => f.write_str("region outside the output or empty"),
            KernelError::SliceTooShort(which, needed, given) => {
                write!(
                    f,
                    "{which} slice holds {given} elements, the call needs {needed}"
                )
            }
        }
    }
}
