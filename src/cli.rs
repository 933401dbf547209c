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
        Cmd::Run { deck } => crate::run::run_deck(comm.as_ref(), deck, nthreads),
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
            if comm.is_root() {
                eprintln!("glassmd: error: {}", e);
            }
            std::process::exit(1)
        }
    }
}
