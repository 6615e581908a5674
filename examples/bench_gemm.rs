//! GFLOP/s of the packed f32 product (`engine::packed`) against candle's matmul, at the shapes
//! of an opus-mt decoding step and encoder pass. Not a test: run it on an idle machine.
//!
//!     cargo run --release --example bench_gemm -- [--threads 2] [--rows 1,6,32,128,3000]

use std::time::Instant;

use anyhow::Result;
use candle_core::{Device, Tensor};
use clap::Parser;
use dragoman::engine::packed::{self, PackedMatrix};

#[derive(Parser)]
struct Args {
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Input rows (batch × positions) to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 6, 32, 128, 3000])]
    rows: Vec<usize>,
}

/// (name, outputs, inputs) of the opus-mt-fr-en products.
const SHAPES: [(&str, usize, usize); 4] = [
    ("attention 512x512", 512, 512),
    ("fc1 2048x512", 2048, 512),
    ("fc2 512x2048", 512, 2048),
    ("lm_head 59514x512", 59_514, 512),
];

fn seconds_per_call(mut f: impl FnMut(), work: f64) -> f64 {
    f();
    let repeats = ((2e9 / work) as usize).clamp(3, 2000);
    let start = Instant::now();
    for _ in 0..repeats {
        f();
    }
    start.elapsed().as_secs_f64() / repeats as f64
}

fn main() -> Result<()> {
    let args = Args::parse();
    dragoman::engine::cpu::configure_cpu_runtime(Some(args.threads));
    anyhow::ensure!(packed::supported(), "this CPU has no AVX2/FMA");
    println!("| product | rows | packed GFLOP/s | candle GFLOP/s |");
    println!("|---|---:|---:|---:|");
    for (name, n, k) in SHAPES {
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.01)
            .collect();
        let packed = PackedMatrix::pack(&w, n, k);
        let wt = Tensor::from_vec(w, (n, k), &Device::Cpu)?.t()?;
        for &m in &args.rows {
            if m * n > 400_000_000 {
                continue;
            }
            let x: Vec<f32> = (0..m * k)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1)
                .collect();
            let xt = Tensor::from_vec(x.clone(), (m, k), &Device::Cpu)?;
            let flops = 2.0 * (m * n * k) as f64;
            let ours = seconds_per_call(
                || {
                    std::hint::black_box(packed.matmul_transposed(&x, m, None));
                },
                flops,
            );
            let theirs = seconds_per_call(
                || {
                    std::hint::black_box(xt.matmul(&wt).ok());
                },
                flops,
            );
            println!(
                "| {name} | {m} | {:.1} | {:.1} |",
                flops / ours / 1e9,
                flops / theirs / 1e9
            );
        }
    }
    Ok(())
}
