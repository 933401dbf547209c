//! Box deformation at a constant engineering strain rate (LAMMPS `fix
//! deform N dim erate R remap x` with N = 1): at the end of every step the
//! box length along each deformed axis is L(t) = L0 (1 + R t), t the time
//! since the stage began, both faces moving symmetrically about the centre
//! (LAMMPS `FixDeform::end_of_step`, `erate` style). Atoms are carried
//! affinely with the box (`remap x`: fractional coordinates kept, as
//! `Domain::x2lamda`/`lamda2x`). Tension is R > 0, compression R < 0.
//!
//! The start box and step are the fix's state, so a restart continues the
//! same ramp. The mechanics issue extends this with true rates, final
//! lengths, tilt and stop conditions.

use super::{BoxChange, Fix};
use crate::engine::Engine;

pub struct Deform {
    id: String,
    /// 1/ps per axis (None: not deformed).
    erate: [Option<f64>; 3],
    state: DeformState,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct DeformState {
    /// Box and step when the stage began.
    lo: [f64; 3],
    hi: [f64; 3],
    step: u64,
}

impl Deform {
    pub fn new(id: &str, erate: [Option<f64>; 3]) -> Deform {
        Deform { id: id.to_string(), erate, state: DeformState { lo: [0.0; 3], hi: [0.0; 3], step: 0 } }
    }
}

impl Fix for Deform {
    fn id(&self) -> &str {
        &self.id
    }
    fn box_change(&self) -> BoxChange {
        BoxChange::axes(self.erate.map(|r| r.is_some()))
    }
    fn setup(&mut self, eng: &mut Engine) {
        self.state = DeformState { lo: eng.bx.lo, hi: eng.bx.hi, step: eng.step };
    }
    fn end_of_step(&mut self, eng: &mut Engine, dt: f64) {
        // LAMMPS: delt = (step − beginstep)·dt; lo = lo0 − ½ delt R L0.
        let delt = (eng.step - self.state.step) as f64 * dt;
        let (mut lo, mut hi) = (eng.bx.lo, eng.bx.hi);
        for d in 0..3 {
            if let Some(r) = self.erate[d] {
                let (l0, h0) = (self.state.lo[d], self.state.hi[d]);
                lo[d] = l0 - 0.5 * delt * r * (h0 - l0);
                hi[d] = h0 + 0.5 * delt * r * (h0 - l0);
            }
        }
        eng.remap_box_to(lo, hi);
    }
    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.state).ok()
    }
    fn restore(&mut self, v: &serde_json::Value) -> Result<(), String> {
        self.state = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        Ok(())
    }
}
