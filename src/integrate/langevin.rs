//! Langevin thermostat (Schneider & Stoll, Phys. Rev. B 17, 1302 (1978)), in
//! the form of LAMMPS `fix langevin` used with `fix nve`: after the forces
//! are computed each atom gets a friction −m v / damp and a random force with
//! variance 2 m k_B T / (damp · dt), drawn uniformly (mean 0, variance
//! matched: LAMMPS's `sqrt(24 k_B T m / (damp dt))·(u − ½)`).
//!
//! The random numbers are a counter-based hash of (seed, atom id, step,
//! component) (SplitMix64 finaliser, Steele et al., OOPSLA 2014), so the noise
//! an atom feels does not depend on which rank owns it or on the atom order:
//! runs agree across rank counts to round-off.

use crate::units::{BOLTZ, FTM2V, MVV2E};

/// SplitMix64 finaliser: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// Uniform number in [0, 1) for (seed, id, step, component).
pub fn uniform(seed: u64, id: u64, step: u64, k: u64) -> f64 {
    let h = mix(mix(mix(seed ^ 0x9e3779b97f4a7c15).wrapping_add(id)).wrapping_add(step.wrapping_mul(4).wrapping_add(k)));
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Add the Langevin forces for target temperature `t` (K), damping time
/// `damp` (ps) and timestep `dt` (ps) to the forces of owned atoms.
#[allow(clippy::too_many_arguments)]
pub fn add_forces(f: &mut [[f64; 3]], v: &[[f64; 3]], typ: &[u32], id: &[u64], masses: &[f64], t: f64, damp: f64, dt: f64, seed: u64, step: u64) {
    for i in 0..v.len() {
        let m = masses[typ[i] as usize];
        // LAMMPS FixLangevin::post_force_templated (no tally, no gjf).
        let gamma1 = -m / damp / FTM2V;
        let gamma2 = m.sqrt() * (24.0 * BOLTZ / damp / dt / MVV2E).sqrt() / FTM2V * t.sqrt();
        for k in 0..3 {
            let r = uniform(seed, id[i], step, k as u64) - 0.5;
            f[i][k] += gamma1 * v[i][k] + gamma2 * r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn uniform_numbers_are_uniform() {
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|k| uniform(7, k, 3, 1)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "variance {var}");
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        // Different steps and components decorrelate.
        assert_ne!(uniform(7, 1, 3, 0), uniform(7, 1, 4, 0));
        assert_ne!(uniform(7, 1, 3, 0), uniform(7, 1, 3, 1));
    }
}
