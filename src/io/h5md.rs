//! H5MD 1.1 trajectories (de Buyl, Colberg & Höfling, Comput. Phys. Commun.
//! 185, 1546 (2014); <https://www.nongnu.org/h5md/h5md.html>), written with
//! the `hdf5` crate (hdf5-metno) on rank 0 from rows streamed in id order.
//!
//! Layout (T frames, N atoms; every time-dependent element is a group with
//! `step` (T,) int64, `time` (T,) float64 in ps, and `value`):
//!
//! ```text
//! /h5md                  version = [1, 1]; author (name), creator (name, version)
//! /particles/all/box     dimension = 3, boundary = ["periodic" | "none"] × 3
//!     edges/value  (T,3) Angstrom     offset/value (T,3) Angstrom (box lower corner)
//!                  (T,3,3) for a triclinic box: rows are the edge vectors
//!                  a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz) (H5MD's
//!                  matrix form for non-orthogonal boxes)
//! /particles/all/position/value (T,N,3) Angstrom    wrapped into the box
//! /particles/all/image/value    (T,N,3) int32       periodic image flags
//! /particles/all/velocity/value (T,N,3) Angstrom ps-1
//! /particles/all/force/value    (T,N,3) eV Angstrom-1 (or kJ mol-1 Angstrom-1, `force_unit`)
//! /particles/all/potential_energy/value (T,N) eV
//! /particles/all/stress/value   (T,N,6) bar Angstrom3  (xx yy zz xy xz yz)
//! /particles/all/id, species, mass  (N,) fixed in time (species = LAMMPS type,
//!                                   attribute `elements` names them)
//! /parameters/elements   (ntypes,) strings: entry t − 1 names species t
//! /observables/<name>/value (T,) or (T,6): temperature, potential_energy,
//!     kinetic_energy, total_energy, pressure, pressure_tensor, volume, density
//! ```
//!
//! Rows are in atom-id order, so files from any rank count are identical.
//! Per-atom datasets are chunked one frame by `CHUNK_ROWS` atoms (the block
//! size of the stream, so blocks of dense ids fill whole chunks), optionally
//! deflate-compressed. Units are H5MD unit strings that MDAnalysis knows,
//! except eV-based force units, which it has no name for (it refuses a file
//! with `eV Angstrom-1` forces): `force_unit = "kJ mol-1 Angstrom-1"`
//! ([`ForceUnit`]) stores converted forces that MDAnalysis reads. A new
//! per-atom field is one more `Element` in [`H5md::create`] and a branch in
//! [`FrameWriter::rows`].

use super::frames::{FrameInfo, FrameWriter, Fields};
use crate::engine::RowBlock;
use crate::error::{Error, Result};
use crate::system::Boundary;
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Group, H5Type};
use ndarray::{s, Array1, Array2};
use std::path::{Path, PathBuf};

/// The unit of the force element. H5MD readers know units by name:
/// MDAnalysis has no eV-based force unit and refuses `eV Angstrom-1`, but
/// reads `kJ mol-1 Angstrom-1`; `force_unit` in a deck converts to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ForceUnit {
    name: &'static str,
    /// Value in this unit of 1 eV/Å.
    pub factor: f64,
}

impl ForceUnit {
    /// eV/Å, glassmd's own (LAMMPS metal).
    pub const EV: ForceUnit = ForceUnit { name: "eV Angstrom-1", factor: 1.0 };
    /// kJ/(mol·Å): 1 eV = e·N_A/1000 kJ/mol = 96.485332123310018 (CODATA
    /// 2018 exact e and N_A).
    pub const KJ_MOL: ForceUnit = ForceUnit { name: "kJ mol-1 Angstrom-1", factor: 96.485_332_123_310_018 };
    pub fn parse(s: &str) -> Option<ForceUnit> {
        [Self::EV, Self::KJ_MOL].into_iter().find(|u| u.name == s)
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Atoms per chunk of a per-atom dataset, and per streamed block.
pub const CHUNK_ROWS: usize = 32768;

fn h5err(path: &Path) -> impl Fn(hdf5::Error) -> Error + '_ {
    move |e| Error::input(path, format!("HDF5: {}", e))
}

fn vstr(s: &str) -> VarLenUnicode {
    s.parse().unwrap_or_default()
}

/// A string attribute.
fn attr_str(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&vstr(value))
}

/// A time-dependent H5MD element: `step`, `time` and `value` datasets.
struct Element {
    step: Dataset,
    time: Dataset,
    value: Dataset,
    /// Shape of one frame's value (after the time axis).
    tail: Vec<usize>,
}

impl Element {
    /// `per_atom`: the first axis of `tail` is the atoms, chunked by
    /// `CHUNK_ROWS`; otherwise a small per-frame value, chunked by 256 frames.
    fn create<T: H5Type>(parent: &Group, name: &str, tail: &[usize], per_atom: bool, unit: Option<&str>, level: u8) -> hdf5::Result<Element> {
        let g = parent.create_group(name)?;
        let step = g.new_dataset::<i64>().chunk(256).shape(0..).create("step")?;
        let time = g.new_dataset::<f64>().chunk(256).shape(0..).create("time")?;
        attr_str(&time, "unit", "ps")?;
        let mut shape = vec![hdf5::Extent::resizable(0)];
        shape.extend(tail.iter().map(|&n| hdf5::Extent::from(n)));
        let mut chunk = vec![if per_atom { 1 } else { 256 }];
        chunk.extend(tail.iter().enumerate().map(|(k, &n)| if per_atom && k == 0 { n.clamp(1, CHUNK_ROWS) } else { n.max(1) }));
        let mut b = g.new_dataset::<T>().shape(hdf5::SimpleExtents::from_vec(shape)).chunk(chunk);
        if level > 0 {
            b = b.shuffle().deflate(level);
        }
        let value = b.create("value")?;
        if let Some(u) = unit {
            attr_str(&value, "unit", u)?;
        }
        Ok(Element { step, time, value, tail: tail.to_vec() })
    }

    fn open(parent: &Group, name: &str) -> hdf5::Result<Element> {
        let g = parent.group(name)?;
        let value = g.dataset("value")?;
        let tail = value.shape()[1..].to_vec();
        Ok(Element { step: g.dataset("step")?, time: g.dataset("time")?, value, tail })
    }

    /// Grow to `frame + 1` frames and write its step and time.
    fn add_frame(&self, frame: usize, step: u64, time: f64) -> hdf5::Result<()> {
        self.truncate(frame + 1)?;
        self.step.write_slice(&[step as i64], frame..frame + 1)?;
        self.time.write_slice(&[time], frame..frame + 1)
    }

    /// Set the number of frames (drops later ones).
    fn truncate(&self, frames: usize) -> hdf5::Result<()> {
        self.step.resize(frames)?;
        self.time.resize(frames)?;
        let mut shape = vec![frames];
        shape.extend(&self.tail);
        self.value.resize(shape)
    }

    fn frames(&self) -> usize {
        self.step.shape()[0]
    }
}

/// Which element a row's columns go to.
struct PerAtom {
    element: Element,
    /// First column in the row and number of columns.
    col: usize,
    width: usize,
    int: bool,
    /// Factor from glassmd's unit to the file's (forces in kJ/mol/Å).
    scale: f64,
}

/// The per-atom elements of `fields`: (name, first column in a row, width,
/// integer?, unit), in the row order of [`Fields`].
fn per_atom_layout(fields: Fields, force: ForceUnit) -> Vec<(&'static str, usize, usize, bool, Option<&'static str>)> {
    let all = [
        (fields.position, "position", 3, false, Some("Angstrom")),
        (fields.position, "image", 3, true, None),
        (fields.velocity, "velocity", 3, false, Some("Angstrom ps-1")),
        (fields.force, "force", 3, false, Some(force.name())),
        (fields.pe, "potential_energy", 1, false, Some("eV")),
        (fields.stress, "stress", 6, false, Some("bar Angstrom3")),
    ];
    let mut col = 0;
    let mut out = Vec::new();
    for (on, name, width, int, unit) in all {
        if on {
            out.push((name, col, width, int, unit));
            col += width;
        }
    }
    // Per-atom computes follow, each an element named after it.
    for comp in fields.per_atom_computes() {
        let width = comp.columns().len();
        out.push((comp.name(), col, width, comp.integer(), comp.unit()));
        col += width;
    }
    out
}

/// An H5MD trajectory file being written (rank 0).
pub struct H5md {
    target: PathBuf,
    part: PathBuf,
    file: hdf5::File,
    natoms: usize,
    per_atom: Vec<PerAtom>,
    edges: Element,
    offset: Element,
    observables: Vec<(&'static str, Element)>,
    /// `id`, `species`, `mass` (written with the first frame).
    fixed: [Dataset; 3],
    masses: Vec<f64>,
    frames: usize,
}

const OBSERVABLES: [(&str, &str); 8] = [
    ("temperature", "K"),
    ("potential_energy", "eV"),
    ("kinetic_energy", "eV"),
    ("total_energy", "eV"),
    ("pressure", "bar"),
    ("pressure_tensor", "bar"),
    ("volume", "Angstrom3"),
    ("density", "g cm-3"),
];

impl H5md {
    /// Create `FILE.part` for `natoms` atoms with masses per type (amu).
    /// `compression` is the deflate level (0: none).
    pub fn create(target: &Path, natoms: u64, fields: Fields, masses: &[f64], boundary: [Boundary; 3], triclinic: bool, compression: u8, force_unit: ForceUnit) -> Result<H5md> {
        let part = super::part_path(target);
        let e = h5err(&part);
        let file = hdf5::File::create(&part).map_err(&e)?;
        let n = natoms as usize;
        (|| -> hdf5::Result<H5md> {
            let h5md = file.create_group("h5md")?;
            h5md.new_attr_builder().with_data(&[1i32, 1]).create("version")?;
            let author = h5md.create_group("author")?;
            let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
            attr_str(&author, "name", &user)?;
            let creator = h5md.create_group("creator")?;
            attr_str(&creator, "name", "glassmd")?;
            attr_str(&creator, "version", env!("CARGO_PKG_VERSION"))?;
            let all = file.create_group("particles")?.create_group("all")?;
            let bx = all.create_group("box")?;
            bx.new_attr::<i32>().create("dimension")?.write_scalar(&3)?;
            let b: Vec<VarLenUnicode> = boundary.iter().map(|b| vstr(if b.is_periodic() { "periodic" } else { "none" })).collect();
            bx.new_attr_builder().with_data(&b[..]).create("boundary")?;
            let edges = Element::create::<f64>(&bx, "edges", if triclinic { &[3, 3] } else { &[3] }, false, Some("Angstrom"), 0)?;
            let offset = Element::create::<f64>(&bx, "offset", &[3], false, Some("Angstrom"), 0)?;
            let mut per_atom = Vec::new();
            for (name, col, width, int, unit) in per_atom_layout(fields, force_unit) {
                let tail: Vec<usize> = if width == 1 { vec![n] } else { vec![n, width] };
                let element = if int { Element::create::<i32>(&all, name, &tail, true, unit, compression)? } else { Element::create::<f64>(&all, name, &tail, true, unit, compression)? };
                let scale = if name == "force" { force_unit.factor } else { 1.0 };
                per_atom.push(PerAtom { element, col, width, int, scale });
            }
            let fixed_ds = |name: &str, int: bool| -> hdf5::Result<Dataset> {
                let c = n.clamp(1, CHUNK_ROWS);
                if int {
                    all.new_dataset::<i64>().shape(n).chunk(c).create(name)
                } else {
                    all.new_dataset::<f64>().shape(n).chunk(c).create(name)
                }
            };
            let fixed = [fixed_ds("id", true)?, fixed_ds("species", true)?, fixed_ds("mass", false)?];
            attr_str(&fixed[2], "unit", "amu")?;
            let obs = file.create_group("observables")?;
            let mut observables = Vec::new();
            for (name, unit) in OBSERVABLES {
                let tail: &[usize] = if name == "pressure_tensor" { &[6] } else { &[] };
                observables.push((name, Element::create::<f64>(&obs, name, tail, false, Some(unit), 0)?));
            }
            Ok(H5md { target: target.to_path_buf(), part: part.clone(), file: file.clone(), natoms: n, per_atom, edges, offset, observables, fixed, masses: masses.to_vec(), frames: 0 })
        })()
        .map_err(&e)
    }

    /// Reopen `FILE.part` of an interrupted run and keep its first `frames`
    /// frames (a restart continues from its checkpoint).
    pub fn resume(target: &Path, natoms: u64, fields: Fields, masses: &[f64], frames: u64, force_unit: ForceUnit) -> Result<H5md> {
        let part = super::part_path(target);
        let e = h5err(&part);
        if !part.exists() {
            return Err(Error::input(&part, "the trajectory of the interrupted run is missing; cannot continue it"));
        }
        let file = hdf5::File::open_rw(&part).map_err(&e)?;
        (|| -> hdf5::Result<H5md> {
            let all = file.group("particles/all")?;
            let bx = all.group("box")?;
            let mut per_atom = Vec::new();
            for (name, col, width, int, _) in per_atom_layout(fields, force_unit) {
                let scale = if name == "force" { force_unit.factor } else { 1.0 };
                per_atom.push(PerAtom { element: Element::open(&all, name)?, col, width, int, scale });
            }
            let obs = file.group("observables")?;
            let mut observables = Vec::new();
            for (name, _) in OBSERVABLES {
                observables.push((name, Element::open(&obs, name)?));
            }
            let fixed = [all.dataset("id")?, all.dataset("species")?, all.dataset("mass")?];
            let h = H5md {
                target: target.to_path_buf(),
                part: part.clone(),
                file: file.clone(),
                natoms: natoms as usize,
                per_atom,
                edges: Element::open(&bx, "edges")?,
                offset: Element::open(&bx, "offset")?,
                observables,
                fixed,
                masses: masses.to_vec(),
                frames: frames as usize,
            };
            Ok(h)
        })()
        .map_err(&e)
        .and_then(|h| {
            let have = h.edges.frames();
            if have < frames as usize || h.fixed[0].shape() != [natoms as usize] {
                return Err(Error::input(&part, format!("holds {} frames of {} atoms; the checkpoint expects at least {} frames of {} atoms", have, h.fixed[0].shape()[0], frames, natoms)));
            }
            h.each_element(|el| el.truncate(frames as usize)).map_err(&e)?;
            Ok(h)
        })
    }

    fn each_element(&self, mut f: impl FnMut(&Element) -> hdf5::Result<()>) -> hdf5::Result<()> {
        f(&self.edges)?;
        f(&self.offset)?;
        for p in &self.per_atom {
            f(&p.element)?;
        }
        for (_, o) in &self.observables {
            f(o)?;
        }
        Ok(())
    }
}

impl FrameWriter for H5md {
    fn begin(&mut self, fr: &FrameInfo) -> Result<()> {
        if fr.natoms as usize != self.natoms {
            return Err(Error::runtime(format!("{}: the trajectory has {} atoms, the system now {}", self.target.display(), self.natoms, fr.natoms)));
        }
        let (k, step, time) = (self.frames, fr.step, fr.time);
        let t = fr.thermo;
        let part = self.part.clone();
        (|| -> hdf5::Result<()> {
            self.each_element(|el| el.add_frame(k, step, time))?;
            if self.edges.tail.len() == 2 {
                let cell: Vec<f64> = fr.bx.cell().iter().flatten().copied().collect();
                self.edges.value.write_slice(&ndarray::Array3::from_shape_vec((1, 3, 3), cell).unwrap_or_default(), s![k..k + 1, .., ..])?;
            } else {
                let l = [fr.bx.hi[0] - fr.bx.lo[0], fr.bx.hi[1] - fr.bx.lo[1], fr.bx.hi[2] - fr.bx.lo[2]];
                self.edges.value.write_slice(&Array2::from_shape_vec((1, 3), l.to_vec()).unwrap_or_default(), s![k..k + 1, ..])?;
            }
            self.offset.value.write_slice(&Array2::from_shape_vec((1, 3), fr.bx.lo.to_vec()).unwrap_or_default(), s![k..k + 1, ..])?;
            for (name, el) in &self.observables {
                let v = match *name {
                    "temperature" => t.temperature,
                    "potential_energy" => t.pe,
                    "kinetic_energy" => t.ke,
                    "total_energy" => t.etotal,
                    "pressure" => t.pressure,
                    "volume" => t.volume,
                    "density" => t.density,
                    _ => {
                        el.value.write_slice(&Array2::from_shape_vec((1, 6), t.ptensor.to_vec()).unwrap_or_default(), s![k..k + 1, ..])?;
                        continue;
                    }
                };
                el.value.write_slice(&[v], k..k + 1)?;
            }
            if k == 0 && !fr.elements.is_empty() {
                // Species names: attribute `elements` of the species
                // dataset, and `/parameters/elements` (H5MD's group for
                // simulation parameters); entry t − 1 names species t.
                let names: Vec<VarLenUnicode> = fr.elements.iter().map(|e| vstr(e)).collect();
                self.fixed[1].new_attr_builder().with_data(&names[..]).create("elements")?;
                let params = match self.file.group("parameters") {
                    Ok(g) => g,
                    Err(_) => self.file.create_group("parameters")?,
                };
                if params.dataset("elements").is_err() {
                    params.new_dataset_builder().with_data(&names[..]).create("elements")?;
                }
            }
            Ok(())
        })()
        .map_err(h5err(&part))
    }

    fn rows(&mut self, b: &RowBlock) -> Result<()> {
        let (k, r0, n) = (self.frames, b.offset, b.len());
        if r0 + n > self.natoms {
            return Err(Error::runtime(format!("{}: more rows than atoms", self.target.display())));
        }
        let part = self.part.clone();
        (|| -> hdf5::Result<()> {
            if k == 0 {
                let ids: Vec<i64> = b.ids.iter().map(|&i| i as i64).collect();
                let types: Vec<i64> = b.types.iter().map(|&t| t as i64).collect();
                let m: Vec<f64> = b.types.iter().map(|&t| self.masses.get(t as usize - 1).copied().unwrap_or(f64::NAN)).collect();
                self.fixed[0].write_slice(&ids, r0..r0 + n)?;
                self.fixed[1].write_slice(&types, r0..r0 + n)?;
                self.fixed[2].write_slice(&m, r0..r0 + n)?;
            }
            for p in &self.per_atom {
                let col = |j: usize, c: usize| b.values[j * b.width + p.col + c];
                if p.int && p.width == 1 {
                    let a = Array1::from_shape_fn(n, |j| col(j, 0) as i32);
                    p.element.value.write_slice(&a.insert_axis(ndarray::Axis(0)), s![k..k + 1, r0..r0 + n])?;
                } else if p.int {
                    let a = Array2::from_shape_fn((n, p.width), |(j, c)| col(j, c) as i32);
                    p.element.value.write_slice(&a.insert_axis(ndarray::Axis(0)), s![k..k + 1, r0..r0 + n, ..])?;
                } else if p.width == 1 {
                    let a = Array1::from_shape_fn(n, |j| col(j, 0) * p.scale);
                    p.element.value.write_slice(&a.insert_axis(ndarray::Axis(0)), s![k..k + 1, r0..r0 + n])?;
                } else {
                    let a = Array2::from_shape_fn((n, p.width), |(j, c)| col(j, c) * p.scale);
                    p.element.value.write_slice(&a.insert_axis(ndarray::Axis(0)), s![k..k + 1, r0..r0 + n, ..])?;
                }
            }
            Ok(())
        })()
        .map_err(h5err(&part))
    }

    fn end(&mut self) -> Result<()> {
        self.frames += 1;
        self.file.flush().map_err(h5err(&self.part))
    }

    fn mark(&mut self) -> Result<u64> {
        self.file.flush().map_err(h5err(&self.part))?;
        Ok(self.frames as u64)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let (part, target) = (self.part.clone(), self.target.clone());
        self.file.flush().map_err(h5err(&part))?;
        drop(self);
        // The file is closed once every handle is dropped.
        std::fs::rename(&part, &target).map_err(|e| Error::io(&target, e))
    }
}
