//! Weight matrices quantized to 8 bits at load and packed for the CPU's integer products
//! `y = x Wᵀ`: the int8 mode's GEMM on CPUs with AVX2.
//!
//! Weights: symmetric per output row (one f32 scale per output, `max |w| / 127`), as
//! CTranslate2's int8 and FBGEMM quantize them. Activations: each input row is quantized per
//! call to 16 bits (`max |x| / 32767`), finer than CTranslate2's 8-bit activations, so nearly
//! all of the error is the weights'. Products use `vpmaddwd` (16 × 16-bit pairs → 32-bit sums:
//! twice the multiply-adds of an f32 FMA per instruction) on weights sign-extended from bytes as
//! they stream in, a quarter of the f32 weights' memory traffic. Exact in 32 bits: within one
//! `KC` block a sum is at most 256 × 32,767 × 127 < 2³¹; blocks are rescaled and added in f32.
//!
//! The loop nest and parallel split are those of [`super::packed`] (16-column panels, 6-row
//! register tile, `KC`-input blocks), with input pairs interleaved per column for `vpmaddwd`.

use rayon::prelude::*;

/// Rows per kernel call.
const MR: usize = 6;
/// Output columns per panel.
const NR: usize = 16;
/// Inputs per pass (even, so pairs never straddle blocks).
const KC: usize = 256;
/// Row blocks per pass over a task's panels.
const MC_BLOCKS: usize = 16;
/// Panels per parallel task.
const PANELS_PER_TASK: usize = 8;
/// How far ahead of the kernel the weights are prefetched, in bytes.
const PREFETCH_AHEAD: usize = 1024;
/// The largest 16-bit activation.
const ACTIVATION_MAX: f32 = 32_767.0;

/// Whether this CPU runs the int8 kernels (x86-64 with AVX2, detected at run time).
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A weight matrix `W` (`rows` outputs × `cols` inputs) quantized to int8 per output row and
/// packed in 16-column panels of interleaved input pairs.
pub struct PackedInt8 {
    /// `[k block][panel][kc / 2][16 columns][2 inputs]`.
    panels: Vec<i8>,
    /// One scale per output row of `W`.
    scales: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl std::fmt::Debug for PackedInt8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedInt8")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .finish()
    }
}

/// Inputs of the block starting at `k0`, rounded up to pairs.
fn block_pairs(k: usize, k0: usize) -> usize {
    KC.min(k - k0).div_ceil(2)
}

impl PackedInt8 {
    /// Quantizes and packs `w` (`rows × cols`, row-major).
    ///
    /// # Panics
    /// When `w.len() != rows * cols` (a bug in the caller).
    pub fn quantize(w: &[f32], rows: usize, cols: usize) -> Self {
        assert_eq!(w.len(), rows * cols, "weight length");
        let scales: Vec<f32> = w
            .chunks(cols.max(1))
            .take(rows)
            .map(|row| scale_for(max_abs(row), 127.0))
            .collect();
        let count = rows.div_ceil(NR);
        let total: usize = (0..cols)
            .step_by(KC)
            .map(|k0| count * NR * 2 * block_pairs(cols, k0))
            .sum();
        let mut panels = vec![0i8; total];
        let mut rest = panels.as_mut_slice();
        for k0 in (0..cols).step_by(KC) {
            let kc = KC.min(cols - k0);
            let pairs = block_pairs(cols, k0);
            let (block, after) = rest.split_at_mut(count * NR * 2 * pairs);
            rest = after;
            block
                .par_chunks_mut(NR * 2 * pairs)
                .enumerate()
                .for_each(|(panel, target)| {
                    for j in 0..NR.min(rows - panel * NR) {
                        let output = panel * NR + j;
                        let inverse = 1.0 / scales[output];
                        let source = &w[output * cols + k0..][..kc];
                        for (p, &value) in source.iter().enumerate() {
                            let q = (value * inverse).round().clamp(-127.0, 127.0) as i8;
                            target[(p / 2) * NR * 2 + j * 2 + p % 2] = q;
                        }
                    }
                });
        }
        Self {
            panels,
            scales,
            rows,
            cols,
        }
    }

    /// Output size (rows of `W`).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Input size (columns of `W`).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Where the slice of `panel` for the block starting at `k0` begins.
    fn offset(&self, panel: usize, k0: usize) -> usize {
        let count = self.rows.div_ceil(NR);
        // Every earlier block is a full KC block.
        k0 * NR * count + panel * NR * 2 * block_pairs(self.cols, k0)
    }

    /// `x Wᵀ (+ bias)` for `x` of `m` rows (`m × cols`, row-major): `m × rows` values,
    /// row-major, computed in integers from the quantized weights and activations.
    ///
    /// # Panics
    /// When `x.len() != m * cols`, the bias has the wrong length, or the CPU is not
    /// [`supported`].
    pub fn matmul_transposed(&self, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
        let (n, k) = (self.rows, self.cols);
        assert_eq!(x.len(), m * k, "input length");
        assert!(bias.is_none_or(|b| b.len() == n), "bias length");
        assert!(supported(), "int8 products need AVX2");
        if m == 0 || n == 0 || k == 0 {
            return match bias {
                Some(bias) => bias.repeat(m),
                None => vec![0f32; m * n],
            };
        }
        let (packed_x, x_scales) = quantize_inputs(x, m, k);
        let mut out: Vec<f32> = Vec::with_capacity(m * n);
        let output = SharedOutput(out.as_mut_ptr());
        let panels = n.div_ceil(NR);
        let inputs = Inputs {
            packed: &packed_x,
            scales: &x_scales,
            m,
        };
        (0..panels.div_ceil(PANELS_PER_TASK))
            .into_par_iter()
            .for_each(|task| {
                let first = task * PANELS_PER_TASK;
                let count = PANELS_PER_TASK.min(panels - first);
                // SAFETY: each task writes only the output columns of its own panels; `out` has
                // room for m × n values; AVX2 is present (asserted).
                unsafe { self.panel_range(&inputs, first, count, bias, &output) };
            });
        // SAFETY: the tasks above wrote all m × n values (every panel, every row).
        unsafe { out.set_len(m * n) };
        out
    }

    /// Computes the output columns of panels `first..first + count` for every row.
    ///
    /// # Safety
    /// `output` must have room for `m × rows` values, no other thread may access those columns
    /// meanwhile, and the CPU must support AVX2.
    unsafe fn panel_range(
        &self,
        inputs: &Inputs,
        first: usize,
        count: usize,
        bias: Option<&[f32]>,
        output: &SharedOutput,
    ) {
        let (n, k, m) = (self.rows, self.cols, inputs.m);
        let row_blocks = m.div_ceil(MR);
        let mut x_offset = 0;
        for k0 in (0..k).step_by(KC) {
            let pairs = block_pairs(k, k0);
            for mc0 in (0..row_blocks).step_by(MC_BLOCKS) {
                let blocks = mc0..(mc0 + MC_BLOCKS).min(row_blocks);
                for panel in first..first + count {
                    let b = &self.panels[self.offset(panel, k0)..][..pairs * NR * 2];
                    let col = panel * NR;
                    let tile = Tile {
                        width: NR.min(n - col),
                        stride: n,
                        column_scales: &self.scales[col..],
                        start: match (k0, bias) {
                            (0, Some(bias)) => Start::Bias(&bias[col..]),
                            (0, None) => Start::Zero,
                            _ => Start::Accumulate,
                        },
                    };
                    for block in blocks.clone() {
                        let a = &inputs.packed[x_offset + block * MR * pairs..][..MR * pairs];
                        let rows = MR.min(m - block * MR);
                        let row_scales = &inputs.scales[block * MR..][..rows];
                        // SAFETY: rows block·6.. of columns col..col + width lie in this task's
                        // part of the m × n output.
                        let c = output.0.add(block * MR * n + col);
                        kernel(rows, pairs, a, b, row_scales, c, &tile);
                    }
                }
            }
            x_offset += row_blocks * MR * pairs;
        }
    }
}

/// The quantized activations of one call.
struct Inputs<'a> {
    /// Per `KC` block and 6-row block: `pairs × 6` 32-bit words, each two 16-bit inputs.
    packed: &'a [i32],
    /// One scale per row.
    scales: &'a [f32],
    m: usize,
}

/// The output's base pointer, shared by tasks that write disjoint columns.
struct SharedOutput(*mut f32);
// SAFETY: tasks write disjoint element ranges through it (see `matmul_transposed`).
unsafe impl Sync for SharedOutput {}

/// Quantizes each row of `x` to 16 bits and packs the pairs for the kernel (rows past the
/// end and the odd input of a block are zero). Returns the packed words and the row scales.
fn quantize_inputs(x: &[f32], m: usize, k: usize) -> (Vec<i32>, Vec<f32>) {
    let scales: Vec<f32> = x
        .chunks(k)
        .map(|row| scale_for(max_abs(row), ACTIVATION_MAX))
        .collect();
    let row_blocks = m.div_ceil(MR);
    let total: usize = (0..k)
        .step_by(KC)
        .map(|k0| row_blocks * MR * block_pairs(k, k0))
        .sum();
    let mut packed = vec![0i32; total];
    let mut rest = packed.as_mut_slice();
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        let pairs = block_pairs(k, k0);
        let (blocks, after) = rest.split_at_mut(row_blocks * MR * pairs);
        rest = after;
        blocks
            .par_chunks_mut(MR * pairs)
            .with_min_len(4)
            .enumerate()
            .for_each(|(block, target)| {
                for r in 0..MR.min(m - block * MR) {
                    let row_index = block * MR + r;
                    let row = &x[row_index * k + k0..][..kc];
                    quantize_pairs(row, 1.0 / scales[row_index], r, target);
                }
            });
    }
    (packed, scales)
}

/// The scale that maps `max` to `limit` (1 for an all-zero or non-finite row).
fn scale_for(max: f32, limit: f32) -> f32 {
    if max > 0.0 && max.is_finite() {
        max / limit
    } else {
        1.0
    }
}

/// The largest `|v|` of `values` (eight lanes, so that it vectorizes; NaN is ignored).
fn max_abs(values: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            let v = v.abs();
            *lane = if v > *lane { v } else { *lane };
        }
    }
    tail.iter()
        .chain(&lanes)
        .fold(0f32, |m, &v| if v.abs() > m { v.abs() } else { m })
}

/// Writes the 16-bit quantized pairs of `row` (scaled by `inverse`) as row `r` of a packed
/// 6-row block, with AVX2 code where the CPU has it.
fn quantize_pairs(row: &[f32], inverse: f32, r: usize, target: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if supported() {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { quantize_pairs_avx2(row, inverse, r, target) };
        }
    }
    quantize_pairs_portable(row, inverse, r, target)
}

/// [`quantize_pairs_portable`] sixteen values at a time: the same rounding (half to even),
/// clamping and NaN → 0, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_pairs_avx2(row: &[f32], inverse: f32, r: usize, target: &mut [i32]) {
    use std::arch::x86_64::*;
    let (scale, low, high) = (
        _mm256_set1_ps(inverse),
        _mm256_set1_ps(-ACTIVATION_MAX),
        _mm256_set1_ps(ACTIVATION_MAX),
    );
    let quantize = |v: __m256| {
        let v = _mm256_mul_ps(v, scale);
        // NaN → 0 (the portable cast's result), before rounding and clamping.
        let v = _mm256_and_ps(v, _mm256_cmp_ps::<_CMP_ORD_Q>(v, v));
        let v = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
        _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, low), high))
    };
    let chunks = row.chunks_exact(16);
    let done = row.len() - chunks.remainder().len();
    let mut pairs = [0i32; 8];
    for (c, chunk) in chunks.enumerate() {
        // SAFETY: `chunk` holds sixteen values.
        let first = quantize(_mm256_loadu_ps(chunk.as_ptr()));
        let second = quantize(_mm256_loadu_ps(chunk.as_ptr().add(8)));
        // Saturating packs interleave the 128-bit lanes; the permute puts the 16 values back
        // in order, i.e. eight (low, high) pairs.
        let packed = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(first, second));
        _mm256_storeu_si256(pairs.as_mut_ptr() as *mut __m256i, packed);
        for (j, &pair) in pairs.iter().enumerate() {
            target[(c * 8 + j) * MR + r] = pair;
        }
    }
    quantize_pairs_portable(&row[done..], inverse, r, &mut target[(done / 2) * MR..]);
}

/// Row `r` of a packed 6-row block: the values of `row` scaled by `inverse`, rounded half to
/// even, clamped to 16 bits (NaN → 0), two per `i32` (first value in the low half).
#[inline(always)]
fn quantize_pairs_portable(row: &[f32], inverse: f32, r: usize, target: &mut [i32]) {
    let q = |v: f32| {
        (v * inverse)
            .round_ties_even()
            .clamp(-ACTIVATION_MAX, ACTIVATION_MAX) as i16
    };
    let pairs = row.chunks_exact(2);
    let odd = pairs.remainder();
    let mut p = 0;
    for pair in pairs {
        target[p * MR + r] = i32::from(q(pair[0]) as u16) | (i32::from(q(pair[1]) as u16) << 16);
        p += 1;
    }
    if let [last] = odd {
        target[p * MR + r] = i32::from(q(*last) as u16);
    }
}

/// What an output tile starts from before the products of one input block are added.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// Zero (the first input block, no bias).
    Zero,
    /// The bias values of the tile's columns (the first input block).
    Bias(&'a [f32]),
    /// The values already in the output (the later input blocks).
    Accumulate,
}

/// Where a kernel's output tile lies and how its integer sums are scaled back.
struct Tile<'a> {
    width: usize,
    stride: usize,
    column_scales: &'a [f32],
    start: Start<'a>,
}

/// `c[r, j] = start[r, j] + row_scales[r] · column_scales[j] · Σ_p a[p, r] · b[p, j]` over
/// input pairs, for `rows` rows and `tile.width` columns.
///
/// # Safety
/// The CPU must support AVX2; `c` must be valid for those rows and columns.
#[inline(always)]
unsafe fn kernel(
    rows: usize,
    pairs: usize,
    a: &[i32],
    b: &[i8],
    row_scales: &[f32],
    c: *mut f32,
    tile: &Tile,
) {
    #[cfg(target_arch = "x86_64")]
    {
        match rows {
            6 => kernel_avx2::<6>(pairs, a, b, row_scales, c, tile),
            5 => kernel_avx2::<5>(pairs, a, b, row_scales, c, tile),
            4 => kernel_avx2::<4>(pairs, a, b, row_scales, c, tile),
            3 => kernel_avx2::<3>(pairs, a, b, row_scales, c, tile),
            2 => kernel_avx2::<2>(pairs, a, b, row_scales, c, tile),
            _ => kernel_avx2::<1>(pairs, a, b, row_scales, c, tile),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (rows, pairs, a, b, row_scales, c, tile);
        unreachable!("int8 packed matrices are only built on CPUs with AVX2")
    }
}

/// The AVX2 kernel for `R` rows: `2R` 32-bit accumulators of eight columns; per input pair,
/// the panel's 32 bytes are sign-extended to two vectors of 16-bit pairs and each row's pair
/// is multiplied in with `vpmaddwd`. The sums are scaled to f32 and added to the tile's start.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn kernel_avx2<const R: usize>(
    pairs: usize,
    a: &[i32],
    b: &[i8],
    row_scales: &[f32],
    c: *mut f32,
    tile: &Tile,
) {
    use std::arch::x86_64::*;
    assert!(
        a.len() >= pairs * MR && b.len() >= pairs * NR * 2 && row_scales.len() >= R,
        "kernel operands"
    );
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    let mut pa = a.as_ptr();
    let mut pb = b.as_ptr();
    for _ in 0..pairs {
        _mm_prefetch::<_MM_HINT_T0>(pb.wrapping_add(PREFETCH_AHEAD));
        // SAFETY: `pairs` steps of 6 words (a) and 32 bytes (b) stay within the slices.
        let b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb as *const __m128i));
        let b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(16) as *const __m128i));
        for (r, row) in acc.iter_mut().enumerate() {
            let x = _mm256_set1_epi32(*pa.add(r));
            row[0] = _mm256_add_epi32(row[0], _mm256_madd_epi16(x, b0));
            row[1] = _mm256_add_epi32(row[1], _mm256_madd_epi16(x, b1));
        }
        pa = pa.add(MR);
        pb = pb.add(NR * 2);
    }
    let full = tile.width == NR;
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let width = _mm256_set1_epi32(tile.width as i32);
    let mask_low = _mm256_cmpgt_epi32(width, lanes);
    let mask_high = _mm256_cmpgt_epi32(width, _mm256_add_epi32(lanes, _mm256_set1_epi32(8)));
    // A macro rather than a closure, so the intrinsics stay inlined under this function's
    // target features.
    macro_rules! load {
        ($p:expr) => {
            if full {
                [_mm256_loadu_ps($p), _mm256_loadu_ps($p.add(8))]
            } else {
                [
                    _mm256_maskload_ps($p, mask_low),
                    _mm256_maskload_ps($p.add(8), mask_high),
                ]
            }
        };
    }
    let column_scales = load!(tile.column_scales.as_ptr());
    let bias = match tile.start {
        Start::Bias(bias) => Some(load!(bias.as_ptr())),
        _ => None,
    };
    for (r, sums) in acc.into_iter().enumerate() {
        let target = c.add(r * tile.stride);
        let start = match (tile.start, bias) {
            (Start::Accumulate, _) => load!(target as *const f32),
            (_, Some(bias)) => bias,
            _ => [_mm256_setzero_ps(); 2],
        };
        let row_scale = _mm256_set1_ps(row_scales[r]);
        let mut values = [_mm256_setzero_ps(); 2];
        for half in 0..2 {
            let scale = _mm256_mul_ps(row_scale, column_scales[half]);
            values[half] = _mm256_add_ps(
                start[half],
                _mm256_mul_ps(_mm256_cvtepi32_ps(sums[half]), scale),
            );
        }
        if full {
            _mm256_storeu_ps(target, values[0]);
            _mm256_storeu_ps(target.add(8), values[1]);
        } else {
            _mm256_maskstore_ps(target, mask_low, values[0]);
            _mm256_maskstore_ps(target.add(8), mask_high, values[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], m: usize, w: &[f32], n: usize, k: usize) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for r in 0..m {
            for j in 0..n {
                out[r * n + j] = (0..k).map(|i| x[r * k + i] * w[j * k + i]).sum();
            }
        }
        out
    }

    #[test]
    fn vectorized_activation_quantization_equals_the_portable_one() {
        if !supported() {
            return;
        }
        // Ties at .5, values past the clamp, NaN, infinities, and a ragged tail.
        let mut row: Vec<f32> = (0..53).map(|i| (i as f32 - 26.0) * 0.5).collect();
        row[3] = f32::NAN;
        row[7] = f32::INFINITY;
        row[8] = f32::NEG_INFINITY;
        row[20] = 1.0e9;
        for r in [0, 5] {
            let mut want = vec![-7i32; 27 * MR];
            let mut got = want.clone();
            quantize_pairs_portable(&row, 3.0, r, &mut want);
            // SAFETY: `supported` holds.
            unsafe { quantize_pairs_avx2(&row, 3.0, r, &mut got) };
            assert_eq!(got, want, "row {r}");
        }
    }

    #[test]
    fn int8_products_stay_within_the_quantization_error_of_the_f32_product() {
        if !supported() {
            eprintln!("skipping: this CPU has no AVX2");
            return;
        }
        // Odd input sizes, partial panels and row blocks, several input blocks.
        for &(m, n, k) in &[
            (1, 1, 1),
            (7, 17, 3),
            (6, 16, 256),
            (13, 130, 257),
            (32, 515, 512),
            (97, 129, 601),
        ] {
            let x: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 4.0)
                .collect();
            let w: Vec<f32> = (0..n * k)
                .map(|i| ((i * 104_729 % 997) as f32 / 997.0 - 0.5) * 0.2)
                .collect();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.01 - 0.3).collect();
            let packed = PackedInt8::quantize(&w, n, k);
            let want = naive(&x, m, &w, n, k);
            for with_bias in [false, true] {
                let got = packed.matmul_transposed(&x, m, with_bias.then_some(bias.as_slice()));
                for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                    let e = e + if with_bias { bias[i % n] } else { 0.0 };
                    // Each weight is off by at most half a step (max|w| / 254): the error of a
                    // sum of k products is bounded by Σ|x| · step / 2, about 0.2 · 2 · k / 254.
                    let bound = 2.0 * 0.1 / 254.0 * k as f32 + 1e-3;
                    assert!(
                        (g - e).abs() <= bound,
                        "({m},{n},{k}) bias {with_bias} [{}, {}]: {g} vs {e}",
                        i / n,
                        i % n
                    );
                }
            }
        }
    }

    #[test]
    fn integer_sums_are_exact_when_the_values_are_on_the_quantization_grid() {
        if !supported() {
            return;
        }
        // Integer weights reaching ±127 in every row and integer inputs reaching 32,767 in every
        // row have scale 1: the integer sum of one input block is exact, and rounded once to f32.
        let (m, n, k) = (5, 20, 250);
        let w: Vec<f32> = (0..n * k).map(|i| (i % 255) as f32 - 127.0).collect();
        let x: Vec<f32> = (0..m * k)
            .map(|i| {
                if i % k == 0 {
                    32_767.0
                } else {
                    (i * 37 % 65_535) as f32 - 32_767.0
                }
            })
            .collect();
        let got = PackedInt8::quantize(&w, n, k).matmul_transposed(&x, m, None);
        for r in 0..m {
            for j in 0..n {
                let exact: f64 = (0..k)
                    .map(|i| f64::from(x[r * k + i]) * f64::from(w[j * k + i]))
                    .sum();
                let g = f64::from(got[r * n + j]);
                assert!(
                    (g - exact).abs() <= 1e-7 * exact.abs().max(1.0),
                    "{g} vs {exact}"
                );
            }
        }
    }
}
