//! Assiette's soak tool and the simulated tablet it drives (also the server tests' tablet).
//!
//! - [`client`]: HTTP helpers and the metropolis administrator's client;
//! - [`tablet`]: a tablet that syncs as the app does (outbox numbered by its own seq, one
//!   revision per correction, tombstones, the push reply planned by the domain, pull cursor);
//! - [`records`]: valid records to save;
//! - [`process`]: the real `assiette-server` process, started, SIGKILLed and restarted;
//! - [`postgres`]: a fresh database on a PostgreSQL server;
//! - [`soak`]: the run (rounds, faults, kills) and its audit.

pub mod client;
pub mod postgres;
pub mod process;
pub mod records;
pub mod soak;
pub mod tablet;
