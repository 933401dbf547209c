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
//! the same rows serve a local loop (`--jobs N` runs at a time: the
//! preludes, then the grid) and a Slurm job array
//! (`slurm/glassmd.sbatch`). Finished tasks are not redone: `--resume`
//! returns at once for a complete run, continues a checkpointed one, and
//! restarts one that died without a checkpoint.
//!
//! **Preludes** (`[[prelude]]`) are decks run before the grid, once per
//! value of the axes they name in `over` (and per sample with
//! `per_sample = true`), in `DIR/prelude_NAME/`. They serve two needs of
//! the seeds' studies:
//! - a measured value the grid depends on: seed 001 places Ta by the Tg
//!   measured at each Pa, so a `tg` prelude over `pa_gpa` exports
//!   `tg = "tg.volume"` (a results.json key) for the derived values;
//! - a shared start: every (Ta, Vc) point of seed 000's map anneals the
//!   same as-quenched glass of its sample, so the quench is run once per
//!   sample and the grid's deck reads `${glass_dir}/glass.data` (every
//!   prelude's run folder is the variable `NAME_dir`). This is also the
//!   paper's design: one glass, many treatments.
//! Under Slurm the preludes are job arrays and a dependent job resubmits
//! the study, which then finds them done and submits the grid.
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
    /// `[[derived]]`: values computed from the axes, fixed vars, prelude
    /// exports and earlier derived values, e.g. `ta = "ta_over_tg * tg"`.
    #[serde(default)]
    pub derived: Vec<Derived>,
    /// `[[prelude]]`: decks run before the grid.
    #[serde(default)]
    pub prelude: Vec<PreludeSpec>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreludeSpec {
    /// Its folder is `DIR/prelude_NAME`, and the grid's deck sees the run
    /// folder of its point (and sample) as `${NAME_dir}`.
    pub name: String,
    /// The prelude's deck (relative to the study file).
    pub deck: String,
    /// Axes it is run for, once per combination of their values.
    #[serde(default)]
    pub over: Vec<String>,
    /// Run once per study sample (its deck's `[samples]`), sample k
    /// serving the grid's sample k; else once.
    #[serde(default)]
    pub per_sample: bool,
    /// Study variables taken from its results.json: `tg = "tg.volume"`.
    #[serde(default)]
    pub export: BTreeMap<String, String>,
    /// Variables of this prelude's deck alone, over the study's `[vars]`
    /// of the same name: seed 001's Tg prelude measures Tg(Pa) at
    /// `vars = { rate_k_per_ps = 10.0 }` while D and J are cooled at the
    /// study's 1 K/ps (a Tg at 1 K/ps costs 10× the quench).
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// results.json keys as `name.quantity` (e.g. `rejuvenated.delta_pe_per_atom`).
    pub quantities: Vec<String>,
    /// `[[report.derived]]`: a quantity computed from each sample's
    /// results (any `name.quantity` of its results.json), then averaged
    /// like the others: the change of the icosahedral fraction,
    /// `"analysis_rejuvenated.ico_fraction_all - analysis_as_quenched.ico_fraction_all"`,
    /// is a paired difference per sample.
    #[serde(default)]
    pub derived: Vec<Derived>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSpec {
    /// Axis or derived name along x and along y. Without y, the map is a
    /// curve of the value against x with its standard errors (seed 002's
    /// energy change against the held stress), and its zero crossing.
    pub x: String,
    #[serde(default)]
    pub y: Option<String>,
    /// The quantity drawn (one of report.quantities).
    pub value: String,
    /// SVG file in the study folder.
    #[serde(default = "default_map_file")]
    pub file: String,
}

fn default_map_file() -> String {
    "map.svg".into()
}

/// A prelude resolved against the study's axes.
pub struct Prelude {
    pub spec: PreludeSpec,
    pub deck: PathBuf,
    /// Indices of its `over` axes.
    pub over: Vec<usize>,
    /// Fixed variables and `over` axes its deck uses.
    pub deck_vars: Vec<String>,
    /// Runs per combination: the study's samples, or 1.
    pub samples: usize,
    /// Whether its deck has `[samples]` (its runs go to `sample_NN`).
    pub has_samples: bool,
}

/// A study resolved: its grid points with every variable's text and number.
pub struct Study {
    pub path: PathBuf,
    pub deck: PathBuf,
    pub spec: StudyFile,
    /// Names of the point variables in column order (axes, then derived).
    pub names: Vec<String>,
    /// Per point: the variables' numbers (NaN for text values) and texts.
    /// Derived values that need a prelude's export hold placeholders until
    /// `resolve` has read the preludes' results.
    pub points: Vec<Vec<(f64, String)>>,
    /// Variables handed to the deck (those it uses as ${NAME}).
    pub deck_vars: Vec<String>,
    pub preludes: Vec<Prelude>,
    /// The reported quantities: report.quantities, then report.derived.
    pub quantities: Vec<String>,
    /// Fixed variables as text.
    fixed: Vec<(String, String)>,
    /// Per point: the preludes' exports (placeholders 1.0 until `resolve`).
    pub exports: Vec<BTreeMap<String, f64>>,
    /// Per point: the index of each axis's value.
    index: Vec<Vec<usize>>,
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

/// Whether a deck's text uses `${name}`.
fn uses(text: &str, name: &str) -> bool {
    text.contains(&format!("${{{}}}", name))
}

/// A results.json as `name.quantity → value`.
fn read_results(f: &Path) -> Result<Option<BTreeMap<String, f64>>> {
    match std::fs::read_to_string(f) {
        Ok(text) => crate::protocol::flat_results(f, &text).map(Some),
        Err(_) => Ok(None),
    }
}

impl Study {
    /// Read and check a study file: every error names the file and the key.
    pub fn load(path: &Path) -> Result<Study> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let spec: StudyFile = toml::from_str(&text).map_err(|e| Error::input(path, e.message().to_string()))?;
        let bad = |m: String| Error::input(path, m);
        let base = path.parent().unwrap_or(Path::new("."));
        let read_deck = |key: &str, d: &str| -> Result<(PathBuf, String)> {
            let p = base.join(d);
            let t = std::fs::read_to_string(&p).map_err(|e| bad(format!("{}: cannot read '{}': {}", key, p.display(), crate::error::io_reason(&e))))?;
            Ok((p.canonicalize().unwrap_or(p), t))
        };
        let (deck, deck_text) = read_deck("deck", &spec.deck)?;
        if spec.samples == 0 {
            return Err(bad("samples: must be at least 1".into()));
        }
        if spec.axis.is_empty() {
            return Err(bad("give at least one [[axis]]".into()));
        }
        let mut names: Vec<String> = Vec::new();
        let taken = |n: &str, names: &Vec<String>| !is_name(n) || names.iter().any(|x| x == n) || spec.vars.contains_key(n);
        for a in &spec.axis {
            if taken(&a.name, &names) {
                return Err(bad(format!("axis '{}': a name is letters, digits and _, used once", a.name)));
            }
            if a.values.is_empty() || a.values.iter().any(|v| value_text(v).is_none_or(|t| t.contains(',') || t.contains('"'))) {
                return Err(bad(format!("axis '{}': values must be numbers or strings without , or \"", a.name)));
            }
            names.push(a.name.clone());
        }
        let naxes = names.len();
        // Prelude exports and run folders are study variables too.
        let mut exports: Vec<String> = Vec::new();
        let mut preludes = Vec::new();
        for pr in &spec.prelude {
            let key = format!("prelude '{}'", pr.name);
            let dir_var = format!("{}_dir", pr.name);
            if taken(&pr.name, &names) || taken(&dir_var, &names) || preludes.iter().any(|p: &Prelude| p.spec.name == pr.name) {
                return Err(bad(format!("{}: a name is letters, digits and _, used once", key)));
            }
            let (pdeck, ptext) = read_deck(&format!("{}: deck", key), &pr.deck)?;
            let mut over = Vec::new();
            for o in &pr.over {
                match spec.axis.iter().position(|a| &a.name == o) {
                    Some(k) if !over.contains(&k) => over.push(k),
                    _ => return Err(bad(format!("{}: over '{}' is not an axis ({})", key, o, names.join(", ")))),
                }
                if !uses(&ptext, o) {
                    return Err(bad(format!("{}: over '{}', but its deck {} has no ${{{}}}", key, o, base.join(&pr.deck).display(), o)));
                }
            }
            if pr.per_sample && !pr.export.is_empty() {
                return Err(bad(format!("{}: export needs one run per point (per_sample = false); a per-sample prelude is read only through ${{{}}}", key, dir_var)));
            }
            for (v, q) in &pr.export {
                if taken(v, &names) || exports.contains(v) {
                    return Err(bad(format!("{}: export '{}': a name is letters, digits and _, used once", key, v)));
                }
                if !q.contains('.') {
                    return Err(bad(format!("{}: export {} = \"{}\": name a results.json key as name.quantity", key, v, q)));
                }
                exports.push(v.clone());
            }
            for (k, v) in &pr.vars {
                if !is_name(k) || spec.axis.iter().any(|a| &a.name == k) {
                    return Err(bad(format!("{}: vars.{}: a name is letters, digits and _, and not an axis", key, k)));
                }
                if value_text(v).is_none_or(|t| t.contains(',') || t.contains('"')) {
                    return Err(bad(format!("{}: vars.{}: a number or a string without , or \"", key, k)));
                }
                if !uses(&ptext, k) {
                    return Err(bad(format!("{}: vars.{}, but its deck {} has no ${{{}}}", key, k, base.join(&pr.deck).display(), k)));
                }
            }
            let mut deck_vars: Vec<String> = spec.vars.keys().chain(pr.vars.keys().filter(|k| !spec.vars.contains_key(*k))).filter(|k| uses(&ptext, k)).cloned().collect();
            deck_vars.extend(over.iter().map(|&k| names[k].clone()));
            let samples = if pr.per_sample { spec.samples as usize } else { 1 };
            names.push(dir_var);
            // has_samples is read from the deck once the study can give it
            // its variables (below).
            preludes.push(Prelude { spec: pr.clone(), deck: pdeck, over, deck_vars, samples, has_samples: false });
        }
        // The `NAME_dir` variables are per task, not columns of a point.
        let dir_vars: Vec<String> = names.drain(naxes..).collect();
        for d in &spec.derived {
            if taken(&d.name, &names) || exports.contains(&d.name) || dir_vars.contains(&d.name) {
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
        let mut index = Vec::with_capacity(total);
        for p in 0..total {
            let mut rest = p;
            let mut row = vec![0; spec.axis.len()];
            for (k, a) in spec.axis.iter().enumerate().rev() {
                row[k] = rest % a.values.len();
                rest /= a.values.len();
            }
            index.push(row);
        }
        // Hand the deck the variables it uses; an axis must act somewhere.
        let mut deck_vars: Vec<String> = fixed.iter().map(|(k, _)| k.clone()).filter(|k| uses(&deck_text, k)).collect();
        deck_vars.extend(exports.iter().chain(&dir_vars).filter(|n| uses(&deck_text, n)).cloned());
        for (k, n) in names.iter().enumerate() {
            if uses(&deck_text, n) {
                deck_vars.push(n.clone());
            } else if k < naxes && !spec.derived.iter().any(|d| d.expr.contains(n.as_str())) && !preludes.iter().any(|p| p.over.contains(&k)) {
                return Err(bad(format!("axis '{}' is used neither by the deck (no ${{{}}} in {}) nor by a derived value or a prelude", n, n, base.join(&spec.deck).display())));
            }
        }
        let ones: BTreeMap<String, f64> = exports.iter().map(|e| (e.clone(), 1.0)).collect();
        let mut quantities = spec.report.quantities.clone();
        for d in &spec.report.derived {
            if !is_name(&d.name) || quantities.contains(&d.name) {
                return Err(bad(format!("report.derived '{}': a name is letters, digits and _, used once", d.name)));
            }
            let tree = evalexpr::build_operator_tree::<evalexpr::DefaultNumericTypes>(&d.expr).map_err(|e| bad(format!("report.derived '{}' = \"{}\": {}", d.name, d.expr, e)))?;
            if let Some(v) = tree.iter_variable_identifiers().find(|v| !v.contains('.')) {
                return Err(bad(format!("report.derived '{}': '{}' is not a results.json key (name.quantity)", d.name, v)));
            }
            quantities.push(d.name.clone());
        }
        let mut study = Study { path: path.to_path_buf(), deck, spec, names, points: Vec::new(), deck_vars, preludes, quantities, fixed, exports: vec![ones.clone(); total], index };
        // Check the derived expressions with placeholder exports (1.0);
        // `resolve` computes them from the preludes' results.
        study.points = (0..total).map(|p| study.evaluate(p, &ones)).collect::<Result<_>>()?;
        if let Some(m) = &study.spec.map {
            for (key, v) in [("map.x", Some(&m.x)), ("map.y", m.y.as_ref())] {
                if let Some(v) = v.filter(|v| !study.names.contains(v)) {
                    return Err(bad(format!("{}: '{}' is not an axis or derived value ({})", key, v, study.names.join(", "))));
                }
            }
            if m.y.as_ref() == Some(&m.x) {
                return Err(bad("map.x and map.y must differ".into()));
            }
            if !study.quantities.contains(&m.value) {
                return Err(bad(format!("map.value: '{}' is not in report.quantities or report.derived", m.value)));
            }
        }
        if study.spec.report.quantities.is_empty() {
            return Err(bad("report.quantities: name at least one results.json key (name.quantity)".into()));
        }
        // Each prelude deck must take its first task's variables, and have
        // the samples asked.
        for k in 0..study.preludes.len() {
            let pr = &study.preludes[k];
            let d = crate::config::Deck::load_with(&pr.deck, &pr.vars_of_task(&study, 0))?;
            if pr.spec.per_sample && d.samples.as_ref().is_none_or(|s| (s.count as usize) < pr.samples) {
                return Err(bad(format!("prelude '{}': per_sample needs [samples] count = {} at least in {}", pr.spec.name, pr.samples, pr.deck.display())));
            }
            study.preludes[k].has_samples = d.samples.is_some();
        }
        // The deck must take point 0's variables and have enough samples.
        let d = crate::config::Deck::load_with(&study.deck, &study.vars_of_task(Path::new("DIR"), 0))?;
        match &d.samples {
            Some(s) if s.count >= study.spec.samples => {}
            Some(s) => return Err(bad(format!("samples: {} but the deck's [samples] count is {}", study.spec.samples, s.count))),
            None => return Err(bad(format!("the deck {} has no [samples] section (count = {} at least)", study.deck.display(), study.spec.samples))),
        }
        Ok(study)
    }

    /// Point `p`'s axes and derived values, with the exports given.
    fn evaluate(&self, p: usize, exports: &BTreeMap<String, f64>) -> Result<Vec<(f64, String)>> {
        use evalexpr::ContextWithMutableVariables;
        let bad = |m: String| Error::input(&self.path, m);
        let mut row: Vec<(f64, String)> = self.spec.axis.iter().zip(&self.index[p]).map(|(a, &i)| {
            let v = &a.values[i];
            (v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap_or(f64::NAN), value_text(v).unwrap_or_default())
        }).collect();
        let mut ctx = evalexpr::HashMapContext::<evalexpr::DefaultNumericTypes>::new();
        let numbers = self.fixed.iter().filter_map(|(k, t)| t.parse::<f64>().ok().map(|x| (k, x)));
        for (k, x) in numbers.chain(exports.iter().map(|(k, &x)| (k, x))).chain(self.names.iter().zip(row.iter().map(|r| r.0))) {
            if x.is_finite() {
                let _ = ctx.set_value(k.clone(), evalexpr::Value::Float(x));
            }
        }
        for d in &self.spec.derived {
            let x = match evalexpr::eval_number_with_context(&d.expr, &ctx) {
                // An export not measured yet (NaN, so unset) leaves what
                // depends on it unknown.
                Err(_) if exports.values().any(|x| x.is_nan()) => f64::NAN,
                r => r.map_err(|e| bad(format!("derived '{}' = \"{}\": {}", d.name, d.expr, e)))?,
            };
            if x.is_nan() && exports.values().any(|x| x.is_nan()) {
                row.push((x, String::new()));
                continue;
            }
            if !x.is_finite() {
                return Err(bad(format!("derived '{}' = \"{}\" is {} at point {}", d.name, d.expr, x, p)));
            }
            let _ = ctx.set_value(d.name.clone(), evalexpr::Value::Float(x));
            row.push((x, x.to_string()));
        }
        Ok(row)
    }

    /// Read the preludes' exports for every point (from `dir`'s
    /// preludes) and compute the derived values. Returns the results
    /// files of unfinished preludes; values that need them are NaN.
    pub fn resolve(&mut self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut missing = Vec::new();
        let mut points = Vec::with_capacity(self.points.len());
        for p in 0..self.points.len() {
            let mut ex = BTreeMap::new();
            for pr in self.preludes.iter().filter(|pr| !pr.spec.export.is_empty()) {
                let f = pr.task_dir(dir, pr.combo_of(&self.index[p], &self.spec.axis) * pr.samples).join("results.json");
                let r = read_results(&f)?;
                if r.is_none() && !missing.contains(&f) {
                    missing.push(f.clone());
                }
                for (v, q) in &pr.spec.export {
                    let x = match &r {
                        Some(r) => *r.get(q).ok_or_else(|| Error::input(&f, format!("prelude '{}' export {}: no '{}' in its results ({})", pr.spec.name, v, q, r.keys().cloned().collect::<Vec<_>>().join(", "))))?,
                        None => f64::NAN,
                    };
                    ex.insert(v.clone(), x);
                }
            }
            points.push((self.evaluate(p, &ex)?, ex));
        }
        (self.points, self.exports) = points.into_iter().unzip();
        Ok(missing)
    }

    /// Deck variables of task `t` (point t / samples, sample t % samples),
    /// prelude run folders taken under `dir`.
    pub fn vars_of_task(&self, dir: &Path, t: usize) -> Vec<(String, String)> {
        let s = self.spec.samples as usize;
        let (p, k) = (t / s, t % s);
        let mut out: Vec<(String, String)> = Vec::new();
        for n in &self.deck_vars {
            if let Some(v) = self.spec.vars.get(n) {
                out.push((n.clone(), value_text(v).unwrap_or_default()));
            } else if let Some(j) = self.names.iter().position(|x| x == n) {
                out.push((n.clone(), self.points[p][j].1.clone()));
            } else if let Some(pr) = self.preludes.iter().find(|pr| format!("{}_dir", pr.spec.name) == *n) {
                let pt = pr.combo_of(&self.index[p], &self.spec.axis) * pr.samples + if pr.spec.per_sample { k } else { 0 };
                out.push((n.clone(), pr.task_dir(dir, pt).display().to_string()));
            } else if let Some(x) = self.exports[p].get(n) {
                out.push((n.clone(), x.to_string()));
            }
        }
        out
    }

    /// Deck variables of point `p`, sample 0 (preludes under `DIR`).
    pub fn vars_of(&self, p: usize) -> Vec<(String, String)> {
        self.vars_of_task(Path::new("DIR"), p * self.spec.samples as usize)
    }

    pub fn tasks(&self) -> usize {
        self.points.len() * self.spec.samples as usize
    }

    /// `DIR/grid.csv`: task, sample, then the deck variables; task =
    /// point × samples + sample (`glassmd run --grid` takes the `sample`
    /// column as `--sample`).
    pub fn write_grid(&self, dir: &Path) -> Result<PathBuf> {
        let s = self.spec.samples as usize;
        let rows = (0..self.tasks()).map(|t| (Some(t % s), self.vars_of_task(dir, t))).collect::<Vec<_>>();
        write_grid_csv(&dir.join("grid.csv"), &self.deck_vars, &rows)
    }

    /// Results folder of task `t`.
    pub fn task_dir(&self, dir: &Path, t: usize) -> PathBuf {
        crate::protocol::sample_dir(&dir.join(format!("task_{:04}", t)), (t % self.spec.samples as usize) as u64)
    }
}
impl Prelude {
    /// Combinations of its `over` axes' values (the last fastest).
    fn combos(&self, axes: &[Axis]) -> usize {
        self.over.iter().map(|&k| axes[k].values.len()).product()
    }

    /// The combination a grid point (its axis value indices) belongs to.
    fn combo_of(&self, index: &[usize], axes: &[Axis]) -> usize {
        self.over.iter().fold(0, |c, &k| c * axes[k].values.len() + index[k])
    }

    pub fn tasks(&self, axes: &[Axis]) -> usize {
        self.combos(axes) * self.samples
    }

    /// `DIR/prelude_NAME`.
    pub fn dir(&self, dir: &Path) -> PathBuf {
        dir.join(format!("prelude_{}", self.spec.name))
    }

    /// Run folder of its task `t` (combination t / samples).
    pub fn task_dir(&self, dir: &Path, t: usize) -> PathBuf {
        let d = self.dir(dir).join(format!("task_{:04}", t));
        if self.has_samples { crate::protocol::sample_dir(&d, (t % self.samples) as u64) } else { d }
    }

    /// The value index of each `over` axis for its task `t`.
    fn over_index(&self, axes: &[Axis], t: usize) -> Vec<usize> {
        let mut rest = t / self.samples;
        let mut idx = vec![0; self.over.len()];
        for (j, &k) in self.over.iter().enumerate().rev() {
            idx[j] = rest % axes[k].values.len();
            rest /= axes[k].values.len();
        }
        idx
    }

    /// Its variables for task `t`: fixed ones and its `over` axes.
    fn vars_of_task(&self, study: &Study, t: usize) -> Vec<(String, String)> {
        let idx = self.over_index(&study.spec.axis, t);
        self.deck_vars.iter().map(|n| {
            let v = match self.over.iter().position(|&k| &study.names[k] == n) {
                Some(j) => value_text(&study.spec.axis[self.over[j]].values[idx[j]]),
                None => self.spec.vars.get(n).or_else(|| study.spec.vars.get(n)).and_then(value_text),
            };
            (n.clone(), v.unwrap_or_default())
        }).collect()
    }

    fn write_grid(&self, study: &Study, dir: &Path) -> Result<PathBuf> {
        let d = self.dir(dir);
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        let rows = (0..self.tasks(&study.spec.axis)).map(|t| (self.has_samples.then_some(t % self.samples), self.vars_of_task(study, t))).collect::<Vec<_>>();
        write_grid_csv(&d.join("grid.csv"), &self.deck_vars, &rows)
    }

    /// Whether every task has a results.json.
    fn finished(&self, study: &Study, dir: &Path) -> bool {
        (0..self.tasks(&study.spec.axis)).all(|t| self.task_dir(dir, t).join("results.json").is_file())
    }
}

/// A grid file: task, sample (where given), then the variables.
fn write_grid_csv(path: &Path, names: &[String], rows: &[(Option<usize>, Vec<(String, String)>)]) -> Result<PathBuf> {
    let with_sample = rows.iter().any(|r| r.0.is_some());
    crate::io::write_atomic(path, |w| {
        write!(w, "task{}", if with_sample { ",sample" } else { "" })?;
        for n in names {
            write!(w, ",{}", n)?;
        }
        writeln!(w)?;
        for (t, (sample, vars)) in rows.iter().enumerate() {
            write!(w, "{}", t)?;
            if let Some(k) = sample {
                write!(w, ",{}", k)?;
            }
            for (_, v) in vars {
                write!(w, ",{}", v)?;
            }
            writeln!(w)?;
        }
        Ok(())
    })?;
    Ok(path.to_path_buf())
}

/// One deck's tasks as a grid file: what a local loop or a job array runs.
struct Batch {
    label: String,
    deck: PathBuf,
    grid: PathBuf,
    dir: PathBuf,
    tasks: usize,
}

impl Batch {
    /// Its log files' prefix: none for the grid, `prelude_NAME_` else.
    fn log_prefix(&self) -> String {
        if self.label == "grid" { String::new() } else { self.label.replace(' ', "_") + "_" }
    }
}

/// The preludes' batches (their grid files written).
fn prelude_batches(study: &Study, dir: &Path) -> Result<Vec<Batch>> {
    study.preludes.iter().map(|pr| {
        Ok(Batch { label: format!("prelude {}", pr.spec.name), deck: pr.deck.clone(), grid: pr.write_grid(study, dir)?, dir: pr.dir(dir), tasks: pr.tasks(&study.spec.axis) })
    }).collect()
}

/// The grid's batch: preludes resolved, `DIR/grid.csv` written.
fn grid_batch(study: &mut Study, dir: &Path) -> Result<Batch> {
    if let Some(f) = study.resolve(dir)?.first() {
        return Err(Error::runtime(format!("{}: a prelude has not finished: no {}", study.path.display(), f.display())));
    }
    Ok(Batch { label: "grid".into(), deck: study.deck.clone(), grid: study.write_grid(dir)?, dir: dir.to_path_buf(), tasks: study.tasks() })
}

/// The `DIR/logs` folder and this glassmd binary.
fn logs_and_exe(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let exe = std::env::current_exe().map_err(|e| Error::runtime(format!("cannot find the glassmd binary: {}", e)))?;
    Ok((logs, exe))
}

/// The command that runs task `t` of a batch, its output to the task's log.
fn task_command(b: &Batch, t: usize, logs: &Path, exe: &Path, nthreads: usize) -> Result<(std::process::Command, PathBuf)> {
    let log = logs.join(format!("{}task_{:04}.log", b.log_prefix(), t));
    let f = std::fs::OpenOptions::new().create(true).append(true).open(&log).map_err(|e| Error::io(&log, e))?;
    let f2 = f.try_clone().map_err(|e| Error::io(&log, e))?;
    let mut c = std::process::Command::new(exe);
    c.args(["--threads", &nthreads.to_string(), "run"])
        .arg(&b.deck)
        .arg("--grid")
        .arg(&b.grid)
        .args(["--task", &t.to_string(), "--resume", "--dir"])
        .arg(&b.dir)
        .stdout(f)
        .stderr(f2);
    Ok((c, log))
}

/// Run the tasks of `batches` here, up to `jobs` at a time (each with
/// `nthreads` threads), in order, skipping finished ones (`--resume`
/// returns at once). The batches must not depend on each other. On a
/// failed task no new task starts; the running ones finish, then the
/// first failure is the error.
fn run_batches(study: &Study, batches: &[Batch], logs: &Path, exe: &Path, nthreads: usize, jobs: usize) -> Result<()> {
    let queue: Vec<(&Batch, usize)> = batches.iter().flat_map(|b| (0..b.tasks).map(move |t| (b, t))).collect();
    let mut running: Vec<(std::process::Child, &Batch, usize, PathBuf)> = Vec::new();
    let mut next = 0;
    let mut failed: Option<Error> = None;
    loop {
        while failed.is_none() && next < queue.len() && running.len() < jobs.max(1) {
            let (b, t) = queue[next];
            next += 1;
            println!("{} task {}/{}", b.label, t + 1, b.tasks);
            let (mut c, log) = task_command(b, t, logs, exe, nthreads)?;
            let child = c.spawn().map_err(|e| Error::runtime(format!("cannot start {}: {}", exe.display(), e)))?;
            running.push((child, b, t, log));
        }
        if running.is_empty() {
            break;
        }
        // Wait for any child: poll, since std has no wait-for-any.
        let mut done = None;
        while done.is_none() {
            for (k, (child, ..)) in running.iter_mut().enumerate() {
                if let Some(status) = child.try_wait().map_err(|e| Error::runtime(format!("waiting for a study task: {}", e)))? {
                    done = Some((k, status));
                    break;
                }
            }
            if done.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        let (k, status) = done.unwrap();
        let (_, b, t, log) = running.swap_remove(k);
        if !status.success() && failed.is_none() {
            failed = Some(Error::runtime(format!("{}: {} task {} failed ({}); see {}", study.path.display(), b.label, t, status, log.display())));
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Run the preludes, then every task of the grid, on this machine, up to
/// `jobs` tasks at a time (each with `nthreads` threads), skipping
/// finished ones. The preludes do not depend on each other; the grid
/// depends on all of them.
pub fn run_local(study: &mut Study, dir: &Path, nthreads: usize, jobs: usize) -> Result<()> {
    let (logs, exe) = logs_and_exe(dir)?;
    run_batches(study, &prelude_batches(study, dir)?, &logs, &exe, nthreads, jobs)?;
    let b = grid_batch(study, dir)?;
    run_batches(study, std::slice::from_ref(&b), &logs, &exe, nthreads, jobs)
}

/// What `submit` did: job ids, each with what it runs.
pub struct Submitted {
    pub jobs: Vec<(String, String)>,
}

/// Submit the study to Slurm through `script` (slurm/glassmd.sbatch).
/// With unfinished preludes: their job arrays, and a job after them that
/// submits the study again (then the grid). Otherwise: the grid as a job
/// array and a collection job after it.
pub fn submit(study: &mut Study, dir: &Path, script: &Path, sbatch_args: &[String]) -> Result<Submitted> {
    let (logs, exe) = logs_and_exe(dir)?;
    let sbatch = |args: Vec<std::ffi::OsString>| -> Result<String> {
        let o = std::process::Command::new("sbatch").args(&args).env("GLASSMD", &exe).output().map_err(|e| Error::runtime(format!("cannot run sbatch: {}", e)))?;
        if !o.status.success() {
            return Err(Error::runtime(format!("sbatch: {}", String::from_utf8_lossy(&o.stderr).trim())));
        }
        Ok(String::from_utf8_lossy(&o.stdout).trim().split(';').next().unwrap_or("").to_string())
    };
    let array = |b: &Batch, name: &str| -> Result<String> {
        let mut a: Vec<std::ffi::OsString> = vec!["--parsable".into(), format!("--array=0-{}", b.tasks - 1).into(), format!("--job-name={}", name).into()];
        a.push(format!("--output={}/{}task_%a.out", logs.display(), b.log_prefix()).into());
        a.extend(sbatch_args.iter().map(|s| s.into()));
        a.push(script.into());
        a.push(b.deck.clone().into());
        a.extend(["--grid".into(), b.grid.clone().into_os_string(), "--dir".into(), b.dir.clone().into_os_string()]);
        sbatch(a)
    };
    let study_path = study.path.canonicalize().unwrap_or(study.path.clone());
    // A one-line job (`--wrap`) after `deps` end (`afterok`, `afterany`),
    // its output in logs/LOG-<job id>.out.
    let after = |dependency: &str, deps: &[String], name: &str, log: &str, command: String| -> Result<String> {
        sbatch(vec![
            "--parsable".into(),
            format!("--dependency={}:{}", dependency, deps.join(":")).into(),
            format!("--job-name={}", name).into(),
            format!("--output={}/{}-%j.out", logs.display(), log).into(),
            "--wrap".into(),
            command.into(),
        ])
    };
    let mut jobs = Vec::new();
    let pending: Vec<usize> = (0..study.preludes.len()).filter(|&i| !study.preludes[i].finished(study, dir)).collect();
    if !pending.is_empty() {
        let batches = prelude_batches(study, dir)?;
        let mut ids = Vec::new();
        for &i in &pending {
            let id = array(&batches[i], &format!("glassmd-study-{}", batches[i].label.replace(' ', "-")))?;
            jobs.push((id.clone(), format!("{} ({} tasks)", batches[i].label, batches[i].tasks)));
            ids.push(id);
        }
        let quote = |p: &Path| format!("\"{}\"", p.display());
        let mut cmd = format!("{} study {} --dir {} --slurm --script {}", quote(&exe), quote(&study_path), quote(dir), quote(&script.canonicalize().unwrap_or(script.to_path_buf())));
        for a in sbatch_args {
            cmd += &format!(" \"--sbatch={}\"", a.replace('"', "\\\""));
        }
        let id = after("afterok", &ids, "glassmd-study-next", "glassmd-study-next", cmd)?;
        jobs.push((id, "the grid's submission, once the preludes are done".into()));
        return Ok(Submitted { jobs });
    }
    let b = grid_batch(study, dir)?;
    let jid = array(&b, "glassmd-study")?;
    jobs.push((jid.clone(), format!("the grid ({} tasks)", b.tasks)));
    let wrap = format!("\"{}\" study \"{}\" --dir \"{}\" --collect", exe.display(), study_path.display(), dir.display());
    // The collection runs after the array whatever its tasks' outcome.
    let cid = after("afterany", std::slice::from_ref(&jid), "glassmd-study-collect", "collect", wrap)?;
    jobs.push((cid, "the collection".into()));
    Ok(Submitted { jobs })
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
    let qs = &study.quantities;
    let nq = study.spec.report.quantities.len();
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for p in 0..study.points.len() {
        let mut vals: Vec<Vec<f64>> = vec![Vec::new(); qs.len()];
        for k in 0..s {
            let t = p * s + k;
            let f = study.task_dir(dir, t).join("results.json");
            let Some(v) = read_results(&f)? else {
                missing.push(t);
                continue;
            };
            for (qi, q) in qs[..nq].iter().enumerate() {
                if let Some(x) = v.get(q) {
                    vals[qi].push(*x);
                }
            }
            // Derived quantities of this sample (those its results allow).
            use evalexpr::ContextWithMutableVariables;
            let mut ctx = evalexpr::HashMapContext::<evalexpr::DefaultNumericTypes>::new();
            for (k, x) in &v {
                let _ = ctx.set_value(k.clone(), evalexpr::Value::Float(*x));
            }
            for (qi, d) in study.spec.report.derived.iter().enumerate() {
                if let Ok(x) = evalexpr::eval_number_with_context(&d.expr, &ctx) {
                    vals[nq + qi].push(x);
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
        table += &format!("{:>5} {}", r.point, vars.iter().map(|v| if v.1.len() > 13 && v.0.is_finite() { format!(" {:>13.6}", v.0) } else { format!(" {:>13}", v.1) }).collect::<String>());
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
    // The preludes' results (seed 001's Tg at each Pa, with its fit
    // windows): a CSV each, and in study.json.
    let mut jpre = serde_json::Map::new();
    for pr in &study.preludes {
        let mut rows = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for t in 0..pr.tasks(&study.spec.axis) {
            let r = read_results(&pr.task_dir(dir, t).join("results.json"))?;
            if let Some(r) = &r {
                keys.extend(r.keys().filter(|k| !keys.contains(k)).cloned().collect::<Vec<_>>());
            }
            rows.push((t, pr.vars_of_task(study, t), r));
        }
        let over: Vec<&String> = pr.over.iter().map(|&k| &study.names[k]).collect();
        let mut pcsv = format!("task,sample{}", over.iter().map(|n| format!(",{}", n)).collect::<String>());
        for k in &keys {
            pcsv += &format!(",{}", k);
        }
        pcsv.push('\n');
        let mut jrows = Vec::new();
        for (t, vars, r) in &rows {
            let ov: Vec<&(String, String)> = vars.iter().filter(|(n, _)| over.contains(&n)).collect();
            pcsv += &format!("{},{}{}", t, t % pr.samples, ov.iter().map(|(_, v)| format!(",{}", v)).collect::<String>());
            for k in &keys {
                pcsv += &format!(",{}", r.as_ref().and_then(|r| r.get(k)).map(|x| format!("{:?}", x)).unwrap_or_default());
            }
            pcsv.push('\n');
            if let Some(r) = r {
                let shown: Vec<String> = pr.spec.export.iter().filter_map(|(v, q)| r.get(q).map(|x| format!("{} = {} ({})", v, x, q))).collect();
                if !shown.is_empty() {
                    table += &format!("prelude {} task {}{}: {}\n", pr.spec.name, t, ov.iter().map(|(n, v)| format!(" {}={}", n, v)).collect::<String>(), shown.join(", "));
                }
            } else {
                table += &format!("prelude {} task {} has no results yet\n", pr.spec.name, t);
            }
            jrows.push(serde_json::json!({"task": t, "sample": t % pr.samples, "vars": ov.iter().map(|(n, v)| (n.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(), "results": r}));
        }
        crate::io::write_atomic(&dir.join(format!("prelude_{}.csv", pr.spec.name)), |w| w.write_all(pcsv.as_bytes()))?;
        jpre.insert(pr.spec.name.clone(), serde_json::json!({"deck": pr.deck.display().to_string(), "over": over, "export": pr.spec.export, "runs": jrows}));
    }
    if !jpre.is_empty() {
        json["preludes"] = serde_json::Value::Object(jpre);
    }
    if let Some(m) = &study.spec.map {
        let crossings = zero_crossings(study, &out, m);
        let at = |c: &(f64, f64)| match &m.y {
            Some(y) => serde_json::json!({y.clone(): c.0, m.x.clone(): c.1}),
            None => serde_json::json!({m.x.clone(): c.1}),
        };
        json["map"] = serde_json::json!({"x": m.x, "y": m.y, "value": m.value, "zero_crossings": crossings.iter().map(at).collect::<Vec<_>>()});
        for (y, x) in &crossings {
            table += &format!("{} = 0 at {} = {:.4}{}\n", m.value, m.x, x, m.y.as_ref().map(|n| format!(" for {} = {}", n, y)).unwrap_or_default());
        }
        match m.y {
            Some(_) => draw_map(study, &out, m, &crossings, &dir.join(&m.file))?,
            None => draw_curve(study, &out, m, &crossings, &dir.join(&m.file))?,
        }
    }
    if !missing.is_empty() {
        table += &format!("{} of {} tasks have no results yet: {:?}\n", missing.len(), study.tasks(), missing);
    }
    crate::io::write_atomic(&dir.join("study.csv"), |w| w.write_all(csv.as_bytes()))?;
    crate::io::write_atomic(&dir.join("study.json"), |w| writeln!(w, "{}", serde_json::to_string_pretty(&json).unwrap_or_default()))?;
    Ok((out, table))
}

/// Positions of the map's x and y among the study's names (y: None for a
/// curve).
fn map_axes(study: &Study, m: &MapSpec) -> (usize, Option<usize>) {
    let pos = |v: &String| study.names.iter().position(|n| n == v).unwrap();
    (pos(&m.x), m.y.as_ref().map(pos))
}

/// The map's grid: sorted distinct x and y values, and the mean of the
/// value quantity at (x, y) (NaN where missing). A curve is one row at
/// y = 0.
fn map_grid(study: &Study, res: &[PointResult], m: &MapSpec) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let (ix, iy) = map_axes(study, m);
    let qi = study.quantities.iter().position(|q| q == &m.value).unwrap();
    let y_of = |p: &[(f64, String)]| iy.map_or(0.0, |k| p[k].0);
    let distinct = |f: &dyn Fn(&[(f64, String)]) -> f64| {
        let mut v: Vec<f64> = study.points.iter().map(|p| f(p)).filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (distinct(&|p| p[ix].0), distinct(&y_of));
    let mut z = vec![vec![f64::NAN; xs.len()]; ys.len()];
    for r in res {
        let p = &study.points[r.point];
        if let (Some(a), Some(b)) = (xs.iter().position(|&x| x == p[ix].0), ys.iter().position(|&y| y == y_of(p))) {
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
    let qi = study.quantities.iter().position(|q| q == &m.value).unwrap();
    let (ix, iy) = map_axes(study, m);
    let (iy, ydesc) = (iy.unwrap_or(ix), m.y.as_deref().unwrap_or_default());
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
        c.configure_mesh().disable_mesh().x_desc(m.x.as_str()).y_desc(ydesc).draw().map_err(|e| err(e.to_string()))?;
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

/// A map without y as SVG: the value's mean against x with ± one standard
/// error bars, the zero line, and the zero crossing (seed 002's critical
/// stress, where the energy change turns from relaxation to rejuvenation).
fn draw_curve(study: &Study, res: &[PointResult], m: &MapSpec, crossings: &[(f64, f64)], out: &Path) -> Result<()> {
    use plotters::prelude::*;
    let qi = study.quantities.iter().position(|q| q == &m.value).unwrap();
    let (ix, _) = map_axes(study, m);
    let mut pts: Vec<(f64, f64, f64)> = res.iter().map(|r| (study.points[r.point][ix].0, r.q[qi].0, r.q[qi].1)).filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    if pts.is_empty() {
        // Nothing finished yet: no curve (the table says what is missing).
        return Ok(());
    }
    let se = |p: &(f64, f64, f64)| if p.2.is_finite() { p.2 } else { 0.0 };
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let y0 = pts.iter().map(|p| p.1 - se(p)).fold(0.0f64, f64::min);
    let y1 = pts.iter().map(|p| p.1 + se(p)).fold(0.0f64, f64::max);
    let pad = |a: f64, b: f64| if b > a { 0.08 * (b - a) } else { 1.0 };
    let (px, py) = (pad(x0, x1), pad(y0, y1));
    let mut text = String::new();
    {
        let err = |e: String| Error::runtime(format!("{}: plotting: {}", out.display(), e));
        let root = SVGBackend::with_string(&mut text, (760, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut c = ChartBuilder::on(&root)
            .caption(format!("{} (mean ± s.e., {} samples)", m.value, study.spec.samples), ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
            .map_err(|e| err(e.to_string()))?;
        c.configure_mesh().x_desc(m.x.as_str()).y_desc(m.value.as_str()).draw().map_err(|e| err(e.to_string()))?;
        c.draw_series(LineSeries::new(vec![(x0 - px, 0.0), (x1 + px, 0.0)], BLACK.mix(0.5).stroke_width(1))).map_err(|e| err(e.to_string()))?;
        c.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), BLUE.stroke_width(2))).map_err(|e| err(e.to_string()))?;
        c.draw_series(pts.iter().map(|p| ErrorBar::new_vertical(p.0, p.1 - se(p), p.1, p.1 + se(p), BLUE.filled(), 8))).map_err(|e| err(e.to_string()))?;
        for &(_, x) in crossings {
            c.draw_series(LineSeries::new(vec![(x, y0 - py), (x, y1 + py)], RED.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?
                .label(format!("{} = 0 at {} = {:.3}", m.value, m.x, x))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
            c.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    crate::io::write_atomic(out, |w| w.write_all(text.as_bytes()))
}
