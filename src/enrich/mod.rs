//! Enrichment: what is added to a finding after the engine found it:
//! client-side exposure and suppression. Git attribution lives with the
//! history modes (`src/history/`), verification in `src/verify/`.

pub mod exposure;
pub mod suppress;
