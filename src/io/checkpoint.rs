//! Checkpoint files: the complete state of a run in one HDF5 file, written
//! atomically (temporary file, fsync, rename, fsync of the folder), so a
//! kill at any moment leaves the previous checkpoint intact.
//!
//! ```text
//! /            attribute `glassmd_checkpoint` = format version,
//!              attribute `state` = JSON of the run (step, time, box, stage
//!              and step within it, thermostat and barostat chains, results,
//!              analysis rows, trajectory positions), attribute `state_fnv1a`
//!              = its FNV-1a hash
//! /atoms/id (N) int64, type (N) int32 (0-based), x v x_hold f (N,3) float64,
//!        image (N,3) int32, rank_counts (P) int64,
//!        columns (N,W) float64: the persistent per-atom columns (group
//!        masks, reference positions), named with widths in the state
//!        (only when W > 0)
//! ```
//!
//! Atoms are stored rank after rank in each rank's memory order, with the
//! positions at the last neighbor-list build (`x_hold`), so a restart on the
//! same rank count rebuilds the very same ghosts and lists and continues
//! bitwise (`Engine::restore_exact`); on another rank count every rank
//! reads an equal slice and the atoms are routed to their owners
//! (`Engine::restore_redistribute`). The
//! per-atom datasets carry HDF5's Fletcher-32 checksum filter and the state
//! its hash, so a damaged file is refused rather than half-read. Random
//! numbers need no state: velocities and Langevin forces are counter-based
//! functions of (seed, atom id, step); the forces of the step (with what
//! fixes did to them) are saved, so a restart kicks with exactly them.
//!
//! The file is written by rank 0, which receives the ranks' atoms one rank
//! at a time. A new piece of run state is a new field of the JSON state
//! (`run::RunState`); a new per-atom quantity is a column of
//! `Engine::save_local` and a dataset here (bump `FORMAT`).

use crate::domain::comm::Comm;
use crate::engine::LOCAL_WIDTH;
use crate::error::{Error, Result};
use hdf5::types::VarLenUnicode;
use ndarray::{s, Array2};
use std::path::{Path, PathBuf};

/// Version of the layout; a file with another version is refused.
pub const FORMAT: i32 = 2;
const CHUNK: usize = 65536;
const TAG: i32 = 1 << 21;

/// FNV-1a, 64 bit.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn damaged(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::input(path, format!("not a usable glassmd checkpoint: {}", what))
}

/// Write a checkpoint (collective). `state` is the run's JSON state and
/// `local` this rank's `Engine::save_local`. Returns on rank 0 the error of
/// the write, if any, after every rank has sent its atoms.
/// `extra` is the width of the persistent columns after the
/// [`LOCAL_WIDTH`] fixed values of each row.
pub fn write(comm: &dyn Comm, path: &Path, state: &str, local: &[f64], extra: usize) -> Result<()> {
    let width = LOCAL_WIDTH + extra;
    let counts = comm.gather_f64(&[(local.len() / width) as f64]);
    let Some(counts) = counts else {
        // Other ranks: send the atoms when rank 0 asks for them.
        comm.sendrecv(Some(0), local, None, TAG);
        return Ok(());
    };
    let counts: Vec<usize> = counts.iter().map(|c| c[0] as usize).collect();
    let n: usize = counts.iter().sum();
    let tmp = tmp_path(path);
    let mut file = hdf5::File::create(&tmp).map_err(|e| Error::input(&tmp, format!("HDF5: {}", e)));
    let mut ds = None;
    if let Ok(f) = &file {
        match create_layout(f, state, &counts, n, extra) {
            Ok(d) => ds = Some(d),
            Err(e) => file = Err(Error::input(&tmp, format!("HDF5: {}", e))),
        }
    }
    let mut offset = 0;
    for (r, &c) in counts.iter().enumerate() {
        let buf = if r == 0 { local.to_vec() } else { comm.sendrecv(None, &[], Some(r), TAG) };
        if let (Some(d), Ok(_)) = (&ds, &file) {
            if let Err(e) = write_block(d, offset, &buf, width) {
                file = Err(Error::input(&tmp, format!("HDF5: {}", e)));
            }
        }
        offset += c;
    }
    let f = match file {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    drop(ds);
    let closed = f.close().map_err(|e| Error::input(&tmp, format!("HDF5: {}", e)));
    let done = closed.and_then(|_| {
        // fsync the data, rename over the old checkpoint, fsync the folder.
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    path.with_file_name(format!(".{}.tmp", name))
}

struct Layout {
    id: hdf5::Dataset,
    typ: hdf5::Dataset,
    x: hdf5::Dataset,
    v: hdf5::Dataset,
    image: hdf5::Dataset,
    x_hold: hdf5::Dataset,
    f: hdf5::Dataset,
    columns: Option<hdf5::Dataset>,
}

fn create_layout(f: &hdf5::File, state: &str, counts: &[usize], n: usize, extra: usize) -> hdf5::Result<Layout> {
    f.new_attr::<i32>().create("glassmd_checkpoint")?.write_scalar(&FORMAT)?;
    let st: VarLenUnicode = state.parse().map_err(|e| hdf5::Error::from(format!("{:?}", e).as_str()))?;
    f.new_attr::<VarLenUnicode>().create("state")?.write_scalar(&st)?;
    f.new_attr::<u64>().create("state_fnv1a")?.write_scalar(&fnv1a(state.as_bytes()))?;
    let g = f.create_group("atoms")?;
    let rc: Vec<i64> = counts.iter().map(|&c| c as i64).collect();
    g.new_dataset_builder().with_data(&rc[..]).create("rank_counts")?;
    let c = n.clamp(1, CHUNK);
    let vec3 = |name: &str| g.new_dataset::<f64>().shape((n, 3)).chunk((c, 3)).fletcher32().create(name);
    Ok(Layout {
        id: g.new_dataset::<i64>().shape(n).chunk(c).fletcher32().create("id")?,
        typ: g.new_dataset::<i32>().shape(n).chunk(c).fletcher32().create("type")?,
        x: vec3("x")?,
        v: vec3("v")?,
        image: g.new_dataset::<i32>().shape((n, 3)).chunk((c, 3)).fletcher32().create("image")?,
        x_hold: vec3("x_hold")?,
        f: vec3("f")?,
        columns: match extra {
            0 => None,
            w => Some(g.new_dataset::<f64>().shape((n, w)).chunk((c, w)).fletcher32().create("columns")?),
        },
    })
}

fn write_block(d: &Layout, offset: usize, buf: &[f64], width: usize) -> hdf5::Result<()> {
    let m = buf.len() / width;
    if m == 0 {
        return Ok(());
    }
    let col = |k: usize| buf.chunks_exact(width).map(move |r| r[k]);
    let vec3 = |k: usize| Array2::from_shape_fn((m, 3), |(i, j)| buf[i * width + k + j]);
    let ids: Vec<i64> = col(0).map(|v| v as i64).collect();
    let typ: Vec<i32> = col(1).map(|v| v as i32).collect();
    d.id.write_slice(&ids, offset..offset + m)?;
    d.typ.write_slice(&typ, offset..offset + m)?;
    d.x.write_slice(&vec3(2), s![offset..offset + m, ..])?;
    d.v.write_slice(&vec3(5), s![offset..offset + m, ..])?;
    d.image.write_slice(&vec3(8).mapv(|v| v as i32), s![offset..offset + m, ..])?;
    d.x_hold.write_slice(&vec3(11), s![offset..offset + m, ..])?;
    d.f.write_slice(&vec3(14), s![offset..offset + m, ..])?;
    if let Some(c) = &d.columns {
        let extra = width - LOCAL_WIDTH;
        let a = Array2::from_shape_fn((m, extra), |(i, j)| buf[i * width + LOCAL_WIDTH + j]);
        c.write_slice(&a, s![offset..offset + m, ..])?;
    }
    Ok(())
}

/// An open checkpoint for reading.
pub struct Reader {
    path: PathBuf,
    layout: Layout,
    /// The run's JSON state.
    pub state: String,
    /// Atoms per rank of the run that wrote it.
    pub rank_counts: Vec<usize>,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader> {
        if !path.exists() {
            return Err(Error::input(path, "no such checkpoint"));
        }
        let h = |e: hdf5::Error| damaged(path, e);
        let f = hdf5::File::open(path).map_err(|e| damaged(path, format!("cannot open it as HDF5 ({}); the file is truncated or not a checkpoint", e)))?;
        let format: i32 = f.attr("glassmd_checkpoint").and_then(|a| a.read_scalar()).map_err(|_| damaged(path, "it has no glassmd_checkpoint attribute"))?;
        if format != FORMAT {
            return Err(damaged(path, format!("format {} (this glassmd reads format {})", format, FORMAT)));
        }
        let state: VarLenUnicode = f.attr("state").and_then(|a| a.read_scalar()).map_err(h)?;
        let state = state.as_str().to_string();
        let hash: u64 = f.attr("state_fnv1a").and_then(|a| a.read_scalar()).map_err(h)?;
        if hash != fnv1a(state.as_bytes()) {
            return Err(damaged(path, "the run state fails its checksum"));
        }
        let g = f.group("atoms").map_err(h)?;
        let rank_counts: Vec<usize> = g.dataset("rank_counts").and_then(|d| d.read_raw::<i64>()).map_err(h)?.into_iter().map(|c| c as usize).collect();
        let layout = Layout {
            id: g.dataset("id").map_err(h)?,
            typ: g.dataset("type").map_err(h)?,
            x: g.dataset("x").map_err(h)?,
            v: g.dataset("v").map_err(h)?,
            image: g.dataset("image").map_err(h)?,
            x_hold: g.dataset("x_hold").map_err(h)?,
            f: g.dataset("f").map_err(h)?,
            columns: g.dataset("columns").ok(),
        };
        let n: usize = rank_counts.iter().sum();
        if layout.id.shape() != [n] || layout.x.shape() != [n, 3] || layout.f.shape() != [n, 3] || layout.columns.as_ref().is_some_and(|c| c.shape().first() != Some(&n)) {
            return Err(damaged(path, "the atom datasets disagree with rank_counts"));
        }
        Ok(Reader { path: path.to_path_buf(), layout, state, rank_counts })
    }

    pub fn natoms(&self) -> usize {
        self.rank_counts.iter().sum()
    }

    /// Values per atom of the persistent columns.
    pub fn extra_width(&self) -> usize {
        self.layout.columns.as_ref().map_or(0, |c| c.shape().get(1).copied().unwrap_or(0))
    }

    /// Atoms `[offset, offset + count)` as `Engine::save_local` rows.
    pub fn read(&self, offset: usize, count: usize) -> Result<Vec<f64>> {
        let h = |e: hdf5::Error| damaged(&self.path, format!("reading atoms {}..{}: {}", offset, offset + count, e));
        let d = &self.layout;
        let r = offset..offset + count;
        let ids = d.id.read_slice_1d::<i64, _>(r.clone()).map_err(h)?;
        let typ = d.typ.read_slice_1d::<i32, _>(r.clone()).map_err(h)?;
        let x = d.x.read_slice_2d::<f64, _>(s![r.clone(), ..]).map_err(h)?;
        let v = d.v.read_slice_2d::<f64, _>(s![r.clone(), ..]).map_err(h)?;
        let im = d.image.read_slice_2d::<i32, _>(s![r.clone(), ..]).map_err(h)?;
        let xh = d.x_hold.read_slice_2d::<f64, _>(s![r.clone(), ..]).map_err(h)?;
        let f = d.f.read_slice_2d::<f64, _>(s![r.clone(), ..]).map_err(h)?;
        let cols = match &d.columns {
            Some(c) => Some(c.read_slice_2d::<f64, _>(s![r, ..]).map_err(h)?),
            None => None,
        };
        let mut out = Vec::with_capacity(count * (LOCAL_WIDTH + self.extra_width()));
        for i in 0..count {
            out.push(ids[i] as f64);
            out.push(typ[i] as f64);
            out.extend((0..3).map(|j| x[[i, j]]));
            out.extend((0..3).map(|j| v[[i, j]]));
            out.extend((0..3).map(|j| im[[i, j]] as f64));
            out.extend((0..3).map(|j| xh[[i, j]]));
            out.extend((0..3).map(|j| f[[i, j]]));
            if let Some(c) = &cols {
                out.extend(c.row(i).iter().copied());
            }
        }
        Ok(out)
    }
}
