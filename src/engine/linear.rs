//! Dense (fully connected) layers in full precision or quantized to 8 bits.
//!
//! Full precision: on a CPU with AVX2/FMA the weight is packed at load for [`packed`]'s GEMM
//! (`Dense::Packed`); elsewhere it stays candle's [`Linear`] (the few-rows kernel `skinny` on the
//! CPU, candle's GEMM otherwise).
//!
//! int8: on a CPU with AVX2 each weight matrix is quantized at load per output row and packed
//! for [`packed_int8`]'s integer GEMM (`Dense::PackedInt8`; activations quantized per row to
//! 16 bits at each product). Elsewhere (other CPUs, CUDA) it is quantized to ggml's `Q8_0`
//! format (blocks of 32 signed bytes with one f16 scale) and multiplied with candle's quantized
//! kernels (`Dense::Int8`). Embeddings, layer norms and biases stay f32.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Module, Result, Storage, Tensor};
use candle_nn::Linear;

use super::packed::{self, PackedMatrix};
use super::packed_int8::{self, PackedInt8};
use super::skinny;

/// How a model's weight matrices are stored and multiplied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantization {
    /// f32 weights, f32 products.
    #[default]
    None,
    /// Weights quantized to 8 bits at load; activations quantized per product.
    Int8,
}

impl Quantization {
    /// The name used on the command line and in reports (`none`, `int8`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Int8 => "int8",
        }
    }
}

/// A dense layer `y = x Wᵀ + b`, in f32 or int8.
#[derive(Debug, Clone)]
pub enum Dense {
    /// Full precision.
    Float(Linear),
    /// Full precision, the weight packed for this CPU's kernels ([`packed`]).
    Packed {
        /// The packed weight (`[out, in]`).
        weight: std::sync::Arc<PackedMatrix>,
        /// The bias, if any.
        bias: Option<Tensor>,
    },
    /// Weight quantized to int8 per output row and packed for this CPU's integer kernels
    /// ([`packed_int8`]), bias kept f32.
    PackedInt8 {
        /// The quantized, packed weight (`[out, in]`).
        weight: std::sync::Arc<PackedInt8>,
        /// The bias, if any.
        bias: Option<Tensor>,
    },
    /// Weight quantized to `Q8_0` (candle's kernels), bias kept f32.
    Int8 {
        /// The quantized weight (`[out, in]`).
        weight: QMatMul,
        /// The bias, if any.
        bias: Option<Tensor>,
    },
}

impl Dense {
    /// A full-precision layer with `weight` (`[out, in]`) and an optional bias.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self::Float(Linear::new(weight, bias))
    }

    /// The same layer stored as `quantization` asks (an int8 layer stays int8). A matrix whose
    /// input size is not a multiple of the 32-value block stays f32. On a CPU with AVX2/FMA an
    /// f32 layer is packed for the CPU's kernels (same values, another layout).
    pub fn quantized(&self, quantization: Quantization) -> Result<Self> {
        match (self, quantization) {
            (Self::Float(linear), Quantization::None) => match pack(linear.weight())? {
                Some(weight) => Ok(Self::Packed {
                    weight: std::sync::Arc::new(weight),
                    bias: linear.bias().cloned(),
                }),
                None => Ok(self.clone()),
            },
            (Self::Float(linear), Quantization::Int8) => {
                if let Some(weight) = pack_int8(linear.weight())? {
                    return Ok(Self::PackedInt8 {
                        weight: std::sync::Arc::new(weight),
                        bias: linear.bias().cloned(),
                    });
                }
                if linear.weight().dim(1)? % GgmlDType::Q8_0.block_size() != 0 {
                    return Ok(self.clone());
                }
                let weight = QTensor::quantize(linear.weight(), GgmlDType::Q8_0)?;
                Ok(Self::Int8 {
                    weight: QMatMul::from_qtensor(weight)?,
                    bias: linear.bias().cloned(),
                })
            }
            (Self::Packed { weight, bias }, Quantization::Int8) => Ok(Self::PackedInt8 {
                weight: std::sync::Arc::new(PackedInt8::quantize(
                    &weight.to_rows(),
                    weight.rows(),
                    weight.cols(),
                )),
                bias: bias.clone(),
            }),
            _ => Ok(self.clone()),
        }
    }
}

/// Runs `f` on the values of the 2-D f32 CPU tensor `weight` (`rows × cols`, row-major) without
/// copying them; `None` for another device or dtype.
fn with_cpu_values<T>(
    weight: &Tensor,
    f: impl FnOnce(&[f32], usize, usize) -> T,
) -> Result<Option<T>> {
    if !weight.device().is_cpu() || weight.dtype() != DType::F32 {
        return Ok(None);
    }
    let (n, k) = weight.dims2()?;
    let values = weight.contiguous()?;
    let (storage, layout) = values.storage_and_layout();
    let Storage::Cpu(storage) = &*storage else {
        return Ok(None);
    };
    let w = &storage.as_slice::<f32>()?[layout.start_offset()..layout.start_offset() + n * k];
    Ok(Some(f(w, n, k)))
}

/// `weight` packed for the CPU kernels, or `None` where they do not apply (another device or
/// dtype, a CPU without AVX2/FMA).
pub fn pack(weight: &Tensor) -> Result<Option<PackedMatrix>> {
    if !packed::supported() {
        return Ok(None);
    }
    with_cpu_values(weight, PackedMatrix::pack)
}

/// `weight` quantized and packed for the int8 kernels, or `None` where they do not apply
/// (another device or dtype, a CPU without AVX2).
pub fn pack_int8(weight: &Tensor) -> Result<Option<PackedInt8>> {
    if !packed_int8::supported() {
        return Ok(None);
    }
    with_cpu_values(weight, PackedInt8::quantize)
}

/// A weight matrix held in host memory in a layout of our own kernels.
trait HostWeight {
    fn outputs(&self) -> usize;
    fn inputs(&self) -> usize;
    fn product(&self, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32>;
}

impl HostWeight for PackedMatrix {
    fn outputs(&self) -> usize {
        self.rows()
    }
    fn inputs(&self) -> usize {
        self.cols()
    }
    fn product(&self, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
        self.matmul_transposed(x, m, bias)
    }
}

impl HostWeight for PackedInt8 {
    fn outputs(&self) -> usize {
        self.rows()
    }
    fn inputs(&self) -> usize {
        self.cols()
    }
    fn product(&self, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
        self.matmul_transposed(x, m, bias)
    }
}

/// `xs Wᵀ + bias` with a host-packed `W` (the bias added in the product's first pass).
fn packed_product(xs: &Tensor, weight: &dyn HostWeight, bias: Option<&Tensor>) -> Result<Tensor> {
    let y = packed_values(xs, weight, bias)?;
    let mut shape = xs.dims().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = weight.outputs();
    }
    Tensor::from_vec(y, shape, xs.device())
}

/// [`packed_product`]'s values, row-major.
fn packed_values(xs: &Tensor, weight: &dyn HostWeight, bias: Option<&Tensor>) -> Result<Vec<f32>> {
    let k = weight.inputs();
    let dims = xs.dims();
    if dims.last() != Some(&k) {
        candle_core::bail!("dense layer of {k} inputs applied to a tensor of shape {dims:?}");
    }
    let rows = xs.elem_count() / k.max(1);
    let x = xs.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    host_values(&x, rows, weight, bias)
}

/// `x Wᵀ + bias` for `rows` host rows `x` (`rows × inputs`, row-major).
fn host_values(
    x: &[f32],
    rows: usize,
    weight: &dyn HostWeight,
    bias: Option<&Tensor>,
) -> Result<Vec<f32>> {
    if x.len() != rows * weight.inputs() {
        candle_core::bail!(
            "dense layer of {} inputs applied to {} values in {rows} rows",
            weight.inputs(),
            x.len()
        );
    }
    let bias = bias
        .map(|b| b.to_dtype(DType::F32)?.to_vec1::<f32>())
        .transpose()?;
    if bias.as_ref().is_some_and(|b| b.len() != weight.outputs()) {
        candle_core::bail!(
            "bias of a dense layer with {} outputs has the wrong size",
            weight.outputs()
        );
    }
    Ok(weight.product(x, rows, bias.as_deref()))
}

/// `xs Wᵀ` with the few-rows kernel when it applies (CPU, f32, at most
/// [`skinny::MAX_ROWS`] rows), else `None`.
fn skinny_product(xs: &Tensor, weight: &Tensor) -> Result<Option<Tensor>> {
    let (n, k) = weight.dims2()?;
    let dims = xs.dims();
    let rows = xs.elem_count() / k.max(1);
    if !xs.device().is_cpu()
        || xs.dtype() != DType::F32
        || weight.dtype() != DType::F32
        || dims.last() != Some(&k)
        || rows == 0
        || rows > skinny::MAX_ROWS
        || !weight.is_contiguous()
    {
        return Ok(None);
    }
    let x = xs.flatten_all()?.to_vec1::<f32>()?;
    let Some(y) = with_cpu_values(weight, |w, n, k| {
        skinny::matmul_transposed(&x, rows, w, n, k)
    })?
    else {
        return Ok(None);
    };
    let mut shape = dims.to_vec();
    if let Some(last) = shape.last_mut() {
        *last = n;
    }
    Ok(Some(Tensor::from_vec(y, shape, xs.device())?))
}

impl Dense {
    /// Whether the weight lives in host memory in our own kernels' layout, so that
    /// [`Dense::forward_host`] applies.
    pub fn is_host(&self) -> bool {
        matches!(self, Self::Packed { .. } | Self::PackedInt8 { .. })
    }

    /// `x Wᵀ + b` for `rows` rows of host values (`rows × inputs`, row-major), without tensors;
    /// `None` unless [`Dense::is_host`].
    pub fn forward_host(&self, x: &[f32], rows: usize) -> Result<Option<Vec<f32>>> {
        match self {
            Self::Packed { weight, bias } => {
                host_values(x, rows, weight.as_ref(), bias.as_ref()).map(Some)
            }
            Self::PackedInt8 { weight, bias } => {
                host_values(x, rows, weight.as_ref(), bias.as_ref()).map(Some)
            }
            Self::Float(_) | Self::Int8 { .. } => Ok(None),
        }
    }

    /// [`Module::forward`]'s values in host memory, row-major: a packed layer writes them there
    /// directly, the others copy them out of the tensor.
    pub fn forward_values(&self, xs: &Tensor) -> Result<Vec<f32>> {
        match self {
            Self::Packed { weight, bias } if xs.device().is_cpu() => {
                packed_values(xs, weight.as_ref(), bias.as_ref())
            }
            Self::PackedInt8 { weight, bias } if xs.device().is_cpu() => {
                packed_values(xs, weight.as_ref(), bias.as_ref())
            }
            _ => self
                .forward(xs)?
                .flatten_all()?
                .to_dtype(DType::F32)?
                .to_vec1::<f32>(),
        }
    }
}

impl Module for Dense {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Float(linear) => match skinny_product(xs, linear.weight())? {
                Some(ys) => match linear.bias() {
                    Some(bias) => ys.broadcast_add(bias),
                    None => Ok(ys),
                },
                None => linear.forward(xs),
            },
            Self::Packed { weight, bias } => packed_product(xs, weight.as_ref(), bias.as_ref()),
            Self::PackedInt8 { weight, bias } => packed_product(xs, weight.as_ref(), bias.as_ref()),
            Self::Int8 { weight, bias } => {
                let ys = weight.forward(&xs.contiguous()?)?;
                match bias {
                    Some(bias) => ys.broadcast_add(bias),
                    None => Ok(ys),
                }
            }
        }
    }
}

/// Loads `weight` and `bias` under `vb` as an f32 dense layer from `in_dim` to `out_dim`.
pub fn dense(in_dim: usize, out_dim: usize, vb: candle_nn::VarBuilder) -> Result<Dense> {
    let linear = candle_nn::linear(in_dim, out_dim, vb)?;
    Ok(Dense::Float(linear))
}
