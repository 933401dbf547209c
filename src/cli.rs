//! Command line (clap). This is where MPI is started and the rayon pool is
//! sized; everything below receives a `&dyn Comm` and a thread count.
//! A new subcommand is a new `Cmd` variant and a driver in `run.rs`.

use crate::domain::comm::{Comm, SerialComm};
use crate::error::{Error, Result};
use crate::system::Boundary;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "glassmd", version, about = "Molecular dynamics for metallic glasses (LAMMPS-exact EAM, MPI + threads)")]
pub struct Cli {
    /// Worker threads per rank (default: RAYON_NUM_THREADS, else 1).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a TOML deck.
    Run {
        /// The deck; paths inside it are relative to its folder.
        deck: PathBuf,
        /// With a [samples] section: run only sample I (0-based) into
        /// sample_II/, e.g. `--sample $SLURM_ARRAY_TASK_ID`; then run
        /// `glassmd summarize DECK` once all are done.
        #[arg(long, value_name = "I")]
        sample: Option<u64>,
        /// Continue the deck from a checkpoint written by an earlier run of it.
        #[arg(long, value_name = "CKPT")]
        restart: Option<PathBuf>,
        /// Replace trajectory and checkpoint files that already exist.
        #[arg(long)]
        overwrite: bool,
        /// Write a checkpoint and stop (exit status 75) when the run reaches
        /// this MD step; continue later with --restart.
        #[arg(long, value_name = "STEP")]
        stop_at_step: Option<u64>,
        /// Continue from the deck's checkpoint file if it exists, else start
        /// afresh (what a requeued batch job wants).
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
        deck: PathBuf,
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// The folder the samples were written to (run --dir).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// A parameter grid for a job array: the product of NAME=V1,V2 or
    /// NAME=A..B as CSV (task,NAME,...) on stdout.
    Grid {
        #[arg(required = true, value_name = "NAME=VALUES")]
        specs: Vec<String>,
    },
    /// Plot a scaling study's CSV (slurm/scaling.sbatch): atom-steps/s and
    /// parallel efficiency against cores, as SVG; prints the table.
    PlotScaling {
        csv: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Gather results.json (and vars.json) of every run folder under DIR
    /// into one CSV.
    Collect {
        dir: PathBuf,
        /// Output CSV (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
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
    },
    /// Glass transition temperature by a two-line fit of a thermo CSV column against temperature.
    Tg {
        /// Thermo CSV written during a quench.
        csv: PathBuf,
        /// Column to fit (volume, pe, density, ...).
        #[arg(long, default_value = "volume")]
        column: String,
        /// Glass window T0,T1 in K (with --liquid); default: best split.
        #[arg(long)]
        glass: Option<String>,
        /// Liquid window T0,T1 in K.
        #[arg(long)]
        liquid: Option<String>,
        /// Use only thermo rows with FROM <= step <= TO (e.g. the quench stage).
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

/// `glassmd tg`: fit, print, optionally write JSON.
fn tg_command(
    csv: &std::path::Path,
    column: &str,
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
    let window = parse_window(steps, "steps")?.unwrap_or([f64::NEG_INFINITY, f64::INFINITY]);
    let (mut t, mut y) = (Vec::new(), Vec::new());
    for (k, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let num = |c: usize| f.get(c).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| Error::input(csv, format!("line {}: cannot read column {}", k + 2, c + 1)));
        let step = num(cs)?;
        if step < window[0] || step > window[1] {
            continue;
        }
        t.push(num(ct)?);
        y.push(num(cy)?);
    }
    let windows = match (parse_window(glass, "glass")?, parse_window(liquid, "liquid")?) {
        (Some(g), Some(l)) => Some((g, l)),
        (None, None) => None,
        _ => return Err(Error::input("command line", "give both --glass and --liquid, or neither")),
    };
    let fit = tg::fit(&t, &y, windows, min_points).map_err(|m| Error::input(csv, m))?;
    println!(
        "Tg = {:.1} K from {} vs temperature: glass fit {:.1}-{:.1} K (slope {:.6e}), liquid fit {:.1}-{:.1} K (slope {:.6e})",
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

fn start_comm() -> Box<dyn Comm> {
    #[cfg(feature = "mpi")]
    {
        if let Some(m) = crate::domain::mpi_comm::MpiComm::init() {
            return Box::new(m);
        }
    }
    Box::new(SerialComm)
}

/// Entry point; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let comm = start_comm();
    let level = if comm.is_root() { "info" } else { "warn" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level)).format_timestamp(None).init();
    let nthreads = cli
        .threads
        .or_else(|| std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok()))
        .unwrap_or(1)
        .max(1);
    if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(nthreads).build_global() {
        log::warn!("could not size the thread pool: {}", e);
    }
    let result = match &cli.cmd {
        Cmd::Tg { csv, column, glass, liquid, steps, min_points, out } => {
            if comm.is_root() {
                tg_command(csv, column, glass, liquid, steps, *min_points, out)
            } else {
                Ok(())
            }
        }
        Cmd::Run { deck, sample, restart, overwrite, stop_at_step, resume, vars, dir, grid, task } => parse_vars(vars).and_then(|mut vars| {
            let mut dir = dir.clone();
            if let Some(grid) = grid {
                let task = match task.or_else(|| std::env::var("SLURM_ARRAY_TASK_ID").ok().and_then(|t| t.parse().ok())) {
                    Some(t) => t,
                    None => return Err(Error::input("command line", "--grid needs --task I (or SLURM_ARRAY_TASK_ID)")),
                };
                vars.extend(crate::protocol::grid_row(grid, task)?);
                let base = dir.unwrap_or_else(|| deck.parent().map(|p| p.to_path_buf()).unwrap_or_default());
                dir = Some(base.join(format!("task_{:04}", task)));
            }
            let opts = crate::run::RunOptions { nthreads, sample: *sample, overwrite: *overwrite, restart: restart.clone(), stop_at: *stop_at_step, resume: *resume, vars, dir };
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
        Cmd::Forces { data, potential, style, elements, boundary, dump } => parse_boundary(boundary).and_then(|b| {
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
            // Input errors are seen by every rank alike; rank 0 speaks for all.
            if let Error::Interrupted(_) = e {
                if comm.is_root() {
                    eprintln!("glassmd: {}", e);
                }
                drop(comm);
                std::process::exit(crate::error::EXIT_CHECKPOINTED);
            }
            if comm.is_root() {
                eprintln!("glassmd: error: {}", e);
            }
            std::process::exit(1)
        }
    }
}
