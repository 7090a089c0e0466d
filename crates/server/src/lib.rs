//! Assiette's server: the metropolis' JSON endpoint, the PWA host and the command line.

pub mod config;
pub mod db;
pub mod egalim_cli;
pub mod http;
