//! Choosing the instruction set: run-time detection, the `MIXCONV_ISA` override, and checks.

use crate::error::{Error, Result};
pub use mixconv_kernels::Isa;
use std::sync::OnceLock;

/// The environment variable that forces an instruction set (`portable`, `avx2`, `avx512`).
pub const ISA_ENV: &str = "MIXCONV_ISA";

/// The instruction set plans use by default: `MIXCONV_ISA` if set, otherwise the widest
/// the CPU has. Read once per process. Forcing one the CPU lacks is an error.
pub fn default_isa() -> Result<Isa> {
    static CHOSEN: OnceLock<Result<Isa>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| match std::env::var(ISA_ENV) {
            Ok(name) if !name.is_empty() => parse_isa(&name).and_then(require),
            _ => Ok(Isa::best()),
        })
        .clone()
}

/// Parses an instruction-set name (`portable`, `avx2`, `avx512`).
pub fn parse_isa(name: &str) -> Result<Isa> {
    Isa::from_name(name.trim()).ok_or_else(|| Error::UnknownIsa(name.to_string()))
}

/// `isa` if this CPU can run it, otherwise [`Error::IsaUnavailable`].
pub fn require(isa: Isa) -> Result<Isa> {
    if isa.is_available() {
        Ok(isa)
    } else {
        Err(Error::IsaUnavailable(isa))
    }
}

/// Every instruction set this CPU can run, from the most portable to the widest.
pub fn available_isas() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .collect()
}

/// The SIMD features of this CPU that matter to mixconv, as `std` detects them.
pub fn cpu_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut features = vec!["sse2"];
        for (name, present) in [
            ("avx", std::arch::is_x86_feature_detected!("avx")),
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("fma", std::arch::is_x86_feature_detected!("fma")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ] {
            if present {
                features.push(name);
            }
        }
        features
    }
    #[cfg(target_arch = "aarch64")]
    {
        vec!["neon"]
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_names_are_errors() {
        assert_eq!(parse_isa("avx2"), Ok(Isa::Avx2));
        assert_eq!(parse_isa(" portable "), Ok(Isa::Portable));
        assert_eq!(parse_isa("sse9"), Err(Error::UnknownIsa("sse9".into())));
    }

    #[test]
    fn kernel_detection_agrees_with_std() {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            assert_eq!(Isa::Avx2.is_available(), avx2);
            assert_eq!(
                Isa::Avx512.is_available(),
                avx2 && std::arch::is_x86_feature_detected!("avx512f")
            );
        }
        assert!(Isa::Portable.is_available());
        assert!(available_isas().contains(&Isa::best()));
    }

    #[test]
    fn requiring_what_the_cpu_lacks_is_an_error() {
        for isa in Isa::ALL {
            match require(isa) {
                Ok(got) => assert!(got.is_available()),
                Err(e) => assert_eq!(e, Error::IsaUnavailable(isa)),
            }
        }
    }
}
