//! Reading configurations for analysis: a LAMMPS data file, one frame of
//! a LAMMPS dump (`dump custom`/`atom` with `id type` and `x y z`, `xu yu
//! zu` or `xs ys zs`), or frames of an H5MD file (ours, or any with
//! `/particles/all/position`). The kind is recognised from the contents
//! (HDF5 signature, `ITEM: TIMESTEP`), so the file name does not matter.
//!
//! Each becomes a [`DataFile`] (what the engine is built from), with the
//! boundary the file states (dumps and H5MD) and the element names it knows.
//! To read another format, add a reader returning a [`Frame`] and a branch
//! in [`read`].

use super::lammps_data::{self, DataAtom, DataFile};
use crate::error::{Error, Result};
use crate::system::{Boundary, SimBox};
use hdf5::types::VarLenUnicode;
use ndarray::s;
use std::path::Path;

/// One configuration read from a file.
pub struct Frame {
    pub data: DataFile,
    /// The boundary stated by the file (data files state none).
    pub boundary: Option<[Boundary; 3]>,
    pub step: u64,
    pub time: f64,
    /// Element names by type, when the file names them.
    pub elements: Vec<String>,
}

/// What kind of file this is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Data,
    Dump,
    H5md,
}

pub fn kind(path: &Path) -> Result<Kind> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 16];
    let n = f.read(&mut head).map_err(|e| Error::io(path, e))?;
    Ok(if head[..n].starts_with(b"\x89HDF\r\n\x1a\n") {
        Kind::H5md
    } else if head[..n].starts_with(b"ITEM:") {
        Kind::Dump
    } else {
        Kind::Data
    })
}

/// Read a configuration; `frame` picks a frame of a dump or H5MD file
/// (negative from the end; default the last).
pub fn read(path: &Path, frame: Option<i64>) -> Result<Frame> {
    match kind(path)? {
        Kind::Data => Ok(Frame { data: lammps_data::read(path)?, boundary: None, step: 0, time: 0.0, elements: Vec::new() }),
        Kind::Dump => read_dump(path, frame),
        Kind::H5md => {
            let r = H5mdReader::open(path)?;
            let f = pick(frame, r.frames, path)?;
            r.frame(f)
        }
    }
}

fn pick(frame: Option<i64>, total: usize, path: &Path) -> Result<usize> {
    let f = frame.unwrap_or(-1);
    let k = if f < 0 { total as i64 + f } else { f };
    if k < 0 || k >= total as i64 {
        return Err(Error::input(path, format!("has {} frames; frame {} does not exist", total, f)));
    }
    Ok(k as usize)
}

/// One frame of a LAMMPS dump.
fn read_dump(path: &Path, frame: Option<i64>) -> Result<Frame> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let starts: Vec<usize> = text.match_indices("ITEM: TIMESTEP").map(|(k, _)| k).collect();
    let f = pick(frame, starts.len(), path)?;
    let end = starts.get(f + 1).copied().unwrap_or(text.len());
    let mut lines = text[starts[f]..end].lines().peekable();
    let bad = |m: String| Error::input(path, m);
    let mut step = 0u64;
    let mut natoms = 0usize;
    let mut lo = [0.0; 3];
    let mut hi = [0.0; 3];
    let mut tilt = None;
    let mut boundary = [Boundary::Periodic; 3];
    let mut atoms = Vec::new();
    let mut maxtype = 0u32;
    while let Some(line) = lines.next() {
        let item = line.trim();
        if item.starts_with("ITEM: TIMESTEP") {
            step = lines.next().and_then(|l| l.trim().parse().ok()).ok_or_else(|| bad("ITEM: TIMESTEP is not followed by a step number".into()))?;
        } else if item.starts_with("ITEM: NUMBER OF ATOMS") {
            natoms = lines.next().and_then(|l| l.trim().parse().ok()).ok_or_else(|| bad("ITEM: NUMBER OF ATOMS is not followed by a count".into()))?;
        } else if let Some(rest) = item.strip_prefix("ITEM: BOX BOUNDS") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let tri = words.first() == Some(&"xy");
            let flags: Vec<&str> = words.iter().skip(if tri { 3 } else { 0 }).copied().collect();
            for d in 0..3 {
                boundary[d] = match flags.get(d).map(|s| s.as_bytes().first()) {
                    Some(Some(b'p')) | None => Boundary::Periodic,
                    Some(Some(b's')) | Some(Some(b'm')) => Boundary::Shrink,
                    _ => Boundary::Fixed,
                };
            }
            let mut b = [[0.0; 3]; 3];
            for row in &mut b {
                let l = lines.next().ok_or_else(|| bad("the box bounds end early".into()))?;
                let v: Vec<f64> = l.split_whitespace().map(|w| w.parse()).collect::<std::result::Result<_, _>>().map_err(|_| bad(format!("box bounds line '{}' is not numbers", l.trim())))?;
                if v.len() < if tri { 3 } else { 2 } || v.iter().any(|x| !x.is_finite()) {
                    return Err(bad(format!("box bounds line '{}' needs {} finite numbers", l.trim(), if tri { 3 } else { 2 })));
                }
                row[..v.len().min(3)].copy_from_slice(&v[..v.len().min(3)]);
            }
            if tri {
                // LAMMPS writes the bounding box; take the tilts off it
                // (the `dump` documentation's formulas).
                let (xy, xz, yz) = (b[0][2], b[1][2], b[2][2]);
                lo = [b[0][0] - 0f64.min(xy).min(xz).min(xy + xz), b[1][0] - 0f64.min(yz), b[2][0]];
                hi = [b[0][1] - 0f64.max(xy).max(xz).max(xy + xz), b[1][1] - 0f64.max(yz), b[2][1]];
                tilt = Some([xy, xz, yz]);
            } else {
                for d in 0..3 {
                    lo[d] = b[d][0];
                    hi[d] = b[d][1];
                }
            }
        } else if let Some(rest) = item.strip_prefix("ITEM: ATOMS") {
            let cols: Vec<&str> = rest.split_whitespace().collect();
            let at = |n: &str| cols.iter().position(|c| *c == n);
            let (id, ty) = (at("id").ok_or_else(|| bad("the dump has no id column".into()))?, at("type").ok_or_else(|| bad("the dump has no type column".into()))?);
            let (pos, scaled) = if let (Some(a), Some(b), Some(c)) = (at("x"), at("y"), at("z")) {
                ([a, b, c], false)
            } else if let (Some(a), Some(b), Some(c)) = (at("xu"), at("yu"), at("zu")) {
                ([a, b, c], false)
            } else if let (Some(a), Some(b), Some(c)) = (at("xs"), at("ys"), at("zs")) {
                ([a, b, c], true)
            } else {
                return Err(bad("the dump has no positions (x y z, xu yu zu or xs ys zs)".into()));
            };
            let img = match (at("ix"), at("iy"), at("iz")) {
                (Some(a), Some(b), Some(c)) => Some([a, b, c]),
                _ => None,
            };
            let bx = match tilt {
                Some(t) => SimBox::new_triclinic(lo, hi, t, boundary),
                None => SimBox::new(lo, hi, boundary),
            };
            for k in 0..natoms {
                let l = lines.next().ok_or_else(|| bad(format!("the frame at step {} ends after {} of {} atoms", step, k, natoms)))?;
                let w: Vec<&str> = l.split_whitespace().collect();
                let num = |c: usize| -> Result<f64> { w.get(c).and_then(|s| s.parse::<f64>().ok()).filter(|v| v.is_finite()).ok_or_else(|| bad(format!("atom line '{}' has no finite number in column {}", l.trim(), c + 1))) };
                let idv = num(id)?;
                let tv = num(ty)?;
                if idv < 1.0 || idv.fract() != 0.0 || tv < 1.0 || tv.fract() != 0.0 {
                    return Err(bad(format!("atom line '{}': id and type must be whole numbers from 1", l.trim())));
                }
                let mut x = [num(pos[0])?, num(pos[1])?, num(pos[2])?];
                if scaled {
                    x = bx.lamda2x(x);
                }
                let image = match img {
                    Some(c) => [num(c[0])? as i32, num(c[1])? as i32, num(c[2])? as i32],
                    None => [0; 3],
                };
                maxtype = maxtype.max(tv as u32);
                atoms.push(DataAtom { id: idv as u64, typ: tv as u32, x, v: [0.0; 3], image });
            }
        }
    }
    if atoms.is_empty() {
        return Err(bad(format!("the frame at step {} holds no atoms", step)));
    }
    let mut seen = std::collections::HashSet::with_capacity(atoms.len());
    if let Some(a) = atoms.iter().find(|a| !seen.insert(a.id)) {
        return Err(bad(format!("atom id {} appears twice in the frame at step {}", a.id, step)));
    }
    Ok(Frame {
        data: DataFile { ntypes: maxtype as usize, lo, hi, tilt, masses: vec![None; maxtype as usize], atoms, has_velocities: false },
        boundary: Some(boundary),
        step,
        time: f64::NAN,
        elements: Vec::new(),
    })
}

fn h5(path: &Path) -> impl Fn(hdf5::Error) -> Error + '_ {
    move |e| Error::input(path, format!("HDF5: {}", e.to_string().replace('\n', " ")))
}

/// The element names an H5MD file gives its species (the `elements`
/// attribute of `particles/all/species`; none: empty).
pub fn species_elements(all: &hdf5::Group) -> Vec<String> {
    all.dataset("species").and_then(|d| d.attr("elements")).and_then(|a| a.read_raw::<VarLenUnicode>()).map(|v| v.iter().map(|s| s.as_str().to_string()).collect()).unwrap_or_default()
}

/// The box of frame f of an H5MD file: `edges` holds the diagonal (T, 3)
/// or the edge vectors as rows (T, 3, 3), `offset` the lower corner.
pub fn frame_box(edges: &hdf5::Dataset, offset: &hdf5::Dataset, f: usize, boundary: [Boundary; 3]) -> hdf5::Result<SimBox> {
    let (l, tilt): (Vec<f64>, Option<[f64; 3]>) = if edges.ndim() == 3 {
        let m: Vec<f64> = edges.read_slice::<f64, _, ndarray::Ix2>(s![f, .., ..])?.iter().copied().collect();
        (vec![m[0], m[4], m[8]], Some([m[3], m[6], m[7]]))
    } else {
        (edges.read_slice_1d(s![f, ..])?.to_vec(), None)
    };
    let lo: Vec<f64> = offset.read_slice_1d(s![f, ..])?.to_vec();
    let (blo, bhi) = ([lo[0], lo[1], lo[2]], [lo[0] + l[0], lo[1] + l[1], lo[2] + l[2]]);
    Ok(match tilt {
        Some(t) => SimBox::new_triclinic(blo, bhi, t, boundary),
        None => SimBox::new(blo, bhi, boundary),
    })
}

/// An H5MD file's particles, read frame by frame.
pub struct H5mdReader {
    path: std::path::PathBuf,
    pub ids: Vec<u64>,
    pub species: Vec<u32>,
    pub ntypes: usize,
    pub elements: Vec<String>,
    pub boundary: [Boundary; 3],
    pub frames: usize,
    pub steps: Vec<i64>,
    pub times: Vec<f64>,
    pos: hdf5::Dataset,
    img: Option<hdf5::Dataset>,
    edges: hdf5::Dataset,
    offset: hdf5::Dataset,
}

impl H5mdReader {
    pub fn open(path: &Path) -> Result<H5mdReader> {
        let e = h5(path);
        let file = hdf5::File::open(path).map_err(|err| Error::input(path, format!("cannot open as HDF5: {}", err.to_string().replace('\n', " "))))?;
        let all = file.group("particles/all").map_err(|_| Error::input(path, "not an H5MD file: no group /particles/all"))?;
        if !all.link_exists("position") {
            return Err(Error::input(path, "holds no particles/all/position: an H5MD file without positions cannot be analysed"));
        }
        let pos = all.dataset("position/value").map_err(&e)?;
        let shape = pos.shape();
        if shape.len() != 3 || shape[2] != 3 {
            return Err(Error::input(path, format!("particles/all/position/value has shape {:?}, not (frames, atoms, 3)", shape)));
        }
        let (frames, n) = (shape[0], shape[1]);
        let ids: Vec<i64> = if all.link_exists("id") { all.dataset("id").and_then(|d| d.read_raw()).map_err(&e)? } else { (1..=n as i64).collect() };
        let species: Vec<i64> = if all.link_exists("species") { all.dataset("species").and_then(|d| d.read_raw()).map_err(&e)? } else { vec![1; n] };
        if ids.len() != n || species.len() != n {
            return Err(Error::input(path, format!("particles/all id or species has not one entry for each of the {} atoms", n)));
        }
        if species.iter().any(|&t| t < 1) || ids.iter().any(|&i| i < 1) {
            return Err(Error::input(path, "particles/all holds an id or species below 1"));
        }
        let elements = species_elements(&all);
        let bnd: Vec<VarLenUnicode> = all.group("box").and_then(|b| b.attr("boundary")).and_then(|a| a.read_raw()).map_err(&e)?;
        if bnd.len() != 3 {
            return Err(Error::input(path, "particles/all/box has no three-entry boundary attribute"));
        }
        let boundary = std::array::from_fn(|d| if bnd[d].as_str() == "periodic" { Boundary::Periodic } else { Boundary::Fixed });
        let steps: Vec<i64> = all.dataset("position/step").and_then(|d| d.read_raw()).map_err(&e)?;
        let times: Vec<f64> = all.dataset("position/time").and_then(|d| d.read_raw()).map_err(&e)?;
        let edges = all.dataset("box/edges/value").map_err(&e)?;
        let offset = all.dataset("box/offset/value").map_err(&e)?;
        if steps.len() < frames || times.len() < frames || edges.shape()[0] < frames || offset.shape()[0] < frames {
            return Err(Error::input(path, format!("inconsistent H5MD file: {} frames of positions but fewer steps, times or boxes", frames)));
        }
        let img = if all.link_exists("image") { Some(all.dataset("image/value").map_err(&e)?) } else { None };
        let ntypes = species.iter().copied().max().unwrap_or(1) as usize;
        Ok(H5mdReader {
            path: path.to_path_buf(),
            ids: ids.into_iter().map(|i| i as u64).collect(),
            species: species.into_iter().map(|t| t as u32).collect(),
            ntypes,
            elements,
            boundary,
            frames,
            steps,
            times,
            pos,
            img,
            edges,
            offset,
        })
    }

    /// The box of frame f.
    pub fn simbox(&self, f: usize) -> Result<SimBox> {
        frame_box(&self.edges, &self.offset, f, self.boundary).map_err(h5(&self.path))
    }

    /// Positions and image flags of frame f for the atoms `range` (file
    /// order): only that slice is read.
    pub fn positions(&self, f: usize, range: std::ops::Range<usize>) -> Result<(Vec<[f64; 3]>, Vec<[i32; 3]>)> {
        let e = h5(&self.path);
        let (a, b) = (range.start, range.end);
        let x = self.pos.read_slice_2d::<f64, _>(s![f, a..b, ..]).map_err(&e)?;
        let xs: Vec<[f64; 3]> = (0..b - a).map(|k| [x[[k, 0]], x[[k, 1]], x[[k, 2]]]).collect();
        let im = match &self.img {
            Some(d) => {
                let m = d.read_slice_2d::<i32, _>(s![f, a..b, ..]).map_err(&e)?;
                (0..b - a).map(|k| [m[[k, 0]], m[[k, 1]], m[[k, 2]]]).collect()
            }
            None => vec![[0; 3]; b - a],
        };
        if let Some(k) = xs.iter().position(|p| p.iter().any(|v| !v.is_finite())) {
            return Err(Error::input(&self.path, format!("frame {}: atom {} has a non-finite position", f, self.ids[a + k])));
        }
        Ok((xs, im))
    }

    /// Frame f as a configuration.
    pub fn frame(&self, f: usize) -> Result<Frame> {
        let bx = self.simbox(f)?;
        let (x, im) = self.positions(f, 0..self.ids.len())?;
        let atoms = (0..x.len()).map(|k| DataAtom { id: self.ids[k], typ: self.species[k], x: x[k], v: [0.0; 3], image: im[k] }).collect();
        Ok(Frame {
            data: DataFile { ntypes: self.ntypes, lo: bx.lo, hi: bx.hi, tilt: bx.triclinic.then_some(bx.tilt), masses: vec![None; self.ntypes], atoms, has_velocities: false },
            boundary: Some(self.boundary),
            step: self.steps[f] as u64,
            time: self.times[f],
            elements: self.elements.clone(),
        })
    }
}
