//! Deck validation: every value a run will use is checked here, before any
//! output is touched or anything large is allocated, and every complaint is
//! one line naming the deck, the line of the key, and (inside a stage) the
//! stage. Bounds are physical ("a timestep of more than 1 ps is not metal
//! MD") or practical ("a stage of more than 10¹² steps cannot finish"); the
//! runtime guards of `[limits]` catch what only shows while running.
//!
//! A new key gets its check in [`Deck::validate`], reported through
//! [`Deck::key_error`] or [`Deck::stage_error`] so the message carries its line.

use super::*;

/// Longest stage, steps.
pub const MAX_STEPS: u64 = 1_000_000_000_000;
/// Largest timestep, ps (metal MD uses 0.001-0.005).
pub const MAX_TIMESTEP: f64 = 1.0;
/// Largest neighbor skin, Å (LAMMPS metal default 2).
pub const MAX_SKIN: f64 = 10.0;
/// Largest pressure magnitude, GPa.
pub const MAX_PRESSURE_GPA: f64 = 1000.0;
/// Most samples of a deck.
pub const MAX_SAMPLES: u64 = 100_000;

/// Files glassmd writes into every run folder whatever the deck says.
pub const RESERVED_FILES: [&str; 5] = ["results.json", "samples.json", "vars.json", "run.json", ".glassmd.lock"];

/// Is `name` usable as a file name in a deck? (Relative paths into
/// sub-folders are fine; the folder must exist when the file is written.)
pub fn check_file_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("the file name is empty".into());
    }
    if name.ends_with('/') || name == "." || name == ".." || name.ends_with("/.") || name.ends_with("/..") {
        return Err(format!("'{}' names a folder, not a file", name));
    }
    if name.contains('\0') {
        return Err("the file name contains a NUL character".into());
    }
    Ok(())
}

/// A number as a person writes it: `1e300`, not 301 digits.
pub struct N(pub f64);

impl std::fmt::Display for N {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if a != 0.0 && a.is_finite() && !(1e-4..1e7).contains(&a) {
            write!(f, "{:e}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

fn in_range(v: f64, lo: f64, hi: f64) -> bool {
    v >= lo && v <= hi
}

impl Deck {
    /// An error about a key outside the stages: `deck: line N: key: msg`.
    pub fn key_error(&self, key: &str, msg: impl std::fmt::Display) -> Error {
        match self.loc.line(key) {
            Some(l) => Error::input(&self.path, format!("line {}: {}: {}", l, key, msg)),
            None => Error::input(&self.path, format!("{}: {}", key, msg)),
        }
    }

    /// An error about stage `k` (0-based), at the line of `key` (else of
    /// the stage's header): `deck: line N: stage k+1 (kind): msg`.
    pub fn stage_error(&self, k: usize, key: Option<&str>, msg: impl std::fmt::Display) -> Error {
        let kind = self.stages.get(k).map(|s| s.name()).unwrap_or("?");
        let n = self.stage_number(k);
        match self.stage_line(k, key) {
            Some(l) => Error::input(&self.path, format!("line {}: stage {} ({}): {}", l, n, kind, msg)),
            None => Error::input(&self.path, format!("stage {} ({}): {}", n, kind, msg)),
        }
    }

    /// An error about an output named by `key` as [`Deck::output_files`]
    /// gives it (`thermo.file`, or `stage N (kind) file`), at its line.
    pub fn output_error(&self, key: &str, msg: impl std::fmt::Display) -> Error {
        match key.strip_prefix("stage ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => self.stage_error(n - 1, Some("file"), msg),
            None => self.key_error(key, msg),
        }
    }

    /// The barostat of loading stage `k` (targets, tilts, couple) under the
    /// boundary in force, and one driver per box component: the deformed
    /// components of `deform` (called `what` in the message) may not also
    /// have a pressure target.
    fn loading_drivers(&self, k: usize, targets: [Option<(f64, f64)>; 3], tilts: [Option<(f64, f64)>; 3], couple: Option<CoupleSpec>, deform: &crate::config::FixSpec, what: &str) -> Result<()> {
        if let Some((key, m)) = barostat_problem(targets, tilts, couple, self.boundary_at(k)) {
            return Err(self.stage_error(k, Some(key), m));
        }
        let baro = crate::fix::BoxChange::axes(targets.map(|t| t.is_some())).union(crate::fix::BoxChange::tilts(tilts.map(|t| t.is_some())));
        let both = baro.overlap(deform.box_change());
        if !both.is_empty() {
            return Err(self.stage_error(k, Some("pressure_gpa"), format!("{} has both {} and a pressure target; one box component, one driver", both.names().join(", "), what)));
        }
        Ok(())
    }

    /// A failure while stage `k` ran, at the stage's line; errors that
    /// already name a file (and a signal's stop) pass through.
    pub fn runtime_error(&self, k: usize, e: Error) -> Error {
        match e {
            Error::Runtime(m) => self.stage_error(k, None, m),
            other => other,
        }
    }

    /// Every file the deck writes into its run folder, with the key (or
    /// `stage N`) that names it, as given in the deck.
    pub fn output_files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(f) = &self.thermo.file {
            out.push(("thermo.file".to_string(), f.clone()));
        }
        let o = &self.output;
        for (key, t) in [("snapshot", &o.snapshot), ("dump", &o.dump), ("xyz", &o.xyz)] {
            if let Some(t) = t {
                out.push((format!("output.{}.file", key), t.file.clone()));
            }
        }
        if let Some(c) = &o.checkpoint {
            out.push(("output.checkpoint.file".into(), c.file.clone()));
        }
        if let Some(a) = &self.analysis {
            out.push(("analysis.file".into(), a.file.clone()));
        }
        for (k, st) in self.stages.iter().enumerate() {
            let files: Vec<&String> = match st {
                Stage::WriteData(w) => vec![&w.file],
                Stage::Tg(t) => vec![&t.file],
                Stage::Nvt(v) => v.inherent_structures.iter().map(|i| &i.file).collect(),
                Stage::Npt(v) => v.inherent_structures.iter().map(|i| &i.file).collect(),
                Stage::Deform(v) => vec![&v.stress_strain_file],
                Stage::Cyclic(v) => vec![&v.stress_strain_file, &v.cycles_file],
                _ => Vec::new(),
            };
            for f in files {
                out.push((format!("stage {} ({}) file", k + 1, st.name()), f.clone()));
            }
        }
        out
    }

    pub(super) fn validate(&self) -> Result<()> {
        let lim = &self.limits;
        let kerr = |key: &str, m: String| Err(self.key_error(key, m));
        // [limits] first: other checks use them.
        // A compute's cutoff: positive and at most a box's worth of
        // ghosts (a larger one would copy the system many times over).
        if !(self.compute.coord_cutoff > 0.0 && self.compute.coord_cutoff <= 50.0) {
            return kerr("compute.coord_cutoff", format!("must be > 0 and at most 50 A, got {}", N(self.compute.coord_cutoff)));
        }
        if let Some(c) = self.compute.w6_cutoff {
            if !(c > 0.0 && c <= 50.0) {
                return kerr("compute.w6_cutoff", format!("must be > 0 and at most 50 A, got {}", N(c)));
            }
        }
        if let Some(c) = self.compute.strain_cutoff {
            if !(c > 0.0 && c <= 50.0) {
                return kerr("compute.strain_cutoff", format!("must be > 0 and at most 50 A, got {}", N(c)));
            }
        }
        if let (Some(_), Some(_)) = (&self.compute.strain_reference, &self.compute.strain_reference_file) {
            return kerr("compute.strain_reference", "give strain_reference (a stage) or strain_reference_file, not both".into());
        }
        if let Some(r) = &self.compute.strain_reference {
            let named: Vec<&str> = self.stages.iter().filter_map(|s| s.report_name()).collect();
            if !named.contains(&r.as_str()) {
                return kerr("compute.strain_reference", format!("no stage is named '{}' (named stages: {})", r, if named.is_empty() { "none".to_string() } else { named.join(", ") }));
            }
        }
        // Who measures local strain needs a reference and a cutoff.
        let o = &self.output;
        let strain_fields = [&o.snapshot, &o.dump, &o.xyz].into_iter().flatten().flat_map(|t| &t.fields).find(|f| f.as_str() == "strain" || f.as_str() == "d2min");
        let strain_analysis = self.analysis.iter().flat_map(|a| &a.compute).find(|c| c.as_str() == "strain" || c.as_str() == "d2min");
        if let Some(who) = strain_analysis.map(|c| format!("analysis.compute '{}'", c)).or(strain_fields.map(|f| format!("the field '{}'", f))) {
            if self.compute.strain_reference.is_none() && self.compute.strain_reference_file.is_none() {
                return kerr("compute.strain_reference", format!("{} measures local strain: name the reference stage ([compute] strain_reference = \"<stage name>\") or file (strain_reference_file)", who));
            }
            if self.compute.strain_cutoff.is_none() {
                return kerr("compute.strain_cutoff", format!("{} needs the neighbor cutoff in the reference, in A (OVITO's atomic-strain cutoff; 5.0 takes about two shells in CuZr)", who));
            }
        }
        for (k, v) in [("voronoi_face_threshold", self.compute.voronoi_face_threshold), ("voronoi_relative_face_threshold", self.compute.voronoi_relative_face_threshold), ("voronoi_edge_threshold", self.compute.voronoi_edge_threshold)] {
            if !(v.is_finite() && v >= 0.0) {
                return kerr(&format!("compute.{}", k), format!("must be a finite number >= 0, got {}", N(v)));
            }
        }
        if !(lim.max_temperature > 0.0) {
            return kerr("limits.max_temperature", format!("must be > 0 K, got {}", N(lim.max_temperature)));
        }
        if !(lim.max_step_displacement > 0.0) {
            return kerr("limits.max_step_displacement", format!("must be > 0 A, got {}", N(lim.max_step_displacement)));
        }
        if !(lim.max_volume_ratio > 1.0) {
            return kerr("limits.max_volume_ratio", format!("must be > 1, got {}", N(lim.max_volume_ratio)));
        }
        if let Some(m) = lim.max_memory_gib {
            if !(m > 0.0) {
                return kerr("limits.max_memory_gib", format!("must be > 0, got {}", N(m)));
            }
        }
        if let Some(a) = &self.analysis {
            for c in &a.compute {
                match crate::run::analyze::NAMES.iter().find(|n| n.0 == c.as_str()) {
                    None => return kerr("analysis.compute", format!("unknown analysis '{}' (known in a run: voronoi, cn, w6, strain, d2min, rdf, sq)", c)),
                    Some((_, k)) if !k.in_run() => return kerr("analysis.compute", format!("'{}' needs a trajectory: thermo.extra msd_<species>/fs_<species> during a run, or glassmd analyze on its H5MD snapshots", c)),
                    _ => {}
                }
            }
            if a.compute.is_empty() {
                return kerr("analysis.compute", "names no analysis".into());
            }
            if a.every == 0 && a.stages.is_empty() && !a.inherent_structures {
                return kerr("analysis", "needs every = N steps, stages = [names] or inherent_structures = true".into());
            }
            let named: Vec<&str> = self.stages.iter().filter_map(|s| s.report_name()).collect();
            if let Some(n) = a.stages.iter().find(|n| !named.contains(&n.as_str())) {
                return kerr("analysis.stages", format!("no stage is named '{}' (named stages: {})", n, if named.is_empty() { "none".to_string() } else { named.join(", ") }));
            }
            if let Some(c) = a.cutoff {
                if !(c > 0.0 && c <= 50.0) {
                    return kerr("analysis.cutoff", format!("must be > 0 and at most 50 A, got {}", N(c)));
                }
            }
            if !(a.rmax > 0.0 && a.rmax <= 50.0) || a.bins == 0 {
                return kerr("analysis.rmax", format!("rmax = {} must be > 0 and at most 50 A, and bins at least 1", N(a.rmax)));
            }
            for (k, v) in [("face_threshold", a.face_threshold), ("relative_face_threshold", a.relative_face_threshold), ("edge_threshold", a.edge_threshold)] {
                if !(v.is_finite() && v >= 0.0) {
                    return kerr(&format!("analysis.{}", k), format!("must be a finite number >= 0, got {}", N(v)));
                }
            }
            if let Some(b) = &a.bonds {
                let Some(kind) = crate::analysis::structure::Bonds::parse(b) else {
                    return kerr("analysis.bonds", format!("'{}': expected cutoff, nearest:N, voronoi or voronoi-weighted", b));
                };
                if kind.need_cutoff() && a.cutoff.is_none() {
                    return kerr("analysis.bonds", format!("'{}' needs analysis.cutoff", b));
                }
            }
        }
        if let Some(b) = self.domain.balance {
            if !(b.threshold >= 1.0 && b.threshold <= 1e3) {
                return kerr("domain.balance", format!("threshold = {} must be at least 1 (max/mean atoms per rank; 1.1 balances at 10 % imbalance)", N(b.threshold)));
            }
        }
        if !in_range(self.neighbor.skin, 0.0, MAX_SKIN) {
            return kerr("neighbor.skin", format!("must be between 0 and {} A, got {}", MAX_SKIN, N(self.neighbor.skin)));
        }
        if self.thermo.every == 0 {
            return kerr("thermo.every", "must be at least 1 step".into());
        }
        let sys = &self.system;
        match (&sys.read_data, &sys.create) {
            (Some(_), Some(_)) => return kerr("system", "give read_data or create, not both".into()),
            (None, None) => return kerr("system", "give read_data or a [system.create] table".into()),
            (Some(f), None) => {
                if f.trim().is_empty() {
                    return kerr("system.read_data", "the file name is empty".into());
                }
            }
            _ => {}
        }
        if let (Some(a), Some(b)) = (sys.boundary, sys.create.as_ref().and_then(|c| c.boundary)) {
            if a != b {
                return kerr("system.boundary", "system.boundary and system.create.boundary differ".into());
            }
        }
        if let Some(c) = &sys.create {
            let ck = |k: &str| format!("system.create.{}", k);
            if c.composition.is_empty() || c.composition.values().any(|&v| !(v >= 0.0)) || c.composition.values().all(|&v| v == 0.0) {
                return kerr(&ck("composition"), "needs non-negative amounts, not all zero, e.g. { Cu = 64, Zr = 36 }".into());
            }
            if let Some(e) = c.composition.keys().find(|e| e.trim().is_empty()) {
                return kerr(&ck("composition"), format!("element name '{}' is empty", e));
            }
            match (&c.lattice, c.atoms, c.number_density) {
                (Some(l), None, None) => {
                    if !["sc", "bcc", "fcc"].contains(&l.as_str()) {
                        return kerr(&ck("lattice"), format!("unknown lattice '{}' (expected sc, bcc or fcc)", l));
                    }
                    match c.a {
                        None => return kerr("system.create", "a lattice needs its lattice constant a (A)".into()),
                        Some(a) if !in_range(a, 1e-3, 100.0) => return kerr(&ck("a"), format!("must be between 0.001 and 100 A, got {}", N(a))),
                        _ => {}
                    }
                    match c.cells {
                        None => return kerr("system.create", "a lattice needs cells = [nx, ny, nz]".into()),
                        Some(n) if n.contains(&0) => return kerr(&ck("cells"), format!("must be at least 1 along each axis, got {:?}", n)),
                        _ => {}
                    }
                }
                (None, Some(n), Some(rho)) => {
                    if n == 0 {
                        return kerr(&ck("atoms"), "must be at least 1".into());
                    }
                    if !in_range(rho, 1e-6, 0.5) {
                        return kerr(&ck("number_density"), format!("must be between 1e-6 and 0.5 atoms/A^3 (metals: 0.04-0.1), got {}", N(rho)));
                    }
                    if c.aspect.iter().any(|&x| !in_range(x, 1e-3, 1e3)) {
                        return kerr(&ck("aspect"), format!("edge ratios must be between 0.001 and 1000, got {:?}", c.aspect));
                    }
                    if !in_range(c.min_distance, 0.0, 10.0) {
                        return kerr(&ck("min_distance"), format!("must be between 0 and 10 A, got {}", N(c.min_distance)));
                    }
                }
                _ => return kerr("system.create", "give either atoms and number_density, or lattice, a and cells".into()),
            }
        }
        if let Some(r) = sys.replicate {
            if r.iter().any(|&k| k == 0) {
                return kerr("system.replicate", format!("must be at least 1 along each axis, got {:?}", r));
            }
        }
        if self.potential.style != crate::potential::eam::EamStyle::Funcfl && self.potential.elements.is_none() && sys.read_data.is_some() {
            return kerr("potential", format!("style {} needs elements = [...], the element of each atom type in type order", self.potential.style.name()));
        }
        match (&self.potential.file, &self.potential.generate) {
            (Some(f), None) if f.trim().is_empty() => return kerr("potential.file", "the file name is empty".into()),
            (Some(_), None) => {}
            (None, None) => return kerr("potential", "give file = \"...\" (a potential file) or generate = \"zhou2004\"".into()),
            (Some(_), Some(_)) => return kerr("potential.generate", "give file or generate, not both".into()),
            (None, Some(g)) => {
                if g != "zhou2004" {
                    return kerr("potential.generate", format!("'{}' is not a generator; the only one is zhou2004", g));
                }
                if self.potential.style != crate::potential::eam::EamStyle::Alloy {
                    return kerr("potential.style", format!("generate = \"zhou2004\" makes eam/alloy tables; style is {}", self.potential.style.name()));
                }
                // Without elements, a built system's composition names them.
                if let Some(els) = &self.potential.elements {
                    use crate::potential::eam::zhou;
                    if let Err(m) = zhou::resolve(&zhou::distinct(els)) {
                        return kerr("potential.elements", m);
                    }
                }
            }
        }
        if let Some(els) = &self.potential.elements {
            if els.is_empty() || els.iter().any(|e| e.trim().is_empty()) {
                return kerr("potential.elements", format!("needs one non-empty element name per atom type, got {:?}", els));
            }
        }
        if let Some(tg) = self.glass.tg {
            if !in_range(tg, 1e-3, lim.max_temperature) {
                return kerr("glass.tg", format!("must be between 0 and limits.max_temperature = {} K, got {}", lim.max_temperature, N(tg)));
            }
        }
        if let Some(s) = &self.samples {
            if !(1..=MAX_SAMPLES).contains(&s.count) {
                return kerr("samples.count", format!("must be between 1 and {}, got {}", MAX_SAMPLES, s.count));
            }
        }
        let o = &self.output;
        for (key, t) in [("snapshot", &o.snapshot), ("dump", &o.dump), ("xyz", &o.xyz)] {
            if let Some(t) = t {
                let k = |x: &str| format!("output.{}.{}", key, x);
                if t.every == 0 {
                    return kerr(&k("every"), "must be at least 1 step".into());
                }
                crate::io::frames::Fields::parse(&t.fields).map_err(|m| self.key_error(&k("fields"), m))?;
                if key == "xyz" && !t.fields.iter().any(|f| f == "position") {
                    return kerr(&k("fields"), "extended XYZ needs the position field".into());
                }
                if t.compression > 9 {
                    return kerr(&k("compression"), format!("is a deflate level 0-9, got {}", t.compression));
                }
                if key != "snapshot" && t.compression != 0 {
                    return kerr(&k("compression"), "applies to H5MD snapshots only".into());
                }
                if key != "snapshot" && t.force_unit.is_some() {
                    return kerr(&k("force_unit"), "applies to H5MD snapshots only".into());
                }
                if let Some(u) = &t.force_unit {
                    if crate::io::h5md::ForceUnit::parse(u).is_none() {
                        return kerr(&k("force_unit"), format!("unknown unit '{}' (expected \"{}\" or \"{}\")", u, crate::io::h5md::ForceUnit::EV.name(), crate::io::h5md::ForceUnit::KJ_MOL.name()));
                    }
                }
            }
        }
        // Output file names: sensible, and no two outputs on one file.
        let files = self.output_files();
        for (i, (key, f)) in files.iter().enumerate() {
            let err = |m: String| Err(self.output_error(key, m));
            check_file_name(f).or_else(|m| err(m))?;
            if let Some((other, _)) = files[..i].iter().find(|(_, g)| Path::new(g) == Path::new(f)) {
                return err(format!("'{}' is also written by {}; give each output its own file", f, other));
            }
            let base = Path::new(f).file_name().and_then(|n| n.to_str()).unwrap_or("");
            if RESERVED_FILES.contains(&base) && Path::new(f).parent().is_none_or(|p| p.as_os_str().is_empty()) {
                return err(format!("'{}' is a file glassmd writes itself; choose another name", f));
            }
        }
        // Groups, then every reference to one.
        let rules = group::rules(&self.groups).map_err(|(k, key, m)| self.key_error(&format!("group[{}].{}", k, key), m))?;
        let known = |n: &str| n == "all" || rules.iter().any(|(g, _)| g == n);
        let group_list = || std::iter::once("all").chain(rules.iter().map(|(g, _)| g.as_str())).collect::<Vec<_>>().join(", ");
        for (k, st) in self.stages.iter().enumerate() {
            if let Some(g) = st.group().filter(|g| !known(g)) {
                return Err(self.stage_error(k, Some("group"), format!("unknown group '{}' (groups: {})", g, group_list())));
            }
            let mut ids: Vec<&str> = vec![st.name()];
            let mut boxes = vec![(format!("the {} integrator", st.name()), st.integrator_box_change())];
            for (j, f) in st.fixes().iter().enumerate() {
                let key = |x: &str| format!("fix[{}].{}", j, x);
                if !known(f.group()) {
                    return Err(self.stage_error(k, Some(&key("group")), format!("fix {}: unknown group '{}' (groups: {})", f.id(), f.group(), group_list())));
                }
                f.check().map_err(|(kk, m)| self.stage_error(k, Some(&key(kk)), format!("fix {}: {}", f.id(), m)))?;
                let minimize = matches!(self.stages[k], Stage::Minimize(_));
                if let Some(m) = match f {
                    crate::config::fix::FixSpec::Deform(d) => d.boundary_problem(self.boundary_at(k)),
                    crate::config::fix::FixSpec::Indent(i) if i.depth_step.is_some() && !minimize => Some("depth_step (quasi-static indentation) belongs in a minimize stage".to_string()),
                    crate::config::fix::FixSpec::Indent(i) if minimize && (i.speed.is_some() || i.velocity.is_some()) => Some("a minimize stage moves the indenter by depth_step, not speed or velocity".to_string()),
                    crate::config::fix::FixSpec::Nvt(_) if !matches!(self.stages[k], Stage::Nve(_)) => Some("an nvt stage fix (a thermostat layer) belongs in an nve stage, beside its NVE on the other atoms".to_string()),
                    _ => None,
                } {
                    return Err(self.stage_error(k, Some(&key("erate")), format!("fix {}: {}", f.id(), m)));
                }
                if !f.id().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || f.id().is_empty() {
                    return Err(self.stage_error(k, Some(&key("name")), format!("fix name '{}' must be letters, digits, _ or -", f.id())));
                }
                if ids.contains(&f.id()) {
                    return Err(self.stage_error(k, Some(&key("name")), format!("two fixes of this stage are called '{}'; give one a name = \"...\"", f.id())));
                }
                ids.push(f.id());
                // Two fixes may not change one box component (LAMMPS
                // `box_change` bits).
                let b = f.box_change();
                if let Some((other, ob)) = boxes.iter().find(|(_, ob)| !ob.overlap(b).is_empty()) {
                    return Err(self.stage_error(
                        k,
                        Some(&key("kind")),
                        format!("fix {} and {} both change the box along {}; one box component, one fix", f.id(), other, ob.overlap(b).names().join(", ")),
                    ));
                }
                boxes.push((format!("fix {}", f.id()), b));
            }
        }
        // thermo.extra: group temperatures and fix values.
        let fixed: Vec<&str> = crate::io::thermo::COLUMNS.split(',').collect();
        for (i, c) in self.thermo.extra.iter().enumerate() {
            if fixed.contains(&c.as_str()) || self.thermo.extra[..i].contains(c) {
                return kerr("thermo.extra", format!("column '{}' is already in the thermo output", c));
            }
            if let Some((_, reference)) = crate::compute::parse_strain(c) {
                let records: Vec<&str> = self.stages.iter().filter_map(|s| if let Stage::Record(r) = s { Some(r.name.as_str()) } else { None }).collect();
                if let Some(r) = reference.filter(|r| !records.contains(r)) {
                    let have = if records.is_empty() { "none".to_string() } else { records.join(", ") };
                    return kerr("thermo.extra", format!("'{}': no record stage named '{}' gives its reference box (records: {})", c, r, have));
                }
                continue;
            }
            let elements = self.potential.elements.clone().unwrap_or_default();
            if let Some((kind, _)) = crate::compute::parse_dynamic(c, &elements, elements.len().max(crate::io::lammps_data::MAX_TYPES)) {
                if matches!(kind, crate::compute::Dynamic::Fs | crate::compute::Dynamic::TauAlpha) && self.compute.fs_q.is_none_or(|q| !(q > 0.0 && q.is_finite())) {
                    return kerr("thermo.extra", format!("'{}' needs [compute] fs_q, the wave number in 1/A (the first S(q) peak, about 2.7 for CuZr glasses)", c));
                }
                continue;
            }
            if c.starts_with("strain_") {
                return kerr("thermo.extra", format!("'{}': expected strain_<x|y|z|xy|xz|yz> or strain_<component>_<record name>", c));
            }
            if let Some(g) = c.strip_prefix("temp_") {
                if !known(g) {
                    return kerr("thermo.extra", format!("'{}': unknown group '{}' (groups: {})", c, g, group_list()));
                }
                continue;
            }
            let offered: Vec<String> =
                self.stages.iter().flat_map(|st| crate::fix::integrator_columns(st.name()).into_iter().chain(st.fixes().iter().flat_map(crate::fix::offered_columns))).collect();
            if !offered.contains(c) {
                let o = if offered.is_empty() { "none".to_string() } else { offered.join(", ") };
                return kerr("thermo.extra", format!("unknown column '{}': expected temp_<group>, strain_<component>[_<record>], msd_<species>, fs_<species>, tau_alpha_<species>, diffusion_<species> or a value a fix of the deck offers ({})", c, o));
            }
        }
        let mut records: Vec<&str> = Vec::new();
        for (k, st) in self.stages.iter().enumerate() {
            let serr = |key: &str, m: String| Err(self.stage_error(k, Some(key), m));
            let temps = |key: &str, t: Target, min: f64| -> Result<()> {
                for v in [t.start(), t.stop()] {
                    if !(v >= min) || v > lim.max_temperature {
                        let lo = if min > 0.0 { "> 0" } else { ">= 0" };
                        return Err(self.stage_error(k, Some(key), format!("{} must be {} K and at most limits.max_temperature = {} K, got {}", key, lo, lim.max_temperature, N(v))));
                    }
                }
                Ok(())
            };
            let timestep = |dt: f64| -> Result<()> {
                if !(dt > 0.0 && dt <= MAX_TIMESTEP) {
                    return Err(self.stage_error(k, Some("timestep"), format!("timestep must be > 0 and at most {} ps, got {}", MAX_TIMESTEP, N(dt))));
                }
                Ok(())
            };
            let length = |r: std::result::Result<u64, String>| -> Result<()> {
                let key = ["steps", "time_ps", "rate_k_per_ps", "rate_gpa_per_ps"].into_iter().find(|kk| self.stage_line(k, Some(kk)) != self.stage_line(k, None));
                let n = r.map_err(|m| self.stage_error(k, key, m))?;
                if n > MAX_STEPS {
                    return Err(self.stage_error(k, key, format!("the stage lasts {} steps, more than {} (check the timestep and the length)", n, MAX_STEPS)));
                }
                Ok(())
            };
            let positive = |key: &str, v: f64, unit: &str| -> Result<()> {
                if !(v > 0.0) {
                    return Err(self.stage_error(k, Some(key), format!("{} must be > 0 {}, got {}", key, unit, N(v))));
                }
                Ok(())
            };
            let is_spec = match st {
                Stage::Nvt(v) => v.inherent_structures.as_ref().map(|i| (i, v.temperature)),
                Stage::Npt(v) => v.inherent_structures.as_ref().map(|i| (i, v.temperature)),
                _ => None,
            };
            if let Some((i, t)) = is_spec {
                let key = "inherent_structures";
                if !(i.every_k > 0.0) {
                    return serr(key, format!("inherent_structures.every_k must be > 0 K, got {}", N(i.every_k)));
                }
                if t.start() == t.stop() {
                    return serr(key, "inherent_structures needs a temperature ramp [start, stop]".into());
                }
                if !(i.ftol > 0.0) {
                    return serr(key, format!("inherent_structures: ftol must be > 0 eV/A, got {}", N(i.ftol)));
                }
            }
            match st {
                Stage::Deform(v) => {
                    if v.nreset.is_some() && v.pressure_gpa.is_none() {
                        return serr("nreset", "nreset resets a barostat's reference cell; the stage has none (give pressure_gpa)".to_string());
                    }
                    temps("temperature", v.temperature, f64::MIN_POSITIVE)?;
                    timestep(v.timestep)?;
                    positive("tdamp", v.tdamp(), "ps")?;
                    positive("pdamp", v.pdamp(), "ps")?;
                    v.motions(1.0).map_err(|(kk, m)| self.stage_error(k, Some(kk), m))?;
                    v.until_bar().map_err(|m| self.stage_error(k, Some("until_pressure_gpa"), m))?;
                    let spec = crate::config::FixSpec::Deform(v.spec());
                    spec.check().map_err(|(kk, m)| self.stage_error(k, Some(kk), m))?;
                    if let Some(m) = v.spec().boundary_problem(self.boundary_at(k)) {
                        return serr("erate", m);
                    }
                    for (key, w) in [("modulus_strain", v.modulus_strain), ("flow_strain", v.flow_strain)] {
                        if !(w[0] >= 0.0 && w[1] > w[0] && w[1].is_finite()) {
                            return serr(key, format!("{} = [{}, {}] must be a strain window [a, b] with 0 <= a < b", key, N(w[0]), N(w[1])));
                        }
                    }
                    if v.remap != "x" && v.remap != "v" {
                        return serr("remap", format!("remap = \"{}\" must be \"x\" (atoms follow the box affinely) or \"v\" (atoms stay; velocities change at periodic wraps, for shear flow)", v.remap));
                    }
                    let targets = v.axis_targets().map_err(|m| self.stage_error(k, Some("pressure_gpa"), m))?;
                    self.loading_drivers(k, targets, v.tilt_targets(), v.couple, &spec, "a rate (erate)")?;
                    length(v.steps())?;
                }
                Stage::Cyclic(v) => {
                    if v.nreset.is_some() && v.pressure_gpa.is_none() {
                        return serr("nreset", "nreset resets a barostat's reference cell; the stage has none (give pressure_gpa)".to_string());
                    }
                    temps("temperature", v.temperature, f64::MIN_POSITIVE)?;
                    timestep(v.timestep)?;
                    positive("tdamp", v.tdamp(), "ps")?;
                    positive("pdamp", v.pdamp(), "ps")?;
                    v.steps().map_err(|m| self.stage_error(k, Some(if v.cycles == 0 { "cycles" } else { "period_ps" }), m))?;
                    v.sample_every().map_err(|m| self.stage_error(k, Some("samples_per_cycle"), m))?;
                    let strain = v.motions().map_err(|(kk, m)| self.stage_error(k, Some(kk), m))?;
                    let stress = v.stress_amplitudes().map_err(|m| self.stage_error(k, Some("stress_amplitude_gpa"), m))?;
                    let (has_strain, has_stress) = (strain.iter().any(|m| m.is_some()), stress.iter().any(|a| a.is_some()));
                    if has_strain == has_stress {
                        let key = if has_strain { "stress_amplitude_gpa" } else { "strain_amplitude" };
                        return serr(key, "give strain_amplitude (strain-controlled) or stress_amplitude_gpa (stress-controlled), one of them".into());
                    }
                    let spec = v.spec();
                    if let Some(m) = spec.boundary_problem(self.boundary_at(k)) {
                        return serr("strain_amplitude", m);
                    }
                    let targets = v.axis_targets().map_err(|m| self.stage_error(k, Some("pressure_gpa"), m))?;
                    self.loading_drivers(k, targets, v.tilt_targets(), v.couple, &crate::config::FixSpec::Deform(spec), "a strain amplitude")?;
                    if let Some(d) = (0..3).find(|&d| stress[d].is_some() && targets[d].is_none()) {
                        return serr("stress_amplitude_gpa", format!("stress_amplitude_gpa.{} needs a pressure target on {} in pressure_gpa (the mean the stress swings about)", ["x", "y", "z"][d], ["x", "y", "z"][d]));
                    }
                    if let Some(d) = (0..3).find(|&d| stress[d].is_some() && matches!(v.pressure_gpa, Some(crate::config::PressureSpec::Iso(_)))) {
                        return serr("pressure_gpa", format!("stress_amplitude_gpa.{} needs per-axis targets (pressure_gpa = {{ x = .., y = .., z = .. }}), not an isotropic one", ["x", "y", "z"][d]));
                    }
                }
                Stage::Velocity(v) => {
                    if !(v.temperature >= 0.0) || v.temperature > lim.max_temperature {
                        return serr("temperature", format!("temperature must be >= 0 K and at most limits.max_temperature = {} K, got {}", lim.max_temperature, N(v.temperature)));
                    }
                }
                Stage::Nve(v) => {
                    timestep(v.timestep)?;
                    let scheduled = v.fix.iter().any(|f| matches!(f, crate::config::FixSpec::Indent(i) if i.speed.is_some()));
                    match (v.steps, scheduled) {
                        (Some(n), false) => length(Ok(n))?,
                        (None, true) => {}
                        (Some(_), true) => return serr("steps", "the indent fix's schedule (speed, max_depth, hold_ps) sets this stage's length: leave out steps".into()),
                        (None, false) => return serr("steps", "steps is missing: give the number of MD steps".into()),
                    }
                }
                Stage::Nvt(v) => {
                    temps("temperature", v.temperature, f64::MIN_POSITIVE)?;
                    timestep(v.timestep)?;
                    positive("tdamp", v.tdamp(), "ps")?;
                    length(v.steps())?;
                }
                Stage::Langevin(v) => {
                    temps("temperature", v.temperature, 0.0)?;
                    timestep(v.timestep)?;
                    positive("damp", v.damp(), "ps")?;
                    length(v.steps())?;
                }
                Stage::Npt(v) => {
                    temps("temperature", v.temperature, f64::MIN_POSITIVE)?;
                    timestep(v.timestep)?;
                    positive("tdamp", v.tdamp(), "ps")?;
                    positive("pdamp", v.pdamp(), "ps")?;
                    let targets = v.axis_targets().map_err(|m| self.stage_error(k, Some("pressure_gpa"), m))?;
                    barostat_problem(targets, v.tilt_targets(), v.couple, self.boundary_at(k)).map_or(Ok(()), |(key, m)| serr(key, m))?;
                    length(v.steps())?;
                }
                Stage::Minimize(m) => {
                    if let Some((targets, _)) = m.box_targets().map_err(|e| self.stage_error(k, Some("box_pressure_gpa"), e))? {
                        let b = self.boundary_at(k);
                        if let Some(d) = nonperiodic_target(&targets, b) {
                            return serr(
                                "box_pressure_gpa",
                                format!("box_pressure_gpa on non-periodic axis {} (boundary {}); only periodic axes can relax", ["x", "y", "z"][d], b[d].letter()),
                            );
                        }
                        if let Some(p) = targets.iter().flatten().find(|p| p.abs() > MAX_PRESSURE_GPA) {
                            return serr("box_pressure_gpa", format!("box_pressure_gpa {} is beyond +-{} GPa", p, MAX_PRESSURE_GPA));
                        }
                        if !(m.ptol_gpa > 0.0) {
                            return serr("ptol_gpa", format!("ptol_gpa must be > 0, got {}", N(m.ptol_gpa)));
                        }
                        if !in_range(m.vmax, 1e-9, 0.1) {
                            return serr("vmax", format!("vmax must be > 0 and at most 0.1, got {}", N(m.vmax)));
                        }
                    }
                    if !(m.ftol >= 0.0) {
                        return serr("ftol", format!("ftol must be >= 0 eV/A, got {}", N(m.ftol)));
                    }
                    if !(m.etol >= 0.0) {
                        return serr("etol", format!("etol must be >= 0, got {}", N(m.etol)));
                    }
                    if m.ftol == 0.0 && m.etol == 0.0 && m.max_iterations == 0 {
                        return serr("max_iterations", "give ftol, etol or max_iterations: with all three 0 the minimisation never stops".into());
                    }
                    if m.max_iterations > MAX_STEPS {
                        return serr("max_iterations", format!("max_iterations must be at most {}, got {}", MAX_STEPS, m.max_iterations));
                    }
                    if !in_range(m.dmax, 1e-9, 10.0) {
                        return serr("dmax", format!("dmax must be > 0 and at most 10 A, got {}", N(m.dmax)));
                    }
                }
                Stage::Record(r) => {
                    if r.name.is_empty() || r.name.contains('.') {
                        return serr("name", format!("name '{}' must be non-empty without '.'", r.name));
                    }
                    if let Some(rel) = &r.relative_to {
                        if !records.contains(&rel.as_str()) {
                            return serr("relative_to", format!("relative_to '{}' names no earlier record", rel));
                        }
                    }
                    records.push(&r.name);
                }
                Stage::Tg(t) => {
                    let src = t.stage.map(|s| s.wrapping_sub(1)).or_else(|| (0..k).rev().find(|&j| self.stages[j].is_md()));
                    if !src.is_some_and(|j| j < k && self.stages[j].is_md()) {
                        return serr("stage", "stage must name an earlier MD stage (1-based)".into());
                    }
                    for (key, w) in [("glass", t.glass), ("liquid", t.liquid)] {
                        if let Some(w) = w {
                            if !(w[0] < w[1]) {
                                return serr(key, format!("window {:?} needs T0 < T1", w));
                            }
                        }
                    }
                    if t.glass.is_some() != t.liquid.is_some() {
                        return serr(if t.glass.is_some() { "glass" } else { "liquid" }, "give both glass and liquid windows, or neither".into());
                    }
                    if t.min_points < 2 {
                        return serr("min_points", format!("min_points must be at least 2, got {}", t.min_points));
                    }
                }
                Stage::WriteData(_) => {}
                Stage::ChangeBox(c) => {
                    if let Some(v) = c.vacuum_z {
                        if !(v > 0.0 && v <= 1e5) {
                            return serr("vacuum_z", format!("vacuum_z = {} A must be positive", N(v)));
                        }
                        if c.boundary[2] == Boundary::Shrink {
                            return serr("vacuum_z", "a shrink-wrapped z face follows the atoms, so vacuum above it would vanish: use boundary \"f\" (or \"p\") on z".into());
                        }
                    } else if c.boundary == self.boundary_at(k) {
                        return serr("boundary", format!("boundary {} is the boundary in force already; the stage would change nothing", c.boundary.iter().map(|b| b.letter()).collect::<String>()));
                    }
                }
                Stage::Repeat(_) => unreachable!("repeat blocks are expanded when the deck is read"),
            }
        }
        Ok(())
    }
}

/// What is wrong with barostat targets (GPa: normal axes, tilts xy xz yz)
/// and their coupling under boundaries `b`, as (key, message): a target
/// beyond the allowed pressure, on a non-periodic axis, on a tilt whose
/// second axis is not periodic, or a `couple` naming an axis without one.
fn barostat_problem(targets: [Option<(f64, f64)>; 3], tilts: [Option<(f64, f64)>; 3], couple: Option<CoupleSpec>, b: [Boundary; 3]) -> Option<(&'static str, String)> {
    let beyond = |t: &[Option<(f64, f64)>; 3]| t.iter().flatten().flat_map(|(a, c)| [*a, *c]).find(|p| p.abs() > MAX_PRESSURE_GPA);
    if let Some(p) = beyond(&targets) {
        return Some(("pressure_gpa", format!("pressure_gpa {} is beyond +-{} GPa", p, MAX_PRESSURE_GPA)));
    }
    if let Some(d) = nonperiodic_target(&targets, b) {
        return Some(("pressure_gpa", format!("pressure target on non-periodic axis {} (boundary {}); barostat only periodic axes", ["x", "y", "z"][d], b[d].letter())));
    }
    if let Some(p) = beyond(&tilts) {
        return Some(("pressure_gpa", format!("pressure_gpa {} is beyond +-{} GPa", p, MAX_PRESSURE_GPA)));
    }
    if let Some(t) = (0..3).find(|&t| tilts[t].is_some() && !b[crate::system::TILTS[t].2].is_periodic()) {
        let (name, _, second) = crate::system::TILTS[t];
        return Some(("pressure_gpa", format!("pressure target on tilt {} needs a periodic {} axis (boundary {})", name, ["x", "y", "z"][second], b[second].letter())));
    }
    match couple_axes(couple) {
        Err(m) => Some(("couple", m)),
        Ok(Some(axes)) if axes.iter().any(|&a| targets[a].is_none()) => Some(("couple", format!("couple = \"{}\" needs a pressure target on each of those axes", couple.map_or("", |c| c.name())))),
        _ => None,
    }
}
