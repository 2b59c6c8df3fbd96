//! The specialized microkernel: `W` output pixels of one row × one channel block, for a
//! kernel size, stride and dilation known at compile time, fully unrolled over the kernel
//! row's taps and the tile's columns so that the accumulators (and, with 32 registers, the
//! kernel row's weights) stay in registers.

use super::TileIo;
use super::store::{Ep, store_tile};
use crate::simd::{Simd, load_block};

/// Input columns a tile of `w` outputs reads: `(w − 1)·stride + (k − 1)·dilation + 1`.
pub(crate) const fn span(k: usize, stride: usize, dilation: usize, w: usize) -> usize {
    (w - 1) * stride + (k - 1) * dilation + 1
}

/// Whether a tile keeps its kernel row's weights in registers and loads each input column
/// once: when the `K` weights, `W` accumulators and the column fit the registers, and, with
/// 16 registers, at stride 1 only (at stride 2 a column feeds about K/2 outputs, and the
/// narrower tiles cost more than the weight loads they save: MixNet-S layer 13 on AVX2,
/// 7x7 outputs, 59 → 85 µs; on Zen 4, AVX2 stride 2 input-stationary at W = 12, 10, 8 for
/// K = 3, 5, 7: 56×56×128 3×3 0.84×, 112×112×96 3×3 1.05×, 28×28 and 14×14 mixes 0.95–1.00×).
const fn input_stationary<I: Simd>(k: usize, s: usize, w: usize) -> bool {
    k + w < I::REGISTERS && (s == 1 || I::REGISTERS >= 32)
}

/// Phases in which a tile visits its input columns (`c mod phases`, each phase's columns in
/// order): `S` where 16 registers run a stride of 2 to 4 and K ≥ 5, else 1. A phase's taps
/// are `K/S` or so, so its weights fit the registers beside more accumulators, and an
/// output's taps are summed phase by phase, in the same order wherever its tile starts.
/// Measured on Zen 4, AVX2, speed example (3 rounds alternating, against one phase):
/// 28×28 inputs of 16, 64 and 72 channels, L2-resident, 5×5 1.12–1.16×, 7×7 1.09–1.10×;
/// 14×14×256 11×11 1.10×; stride-2 mixes 0.99–1.08×; 3×3 (two phases) 0.95–0.98×, so not.
/// MixNet sums (CLI, 4 rounds alternating): S 1.08–1.12 → 1.07–1.08 ms, M 1.74–1.87 →
/// 1.70–1.73, L 2.45–2.61 → 2.42–2.50; stride-2 layers 1.04–1.11×.
const fn phases<I: Simd>(k: usize, s: usize) -> usize {
    if k >= 5 && s > 1 && s <= 4 && I::REGISTERS < 32 {
        s
    } else {
        1
    }
}

/// Weights of each phase's first taps that a tile keeps in registers: all of them when
/// [`input_stationary`], else those the registers left beside the `W` accumulators, the
/// input column and, where a lane mask takes a vector register, the mask hold.
const fn resident<I: Simd>(k: usize, s: usize, w: usize, tail: bool) -> usize {
    if input_stationary::<I>(k, s, w) {
        k
    } else {
        let mask = (tail && !I::FREE_MASKS) as usize;
        I::REGISTERS.saturating_sub(w + 1 + mask)
    }
}

/// Taps before `kx` in its phase (`kx·d mod phases`).
const fn phase_rank(kx: usize, phases: usize, d: usize) -> usize {
    let mut n = 0;
    let mut k = 0;
    while k < kx {
        if (k * d) % phases == (kx * d) % phases {
            n += 1;
        }
        k += 1;
    }
    n
}

/// The column a tile `n` columns wide visits `v`-th in `phases` phases.
const fn visited(v: usize, n: usize, phases: usize) -> usize {
    let (mut p, mut v) = (0, v);
    while p < phases && p < n {
        let count = (n - p).div_ceil(phases);
        if v < count {
            return p + phases * v;
        }
        v -= count;
        p += 1;
    }
    n
}

/// The input column a tile visits `v`-th: phase 0's columns in order, then phase 1's, ...
/// ([`phases`]).
const fn column<I: Simd>(v: usize, k: usize, s: usize, d: usize, w: usize) -> usize {
    visited(v, span(k, s, d, w), phases::<I>(k, s))
}

/// Whether tap `kx`'s weight stays in a register ([`resident`]).
const fn in_register<I: Simd>(
    kx: usize,
    k: usize,
    s: usize,
    d: usize,
    w: usize,
    tail: bool,
) -> bool {
    phase_rank(kx, phases::<I>(k, s), d) < resident::<I>(k, s, w, tail)
}

/// Whether the tile loads tap `kx`'s weight into its register before the `v`-th column: the
/// column starts a phase, and the tap is one of that phase's resident ones.
const fn loads_weight<I: Simd>(
    v: usize,
    kx: usize,
    k: usize,
    s: usize,
    d: usize,
    w: usize,
    tail: bool,
) -> bool {
    let ph = phases::<I>(k, s);
    let c = column::<I>(v, k, s, d, w);
    (v == 0 || c % ph != column::<I>(v - 1, k, s, d, w) % ph)
        && (kx * d) % ph == c % ph
        && in_register::<I>(kx, k, s, d, w, tail)
}

/// Whether input column `c` is tap `kx` of one of the tile's `w` outputs.
const fn feeds(c: usize, kx: usize, s: usize, d: usize, w: usize) -> bool {
    c >= kx * d && (c - kx * d).is_multiple_of(s) && (c - kx * d) / s < w
}

/// A tile's unrolled schedule, evaluated once per instantiation: for each column it visits
/// (`v`, at most 48), which input column that is, which weights it loads into registers
/// first and which taps it is; and which taps' weights stay in registers. The unrolled
/// copies test bits of these tables (`unroll_bits!`). When each copy called the `const
/// fn`s above instead (some 4,000 constant tests a tile: 48 column copies of 16-tap
/// copies), constant evaluation took 295 s of a 27-minute build of the crate (Zen 3,
/// `-Z self-profile`).
struct Plan<I, const K: usize, const S: usize, const D: usize, const W: usize, const TAIL: bool>(
    core::marker::PhantomData<I>,
);

impl<I: Simd, const K: usize, const S: usize, const D: usize, const W: usize, const TAIL: bool>
    Plan<I, K, S, D, W, TAIL>
{
    /// The input column visited `v`-th ([`column()`]).
    const COLUMN: [usize; 48] = {
        let mut t = [0; 48];
        let mut v = 0;
        while v < span(K, S, D, W) {
            t[v] = column::<I>(v, K, S, D, W);
            v += 1;
        }
        t
    };
    /// Bit `kx` of entry `v`: the weight of tap `kx` is loaded before the `v`-th column
    /// ([`loads_weight`]).
    const LOADS: [u16; 48] = Self::tap_bits(false);
    /// Bit `kx` of entry `v`: the `v`-th column is tap `kx` of one of the outputs
    /// ([`feeds`]).
    const FEEDS: [u16; 48] = Self::tap_bits(true);

    /// [`Self::FEEDS`] if `feeding`, else [`Self::LOADS`]: per visited column, a bit per tap.
    const fn tap_bits(feeding: bool) -> [u16; 48] {
        let mut t = [0; 48];
        let mut v = 0;
        while v < span(K, S, D, W) {
            let mut kx = 0;
            while kx < K {
                let set = if feeding {
                    feeds(Self::COLUMN[v], kx, S, D, W)
                } else {
                    loads_weight::<I>(v, kx, K, S, D, W, TAIL)
                };
                if set {
                    t[v] |= 1 << kx;
                }
                kx += 1;
            }
            v += 1;
        }
        t
    }
    /// Bit `kx`: the weight of tap `kx` stays in a register ([`in_register`]).
    const IN_REGISTER: u16 = {
        let mut m = 0;
        let mut kx = 0;
        while kx < K {
            if in_register::<I>(kx, K, S, D, W, TAIL) {
                m |= 1 << kx;
            }
            kx += 1;
        }
        m
    };
}

/// Bit `c` set for each column `c` in `lo .. hi` (`hi` ≤ 48: windows are unrolled by
/// `unroll48!`).
#[inline(always)]
fn column_bits(lo: usize, hi: usize) -> u64 {
    debug_assert!(lo <= hi && hi <= 48);
    ((1u64 << hi) - 1) & !((1u64 << lo) - 1)
}

/// Work a tile does before each of its kernel rows: the staged path copies part of the next
/// input row there, so that the copy's loads overlap the tile's FMAs. A trait with an
/// `#[inline(always)]` method rather than a closure: a closure called from several tiles
/// may be left out of line, outside the ISA's enabled code (in an experiment the staged
/// path then ran 1.1–1.3× slower; 50× where the closure held the tile itself).
pub(crate) trait BeforeRow {
    /// Does the work.
    ///
    /// # Safety
    /// Called by a tile before each of its kernel rows; the implementor's contract holds
    /// there (it writes none of the tile's input rows).
    unsafe fn before_row(&mut self);
}

/// Nothing before the rows (the direct path's tiles).
impl BeforeRow for () {
    #[inline(always)]
    unsafe fn before_row(&mut self) {}
}

/// Computes one tile and stores its first `n` (≤ `W`) outputs, calling `hook` before each
/// kernel row ([`BeforeRow`]).
///
/// Columns are visited in order, so an accumulator's successive FMAs are only about K
/// instructions apart (4-cycle latency, two FMAs a cycle). Measured on Zen 4 and not kept:
/// columns in two interleaved halves, for twice the distance (AVX2 28×28×256: 5×5 1.02×,
/// 7×7 1.00×, 9×9 0.94×, 11×11 and 13×13 0.62×): out-of-order execution already overlaps
/// the chains. Nor, with 16 registers at stride 1, two output rows per tile sharing each
/// kernel row's weights (twice the chains, each output's order kept; rows whose kernel rows
/// are all inside, 6, 5, 4 or 5, 4, 3 wide for 3×3, 5×5, 7×7; the border columns by checked
/// single-row tiles): AVX2 mixes 0.83–0.99× (speed example, 3 rounds alternating).
///
/// At stride 2 with 16 registers (AVX2) a column feeds only about K/2 outputs, so in
/// column order an accumulator's K FMAs of a kernel row come within some 2.5·K FMAs, and
/// their latency bounded the tile: on Zen 4, 28×28 inputs of 16 to 72 channels,
/// L2-resident (speed example, `SPEED_MIB=0`, layers `28x28x16 s2` to `28x28x72 s2`), 5×5
/// ran at 46–52% of the FMA peak, 7×7 at 60–72%. Kernels of 5×5 and up therefore visit the
/// columns by [`phases`], which leaves registers for all of a phase's weights: there 5×5
/// 56–63%, 7×7 72–82% (3 rounds alternating, best of each). Measured there before the
/// phases and not kept: columns visited one output's reach apart, so that successive
/// columns feed disjoint accumulators (speed example, 3 rounds alternating:
/// those inputs 1.06–1.11×, stride-2 mixes 1.02–1.03×), but then the order in which an
/// output sums its taps depends on where its tile starts, and results must not depend on
/// how a row is cut (tasks cut rows into column bands: `tests/threads.rs` failed); tile
/// halves taking turns by column (each output's order kept): 0.96–0.99×, and again with the
/// phases (each half's columns of a phase in turn, a column shared by both halves loaded by
/// each; speed example, 4 rounds alternating: 28×28×16 5×5 and 7×7 0.98–0.99×, mixes
/// 0.79–1.09×, 14×14×256 11×11 0.52×); each weight
/// loaded once, every input column an FMA memory operand (no chain within a row; CLI,
/// 56×56 inputs of 64 and 192 channels): 3×3 0.97–1.00×, 5×5 to 9×9 0.63–0.88×; two output
/// rows per tile sharing a kernel row's weights (order kept, twice the chains; 6, 5 and 4
/// wide for 3×3, 5×5 and 7×7, the rows' last columns by single-row tiles; speed example,
/// 3 rounds): 5×5 1.06–1.07×, 7×7 0.98–1.01×, 3×3 0.79–0.91×, mixes 0.93–1.03×.
///
/// The column order itself is not the limit: on a Zen 3 host (2026-12-07) a stand-alone
/// copy of this tile (AVX2, straight-line code, no spills), repeated on an L1-resident
/// window so that successive tiles overlap as they do in a row, ran 5×5 at W = 10 at
/// 88–92% of the FMA peak, at W = 7 83–85%, 7×7 at W = 8 86–88%, 3×3 at W = 8 88–94%. A
/// skewed order there, each kernel row's last columns interleaved with the next row's
/// first (two FMA wavefronts; the second row's weights as memory operands, each output's
/// order kept), ran 5×5 53–61%, 7×7 78%, 3×3 47–53%: not the route.
///
/// `CHECKED`: input columns outside the input are skipped (no load, no FMA: exactly their
/// padding taps); otherwise every column of the window must lie in the input.
/// `TAIL`: the block is loaded and stored through `t.mask`.
///
/// # Safety
/// `t` describes a tile inside the job's region: its `nrows` rows from `row0` are input
/// rows, its weights and first `n` outputs are in the slices, and when `!CHECKED` input columns
/// `ix0 .. ix0 + span` lie in the input. Without `TAIL`, the block has `LANES` channels.
/// `hook` meets [`BeforeRow::before_row`]'s contract.
// The unrolled copies compare constant indices (`0 >= x`...).
#[allow(clippy::absurd_extreme_comparisons)]
#[inline(always)]
pub(crate) unsafe fn tile<
    I: Simd,
    const K: usize,
    const S: usize,
    const D: usize,
    const W: usize,
    const CHECKED: bool,
    const TAIL: bool,
>(
    isa: I,
    t: &TileIo<I>,
    ep: &Ep<I>,
    n: usize,
    hook: &mut impl BeforeRow,
) {
    let lanes = I::LANES;
    let nc = const { span(K, S, D, W) };
    let (lo, hi) = if CHECKED {
        t.valid_columns(nc)
    } else {
        (0, nc)
    };
    // A checked tile tests bit c of one word, made opaque once per kernel row (below):
    // otherwise LLVM hoists a flag per column out of the row loop, into registers the tile
    // needs (some spilled to the stack). Measured on Zen 4, speed example, 3–4 rounds
    // alternating: AVX2 7×7 mixes 1.03–1.06×, 14×14 1.02–1.03×; AVX-512 7×7 1.02×, 14×14
    // 1.03–1.08×, 28×28 1.04–1.06×, stride 2 1.02–1.10×. With 16 registers at stride 2 it
    // ran mixes 0.56–0.89× in column order, so one phase keeps the flags; with [`phases`]
    // the flags made LLVM spill an accumulator of the 7-wide 5×5 tile (0.60×).
    let by_bits = const { S == 1 || I::REGISTERS >= 32 || phases::<I>(K, S) > 1 };
    let bits = column_bits(lo, hi);
    let mut acc = [t.bias; W];
    let mut row = t.row0;
    let mut w = t.w;
    for r in 0..t.nrows {
        // SAFETY: the hook writes none of the tile's input rows (caller).
        unsafe { hook.before_row() };
        let bits = if CHECKED && by_bits {
            core::hint::black_box(bits)
        } else {
            bits
        };
        let inside = |c: usize| {
            !CHECKED
                || if by_bits {
                    (bits >> c) & 1 != 0
                } else {
                    c >= lo && c < hi
                }
        };
        if !t.ring.is_null() {
            // SAFETY: a non-null `ring` holds `nrows` row pointers (caller).
            row = unsafe { *t.ring.add(r) };
        }
        // SAFETY: `row` is a valid input row and `w` a kernel row of the block's weights
        // (caller); column pointers are formed only for columns in `lo .. hi`, which lie in
        // the input.
        unsafe {
            // Each input column is loaded once into a register and feeds every output of
            // the tile it belongs to (column c is tap kx of output (c − kx·D) / S); the
            // first weights of each phase stay in registers ([`resident`]), the others
            // come from memory (L1-resident, contiguous) as FMA memory operands. Each
            // resident weight is one load fewer per column, and Zen 4 issues two loads a
            // cycle for two FMAs. Measured on Zen 5, AVX2, 28×28×256, one resident weight:
            // K = 9 to 13 1.04–1.09×, stride-2 3×3 1.06×; with a mask, a spill made a
            // 60-channel mix 0.87×.
            let mut wr = [isa.zero(); K];
            unroll48!(span(K, S, D, W), v => {
                unroll_bits!(Plan::<I, K, S, D, W, TAIL>::LOADS[v], kx => {
                    wr[kx] = isa.load(w.add(kx * lanes));
                });
                // Keeps LLVM from hoisting all the column loads to the top of the row, where
                // they would need more registers than there are, and from merging the weight
                // loads of successive columns into registers it does not have.
                core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
                let c = const { Plan::<I, K, S, D, W, TAIL>::COLUMN[v] };
                if inside(c) {
                    let x = load_block::<I, TAIL>(isa, t.column(row, c), t.mask);
                    unroll_bits!(Plan::<I, K, S, D, W, TAIL>::FEEDS[v], kx => {
                        let j = (c - kx * D) / S;
                        let wk = if const { Plan::<I, K, S, D, W, TAIL>::IN_REGISTER >> kx & 1 != 0 } {
                            wr[kx]
                        } else {
                            isa.load(w.add(kx * lanes))
                        };
                        acc[j] = isa.fma(x, wk, acc[j]);
                    });
                }
            });
        }
        // Past the last row these may point outside the slices; they are not used then.
        row = row.wrapping_add(t.row_step);
        w = w.wrapping_add(K * lanes);
    }
    // SAFETY: the tile's first n outputs are in the region (caller).
    unsafe { store_tile::<I, W, TAIL>(isa, ep, &acc, t.out, t.out_ps, t.mask, n) };
}
