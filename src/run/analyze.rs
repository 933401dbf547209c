//! `glassmd analyze`: structure and dynamics of configurations read from
//! LAMMPS data files, dumps and H5MD files, on any number of ranks.
//!
//! A static analysis builds an [`Engine`] from the file (the same domain
//! decomposition and halo as a run, with a potential that does nothing),
//! asks it for a neighborhood at the analysis's cutoff (ghosts to that
//! cutoff), and hands that to the plain functions of
//! `analysis::structure`. Per-atom results stream to rank 0 in id order
//! (`--dump`), global ones are reduced and printed as one JSON line.
//! Dynamics (`msd`, `fs`) read a trajectory, each rank a slice of atoms;
//! sums are formed per fixed block of atoms and added in block order on
//! rank 0, so every number is the same on any rank count.
//!
//! To add an analysis: a variant of [`Analysis`] with its name, its
//! per-atom columns in [`Analysis::columns`], and a step in [`run_static`]
//! (or [`dynamics`]) that fills them and the summary.

use crate::analysis::structure::{self, Bonds, VoroAtom, INDEX_WIDTH};
use crate::analysis::voronoi::Thresholds;
use crate::domain::comm::Comm;
use crate::engine::{Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::io::frames_in::{self, Frame, H5mdReader, Kind};
use crate::potential::{ForceFlags, ForceInput, HaloSync, PerAtom, Potential};
use crate::system::{Boundary, SimBox};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The analyses `--compute` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Analysis {
    Voronoi,
    Cn,
    W6,
    Strain,
    D2min,
    Rdf,
    Sq,
    Msd,
    Fs,
}

pub const NAMES: [(&str, Analysis); 9] = [
    ("voronoi", Analysis::Voronoi),
    ("cn", Analysis::Cn),
    ("w6", Analysis::W6),
    ("strain", Analysis::Strain),
    ("d2min", Analysis::D2min),
    ("rdf", Analysis::Rdf),
    ("sq", Analysis::Sq),
    ("msd", Analysis::Msd),
    ("fs", Analysis::Fs),
];

impl Analysis {
    /// Per-atom dump columns (`faces`: how many face orders the Voronoi
    /// index lists, from n3).
    fn columns(self, faces: usize, degrees: &[usize]) -> Vec<String> {
        match self {
            Analysis::Voronoi => {
                let mut c = vec!["vol".to_string(), "nfaces".to_string()];
                c.extend((3..3 + faces).map(|n| format!("n{}", n)));
                c
            }
            Analysis::Cn => vec!["cn".into()],
            Analysis::W6 => std::iter::once(6).chain(degrees.iter().copied()).flat_map(|l| [format!("q{}", l), format!("w{}", l)]).collect(),
            Analysis::Strain => vec!["vm_strain".into()],
            Analysis::D2min => vec!["d2min".into()],
            _ => Vec::new(),
        }
    }
    /// Whether a run's `[analysis]` can compute it (one configuration, or
    /// strain against the reference the run keeps).
    pub fn in_run(self) -> bool {
        !self.dynamic()
    }
    /// Needs a reference configuration.
    pub fn strain(self) -> bool {
        matches!(self, Analysis::Strain | Analysis::D2min)
    }
    fn dynamic(self) -> bool {
        matches!(self, Analysis::Msd | Analysis::Fs)
    }
}

/// Parse `--compute a,b,c`.
pub fn parse_computes(spec: &[String]) -> Result<Vec<Analysis>> {
    let mut out = Vec::new();
    for s in spec.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        match NAMES.iter().find(|(n, _)| *n == s) {
            Some(&(_, a)) => {
                if !out.contains(&a) {
                    out.push(a)
                }
            }
            None => {
                return Err(Error::input(
                    "command line",
                    format!("--compute: unknown analysis '{}' (known: {})", s, NAMES.iter().map(|n| n.0).collect::<Vec<_>>().join(", ")),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(Error::input("command line", "--compute names no analysis"));
    }
    Ok(out)
}

/// Options of `glassmd analyze`.
pub struct AnalyzeArgs {
    pub input: PathBuf,
    pub reference: Option<PathBuf>,
    pub elements: Option<Vec<String>>,
    pub computes: Vec<Analysis>,
    pub cutoff: Option<f64>,
    pub dump: Option<PathBuf>,
    /// Voronoi face neighbors: `id,neighbor,area` rows.
    pub neighbors: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub sq_out: Option<PathBuf>,
    pub rmax: f64,
    pub bins: usize,
    pub q: Option<f64>,
    pub boundary: Option<[Boundary; 3]>,
    pub frame: Option<i64>,
    pub thresholds: Thresholds,
    pub max_face_order: usize,
    pub bonds: Option<String>,
    pub origin_stride: usize,
    /// More l for the bond-order columns (after q6 w6).
    pub degrees: Vec<usize>,
    pub nthreads: usize,
    pub overwrite: bool,
}

impl AnalyzeArgs {
    pub fn opts(&self) -> Opts {
        Opts {
            computes: self.computes.clone(),
            cutoff: self.cutoff,
            thresholds: self.thresholds,
            max_face_order: self.max_face_order,
            bonds: self.bonds.clone(),
            rmax: self.rmax,
            bins: self.bins,
            degrees: self.degrees.clone(),
            strain_cutoff: self.cutoff,
            voronoi_neighbors: self.neighbors.is_some(),
        }
    }
}

/// A potential that does nothing: the engine only decomposes and
/// exchanges.
struct NoPotential(usize);

impl Potential for NoPotential {
    fn cutoff(&self) -> f64 {
        1.0
    }
    fn ntypes(&self) -> usize {
        self.0
    }
    fn compute(&mut self, _: &ForceInput, f: &mut [[f64; 3]], _: ForceFlags, _: &mut PerAtom, _: &mut dyn HaloSync) -> f64 {
        f.iter_mut().for_each(|v| *v = [0.0; 3]);
        0.0
    }
}

fn cli_err(msg: String) -> Error {
    Error::input("command line", msg)
}

pub(crate) fn refuse_existing(path: &Path, overwrite: bool) -> Result<()> {
    if path.exists() && !overwrite {
        return Err(Error::input(path, "exists; pass --overwrite to replace it"));
    }
    Ok(())
}

/// Species names by type: given, from the file, or the type numbers.
fn species_names(given: &Option<Vec<String>>, from_file: &[String], ntypes: usize, path: &Path) -> Result<Vec<String>> {
    let names: Vec<String> = match given {
        Some(e) => e.clone(),
        None if from_file.len() >= ntypes => from_file.to_vec(),
        None => (1..=ntypes).map(|t| t.to_string()).collect(),
    };
    if names.len() < ntypes {
        return Err(Error::input(path, format!("has {} atom types but --elements names {}", ntypes, names.len())));
    }
    Ok(names)
}

/// Half the smallest width of the box across a periodic axis: the largest
/// cutoff at which an atom meets each neighbor once.
pub fn max_cutoff(bx: &SimBox) -> f64 {
    let hi = bx.h_inv();
    let rows = [[hi[0], hi[5], hi[4]], [0.0, hi[1], hi[3]], [0.0, 0.0, hi[2]]];
    (0..3).filter(|&d| bx.periodic(d)).map(|d| 0.5 / (rows[d][0].powi(2) + rows[d][1].powi(2) + rows[d][2].powi(2)).sqrt()).fold(f64::INFINITY, f64::min)
}

fn check_cutoff(what: &str, rc: f64, bx: &SimBox) -> Result<()> {
    if !(rc.is_finite() && rc > 0.0) {
        return Err(cli_err(format!("{} {} must be a positive distance in Å", what, rc)));
    }
    let m = max_cutoff(bx);
    if rc > m {
        return Err(cli_err(format!("{} {} Å is larger than the box allows: half its smallest periodic width is {:.4} Å", what, rc, m)));
    }
    Ok(())
}

/// Run `glassmd analyze`; returns the JSON summary (on every rank).
pub fn analyze(comm: &dyn Comm, a: &AnalyzeArgs) -> Result<Value> {
    for p in [&a.dump, &a.out, &a.sq_out, &a.neighbors].into_iter().flatten() {
        refuse_existing(p, a.overwrite)?;
    }
    if a.computes.iter().any(|c| c.dynamic()) {
        if let Some(c) = a.computes.iter().find(|c| !c.dynamic()) {
            return Err(cli_err(format!("--compute: {} analyses one frame; run it apart from msd and fs, which read a trajectory", NAMES.iter().find(|n| n.1 == *c).unwrap().0)));
        }
        return dynamics(comm, a);
    }
    run_static(comm, a)
}

fn build_engine<'c>(comm: &'c dyn Comm, frame: &Frame, path: &Path, boundary: [Boundary; 3], nthreads: usize) -> Result<Engine<'c>> {
    let ntypes = frame.data.ntypes;
    let opts = EngineOptions { skin: 0.0, sort_every: 0, nchunks: nthreads, ..Default::default() };
    Engine::new(comm, &frame.data, path, boundary, Box::new(NoPotential(ntypes)), vec![1.0; ntypes], opts)
}

/// Take the configuration in `path` (read on every rank) as the engine's
/// local-strain reference (collective): its box with the boundary given,
/// else the file's, else the engine's; positions matched by atom id.
pub fn strain_reference_file(eng: &mut Engine, path: &Path, given: Option<[Boundary; 3]>) -> Result<()> {
    let r = frames_in::read(path, None)?;
    let d = &r.data;
    if d.atoms.len() as u64 != eng.natoms {
        return Err(Error::input(path, format!("holds {} atoms, the system {}: the strain reference needs the same atoms", d.atoms.len(), eng.natoms)));
    }
    let boundary = given.or(r.boundary).unwrap_or(eng.bx.boundary).map(|x| if x == Boundary::Shrink { Boundary::Fixed } else { x });
    let rbox = match d.tilt {
        Some(t) => SimBox::new_triclinic(d.lo, d.hi, t, boundary),
        None => SimBox::new(d.lo, d.hi, boundary),
    };
    let by_id: std::collections::HashMap<u64, [f64; 3]> = d.atoms.iter().map(|a| (a.id, a.x)).collect();
    match eng.set_strain_reference_from(&rbox, |id| by_id.get(&id).copied()) {
        Some(id) => Err(Error::input(path, format!("has no atom with id {}: the strain reference needs the same atom ids", id))),
        None => Ok(()),
    }
}

/// Boundary for analysis: the command line's, else the file's, else
/// periodic; a shrink-wrapped face is a wall at the file's box.
fn analysis_boundary(given: Option<[Boundary; 3]>, frame: &Frame) -> [Boundary; 3] {
    let b = given.or(frame.boundary).unwrap_or([Boundary::Periodic; 3]);
    b.map(|x| if x == Boundary::Shrink { Boundary::Fixed } else { x })
}

/// Sums of per-atom values by type and column, added in atom-id order on
/// rank 0 (so they are the same on any rank count; zeros elsewhere), NaN
/// skipped: (sums, counts), each `ntypes × width`, type-major.
fn ordered_sums(eng: &Engine, ntypes: usize, width: usize, row: impl Fn(usize, &mut Vec<f64>)) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut s = vec![0.0; ntypes * width];
    let mut c = vec![0.0; ntypes * width];
    eng.stream_rows(width, 65536, row, |b| {
        for k in 0..b.len() {
            let t = b.types[k] as usize - 1;
            for (col, v) in b.row(k).iter().enumerate() {
                if v.is_finite() {
                    s[t * width + col] += v;
                    c[t * width + col] += 1.0;
                }
            }
        }
        Ok(())
    })?;
    Ok((s, c))
}

/// Column `col` of type-major `ntypes × width` values.
fn column(v: &[f64], width: usize, col: usize) -> Vec<f64> {
    v.chunks_exact(width).map(|r| r[col]).collect()
}

/// Per-species means: (sum, count) by type → {"all": …, name: …}.
fn by_species(names: &[String], sums: &[f64], counts: &[f64]) -> Value {
    let mut m = Map::new();
    let (s, c): (f64, f64) = (sums.iter().sum(), counts.iter().sum());
    m.insert("all".into(), json!(if c > 0.0 { s / c } else { f64::NAN }));
    for (t, n) in names.iter().enumerate() {
        m.insert(n.clone(), json!(if counts[t] > 0.0 { sums[t] / counts[t] } else { f64::NAN }));
    }
    Value::Object(m)
}

fn run_static(comm: &dyn Comm, a: &AnalyzeArgs) -> Result<Value> {
    let t0 = std::time::Instant::now();
    let frame = frames_in::read(&a.input, a.frame)?;
    log::debug!("read {} in {:.3} s", a.input.display(), t0.elapsed().as_secs_f64());
    let boundary = analysis_boundary(a.boundary, &frame);
    let names = species_names(&a.elements, &frame.elements, frame.data.ntypes, &a.input)?;
    let strain = a.computes.iter().any(|c| c.strain());
    // The dump describes the analysed frame: its step and box.
    let out_step = frame.step;
    let t0 = std::time::Instant::now();
    let mut eng = build_engine(comm, &frame, &a.input, boundary, a.nthreads)?;
    log::debug!("engine built in {:.3} s", t0.elapsed().as_secs_f64());
    let out_box = eng.bx.clone();
    let natoms = eng.natoms;
    let faces = a.max_face_order.max(6) - 2;
    if strain {
        // Local strain against the reference file: its positions by id go
        // to the engine's reference column (`Engine::set_strain_reference_from`).
        let rp = a.reference.as_ref().ok_or_else(|| cli_err("--compute strain/d2min needs --reference FILE".into()))?;
        if a.cutoff.is_none() {
            return Err(cli_err("--compute strain/d2min needs --cutoff (the neighbor cutoff in the reference)".into()));
        }
        strain_reference_file(&mut eng, rp, a.boundary)?;
    }
    let Structure { mut summary, cols, curves, cells } = structure(&eng, &a.opts(), &names)?;
    summary.insert("file".into(), json!(a.input.display().to_string()));
    if let (Some(rp), Some(Value::Object(m))) = (&a.reference, summary.get_mut("strain")) {
        m.insert("reference".into(), json!(rp.display().to_string()));
    }
    if let Some((g, sq)) = &curves {
        if comm.is_root() {
            if a.computes.contains(&Analysis::Rdf) {
                if let Some(p) = &a.out {
                    g.write(p)?;
                }
            }
            if a.computes.contains(&Analysis::Sq) {
                let target = if a.computes.contains(&Analysis::Rdf) { a.sq_out.as_ref() } else { a.sq_out.as_ref().or(a.out.as_ref()) };
                if let Some(p) = target {
                    sq.write(p)?;
                }
            }
        }
    }
    if let Some(p) = &a.neighbors {
        let cells = cells.as_ref().ok_or_else(|| cli_err("--neighbors lists Voronoi neighbors: add voronoi to --compute".into()))?;
        // One row per atom, padded to the widest cell; rank 0 writes the
        // pairs in id order.
        let mut m = [cells.iter().map(|c| c.neighbors.len()).max().unwrap_or(0) as f64];
        comm.max_f64(&mut m);
        let w = 2 * m[0] as usize;
        let mut f = if comm.is_root() { Some(crate::io::AtomicFile::create(p)?) } else { None };
        if let Some(f) = f.as_mut() {
            writeln!(f.w, "id,neighbor,area").map_err(|e| Error::io(p, e))?;
        }
        eng.stream_rows(w, 32768, |i, out| {
            let mut nbrs: Vec<(u64, f64)> = cells[i].neighbors.iter().map(|x| (x.0, x.1)).collect();
            nbrs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            for k in 0..w / 2 {
                match nbrs.get(k) {
                    Some(&(id, area)) => out.extend([id as f64, area]),
                    None => out.extend([f64::NAN, f64::NAN]),
                }
            }
        }, |b| {
            if let Some(f) = f.as_mut() {
                for k in 0..b.len() {
                    for pair in b.row(k).chunks_exact(2).filter(|x| x[0].is_finite()) {
                        writeln!(f.w, "{},{},{:?}", b.ids[k], pair[0] as u64, pair[1]).map_err(|e| Error::io(p, e))?;
                    }
                }
            }
            Ok(())
        })?;
        if let Some(f) = f {
            f.commit()?;
        }
    }
    if let Some(p) = &a.dump {
        let mut names_c: Vec<String> = Vec::new();
        let mut integer = Vec::new();
        for (an, _) in &cols {
            for c in an.columns(faces, &a.degrees) {
                integer.push(c != "vol" && c.starts_with('n') || c == "cn");
                names_c.push(c);
            }
        }
        let width = names_c.len();
        let refs: Vec<&str> = names_c.iter().map(String::as_str).collect();
        let mut w = if comm.is_root() { Some(crate::io::dump::DumpStream::create(p, out_step, &out_box, natoms, &refs, integer)?) } else { None };
        let widths: Vec<usize> = cols.iter().map(|(an, _)| an.columns(faces, &a.degrees).len()).collect();
        eng.stream_rows(width, 32768, |i, out| {
            for ((_, v), &wd) in cols.iter().zip(&widths) {
                out.extend_from_slice(&v[i * wd..(i + 1) * wd]);
            }
        }, |b| w.as_mut().map_or(Ok(()), |w| w.rows(b)))?;
        if let Some(w) = w {
            w.commit()?;
        }
    }
    Ok(Value::Object(summary))
}

/// What [`structure`] computes from one configuration.
pub struct Opts {
    pub computes: Vec<Analysis>,
    pub cutoff: Option<f64>,
    pub thresholds: Thresholds,
    pub max_face_order: usize,
    pub bonds: Option<String>,
    pub rmax: f64,
    pub bins: usize,
    /// More l for the bond-order analysis (after 6).
    pub degrees: Vec<usize>,
    /// Neighbor cutoff of strain and d2min in the reference (Å).
    pub strain_cutoff: Option<f64>,
    /// Keep every Voronoi cell's face neighbors (for `--neighbors`); they
    /// are kept anyway where Voronoi-bonded Ŵ6 needs them.
    pub voronoi_neighbors: bool,
}

/// The results of [`structure`]: the JSON summary, per-atom columns (in
/// owned order) by analysis, and g(r) with S(q) when asked.
pub struct Structure {
    pub summary: Map<String, Value>,
    pub cols: Vec<(Analysis, Vec<f64>)>,
    pub curves: Option<(Rdf, Rdf)>,
    /// The Voronoi cells, when computed (owned order).
    pub cells: Option<Vec<VoroAtom>>,
}

/// The static analyses of the engine's current configuration (collective):
/// Voronoi and icosahedral clusters, coordination, Q6/Ŵ6, g(r) and S(q).
/// The same code serves `glassmd analyze` and a run's `[analysis]`.
pub fn structure(eng: &Engine, o: &Opts, names: &[String]) -> Result<Structure> {
    let comm = eng.comm;
    let bx = eng.bx.clone();
    let n = eng.atoms.nlocal;
    let natoms = eng.natoms;
    let ntypes = eng.masses.len();
    let mut summary = Map::new();
    summary.insert("natoms".into(), json!(natoms));
    summary.insert("volume".into(), json!(bx.volume()));
    summary.insert("boundary".into(), json!(bx.boundary_string()));
    let mut type_counts = vec![0.0; ntypes];
    for i in 0..n {
        type_counts[eng.atoms.typ[i] as usize] += 1.0;
    }
    comm.sum_f64(&mut type_counts);
    summary.insert("species".into(), json!(names[..ntypes].iter().zip(&type_counts).map(|(s, c)| (s.clone(), *c as u64)).collect::<BTreeMap<_, _>>()));
    let faces = o.max_face_order.max(6) - 2;
    // Per-atom columns, in the order of --compute.
    let mut cols: Vec<(Analysis, Vec<f64>)> = Vec::new();
    let mut cells: Option<Vec<VoroAtom>> = None;
    let mut nb_cells: Option<crate::compute::Neighborhood> = None;

    if o.computes.contains(&Analysis::Voronoi) || (o.computes.contains(&Analysis::W6) && o.cutoff.is_none() && o.bonds.is_none()) {
        // Ŵ6 on Voronoi bonds reads every cell's face neighbors.
        let w6_voronoi = o.computes.contains(&Analysis::W6)
            && match (o.bonds.as_deref(), o.cutoff) {
                (Some(s), _) => matches!(Bonds::parse(s), Some(Bonds::Voronoi(_))),
                (None, c) => c.is_none(),
            };
        let (nb, c) = voronoi_all(eng, &bx, &o.thresholds, o.voronoi_neighbors || w6_voronoi)?;
        let mut v = Vec::with_capacity(n * (2 + faces));
        for cell in &c {
            v.push(cell.volume);
            v.push(cell.nfaces as f64);
            v.extend((0..faces).map(|k| cell.index.get(k).copied().unwrap_or(0) as f64));
        }
        if o.computes.contains(&Analysis::Voronoi) {
            let t0 = std::time::Instant::now();
            summary.insert("voronoi".into(), voronoi_summary(comm, eng, &c, &names, ntypes));
            let t1 = std::time::Instant::now();
            summary.insert("icosahedral_clusters".into(), clusters(comm, &nb, &c));
            log::debug!("voronoi: summary in {:.3} s, icosahedral clusters in {:.3} s", (t1 - t0).as_secs_f64(), t1.elapsed().as_secs_f64());
            cols.push((Analysis::Voronoi, v));
        }
        cells = Some(c);
        nb_cells = Some(nb);
    }
    if o.computes.contains(&Analysis::Cn) {
        let (cut, how) = match o.cutoff {
            Some(rc) => {
                check_cutoff("--cutoff", rc, &bx)?;
                (vec![vec![rc; ntypes]; ntypes], "given")
            }
            None => (first_minima(comm, eng, &bx, ntypes)?, "first minimum of the partial g(r)"),
        };
        let rc = cut.iter().flatten().copied().fold(0.0, f64::max);
        let nb = eng.neighborhood(rc);
        let c = structure::coordination(&nb, ntypes, &cut);
        // Sums by centre type: total, and per neighbor type.
        let mut sums = vec![0.0; ntypes * (ntypes + 1)];
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            let t = eng.atoms.typ[i] as usize;
            let tot: u32 = c[i].iter().sum();
            v.push(tot as f64);
            sums[t * (ntypes + 1)] += tot as f64;
            for (u, &k) in c[i].iter().enumerate() {
                sums[t * (ntypes + 1) + 1 + u] += k as f64;
            }
        }
        comm.sum_f64(&mut sums);
        let totals: Vec<f64> = (0..ntypes).map(|t| sums[t * (ntypes + 1)]).collect();
        let mut partial = Map::new();
        for t in 0..ntypes {
            for u in 0..ntypes {
                partial.insert(format!("{}-{}", names[t], names[u]), json!(if type_counts[t] > 0.0 { sums[t * (ntypes + 1) + 1 + u] / type_counts[t] } else { f64::NAN }));
            }
        }
        let mut cuts = Map::new();
        for t in 0..ntypes {
            for u in t..ntypes {
                cuts.insert(format!("{}-{}", names[t], names[u]), json!(cut[t][u]));
            }
        }
        summary.insert("cn".into(), json!({"cutoff": cuts, "cutoff_from": how, "mean": by_species(&names, &totals, &type_counts), "partial": partial}));
        cols.push((Analysis::Cn, v));
    }
    if o.computes.contains(&Analysis::W6) {
        let bonds = match (o.bonds.as_deref(), o.cutoff) {
            (Some(s), _) => Bonds::parse(s).ok_or_else(|| cli_err(format!("--bonds '{}': expected cutoff, nearest:N, voronoi or voronoi-weighted", s)))?,
            (None, Some(_)) => Bonds::Cutoff,
            (None, None) => Bonds::Voronoi(false),
        };
        let ls: Vec<usize> = std::iter::once(6).chain(o.degrees.iter().copied()).collect();
        let nbh;
        let (nbr, cl): (&crate::compute::Neighborhood, Option<&[VoroAtom]>) = match bonds {
            Bonds::Voronoi(_) => {
                if cells.is_none() {
                    let (nb, c) = voronoi_all(eng, &bx, &o.thresholds, true)?;
                    cells = Some(c);
                    nb_cells = Some(nb);
                }
                (nb_cells.as_ref().unwrap(), cells.as_deref())
            }
            _ => {
                let rc = o.cutoff.ok_or_else(|| cli_err("--bonds cutoff and nearest:N need --cutoff".into()))?;
                check_cutoff("--cutoff", rc, &bx)?;
                nbh = eng.neighborhood(rc);
                (&nbh, None)
            }
        };
        let per_l: Vec<Vec<(f64, f64)>> = ls.iter().map(|&l| structure::bond_order(nbr, l, bonds, cl)).collect();
        let w = 2 * ls.len();
        let v: Vec<f64> = (0..n).flat_map(|i| per_l.iter().flat_map(move |q| [q[i].0, q[i].1])).collect();
        let (sm, cn) = ordered_sums(eng, ntypes, w, |i, out| out.extend_from_slice(&v[w * i..w * (i + 1)]))?;
        let mut m = Map::new();
        m.insert("bonds".into(), json!(format!("{:?}", bonds)));
        for (k, l) in ls.iter().enumerate() {
            m.insert(format!("q{}_mean", l), by_species(&names, &column(&sm, w, 2 * k), &column(&cn, w, 2 * k)));
            m.insert(format!("w{}_mean", l), by_species(&names, &column(&sm, w, 2 * k + 1), &column(&cn, w, 2 * k + 1)));
        }
        summary.insert("w6".into(), Value::Object(m));
        cols.push((Analysis::W6, v));
    }
    if o.computes.iter().any(|c| c.strain()) {
        // Against the engine's reference (a file, a named stage); NaN
        // until one is taken.
        let rc = o.strain_cutoff.ok_or_else(|| cli_err("strain and d2min need a neighbor cutoff in the reference".into()))?;
        let st = match &eng.strain_box {
            Some(rb) => {
                check_cutoff("the strain cutoff", rc, rb)?;
                eng.local_strain(rc).unwrap_or_else(|| vec![(f64::NAN, f64::NAN); n])
            }
            None => vec![(f64::NAN, f64::NAN); n],
        };
        let (sm, cn) = ordered_sums(eng, ntypes, 2, |i, out| out.extend([st[i].0, st[i].1]))?;
        let (vm, d2, counted) = (column(&sm, 2, 0), column(&sm, 2, 1), column(&cn, 2, 0));
        let c0: f64 = counted.iter().sum();
        summary.insert(
            "strain".into(),
            json!({"cutoff": rc, "vm_strain_mean": vm.iter().sum::<f64>() / c0, "d2min_mean": d2.iter().sum::<f64>() / c0, "atoms_without_3d_neighbors": natoms as f64 - c0,
                   "vm_strain": by_species(names, &vm, &counted), "d2min": by_species(names, &d2, &counted)}),
        );
        for want in [Analysis::Strain, Analysis::D2min] {
            if o.computes.contains(&want) {
                cols.push((want, st.iter().map(|p| if want == Analysis::Strain { p.0 } else { p.1 }).collect()));
            }
        }
    }
    let mut curves = None;
    if o.computes.contains(&Analysis::Rdf) || o.computes.contains(&Analysis::Sq) {
        check_cutoff("--rmax", o.rmax, &bx)?;
        let g = rdf(comm, eng, ntypes, o.rmax, o.bins);
        let rho = natoms as f64 / bx.volume();
        let conc: Vec<f64> = type_counts.iter().map(|c| c / natoms as f64).collect();
        let sq = structure_factor(&g, &conc, rho);
        summary.insert("rdf".into(), json!({"rmax": o.rmax, "bins": o.bins, "first_peak_r": g.first_peak(), "first_minimum_r": g.first_minimum(0)}));
        summary.insert("sq".into(), json!({"first_peak_q": sq.sq_peak()}));
        curves = Some((g, sq));
    }
    Ok(Structure { summary, cols, curves, cells })
}

/// The summary's scalar values, flat (for a CSV row and results.json):
/// `ico_fraction_<sp>`, `volume_<sp>`, `ico_centres`, `ico_clusters`,
/// `ico_cluster_mean`, `ico_cluster_mean_linked`, `ico_cluster_largest`,
/// `cn_<sp>`, `cn_<a>_<b>` (b around a), `q6_<sp>`, `w6_<sp>`,
/// `rdf_peak_r`, `sq_peak_q` (species `all` and by name).
pub fn flatten(summary: &Map<String, Value>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut by = |prefix: &str, v: Option<&Value>| {
        if let Some(Value::Object(m)) = v {
            for (k, x) in m {
                // NaN is JSON null (a mean over no atoms, strain before
                // its reference): kept, so every row has the same columns.
                if let Some(f) = x.as_f64().or(x.is_null().then_some(f64::NAN)) {
                    out.insert(format!("{}_{}", prefix, k.replace('-', "_")), f);
                }
            }
        }
    };
    let at = |path: &[&str]| -> Option<&Value> {
        let mut v = summary.get(path[0])?;
        for p in &path[1..] {
            v = v.get(p)?;
        }
        Some(v)
    };
    by("ico_fraction", at(&["voronoi", "icosahedral_fraction"]));
    by("volume", at(&["voronoi", "mean_volume"]));
    by("cn", at(&["cn", "mean"]));
    by("cn", at(&["cn", "partial"]));
    by("q6", at(&["w6", "q6_mean"]));
    by("w6", at(&["w6", "w6_mean"]));
    by("vm_strain", at(&["strain", "vm_strain"]));
    by("d2min", at(&["strain", "d2min"]));
    for (key, name) in [("centres", "ico_centres"), ("clusters", "ico_clusters"), ("mean_size", "ico_cluster_mean"), ("mean_size_linked", "ico_cluster_mean_linked"), ("largest", "ico_cluster_largest")] {
        if let Some(f) = at(&["icosahedral_clusters", key]).and_then(Value::as_f64) {
            out.insert(name.to_string(), f);
        }
    }
    if let Some(f) = at(&["rdf", "first_peak_r"]).and_then(Value::as_f64) {
        out.insert("rdf_peak_r".into(), f);
    }
    if let Some(f) = at(&["sq", "first_peak_q"]).and_then(Value::as_f64) {
        out.insert("sq_peak_q".into(), f);
    }
    out
}

/// Voronoi cells of every owned atom: the neighborhood grows until every
/// cell is closed by neighbors inside it.
pub fn voronoi_all(eng: &Engine, bx: &SimBox, th: &Thresholds, all_neighbors: bool) -> Result<(crate::compute::Neighborhood, Vec<VoroAtom>)> {
    let spacing = (bx.volume() / eng.natoms.max(1) as f64).cbrt();
    let mut rc = 1.9 * spacing;
    let n = eng.atoms.nlocal;
    let mut cells: Vec<VoroAtom> = vec![VoroAtom::default(); n];
    let mut todo: Option<Vec<usize>> = None;
    for _ in 0..12 {
        let t0 = std::time::Instant::now();
        let nb = eng.neighborhood(rc);
        let t1 = std::time::Instant::now();
        let done = structure::voronoi_cells(&nb, bx, th, todo.as_deref(), all_neighbors);
        log::debug!("voronoi: neighborhood at {:.3} Å in {:.3} s, cells in {:.3} s", rc, (t1 - t0).as_secs_f64(), t1.elapsed().as_secs_f64());
        let mut open = Vec::new();
        for (i, c) in done {
            if !c.complete {
                open.push(i);
            }
            cells[i] = c;
        }
        let left = eng.comm.sum_scalar(open.len() as f64);
        if left == 0.0 {
            // Cells name their neighbors by id, so those closed in a
            // smaller neighborhood stand; the last one reaches every
            // face neighbor.
            return Ok((nb, cells));
        }
        log::debug!("voronoi: {} cells open at {:.3} Å; growing the neighborhood", left, rc);
        todo = Some(open);
        rc *= 1.5;
    }
    Err(Error::input("command line", format!("Voronoi cells stay open with neighbors up to {:.1} Å: the configuration has too much empty space", rc)))
}

fn index_name(ix: &[u32]) -> String {
    // ⟨n3,n4,n5,n6⟩, longer when faces of 7+ edges exist.
    let last = ix.iter().rposition(|&k| k > 0).unwrap_or(0).max(3);
    format!("<{}>", ix[..=last].iter().map(|k| k.to_string()).collect::<Vec<_>>().join(","))
}

/// Index fractions (ten most common, overall and by centre species),
/// icosahedral fractions, mean volumes, and the volume sum.
fn voronoi_summary(comm: &dyn Comm, eng: &Engine, cells: &[VoroAtom], names: &[String], ntypes: usize) -> Value {
    // Count indices per type locally, then gather (index, type, count).
    let mut counts: std::collections::HashMap<([u32; INDEX_WIDTH], usize), u64> = std::collections::HashMap::new();
    for (i, c) in cells.iter().enumerate() {
        *counts.entry((c.index, eng.atoms.typ[i] as usize)).or_default() += 1;
    }
    // A fixed order for the gathered list (the sums on rank 0 are integers).
    let counts: BTreeMap<([u32; INDEX_WIDTH], usize), u64> = counts.into_iter().collect();
    let (vol, cnt) = ordered_sums(eng, ntypes, 1, |i, out| out.push(cells[i].volume)).unwrap_or_default();
    let mut flat = Vec::new();
    for ((ix, t), k) in &counts {
        flat.extend(ix.iter().map(|&v| v as f64));
        flat.push(*t as f64);
        flat.push(*k as f64);
    }
    let parts = comm.gather_f64(&flat);
    let mut total: BTreeMap<(Vec<u32>, usize), u64> = BTreeMap::new();
    for p in parts.iter().flatten() {
        for r in p.chunks_exact(INDEX_WIDTH + 2) {
            *total.entry((r[..INDEX_WIDTH].iter().map(|&v| v as u32).collect(), r[INDEX_WIDTH] as usize)).or_default() += r[INDEX_WIDTH + 1] as u64;
        }
    }
    let top = |filter: Option<usize>| -> Value {
        let mut m: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
        for ((ix, t), k) in &total {
            if filter.is_none_or(|f| f == *t) {
                *m.entry(ix.clone()).or_default() += k;
            }
        }
        let all: u64 = m.values().sum();
        let mut v: Vec<(Vec<u32>, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Value::Array(v.iter().take(10).map(|(ix, k)| json!({"index": index_name(ix), "count": k, "fraction": *k as f64 / all.max(1) as f64})).collect())
    };
    let ico = |filter: Option<usize>| -> f64 {
        let (mut k, mut all) = (0u64, 0u64);
        for ((ix, t), c) in &total {
            if filter.is_none_or(|f| f == *t) {
                all += c;
                if is_icosahedral(ix) {
                    k += c;
                }
            }
        }
        k as f64 / all.max(1) as f64
    };
    let mut fractions = Map::new();
    let mut icof = Map::new();
    fractions.insert("all".into(), top(None));
    icof.insert("all".into(), json!(ico(None)));
    for t in 0..ntypes {
        fractions.insert(names[t].clone(), top(Some(t)));
        icof.insert(names[t].clone(), json!(ico(Some(t))));
    }
    json!({
        "index_fractions": fractions,
        "icosahedral_fraction": icof,
        "mean_volume": by_species(names, &vol, &cnt),
        "volume_sum": vol.iter().sum::<f64>(),
    })
}

fn is_icosahedral(ix: &[u32]) -> bool {
    ix.len() >= 4 && ix[0] == 0 && ix[1] == 0 && ix[2] == 12 && ix[3..].iter().all(|&k| k == 0)
}

/// Medium-range order: clusters of interpenetrating icosahedra. Two
/// ⟨0,0,12,0⟩ centres that are Voronoi neighbors and whose 13-atom
/// clusters share 7 atoms (the two centres and 5 common neighbors) are
/// linked. Clusters are labelled by their smallest atom id: each rank
/// unites its links (owned–owned, owned–ghost) with a union-find, then
/// labels flow to ghosts by the halo until no rank changes one — the
/// distributed union-find, which also joins a cluster to its own periodic
/// images.
fn clusters(comm: &dyn Comm, nb: &crate::compute::Neighborhood, cells: &[VoroAtom]) -> Value {
    let n = nb.nlocal;
    let nall = nb.x.len();
    // Per atom: icosahedral flag, then, for icosahedra, the face-neighbor
    // ids (0 padding): 12 at most, fewer where a wall is a face.
    let mut wmax = [cells.iter().filter(|c| structure::is_icosahedral(c)).map(|c| c.neighbors.len()).max().unwrap_or(0) as f64];
    comm.max_f64(&mut wmax);
    let w = wmax[0] as usize + 1;
    let mut data = vec![0.0; nall * w];
    for (i, c) in cells.iter().enumerate() {
        if structure::is_icosahedral(c) {
            data[i * w] = 1.0;
            for (k, &(j, _, _)) in c.neighbors.iter().enumerate() {
                data[i * w + 1 + k] = j as f64;
            }
        }
    }
    nb.halo.forward(comm, &mut data, w);
    // Atoms by id: owned first, so an owned atom stands for its own
    // periodic images; a ghost for another rank's atom.
    // Only icosahedral centres are ever looked up.
    let mut index: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for k in 0..nall {
        if data[k * w] == 1.0 {
            index.entry(nb.id[k]).or_insert(k);
        }
    }
    let ico = |k: usize| data[k * w] == 1.0;
    let set = |k: usize| -> Vec<u64> {
        let mut s: Vec<u64> = data[k * w + 1..(k + 1) * w].iter().filter(|&&v| v > 0.0).map(|&v| v as u64).collect();
        s.push(nb.id[k]);
        s.sort_unstable();
        s
    };
    let mut parent: Vec<usize> = (0..nall).collect();
    fn find(p: &mut [usize], mut k: usize) -> usize {
        while p[k] != k {
            p[k] = p[p[k]];
            k = p[k];
        }
        k
    }
    for (i, c) in cells.iter().enumerate() {
        if !ico(i) {
            continue;
        }
        let si = set(i);
        for &(id, _, _) in &c.neighbors {
            let Some(&j) = index.get(&id) else { continue };
            if !ico(j) {
                continue;
            }
            let sj = set(j);
            let shared = si.iter().filter(|x| sj.binary_search(x).is_ok()).count();
            if shared == 7 {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut label: Vec<f64> = (0..nall).map(|k| if ico(k) { nb.id[k] as f64 } else { f64::INFINITY }).collect();
    loop {
        let mut best = vec![f64::INFINITY; nall];
        for k in 0..nall {
            let r = find(&mut parent, k);
            best[r] = best[r].min(label[k]);
        }
        let mut changed = 0.0;
        for k in 0..n {
            let r = find(&mut parent, k);
            if best[r] < label[k] {
                label[k] = best[r];
                changed += 1.0;
            }
        }
        // Ghost copies carry their owner's label (inf travels as inf).
        let mut lab = label.clone();
        nb.halo.forward(comm, &mut lab, 1);
        for k in n..nall {
            if lab[k] < label[k] {
                label[k] = lab[k];
                changed += 1.0;
            }
        }
        if comm.sum_scalar(changed) == 0.0 {
            break;
        }
    }
    // Sizes: owned centres per label, summed on rank 0.
    let mut per: BTreeMap<u64, u64> = BTreeMap::new();
    for k in 0..n {
        if ico(k) {
            *per.entry(label[k] as u64).or_default() += 1;
        }
    }
    let flat: Vec<f64> = per.iter().flat_map(|(l, c)| [*l as f64, *c as f64]).collect();
    let parts = comm.gather_f64(&flat);
    let mut sizes: BTreeMap<u64, u64> = BTreeMap::new();
    for p in parts.iter().flatten() {
        for r in p.chunks_exact(2) {
            *sizes.entry(r[0] as u64).or_default() += r[1] as u64;
        }
    }
    let centres: u64 = sizes.values().sum();
    let nclusters = sizes.len() as u64;
    let largest = sizes.values().copied().max().unwrap_or(0);
    let mut dist: BTreeMap<u64, u64> = BTreeMap::new();
    for &s in sizes.values() {
        *dist.entry(s).or_default() += 1;
    }
    let linked: Vec<u64> = sizes.values().copied().filter(|&s| s > 1).collect();
    // Only rank 0 holds the gathered sizes; the others report nothing.
    if !comm.is_root() {
        return Value::Null;
    }
    json!({
        "centres": centres,
        "clusters": nclusters,
        "mean_size": if nclusters > 0 { centres as f64 / nclusters as f64 } else { 0.0 },
        "mean_size_linked": if linked.is_empty() { 0.0 } else { linked.iter().sum::<u64>() as f64 / linked.len() as f64 },
        "largest": largest,
        "size_distribution": dist.iter().map(|(s, c)| (s.to_string(), *c)).collect::<BTreeMap<_, _>>(),
    })
}

/// Total and partial radial distribution functions on a common grid.
pub struct Rdf {
    pub ntypes: usize,
    pub rmax: f64,
    pub bins: usize,
    /// g_total, then g_ab for a ≤ b.
    pub g: Vec<Vec<f64>>,
    pub labels: Vec<String>,
    /// Name of the first column: `r` (Å), or `q` (1/Å) for S(q).
    pub xname: &'static str,
}

impl Rdf {
    pub fn r(&self, k: usize) -> f64 {
        (k as f64 + 0.5) * (self.rmax / self.bins as f64)
    }
    fn write(&self, path: &Path) -> Result<()> {
        crate::io::write_atomic(path, |w| {
            writeln!(w, "{},{}", self.xname, self.labels.join(","))?;
            for k in 0..self.bins {
                write!(w, "{}", self.r(k))?;
                for g in &self.g {
                    write!(w, ",{}", g[k])?;
                }
                writeln!(w)?;
            }
            Ok(())
        })
    }
    /// For S(q): the highest point of the total beyond q = 1 Å⁻¹.
    pub fn sq_peak(&self) -> f64 {
        let g = &self.g[0];
        let k0 = (self.bins as f64 / self.rmax) as usize;
        let k = (k0..self.bins).max_by(|&a, &b| g[a].total_cmp(&g[b])).unwrap_or(0);
        self.r(k)
    }
    /// Position of the highest bin of g_total.
    fn first_peak(&self) -> f64 {
        let g = &self.g[0];
        let k = (0..self.bins).max_by(|&a, &b| g[a].total_cmp(&g[b])).unwrap_or(0);
        self.r(k)
    }
    /// First minimum after the highest peak of curve c: the lowest point of
    /// the curve, smoothed over ±0.1 Å, between the peak and 1.6 times its
    /// distance (the first coordination shell of a dense liquid or glass
    /// ends near 1.3 times the nearest-neighbor distance; the window keeps
    /// the noise of a small sample from passing for the minimum).
    fn first_minimum(&self, c: usize) -> f64 {
        let g = &self.g[c];
        let dr = self.rmax / self.bins as f64;
        let h = ((0.1 / dr).round() as usize).max(1);
        let s: Vec<f64> = (0..self.bins)
            .map(|k| {
                let (a, b) = (k.saturating_sub(h), (k + h).min(self.bins - 1));
                g[a..=b].iter().sum::<f64>() / (b - a + 1) as f64
            })
            .collect();
        let peak = (0..self.bins).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap_or(0);
        let end = ((1.6 * self.r(peak) / dr) as usize).clamp(peak + 1, self.bins);
        let k = (peak..end).min_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap_or(peak);
        self.r(k)
    }
}

/// g(r) as LAMMPS `compute rdf` normalises it: for centre type a and
/// partner type b, g = count / (N_a (N_b − δ_ab) 4π/(3V) (r_hi³ − r_lo³)).
pub fn rdf(comm: &dyn Comm, eng: &Engine, ntypes: usize, rmax: f64, bins: usize) -> Rdf {
    let nb = eng.neighborhood(rmax);
    let mut h = structure::pair_histogram(&nb, ntypes, rmax, bins);
    comm.sum_f64(&mut h);
    let mut nt = vec![0.0; ntypes];
    for i in 0..eng.atoms.nlocal {
        nt[eng.atoms.typ[i] as usize] += 1.0;
    }
    comm.sum_f64(&mut nt);
    let ntot: f64 = nt.iter().sum();
    let c = 4.0 * std::f64::consts::PI / (3.0 * eng.bx.volume());
    let dr = rmax / bins as f64;
    let shell = |k: usize| c * (((k + 1) as f64 * dr).powi(3) - (k as f64 * dr).powi(3));
    let mut g = Vec::new();
    let mut labels = vec!["g_total".to_string()];
    g.push((0..bins).map(|k| (0..ntypes * ntypes).map(|p| h[p * bins + k]).sum::<f64>() / (shell(k) * ntot * (ntot - 1.0))).collect());
    for a in 0..ntypes {
        for b in a..ntypes {
            let norm = nt[a] * (nt[b] - if a == b { 1.0 } else { 0.0 });
            g.push((0..bins).map(|k| if norm > 0.0 { h[(a * ntypes + b) * bins + k] / (shell(k) * norm) } else { 0.0 }).collect());
            labels.push(format!("g_{}_{}", a + 1, b + 1));
        }
    }
    Rdf { ntypes, rmax, bins, g, labels, xname: "r" }
}

/// Per-pair cutoffs at the first minimum of each partial g(r).
fn first_minima(comm: &dyn Comm, eng: &Engine, bx: &SimBox, ntypes: usize) -> Result<Vec<Vec<f64>>> {
    let rmax = max_cutoff(bx).min(8.0);
    let g = rdf(comm, eng, ntypes, rmax, 400);
    let mut cut = vec![vec![0.0; ntypes]; ntypes];
    let mut c = 1;
    for a in 0..ntypes {
        for b in a..ntypes {
            let any = g.g[c].iter().any(|&v| v > 0.0);
            let r = if any { g.first_minimum(c) } else { g.first_minimum(0) };
            cut[a][b] = r;
            cut[b][a] = r;
            c += 1;
        }
    }
    Ok(cut)
}

/// S(q) from g(r) (Ashcroft–Langreth partials):
/// S_ab(q) = δ_ab + 4πρ √(c_a c_b) ∫ r² (g_ab − 1) sin(qr)/(qr) dr, and the
/// total S(q) = 1 + 4πρ ∫ r² (g − 1) sin(qr)/(qr) dr, integrated over the
/// bins to rmax (the truncation shows as ripples of period 2π/rmax).
pub fn structure_factor(g: &Rdf, conc: &[f64], rho: f64) -> Rdf {
    let nq = 500;
    let qmax = 12.0;
    let dq = qmax / nq as f64;
    let dr = g.rmax / g.bins as f64;
    let ft = |curve: &[f64], q: f64| -> f64 { (0..g.bins).map(|k| { let r = g.r(k); r * r * (curve[k] - 1.0) * (q * r).sin() / (q * r) * dr }).sum::<f64>() * 4.0 * std::f64::consts::PI * rho };
    let mut out = Vec::new();
    let mut labels = vec!["s_total".to_string()];
    out.push((0..nq).map(|k| 1.0 + ft(&g.g[0], (k as f64 + 0.5) * dq)).collect());
    let mut c = 1;
    for a in 0..g.ntypes {
        for b in a..g.ntypes {
            let w = (conc[a] * conc[b]).sqrt();
            out.push((0..nq).map(|k| if a == b { 1.0 } else { 0.0 } + w * ft(&g.g[c], (k as f64 + 0.5) * dq)).collect());
            labels.push(format!("s_{}_{}", a + 1, b + 1));
            c += 1;
        }
    }
    // Stored on the same type as g: "r" is q here.
    Rdf { ntypes: g.ntypes, rmax: qmax, bins: nq, g: out, labels, xname: "q" }
}


/// Dynamics from a trajectory: MSD and F_s(q, t) per species.
fn dynamics(comm: &dyn Comm, a: &AnalyzeArgs) -> Result<Value> {
    if frames_in::kind(&a.input)? != Kind::H5md {
        return Err(Error::input(&a.input, "msd and fs read an H5MD trajectory (a run's snapshot output)"));
    }
    let r = H5mdReader::open(&a.input)?;
    if r.frames < 2 {
        return Err(Error::input(&a.input, format!("has {} frame; msd and fs need at least two", r.frames)));
    }
    let names = species_names(&a.elements, &r.elements, r.ntypes, &a.input)?;
    let ntypes = r.ntypes;
    let want_fs = a.computes.contains(&Analysis::Fs);
    let mut nt = vec![0.0; ntypes];
    for &t in &r.species {
        nt[t as usize - 1] += 1.0;
    }
    // q: given, or the first peak of S(q) of the first frame.
    let q = match a.q {
        Some(q) if q.is_finite() && q > 0.0 => q,
        Some(q) => return Err(cli_err(format!("--q {} must be a positive wave number in Å⁻¹", q))),
        None if want_fs => {
            let f0 = r.frame(0)?;
            let eng = build_engine(comm, &f0, &a.input, analysis_boundary(a.boundary, &f0), a.nthreads)?;
            let rmax = max_cutoff(&eng.bx).min(a.rmax);
            let g = rdf(comm, &eng, ntypes, rmax, a.bins);
            let natoms = r.ids.len() as f64;
            let s = structure_factor(&g, &nt.iter().map(|c| c / natoms).collect::<Vec<_>>(), natoms / eng.bx.volume());
            s.sq_peak()
        }
        None => f64::NAN,
    };
    // Atoms in fixed blocks; each rank sums its blocks; rank 0 adds the
    // blocks in order, so sums do not depend on the rank count.
    const BLOCK: usize = 4096;
    let nf = r.frames;
    let n = r.ids.len();
    let nblocks = n.div_ceil(BLOCK);
    let (p, rank) = (comm.size(), comm.rank());
    let mine = (nblocks * rank / p)..(nblocks * (rank + 1) / p);
    // Unwrapped positions of this rank's atoms (`first..`) in every frame.
    let first = (mine.start * BLOCK).min(n);
    let atoms = first..(mine.end * BLOCK).min(n);
    let mut unwrapped: Vec<Vec<[f64; 3]>> = Vec::with_capacity(nf);
    for f in 0..nf {
        let bx = r.simbox(f)?;
        let (x, im) = r.positions(f, atoms.clone())?;
        unwrapped.push(x.iter().zip(&im).map(|(x, im)| {
            let s = bx.image_shift([im[0] as f64, im[1] as f64, im[2] as f64]);
            [x[0] + s[0], x[1] + s[1], x[2] + s[2]]
        }).collect());
    }
    let stride = a.origin_stride;
    let origins: Vec<usize> = if stride == 0 { vec![0] } else { (0..nf).step_by(stride).collect() };
    // Per lag: [msd by type.., fs by type..] sums and origin counts.
    let w = 2 * ntypes;
    let mut local = Vec::new();
    for b in mine.clone() {
        let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
        let mut s = vec![0.0; nf * w];
        for lag in 0..nf {
            for &o in origins.iter().filter(|&&o| o + lag < nf) {
                for k in lo..hi {
                    let t = r.species[k] as usize - 1;
                    let (x0, x1) = (unwrapped[o][k - first], unwrapped[o + lag][k - first]);
                    let d2 = (x1[0] - x0[0]).powi(2) + (x1[1] - x0[1]).powi(2) + (x1[2] - x0[2]).powi(2);
                    s[lag * w + t] += d2;
                    if want_fs {
                        // Isotropic average of exp(i q·Δr): sin(qΔr)/(qΔr).
                        let qr = q * d2.sqrt();
                        s[lag * w + ntypes + t] += if qr > 0.0 { qr.sin() / qr } else { 1.0 };
                    }
                }
            }
        }
        local.push(b as f64);
        local.extend(s);
    }
    let parts = comm.gather_f64(&local);
    let mut summary = Map::new();
    summary.insert("file".into(), json!(a.input.display().to_string()));
    summary.insert("natoms".into(), json!(n));
    summary.insert("frames".into(), json!(nf));
    if let Some(parts) = parts {
        let mut blocks: Vec<(usize, &[f64])> = parts.iter().flat_map(|p| p.chunks_exact(1 + nf * w).map(|c| (c[0] as usize, &c[1..]))).collect();
        blocks.sort_by_key(|b| b.0);
        let mut tot = vec![0.0; nf * w];
        for (_, s) in blocks {
            tot.iter_mut().zip(s).for_each(|(t, v)| *t += v);
        }
        let norig: Vec<f64> = (0..nf).map(|lag| origins.iter().filter(|&&o| o + lag < nf).count() as f64).collect();
        let time: Vec<f64> = (0..nf).map(|lag| r.times[lag] - r.times[0]).collect();
        let ntot: f64 = nt.iter().sum();
        let mut table: Vec<(String, Vec<f64>)> = Vec::new();
        let series = |off: usize, t: Option<usize>| -> Vec<f64> {
            (0..nf).map(|lag| {
                let (s, c) = match t {
                    Some(t) => (tot[lag * w + off + t], nt[t]),
                    None => ((0..ntypes).map(|u| tot[lag * w + off + u]).sum(), ntot),
                };
                s / (c * norig[lag])
            }).collect()
        };
        table.push(("msd_all".into(), series(0, None)));
        for t in 0..ntypes {
            table.push((format!("msd_{}", names[t]), series(0, Some(t))));
        }
        if want_fs {
            table.push(("fs_all".into(), series(ntypes, None)));
            for t in 0..ntypes {
                table.push((format!("fs_{}", names[t]), series(ntypes, Some(t))));
            }
        }
        // D from a line through the MSD's second half: MSD = 6 D t + c.
        let mut diff = Map::new();
        let mut tau = Map::new();
        for (name, s) in &table {
            if let Some(sp) = name.strip_prefix("msd_") {
                diff.insert(sp.to_string(), json!(diffusion(&time, s)));
            }
            if let Some(sp) = name.strip_prefix("fs_") {
                tau.insert(sp.to_string(), json!(tau_alpha(&time, s)));
            }
        }
        summary.insert("diffusion_A2_per_ps".into(), Value::Object(diff));
        if want_fs {
            summary.insert("q".into(), json!(q));
            summary.insert("tau_alpha_ps".into(), Value::Object(tau));
        }
        if let Some(p) = &a.out {
            crate::io::write_atomic(p, |wr| {
                writeln!(wr, "time,{}", table.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(","))?;
                for lag in 0..nf {
                    write!(wr, "{}", time[lag])?;
                    for (_, s) in &table {
                        write!(wr, ",{}", s[lag])?;
                    }
                    writeln!(wr)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(Value::Object(summary))
}

/// D (Å²/ps) from a least-squares line through the second half of an
/// MSD series, MSD = 6 D t + c (the long-time, diffusive part; NaN with
/// fewer than two points there). Shared by `analyze --compute msd` and
/// the `diffusion_*` thermo columns.
pub fn diffusion(time: &[f64], msd: &[f64]) -> f64 {
    let k0 = time.len() / 2;
    let (xs, ys) = (&time[k0..], &msd[k0..]);
    let m = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / m, ys.iter().sum::<f64>() / m);
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx > 0.0 {
        sxy / sxx / 6.0
    } else {
        f64::NAN
    }
}

/// τα: where F_s(t) first falls to 1/e, interpolated linearly in ln t
/// (None when it never does).
/// Shared by `analyze --compute fs` and the `tau_alpha_*` thermo columns.
pub fn tau_alpha(time: &[f64], fs: &[f64]) -> Option<f64> {
    (1..fs.len()).find_map(|k| tau_crossing(time[k - 1], fs[k - 1], time[k], fs[k]))
}

/// The time at which F_s falls through 1/e between (t0, f0) and (t1, f1),
/// linear in ln t (in t from t0 = 0); None when it does not cross there.
fn tau_crossing(t0: f64, f0: f64, t1: f64, f1: f64) -> Option<f64> {
    let target = (-1.0f64).exp();
    if !(f1 <= target && f0 > target) {
        return None;
    }
    let f = (f0 - target) / (f0 - f1);
    Some(if t0 > 0.0 { (t0.ln() + f * (t1.ln() - t0.ln())).exp() } else { t0 + f * (t1 - t0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A g(r) with a peak at 2.6 Å, a minimum at 3.165 Å and bin-to-bin
    /// noise: the minimum is found within the smoothing width.
    #[test]
    fn first_minimum_of_a_noisy_curve() {
        let (bins, rmax) = (400, 8.0);
        let dr = rmax / bins as f64;
        let g: Vec<f64> = (0..bins)
            .map(|k| {
                let r = (k as f64 + 0.5) * dr;
                let shape = 3.0 * (-((r - 2.6) / 0.2).powi(2)).exp() + 1.3 * (-((r - 4.4) / 0.5).powi(2)).exp() + if r > 2.0 { 0.3 } else { 0.0 };
                shape + 0.08 * ((k * 7919 % 13) as f64 / 13.0 - 0.5)
            })
            .collect();
        let c = Rdf { ntypes: 1, rmax, bins, g: vec![g], labels: vec!["g_total".into()], xname: "r" };
        assert!((c.first_peak() - 2.6).abs() < 0.03);
        let m = c.first_minimum(0);
        assert!((m - 3.165).abs() < 0.1, "first minimum at {}", m);
    }
}
