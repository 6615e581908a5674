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

    /// `x Wᵀ` for `x` of `m` rows (`m × cols`, row-major): `m × rows` values, row-major.
    ///
    /// # Panics
    /// When `x.len() != m * cols`, or when the CPU is not [`supported`] (packed matrices are
    /// only built where it is).
    pub fn matmul_transposed(&self, x: &[f32], m: usize) -> Vec<f32> {
        let (n, k) = (self.rows, self.cols);
        assert_eq!(x.len(), m * k, "input length");
        assert!(supported(), "packed products need AVX2 and FMA");
        let mut out = vec![0f32; m * n];
        if m == 0 || n == 0 || k == 0 {
            return out;
        }
        let packed_x = pack_inputs(x, m, k);
        let output = SharedOutput(out.as_mut_ptr());
        let panels = n.div_ceil(NR);
        (0..panels.div_ceil(PANELS_PER_TASK))
            .into_par_iter()
            .for_each(|task| {
                let first = task * PANELS_PER_TASK;
                let count = PANELS_PER_TASK.min(panels - first);
                // SAFETY: each task writes only the output columns of its own panels, which no
                // other task touches; `out` outlives the loop; AVX2/FMA are present (asserted).
                unsafe { self.panel_range(&packed_x, m, first, count, &output) };
            });
        out
    }

    /// Computes the output columns of panels `first..first + count` for every row.
    ///
    /// # Safety
    /// No other thread may access those columns of `output` (`m × rows`) meanwhile, and the CPU
    /// must support AVX2 and FMA.
    unsafe fn panel_range(
        &self,
        packed_x: &[f32],
        m: usize,
        first: usize,
        count: usize,
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
                    let width = NR.min(n - col);
                    for block in blocks.clone() {
                        let a = &packed_x[x_offset + block * MR * kc..][..MR * kc];
                        let mut tile = [0f32; MR * NR];
                        kernel(kc, a, b, &mut tile);
                        for r in 0..MR.min(m - block * MR) {
                            // SAFETY: the row is < m and columns col..col + width belong to
                            // this task's panels of an m × n buffer.
                            let target = output.0.add((block * MR + r) * n + col);
                            let values = &tile[r * NR..r * NR + width];
                            if k0 == 0 {
                                std::ptr::copy_nonoverlapping(values.as_ptr(), target, width);
                            } else {
                                for (j, &value) in values.iter().enumerate() {
                                    *target.add(j) += value;
                                }
                            }
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
    let mut offset = 0;
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        for block in 0..row_blocks {
            let target = &mut packed[offset..offset + MR * kc];
            for r in 0..MR.min(m - block * MR) {
                let row = &x[(block * MR + r) * k + k0..][..kc];
                for (p, &value) in row.iter().enumerate() {
                    target[p * MR + r] = value;
                }
            }
            offset += MR * kc;
        }
    }
    packed
}

/// `tile[r * 16 + j] = Σ_p a[p * 6 + r] · b[p * 16 + j]`.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[inline(always)]
unsafe fn kernel(kc: usize, a: &[f32], b: &[f32], tile: &mut [f32; MR * NR]) {
    #[cfg(target_arch = "x86_64")]
    {
        kernel_avx2(kc, a, b, tile)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (kc, a, b, tile);
        unreachable!("packed matrices are only built on CPUs with AVX2")
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2(kc: usize, a: &[f32], b: &[f32], tile: &mut [f32; MR * NR]) {
    use std::arch::x86_64::*;
    assert!(a.len() >= kc * MR && b.len() >= kc * NR, "kernel operands");
    let (mut c00, mut c01) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut c10, mut c11) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut c20, mut c21) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut c30, mut c31) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut c40, mut c41) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut c50, mut c51) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut pa = a.as_ptr();
    let mut pb = b.as_ptr();
    for _ in 0..kc {
        // The weights stream from memory on a panel's first pass: fetch them ahead (a hint; an
        // address past the matrix is harmless).
        _mm_prefetch::<_MM_HINT_T0>(pb.wrapping_add(PREFETCH_AHEAD) as *const i8);
        // SAFETY: kc steps of 6 (a) and 16 (b) values stay within the slices (asserted).
        let b0 = _mm256_loadu_ps(pb);
        let b1 = _mm256_loadu_ps(pb.add(8));
        let a0 = _mm256_broadcast_ss(&*pa);
        c00 = _mm256_fmadd_ps(a0, b0, c00);
        c01 = _mm256_fmadd_ps(a0, b1, c01);
        let a1 = _mm256_broadcast_ss(&*pa.add(1));
        c10 = _mm256_fmadd_ps(a1, b0, c10);
        c11 = _mm256_fmadd_ps(a1, b1, c11);
        let a2 = _mm256_broadcast_ss(&*pa.add(2));
        c20 = _mm256_fmadd_ps(a2, b0, c20);
        c21 = _mm256_fmadd_ps(a2, b1, c21);
        let a3 = _mm256_broadcast_ss(&*pa.add(3));
        c30 = _mm256_fmadd_ps(a3, b0, c30);
        c31 = _mm256_fmadd_ps(a3, b1, c31);
        let a4 = _mm256_broadcast_ss(&*pa.add(4));
        c40 = _mm256_fmadd_ps(a4, b0, c40);
        c41 = _mm256_fmadd_ps(a4, b1, c41);
        let a5 = _mm256_broadcast_ss(&*pa.add(5));
        c50 = _mm256_fmadd_ps(a5, b0, c50);
        c51 = _mm256_fmadd_ps(a5, b1, c51);
        pa = pa.add(MR);
        pb = pb.add(NR);
    }
    let out = tile.as_mut_ptr();
    let rows = [
        (c00, c01),
        (c10, c11),
        (c20, c21),
        (c30, c31),
        (c40, c41),
        (c50, c51),
    ];
    for (r, (low, high)) in rows.into_iter().enumerate() {
        _mm256_storeu_ps(out.add(r * NR), low);
        _mm256_storeu_ps(out.add(r * NR + 8), high);
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
            let got = PackedMatrix::pack(&w, n, k).matmul_transposed(&x, m);
            let want = naive(&x, m, &w, n, k);
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
