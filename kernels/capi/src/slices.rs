//! The caller's pointers as references and slices. Null pointers, misalignment and sizes
//! beyond the address space are refused here; that the memory is valid is the caller's
//! contract (stated on each ABI function).

use crate::status::Failure;

/// Checks that `len` elements of `T` at `ptr` could be a slice: not null, aligned, and
/// within the address space.
fn check<T>(ptr: *const T, len: usize, what: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!(
            "{what} ({ptr:p}) is not aligned to {} bytes",
            align_of::<T>()
        )));
    }
    let fits = len
        .checked_mul(size_of::<T>())
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .and_then(|bytes| (ptr as usize).checked_add(bytes));
    match fits {
        Some(_) => Ok(()),
        None => Err(Failure::invalid(format!(
            "{what}: {len} elements at {ptr:p} run past the end of the address space"
        ))),
    }
}

/// `len` elements at `ptr`; `ptr` may be null (or dangling) only when `len` is 0.
///
/// # Safety
/// Unless `len` is 0, `ptr .. ptr + len` is readable and not written while the slice lives.
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    check(ptr, len, what)?;
    // SAFETY: non-null, aligned, at most isize::MAX bytes that do not wrap (checked), and
    // readable without writes while the slice lives (caller).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `len` writable elements at `ptr`; `ptr` may be null (or dangling) only when `len` is 0.
///
/// # Safety
/// Unless `len` is 0, `ptr .. ptr + len` is writable and not accessed otherwise while the
/// slice lives.
pub(crate) unsafe fn slice_mut<'a, T>(
    ptr: *mut T,
    len: usize,
    what: &str,
) -> Result<&'a mut [T], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    check(ptr, len, what)?;
    // SAFETY: non-null, aligned, at most isize::MAX bytes that do not wrap (checked), and
    // exclusively ours while the slice lives (caller).
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// The one `T` at `ptr`.
///
/// # Safety
/// If `ptr` is not null and aligned, it points to a valid `T` not written while the reference lives.
pub(crate) unsafe fn reference<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: a non-null aligned `ptr` points to a readable `T` (caller).
    Ok(&unsafe { slice(ptr, 1, what) }?[0])
}

/// The array of `len` elements at `ptr`, or `None` where `ptr` is null.
///
/// # Safety
/// As [`slice`] when `ptr` is not null.
pub(crate) unsafe fn optional<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<Option<&'a [T]>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: a non-null `ptr` holds `len` readable elements (caller).
        unsafe { slice(ptr, len, what) }.map(Some)
    }
}

/// Whether `a_len` elements at `a` and `b_len` at `b` share memory.
pub(crate) fn overlap<T>(a: *const T, a_len: usize, b: *const T, b_len: usize) -> bool {
    let range = |p: *const T, n: usize| {
        let start = p as usize;
        (
            start,
            start.saturating_add(n.saturating_mul(size_of::<T>())),
        )
    };
    let ((a0, a1), (b0, b1)) = (range(a, a_len), range(b, b_len));
    a_len > 0 && b_len > 0 && a0 < b1 && b0 < a1
}
