//! File input and output: LAMMPS data files, LAMMPS custom dumps, the thermo
//! CSV, trajectories (`frames`: dump and extxyz; `h5md`), checkpoints. Every
//! output goes to a temporary file in the target's directory and is renamed
//! over the target only when complete, so a file the user already has is
//! never left half-written: [`AtomicFile`] for files written at once,
//! [`PartFile`] (and the H5MD writer's own `.part`) for outputs that grow
//! during a run and continue after a restart.

pub mod checkpoint;
pub mod convert;
pub mod dump;
pub mod frames;
pub mod frames_in;
pub mod h5md;
pub mod lammps_data;
pub mod rundir;
pub mod thermo;

use crate::error::{Error, Result};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file written under a temporary name and renamed into place on `commit`.
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    pub w: BufWriter<std::fs::File>,
    committed: bool,
}

impl AtomicFile {
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let name = target.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let tmp = target.with_file_name(format!(".{}.{}.tmp", name, std::process::id()));
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(target, e))?;
        Ok(AtomicFile { target: target.to_path_buf(), tmp, w: BufWriter::new(f), committed: false })
    }
    pub fn path(&self) -> &Path {
        &self.target
    }
    /// Flush, sync and rename over the target.
    pub fn commit(mut self) -> Result<()> {
        let target = self.target.clone();
        self.w.flush().map_err(|e| Error::io(&target, e))?;
        self.w.get_ref().sync_all().map_err(|e| Error::io(&target, e))?;
        std::fs::rename(&self.tmp, &target).map_err(|e| Error::io(&target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (error or early exit): remove the partial file.
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// `FILE.part`: where a run's growing output lives until the run ends.
pub fn part_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// An output that grows during a run (thermo CSV, text trajectories): it is
/// written to `FILE.part`, renamed to `FILE` by `commit` when the run ends
/// (an earlier `FILE` survives a failed run), and a restarted run reopens
/// the part file truncated to the length a checkpoint recorded (`mark`).
pub struct PartFile {
    target: PathBuf,
    part: PathBuf,
    pub w: BufWriter<std::fs::File>,
}

impl PartFile {
    /// A new part file, or with `resume = Some(bytes)` the part file of an
    /// interrupted run cut back to `bytes`.
    pub fn open(target: &Path, resume: Option<u64>) -> Result<PartFile> {
        use std::io::{Seek, SeekFrom};
        let part = part_path(target);
        let io = |e| Error::io(&part, e);
        let file = match resume {
            None => std::fs::File::create(&part).map_err(io)?,
            Some(bytes) => {
                let mut f = std::fs::OpenOptions::new().write(true).open(&part).map_err(io)?;
                let len = f.metadata().map_err(io)?.len();
                if len < bytes {
                    return Err(Error::input(&part, format!("holds {} bytes, fewer than the {} the checkpoint recorded", len, bytes)));
                }
                f.set_len(bytes).map_err(io)?;
                f.seek(SeekFrom::End(0)).map_err(io)?;
                f
            }
        };
        Ok(PartFile { target: target.to_path_buf(), part, w: BufWriter::new(file) })
    }
    /// The part file's name, for error messages.
    pub fn path(&self) -> &Path {
        &self.part
    }
    /// Flush to disk and return the length, where a restart continues.
    pub fn mark(&mut self) -> Result<u64> {
        self.w.flush().map_err(werr(&self.part))?;
        self.w.get_ref().sync_data().map_err(werr(&self.part))?;
        Ok(self.w.get_ref().metadata().map_err(werr(&self.part))?.len())
    }
    /// Flush, sync and rename onto the target.
    pub fn commit(mut self) -> Result<()> {
        self.mark()?;
        std::fs::rename(&self.part, &self.target).map_err(werr(&self.target))
    }
}

pub(crate) fn werr(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Write via `AtomicFile`, mapping I/O errors to the target's name.
pub fn write_atomic(target: &Path, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    body(&mut f.w).map_err(werr(target))?;
    f.commit()
}
