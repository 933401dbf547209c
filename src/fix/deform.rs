//! Box deformation at a constant engineering strain rate (LAMMPS `fix
//! deform N dim erate R remap x` with N = 1), on normal and tilt
//! components. At the end of every step, t the time since the stage began:
//!
//! * a normal axis has length L(t) = L0 (1 + R t), both faces moving
//!   symmetrically about the centre (LAMMPS `FixDeform::end_of_step`,
//!   `erate` style); tension is R > 0, compression R < 0;
//! * a tilt grows as T(t) = T0 + R t L0', with L0' the start length of its
//!   second axis (ly for xy, lz for xz and yz): simple shear at engineering
//!   shear rate R. The target is taken as the image of T(t) nearest the
//!   current tilt, and a tilt past half the length of the axis it leans
//!   along is flipped by one length at the next step's `pre_exchange`
//!   (LAMMPS `FixDeform` flips, via `barostat::flip_tilts`), so shear can
//!   run to any strain. A flip moves no atom, only the cell and image
//!   flags, so energy and forces are continuous across it.
//!
//! Atoms are carried affinely with the box (`remap x`: fractional
//! coordinates kept, `Engine::remap_box_to`), or left where they are
//! (`remap v`, LAMMPS `fix deform ... remap v`, for shear flow): only the
//! cell moves, the periodic images move with it, and an atom that crosses a
//! periodic face at a reneighboring has the velocity of the image it
//! becomes added — the rate of change of the cell's edge vectors,
//! `h_rate` (LAMMPS `Domain::pbc` with `deform_vremap`; the Lees–Edwards
//! boundary condition of a homogeneous shear flow, Evans & Morriss,
//! *Statistical Mechanics of Nonequilibrium Liquids*, ch. 6). The fix hands
//! its `h_rate` to the engine in `pre_exchange`, right before the wrap.
//!
//! Other styles: true rate L0 exp(R t), a final value reached linearly over
//! the stage, and a waveform (cyclic loading), all as [`Motion`]s. The start
//! box, step, the last `h_rate` and a pending flip are the fix's state, so a
//! restart continues the same ramp. To add a style, add a `Motion` variant
//! with its value and its time derivative.

use super::{BoxChange, Fix};
use crate::engine::Engine;
use crate::integrate::barostat::flip_tilts;

/// A periodic waveform of strain (or of stress, for a stress-controlled
/// cycle): mean + amplitude × shape, shape a sine or a triangle with
/// period `period` ps, both starting at 0 and rising first.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Wave {
    pub amplitude: f64,
    pub mean: f64,
    pub period: f64,
    pub triangle: bool,
}

impl Wave {
    /// The shape at time t (ps): sin(2πt/P), or the triangle through 0 →
    /// 1 → 0 → −1 → 0 over a period.
    pub fn shape(&self, t: f64) -> f64 {
        let phase = (t / self.period).rem_euclid(1.0);
        if !self.triangle {
            return (2.0 * std::f64::consts::PI * t / self.period).sin();
        }
        if phase < 0.25 {
            4.0 * phase
        } else if phase < 0.75 {
            2.0 - 4.0 * phase
        } else {
            4.0 * phase - 4.0
        }
    }
    /// The value at time t: the mean (reached over the first quarter
    /// period) plus amplitude × shape.
    pub fn value(&self, t: f64) -> f64 {
        self.mean * (4.0 * t / self.period).min(1.0) + self.amplitude * self.shape(t)
    }
}

/// How one box component moves with the time t since the stage began.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Motion {
    /// Engineering rate R, 1/ps: L0 (1 + R t); a tilt T0 + R t L0'.
    Erate(f64),
    /// True rate R, 1/ps: L0 exp(R t); a tilt T0 exp(R t).
    Trate(f64),
    /// From the start value to `value` (Å) over `duration` ps.
    Final { value: f64, duration: f64 },
    /// Strain ε(t) of a waveform: L0 (1 + ε); a tilt T0 + ε L0'.
    Wave(Wave),
}

impl Motion {
    /// The component at time t from its start value `v0` (a length or a
    /// tilt) and the start length `l0` of the axis that scales it (the
    /// axis itself, or a tilt's second axis).
    fn at(&self, t: f64, v0: f64, l0: f64, tilt: bool) -> f64 {
        match *self {
            Motion::Erate(r) => v0 + t * r * l0,
            Motion::Trate(r) => v0 * (r * t).exp(),
            Motion::Final { value, duration } => v0 + (value - v0) * (t / duration).min(1.0),
            Motion::Wave(w) if tilt => v0 + w.value(t) * l0,
            Motion::Wave(w) => l0 * (1.0 + w.value(t)),
        }
    }
    /// The rate of change of the component, Å/ps, at time t (LAMMPS
    /// `h_rate`): constant for erate (R L0) and final ((value − v0) /
    /// duration, over the whole stage as LAMMPS takes it); R × the current
    /// value `now` for trate (as LAMMPS, from the box before the step's
    /// update); dε/dt × L0 for a waveform.
    fn rate(&self, t: f64, v0: f64, l0: f64, now: f64) -> f64 {
        match *self {
            Motion::Erate(r) => r * l0,
            Motion::Trate(r) => r * now,
            Motion::Final { value, duration } => (value - v0) / duration,
            Motion::Wave(w) => {
                // Central difference of the waveform over a tiny interval:
                // exact for the triangle away from its corners and to
                // O(h²) for the sine.
                let h = 1e-6 * w.period;
                (w.value(t + h) - w.value((t - h).max(0.0))) / (t + h - (t - h).max(0.0)) * l0
            }
        }
    }
}

pub struct Deform {
    id: String,
    /// Per component x, y, z, xy, xz, yz (None: not deformed).
    motion: [Option<Motion>; 6],
    /// `remap v`: atoms stay put; velocities change at periodic wraps.
    remap_v: bool,
    state: DeformState,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct DeformState {
    /// Box and step when the stage began.
    lo: [f64; 3],
    hi: [f64; 3],
    step: u64,
    #[serde(default)]
    tilt: [f64; 3],
    /// A flip found at the end of the last step, done at this step's
    /// reneighboring: the new tilts and the flips (xy, xz, yz).
    #[serde(default)]
    flip: Option<([f64; 3], [i32; 3])>,
    /// The cell's rate of change (x, y, z, xy, xz, yz), Å/ps, from the last
    /// end of step (LAMMPS `h_rate`); kept (and non-zero) only for `remap v`.
    #[serde(default)]
    h_rate: [f64; 6],
}

impl Deform {
    pub fn new(id: &str, motion: [Option<Motion>; 6]) -> Deform {
        Deform { id: id.to_string(), motion, remap_v: false, state: DeformState { lo: [0.0; 3], hi: [0.0; 3], step: 0, tilt: [0.0; 3], flip: None, h_rate: [0.0; 6] } }
    }
    /// Leave atoms in place as the box deforms (`remap v`).
    pub fn remap_v(mut self, on: bool) -> Deform {
        self.remap_v = on;
        self
    }
    /// `h_rate` at time t since the start, from the box `bx` before the
    /// step's update.
    fn h_rate(&self, t: f64, bx: &crate::system::SimBox) -> [f64; 6] {
        let s = &self.state;
        std::array::from_fn(|c| match self.motion[c] {
            None => 0.0,
            Some(m) if c < 3 => m.rate(t, s.hi[c] - s.lo[c], s.hi[c] - s.lo[c], bx.length(c)),
            Some(m) => {
                let second = crate::system::TILTS[c - 3].2;
                m.rate(t, s.tilt[c - 3], s.hi[second] - s.lo[second], bx.tilt[c - 3])
            }
        })
    }
    /// Engineering rates of the normal axes and the tilts (a deck's
    /// `erate`).
    pub fn erates(id: &str, axes: [Option<f64>; 3], tilts: [Option<f64>; 3]) -> Deform {
        Deform::new(id, std::array::from_fn(|k| if k < 3 { axes[k] } else { tilts[k - 3] }.map(Motion::Erate)))
    }
}

impl Fix for Deform {
    fn id(&self) -> &str {
        &self.id
    }
    fn box_change(&self) -> BoxChange {
        BoxChange::axes(std::array::from_fn(|d| self.motion[d].is_some())).union(BoxChange::tilts(std::array::from_fn(|k| self.motion[3 + k].is_some())))
    }
    fn setup(&mut self, eng: &mut Engine) -> Result<(), String> {
        self.state = DeformState { lo: eng.bx.lo, hi: eng.bx.hi, step: eng.step, tilt: eng.bx.tilt, flip: None, h_rate: [0.0; 6] };
        if self.remap_v {
            self.state.h_rate = self.h_rate(0.0, &eng.bx);
        }
        Ok(())
    }
    fn pre_exchange(&mut self, eng: &mut Engine) {
        if let Some((tilt, flips)) = self.state.flip.take() {
            eng.flip_tilts(tilt, flips);
        }
        if self.remap_v {
            eng.vremap = Some(self.state.h_rate);
        }
    }
    fn end_of_step(&mut self, eng: &mut Engine, dt: f64) {
        // LAMMPS: delt = (step − beginstep)·dt; the faces move
        // symmetrically about the centre: lo = mid − ½ L(t).
        let delt = (eng.step - self.state.step) as f64 * dt;
        // Only remap v reads the cell's rate (at the next wrap).
        if self.remap_v {
            self.state.h_rate = self.h_rate(delt, &eng.bx);
        }
        let (mut lo, mut hi, mut tilt) = (eng.bx.lo, eng.bx.hi, eng.bx.tilt);
        for d in 0..3 {
            if let Some(m) = self.motion[d] {
                let (l0, h0) = (self.state.lo[d], self.state.hi[d]);
                if let Motion::Erate(r) = m {
                    // LAMMPS's own arithmetic for erate, kept bit for bit.
                    lo[d] = l0 - 0.5 * delt * r * (h0 - l0);
                    hi[d] = h0 + 0.5 * delt * r * (h0 - l0);
                } else {
                    let (mid, len) = (0.5 * (l0 + h0), m.at(delt, h0 - l0, h0 - l0, false));
                    lo[d] = mid - 0.5 * len;
                    hi[d] = mid + 0.5 * len;
                }
            }
        }
        let mut tilted = false;
        for (k, &(_, along, second)) in crate::system::TILTS.iter().enumerate() {
            let Some(m) = self.motion[3 + k] else { continue };
            tilted = true;
            let mut target = m.at(delt, self.state.tilt[k], self.state.hi[second] - self.state.lo[second], true);
            // The image of the target nearest the current tilt (in units
            // of the new length of the axis it leans along).
            let denom = hi[along] - lo[along];
            let current = eng.bx.tilt[k] / eng.bx.length(along);
            let steps = (target / denom - current).floor();
            if steps.is_finite() {
                target -= steps * denom;
            }
            if (target / denom - 1.0 - current).abs() < (target / denom - current).abs() {
                target -= denom;
            }
            tilt[k] = target;
        }
        let new = eng.bx.with_shape(lo, hi, tilt);
        if self.remap_v {
            eng.reshape_box(&new);
        } else {
            eng.remap_box_to(&new);
        }
        if tilted {
            self.state.flip = flip_tilts(&eng.bx, 0.5, false);
            if self.state.flip.is_some() {
                eng.force_reneighbor = true;
            }
        }
    }
    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.state).ok()
    }
    fn restore(&mut self, v: &serde_json::Value) -> Result<(), String> {
        self.state = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_start_at_zero_and_reach_the_amplitude() {
        for triangle in [false, true] {
            let w = Wave { amplitude: 0.02, mean: 0.0, period: 10.0, triangle };
            assert_eq!(w.value(0.0), 0.0);
            assert!((w.value(2.5) - 0.02).abs() < 1e-15, "{triangle}: peak at a quarter period");
            assert!((w.value(7.5) + 0.02).abs() < 1e-15, "{triangle}: trough at three quarters");
            assert!(w.value(10.0).abs() < 1e-15 && w.value(5.0).abs() < 1e-15);
        }
        // Triangle: linear between the turning points.
        let t = Wave { amplitude: 1.0, mean: 0.0, period: 4.0, triangle: true };
        assert!((t.value(0.5) - 0.5).abs() < 1e-15 && (t.value(1.5) - 0.5).abs() < 1e-15 && (t.value(3.5) + 0.5).abs() < 1e-15);
        // The mean arrives over the first quarter period, then stays.
        let m = Wave { amplitude: 0.0, mean: 0.01, period: 4.0, triangle: false };
        assert_eq!((m.value(0.0), m.value(0.5), m.value(1.0), m.value(3.0)), (0.0, 0.005, 0.01, 0.01));
    }

    #[test]
    fn motions() {
        assert!((Motion::Trate(0.1).at(2.0, 10.0, 10.0, false) - 10.0 * 0.2f64.exp()).abs() < 1e-12);
        assert_eq!(Motion::Final { value: 12.0, duration: 4.0 }.at(1.0, 10.0, 10.0, false), 10.5);
        assert_eq!(Motion::Final { value: 12.0, duration: 4.0 }.at(8.0, 10.0, 10.0, false), 12.0);
        let w = Wave { amplitude: 0.1, mean: 0.0, period: 4.0, triangle: true };
        assert!((Motion::Wave(w).at(1.0, 1.0, 20.0, true) - 3.0).abs() < 1e-12, "a tilt moves by strain × L0'");
        // h_rate: the time derivative of `at`.
        assert_eq!(Motion::Erate(0.05).rate(3.0, 1.0, 32.0, 9.0), 1.6);
        assert_eq!(Motion::Trate(0.1).rate(3.0, 10.0, 10.0, 12.0), 1.2000000000000002);
        assert_eq!(Motion::Final { value: 12.0, duration: 4.0 }.rate(1.0, 10.0, 10.0, 10.5), 0.5);
        let s = Wave { amplitude: 0.01, mean: 0.0, period: 8.0, triangle: false };
        let exact = 0.01 * 2.0 * std::f64::consts::PI / 8.0 * (2.0 * std::f64::consts::PI * 1.0 / 8.0).cos() * 30.0;
        assert!((Motion::Wave(s).rate(1.0, 30.0, 30.0, 0.0) - exact).abs() < 1e-9 * exact);
        assert!((Motion::Wave(w).rate(0.5, 20.0, 20.0, 0.0) - 0.1 * 4.0 / 4.0 * 20.0).abs() < 1e-9, "triangle slope 4A/P");
    }
}
