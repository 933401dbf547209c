//! Readers for the three LAMMPS EAM file formats.
//!
//! * funcfl (`pair_style eam`, DYNAMO single-element): F(ρ), Z(r), ρ(r) on
//!   their own grids; the pair term is φ(r) = 27.2·0.529·Zi(r)·Zj(r)/r
//!   (Hartree·Bohr → eV·Å; LAMMPS `pair_eam.cpp`).
//! * setfl (`eam/alloy`): per element F(ρ) and ρ(r); then r·φ(r) for each
//!   pair i ≥ j.
//! * Finnis–Sinclair (`eam/fs`): like setfl, but each element i gives N
//!   density functions ρ_{i,j}(r).
//!
//! Numbers are read as one whitespace-separated stream (values may wrap
//! lines arbitrarily); element header lines are read as lines. Every error
//! names the file, the line and what was expected. A new format is a new
//! reader producing [`EamFile`]; tabulation is shared in `tables.rs`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One funcfl file.
#[derive(Clone, Debug)]
pub struct Funcfl {
    pub mass: f64,
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cut: f64,
    pub frho: Vec<f64>,
    pub zr: Vec<f64>,
    pub rhor: Vec<f64>,
}

/// A setfl or Finnis–Sinclair file.
#[derive(Clone, Debug)]
pub struct Setfl {
    pub elements: Vec<String>,
    pub masses: Vec<f64>,
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cut: f64,
    /// F_i(ρ), one per element.
    pub frho: Vec<Vec<f64>>,
    /// setfl: `rhor[i][0]` = ρ_i(r). fs: `rhor[i][j]` = ρ_{i,j}(r) as listed
    /// in element i's block.
    pub rhor: Vec<Vec<Vec<f64>>>,
    /// r·φ_{ij}(r) for i ≥ j, stored at `z2r[i][j]`.
    pub z2r: Vec<Vec<Vec<f64>>>,
    /// True for the Finnis–Sinclair format.
    pub fs: bool,
}

#[derive(Clone, Debug)]
pub enum EamFile {
    Funcfl(Funcfl),
    Setfl(Setfl),
}

/// Line-aware number stream over a potential file.
struct Reader<'a> {
    path: &'a Path,
    /// Length of the file's text.
    bytes: usize,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    pending: std::collections::VecDeque<&'a str>,
    line_no: usize,
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        Reader { path, bytes: text.len(), lines: text.lines().enumerate(), pending: Default::default(), line_no: 0 }
    }
    fn err(&self, msg: impl Into<String>) -> Error {
        Error::input(self.path, format!("line {}: {}", self.line_no, msg.into()))
    }
    /// Next whole line (discarding any unread numbers of the previous one).
    fn line(&mut self, what: &str) -> Result<&'a str> {
        self.pending.clear();
        match self.lines.next() {
            Some((k, l)) => {
                self.line_no = k + 1;
                Ok(l)
            }
            None => Err(Error::input(
                self.path,
                format!("truncated: file ends after line {} where {} was expected", self.line_no, what),
            )),
        }
    }
    fn token(&mut self, what: &str) -> Result<&'a str> {
        loop {
            if let Some(t) = self.pending.pop_front() {
                return Ok(t);
            }
            match self.lines.next() {
                Some((k, l)) => {
                    self.line_no = k + 1;
                    self.pending.extend(l.split_whitespace());
                }
                None => {
                    return Err(Error::input(
                        self.path,
                        format!("truncated: file ends after line {} while reading {}", self.line_no, what),
                    ))
                }
            }
        }
    }
    fn values(&mut self, n: usize, what: &str) -> Result<Vec<f64>> {
        // A header may claim more values than the file holds (Nrho = 1e11):
        // grow as values arrive instead of reserving the claim up front.
        let mut out = Vec::with_capacity(n.min(1 << 16));
        for k in 0..n {
            let t = self.token(&format!("{} (value {} of {})", what, k + 1, n))?;
            out.push(parse_f64(t).ok_or_else(|| {
                // A word where numbers belong is usually a header line of
                // another layout: an eam/alloy file read as eam/fs, or back.
                let hint = if t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && !t.eq_ignore_ascii_case("nan") && !t.eq_ignore_ascii_case("inf") {
                    " (is the pair style right for this file? eam/alloy and eam/fs files differ in layout)"
                } else {
                    ""
                };
                self.err(format!("cannot read '{}' as a number in {}{}", t, what, hint))
            })?);
        }
        Ok(out)
    }
}

/// Parse a float the way C's strtod accepts them, including Fortran `D` exponents.
fn parse_f64(t: &str) -> Option<f64> {
    t.parse::<f64>().ok().or_else(|| t.replace(['D', 'd'], "E").parse().ok()).filter(|v: &f64| v.is_finite())
}

fn field<T: std::str::FromStr>(r: &Reader, toks: &[&str], k: usize, what: &str) -> Result<T> {
    toks.get(k)
        .and_then(|t| t.parse::<T>().ok().or_else(|| parse_f64(t).and_then(|v| v.to_string().parse().ok())))
        .ok_or_else(|| r.err(format!("expected {} as field {}", what, k + 1)))
}

/// Grid header `nrho drho nr dr cut`, validated.
fn grid(r: &mut Reader) -> Result<(usize, f64, usize, f64, f64)> {
    let l = r.line("the grid line 'Nrho drho Nr dr cutoff'")?;
    let t: Vec<&str> = l.split_whitespace().collect();
    if t.len() < 5 {
        return Err(r.err(format!("expected 'Nrho drho Nr dr cutoff', found '{}'", l.trim())));
    }
    let nrho: usize = field(r, &t, 0, "Nrho (an integer)")?;
    let drho: f64 = field(r, &t, 1, "drho")?;
    let nr: usize = field(r, &t, 2, "Nr (an integer)")?;
    let dr: f64 = field(r, &t, 3, "dr")?;
    let cut: f64 = field(r, &t, 4, "cutoff")?;
    // The 5-point spline needs at least 5 knots, and funcfl re-gridding
    // (LAMMPS) drops one, so ask for 6.
    let pos = |v: f64| v > 0.0 && v.is_finite();
    if nrho < 6 || nr < 6 || !pos(drho) || !pos(dr) || !pos(cut) {
        return Err(r.err(format!(
            "invalid grid: Nrho={nrho} drho={drho} Nr={nr} dr={dr} cutoff={cut} (need at least 6 points and positive spacings)"
        )));
    }
    if cut > MAX_CUTOFF {
        return Err(r.err(format!("invalid grid: cutoff {} A is beyond {} A, not an EAM cutoff", cut, MAX_CUTOFF)));
    }
    // Every value takes at least two bytes of text; a claim the file
    // cannot hold is truncation, reported before anything is allocated.
    if nrho.max(nr) > r.bytes / 2 {
        return Err(r.err(format!("truncated: the grid line declares Nrho = {} and Nr = {} values, but the file has only {} bytes", nrho, nr, r.bytes)));
    }
    Ok((nrho, drho, nr, dr, cut))
}

/// Largest cutoff a potential file may give, Å (EAM cutoffs are 5-8 Å).
pub const MAX_CUTOFF: f64 = 50.0;

/// An element's mass must be a positive number of amu.
fn check_mass(r: &Reader, mass: f64, what: &str) -> Result<f64> {
    if !(mass > 0.0) {
        return Err(r.err(format!("the mass of {} is {}; it must be positive (amu)", what, mass)));
    }
    Ok(mass)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Read a funcfl (`eam`) file.
pub fn read_funcfl(path: &Path) -> Result<Funcfl> {
    let text = read_text(path)?;
    let mut r = Reader::new(path, &text);
    r.line("the comment line")?;
    let l = r.line("the line 'atomic-number mass'")?;
    let t: Vec<&str> = l.split_whitespace().collect();
    let mass: f64 = check_mass(&r, field(&r, &t, 1, "the mass")?, "the element")?;
    let (nrho, drho, nr, dr, cut) = grid(&mut r)?;
    let frho = r.values(nrho, "F(rho)")?;
    let zr = r.values(nr, "Z(r)")?;
    let rhor = r.values(nr, "rho(r)")?;
    Ok(Funcfl { mass, nrho, drho, nr, dr, cut, frho, zr, rhor })
}

/// Read a setfl (`eam/alloy`) or Finnis–Sinclair (`eam/fs`) file.
pub fn read_setfl(path: &Path, fs: bool) -> Result<Setfl> {
    let text = read_text(path)?;
    let mut r = Reader::new(path, &text);
    for _ in 0..3 {
        r.line("the three comment lines")?;
    }
    let l = r.line("the elements line 'N elem1 elem2 ...'")?;
    let t: Vec<&str> = l.split_whitespace().collect();
    let n: usize = field(&r, &t, 0, "the number of elements")?;
    if n == 0 || t.len() < n + 1 {
        return Err(r.err(format!("the elements line declares {} elements but names {}", n, t.len().saturating_sub(1))));
    }
    let elements: Vec<String> = t[1..=n].iter().map(|s| s.to_string()).collect();
    let (nrho, drho, nr, dr, cut) = grid(&mut r)?;
    let mut masses = Vec::new();
    let mut frho = Vec::new();
    let mut rhor = Vec::new();
    for (i, el) in elements.iter().enumerate() {
        let l = r.line(&format!("the header line of element {}", el))?;
        let t: Vec<&str> = l.split_whitespace().collect();
        masses.push(check_mass(&r, field::<f64>(&r, &t, 1, &format!("the mass of element {}", el))?, &format!("element {}", el))?);
        frho.push(r.values(nrho, &format!("F(rho) of {}", el))?);
        let nd = if fs { n } else { 1 };
        let mut dens = Vec::new();
        for j in 0..nd {
            let what = if fs { format!("rho_{}{}(r)", el, elements[j]) } else { format!("rho(r) of {}", el) };
            dens.push(r.values(nr, &what)?);
        }
        rhor.push(dens);
        let _ = i;
    }
    let mut z2r = Vec::new();
    for i in 0..n {
        let mut row = Vec::new();
        for j in 0..=i {
            row.push(r.values(nr, &format!("r*phi(r) of {}-{}", elements[i], elements[j]))?);
        }
        z2r.push(row);
    }
    Ok(Setfl { elements, masses, nrho, drho, nr, dr, cut, frho, rhor, z2r, fs })
}

/// Which file format a `pair_style` name means.
#[derive(serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EamStyle {
    #[serde(rename = "eam")]
    Funcfl,
    #[serde(rename = "eam/alloy")]
    Alloy,
    #[serde(rename = "eam/fs")]
    Fs,
}

impl EamStyle {
    pub fn parse(s: &str) -> Option<EamStyle> {
        match s {
            "eam" => Some(EamStyle::Funcfl),
            "eam/alloy" => Some(EamStyle::Alloy),
            "eam/fs" => Some(EamStyle::Fs),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            EamStyle::Funcfl => "eam",
            EamStyle::Alloy => "eam/alloy",
            EamStyle::Fs => "eam/fs",
        }
    }
}

pub fn read(path: &Path, style: EamStyle) -> Result<EamFile> {
    Ok(match style {
        EamStyle::Funcfl => EamFile::Funcfl(read_funcfl(path)?),
        EamStyle::Alloy => EamFile::Setfl(read_setfl(path, false)?),
        EamStyle::Fs => EamFile::Setfl(read_setfl(path, true)?),
    })
}

/// Where a potential came from, for messages.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    pub style: EamStyle,
}
