//! Textual unrolling with a constant index, so that register arrays indexed by it are
//! promoted to registers (LLVM does not fully unroll the tile loops by itself).

/// `unroll!(N, i => { body })` repeats `body` for `i = 0 .. N` (N ≤ 16), `i` being a
/// `const usize` in each copy. `N` may involve const generics: the copies past it are
/// removed at monomorphization (`if const`), never reaching LLVM.
macro_rules! unroll {
    ($n:expr, $i:ident => $body:block) => {{
        const { assert!($n <= 16, "unroll! repeats at most 16 times") };
        unroll!(@ $n, $i, $body, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    }};
    (@ $n:expr, $i:ident, $body:block, $($k:literal)*) => {{
        $(
            if const { $k < $n } {
                #[allow(non_upper_case_globals)]
                const $i: usize = $k;
                $body
            }
        )*
    }};
}

/// As [`unroll!`] for `N` ≤ 48 (input columns of a stride-2 or dilated tile).
macro_rules! unroll48 {
    ($n:expr, $i:ident => $body:block) => {{
        const { assert!($n <= 48, "unroll48! repeats at most 48 times") };
        unroll!(@ $n, $i, $body,
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
            24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47)
    }};
}

/// `unroll_bits!(MASK, i => { body })` repeats `body` for each set bit `i` of the `u16`
/// constant `MASK` (which may involve const generics), one constant test a copy: the
/// tiles' per-column plans (`engine::tile`) are masks, so that each copy costs
/// the compiler one look-up in a table evaluated once, not a run of `const fn`s.
macro_rules! unroll_bits {
    ($mask:expr, $i:ident => $body:block) => {{
        unroll_bits!(@ $mask, $i, $body, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    }};
    (@ $mask:expr, $i:ident, $body:block, $($k:literal)*) => {{
        $(
            if const { ($mask >> $k) & 1 != 0 } {
                #[allow(non_upper_case_globals)]
                const $i: usize = $k;
                $body
            }
        )*
    }};
}
