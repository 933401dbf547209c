//! `glassmd study STUDY.toml`: a grid of runs of one deck, its samples,
//! the collection of their results as mean ± standard error per grid
//! point, and a map of one quantity over two axes with its zero contour
//! (seed 000's rejuvenation map: ΔPE over Ta/Tg × Vc/Vi, the ΔPE = 0 line
//! being its critical Ta/Tg).
//!
//! A study names a base deck, the axes of its grid (values of deck
//! variables), derived values (expressions of the axes, `evalexpr`), the
//! number of samples (the deck's `[samples]`), the reported quantities
//! (`name.quantity` keys of results.json) and the map. Each (point,
//! sample) pair is one task: row `task` of `DIR/grid.csv`, run as
//! `glassmd run DECK --grid DIR/grid.csv --task T --dir DIR --resume`, so
//! the same rows serve a local loop and a Slurm job array
//! (`slurm/glassmd.sbatch`). Finished tasks are not redone: `--resume`
//! returns at once for a complete run, continues a checkpointed one, and
//! restarts one that died without a checkpoint.
//!
//! To add an output: `collect` has every sample's flat results per point;
//! add a column or a plot there.

use crate::error::{Error, Result};
use crate::protocol::mean_se;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    /// The base deck (relative to the study file).
    pub deck: String,
    /// Samples per grid point: sample indices 0..samples of the deck's
    /// `[samples]` (its count must be at least this).
    pub samples: u64,
    /// Variables fixed for the whole study (passed to the deck where it
    /// uses them, and usable in derived expressions).
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    /// `[[axis]]`: one axis of the grid each; the last varies fastest.
    pub axis: Vec<Axis>,
    /// `[[derived]]`: values computed from the axes, fixed vars and earlier
    /// derived values, e.g. `ta = "ta_over_tg * tg"`.
    #[serde(default)]
    pub derived: Vec<Derived>,
    pub report: Report,
    #[serde(default)]
    pub map: Option<MapSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub name: String,
    pub values: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derived {
    pub name: String,
    pub expr: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// results.json keys as `name.quantity` (e.g. `rejuvenated.delta_pe_per_atom`).
    pub quantities: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSpec {
    /// Axis or derived name along x and along y.
    pub x: String,
    pub y: String,
    /// The quantity drawn (one of report.quantities).
    pub value: String,
    /// SVG file in the study folder.
    #[serde(default = "default_map_file")]
    pub file: String,
}

fn default_map_file() -> String {
    "map.svg".into()
}

/// A study resolved: its grid points with every variable's text and number.
pub struct Study {
    pub path: PathBuf,
    pub deck: PathBuf,
    pub spec: StudyFile,
    /// Names of the point variables in column order (axes, then derived).
    pub names: Vec<String>,
    /// Per point: the variables' numbers (NaN for text values) and texts.
    pub points: Vec<Vec<(f64, String)>>,
    /// Variables handed to the deck (those it uses as ${NAME}).
    pub deck_vars: Vec<String>,
}

fn value_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.starts_with(|c: char| c.is_ascii_digit())
}

impl Study {
    /// Read and check a study file: every error names the file and the key.
    pub fn load(path: &Path) -> Result<Study> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let spec: StudyFile = toml::from_str(&text).map_err(|e| Error::input(path, e.message().to_string()))?;
        let bad = |m: String| Error::input(path, m);
        let deck = path.parent().unwrap_or(Path::new(".")).join(&spec.deck);
        let deck_text = std::fs::read_to_string(&deck).map_err(|e| bad(format!("deck: cannot read '{}': {}", deck.display(), crate::error::io_reason(&e))))?;
        if spec.samples == 0 {
            return Err(bad("samples: must be at least 1".into()));
        }
        if spec.axis.is_empty() {
            return Err(bad("give at least one [[axis]]".into()));
        }
        let mut names: Vec<String> = Vec::new();
        for a in &spec.axis {
            if !is_name(&a.name) || names.contains(&a.name) || spec.vars.contains_key(&a.name) {
                return Err(bad(format!("axis '{}': a name is letters, digits and _, used once", a.name)));
            }
            if a.values.is_empty() || a.values.iter().any(|v| value_text(v).is_none_or(|t| t.contains(',') || t.contains('"'))) {
                return Err(bad(format!("axis '{}': values must be numbers or strings without , or \"", a.name)));
            }
            names.push(a.name.clone());
        }
        for d in &spec.derived {
            if !is_name(&d.name) || names.contains(&d.name) || spec.vars.contains_key(&d.name) {
                return Err(bad(format!("derived '{}': a name is letters, digits and _, used once", d.name)));
            }
            names.push(d.name.clone());
        }
        let mut fixed: Vec<(String, String)> = Vec::new();
        for (k, v) in &spec.vars {
            fixed.push((k.clone(), value_text(v).ok_or_else(|| bad(format!("vars.{}: a number or a string", k)))?));
        }
        // The grid: the last axis varies fastest (as `glassmd grid`).
        let total: usize = spec.axis.iter().map(|a| a.values.len()).product();
        let mut points = Vec::with_capacity(total);
        for p in 0..total {
            let mut rest = p;
            let mut row = vec![(f64::NAN, String::new()); spec.axis.len()];
            for (k, a) in spec.axis.iter().enumerate().rev() {
                let v = &a.values[rest % a.values.len()];
                rest /= a.values.len();
                let t = value_text(v).unwrap_or_default();
                row[k] = (v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN), t);
            }
            let mut ctx = evalexpr::HashMapContext::<evalexpr::DefaultNumericTypes>::new();
            use evalexpr::ContextWithMutableVariables;
            for (k, t) in &fixed {
                if let Ok(x) = t.parse::<f64>() {
                    let _ = ctx.set_value(k.clone(), evalexpr::Value::Float(x));
                }
            }
            for (k, (x, _)) in row.iter().enumerate() {
                if x.is_finite() {
                    let _ = ctx.set_value(names[k].clone(), evalexpr::Value::Float(*x));
                }
            }
            for d in &spec.derived {
                let x = evalexpr::eval_number_with_context(&d.expr, &ctx).map_err(|e| bad(format!("derived '{}' = \"{}\": {}", d.name, d.expr, e)))?;
                if !x.is_finite() {
                    return Err(bad(format!("derived '{}' = \"{}\" is {} at point {}", d.name, d.expr, x, p)));
                }
                let _ = ctx.set_value(d.name.clone(), evalexpr::Value::Float(x));
                row.push((x, x.to_string()));
            }
            points.push(row);
        }
        // Hand the deck the variables it uses; an axis must act somewhere.
        let uses = |n: &str| deck_text.contains(&format!("${{{}}}", n));
        let mut deck_vars: Vec<String> = fixed.iter().map(|(k, _)| k.clone()).filter(|k| uses(k)).collect();
        for (k, n) in names.iter().enumerate() {
            if uses(n) {
                deck_vars.push(n.clone());
            } else if k < spec.axis.len() && !spec.derived.iter().any(|d| d.expr.contains(n.as_str())) {
                return Err(bad(format!("axis '{}' is used neither by the deck (no ${{{}}} in {}) nor by a derived value", n, n, deck.display())));
            }
        }
        if let Some(m) = &spec.map {
            for (key, v) in [("map.x", &m.x), ("map.y", &m.y)] {
                if !names.contains(v) {
                    return Err(bad(format!("{}: '{}' is not an axis or derived value ({})", key, v, names.join(", "))));
                }
            }
            if m.x == m.y {
                return Err(bad("map.x and map.y must differ".into()));
            }
            if !spec.report.quantities.contains(&m.value) {
                return Err(bad(format!("map.value: '{}' is not in report.quantities", m.value)));
            }
        }
        if spec.report.quantities.is_empty() {
            return Err(bad("report.quantities: name at least one results.json key (name.quantity)".into()));
        }
        let mut study = Study { path: path.to_path_buf(), deck, spec, names, points, deck_vars };
        // The deck must take point 0's variables and have enough samples.
        let d = crate::config::Deck::load_with(&study.deck, &study.vars_of(0))?;
        match &d.samples {
            Some(s) if s.count >= study.spec.samples => {}
            Some(s) => return Err(bad(format!("samples: {} but the deck's [samples] count is {}", study.spec.samples, s.count))),
            None => return Err(bad(format!("the deck {} has no [samples] section (count = {} at least)", study.deck.display(), study.spec.samples))),
        }
        study.deck = study.deck.canonicalize().unwrap_or(study.deck.clone());
        Ok(study)
    }

    /// Deck variables of point `p`.
    pub fn vars_of(&self, p: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for n in &self.deck_vars {
            if let Some(v) = self.spec.vars.get(n) {
                out.push((n.clone(), value_text(v).unwrap_or_default()));
            } else if let Some(k) = self.names.iter().position(|x| x == n) {
                out.push((n.clone(), self.points[p][k].1.clone()));
            }
        }
        out
    }

    pub fn tasks(&self) -> usize {
        self.points.len() * self.spec.samples as usize
    }

    /// `DIR/grid.csv`: task, sample, then the deck variables; task =
    /// point × samples + sample (`glassmd run --grid` takes the `sample`
    /// column as `--sample`).
    pub fn write_grid(&self, dir: &Path) -> Result<PathBuf> {
        let p = dir.join("grid.csv");
        let s = self.spec.samples as usize;
        crate::io::write_atomic(&p, |w| {
            write!(w, "task,sample")?;
            for n in &self.deck_vars {
                write!(w, ",{}", n)?;
            }
            writeln!(w)?;
            for t in 0..self.tasks() {
                write!(w, "{},{}", t, t % s)?;
                for (_, v) in self.vars_of(t / s) {
                    write!(w, ",{}", v)?;
                }
                writeln!(w)?;
            }
            Ok(())
        })?;
        Ok(p)
    }

    /// Results folder of task `t`.
    pub fn task_dir(&self, dir: &Path, t: usize) -> PathBuf {
        crate::protocol::sample_dir(&dir.join(format!("task_{:04}", t)), (t % self.spec.samples as usize) as u64)
    }
}

/// What running or submitting the tasks needs: `DIR/grid.csv` written,
/// the `DIR/logs` folder, and this glassmd binary.
fn prepare(study: &Study, dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let grid = study.write_grid(dir)?;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::runtime(format!("cannot find the glassmd binary: {}", e)))?;
    Ok((grid, logs, exe))
}

/// Run every task on this machine, one after another (each with
/// `nthreads` threads), skipping finished ones; then collect.
pub fn run_local(study: &Study, dir: &Path, nthreads: usize) -> Result<()> {
    let (grid, logs, exe) = prepare(study, dir)?;
    let s = study.spec.samples as usize;
    for t in 0..study.tasks() {
        let log = logs.join(format!("task_{:04}.log", t));
        println!("task {}/{}: point {} sample {}", t + 1, study.tasks(), t / s, t % s);
        let f = std::fs::OpenOptions::new().create(true).append(true).open(&log).map_err(|e| Error::io(&log, e))?;
        let f2 = f.try_clone().map_err(|e| Error::io(&log, e))?;
        let status = std::process::Command::new(&exe)
            .args(["--threads", &nthreads.to_string(), "run"])
            .arg(&study.deck)
            .arg("--grid")
            .arg(&grid)
            .args(["--task", &t.to_string(), "--resume", "--dir"])
            .arg(dir)
            .stdout(f)
            .stderr(f2)
            .status()
            .map_err(|e| Error::runtime(format!("cannot start {}: {}", exe.display(), e)))?;
        if !status.success() {
            return Err(Error::runtime(format!("{}: task {} (point {}, sample {}) failed ({}); see {}", study.path.display(), t, t / s, t % s, status, log.display())));
        }
    }
    Ok(())
}

/// Submit the tasks as a Slurm job array through `script`
/// (slurm/glassmd.sbatch) and a collection job after it; returns the
/// job ids.
pub fn submit(study: &Study, dir: &Path, script: &Path, sbatch_args: &[String]) -> Result<(String, String)> {
    let (grid, logs, exe) = prepare(study, dir)?;
    let sbatch = |args: Vec<std::ffi::OsString>| -> Result<String> {
        let o = std::process::Command::new("sbatch").args(&args).env("GLASSMD", &exe).output().map_err(|e| Error::runtime(format!("cannot run sbatch: {}", e)))?;
        if !o.status.success() {
            return Err(Error::runtime(format!("sbatch: {}", String::from_utf8_lossy(&o.stderr).trim())));
        }
        Ok(String::from_utf8_lossy(&o.stdout).trim().split(';').next().unwrap_or("").to_string())
    };
    let mut a: Vec<std::ffi::OsString> = vec!["--parsable".into(), format!("--array=0-{}", study.tasks() - 1).into(), "--job-name=glassmd-study".into()];
    a.push(format!("--output={}/task_%a.out", logs.display()).into());
    a.extend(sbatch_args.iter().map(|s| s.into()));
    a.push(script.into());
    a.push(study.deck.clone().into());
    a.extend(["--grid".into(), grid.into_os_string(), "--dir".into(), dir.as_os_str().to_owned()]);
    let jid = sbatch(a)?;
    let wrap = format!("\"{}\" study \"{}\" --dir \"{}\" --collect", exe.display(), study.path.canonicalize().unwrap_or(study.path.clone()).display(), dir.display());
    let cid = sbatch(vec![
        "--parsable".into(),
        format!("--dependency=afterany:{}", jid).into(),
        "--job-name=glassmd-study-collect".into(),
        format!("--output={}/collect-%j.out", logs.display()).into(),
        "--wrap".into(),
        wrap.into(),
    ])?;
    Ok((jid, cid))
}

/// One grid point's reported quantities over its samples.
pub struct PointResult {
    pub point: usize,
    /// Per quantity: (mean, standard error, n).
    pub q: Vec<(f64, f64, usize)>,
}

/// Read every finished sample, write `study.csv` and `study.json`, draw
/// the map; returns the per-point results and the printable table.
pub fn collect(study: &Study, dir: &Path) -> Result<(Vec<PointResult>, String)> {
    let s = study.spec.samples as usize;
    let qs = &study.spec.report.quantities;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for p in 0..study.points.len() {
        let mut vals: Vec<Vec<f64>> = vec![Vec::new(); qs.len()];
        for k in 0..s {
            let t = p * s + k;
            let f = study.task_dir(dir, t).join("results.json");
            let Ok(text) = std::fs::read_to_string(&f) else {
                missing.push(t);
                continue;
            };
            let v: BTreeMap<String, BTreeMap<String, f64>> = serde_json::from_str(&text).map_err(|e| Error::input(&f, format!("not a results file: {}", e)))?;
            for (qi, q) in qs.iter().enumerate() {
                let (n, key) = q.split_once('.').unwrap_or((q.as_str(), ""));
                if let Some(x) = v.get(n).and_then(|m| m.get(key)) {
                    vals[qi].push(*x);
                }
            }
        }
        let q = vals.iter().map(|v| if v.is_empty() { (f64::NAN, f64::NAN, 0) } else { let (m, se, _, _) = mean_se(v); (m, se, v.len()) }).collect();
        out.push(PointResult { point: p, q });
    }
    // The sign of a mean, and whether it stands beyond its standard error.
    let sign = |m: f64, se: f64| -> &'static str {
        if !m.is_finite() {
            ""
        } else if se.is_finite() && m.abs() <= se {
            "0"
        } else if m > 0.0 {
            "+"
        } else {
            "-"
        }
    };
    let mut csv = format!("point,{}", study.names.join(","));
    for q in qs {
        csv += &format!(",{q}_mean,{q}_se,{q}_n,{q}_sign");
    }
    csv.push('\n');
    let mut table = format!("{:>5} {}", "point", study.names.iter().map(|n| format!("{:>14}", n)).collect::<String>());
    for q in qs {
        table += &format!(" {:>34}", q);
    }
    table.push('\n');
    let mut json_points = Vec::new();
    for r in &out {
        let vars = &study.points[r.point];
        csv += &format!("{},{}", r.point, vars.iter().map(|v| v.1.clone()).collect::<Vec<_>>().join(","));
        table += &format!("{:>5} {}", r.point, vars.iter().map(|v| format!("{:>14}", v.1)).collect::<String>());
        let mut jq = serde_json::Map::new();
        for (qi, &(m, se, n)) in r.q.iter().enumerate() {
            let f = |x: f64| if x.is_finite() { format!("{:?}", x) } else { String::new() };
            csv += &format!(",{},{},{},{}", f(m), f(se), n, sign(m, se));
            table += &format!(" {:>16.6e} ± {:<9.2e} {:>2} {:1}", m, se, n, sign(m, se));
            jq.insert(qs[qi].clone(), serde_json::json!({"mean": if m.is_finite() { Some(m) } else { None }, "std_error": if se.is_finite() { Some(se) } else { None }, "n": n, "sign": sign(m, se)}));
        }
        csv.push('\n');
        table.push('\n');
        let jv: serde_json::Map<String, serde_json::Value> = study.names.iter().zip(vars).map(|(n, v)| (n.clone(), if v.0.is_finite() { serde_json::json!(v.0) } else { serde_json::json!(v.1) })).collect();
        json_points.push(serde_json::json!({"point": r.point, "vars": jv, "results": jq}));
    }
    let mut json = serde_json::json!({"study": study.path.display().to_string(), "deck": study.deck.display().to_string(), "samples": s, "points": json_points, "missing_tasks": missing});
    if let Some(m) = &study.spec.map {
        let crossings = zero_crossings(study, &out, m);
        json["map"] = serde_json::json!({"x": m.x, "y": m.y, "value": m.value, "zero_crossings": crossings.iter().map(|c| serde_json::json!({m.y.clone(): c.0, m.x.clone(): c.1})).collect::<Vec<_>>()});
        for (y, x) in &crossings {
            table += &format!("{} = 0 at {} = {:.4} for {} = {}\n", m.value, m.x, x, m.y, y);
        }
        draw_map(study, &out, m, &crossings, &dir.join(&m.file))?;
    }
    if !missing.is_empty() {
        table += &format!("{} of {} tasks have no results yet: {:?}\n", missing.len(), study.tasks(), missing);
    }
    crate::io::write_atomic(&dir.join("study.csv"), |w| w.write_all(csv.as_bytes()))?;
    crate::io::write_atomic(&dir.join("study.json"), |w| writeln!(w, "{}", serde_json::to_string_pretty(&json).unwrap_or_default()))?;
    Ok((out, table))
}

/// The map's grid: sorted distinct x and y values, and the mean of the
/// value quantity at (x, y) (NaN where missing).
fn map_grid(study: &Study, res: &[PointResult], m: &MapSpec) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let (ix, iy) = (study.names.iter().position(|n| n == &m.x).unwrap(), study.names.iter().position(|n| n == &m.y).unwrap());
    let qi = study.spec.report.quantities.iter().position(|q| q == &m.value).unwrap();
    let distinct = |k: usize| {
        let mut v: Vec<f64> = study.points.iter().map(|p| p[k].0).filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (distinct(ix), distinct(iy));
    let mut z = vec![vec![f64::NAN; xs.len()]; ys.len()];
    for r in res {
        let p = &study.points[r.point];
        if let (Some(a), Some(b)) = (xs.iter().position(|&x| x == p[ix].0), ys.iter().position(|&y| y == p[iy].0)) {
            // With more than two axes, the last point at (x, y) is drawn;
            // maps are meant for two-axis studies.
            z[b][a] = r.q[qi].0;
        }
    }
    (xs, ys, z)
}

/// For each y, the first x where the mapped mean changes sign, by linear
/// interpolation between neighboring grid points (seed 000's critical
/// Ta/Tg for each Vc/Vi).
fn zero_crossings(study: &Study, res: &[PointResult], m: &MapSpec) -> Vec<(f64, f64)> {
    let (xs, ys, z) = map_grid(study, res, m);
    let mut out = Vec::new();
    for (b, &y) in ys.iter().enumerate() {
        for a in 0..xs.len().saturating_sub(1) {
            let (z0, z1) = (z[b][a], z[b][a + 1]);
            if z0.is_finite() && z1.is_finite() && (z0 < 0.0) != (z1 < 0.0) {
                out.push((y, xs[a] + (xs[a + 1] - xs[a]) * z0 / (z0 - z1)));
                break;
            }
        }
    }
    out
}

/// The map as SVG: one cell per grid point coloured by the mean (blue
/// below zero, red above, white at zero), its mean ± standard error
/// written in it, and the zero contour.
fn draw_map(study: &Study, res: &[PointResult], m: &MapSpec, crossings: &[(f64, f64)], out: &Path) -> Result<()> {
    use plotters::prelude::*;
    let (xs, ys, z) = map_grid(study, res, m);
    let qi = study.spec.report.quantities.iter().position(|q| q == &m.value).unwrap();
    let (ix, iy) = (study.names.iter().position(|n| n == &m.x).unwrap(), study.names.iter().position(|n| n == &m.y).unwrap());
    let zmax = z.iter().flatten().filter(|v| v.is_finite()).fold(0.0f64, |a, v| a.max(v.abs())).max(1e-300);
    let edges = |v: &[f64]| -> Vec<f64> {
        // Cell boundaries halfway between values; the end cells as wide
        // as their neighbors (a lone value gets width 1).
        let n = v.len();
        let (first, last) = if n > 1 { (v[1] - v[0], v[n - 1] - v[n - 2]) } else { (1.0, 1.0) };
        let mut e = vec![v[0] - 0.5 * first];
        e.extend(v.windows(2).map(|w| 0.5 * (w[0] + w[1])));
        e.push(v[n - 1] + 0.5 * last);
        e
    };
    if xs.is_empty() || ys.is_empty() {
        return Err(Error::input(&study.path, "map: the axes have no numeric values"));
    }
    let (ex, ey) = (edges(&xs), edges(&ys));
    let mut text = String::new();
    {
        let err = |e: String| Error::runtime(format!("{}: plotting: {}", out.display(), e));
        let root = SVGBackend::with_string(&mut text, (760, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut c = ChartBuilder::on(&root)
            .caption(format!("{} (mean ± s.e., {} samples)", m.value, study.spec.samples), ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(ex[0]..ex[ex.len() - 1], ey[0]..ey[ey.len() - 1])
            .map_err(|e| err(e.to_string()))?;
        c.configure_mesh().disable_mesh().x_desc(m.x.as_str()).y_desc(m.y.as_str()).draw().map_err(|e| err(e.to_string()))?;
        for (b, row) in z.iter().enumerate() {
            for (a, &v) in row.iter().enumerate() {
                let col = if !v.is_finite() {
                    RGBColor(200, 200, 200)
                } else {
                    let t = (v.abs() / zmax).min(1.0);
                    let fade = (255.0 * (1.0 - 0.75 * t)) as u8;
                    if v >= 0.0 { RGBColor(255, fade, fade) } else { RGBColor(fade, fade, 255) }
                };
                c.draw_series(std::iter::once(Rectangle::new([(ex[a], ey[b]), (ex[a + 1], ey[b + 1])], col.filled()))).map_err(|e| err(e.to_string()))?;
            }
        }
        for r in res {
            let p = &study.points[r.point];
            let (mean, se, n) = r.q[qi];
            if n > 0 {
                let label = format!("{:.2e} ± {:.1e}", mean, se);
                c.draw_series(std::iter::once(Text::new(label, (p[ix].0, p[iy].0), ("sans-serif", 12).into_font().color(&BLACK)))).map_err(|e| err(e.to_string()))?;
            }
        }
        if !crossings.is_empty() {
            let line: Vec<(f64, f64)> = crossings.iter().map(|&(y, x)| (x, y)).collect();
            c.draw_series(LineSeries::new(line.clone(), BLACK.stroke_width(3))).map_err(|e| err(e.to_string()))?.label(format!("{} = 0", m.value)).legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3)));
            c.draw_series(line.iter().map(|&p| Circle::new(p, 4, BLACK.filled()))).map_err(|e| err(e.to_string()))?;
            c.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    crate::io::write_atomic(out, |w| w.write_all(text.as_bytes()))
}
