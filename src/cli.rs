//! Command line (clap). This is where MPI is started and the rayon pool is
//! sized; everything below receives a `&dyn Comm` and a thread count.
//! A new subcommand is a new `Cmd` variant and a driver in `run.rs`.

use crate::domain::comm::{Comm, SerialComm};
use crate::error::{Error, Result};
use crate::system::Boundary;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(name = "glassmd", version, about = "Molecular dynamics for metallic glasses (LAMMPS-exact EAM, MPI + threads)")]
pub struct Cli {
    /// Worker threads per rank for `run` and `forces` (default:
    /// RAYON_NUM_THREADS, else 1); also accepted after those subcommands.
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// CSV curves to overlay: files, the SVG, columns (name prefixes,
/// comma-separated; default all of the kind), legend names.
#[derive(clap::Args, Debug)]
pub struct CurveArgs {
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_name = "A,B,...")]
    columns: Option<String>,
    #[arg(long, value_name = "A,B,...")]
    labels: Option<String>,
}

/// Which potential `glassmd potential` writes.
#[derive(Subcommand, Debug)]
pub enum PotentialCmd {
    /// Zhou, Johnson & Wadley (PRB 69, 144113 (2004)) EAM alloy potential
    /// for any of its 16 elements, tabulated as LAMMPS's
    /// tools/eam_database does (setfl, pair_style eam/alloy).
    Zhou2004 {
        /// Element symbols, in the file's order (Cu Ag Au Ni Pd Pt Al Pb Fe
        /// Mo Ta W Mg Co Ti Zr).
        #[arg(required = true, num_args = 1..)]
        elements: Vec<String>,
        /// Output file (default: the symbols joined, e.g. ZrCuAl.eam.alloy).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing output file.
        #[arg(long)]
        overwrite: bool,
    },
}

/// What `glassmd plot` draws.
#[derive(Subcommand, Debug)]
pub enum PlotCmd {
    /// Overlay stress–strain curves (stress_strain.csv of deform and cyclic
    /// stages) as SVG: as-quenched against rejuvenated, or many samples and
    /// their mean (--mean). Prints each curve's peak stress.
    StressStrain {
        /// stress_strain.csv files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The SVG file to write.
        #[arg(long)]
        out: PathBuf,
        /// Stress column to plot (sxx ... syz); default: the loaded one.
        #[arg(long, value_name = "COLUMN")]
        stress: Option<String>,
        /// Legend names, comma-separated, one per file (default: the paths).
        #[arg(long, value_name = "A,B,...")]
        labels: Option<String>,
        /// Also draw the mean curve of all files (monotonic loading).
        #[arg(long)]
        mean: bool,
        /// Plot against true strain ln(1 + ε).
        #[arg(long)]
        true_strain: bool,
    },
    /// Overlay load–depth curves (indent.csv of indentation stages) as
    /// SVG. Prints each curve's maximum load and first pop-in.
    LoadDepth {
        /// indent.csv files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The SVG file to write.
        #[arg(long)]
        out: PathBuf,
        /// Legend names, comma-separated, one per file (default: the paths).
        #[arg(long, value_name = "A,B,...")]
        labels: Option<String>,
        /// Load in µN instead of nN.
        #[arg(long)]
        micro: bool,
    },
    /// g(r) curves of `glassmd analyze --compute rdf` (rdf.csv) as SVG.
    Rdf(CurveArgs),
    /// S(q) curves (the sq output of glassmd analyze) as SVG.
    Sq(CurveArgs),
    /// MSD (default) or F_s(q,t) (--fs) of dynamics.csv against log10 time, as SVG.
    Dynamics {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Draw F_s(q,t) instead of the MSD.
        #[arg(long)]
        fs: bool,
        #[arg(long, value_name = "A,B,...")]
        labels: Option<String>,
    },
    /// Histogram of the most common Voronoi indices from saved JSON
    /// summaries of `glassmd analyze --compute voronoi`.
    Voronoi {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Centre species (all, or an element name).
        #[arg(long, default_value = "all")]
        species: String,
        /// How many indices.
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long, value_name = "A,B,...")]
        labels: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a TOML deck.
    Run {
        /// The deck; paths inside it are relative to its folder.
        deck: PathBuf,
        /// Worker threads per rank (default: RAYON_NUM_THREADS, else 1).
        #[arg(long)]
        threads: Option<usize>,
        /// With a [samples] section: run only sample I (0-based) into
        /// sample_II/; without a value, I is $SLURM_ARRAY_TASK_ID (a job
        /// array). Then run `glassmd summarize DECK` once all are done.
        #[arg(long, value_name = "I", num_args = 0..=1, default_missing_value = "task")]
        sample: Option<String>,
        /// Continue the deck from a checkpoint written by an earlier run of it.
        #[arg(long, value_name = "CKPT")]
        restart: Option<PathBuf>,
        /// Replace output files that already exist (a fresh run refuses to
        /// start otherwise).
        #[arg(long)]
        overwrite: bool,
        /// Write a checkpoint and stop (exit status 75) when the run reaches
        /// this MD step; continue later with --restart.
        #[arg(long, value_name = "STEP")]
        stop_at_step: Option<u64>,
        /// Continue from the deck's checkpoint if it exists; else start
        /// afresh (replacing an unfinished run's outputs); a run already
        /// complete exits 0 at once. What a requeued batch job wants.
        #[arg(long)]
        resume: bool,
        /// Deck variable: every ${NAME} in the deck becomes VALUE.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Folder for the outputs (default: the deck's folder).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// A parameter grid (glassmd grid): take the deck variables from row
        /// --task of it and write into DIR/task_IIII (a job-array task).
        #[arg(long, value_name = "CSV")]
        grid: Option<PathBuf>,
        /// The grid row; default $SLURM_ARRAY_TASK_ID.
        #[arg(long, value_name = "I", requires = "grid")]
        task: Option<u64>,
    },
    /// Mean ± standard error of the results of a deck's samples
    /// (sample_*/results.json → samples.json).
    Summarize {
        /// The deck with a [samples] section.
        deck: PathBuf,
        /// Deck variable, as given to `run`.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// The folder the samples were written to (run --dir).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// A parameter grid for a job array: the product of NAME=V1,V2 or
    /// NAME=A..B as CSV (task,NAME,...) on stdout.
    Grid {
        /// One axis of the grid each: NAME=V1,V2,... or NAME=A..B (integers).
        #[arg(required = true, value_name = "NAME=VALUES")]
        specs: Vec<String>,
    },
    /// Plot a scaling study's CSV (slurm/scaling.sbatch): atom-steps/s and
    /// parallel efficiency against cores, as SVG; prints the table.
    PlotScaling {
        /// The CSV written by slurm/scaling.sbatch.
        csv: PathBuf,
        /// The SVG file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Plots: `plot stress-strain FILE... --out ss.svg`.
    Plot {
        #[command(subcommand)]
        what: PlotCmd,
    },
    /// Gather results.json (and vars.json) of every run folder under DIR
    /// into one CSV.
    Collect {
        /// The folder holding the run folders (run --dir of a grid).
        dir: PathBuf,
        /// Output CSV (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Convert an H5MD trajectory to a LAMMPS dump or extended XYZ (for
    /// OVITO, which has no H5MD reader).
    Convert {
        /// The H5MD file (a snapshot written by a run).
        input: PathBuf,
        /// dump (LAMMPS dump custom) or xyz (extended XYZ).
        #[arg(long, value_name = "FORMAT")]
        to: String,
        /// Frames: all (default), N, A:B, A:B:STEP (Python slices, negative
        /// from the end) or a comma list of these.
        #[arg(long, value_name = "SPEC")]
        frames: Option<String>,
        /// Output file (default: the input with .lammpstrj or .xyz).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long)]
        overwrite: bool,
    },
    /// Structure and dynamics of a configuration or trajectory (LAMMPS data
    /// file, dump or H5MD): Voronoi cells and icosahedral clusters,
    /// coordination, Q6/W6, local strain and D2min, g(r) and S(q), MSD and
    /// F_s(q,t). Prints a JSON summary as the last line.
    Analyze {
        /// The configuration (data file, dump, H5MD) or, for msd and fs, an H5MD trajectory.
        input: PathBuf,
        /// Analyses, comma-separated: voronoi, cn, w6, strain, d2min, rdf, sq, msd, fs.
        #[arg(long, num_args = 1.., required = true)]
        compute: Vec<String>,
        /// Element of each atom type, in type order (names in the summary and dynamics.csv).
        #[arg(long, num_args = 1..)]
        elements: Option<Vec<String>>,
        /// Neighbor cutoff, Å: cn (else the first minimum of each partial g(r)), w6 bonds, strain and d2min.
        #[arg(long, allow_hyphen_values = true)]
        cutoff: Option<f64>,
        /// Reference configuration for strain and d2min (same atom ids).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Per-atom results as a LAMMPS custom dump sorted by id.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Voronoi face neighbors as CSV: id,neighbor,area (faces kept by the thresholds; walls left out).
        #[arg(long)]
        neighbors: Option<PathBuf>,
        /// CSV output: rdf.csv (r,g_total,g_1_1,g_1_2,...), S(q), or dynamics (time, msd_*, fs_*).
        #[arg(long)]
        out: Option<PathBuf>,
        /// S(q) CSV when rdf also writes --out.
        #[arg(long)]
        sq_out: Option<PathBuf>,
        /// g(r) range, Å.
        #[arg(long, default_value_t = 10.0, allow_hyphen_values = true)]
        rmax: f64,
        /// g(r) bins.
        #[arg(long, default_value_t = 200)]
        bins: usize,
        /// Wave number of F_s(q,t), 1/Å (default: the first peak of S(q) of the first frame).
        #[arg(long, allow_hyphen_values = true)]
        q: Option<f64>,
        /// Boundary per axis, e.g. p,p,f (default: the file's; data files: p,p,p).
        #[arg(long)]
        boundary: Option<String>,
        /// Frame of a dump or H5MD file (negative from the end; default the last).
        #[arg(long, allow_hyphen_values = true)]
        frame: Option<i64>,
        /// Voronoi: ignore faces with at most this area, Å² (OVITO face_threshold).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        face_threshold: f64,
        /// Voronoi: ignore faces with at most this fraction of the cell's surface (OVITO relative_face_threshold).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        relative_face_threshold: f64,
        /// Voronoi: edges no longer than this, Å, do not count (OVITO edge_threshold).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        edge_threshold: f64,
        /// Voronoi index columns in the dump up to n<N> (default 6: n3..n6).
        #[arg(long, default_value_t = 6)]
        max_face_order: usize,
        /// Bonds of q6/w6: cutoff (default with --cutoff), nearest:N, voronoi (default otherwise), voronoi-weighted.
        #[arg(long)]
        bonds: Option<String>,
        /// More l for the bond-order columns after q6 w6 (e.g. 4,8: q4 w4 q8 w8).
        #[arg(long, value_delimiter = ',')]
        degrees: Vec<usize>,
        /// MSD/F_s time origins every N frames (0: the first frame only, as LAMMPS compute msd).
        #[arg(long, default_value_t = 1)]
        origin_stride: usize,
        /// Replace output files that exist.
        #[arg(long)]
        overwrite: bool,
        /// Worker threads per rank (default: RAYON_NUM_THREADS, else 1).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Forces, per-atom energies and stresses of one configuration (LAMMPS `run 0`).
    Forces {
        /// LAMMPS data file (atom_style atomic).
        #[arg(long)]
        data: PathBuf,
        /// EAM potential file.
        #[arg(long)]
        potential: PathBuf,
        /// eam, eam/alloy or eam/fs.
        #[arg(long)]
        style: String,
        /// Element of each atom type, in type order (setfl and fs files).
        #[arg(long, num_args = 1..)]
        elements: Option<Vec<String>>,
        /// Boundary per axis, e.g. p,p,p or s,p,p.
        #[arg(long, default_value = "p,p,p")]
        boundary: String,
        /// Write a LAMMPS custom dump: id type fx fy fz pe sxx syy szz sxy sxz syz.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Worker threads per rank (default: RAYON_NUM_THREADS, else 1).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Run a study: a grid of a deck's variables times its samples (locally,
    /// or as a Slurm job array with --slurm), resuming what is unfinished,
    /// then the mean ± standard error per point (study.csv, study.json)
    /// and the map (map.svg).
    Study {
        /// The study file (TOML: deck, samples, [[axis]], [[derived]], [report], [map]).
        study: PathBuf,
        /// Folder for the runs and the collected results (default: beside
        /// the study file, named after it).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Only collect the finished runs and draw the map.
        #[arg(long)]
        collect: bool,
        /// Submit the tasks as a Slurm job array (slurm/glassmd.sbatch) and
        /// a collection job after it, instead of running them here.
        #[arg(long)]
        slurm: bool,
        /// The batch script for --slurm.
        #[arg(long, value_name = "FILE", default_value = "slurm/glassmd.sbatch")]
        script: PathBuf,
        /// An sbatch option for the array (repeat: --sbatch=--time=2:00:00 --sbatch=--ntasks=4).
        #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
        sbatch: Vec<String>,
        /// Worker threads of each local run.
        #[arg(long)]
        threads: Option<usize>,
        /// Local runs at a time (each with --threads threads): the
        /// preludes, then the grid's tasks, in order.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        jobs: u64,
    },
    /// Write an EAM potential file generated from published parameters.
    Potential {
        #[command(subcommand)]
        what: PotentialCmd,
    },
    /// Glass transition temperature by a two-line fit of a thermo CSV column
    /// against the target temperature of one quench stage: the same fit as
    /// the deck's `tg` stage.
    Tg {
        /// Thermo CSV written during a quench.
        csv: PathBuf,
        /// Column to fit (volume, pe, density, ...).
        #[arg(long, default_value = "volume")]
        column: String,
        /// The deck stage (1-based, the CSV's `stage` column) whose rows are
        /// fitted; default: the last stage whose target temperature ramps.
        #[arg(long, value_name = "N")]
        stage: Option<usize>,
        /// Glass window T0,T1 in K (with --liquid); default: best split.
        #[arg(long)]
        glass: Option<String>,
        /// Liquid window T0,T1 in K.
        #[arg(long)]
        liquid: Option<String>,
        /// Use only thermo rows with FROM <= step <= TO.
        #[arg(long)]
        steps: Option<String>,
        /// Fewest points per line when searching the split.
        #[arg(long, default_value_t = 5)]
        min_points: usize,
        /// Write the fit (Tg, slopes, windows) as JSON.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_window(s: &Option<String>, what: &str) -> Result<Option<[f64; 2]>> {
    let Some(s) = s else { return Ok(None) };
    let v: Vec<f64> = s.split(',').filter_map(|t| t.trim().parse().ok()).collect();
    if v.len() != 2 || !(v[0] < v[1]) {
        return Err(Error::input("command line", format!("--{} '{}': expected T0,T1 with T0 < T1", what, s)));
    }
    Ok(Some([v[0], v[1]]))
}

/// `glassmd tg`: fit, print, optionally write JSON. The rows are those of
/// one stage and the abscissa its target temperature, as in the deck's `tg`
/// stage, so both give the same Tg for the same quench.
#[allow(clippy::too_many_arguments)]
fn tg_command(
    csv: &std::path::Path,
    column: &str,
    stage: Option<usize>,
    glass: &Option<String>,
    liquid: &Option<String>,
    steps: &Option<String>,
    min_points: usize,
    out: &Option<PathBuf>,
) -> Result<()> {
    use crate::analysis::tg;
    let text = std::fs::read_to_string(csv).map_err(|e| Error::io(csv, e))?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).ok_or_else(|| Error::input(csv, format!("no column '{}' (have {})", name, head.join(", "))));
    let (ct, cy, cs) = (col("temperature")?, col(column)?, col("step")?);
    let (ctarget, cstage) = (head.iter().position(|h| *h == "target_temperature"), head.iter().position(|h| *h == "stage"));
    let window = parse_window(steps, "steps")?.unwrap_or([f64::NEG_INFINITY, f64::INFINITY]);
    let windows = match (parse_window(glass, "glass")?, parse_window(liquid, "liquid")?) {
        (Some(g), Some(l)) => Some((g, l)),
        (None, None) => None,
        _ => return Err(Error::input("command line", "give both --glass and --liquid, or neither")),
    };
    // (stage, target, temperature, y) of the rows in the step window.
    let mut rows: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (k, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let num = |c: usize| f.get(c).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| Error::input(csv, format!("line {}: cannot read column {} ({}) as a number", k + 2, c + 1, head.get(c).unwrap_or(&"?"))));
        let step = num(cs)?;
        if step < window[0] || step > window[1] {
            continue;
        }
        let st = cstage.map(num).transpose()?.unwrap_or(f64::NAN);
        let target = ctarget.map(num).transpose()?.unwrap_or(f64::NAN);
        rows.push((st, target, num(ct)?, num(cy)?));
    }
    let (t, y): (Vec<f64>, Vec<f64>) = if ctarget.is_some() && cstage.is_some() {
        let ramps = |n: f64| {
            let t: Vec<f64> = rows.iter().filter(|r| r.0 == n && r.1.is_finite()).map(|r| r.1).collect();
            tg::check_ramp(&t).is_ok()
        };
        let chosen = match stage {
            Some(n) => Some(n as f64),
            None if steps.is_none() => {
                let mut stages: Vec<f64> = rows.iter().map(|r| r.0).collect();
                stages.dedup();
                let last = stages.into_iter().rev().find(|&n| ramps(n));
                if last.is_none() {
                    return Err(Error::input(csv, "no stage ramps its target temperature; choose the rows with --stage N or --steps FROM,TO"));
                }
                last
            }
            None => None,
        };
        let sel: Vec<&(f64, f64, f64, f64)> = rows.iter().filter(|r| chosen.is_none_or(|n| r.0 == n) && r.1.is_finite()).collect();
        if sel.is_empty() {
            let what = chosen.map(|n| format!("stage {}", n)).unwrap_or_else(|| "the selected steps".into());
            return Err(Error::input(csv, format!("{} has no rows with a target temperature", what)));
        }
        let mut stages: Vec<f64> = sel.iter().map(|r| r.0).collect();
        stages.dedup();
        if stages.len() > 1 {
            let list: Vec<String> = stages.iter().map(|s| s.to_string()).collect();
            return Err(Error::input(csv, format!("the rows span stages {}: fit one quench with --stage N", list.join(", "))));
        }
        let t: Vec<f64> = sel.iter().map(|r| r.1).collect();
        tg::check_ramp(&t).map_err(|m| Error::input(csv, format!("{}; choose one quench with --stage N or --steps FROM,TO", m)))?;
        if let Some(n) = chosen {
            log::info!("fitting the {} rows of stage {} against their target temperature", t.len(), n);
        }
        (t, sel.iter().map(|r| r.3).collect())
    } else {
        if stage.is_some() {
            return Err(Error::input(csv, "--stage needs the CSV's stage column (written by glassmd 0.1 since the tg fix); use --steps"));
        }
        log::warn!("{} has no target_temperature column: fitting the instantaneous temperature, which is noisier than the deck's tg stage", csv.display());
        rows.iter().map(|r| (r.2, r.3)).unzip()
    };
    let fit = tg::fit(&t, &y, windows, min_points).map_err(|m| Error::input(csv, m))?;
    println!(
        "Tg = {:.1} K from {} vs target temperature: glass fit {:.1}-{:.1} K (slope {:.6e}), liquid fit {:.1}-{:.1} K (slope {:.6e})",
        fit.tg, column, fit.glass.window[0], fit.glass.window[1], fit.glass.slope, fit.liquid.window[0], fit.liquid.window[1], fit.liquid.slope
    );
    if let Some(out) = out {
        let json = serde_json::json!({ "column": column, "tg": fit.tg, "glass": fit.glass, "liquid": fit.liquid });
        crate::io::write_atomic(out, |w| writeln!(w, "{}", serde_json::to_string_pretty(&json).unwrap_or_default()))?;
    }
    Ok(())
}

/// `NAME=VALUE` pairs of --var.
fn parse_vars(v: &[String]) -> Result<Vec<(String, String)>> {
    v.iter()
        .map(|s| match s.split_once('=') {
            Some((k, val)) if !k.is_empty() => Ok((k.to_string(), val.to_string())),
            _ => Err(Error::input("command line", format!("--var '{}': expected NAME=VALUE", s))),
        })
        .collect()
}

fn parse_boundary(s: &str) -> Result<[Boundary; 3]> {
    let parts: Vec<&str> = s.split([',', ' ']).filter(|p| !p.is_empty()).collect();
    let bad = || Error::input("command line", format!("--boundary '{}': expected three of p, s, f such as p,p,p", s));
    if parts.len() != 3 {
        return Err(bad());
    }
    let mut b = [Boundary::Periodic; 3];
    for d in 0..3 {
        b[d] = Boundary::parse(parts[d]).ok_or_else(bad)?;
    }
    Ok(b)
}

/// This job-array task's index ($SLURM_ARRAY_TASK_ID), if any.
fn array_task() -> Option<u64> {
    std::env::var("SLURM_ARRAY_TASK_ID").ok().and_then(|t| t.parse().ok())
}

/// `glassmd convert`.
fn convert_command(input: &std::path::Path, to: &str, frames: Option<&str>, out: Option<&std::path::Path>, overwrite: bool) -> Result<()> {
    use crate::io::frames::TextFormat;
    let (format, ext) = match to {
        "dump" => (TextFormat::Dump, "lammpstrj"),
        "xyz" => (TextFormat::ExtXyz, "xyz"),
        other => return Err(Error::input("command line", format!("--to '{}': expected dump or xyz", other))),
    };
    let out = out.map(|p| p.to_path_buf()).unwrap_or_else(|| input.with_extension(ext));
    let n = crate::io::convert::convert(input, &out, format, frames, overwrite)?;
    eprintln!("{} frame(s) of {} -> {}", n, input.display(), out.display());
    Ok(())
}

/// Refuse to run as one of several copies: when srun's MPI plugin does not
/// match the MPI library, each task starts as a singleton of one rank and
/// all of them would write the same files. Slurm says how many tasks the
/// step has; a world of one rank inside a step of several is that mistake.
fn check_launch(comm: &dyn Comm) -> Result<()> {
    let env_n = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
    let step_tasks = env_n("SLURM_STEP_NUM_TASKS").filter(|_| std::env::var("SLURM_STEP_ID").is_ok_and(|s| s != "batch" && s != "extern"));
    match step_tasks {
        Some(n) if n > 1 && comm.size() == 1 => Err(Error::input(
            "launch",
            format!(
                "Slurm started {} tasks (SLURM_STEP_NUM_TASKS) but MPI sees 1 rank: srun's MPI plugin does not match this MPI library, and every task would run the whole deck into the same files; use srun --mpi=pmix (or the plugin `srun --mpi=list` offers that your MPI supports, e.g. GLASSMD_SRUN_MPI=pmi2 in slurm/glassmd.sbatch) or mpirun",
                n
            ),
        )),
        _ => Ok(()),
    }
}

/// Warn when a rank has fewer CPUs than threads (threads would share CPUs:
/// under Slurm 22.05+, srun does not pass --cpus-per-task on unless
/// SRUN_CPUS_PER_TASK is set).
fn check_cpus(comm: &dyn Comm, nthreads: usize) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(nthreads);
    if cpus < nthreads {
        log::warn!("rank {}: {} threads but only {} CPU(s) available: threads share CPUs (under Slurm, export SRUN_CPUS_PER_TASK=$SLURM_CPUS_PER_TASK)", comm.rank(), nthreads, cpus);
    }
}

fn start_comm() -> Box<dyn Comm> {
    #[cfg(feature = "mpi")]
    {
        if let Some(m) = crate::domain::mpi_comm::MpiComm::init() {
            return Box::new(m);
        }
    }
    Box::new(SerialComm)
}

/// A panic is a bug in glassmd, never the user's input: say so in one
/// line (with where), and exit 101 so tests and job scripts see it.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let what = info.payload().downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| info.payload().downcast_ref::<String>().cloned()).unwrap_or_default();
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("glassmd: internal error (a bug, please report it): panicked{}: {}", at, what.replace('\n', " "));
    }));
}

/// Entry point; returns the process exit code.
pub fn main() -> i32 {
    install_panic_hook();
    let cli = Cli::parse();
    if matches!(cli.cmd, Cmd::Run { .. }) {
        // Before MPI starts: a requeue warning may come at once.
        crate::run::catch_signals();
    }
    let comm = start_comm();
    crate::console::init_logging(comm.is_root());
    let threads = match &cli.cmd {
        Cmd::Run { threads, .. } | Cmd::Forces { threads, .. } | Cmd::Analyze { threads, .. } | Cmd::Study { threads, .. } => threads.or(cli.threads),
        _ => cli.threads,
    };
    let nthreads = threads.or_else(|| std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok())).unwrap_or(1).max(1);
    if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(nthreads).build_global() {
        log::warn!("could not size the thread pool: {}", e);
    }
    let result = match &cli.cmd {
        Cmd::Study { study, dir, collect, slurm, script, sbatch, jobs, .. } => {
            if comm.is_root() {
                study_command(study, dir.as_deref(), *collect, *slurm, script, sbatch, nthreads, *jobs as usize)
            } else {
                Ok(())
            }
        }
        Cmd::Potential { what: PotentialCmd::Zhou2004 { elements, out, overwrite } } => {
            if comm.is_root() {
                zhou_command(elements, out.as_deref(), *overwrite)
            } else {
                Ok(())
            }
        }
        Cmd::Tg { csv, column, stage, glass, liquid, steps, min_points, out } => {
            if comm.is_root() {
                tg_command(csv, column, *stage, glass, liquid, steps, *min_points, out)
            } else {
                Ok(())
            }
        }
        Cmd::Run { deck, sample, restart, overwrite, stop_at_step, resume, vars, dir, grid, task, .. } => check_launch(comm.as_ref()).and_then(|_| parse_vars(vars)).and_then(|mut vars| {
            check_cpus(comm.as_ref(), nthreads);
            let mut sample = match sample.as_deref() {
                None => None,
                Some("task") => match array_task() {
                    Some(i) => Some(i),
                    None => return Err(Error::input("command line", "--sample without a value takes $SLURM_ARRAY_TASK_ID, which is not set; give --sample I")),
                },
                Some(v) => Some(v.parse::<u64>().map_err(|_| Error::input("command line", format!("--sample '{}': expected a sample index (0, 1, ...)", v)))?),
            };
            let mut dir = dir.clone();
            if let Some(grid) = grid {
                let task = match task.or_else(array_task) {
                    Some(t) => t,
                    None => return Err(Error::input("command line", "--grid needs --task I (or SLURM_ARRAY_TASK_ID)")),
                };
                for (k, v) in crate::protocol::grid_row(grid, task)? {
                    // A `sample` column picks the deck's sample (glassmd study).
                    if k == "sample" {
                        let i = v.parse::<u64>().map_err(|_| Error::input(grid, format!("task {}: sample '{}' is not a sample index", task, v)))?;
                        sample = sample.or(Some(i));
                    } else {
                        vars.push((k, v));
                    }
                }
                let base = dir.unwrap_or_else(|| deck.parent().map(|p| p.to_path_buf()).unwrap_or_default());
                dir = Some(base.join(format!("task_{:04}", task)));
            }
            let opts = crate::run::RunOptions { nthreads, sample, overwrite: *overwrite, restart: restart.clone(), stop_at: *stop_at_step, resume: *resume, vars, dir };
            crate::run::run_deck(comm.as_ref(), deck, &opts)
        }),
        Cmd::Summarize { deck, vars, dir } => {
            if comm.is_root() {
                parse_vars(vars).and_then(|v| crate::run::summarize_deck(deck, &v, dir.as_deref()))
            } else {
                Ok(())
            }
        }
        Cmd::Grid { specs } => {
            if comm.is_root() {
                crate::protocol::grid(specs).map(|g| print!("{}", g)).map_err(|m| Error::input("command line", m))
            } else {
                Ok(())
            }
        }
        Cmd::PlotScaling { csv, out } => {
            if comm.is_root() {
                use crate::analysis::scaling;
                scaling::read(csv).and_then(|pts| {
                    println!("{:<8} {:>6} {:>10} {:>10}", "mode", "cores", "speed-up", "efficiency");
                    for (m, rows) in scaling::efficiency(&pts) {
                        for (c, su, e) in rows {
                            println!("{:<8} {:>6} {:>10.3} {:>10.3}", m, c, su, e);
                        }
                    }
                    scaling::plot(&pts, out)
                })
            } else {
                Ok(())
            }
        }
        Cmd::Plot { what: PlotCmd::StressStrain { files, out, stress, labels, mean, true_strain } } => {
            if comm.is_root() {
                crate::analysis::curves::plot(files, out, stress.as_deref(), labels.as_deref(), *mean, *true_strain).map(|lines| {
                    for line in lines {
                        println!("{}", line);
                    }
                    println!("wrote {}", out.display());
                })
            } else {
                Ok(())
            }
        }
        Cmd::Plot { what: w @ (PlotCmd::Rdf(_) | PlotCmd::Sq(_) | PlotCmd::Dynamics { .. } | PlotCmd::Voronoi { .. }) } => {
            if comm.is_root() {
                use crate::analysis::plots::{index_histogram, plot_columns};
                let split = |c: &Option<String>, d: &str| -> Vec<String> { c.as_deref().unwrap_or(d).split(',').map(|s| s.trim().to_string()).collect() };
                let res = match w {
                    PlotCmd::Rdf(CurveArgs { files, out, columns, labels }) => {
                        let cols = split(columns, "g_");
                        let p: Vec<&str> = cols.iter().map(String::as_str).collect();
                        plot_columns(files, labels.as_deref(), &p, out, "radial distribution", "r (Å)", "g(r)", false).map(|l| (l, out))
                    }
                    PlotCmd::Sq(CurveArgs { files, out, columns, labels }) => {
                        let cols = split(columns, "s_");
                        let p: Vec<&str> = cols.iter().map(String::as_str).collect();
                        plot_columns(files, labels.as_deref(), &p, out, "structure factor", "q (1/Å)", "S(q)", false).map(|l| (l, out))
                    }
                    PlotCmd::Dynamics { files, out, fs, labels } => {
                        let (p, y) = if *fs { ("fs_", "F_s(q,t)") } else { ("msd_", "MSD (Å²)") };
                        plot_columns(files, labels.as_deref(), &[p], out, if *fs { "self-intermediate scattering" } else { "mean squared displacement" }, "log10 t (ps)", y, true).map(|l| (l, out))
                    }
                    PlotCmd::Voronoi { files, out, species, top, labels } => index_histogram(files, labels.as_deref(), species, *top, out).map(|l| (l, out)),
                    _ => unreachable!(),
                };
                res.map(|(lines, out)| {
                    for line in lines {
                        println!("{}", line);
                    }
                    println!("wrote {}", out.display());
                })
            } else {
                Ok(())
            }
        }
        Cmd::Plot { what: PlotCmd::LoadDepth { files, out, labels, micro } } => {
            if comm.is_root() {
                crate::analysis::indentation::plot(files, out, labels.as_deref(), *micro).map(|lines| {
                    for line in lines {
                        println!("{}", line);
                    }
                    println!("wrote {}", out.display());
                })
            } else {
                Ok(())
            }
        }
        Cmd::Collect { dir, out } => {
            if comm.is_root() {
                crate::protocol::collect(dir).and_then(|(csv, n)| match out {
                    Some(p) => crate::io::write_atomic(p, |w| write!(w, "{}", csv)).map(|_| eprintln!("{} runs -> {}", n, p.display())),
                    None => {
                        print!("{}", csv);
                        Ok(())
                    }
                })
            } else {
                Ok(())
            }
        }
        Cmd::Convert { input, to, frames, out, overwrite } => {
            if comm.is_root() {
                convert_command(input, to, frames.as_deref(), out.as_deref(), *overwrite)
            } else {
                Ok(())
            }
        }
        Cmd::Analyze {
            input,
            compute,
            elements,
            cutoff,
            reference,
            dump,
            neighbors,
            out,
            sq_out,
            rmax,
            bins,
            q,
            boundary,
            frame,
            face_threshold,
            relative_face_threshold,
            edge_threshold,
            max_face_order,
            bonds,
            origin_stride,
            degrees,
            overwrite,
            ..
        } => (|| {
            if let Some(l) = degrees.iter().find(|&&l| l == 0 || l > 20) {
                return Err(Error::input("command line", format!("--degrees: l = {} must be from 1 to 20", l)));
            }
            let th = crate::analysis::voronoi::Thresholds { face_area: *face_threshold, relative_face_area: *relative_face_threshold, edge_length: *edge_threshold };
            for (k, v) in [("--face-threshold", th.face_area), ("--relative-face-threshold", th.relative_face_area), ("--edge-threshold", th.edge_length)] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(Error::input("command line", format!("{} {} must be a finite number ≥ 0", k, v)));
                }
            }
            if !(rmax.is_finite() && *rmax > 0.0) || *bins == 0 {
                return Err(Error::input("command line", format!("--rmax {} and --bins {} must be positive", rmax, bins)));
            }
            if !(6..=12).contains(max_face_order) {
                return Err(Error::input("command line", format!("--max-face-order {} must be from 6 to 12", max_face_order)));
            }
            let args = crate::run::analyze::AnalyzeArgs {
                input: input.clone(),
                reference: reference.clone(),
                elements: elements.clone(),
                computes: crate::run::analyze::parse_computes(compute)?,
                cutoff: *cutoff,
                dump: dump.clone(),
                neighbors: neighbors.clone(),
                out: out.clone(),
                sq_out: sq_out.clone(),
                rmax: *rmax,
                bins: *bins,
                q: *q,
                boundary: boundary.as_deref().map(parse_boundary).transpose()?,
                frame: *frame,
                thresholds: th,
                max_face_order: *max_face_order,
                bonds: bonds.clone(),
                origin_stride: *origin_stride,
                degrees: degrees.clone(),
                nthreads,
                overwrite: *overwrite,
            };
            let json = crate::run::analyze::analyze(comm.as_ref(), &args)?;
            if comm.is_root() {
                println!("{}", json);
            }
            Ok(())
        })(),
        Cmd::Forces { data, potential, style, elements, boundary, dump, .. } => parse_boundary(boundary).and_then(|b| {
            let args = crate::run::ForcesArgs {
                data,
                potential,
                style,
                elements: elements.as_deref(),
                boundary: b,
                dump: dump.as_deref(),
                nthreads,
            };
            crate::run::forces(comm.as_ref(), &args).map(|json| {
                if comm.is_root() {
                    println!("{}", json);
                }
            })
        }),
    };
    match result {
        Ok(()) => {
            drop(comm);
            0
        }
        Err(e) => {
            let code = if matches!(e, Error::Interrupted(_)) { crate::error::EXIT_CHECKPOINTED } else { 1 };
            // Errors are collective (every rank reads the same input, checks
            // agree by reduction): then the lowest rank holding the real
            // error prints it, once. A rank that failed alone while the
            // others wait in a collective would hang the job: after a grace
            // period it prints its error and aborts every rank.
            // One line, whatever the message holds (HDF5's error stacks span lines).
            let msg = e.to_string().replace(['\n', '\r'], " ");
            if !comm.arrive_within(std::time::Duration::from_secs(20)) {
                eprintln!("glassmd: error (rank {} of {}): {}", comm.rank(), comm.size(), msg);
                comm.abort(code);
            }
            let real = !matches!(e, Error::Elsewhere);
            let mut first = [if real { comm.rank() as f64 } else { f64::INFINITY }];
            comm.min_f64(&mut first);
            if real && first[0] == comm.rank() as f64 {
                match &e {
                    Error::Interrupted(_) => eprintln!("glassmd: {}", msg),
                    _ if comm.rank() == 0 => eprintln!("glassmd: error: {}", msg),
                    _ => eprintln!("glassmd: error (rank {}): {}", comm.rank(), msg),
                }
            }
            drop(comm);
            code
        }
    }
}

/// `glassmd potential zhou2004 EL... [--out F]`: generate and write the
/// setfl file; prints what was written.
fn zhou_command(elements: &[String], out: Option<&Path>, overwrite: bool) -> Result<()> {
    use crate::potential::eam::zhou;
    let els = zhou::resolve(elements).map_err(|m| Error::input("command line", m))?;
    let path = out.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(format!("{}.eam.alloy", elements.join(""))));
    crate::run::analyze::refuse_existing(&path, overwrite)?;
    let grid = zhou::Grid::lammps(&els);
    let s = zhou::setfl(&els, &grid);
    let names = elements.join(" ");
    zhou::write_setfl(
        &path,
        &s,
        &els,
        [
            &format!("Zhou-Johnson-Wadley EAM for {} written by glassmd {}", names, env!("CARGO_PKG_VERSION")),
            "CITATION: X. W. Zhou, R. A. Johnson, H. N. G. Wadley, Phys. Rev. B 69, 144113 (2004)",
            "Parameters as in LAMMPS tools/eam_database; alloy pairs by Johnson's mixing rule",
        ],
    )?;
    println!("wrote {} ({}; nrho {} drho {:e}, nr {} dr {:e}, cutoff {:.6} A)", path.display(), names, grid.nrho, grid.drho, grid.nr, grid.dr, grid.cut);
    Ok(())
}

/// `glassmd study STUDY.toml`: run (or submit) the tasks, then collect.
#[allow(clippy::too_many_arguments)]
fn study_command(path: &Path, dir: Option<&Path>, collect_only: bool, slurm: bool, script: &Path, sbatch: &[String], nthreads: usize, jobs: usize) -> Result<()> {
    use crate::run::study;
    let mut s = study::Study::load(path)?;
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => path.with_extension(""),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let dir = dir.canonicalize().map_err(|e| Error::io(&dir, e))?;
    let pre: usize = s.preludes.iter().map(|p| p.tasks(&s.spec.axis)).sum();
    println!(
        "study {}: {} points x {} samples = {} tasks{} in {}",
        path.display(),
        s.points.len(),
        s.spec.samples,
        s.tasks(),
        if pre > 0 { format!(" after {} prelude task(s)", pre) } else { String::new() },
        dir.display()
    );
    if slurm && !collect_only {
        if !script.is_file() {
            return Err(Error::input(script, "no such batch script (give --script slurm/glassmd.sbatch)"));
        }
        for (id, what) in study::submit(&mut s, &dir, script, sbatch)?.jobs {
            println!("submitted job {}: {}", id, what);
        }
        return Ok(());
    }
    if !collect_only {
        study::run_local(&mut s, &dir, nthreads, jobs)?;
    }
    s.resolve(&dir)?;
    let (_, table) = study::collect(&s, &dir)?;
    print!("{}", table);
    Ok(())
}
