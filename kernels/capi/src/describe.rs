//! Text about a plan and the library, for logs.

use std::ffi::c_char;

use crate::plan::MixconvPlan;
use crate::slices::slice_mut;

/// Writes what the plan runs (per group: channels, kernel, microkernel; as `mixconv info`
/// prints) into `buf`, NUL-terminated, truncated at a character boundary to fit `buf_len`
/// bytes; returns the length of the whole text (without the NUL), as `snprintf` does, or 0
/// for a null plan. `buf` may be null when `buf_len` is 0.
///
/// # Safety
/// `plan` is null or a live plan; `buf` holds `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mixconv_plan_describe(
    plan: *const MixconvPlan,
    buf: *mut c_char,
    buf_len: usize,
) -> usize {
    // SAFETY: a live plan or null (caller).
    let Some(plan) = (unsafe { plan.as_ref() }) else {
        return 0;
    };
    let text = plan.plan.to_string();
    // SAFETY: `buf_len` writable bytes (caller).
    if let Ok(buf) = unsafe { slice_mut(buf.cast::<u8>(), buf_len, "buf") }
        && let Some(room) = buf.len().checked_sub(1)
    {
        let mut n = text.len().min(room);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        buf[n] = 0;
    }
    text.len()
}

/// The library's version, e.g. `"0.1.0"` (a static string).
#[unsafe(no_mangle)]
pub extern "C" fn mixconv_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
