//! The one error type of glassmd.
//!
//! Every failure a user can cause (a bad deck, potential, data file) becomes an
//! [`Error`] whose `Display` is a single line naming the file and the problem.
//! `main` prints it and exits non-zero; nothing in the library panics on bad
//! input. Add a variant only when callers need to tell it apart; otherwise use
//! [`Error::input`] / [`Error::runtime`].

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem with an input file: deck, potential, data file, checkpoint.
    #[error("{}: {msg}", file.display())]
    Input { file: PathBuf, msg: String },
    /// A problem found while running (lost atoms, invalid state).
    #[error("{0}")]
    Runtime(String),
    /// Stopped by SIGTERM/SIGUSR1 after writing this checkpoint; the process
    /// exits with [`EXIT_CHECKPOINTED`].
    #[error("stopped by a signal after writing checkpoint {}; continue with `glassmd run DECK --restart {}`", .0.display(), .0.display())]
    Interrupted(PathBuf),
    /// Another rank failed (see `domain::comm::agree`); that rank reports it.
    #[error("another rank failed")]
    Elsewhere,
    /// An I/O failure on a named file.
    #[error("{}: {}", file.display(), io_reason(source))]
    Io { file: PathBuf, source: std::io::Error },
}

impl Error {
    pub fn input(file: impl AsRef<Path>, msg: impl Into<String>) -> Self {
        Error::Input { file: file.as_ref().to_path_buf(), msg: msg.into() }
    }
    pub fn runtime(msg: impl Into<String>) -> Self {
        Error::Runtime(msg.into())
    }
    pub fn io(file: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { file: file.as_ref().to_path_buf(), source }
    }
}

/// The reason of an I/O error without Rust's "(os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(k) => s[..k].to_string(),
        None => s,
    }
}

/// Exit status after a signal-triggered checkpoint: 75 (EX_TEMPFAIL of
/// sysexits.h, "try again later"); job scripts requeue on it.
pub const EXIT_CHECKPOINTED: i32 = 75;

pub type Result<T> = std::result::Result<T, Error>;
