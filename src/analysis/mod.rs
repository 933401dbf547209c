//! Analysis of results: the glass transition temperature from a quench
//! (`tg`), strong/weak scaling tables and plots (`scaling`), stress–strain
//! curves and their plots (`curves`); later RDFs,
//! Voronoi, W6, atomic strain, MSD, τα. Analysis code works on plain arrays
//! (thermo columns, gathered positions, CSV rows) and never sees the
//! decomposition.

pub mod curves;
pub mod indentation;
pub mod plots;
pub mod scaling;
pub mod structure;
pub mod steinhardt;
pub mod tg;
pub mod voronoi;
