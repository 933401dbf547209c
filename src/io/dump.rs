//! LAMMPS custom dump files (`dump custom`), readable by OVITO, ASE and
//! LAMMPS's own tools. Rows are written sorted by atom id.

use crate::error::Result;
use crate::system::SimBox;
use std::path::Path;

/// Write one frame: `columns` names the values of each row after `id type`.
pub fn write_frame(path: &Path, step: u64, bx: &SimBox, columns: &[&str], rows: &[(u64, u32, Vec<f64>)]) -> Result<()> {
    super::write_atomic(path, |w| {
        writeln!(w, "ITEM: TIMESTEP\n{}", step)?;
        writeln!(w, "ITEM: NUMBER OF ATOMS\n{}", rows.len())?;
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
        writeln!(w, "ITEM: ATOMS id type {}", columns.join(" "))?;
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
