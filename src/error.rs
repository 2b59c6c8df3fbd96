//! Every way a call can be refused, each naming the value that caused it.

use crate::Isa;
use mixconv_kernels::KernelError;

/// Why a layer, a plan or a run was refused. Nothing was written when one is returned.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The layer has no channels.
    NoChannels,
    /// The layer has no groups (no kernel sizes given).
    NoGroups,
    /// A group's kernel size is zero or even.
    BadKernel {
        /// Group index.
        group: usize,
        /// The kernel size given.
        kernel: usize,
    },
    /// A group's dilation is zero.
    ZeroDilation {
        /// Group index.
        group: usize,
    },
    /// The stride is zero.
    ZeroStride,
    /// A per-group list (dilations, split sizes) does not have one entry per group.
    GroupCount {
        /// What the list holds.
        what: &'static str,
        /// Entries given.
        given: usize,
        /// Groups in the layer.
        groups: usize,
    },
    /// A group index beyond the layer's groups.
    NoSuchGroup {
        /// Group index.
        group: usize,
        /// Groups in the layer.
        groups: usize,
    },
    /// The split sizes do not add up to the layer's channels.
    ChannelSum {
        /// Sum of the split sizes.
        sum: usize,
        /// The layer's channels.
        channels: usize,
    },
    /// A split leaves a group without channels.
    EmptyGroup {
        /// Group index.
        group: usize,
    },
    /// A tensor dimension is zero.
    EmptyTensor {
        /// Which dimension.
        what: &'static str,
    },
    /// The kernel window (with padding) is larger than the padded input: no output pixel.
    NoOutput {
        /// Group index.
        group: usize,
    },
    /// A group's dilated window, stride and padding reach coordinates beyond `isize`.
    WindowTooLarge {
        /// Group index.
        group: usize,
        /// Kernel size.
        kernel: usize,
        /// Dilation.
        dilation: usize,
    },
    /// Two groups produce different output sizes.
    GroupOutputMismatch {
        /// Group index.
        group: usize,
        /// That group's output (height, width).
        size: (usize, usize),
        /// Group 0's output (height, width).
        expected: (usize, usize),
    },
    /// A pixel stride smaller than the layer's channels.
    PixelStride {
        /// `input` or `output`.
        which: &'static str,
        /// The stride given.
        stride: usize,
        /// The layer's channels.
        channels: usize,
    },
    /// A buffer whose length does not fit the layer and shape.
    BufferLength {
        /// Which buffer.
        what: String,
        /// Acceptable lengths, as text (`"1024"` or `"1000..=1024"`).
        expected: String,
        /// Length given.
        given: usize,
    },
    /// A byte buffer that is not aligned to 4 bytes or not a whole number of f32.
    Misaligned {
        /// Which buffer.
        what: &'static str,
    },
    /// A product of sizes overflows `usize`.
    Overflow {
        /// What was being computed.
        what: &'static str,
    },
    /// Clamp bounds that are NaN or with `min > max`.
    BadClamp {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// The requested instruction set cannot run on this CPU.
    IsaUnavailable(Isa),
    /// An instruction-set name that is not known (from `MIXCONV_ISA` or a caller).
    UnknownIsa(String),
    /// A task index beyond the plan's tasks.
    NoSuchTask {
        /// The index given.
        task: usize,
        /// Tasks in the plan.
        tasks: usize,
    },
    /// A kernel refused its arguments (a bug in the planner if it happens).
    Kernel(KernelError),
}

/// `Result` with [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoChannels => write!(f, "the layer has 0 channels"),
            Error::NoGroups => write!(f, "the layer has no groups: give at least one kernel size"),
            Error::BadKernel { group, kernel } => {
                write!(
                    f,
                    "group {group}: kernel size {kernel} must be odd and at least 1"
                )
            }
            Error::ZeroDilation { group } => {
                write!(f, "group {group}: dilation 0 must be at least 1")
            }
            Error::ZeroStride => write!(f, "stride 0 must be at least 1"),
            Error::GroupCount {
                what,
                given,
                groups,
            } => {
                write!(f, "{given} {what} given for {groups} groups")
            }
            Error::NoSuchGroup { group, groups } => {
                write!(
                    f,
                    "group {group} does not exist: the layer has {groups} groups"
                )
            }
            Error::ChannelSum { sum, channels } => {
                write!(
                    f,
                    "split sizes add up to {sum} channels, the layer has {channels}"
                )
            }
            Error::EmptyGroup { group } => {
                write!(f, "group {group} gets 0 channels from the split")
            }
            Error::EmptyTensor { what } => write!(f, "{what} is 0"),
            Error::NoOutput { group } => {
                write!(
                    f,
                    "group {group}: the kernel window is larger than the padded input"
                )
            }
            Error::WindowTooLarge {
                group,
                kernel,
                dilation,
            } => write!(
                f,
                "group {group}: a {kernel}x{kernel} kernel with dilation {dilation} reaches coordinates beyond isize"
            ),
            Error::GroupOutputMismatch {
                group,
                size,
                expected,
            } => write!(
                f,
                "group {group} produces a {}x{} output, group 0 a {}x{} one",
                size.0, size.1, expected.0, expected.1
            ),
            Error::PixelStride {
                which,
                stride,
                channels,
            } => write!(
                f,
                "{which} pixel stride {stride} is smaller than the layer's {channels} channels"
            ),
            Error::BufferLength {
                what,
                expected,
                given,
            } => {
                write!(f, "{what} holds {given} elements, expected {expected}")
            }
            Error::Misaligned { what } => {
                write!(
                    f,
                    "{what} bytes are not 4-byte aligned or not a whole number of f32"
                )
            }
            Error::Overflow { what } => write!(f, "{what} overflows usize"),
            Error::BadClamp { min, max } => {
                write!(f, "clamp bounds min {min} and max {max} are not ordered")
            }
            Error::IsaUnavailable(isa) => {
                write!(f, "instruction set {isa} is not available on this CPU")
            }
            Error::UnknownIsa(name) => write!(
                f,
                "unknown instruction set {name:?}: expected one of portable, avx2, avx512"
            ),
            Error::NoSuchTask { task, tasks } => {
                write!(f, "task {task} does not exist: the plan has {tasks} tasks")
            }
            Error::Kernel(e) => write!(f, "kernel refused the call: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<KernelError> for Error {
    fn from(e: KernelError) -> Self {
        Error::Kernel(e)
    }
}
