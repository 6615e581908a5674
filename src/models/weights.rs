//! Checkpoint weights from `model.safetensors` (memory-mapped) or `pytorch_model.bin` (PyTorch
//! pickle, zip or pre-1.6 legacy format), exposed to the engine as a candle `VarBuilder` that checks every tensor's dtype and
//! shape and names the file and tensor when something is wrong.
//!
//! Memory: every tensor is copied out of the map into storage the model owns, and right after the
//! copy the map's pages holding that tensor are handed back to the kernel (`release_pages`), so
//! the file's pages do not stay resident beside the copies until the `VarBuilder` is dropped: the
//! peak is the copies plus one tensor's pages, not twice the file.

use std::path::{Path, PathBuf};

use candle_core::safetensors::{Load, MmapedSafetensors};
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use super::error::LoadError;
use super::pth::PthCheckpoint;

/// The weight files we can read, in order of preference.
pub const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];

enum Store {
    Safetensors(MmapedSafetensors),
    Pytorch(PthCheckpoint),
}

/// A weights file opened for loading.
pub struct CheckedWeights {
    path: PathBuf,
    store: Store,
}

impl CheckedWeights {
    /// Opens `path`, choosing the reader from the file name.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let fail = |e: candle_core::Error| LoadError::Weights {
            path: path.to_path_buf(),
            message: format!("cannot read weights: {e}"),
        };
        let is_pickle = path
            .extension()
            .is_some_and(|ext| ext == "bin" || ext == "pt" || ext == "pth");
        let store = if is_pickle {
            Store::Pytorch(PthCheckpoint::open(path).map_err(fail)?)
        } else {
            // SAFETY: the file is memory-mapped read-only; like every mmap-based loader we rely on
            // it not being truncated while the model is alive.
            Store::Safetensors(unsafe { MmapedSafetensors::new(path) }.map_err(fail)?)
        };
        Ok(Self {
            path: path.to_path_buf(),
            store,
        })
    }

    /// The file these weights come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A `VarBuilder` over these weights producing `dtype` tensors on `device`.
    pub fn var_builder(self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self), dtype, device.clone())
    }

    fn load(&self, name: &str, device: &Device) -> candle_core::Result<Tensor> {
        match &self.store {
            Store::Safetensors(st) => {
                let view = st.get(name)?;
                let tensor = view.load(device)?;
                release_pages(view.data());
                Ok(tensor)
            }
            Store::Pytorch(pth) => match pth.get(name)? {
                Some(tensor) => tensor.to_device(device),
                None => candle_core::bail!("tensor `{name}` is not in the file"),
            },
        }
    }

    fn contains(&self, name: &str) -> bool {
        match &self.store {
            Store::Safetensors(st) => st.get(name).is_ok(),
            Store::Pytorch(pth) => pth.contains(name),
        }
    }
}

impl SimpleBackend for CheckedWeights {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        _init: Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        if !self.contains(name) {
            candle_core::bail!(
                "{}: tensor `{name}` is missing (expected shape {shape:?})",
                self.path.display()
            );
        }
        let tensor = self.load(name, device)?;
        if !matches!(
            tensor.dtype(),
            DType::F32 | DType::F16 | DType::BF16 | DType::F64
        ) {
            candle_core::bail!(
                "{}: tensor `{name}` has dtype {:?}, expected a floating-point type",
                self.path.display(),
                tensor.dtype()
            );
        }
        if tensor.shape() != &shape {
            candle_core::bail!(
                "{}: tensor `{name}` has shape {:?} but config.json implies {shape:?}",
                self.path.display(),
                tensor.dims()
            );
        }
        tensor.to_dtype(dtype)
    }

    fn get_unchecked(
        &self,
        name: &str,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        self.load(name, device)?.to_dtype(dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.contains(name)
    }
}

/// Tells the kernel that this process no longer needs the pages of the memory map that hold
/// `bytes` (already copied out), so they stop counting in its resident memory. They stay in the
/// page cache, and reading them again (a tensor loaded twice, the neighbour sharing an edge page)
/// maps them back in from the file. Best effort: on failure, or off Unix, the pages just stay
/// resident until the map is dropped.
fn release_pages(bytes: &[u8]) {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Ok(page) = usize::try_from(page) else {
            return;
        };
        if page == 0 || bytes.is_empty() {
            return;
        }
        let start = bytes.as_ptr() as usize;
        let first_page = start - start % page;
        // SAFETY: `bytes` lies inside the read-only, shared file mapping of MmapedSafetensors
        // (memmap2 maps read-only files MAP_SHARED and page-aligned from offset 0, so rounding
        // the start down to its page stays inside the mapping). MADV_DONTNEED on such a mapping
        // never loses data: nothing was written to it, and later accesses read the file's
        // contents again, so every `&[u8]` into the map keeps seeing the same bytes.
        unsafe {
            libc::madvise(
                first_page as *mut libc::c_void,
                start + bytes.len() - first_page,
                libc::MADV_DONTNEED,
            );
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}
