//! Named hardware profiles (`profiles/*.toml`). STUB: replaced by the hw helper.
use serde::Deserialize;

/// Errors loading a profile.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No profile of that name.
    #[error("unknown hardware profile `{0}` (known: {1})")]
    Unknown(String, String),
    /// The TOML did not parse.
    #[error("bad hardware profile: {0}")]
    Toml(#[from] toml::de::Error),
}

/// Network parameters of one link class.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetParams {
    /// Minimum one-way latency between two hosts, µs.
    pub latency_min_us: u64,
    /// Mean one-way latency, µs (exponential tail above the minimum).
    pub latency_mean_us: u64,
    /// One-way latency on the loopback interface, µs.
    pub loopback_latency_us: u64,
    /// NIC bandwidth, bits per second (each host has one NIC, shared by all its links).
    pub bandwidth_bps: u64,
    /// Probability that a segment is lost and retransmitted.
    pub loss: f64,
    /// TCP retransmission timeout added to a lost segment, ms.
    pub rto_ms: u64,
    /// How long TCP keeps retransmitting into a partition before it breaks the connection, ms.
    pub tcp_give_up_ms: u64,
}

/// Disk parameters.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct DiskParams {}
/// CPU parameters.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CpuParams {}

/// A whole hardware profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct HardwareProfile {
    /// Profile name.
    pub name: String,
    /// Network.
    pub net: NetParams,
    /// Disk.
    pub disk: DiskParams,
    /// CPU.
    pub cpu: CpuParams,
}

impl Default for HardwareProfile {
    fn default() -> Self {
        Self::named("commodity-2014").expect("built-in profile")
    }
}

impl HardwareProfile {
    /// The named built-in profile.
    pub fn named(name: &str) -> Result<Self, ProfileError> {
        let _ = name;
        Ok(HardwareProfile {
            name: "commodity-2014".into(),
            net: NetParams {
                latency_min_us: 100,
                latency_mean_us: 150,
                loopback_latency_us: 10,
                bandwidth_bps: 1_000_000_000,
                loss: 0.0,
                rto_ms: 200,
                tcp_give_up_ms: 924_000,
            },
            disk: DiskParams {},
            cpu: CpuParams {},
        })
    }
}
