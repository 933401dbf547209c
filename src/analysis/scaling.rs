//! Strong and weak scaling: read the CSV that `slurm/scaling.sbatch` writes
//! (`mode,ranks,threads,atoms,steps,seconds,atom_steps_per_s`), or that
//! `scripts/scaling_vs_lammps.sh` writes with a `code` column (each code's
//! rows are then a series of their own, "strong glassmd", "strong
//! lammps-opt", ...), compute
//! speed-up and parallel efficiency against the smallest core count of each
//! mode, and draw them as an SVG with plotters.
//!
//! Strong scaling (fixed atoms): efficiency = (S_p / S_1)·(c_1 / c_p) with S
//! the atom-steps per second on c cores. Weak scaling (atoms ∝ cores): the
//! same formula, since atom-steps/s already normalises by the atom count.
//! A new panel is one more chart area in [`plot`].

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// One measured run.
#[derive(Clone, Debug)]
pub struct Point {
    pub mode: String,
    pub cores: usize,
    pub atoms: u64,
    pub speed: f64,
}

pub fn read(path: &Path) -> Result<Vec<Point>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).ok_or_else(|| Error::input(path, format!("no column '{}' (have {})", n, head.join(","))));
    let (cm, cr, ct, ca, cs) = (col("mode")?, col("ranks")?, col("threads")?, col("atoms")?, col("atom_steps_per_s")?);
    let code = head.iter().position(|h| *h == "code");
    let mut pts = Vec::new();
    for (k, l) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split(',').collect();
        let bad = || Error::input(path, format!("line {}: cannot read '{}'", k + 2, l));
        let num = |c: usize| f.get(c).and_then(|v| v.trim().parse::<f64>().ok()).ok_or_else(bad);
        let mut mode = f.get(cm).ok_or_else(bad)?.to_string();
        if let Some(c) = code {
            mode = format!("{} {}", mode, f.get(c).ok_or_else(bad)?);
        }
        pts.push(Point { mode, cores: (num(cr)? * num(ct)?) as usize, atoms: num(ca)? as u64, speed: num(cs)? });
    }
    if pts.is_empty() {
        return Err(Error::input(path, "no rows"));
    }
    Ok(pts)
}

/// (cores, speed-up, efficiency) per mode, sorted by cores.
pub fn efficiency(pts: &[Point]) -> Vec<(String, Vec<(usize, f64, f64)>)> {
    let mut modes: Vec<String> = pts.iter().map(|p| p.mode.clone()).collect();
    modes.dedup();
    modes.sort();
    modes.dedup();
    modes
        .into_iter()
        .map(|m| {
            let mut v: Vec<&Point> = pts.iter().filter(|p| p.mode == m).collect();
            v.sort_by_key(|p| p.cores);
            let base = v[0];
            let rows = v.iter().map(|p| (p.cores, p.speed / base.speed, p.speed / base.speed * base.cores as f64 / p.cores as f64)).collect();
            (m, rows)
        })
        .collect()
}

/// Write the SVG: atom-steps/s against cores (log-log, with the ideal
/// line) and parallel efficiency against cores.
pub fn plot(pts: &[Point], out: &Path) -> Result<()> {
    // Drawn into memory, then written atomically (an existing plot is
    // replaced only by a complete one).
    let mut text = String::new();
    render(pts, out, &mut text)?;
    crate::io::write_atomic(out, |w| w.write_all(text.as_bytes()))
}

fn render(pts: &[Point], out: &Path, text: &mut String) -> Result<()> {
    let eff = efficiency(pts);
    let maxc = pts.iter().map(|p| p.cores).max().unwrap_or(1).max(2) as f64;
    let (smin, smax) = pts.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| (a.min(p.speed), b.max(p.speed)));
    let err = |e: String| Error::runtime(format!("{}: plotting: {}", out.display(), e));
    let root = SVGBackend::with_string(text, (1100, 450)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (left, right) = root.split_horizontally(550);
    let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    {
        let mut c = ChartBuilder::on(&left)
            .caption("speed", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((1.0..maxc * 1.2).log_scale(), (smin * 0.5..smax * 2.0).log_scale())
            .map_err(|e| err(e.to_string()))?;
        c.configure_mesh().x_desc("cores (ranks x threads)").y_desc("atom-steps/s").draw().map_err(|e| err(e.to_string()))?;
        for (k, (m, _)) in eff.iter().enumerate() {
            let mut v: Vec<&Point> = pts.iter().filter(|p| &p.mode == m).collect();
            v.sort_by_key(|p| p.cores);
            let col = colors[k % colors.len()];
            let line: Vec<(f64, f64)> = v.iter().map(|p| (p.cores as f64, p.speed)).collect();
            c.draw_series(LineSeries::new(line.clone(), col.stroke_width(2))).map_err(|e| err(e.to_string()))?.label(m.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col));
            c.draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 4, col.filled()))).map_err(|e| err(e.to_string()))?;
            let (c0, s0) = (v[0].cores as f64, v[0].speed);
            c.draw_series(LineSeries::new(vec![(c0, s0), (maxc, s0 * maxc / c0)], col.mix(0.4))).map_err(|e| err(e.to_string()))?;
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|e| err(e.to_string()))?;
    }
    {
        let mut c = ChartBuilder::on(&right)
            .caption("parallel efficiency", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((1.0..maxc * 1.2).log_scale(), 0.0..1.2)
            .map_err(|e| err(e.to_string()))?;
        c.configure_mesh().x_desc("cores (ranks x threads)").y_desc("efficiency").draw().map_err(|e| err(e.to_string()))?;
        for (k, (m, rows)) in eff.iter().enumerate() {
            let col = colors[k % colors.len()];
            let line: Vec<(f64, f64)> = rows.iter().map(|r| (r.0 as f64, r.2)).collect();
            c.draw_series(LineSeries::new(line.clone(), col.stroke_width(2))).map_err(|e| err(e.to_string()))?.label(m.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col));
            c.draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 4, col.filled()))).map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn efficiency_is_relative_to_the_fewest_cores() {
        let p = |mode: &str, cores, speed| Point { mode: mode.into(), cores, atoms: 1000, speed };
        let pts = vec![p("strong", 1, 100.0), p("strong", 2, 180.0), p("strong", 4, 300.0), p("weak", 1, 100.0), p("weak", 4, 360.0)];
        let e = efficiency(&pts);
        assert_eq!(e[0].0, "strong");
        assert_eq!(e[0].1[1], (2, 1.8, 0.9));
        assert_eq!(e[0].1[2], (4, 3.0, 0.75));
        assert_eq!(e[1].1[1], (4, 3.6, 0.9));
    }

    #[test]
    fn a_code_column_makes_one_series_per_code() {
        let dir = std::env::temp_dir().join(format!("glassmd-scaling-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("s.csv");
        std::fs::write(&csv, "mode,code,ranks,threads,atoms,steps,seconds,atom_steps_per_s\nstrong,glassmd,1,1,1000,10,1.0,1.0e4\nstrong,lammps-opt,1,1,1000,10,2.0,5.0e3\nstrong,glassmd,2,1,1000,10,0.55,1.8e4\n").unwrap();
        let pts = read(&csv).unwrap();
        let e = efficiency(&pts);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].0, "strong glassmd");
        assert_eq!(e[0].1[1], (2, 1.8, 0.9));
        assert_eq!(e[1].0, "strong lammps-opt");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
