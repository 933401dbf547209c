//! LAMMPS data files, `atom_style atomic`: header counts and box, `Masses`,
//! `Atoms` (id type x y z [ix iy iz]) and an optional `Velocities` section.
//! Errors name the file and line. A `xy xz yz` header line makes the box
//! triclinic (its limits depend on the deck's boundaries and are checked by
//! `engine::check_tilt`). Molecular styles are rejected with a message;
//! adding them means new header keys and columns here.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

#[derive(Clone, Debug)]
pub struct DataAtom {
    pub id: u64,
    /// 1-based LAMMPS type.
    pub typ: u32,
    pub x: [f64; 3],
    pub image: [i32; 3],
    pub v: [f64; 3],
}

#[derive(Clone, Debug)]
pub struct DataFile {
    pub ntypes: usize,
    pub lo: [f64; 3],
    pub hi: [f64; 3],
    /// Tilt factors xy, xz, yz of a triclinic box (None: orthogonal).
    pub tilt: Option<[f64; 3]>,
    pub masses: Vec<Option<f64>>,
    pub atoms: Vec<DataAtom>,
    pub has_velocities: bool,
}

/// Largest atom id: ids travel between ranks as f64, exact up to 2^53
/// (LAMMPS's default build allows 2^31 − 1).
pub const MAX_ID: u64 = 1 << 53;
/// Most atom types a data file may declare.
pub const MAX_TYPES: usize = 10_000;
/// Largest box edge, Å.
pub const MAX_BOX: f64 = 1.0e9;

/// Section names of LAMMPS data files (those glassmd reads, and those it
/// names as unsupported).
const SECTIONS: [&str; 14] = ["Masses", "Atoms", "Velocities", "Pair Coeffs", "PairIJ Coeffs", "Bonds", "Angles", "Dihedrals", "Impropers", "Bond Coeffs", "Angle Coeffs", "Dihedral Coeffs", "Improper Coeffs", "Ellipsoids"];

/// A finite number, or None (Rust parses "nan" and "inf", LAMMPS data never means them).
fn finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn strip(l: &str) -> &str {
    l.split('#').next().unwrap_or("").trim()
}

pub fn read(path: &Path) -> Result<DataFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let err = |line: usize, msg: String| Error::input(path, format!("line {}: {}", line, msg));
    let lines: Vec<&str> = text.lines().collect();
    let mut natoms: Option<usize> = None;
    let mut ntypes: Option<usize> = None;
    let mut lo = [0.0; 3];
    let mut hi = [0.0; 3];
    let mut have_box = [false; 3];
    let mut tilt = None;
    let mut k = 1; // first line is the title
    // Header.
    while k < lines.len() {
        let l = strip(lines[k]);
        if l.is_empty() {
            k += 1;
            continue;
        }
        let t: Vec<&str> = l.split_whitespace().collect();
        let num = |s: &str| finite(s).ok_or_else(|| err(k + 1, format!("cannot read '{}' as a finite number", s)));
        if t.len() >= 2 && t[1] == "atoms" {
            natoms = Some(t[0].parse().map_err(|_| err(k + 1, format!("bad atom count '{}'", t[0])))?);
        } else if t.len() >= 3 && t[1] == "atom" && t[2] == "types" {
            ntypes = Some(t[0].parse().map_err(|_| err(k + 1, format!("bad type count '{}'", t[0])))?);
        } else if t.len() >= 4 && ["xlo", "ylo", "zlo"].contains(&t[2]) {
            let d = ["xlo", "ylo", "zlo"].iter().position(|&s| s == t[2]).unwrap();
            lo[d] = num(t[0])?;
            hi[d] = num(t[1])?;
            if !(hi[d] > lo[d]) {
                return Err(err(k + 1, format!("box bounds {} {} are empty", t[0], t[1])));
            }
            if !(hi[d] - lo[d] <= MAX_BOX) || lo[d].abs() > MAX_BOX || hi[d].abs() > MAX_BOX {
                return Err(err(k + 1, format!("box bounds {} {} are beyond +-{:e} A", t[0], t[1], MAX_BOX)));
            }
            have_box[d] = true;
        } else if t.len() >= 6 && t[3] == "xy" {
            if t[4] != "xz" || t[5] != "yz" {
                return Err(err(k + 1, format!("expected 'xy xz yz' after the three tilt factors, found '{} {} {}'", t[3], t[4], t[5])));
            }
            let v = [num(t[0])?, num(t[1])?, num(t[2])?];
            if let Some(j) = (0..3).find(|&j| v[j].abs() > MAX_BOX) {
                return Err(err(k + 1, format!("tilt {} = {} is beyond +-{:e} A", ["xy", "xz", "yz"][j], v[j], MAX_BOX)));
            }
            tilt = Some(v);
        } else if t[0].chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            if !SECTIONS.iter().any(|s| l.starts_with(s)) {
                return Err(err(k + 1, format!("cannot understand '{}': expected a header line such as '4 atoms' or a section such as 'Atoms'", l)));
            }
            break; // first section
        } else if t.len() >= 2 && t[0].parse::<u64>().is_ok() {
            if t[0] != "0" {
                return Err(err(k + 1, format!("unsupported header entry '{}' (atom_style atomic only)", l)));
            }
        } else {
            return Err(err(k + 1, format!("cannot understand header line '{}'", l)));
        }
        k += 1;
    }
    let natoms = natoms.ok_or_else(|| Error::input(path, "header has no 'N atoms' line"))?;
    let ntypes = ntypes.ok_or_else(|| Error::input(path, "header has no 'N atom types' line"))?;
    // An atom line takes at least 10 bytes ("1 1 0 0 0\n"): a count the
    // file cannot hold is refused before anything is allocated for it.
    if natoms > text.len() / 10 + 1 {
        return Err(Error::input(path, format!("header declares {} atoms, more than a file of {} bytes can hold", natoms, text.len())));
    }
    if ntypes == 0 || ntypes > MAX_TYPES {
        return Err(Error::input(path, format!("header declares {} atom types; expected 1 to {}", ntypes, MAX_TYPES)));
    }
    if let Some(d) = (0..3).find(|&d| !have_box[d]) {
        return Err(Error::input(path, format!("header has no '{0}lo {0}hi' line", ["x", "y", "z"][d])));
    }
    let mut masses = vec![None; ntypes];
    let mut atoms: Vec<DataAtom> = Vec::new();
    let mut vel: HashMap<u64, [f64; 3]> = HashMap::new();
    let mut seen_atoms = false;
    // Sections.
    while k < lines.len() {
        let head = strip(lines[k]);
        if head.is_empty() {
            k += 1;
            continue;
        }
        let head_line = k + 1;
        k += 1;
        // Body: skip blank lines after the header, then read until a blank line.
        while k < lines.len() && strip(lines[k]).is_empty() {
            k += 1;
        }
        let start = k;
        while k < lines.len() && !strip(lines[k]).is_empty() {
            k += 1;
        }
        let body = (start..k).map(|n| (n + 1, strip(lines[n])));
        match head {
            "Masses" => {
                for (ln, l) in body {
                    let t: Vec<&str> = l.split_whitespace().collect();
                    let ty: usize = t.first().and_then(|s| s.parse().ok()).ok_or_else(|| err(ln, format!("bad Masses line '{}'", l)))?;
                    let m: f64 = t.get(1).and_then(|s| s.parse().ok()).ok_or_else(|| err(ln, format!("bad Masses line '{}'", l)))?;
                    if ty == 0 || ty > ntypes {
                        return Err(err(ln, format!("mass for type {} but the file declares {} atom types", ty, ntypes)));
                    }
                    if !(m > 0.0) || !m.is_finite() {
                        return Err(err(ln, format!("mass of type {} must be a positive number, got {}", ty, m)));
                    }
                    masses[ty - 1] = Some(m);
                }
            }
            "Atoms" => {
                seen_atoms = true;
                atoms.reserve(natoms);
                for (ln, l) in body {
                    let t: Vec<&str> = l.split_whitespace().collect();
                    if t.len() != 5 && t.len() != 8 {
                        return Err(err(ln, format!("expected 'id type x y z [ix iy iz]' (atom_style atomic), found {} fields", t.len())));
                    }
                    let id: u64 = t[0].parse().map_err(|_| err(ln, format!("bad atom id '{}' (ids are whole numbers from 1)", t[0])))?;
                    if id == 0 || id > MAX_ID {
                        return Err(err(ln, format!("atom id {} is out of range: ids run from 1 to 2^53 = {}", id, MAX_ID)));
                    }
                    let typ: u32 = t[1].parse().map_err(|_| err(ln, format!("bad atom type '{}'", t[1])))?;
                    if typ == 0 || typ as usize > ntypes {
                        return Err(err(ln, format!("atom {} has type {} but the file declares {} atom types", id, typ, ntypes)));
                    }
                    let mut x = [0.0; 3];
                    for d in 0..3 {
                        x[d] = finite(t[2 + d]).ok_or_else(|| err(ln, format!("atom {}: bad coordinate '{}' (expected a finite number)", id, t[2 + d])))?;
                    }
                    let mut image = [0; 3];
                    if t.len() == 8 {
                        for d in 0..3 {
                            image[d] = t[5 + d].parse().ok().filter(|i: &i32| i.abs() <= crate::system::MAX_IMAGE).ok_or_else(|| err(ln, format!("atom {}: bad image flag '{}' (expected a whole number within +-2^30)", id, t[5 + d])))?;
                        }
                    }
                    atoms.push(DataAtom { id, typ, x, image, v: [0.0; 3] });
                }
            }
            "Velocities" => {
                for (ln, l) in body {
                    let t: Vec<&str> = l.split_whitespace().collect();
                    if t.len() != 4 {
                        return Err(err(ln, format!("expected 'id vx vy vz', found {} fields", t.len())));
                    }
                    let id: u64 = t[0].parse().map_err(|_| err(ln, format!("bad atom id '{}'", t[0])))?;
                    let mut v = [0.0; 3];
                    for d in 0..3 {
                        v[d] = finite(t[1 + d]).ok_or_else(|| err(ln, format!("atom {}: bad velocity '{}' (expected a finite number)", id, t[1 + d])))?;
                    }
                    if vel.insert(id, v).is_some() {
                        return Err(err(ln, format!("atom {} has two velocities", id)));
                    }
                }
            }
            "Pair Coeffs" | "PairIJ Coeffs" => {} // potential settings come from the deck
            other => return Err(err(head_line, format!("unsupported section '{}'", other))),
        }
    }
    if !seen_atoms {
        return Err(Error::input(path, "no Atoms section"));
    }
    if atoms.len() != natoms {
        return Err(Error::input(path, format!("header declares {} atoms but the Atoms section has {}", natoms, atoms.len())));
    }
    let mut ids: Vec<u64> = atoms.iter().map(|a| a.id).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::input(path, format!("atom id {} appears twice", w[0])));
    }
    let has_velocities = !vel.is_empty();
    if has_velocities {
        if vel.len() != natoms {
            return Err(Error::input(path, format!("Velocities section has {} entries for {} atoms", vel.len(), natoms)));
        }
        for a in &mut atoms {
            a.v = *vel.get(&a.id).ok_or_else(|| Error::input(path, format!("atom {} has no velocity", a.id)))?;
        }
    }
    Ok(DataFile { ntypes, lo, hi, tilt, masses, atoms, has_velocities })
}

/// Write a data file LAMMPS reads back (`read_data`), atoms sorted by id.
pub fn write(path: &Path, title: &str, d: &DataFile) -> Result<()> {
    let masses: Vec<f64> = d.masses.iter().map(|m| m.unwrap_or(f64::NAN)).collect();
    let p = [crate::system::Boundary::Periodic; 3];
    let bx = match d.tilt {
        Some(t) => crate::system::SimBox::new_triclinic(d.lo, d.hi, t, p),
        None => crate::system::SimBox::new(d.lo, d.hi, p),
    };
    let mut w = DataWriter::create(path, title, d.atoms.len() as u64, d.ntypes, &bx, &masses)?;
    for a in &d.atoms {
        w.atom(a.id, a.typ, a.x, a.image)?;
    }
    w.begin_velocities()?;
    for a in &d.atoms {
        w.velocity(a.id, a.v)?;
    }
    w.commit()
}

/// A data file written section by section, so atoms can be streamed to it
/// in id order without holding the system (the `write_data` stage). Goes
/// to a temporary file, renamed over the target by `commit`.
pub struct DataWriter {
    file: super::AtomicFile,
}

impl DataWriter {
    /// Header, box, masses (NaN: left out) and the `Atoms` heading.
    pub fn create(path: &Path, title: &str, natoms: u64, ntypes: usize, bx: &crate::system::SimBox, masses: &[f64]) -> Result<DataWriter> {
        let (lo, hi) = (bx.lo, bx.hi);
        let mut file = super::AtomicFile::create(path)?;
        (|| -> std::io::Result<()> {
            let w = &mut file.w;
            writeln!(w, "{}\n\n{} atoms\n{} atom types\n", title, natoms, ntypes)?;
            for (k, ax) in ["x", "y", "z"].iter().enumerate() {
                writeln!(w, "{:?} {:?} {ax}lo {ax}hi", lo[k], hi[k])?;
            }
            if bx.triclinic {
                writeln!(w, "{:?} {:?} {:?} xy xz yz", bx.tilt[0], bx.tilt[1], bx.tilt[2])?;
            }
            writeln!(w, "\nMasses\n")?;
            for (t, m) in masses.iter().enumerate().filter(|(_, m)| !m.is_nan()) {
                writeln!(w, "{} {:?}", t + 1, m)?;
            }
            writeln!(w, "\nAtoms # atomic\n")
        })()
        .map_err(|e| Error::io(path, e))?;
        Ok(DataWriter { file })
    }
    pub fn atom(&mut self, id: u64, typ: u32, x: [f64; 3], image: [i32; 3]) -> Result<()> {
        writeln!(self.file.w, "{} {} {:?} {:?} {:?} {} {} {}", id, typ, x[0], x[1], x[2], image[0], image[1], image[2]).map_err(|e| Error::io(self.file.path(), e))
    }
    pub fn begin_velocities(&mut self) -> Result<()> {
        writeln!(self.file.w, "\nVelocities\n").map_err(|e| Error::io(self.file.path(), e))
    }
    pub fn velocity(&mut self, id: u64, v: [f64; 3]) -> Result<()> {
        writeln!(self.file.w, "{} {:?} {:?} {:?}", id, v[0], v[1], v[2]).map_err(|e| Error::io(self.file.path(), e))
    }
    pub fn commit(self) -> Result<()> {
        self.file.commit()
    }
}
