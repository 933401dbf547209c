//! An indenter (LAMMPS `fix indent K sphere|cylinder|plane ...`, side
//! out): every atom of the group the indenter overlaps by δ > 0 is pushed
//! out of it by F(δ) = K δ², the repulsive core of Kelchner, Plimpton &
//! Hamilton, Phys. Rev. B 58, 11085 (1998), with energy E = K δ³ / 3; K in
//! eV/Å³. Shapes:
//! * `sphere`: radius R about a centre, δ = R − r;
//! * `cylinder`: an infinite cylinder of radius R along `axis` (x or y,
//!   lying in the surface), δ = R − r⊥;
//! * `plane`: a flat wall at z = center[2] pressing from above (LAMMPS
//!   `plane z pos hi`), δ = z − pos for atoms above it.
//!
//! The energy is part of pe and of the minimisers' objective (LAMMPS
//! `fix_modify energy yes`); the indenter adds no virial (as LAMMPS).
//! Thermo values `<id>_energy` and `<id>_fx`, `_fy`, `_fz` (with the id
//! `indent`: `indent_energy`, `indent_fx` ...): the energy and the force on
//! the indenter, minus the sum of its forces on the atoms (LAMMPS `f_ID`
//! and `f_ID[1..3]`); `indent_fz` > 0 is the load of an indenter pushed
//! down along −z. Displacements are minimum images on periodic axes
//! (LAMMPS `Domain::minimum_image`).
//!
//! Motion of the centre, t the time since the stage began:
//! * a constant `velocity`: c(t) = c0 + v t;
//! * a schedule: down along −z at `speed` until the tip is `max_depth`
//!   below the surface (or the load reaches `max_load_nn`), hold for
//!   `hold_ps`, then up at `speed` to the start height, where the stage
//!   ends;
//! * quasi-static (a `minimize` stage): the centre steps down by
//!   `depth_step` after each minimisation to `max_depth`, then back up.
//!
//! The surface height is taken when the stage begins, before contact: the
//! mean over columns of the xy plane (`surface_bin` Å wide) of the highest
//! atom of the group in each column (or the deck's `surface_z`). Depth h is
//! the surface minus the tip's lowest point. With `start_gap` the tip
//! starts that far above the surface found (the centre's z in the deck is
//! then not used). A stage whose indenter starts below the surface is
//! refused. Every `every` steps (and after each
//! quasi-static minimisation) a row of time, position, depth, load and
//! contact radius (the largest in-plane distance of a touched atom from
//! the indenter's axis) is kept; at the end of the stage the rows go to
//! `indent.csv` and their analysis (`analysis::indentation`) to
//! results.json.
//!
//! Extending: another shape is another [`Shape`] variant with its overlap,
//! direction and contact-area function (`analysis::indentation::Tip`).

use super::{Fix, FixOutput};
use crate::analysis::indentation::{self as ind, Point, Tip};
use crate::engine::Engine;
use crate::system::group::{Members, Sel};

pub const COLUMNS: [&str; 4] = ["energy", "fx", "fy", "fz"];

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Sphere,
    /// Along axis 0 (x) or 1 (y).
    Cylinder(usize),
    Plane,
}

#[derive(Clone, Copy, Debug)]
pub enum Motion {
    Velocity([f64; 3]),
    Schedule {
        speed: f64,
        max_depth: f64,
        /// eV/Å.
        max_load: Option<f64>,
        hold: f64,
    },
    QuasiStatic {
        step: f64,
        max_depth: f64,
    },
}

/// What a deck gives the indent fix.
#[derive(Clone, Debug)]
pub struct Params {
    pub shape: Shape,
    pub k: f64,
    pub radius: f64,
    pub center: [f64; 3],
    pub motion: Motion,
    pub surface_z: Option<f64>,
    /// Å: start the tip this far above the surface (center[2] is then unused).
    pub start_gap: Option<f64>,
    pub surface_bin: f64,
    pub every: u64,
    pub file: String,
    pub options: ind::Options,
}

/// What a checkpoint keeps.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct State {
    start: u64,
    dt: f64,
    surface: f64,
    /// The centre's z at the start (the deck's, or placed `start_gap`
    /// above the surface).
    #[serde(default)]
    z0: f64,
    /// Time (ps) or quasi-static increment at which loading ended, once it did.
    turn: Option<f64>,
    /// Quasi-static increments done.
    increment: u64,
    /// step, time, tip z, depth, load nN, contact radius, atoms in contact, phase.
    rows: Vec<[f64; 8]>,
}

pub struct Indent {
    id: String,
    group: Sel,
    p: Params,
    st: State,
    /// This rank's energy and force on the indenter from the last
    /// application, then its contacts: count and largest in-plane radius.
    sums: [f64; 4],
    contact: (f64, f64),
    /// The box's lengths along x and y (the cylinder's length, the plane's face).
    face: [f64; 2],
}

impl Indent {
    pub fn new(id: &str, group: Sel, p: Params) -> Indent {
        let st = State { z0: p.center[2], ..Default::default() };
        Indent { id: id.to_string(), group, p, st, sums: [0.0; 4], contact: (0.0, 0.0), face: [0.0; 2] }
    }

    /// Height of the tip's lowest point above the centre's z.
    fn tip_offset(&self) -> f64 {
        match self.p.shape {
            Shape::Plane => 0.0,
            _ => -self.p.radius,
        }
    }

    /// How far the tip travels down from its start to `max_depth` below
    /// the surface (Å).
    fn travel(&self, max_depth: f64) -> f64 {
        self.st.z0 + self.tip_offset() - self.st.surface + max_depth
    }

    /// Quasi-static increments of `step` Å down to `max_depth` (never past it).
    fn increments_down(&self, step: f64, max_depth: f64) -> f64 {
        (self.travel(max_depth) / step + 1e-9).floor().max(0.0)
    }

    /// The time at which loading ends (a depth-limited schedule knows it
    /// from the start; a load-limited one once the load is reached, and
    /// till then the depth limit bounds it).
    fn t_turn(&self, speed: f64, max_depth: f64) -> f64 {
        self.st.turn.unwrap_or(self.travel(max_depth) / speed)
    }

    /// The centre's displacement along z at time t (schedule, quasi-static).
    fn dz(&self, t: f64) -> f64 {
        match self.p.motion {
            Motion::Velocity(v) => v[2] * t,
            Motion::Schedule { speed, max_depth, hold, .. } => {
                let t1 = self.t_turn(speed, max_depth);
                if t <= t1 + hold {
                    -speed * t.min(t1)
                } else {
                    (-speed * t1 + speed * (t - t1 - hold)).min(0.0)
                }
            }
            Motion::QuasiStatic { step, max_depth } => {
                let n = self.st.increment as f64;
                let down = self.increments_down(step, max_depth);
                -step * if n <= down { n } else { (2.0 * down - n).max(0.0) }
            }
        }
    }

    fn time(&self, step: u64) -> f64 {
        match self.p.motion {
            Motion::QuasiStatic { .. } => self.st.increment as f64,
            _ => step.saturating_sub(self.st.start) as f64 * self.st.dt,
        }
    }

    /// The centre now.
    fn centre(&self, step: u64) -> [f64; 3] {
        let t = self.time(step);
        match self.p.motion {
            Motion::Velocity(v) => {
                let c = [self.p.center[0], self.p.center[1], self.st.z0];
                std::array::from_fn(|d| c[d] + v[d] * t)
            }
            _ => [self.p.center[0], self.p.center[1], self.st.z0 + self.dz(t)],
        }
    }

    fn phase(&self, t: f64) -> u8 {
        match self.p.motion {
            Motion::Velocity(_) => ind::LOADING,
            Motion::Schedule { speed, max_depth, hold, .. } => {
                let t1 = self.t_turn(speed, max_depth);
                if t < t1 {
                    ind::LOADING
                } else if t <= t1 + hold {
                    ind::HOLDING
                } else {
                    ind::UNLOADING
                }
            }
            Motion::QuasiStatic { step, max_depth } => {
                let down = self.increments_down(step, max_depth);
                if t <= down {
                    ind::LOADING
                } else {
                    ind::UNLOADING
                }
            }
        }
    }

    fn apply(&mut self, eng: &mut Engine) {
        let c = self.centre(eng.step);
        let n = eng.atoms.nlocal;
        let bx = eng.bx.clone();
        self.face = [bx.length(0), bx.length(1)];
        let crate::system::Atoms { x, f, cols, .. } = &mut eng.atoms;
        let m = Members::new(cols, self.group);
        let (k, k3, radius) = (self.p.k, self.p.k / 3.0, self.p.radius);
        self.sums = [0.0; 4];
        self.contact = (0.0, 0.0);
        for i in (0..n).filter(|&i| m.has(i)) {
            let mut d = bx.minimum_image([x[i][0] - c[0], x[i][1] - c[1], x[i][2] - c[2]]);
            let fv = match self.p.shape {
                Shape::Sphere | Shape::Cylinder(_) => {
                    if let Shape::Cylinder(a) = self.p.shape {
                        d[a] = 0.0;
                    }
                    let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                    let dr = r - radius;
                    if dr >= 0.0 {
                        continue;
                    }
                    self.sums[0] -= k3 * dr * dr * dr;
                    let fmag = k * dr * dr;
                    [d[0] * fmag / r, d[1] * fmag / r, d[2] * fmag / r]
                }
                Shape::Plane => {
                    // LAMMPS plane z pos hi: dr = pos − z < 0 above the wall.
                    let dr = c[2] - x[i][2];
                    if dr >= 0.0 {
                        continue;
                    }
                    self.sums[0] -= k3 * dr * dr * dr;
                    [0.0, 0.0, -k * dr * dr]
                }
            };
            for a in 0..3 {
                f[i][a] += fv[a];
                self.sums[1 + a] -= fv[a];
            }
            // In-plane distance from the indenter's axis (the cylinder's
            // half-width across it).
            let a = match self.p.shape {
                Shape::Sphere => (d[0] * d[0] + d[1] * d[1]).sqrt(),
                Shape::Cylinder(ax) => d[1 - ax].abs(),
                Shape::Plane => f64::NAN,
            };
            self.contact = (self.contact.0 + 1.0, self.contact.1.max(a));
        }
    }

    /// Add a row of the curve (collective).
    fn record(&mut self, eng: &Engine) {
        let mut s = [self.sums[3], self.contact.0];
        eng.comm.sum_f64(&mut s);
        let mut a = [self.contact.1];
        eng.comm.max_f64(&mut a);
        let t = self.time(eng.step);
        let tip = self.centre(eng.step)[2] + self.tip_offset();
        let a = if self.p.shape == Shape::Plane { f64::NAN } else { a[0] };
        self.st.rows.push([eng.step as f64, t, tip, self.st.surface - tip, s[0] * ind::NN_PER_EV_A, a, s[1], self.phase(t) as f64]);
    }

    /// The surface height: mean over xy columns of the highest atom of the
    /// group in each (collective).
    fn surface(&self, eng: &Engine) -> f64 {
        let bx = &eng.bx;
        // At most 1024 columns per axis (an 8 MB reduction), wider on huge boxes.
        let nb = [0, 1].map(|d| ((bx.length(d) / self.p.surface_bin).floor() as usize).clamp(1, 1024));
        let mut top = vec![f64::NEG_INFINITY; nb[0] * nb[1]];
        let m = Members::new(&eng.atoms.cols, self.group);
        for i in (0..eng.atoms.nlocal).filter(|&i| m.has(i)) {
            let x = eng.atoms.x[i];
            let b = [0, 1].map(|d| {
                let f = ((x[d] - bx.lo[d]) / bx.length(d)).rem_euclid(1.0);
                ((f * nb[d] as f64) as usize).min(nb[d] - 1)
            });
            let c = &mut top[b[1] * nb[0] + b[0]];
            *c = c.max(x[2]);
        }
        eng.comm.max_f64(&mut top);
        let filled: Vec<f64> = top.into_iter().filter(|z| z.is_finite()).collect();
        filled.iter().sum::<f64>() / filled.len().max(1) as f64
    }

    fn tip(&self) -> Tip {
        match self.p.shape {
            Shape::Sphere => Tip::Sphere { radius: self.p.radius },
            Shape::Cylinder(a) => Tip::Cylinder { radius: self.p.radius, length: self.face[a] },
            Shape::Plane => Tip::Plane { area: self.face[0] * self.face[1] },
        }
    }

    /// indent.csv.
    fn csv(&self) -> String {
        let mut s = String::from("step,time_ps,tip_z,depth,load_nN,load_uN,contact_radius,contact_atoms,phase\n");
        for r in &self.st.rows {
            s += &format!("{},{:.17e},{:.17e},{:.17e},{:.17e},{:.17e},{:.17e},{},{}\n", r[0], r[1], r[2], r[3], r[4], r[4] * 1e-3, r[5], r[6], ["load", "hold", "unload"][r[7] as usize]);
        }
        s
    }
}

impl Fix for Indent {
    fn id(&self) -> &str {
        &self.id
    }
    fn setup(&mut self, eng: &mut Engine) -> Result<(), String> {
        // The clock starts now; set-up's forces (`setup_forces`, before
        // this) already used the start centre.
        self.st = State { start: eng.step, dt: self.st.dt, z0: self.p.center[2], ..Default::default() };
        self.st.surface = self.p.surface_z.unwrap_or_else(|| self.surface(eng));
        if let Some(g) = self.p.start_gap {
            self.st.z0 = self.st.surface + g - self.tip_offset();
        }
        let tip = self.st.z0 + self.tip_offset();
        // (A tip placed at the surface by arithmetic may miss it by an ulp.)
        if tip < self.st.surface - 1e-9 * self.st.surface.abs().max(1.0) {
            return Err(format!(
                "the indenter starts inside the sample: its lowest point z = {:.3} A is below the surface at z = {:.3} A ({}); start it above the surface",
                tip,
                self.st.surface,
                if self.p.surface_z.is_some() { "surface_z" } else { "mean z of the top surface atoms" }
            ));
        }
        if eng.comm.is_root() {
            log::info!("fix {}: surface at z = {:.4} A ({}), tip starts {:.4} A above it", self.id, self.st.surface, if self.p.surface_z.is_some() { "surface_z" } else { "mean z of the top surface atoms" }, tip - self.st.surface);
        }
        self.apply(eng);
        if !matches!(self.p.motion, Motion::QuasiStatic { .. }) {
            self.record(eng);
        }
        Ok(())
    }
    fn setup_forces(&mut self, eng: &mut Engine) {
        self.apply(eng);
    }
    fn post_force(&mut self, eng: &mut Engine, dt: f64) {
        self.st.dt = dt;
        self.apply(eng);
        let t = self.time(eng.step);
        if let (Motion::Schedule { max_load: Some(pmax), .. }, None) = (self.p.motion, self.st.turn) {
            // A load-limited schedule turns at the first step whose load
            // reaches the limit (one reduction per step while loading).
            if eng.comm.sum_scalar(self.sums[3]) >= pmax {
                self.st.turn = Some(t);
            }
        }
        if (eng.step - self.st.start) % self.p.every == 0 {
            self.record(eng);
        }
    }
    fn min_post_force(&mut self, eng: &mut Engine) {
        self.apply(eng);
    }
    fn min_record(&mut self, eng: &mut Engine) {
        self.record(eng);
    }
    fn quasi_static_next(&mut self) -> bool {
        let Motion::QuasiStatic { step, max_depth } = self.p.motion else {
            return false;
        };
        let down = self.increments_down(step, max_depth) as u64;
        if self.st.increment >= 2 * down {
            return false;
        }
        self.st.increment += 1;
        true
    }
    fn stage_steps(&self, dt: f64) -> Option<u64> {
        match self.p.motion {
            Motion::Schedule { speed, max_depth, hold, .. } => {
                let t1 = self.t_turn(speed, max_depth);
                Some(((2.0 * t1 + hold) / dt - 1e-9).ceil().max(1.0) as u64)
            }
            _ => None,
        }
    }
    fn finished(&self, eng: &Engine) -> bool {
        match (self.p.motion, self.st.turn) {
            (Motion::Schedule { hold, .. }, Some(t1)) => self.time(eng.step) >= 2.0 * t1 + hold - 1e-12,
            _ => false,
        }
    }
    fn output(&self) -> Option<FixOutput> {
        let pts: Vec<Point> = self.st.rows.iter().map(|r| Point { h: r[3], p: r[4], a: r[5], phase: r[7] as u8 }).collect();
        let rep = ind::analyse(&pts, self.tip(), self.p.options);
        let mut results = vec![("surface_z_A".to_string(), self.st.surface)];
        results.extend(rep.pairs());
        Some(FixOutput { file: self.p.file.clone(), text: self.csv(), results, warnings: rep.warnings })
    }
    fn energy(&self, _eng: &Engine) -> f64 {
        self.sums[0]
    }
    fn thermo_names(&self) -> Vec<&'static str> {
        COLUMNS.to_vec()
    }
    fn thermo_local(&self, _eng: &Engine) -> Vec<f64> {
        self.sums.to_vec()
    }
    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.st).ok()
    }
    fn restore(&mut self, v: &serde_json::Value) -> Result<(), String> {
        self.st = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        Ok(())
    }
}
