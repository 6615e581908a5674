//! Residual addition and layer normalisation in one pass over host values (the CPU path):
//! `norm(x + y)` for post-norm layers without the intermediate tensor. The arithmetic is candle's
//! CPU layer norm's, in the same order, so the values are the same bits.

use candle_core::{DType, Result, Tensor};
use candle_nn::LayerNorm;
use rayon::prelude::*;

/// `norm(xs + ys)` computed on the host, or `None` where this path does not apply (another
/// device or dtype, different shapes, a norm without bias or mean removal).
pub fn add_and_norm(xs: &Tensor, ys: &Tensor, norm: &LayerNorm) -> Result<Option<Tensor>> {
    let Some(bias) = norm.bias() else {
        return Ok(None);
    };
    let width = xs.dims().last().copied().unwrap_or(0);
    if !xs.device().is_cpu()
        || !ys.device().is_cpu()
        || xs.dtype() != DType::F32
        || ys.dtype() != DType::F32
        || xs.dims() != ys.dims()
        || !norm.remove_mean()
        || width == 0
        || norm.weight().elem_count() != width
        || bias.elem_count() != width
    {
        return Ok(None);
    }
    let weight = norm
        .weight()
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let bias = bias.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    let eps = norm.eps() as f32;
    let mut values = xs.flatten_all()?.to_vec1::<f32>()?;
    let residual = ys.flatten_all()?.to_vec1::<f32>()?;
    values
        .par_chunks_mut(width)
        .zip(residual.par_chunks(width))
        .for_each(|(row, added)| {
            for (value, &y) in row.iter_mut().zip(added) {
                *value += y;
            }
            let (mut sum, mut sum2) = (0f32, 0f32);
            for &v in row.iter() {
                sum += v;
                sum2 += v * v;
            }
            let mean = sum / width as f32;
            let var = sum2 / width as f32 - mean * mean;
            let inv_std = (var + eps).sqrt().recip();
            for ((value, &alpha), &beta) in row.iter_mut().zip(&weight).zip(&bias) {
                *value = (*value - mean) * inv_std * alpha + beta;
            }
        });
    Tensor::from_vec(values, xs.shape(), xs.device()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Module};

    #[test]
    fn equals_candles_add_then_layer_norm_bit_for_bit() {
        let device = Device::Cpu;
        let (rows, width) = (37, 96);
        let values = |seed: usize| -> Vec<f32> {
            (0..rows * width)
                .map(|i| (((i * 7919 + seed * 104_729) % 1013) as f32) * 0.01 - 5.0)
                .collect()
        };
        let xs = Tensor::from_vec(values(1), (1, rows, width), &device).unwrap();
        let ys = Tensor::from_vec(values(2), (1, rows, width), &device).unwrap();
        let weight: Vec<f32> = (0..width).map(|i| 0.5 + i as f32 * 0.01).collect();
        let bias: Vec<f32> = (0..width).map(|i| i as f32 * -0.02).collect();
        let norm = LayerNorm::new(
            Tensor::new(weight.as_slice(), &device).unwrap(),
            Tensor::new(bias.as_slice(), &device).unwrap(),
            1e-5,
        );
        let want = norm.forward(&(&xs + &ys).unwrap()).unwrap();
        let got = add_and_norm(&xs, &ys, &norm).unwrap().expect("host path");
        assert_eq!(got.dims(), want.dims());
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(&got), flat(&want));
    }

    #[test]
    fn other_shapes_and_norms_are_left_to_candle() {
        let device = Device::Cpu;
        let xs = Tensor::zeros((2, 4), DType::F32, &device).unwrap();
        let ys = Tensor::zeros((2, 3), DType::F32, &device).unwrap();
        let norm = LayerNorm::new(
            Tensor::ones(4, DType::F32, &device).unwrap(),
            Tensor::zeros(4, DType::F32, &device).unwrap(),
            1e-5,
        );
        assert!(add_and_norm(&xs, &ys, &norm).unwrap().is_none());
        let rms = LayerNorm::rms_norm(Tensor::ones(4, DType::F32, &device).unwrap(), 1e-5);
        assert!(add_and_norm(&xs, &xs, &rms).unwrap().is_none());
    }
}
