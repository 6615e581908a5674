//! Process-wide settings for CPU inference, applied once at the start of `main` (before any other
//! thread exists, since they set environment variables and allocator options).
//!
//! - `RAYON_NUM_THREADS`: candle's matrix products and our kernels use rayon's pool, sized from it.
//! - `CANDLE_BARRIER_POOL_SPIN_LIMIT=0`: candle's element-wise pool spins 25,000 times before
//!   parking by default; on few cores its spinning threads compete with the matrix products'
//!   threads (about 10% slower generation measured on 2 cores). Kept if the user set it.
//! - glibc's malloc keeps large blocks in the heap instead of mapping and unmapping them: every
//!   decoding step allocates tensors of several MB (the logits alone are rows × 59,514 floats),
//!   and a fresh mapping costs a page fault and a zeroed page per 4 KB (about 5% of the
//!   profile samples of a batch-32 run on an opus-mt-sized model; the end-to-end gain was within
//!   the ±10% run-to-run noise of that machine). Memory is still reused, only not returned to
//!   the system between steps.

/// Applies the settings above; `threads` (when given) sets the size of the compute pool.
///
/// Call it first thing in `main`: it changes environment variables, which is only sound while
/// the process has one thread.
pub fn configure_cpu_runtime(threads: Option<usize>) {
    if let Some(threads) = threads {
        std::env::set_var("RAYON_NUM_THREADS", threads.max(1).to_string());
    }
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "0");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
