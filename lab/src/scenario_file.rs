//! Reading a scenario file from the real disk.

use anyhow::{anyhow, Context, Result};
use sim::scenario::Scenario;

/// Reads and validates a scenario file; errors read `FILE:LINE:COL: message`.
pub fn load(file: &str) -> Result<Scenario> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    Scenario::parse_named(&text, file).map_err(|e| anyhow!("{file}:{e}"))
}
