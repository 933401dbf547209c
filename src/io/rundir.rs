//! A run folder: its lock, its status file, and the policy for outputs
//! that already exist.
//!
//! * **Lock.** A run holds `DIR/.glassmd.lock` (an advisory `flock`, taken by
//!   rank 0 for the life of the run; the file names the holder). A second
//!   run on the same folder refuses at once and touches nothing, so two
//!   jobs started by mistake cannot interleave their files.
//! * **Status.** `DIR/run.json` says what the folder holds: `running`,
//!   `stopped` (checkpointed after a signal), `failed` (with the error) or
//!   `complete`, with the deck, the command, host, ranks, threads and times.
//!   `glassmd run --resume` of a complete run says so and exits 0.
//! * **Existing outputs.** A fresh run refuses to start when any file it
//!   would write already exists (thermo CSV, trajectories, checkpoint, data
//!   files, fits, results), unless `[output] overwrite = true` or
//!   `--overwrite`; `--resume` may replace the outputs of an unfinished run
//!   of this folder (its `run.json` is not `complete`), since they are the
//!   very files it is redoing. Outputs an earlier run left complete are
//!   never lost by accident.
//!
//! New per-run bookkeeping belongs in [`Status`].

use crate::domain::comm::Comm;
use crate::error::{io_reason, Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = ".glassmd.lock";
pub const STATUS_FILE: &str = "run.json";

/// The contents of `run.json`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Status {
    /// running, stopped, failed or complete.
    pub status: String,
    pub deck: String,
    pub command: String,
    pub host: String,
    pub pid: u32,
    pub ranks: usize,
    pub threads: usize,
    pub glassmd: String,
    /// RFC 3339 UTC.
    pub started: String,
    pub updated: String,
    /// MD step when the status was written.
    pub step: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn now() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

/// A locked run folder (the lock is held on rank 0 until drop).
pub struct RunDir {
    dir: PathBuf,
    lock: Option<std::fs::File>,
    status: Status,
}

impl RunDir {
    /// Lock `dir` (collective: rank 0 takes the lock, every rank learns the
    /// outcome). The folder must exist on rank 0.
    pub fn lock(comm: &dyn Comm, dir: &Path, deck: &Path, threads: usize) -> Result<RunDir> {
        // Every rank stops alike; rank 0 holds the message.
        let file = crate::domain::comm::agree(comm, if comm.is_root() { take_lock(dir).map(Some) } else { Ok(None) })?;
        let status = Status {
            status: "running".into(),
            deck: deck.display().to_string(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            host: hostname(),
            pid: std::process::id(),
            ranks: comm.size(),
            threads,
            glassmd: env!("CARGO_PKG_VERSION").into(),
            started: now(),
            ..Status::default()
        };
        Ok(RunDir { dir: dir.to_path_buf(), lock: file, status })
    }

    /// The status an earlier run left in the folder, if any.
    pub fn previous(dir: &Path) -> Option<Status> {
        let text = std::fs::read_to_string(dir.join(STATUS_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Write `run.json` (rank 0; no-op elsewhere).
    pub fn set(&mut self, status: &str, step: u64, error: Option<String>) -> Result<()> {
        if self.lock.is_none() {
            return Ok(());
        }
        self.status.status = status.into();
        self.status.step = step;
        self.status.updated = now();
        self.status.error = error;
        let text = serde_json::to_string_pretty(&self.status).unwrap_or_default();
        super::write_atomic(&self.dir.join(STATUS_FILE), |w| writeln!(w, "{}", text))
    }
}

fn take_lock(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join(LOCK_FILE);
    let mut f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| Error::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!(" ({})", holder) };
            return Err(Error::input(dir, format!("another glassmd run is using this folder{}; wait for it to finish, or give this run its own --dir", who)));
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::input(&path, format!("cannot lock the run folder: {}", io_reason(&e))));
        }
    }
    // Name the holder for a run that finds the folder locked.
    let text = format!("pid {} on {}, started {}", std::process::id(), hostname(), now());
    let _ = f.set_len(0).and_then(|_| f.write_all(text.as_bytes())).and_then(|_| f.flush());
    Ok(f)
}
