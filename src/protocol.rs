//! Protocol bookkeeping: named results of a deck (`record` and `tg`
//! stages), inherent structures sampled along a quench, and the summary of
//! independent samples as mean ± standard error.
//!
//! Results are flat `name.quantity → value` maps written to `results.json`
//! after every change (atomically), so a killed run keeps what it had. A
//! new reported quantity is a new key in [`Results::record`] or a new call
//! of [`Results::set`]; [`summarize`] averages every key it finds.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::io::thermo::Thermo;
use crate::io::write_atomic;
use crate::minimize::{minimize, Algorithm, BoxRelax, MinParams};
use crate::potential::ForceFlags;
use crate::units::BAR_PER_GPA;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Named results of one run of a deck.
pub struct Results {
    path: PathBuf,
    pub values: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Results {
    pub fn new(path: PathBuf) -> Results {
        Results { path, values: BTreeMap::new() }
    }

    /// Record the state `t` (natoms atoms) under `name`; with `relative_to`,
    /// add the differences from that record. Returns the values.
    pub fn record(&mut self, name: &str, t: &Thermo, natoms: u64, relative_to: Option<&str>) -> std::result::Result<&BTreeMap<String, f64>, String> {
        let n = natoms.max(1) as f64;
        let mut v = BTreeMap::new();
        v.insert("pe_per_atom".to_string(), t.pe / n);
        v.insert("density".to_string(), t.density);
        v.insert("volume_per_atom".to_string(), t.volume / n);
        v.insert("pressure_gpa".to_string(), t.pressure / BAR_PER_GPA);
        v.insert("temperature".to_string(), t.temperature);
        if let Some(r) = relative_to {
            let base = self.values.get(r).ok_or_else(|| format!("relative_to '{}': no such record yet", r))?;
            for q in ["pe_per_atom", "density", "volume_per_atom"] {
                v.insert(format!("delta_{}", q), v[q] - base[q]);
            }
            v.insert("delta_density_rel".to_string(), v["density"] / base["density"] - 1.0);
        }
        self.values.insert(name.to_string(), v);
        Ok(&self.values[name])
    }

    pub fn set(&mut self, name: &str, key: &str, value: f64) {
        self.values.entry(name.to_string()).or_default().insert(key.to_string(), value);
    }

    /// Write `results.json` (rank 0 only).
    pub fn write(&self) -> Result<()> {
        let json = serde_json::to_string_pretty(&self.values).unwrap_or_default();
        write_atomic(&self.path, |w| writeln!(w, "{}", json))
    }
}

/// One row of an MD stage kept for analysis: target temperature (the
/// instantaneous one where the ensemble has none), volume and potential
/// energy per atom.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub temperature: f64,
    pub volume_per_atom: f64,
    pub pe_per_atom: f64,
}

/// Inherent structures along a quench.
pub struct IsSampler {
    pub params: MinParams,
    pub path: PathBuf,
    /// Steps between samples (at least 1).
    pub every: u64,
    pub rows: Vec<[f64; 10]>,
}

pub const IS_COLUMNS: &str = "step,target_temperature,temperature,pe_md_per_atom,e_is_fixed_box_per_atom,e_is_p0_per_atom,volume_p0_per_atom,density_p0,iterations_fixed,iterations_p0";

impl IsSampler {
    pub fn new(path: PathBuf, algorithm: Algorithm, ftol: f64, max_iterations: u64, every: u64) -> IsSampler {
        let params = MinParams { algorithm, ftol, max_iterations, ..MinParams::default() };
        IsSampler { params, path, every: every.max(1), rows: Vec::new() }
    }

    /// Minimise a copy of the configuration at fixed box, then with the box
    /// relaxing to zero pressure on every periodic axis; record both
    /// energies; restore the MD state and its forces (collective).
    pub fn sample(&mut self, eng: &mut Engine, target: f64) -> Result<()> {
        let t_md = eng.thermo();
        let (atoms, bx) = (eng.atoms.clone(), eng.bx.clone());
        let n = eng.natoms.max(1) as f64;
        let fixed = minimize(eng, &self.params)?;
        let target_p = std::array::from_fn(|d| eng.bx.periodic(d).then_some(0.0));
        let relax = BoxRelax { target: target_p, couple: false, ptol: 1.0, vmax: 0.001 };
        let p0 = minimize(eng, &MinParams { box_relax: Some(relax), ..self.params })?;
        let t0 = eng.thermo();
        for r in [&fixed, &p0] {
            if !r.stop.converged() && eng.comm.is_root() {
                log::warn!("inherent structure at step {}: {} (max |f| {:.2e} eV/A)", eng.step, r.stop.describe(), r.fmax);
            }
        }
        self.rows.push([
            eng.step as f64,
            target,
            t_md.temperature,
            t_md.pe / n,
            fixed.e_final / n,
            p0.e_final / n,
            t0.volume / n,
            t0.density,
            fixed.iterations as f64,
            p0.iterations as f64,
        ]);
        eng.atoms = atoms;
        eng.set_box(&bx);
        eng.setup(ForceFlags::default())?;
        if eng.comm.is_root() {
            log::info!("inherent structure at {:.1} K: E_IS {:.6} eV/atom (fixed box), {:.6} eV/atom (P = 0)", target, fixed.e_final / n, p0.e_final / n);
            let rows = &self.rows;
            write_atomic(&self.path, |w| {
                writeln!(w, "{}", IS_COLUMNS)?;
                for r in rows {
                    let s: Vec<String> = r.iter().enumerate().map(|(k, v)| if k == 0 || k >= 8 { format!("{}", *v as u64) } else { format!("{:?}", v) }).collect();
                    writeln!(w, "{}", s.join(","))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// Mean, standard error (sample standard deviation / √k), min and max.
pub fn mean_se(v: &[f64]) -> (f64, f64, f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let se = if v.len() > 1 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0) / k).sqrt() } else { f64::NAN };
    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    (mean, se, lo, hi)
}

/// Folder of sample `i` beside the deck.
pub fn sample_dir(deck_dir: &Path, i: u64) -> PathBuf {
    deck_dir.join(format!("sample_{:02}", i))
}

/// Read `results.json` of samples 0..count, write `samples.json` with the
/// mean ± standard error of every result over the samples that have it, and
/// return a printable table. Missing samples are named, not fatal.
pub fn summarize(deck_dir: &Path, count: u64) -> Result<String> {
    let mut per_key: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for i in 0..count {
        let p = sample_dir(deck_dir, i).join("results.json");
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(_) => {
                missing.push(i);
                continue;
            }
        };
        let v: BTreeMap<String, BTreeMap<String, f64>> = serde_json::from_str(&text).map_err(|e| Error::input(&p, format!("not a results file: {}", e)))?;
        for (name, q) in v {
            for (k, x) in q {
                per_key.entry(format!("{}.{}", name, k)).or_default().push(x);
            }
        }
        found.push(i);
    }
    if found.is_empty() {
        return Err(Error::runtime(format!("no sample of {} has a results.json yet", deck_dir.display())));
    }
    let mut table = format!("{} of {} samples{}\n", found.len(), count, if missing.is_empty() { String::new() } else { format!(" (missing {:?})", missing) });
    table += &format!("{:<40} {:>18} {:>12} {:>4}\n", "result", "mean", "std. error", "n");
    let mut json = serde_json::Map::new();
    for (k, v) in &per_key {
        let (mean, se, lo, hi) = mean_se(v);
        table += &format!("{:<40} {:>18.8} {:>12.3e} {:>4}\n", k, mean, se, v.len());
        json.insert(k.clone(), serde_json::json!({ "mean": mean, "std_error": if se.is_finite() { Some(se) } else { None }, "min": lo, "max": hi, "n": v.len(), "values": v }));
    }
    let out = serde_json::json!({ "samples": found, "missing": missing, "results": json });
    write_atomic(&deck_dir.join("samples.json"), |w| writeln!(w, "{}", serde_json::to_string_pretty(&out).unwrap_or_default()))?;
    Ok(table)
}
