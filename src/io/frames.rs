//! Per-atom trajectory output at intervals: which fields a frame holds, and
//! the text writers (LAMMPS custom dump, extended XYZ). The H5MD writer is in
//! `h5md.rs`; all three implement [`FrameWriter`].
//!
//! A frame arrives as a header ([`FrameInfo`]) followed by blocks of rows
//! in atom-id order, streamed from the ranks by `Engine::stream_rows`, so
//! no writer holds the whole system. A row carries the values of the fields
//! in [`Fields`] order: position (3, wrapped), image (3), velocity (3),
//! force (3), pe (1), stress (6). A new per-atom field (strain, Voronoi
//! index) is a new flag here, its columns in [`Fields::columns`], and its
//! values in the driver's row function.
//!
//! Trajectories are written to `FILE.part` and renamed to `FILE` when the run
//! ends, so an existing `FILE` survives a failed run, and a restarted run
//! finds the part file to continue.

use crate::engine::RowBlock;
use crate::error::{Error, Result};
use crate::io::thermo::Thermo;
use super::PartFile;
use crate::system::SimBox;
use std::io::Write;
use std::path::Path;

/// The per-atom fields of a frame: built-in ones, then per-atom computes
/// (`crate::compute::PER_ATOM`, one bit each in `computes`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// Wrapped positions with image flags.
    pub position: bool,
    pub velocity: bool,
    pub force: bool,
    /// Per-atom potential energy, eV.
    pub pe: bool,
    /// Per-atom stress × volume (LAMMPS `compute stress/atom`), bar·Å³.
    pub stress: bool,
    /// Per-atom computes: bit k for `compute::PER_ATOM[k]`.
    pub computes: u32,
}

/// Names accepted in `fields = [...]`.
pub const FIELD_NAMES: [&str; 5] = ["position", "velocity", "force", "pe", "stress"];

impl Fields {
    pub fn parse(names: &[String]) -> std::result::Result<Fields, String> {
        let mut f = Fields::default();
        for n in names {
            match n.as_str() {
                "position" => f.position = true,
                "velocity" => f.velocity = true,
                "force" => f.force = true,
                "pe" => f.pe = true,
                "stress" => f.stress = true,
                other => match crate::compute::find(other) {
                    Some(k) => f.computes |= 1 << k,
                    None => {
                        let computes: Vec<&str> = crate::compute::PER_ATOM.iter().map(|c| c.name()).collect();
                        return Err(format!("unknown field '{}' (expected some of {}, {})", other, FIELD_NAMES.join(", "), computes.join(", ")));
                    }
                },
            }
        }
        if names.is_empty() {
            return Err("fields is empty".into());
        }
        Ok(f)
    }
    /// Column names of a row, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.position {
            c.extend(["x", "y", "z", "ix", "iy", "iz"]);
        }
        if self.velocity {
            c.extend(["vx", "vy", "vz"]);
        }
        if self.force {
            c.extend(["fx", "fy", "fz"]);
        }
        if self.pe {
            c.push("pe");
        }
        if self.stress {
            c.extend(["sxx", "syy", "szz", "sxy", "sxz", "syz"]);
        }
        for comp in self.per_atom_computes() {
            c.extend(comp.columns());
        }
        c
    }
    /// The per-atom computes of the frame, in row order.
    pub fn per_atom_computes(&self) -> Vec<&'static dyn crate::compute::PerAtomCompute> {
        crate::compute::PER_ATOM.iter().enumerate().filter(|(k, _)| self.computes & (1 << k) != 0).map(|(_, c)| *c).collect()
    }
    pub fn width(&self) -> usize {
        self.columns().len()
    }
    /// Per-atom energies or stresses need a force pass with per-atom tallies.
    pub fn needs_per_atom(&self) -> bool {
        self.pe || self.stress || self.per_atom_computes().iter().any(|c| c.needs(&crate::compute::Settings::default()).force_pass())
    }
}

/// What a frame shares by all atoms.
pub struct FrameInfo<'a> {
    pub step: u64,
    pub time: f64,
    /// The box of the frame (bounds and boundaries).
    pub bx: &'a SimBox,
    pub natoms: u64,
    pub thermo: &'a Thermo,
    /// Element name of each 1-based type (index type − 1), if known.
    pub elements: &'a [String],
    /// Mass of each 1-based type (index type − 1), amu.
    pub masses: &'a [f64],
}

/// A trajectory file that takes frames.
pub trait FrameWriter {
    fn begin(&mut self, f: &FrameInfo) -> Result<()>;
    fn rows(&mut self, b: &RowBlock) -> Result<()>;
    /// Finish the frame and flush it to disk.
    fn end(&mut self) -> Result<()>;
    /// Where a restarted run continues: bytes of a text file, frames of an
    /// H5MD file (flushed to disk first).
    fn mark(&mut self) -> Result<u64>;
    /// Rename the part file onto the target (end of run).
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A text trajectory (dump or extxyz) with frames appended to `FILE.part`.
/// A restarted run truncates the part file to the byte length recorded
/// with the checkpoint, dropping frames written after it.
pub struct TextTrajectory {
    file: PartFile,
    fields: Fields,
    format: TextFormat,
    /// Element names of the current frame's types (extxyz species).
    elements: Vec<String>,
    /// Masses of the current frame's types (extxyz `masses`, `momenta`).
    masses: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    /// LAMMPS `dump custom`: id type (element, when the types have names)
    /// and the fields' columns.
    Dump,
    /// Extended XYZ (ASE, OVITO): species, pos, and the other fields under
    /// the names both tools know (see [`EXTXYZ_NOTE`]).
    ExtXyz,
}

impl TextTrajectory {
    /// Start a new part file, or reopen one cut back to `resume` bytes (see
    /// [`FrameWriter::mark`]).
    pub fn open(target: &Path, fields: Fields, format: TextFormat, resume: Option<u64>) -> Result<TextTrajectory> {
        Ok(TextTrajectory { file: PartFile::open(target, resume)?, fields, format, elements: Vec::new(), masses: Vec::new() })
    }
}

fn fmt_f(v: f64) -> String {
    format!("{:?}", v)
}

/// How glassmd's fields appear in extended XYZ. `species pos` come first
/// (what plain XYZ readers such as MDAnalysis's expect), then the rest
/// under the names OVITO 3 and ASE 3 map to their own properties; where
/// the two disagree, both are written:
///
/// | field | columns | read by |
/// |---|---|---|
/// | (always) | `species:S:1 pos:R:3 id:I:1` | both; OVITO Particle Identifier |
/// | position | `image:I:3` | periodic image flags |
/// | velocity | `velo:R:3` (Å/ps) | OVITO Velocity |
/// | velocity | `masses:R:1` (amu), `momenta:R:3` (amu·Å/ASE time unit) | ASE `get_velocities()` |
/// | force | `forces:R:3` (eV/Å) | both |
/// | pe | `energies:R:1` (eV) | ASE `get_potential_energies()` |
/// | pe | `local_energy:R:1` (eV) | OVITO Potential Energy |
/// | stress | `stress:R:6` (bar·Å³; xx yy zz xy xz yz, LAMMPS `stress/atom`) | OVITO Stress Tensor |
/// | stress | `stresses:R:6` (eV = stress × volume; Voigt xx yy zz yz xz xy) | ASE `get_stresses()` |
///
/// ASE's time unit is Å·√(amu/eV) = 10.1805 fs, so momenta = m·v/98.2269
/// for v in Å/ps. Stress signs follow LAMMPS: positive in tension.
pub const EXTXYZ_NOTE: &str = "species pos id image velo masses momenta forces energies local_energy stress stresses";

/// ps per ASE time unit (Å·√(amu/eV)) = 1/(1000 ase.units.fs) =
/// 0.0101805..., from the CODATA 2014 constants ASE's units use by default
/// (amu = 1.660539040e-27 kg, e = 1.6021766208e-19 C), so that ASE's
/// `get_velocities()` returns our velocities to round-off.
fn ase_time_unit_ps() -> f64 {
    (1.660539040e-27f64 / 1.6021766208e-19).sqrt() * 1e-10 * 1e12
}

/// eV per bar·Å³: 1e5 Pa × 1e-30 m³ / e.
const EV_PER_BAR_A3: f64 = 1e5 * 1e-30 / 1.602176634e-19;

impl FrameWriter for TextTrajectory {
    fn begin(&mut self, f: &FrameInfo) -> Result<()> {
        let part = self.file.path().to_path_buf();
        let io = |e| Error::io(&part, e);
        let w = &mut self.file.w;
        self.elements = f.elements.to_vec();
        self.masses = f.masses.to_vec();
        match self.format {
            TextFormat::Dump => {
                let bnd: Vec<String> = f.bx.boundary.iter().map(|b| format!("{0}{0}", b.letter())).collect();
                // A triclinic box is written as LAMMPS writes it: the
                // bounding box of the cell and the tilts xy, xz, yz.
                let tilted = if f.bx.triclinic { "xy xz yz " } else { "" };
                write!(w, "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{}\nITEM: BOX BOUNDS {}{}\n", f.step, f.natoms, tilted, bnd.join(" ")).map_err(io)?;
                if f.bx.triclinic {
                    let (blo, bhi) = f.bx.bounding();
                    for d in 0..3 {
                        writeln!(w, "{} {} {}", fmt_f(blo[d]), fmt_f(bhi[d]), fmt_f(f.bx.tilt[d])).map_err(io)?;
                    }
                } else {
                    for d in 0..3 {
                        writeln!(w, "{} {}", fmt_f(f.bx.lo[d]), fmt_f(f.bx.hi[d])).map_err(io)?;
                    }
                }
                // `element` names the types for OVITO and ASE (LAMMPS
                // `dump_modify element`).
                let element = if self.elements.is_empty() { "" } else { "element " };
                writeln!(w, "ITEM: ATOMS id type {}{}", element, self.fields.columns().join(" ")).map_err(io)?;
            }
            TextFormat::ExtXyz => {
                // Extended XYZ: atom count, then a key=value comment line
                // with the cell (rows are the cell vectors), the columns and
                // the frame's thermo values (ASE reads them into atoms.info).
                let cell = f.bx.cell();
                let lattice: Vec<String> = cell.iter().flatten().map(|&v| if v == 0.0 { "0".to_string() } else { fmt_f(v) }).collect();
                let mut props = String::from("species:S:1:pos:R:3:id:I:1:image:I:3");
                if self.fields.velocity {
                    props += ":velo:R:3:masses:R:1:momenta:R:3";
                }
                if self.fields.force {
                    props += ":forces:R:3";
                }
                if self.fields.pe {
                    props += ":energies:R:1:local_energy:R:1";
                }
                if self.fields.stress {
                    props += ":stress:R:6:stresses:R:6";
                }
                for comp in self.fields.per_atom_computes() {
                    props += &format!(":{}:{}:{}", comp.name(), if comp.integer() { "I" } else { "R" }, comp.columns().len());
                }
                let pbc: Vec<&str> = f.bx.boundary.iter().map(|b| if b.is_periodic() { "T" } else { "F" }).collect();
                let t = f.thermo;
                writeln!(w, "{}", f.natoms).map_err(io)?;
                writeln!(
                    w,
                    "Lattice=\"{}\" Origin=\"{} {} {}\" Properties={} pbc=\"{}\" step={} time={} energy={} temperature={} pressure={} units=metal",
                    lattice.join(" "),
                    fmt_f(f.bx.lo[0]),
                    fmt_f(f.bx.lo[1]),
                    fmt_f(f.bx.lo[2]),
                    props,
                    pbc.join(" "),
                    f.step,
                    fmt_f(f.time),
                    fmt_f(t.pe),
                    fmt_f(t.temperature),
                    fmt_f(t.pressure)
                )
                .map_err(io)?;
            }
        }
        Ok(())
    }

    fn rows(&mut self, b: &RowBlock) -> Result<()> {
        let part = self.file.path().to_path_buf();
        let io = |e| Error::io(&part, e);
        let ipos = if self.fields.position { Some(3..6) } else { None };
        // Columns of per-atom computes that hold whole numbers.
        let base = Fields { computes: 0, ..self.fields }.width();
        let mut int_cols = Vec::new();
        let mut c0 = base;
        for comp in self.fields.per_atom_computes() {
            let n = comp.columns().len();
            if comp.integer() {
                int_cols.extend(c0..c0 + n);
            }
            c0 += n;
        }
        let tu = ase_time_unit_ps();
        let w = &mut self.file.w;
        for k in 0..b.len() {
            let (id, typ, r) = (b.ids[k], b.types[k], b.row(k));
            let name = self.elements.get(typ as usize - 1).cloned();
            match self.format {
                TextFormat::Dump => {
                    write!(w, "{} {}", id, typ).map_err(io)?;
                    if !self.elements.is_empty() {
                        write!(w, " {}", name.as_deref().unwrap_or("X")).map_err(io)?;
                    }
                    for (c, v) in r.iter().enumerate() {
                        // Image flags are integers.
                        if ipos.as_ref().is_some_and(|p| p.contains(&c)) || int_cols.contains(&c) {
                            write!(w, " {}", *v as i64).map_err(io)?;
                        } else {
                            write!(w, " {}", fmt_f(*v)).map_err(io)?;
                        }
                    }
                }
                TextFormat::ExtXyz => {
                    // Rows are in Fields order: position+image, velocity,
                    // force, pe, stress (extended XYZ needs the position).
                    let name = name.unwrap_or_else(|| format!("T{}", typ));
                    let mut c = 0;
                    let mut take = |n: usize| {
                        let s = &r[c..c + n];
                        c += n;
                        s
                    };
                    let p = take(6);
                    write!(w, "{} {} {} {} {} {} {} {}", name, fmt_f(p[0]), fmt_f(p[1]), fmt_f(p[2]), id, p[3] as i64, p[4] as i64, p[5] as i64).map_err(io)?;
                    if self.fields.velocity {
                        let v = take(3);
                        let m = self.masses.get(typ as usize - 1).copied().unwrap_or(f64::NAN);
                        write!(w, " {} {} {} {}", fmt_f(v[0]), fmt_f(v[1]), fmt_f(v[2]), fmt_f(m)).map_err(io)?;
                        for x in v {
                            write!(w, " {}", fmt_f(m * x * tu)).map_err(io)?;
                        }
                    }
                    if self.fields.force {
                        for x in take(3) {
                            write!(w, " {}", fmt_f(*x)).map_err(io)?;
                        }
                    }
                    if self.fields.pe {
                        let e = take(1)[0];
                        write!(w, " {} {}", fmt_f(e), fmt_f(e)).map_err(io)?;
                    }
                    if self.fields.stress {
                        let st = take(6);
                        for x in st {
                            write!(w, " {}", fmt_f(*x)).map_err(io)?;
                        }
                        // ASE Voigt order xx yy zz yz xz xy, in eV.
                        for k in [0, 1, 2, 5, 4, 3] {
                            write!(w, " {}", fmt_f(st[k] * EV_PER_BAR_A3)).map_err(io)?;
                        }
                    }
                    for comp in self.fields.per_atom_computes() {
                        for x in take(comp.columns().len()) {
                            if comp.integer() {
                                write!(w, " {}", *x as i64).map_err(io)?;
                            } else {
                                write!(w, " {}", fmt_f(*x)).map_err(io)?;
                            }
                        }
                    }
                }
            }
            writeln!(w).map_err(io)?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        self.file.w.flush().map_err(|e| Error::io(self.file.path(), e))
    }

    fn mark(&mut self) -> Result<u64> {
        self.file.mark()
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.file.commit()
    }
}
