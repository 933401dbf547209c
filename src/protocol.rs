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
        for (d, a) in ["lx", "ly", "lz"].into_iter().enumerate() {
            v.insert(a.to_string(), t.lengths[d]);
        }
        // Tilts only of a tilted box (an orthogonal one has none), so
        // records of orthogonal runs keep their keys.
        if t.tilt.iter().any(|&x| x != 0.0) {
            for (k, a) in ["xy", "xz", "yz"].into_iter().enumerate() {
                v.insert(a.to_string(), t.tilt[k]);
            }
        }
        if let Some(r) = relative_to {
            let base = self.values.get(r).ok_or_else(|| format!("relative_to '{}': no such record yet", r))?;
            for q in ["pe_per_atom", "density", "volume_per_atom"] {
                v.insert(format!("delta_{}", q), v[q] - base[q]);
            }
            v.insert("delta_density_rel".to_string(), v["density"] / base["density"] - 1.0);
            // Engineering strain of each axis against the reference box
            // (the residual strain after a load–unload sequence).
            for (a, e) in [("lx", "strain_x"), ("ly", "strain_y"), ("lz", "strain_z")] {
                if let Some(b) = base.get(a) {
                    v.insert(e.to_string(), v[a] / b - 1.0);
                }
            }
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
        self.sample_with(eng, target, &mut |_| Ok(()))
    }

    /// [`IsSampler::sample`], calling `at_is` with the engine holding the
    /// zero-pressure inherent structure (a run's `[analysis]` of it).
    pub fn sample_with(&mut self, eng: &mut Engine, target: f64, at_is: &mut dyn FnMut(&Engine) -> Result<()>) -> Result<()> {
        let t_md = eng.thermo();
        let (atoms, bx) = (eng.atoms.clone(), eng.bx.clone());
        let n = eng.natoms.max(1) as f64;
        let fixed = minimize(eng, &self.params)?;
        let target_p = std::array::from_fn(|d| eng.bx.periodic(d).then_some(0.0));
        let relax = BoxRelax { target: target_p, couple: false, ptol: 1.0, vmax: 0.001 };
        let p0 = minimize(eng, &MinParams { box_relax: Some(relax), ..self.params })?;
        let t0 = eng.thermo();
        at_is(eng)?;
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
        // The stage's fixes act on the restored forces again.
        eng.each_fix(|f, e| f.setup_forces(e));
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

/// The results of a `results.json` (text read from `path`) as
/// `name.quantity → value`.
pub(crate) fn flat_results(path: &Path, text: &str) -> Result<BTreeMap<String, f64>> {
    // A quantity a run could not define (NaN: a yield stress of a curve
    // that never yields, a flow stress without a flow window) is written
    // as null; it is left out here, as if the run had not reported it.
    let v: BTreeMap<String, BTreeMap<String, Option<f64>>> = serde_json::from_str(text).map_err(|e| Error::input(path, format!("not a results file: {}", e)))?;
    Ok(v.into_iter().flat_map(|(n, q)| q.into_iter().filter_map(move |(k, x)| x.map(|x| (format!("{}.{}", n, k), x)))).collect())
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
        for (k, x) in flat_results(&p, &text)? {
            per_key.entry(k).or_default().push(x);
        }
        found.push(i);
    }
    if found.is_empty() {
        return Err(Error::runtime(format!("no sample has a results.json yet (looked in the {} folders sample_NN of {}); run the samples first", count, deck_dir.display())));
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

/// `glassmd grid NAME=V1,V2 NAME=A..B ...`: the Cartesian product of the
/// values as CSV (`task,NAME,...`), one row per job-array task. `A..B` is
/// the integers A to B inclusive (seeds); the last name varies fastest.
pub fn grid(specs: &[String]) -> std::result::Result<String, String> {
    let mut axes: Vec<(String, Vec<String>)> = Vec::new();
    for s in specs {
        let (name, values) = s.split_once('=').ok_or_else(|| format!("'{}': expected NAME=V1,V2,... or NAME=A..B", s))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("'{}': a name is letters, digits and _", name));
        }
        let vals: Vec<String> = match values.split_once("..") {
            Some((a, b)) => {
                let (a, b): (i64, i64) = (a.trim().parse().map_err(|_| format!("'{}': A..B needs integers", s))?, b.trim().parse().map_err(|_| format!("'{}': A..B needs integers", s))?);
                if b < a {
                    return Err(format!("'{}': empty range", s));
                }
                (a..=b).map(|v| v.to_string()).collect()
            }
            None => values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect(),
        };
        if vals.is_empty() || vals.iter().any(|v| v.contains(',') || v.contains('"')) {
            return Err(format!("'{}': no values, or a value with , or \"", s));
        }
        if axes.iter().any(|(n, _)| n == name) {
            return Err(format!("{} is given twice", name));
        }
        axes.push((name.to_string(), vals));
    }
    if axes.is_empty() {
        return Err("give at least one NAME=VALUES".into());
    }
    let total: usize = axes.iter().map(|a| a.1.len()).product();
    let mut out = format!("task,{}\n", axes.iter().map(|a| a.0.as_str()).collect::<Vec<_>>().join(","));
    for t in 0..total {
        let mut rest = t;
        let mut row = vec![String::new(); axes.len()];
        for (k, (_, v)) in axes.iter().enumerate().rev() {
            row[k] = v[rest % v.len()].clone();
            rest /= v.len();
        }
        out += &format!("{},{}\n", t, row.join(","));
    }
    Ok(out)
}

/// Row `task` of a grid CSV written by [`grid`], as `NAME=VALUE` deck
/// variables (`glassmd run --grid FILE --task I`).
pub fn grid_row(path: &Path, task: u64) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    if head.first() != Some(&"task") {
        return Err(Error::input(path, "not a grid: the first column must be `task` (write it with glassmd grid)"));
    }
    let row = lines.map(|l| l.split(',').collect::<Vec<_>>()).find(|f| f.first().and_then(|t| t.parse::<u64>().ok()) == Some(task));
    let row = row.ok_or_else(|| Error::input(path, format!("no row for task {}", task)))?;
    if row.len() != head.len() {
        return Err(Error::input(path, format!("task {}: {} values for {} columns", task, row.len(), head.len())));
    }
    Ok(head[1..].iter().zip(&row[1..]).map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// `glassmd collect DIR`: one CSV row per run folder under `DIR` (at most
/// three levels down) that holds a `results.json`: the folder, its
/// `vars.json` variables, and every result as `name.quantity` columns.
/// Folders without results yet are listed on stderr, not fatal.
pub fn collect(root: &Path) -> Result<(String, usize)> {
    fn walk(d: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        if d.join("results.json").is_file() {
            out.push(d.to_path_buf());
        }
        if depth == 0 {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(d) {
            let mut subs: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
            subs.sort();
            for s in subs {
                walk(&s, depth - 1, out);
            }
        }
    }
    let mut dirs = Vec::new();
    walk(root, 3, &mut dirs);
    if dirs.is_empty() {
        return Err(Error::input(root, "no results.json in it or below it"));
    }
    type Flat = BTreeMap<String, String>;
    let mut rows: Vec<(PathBuf, Flat, BTreeMap<String, f64>)> = Vec::new();
    let mut var_names: Vec<String> = Vec::new();
    let mut keys: std::collections::BTreeSet<String> = Default::default();
    for d in dirs {
        let p = d.join("results.json");
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let flat = flat_results(&p, &text)?;
        keys.extend(flat.keys().cloned());
        let vp = d.join("vars.json");
        let vars: Flat = match std::fs::read_to_string(&vp) {
            Ok(t) => serde_json::from_str(&t).map_err(|e| Error::input(&vp, format!("not a vars file: {}", e)))?,
            Err(_) => Flat::new(),
        };
        for k in vars.keys() {
            if !var_names.contains(k) {
                var_names.push(k.clone());
            }
        }
        rows.push((d, vars, flat));
    }
    let mut csv = String::from("dir");
    for n in var_names.iter().chain(keys.iter()) {
        csv += &format!(",{}", n);
    }
    csv.push('\n');
    for (d, vars, flat) in &rows {
        let rel = d.strip_prefix(root).unwrap_or(d).display().to_string();
        csv += if rel.is_empty() { "." } else { &rel };
        for n in &var_names {
            csv += &format!(",{}", vars.get(n).map(|s| s.as_str()).unwrap_or(""));
        }
        for k in &keys {
            csv += &format!(",{}", flat.get(k).map(|x| format!("{:?}", x)).unwrap_or_default());
        }
        csv.push('\n');
    }
    Ok((csv, rows.len()))
}

#[cfg(test)]
mod grid_tests {
    use super::*;
    #[test]
    fn grid_is_the_product_with_the_last_name_fastest() {
        let g = grid(&["ta=1.2,1.5".into(), "seed=1..3".into()]).unwrap();
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(lines[0], "task,ta,seed");
        assert_eq!(lines.len(), 7);
        assert_eq!(lines[1], "0,1.2,1");
        assert_eq!(lines[3], "2,1.2,3");
        assert_eq!(lines[6], "5,1.5,3");
        assert!(grid(&["x=3..1".into()]).is_err());
        assert!(grid(&["x".into()]).is_err());
        assert!(grid(&["x=1".into(), "x=2".into()]).is_err());
    }

    #[test]
    fn a_grid_row_gives_the_variables_of_its_task() {
        let p = std::env::temp_dir().join(format!("glassmd-grid-{}.csv", std::process::id()));
        std::fs::write(&p, grid(&["ta=1.2,1.5".into(), "seed=1..3".into()]).unwrap()).unwrap();
        assert_eq!(grid_row(&p, 4).unwrap(), vec![("ta".to_string(), "1.5".to_string()), ("seed".to_string(), "2".to_string())]);
        assert!(grid_row(&p, 6).unwrap_err().to_string().contains("no row for task 6"));
        std::fs::remove_file(&p).unwrap();
    }

    /// A quantity written as null (NaN: no yield point on the curve) is
    /// left out of the flat results; the others are read.
    #[test]
    fn null_results_are_left_out() {
        let text = r#"{"load": {"final_strain": 0.25, "yield_stress_gpa": null}, "after": {"strain_z": -0.01}}"#;
        let v = flat_results(Path::new("results.json"), text).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v["load.final_strain"], 0.25);
        assert_eq!(v["after.strain_z"], -0.01);
        assert!(!v.contains_key("load.yield_stress_gpa"));
        assert!(flat_results(Path::new("results.json"), r#"{"load": {"x": "text"}}"#).is_err());
    }
}
