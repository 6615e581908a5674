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
//!
//! Several workers sharing a job (PostgreSQL) share its output file too: every append holds an
//! exclusive `flock` on the file, re-reads the mark from the database, brings the file to it
//! (cutting a tail a dead writer left, or rebuilding), then writes, fsyncs and moves the mark
//! before letting go. Whoever appends next starts from that mark, so the file is the same as one
//! worker's. (The lock is advisory and per machine: workers on different machines should each
//! write their own copy, i.e. use different output paths, or one of them rebuilds it often.)

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::store::{Job, JobId, JobStore, OutputMark};
use super::JobError;

/// Lines fetched from the store at a time.
const CHUNK: usize = 512;

/// How long a writer waits between tries for the output lock.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(5);

/// An exclusive advisory lock on an open file, released on drop (or when the process dies).
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    /// Takes the lock, waiting asynchronously (never blocking the runtime) while another open
    /// file description holds it.
    async fn acquire(file: &'a File, path: &Path) -> Result<Self, JobError> {
        loop {
            if try_lock(file).map_err(|source| JobError::Output {
                path: path.to_path_buf(),
                source,
            })? {
                return Ok(Self(file));
            }
            tokio::time::sleep(LOCK_RETRY).await;
        }
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        unlock(self.0);
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this File owns; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(code) if code == libc::EWOULDBLOCK || code == libc::EINTR => Ok(false),
        _ => Err(error),
    }
}

#[cfg(unix)]
fn unlock(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: as in try_lock.
    unsafe {
        libc::flock(file.as_raw_fd(), libc::LOCK_UN);
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(not(unix))]
fn unlock(_file: &File) {}

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
        let mut output = Self {
            path: path.to_path_buf(),
            file,
            job: job.id,
            mark: job.output,
        };
        let file = output.file.try_clone().map_err(io)?;
        let _lock = FileLock::acquire(&file, path).await?;
        output.sync_with_store(store).await?;
        Ok(output)
    }

    /// With the lock held: reads the mark from the store and makes the file match it (cuts an
    /// unrecorded tail, or rebuilds the file if it is too short), positioned at its end.
    async fn sync_with_store<S: JobStore>(&mut self, store: &S) -> Result<(), JobError> {
        let io = |source| JobError::Output {
            path: self.path.clone(),
            source,
        };
        self.mark = store
            .job(self.job)
            .await?
            .ok_or_else(|| JobError::Inconsistent(format!("job {} is gone", self.job)))?
            .output;
        let length = self.file.metadata().map_err(io)?.len();
        if length >= self.mark.offset {
            if length > self.mark.offset {
                self.file.set_len(self.mark.offset).map_err(io)?;
                self.file.sync_all().map_err(io)?;
            }
            self.file
                .seek(SeekFrom::Start(self.mark.offset))
                .map_err(io)?;
        } else {
            tracing::warn!(
                path = %self.path.display(),
                length,
                expected = self.mark.offset,
                "the output is shorter than recorded; rebuilding it from the state database"
            );
            self.rebuild(store).await?;
        }
        Ok(())
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
    /// many lines were written (by this call; other workers' appends are picked up, not counted).
    pub async fn catch_up<S: JobStore>(&mut self, store: &S) -> Result<u64, JobError> {
        let io = |source| JobError::Output {
            path: self.path.clone(),
            source,
        };
        let file = self.file.try_clone().map_err(io)?;
        let mut appended = 0;
        loop {
            let _lock = FileLock::acquire(&file, &self.path).await?;
            self.sync_with_store(store).await?;
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
