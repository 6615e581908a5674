//! Activations applied in place to host values, between two products that already live in host
//! memory (the packed feed-forward layers on the CPU): no tensor round trip, and SiLU's
//! exponential eight lanes at a time (candle's CPU SiLU calls the scalar `expf` per value).

use super::config::Activation;
use super::generate::exp_negative_in_place;

/// Whether [`apply_in_place`] implements `activation` (the others stay candle's).
pub fn on_host(activation: Activation) -> bool {
    matches!(activation, Activation::Silu | Activation::Relu)
}

/// Applies `activation` to every value; `false` (values untouched) when [`on_host`] does not
/// hold for it.
pub fn apply_in_place(activation: Activation, values: &mut [f32]) -> bool {
    match activation {
        Activation::Silu => silu_in_place(values),
        Activation::Relu => values.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Gelu | Activation::GeluTanh => return false,
    }
    true
}

/// `x · σ(x)`, with `σ` from `e = exp(-|x|)` (never overflows): `1 / (1 + e)` for `x ≥ 0`,
/// `e / (1 + e)` below.
fn silu_in_place(values: &mut [f32]) {
    const CHUNK: usize = 256;
    let mut e = [0f32; CHUNK];
    for chunk in values.chunks_mut(CHUNK) {
        let e = &mut e[..chunk.len()];
        for (e, &x) in e.iter_mut().zip(chunk.iter()) {
            *e = -x.abs();
        }
        exp_negative_in_place(e);
        for (x, &e) in chunk.iter_mut().zip(e.iter()) {
            let sigmoid = if *x >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            *x *= sigmoid;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silu_matches_the_f64_formula_everywhere() {
        let mut values: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.05).collect();
        values.extend([
            0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 200.0, -200.0, 1e30, -1e30,
        ]);
        let mut got = values.clone();
        assert!(apply_in_place(Activation::Silu, &mut got));
        for (&x, &y) in values.iter().zip(&got) {
            let want = (f64::from(x) / (1.0 + (-f64::from(x)).exp())) as f32;
            assert!(
                (y - want).abs() <= 8.0 * f32::EPSILON * want.abs() + 1e-30,
                "silu({x}) = {y}, want {want}"
            );
        }
    }

    #[test]
    fn relu_clamps_and_gelu_is_left_to_candle() {
        let mut values = vec![-1.0, 0.5, -0.0, 3.0];
        assert!(apply_in_place(Activation::Relu, &mut values));
        assert_eq!(values, vec![0.0, 0.5, 0.0, 3.0]);
        let mut values = vec![1.0];
        assert!(!apply_in_place(Activation::Gelu, &mut values));
        assert!(!on_host(Activation::GeluTanh));
        assert_eq!(values, vec![1.0]);
    }
}
