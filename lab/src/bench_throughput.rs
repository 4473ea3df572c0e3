//! `lab bench throughput` (filled in below).
use anyhow::Result;

/// Flags.
#[derive(clap::Args)]
pub struct ThroughputArgs {}

pub fn run(_a: &ThroughputArgs) -> Result<i32> {
    anyhow::bail!("not yet")
}
