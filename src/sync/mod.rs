//! Client sync engine (see docs/sync.md).
