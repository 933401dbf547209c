//! `glassmd convert`: an H5MD trajectory to a LAMMPS dump or extended XYZ,
//! for tools without an H5MD reader (OVITO). Frames are read one at a
//! time, in blocks of [`CHUNK_ROWS`] atoms, and written through the same
//! writers as a run's own text trajectories, so the columns are the ones
//! documented in `frames.rs`. Forces stored in another unit
//! (`force_unit`) are converted back to eV/Å.
//!
//! To convert to a further format, add a [`TextFormat`] and its writer.

use super::frames::{FrameInfo, FrameWriter, Fields, TextFormat, TextTrajectory};
use super::h5md::{ForceUnit, CHUNK_ROWS};
use super::thermo::Thermo;
use crate::engine::RowBlock;
use crate::error::{Error, Result};
use crate::system::Boundary;
use hdf5::types::VarLenUnicode;
use ndarray::s;
use std::path::Path;

/// Frame indices of `spec` among `total` frames: `all`, `N`, `A:B`,
/// `A:B:STEP` (Python slices: B exclusive, negative counts from the end),
/// or a comma list of these.
pub fn parse_frames(spec: &str, total: usize) -> std::result::Result<Vec<usize>, String> {
    let t = total as i64;
    let idx = |s: &str, default: i64| -> std::result::Result<i64, String> {
        if s.trim().is_empty() {
            return Ok(default);
        }
        let v: i64 = s.trim().parse().map_err(|_| format!("'{}' is not a frame number", s.trim()))?;
        Ok(if v < 0 { v + t } else { v })
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part == "all" || part == ":" {
            out.extend(0..total);
            continue;
        }
        let f: Vec<&str> = part.split(':').collect();
        match f.len() {
            1 => {
                let k = idx(f[0], 0)?;
                if k < 0 || k >= t {
                    return Err(format!("frame {} is out of range: the file has {} frames (0 to {})", f[0].trim(), total, total.saturating_sub(1)));
                }
                out.push(k as usize);
            }
            2 | 3 => {
                let a = idx(f[0], 0)?.clamp(0, t);
                let b = idx(f[1], t)?.clamp(0, t);
                let step = if f.len() == 3 { idx(f[2], 1)? } else { 1 };
                if step <= 0 {
                    return Err(format!("'{}': the step must be a positive whole number", part));
                }
                out.extend((a..b).step_by(step as usize).map(|k| k as usize));
            }
            _ => return Err(format!("'{}' is not a frame selection (N, A:B, A:B:STEP or all)", part)),
        }
    }
    if out.is_empty() {
        return Err(format!("'{}' selects no frame of {}", spec, total));
    }
    Ok(out)
}

fn h5(path: &Path) -> impl Fn(hdf5::Error) -> Error + '_ {
    move |e| Error::input(path, format!("HDF5: {}", e.to_string().replace('\n', " ")))
}

/// Convert `input` (H5MD) to `output` in `format`; returns the number of frames written.
pub fn convert(input: &Path, output: &Path, format: TextFormat, frames: Option<&str>, overwrite: bool) -> Result<usize> {
    if output.exists() && !overwrite {
        return Err(Error::input(output, "exists; pass --overwrite to replace it"));
    }
    let e = h5(input);
    std::fs::metadata(input).map_err(|err| Error::io(input, err))?;
    let file = hdf5::File::open(input).map_err(|err| Error::input(input, format!("cannot open as HDF5: {}", err.to_string().replace('\n', " "))))?;
    let all = file.group("particles/all").map_err(|_| Error::input(input, "not an H5MD file: no group /particles/all"))?;
    let has = |name: &str| all.link_exists(name);
    if !has("position") {
        return Err(Error::input(input, "holds no particles/all/position: nothing to convert"));
    }
    let computes = crate::compute::PER_ATOM.iter().enumerate().filter(|(_, c)| has(c.name())).fold(0u32, |m, (k, _)| m | 1 << k);
    let fields = Fields { position: true, velocity: has("velocity"), force: has("force"), pe: has("potential_energy"), stress: has("stress"), computes };
    let ids: Vec<i64> = all.dataset("id").and_then(|d| d.read_raw()).map_err(&e)?;
    let species: Vec<i64> = all.dataset("species").and_then(|d| d.read_raw()).map_err(&e)?;
    let n = ids.len();
    if species.len() != n {
        return Err(Error::input(input, format!("particles/all/species has {} entries for {} atoms", species.len(), n)));
    }
    let ntypes = species.iter().copied().max().unwrap_or(0).max(0) as usize;
    if species.iter().any(|&t| t < 1) {
        return Err(Error::input(input, "particles/all/species holds a type below 1"));
    }
    let elements = super::frames_in::species_elements(&all);
    // Masses per type from the per-atom masses (first atom of each type).
    let mass_atom: Vec<f64> = all.dataset("mass").and_then(|d| d.read_raw()).unwrap_or_default();
    let mut masses = vec![f64::NAN; ntypes];
    for (k, &t) in species.iter().enumerate() {
        if let (Some(m), Some(slot)) = (mass_atom.get(k), masses.get_mut(t as usize - 1)) {
            if slot.is_nan() {
                *slot = *m;
            }
        }
    }
    let boundary: Vec<VarLenUnicode> = all.group("box").and_then(|b| b.attr("boundary")).and_then(|a| a.read_raw()).map_err(&e)?;
    let bnd: Vec<Boundary> = boundary.iter().map(|b| if b.as_str() == "periodic" { Boundary::Periodic } else { Boundary::Fixed }).collect();
    if bnd.len() != 3 {
        return Err(Error::input(input, "particles/all/box has no three-entry boundary attribute"));
    }
    let edges = all.dataset("box/edges/value").map_err(&e)?;
    let offset = all.dataset("box/offset/value").map_err(&e)?;
    let pos = all.dataset("position/value").map_err(&e)?;
    let total = pos.shape()[0];
    let steps: Vec<i64> = all.dataset("position/step").and_then(|d| d.read_raw()).map_err(&e)?;
    let times: Vec<f64> = all.dataset("position/time").and_then(|d| d.read_raw()).map_err(&e)?;
    if pos.shape().get(1) != Some(&n) || steps.len() < total || times.len() < total || edges.shape()[0] < total {
        return Err(Error::input(input, format!("inconsistent H5MD file: {} frames of {} atoms but fewer steps, times or boxes", total, n)));
    }
    let force_scale = match all.dataset("force/value").and_then(|d| d.attr("unit")).and_then(|a| a.read_scalar::<VarLenUnicode>()) {
        Ok(u) => match ForceUnit::parse(u.as_str()) {
            Some(f) => 1.0 / f.factor,
            None => return Err(Error::input(input, format!("force unit '{}' is not one glassmd knows", u.as_str()))),
        },
        Err(_) => 1.0,
    };
    let obs = |name: &str| -> Vec<f64> { file.dataset(&format!("observables/{}/value", name)).and_then(|d| d.read_raw()).unwrap_or_default() };
    let (temp, pe, press) = (obs("temperature"), obs("potential_energy"), obs("pressure"));
    let picked = parse_frames(frames.unwrap_or("all"), total).map_err(|m| Error::input("command line", format!("--frames: {}", m)))?;
    let dset = |name: &str| all.dataset(&format!("{}/value", name)).map_err(&e);
    let (img, vel, frc, epot, strs) = (
        dset("image")?,
        if fields.velocity { Some(dset("velocity")?) } else { None },
        if fields.force { Some(dset("force")?) } else { None },
        if fields.pe { Some(dset("potential_energy")?) } else { None },
        if fields.stress { Some(dset("stress")?) } else { None },
    );
    let comps: Vec<(&dyn crate::compute::PerAtomCompute, hdf5::Dataset)> = fields.per_atom_computes().into_iter().map(|c| Ok((c, dset(c.name())?))).collect::<Result<_>>()?;
    let mut w = TextTrajectory::open(output, fields, format, None)?;
    let width = fields.width();
    for &f in &picked {
        // Edges: the diagonal (T,3), or the edge vectors as rows (T,3,3).
        let th = Thermo {
            step: steps[f] as u64,
            time: times[f],
            temperature: temp.get(f).copied().unwrap_or(f64::NAN),
            pe: pe.get(f).copied().unwrap_or(f64::NAN),
            pressure: press.get(f).copied().unwrap_or(f64::NAN),
            ..Thermo::default()
        };
        let frame_box = super::frames_in::frame_box(&edges, &offset, f, [bnd[0], bnd[1], bnd[2]]).map_err(&e)?;
        let info = FrameInfo {
            step: steps[f] as u64,
            time: times[f],
            bx: &frame_box,
            natoms: n as u64,
            thermo: &th,
            elements: &elements,
            masses: &masses,
        };
        w.begin(&info)?;
        for a in (0..n).step_by(CHUNK_ROWS) {
            let b = (a + CHUNK_ROWS).min(n);
            let x = pos.read_slice_2d::<f64, _>(s![f, a..b, ..]).map_err(&e)?;
            let im = img.read_slice_2d::<i32, _>(s![f, a..b, ..]).map_err(&e)?;
            let v = vel.as_ref().map(|d| d.read_slice_2d::<f64, _>(s![f, a..b, ..])).transpose().map_err(&e)?;
            let fo = frc.as_ref().map(|d| d.read_slice_2d::<f64, _>(s![f, a..b, ..])).transpose().map_err(&e)?;
            let ep = epot.as_ref().map(|d| d.read_slice_1d::<f64, _>(s![f, a..b])).transpose().map_err(&e)?;
            let st = strs.as_ref().map(|d| d.read_slice_2d::<f64, _>(s![f, a..b, ..])).transpose().map_err(&e)?;
            // Per-atom computes: rows of `width` values, as f64.
            let mut extra: Vec<Vec<f64>> = Vec::new();
            for (c, d) in &comps {
                let w = c.columns().len();
                let v: Vec<f64> = match (c.integer(), w) {
                    (true, 1) => d.read_slice_1d::<i32, _>(s![f, a..b]).map_err(&e)?.iter().map(|&x| x as f64).collect(),
                    (true, _) => d.read_slice_2d::<i32, _>(s![f, a..b, ..]).map_err(&e)?.iter().map(|&x| x as f64).collect(),
                    (false, 1) => d.read_slice_1d::<f64, _>(s![f, a..b]).map_err(&e)?.to_vec(),
                    (false, _) => d.read_slice_2d::<f64, _>(s![f, a..b, ..]).map_err(&e)?.iter().copied().collect(),
                };
                extra.push(v);
            }
            let mut values = Vec::with_capacity((b - a) * width);
            for j in 0..b - a {
                values.extend([x[[j, 0]], x[[j, 1]], x[[j, 2]], im[[j, 0]] as f64, im[[j, 1]] as f64, im[[j, 2]] as f64]);
                if let Some(v) = &v {
                    values.extend([v[[j, 0]], v[[j, 1]], v[[j, 2]]]);
                }
                if let Some(fo) = &fo {
                    values.extend([fo[[j, 0]] * force_scale, fo[[j, 1]] * force_scale, fo[[j, 2]] * force_scale]);
                }
                if let Some(ep) = &ep {
                    values.push(ep[j]);
                }
                if let Some(st) = &st {
                    values.extend((0..6).map(|c| st[[j, c]]));
                }
                for (k, (c, _)) in comps.iter().enumerate() {
                    let w = c.columns().len();
                    values.extend_from_slice(&extra[k][j * w..(j + 1) * w]);
                }
            }
            let block = RowBlock { offset: a, width, ids: ids[a..b].iter().map(|&i| i as u64).collect(), types: species[a..b].iter().map(|&t| t as u32).collect(), values };
            w.rows(&block)?;
        }
        w.end()?;
    }
    Box::new(w).finish()?;
    Ok(picked.len())
}

#[cfg(test)]
mod tests {
    use super::parse_frames;
    #[test]
    fn frame_selections() {
        assert_eq!(parse_frames("all", 3).unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_frames("-1", 5).unwrap(), vec![4]);
        assert_eq!(parse_frames("1:4", 10).unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_frames("::3", 7).unwrap(), vec![0, 3, 6]);
        assert_eq!(parse_frames("0,2", 3).unwrap(), vec![0, 2]);
        assert!(parse_frames("5", 3).is_err());
        assert!(parse_frames("x", 3).is_err());
        assert!(parse_frames("0:4:0", 5).is_err());
    }
}
