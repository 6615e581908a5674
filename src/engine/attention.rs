//! Multi-head attention with explicit key/value tensors, as in transformers' `BartAttention`.
//!
//! Keys and values are projected by the caller-visible [`Attention::project_kv`], so cross-attention
//! projects the encoder output once per input and self-attention appends one step at a time.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::generate::exp_shifted_in_place;
use super::kv_cache::KvView;
use super::linear::{dense, Dense, Quantization};
use super::skinny::dot;

/// Keys and values of one attention layer, shaped `[batch, heads, time, head_dim]`.
#[derive(Debug, Clone)]
pub struct KeyValue {
    /// Projected keys.
    pub keys: Tensor,
    /// Projected values.
    pub values: Tensor,
}

impl KeyValue {
    /// Appends `other` along the time axis (decoder self-attention caching).
    pub fn append(&self, other: &KeyValue) -> Result<KeyValue> {
        Ok(KeyValue {
            keys: Tensor::cat(&[&self.keys, &other.keys], 2)?,
            values: Tensor::cat(&[&self.values, &other.values], 2)?,
        })
    }

    /// Keeps the rows named by `indices` (beam reordering), in that order.
    pub fn select_rows(&self, indices: &Tensor) -> Result<KeyValue> {
        Ok(KeyValue {
            keys: self.keys.index_select(indices, 0)?,
            values: self.values.index_select(indices, 0)?,
        })
    }
}

/// One multi-head attention block: q/k/v/out projections with biases.
#[derive(Debug, Clone)]
pub struct Attention {
    q_proj: Dense,
    k_proj: Dense,
    v_proj: Dense,
    out_proj: Dense,
    heads: usize,
    head_dim: usize,
    scaling: f64,
}

impl Attention {
    /// Loads `q_proj`, `k_proj`, `v_proj`, `out_proj` under `vb`.
    pub fn new(d_model: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        let head_dim = d_model / heads;
        Ok(Self {
            q_proj: dense(d_model, d_model, vb.pp("q_proj"))?,
            k_proj: dense(d_model, d_model, vb.pp("k_proj"))?,
            v_proj: dense(d_model, d_model, vb.pp("v_proj"))?,
            out_proj: dense(d_model, d_model, vb.pp("out_proj"))?,
            heads,
            head_dim,
            scaling: (head_dim as f64).powf(-0.5),
        })
    }

    /// The same block with its projections stored as `quantization` asks.
    pub fn quantized(&self, quantization: Quantization) -> Result<Self> {
        Ok(Self {
            q_proj: self.q_proj.quantized(quantization)?,
            k_proj: self.k_proj.quantized(quantization)?,
            v_proj: self.v_proj.quantized(quantization)?,
            out_proj: self.out_proj.quantized(quantization)?,
            ..self.clone()
        })
    }

    fn split_heads(&self, xs: &Tensor) -> Result<Tensor> {
        let (batch, time, _) = xs.dims3()?;
        xs.reshape((batch, time, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Projects `xs` (`[batch, time, d_model]`) to keys and values.
    pub fn project_kv(&self, xs: &Tensor) -> Result<KeyValue> {
        Ok(KeyValue {
            keys: self.split_heads(&self.k_proj.forward(xs)?)?,
            values: self.split_heads(&self.v_proj.forward(xs)?)?,
        })
    }

    /// Attends from `xs` (`[batch, tq, d_model]`) to `kv`; `mask` is additive and broadcasts to
    /// `[batch, heads, tq, tk]`.
    pub fn forward(&self, xs: &Tensor, kv: &KeyValue, mask: Option<&Tensor>) -> Result<Tensor> {
        let (batch, time, d_model) = xs.dims3()?;
        let queries = self.split_heads(&(self.q_proj.forward(xs)? * self.scaling)?)?;
        let scores = queries.matmul(&kv.keys.t()?)?;
        let scores = match mask {
            Some(mask) => scores.broadcast_add(mask)?,
            None => scores,
        };
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs.matmul(&kv.values)?;
        let context = context.transpose(1, 2)?.reshape((batch, time, d_model))?;
        self.out_proj.forward(&context)
    }
}

impl Attention {
    /// Projects `xs` (`[rows, 1, d_model]`, one new position per row) to its keys and values in
    /// host memory, `[rows, heads × head_dim]` each: the layout [`super::kv_cache::KvCache::append`]
    /// takes.
    pub fn project_kv_step(&self, xs: &Tensor) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((
            self.k_proj.forward(xs)?.flatten_all()?.to_vec1::<f32>()?,
            self.v_proj.forward(xs)?.flatten_all()?.to_vec1::<f32>()?,
        ))
    }

    /// Attends from one new position per row (`xs`: `[rows, 1, d_model]`) to the keys and
    /// values of `kv` held in host memory, with an optional additive `mask` (`[rows, kv.len]`).
    /// The same arithmetic as [`Attention::forward`], without the reshapes and copies.
    pub fn forward_step(&self, xs: &Tensor, kv: KvView, mask: Option<&[f32]>) -> Result<Tensor> {
        let (rows, time, d_model) = xs.dims3()?;
        if time != 1 {
            candle_core::bail!("a step attends from one position per row, not {time}");
        }
        let mut queries = self.q_proj.forward(xs)?.flatten_all()?.to_vec1::<f32>()?;
        let scaling = self.scaling as f32;
        for q in queries.iter_mut() {
            *q *= scaling;
        }
        let context = attend_one(&queries, self.heads, self.head_dim, kv, mask)?;
        let context = Tensor::from_vec(context, (rows, 1, d_model), xs.device())?;
        self.out_proj.forward(&context)
    }
}

/// Scaled dot-product attention of one query per row and head: `queries` is
/// `[rows, heads × head_dim]` (already scaled), `mask` (optional, additive) `[rows, kv.len]`
/// for the rows of the view (see [`KvView::row_map`]).
/// Returns the context `[rows, heads × head_dim]`. Row-heads run in parallel.
///
/// # Errors
/// When the sizes of the queries, the view and the mask disagree.
pub fn attend_one(
    queries: &[f32],
    heads: usize,
    head_dim: usize,
    kv: KvView,
    mask: Option<&[f32]>,
) -> Result<Vec<f32>> {
    let width = heads * head_dim;
    let rows = queries.len() / width.max(1);
    // The rows of the view (and of the mask) that the queries read.
    let read_rows = match kv.row_map {
        Some(map) if map.len() == rows => map.iter().copied().max().map_or(0, |r| r + 1),
        Some(_) => candle_core::bail!("attention step: the row map does not match the queries"),
        None => rows,
    };
    let end = |rows: usize| {
        (rows.max(1) - 1) * kv.row_stride + (heads.max(1) - 1) * kv.head_stride + kv.len * head_dim
    };
    if queries.len() != rows * width
        || (rows > 0 && (kv.keys.len() < end(read_rows) || kv.values.len() < end(read_rows)))
        || mask.is_some_and(|m| m.len() < read_rows * kv.len)
    {
        candle_core::bail!("attention step: queries, keys/values and mask sizes disagree");
    }
    let mut context = vec![0f32; queries.len()];
    context
        .par_chunks_mut(head_dim.max(1))
        .with_min_len(4)
        .enumerate()
        .for_each(|(index, out)| {
            let (query_row, head) = (index / heads, index % heads);
            let row = kv.row_map.map_or(query_row, |map| map[query_row]);
            let base = row * kv.row_stride + head * kv.head_stride;
            let one = OneHead {
                query: &queries[index * head_dim..][..head_dim],
                keys: &kv.keys[base..][..kv.len * head_dim],
                values: &kv.values[base..][..kv.len * head_dim],
                mask: mask.map(|m| &m[row * kv.len..][..kv.len]),
            };
            attend_head(&one, out);
        });
    Ok(context)
}

/// One query against one head's keys and values.
struct OneHead<'a> {
    query: &'a [f32],
    keys: &'a [f32],
    values: &'a [f32],
    mask: Option<&'a [f32]>,
}

/// Writes the context of `one` into `out` (zeroed), with AVX2/FMA code where the CPU has it.
fn attend_head(one: &OneHead, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { attend_head_avx2(one, out) };
        }
    }
    attend_head_portable(one, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attend_head_avx2(one: &OneHead, out: &mut [f32]) {
    attend_head_portable(one, out)
}

#[inline(always)]
fn attend_head_portable(one: &OneHead, out: &mut [f32]) {
    let head_dim = one.query.len();
    let mut scores: Vec<f32> = one
        .keys
        .chunks_exact(head_dim)
        .map(|key| dot(one.query, key))
        .collect();
    if let Some(mask) = one.mask {
        for (score, m) in scores.iter_mut().zip(mask) {
            *score += m;
        }
    }
    // Softmax as candle's `softmax_last_dim`: shift by the maximum, exponentiate, divide.
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum = exp_shifted_in_place(&mut scores, max);
    for (score, value) in scores.iter().zip(one.values.chunks_exact(head_dim)) {
        let p = score / sum;
        for (o, v) in out.iter_mut().zip(value) {
            *o += p * v;
        }
    }
}

/// Additive mask value for positions that must not be attended to (transformers uses the dtype minimum).
pub const MASKED: f32 = f32::MIN;

/// Builds the additive key-padding mask `[batch, 1, 1, src_len]` from a 0/1 attention mask `[batch, src_len]`.
pub fn padding_mask(attention_mask: &Tensor) -> Result<Tensor> {
    let (batch, len) = attention_mask.dims2()?;
    let keep = attention_mask.to_dtype(candle_core::DType::F32)?;
    // (1 - keep) * MASKED, without producing -inf.
    let masked = ((keep.ones_like()? - &keep)? * MASKED as f64)?;
    masked.reshape((batch, 1, 1, len))
}

/// Builds the additive causal mask `[1, 1, tq, past + tq]` for `tq` new decoder positions after `past` cached ones.
pub fn causal_mask(tq: usize, past: usize, device: &candle_core::Device) -> Result<Tensor> {
    let tk = past + tq;
    let values: Vec<f32> = (0..tq)
        .flat_map(|i| (0..tk).map(move |j| if j > past + i { MASKED } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (1, 1, tq, tk), device)
}
