//! Enrichment: what is added to a finding after the engine found it (git
//! attribution, client-side exposure, suppression; verification lives in
//! `src/verify/`).

pub mod attribution;
pub mod exposure;
pub mod suppress;
