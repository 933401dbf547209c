//! LAMMPS custom dump files (`dump custom`), readable by OVITO, ASE and
//! LAMMPS's own tools. Rows are written sorted by atom id.

use crate::error::Result;
use crate::system::SimBox;
use std::path::Path;

/// Write one frame: `columns` names the values of each row after `id type`.
pub fn write_frame(path: &Path, step: u64, bx: &SimBox, columns: &[&str], rows: &[(u64, u32, Vec<f64>)]) -> Result<()> {
    super::write_atomic(path, |w| {
        write_header(w, step, bx, rows.len() as u64, columns)?;
        for (id, t, vals) in rows {
            write!(w, "{} {}", id, t)?;
            for v in vals {
                write!(w, " {:?}", v)?;
            }
            writeln!(w)?;
        }
        Ok(())
    })
}

/// The items of a frame up to `ITEM: ATOMS id type <columns>`.
fn write_header(w: &mut dyn std::io::Write, step: u64, bx: &SimBox, natoms: u64, columns: &[&str]) -> std::io::Result<()> {
    writeln!(w, "ITEM: TIMESTEP\n{}", step)?;
    writeln!(w, "ITEM: NUMBER OF ATOMS\n{}", natoms)?;
    if bx.triclinic {
        writeln!(w, "ITEM: BOX BOUNDS xy xz yz {}", bx.boundary_string())?;
        let (lo, hi) = bx.bounding();
        for d in 0..3 {
            writeln!(w, "{:e} {:e} {:e}", lo[d], hi[d], bx.tilt[d])?;
        }
    } else {
        writeln!(w, "ITEM: BOX BOUNDS {}", bx.boundary_string())?;
        for d in 0..3 {
            writeln!(w, "{:e} {:e}", bx.lo[d], bx.hi[d])?;
        }
    }
    writeln!(w, "ITEM: ATOMS id type {}", columns.join(" "))
}

/// A one-frame dump written as rows arrive (in id order, from
/// `Engine::stream_rows`), under a temporary name until `commit`.
pub struct DumpStream {
    f: super::AtomicFile,
    /// Columns written as whole numbers.
    integer: Vec<bool>,
}

impl DumpStream {
    pub fn create(path: &Path, step: u64, bx: &SimBox, natoms: u64, columns: &[&str], integer: Vec<bool>) -> Result<DumpStream> {
        let mut f = super::AtomicFile::create(path)?;
        write_header(&mut f.w, step, bx, natoms, columns).map_err(|e| crate::error::Error::io(path, e))?;
        Ok(DumpStream { f, integer })
    }

    pub fn rows(&mut self, b: &crate::engine::RowBlock) -> Result<()> {
        use std::io::Write;
        let path = self.f.path().to_path_buf();
        for k in 0..b.len() {
            (|| -> std::io::Result<()> {
                write!(self.f.w, "{} {}", b.ids[k], b.types[k])?;
                for (c, v) in b.row(k).iter().enumerate() {
                    if self.integer.get(c).copied().unwrap_or(false) && v.is_finite() {
                        write!(self.f.w, " {}", *v as i64)?;
                    } else {
                        write!(self.f.w, " {:?}", v)?;
                    }
                }
                writeln!(self.f.w)
            })()
            .map_err(|e| crate::error::Error::io(&path, e))?;
        }
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        self.f.commit()
    }
}
