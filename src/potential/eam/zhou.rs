//! Zhou–Johnson–Wadley EAM alloy potentials generated from their
//! parameters (X. W. Zhou, R. A. Johnson, H. N. G. Wadley, "Misfit-energy-
//! increasing dislocations in vapor-deposited CoFe/NiFe multilayers",
//! Phys. Rev. B 69, 144113 (2004); the same functional form as Zhou et al.,
//! Acta Mater. 49, 4005 (2001)). The tabulation follows LAMMPS's
//! `tools/eam_database` (create_eam.py): r·φ and ρ on `nr` points up to
//! rc = √10/2 · max(√2 r_e), r clamped below 0.5 Å, F on `nrho` points up to
//! max(max ρ(r), 2 max ρ_e, 100).
//!
//! The functions of element a (Section II of the 2004 paper):
//!
//! * density f(r) = f_e exp[−β₁(r/r_e − 1)] / (1 + (r/r_e − λ₁)²⁰)
//! * pair φ(r) = A exp[−α(r/r_e − 1)] / (1 + (r/r_e − κ)²⁰)
//!   − B exp[−β(r/r_e − 1)] / (1 + (r/r_e − λ)²⁰)
//! * embedding F(ρ), with ρ_n = 0.85 ρ_e and ρ_o = 1.15 ρ_e:
//!   Σᵢ F_ni (ρ/ρ_n − 1)ⁱ below ρ_n; Σᵢ F_i (ρ/ρ_e − 1)ⁱ up to ρ_o (F₃ takes
//!   its second value above ρ_e); F_e [1 − η ln(ρ/ρ_s)] (ρ/ρ_s)^η beyond.
//! * alloy pair (Johnson's mixing rule, PRB 39, 12554 (1989)):
//!   φ_ab(r) = ½ [f_b(r)/f_a(r) φ_aa(r) + f_a(r)/f_b(r) φ_bb(r)].
//!
//! [`ZHOU2004`] holds the paper's 16 elements (its parameter table, as LAMMPS
//! distributes it in `tools/eam_database/EAM_code`). To add an element or
//! a refit, write a [`ZhouElement`] and pass it to [`setfl`]; the result is
//! an in-memory [`Setfl`] that `EamTables` reads like a file, and
//! [`write_setfl`] writes it so that LAMMPS reads back the same numbers
//! (shortest round-trip decimals).

use super::file::{EamFile, Setfl};
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// One element's parameters (names as in the 2004 paper; Å, eV, amu).
#[derive(Clone, Debug, PartialEq)]
pub struct ZhouElement {
    pub name: &'static str,
    /// Atomic number (the setfl element line).
    pub z: u32,
    pub mass: f64,
    pub re: f64,
    pub fe: f64,
    pub rho_e: f64,
    pub rho_s: f64,
    pub alpha: f64,
    pub beta: f64,
    pub a: f64,
    pub b: f64,
    pub kappa: f64,
    pub lambda: f64,
    /// F_n0..F_n3 (below ρ_n).
    pub fn_: [f64; 4],
    /// F_0..F_3 (ρ_n to ρ_o; F_3 below ρ_e).
    pub f: [f64; 4],
    /// F_3 from ρ_e to ρ_o.
    pub f3_above: f64,
    pub eta: f64,
    pub f_e: f64,
    /// β and λ of the density function (equal to the pair's β, λ in the
    /// 2004 table).
    pub beta1: f64,
    pub lambda1: f64,
    /// ρ_n/ρ_e and ρ_o/ρ_e (0.85 and 1.15; 0.25 for Pt's ρ_n).
    pub rho_n: f64,
    pub rho_o: f64,
}

/// The parameter table of Zhou, Johnson & Wadley, PRB 69, 144113 (2004).
pub const ZHOU2004: [ZhouElement; 16] = [
    ZhouElement { name: "Cu", z: 29, mass: 63.546, re: 2.556162, fe: 1.554485, rho_e: 21.175871, rho_s: 21.175395, alpha: 8.127620, beta: 4.334731, a: 0.396620, b: 0.548085, kappa: 0.308782, lambda: 0.756515, fn_: [-2.170269, -0.263788, 1.088878, -0.817603], f: [-2.19, 0.00, 0.561830, -2.100595], f3_above: -2.100595, eta: 0.310490, f_e: -2.186568, beta1: 4.334731, lambda1: 0.756515, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Ag", z: 47, mass: 107.8682, re: 2.891814, fe: 1.106232, rho_e: 14.604100, rho_s: 14.604144, alpha: 9.132010, beta: 4.870405, a: 0.277758, b: 0.419611, kappa: 0.339710, lambda: 0.750758, fn_: [-1.729364, -0.255882, 0.912050, -0.561432], f: [-1.75, 0.00, 0.744561, -1.150650], f3_above: -1.150650, eta: 0.783924, f_e: -1.748423, beta1: 4.870405, lambda1: 0.750758, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Au", z: 79, mass: 196.96654, re: 2.885034, fe: 1.529021, rho_e: 19.991632, rho_s: 19.991509, alpha: 9.516052, beta: 5.075228, a: 0.229762, b: 0.356666, kappa: 0.356570, lambda: 0.748798, fn_: [-2.937772, -0.500288, 1.601954, -0.835530], f: [-2.98, 0.00, 1.706587, -1.134778], f3_above: -1.134778, eta: 1.021095, f_e: -2.978815, beta1: 5.075228, lambda1: 0.748798, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Ni", z: 28, mass: 58.6934, re: 2.488746, fe: 2.007018, rho_e: 27.562015, rho_s: 27.562031, alpha: 8.383453, beta: 4.471175, a: 0.429046, b: 0.633531, kappa: 0.443599, lambda: 0.820658, fn_: [-2.693513, -0.076445, 0.241442, -2.375626], f: [-2.70, 0.00, 0.265390, -0.152856], f3_above: -0.152856, eta: 0.445470, f_e: -2.7, beta1: 4.471175, lambda1: 0.820658, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Pd", z: 46, mass: 106.42, re: 2.750897, fe: 1.595417, rho_e: 21.335246, rho_s: 21.940073, alpha: 8.697397, beta: 4.638612, a: 0.406763, b: 0.598880, kappa: 0.397263, lambda: 0.754799, fn_: [-2.321006, -0.473983, 1.615343, -0.231681], f: [-2.36, 0.00, 1.481742, -1.675615], f3_above: -1.675615, eta: 1.130000, f_e: -2.352753, beta1: 4.638612, lambda1: 0.754799, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Pt", z: 78, mass: 195.08, re: 2.771916, fe: 2.336509, rho_e: 33.367564, rho_s: 35.205357, alpha: 7.105782, beta: 3.789750, a: 0.556398, b: 0.696037, kappa: 0.385255, lambda: 0.770510, fn_: [-1.455568, -2.149952, 0.528491, 1.222875], f: [-4.17, 0.00, 3.010561, -2.420128], f3_above: -2.420128, eta: 1.450000, f_e: -4.145597, beta1: 3.789750, lambda1: 0.770510, rho_n: 0.25, rho_o: 1.15 },
    ZhouElement { name: "Al", z: 13, mass: 26.981539, re: 2.863924, fe: 1.403115, rho_e: 20.418205, rho_s: 23.195740, alpha: 6.613165, beta: 3.527021, a: 0.314873, b: 0.365551, kappa: 0.379846, lambda: 0.759692, fn_: [-2.807602, -0.301435, 1.258562, -1.247604], f: [-2.83, 0.00, 0.622245, -2.488244], f3_above: -2.488244, eta: 0.785902, f_e: -2.824528, beta1: 3.527021, lambda1: 0.759692, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Pb", z: 82, mass: 207.2, re: 3.499723, fe: 0.647872, rho_e: 8.450154, rho_s: 8.450063, alpha: 9.121799, beta: 5.212457, a: 0.161219, b: 0.236884, kappa: 0.250805, lambda: 0.764955, fn_: [-1.422370, -0.210107, 0.682886, -0.529378], f: [-1.44, 0.00, 0.702726, -0.538766], f3_above: -0.538766, eta: 0.935380, f_e: -1.439436, beta1: 5.212457, lambda1: 0.764955, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Fe", z: 26, mass: 55.847, re: 2.481987, fe: 1.885957, rho_e: 20.041463, rho_s: 20.041463, alpha: 9.818270, beta: 5.236411, a: 0.392811, b: 0.646243, kappa: 0.170306, lambda: 0.340613, fn_: [-2.534992, -0.059605, 0.193065, -2.282322], f: [-2.54, 0.00, 0.200269, -0.148770], f3_above: -0.148770, eta: 0.391750, f_e: -2.539945, beta1: 5.236411, lambda1: 0.340613, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Mo", z: 42, mass: 95.94, re: 2.728100, fe: 2.723710, rho_e: 29.354065, rho_s: 29.354065, alpha: 8.393531, beta: 4.476550, a: 0.708787, b: 1.120373, kappa: 0.137640, lambda: 0.275280, fn_: [-3.692913, -0.178812, 0.380450, -3.133650], f: [-3.71, 0.00, 0.875874, 0.776222], f3_above: 0.776222, eta: 0.790879, f_e: -3.712093, beta1: 4.476550, lambda1: 0.275280, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Ta", z: 73, mass: 180.9479, re: 2.860082, fe: 3.086341, rho_e: 33.787168, rho_s: 33.787168, alpha: 8.489528, beta: 4.527748, a: 0.611679, b: 1.032101, kappa: 0.176977, lambda: 0.353954, fn_: [-5.103845, -0.405524, 1.112997, -3.585325], f: [-5.14, 0.00, 1.640098, 0.221375], f3_above: 0.221375, eta: 0.848843, f_e: -5.141526, beta1: 4.527748, lambda1: 0.353954, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "W", z: 74, mass: 183.84, re: 2.740840, fe: 3.487340, rho_e: 37.234847, rho_s: 37.234847, alpha: 8.900114, beta: 4.746728, a: 0.882435, b: 1.394592, kappa: 0.139209, lambda: 0.278417, fn_: [-4.946281, -0.148818, 0.365057, -4.432406], f: [-4.96, 0.00, 0.661935, 0.348147], f3_above: 0.348147, eta: 0.582714, f_e: -4.961306, beta1: 4.746728, lambda1: 0.278417, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Mg", z: 12, mass: 24.305, re: 3.196291, fe: 0.544323, rho_e: 7.132600, rho_s: 7.132600, alpha: 10.228708, beta: 5.455311, a: 0.137518, b: 0.225930, kappa: 0.5, lambda: 1.0, fn_: [-0.896473, -0.044291, 0.162232, -0.689950], f: [-0.90, 0.00, 0.122838, -0.226010], f3_above: -0.226010, eta: 0.431425, f_e: -0.899702, beta1: 5.455311, lambda1: 1.0, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Co", z: 27, mass: 58.9332, re: 2.505979, fe: 1.975299, rho_e: 27.206789, rho_s: 27.206789, alpha: 8.679625, beta: 4.629134, a: 0.421378, b: 0.640107, kappa: 0.5, lambda: 1.0, fn_: [-2.541799, -0.219415, 0.733381, -1.589003], f: [-2.56, 0.00, 0.705845, -0.687140], f3_above: -0.687140, eta: 0.694608, f_e: -2.559307, beta1: 4.629134, lambda1: 1.0, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Ti", z: 22, mass: 47.88, re: 2.933872, fe: 1.863200, rho_e: 25.565138, rho_s: 25.565138, alpha: 8.775431, beta: 4.680230, a: 0.373601, b: 0.570968, kappa: 0.5, lambda: 1.0, fn_: [-3.203773, -0.198262, 0.683779, -2.321732], f: [-3.22, 0.00, 0.608587, -0.750710], f3_above: -0.750710, eta: 0.558572, f_e: -3.219176, beta1: 4.680230, lambda1: 1.0, rho_n: 0.85, rho_o: 1.15 },
    ZhouElement { name: "Zr", z: 40, mass: 91.224, re: 3.199978, fe: 2.230909, rho_e: 30.879991, rho_s: 30.879991, alpha: 8.559190, beta: 4.564902, a: 0.424667, b: 0.640054, kappa: 0.5, lambda: 1.0, fn_: [-4.485793, -0.293129, 0.990148, -3.202516], f: [-4.51, 0.00, 0.928602, -0.981870], f3_above: -0.981870, eta: 0.597133, f_e: -4.509025, beta1: 4.564902, lambda1: 1.0, rho_n: 0.85, rho_o: 1.15 },
];

/// The 2004 parameters of an element by symbol.
pub fn element(name: &str) -> Option<&'static ZhouElement> {
    ZHOU2004.iter().find(|e| e.name == name)
}

/// The symbols [`ZHOU2004`] covers, for messages.
pub fn known() -> String {
    ZHOU2004.iter().map(|e| e.name).collect::<Vec<_>>().join(" ")
}

impl ZhouElement {
    /// Electron density f(r) this atom gives at distance r.
    pub fn density(&self, r: f64) -> f64 {
        let x = r / self.re;
        self.fe * (-self.beta1 * (x - 1.0)).exp() / (1.0 + (x - self.lambda1).powi(20))
    }
    /// Pair energy φ(r) between two atoms of this element.
    pub fn pair(&self, r: f64) -> f64 {
        let x = r / self.re;
        let rep = self.a * (-self.alpha * (x - 1.0)).exp() / (1.0 + (x - self.kappa).powi(20));
        let att = self.b * (-self.beta * (x - 1.0)).exp() / (1.0 + (x - self.lambda).powi(20));
        rep - att
    }
    /// Embedding energy F(ρ) in its three branches.
    pub fn embed(&self, rho: f64) -> f64 {
        let (rn, ro) = (self.rho_n * self.rho_e, self.rho_o * self.rho_e);
        if rho < rn {
            let t = rho / rn - 1.0;
            self.fn_[0] + self.fn_[1] * t + self.fn_[2] * t * t + self.fn_[3] * t * t * t
        } else if rho < ro {
            let t = rho / self.rho_e - 1.0;
            let f3 = if rho < self.rho_e { self.f[3] } else { self.f3_above };
            self.f[0] + self.f[1] * t + self.f[2] * t * t + f3 * t * t * t
        } else {
            let x = rho / self.rho_s;
            self.f_e * (1.0 - self.eta * x.ln()) * x.powf(self.eta)
        }
    }
    /// The fcc lattice constant √2 r_e that the setfl element line gives.
    pub fn lattice(&self) -> f64 {
        std::f64::consts::SQRT_2 * self.re
    }
}

/// Alloy pair φ_ab(r) by Johnson's rule; φ_aa(r) when a = b.
pub fn cross_pair(a: &ZhouElement, b: &ZhouElement, r: f64) -> f64 {
    if a == b {
        return a.pair(r);
    }
    let (fa, fb) = (a.density(r), b.density(r));
    0.5 * (fb / fa * a.pair(r) + fa / fb * b.pair(r))
}

/// The tabulation grid of a setfl file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cut: f64,
    /// Distances below this are evaluated at it (0.5 Å in LAMMPS's tool:
    /// the functions blow up at r → 0 and no atoms come that close).
    pub r_min: f64,
}

impl Grid {
    /// LAMMPS `tools/eam_database` defaults for these elements: 2000
    /// points each, rc = √10/2 · the largest √2 r_e (between the 3rd and
    /// 4th fcc neighbor shells), ρ up to max(ρ(r) on the grid, 2 ρ_e, 100).
    pub fn lammps(elements: &[&ZhouElement]) -> Grid {
        let (nr, nrho) = (2000, 2000);
        let alat = elements.iter().map(|e| e.lattice()).fold(0.0, f64::max);
        let rho_e = elements.iter().map(|e| e.rho_e).fold(0.0, f64::max);
        let cut = 10f64.sqrt() / 2.0 * alat;
        let dr = cut / (nr - 1) as f64;
        let r_min = 0.5;
        let fmax = elements.iter().flat_map(|e| (0..nr).map(move |i| e.density((i as f64 * dr).max(r_min)))).fold(f64::NEG_INFINITY, f64::max);
        let rhomax = fmax.max(2.0 * rho_e).max(100.0);
        Grid { nrho, drho: rhomax / (nrho - 1) as f64, nr, dr, cut, r_min }
    }
}

/// The setfl tables of `elements` (in this order) on `grid`.
pub fn setfl(elements: &[&ZhouElement], grid: &Grid) -> Setfl {
    let r = |i: usize| (i as f64 * grid.dr).max(grid.r_min);
    let frho = elements.iter().map(|e| (0..grid.nrho).map(|i| e.embed(i as f64 * grid.drho)).collect()).collect();
    let rhor = elements.iter().map(|e| vec![(0..grid.nr).map(|i| e.density(r(i))).collect()]).collect();
    let z2r = (0..elements.len())
        .map(|i| (0..=i).map(|j| (0..grid.nr).map(|k| r(k) * cross_pair(elements[i], elements[j], r(k))).collect()).collect())
        .collect();
    Setfl {
        elements: elements.iter().map(|e| e.name.to_string()).collect(),
        masses: elements.iter().map(|e| e.mass).collect(),
        nrho: grid.nrho,
        drho: grid.drho,
        nr: grid.nr,
        dr: grid.dr,
        cut: grid.cut,
        frho,
        rhor,
        z2r,
        fs: false,
    }
}

/// The 2004 potential for these element symbols on LAMMPS's default grid,
/// as a file `EamTables` reads; an unknown or repeated symbol is an error
/// message.
pub fn generate(names: &[String]) -> std::result::Result<EamFile, String> {
    let els = resolve(names)?;
    Ok(EamFile::Setfl(setfl(&els, &Grid::lammps(&els))))
}

/// The distinct elements of a per-type list, in first-use order (the
/// elements a generated file holds).
pub fn distinct(types: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in types {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    out
}

/// Elements of [`ZHOU2004`] by symbol, each once.
pub fn resolve(names: &[String]) -> std::result::Result<Vec<&'static ZhouElement>, String> {
    if names.is_empty() {
        return Err(format!("zhou2004 needs at least one element (one of {})", known()));
    }
    let mut out: Vec<&'static ZhouElement> = Vec::new();
    for n in names {
        let e = element(n).ok_or_else(|| format!("'{}' is not an element of Zhou et al. 2004 (they are {})", n, known()))?;
        if out.contains(&e) {
            return Err(format!("element '{}' is given twice", n));
        }
        out.push(e);
    }
    Ok(out)
}

/// Write a setfl file atomically (LAMMPS `pair_style eam/alloy`): three
/// comment lines, then the tables, five numbers a line, each the shortest
/// decimal that reads back as the same double.
pub fn write_setfl(path: &Path, s: &Setfl, elements: &[&ZhouElement], comments: [&str; 3]) -> Result<()> {
    let mut f = crate::io::AtomicFile::create(path)?;
    let io = |e| Error::io(path, e);
    for c in comments {
        writeln!(f.w, "{}", c.replace('\n', " ")).map_err(io)?;
    }
    writeln!(f.w, "{} {}", s.elements.len(), s.elements.join(" ")).map_err(io)?;
    writeln!(f.w, "{} {:e} {} {:e} {:e}", s.nrho, s.drho, s.nr, s.dr, s.cut).map_err(io)?;
    let rows = |f: &mut crate::io::AtomicFile, v: &[f64]| -> Result<()> {
        for c in v.chunks(5) {
            let line: Vec<String> = c.iter().map(|x| format!("{:e}", x)).collect();
            writeln!(f.w, "{}", line.join(" ")).map_err(io)?;
        }
        Ok(())
    };
    for (k, e) in elements.iter().enumerate() {
        writeln!(f.w, "{} {:e} {:e} fcc", e.z, s.masses[k], e.lattice()).map_err(io)?;
        rows(&mut f, &s.frho[k])?;
        rows(&mut f, &s.rhor[k][0])?;
    }
    for i in 0..s.elements.len() {
        for j in 0..=i {
            rows(&mut f, &s.z2r[i][j])?;
        }
    }
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each element's functions are continuous where the embedding
    /// function changes branch (the paper fits F_n and F to join), and the
    /// mixing rule is symmetric and reduces to φ_aa for a = b.
    #[test]
    fn embedding_joins_and_mixing_is_symmetric() {
        for e in &ZHOU2004 {
            let rn = e.rho_n * e.rho_e;
            let (lo, hi) = (e.embed(rn * (1.0 - 1e-12)), e.embed(rn));
            assert!((lo - hi).abs() < 2e-6, "{} F jumps by {} at rho_n", e.name, lo - hi);
        }
        let (cu, zr) = (element("Cu").unwrap(), element("Zr").unwrap());
        for r in [2.0, 2.7, 3.3, 5.0] {
            assert_eq!(cross_pair(cu, zr, r), cross_pair(zr, cu, r));
            assert_eq!(cross_pair(cu, cu, r), cu.pair(r));
        }
    }

    #[test]
    fn unknown_and_repeated_elements_are_refused() {
        assert!(resolve(&["Zr".into(), "Cu".into(), "Al".into()]).is_ok());
        assert!(resolve(&["Xx".into()]).unwrap_err().contains("not an element"));
        assert!(resolve(&["Cu".into(), "Cu".into()]).unwrap_err().contains("twice"));
        assert!(resolve(&[]).is_err());
    }
}
