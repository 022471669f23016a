//! Enrichment: what is added to a finding after the engine found it (git
//! attribution; later client-side exposure, verification, suppression).

pub mod attribution;
pub mod exposure;
