//! Per-atom fields from the structure analyses, for snapshots and dumps:
//! `voronoi` (vol nfaces n3 n4 n5 n6: the Voronoi cell's volume, its faces
//! and its index, `[compute] voronoi_*_threshold` as OVITO's) and `w6`
//! (q6 w6: Steinhardt Q6 and normalised Ŵ6, bonds within `[compute]
//! w6_cutoff`, else the Voronoi neighbors). The numbers are those of
//! `glassmd analyze` on the same configuration (`run::analyze`).

use super::{Needs, PerAtomCompute, Settings};
use crate::analysis::structure::{self, Bonds};
use crate::engine::Engine;

pub struct Voronoi;

fn stored(eng: &Engine, name: &str, i: usize, w: usize, out: &mut Vec<f64>) {
    match eng.compute_values.get(name).filter(|v| v.len() >= (i + 1) * w) {
        Some(v) => out.extend_from_slice(&v[i * w..(i + 1) * w]),
        None => out.extend(std::iter::repeat_n(f64::NAN, w)),
    }
}

impl PerAtomCompute for Voronoi {
    fn name(&self) -> &'static str {
        "voronoi"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["vol", "nfaces", "n3", "n4", "n5", "n6"]
    }
    fn needs(&self, _s: &Settings) -> Needs {
        Needs { alone: true, ..Needs::default() }
    }
    fn evaluate_alone(&self, eng: &Engine) -> Vec<f64> {
        match crate::run::analyze::voronoi_all(eng, &eng.bx, &eng.compute_settings.voronoi_thresholds(), false) {
            Ok((_, cells)) => cells.iter().flat_map(|c| [c.volume, c.nfaces as f64, c.index[0] as f64, c.index[1] as f64, c.index[2] as f64, c.index[3] as f64]).collect(),
            Err(e) => {
                log::warn!("voronoi field: {}", e);
                vec![f64::NAN; 6 * eng.atoms.nlocal]
            }
        }
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        stored(eng, "voronoi", i, 6, out)
    }
}

pub struct W6;

impl PerAtomCompute for W6 {
    fn name(&self) -> &'static str {
        "w6"
    }
    fn columns(&self) -> &'static [&'static str] {
        &["q6", "w6"]
    }
    fn needs(&self, _s: &Settings) -> Needs {
        Needs { alone: true, ..Needs::default() }
    }
    fn evaluate_alone(&self, eng: &Engine) -> Vec<f64> {
        let qw = match eng.compute_settings.w6_cutoff {
            Some(rc) => structure::bond_order(&eng.neighborhood(rc), 6, Bonds::Cutoff, None),
            None => match crate::run::analyze::voronoi_all(eng, &eng.bx, &eng.compute_settings.voronoi_thresholds(), true) {
                Ok((nb, cells)) => structure::bond_order(&nb, 6, Bonds::Voronoi(false), Some(&cells)),
                Err(e) => {
                    log::warn!("w6 field: {}", e);
                    vec![(f64::NAN, f64::NAN); eng.atoms.nlocal]
                }
            },
        };
        qw.iter().flat_map(|&(q, w)| [q, w]).collect()
    }
    fn row(&self, eng: &Engine, i: usize, out: &mut Vec<f64>) {
        stored(eng, "w6", i, 2, out)
    }
}
