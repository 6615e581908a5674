//! Products of a few rows with a weight matrix, `y = x Wᵀ` for `x` of at most [`MAX_ROWS`] rows
//! and `W` stored as the checkpoint has it (`[out, in]`, row-major), on the CPU in f32.
//!
//! This is the fallback for CPUs without AVX2/FMA, where weights are not packed (`packed`
//! handles every row count where they are): with a handful of rows the product is bound by
//! reading the weights, and a general GEMM (candle's `gemm` crate) packs and strides through
//! them at a fraction of the memory bandwidth. Here each weight row is read once, for all input
//! rows at once, with 8-lane dot products the compiler vectorizes, the output columns split
//! across rayon's threads.

use rayon::prelude::*;

/// The most input rows this kernel takes; above it a GEMM wins.
pub const MAX_ROWS: usize = 8;

/// Output columns per parallel task.
const COLUMNS_PER_TASK: usize = 256;

/// `out[r * n + j] = Σ_k x[r * k_dim + k] · w[j * k_dim + k]` for `rows ≤ MAX_ROWS`.
///
/// # Panics
/// When the slices' lengths disagree with `rows`, `n` and `k_dim` (a bug in the caller).
pub fn matmul_transposed(x: &[f32], rows: usize, w: &[f32], n: usize, k_dim: usize) -> Vec<f32> {
    assert!(
        rows <= MAX_ROWS && rows > 0,
        "skinny product of {rows} rows"
    );
    assert_eq!(x.len(), rows * k_dim, "input length");
    assert_eq!(w.len(), n * k_dim, "weight length");
    // Column-major while computing (each task owns a contiguous range of columns).
    let mut by_column = vec![0f32; n * rows];
    by_column
        .par_chunks_mut(COLUMNS_PER_TASK * rows)
        .enumerate()
        .for_each(|(task, out)| {
            let first = task * COLUMNS_PER_TASK;
            let columns = out.len() / rows;
            dot_columns(
                x,
                rows,
                &w[first * k_dim..(first + columns) * k_dim],
                k_dim,
                out,
            );
        });
    let mut result = vec![0f32; rows * n];
    for (j, column) in by_column.chunks_exact(rows).enumerate() {
        for (r, &value) in column.iter().enumerate() {
            result[r * n + j] = value;
        }
    }
    result
}

fn dot_columns(x: &[f32], rows: usize, w: &[f32], k_dim: usize, out: &mut [f32]) {
    dot_columns_portable(x, rows, w, k_dim, out)
}

#[inline(always)]
fn dot_columns_portable(x: &[f32], rows: usize, w: &[f32], k_dim: usize, out: &mut [f32]) {
    for (weights, column) in w.chunks_exact(k_dim).zip(out.chunks_exact_mut(rows)) {
        for (r, value) in column.iter_mut().enumerate() {
            *value = dot(&x[r * k_dim..(r + 1) * k_dim], weights);
        }
    }
}

/// A dot product in eight independent lanes (so that it vectorizes and pipelines).
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for i in 0..8 {
            lanes[i] += ca[i] * cb[i];
        }
    }
    let pairs = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_naive_product_for_every_row_count_and_odd_sizes() {
        for &(rows, n, k) in &[(1, 5, 3), (3, 517, 67), (8, 1031, 512), (2, 256, 8)] {
            let x: Vec<f32> = (0..rows * k).map(|i| ((i * 7 % 13) as f32) - 6.0).collect();
            let w: Vec<f32> = (0..n * k)
                .map(|i| ((i * 5 % 11) as f32) * 0.25 - 1.0)
                .collect();
            let got = matmul_transposed(&x, rows, &w, n, k);
            for r in 0..rows {
                for j in 0..n {
                    let want: f32 = (0..k).map(|i| x[r * k + i] * w[j * k + i]).sum();
                    let value = got[r * n + j];
                    assert!(
                        (value - want).abs() <= 1e-3 * want.abs().max(1.0),
                        "({rows},{n},{k}) [{r},{j}]: {value} vs {want}"
                    );
                }
            }
        }
    }
}
