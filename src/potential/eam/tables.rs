//! Tabulation and cubic splines, reproducing LAMMPS `PairEAM::file2array`,
//! `array2spline` and `interpolate` operation for operation, so that every
//! interpolated value is bit-for-bit what LAMMPS computes.
//!
//! Each tabulated function f on a uniform grid of spacing δ is turned into a
//! piecewise cubic with 7 coefficients per knot (LAMMPS layout):
//! `[3a/δ, 2b/δ, c/δ, a, b, c, f_m]` with value `((a p + b) p + c) p + f_m`
//! and derivative `((3a/δ) p + 2b/δ) p + c/δ` for `p ∈ [0, 1]` within the
//! interval. The knot slopes c come from the 5-point central difference
//! `(f_{m-2} − f_{m+2} + 8 (f_{m+1} − f_{m-1})) / 12` (one-sided at the ends).
//!
//! funcfl files are first re-interpolated onto a common grid with 4-point
//! Lagrange interpolation, exactly as LAMMPS does (note that this yields
//! `N − 1` knots for a single file), and φ·r = 27.2·0.529·Zi·Zj.
//!
//! The kernel wants, per ordered type pair, the coefficients it reads for one
//! pair distance packed together (`dens` 8 doubles, `force` 16 doubles), so one
//! pair touches one or two cache lines; values are copied, not recomputed.

use super::file::{EamFile, Funcfl, Setfl};

pub type Spline = Vec<[f64; 7]>;

/// Density coefficients of one knot, on one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub struct DensKnot(pub [f64; 8]);

/// Force coefficients of one knot, on exactly two cache lines.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub struct ForceKnot(pub [f64; 16]);

/// LAMMPS `PairEAM::interpolate`, 0-indexed.
pub fn spline(f: &[f64], delta: f64) -> Spline {
    let n = f.len();
    assert!(n >= 5, "spline needs at least 5 knots");
    let mut s = vec![[0.0f64; 7]; n];
    for m in 0..n {
        s[m][6] = f[m];
    }
    s[0][5] = s[1][6] - s[0][6];
    s[1][5] = 0.5 * (s[2][6] - s[0][6]);
    s[n - 2][5] = 0.5 * (s[n - 1][6] - s[n - 3][6]);
    s[n - 1][5] = s[n - 1][6] - s[n - 2][6];
    for m in 2..=n - 3 {
        s[m][5] = ((s[m - 2][6] - s[m + 2][6]) + 8.0 * (s[m + 1][6] - s[m - 1][6])) / 12.0;
    }
    for m in 0..n - 1 {
        s[m][4] = 3.0 * (s[m + 1][6] - s[m][6]) - 2.0 * s[m][5] - s[m + 1][5];
        s[m][3] = s[m][5] + s[m + 1][5] - 2.0 * (s[m + 1][6] - s[m][6]);
    }
    s[n - 1][4] = 0.0;
    s[n - 1][3] = 0.0;
    for m in 0..n {
        s[m][2] = s[m][5] / delta;
        s[m][1] = 2.0 * s[m][4] / delta;
        s[m][0] = 3.0 * s[m][3] / delta;
    }
    s
}

/// LAMMPS's 4-point Lagrange re-gridding of a funcfl table `f` (spacing
/// `fd`) at abscissa `r`.
fn regrid(f: &[f64], fd: f64, r: f64) -> f64 {
    const SIXTH: f64 = 1.0 / 6.0;
    let nf = f.len() as i64;
    let mut p = r / fd + 1.0;
    let mut k = p as i64;
    k = k.min(nf - 2);
    k = k.max(2);
    p -= k as f64;
    p = p.min(2.0);
    let cof1 = -SIXTH * p * (p - 1.0) * (p - 2.0);
    let cof2 = 0.5 * (p * p - 1.0) * (p - 2.0);
    let cof3 = -0.5 * p * (p + 1.0) * (p - 2.0);
    let cof4 = SIXTH * p * (p * p - 1.0);
    let k = k as usize; // 1-based k ↔ 0-based k-1
    cof1 * f[k - 2] + cof2 * f[k - 1] + cof3 * f[k] + cof4 * f[k + 1]
}

/// Spline tables for one set of atom types.
#[derive(Clone, Debug)]
pub struct EamTables {
    pub ntypes: usize,
    pub nrho: usize,
    pub nr: usize,
    pub drho: f64,
    pub dr: f64,
    pub rdr: f64,
    pub rdrho: f64,
    pub rhomax: f64,
    pub cutmax: f64,
    pub cutforcesq: f64,
    /// Mass of each type from the potential file (LAMMPS `pair_coeff` sets it).
    pub masses: Vec<f64>,
    /// F(ρ) spline of each type.
    pub frho: Vec<Spline>,
    /// Per ordered type pair `ti*ntypes+tj`, per r knot: value coefficients
    /// `[a,b,c,f]` of the density at i due to j, then of the density at j due to i.
    pub dens: Vec<Vec<DensKnot>>,
    /// Per ordered type pair, per r knot: derivative coefficients of
    /// ρ′ at j due to i (LAMMPS `rhoip`), of ρ′ at i due to j (`rhojp`), then the
    /// 7 coefficients of r·φ; padded to 16.
    pub force: Vec<Vec<ForceKnot>>,
    /// Whether the kernels take four neighbors at a time with AVX2 (the
    /// CPU has it, and `GLASSMD_SIMD=0` is not set). Both paths give the
    /// same bits; the switch exists to compare them.
    pub simd: bool,
}

/// AVX2 where the CPU has it, unless `GLASSMD_SIMD=0`.
pub fn simd_default() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::env::var("GLASSMD_SIMD").map_or(true, |v| v != "0") && std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Raw tables on the common grid, before splining (LAMMPS `file2array`).
struct Arrays {
    nrho: usize,
    nr: usize,
    drho: f64,
    dr: f64,
    rhomax: f64,
    cut: f64,
    masses: Vec<f64>,
    /// F per type.
    frho: Vec<Vec<f64>>,
    /// `rhor[a][b]` = LAMMPS `rhor[type2rhor[a][b]]`, per type pair.
    rhor: Vec<Vec<Vec<f64>>>,
    /// r·φ per type pair (symmetric).
    z2r: Vec<Vec<Vec<f64>>>,
}

fn funcfl_arrays(files: &[Funcfl], type_file: &[usize]) -> Arrays {
    let ntypes = type_file.len();
    let (mut dr, mut drho, mut rmax, mut rhomax, mut cut) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut active: Vec<usize> = type_file.to_vec();
    active.sort_unstable();
    active.dedup();
    for &k in &active {
        let f = &files[k];
        dr = dr.max(f.dr);
        drho = drho.max(f.drho);
        rmax = rmax.max((f.nr - 1) as f64 * f.dr);
        rhomax = rhomax.max((f.nrho - 1) as f64 * f.drho);
        cut = cut.max(f.cut);
    }
    // LAMMPS: "0.5 is for round-off in divide".
    let nr = (rmax / dr + 0.5) as usize;
    let nrho = (rhomax / drho + 0.5) as usize;
    let regrid_all = |vals: &[f64], fd: f64, n: usize, d: f64| -> Vec<f64> {
        (0..n).map(|m| regrid(vals, fd, m as f64 * d)).collect()
    };
    let frho_file: Vec<Vec<f64>> = files.iter().map(|f| regrid_all(&f.frho, f.drho, nrho, drho)).collect();
    let rhor_file: Vec<Vec<f64>> = files.iter().map(|f| regrid_all(&f.rhor, f.dr, nr, dr)).collect();
    let zr_file: Vec<Vec<f64>> = files.iter().map(|f| regrid_all(&f.zr, f.dr, nr, dr)).collect();
    let frho = type_file.iter().map(|&k| frho_file[k].clone()).collect();
    let rhor = (0..ntypes)
        .map(|a| (0..ntypes).map(|_| rhor_file[type_file[a]].clone()).collect())
        .collect();
    let z2r = (0..ntypes)
        .map(|a| {
            (0..ntypes)
                .map(|b| {
                    // LAMMPS fills the lower triangle i ≥ j with zri from i, zrj from j.
                    let (i, j) = if a >= b { (a, b) } else { (b, a) };
                    let (zi, zj) = (&zr_file[type_file[i]], &zr_file[type_file[j]]);
                    (0..nr).map(|m| 27.2 * 0.529 * zi[m] * zj[m]).collect()
                })
                .collect()
        })
        .collect();
    let masses = type_file.iter().map(|&k| files[k].mass).collect();
    Arrays { nrho, nr, drho, dr, rhomax, cut, masses, frho, rhor, z2r }
}

fn setfl_arrays(s: &Setfl, type_elem: &[usize]) -> Arrays {
    let ntypes = type_elem.len();
    let frho = type_elem.iter().map(|&e| s.frho[e].clone()).collect();
    let rhor = (0..ntypes)
        .map(|a| {
            (0..ntypes)
                .map(|b| {
                    if s.fs {
                        s.rhor[type_elem[a]][type_elem[b]].clone()
                    } else {
                        s.rhor[type_elem[a]][0].clone()
                    }
                })
                .collect()
        })
        .collect();
    let z2r = (0..ntypes)
        .map(|a| {
            (0..ntypes)
                .map(|b| {
                    let (i, j) = (type_elem[a].max(type_elem[b]), type_elem[a].min(type_elem[b]));
                    s.z2r[i][j].clone()
                })
                .collect()
        })
        .collect();
    Arrays {
        nrho: s.nrho,
        nr: s.nr,
        drho: s.drho,
        dr: s.dr,
        rhomax: (s.nrho - 1) as f64 * s.drho,
        cut: s.cut,
        masses: type_elem.iter().map(|&e| s.masses[e]).collect(),
        frho,
        rhor,
        z2r,
    }
}

impl EamTables {
    /// Build tables. `type_map[t]` is the element index (setfl/fs) or file
    /// index (funcfl) of type `t`.
    pub fn new(file: &EamFile, type_map: &[usize]) -> EamTables {
        let a = match file {
            EamFile::Funcfl(f) => funcfl_arrays(std::slice::from_ref(f), type_map),
            EamFile::Setfl(s) => setfl_arrays(s, type_map),
        };
        let nt = type_map.len();
        let frho = a.frho.iter().map(|f| spline(f, a.drho)).collect();
        let rhor: Vec<Vec<Spline>> =
            a.rhor.iter().map(|row| row.iter().map(|f| spline(f, a.dr)).collect()).collect();
        let z2r: Vec<Vec<Spline>> =
            a.z2r.iter().map(|row| row.iter().map(|f| spline(f, a.dr)).collect()).collect();
        let mut dens = Vec::with_capacity(nt * nt);
        let mut force = Vec::with_capacity(nt * nt);
        for ti in 0..nt {
            for tj in 0..nt {
                // Density at i due to j is LAMMPS rhor[type2rhor[jtype][itype]].
                let (into_i, into_j) = (&rhor[tj][ti], &rhor[ti][tj]);
                let z = &z2r[ti][tj];
                dens.push(
                    (0..a.nr)
                        .map(|m| {
                            let (u, v) = (into_i[m], into_j[m]);
                            DensKnot([u[3], u[4], u[5], u[6], v[3], v[4], v[5], v[6]])
                        })
                        .collect(),
                );
                force.push(
                    (0..a.nr)
                        .map(|m| {
                            let (ip, jp, z) = (into_j[m], into_i[m], z[m]);
                            ForceKnot([
                                ip[0], ip[1], ip[2], jp[0], jp[1], jp[2], z[0], z[1], z[2], z[3], z[4], z[5], z[6], 0.0,
                                0.0, 0.0,
                            ])
                        })
                        .collect(),
                );
            }
        }
        EamTables {
            ntypes: nt,
            nrho: a.nrho,
            nr: a.nr,
            drho: a.drho,
            dr: a.dr,
            rdr: 1.0 / a.dr,
            rdrho: 1.0 / a.drho,
            rhomax: a.rhomax,
            cutmax: a.cut,
            cutforcesq: a.cut * a.cut,
            masses: a.masses,
            frho,
            dens,
            force,
            simd: simd_default(),
        }
    }

    /// Knot index and fraction for a distance, as LAMMPS computes them.
    /// `r` must be finite and non-negative (callers test it against the
    /// cutoff first).
    #[inline(always)]
    pub fn r_knot(&self, r: f64) -> (usize, f64) {
        debug_assert!(r.is_finite() && r >= 0.0);
        let mut p = r * self.rdr + 1.0;
        // Truncation like C's static_cast<int>; p is finite and in [1, 2^31)
        // because r passed the cutoff test, so the unchecked conversion is
        // defined (and avoids the saturation checks of `as`).
        let m = (unsafe { p.min(2.0e9).to_int_unchecked::<u32>() } as usize).min(self.nr - 1);
        p -= m as f64;
        p = p.min(1.0);
        (m - 1, p)
    }

    /// Embedding energy F(ρ) and F′(ρ) of a type, with LAMMPS's linear
    /// extrapolation above ρmax (energy-conserving continuation of F).
    #[inline(always)]
    pub fn embed(&self, t: usize, rho: f64) -> (f64, f64) {
        let mut p = rho * self.rdrho + 1.0;
        let m = (p as usize).min(self.nrho - 1).max(1);
        p -= m as f64;
        p = p.min(1.0);
        let c = &self.frho[t][m - 1];
        let fp = (c[0] * p + c[1]) * p + c[2];
        let mut phi = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
        if rho > self.rhomax {
            phi += fp * (rho - self.rhomax);
        }
        (phi, fp)
    }
}
