//! Runs generation for a batch of source sentences: pads them, encodes once, computes
//! cross-attention keys/values once, then drives the search one decoder step at a time.

use candle_core::{Device, Tensor};

use super::generate::{self, GenerateError, GenerationConfig, Hypothesis, Logits, StepDecoder};
use super::seq2seq::{DecoderState, Seq2Seq};

/// A padded batch of token ids with its 0/1 attention mask, right-padded with `pad_id`.
pub fn pad_batch(
    sequences: &[Vec<u32>],
    pad_id: u32,
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let width = sequences.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(sequences.len() * width);
    let mut mask = Vec::with_capacity(sequences.len() * width);
    for sequence in sequences {
        ids.extend(sequence.iter().copied());
        ids.extend(std::iter::repeat_n(pad_id, width - sequence.len()));
        mask.extend(std::iter::repeat_n(1u32, sequence.len()));
        mask.extend(std::iter::repeat_n(0u32, width - sequence.len()));
    }
    let shape = (sequences.len(), width);
    Ok((
        Tensor::from_vec(ids, shape, device)?,
        Tensor::from_vec(mask, shape, device)?,
    ))
}

/// The decoder of one request: the model plus this request's own state.
struct Session<'a> {
    model: &'a Seq2Seq,
    state: DecoderState,
}

impl StepDecoder for Session<'_> {
    fn step(&mut self, tokens: &[u32]) -> Result<Logits, GenerateError> {
        let ids = Tensor::from_vec(tokens.to_vec(), (tokens.len(), 1), self.model.device())?;
        Ok(Logits {
            values: self.model.decode_step_values(&mut self.state, &ids)?,
            vocab: self.model.vocab_size()?,
        })
    }

    fn reorder(&mut self, rows: &[usize]) -> Result<(), GenerateError> {
        Ok(self.state.reorder_rows(rows)?)
    }
}

/// Generates for each source sequence (token ids including EOS) with `cfg`.
pub fn generate_batch(
    model: &Seq2Seq,
    sources: &[Vec<u32>],
    cfg: &GenerationConfig,
) -> Result<Vec<Vec<Hypothesis>>, GenerateError> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    cfg.validate()?;
    let (ids, mask) = pad_batch(sources, model.config().pad_token_id, model.device())?;
    let encoded = model.encode(&ids, &mask)?;
    // One row per input: beam search makes the beams' rows after its first step.
    let state = model.start_decoding(&encoded, 1)?;
    let mut session = Session { model, state };
    generate::generate(&mut session, sources.len(), cfg)
}
