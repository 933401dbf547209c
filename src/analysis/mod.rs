//! Analysis of results: today the glass transition temperature from a
//! quench; later RDFs, Voronoi, W6, atomic strain, MSD, τα. Analysis code
//! works on plain arrays (thermo columns, gathered positions) and never sees
//! the decomposition.

pub mod tg;
