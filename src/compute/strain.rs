//! Per-atom local strain for snapshots and dumps: `strain` (column
//! `vm_strain`: the von Mises shear strain of the best-fit local
//! deformation gradient, Shimizu, Ogata & Li, Mater. Trans. 48, 2923
//! (2007), eq. 5) and `d2min` (the residual of that fit, Falk & Langer,
//! PRE 57, 7192 (1998), eq. 2.11), over the neighbors within `[compute]
//! strain_cutoff` in the reference configuration.
//!
//! The reference is the configuration after the stage `[compute]
//! strain_reference` names, or the file `strain_reference_file`; the engine
//! keeps it in the persistent column `strain_reference` and computes both
//! values together (`Engine::local_strain`). Before the reference exists
//! the values are NaN. The numbers are those of `glassmd analyze
//! --reference` on the same pair of configurations.

use super::{Needs, PerAtomCompute, Settings};
use crate::engine::Engine;

/// Both values of every owned atom, (vm_strain, d2min) interleaved; NaN
/// without a reference. Whichever of the two fields is evaluated first
/// computes both; the other takes them from `compute_values`. (The cutoff
/// was checked against the reference box when the reference was taken.)
fn pair(eng: &Engine) -> Vec<f64> {
    if let Some(v) = eng.compute_values.get("strain").or_else(|| eng.compute_values.get("d2min")) {
        return v.clone();
    }
    match eng.compute_settings.strain_cutoff.and_then(|rc| eng.local_strain(rc)) {
        Some(v) => v.iter().flat_map(|&(a, b)| [a, b]).collect(),
        None => vec![f64::NAN; 2 * eng.atoms.nlocal],
    }
}

/// Column `k` (0: vm_strain, 1: d2min) of the pair the first of the two
/// fields computed for this frame.
fn row(eng: &Engine, k: usize, i: usize, out: &mut Vec<f64>) {
    let v = eng.compute_values.get("strain").or_else(|| eng.compute_values.get("d2min"));
    out.push(v.and_then(|v| v.get(2 * i + k)).copied().unwrap_or(f64::NAN));
}

pub struct Strain;

impl PerAtomCompute for Strain {
    fn name(&self) -> &'static str {
        "strain"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["vm_strain"]
    }
    fn needs(&self, _s: &Settings) -> Needs {
        Needs { alone: true, ..Needs::default() }
    }
    fn evaluate_alone(&self, eng: &Engine) -> Vec<f64> {
        pair(eng)
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        row(eng, 0, i, out)
    }
}

pub struct D2min;

impl PerAtomCompute for D2min {
    fn name(&self) -> &'static str {
        "d2min"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["d2min"]
    }
    fn needs(&self, _s: &Settings) -> Needs {
        Needs { alone: true, ..Needs::default() }
    }
    fn evaluate_alone(&self, eng: &Engine) -> Vec<f64> {
        pair(eng)
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        row(eng, 1, i, out)
    }
}
