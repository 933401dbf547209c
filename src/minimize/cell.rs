//! Box degrees of freedom for minimisation at target pressures (the job of
//! LAMMPS `fix box/relax`, formulated here as extra coordinates).
//!
//! Each relaxed axis a (or each group of coupled axes, moved together) gets
//! a coordinate ξ_k = c_k · ln(L_a / L_a,ref). With fractional coordinates
//! held fixed, ∂E/∂ln L_a = −W_aa, the aa virial Σ r_ij,a f_ij,a (eV), so the
//! generalised force on ξ_k is
//!
//!   F_k = Σ_{a∈k} (W_aa − P_a V) / c_k,
//!
//! which vanishes when the virial pressure W_aa/V meets its target P_a. It
//! is the gradient of the enthalpy H = E + P V when all targets are equal
//! (the usual case: an inherent structure at P = 0, hydrostatic loading).
//! Unequal targets (σxx = 1 GPa, σyy = σzz = 0) have no such potential; the
//! objective then uses H = E + Σ_a P_a V_ref ln(L_a/L_a,ref), exact at the
//! reference box, and the minimiser restarts from the reached box until the
//! pressures meet their tolerance (LAMMPS's `nreset` plays the same role).
//!
//! The scale c_k = n_k ℓ √N (n_k axes, ℓ = (V/N)^⅓) makes ξ a length whose
//! stiffness, ~ B ℓ with B the bulk modulus, is that of an atomic
//! coordinate whatever the system size, so one line search or one FIRE
//! timestep suits atoms and box alike. The strain of one move is capped at
//! `vmax` (LAMMPS default 0.001).

use crate::engine::Engine;
use crate::system::SimBox;
use crate::units::NKTV2P;

/// What to relax: per-axis targets (bar; None keeps the axis fixed), whether
/// the targeted axes move together, the pressure tolerance (bar), and the
/// largest strain per move.
#[derive(Clone, Copy, Debug)]
pub struct BoxRelax {
    pub target: [Option<f64>; 3],
    pub couple: bool,
    pub ptol: f64,
    pub vmax: f64,
}

pub(super) struct Cell {
    /// Axes moved by each coordinate.
    axes: Vec<Vec<usize>>,
    /// Target pressure per axis, bar (relaxed axes only).
    target: [Option<f64>; 3],
    scale: Vec<f64>,
    ptol: f64,
    vmax: f64,
    /// All targets equal: H = E + P V is exact.
    pub exact: bool,
    v_ref: f64,
    l_ref: [f64; 3],
    /// Box at the start of the current line search.
    pub bx0: SimBox,
    /// Generalised forces at the last evaluation (eV/Å), previous forces,
    /// search direction, FIRE velocities.
    pub force: Vec<f64>,
    pub g: Vec<f64>,
    pub h: Vec<f64>,
    pub vel: Vec<f64>,
    /// FIRE mass of a box coordinate: the mean atomic mass (amu).
    pub mass: f64,
    /// Virial pressure per axis at the last evaluation, bar.
    p_vir: [f64; 3],
    /// W_aa over the objective's volume (V, or V_ref for unequal targets):
    /// the pressure this pass drives to the targets, bar.
    p_obj: [f64; 3],
}

impl Cell {
    pub fn new(eng: &Engine, b: &BoxRelax) -> Cell {
        let relaxed: Vec<usize> = (0..3).filter(|&a| b.target[a].is_some()).collect();
        let axes: Vec<Vec<usize>> = if b.couple { vec![relaxed.clone()] } else { relaxed.iter().map(|&a| vec![a]).collect() };
        let n = eng.natoms.max(1) as f64;
        let ell = (eng.bx.volume() / n).cbrt();
        let scale = axes.iter().map(|k| k.len() as f64 * ell * n.sqrt()).collect();
        let first = relaxed.first().and_then(|&a| b.target[a]);
        let exact = relaxed.iter().all(|&a| b.target[a] == first);
        let local_mass: f64 = eng.atoms.typ[..eng.atoms.nlocal].iter().map(|&t| eng.masses[t as usize]).sum();
        let mass = eng.global_sum(local_mass) / n;
        let k = axes.len();
        Cell {
            axes,
            target: b.target,
            scale,
            ptol: b.ptol,
            vmax: b.vmax,
            exact,
            v_ref: eng.bx.volume(),
            l_ref: eng.bx.lengths(),
            bx0: eng.bx.clone(),
            force: vec![0.0; k],
            g: vec![0.0; k],
            h: vec![0.0; k],
            vel: vec![0.0; k],
            mass,
            p_vir: [0.0; 3],
            p_obj: [0.0; 3],
        }
    }

    /// Take the current box as the reference of the objective.
    pub fn set_reference(&mut self, bx: &SimBox) {
        self.v_ref = bx.volume();
        self.l_ref = bx.lengths();
        self.bx0 = bx.clone();
    }

    /// After a force evaluation: read the virial, set the generalised
    /// forces, and return the P·V part of the objective (eV). Collective.
    pub fn update(&mut self, eng: &Engine) -> f64 {
        let w = eng.global_virial();
        let v = eng.bx.volume();
        for a in 0..3 {
            self.p_vir[a] = w[a] / v * NKTV2P;
        }
        let v_force = if self.exact { v } else { self.v_ref };
        for a in 0..3 {
            self.p_obj[a] = w[a] / v_force * NKTV2P;
        }
        for (k, axes) in self.axes.iter().enumerate() {
            let f: f64 = axes.iter().map(|&a| w[a] - self.target[a].unwrap_or(0.0) / NKTV2P * v_force).sum();
            self.force[k] = f / self.scale[k];
        }
        self.enthalpy_term(&eng.bx)
    }

    /// P·V (exact case) or Σ_a P_a V_ref ln(L_a/L_a,ref), eV.
    pub fn enthalpy_term(&self, bx: &SimBox) -> f64 {
        if self.exact {
            let p = (0..3).find_map(|a| self.target[a]).unwrap_or(0.0);
            p / NKTV2P * bx.volume()
        } else {
            let l = bx.lengths();
            (0..3).filter_map(|a| self.target[a].map(|p| p / NKTV2P * self.v_ref * (l[a] / self.l_ref[a]).ln())).sum()
        }
    }

    /// Σ_k F_k v_k.
    pub fn dot(&self, v: &[f64]) -> f64 {
        self.force.iter().zip(v).map(|(f, v)| f * v).sum()
    }

    /// Per-axis scale factors of the box for coordinates moved by α·v.
    pub fn factor(&self, v: &[f64], alpha: f64) -> [f64; 3] {
        let mut f = [1.0; 3];
        for (k, axes) in self.axes.iter().enumerate() {
            for &a in axes {
                f[a] = (alpha * v[k] / self.scale[k]).exp();
            }
        }
        f
    }

    /// L / L0 per axis since the line search began.
    pub fn dilation(&self, bx: &SimBox) -> [f64; 3] {
        let (l, l0) = (bx.lengths(), self.bx0.lengths());
        [l[0] / l0[0], l[1] / l0[1], l[2] / l0[2]]
    }

    /// Largest step α·v with no axis straining more than vmax.
    pub fn step_cap(&self, v: &[f64]) -> f64 {
        let m = v.iter().zip(&self.scale).map(|(v, c)| (v / c).abs()).fold(0.0, f64::max);
        if m > 0.0 {
            self.vmax / m
        } else {
            f64::INFINITY
        }
    }
    pub fn alpha_cap(&self) -> f64 {
        self.step_cap(&self.h)
    }
    pub fn hmax(&self) -> f64 {
        self.h.iter().map(|x| x.abs()).fold(0.0, f64::max)
    }

    /// Virial pressure per axis at the last evaluation, bar.
    pub fn pressure(&self) -> [f64; 3] {
        self.p_vir
    }

    /// Largest miss of a target, bar: per axis, or of the mean over a
    /// coupled group.
    pub fn pressure_miss(&self) -> f64 {
        self.miss(&self.p_vir)
    }
    pub fn pressure_converged(&self) -> bool {
        self.pressure_miss() <= self.ptol
    }
    /// Has this pass's objective reached its stationary box? With unequal
    /// targets that box is off the true one by V/V_ref; the caller restarts.
    pub fn pass_converged(&self) -> bool {
        self.miss(&self.p_obj) <= self.ptol
    }
    fn miss(&self, p: &[f64; 3]) -> f64 {
        self.axes
            .iter()
            .map(|axes| {
                let n = axes.len() as f64;
                let pm: f64 = axes.iter().map(|&a| p[a]).sum::<f64>() / n;
                let t: f64 = axes.iter().map(|&a| self.target[a].unwrap_or(0.0)).sum::<f64>() / n;
                (pm - t).abs()
            })
            .fold(0.0, f64::max)
    }
}
