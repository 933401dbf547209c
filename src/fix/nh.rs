//! Nosé–Hoover NVT and MTK NPT as fixes (LAMMPS `fix nvt`, `fix npt`;
//! Martyna, Tobias & Klein, J. Chem. Phys. 101, 4177 (1994); Shinoda,
//! Shiga & Mikami, Phys. Rev. B 69, 134103 (2004)). The order of operations
//! is LAMMPS `FixNH::initial_integrate` / `final_integrate`, so runs follow
//! LAMMPS to round-off:
//!
//! ```text
//! initial: [baro chain ½] T ramp, chain ½ (scale v), [ω̇ update, v_press]
//!          kick, [remap], drift, [remap]
//! final:   kick, [v_press], T, [ω̇ update], chain ½ (scale v), [baro chain ½]
//! ```
//!
//! On a group (`fix nvt` on a group), the chain sees the group's
//! temperature with 3N_g − 3 degrees of freedom and scales only its atoms.
//! NPT, as LAMMPS `fix npt`, measures temperature and pressure over all
//! atoms and dilates all of them with the box, but integrates and scales
//! only its group. The chains are the fix's state (checkpointed under its
//! id) and carry across stages. `Nvt` is also a stage fix on a group (a
//! thermostat layer beside the stage's NVE on the rest), whose chain
//! starts afresh and does not carry.

use super::{BoxChange, Fix};
use crate::engine::{Engine, ThermostatState};
use crate::integrate::barostat::Barostat;
use crate::integrate::nose_hoover::NoseHooverChain;
use crate::system::group::Sel;

/// Nosé–Hoover chain NVT with a linear temperature ramp over a stage: the
/// target at step s of n is T0 + (s/n)(T1 − T0), evaluated at the start of
/// the step as LAMMPS does.
pub struct Nvt {
    pub id: String,
    pub group: Sel,
    pub chain: NoseHooverChain,
    pub t_start: f64,
    pub t_stop: f64,
    pub tdamp: f64,
    pub steps: u64,
    /// Steps of this stage done so far.
    pub done: u64,
    /// Does the chain carry on to the next stage (the stage's own
    /// thermostat: yes; a stage fix on a layer, `[[stage.fix]] kind =
    /// "nvt"`: no)?
    pub carries: bool,
}

impl Fix for Nvt {
    fn id(&self) -> &str {
        &self.id
    }
    fn integrates(&self) -> Option<Sel> {
        Some(self.group)
    }
    /// Set up the chain for the stage (η, η̇ of earlier stages are kept).
    fn setup(&mut self, eng: &mut Engine) -> Result<(), String> {
        let t = eng.temperature_group(self.group);
        let tdof = eng.tdof_group(self.group);
        self.chain.setup(self.tdamp, self.t_start, t, tdof);
        Ok(())
    }
    fn initial_integrate(&mut self, eng: &mut Engine, dt: f64) {
        self.done += 1;
        let delta = self.done as f64 / self.steps as f64;
        self.chain.t_target = self.t_start + delta * (self.t_stop - self.t_start);
        let f = self.chain.half_step(dt);
        eng.scale_velocities_group(f, self.group);
        eng.kick_group(dt, self.group);
        eng.drift_group(dt, self.group);
    }
    fn final_integrate(&mut self, eng: &mut Engine, dt: f64) {
        eng.kick_group(dt, self.group);
        self.chain.t_current = eng.temperature_group(self.group);
        let f = self.chain.half_step(dt);
        eng.scale_velocities_group(f, self.group);
    }
    fn thermo_names(&self) -> Vec<&'static str> {
        vec!["energy"]
    }
    fn thermo_local(&self, eng: &Engine) -> Vec<f64> {
        vec![if eng.comm.is_root() { self.chain.energy() } else { 0.0 }]
    }
    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.chain).ok()
    }
    fn restore(&mut self, v: &serde_json::Value) -> Result<(), String> {
        self.chain = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        Ok(())
    }
    fn carry(&self, s: &mut ThermostatState) {
        if self.carries {
            s.chain = self.chain.clone();
        }
    }
}

/// MTK NPT: Nosé–Hoover chain on the particles, MTK cell with its own
/// chain, linear temperature and pressure ramps over the stage.
pub struct Npt {
    pub id: String,
    pub group: Sel,
    pub chain: NoseHooverChain,
    pub baro: Barostat,
    pub t_start: f64,
    pub t_stop: f64,
    pub tdamp: f64,
    pub steps: u64,
    pub done: u64,
    /// A stress-controlled cycle: the targets of the normal axes move by
    /// −amp·w(t) bar (σ = −P swings by ±amp, tension first).
    pub wave: Option<([f64; 3], crate::fix::deform::Wave)>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct NptState {
    chain: NoseHooverChain,
    baro: Barostat,
}

impl Npt {
    fn apply_v_press(&self, eng: &mut Engine, dt: f64) {
        let f = self.baro.v_press_factors(dt);
        let baro = &self.baro;
        eng.for_group_velocities(self.group, |v| baro.v_press(v, &f, dt));
    }
    /// Half a step of the cell: the dilation of an orthogonal box, the full
    /// ḣ = ω̇ h of a triclinic one.
    fn remap(&mut self, eng: &mut Engine, dt: f64) {
        if eng.bx.triclinic {
            match self.baro.remap_box(dt, &eng.bx) {
                Ok(b) => eng.remap_box_to(&b),
                Err(m) => eng.fault = Some(format!("fix {}: {}", self.id, m)),
            }
        } else {
            let f = self.baro.remap_factors(dt);
            eng.dilate(self.baro.fixedpoint, f);
        }
    }
    fn measure(&mut self, eng: &Engine) -> [f64; 3] {
        let (_, ke, p, tensor) = eng.pressure();
        self.baro.couple_pressure(p, tensor);
        [ke[0], ke[1], ke[2]]
    }
}

impl Fix for Npt {
    fn id(&self) -> &str {
        &self.id
    }
    fn integrates(&self) -> Option<Sel> {
        Some(self.group)
    }
    fn box_change(&self) -> BoxChange {
        BoxChange::axes(self.baro.p_flag).union(BoxChange::tilts([self.baro.tri.p_flag[2], self.baro.tri.p_flag[1], self.baro.tri.p_flag[0]]))
    }
    fn setup(&mut self, eng: &mut Engine) -> Result<(), String> {
        let t_now = eng.temperature();
        self.chain.setup(self.tdamp, self.t_start, t_now, eng.tdof());
        self.baro.press_target(0.0);
        self.baro.setup(self.t_start, eng.natoms, &eng.bx);
        let (_, _, p, tensor) = eng.pressure();
        self.baro.couple_pressure(p, tensor);
        Ok(())
    }
    fn initial_integrate(&mut self, eng: &mut Engine, dt: f64) {
        self.done += 1;
        let delta = self.done as f64 / self.steps as f64;
        self.baro.chain_half_step(dt, self.chain.t_target);
        self.chain.t_target = self.t_start + delta * (self.t_stop - self.t_start);
        let f = self.chain.half_step(dt);
        eng.scale_velocities_group(f, self.group);
        let mvv = self.measure(eng);
        if self.baro.nreset > 0 && self.done % self.baro.nreset == 0 {
            self.baro.reset_reference(&eng.bx);
        }
        self.baro.press_target(delta);
        if let Some((amp, w)) = self.wave {
            let shape = w.shape(self.done as f64 * dt);
            self.baro.offset_targets(amp.map(|a| -a * shape));
        }
        let (tdof, natoms) = (eng.tdof(), eng.natoms);
        self.baro.omega_dot_update(dt, &eng.bx, tdof, self.chain.t_current, mvv, natoms);
        self.apply_v_press(eng, dt);
        eng.kick_group(dt, self.group);
        self.remap(eng, dt);
        eng.drift_group(dt, self.group);
        self.remap(eng, dt);
    }
    /// A barostatted or scaled tilt past ½ + 0.1 box lengths flips before
    /// the atoms are redistributed (LAMMPS `FixNH::pre_exchange`).
    fn pre_exchange(&mut self, eng: &mut Engine) {
        if eng.bx.triclinic && (self.baro.tri.any() || self.baro.tri.scale.iter().any(|&s| s)) {
            if let Some((tilt, flips)) = Barostat::flips(&eng.bx) {
                eng.flip_tilts(tilt, flips);
            }
        }
    }
    fn final_integrate(&mut self, eng: &mut Engine, dt: f64) {
        eng.kick_group(dt, self.group);
        self.apply_v_press(eng, dt);
        self.chain.t_current = eng.temperature();
        let mvv = self.measure(eng);
        let (tdof, natoms) = (eng.tdof(), eng.natoms);
        self.baro.omega_dot_update(dt, &eng.bx, tdof, self.chain.t_current, mvv, natoms);
        let f = self.chain.half_step(dt);
        eng.scale_velocities_group(f, self.group);
        self.baro.chain_half_step(dt, self.chain.t_target);
    }
    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(NptState { chain: self.chain.clone(), baro: self.baro.clone() }).ok()
    }
    fn restore(&mut self, v: &serde_json::Value) -> Result<(), String> {
        let s: NptState = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        self.chain = s.chain;
        self.baro = s.baro;
        Ok(())
    }
    fn carry(&self, s: &mut ThermostatState) {
        s.chain = self.chain.clone();
        s.baro = Some(self.baro.clone());
    }
}
