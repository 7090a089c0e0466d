//! Reusable pieces of the pages.
