//! Maxwell–Boltzmann initial velocities.
//!
//! Each Cartesian component of atom i is drawn from N(0, k_B T / m_i) with a
//! ChaCha8 stream keyed by (seed, global id), so the velocities depend only on
//! the seed and the atom ids, never on the rank count or the order of atoms.
//! The engine then removes the centre-of-mass momentum and rescales to the
//! exact target temperature with 3N − 3 degrees of freedom (as LAMMPS
//! `velocity create ... mom yes dist gaussian` does, though LAMMPS's own
//! random sequence differs).

use crate::units::{BOLTZ, MVV2E};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Draw velocities for atoms with the given ids and masses.
pub fn draw(ids: &[u64], mass: impl Fn(usize) -> f64, temperature: f64, seed: u64) -> Vec<[f64; 3]> {
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(id);
            let sigma = (BOLTZ * temperature / (mass(i) * MVV2E)).sqrt();
            let mut v = [0.0; 3];
            for c in v.iter_mut() {
                let g: f64 = StandardNormal.sample(&mut rng);
                *c = sigma * g;
            }
            v
        })
        .collect()
}
