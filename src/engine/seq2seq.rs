//! The encoder–decoder transformer shared by Marian and the BART family.
//!
//! Reference: transformers' `modeling_marian.py` / `modeling_bart.py`. Checkpoint keys are used
//! as-is (`model.encoder.layers.0.self_attn.q_proj.weight`, ...), so Hub weights load without
//! conversion. Per-input state ([`DecoderState`]) lives outside the model: the model itself is
//! immutable and can serve any number of requests at once.

use std::sync::Arc;

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{layer_norm, Embedding, LayerNorm, VarBuilder};

use rayon::prelude::*;

use super::activation;
use super::attention::{causal_mask, padding_mask, Attention, KeyValue};
use super::config::{Activation, NormPlacement, PositionEmbedding, Seq2SeqConfig};
use super::kv_cache::{KvCache, KvView};
use super::linear::{self, dense, Dense, Quantization};
use super::norm;
use super::packed::PackedMatrix;

fn activate(activation: Activation, xs: &Tensor) -> Result<Tensor> {
    match activation {
        Activation::Silu => candle_nn::ops::silu(xs),
        Activation::Relu => xs.relu(),
        Activation::Gelu => xs.gelu_erf(),
        Activation::GeluTanh => xs.gelu(),
    }
}

/// Sinusoidal table as transformers builds it for Marian: computed in f64, sines in the first half,
/// cosines in the second.
fn sinusoidal_table(positions: usize, dim: usize, device: &Device) -> Result<Tensor> {
    let half = dim.div_ceil(2);
    let mut table = vec![0f32; positions * dim];
    for pos in 0..positions {
        let row = &mut table[pos * dim..(pos + 1) * dim];
        for j in 0..dim {
            let angle = pos as f64 / 10000f64.powf((2 * (j / 2)) as f64 / dim as f64);
            if j % 2 == 0 {
                row[j / 2] = angle.sin() as f32;
            } else {
                row[half + j / 2] = angle.cos() as f32;
            }
        }
    }
    Tensor::from_vec(table, (positions, dim), device)
}

/// A token embedding table: a tensor, or the packed output projection it is tied to (the model
/// then keeps one copy of the 59,514 × 512 table instead of two).
#[derive(Debug, Clone)]
enum TokenTable {
    Tensor(Embedding),
    Packed(Arc<PackedMatrix>),
}

impl TokenTable {
    /// Embeds `ids` (`[batch, time]`) as `[batch, time, hidden]`.
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        match self {
            Self::Tensor(embedding) => embedding.forward(ids),
            Self::Packed(table) => {
                let (batch, time) = ids.dims2()?;
                let hidden = table.cols();
                let ids = ids.flatten_all()?.to_dtype(DType::U32)?.to_vec1::<u32>()?;
                let mut values = vec![0f32; ids.len() * hidden];
                for (&id, row) in ids.iter().zip(values.chunks_exact_mut(hidden)) {
                    if id as usize >= table.rows() {
                        candle_core::bail!(
                            "token id {id} is outside the vocabulary of {}",
                            table.rows()
                        );
                    }
                    table.row_into(id as usize, row);
                }
                // Packed tables exist on the CPU only.
                Tensor::from_vec(values, (batch, time, hidden), &Device::Cpu)
            }
        }
    }
}

/// Token + position embedding (with optional scaling and layer norm) of one side of the model.
#[derive(Debug, Clone)]
struct Embeddings {
    tokens: TokenTable,
    positions: Tensor,
    position_offset: usize,
    scale: f64,
    norm: Option<LayerNorm>,
}

impl Embeddings {
    fn new(cfg: &Seq2SeqConfig, tokens: TokenTable, vb: VarBuilder) -> Result<Self> {
        let (positions, position_offset) = match cfg.position_embedding {
            PositionEmbedding::Sinusoidal => (
                sinusoidal_table(cfg.max_position_embeddings, cfg.d_model, vb.device())?,
                0,
            ),
            PositionEmbedding::Learned { offset } => (
                vb.get(
                    (cfg.max_position_embeddings + offset, cfg.d_model),
                    "embed_positions.weight",
                )?,
                offset,
            ),
        };
        let norm = if cfg.layernorm_embedding {
            Some(layer_norm(
                cfg.d_model,
                cfg.layer_norm_eps,
                vb.pp("layernorm_embedding"),
            )?)
        } else {
            None
        };
        let scale = if cfg.scale_embedding {
            (cfg.d_model as f64).sqrt()
        } else {
            1.0
        };
        Ok(Self {
            tokens,
            positions,
            position_offset,
            scale,
            norm,
        })
    }

    /// Embeds `ids` (`[batch, time]`) whose first position is `past`.
    fn forward(&self, ids: &Tensor, past: usize) -> Result<Tensor> {
        let (_, time) = ids.dims2()?;
        let start = past + self.position_offset;
        if start + time > self.positions.dim(0)? {
            candle_core::bail!(
                "sequence of {} positions exceeds the model's {} position embeddings",
                past + time,
                self.positions.dim(0)? - self.position_offset
            );
        }
        let tokens = (self.tokens.forward(ids)? * self.scale)?;
        let positions = self.positions.narrow(0, start, time)?;
        let xs = tokens.broadcast_add(&positions)?;
        match &self.norm {
            Some(norm) => norm.forward(&xs),
            None => Ok(xs),
        }
    }
}

/// Residual wrapper applying the configured norm placement around a sub-layer.
fn residual(
    placement: NormPlacement,
    norm: &LayerNorm,
    xs: &Tensor,
    sublayer: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    match placement {
        NormPlacement::Post => {
            let ys = sublayer(xs)?;
            match norm::add_and_norm(xs, &ys, norm)? {
                Some(out) => Ok(out),
                None => norm.forward(&(xs + ys)?),
            }
        }
        NormPlacement::Pre => xs + sublayer(&norm.forward(xs)?)?,
    }
}

#[derive(Debug, Clone)]
struct FeedForward {
    fc1: Dense,
    fc2: Dense,
    activation: Activation,
}

impl FeedForward {
    fn new(
        d_model: usize,
        ffn_dim: usize,
        activation: Activation,
        vb: &VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            fc1: dense(d_model, ffn_dim, vb.pp("fc1"))?,
            fc2: dense(ffn_dim, d_model, vb.pp("fc2"))?,
            activation,
        })
    }

    fn quantized(&self, quantization: Quantization) -> Result<Self> {
        Ok(Self {
            fc1: self.fc1.quantized(quantization)?,
            fc2: self.fc2.quantized(quantization)?,
            activation: self.activation,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        if let Some(ys) = self.forward_host(xs)? {
            return Ok(ys);
        }
        self.fc2
            .forward(&activate(self.activation, &self.fc1.forward(xs)?)?)
    }

    /// Both products and the activation on host values, when the weights are host-packed and
    /// the activation has a host version (the CPU path); `None` otherwise.
    fn forward_host(&self, xs: &Tensor) -> Result<Option<Tensor>> {
        if !xs.device().is_cpu()
            || !self.fc1.is_host()
            || !self.fc2.is_host()
            || !activation::on_host(self.activation)
            || xs.elem_count() == 0
        {
            return Ok(None);
        }
        let mut hidden = self.fc1.forward_values(xs)?;
        activation::apply_in_place(self.activation, &mut hidden);
        let rows = xs.elem_count() / xs.dims().last().copied().unwrap_or(1).max(1);
        let Some(ys) = self.fc2.forward_host(&hidden, rows)? else {
            return Ok(None);
        };
        let mut shape = xs.dims().to_vec();
        let outputs = ys.len() / rows.max(1);
        if let Some(last) = shape.last_mut() {
            *last = outputs;
        }
        Tensor::from_vec(ys, shape, xs.device()).map(Some)
    }
}

#[derive(Debug, Clone)]
struct EncoderLayer {
    self_attn: Attention,
    self_attn_layer_norm: LayerNorm,
    ffn: FeedForward,
    final_layer_norm: LayerNorm,
    placement: NormPlacement,
}

impl EncoderLayer {
    fn new(cfg: &Seq2SeqConfig, vb: VarBuilder) -> Result<Self> {
        let eps = cfg.layer_norm_eps;
        Ok(Self {
            self_attn: Attention::new(
                cfg.d_model,
                cfg.encoder_attention_heads,
                vb.pp("self_attn"),
            )?,
            self_attn_layer_norm: layer_norm(cfg.d_model, eps, vb.pp("self_attn_layer_norm"))?,
            ffn: FeedForward::new(cfg.d_model, cfg.encoder_ffn_dim, cfg.activation, &vb)?,
            final_layer_norm: layer_norm(cfg.d_model, eps, vb.pp("final_layer_norm"))?,
            placement: cfg.norm_placement,
        })
    }

    fn quantized(&self, quantization: Quantization) -> Result<Self> {
        Ok(Self {
            self_attn: self.self_attn.quantized(quantization)?,
            ffn: self.ffn.quantized(quantization)?,
            ..self.clone()
        })
    }

    fn forward(&self, xs: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let xs = residual(self.placement, &self.self_attn_layer_norm, xs, |h| {
            self.self_attn
                .forward(h, &self.self_attn.project_kv(h)?, Some(mask))
        })?;
        residual(self.placement, &self.final_layer_norm, &xs, |h| {
            self.ffn.forward(h)
        })
    }
}

#[derive(Debug, Clone)]
struct DecoderLayer {
    self_attn: Attention,
    self_attn_layer_norm: LayerNorm,
    encoder_attn: Attention,
    encoder_attn_layer_norm: LayerNorm,
    ffn: FeedForward,
    final_layer_norm: LayerNorm,
    placement: NormPlacement,
}

impl DecoderLayer {
    fn new(cfg: &Seq2SeqConfig, vb: VarBuilder) -> Result<Self> {
        let eps = cfg.layer_norm_eps;
        let heads = cfg.decoder_attention_heads;
        Ok(Self {
            self_attn: Attention::new(cfg.d_model, heads, vb.pp("self_attn"))?,
            self_attn_layer_norm: layer_norm(cfg.d_model, eps, vb.pp("self_attn_layer_norm"))?,
            encoder_attn: Attention::new(cfg.d_model, heads, vb.pp("encoder_attn"))?,
            encoder_attn_layer_norm: layer_norm(
                cfg.d_model,
                eps,
                vb.pp("encoder_attn_layer_norm"),
            )?,
            ffn: FeedForward::new(cfg.d_model, cfg.decoder_ffn_dim, cfg.activation, &vb)?,
            final_layer_norm: layer_norm(cfg.d_model, eps, vb.pp("final_layer_norm"))?,
            placement: cfg.norm_placement,
        })
    }

    fn quantized(&self, quantization: Quantization) -> Result<Self> {
        Ok(Self {
            self_attn: self.self_attn.quantized(quantization)?,
            encoder_attn: self.encoder_attn.quantized(quantization)?,
            ffn: self.ffn.quantized(quantization)?,
            ..self.clone()
        })
    }
}

/// What the encoder produced for a padded batch: hidden states and the key-padding mask.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// `[batch, src_len, d_model]`.
    pub hidden_states: Tensor,
    /// Additive key-padding mask `[batch, 1, 1, src_len]`.
    pub padding_mask: Tensor,
}

/// Per-request decoding state: cross-attention keys/values computed once, and the growing
/// self-attention cache. Owned by one request, never shared.
#[derive(Debug, Clone)]
pub struct DecoderState {
    caches: Caches,
    padding_mask: Tensor,
    /// For each row, the encoder input it decodes (rows of one input share cross-attention state).
    row_sources: Vec<usize>,
    past: usize,
}

/// Where a decoder's attention state lives.
#[derive(Debug, Clone)]
enum Caches {
    /// candle tensors (any device): the past is concatenated and index-selected at every step.
    Tensors {
        cross: Vec<KeyValue>,
        past: Vec<Option<KeyValue>>,
    },
    /// Host memory (CPU): a step appends its position in place and attends without copies.
    Host {
        /// Per layer, one row per input (the beams of an input read it through `row_sources`).
        cross: Vec<KvCache>,
        /// Per layer, one row per decoder row.
        past: Vec<KvCache>,
        /// The additive key-padding mask, `[inputs, src_len]`.
        mask: Vec<f32>,
    },
}

impl DecoderState {
    /// Keeps the rows named by `rows`, in that order: new row `i` continues old row `rows[i]`
    /// (beam reordering, or dropping finished inputs). Cross-attention state is only moved
    /// when the set of inputs changes, since rows of one input share it.
    pub fn reorder_rows(&mut self, rows: &[usize]) -> Result<()> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.row_sources.len()) {
            candle_core::bail!("reorder names row {bad} of {}", self.row_sources.len());
        }
        let device = self.padding_mask.device().clone();
        let index: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
        let index = Tensor::new(index.as_slice(), &device)?;
        let sources: Vec<usize> = rows.iter().map(|&r| self.row_sources[r]).collect();
        let inputs_changed = sources != self.row_sources;
        match &mut self.caches {
            Caches::Tensors { cross, past } => {
                for kv in past.iter_mut().flatten() {
                    *kv = kv.select_rows(&index)?;
                }
                if inputs_changed {
                    for kv in cross.iter_mut() {
                        *kv = kv.select_rows(&index)?;
                    }
                }
            }
            Caches::Host { past, .. } => {
                // Cross-attention state stays indexed by input (`row_sources` follows the rows).
                // Layers in parallel: a beam step moves tens of MB of keys and values.
                past.par_iter_mut()
                    .try_for_each(|cache| cache.reorder(rows))?;
            }
        }
        if inputs_changed {
            self.padding_mask = self.padding_mask.index_select(&index, 0)?;
        }
        self.row_sources = sources;
        Ok(())
    }
}

/// An encoder–decoder transformer with a tied (or separate) output projection.
#[derive(Debug, Clone)]
pub struct Seq2Seq {
    cfg: Seq2SeqConfig,
    encoder_embeddings: Embeddings,
    encoder_layers: Vec<EncoderLayer>,
    encoder_final_norm: Option<LayerNorm>,
    decoder_embeddings: Embeddings,
    decoder_layers: Vec<DecoderLayer>,
    decoder_final_norm: Option<LayerNorm>,
    lm_head: Dense,
    vocab_size: usize,
    quantization: Quantization,
    device: Device,
}

/// Checkpoint names under which the shared token embedding may be stored.
const SHARED_EMBEDDING_NAMES: [&str; 4] = [
    "model.shared.weight",
    "model.encoder.embed_tokens.weight",
    "model.decoder.embed_tokens.weight",
    "lm_head.weight",
];

fn first_present(vb: &VarBuilder, names: &[&str], shape: (usize, usize)) -> Result<Tensor> {
    for name in names {
        if vb.contains_tensor(name) {
            return vb.get(shape, name);
        }
    }
    candle_core::bail!("none of the tensors {names:?} is present")
}

impl Seq2Seq {
    /// Builds the model from checkpoint tensors under the root of `vb`.
    pub fn new(cfg: &Seq2SeqConfig, vb: VarBuilder) -> Result<Self> {
        Self::new_quantized(cfg, vb, Quantization::None)
    }

    /// Like [`Seq2Seq::new`], with the weight matrices stored as `quantization` asks (the same
    /// model as `new(..)?.quantized(quantization)`). Each layer is quantized as soon as it is
    /// read and its f32 matrices dropped, so the f32 model never exists whole in memory.
    pub fn new_quantized(
        cfg: &Seq2SeqConfig,
        vb: VarBuilder,
        quantization: Quantization,
    ) -> Result<Self> {
        let shape = (cfg.vocab_size, cfg.d_model);
        let shared = first_present(&vb, &SHARED_EMBEDDING_NAMES, shape)?;
        let tied = !vb.contains_tensor("lm_head.weight");
        // A tied f32 table is packed once for the CPU kernels: it serves as output projection
        // and for the token lookups of the sides that share it, and the tensor is dropped.
        let packed_shared = match (tied, quantization) {
            (true, Quantization::None) => linear::pack(&shared)?.map(Arc::new),
            _ => None,
        };
        let side_table = |side: &str| -> Result<TokenTable> {
            let name = format!("model.{side}.embed_tokens.weight");
            if vb.contains_tensor(&name) {
                return Ok(TokenTable::Tensor(Embedding::new(
                    vb.get(shape, &name)?,
                    cfg.d_model,
                )));
            }
            Ok(match &packed_shared {
                Some(table) => TokenTable::Packed(Arc::clone(table)),
                None => TokenTable::Tensor(Embedding::new(shared.clone(), cfg.d_model)),
            })
        };
        let final_norm = |prefix: &str| -> Result<Option<LayerNorm>> {
            match cfg.norm_placement {
                NormPlacement::Pre => Ok(Some(layer_norm(
                    cfg.d_model,
                    cfg.layer_norm_eps,
                    vb.pp(prefix).pp("layer_norm"),
                )?)),
                NormPlacement::Post => Ok(None),
            }
        };
        let encoder_embeddings =
            Embeddings::new(cfg, side_table("encoder")?, vb.pp("model.encoder"))?;
        let decoder_embeddings =
            Embeddings::new(cfg, side_table("decoder")?, vb.pp("model.decoder"))?;
        // The output projection carries `final_logits_bias` as its bias (added in the product).
        let final_logits_bias = if vb.contains_tensor("final_logits_bias") {
            Some(
                vb.get((1, cfg.vocab_size), "final_logits_bias")?
                    .flatten_all()?,
            )
        } else {
            None
        };
        let lm_head = match (&packed_shared, tied) {
            (Some(table), _) => Dense::Packed {
                weight: Arc::clone(table),
                bias: final_logits_bias,
            },
            (None, true) => {
                Dense::new(shared.clone(), final_logits_bias).quantized(quantization)?
            }
            (None, false) => Dense::new(vb.get(shape, "lm_head.weight")?, final_logits_bias)
                .quantized(quantization)?,
        };
        // Whatever still needs the f32 table holds a clone; the rest of the load goes without it.
        drop(shared);
        let encoder_layers = (0..cfg.encoder_layers)
            .map(|i| {
                EncoderLayer::new(cfg, vb.pp(format!("model.encoder.layers.{i}")))?
                    .quantized(quantization)
            })
            .collect::<Result<Vec<_>>>()?;
        let decoder_layers = (0..cfg.decoder_layers)
            .map(|i| {
                DecoderLayer::new(cfg, vb.pp(format!("model.decoder.layers.{i}")))?
                    .quantized(quantization)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            encoder_embeddings,
            encoder_layers,
            encoder_final_norm: final_norm("model.encoder")?,
            decoder_embeddings,
            decoder_layers,
            decoder_final_norm: final_norm("model.decoder")?,
            lm_head,
            vocab_size: cfg.vocab_size,
            quantization,
            device: vb.device().clone(),
        })
    }

    /// The architecture this model was built with.
    pub fn config(&self) -> &Seq2SeqConfig {
        &self.cfg
    }

    /// The device holding the weights.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Encodes a padded batch: `input_ids` and 0/1 `attention_mask`, both `[batch, src_len]`.
    pub fn encode(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<EncoderOutput> {
        let mask = padding_mask(attention_mask)?;
        let mut xs = self.encoder_embeddings.forward(input_ids, 0)?;
        for layer in &self.encoder_layers {
            xs = layer.forward(&xs, &mask)?;
        }
        if let Some(norm) = &self.encoder_final_norm {
            xs = norm.forward(&xs)?;
        }
        Ok(EncoderOutput {
            hidden_states: xs,
            padding_mask: mask,
        })
    }

    /// Starts decoding: computes every layer's cross-attention keys/values once.
    /// `expand` repeats each input row that many times (one per beam), as rows `i*expand..(i+1)*expand`.
    pub fn start_decoding(&self, encoded: &EncoderOutput, expand: usize) -> Result<DecoderState> {
        let batch = encoded.hidden_states.dim(0)?;
        let expand = expand.max(1);
        let rows = batch * expand;
        let index: Vec<u32> = (0..batch as u32)
            .flat_map(|i| std::iter::repeat_n(i, expand))
            .collect();
        let index = Tensor::new(index.as_slice(), &self.device)?;
        let padding_mask = encoded.padding_mask.index_select(&index, 0)?;
        let caches = if self.device.is_cpu() {
            // One cross-attention state per input, shared by its beams (rows read it through
            // `row_sources`).
            let heads = self.cfg.decoder_attention_heads;
            let head_dim = self.cfg.d_model / heads.max(1);
            Caches::Host {
                cross: self
                    .decoder_layers
                    .iter()
                    .map(|layer| {
                        KvCache::from_key_value(
                            &layer.encoder_attn.project_kv(&encoded.hidden_states)?,
                        )
                    })
                    .collect::<Result<Vec<_>>>()?,
                past: (0..self.decoder_layers.len())
                    .map(|_| KvCache::new(rows, heads, head_dim))
                    .collect(),
                mask: encoded.padding_mask.flatten_all()?.to_vec1::<f32>()?,
            }
        } else {
            let hidden = if expand > 1 {
                encoded.hidden_states.index_select(&index, 0)?
            } else {
                encoded.hidden_states.clone()
            };
            Caches::Tensors {
                cross: self
                    .decoder_layers
                    .iter()
                    .map(|layer| layer.encoder_attn.project_kv(&hidden))
                    .collect::<Result<Vec<_>>>()?,
                past: vec![None; self.decoder_layers.len()],
            }
        };
        Ok(DecoderState {
            caches,
            padding_mask,
            row_sources: (0..rows).map(|row| row / expand).collect(),
            past: 0,
        })
    }

    /// Runs the decoder on `ids` (`[batch, new]`) after the positions already in `state`, updates
    /// the cache and returns the final hidden states `[batch, new, d_model]`.
    fn decode_hidden(&self, state: &mut DecoderState, ids: &Tensor) -> Result<Tensor> {
        let (_, new) = ids.dims2()?;
        let mut xs = self.decoder_embeddings.forward(ids, state.past)?;
        let causal = if new > 1 {
            Some(causal_mask(new, state.past, &self.device)?)
        } else {
            None
        };
        for (index, layer) in self.decoder_layers.iter().enumerate() {
            let placement = layer.placement;
            let padding_mask = &state.padding_mask;
            let row_sources = &state.row_sources;
            match &mut state.caches {
                Caches::Host { cross, past, mask } if new == 1 => {
                    let cache = &mut past[index];
                    xs = residual(placement, &layer.self_attn_layer_norm, &xs, |h| {
                        let (keys, values) = layer.self_attn.project_kv_step(h)?;
                        cache.append(&keys, &values, 1)?;
                        layer.self_attn.forward_step(h, cache.view(), None)
                    })?;
                    let cross = KvView {
                        row_map: Some(row_sources),
                        ..cross[index].view()
                    };
                    xs = residual(placement, &layer.encoder_attn_layer_norm, &xs, |h| {
                        layer.encoder_attn.forward_step(h, cross, Some(mask))
                    })?;
                }
                Caches::Host { cross, past, .. } => {
                    // Several positions at once (teacher forcing): the tensor path, on copies.
                    let cache = &mut past[index];
                    xs = residual(placement, &layer.self_attn_layer_norm, &xs, |h| {
                        let step = layer.self_attn.project_kv(h)?;
                        let kv = if cache.is_empty() {
                            step.clone()
                        } else {
                            cache.to_key_value(&self.device)?.append(&step)?
                        };
                        cache.append_tensors(&step)?;
                        layer.self_attn.forward(h, &kv, causal.as_ref())
                    })?;
                    // The shared per-input state, repeated for each row that decodes it.
                    let sources: Vec<u32> = row_sources.iter().map(|&s| s as u32).collect();
                    let sources = Tensor::new(sources.as_slice(), &self.device)?;
                    let cross = cross[index]
                        .to_key_value(&self.device)?
                        .select_rows(&sources)?;
                    xs = residual(placement, &layer.encoder_attn_layer_norm, &xs, |h| {
                        layer.encoder_attn.forward(h, &cross, Some(padding_mask))
                    })?;
                }
                Caches::Tensors { cross, past } => {
                    let cache = &mut past[index];
                    xs = residual(placement, &layer.self_attn_layer_norm, &xs, |h| {
                        let step = layer.self_attn.project_kv(h)?;
                        let kv = match cache.as_ref() {
                            Some(past) => past.append(&step)?,
                            None => step,
                        };
                        let out = layer.self_attn.forward(h, &kv, causal.as_ref())?;
                        *cache = Some(kv);
                        Ok(out)
                    })?;
                    let cross = &cross[index];
                    xs = residual(placement, &layer.encoder_attn_layer_norm, &xs, |h| {
                        layer.encoder_attn.forward(h, cross, Some(padding_mask))
                    })?;
                }
            }
            xs = residual(placement, &layer.final_layer_norm, &xs, |h| {
                layer.ffn.forward(h)
            })?;
        }
        if let Some(norm) = &self.decoder_final_norm {
            xs = norm.forward(&xs)?;
        }
        state.past += new;
        Ok(xs)
    }

    /// Runs the decoder on `ids` (`[batch, new]`) after the positions already in `state`, updates
    /// the cache and returns the logits `[batch, new, vocab]`.
    pub fn decode(&self, state: &mut DecoderState, ids: &Tensor) -> Result<Tensor> {
        let hidden = self.decode_hidden(state, ids)?;
        self.lm_head.forward(&hidden)
    }

    /// Logits of the last position only, `[batch, vocab]`, for one generation step.
    pub fn decode_step(&self, state: &mut DecoderState, ids: &Tensor) -> Result<Tensor> {
        let logits = self.decode(state, ids)?;
        let new = logits.dim(1)?;
        logits
            .narrow(1, new - 1, 1)?
            .squeeze(1)?
            .to_dtype(DType::F32)
    }

    /// [`Seq2Seq::decode_step`]'s logits in host memory, `batch × vocab` values row-major: the
    /// output projection of the last position writes them there directly (no tensor copy).
    pub fn decode_step_values(&self, state: &mut DecoderState, ids: &Tensor) -> Result<Vec<f32>> {
        let hidden = self.decode_hidden(state, ids)?;
        let new = hidden.dim(1)?;
        let last = hidden.narrow(1, new - 1, 1)?.to_dtype(DType::F32)?;
        self.lm_head.forward_values(&last)
    }

    /// Dimension of the vocabulary the logits span.
    pub fn vocab_size(&self) -> Result<usize> {
        Ok(self.vocab_size)
    }

    /// How the weight matrices are stored.
    pub fn quantization(&self) -> Quantization {
        self.quantization
    }

    /// The same model with every weight matrix (attention and feed-forward projections, output
    /// projection) stored as `quantization` asks; embeddings, norms and biases stay f32.
    pub fn quantized(&self, quantization: Quantization) -> Result<Self> {
        let encoder_layers = self
            .encoder_layers
            .iter()
            .map(|layer| layer.quantized(quantization))
            .collect::<Result<Vec<_>>>()?;
        let decoder_layers = self
            .decoder_layers
            .iter()
            .map(|layer| layer.quantized(quantization))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            encoder_layers,
            decoder_layers,
            lm_head: self.lm_head.quantized(quantization)?,
            quantization,
            ..self.clone()
        })
    }
}
