//! Nosé–Hoover chain thermostat (Martyna, Klein & Tuckerman, J. Chem. Phys.
//! 97, 2635 (1992)), integrated as LAMMPS `fix nvt` does (`FixNH::
//! nhc_temp_integrate`: a Trotter half step of the chain with one loop and
//! the masses Q₀ = N_f k_B T/ω², Q_k = k_B T/ω², ω = 1/T_damp, refreshed from
//! the current target every half step), so that trajectories agree with
//! LAMMPS to round-off.
//!
//! The chain is pure arithmetic: it is told the current temperature and
//! returns the factor by which all velocities are scaled; the engine applies
//! it. Its state (η, η̇) persists across stages of a deck, so successive NVT
//! (and later NPT) stages continue one thermostat.

use crate::units::BOLTZ;

/// LAMMPS default chain length (`tchain 3`).
pub const CHAIN: usize = 3;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NoseHooverChain {
    pub eta: [f64; CHAIN],
    /// η̇, with a zero sentinel at the end (LAMMPS layout).
    pub eta_dot: [f64; CHAIN + 1],
    pub eta_dotdot: [f64; CHAIN],
    pub eta_mass: [f64; CHAIN],
    /// ω = 1 / T_damp (1/ps).
    pub t_freq: f64,
    pub t_target: f64,
    /// Temperature after the last velocity scaling.
    pub t_current: f64,
    /// Degrees of freedom N_f.
    pub tdof: f64,
}

impl NoseHooverChain {
    pub fn new() -> Self {
        NoseHooverChain {
            eta: [0.0; CHAIN],
            eta_dot: [0.0; CHAIN + 1],
            eta_dotdot: [0.0; CHAIN],
            eta_mass: [0.0; CHAIN],
            t_freq: 0.0,
            t_target: 0.0,
            t_current: 0.0,
            tdof: 0.0,
        }
    }

    fn set_masses(&mut self) {
        let w2 = self.t_freq * self.t_freq;
        self.eta_mass[0] = self.tdof * BOLTZ * self.t_target / w2;
        for ich in 1..CHAIN {
            self.eta_mass[ich] = BOLTZ * self.t_target / w2;
        }
    }

    /// Start (or continue) thermostatting: LAMMPS `FixNH::setup`.
    pub fn setup(&mut self, tdamp: f64, t_target: f64, t_current: f64, tdof: f64) {
        self.t_freq = 1.0 / tdamp;
        self.t_target = t_target;
        self.t_current = t_current;
        self.tdof = tdof;
        self.set_masses();
        for ich in 1..CHAIN {
            self.eta_dotdot[ich] =
                (self.eta_mass[ich - 1] * self.eta_dot[ich - 1] * self.eta_dot[ich - 1] - BOLTZ * self.t_target)
                    / self.eta_mass[ich];
        }
    }

    /// One half step of the chain (dt is the full MD step); returns the
    /// factor to scale all velocities by, and updates `t_current` for it.
    pub fn half_step(&mut self, dt: f64) -> f64 {
        let (dthalf, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt);
        let ke_target = self.tdof * BOLTZ * self.t_target;
        let mut kecurrent = self.tdof * BOLTZ * self.t_current;
        self.set_masses();
        self.eta_dotdot[0] = if self.eta_mass[0] > 0.0 { (kecurrent - ke_target) / self.eta_mass[0] } else { 0.0 };
        // One chain loop (nc_tchain = 1, so ncfac = 1); no drag.
        for ich in (1..CHAIN).rev() {
            let expfac = (-dt8 * self.eta_dot[ich + 1]).exp();
            self.eta_dot[ich] *= expfac;
            self.eta_dot[ich] += self.eta_dotdot[ich] * dt4;
            self.eta_dot[ich] *= expfac;
        }
        let mut expfac = (-dt8 * self.eta_dot[1]).exp();
        self.eta_dot[0] *= expfac;
        self.eta_dot[0] += self.eta_dotdot[0] * dt4;
        self.eta_dot[0] *= expfac;
        let factor = (-dthalf * self.eta_dot[0]).exp();
        self.t_current *= factor * factor;
        kecurrent = self.tdof * BOLTZ * self.t_current;
        self.eta_dotdot[0] = if self.eta_mass[0] > 0.0 { (kecurrent - ke_target) / self.eta_mass[0] } else { 0.0 };
        for ich in 0..CHAIN {
            self.eta[ich] += dthalf * self.eta_dot[ich];
        }
        self.eta_dot[0] *= expfac;
        self.eta_dot[0] += self.eta_dotdot[0] * dt4;
        self.eta_dot[0] *= expfac;
        for ich in 1..CHAIN {
            expfac = (-dt8 * self.eta_dot[ich + 1]).exp();
            self.eta_dot[ich] *= expfac;
            self.eta_dotdot[ich] =
                (self.eta_mass[ich - 1] * self.eta_dot[ich - 1] * self.eta_dot[ich - 1] - BOLTZ * self.t_target)
                    / self.eta_mass[ich];
            self.eta_dot[ich] += self.eta_dotdot[ich] * dt4;
            self.eta_dot[ich] *= expfac;
        }
        factor
    }

    /// Energy of the chain (LAMMPS `FixNH::compute_scalar`, thermostat part):
    /// E_total + this is conserved by the extended dynamics.
    pub fn energy(&self) -> f64 {
        let ke_target = self.tdof * BOLTZ * self.t_target;
        let kt = BOLTZ * self.t_target;
        let mut e = ke_target * self.eta[0] + 0.5 * self.eta_mass[0] * self.eta_dot[0] * self.eta_dot[0];
        for ich in 1..CHAIN {
            e += kt * self.eta[ich] + 0.5 * self.eta_mass[ich] * self.eta_dot[ich] * self.eta_dot[ich];
        }
        e
    }
}

impl Default for NoseHooverChain {
    fn default() -> Self {
        Self::new()
    }
}
