//! Attention keys and values held in host memory for CPU decoding: the decoder's self-attention
//! cache, appended in place one step at a time (capacity grows by doubling, like a `Vec`), and
//! the cross-attention keys/values computed once per input.
//!
//! candle's way (`Tensor::cat` of the past and the new step, `index_select` for beams) copies
//! the whole cache at every step; here a step writes only its own position, and a beam
//! reordering moves only the rows whose origin changed. The layout is
//! `[row][head][position][head_dim]`, so one head's keys are contiguous for the step attention
//! ([`super::attention::attend_one`]). CTranslate2 and transformers' `StaticCache` keep
//! preallocated caches in the same spirit.

use candle_core::{Device, Result, Tensor};
use rayon::prelude::*;

use super::attention::KeyValue;

/// Keys and values of `rows` rows × `heads` heads, `len` positions each, preallocated for
/// `capacity` positions.
#[derive(Debug, Clone)]
pub struct KvCache {
    keys: Vec<f32>,
    values: Vec<f32>,
    rows: usize,
    heads: usize,
    head_dim: usize,
    len: usize,
    capacity: usize,
}

/// A read-only view of the keys and values of a cache: the key of position `t` of `head` in
/// `row` starts at `row * row_stride + head * head_stride + t * head_dim`.
#[derive(Debug, Clone, Copy)]
pub struct KvView<'a> {
    /// Keys.
    pub keys: &'a [f32],
    /// Values, laid out as the keys.
    pub values: &'a [f32],
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between the heads of one row.
    pub head_stride: usize,
    /// Positions per head.
    pub len: usize,
    /// When set, query row `r` reads row `row_map[r]` of the view (and of the mask): the beams
    /// of one input share its cross-attention keys and values.
    pub row_map: Option<&'a [usize]>,
}

impl KvCache {
    /// An empty cache of `rows` rows.
    pub fn new(rows: usize, heads: usize, head_dim: usize) -> Self {
        Self {
            keys: Vec::new(),
            values: Vec::new(),
            rows,
            heads,
            head_dim,
            len: 0,
            capacity: 0,
        }
    }

    /// A full cache holding `kv` (`[rows, heads, len, head_dim]` tensors), e.g. the
    /// cross-attention keys and values of the encoder output.
    pub fn from_key_value(kv: &KeyValue) -> Result<Self> {
        let (rows, heads, _, head_dim) = kv.keys.dims4()?;
        let mut cache = Self::new(rows, heads, head_dim);
        cache.append_tensors(kv)?;
        Ok(cache)
    }

    /// Positions cached per row.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no position is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows held.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn row_stride(&self) -> usize {
        self.heads * self.capacity * self.head_dim
    }

    /// Appends `new` positions per row: `keys` and `values` are `[rows, heads, new, head_dim]`
    /// row-major (for one position that is also the `[rows, heads × head_dim]` layout of a
    /// projection's output).
    ///
    /// # Errors
    /// When the slices do not hold `rows × heads × new × head_dim` values.
    pub fn append(&mut self, keys: &[f32], values: &[f32], new: usize) -> Result<()> {
        let expected = self.rows * self.heads * new * self.head_dim;
        if keys.len() != expected || values.len() != expected {
            candle_core::bail!(
                "cache append of {} keys / {} values, expected {expected}",
                keys.len(),
                values.len()
            );
        }
        if self.len + new > self.capacity {
            self.grow((self.len + new).max(2 * self.capacity).max(16));
        }
        let (hd, row_stride, head_stride) = (
            self.head_dim,
            self.row_stride(),
            self.capacity * self.head_dim,
        );
        let (heads, len, count) = (self.heads, self.len, new * hd);
        // Rows in parallel (each row's part of the buffers is its own).
        let write = |buffer: &mut [f32], source: &[f32]| {
            buffer
                .par_chunks_mut(row_stride)
                .take(self.rows)
                .enumerate()
                .for_each(|(row, target)| {
                    for head in 0..heads {
                        let from = (row * heads + head) * count;
                        target[head * head_stride + len * hd..][..count]
                            .copy_from_slice(&source[from..from + count]);
                    }
                });
        };
        write(&mut self.keys, keys);
        write(&mut self.values, values);
        self.len += new;
        Ok(())
    }

    /// Appends the positions of `kv` (`[rows, heads, new, head_dim]` tensors).
    pub fn append_tensors(&mut self, kv: &KeyValue) -> Result<()> {
        let new = kv.keys.dim(2)?;
        let keys = kv.keys.flatten_all()?.to_vec1::<f32>()?;
        let values = kv.values.flatten_all()?.to_vec1::<f32>()?;
        self.append(&keys, &values, new)
    }

    /// Moves the buffers to a larger capacity.
    fn grow(&mut self, capacity: usize) {
        let hd = self.head_dim;
        let (old_head, new_head) = (self.capacity * hd, capacity * hd);
        let size = self.rows * self.heads * new_head;
        let mut keys = vec![0f32; size];
        let mut values = vec![0f32; size];
        for block in 0..self.rows * self.heads {
            let used = self.len * hd;
            keys[block * new_head..][..used]
                .copy_from_slice(&self.keys[block * old_head..][..used]);
            values[block * new_head..][..used]
                .copy_from_slice(&self.values[block * old_head..][..used]);
        }
        self.keys = keys;
        self.values = values;
        self.capacity = capacity;
    }

    /// Keeps the rows named by `rows`, in that order: new row `i` continues old row `rows[i]`
    /// (a row may be named several times, making more rows). Rows that keep their place are not
    /// copied.
    ///
    /// # Errors
    /// When a row index is out of range.
    pub fn reorder(&mut self, rows: &[usize]) -> Result<()> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.rows) {
            candle_core::bail!("cache reorder names row {bad} of {}", self.rows);
        }
        // Only the used positions of each head move.
        let parts: Vec<(usize, usize)> = (0..self.heads)
            .map(|head| {
                (
                    head * self.capacity * self.head_dim,
                    self.len * self.head_dim,
                )
            })
            .collect();
        let width = self.row_stride();
        // More rows than before (a row named several times): room for them first.
        let needed = rows.len() * width;
        if self.keys.len() < needed {
            self.keys.resize(needed, 0.0);
            self.values.resize(needed, 0.0);
        }
        rayon::join(
            || gather_rows_in_place(&mut self.keys, width, &parts, rows),
            || gather_rows_in_place(&mut self.values, width, &parts, rows),
        );
        self.rows = rows.len();
        Ok(())
    }

    /// The cached keys and values.
    pub fn view(&self) -> KvView<'_> {
        KvView {
            keys: &self.keys,
            values: &self.values,
            row_stride: self.row_stride(),
            head_stride: self.capacity * self.head_dim,
            len: self.len,
            row_map: None,
        }
    }

    /// The cache as `[rows, heads, len, head_dim]` tensors (a copy), for the multi-position path.
    pub fn to_key_value(&self, device: &Device) -> Result<KeyValue> {
        let hd = self.head_dim;
        let mut keys = Vec::with_capacity(self.rows * self.heads * self.len * hd);
        let mut values = Vec::with_capacity(keys.capacity());
        let view = self.view();
        for row in 0..self.rows {
            for head in 0..self.heads {
                let start = row * view.row_stride + head * view.head_stride;
                keys.extend_from_slice(&self.keys[start..start + self.len * hd]);
                values.extend_from_slice(&self.values[start..start + self.len * hd]);
            }
        }
        let shape = (self.rows, self.heads, self.len, hd);
        Ok(KeyValue {
            keys: Tensor::from_vec(keys, shape, device)?,
            values: Tensor::from_vec(values, shape, device)?,
        })
    }
}

/// Makes row `i` (rows of `width` values in `buffer`) a copy of old row `rows[i]`, for every
/// `i < rows.len()`, in place; only the `(offset, length)` `parts` of a row are copied (the rest
/// is unused space). Rows already in place are left alone; a row that is both read and
/// overwritten is saved first.
///
/// # Panics
/// When a row index or a part is outside the buffer (the caller checks).
pub fn gather_rows_in_place(
    buffer: &mut [f32],
    width: usize,
    parts: &[(usize, usize)],
    rows: &[usize],
) {
    if width == 0 {
        return;
    }
    let slots = buffer.len() / width;
    let moved: Vec<bool> = (0..slots)
        .map(|i| rows.get(i).is_some_and(|&r| r != i))
        .collect();
    // Copies of the sources whose own slot is about to be overwritten, taken before any write.
    let mut saved: Vec<Option<Vec<f32>>> = vec![None; slots];
    for (i, &source) in rows.iter().enumerate() {
        if source != i && moved[source] && saved[source].is_none() {
            let row = &buffer[source * width..][..width];
            saved[source] = Some(
                parts
                    .iter()
                    .flat_map(|&(offset, length)| row[offset..offset + length].iter().copied())
                    .collect(),
            );
        }
    }
    for (i, &source) in rows.iter().enumerate() {
        if source == i {
            continue;
        }
        match &saved[source] {
            Some(values) => {
                let mut values = values.as_slice();
                for &(offset, length) in parts {
                    let (part, rest) = values.split_at(length);
                    buffer[i * width + offset..][..length].copy_from_slice(part);
                    values = rest;
                }
            }
            None => {
                for &(offset, length) in parts {
                    let from = source * width + offset;
                    buffer.copy_within(from..from + length, i * width + offset);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathering_in_place_equals_gathering_into_a_new_buffer() {
        let width = 3;
        let cases: [&[usize]; 6] = [
            &[0, 1, 2, 3],
            &[1, 0, 3, 2],
            &[0, 0, 0, 0],
            &[3, 3, 1, 1],
            &[2, 3],
            &[1, 2, 3, 0],
        ];
        for rows in cases {
            let mut buffer: Vec<f32> = (0..4 * width).map(|v| v as f32).collect();
            let expected: Vec<f32> = rows
                .iter()
                .flat_map(|&r| buffer[r * width..(r + 1) * width].to_vec())
                .collect();
            gather_rows_in_place(&mut buffer, width, &[(0, 1), (1, 2)], rows);
            assert_eq!(
                &buffer[..rows.len() * width],
                &expected[..],
                "rows {rows:?}"
            );
        }
    }

    #[test]
    fn appended_steps_read_back_as_the_concatenated_tensors() {
        let device = Device::Cpu;
        let (rows, heads, hd) = (3, 2, 4);
        let mut cache = KvCache::new(rows, heads, hd);
        let mut steps = Vec::new();
        // 20 single steps force two growths (16, then 32); then one 3-position append.
        for step in 0..20 {
            let values: Vec<f32> = (0..rows * heads * hd)
                .map(|i| (step * 1000 + i) as f32)
                .collect();
            let kv = KeyValue {
                keys: Tensor::from_vec(values.clone(), (rows, heads, 1, hd), &device).unwrap(),
                values: (Tensor::from_vec(values, (rows, heads, 1, hd), &device).unwrap() * -1.0)
                    .unwrap(),
            };
            cache.append_tensors(&kv).unwrap();
            steps.push(kv);
        }
        let tail: Vec<f32> = (0..rows * heads * 3 * hd).map(|i| i as f32 * 0.5).collect();
        let kv = KeyValue {
            keys: Tensor::from_vec(tail.clone(), (rows, heads, 3, hd), &device).unwrap(),
            values: Tensor::from_vec(tail, (rows, heads, 3, hd), &device).unwrap(),
        };
        cache.append_tensors(&kv).unwrap();
        steps.push(kv);
        let keys: Vec<&Tensor> = steps.iter().map(|kv| &kv.keys).collect();
        let values: Vec<&Tensor> = steps.iter().map(|kv| &kv.values).collect();
        let expected_keys = Tensor::cat(&keys, 2).unwrap();
        let expected_values = Tensor::cat(&values, 2).unwrap();
        assert_eq!(cache.len(), 23);
        let got = cache.to_key_value(&device).unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(&got.keys), flat(&expected_keys));
        assert_eq!(flat(&got.values), flat(&expected_values));

        // Reordering equals index_select on the tensors.
        cache.reorder(&[2, 2, 0]).unwrap();
        let index = Tensor::new(&[2u32, 2, 0], &device).unwrap();
        let got = cache.to_key_value(&device).unwrap();
        assert_eq!(
            flat(&got.keys),
            flat(&expected_keys.index_select(&index, 0).unwrap())
        );
        // Growing: rows named several times (beam search's first reorder), then appending.
        let mut grown = cache.clone();
        let wide = [1usize, 1, 0, 0, 2, 2, 1];
        grown.reorder(&wide).unwrap();
        assert_eq!(grown.rows(), wide.len());
        let selected = expected_keys.index_select(&index, 0).unwrap();
        let wide_index = Tensor::new(&[1u32, 1, 0, 0, 2, 2, 1], &device).unwrap();
        let got = grown.to_key_value(&device).unwrap();
        assert_eq!(
            flat(&got.keys),
            flat(&selected.index_select(&wide_index, 0).unwrap())
        );
        let step: Vec<f32> = (0..wide.len() * heads * hd).map(|i| i as f32).collect();
        grown.append(&step, &step, 1).unwrap();
        assert_eq!(grown.len(), 24);
        // Dropping rows keeps the others.
        cache.reorder(&[1]).unwrap();
        assert_eq!(cache.rows(), 1);
        let got = cache.to_key_value(&device).unwrap();
        assert_eq!(
            flat(&got.values),
            flat(&expected_values.narrow(0, 2, 1).unwrap())
        );
        assert!(cache.reorder(&[1]).is_err());
    }
}
