//! Assiette's server: the metropolis' JSON endpoint, the PWA host and the command line.

pub mod api;
pub mod auth;
pub mod concession;
pub mod config;
pub mod db;
pub mod egalim_cli;
pub mod error;
pub mod guard;
pub mod http;
pub mod repair;
pub mod store;
pub mod territory;
pub mod wire;
