//! Instruction sets the kernels are built for, and their run-time detection.

use core::sync::atomic::{AtomicU8, Ordering};

/// An instruction set that a family of microkernels is written for.
///
/// The kernels for every ISA are compiled into every x86-64 build; which one may run is
/// decided at run time ([`Isa::is_available`]), never from the build machine's CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// `wide` vectors: SSE2 on x86-64, NEON on aarch64, scalar elsewhere. Always available.
    Portable,
    /// AVX2 + FMA (x86-64-v3), 8 f32 lanes.
    Avx2,
    /// AVX-512F (x86-64-v4), 16 f32 lanes and mask registers.
    Avx512,
}

impl Isa {
    /// Every ISA, from the most portable to the widest.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The short lowercase name used in kernel names, `MIXCONV_ISA` and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parses a name as given by [`Isa::name`].
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name() == name)
    }

    /// f32 lanes per vector: packed weights and bias are laid out in blocks of this many channels.
    pub const fn lanes(self) -> usize {
        match self {
            Isa::Portable | Isa::Avx2 => 8,
            Isa::Avx512 => 16,
        }
    }

    /// Vector registers the ISA's kernels are written for (the portable kernels assume 8).
    pub(crate) const fn registers(self) -> usize {
        match self {
            Isa::Portable => 8,
            Isa::Avx2 => 16,
            Isa::Avx512 => 32,
        }
    }

    /// Whether this CPU (and its operating system) can run this ISA's kernels.
    pub fn is_available(self) -> bool {
        let features = detected();
        match self {
            Isa::Portable => true,
            Isa::Avx2 => features & AVX2 != 0,
            Isa::Avx512 => features & AVX512 != 0,
        }
    }

    /// The widest ISA available on this CPU.
    pub fn best() -> Isa {
        *Isa::ALL
            .iter()
            .rev()
            .find(|isa| isa.is_available())
            .unwrap_or(&Isa::Portable)
    }
}

impl core::fmt::Display for Isa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

const DETECTED: u8 = 1;
const AVX2: u8 = 2;
const AVX512: u8 = 4;

/// Feature bits, detected on first use and cached.
fn detected() -> u8 {
    static CACHE: AtomicU8 = AtomicU8::new(0);
    let cached = CACHE.load(Ordering::Relaxed);
    if cached & DETECTED != 0 {
        return cached;
    }
    let features = DETECTED | detect();
    CACHE.store(features, Ordering::Relaxed);
    features
}

#[cfg(target_arch = "x86_64")]
fn detect() -> u8 {
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};

    /// Reads XCR0 (which register states the OS saves on context switches).
    #[target_feature(enable = "xsave")]
    fn xcr0() -> u64 {
        // SAFETY: only called after CPUID reported OSXSAVE, so XGETBV is enabled.
        unsafe { _xgetbv(0) }
    }

    let (leaf1, max_leaf) = (__cpuid(1), __cpuid(0).eax);
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let avx = leaf1.ecx & (1 << 28) != 0;
    let fma = leaf1.ecx & (1 << 12) != 0;
    if !(osxsave && avx && fma) || max_leaf < 7 {
        return 0;
    }
    // SAFETY: OSXSAVE is set, so the xsave feature's XGETBV instruction is usable.
    let xcr0 = unsafe { xcr0() };
    // Leaf 7 is read only when leaf 0 reports it.
    let leaf7 = __cpuid_count(7, 0);
    let avx2 = leaf7.ebx & (1 << 5) != 0;
    let avx512f = leaf7.ebx & (1 << 16) != 0;
    let ymm_state = xcr0 & 0b110 == 0b110;
    let zmm_state = xcr0 & 0b1110_0110 == 0b1110_0110;
    let mut features = 0;
    if avx2 && ymm_state {
        features |= AVX2;
        if avx512f && zmm_state {
            features |= AVX512;
        }
    }
    features
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> u8 {
    0
}
