//! Bond-orientational order (Steinhardt, Nelson & Ronchetti, PRB 28, 784
//! (1983)): for an atom with bonds r̂_j to its neighbors (weights w_j,
//! Σ w_j = 1),
//!
//! - q_lm = Σ_j w_j Y_lm(r̂_j), with orthonormal spherical harmonics;
//! - Q_l = √(4π/(2l+1) Σ_m |q_lm|²)  (eq. 1.5 of the paper);
//! - W_l = Σ_{m1+m2+m3=0} (l l l; m1 m2 m3) q_lm1 q_lm2 q_lm3, the Wigner
//!   3j symbols coupling three bonds (eq. 1.6), and the normalised
//!   Ŵ_l = W_l / (Σ_m |q_lm|²)^{3/2}, independent of the harmonics'
//!   normalisation: −0.16975 for the icosahedron, −0.01316 for fcc,
//!   −0.01244 for hcp at l = 6 (Table I of the paper).
//!
//! LAMMPS `compute orientorder/atom ... wl/hat yes` gives the same numbers
//! (its `nnn NULL` uses every neighbor within the cutoff, equal weights).
//! Neighbors may also be Voronoi faces, weighted by face area (Mickel et
//! al., J. Chem. Phys. 138, 044501 (2013)).
//!
//! To extend to another l: nothing to add; [`Steinhardt::new`] builds the
//! coupling table for any l ≤ 20.

use std::f64::consts::PI;

/// Precomputed couplings for one l.
pub struct Steinhardt {
    pub l: usize,
    /// Normalisation of P_l^m into Y_lm, m = 0..=l.
    norm: Vec<f64>,
    /// (m1, m2, 3j symbol) with m3 = −m1 − m2 in range.
    w3j: Vec<(i32, i32, f64)>,
}

fn factorial(n: i64) -> f64 {
    (1..=n).fold(1.0, |a, k| a * k as f64)
}

/// The Wigner 3j symbol (j1 j2 j3; m1 m2 m3) by Racah's formula.
pub fn wigner3j(j1: i64, j2: i64, j3: i64, m1: i64, m2: i64, m3: i64) -> f64 {
    if m1 + m2 + m3 != 0 || m1.abs() > j1 || m2.abs() > j2 || m3.abs() > j3 || j3 < (j1 - j2).abs() || j3 > j1 + j2 {
        return 0.0;
    }
    let f = factorial;
    let tri = f(j1 + j2 - j3) * f(j1 - j2 + j3) * f(-j1 + j2 + j3) / f(j1 + j2 + j3 + 1);
    let pre = (tri * f(j1 + m1) * f(j1 - m1) * f(j2 + m2) * f(j2 - m2) * f(j3 + m3) * f(j3 - m3)).sqrt();
    let kmin = 0.max(j2 - j3 - m1).max(j1 - j3 + m2);
    let kmax = (j1 + j2 - j3).min(j1 - m1).min(j2 + m2);
    let mut sum = 0.0;
    for k in kmin..=kmax {
        let d = f(k) * f(j3 - j2 + k + m1) * f(j3 - j1 + k - m2) * f(j1 + j2 - j3 - k) * f(j1 - k - m1) * f(j2 - k + m2);
        sum += if k % 2 == 0 { 1.0 } else { -1.0 } / d;
    }
    let sign = if (j1 - j2 - m3).rem_euclid(2) == 0 { 1.0 } else { -1.0 };
    sign * pre * sum
}

impl Steinhardt {
    pub fn new(l: usize) -> Steinhardt {
        let li = l as i64;
        let norm = (0..=li).map(|m| ((2 * li + 1) as f64 / (4.0 * PI) * factorial(li - m) / factorial(li + m)).sqrt()).collect();
        let mut w3j = Vec::new();
        for m1 in -li..=li {
            for m2 in -li..=li {
                let m3 = -m1 - m2;
                if m3.abs() <= li {
                    w3j.push((m1 as i32, m2 as i32, wigner3j(li, li, li, m1, m2, m3)));
                }
            }
        }
        Steinhardt { l, norm, w3j }
    }

    /// Accumulate w·Y_lm(r̂) for m = 0..=l into `q` (re, im); Y_l,−m =
    /// (−1)^m conj(Y_lm) gives the rest.
    fn add(&self, r: [f64; 3], w: f64, q: &mut [[f64; 2]], p: &mut [f64]) {
        let l = self.l;
        let rr = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
        let ct = r[2] / rr;
        let st = (1.0 - ct * ct).max(0.0).sqrt();
        let phi = r[1].atan2(r[0]);
        // Associated Legendre P_l^m(cos θ) for m = 0..=l (Condon–Shortley
        // phase), by the standard recurrences in l at fixed m.
        for m in 0..=l {
            // P_m^m = (−1)^m (2m−1)!! sin^m θ
            let mut pmm = 1.0;
            for k in 0..m {
                pmm *= -((2 * k + 1) as f64) * st;
            }
            if m == l {
                p[m] = pmm;
                continue;
            }
            let mut pm1 = ct * (2 * m + 1) as f64 * pmm;
            let mut pm0 = pmm;
            for ll in (m + 2)..=l {
                let next = (ct * (2 * ll - 1) as f64 * pm1 - (ll + m - 1) as f64 * pm0) / (ll - m) as f64;
                pm0 = pm1;
                pm1 = next;
            }
            p[m] = pm1;
        }
        for m in 0..=l {
            let a = w * self.norm[m] * p[m];
            let (s, c) = (m as f64 * phi).sin_cos();
            q[m][0] += a * c;
            q[m][1] += a * s;
        }
    }

    /// Q_l and Ŵ_l of one atom from its bond vectors and weights (equal
    /// weights when `weights` is None). No bonds: (0, NaN).
    pub fn qw(&self, bonds: &[[f64; 3]], weights: Option<&[f64]>) -> (f64, f64) {
        let l = self.l;
        if bonds.is_empty() {
            return (0.0, f64::NAN);
        }
        let mut q = vec![[0.0; 2]; l + 1];
        let mut p = vec![0.0; l + 1];
        let total: f64 = weights.map_or(bonds.len() as f64, |w| w.iter().sum());
        for (k, &r) in bonds.iter().enumerate() {
            self.add(r, weights.map_or(1.0, |w| w[k]) / total, &mut q, &mut p);
        }
        // Full q_lm for m = −l..=l.
        let full = |m: i32| -> [f64; 2] {
            let a = q[m.unsigned_abs() as usize];
            if m >= 0 {
                a
            } else if m % 2 == 0 {
                [a[0], -a[1]]
            } else {
                [-a[0], a[1]]
            }
        };
        let mut s2 = 0.0;
        for m in -(l as i32)..=(l as i32) {
            let a = full(m);
            s2 += a[0] * a[0] + a[1] * a[1];
        }
        let ql = (4.0 * PI / (2 * l + 1) as f64 * s2).sqrt();
        let mut w = 0.0;
        for &(m1, m2, c) in &self.w3j {
            let (a, b, d) = (full(m1), full(m2), full(-m1 - m2));
            // Real part of a·b·d.
            let ab = [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
            w += c * (ab[0] * d[0] - ab[1] * d[1]);
        }
        (ql, if s2 > 0.0 { w / s2.powf(1.5) } else { f64::NAN })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icosahedron() -> Vec<[f64; 3]> {
        let g = (1.0 + 5f64.sqrt()) / 2.0;
        let mut pts = Vec::new();
        for a in [-1.0, 1.0] {
            for b in [-g, g] {
                pts.extend([[0.0, a, b], [a, b, 0.0], [b, 0.0, a]]);
            }
        }
        pts
    }

    fn fcc12() -> Vec<[f64; 3]> {
        let mut pts = Vec::new();
        for a in [-1.0, 1.0] {
            for b in [-1.0, 1.0] {
                pts.extend([[a, b, 0.0], [a, 0.0, b], [0.0, a, b]]);
            }
        }
        pts
    }

    #[test]
    fn known_structures() {
        let s = Steinhardt::new(6);
        let (q, w) = s.qw(&icosahedron(), None);
        assert!((w + 0.169754).abs() < 1e-5, "{w}");
        assert!((q - 0.663325).abs() < 1e-5, "{q}");
        let (q, w) = s.qw(&fcc12(), None);
        assert!((w + 0.013161).abs() < 1e-5, "{w}");
        assert!((q - 0.574524).abs() < 1e-5, "{q}");
    }

    #[test]
    fn three_j_values() {
        // (1 1 0; 1 −1 0) = 1/√3, (2 2 2; 0 0 0) = −√(2/35).
        assert!((wigner3j(1, 1, 0, 1, -1, 0) - 1.0 / 3f64.sqrt()).abs() < 1e-15);
        assert!((wigner3j(2, 2, 2, 0, 0, 0) + (2.0f64 / 35.0).sqrt()).abs() < 1e-15);
    }
}
