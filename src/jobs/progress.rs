//! Progress on stderr: an indicatif bar with rate and ETA on a terminal, otherwise (logs, CI,
//! pipes) a plain line every few seconds.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::store::JobCounts;

/// Reports a job's progress.
pub struct Reporter {
    display: Display,
    total: u64,
    initial: u64,
    started: Instant,
}

enum Display {
    Bar(ProgressBar),
    Lines { every: Duration, last: Instant },
    Silent,
}

impl Reporter {
    /// A bar when stderr is a terminal, else a line every `every`; `initial` items were already
    /// finished (they do not count towards the rate).
    pub fn new(total: u64, initial: u64, every: Duration) -> Self {
        let display = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{wide_bar}] {pos}/{len} articles, {per_sec}, ETA {eta} {msg}",
                )
                .expect("the progress template is valid; this is a bug")
                .progress_chars("=> "),
            );
            bar.set_position(initial);
            bar.reset_eta();
            Display::Bar(bar)
        } else {
            Display::Lines {
                every,
                last: Instant::now(),
            }
        };
        Self {
            display,
            total,
            initial,
            started: Instant::now(),
        }
    }

    /// A reporter that prints nothing.
    pub fn silent() -> Self {
        Self {
            display: Display::Silent,
            total: 0,
            initial: 0,
            started: Instant::now(),
        }
    }

    /// Shows the current counts.
    pub fn update(&mut self, counts: &JobCounts) {
        let finished = counts.finished();
        match &mut self.display {
            Display::Bar(bar) => {
                bar.set_position(finished);
                if counts.failed > 0 {
                    bar.set_message(format!("({} failed)", counts.failed));
                }
            }
            Display::Lines { every, last } => {
                if last.elapsed() >= *every {
                    *last = Instant::now();
                    eprintln!("{}", self.line(counts));
                }
            }
            Display::Silent => {}
        }
    }

    fn line(&self, counts: &JobCounts) -> String {
        let finished = counts.finished();
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = finished.saturating_sub(self.initial) as f64 / elapsed.max(1e-9);
        let left = self.total.saturating_sub(finished);
        let eta = if rate > 0.0 {
            format!("{:.0} s", left as f64 / rate)
        } else {
            "unknown".to_string()
        };
        format!(
            "progress: {finished}/{} articles ({} failed), {rate:.2} articles/s, ETA {eta}",
            self.total, counts.failed
        )
    }

    /// Clears the bar (the caller prints the summary).
    pub fn finish(&mut self) {
        if let Display::Bar(bar) = &self.display {
            bar.finish_and_clear();
        }
    }
}
