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
//! coordinates kept, `Engine::remap_box_to`). The start box, step and a
//! pending flip are the fix's state, so a restart continues the same ramp.
//! The mechanics issue extends this with true rates, final lengths and stop
//! conditions.

use super::{BoxChange, Fix};
use crate::engine::Engine;
use crate::integrate::barostat::flip_tilts;

pub struct Deform {
    id: String,
    /// 1/ps per normal axis (None: not deformed).
    erate: [Option<f64>; 3],
    /// 1/ps per tilt xy, xz, yz (None: not deformed).
    tilt_rate: [Option<f64>; 3],
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
}

impl Deform {
    pub fn new(id: &str, erate: [Option<f64>; 3], tilt_rate: [Option<f64>; 3]) -> Deform {
        Deform { id: id.to_string(), erate, tilt_rate, state: DeformState { lo: [0.0; 3], hi: [0.0; 3], step: 0, tilt: [0.0; 3], flip: None } }
    }
}

impl Fix for Deform {
    fn id(&self) -> &str {
        &self.id
    }
    fn box_change(&self) -> BoxChange {
        BoxChange::axes(self.erate.map(|r| r.is_some())).union(BoxChange::tilts(self.tilt_rate.map(|r| r.is_some())))
    }
    fn setup(&mut self, eng: &mut Engine) {
        self.state = DeformState { lo: eng.bx.lo, hi: eng.bx.hi, step: eng.step, tilt: eng.bx.tilt, flip: None };
    }
    fn pre_exchange(&mut self, eng: &mut Engine) {
        if let Some((tilt, flips)) = self.state.flip.take() {
            eng.flip_tilts(tilt, flips);
        }
    }
    fn end_of_step(&mut self, eng: &mut Engine, dt: f64) {
        // LAMMPS: delt = (step − beginstep)·dt; lo = lo0 − ½ delt R L0.
        let delt = (eng.step - self.state.step) as f64 * dt;
        let (mut lo, mut hi, mut tilt) = (eng.bx.lo, eng.bx.hi, eng.bx.tilt);
        for d in 0..3 {
            if let Some(r) = self.erate[d] {
                let (l0, h0) = (self.state.lo[d], self.state.hi[d]);
                lo[d] = l0 - 0.5 * delt * r * (h0 - l0);
                hi[d] = h0 + 0.5 * delt * r * (h0 - l0);
            }
        }
        for (k, &(_, along, second)) in crate::system::TILTS.iter().enumerate() {
            let Some(r) = self.tilt_rate[k] else { continue };
            let mut target = self.state.tilt[k] + delt * r * (self.state.hi[second] - self.state.lo[second]);
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
        eng.remap_box_to(&new);
        if self.tilt_rate.iter().any(|r| r.is_some()) {
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
