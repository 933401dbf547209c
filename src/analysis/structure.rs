//! Per-atom structure analyses on a [`Neighborhood`] (owned atoms, ghosts
//! to the analysis's cutoff, a full list): Voronoi cells, coordination
//! numbers, bond-orientational order, pair-distance histograms for g(r),
//! and local strain against a reference. Each works on owned atom i from
//! the positions of its neighbors alone, so the results do not depend on
//! how atoms are spread over ranks; threads split the owned atoms.
//!
//! The driver (`run::analyze`, and the in-situ computes) builds the
//! neighborhood, calls these, and reduces or writes the results. To add an
//! analysis: a function here taking the neighborhood and returning one
//! value (or row) per owned atom.

use super::steinhardt::Steinhardt;
use super::voronoi::{self, dot, sub, Bond, Cell, Thresholds};
use crate::compute::Neighborhood;
use crate::system::SimBox;
use rayon::prelude::*;

/// Faces counted by edge number: n3 ..= n(3 + INDEX_WIDTH − 1).
pub const INDEX_WIDTH: usize = 10;

/// One atom's Voronoi cell after thresholds.
#[derive(Clone, Debug, Default)]
pub struct VoroAtom {
    pub volume: f64,
    /// Faces kept by the thresholds (walls of a non-periodic box included).
    pub nfaces: u32,
    /// n3, n4, … (faces with 3, 4, … edges).
    pub index: [u32; INDEX_WIDTH],
    /// Kept faces shared with atoms: the neighbor's id, the face's area
    /// and the bond vector to that neighbor (Å). Ids and bonds, not
    /// neighborhood indices, so cells from neighborhoods of different
    /// reach can be used together. Filled for every cell when asked
    /// ([`voronoi_cells`]' `all_neighbors`), else only for full icosahedra
    /// (the centres that medium-range order links): at ~15 faces of 40
    /// bytes, lists for every atom are most of the tessellation's memory
    /// and a tenth of its time.
    pub neighbors: Vec<(u64, f64, [f64; 3])>,
    /// Whether the cell was closed by the neighbors within the cutoff.
    pub complete: bool,
}

/// Bond vectors of owned atom i, in the neighbor list's order.
fn bonds(nb: &Neighborhood, i: usize, out: &mut Vec<Bond>) {
    out.clear();
    let xi = nb.x[i];
    for &j in nb.of(i) {
        let d = sub(nb.x[j as usize], xi);
        out.push((d, dot(d, d), j as i64));
    }
}

/// Bonds by length and then by the partner's id: a complete order, the
/// same whichever rank owns the atoms and however ghosts were numbered, so
/// every sum over bonds is too.
fn nearest_first(nb: &Neighborhood) -> impl Fn(&Bond, &Bond) -> std::cmp::Ordering + '_ {
    |a, b| a.1.total_cmp(&b.1).then_with(|| nb.id[a.2 as usize].cmp(&nb.id[b.2 as usize]))
}

/// Bond vectors of owned atom i, sorted by [`nearest_first`]. (The order
/// is complete, so the faster unstable sort gives the same order.)
fn rel(nb: &Neighborhood, i: usize, out: &mut Vec<Bond>) {
    bonds(nb, i, out);
    out.sort_unstable_by(nearest_first(nb));
}

/// The neighbors of owned atom i in [`rel`]'s order.
fn sorted_neighbors(nb: &Neighborhood, i: usize) -> Vec<u32> {
    let mut r = Vec::new();
    rel(nb, i, &mut r);
    r.into_iter().map(|b| b.2 as u32).collect()
}

/// A full icosahedron: Voronoi index ⟨0,0,12,0⟩ and no other face.
pub fn is_icosahedral(c: &VoroAtom) -> bool {
    c.nfaces == 12 && c.index[2] == 12
}

/// Voronoi cells of the owned atoms `which` (all when None), with their
/// face neighbors for every cell when `all_neighbors`, else for full
/// icosahedra only.
pub fn voronoi_cells(nb: &Neighborhood, bx: &SimBox, th: &Thresholds, which: Option<&[usize]>, all_neighbors: bool) -> Vec<(usize, VoroAtom)> {
    let all: Vec<usize>;
    let list = match which {
        Some(w) => w,
        None => {
            all = (0..nb.nlocal).collect();
            &all
        }
    };
    list.par_iter()
        .map_init(
            || (Cell::default(), Vec::new(), Vec::new(), voronoi::CellSummary::default()),
            |(cell, r, areas, s), &i| {
                bonds(nb, i, r);
                let walls = voronoi::walls(bx, nb.x[i]);
                let complete = voronoi::build(cell, r, nearest_first(nb), &walls, nb.cutoff);
                voronoi::summarize_into(cell, th, areas, s);
                let mut a = VoroAtom { volume: s.volume, nfaces: s.faces.len() as u32, complete, ..VoroAtom::default() };
                for &(_, _, n) in &s.faces {
                    if n >= 3 && ((n - 3) as usize) < INDEX_WIDTH {
                        a.index[(n - 3) as usize] += 1;
                    }
                }
                if all_neighbors || is_icosahedral(&a) {
                    // One allocation of the final size.
                    a.neighbors = Vec::with_capacity(s.faces.len());
                    a.neighbors.extend(s.faces.iter().filter(|f| f.0 >= 0).map(|&(tag, area, _)| (nb.id[tag as usize], area, sub(nb.x[tag as usize], nb.x[i]))));
                }
                (i, a)
            },
        )
        .collect()
}

/// Coordination of each owned atom: the number of neighbors of each type
/// within the pair's cutoff `cut[ti][tj]` (Å).
pub fn coordination(nb: &Neighborhood, ntypes: usize, cut: &[Vec<f64>]) -> Vec<Vec<u32>> {
    (0..nb.nlocal)
        .into_par_iter()
        .map(|i| {
            let mut c = vec![0u32; ntypes];
            let ti = nb.typ[i] as usize;
            for &j in nb.of(i) {
                let tj = nb.typ[j as usize] as usize;
                let d = sub(nb.x[j as usize], nb.x[i]);
                let rc = cut[ti][tj];
                if dot(d, d) < rc * rc {
                    c[tj] += 1;
                }
            }
            c
        })
        .collect()
}

/// Which bonds the order parameters use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bonds {
    /// Every neighbor within the cutoff.
    Cutoff,
    /// The N nearest (fewer if the cutoff holds fewer).
    Nearest(usize),
    /// Voronoi face neighbors; weighted by face area when true.
    Voronoi(bool),
}

impl Bonds {
    /// `cutoff`, `nearest:N` (N ≥ 1), `voronoi` or `voronoi-weighted`.
    pub fn parse(s: &str) -> Option<Bonds> {
        match s {
            "cutoff" => Some(Bonds::Cutoff),
            "voronoi" => Some(Bonds::Voronoi(false)),
            "voronoi-weighted" => Some(Bonds::Voronoi(true)),
            _ => s.strip_prefix("nearest:").and_then(|k| k.parse().ok()).filter(|&k| k > 0).map(Bonds::Nearest),
        }
    }
    /// Whether the bonds need a cutoff (cutoff, nearest:N).
    pub fn need_cutoff(self) -> bool {
        matches!(self, Bonds::Cutoff | Bonds::Nearest(_))
    }
}

/// Q_l and Ŵ_l of each owned atom.
pub fn bond_order(nb: &Neighborhood, l: usize, bonds: Bonds, cells: Option<&[VoroAtom]>) -> Vec<(f64, f64)> {
    let st = Steinhardt::new(l);
    (0..nb.nlocal)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(r, v, w): &mut (Vec<([f64; 3], f64, i64)>, Vec<[f64; 3]>, Vec<f64>), i| {
                v.clear();
                w.clear();
                match bonds {
                    Bonds::Cutoff => {
                        rel(nb, i, r);
                        v.extend(r.iter().map(|b| b.0));
                    }
                    Bonds::Nearest(n) => {
                        rel(nb, i, r);
                        v.extend(r.iter().take(n).map(|b| b.0));
                    }
                    Bonds::Voronoi(weighted) => {
                        let c = &cells.expect("Voronoi cells for Voronoi bonds")[i];
                        for &(_, a, bond) in &c.neighbors {
                            v.push(bond);
                            w.push(a);
                        }
                        if !weighted {
                            w.clear();
                        }
                    }
                }
                st.qw(v, if w.is_empty() { None } else { Some(w) })
            },
        )
        .collect()
}

/// Pair-distance histogram of the owned atoms: `counts[(ti*ntypes+tj)*bins + k]`
/// pairs (i owned of type ti, j any of type tj) with r in bin k of
/// [0, rmax) (LAMMPS `compute rdf`: bin = ⌊r/Δr⌋).
pub fn pair_histogram(nb: &Neighborhood, ntypes: usize, rmax: f64, bins: usize) -> Vec<f64> {
    let inv = bins as f64 / rmax;
    (0..nb.nlocal)
        .into_par_iter()
        .fold(
            || vec![0.0; ntypes * ntypes * bins],
            |mut h, i| {
                let ti = nb.typ[i] as usize;
                for &j in nb.of(i) {
                    let d = sub(nb.x[j as usize], nb.x[i]);
                    let r = dot(d, d).sqrt();
                    let k = (r * inv) as usize;
                    if k < bins {
                        h[(ti * ntypes + nb.typ[j as usize] as usize) * bins + k] += 1.0;
                    }
                }
                h
            },
        )
        .reduce(|| vec![0.0; ntypes * ntypes * bins], |mut a, b| {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
            a
        })
}

/// Local strain of each owned atom: von Mises shear strain of the best
/// affine map J of its reference bonds onto its current bonds (Shimizu,
/// Ogata & Li, Mater. Trans. 48, 2923 (2007), eqs. 1–5), and D²min, the
/// residual Σ_j |d_j − d0_j J|² of that fit (Falk & Langer, PRE 57, 7192
/// (1998), eq. 2.11). `nb` holds reference positions; `cur[k]` is the
/// current position of neighborhood atom k, its ghosts shifted by the
/// current box, so d_j = cur[j] − cur[i] is the same bond now. Bonds are
/// those within the cutoff in the reference. Row vectors: d = d0 J,
/// J = (Σ d0ᵀd0)⁻¹ Σ d0ᵀd, η = ½(J Jᵀ − I) (Lagrangian strain).
/// An atom whose bonds do not span 3D gets NaN.
pub fn local_strain(nb: &Neighborhood, cur: &[[f64; 3]]) -> Vec<(f64, f64)> {
    (0..nb.nlocal)
        .into_par_iter()
        .map(|i| {
            let mut v = [[0.0; 3]; 3];
            let mut w = [[0.0; 3]; 3];
            let nbrs = sorted_neighbors(nb, i);
            for &j in &nbrs {
                let d0 = sub(nb.x[j as usize], nb.x[i]);
                let d = sub(cur[j as usize], cur[i]);
                for a in 0..3 {
                    for b in 0..3 {
                        v[a][b] += d0[a] * d0[b];
                        w[a][b] += d0[a] * d[b];
                    }
                }
            }
            let Some(vi) = inverse(v) else {
                return (f64::NAN, f64::NAN);
            };
            let j = matmul(vi, w);
            let mut d2 = 0.0;
            for &jj in &nbrs {
                let d0 = sub(nb.x[jj as usize], nb.x[i]);
                let d = sub(cur[jj as usize], cur[i]);
                for b in 0..3 {
                    let fit = d0[0] * j[0][b] + d0[1] * j[1][b] + d0[2] * j[2][b];
                    d2 += (d[b] - fit) * (d[b] - fit);
                }
            }
            // η = ½ (J Jᵀ − I) with row-vector J: the Green–Lagrange strain
            // of the deformation gradient F = Jᵀ.
            let mut e = [[0.0; 3]; 3];
            for a in 0..3 {
                for b in 0..3 {
                    e[a][b] = 0.5 * ((0..3).map(|k| j[a][k] * j[b][k]).sum::<f64>() - if a == b { 1.0 } else { 0.0 });
                }
            }
            (von_mises(&e), d2)
        })
        .collect()
}

/// von Mises shear strain of a symmetric strain tensor (Shimizu et al.,
/// eq. 5).
pub fn von_mises(e: &[[f64; 3]; 3]) -> f64 {
    let (xx, yy, zz) = (e[0][0], e[1][1], e[2][2]);
    (e[0][1] * e[0][1] + e[0][2] * e[0][2] + e[1][2] * e[1][2] + ((xx - yy).powi(2) + (xx - zz).powi(2) + (yy - zz).powi(2)) / 6.0).sqrt()
}

fn inverse(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let scale = (0..3).map(|k| m[k][k].abs()).fold(0.0, f64::max);
    if det.abs() <= 1e-12 * scale.powi(3) || !det.is_finite() {
        return None;
    }
    let c = |a: usize, b: usize, p: usize, q: usize| m[a][b] * m[p][q] - m[a][q] * m[p][b];
    Some([
        [c(1, 1, 2, 2) / det, -c(0, 1, 2, 2) / det, c(0, 1, 1, 2) / det],
        [-c(1, 0, 2, 2) / det, c(0, 0, 2, 2) / det, -c(0, 0, 1, 2) / det],
        [c(1, 0, 2, 1) / det, -c(0, 0, 2, 1) / det, c(0, 0, 1, 1) / det],
    ])
}

fn matmul(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    std::array::from_fn(|r| std::array::from_fn(|c| (0..3).map(|k| a[r][k] * b[k][c]).sum()))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_and_von_mises() {
        let m = [[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 4.0]];
        let i = inverse(m).unwrap();
        let p = matmul(m, i);
        for a in 0..3 {
            for b in 0..3 {
                assert!((p[a][b] - if a == b { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        // Simple shear γ: η_xy = γ/2 (+ γ²/2 in yy); small γ → η_vM ≈ γ/2.
        let e = [[0.0, 0.005, 0.0], [0.005, 0.0, 0.0], [0.0, 0.0, 0.0]];
        assert!((von_mises(&e) - 0.005).abs() < 1e-15);
    }
}
