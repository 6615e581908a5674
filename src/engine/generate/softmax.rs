//! Log-softmax over one row of logits, in place and vectorized: the search runs it on every row
//! of every step over the whole vocabulary (59,514 entries for opus-mt), so it must not be a
//! scalar `exp` per entry.
//!
//! `exp` is evaluated with the classic Cephes single-precision scheme (range reduction by
//! `ln 2` in two parts, a degree-5 polynomial, exponent bits set directly), which is within
//! 2 ulp of `f32::exp`. On x86-64 with AVX2/FMA (detected at run time) eight lanes are computed
//! at once with explicit intrinsics; the portable version is the same arithmetic one value at a
//! time (the compiler cannot vectorize it by itself: the float-to-int conversion saturates).

/// `row[i] = row[i] - max - ln(Σ exp(row[j] - max))`, like PyTorch's `log_softmax`. A row
/// without any finite value is left as it is.
pub fn log_softmax_in_place(row: &mut [f32]) {
    let Some((max, log_sum)) = log_softmax_shift(row) else {
        return;
    };
    for x in row.iter_mut() {
        *x = (*x - max) - log_sum;
    }
}

/// `log_softmax(row)[index]` without writing the row: the same value [`log_softmax_in_place`]
/// would leave at `index` (the row itself when it has no finite value).
///
/// # Panics
/// When `index` is out of bounds.
pub fn log_softmax_at(row: &[f32], index: usize) -> f32 {
    match log_softmax_shift(row) {
        Some((max, log_sum)) => (row[index] - max) - log_sum,
        None => row[index],
    }
}

/// The row's maximum and `ln Σ exp(x - max)`, or `None` when no value is finite: the log-softmax
/// of `x` is `(x - max) - ln Σ`.
pub fn log_softmax_shift(row: &[f32]) -> Option<(f32, f32)> {
    let max = max_of(row);
    if !max.is_finite() {
        return None;
    }
    Some((max, sum_exp_shifted(row, max).ln()))
}

/// The log-softmax of `row` as a new vector.
pub fn log_softmax(row: &[f32]) -> Vec<f32> {
    let mut out = row.to_vec();
    log_softmax_in_place(&mut out);
    out
}

/// The largest value (NaN-ignoring; `-inf` for an empty row).
fn max_of(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane = if x > *lane { x } else { *lane };
        }
    }
    let mut max = tail.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for lane in lanes {
        max = max.max(lane);
    }
    max
}

/// `values[i] = e^(values[i] - shift)` (each `values[i] ≤ shift`), returning their sum: the
/// exponentials of a softmax, vectorized where the CPU has AVX2/FMA.
pub(crate) fn exp_shifted_in_place(values: &mut [f32], shift: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { exp_shifted_in_place_avx2(values, shift) };
        }
    }
    let mut sum = 0f32;
    for value in values.iter_mut() {
        *value = exp(*value - shift);
        sum += *value;
    }
    sum
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_shifted_in_place_avx2(values: &mut [f32], shift: f32) -> f32 {
    use std::arch::x86_64::*;
    let shift_vector = _mm256_set1_ps(shift);
    let mut acc = _mm256_setzero_ps();
    let mut chunks = values.chunks_exact_mut(8);
    for chunk in &mut chunks {
        // SAFETY: `chunk` holds exactly eight values.
        let e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(chunk.as_ptr()), shift_vector));
        _mm256_storeu_ps(chunk.as_mut_ptr(), e);
        acc = _mm256_add_ps(acc, e);
    }
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), acc);
    let mut sum: f32 = lanes.iter().sum();
    for value in chunks.into_remainder() {
        *value = exp(*value - shift);
        sum += *value;
    }
    sum
}

/// `values[i] = e^values[i]` for values `≤ 0` (vectorized where the CPU has AVX2/FMA; the
/// same arithmetic as the softmax's exponentials).
pub(crate) fn exp_negative_in_place(values: &mut [f32]) {
    exp_shifted_in_place(values, 0.0);
}

/// `Σ exp(x - max)` over `row`, accumulated in eight f32 lanes and summed in f64.
fn sum_exp_shifted(row: &[f32], max: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { sum_exp_shifted_avx2(row, max) };
        }
    }
    sum_exp_shifted_portable(row, max)
}

/// [`sum_exp_shifted_portable`] eight lanes at a time: lane `i` accumulates the entries
/// `i, i + 8, …` in the same order, and the lanes and the tail are summed in f64 the same way.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sum_exp_shifted_avx2(row: &[f32], max: f32) -> f32 {
    use std::arch::x86_64::*;
    let shift = _mm256_set1_ps(max);
    let mut acc = _mm256_setzero_ps();
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        // SAFETY: `chunk` holds exactly eight values.
        let x = _mm256_sub_ps(_mm256_loadu_ps(chunk.as_ptr()), shift);
        acc = _mm256_add_ps(acc, exp_avx2(x));
    }
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), acc);
    let mut sum: f64 = tail.iter().map(|&x| f64::from(exp(x - max))).sum();
    for lane in lanes {
        sum += f64::from(lane);
    }
    sum as f32
}

/// [`exp`] on eight lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn exp_avx2(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let lowest = _mm256_set1_ps(-87.3);
    let underflow = _mm256_cmp_ps::<_CMP_LT_OQ>(x, lowest);
    let x = _mm256_max_ps(x, lowest);
    let n = _mm256_floor_ps(_mm256_add_ps(
        _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)),
        _mm256_set1_ps(0.5),
    ));
    let r = _mm256_sub_ps(
        _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(LN2_HI))),
        _mm256_mul_ps(n, _mm256_set1_ps(LN2_LO)),
    );
    let mut p = _mm256_set1_ps(EXP_POLY[0]);
    for &c in &EXP_POLY[1..] {
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c));
    }
    let y = _mm256_add_ps(
        _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r),
        _mm256_set1_ps(1.0),
    );
    // 2^n through the exponent bits (n is in [-126, 0] here).
    let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    ));
    let value = _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
    _mm256_andnot_ps(underflow, value)
}

#[inline(always)]
fn sum_exp_shifted_portable(row: &[f32], max: f32) -> f32 {
    let mut lanes = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += exp(x - max);
        }
    }
    let mut sum: f64 = tail.iter().map(|&x| f64::from(exp(x - max))).sum();
    for lane in lanes {
        sum += f64::from(lane);
    }
    sum as f32
}

/// `e^x` for `x ≤ 0` (the shifted logits), Cephes' `expf`: exact enough for a softmax (≤ 2 ulp)
/// and branch-free so that it vectorizes. Values below −87.3 (and −∞) give 0.
/// `ln 2` split in two for an exact range reduction (Cephes).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Cephes' polynomial for `(e^r - 1 - r) / r²` on `|r| ≤ ln 2 / 2`, highest degree first.
const EXP_POLY: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `e^x` for `x ≤ 0` (the shifted logits), Cephes' `expf`: exact enough for a softmax (≤ 2 ulp).
/// Values below −87.3 (and −∞) give 0.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let underflow = x < -87.3;
    let x = x.max(-87.3);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = EXP_POLY[0];
    for &c in &EXP_POLY[1..] {
        p = p * r + c;
    }
    let y = p * r * r + r + 1.0;
    // 2^n through the exponent bits (n is in [-126, 0] here).
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if underflow {
        0.0
    } else {
        y * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(row: &[f32]) -> Vec<f32> {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = row.iter().map(|&x| f64::from(x - max).exp()).sum();
        row.iter()
            .map(|&x| (f64::from(x - max) - sum.ln()) as f32)
            .collect()
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_standard_one_on_the_shifted_range() {
        let mut x = -87.0f32;
        while x <= 0.0 {
            let (got, want) = (exp(x), x.exp());
            let ulp = (want.to_bits() as i64 - got.to_bits() as i64).abs();
            assert!(ulp <= 2, "exp({x}) = {got}, expected {want} ({ulp} ulp)");
            x += 0.0137;
        }
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-200.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn log_softmax_matches_the_f64_reference_on_a_vocabulary_sized_row() {
        let mut row: Vec<f32> = (0..59_514)
            .map(|i| ((i as f32 * 0.618_034).fract() - 0.5) * 30.0)
            .collect();
        row[7] = f32::NEG_INFINITY;
        row[59_513] = f32::NEG_INFINITY;
        let expected = reference(&row);
        log_softmax_in_place(&mut row);
        for (i, (&got, &want)) in row.iter().zip(&expected).enumerate() {
            if want.is_finite() {
                assert!((got - want).abs() <= 2e-5, "entry {i}: {got} vs {want}");
            } else {
                assert_eq!(got, want, "entry {i}");
            }
        }
        let total: f64 = row.iter().map(|&x| f64::from(x).exp()).sum();
        assert!((total - 1.0).abs() < 1e-5, "probabilities sum to {total}");
    }

    #[test]
    fn the_vectorized_sum_equals_the_portable_one_bit_for_bit() {
        let row: Vec<f32> = (0..59_514)
            .map(|i| ((i as f32 * 0.618_034).fract() - 0.9) * 120.0)
            .chain([f32::NEG_INFINITY, -87.2, -87.4, 0.0])
            .collect();
        let max = max_of(&row);
        assert_eq!(
            sum_exp_shifted(&row, max).to_bits(),
            sum_exp_shifted_portable(&row, max).to_bits()
        );
    }

    #[test]
    fn one_entry_of_the_log_softmax_equals_the_whole_rows_entry() {
        let row: Vec<f32> = (0..1_001).map(|i| (i as f32 * 0.37).sin() * 9.0).collect();
        let mut whole = row.clone();
        log_softmax_in_place(&mut whole);
        for index in [0, 17, 500, 1_000] {
            assert_eq!(log_softmax_at(&row, index), whole[index]);
        }
        let banned = [f32::NEG_INFINITY; 3];
        assert_eq!(log_softmax_at(&banned, 1), f32::NEG_INFINITY);
    }

    #[test]
    fn exponentials_in_place_are_within_two_ulp_and_sum_up() {
        let mut values: Vec<f32> = (0..37).map(|i| -(i as f32) * 0.77).collect();
        let expected: Vec<f32> = values.iter().map(|&v| (v - 0.5).exp()).collect();
        let sum = exp_shifted_in_place(&mut values, 0.5);
        for (got, want) in values.iter().zip(&expected) {
            let ulp = (want.to_bits() as i64 - got.to_bits() as i64).abs();
            assert!(ulp <= 2, "{got} vs {want}");
        }
        let total: f32 = expected.iter().sum();
        assert!((sum - total).abs() <= 1e-5 * total);
    }

    #[test]
    fn rows_without_a_finite_value_and_short_rows_are_handled() {
        let mut all_banned = vec![f32::NEG_INFINITY; 5];
        log_softmax_in_place(&mut all_banned);
        assert!(all_banned.iter().all(|x| *x == f32::NEG_INFINITY));
        let mut short = vec![1.0, 2.0, 3.0];
        log_softmax_in_place(&mut short);
        let expected = reference(&[1.0, 2.0, 3.0]);
        for (got, want) in short.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-6);
        }
        assert_eq!(log_softmax(&[0.0, 0.0]), vec![-std::f32::consts::LN_2; 2]);
    }
}
