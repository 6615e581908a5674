//! Writing OUT.jsonl: one line per input item, in input order, exactly once, across crashes.
//!
//! Results live in the database (stored transactionally as items finish, in any order). The
//! output file is a copy of the *finished prefix*: the job row records a mark — items
//! `[0, next)` are in the file, which is `offset` bytes long. Appending goes: write the lines of
//! the next finished items after `offset`, `fsync` the file, then commit the new mark.
//!
//! Why this is exactly once: the mark is committed only after the bytes it covers are durable,
//! so at any instant (kill -9, power loss) the committed mark describes a prefix of the file
//! that is really on disk. Bytes past the mark can only come from an append that did not commit
//! its mark; [`OutputFile::open`] truncates them away, and the lines are appended again from the
//! stored results, which never change once finished, so the file is byte-for-byte what an
//! uninterrupted run writes. Should the file be shorter than the mark (deleted, or lost by a
//! filesystem), it is rebuilt from the database. Items never run twice for the output's sake:
//! a finished item's line comes from the database, not from the model.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::store::{Job, JobId, JobStore, OutputMark};
use super::JobError;

/// Lines fetched from the store at a time.
const CHUNK: usize = 512;

/// The output file of one job, positioned at its mark.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    file: File,
    job: JobId,
    mark: OutputMark,
}

impl OutputFile {
    /// Opens (or creates) `path` for `job` and makes it match the job's mark: truncates an
    /// unrecorded tail, or rebuilds the file from the stored results if it is too short.
    pub async fn open<S: JobStore>(store: &S, job: &Job, path: &Path) -> Result<Self, JobError> {
        let io = |source| JobError::Output {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let length = file.metadata().map_err(io)?.len();
        let mut output = Self {
            path: path.to_path_buf(),
            file,
            job: job.id,
            mark: job.output,
        };
        if length >= job.output.offset {
            output.file.set_len(job.output.offset).map_err(io)?;
            output
                .file
                .seek(SeekFrom::Start(job.output.offset))
                .map_err(io)?;
        } else {
            tracing::warn!(
                path = %path.display(),
                length,
                expected = job.output.offset,
                "the output is shorter than recorded; rebuilding it from the state database"
            );
            output.rebuild(store).await?;
        }
        output.file.sync_all().map_err(io)?;
        Ok(output)
    }

    /// Rewrites items `[0, mark.next)` from the store and records the resulting length.
    async fn rebuild<S: JobStore>(&mut self, store: &S) -> Result<(), JobError> {
        let io = |source| JobError::Output {
            path: self.path.clone(),
            source,
        };
        self.file.set_len(0).map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut written = 0u64;
        let mut next = 0u64;
        while next < self.mark.next {
            let want = ((self.mark.next - next) as usize).min(CHUNK);
            let lines = store.finished_prefix(self.job, next, want).await?;
            if lines.is_empty() {
                return Err(JobError::Inconsistent(format!(
                    "item {next} is recorded as written but has no stored result"
                )));
            }
            let buffer = join_lines(&lines);
            self.file.write_all(&buffer).map_err(io)?;
            written += buffer.len() as u64;
            next += lines.len() as u64;
        }
        self.file.sync_data().map_err(io)?;
        let rebuilt = OutputMark {
            next: self.mark.next,
            offset: written,
        };
        if rebuilt != self.mark {
            store.advance_output(self.job, self.mark, rebuilt).await?;
            self.mark = rebuilt;
        }
        Ok(())
    }

    /// Appends every finished item after the mark, in order, and moves the mark. Returns how
    /// many lines were written.
    pub async fn catch_up<S: JobStore>(&mut self, store: &S) -> Result<u64, JobError> {
        let mut appended = 0;
        loop {
            let lines = store
                .finished_prefix(self.job, self.mark.next, CHUNK)
                .await?;
            if lines.is_empty() {
                return Ok(appended);
            }
            let buffer = join_lines(&lines);
            let io = |source| JobError::Output {
                path: self.path.clone(),
                source,
            };
            self.file.write_all(&buffer).map_err(io)?;
            self.file.sync_data().map_err(io)?;
            let to = OutputMark {
                next: self.mark.next + lines.len() as u64,
                offset: self.mark.offset + buffer.len() as u64,
            };
            store.advance_output(self.job, self.mark, to).await?;
            self.mark = to;
            appended += lines.len() as u64;
        }
    }

    /// How much is written.
    pub fn mark(&self) -> OutputMark {
        self.mark
    }
}

fn join_lines(lines: &[String]) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        buffer.extend_from_slice(line.as_bytes());
        buffer.push(b'\n');
    }
    buffer
}
