//! `glassmd forces`: single-point forces, per-atom energies and stresses,
//! as LAMMPS reports them at step 0 of `run 0`.

use super::*;

/// Arguments of `glassmd forces`.
pub struct ForcesArgs<'a> {
    pub data: &'a Path,
    pub potential: &'a Path,
    pub style: &'a str,
    pub elements: Option<&'a [String]>,
    pub boundary: [Boundary; 3],
    pub dump: Option<&'a Path>,
    pub nthreads: usize,
}

/// Single-point forces, per-atom energies and stresses, and totals, as LAMMPS
/// reports them at step 0 of `run 0` (kinetic parts included).
pub fn forces(comm: &dyn Comm, a: &ForcesArgs) -> Result<serde_json::Value> {
    let cli = Path::new("command line");
    let data = lammps_data::read(a.data)?;
    let style = parse_style(a.style, cli)?;
    let (pot, masses) = make_potential(style, a.potential, a.elements, data.ntypes, a.data, cli)?;
    let opts = EngineOptions { skin: 1.0, sort_every: 0, nchunks: a.nthreads, ..Default::default() };
    let mut eng = Engine::new(comm, &data, a.data, a.boundary, pot, masses, opts)?;
    eng.setup(ForceFlags { energy_atom: true, virial_atom: true }).map_err(|e| at_input(e, a.data))?;
    let t = eng.thermo();
    let rows = eng.gather_rows(10, |i| {
        let f = eng.atoms.f[i];
        let mut r = vec![f[0], f[1], f[2], eng.per_atom.energy[i]];
        r.extend(eng.stress_atom(i));
        r
    });
    if let (Some(rows), Some(path)) = (rows, a.dump) {
        dump::write_frame(path, 0, &eng.bx, &["fx", "fy", "fz", "pe", "sxx", "syy", "szz", "sxy", "sxz", "syz"], &rows)?;
    }
    Ok(serde_json::json!({
        "natoms": eng.natoms,
        "pe": t.pe,
        "ke": t.ke,
        "etotal": t.etotal,
        "temperature": t.temperature,
        "press": t.pressure,
        "pxx": t.ptensor[0],
        "pyy": t.ptensor[1],
        "pzz": t.ptensor[2],
        "pxy": t.ptensor[3],
        "pxz": t.ptensor[4],
        "pyz": t.ptensor[5],
        "volume": t.volume,
    }))
}
