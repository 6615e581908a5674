//! Tensors of PyTorch checkpoints (`pytorch_model.bin`) in both formats `torch.save` writes.
//!
//! The reference is `torch/serialization.py` (`_save`/`_load` for the zip format, `_legacy_save`/
//! `_legacy_load` for the legacy one).
//!
//! - **Zip format** (torch ≥ 1.6, the default since): a zip archive holding `data.pkl` and one
//!   file per storage. Delegated to candle's [`PthTensors`].
//! - **Legacy format** (`_use_new_zipfile_serialization=False`, and what Hub repositories
//!   uploaded around 2020 contain): five pickles in a row — the magic number
//!   `0x1950a86a20f9469cfc6c`, the protocol version `1001`, a `sys_info` dict, the state dict
//!   itself (tensors as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
//!   whose storage is the persistent id
//!   `('storage', torch.FloatStorage, key, location, numel, view_metadata)`), and the list of
//!   storage keys (sorted as strings) — followed, for each key of that list in order, by the
//!   storage's element count as a little-endian `i64` and its raw little-endian data.
//!
//! The legacy pickles are decoded with candle's pickle interpreter ([`Stack`],
//! [`Object::into_tensor_info`]) after a pass of our own over their opcodes, which finds where
//! each pickle ends and rejects what that interpreter cannot handle (unknown opcodes, `LONG1`
//! wider than 8 bytes — such as the magic number itself, which is therefore matched byte for
//! byte — and lengths beyond the end of the file). Opening only records where each storage
//! starts in the file; [`PthCheckpoint::get`] seeks there and reads one tensor's bytes.
//!
//! Nothing in a file's contents makes this module panic: a truncated, corrupt or foreign file is
//! an error naming what is wrong.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use candle_core::pickle::{Object, PthTensors, Stack, TensorInfo};
use candle_core::{DType, Device, Layout, Tensor};

/// Start of every zip archive (a local file header), hence of zip-format checkpoints.
const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// `torch.serialization.MAGIC_NUMBER` as pickled by `_legacy_save`: `PROTO <p>`, then `LONG1`
/// with 10 little-endian bytes, then `STOP`. The protocol byte (index 1) is 2 (torch's default)
/// or 3.
const LEGACY_MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.',
];

/// `torch.serialization.PROTOCOL_VERSION`, the second pickle of a legacy checkpoint.
const LEGACY_PROTOCOL_VERSION: i64 = 1001;

/// Which of the two `torch.save` formats a checkpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PthFormat {
    /// The zip-based format (torch ≥ 1.6).
    Zip,
    /// The legacy format: consecutive pickles followed by raw storage data.
    Legacy,
}

/// Tensors of a PyTorch checkpoint (`pytorch_model.bin`), zip-based or legacy format.
///
/// The file is read lazily: [`PthCheckpoint::open`] parses its metadata, each
/// [`PthCheckpoint::get`] reads one tensor. The file must not change in between.
pub struct PthCheckpoint {
    inner: Inner,
}

enum Inner {
    Zip(PthTensors),
    Legacy(LegacyCheckpoint),
}

impl PthCheckpoint {
    /// Opens the checkpoint at `path`, telling the format from the first bytes (zip magic
    /// `PK\x03\x04` or the legacy pickled magic number), and reads its tensor metadata.
    pub fn open(path: &Path) -> Result<Self, candle_core::Error> {
        let mut file = File::open(path)?;
        let mut head = Vec::with_capacity(512);
        file.by_ref().take(512).read_to_end(&mut head)?;
        let inner = if head.starts_with(ZIP_MAGIC) {
            let tensors = no_panic("zip PyTorch checkpoint", || PthTensors::new(path, None))?;
            Inner::Zip(tensors)
        } else if is_legacy_magic(&head) {
            Inner::Legacy(LegacyCheckpoint::open(path, file)?)
        } else {
            // Not `bail!`: that appends a backtrace to the message when RUST_BACKTRACE is set.
            return Err(candle_core::Error::Msg(unrecognized(&head)));
        };
        Ok(Self { inner })
    }

    /// The format of the file.
    pub fn format(&self) -> PthFormat {
        match &self.inner {
            Inner::Zip(_) => PthFormat::Zip,
            Inner::Legacy(_) => PthFormat::Legacy,
        }
    }

    /// Whether the checkpoint has a tensor called `name` (one whose dtype or layout is not
    /// supported counts: [`PthCheckpoint::get`] then says why it cannot be read).
    pub fn contains(&self, name: &str) -> bool {
        match &self.inner {
            Inner::Zip(pth) => pth.tensor_infos().contains_key(name),
            Inner::Legacy(legacy) => legacy.tensors.contains_key(name),
        }
    }

    /// The tensor called `name` on [`Device::Cpu`], or `Ok(None)` if there is none.
    ///
    /// Supports f32, f16, bf16, f64, i64 (and u8) storages, and contiguous or
    /// Fortran-contiguous (e.g. transposed) layouts at any storage offset; a Fortran-contiguous
    /// tensor comes back as a transposed view, like candle's reader returns it. Tensors that
    /// share a storage (tied embeddings) each read their own part of it.
    pub fn get(&self, name: &str) -> candle_core::Result<Option<Tensor>> {
        match &self.inner {
            Inner::Zip(pth) => no_panic("zip PyTorch checkpoint", || pth.get(name)),
            Inner::Legacy(legacy) => legacy.get(name),
        }
    }

    /// The names of all tensors, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.inner {
            Inner::Zip(pth) => pth.tensor_infos().keys().cloned().collect(),
            Inner::Legacy(legacy) => legacy.tensors.keys().cloned().collect(),
        };
        names.sort();
        names
    }
}

/// Runs candle's zip reader, turning a panic on malformed contents (its pickle interpreter
/// indexes and shifts without checks) into an error.
fn no_panic<T>(what: &str, f: impl FnOnce() -> candle_core::Result<T>) -> candle_core::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => {
            result.map_err(|e| candle_core::Error::Msg(format!("{what}: {}", message(&e))))
        }
        Err(_) => Err(candle_core::Error::Msg(format!(
            "{what}: malformed contents (candle's reader panicked)"
        ))),
    }
}

fn is_legacy_magic(head: &[u8]) -> bool {
    head.len() >= LEGACY_MAGIC.len()
        && head[0] == LEGACY_MAGIC[0]
        && matches!(head[1], 2 | 3)
        && head[2..LEGACY_MAGIC.len()] == LEGACY_MAGIC[2..]
}

/// The error for a file that is neither format, more specific where we can tell.
fn unrecognized(head: &[u8]) -> String {
    let magic_long = &LEGACY_MAGIC[2..LEGACY_MAGIC.len() - 1];
    let has_magic_long = head[..head.len().min(64)]
        .windows(magic_long.len())
        .any(|w| w == magic_long);
    if head.first() == Some(&0x80) && has_magic_long {
        let protocol = head.get(1).copied().unwrap_or(0);
        format!(
            "legacy PyTorch checkpoint written with pickle protocol {protocol}, \
             only protocols 2 (torch's default) and 3 are supported"
        )
    } else if head.get(257..262) == Some(b"ustar") {
        "tar-based PyTorch checkpoint (torch < 0.4) is not supported".to_string()
    } else {
        "not a PyTorch checkpoint (neither zip nor legacy pickle)".to_string()
    }
}

fn legacy_err(message: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(format!("legacy PyTorch checkpoint: {message}"))
}

/// A candle error's message without the backtrace candle attaches when `RUST_BACKTRACE` is set,
/// and cut short: candle's pickle errors print whole objects (`expected a dict, got ...`).
fn message(e: &candle_core::Error) -> String {
    const MAX_CHARS: usize = 300;
    let text = match e {
        candle_core::Error::WithBacktrace { inner, .. } => return message(inner),
        candle_core::Error::Context { inner, context } => format!("{context}: {}", message(inner)),
        other => other.to_string(),
    };
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A legacy-format checkpoint: tensor metadata and where each tensor's data starts in the file.
struct LegacyCheckpoint {
    path: PathBuf,
    tensors: HashMap<String, LegacyEntry>,
}

enum LegacyEntry {
    Tensor(LegacyTensor),
    /// A tensor candle cannot represent (e.g. a `BoolStorage`), with the reason.
    Unsupported(String),
}

struct LegacyTensor {
    dtype: DType,
    layout: Layout,
    /// Byte offset in the file of the tensor's first element.
    data_offset: u64,
}

/// A tensor's storage reference, checked before candle's `into_tensor_info` sees it (that
/// function indexes its arguments without bounds checks).
struct StorageRef {
    class: String,
    key: String,
    numel: u64,
    /// `view_metadata` of old torch versions: (offset, numel) of a view of the root storage.
    view: Option<(u64, u64)>,
    offset: u64,
    size: Vec<usize>,
    stride: Vec<usize>,
}

/// What the main pickle says about one storage key.
struct StorageUse {
    class: String,
    numel: u64,
    /// A tensor using it, for error messages.
    tensor: String,
}

impl LegacyCheckpoint {
    fn open(path: &Path, mut file: File) -> candle_core::Result<Self> {
        let file_len = file.metadata()?.len();
        file.seek(SeekFrom::Start(LEGACY_MAGIC.len() as u64))?;
        let mut reader = BufReader::new(file);

        let version = read_pickle(&mut reader, "protocol version")?;
        match version {
            Object::Int(v) if i64::from(v) == LEGACY_PROTOCOL_VERSION => {}
            Object::Int(v) => {
                return Err(legacy_err(format!(
                    "unsupported protocol version {v} (expected {LEGACY_PROTOCOL_VERSION})"
                )))
            }
            other => {
                return Err(legacy_err(format!(
                    "protocol version is {}, not an integer",
                    kind(&other)
                )))
            }
        }

        let sys_info = read_pickle(&mut reader, "sys_info")?;
        let Object::Dict(sys_info) = sys_info else {
            return Err(legacy_err(format!(
                "sys_info is {}, not a dict",
                kind(&sys_info)
            )));
        };
        let little_endian = sys_info
            .iter()
            .find(|(k, _)| *k == Object::Unicode("little_endian".to_string()));
        if let Some((_, Object::Bool(false))) = little_endian {
            return Err(legacy_err("written on a big-endian machine, not supported"));
        }

        let state = read_pickle(&mut reader, "state dict")?;
        let Object::Dict(state) = state else {
            return Err(legacy_err(format!(
                "the saved object is {}, not a state dict",
                kind(&state)
            )));
        };

        let mut uses: HashMap<String, StorageUse> = HashMap::new();
        let mut pending: Vec<(String, StorageRef, Result<TensorInfo, String>)> = Vec::new();
        for (name, value) in state {
            let Object::Unicode(name) = name else {
                continue;
            };
            let Some(storage) =
                storage_ref(&value).map_err(|e| legacy_err(format!("tensor `{name}`: {e}")))?
            else {
                continue;
            };
            match uses.get(&storage.key) {
                Some(u) if u.class != storage.class || u.numel != storage.numel => {
                    return Err(legacy_err(format!(
                        "storage key {} is used as {} of {} elements by tensor `{}` and as {} \
                         of {} elements by tensor `{name}`",
                        storage.key, u.class, u.numel, u.tensor, storage.class, storage.numel
                    )))
                }
                Some(_) => {}
                None => {
                    uses.insert(
                        storage.key.clone(),
                        StorageUse {
                            class: storage.class.clone(),
                            numel: storage.numel,
                            tensor: name.clone(),
                        },
                    );
                }
            }
            let info = match value.into_tensor_info(Object::Unicode(name.clone()), Path::new("")) {
                Ok(Some(info)) => Ok(info),
                Ok(None) => Err("not a tensor candle can read".to_string()),
                Err(e) => Err(message(&e)),
            };
            pending.push((name, storage, info));
        }

        let keys = read_pickle(&mut reader, "storage keys")?;
        let Object::List(keys) = keys else {
            return Err(legacy_err(format!(
                "the storage key list is {}, not a list",
                kind(&keys)
            )));
        };
        let mut pos = reader.stream_position()?;
        let mut file = reader.into_inner();

        // Where each storage's data starts in the file.
        let mut starts: HashMap<String, u64> = HashMap::new();
        for key in keys {
            let Object::Unicode(key) = key else {
                return Err(legacy_err(format!(
                    "the storage key list holds {}, not a string",
                    kind(&key)
                )));
            };
            let Some(u) = uses.get(&key) else {
                return Err(legacy_err(format!(
                    "storage key {key} is listed but no tensor uses it"
                )));
            };
            let elem_size = storage_elem_size(&u.class).ok_or_else(|| {
                legacy_err(format!(
                    "storage key {key} has unknown type {}, cannot locate the data after it",
                    u.class
                ))
            })?;
            let mut count = [0u8; 8];
            file.seek(SeekFrom::Start(pos))?;
            file.read_exact(&mut count).map_err(|_| {
                legacy_err(format!(
                    "truncated: the element count of storage key {key} is past the end of \
                     the file ({file_len} bytes)"
                ))
            })?;
            let count = i64::from_le_bytes(count);
            if u64::try_from(count).ok() != Some(u.numel) {
                return Err(legacy_err(format!(
                    "storage key {key} has {count} elements in the data section but {} in the \
                     state dict",
                    u.numel
                )));
            }
            let start = pos + 8;
            let end = u
                .numel
                .checked_mul(elem_size)
                .and_then(|n| n.checked_add(start))
                .filter(|&end| end <= file_len)
                .ok_or_else(|| {
                    legacy_err(format!(
                        "truncated: storage key {key} ({} elements of {elem_size} bytes at byte \
                         {start}) extends past the end of the file ({file_len} bytes)",
                        u.numel
                    ))
                })?;
            if starts.insert(key.clone(), start).is_some() {
                return Err(legacy_err(format!("storage key {key} is listed twice")));
            }
            pos = end;
        }

        let mut tensors = HashMap::new();
        for (name, storage, info) in pending {
            let Some(&start) = starts.get(&storage.key) else {
                return Err(legacy_err(format!(
                    "storage key {} missing (used by tensor `{name}`)",
                    storage.key
                )));
            };
            let entry = match info {
                Err(reason) => LegacyEntry::Unsupported(reason),
                Ok(info) => LegacyEntry::Tensor(
                    locate(&storage, info, start)
                        .map_err(|e| legacy_err(format!("tensor `{name}`: {e}")))?,
                ),
            };
            tensors.insert(name, entry);
        }
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
        })
    }

    fn get(&self, name: &str) -> candle_core::Result<Option<Tensor>> {
        let tensor = match self.tensors.get(name) {
            None => return Ok(None),
            Some(LegacyEntry::Unsupported(reason)) => {
                return Err(legacy_err(format!(
                    "tensor `{name}` cannot be read: {reason}"
                )))
            }
            Some(LegacyEntry::Tensor(tensor)) => tensor,
        };
        let layout = &tensor.layout;
        // Both can hold when all but one dimension are 1; read row-major then.
        let fortran = !layout.is_contiguous();
        if fortran && !layout.is_fortran_contiguous() {
            return Err(legacy_err(format!(
                "tensor `{name}` is not contiguous (shape {:?}, stride {:?}); only contiguous \
                 and Fortran-contiguous tensors are supported",
                layout.dims(),
                layout.stride()
            )));
        }
        // `locate` checked that these bytes lie within the tensor's storage.
        let nbytes = layout.shape().elem_count() * tensor.dtype.size_in_bytes();
        let mut data = Vec::with_capacity(nbytes);
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(tensor.data_offset))?;
        file.take(nbytes as u64).read_to_end(&mut data)?;
        if data.len() != nbytes {
            return Err(legacy_err(format!(
                "tensor `{name}`: the file ended after {} of {nbytes} bytes (changed since it \
                 was opened?)",
                data.len()
            )));
        }
        let dims = layout.dims();
        if fortran && dims.len() > 1 {
            // Column-major data: read it as the reversed shape, then reverse the axes.
            let reversed: Vec<usize> = dims.iter().rev().copied().collect();
            let tensor = Tensor::from_raw_buffer(&data, tensor.dtype, &reversed, &Device::Cpu)?;
            let axes: Vec<usize> = (0..dims.len()).rev().collect();
            Ok(Some(tensor.permute(axes)?))
        } else {
            Ok(Some(Tensor::from_raw_buffer(
                &data,
                tensor.dtype,
                dims,
                &Device::Cpu,
            )?))
        }
    }
}

/// Checks that a tensor lies within its storage and computes where its data starts in the file.
fn locate(
    storage: &StorageRef,
    info: TensorInfo,
    storage_start: u64,
) -> Result<LegacyTensor, String> {
    let elem_size = info.dtype.size_in_bytes() as u64;
    let (view_offset, view_numel) = storage.view.unwrap_or((0, storage.numel));
    if view_offset
        .checked_add(view_numel)
        .is_none_or(|end| end > storage.numel)
    {
        return Err(format!(
            "storage view of {view_numel} elements at offset {view_offset} exceeds storage key {} \
             ({} elements)",
            storage.key, storage.numel
        ));
    }
    // Elements the tensor spans from its offset: 1 + Σ (size - 1) · stride, or 0 if empty.
    let span = if storage.size.contains(&0) {
        Some(0)
    } else {
        storage
            .size
            .iter()
            .zip(&storage.stride)
            .try_fold(1u64, |acc, (&size, &stride)| {
                (size as u64 - 1)
                    .checked_mul(stride as u64)
                    .and_then(|n| acc.checked_add(n))
            })
    };
    // candle multiplies the sizes unchecked (skipping none, even after a zero): bound the
    // product of the non-zero ones.
    let elem_count = storage
        .size
        .iter()
        .try_fold(1u64, |acc, &size| acc.checked_mul(size.max(1) as u64));
    match (span, elem_count) {
        (Some(span), Some(_))
            if storage
                .offset
                .checked_add(span)
                .is_some_and(|e| e <= view_numel) => {}
        _ => {
            return Err(format!(
                "shape {:?} with stride {:?} at offset {} exceeds its storage ({view_numel} \
                 elements)",
                storage.size, storage.stride, storage.offset
            ))
        }
    }
    if info.layout.dims() != storage.size.as_slice() || info.layout.stride() != storage.stride {
        return Err("candle's reading of the layout disagrees with the pickle".to_string());
    }
    let data_offset = (view_offset + storage.offset)
        .checked_mul(elem_size)
        .and_then(|n| n.checked_add(storage_start))
        .ok_or_else(|| "data offset overflows".to_string())?;
    Ok(LegacyTensor {
        dtype: info.dtype,
        layout: info.layout,
        data_offset,
    })
}

/// Bytes per element of a torch storage class (`torch.<Name>Storage`), for skipping over the
/// data of storages candle cannot load.
fn storage_elem_size(class: &str) -> Option<u64> {
    Some(match class {
        "BoolStorage"
        | "ByteStorage"
        | "CharStorage"
        | "QUInt8Storage"
        | "QInt8Storage"
        | "QUInt4x2Storage"
        | "QUInt2x4Storage"
        | "Float8_e4m3fnStorage"
        | "Float8_e5m2Storage" => 1,
        "ShortStorage" | "HalfStorage" | "BFloat16Storage" => 2,
        "IntStorage" | "FloatStorage" | "QInt32Storage" | "ComplexHalfStorage" => 4,
        "LongStorage" | "DoubleStorage" | "ComplexFloatStorage" => 8,
        "ComplexDoubleStorage" => 16,
        _ => return None,
    })
}

/// A short description of an object's kind, for error messages.
fn kind(obj: &Object) -> &'static str {
    match obj {
        Object::Class { .. } => "a class",
        Object::Int(_) | Object::Long(_) => "an integer",
        Object::Float(_) => "a float",
        Object::Unicode(_) => "a string",
        Object::Bool(_) => "a bool",
        Object::None => "None",
        Object::Tuple(_) => "a tuple",
        Object::List(_) => "a list",
        Object::Mark => "a mark",
        Object::Dict(_) => "a dict",
        Object::Reduce { .. } | Object::Build { .. } => "an object",
        Object::PersistentLoad(_) => "a persistent id",
    }
}

fn is_class(obj: &Object, module: &str, class: &str) -> bool {
    matches!(obj, Object::Class { module_name, class_name }
        if module_name == module && class_name == class)
}

fn non_negative(obj: &Object) -> Option<u64> {
    match obj {
        Object::Int(v) => u64::try_from(*v).ok(),
        Object::Long(v) => u64::try_from(*v).ok(),
        _ => None,
    }
}

/// Sizes or strides: a tuple of non-negative `Int`s (as candle's `Vec<usize>` conversion wants).
fn dims(obj: &Object) -> Option<Vec<usize>> {
    let Object::Tuple(items) = obj else {
        return None;
    };
    items
        .iter()
        .map(|item| match item {
            Object::Int(v) => usize::try_from(*v).ok(),
            _ => None,
        })
        .collect()
}

/// The storage reference of a pickled tensor, `Ok(None)` for values that are not tensors
/// (`_metadata`, numbers...). Follows the same wrappers as candle's `into_tensor_info` and
/// checks everything that function takes for granted.
fn storage_ref(value: &Object) -> Result<Option<StorageRef>, String> {
    let Object::Reduce { callable, args } = value else {
        return Ok(None);
    };
    let (callable, args): (&Object, &Object) =
        if is_class(callable, "torch._tensor", "_rebuild_from_type_v2") {
            match args.as_ref() {
                Object::Tuple(a) if a.len() >= 3 => (&a[0], &a[2]),
                _ => return Err("malformed _rebuild_from_type_v2 arguments".to_string()),
            }
        } else if is_class(callable, "torch._utils", "_rebuild_parameter") {
            match args.as_ref() {
                Object::Tuple(a) => match a.first() {
                    Some(Object::Reduce { callable, args }) => (callable, args),
                    _ => return Err("malformed _rebuild_parameter arguments".to_string()),
                },
                _ => return Err("malformed _rebuild_parameter arguments".to_string()),
            }
        } else {
            (callable, args)
        };
    if !is_class(callable, "torch._utils", "_rebuild_tensor_v2") {
        return Ok(None);
    }
    let Object::Tuple(args) = args else {
        return Err("_rebuild_tensor_v2 arguments are not a tuple".to_string());
    };
    let [storage, offset, size, stride, ..] = args.as_slice() else {
        return Err(format!(
            "_rebuild_tensor_v2 has {} arguments, expected at least 4",
            args.len()
        ));
    };
    let Object::PersistentLoad(pid) = storage else {
        return Err("the tensor's storage is not a persistent id".to_string());
    };
    let Object::Tuple(pid) = pid.as_ref() else {
        return Err("the storage's persistent id is not a tuple".to_string());
    };
    let [typename, class, key, _location, numel, rest @ ..] = pid.as_slice() else {
        return Err(format!(
            "the storage's persistent id has {} fields, expected 6",
            pid.len()
        ));
    };
    if *typename != Object::Unicode("storage".to_string()) {
        return Err("the persistent id is not a storage".to_string());
    }
    let Object::Class { class_name, .. } = class else {
        return Err("the storage type is not a class".to_string());
    };
    let Object::Unicode(key) = key else {
        return Err("the storage key is not a string".to_string());
    };
    let numel = non_negative(numel).ok_or("the storage size is not a non-negative integer")?;
    let view = match rest.first() {
        None | Some(Object::None) => None,
        Some(Object::Tuple(v)) => match v.as_slice() {
            [_, view_offset, view_numel] => Some((
                non_negative(view_offset).ok_or("malformed storage view offset")?,
                non_negative(view_numel).ok_or("malformed storage view size")?,
            )),
            _ => return Err("malformed storage view metadata".to_string()),
        },
        Some(_) => return Err("malformed storage view metadata".to_string()),
    };
    // candle multiplies the offset by the element size in `usize`: keep it far from overflow.
    let offset = non_negative(offset)
        .filter(|&o| o < 1 << 48)
        .ok_or("the storage offset is not a plausible non-negative integer")?;
    let size = dims(size).ok_or("the size is not a tuple of non-negative integers")?;
    let stride = dims(stride).ok_or("the stride is not a tuple of non-negative integers")?;
    if size.len() != stride.len() {
        return Err(format!(
            "size {size:?} and stride {stride:?} have different lengths"
        ));
    }
    Ok(Some(StorageRef {
        class: class_name.clone(),
        key: key.clone(),
        numel,
        view,
        offset,
        size,
        stride,
    }))
}

/// Reads one pickle from `reader` (up to and including its `STOP`) and decodes it with candle's
/// interpreter. The opcodes are walked here first, to find the pickle's end and to reject what
/// that interpreter would mishandle or panic on.
fn read_pickle<R: BufRead + Seek>(reader: &mut R, what: &str) -> candle_core::Result<Object> {
    let start = reader.stream_position()?;
    let mut buf = Vec::new();
    let truncated = |buf: &Vec<u8>| {
        legacy_err(format!(
            "truncated in the {what} pickle (file ends at byte {})",
            start + buf.len() as u64
        ))
    };
    loop {
        let at = start + buf.len() as u64;
        copy(reader, 1, &mut buf).map_err(|_| truncated(&buf))?;
        let op = buf[buf.len() - 1];
        let arg_len: u64 = match op {
            // PROTO
            0x80 => {
                copy(reader, 1, &mut buf).map_err(|_| truncated(&buf))?;
                let protocol = buf[buf.len() - 1];
                if !matches!(protocol, 2 | 3) {
                    return Err(legacy_err(format!(
                        "the {what} pickle uses protocol {protocol}, only 2 and 3 are supported"
                    )));
                }
                0
            }
            // GLOBAL: module and name, each ending with a newline.
            b'c' => {
                for _ in 0..2 {
                    let before = buf.len();
                    reader.read_until(b'\n', &mut buf)?;
                    if buf.len() == before || buf.last() != Some(&b'\n') {
                        return Err(truncated(&buf));
                    }
                }
                0
            }
            // BINPUT, BINGET, BININT1
            b'q' | b'h' | b'K' => 1,
            // BININT2
            b'M' => 2,
            // LONG_BINPUT, LONG_BINGET, BININT
            b'r' | b'j' | b'J' => 4,
            // BINFLOAT
            b'G' => 8,
            // BINUNICODE: u32 length, then UTF-8 bytes.
            b'X' => {
                copy(reader, 4, &mut buf).map_err(|_| truncated(&buf))?;
                let n = buf.len();
                u64::from(u32::from_le_bytes([
                    buf[n - 4],
                    buf[n - 3],
                    buf[n - 2],
                    buf[n - 1],
                ]))
            }
            // LONG1: one length byte, then that many little-endian bytes.
            0x8a => {
                copy(reader, 1, &mut buf).map_err(|_| truncated(&buf))?;
                let n = buf[buf.len() - 1];
                if n > 8 {
                    return Err(legacy_err(format!(
                        "the {what} pickle has a {n}-byte integer at byte {at}, wider than 64 bits"
                    )));
                }
                u64::from(n)
            }
            // STOP
            b'.' => break,
            // EMPTY_TUPLE, REDUCE, MARK, TUPLE, BINPERSID, TUPLE1-3, NEWTRUE, NEWFALSE, NONE,
            // SETITEM, SETITEMS, EMPTY_DICT, BUILD, NEWOBJ, EMPTY_LIST, APPEND, APPENDS
            b')'
            | b'R'
            | b'('
            | b't'
            | b'Q'
            | 0x85..=0x89
            | b'N'
            | b's'
            | b'u'
            | b'}'
            | b'b'
            | 0x81
            | b']'
            | b'a'
            | b'e' => 0,
            other => {
                return Err(legacy_err(format!(
                    "the {what} pickle has opcode 0x{other:02x} at byte {at}, which is not \
                     supported"
                )))
            }
        };
        copy(reader, arg_len, &mut buf).map_err(|_| truncated(&buf))?;
    }
    let mut stack = Stack::empty();
    let mut data = buf.as_slice();
    stack
        .read_loop(&mut data)
        .and_then(|()| stack.finalize())
        .map_err(|e| {
            legacy_err(format!(
                "cannot decode the {what} pickle at byte {start}: {}",
                message(&e)
            ))
        })
}

/// Appends exactly `n` bytes from `reader` to `buf` (never allocating more than the file holds).
fn copy<R: Read>(reader: &mut R, n: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let got = reader.by_ref().take(n).read_to_end(buf)?;
    if got as u64 == n {
        Ok(())
    } else {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pth")
            .join(name)
    }

    struct Expected {
        name: String,
        dtype: String,
        shape: Vec<usize>,
        values: Vec<f64>,
    }

    fn expected() -> Vec<Expected> {
        let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| Expected {
                name: t["name"].as_str().unwrap().to_string(),
                dtype: t["dtype"].as_str().unwrap().to_string(),
                shape: t["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect(),
                values: t["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect(),
            })
            .collect()
    }

    /// Row-major values of a tensor, exactly (every fixture value is exact in its dtype).
    fn values(tensor: &Tensor) -> Vec<f64> {
        let flat = tensor.flatten_all().unwrap();
        match tensor.dtype() {
            DType::I64 => flat
                .to_vec1::<i64>()
                .unwrap()
                .into_iter()
                .map(|v| v as f64)
                .collect(),
            _ => flat.to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap(),
        }
    }

    fn check_all(file: &str, format: PthFormat) {
        let pth = PthCheckpoint::open(&fixture(file)).unwrap();
        assert_eq!(pth.format(), format);
        let expected = expected();
        let mut names: Vec<String> = expected.iter().map(|e| e.name.clone()).collect();
        names.sort();
        assert_eq!(pth.names(), names);
        for e in &expected {
            assert!(pth.contains(&e.name), "{file}: {}", e.name);
            let tensor = pth.get(&e.name).unwrap().unwrap();
            assert_eq!(tensor.dtype().as_str(), e.dtype, "{file}: {}", e.name);
            assert_eq!(tensor.dims(), e.shape.as_slice(), "{file}: {}", e.name);
            assert_eq!(values(&tensor), e.values, "{file}: {}", e.name);
        }
    }

    #[test]
    fn legacy_file_loads_every_tensor_exactly() {
        check_all("legacy.bin", PthFormat::Legacy);
    }

    #[test]
    fn zip_file_loads_every_tensor_exactly() {
        check_all("zip.bin", PthFormat::Zip);
    }

    #[test]
    fn legacy_and_zip_agree() {
        let legacy = PthCheckpoint::open(&fixture("legacy.bin")).unwrap();
        let zip = PthCheckpoint::open(&fixture("zip.bin")).unwrap();
        assert_eq!(legacy.names(), zip.names());
        for name in legacy.names() {
            let a = legacy.get(&name).unwrap().unwrap();
            let b = zip.get(&name).unwrap().unwrap();
            assert_eq!(a.dtype(), b.dtype(), "{name}");
            assert_eq!(a.dims(), b.dims(), "{name}");
            assert_eq!(values(&a), values(&b), "{name}");
        }
    }

    #[test]
    fn tied_weights_share_values() {
        let pth = PthCheckpoint::open(&fixture("legacy.bin")).unwrap();
        let shared = values(&pth.get("model.shared.weight").unwrap().unwrap());
        for name in ["model.encoder.embed_tokens.weight", "lm_head.weight"] {
            assert_eq!(values(&pth.get(name).unwrap().unwrap()), shared, "{name}");
        }
    }

    #[test]
    fn missing_names_are_none() {
        for file in ["legacy.bin", "zip.bin"] {
            let pth = PthCheckpoint::open(&fixture(file)).unwrap();
            assert!(!pth.contains("model.nope.weight"));
            assert!(pth.get("model.nope.weight").unwrap().is_none(), "{file}");
            assert!(pth.get("_metadata").unwrap().is_none(), "{file}");
        }
    }

    fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dragoman-pth-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn open_err(name: &str, bytes: &[u8]) -> String {
        match PthCheckpoint::open(&write_temp(name, bytes)) {
            Ok(_) => panic!("{name}: opened"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn truncated_legacy_files_are_errors() {
        let bytes = std::fs::read(fixture("legacy.bin")).unwrap();
        // Every prefix: inside each pickle and inside the data section.
        for len in 0..bytes.len() {
            let err = open_err(&format!("truncated-{len}.bin"), &bytes[..len]);
            if len >= LEGACY_MAGIC.len() {
                assert!(err.contains("truncated"), "{len}: {err}");
            }
        }
        let err = open_err("truncated.bin", &bytes[..bytes.len() - 1]);
        assert!(
            err.starts_with("legacy PyTorch checkpoint: truncated: storage key"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        // A fixed xorshift stream, so the test is deterministic.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let err = open_err("random.bin", &bytes);
        assert_eq!(
            err,
            "not a PyTorch checkpoint (neither zip nor legacy pickle)"
        );
        // Random bytes after a valid magic number, and with a zip header.
        let mut legacy = LEGACY_MAGIC.to_vec();
        legacy.extend_from_slice(&bytes);
        open_err("random-legacy.bin", &legacy);
        let mut zip = ZIP_MAGIC.to_vec();
        zip.extend_from_slice(&bytes);
        open_err("random-zip.bin", &zip);
        let err = open_err("empty.bin", b"");
        assert_eq!(
            err,
            "not a PyTorch checkpoint (neither zip nor legacy pickle)"
        );
    }

    #[test]
    fn corrupted_legacy_files_never_panic() {
        let bytes = std::fs::read(fixture("legacy.bin")).unwrap();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for i in 0..bytes.len() {
            // Change one byte to a pseudo-random value; must open or fail, then read or fail.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut copy = bytes.clone();
            copy[i] ^= (state as u8) | 1;
            if let Ok(pth) = PthCheckpoint::open(&write_temp("corrupt.bin", &copy)) {
                for name in pth.names() {
                    let _ = pth.get(&name);
                }
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let bytes = std::fs::read(fixture("legacy.bin")).unwrap();
        // Rename the first storage key in the main pickle only: the key list then names a
        // storage no tensor uses.
        let needle = b"X\x0e\x00\x00\x0000000000000000";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        let mut renamed = bytes.clone();
        renamed[at + needle.len() - 1] = b'9';
        let err = open_err("renamed.bin", &renamed);
        assert_eq!(
            err,
            "legacy PyTorch checkpoint: storage key 00000000000000 is listed but no tensor uses it"
        );
        let mut proto4 = bytes.clone();
        proto4[1] = 4;
        let err = open_err("proto4.bin", &proto4);
        assert!(err.contains("pickle protocol 4"), "{err}");
    }
}
