//! TOML input decks.
//!
//! Serde structs with `deny_unknown_fields`; every error becomes one line
//! `deck.toml: line N: message`, with N the line of the offending key. Units
//! are LAMMPS `metal` except where a key's name says otherwise (`_gpa`).
//! Paths in a deck are relative to the deck's folder ([`Deck::resolve`]).
//!
//! - `mod.rs`: [`Deck`], loading (variables, parsing, errors in users' words);
//! - `sections.rs`: `[system]`, `[potential]`, `[thermo]`, `[output]`, ...;
//! - `stages.rs`: `[[stage]]` kinds; `fix.rs`: `[[stage.fix]]`; `group.rs`:
//!   `[[group]]`;
//! - `validate.rs`: every value checked before a run touches anything;
//! - `locate.rs`: where each key is, for messages.
//!
//! Choices are serde enums (potential style, minimiser, couple, fix and
//! stage kinds), so an unknown value is refused by the parser with the
//! accepted ones listed. A new stage kind is a new variant of [`Stage`]
//! plus its driver in `run::stages`; a new section is a new struct with
//! `#[serde(deny_unknown_fields)]`.

pub mod locate;
pub mod validate;

use crate::error::{Error, Result};
use crate::system::Boundary;
pub mod fix;
pub mod group;
mod sections;
mod stages;

pub use fix::FixSpec;
pub use group::GroupSpec;
pub use locate::Locator;
pub use sections::*;
pub use stages::*;
use locate::{friendly, key_on_line};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deck {
    pub system: SystemSection,
    pub potential: PotentialSection,
    #[serde(default)]
    pub neighbor: NeighborSection,
    /// The domain decomposition (`[domain] balance = { every, threshold }`).
    #[serde(default)]
    pub domain: DomainSection,
    #[serde(default)]
    pub thermo: ThermoSection,
    /// Independent samples of the whole deck (`[samples] count = 10`).
    #[serde(default)]
    pub samples: Option<SamplesSection>,
    /// Properties of the glass the protocol refers to (`[glass] tg = 700`).
    #[serde(default)]
    pub glass: GlassSection,
    /// Trajectories and checkpoints (`[output]`).
    #[serde(default)]
    pub output: OutputSection,
    /// Structure analyses during the run (`[analysis]`).
    #[serde(default)]
    pub analysis: Option<AnalysisSection>,
    /// Named sets of atoms (`[[group]]`), defined in order at the start.
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupSpec>,
    /// The stages to run, repeat blocks expanded (see [`Deck::origin`]).
    #[serde(default, rename = "stage")]
    pub stages: Vec<Stage>,
    /// Where each of `stages` is in the deck (its `[[stage]]`, and its
    /// place and pass in a repeat block).
    #[serde(skip)]
    pub origin: Vec<Origin>,
    /// Guards against runaway runs (`[limits]`).
    #[serde(default)]
    pub limits: crate::engine::Limits,
    /// Settings of per-atom computes (`[compute] coord_cutoff = 3.5`).
    #[serde(default)]
    pub compute: crate::compute::Settings,
    /// Where each key is in the deck's text, for messages.
    #[serde(skip)]
    pub loc: Locator,
    /// Folder of the deck file; set by [`Deck::load`].
    #[serde(skip)]
    pub dir: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}


/// Parse one stage table on its own as its concrete kind, to get the exact
/// position of an error that serde reports for the whole tagged table.
fn reparse_stage(kind: &str, body: &str) -> Option<toml::de::Error> {
    fn t<T: serde::de::DeserializeOwned>(body: &str) -> Option<toml::de::Error> {
        toml::from_str::<T>(body).err()
    }
    match kind {
        "velocity" => t::<VelocityStage>(body),
        "nve" => t::<NveStage>(body),
        "nvt" => t::<NvtStage>(body),
        "npt" => t::<NptStage>(body),
        "deform" => t::<DeformStage>(body),
        "langevin" => t::<LangevinStage>(body),
        "minimize" => t::<MinimizeStage>(body),
        "write_data" => t::<WriteDataStage>(body),
        "record" => t::<RecordStage>(body),
        "tg" => t::<TgStage>(body),
        "change_box" => t::<ChangeBoxStage>(body),
        "repeat" => t::<RepeatStage>(body),
        "cyclic" => t::<CyclicStage>(body),
        _ => None,
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `file` relative to `dir` (absolute paths stay as they are).
pub fn resolve_in(dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Replace `${name}` by its value (see [`Deck::load_with`]).
pub fn substitute(text: &str, vars: &[(String, String)]) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut used = vec![false; vars.len()];
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            return Err(format!("line {}: unclosed ${{", line_of(text, text.len() - rest.len() + i)));
        };
        let name = &after[..j];
        match vars.iter().position(|(k, _)| k == name) {
            Some(k) => {
                used[k] = true;
                out.push_str(&vars[k].1);
            }
            None => return Err(format!("line {}: the deck uses ${{{}}} but no --var {}=VALUE was given", line_of(text, text.len() - rest.len() + i), name, name)),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    if let Some(k) = used.iter().position(|u| !u) {
        return Err(format!("--var {} is not used by the deck (no ${{{}}} in it)", vars[k].0, vars[k].0));
    }
    Ok(out)
}

/// Stage kinds, for messages.
const STAGE_KINDS: &str = "velocity, nve, nvt, npt, langevin, deform, minimize, write_data, record, tg, change_box, repeat, cyclic";

/// The error of stage `k` (0-based) parsed on its own as its kind, as one
/// line naming the stage and the line of the bad key; None if it parses.
fn stage_error(text: &str, loc: &Locator, k: usize) -> Option<String> {
    let (head, end) = loc.stage_span(k)?;
    let lines: Vec<&str> = text.lines().collect();
    let body_lines = &lines[head.min(lines.len())..(end - 1).min(lines.len())];
    // Sub-tables of the stage (`[[stage.fix]]`) become the stage's own
    // (`[[fix]]`) when the stage is parsed alone.
    let body = body_lines.iter().map(|l| l.replacen("[[stage.", "[[", 1)).collect::<Vec<_>>().join("\n");
    let kind = body_lines.iter().filter_map(|l| l.split_once('=')).find(|(k, _)| k.trim() == "kind").map(|(_, v)| v.split('#').next().unwrap_or("").trim().trim_matches('"').to_string());
    let Some(kind) = kind else {
        return Some(format!("line {}: stage {}: missing key `kind` (one of {})", head, k + 1, STAGE_KINDS));
    };
    let Some(e) = reparse_stage(&kind, &body) else {
        if STAGE_KINDS.split(", ").any(|x| x == kind) {
            return None;
        }
        let l = loc.stage_line(k, Some("kind")).unwrap_or(head);
        return Some(format!("line {}: stage {}: unknown kind '{}' (expected one of {})", l, k + 1, kind, STAGE_KINDS));
    };
    // A missing key is a fault of the whole table: report the header.
    let missing = e.message().starts_with("missing field");
    let l = if missing { head } else { e.span().map(|sp| head + line_of(&body, sp.start)).unwrap_or(head) };
    let key = if missing { None } else { lines.get(l - 1).and_then(|t| key_on_line(t)) };
    let m = friendly(e.message(), key);
    Some(match key {
        Some(key) if !m.contains(&format!("`{}`", key)) => format!("line {}: stage {} ({}): {}: {}", l, k + 1, kind, key, m),
        _ => format!("line {}: stage {} ({}): {}", l, k + 1, kind, m),
    })
}

/// Turn a toml/serde error into one line naming the line of the bad key.
fn describe(text: &str, e: &toml::de::Error, loc: &Locator) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(span) = e.span() else { return friendly(e.message(), None) };
    let line = line_of(text, span.start);
    // Errors inside a [[stage]] table come with the span of the table (or
    // of the whole array): parse the stages one by one as their own kind to
    // find the failing one and its key.
    if let Some(k) = loc.stage_at(line) {
        for j in std::iter::once(k).chain(0..loc.stage_count()) {
            if let Some(m) = stage_error(text, loc, j) {
                return m;
            }
        }
    }
    // A missing top-level section has no line.
    if let Some(name) = e.message().strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
        if line == 1 && TOP_SECTIONS.contains(&name) {
            return format!("the deck has no [{}] section", name);
        }
    }
    // The key by its full dotted name (`neighbor.skin`); for an error about
    // a whole table (a missing field), the table's name.
    let dotted = loc.key_at(line).map(|k| k.to_string());
    let key = dotted.as_deref().or_else(|| lines.get(line - 1).and_then(|t| key_on_line(t)));
    let m = friendly(e.message(), key);
    match key {
        Some(k) if !m.contains(&format!("`{}`", k.rsplit('.').next().unwrap_or(k))) || m.starts_with("missing field") => format!("line {}: {}: {}", line, k, m),
        _ => format!("line {}: {}", line, m),
    }
}

/// The deck's sections, for messages about a missing one.
const TOP_SECTIONS: [&str; 2] = ["system", "potential"];

/// The first float in a parsed deck that is not finite: its dotted path
/// and value. TOML allows `inf` and `nan`, but no deck key means them.
fn non_finite(v: &toml::Value, path: &mut Vec<String>) -> Option<(Vec<String>, f64)> {
    // Region ranges of groups may be unbounded (`z = [-inf, 5.0]`).
    let unbounded = path.first().is_some_and(|p| p == "group") && path.iter().any(|p| p == "region");
    match v {
        toml::Value::Float(f) if f.is_infinite() && unbounded => None,
        toml::Value::Float(f) if !f.is_finite() => Some((path.clone(), *f)),
        toml::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
            path.push(format!("[{}]", i));
            let r = non_finite(x, path);
            path.pop();
            r
        }),
        toml::Value::Table(t) => t.iter().find_map(|(k, x)| {
            path.push(k.clone());
            let r = non_finite(x, path);
            path.pop();
            r
        }),
        _ => None,
    }
}

impl Deck {
    /// Does a stage tilt the box (a tilt rate of `deform`, a shear target
    /// of `npt`)? Then the box is triclinic from the start (LAMMPS
    /// `change_box all triclinic`), so every output has its layout from
    /// the first frame.
    pub fn tilts_box(&self) -> bool {
        self.stages.iter().any(|st| {
            let b = st.integrator_box_change().union(st.fixes().iter().fold(crate::fix::BoxChange::default(), |a, f| a.union(f.box_change())));
            b.0 & 0b111000 != 0
        })
    }

    pub fn load(path: &Path) -> Result<Deck> {
        Self::load_with(path, &[])
    }

    /// Load a deck with variables: every `${name}` in its text is replaced
    /// by the value given as `--var name=value` before parsing (LAMMPS
    /// `-var`). A `${name}` without a value, or a value the deck never uses,
    /// is an error.
    pub fn load_with(path: &Path, vars: &[(String, String)]) -> Result<Deck> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let text = substitute(&text, vars).map_err(|m| Error::input(path, m))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Deck> {
        let loc = Locator::new(text);
        let raw: toml::Value = toml::from_str(text).map_err(|e| Error::input(path, describe(text, &e, &loc)))?;
        if let Some((p, v)) = non_finite(&raw, &mut Vec::new()) {
            // stage.[k].key → the stage's line; other keys → their own line.
            let (line, name) = match (p.first().map(|s| s.as_str()), p.get(1).and_then(|i| i.trim_matches(['[', ']']).parse::<usize>().ok())) {
                (Some("stage"), Some(k)) => {
                    let key = p[2..].iter().filter(|s| !s.starts_with('[')).cloned().collect::<Vec<_>>().join(".");
                    (loc.stage_line(k, Some(&key)), format!("stage {}: {}", k + 1, key))
                }
                _ => {
                    // `group.[k].region.z.[0]` → `group[k].region.z`: the
                    // index of an array of tables stays with its name.
                    let mut key = String::new();
                    for (i, s) in p.iter().enumerate() {
                        if s.starts_with('[') {
                            if i == 1 {
                                key.push_str(s);
                            }
                        } else {
                            if !key.is_empty() {
                                key.push('.');
                            }
                            key.push_str(s);
                        }
                    }
                    (loc.line(&key), key)
                }
            };
            let l = line.map(|l| format!("line {}: ", l)).unwrap_or_default();
            let hint = if name.starts_with("group") { " (region ranges may be inf or -inf)" } else { "" };
            return Err(Error::input(path, format!("{}{} = {}: numbers in a deck must be finite{}", l, name, v, hint)));
        }
        let mut deck: Deck = toml::from_str(text).map_err(|e| Error::input(path, describe(text, &e, &loc)))?;
        deck.loc = loc;
        deck.path = path.to_path_buf();
        deck.dir = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        if deck.dir.as_os_str().is_empty() {
            deck.dir = PathBuf::from(".");
        }
        deck.expand()?;
        deck.resolve_temperatures()?;
        deck.validate()?;
        Ok(deck)
    }

    /// A path from the deck, relative to the deck's folder.
    pub fn resolve(&self, p: &str) -> PathBuf {
        resolve_in(&self.dir, p)
    }

    /// Expand repeat blocks into the flat list of stages a run steps
    /// through, recording each one's [`Origin`]; a `tg` stage's `stage`
    /// (the deck's numbering) becomes the number of that stage in the flat
    /// list.
    fn expand(&mut self) -> Result<()> {
        let mut flat = Vec::new();
        let mut origin = Vec::new();
        // The flat index of each of the deck's stages (its first pass).
        let mut first = Vec::new();
        let top = std::mem::take(&mut self.stages);
        for (k, st) in top.into_iter().enumerate() {
            first.push(flat.len());
            let here = Origin { index: k, inner: None };
            let Stage::Repeat(r) = st else {
                flat.push(st);
                origin.push(here);
                continue;
            };
            let err = |key: Option<&str>, m: String| {
                let l = self.loc.stage_line(k, key).map(|l| format!("line {}: ", l)).unwrap_or_default();
                Err(Error::input(&self.path, format!("{}stage {} (repeat): {}", l, k + 1, m)))
            };
            if r.count == 0 {
                return err(Some("count"), "count must be at least 1 (the number of passes through the block)".into());
            }
            if r.stage.is_empty() {
                return err(None, "a repeat block needs its stages as [[stage.stage]] tables".into());
            }
            if let Some(j) = r.stage.iter().position(|s| matches!(s, Stage::Repeat(_) | Stage::Tg(_))) {
                let what = if matches!(r.stage[j], Stage::Repeat(_)) { "repeat blocks do not nest" } else { "a tg stage fits one stage; put it after the block" };
                return err(Some(&format!("stage[{}].kind", j)), format!("inner stage {} ({}): {}", j + 1, r.stage[j].name(), what));
            }
            let total = (flat.len() as u64).saturating_add(r.count.saturating_mul(r.stage.len() as u64));
            if total > MAX_EXPANDED_STAGES {
                return err(Some("count"), format!("count = {} x {} stages would expand the deck to more than {} stages", r.count, r.stage.len(), MAX_EXPANDED_STAGES));
            }
            let records: Vec<String> = r.stage.iter().filter_map(|s| if let Stage::Record(x) = s { Some(x.name.clone()) } else { None }).collect();
            for pass in 1..=r.count {
                for (j, inner) in r.stage.iter().enumerate() {
                    let mut s = inner.clone();
                    s.for_pass(pass, &records);
                    flat.push(s);
                    origin.push(Origin { index: k, inner: Some((j, pass, r.count)) });
                }
            }
        }
        for st in flat.iter_mut() {
            if let Stage::Tg(t) = st {
                if let Some(s) = t.stage {
                    // A number past the deck's stages stays past the flat
                    // list, so validation reports it.
                    t.stage = Some(first.get(s.wrapping_sub(1)).map_or(usize::MAX, |&f| f + 1));
                }
            }
        }
        self.stages = flat;
        self.origin = origin;
        Ok(())
    }

    /// Where stage `k` (0-based, expanded) is: "3" or "3.2" (inner stage
    /// 2 of repeat block 3).
    pub fn stage_number(&self, k: usize) -> String {
        self.origin.get(k).map_or_else(|| format!("{}", k + 1), |o| o.number())
    }

    /// The line of `key` of stage `k` (0-based, expanded), else of its table.
    pub fn stage_line(&self, k: usize, key: Option<&str>) -> Option<usize> {
        let o = self.origin.get(k).copied().unwrap_or(Origin { index: k, inner: None });
        self.loc.stage_line(o.index, o.key(key).as_deref())
    }

    /// The boundary styles in force while stage `k` runs: the deck's,
    /// changed by the `change_box` stages before it.
    pub fn boundary_at(&self, k: usize) -> [Boundary; 3] {
        self.stages[..k.min(self.stages.len())].iter().fold(self.system.boundary(), |b, s| match s {
            Stage::ChangeBox(c) => c.boundary,
            _ => b,
        })
    }

    /// Turn `temperature_over_tg` into temperatures with `[glass] tg`.
    fn resolve_temperatures(&mut self) -> Result<()> {
        let tg = self.glass.tg;
        let path = self.path.clone();
        for (k, s) in self.stages.iter_mut().enumerate() {
            let kind = s.name();
            let (t, over) = match s {
                Stage::Nvt(v) => (&mut v.temperature, v.temperature_over_tg),
                Stage::Npt(v) => (&mut v.temperature, v.temperature_over_tg),
                Stage::Langevin(v) => (&mut v.temperature, v.temperature_over_tg),
                Stage::Deform(v) => (&mut v.temperature, v.temperature_over_tg),
                Stage::Cyclic(v) => (&mut v.temperature, v.temperature_over_tg),
                _ => continue,
            };
            let o = self.origin.get(k).copied().unwrap_or_default();
            let line = self.loc.stage_line(o.index, o.key(Some("temperature_over_tg")).as_deref()).map(|l| format!("line {}: ", l)).unwrap_or_default();
            let bad = |m: &str| Err(Error::input(&path, format!("{}stage {} ({}): {}", line, o.number(), kind, m)));
            let given = !matches!(t, Target::Const(x) if x.is_nan());
            match (given, over) {
                (true, Some(_)) => return bad("give temperature or temperature_over_tg, not both"),
                (false, None) => return bad("missing field `temperature` (or temperature_over_tg)"),
                (false, Some(r)) => {
                    let Some(tg) = tg.filter(|&x| x > 0.0) else {
                        return bad("temperature_over_tg needs [glass] tg = <K> in the deck");
                    };
                    *t = match r {
                        Target::Const(a) => Target::Const(a * tg),
                        Target::Ramp([a, b]) => Target::Ramp([a * tg, b * tg]),
                    };
                }
                (true, None) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "[system]\nread_data = \"x.data\"\n[potential]\nstyle = \"eam/fs\"\nfile = \"p.fs\"\nelements = [\"Cu\", \"Zr\"]\n";

    #[test]
    fn temperature_over_tg_scales_by_glass_tg() {
        let text = format!("[glass]\ntg = 700.0\n{HEAD}[[stage]]\nkind = \"npt\"\ntemperature_over_tg = [0.5, 1.2]\nrate_k_per_ps = 49.0\npressure_gpa = 0.0\ntimestep = 0.002\n[[stage]]\nkind = \"nvt\"\ntemperature_over_tg = 1.2\nsteps = 5\n");
        let deck = Deck::parse(Path::new("deck.toml"), &text).unwrap();
        match &deck.stages[0] {
            Stage::Npt(n) => {
                assert_eq!((n.temperature.start(), n.temperature.stop()), (350.0, 840.0));
                // The rate applies to the resolved ramp: 490 K at 49 K/ps = 10 ps.
                assert_eq!(n.steps().unwrap(), 5000);
            }
            _ => panic!("npt expected"),
        }
        match &deck.stages[1] {
            Stage::Nvt(n) => assert_eq!(n.temperature.start(), 840.0),
            _ => panic!("nvt expected"),
        }
    }
}
