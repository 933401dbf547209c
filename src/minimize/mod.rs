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
//! ranks.
//!
//! Box relaxation (the role of LAMMPS `fix box/relax`) is in [`cell`]: the
//! logarithmic strain of each relaxed axis (or of all coupled axes together)
//! is an extra degree of freedom of the same SD/CG/FIRE loops, with the
//! enthalpy H = E + P·V as objective and −∂H/∂ξ = (W_aa − P_t V)/c as its
//! generalised force. To add a minimiser, write a loop over `Ctx` that reads
//! forces through `Ctx::ff`/`f_dot`/`fmax` and moves through `set_x`; the
//! box then comes for free.

mod cell;
pub use cell::BoxRelax;
use cell::Cell;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::system::Col;
use crate::units::FTM2V;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sd,
    #[default]
    Cg,
    Fire,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sd => "sd",
            Algorithm::Cg => "cg",
            Algorithm::Fire => "fire",
        }
    }
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
    /// Relax the box as well (None: fixed box).
    pub box_relax: Option<BoxRelax>,
}

impl Default for MinParams {
    fn default() -> Self {
        MinParams { algorithm: Algorithm::Cg, etol: 0.0, ftol: 1e-6, max_iterations: 10_000, dmax: 0.1, fire_dt: 0.001, box_relax: None }
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
    /// The atoms met a tolerance but the box pressure did not.
    Pressure,
}

impl Stop {
    pub fn describe(self) -> &'static str {
        match self {
            Stop::Energy => "energy tolerance",
            Stop::Force => "force tolerance",
            Stop::MaxIterations => "max iterations",
            Stop::LineSearch => "linesearch alpha is zero",
            Stop::Uphill => "FIRE went uphill too many times",
            Stop::Pressure => "forces converged but the pressure missed its tolerance",
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
    /// With box relaxation: virial pressure per axis at the end (bar), and
    /// the largest miss of a target (bar).
    pub pressure: Option<([f64; 3], f64)>,
}

/// Layout of the per-atom minimiser state, kept in a scratch column of the
/// atoms (`"minimize"`) so that it follows atoms through sorting and
/// migration: start of the line search x0, previous forces g, search
/// direction h. Other columns (group masks, reference positions) are left
/// as they are.
const X0: usize = 0;
const G: usize = 3;
const H: usize = 6;
const WIDTH: usize = 9;
const COLUMN: &str = "minimize";

/// The engine plus the global reductions a minimiser needs, and the box
/// degrees of freedom when the box relaxes. Every "vector" operation covers
/// atoms and box together.
struct Ctx<'e, 'c> {
    eng: &'e mut Engine<'c>,
    col: Col,
    evaluations: u64,
    cell: Option<Cell>,
}

impl Ctx<'_, '_> {
    fn n(&self) -> usize {
        self.eng.atoms.nlocal
    }
    fn ex(&self, i: usize, off: usize) -> [f64; 3] {
        let e = self.eng.atoms.col(self.col, i);
        [e[off], e[off + 1], e[off + 2]]
    }
    fn set_ex(&mut self, i: usize, off: usize, v: [f64; 3]) {
        self.eng.atoms.col_mut(self.col, i)[off..off + 3].copy_from_slice(&v);
    }
    /// Objective (E, or the enthalpy when the box relaxes) and forces.
    fn eval(&mut self) -> Result<f64> {
        self.evaluations += 1;
        let e = self.eng.energy_force()?;
        Ok(match self.cell.as_mut() {
            Some(cell) => e + cell.update(self.eng),
            None => e,
        })
    }
    fn sum(&self, term: impl Fn(usize) -> f64) -> f64 {
        let local: f64 = (0..self.n()).map(term).sum();
        self.eng.global_sum(local)
    }
    fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }
    /// Σ f · (extra vector at `off`), box terms included. For h during a
    /// line search the atom part is f · (D h), D the box dilation since the
    /// search began, so that it is the exact slope −dH/dα along the path.
    fn f_dot(&self, off: usize) -> f64 {
        let d = match (&self.cell, off) {
            (Some(c), H) => c.dilation(&self.eng.bx),
            _ => [1.0; 3],
        };
        let atoms = self.sum(|i| {
            let (f, h) = (self.eng.atoms.f[i], self.ex(i, off));
            f[0] * h[0] * d[0] + f[1] * h[1] * d[1] + f[2] * h[2] * d[2]
        });
        atoms + self.cell.as_ref().map_or(0.0, |c| c.dot(if off == G { &c.g } else { &c.h }))
    }
    fn ff(&self) -> f64 {
        self.sum(|i| Self::dot3(self.eng.atoms.f[i], self.eng.atoms.f[i])) + self.cell.as_ref().map_or(0.0, |c| c.dot(&c.force))
    }
    /// Largest per-atom |f| (atoms only; the box has its own tolerance).
    fn fmax(&self) -> f64 {
        let local = self.eng.atoms.f[..self.n()].iter().map(|f| Self::dot3(*f, *f)).fold(0.0, f64::max);
        self.eng.global_max(local).sqrt()
    }
    /// Force tolerance met, and with a relaxing box the pressure tolerance.
    fn forces_converged(&self, ftol: f64) -> bool {
        ftol > 0.0 && self.fmax() <= ftol && self.cell.as_ref().is_none_or(|c| c.pass_converged())
    }
    /// After an iteration from e_prev to e: the tolerance met, if any
    /// (energy first, as LAMMPS checks), and |ΔE| relative to the energy.
    fn converged(&self, e: f64, e_prev: f64, p: &MinParams) -> (Option<Stop>, f64) {
        let (done, rel) = energy_converged(e, e_prev, p.etol);
        if done {
            (Some(Stop::Energy), rel)
        } else if self.forces_converged(p.ftol) {
            (Some(Stop::Force), rel)
        } else {
            (None, rel)
        }
    }
    fn hmax(&self) -> f64 {
        let local = (0..self.n()).flat_map(|i| self.ex(i, H)).map(f64::abs).fold(0.0, f64::max);
        self.eng.global_max(local)
    }
    /// g = f and h = f (box included).
    fn reset_directions(&mut self, g_too: bool) {
        for i in 0..self.n() {
            let f = self.eng.atoms.f[i];
            if g_too {
                self.set_ex(i, G, f);
            }
            self.set_ex(i, H, f);
        }
        if let Some(c) = self.cell.as_mut() {
            if g_too {
                c.g.clone_from(&c.force);
            }
            c.h.clone_from(&c.force);
        }
    }
    /// Start of a line search: remember positions and box.
    fn save_x0(&mut self) {
        for i in 0..self.n() {
            let x = self.eng.atoms.x[i];
            self.set_ex(i, X0, x);
        }
        if let Some(c) = self.cell.as_mut() {
            c.bx0 = self.eng.bx.clone();
        }
    }
    /// The line search ended here: slopes along a new h start from this box.
    fn end_search(&mut self) {
        if let Some(c) = self.cell.as_mut() {
            c.bx0 = self.eng.bx.clone();
        }
    }
    /// Move to x0 + α h, and the box to its strain α h_box from the start.
    fn set_x(&mut self, alpha: f64) {
        if let Some(c) = &self.cell {
            self.eng.set_box(&c.bx0);
        }
        for i in 0..self.n() {
            let (a, h) = (self.ex(i, X0), self.ex(i, H));
            self.eng.atoms.x[i] = [a[0] + alpha * h[0], a[1] + alpha * h[1], a[2] + alpha * h[2]];
        }
        if let Some(c) = &self.cell {
            let factor = c.factor(&c.h, alpha);
            self.eng.remap_box(factor);
        }
    }
    /// After an evaluation that may have wrapped atoms into the periodic
    /// box, shift x0 by the same number of box lengths (LAMMPS
    /// `FixMinimize::reset_coords`), in the line search's starting box.
    fn realign_x0(&mut self, alpha: f64) {
        if self.eng.bx.triclinic {
            return self.realign_x0_triclinic(alpha);
        }
        let l = self.eng.bx.lengths();
        let per = [self.eng.bx.periodic(0), self.eng.bx.periodic(1), self.eng.bx.periodic(2)];
        let (l0, c0) = match &self.cell {
            Some(c) => (c.bx0.lengths(), std::array::from_fn(|d| 0.5 * (c.bx0.lo[d] + c.bx0.hi[d]))),
            None => (l, [0.0; 3]),
        };
        for i in 0..self.n() {
            let (mut a, h, x) = (self.ex(i, X0), self.ex(i, H), self.eng.atoms.x[i]);
            let mut moved = false;
            for d in 0..3 {
                let pred = c0[d] + (a[d] + alpha * h[d] - c0[d]) * (l[d] / l0[d]);
                let diff = x[d] - pred;
                if per[d] && diff.abs() > 0.5 * l[d] {
                    a[d] += (diff / l[d]).round() * l0[d];
                    moved = true;
                }
            }
            if moved {
                self.set_ex(i, X0, a);
            }
        }
    }
    /// The same for a triclinic box: a wrap moves an atom by whole edge
    /// vectors of the current box (n = round(h⁻¹ Δx)), which are n edge
    /// vectors of the line search's starting box for x0.
    fn realign_x0_triclinic(&mut self, alpha: f64) {
        let now = self.eng.bx.clone();
        let start = self.cell.as_ref().map_or_else(|| now.clone(), |c| c.bx0.clone());
        let (hi0, h, hi) = (start.h_inv(), now.h(), now.h_inv());
        for i in 0..self.n() {
            let (a, d, x) = (self.ex(i, X0), self.ex(i, H), self.eng.atoms.x[i]);
            let pred = now.lamda2x_with(&h, start.x2lamda_with(&hi0, [a[0] + alpha * d[0], a[1] + alpha * d[1], a[2] + alpha * d[2]]));
            let diff = [x[0] - pred[0], x[1] - pred[1], x[2] - pred[2]];
            let dl = [hi[0] * diff[0] + hi[5] * diff[1] + hi[4] * diff[2], hi[1] * diff[1] + hi[3] * diff[2], hi[2] * diff[2]];
            let n: [f64; 3] = std::array::from_fn(|k| if now.periodic(k) { dl[k].round() } else { 0.0 });
            if n != [0.0; 3] {
                let s = start.image_shift(n);
                self.set_ex(i, X0, [a[0] + s[0], a[1] + s[1], a[2] + s[2]]);
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
    // Cap the trial step: no atom moves more than dmax, no box axis strains
    // more than the cell's vmax.
    let hmax = c.hmax();
    let mut alpha_max = if hmax > 0.0 { ALPHA_MAX.min(dmax / hmax) } else { ALPHA_MAX };
    if let Some(cell) = &c.cell {
        alpha_max = alpha_max.min(cell.alpha_cap());
    }
    if hmax == 0.0 && c.cell.as_ref().is_none_or(|cell| cell.hmax() == 0.0) {
        return Ok(None);
    }
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
                    c.end_search();
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
            c.end_search();
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

/// Minimise the potential energy, at fixed box or (with `p.box_relax`)
/// together with the box lengths at target pressures.
pub fn minimize(eng: &mut Engine, p: &MinParams) -> Result<MinReport> {
    eng.atoms.remove_column(COLUMN);
    let col = eng.atoms.declare_column(COLUMN, WIDTH, false).map_err(Error::runtime)?;
    let cell = match &p.box_relax {
        Some(b) => {
            // A relaxed box is a 0 K state: its pressure is the virial alone.
            eng.atoms.v.iter_mut().for_each(|v| *v = [0.0; 3]);
            Some(Cell::new(eng, b))
        }
        None => None,
    };
    let mut c = Ctx { eng, col, evaluations: 0, cell };
    let result = (|| {
        let e_initial = c.eng.energy_force()?;
        let (mut stop, mut iterations, mut e, mut de_rel) = (Stop::MaxIterations, 0, e_initial, f64::INFINITY);
        // Unequal per-axis targets have no exact enthalpy; their objective
        // refers to the box at the start (see `cell`), so restart from the
        // reached box until the pressures meet their targets (LAMMPS
        // `fix box/relax nreset`). Equal targets need one pass.
        for _pass in 0..MAX_CELL_PASSES {
            if let Some(cell) = c.cell.as_mut() {
                cell.set_reference(&c.eng.bx);
            }
            let h0 = c.eval()?;
            let left = p.max_iterations - iterations;
            let (s, it, h, dr) = match p.algorithm {
                Algorithm::Sd | Algorithm::Cg => descent(&mut c, p, h0, left)?,
                Algorithm::Fire => fire(&mut c, p, h0, left)?,
            };
            (stop, de_rel) = (s, dr);
            iterations += it;
            if let Some(cell) = &c.cell {
                log::debug!("box pass: {} after {} iterations, pressure {:?} bar, miss {:e}", s.describe(), it, cell.pressure(), cell.pressure_miss());
            }
            e = h - c.cell.as_ref().map_or(0.0, |cell| cell.enthalpy_term(&c.eng.bx));
            let done = c.cell.as_ref().is_none_or(|cell| cell.exact || cell.pressure_converged());
            if done || !stop.converged() || iterations >= p.max_iterations {
                break;
            }
        }
        let fmax = c.fmax();
        let pressure = c.cell.as_ref().map(|cell| (cell.pressure(), cell.pressure_miss()));
        // A tolerance met by the atoms but not by the box is no convergence.
        if stop.converged() && c.cell.as_ref().is_some_and(|cell| !cell.pressure_converged()) {
            stop = Stop::Pressure;
        }
        Ok(MinReport { stop, iterations, evaluations: c.evaluations, e_initial, e_final: e, fmax, de_rel, pressure })
    })();
    c.eng.atoms.remove_column(COLUMN);
    result
}

/// Restarts of a box relaxation with unequal per-axis targets.
const MAX_CELL_PASSES: usize = 20;

fn descent(c: &mut Ctx, p: &MinParams, h_initial: f64, max_iterations: u64) -> Result<(Stop, u64, f64, f64)> {
    let cg = p.algorithm == Algorithm::Cg;
    let restart = 3 * c.eng.natoms.max(1);
    let mut e = h_initial;
    c.reset_directions(true);
    let mut gg = c.ff();
    let mut de_rel = f64::INFINITY;
    if c.forces_converged(p.ftol) {
        return Ok((Stop::Force, 0, e, 0.0));
    }
    for iter in 1..=max_iterations {
        let e_prev = e;
        match line_search(c, e, p.dmax)? {
            Some(en) => e = en,
            None => return Ok((Stop::LineSearch, iter, e, de_rel)),
        }
        let (stop, rel) = c.converged(e, e_prev, p);
        de_rel = rel;
        if let Some(stop) = stop {
            return Ok((stop, iter, e, de_rel));
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
        if let Some(cell) = c.cell.as_mut() {
            cell.g.clone_from(&cell.force);
            for k in 0..cell.h.len() {
                cell.h[k] = cell.force[k] + beta * cell.h[k];
            }
        }
        if c.f_dot(H) <= 0.0 {
            c.reset_directions(false);
        }
        gg = ff;
    }
    Ok((Stop::MaxIterations, max_iterations, e, de_rel))
}

fn fire(c: &mut Ctx, p: &MinParams, h_initial: f64, max_iterations: u64) -> Result<(Stop, u64, f64, f64)> {
    // LAMMPS min_style fire defaults (FIRE 2.0).
    let (delaystep, dtgrow, dtshrink, alpha0, alphashrink) = (20u64, 1.1, 0.5, 0.25, 0.99);
    let (tmax, tmin, vdfmax) = (10.0, 0.02, 2000u64);
    let dt0 = p.fire_dt;
    let (dtmax, dtmin) = (tmax * dt0, tmin * dt0);
    // FIRE moves atoms with their own velocities, starting from rest. The box
    // degrees of freedom move the same way with the mean atomic mass.
    c.eng.atoms.v.iter_mut().for_each(|v| *v = [0.0; 3]);
    if let Some(cell) = c.cell.as_mut() {
        cell.vel.iter_mut().for_each(|v| *v = 0.0);
    }
    let (mut dt, mut alpha) = (dt0, alpha0);
    let (mut npos, mut nneg) = (0u64, 0u64);
    let mut e = h_initial;
    let mut de_rel = f64::INFINITY;
    if c.forces_converged(p.ftol) {
        return Ok((Stop::Force, 0, e, 0.0));
    }
    for iter in 1..=max_iterations {
        let n = c.n();
        let vdotf = c.sum(|i| Ctx::dot3(c.eng.atoms.v[i], c.eng.atoms.f[i])) + c.cell.as_ref().map_or(0.0, |k| k.dot(&k.vel));
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
            if let Some(cell) = c.cell.as_mut() {
                let back = cell.factor(&cell.vel, -0.5 * dt);
                cell.vel.iter_mut().for_each(|v| *v = 0.0);
                c.eng.remap_box(back);
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
        if let Some(cell) = c.cell.as_mut() {
            let dtfm = dt * FTM2V / cell.mass;
            for k in 0..cell.vel.len() {
                cell.vel[k] += dtfm * cell.force[k];
            }
        }
        if vdotf > 0.0 {
            let vv = c.sum(|i| Ctx::dot3(c.eng.atoms.v[i], c.eng.atoms.v[i])) + c.cell.as_ref().map_or(0.0, |k| k.vel.iter().map(|v| v * v).sum());
            let ff = c.ff();
            let scale = if ff > 0.0 { alpha * (vv / ff).sqrt() } else { 0.0 };
            let atoms = &mut c.eng.atoms;
            for i in 0..n {
                for d in 0..3 {
                    atoms.v[i][d] = (1.0 - alpha) * atoms.v[i][d] + scale * atoms.f[i][d];
                }
            }
            if let Some(cell) = c.cell.as_mut() {
                for k in 0..cell.vel.len() {
                    cell.vel[k] = (1.0 - alpha) * cell.vel[k] + scale * cell.force[k];
                }
            }
        }
        // Cap the largest displacement at dmax, and the box strain at vmax.
        let vmax = c.eng.global_max(c.eng.atoms.v[..n].iter().flat_map(|v| v.iter().map(|x| x.abs())).fold(0.0, f64::max));
        let mut dtv = if vmax * dt > p.dmax { p.dmax / vmax } else { dt };
        if let Some(cell) = &c.cell {
            dtv = dtv.min(cell.step_cap(&cell.vel));
        }
        {
            let atoms = &mut c.eng.atoms;
            for i in 0..n {
                for d in 0..3 {
                    atoms.x[i][d] += dtv * atoms.v[i][d];
                }
            }
        }
        if let Some(cell) = &c.cell {
            let factor = cell.factor(&cell.vel, dtv);
            c.eng.remap_box(factor);
        }
        let e_prev = e;
        e = c.eval()?;
        let (stop, rel) = c.converged(e, e_prev, p);
        de_rel = rel;
        if let Some(stop) = stop {
            return Ok((stop, iter, e, de_rel));
        }
    }
    Ok((Stop::MaxIterations, max_iterations, e, de_rel))
}
