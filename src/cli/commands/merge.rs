//! `leakhound merge SHARD...`: shard reports of `git --repos` into one
//! report. Verification results in the shards are reused; `--verify` asks
//! only about keys without a verdict, once each, and needs them in full.

use std::path::Path;

use anyhow::Result;

use crate::org;

use crate::cli::args::{MergeArgs, VerifyArgs};
use crate::cli::settings::{Session, verify_options};

pub fn run(args: MergeArgs) -> Result<u8> {
    let mut session = Session::start(Path::new("."), &args.output, None)?;
    let shards = args.shards.iter().map(|p| org::read_shard(p)).collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = args.shards.iter().map(|p| p.display().to_string()).collect();
    session.title = format!("shard reports {}", names.join(", "));
    let rules = session.detector.rules();
    if args.verify.verify {
        org::check_verifiable(&shards, rules)?;
    }
    let mut outcome = org::merge(shards);
    if args.verify.verify {
        outcome.notes.extend(args.verify.instance_notes());
        let mut options = verify_options(&args.verify)?;
        outcome.stats.verification = Some(org::verify_unverified(&mut outcome.findings, rules, &mut options)?);
    }
    // Verified above, against the shards' keys; the report masks what
    // arrived in full and leaves what arrived masked as it is.
    let verify = VerifyArgs { verify: false, ..args.verify };
    session.finish(outcome, &verify, &args.output)
}
