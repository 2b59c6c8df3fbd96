//! Status codes, and the message of the calling thread's last failed call.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The call succeeded.
pub const MIXCONV_OK: i32 = 0;
/// A layer, weights, shape, buffer or argument was refused; [`mixconv_last_error`] names it.
pub const MIXCONV_ERROR_INVALID: i32 = 1;
/// A pointer that must not be null was null.
pub const MIXCONV_ERROR_NULL: i32 = 2;
/// The requested instruction set cannot run on this CPU.
pub const MIXCONV_ERROR_ISA: i32 = 3;
/// A bug in mixconv (a panic, caught at the boundary).
pub const MIXCONV_ERROR_INTERNAL: i32 = 4;

/// Why a call was refused: its status and message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: i32,
    pub message: String,
}

impl Failure {
    /// [`MIXCONV_ERROR_INVALID`] with this message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure {
            status: MIXCONV_ERROR_INVALID,
            message: message.into(),
        }
    }

    /// [`MIXCONV_ERROR_NULL`]: `what` is null.
    pub fn null(what: &str) -> Self {
        Failure {
            status: MIXCONV_ERROR_NULL,
            message: format!("{what} is NULL"),
        }
    }
}

impl From<mixconv::Error> for Failure {
    fn from(e: mixconv::Error) -> Self {
        let status = match e {
            mixconv::Error::IsaUnavailable(_) => MIXCONV_ERROR_ISA,
            _ => MIXCONV_ERROR_INVALID,
        };
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Runs the body of an ABI function: its status, with a failure's message kept for
/// [`mixconv_last_error`] and a panic turned into [`MIXCONV_ERROR_INTERNAL`].
pub(crate) fn call(body: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Failure {
            status: MIXCONV_ERROR_INTERNAL,
            message: format!("internal error (a bug in mixconv, please report it): {what}"),
        })
    });
    match result {
        Ok(()) => MIXCONV_OK,
        Err(failure) => {
            let text = CString::new(failure.message.replace('\0', " ")).unwrap_or_default();
            LAST_ERROR.with(|last| *last.borrow_mut() = text);
            failure.status
        }
    }
}

/// The message of the last call that failed on this thread (an empty string if none did),
/// naming the offending value. Valid until the next failed call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn mixconv_last_error() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}
