//! File input and output: LAMMPS data files, LAMMPS custom dumps, the thermo
//! CSV. Every output goes to a temporary file in the target's directory and
//! is renamed over the target only when complete, so a file the user already
//! has is never left half-written. Later formats (H5MD, checkpoints, extxyz)
//! belong here and should use [`AtomicFile`] too.

pub mod checkpoint;
pub mod dump;
pub mod frames;
pub mod h5md;
pub mod lammps_data;
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

pub(crate) fn werr(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Write via `AtomicFile`, mapping I/O errors to the target's name.
pub fn write_atomic(target: &Path, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    body(&mut f.w).map_err(werr(target))?;
    f.commit()
}
