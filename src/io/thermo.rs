//! Thermodynamic output: the CSV file and the log table.
//!
//! Columns: step,time,temperature,pe,ke,etotal,pressure,pxx,pyy,pzz,pxy,pxz,
//! pyz,volume,density,lx,ly,lz — energies are totals in eV, pressures in bar,
//! time in ps, density in g/cm³. The CSV is written to a temporary file and
//! renamed into place when the run ends, so an earlier thermo file survives a
//! failed run. New observables are new fields of [`Thermo`] and new columns.

use super::AtomicFile;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, Default)]
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
}

pub const COLUMNS: &str = "step,time,temperature,pe,ke,etotal,pressure,pxx,pyy,pzz,pxy,pxz,pyz,volume,density,lx,ly,lz";

impl Thermo {
    pub fn values(&self) -> Vec<f64> {
        let mut v = vec![self.time, self.temperature, self.pe, self.ke, self.etotal, self.pressure];
        v.extend_from_slice(&self.ptensor);
        v.extend_from_slice(&[self.volume, self.density]);
        v.extend_from_slice(&self.lengths);
        v
    }
    pub fn csv_line(&self) -> String {
        let mut s = self.step.to_string();
        for v in self.values() {
            s.push(',');
            s.push_str(&format!("{:?}", v));
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

/// The thermo CSV of a run.
pub struct ThermoFile {
    file: AtomicFile,
}

impl ThermoFile {
    pub fn create(path: &Path) -> Result<ThermoFile> {
        let mut file = AtomicFile::create(path)?;
        writeln!(file.w, "{}", COLUMNS).map_err(|e| Error::io(path, e))?;
        Ok(ThermoFile { file })
    }
    pub fn write(&mut self, t: &Thermo) -> Result<()> {
        writeln!(self.file.w, "{}", t.csv_line()).map_err(|e| Error::io(self.file.path(), e))?;
        Ok(())
    }
    pub fn commit(self) -> Result<()> {
        self.file.commit()
    }
}
