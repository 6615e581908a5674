//! Weight matrices packed once, at load, for the CPU's f32 products `y = x Wᵀ`.
//!
//! The layout and loop nest are those of BLIS (Van Zee & van de Geijn, "BLIS: A Framework for
//! Rapidly Instantiating BLAS Functionality", 2015; also Goto's GEMM): `W` (`[out, in]`, as the
//! checkpoint stores it) is cut into panels of 16 output columns, each stored input-major
//! (`in × 16`), so the kernel reads the weights in one contiguous stream. Per call the input rows
//! are packed in blocks of 6 (cheap: a step's activations), and a 6×16 register tile (12 AVX2
//! accumulators, FMA; chosen at run time) does the arithmetic, `KC` inputs at a time so a panel
//! slice stays in L1 while every row block passes over it. Output columns are split across
//! rayon's threads in chunks of `PANELS_PER_TASK` panels: every weight is read from memory
//! once per call, whatever the number of rows.
//!
//! Packing at load (instead of per call, as a general GEMM must) is what makes this pay: the
//! 122 MB output projection of opus-mt is re-read at every decoding step. A tied embedding
//! table reads its rows back from the panels ([`PackedMatrix::row_into`]), so the model keeps a
//! single copy.

use rayon::prelude::*;

/// Rows per kernel call.
const MR: usize = 6;
/// Output columns per panel (two AVX2 registers).
const NR: usize = 16;
/// Inputs per pass: a panel slice of `KC × 16` floats is 16 KB.
const KC: usize = 256;
/// Row blocks per pass over a task's panels (96 rows: a packed input block of 96 KB).
const MC_BLOCKS: usize = 16;
/// Panels per parallel task (128 output columns).
const PANELS_PER_TASK: usize = 8;
/// How far ahead of the kernel the weights are prefetched, in floats (2 KB).
const PREFETCH_AHEAD: usize = 32 * NR;

/// Whether this CPU runs the packed kernels (x86-64 with AVX2 and FMA, detected at run time).
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A weight matrix `W` (`rows` outputs × `cols` inputs) in 16-column panels.
pub struct PackedMatrix {
    panels: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl std::fmt::Debug for PackedMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedMatrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .finish()
    }
}

impl PackedMatrix {
    /// Packs `w` (`rows × cols`, row-major).
    ///
    /// # Panics
    /// When `w.len() != rows * cols` (a bug in the caller).
    pub fn pack(w: &[f32], rows: usize, cols: usize) -> Self {
        assert_eq!(w.len(), rows * cols, "weight length");
        let count = rows.div_ceil(NR);
        let mut panels = vec![0f32; count * NR * cols];
        let mut rest = panels.as_mut_slice();
        for k0 in (0..cols).step_by(KC) {
            let kc = KC.min(cols - k0);
            let (block, after) = rest.split_at_mut(count * NR * kc);
            rest = after;
            block
                .par_chunks_mut(NR * kc)
                .enumerate()
                .for_each(|(panel, target)| {
                    for j in 0..NR.min(rows - panel * NR) {
                        let source = &w[(panel * NR + j) * cols + k0..][..kc];
                        for (p, &value) in source.iter().enumerate() {
                            target[p * NR + j] = value;
                        }
                    }
                });
        }
        Self { panels, rows, cols }
    }

    /// Output size (rows of `W`).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Input size (columns of `W`).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Copies row `j` of `W` into `out` (`cols` values): an embedding lookup.
    ///
    /// # Panics
    /// When `j >= rows` or `out.len() != cols` (the caller checks token ids first).
    pub fn row_into(&self, j: usize, out: &mut [f32]) {
        assert!(
            j < self.rows && out.len() == self.cols,
            "row {j} of {}",
            self.rows
        );
        let (panel, lane) = (j / NR, j % NR);
        for (p, value) in out.iter_mut().enumerate() {
            *value = self.panels[self.offset(panel, p - p % KC) + (p % KC) * NR + lane];
        }
    }

    /// Where the slice of `panel` for the inputs `k0..k0 + KC` starts: the panels are stored
    /// input block by input block (`[k block][panel][kc][16]`), so a task's panels for one
    /// block are one contiguous stream.
    fn offset(&self, panel: usize, k0: usize) -> usize {
        let kc = KC.min(self.cols - k0);
        k0 * NR * self.rows.div_ceil(NR) + panel * NR * kc
    }

    /// `W` back in its row-major layout (`rows × cols`).
    pub fn to_rows(&self) -> Vec<f32> {
        let mut w = vec![0f32; self.rows * self.cols];
        for (j, row) in w
            .chunks_exact_mut(self.cols.max(1))
            .enumerate()
            .take(self.rows)
        {
            self.row_into(j, row);
        }
        w
    }

    /// `x Wᵀ (+ bias)` for `x` of `m` rows (`m × cols`, row-major): `m × rows` values,
    /// row-major. `bias`, when given, holds one value per output (`rows`).
    ///
    /// # Panics
    /// When `x.len() != m * cols` or the bias has the wrong length, or when the CPU is not
    /// [`supported`] (packed matrices are only built where it is).
    pub fn matmul_transposed(&self, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
        let (n, k) = (self.rows, self.cols);
        assert_eq!(x.len(), m * k, "input length");
        assert!(bias.is_none_or(|b| b.len() == n), "bias length");
        assert!(supported(), "packed products need AVX2 and FMA");
        if m == 0 || n == 0 || k == 0 {
            return match bias {
                Some(bias) => bias.repeat(m),
                None => vec![0f32; m * n],
            };
        }
        let packed_x = pack_inputs(x, m, k);
        // Every value is written by the first pass over the inputs (k > 0), so the buffer is
        // not zeroed first.
        let mut out: Vec<f32> = Vec::with_capacity(m * n);
        let output = SharedOutput(out.as_mut_ptr());
        let panels = n.div_ceil(NR);
        (0..panels.div_ceil(PANELS_PER_TASK))
            .into_par_iter()
            .for_each(|task| {
                let first = task * PANELS_PER_TASK;
                let count = PANELS_PER_TASK.min(panels - first);
                // SAFETY: each task writes only the output columns of its own panels, which no
                // other task touches; `out` has room for m × n values; AVX2/FMA are present.
                unsafe { self.panel_range(&packed_x, m, first, count, bias, &output) };
            });
        // SAFETY: the tasks above wrote all m × n values (every panel, every row).
        unsafe { out.set_len(m * n) };
        out
    }

    /// Computes the output columns of panels `first..first + count` for every row.
    ///
    /// # Safety
    /// `output` must have room for `m × rows` values, no other thread may access those columns
    /// meanwhile, and the CPU must support AVX2 and FMA.
    unsafe fn panel_range(
        &self,
        packed_x: &[f32],
        m: usize,
        first: usize,
        count: usize,
        bias: Option<&[f32]>,
        output: &SharedOutput,
    ) {
        let (n, k) = (self.rows, self.cols);
        let row_blocks = m.div_ceil(MR);
        let mut x_offset = 0;
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for mc0 in (0..row_blocks).step_by(MC_BLOCKS) {
                let blocks = mc0..(mc0 + MC_BLOCKS).min(row_blocks);
                for panel in first..first + count {
                    let b = &self.panels[self.offset(panel, k0)..][..kc * NR];
                    let col = panel * NR;
                    let tile = Tile {
                        width: NR.min(n - col),
                        stride: n,
                        start: match (k0, bias) {
                            (0, Some(bias)) => Start::Bias(&bias[col..]),
                            (0, None) => Start::Zero,
                            _ => Start::Accumulate,
                        },
                    };
                    for block in blocks.clone() {
                        let a = &packed_x[x_offset + block * MR * kc..][..MR * kc];
                        // SAFETY: rows block·6.. of columns col..col + width lie in this task's
                        // part of the m × n output.
                        let c = output.0.add(block * MR * n + col);
                        // Only the first row block reads the panel from memory: it prefetches.
                        if block == 0 {
                            kernel::<true>(MR.min(m - block * MR), kc, a, b, c, &tile);
                        } else {
                            kernel::<false>(MR.min(m - block * MR), kc, a, b, c, &tile);
                        }
                    }
                }
            }
            x_offset += row_blocks * MR * kc;
        }
    }
}

/// The output's base pointer, shared by tasks that write disjoint columns.
struct SharedOutput(*mut f32);
// SAFETY: tasks write disjoint element ranges through it (see `matmul_transposed`).
unsafe impl Sync for SharedOutput {}

/// Inputs packed for the kernel: for each `KC` block of inputs and each 6-row block, `kc × 6`
/// values input-major (rows past the end are zero).
fn pack_inputs(x: &[f32], m: usize, k: usize) -> Vec<f32> {
    let row_blocks = m.div_ceil(MR);
    let mut packed = vec![0f32; row_blocks * MR * k];
    let mut rest = packed.as_mut_slice();
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        let (blocks, after) = rest.split_at_mut(row_blocks * MR * kc);
        rest = after;
        // Row blocks in parallel (a decoding step's 128 rows are 22 blocks; this runs on the
        // calling thread otherwise, while the pool waits).
        blocks
            .par_chunks_mut(MR * kc)
            .with_min_len(4)
            .enumerate()
            .for_each(|(block, target)| {
                let rows = MR.min(m - block * MR);
                if rows == MR {
                    // A full block: six input streams, one sequential output (no bounds checks
                    // in the loop).
                    let source: [&[f32]; MR] =
                        std::array::from_fn(|r| &x[(block * MR + r) * k + k0..][..kc]);
                    for (p, column) in target.chunks_exact_mut(MR).enumerate() {
                        for (value, row) in column.iter_mut().zip(&source) {
                            *value = row[p];
                        }
                    }
                } else {
                    for r in 0..rows {
                        let row = &x[(block * MR + r) * k + k0..][..kc];
                        for (p, &value) in row.iter().enumerate() {
                            target[p * MR + r] = value;
                        }
                    }
                }
            });
    }
    packed
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

/// Where a kernel's output tile lies: `width` (≤ 16) columns of rows `stride` apart.
struct Tile<'a> {
    width: usize,
    stride: usize,
    start: Start<'a>,
}

/// `c[r, j] = start[r, j] + Σ_p a[p * 6 + r] · b[p * 16 + j]` for the first `rows` rows and
/// `tile.width` columns.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `c` must be valid for those rows and columns.
#[inline(always)]
unsafe fn kernel<const PREFETCH: bool>(
    rows: usize,
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    tile: &Tile,
) {
    #[cfg(target_arch = "x86_64")]
    {
        match rows {
            6 => kernel_avx2::<6, PREFETCH>(kc, a, b, c, tile),
            5 => kernel_avx2::<5, PREFETCH>(kc, a, b, c, tile),
            4 => kernel_avx2::<4, PREFETCH>(kc, a, b, c, tile),
            3 => kernel_avx2::<3, PREFETCH>(kc, a, b, c, tile),
            2 => kernel_avx2::<2, PREFETCH>(kc, a, b, c, tile),
            _ => kernel_avx2::<1, PREFETCH>(kc, a, b, c, tile),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (rows, kc, a, b, c, tile);
        unreachable!("packed matrices are only built on CPUs with AVX2")
    }
}

/// The AVX2/FMA kernel for `R` rows: `2R` accumulators of eight columns, loaded from (or set
/// to) the tile's start, `kc` rank-one updates, stored once. Partial tiles use masked loads and
/// stores.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2<const R: usize, const PREFETCH: bool>(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    tile: &Tile,
) {
    use std::arch::x86_64::*;
    assert!(a.len() >= kc * MR && b.len() >= kc * NR, "kernel operands");
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
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    match tile.start {
        Start::Zero => {}
        Start::Bias(bias) => {
            let values = load!(bias.as_ptr());
            for row in acc.iter_mut() {
                *row = values;
            }
        }
        Start::Accumulate => {
            for (r, row) in acc.iter_mut().enumerate() {
                *row = load!(c.add(r * tile.stride) as *const f32);
            }
        }
    }
    let mut pa = a.as_ptr();
    let mut pb = b.as_ptr();
    for _ in 0..kc {
        // The weights stream from memory on a panel's first pass: fetch them ahead (a hint; an
        // address past the matrix is harmless).
        if PREFETCH {
            _mm_prefetch::<_MM_HINT_T0>(pb.wrapping_add(PREFETCH_AHEAD) as *const i8);
        }
        // SAFETY: kc steps of 6 (a) and 16 (b) values stay within the slices (asserted).
        let b0 = _mm256_loadu_ps(pb);
        let b1 = _mm256_loadu_ps(pb.add(8));
        for (r, row) in acc.iter_mut().enumerate() {
            let x = _mm256_broadcast_ss(&*pa.add(r));
            row[0] = _mm256_fmadd_ps(x, b0, row[0]);
            row[1] = _mm256_fmadd_ps(x, b1, row[1]);
        }
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    for (r, [low, high]) in acc.into_iter().enumerate() {
        let target = c.add(r * tile.stride);
        if full {
            _mm256_storeu_ps(target, low);
            _mm256_storeu_ps(target.add(8), high);
        } else {
            _mm256_maskstore_ps(target, mask_low, low);
            _mm256_maskstore_ps(target.add(8), mask_high, high);
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
    fn products_equal_the_naive_product_for_ragged_sizes() {
        if !supported() {
            eprintln!("skipping: this CPU has no AVX2/FMA");
            return;
        }
        // Sizes on both sides of every block: 6 rows, 16 columns, 96 rows, 128 columns, 256 inputs.
        for &(m, n, k) in &[
            (1, 1, 1),
            (7, 17, 3),
            (6, 16, 256),
            (13, 130, 257),
            (32, 515, 512),
            (97, 129, 600),
            (200, 33, 64),
        ] {
            let x: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32) * 0.5 - 3.0)
                .collect();
            let w: Vec<f32> = (0..n * k)
                .map(|i| ((i * 5 % 11) as f32) * 0.25 - 1.0)
                .collect();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.125 - 2.0).collect();
            let packed = PackedMatrix::pack(&w, n, k);
            let got = packed.matmul_transposed(&x, m, None);
            let want = naive(&x, m, &w, n, k);
            let with_bias = packed.matmul_transposed(&x, m, Some(&bias));
            for (i, (g, e)) in with_bias.iter().zip(&want).enumerate() {
                let e = e + bias[i % n];
                assert!(
                    (g - e).abs() <= 1e-4 * e.abs().max(1.0),
                    "({m},{n},{k}) with bias [{}, {}]: {g} vs {e}",
                    i / n,
                    i % n
                );
            }
            for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - e).abs() <= 1e-4 * e.abs().max(1.0),
                    "({m},{n},{k}) [{}, {}]: {g} vs {e}",
                    i / n,
                    i % n
                );
            }
        }
    }

    #[test]
    fn rows_read_back_from_the_panels_equal_the_matrix() {
        let (n, k) = (37, 11);
        let w: Vec<f32> = (0..n * k).map(|i| i as f32).collect();
        let packed = PackedMatrix::pack(&w, n, k);
        let mut row = vec![0f32; k];
        for j in 0..n {
            packed.row_into(j, &mut row);
            assert_eq!(row, &w[j * k..(j + 1) * k]);
        }
    }
}
