//! Thermodynamic output: the CSV file and the log table.
//!
//! Columns: step,time,temperature,pe,ke,etotal,pressure,pxx,pyy,pzz,pxy,pxz,
//! pyz,volume,density,lx,ly,lz,xy,xz,yz,stage,target_temperature — energies are
//! totals in eV, pressures in bar, time in ps, density in g/cm³; `stage` is
//! the 1-based deck stage that wrote the row (0: the initial row) and
//! `target_temperature` the thermostat's target at that step (NaN where the
//! stage has none), which `glassmd tg` fits like the deck's `tg` stage.
//! The deck's `thermo.extra` columns follow (`temp_<group>`, fix values). The CSV grows as `FILE.part` and is renamed
//! into place when the run ends, so an earlier thermo file survives a failed
//! run and a restarted one continues it. New observables are new fields of [`Thermo`] and new columns.

use super::PartFile;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Debug, Default)]
pub struct Thermo {
    pub step: u64,
    pub time: f64,
    pub temperature: f64,
    pub pe: f64,
    pub ke: f64,
    pub etotal: f64,
    pub pressure: f64,
    /// xx, yy, zz, xy, xz, yz.
    pub ptensor: [f64; 6],
    pub volume: f64,
    pub density: f64,
    pub lengths: [f64; 3],
    /// Tilt factors xy, xz, yz of a triclinic box (LAMMPS `xy xz yz`; zero
    /// for an orthogonal box).
    pub tilt: [f64; 3],
    /// 1-based stage of the deck that wrote the row (0: before the first).
    pub stage: usize,
    /// The thermostat's target temperature (NaN: none).
    pub target_temperature: f64,
    /// The deck's `thermo.extra` columns, in its order.
    pub extra: Vec<f64>,
}

pub const COLUMNS: &str = "step,time,temperature,pe,ke,etotal,pressure,pxx,pyy,pzz,pxy,pxz,pyz,volume,density,lx,ly,lz,xy,xz,yz,stage,target_temperature";

impl Thermo {
    pub fn values(&self) -> Vec<f64> {
        let mut v = vec![self.time, self.temperature, self.pe, self.ke, self.etotal, self.pressure];
        v.extend_from_slice(&self.ptensor);
        v.extend_from_slice(&[self.volume, self.density]);
        v.extend_from_slice(&self.lengths);
        v.extend_from_slice(&self.tilt);
        v.extend_from_slice(&[self.stage as f64, self.target_temperature]);
        v
    }
    pub fn csv_line(&self) -> String {
        let mut s = self.step.to_string();
        let v = self.values();
        let n = v.len();
        for x in &v[..n - 2] {
            s.push(',');
            s.push_str(&format!("{:?}", x));
        }
        s.push_str(&format!(",{},{:?}", self.stage, self.target_temperature));
        for x in &self.extra {
            s.push_str(&format!(",{:?}", x));
        }
        s
    }
    pub fn log_header() -> String {
        format!(
            "{:>10} {:>10} {:>12} {:>18} {:>16} {:>18} {:>14} {:>14}",
            "Step", "Time", "Temp", "PotEng", "KinEng", "TotEng", "Press", "Volume"
        )
    }
    pub fn log_line(&self) -> String {
        format!(
            "{:>10} {:>10.4} {:>12.4} {:>18.8} {:>16.8} {:>18.8} {:>14.4} {:>14.4}",
            self.step, self.time, self.temperature, self.pe, self.ke, self.etotal, self.pressure, self.volume
        )
    }
}

/// The thermo CSV of a run, a [`PartFile`]: a restarted run continues it
/// from the checkpoint's mark.
pub struct ThermoFile {
    file: PartFile,
}

impl ThermoFile {
    /// A new CSV with the standard columns and then `extra`.
    pub fn create(path: &Path, extra: &[String]) -> Result<ThermoFile> {
        let mut file = PartFile::open(path, None)?;
        let head = std::iter::once(COLUMNS.to_string()).chain(extra.iter().cloned()).collect::<Vec<_>>().join(",");
        writeln!(file.w, "{}", head).map_err(|e| Error::io(file.path(), e))?;
        Ok(ThermoFile { file })
    }
    /// Reopen the part file of an interrupted run at `bytes` (its [`ThermoFile::mark`]).
    pub fn resume(path: &Path, bytes: u64) -> Result<ThermoFile> {
        Ok(ThermoFile { file: PartFile::open(path, Some(bytes))? })
    }
    /// Append a row and flush it, so `tail -f` shows it at once and a
    /// killed run loses no row (one write per thermo row).
    pub fn write(&mut self, t: &Thermo) -> Result<()> {
        writeln!(self.file.w, "{}", t.csv_line()).and_then(|_| self.file.w.flush()).map_err(|e| Error::io(self.file.path(), e))
    }
    /// Flush to disk and return the length, where a restart continues.
    pub fn mark(&mut self) -> Result<u64> {
        self.file.mark()
    }
    pub fn commit(self) -> Result<()> {
        self.file.commit()
    }
}
