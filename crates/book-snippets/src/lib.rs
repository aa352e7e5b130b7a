//! Test-only crate: see build.rs and tests/skeptic.rs.
