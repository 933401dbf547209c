//! Building a run's engine from a deck: the system (data file, built alloy
//! or lattice, replicas), the potential (one factory for `[potential]`),
//! masses, memory check, and the groups decided on the atoms as built.

use super::*;

/// Tile a configuration nx × ny × nz (LAMMPS `replicate`): copy k gets ids
/// `id + k·max_id` and positions shifted by whole edge vectors; a tilted
/// cell's tilts grow with the copies along their second axis.
pub fn replicate(d: &lammps_data::DataFile, n: [usize; 3]) -> lammps_data::DataFile {
    let l = [d.hi[0] - d.lo[0], d.hi[1] - d.lo[1], d.hi[2] - d.lo[2]];
    let [xy, xz, yz] = d.tilt.unwrap_or([0.0; 3]);
    let maxid = d.atoms.iter().map(|a| a.id).max().unwrap_or(0);
    let mut atoms = Vec::with_capacity(d.atoms.len() * n[0] * n[1] * n[2]);
    let mut k = 0u64;
    for iz in 0..n[2] {
        for iy in 0..n[1] {
            for ix in 0..n[0] {
                let (fx, fy, fz) = (ix as f64, iy as f64, iz as f64);
                let off = if d.tilt.is_some() { [fx * l[0] + fy * xy + fz * xz, fy * l[1] + fz * yz, fz * l[2]] } else { [fx * l[0], fy * l[1], fz * l[2]] };
                for a in &d.atoms {
                    let mut b = a.clone();
                    b.id = a.id + k * maxid;
                    for c in 0..3 {
                        b.x[c] = a.x[c] + off[c];
                    }
                    atoms.push(b);
                }
                k += 1;
            }
        }
    }
    let mut hi = d.hi;
    for c in 0..3 {
        hi[c] = d.lo[c] + l[c] * n[c] as f64;
    }
    let tilt = d.tilt.map(|_| [xy * n[1] as f64, xz * n[2] as f64, yz * n[2] as f64]);
    lammps_data::DataFile { atoms, hi, tilt, ..d.clone() }
}

pub(super) fn parse_style(s: &str, origin: &Path) -> Result<EamStyle> {
    EamStyle::parse(s).ok_or_else(|| {
        Error::input(origin, format!("unknown potential style '{}' (expected eam, eam/alloy or eam/fs)", s))
    })
}

/// The one factory of potentials: a style, its file, the element of each
/// atom type; returns the potential and the masses per type it sets (the
/// file's, as LAMMPS `pair_coeff` sets them). `data` and `origin` name the
/// files that errors point at (the data file for type counts, the deck or
/// the command line for the style). A new potential style is one arm here.
pub(super) fn make_potential(style: EamStyle, file: &Path, elements: Option<&[String]>, ntypes: usize, data: &Path, origin: &Path) -> Result<(Box<dyn crate::potential::Potential>, Vec<f64>)> {
    let pot = eam::load(style, file, elements, ntypes, data, origin)?;
    let masses = pot.tables.masses.clone();
    Ok((Box::new(pot), masses))
}

/// A deck's `generate = "zhou2004"`: the Zhou–Johnson–Wadley tables of
/// the elements the types name (each once, in first-use order), mapped to
/// the types as a file with those elements would be.
fn generated_potential(deck: &Deck, elements: Option<&[String]>, ntypes: usize, data: &Path) -> Result<(Box<dyn crate::potential::Potential>, Vec<f64>)> {
    let file = eam::zhou::generate(&eam::zhou::distinct(elements.unwrap_or_default())).map_err(|m| deck.key_error("potential.elements", m))?;
    let pot = eam::with_types(file, EamStyle::Alloy, &deck.path, elements, ntypes, data, &deck.path)?;
    let masses = pot.tables.masses.clone();
    Ok((Box::new(pot), masses))
}

/// An input file a deck names: its path, or an error at the key's line if
/// it cannot be opened (the file's own errors name the file itself).
pub(super) fn input_file(deck: &Deck, key: &str, name: &str) -> Result<PathBuf> {
    let p = deck.resolve(name);
    match std::fs::metadata(&p) {
        Ok(m) if m.is_file() => Ok(p),
        Ok(_) => Err(deck.key_error(key, format!("'{}' is not a file", p.display()))),
        Err(e) => Err(deck.key_error(key, format!("cannot open '{}': {}", p.display(), crate::error::io_reason(&e)))),
    }
}

/// The local-strain reference from `[compute] strain_reference_file`
/// (collective; every rank reads the file and takes its own atoms' ids).
pub(super) fn strain_reference_file(eng: &mut Engine, deck: &Deck) -> Result<()> {
    let Some(f) = &deck.compute.strain_reference_file else { return Ok(()) };
    let p = input_file(deck, "compute.strain_reference_file", f)?;
    crate::run::analyze::strain_reference_file(eng, &p, None)?;
    check_strain_cutoff(eng, deck)
}

/// `[compute] strain_cutoff` must fit the reference box (each neighbor
/// once): checked when the reference is taken.
pub(super) fn check_strain_cutoff(eng: &Engine, deck: &Deck) -> Result<()> {
    let (Some(rc), Some(rb)) = (deck.compute.strain_cutoff, &eng.strain_box) else { return Ok(()) };
    let m = crate::run::analyze::max_cutoff(rb);
    if rc > m {
        return Err(deck.key_error("compute.strain_cutoff", format!("{} A is larger than the reference box allows: half its smallest periodic width is {:.4} A", rc, m)));
    }
    Ok(())
}

/// Refuse a system too large for the memory of this run before building
/// it: `natoms` in `volume` Å³, the error naming `key`.
pub(super) fn check_size(deck: &Deck, key: &str, natoms: f64, volume: f64, nranks: usize) -> Result<()> {
    let rc = 6.0 + deck.neighbor.skin;
    crate::memory::check(natoms, volume, nranks, rc, deck.limits.max_memory_gib).map_err(|m| deck.key_error(key, m))
}

/// Build the engine of a deck (every seed shifted by `seed_offset`).
/// Returns the engine, the element names and the file the atoms came
/// from (the data file, or the deck for a built system).
pub(super) fn build_engine<'c>(comm: &'c dyn Comm, deck: &Deck, seed_offset: u64, nthreads: usize) -> Result<(Engine<'c>, Vec<String>, PathBuf, Groups)> {
    let style = deck.potential.style;
    let mut elements = deck.potential.elements.clone();
    let pot_path = match &deck.potential.file {
        Some(f) => Some(input_file(deck, "potential.file", f)?),
        None => None,
    };
    let reps = deck.system.replicate.map_or(1.0, |r| r.iter().map(|&k| k as f64).product::<f64>());
    let (mut data, data_path) = match (&deck.system.read_data, &deck.system.create) {
        (Some(rd), _) => {
            let p = input_file(deck, "system.read_data", rd)?;
            let d = lammps_data::read(&p)?;
            let vol: f64 = (0..3).map(|k| d.hi[k] - d.lo[k]).product();
            let key = if reps > 1.0 { "system.replicate" } else { "system.read_data" };
            check_size(deck, key, d.atoms.len() as f64 * reps, vol * reps, comm.size())?;
            let maxid = d.atoms.iter().map(|a| a.id).max().unwrap_or(0) as f64;
            if maxid * reps > lammps_data::MAX_ID as f64 {
                return Err(deck.key_error("system.replicate", format!("the copies' atom ids would reach {:.3e}, beyond 2^53", maxid * reps)));
            }
            (d, p)
        }
        (None, Some(c)) => {
            let (n, vol) = match (&c.lattice, c.atoms, c.number_density) {
                (Some(l), _, _) => {
                    let basis = build::basis(l).map_or(1, |b| b.len()) as f64;
                    let cells = c.cells.unwrap_or([1; 3]).iter().map(|&k| k as f64).product::<f64>();
                    (cells * basis, cells * c.a.unwrap_or(0.0).powi(3))
                }
                (None, Some(n), Some(rho)) => (n as f64, n as f64 / rho),
                _ => (0.0, 0.0),
            };
            let key = if reps > 1.0 { "system.replicate" } else { "system.create" };
            check_size(deck, key, n * reps, vol * reps, comm.size())?;
            if n * reps > lammps_data::MAX_ID as f64 {
                return Err(deck.key_error(key, format!("{:.3e} atoms: atom ids would go beyond 2^53", n * reps)));
            }
            // Types follow potential.elements, else the composition's elements sorted.
            let names: Vec<String> = elements.clone().unwrap_or_else(|| c.composition.keys().cloned().collect());
            if let Some(bad) = c.composition.keys().find(|k| !names.contains(k)) {
                return Err(deck.key_error("system.create.composition", format!("names {} but potential.elements does not", bad)));
            }
            let fr: Vec<f64> = names.iter().map(|e| c.composition.get(e).copied().unwrap_or(0.0)).collect();
            let seed = c.seed.wrapping_add(seed_offset);
            let built = match (&c.lattice, c.atoms, c.number_density) {
                (Some(l), _, _) => build::lattice(&fr, l, c.a.unwrap_or(0.0), c.cells.unwrap_or([1; 3]), seed),
                (None, Some(n), Some(rho)) => build::random_alloy(&fr, n, rho, c.aspect, c.min_distance, seed),
                _ => Err("system.create is incomplete".into()),
            }
            .map_err(|m| deck.key_error("system.create", m))?;
            if style != EamStyle::Funcfl {
                elements = Some(names);
            }
            (built, deck.path.clone())
        }
        (None, None) => return Err(Error::input(&deck.path, "system: give read_data or create")),
    };
    if let Some(els) = elements.as_ref().filter(|e| e.len() < data.ntypes) {
        return Err(deck.key_error("potential.elements", format!("lists {} element(s) ({}) but the system has {} atom types", els.len(), els.join(" "), data.ntypes)));
    }
    if let Some(r) = deck.system.replicate {
        data = replicate(&data, r);
    }
    let (pot, masses) = match &pot_path {
        Some(p) => make_potential(style, p, elements.as_deref(), data.ntypes, &data_path, &deck.path)?,
        None => generated_potential(deck, elements.as_deref(), data.ntypes, &data_path)?,
    };
    let opts = EngineOptions { skin: deck.neighbor.skin, sort_every: deck.neighbor.sort_every, nchunks: nthreads, triclinic: deck.tilts_box(), compact_list: deck.neighbor.compact };
    let mut eng = Engine::new(comm, &data, &data_path, deck.system.boundary(), pot, masses, opts)?;
    eng.limits = deck.limits;
    eng.compute_settings = deck.compute.clone();
    // Groups are decided now, on the atoms as read or built (LAMMPS
    // `group` after `read_data`), and then follow their atoms.
    let rules = crate::config::group::rules(&deck.groups).map_err(|(k, key, m)| deck.key_error(&format!("group[{}].{}", k, key), m))?;
    for (k, (name, rule)) in rules.iter().enumerate() {
        if let crate::system::group::Rule::Types(t) = rule {
            if let Some(bad) = t.iter().find(|&&x| x as usize >= data.ntypes) {
                return Err(deck.key_error(&format!("group[{}].types", k), format!("group '{}': type {} does not exist (the system has {} atom types)", name, bad + 1, data.ntypes)));
            }
        }
    }
    let groups = Groups::define(&mut eng.atoms, &rules);
    Ok((eng, elements.unwrap_or_default(), data_path, groups))
}
