//! Energy minimisation at fixed box: steepest descent, Polak–Ribière
//! conjugate gradient, and FIRE 2.0.
//!
//! * SD and CG move along a search direction h with the line search of
//!   LAMMPS `min_style cg` (`linemin quadratic`): backtracking from a step
//!   capped so no atom moves more than `dmax`, with a secant estimate of the
//!   force-projection zero accepted when the energy model agrees with the
//!   measured energy (Nocedal & Wright, ch. 3). CG uses the Polak–Ribière β,
//!   reset to steepest descent when β < 0, when h is not downhill, and every
//!   `restart` iterations.
//! * FIRE 2.0 (Guénolé et al., Comput. Mater. Sci. 175, 109584 (2020)):
//!   semi-implicit Euler with mass-weighted steps, velocity mixing, adaptive
//!   timestep, and half-step backtracking on uphill moves; the defaults are
//!   LAMMPS's (`min_style fire`).
//!
//! Stopping: energy (|ΔE| ≤ etol · ½(|E|+|E_prev|)), force (largest per-atom
//! |f| ≤ ftol, LAMMPS `min_modify norm max`), or the iteration limit; the
//! criterion is reported, and not converging is not an error but a report
//! with the reached values for the caller to warn about.
//!
//! Every global quantity (dot products, norms, energy) goes through the
//! engine's reductions, so the minimisers run unchanged on any number of
//! ranks. Box relaxation (LAMMPS `fix box/relax`) will add the cell's strain
//! as extra degrees of freedom to these same loops.

use crate::engine::Engine;
use crate::error::Result;
use crate::units::FTM2V;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sd,
    Cg,
    Fire,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s {
            "sd" => Some(Algorithm::Sd),
            "cg" => Some(Algorithm::Cg),
            "fire" => Some(Algorithm::Fire),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct MinParams {
    pub algorithm: Algorithm,
    /// Relative energy tolerance (0 disables).
    pub etol: f64,
    /// Largest per-atom force, eV/Å (0 disables).
    pub ftol: f64,
    pub max_iterations: u64,
    /// Largest displacement of any atom in one line-search trial, Å.
    pub dmax: f64,
    /// FIRE's initial timestep, ps.
    pub fire_dt: f64,
}

impl Default for MinParams {
    fn default() -> Self {
        MinParams { algorithm: Algorithm::Cg, etol: 0.0, ftol: 1e-6, max_iterations: 10_000, dmax: 0.1, fire_dt: 0.001 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Energy,
    Force,
    MaxIterations,
    /// The line search found no downhill step (round-off limit).
    LineSearch,
    /// FIRE kept going uphill.
    Uphill,
}

impl Stop {
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Energy => "energy tolerance",
            Stop::Force => "force tolerance",
            Stop::MaxIterations => "max iterations",
            Stop::LineSearch => "linesearch alpha is zero",
            Stop::Uphill => "FIRE went uphill too many times",
        }
    }
    /// Did the run meet a tolerance it was asked for?
    pub fn converged(self) -> bool {
        matches!(self, Stop::Energy | Stop::Force)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct MinReport {
    pub stop: Stop,
    pub iterations: u64,
    pub evaluations: u64,
    pub e_initial: f64,
    pub e_final: f64,
    /// Largest per-atom |f| at the end, eV/Å.
    pub fmax: f64,
    /// |ΔE| of the last iteration relative to ½(|E|+|E_prev|).
    pub de_rel: f64,
}

/// Layout of the per-atom minimiser state kept in `Atoms::extra`, so that it
/// follows atoms through sorting and migration: start of the line search x0,
/// previous forces g, search direction h.
const X0: usize = 0;
const G: usize = 3;
const H: usize = 6;
const WIDTH: usize = 9;

/// The engine plus the global reductions a minimiser needs.
struct Ctx<'e, 'c> {
    eng: &'e mut Engine<'c>,
    evaluations: u64,
}

impl Ctx<'_, '_> {
    fn n(&self) -> usize {
        self.eng.atoms.nlocal
    }
    fn ex(&self, i: usize, off: usize) -> [f64; 3] {
        let e = self.eng.atoms.extra_of(i);
        [e[off], e[off + 1], e[off + 2]]
    }
    fn set_ex(&mut self, i: usize, off: usize, v: [f64; 3]) {
        self.eng.atoms.extra_of_mut(i)[off..off + 3].copy_from_slice(&v);
    }
    fn eval(&mut self) -> Result<f64> {
        self.evaluations += 1;
        self.eng.energy_force()
    }
    fn sum(&self, term: impl Fn(usize) -> f64) -> f64 {
        let local: f64 = (0..self.n()).map(term).sum();
        self.eng.global_sum(local)
    }
    fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }
    /// Σ f · (extra vector at `off`).
    fn f_dot(&self, off: usize) -> f64 {
        self.sum(|i| Self::dot3(self.eng.atoms.f[i], self.ex(i, off)))
    }
    fn ff(&self) -> f64 {
        self.sum(|i| Self::dot3(self.eng.atoms.f[i], self.eng.atoms.f[i]))
    }
    fn fmax(&self) -> f64 {
        let local = self.eng.atoms.f[..self.n()].iter().map(|f| Self::dot3(*f, *f)).fold(0.0, f64::max);
        self.eng.global_max(local).sqrt()
    }
    fn hmax(&self) -> f64 {
        let local = (0..self.n()).flat_map(|i| self.ex(i, H)).map(f64::abs).fold(0.0, f64::max);
        self.eng.global_max(local)
    }
    fn save_x0(&mut self) {
        for i in 0..self.n() {
            let x = self.eng.atoms.x[i];
            self.set_ex(i, X0, x);
        }
    }
    fn set_x(&mut self, alpha: f64) {
        for i in 0..self.n() {
            let (a, h) = (self.ex(i, X0), self.ex(i, H));
            self.eng.atoms.x[i] = [a[0] + alpha * h[0], a[1] + alpha * h[1], a[2] + alpha * h[2]];
        }
    }
    /// After an evaluation that may have wrapped atoms into the periodic
    /// box, shift x0 by the same box lengths (LAMMPS `FixMinimize::
    /// reset_coords`).
    fn realign_x0(&mut self, alpha: f64) {
        let l = self.eng.bx.lengths();
        let per = [self.eng.bx.periodic(0), self.eng.bx.periodic(1), self.eng.bx.periodic(2)];
        for i in 0..self.n() {
            let (mut a, h, x) = (self.ex(i, X0), self.ex(i, H), self.eng.atoms.x[i]);
            let mut moved = false;
            for d in 0..3 {
                let diff = x[d] - (a[d] + alpha * h[d]);
                if per[d] && diff.abs() > 0.5 * l[d] {
                    a[d] += (diff / l[d]).round() * l[d];
                    moved = true;
                }
            }
            if moved {
                self.set_ex(i, X0, a);
            }
        }
    }
}

const ALPHA_MAX: f64 = 1.0;
const ALPHA_REDUCE: f64 = 0.5;
const BACKTRACK_SLOPE: f64 = 0.4;
const QUADRATIC_TOL: f64 = 0.1;
const EMACH: f64 = 1.0e-8;
const EPS_QUAD: f64 = 1.0e-28;

/// Line search along h from the current state (energy `e0`, forces current).
/// Returns the new energy, or None if no downhill step was found (the
/// positions and forces are then back at the start).
fn line_search(c: &mut Ctx, e0: f64, dmax: f64) -> Result<Option<f64>> {
    let fh0 = c.f_dot(H);
    if fh0 <= 0.0 {
        return Ok(None);
    }
    let hmax = c.hmax();
    if hmax == 0.0 {
        return Ok(None);
    }
    let alpha_max = ALPHA_MAX.min(dmax / hmax);
    c.save_x0();
    let (mut alpha, mut alpha_prev, mut fh_prev, mut e_prev) = (alpha_max, 0.0, fh0, e0);
    loop {
        c.set_x(alpha);
        let e = c.eval()?;
        c.realign_x0(alpha);
        let fh = c.f_dot(H);
        let dfh = fh - fh_prev;
        // Secant estimate of where f·h vanishes, trusted when the trapezoid
        // energy model matches the measured energy change.
        if fh.abs() > EPS_QUAD && dfh.abs() > EPS_QUAD {
            let relerr = (1.0 - (0.5 * (alpha - alpha_prev) * (fh + fh_prev) + e) / e_prev).abs();
            let alpha0 = alpha - (alpha - alpha_prev) * fh / dfh;
            if relerr <= QUADRATIC_TOL && alpha0 > 0.0 && alpha0 < alpha_max {
                c.set_x(alpha0);
                let e2 = c.eval()?;
                c.realign_x0(alpha0);
                if e2 - e0 < EMACH {
                    return Ok(Some(e2));
                }
                c.set_x(alpha);
                c.eval()?;
                c.realign_x0(alpha);
            }
        }
        // Sufficient decrease (Armijo) accepts the backtracked step.
        let de_ideal = -BACKTRACK_SLOPE * alpha * fh0;
        if e - e0 <= de_ideal {
            return Ok(Some(e));
        }
        fh_prev = fh;
        e_prev = e;
        alpha_prev = alpha;
        alpha *= ALPHA_REDUCE;
        if alpha <= 0.0 || de_ideal >= -EMACH {
            c.set_x(0.0);
            c.eval()?;
            return Ok(None);
        }
    }
}

fn energy_converged(e: f64, e_prev: f64, etol: f64) -> (bool, f64) {
    let rel = (e - e_prev).abs() / (0.5 * (e.abs() + e_prev.abs()) + 1e-300);
    (etol > 0.0 && rel <= etol, rel)
}

/// Minimise the potential energy at fixed box.
pub fn minimize(eng: &mut Engine, p: &MinParams) -> Result<MinReport> {
    eng.atoms.set_extra_width(WIDTH);
    let mut c = Ctx { eng, evaluations: 0 };
    let result = (|| {
        let e_initial = c.eval()?;
        let (stop, iterations, e, de_rel) = match p.algorithm {
            Algorithm::Sd | Algorithm::Cg => descent(&mut c, p, e_initial)?,
            Algorithm::Fire => fire(&mut c, p, e_initial)?,
        };
        let fmax = c.fmax();
        Ok(MinReport { stop, iterations, evaluations: c.evaluations, e_initial, e_final: e, fmax, de_rel })
    })();
    c.eng.atoms.set_extra_width(0);
    result
}

fn descent(c: &mut Ctx, p: &MinParams, e_initial: f64) -> Result<(Stop, u64, f64, f64)> {
    let cg = p.algorithm == Algorithm::Cg;
    let restart = 3 * c.eng.natoms.max(1);
    let mut e = e_initial;
    // g = h = f
    for i in 0..c.n() {
        let f = c.eng.atoms.f[i];
        c.set_ex(i, G, f);
        c.set_ex(i, H, f);
    }
    let mut gg = c.ff();
    let mut de_rel = f64::INFINITY;
    if p.ftol > 0.0 && c.fmax() <= p.ftol {
        return Ok((Stop::Force, 0, e, 0.0));
    }
    for iter in 1..=p.max_iterations {
        let e_prev = e;
        match line_search(c, e, p.dmax)? {
            Some(en) => e = en,
            None => return Ok((Stop::LineSearch, iter, e, de_rel)),
        }
        let (done, rel) = energy_converged(e, e_prev, p.etol);
        de_rel = rel;
        if done {
            return Ok((Stop::Energy, iter, e, de_rel));
        }
        if p.ftol > 0.0 && c.fmax() <= p.ftol {
            return Ok((Stop::Force, iter, e, de_rel));
        }
        let ff = c.ff();
        let mut beta = 0.0;
        if cg {
            // Polak–Ribière, non-negative, restarted periodically.
            let fg = c.f_dot(G);
            beta = ((ff - fg) / gg).max(0.0);
            if iter % restart == 0 {
                beta = 0.0;
            }
        }
        for i in 0..c.n() {
            let (f, h) = (c.eng.atoms.f[i], c.ex(i, H));
            c.set_ex(i, G, f);
            c.set_ex(i, H, [f[0] + beta * h[0], f[1] + beta * h[1], f[2] + beta * h[2]]);
        }
        if c.f_dot(H) <= 0.0 {
            for i in 0..c.n() {
                let f = c.eng.atoms.f[i];
                c.set_ex(i, H, f);
            }
        }
        gg = ff;
    }
    Ok((Stop::MaxIterations, p.max_iterations, e, de_rel))
}

fn fire(c: &mut Ctx, p: &MinParams, e_initial: f64) -> Result<(Stop, u64, f64, f64)> {
    // LAMMPS min_style fire defaults (FIRE 2.0).
    let (delaystep, dtgrow, dtshrink, alpha0, alphashrink) = (20u64, 1.1, 0.5, 0.25, 0.99);
    let (tmax, tmin, vdfmax) = (10.0, 0.02, 2000u64);
    let dt0 = p.fire_dt;
    let (dtmax, dtmin) = (tmax * dt0, tmin * dt0);
    // FIRE moves atoms with their own velocities, starting from rest.
    c.eng.atoms.v.iter_mut().for_each(|v| *v = [0.0; 3]);
    let (mut dt, mut alpha) = (dt0, alpha0);
    let (mut npos, mut nneg) = (0u64, 0u64);
    let mut e = e_initial;
    let mut de_rel = f64::INFINITY;
    if p.ftol > 0.0 && c.fmax() <= p.ftol {
        return Ok((Stop::Force, 0, e, 0.0));
    }
    for iter in 1..=p.max_iterations {
        let n = c.n();
        let vdotf = c.sum(|i| Ctx::dot3(c.eng.atoms.v[i], c.eng.atoms.f[i]));
        if vdotf > 0.0 {
            npos += 1;
            nneg = 0;
            if npos > delaystep {
                dt = (dt * dtgrow).min(dtmax);
                alpha *= alphashrink;
            }
        } else {
            npos = 0;
            nneg += 1;
            if nneg > vdfmax {
                return Ok((Stop::Uphill, iter, e, de_rel));
            }
            if iter > delaystep {
                dt = (dt * dtshrink).max(dtmin);
                alpha = alpha0;
            }
            // Half step back, then restart from rest.
            let atoms = &mut c.eng.atoms;
            for i in 0..n {
                for d in 0..3 {
                    atoms.x[i][d] -= 0.5 * dt * atoms.v[i][d];
                }
                atoms.v[i] = [0.0; 3];
            }
        }
        // Semi-implicit Euler: v += dt f/m, then FIRE mixing, then x += dt v.
        {
            let masses = &c.eng.masses;
            let atoms = &mut c.eng.atoms;
            for i in 0..n {
                let dtfm = dt * FTM2V / masses[atoms.typ[i] as usize];
                for d in 0..3 {
                    atoms.v[i][d] += dtfm * atoms.f[i][d];
                }
            }
        }
        if vdotf > 0.0 {
            let vv = c.sum(|i| Ctx::dot3(c.eng.atoms.v[i], c.eng.atoms.v[i]));
            let ff = c.ff();
            let scale = if ff > 0.0 { alpha * (vv / ff).sqrt() } else { 0.0 };
            let atoms = &mut c.eng.atoms;
            for i in 0..n {
                for d in 0..3 {
                    atoms.v[i][d] = (1.0 - alpha) * atoms.v[i][d] + scale * atoms.f[i][d];
                }
            }
        }
        // Cap the largest displacement at dmax.
        let vmax = c.eng.global_max(c.eng.atoms.v[..n].iter().flat_map(|v| v.iter().map(|x| x.abs())).fold(0.0, f64::max));
        let dtv = if vmax * dt > p.dmax { p.dmax / vmax } else { dt };
        {
            let atoms = &mut c.eng.atoms;
            for i in 0..n {
                for d in 0..3 {
                    atoms.x[i][d] += dtv * atoms.v[i][d];
                }
            }
        }
        let e_prev = e;
        e = c.eval()?;
        let (done, rel) = energy_converged(e, e_prev, p.etol);
        de_rel = rel;
        if done {
            return Ok((Stop::Energy, iter, e, de_rel));
        }
        if p.ftol > 0.0 && c.fmax() <= p.ftol {
            return Ok((Stop::Force, iter, e, de_rel));
        }
    }
    Ok((Stop::MaxIterations, p.max_iterations, e, de_rel))
}
