//! System builders: a random alloy at a number density in a box of a given
//! aspect ratio, or a crystal lattice with species assigned at random.
//!
//! Species counts follow the composition exactly (largest-remainder rounding
//! of N·c_k) and are shuffled onto sites with a seeded ChaCha8 stream, so a
//! (seed, deck) pair always gives the same system, whatever the rank count:
//! every rank builds the whole system and keeps its own atoms. Random
//! positions reject trial points closer than `min_distance` to an atom
//! already placed (random sequential addition on a cell grid), so the first
//! force evaluation is finite; the usual next step is a minimisation.
//! A new builder returns a [`DataFile`] like these.

use crate::io::lammps_data::{DataAtom, DataFile};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Atom counts per species for `n` atoms: largest-remainder rounding.
pub fn counts(fractions: &[f64], n: u64) -> Vec<u64> {
    let total: f64 = fractions.iter().sum();
    let exact: Vec<f64> = fractions.iter().map(|f| f / total * n as f64).collect();
    let mut c: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut rest = n - c.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..c.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &k in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        c[k] += 1;
        rest -= 1;
    }
    c
}

/// Shuffled 1-based types for `n` sites.
fn species(fractions: &[f64], n: u64, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut t: Vec<u32> = counts(fractions, n).iter().enumerate().flat_map(|(k, &c)| std::iter::repeat_n(k as u32 + 1, c as usize)).collect();
    t.shuffle(rng);
    t
}

fn data(lengths: [f64; 3], ntypes: usize, pos: Vec<[f64; 3]>, types: Vec<u32>) -> DataFile {
    DataFile {
        ntypes,
        lo: [0.0; 3],
        hi: lengths,
        tilt: None,
        masses: vec![None; ntypes],
        atoms: pos
            .into_iter()
            .zip(types)
            .enumerate()
            .map(|(k, (x, typ))| DataAtom { id: k as u64 + 1, typ, x, image: [0; 3], v: [0.0; 3] })
            .collect(),
        has_velocities: false,
    }
}

/// `n` atoms at random positions at `density` atoms/Å³ in a box with edge
/// ratios `aspect`, no two closer than `min_distance` (periodic images included).
pub fn random_alloy(fractions: &[f64], n: u64, density: f64, aspect: [f64; 3], min_distance: f64, seed: u64) -> Result<DataFile, String> {
    let vol = n as f64 / density;
    let s = (vol / (aspect[0] * aspect[1] * aspect[2])).cbrt();
    let l = [aspect[0] * s, aspect[1] * s, aspect[2] * s];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Cell grid with cells no smaller than min_distance.
    let w = min_distance.max(1e-9);
    let mut nc: Vec<usize> = l.iter().map(|&x| ((x / w).floor() as usize).clamp(1, 1 << 9)).collect();
    // No more cells than about four per atom (a tiny min_distance would
    // otherwise ask for 512^3 of them); larger cells only mean more checks.
    let cap = (4 * n as usize).max(64) as f64;
    let total = (nc[0] * nc[1] * nc[2]) as f64;
    if total > cap {
        let shrink = (total / cap).cbrt();
        for k in nc.iter_mut() {
            *k = ((*k as f64 / shrink).floor() as usize).max(1);
        }
    }
    let mut cells: Vec<Vec<u32>> = vec![Vec::new(); nc[0] * nc[1] * nc[2]];
    let cell_of = |p: &[f64; 3]| -> [usize; 3] {
        let mut c = [0; 3];
        for d in 0..3 {
            c[d] = ((p[d] / l[d] * nc[d] as f64) as usize).min(nc[d] - 1);
        }
        c
    };
    let mut pos: Vec<[f64; 3]> = Vec::with_capacity(n as usize);
    let md2 = min_distance * min_distance;
    for k in 0..n {
        let mut placed = false;
        for _attempt in 0..10_000 {
            let p = [rng.gen::<f64>() * l[0], rng.gen::<f64>() * l[1], rng.gen::<f64>() * l[2]];
            let c = cell_of(&p);
            let mut clash = false;
            'search: for dz in -1i64..=1 {
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let cc = [
                            (c[0] as i64 + dx).rem_euclid(nc[0] as i64) as usize,
                            (c[1] as i64 + dy).rem_euclid(nc[1] as i64) as usize,
                            (c[2] as i64 + dz).rem_euclid(nc[2] as i64) as usize,
                        ];
                        for &j in &cells[(cc[2] * nc[1] + cc[1]) * nc[0] + cc[0]] {
                            let q = pos[j as usize];
                            let mut r2 = 0.0;
                            for d in 0..3 {
                                let mut dd = p[d] - q[d];
                                dd -= (dd / l[d]).round() * l[d];
                                r2 += dd * dd;
                            }
                            if r2 < md2 {
                                clash = true;
                                break 'search;
                            }
                        }
                    }
                }
            }
            if !clash {
                cells[(c[2] * nc[1] + c[1]) * nc[0] + c[0]].push(pos.len() as u32);
                pos.push(p);
                placed = true;
                break;
            }
        }
        if !placed {
            return Err(format!(
                "could not place atom {} of {} with min_distance {} A at number density {} (lower one of them)",
                k + 1,
                n,
                min_distance,
                density
            ));
        }
    }
    let types = species(fractions, n, &mut rng);
    Ok(data(l, fractions.len(), pos, types))
}

/// The sites of a cubic unit cell (`sc`, `bcc`, `fcc`) in cell units.
pub fn basis(kind: &str) -> Option<&'static [[f64; 3]]> {
    match kind {
        "sc" => Some(&[[0.0, 0.0, 0.0]]),
        "bcc" => Some(&[[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]),
        "fcc" => Some(&[[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]),
        _ => None,
    }
}

/// Sites of a cubic lattice (`sc`, `bcc`, `fcc`) with constant `a`, `cells`
/// unit cells per axis, species at random.
pub fn lattice(fractions: &[f64], kind: &str, a: f64, cells: [usize; 3], seed: u64) -> Result<DataFile, String> {
    let basis = basis(kind).ok_or_else(|| format!("unknown lattice '{}' (expected sc, bcc or fcc)", kind))?;
    let mut pos = Vec::new();
    for k in 0..cells[2] {
        for j in 0..cells[1] {
            for i in 0..cells[0] {
                for b in basis {
                    pos.push([(i as f64 + b[0]) * a, (j as f64 + b[1]) * a, (k as f64 + b[2]) * a]);
                }
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let types = species(fractions, pos.len() as u64, &mut rng);
    let l = [cells[0] as f64 * a, cells[1] as f64 * a, cells[2] as f64 * a];
    Ok(data(l, fractions.len(), pos, types))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn counts_are_exact() {
        assert_eq!(counts(&[64.0, 36.0], 4000), vec![2560, 1440]);
        // 3.5, 2.8, 0.7: floors 3, 2, 0; the two largest remainders (0.8, 0.7) get the rest.
        assert_eq!(counts(&[50.0, 40.0, 10.0], 7), vec![3, 3, 1]);
        assert_eq!(counts(&[1.0, 1.0, 1.0], 10).iter().sum::<u64>(), 10);
    }
    #[test]
    fn random_alloy_respects_density_aspect_and_distance() {
        let d = random_alloy(&[64.0, 36.0], 2000, 0.06, [1.0, 2.0, 1.0], 1.8, 7).unwrap();
        let l = d.hi;
        assert!((l[0] * l[1] * l[2] * 0.06 - 2000.0).abs() < 1e-6);
        assert!((l[1] / l[0] - 2.0).abs() < 1e-12);
        assert_eq!(d.atoms.iter().filter(|a| a.typ == 2).count(), 720);
        let mut rmin = f64::INFINITY;
        for (i, a) in d.atoms.iter().enumerate() {
            for b in &d.atoms[i + 1..] {
                let mut r2 = 0.0;
                for k in 0..3 {
                    let mut dd = a.x[k] - b.x[k];
                    dd -= (dd / l[k]).round() * l[k];
                    r2 += dd * dd;
                }
                rmin = rmin.min(r2.sqrt());
            }
        }
        assert!(rmin >= 1.8, "closest pair {rmin}");
        // Same seed, same system.
        let e = random_alloy(&[64.0, 36.0], 2000, 0.06, [1.0, 2.0, 1.0], 1.8, 7).unwrap();
        assert!(d.atoms.iter().zip(&e.atoms).all(|(a, b)| a.x == b.x && a.typ == b.typ));
    }
}
