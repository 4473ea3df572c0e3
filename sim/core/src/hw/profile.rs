//! Named hardware profiles (`profiles/*.toml`): every number the hardware model uses.
//!
//! A profile bundles the network, disk and CPU parameters of one machine class. The built-in
//! profiles are compiled in with `include_str!`, so a lesson can switch era by name and the
//! simulation never depends on files outside the binary.
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

/// Disk parameters (one device: one spindle, one RAID array or one SSD).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiskParams {
    /// Cost of a random access, ms: average seek plus half a rotation on a spinning disk.
    pub seek_ms: f64,
    /// Sequential read throughput, bytes per second.
    pub seq_read_bytes_per_sec: u64,
    /// Sequential write throughput, bytes per second.
    pub seq_write_bytes_per_sec: u64,
    /// Fixed cost of a flush / write barrier, ms, on top of writing the dirty bytes.
    pub fsync_ms: f64,
    /// Device capacity, bytes.
    pub capacity_bytes: u64,
    /// Memory available to the page cache, bytes.
    pub page_cache_bytes: u64,
    /// Cache granularity, bytes: the page (or larger extent) the cache loads and evicts as a unit.
    pub page_size: u64,
    /// Age after which the kernel writes dirty data back on its own, ms
    /// (Linux `vm.dirty_expire_centisecs`, 30 s by default).
    pub dirty_expire_ms: u64,
}

/// CPU parameters.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CpuParams {
    /// Number of cores.
    pub cores: u32,
    /// Clock frequency, GHz.
    pub ghz: f64,
    /// Single-thread memory copy throughput, bytes per second.
    pub memcpy_bytes_per_sec: u64,
    /// Cost of a simple system call, ns.
    pub syscall_ns: u64,
    /// Cost of a thread context switch (one thread off a core, another on), ns. Entering and
    /// leaving the kernel for a system call is a *mode* switch, part of `syscall_ns`.
    pub context_switch_ns: u64,
    /// Bytes per second one core pushes through the kernel's TCP transmit path *without* copying
    /// them (page references, segmentation with TSO, ACK processing): what `sendfile` still costs.
    pub tcp_tx_bytes_per_sec: u64,
    /// Bytes per second one core encrypts with TLS in the broker's JVM (`SSLEngine.wrap`).
    pub tls_bytes_per_sec: u64,
    /// Bytes per second one core computes CRC32 (`java.util.zip.CRC32`), as message-format
    /// conversion recomputes every message's checksum.
    pub crc32_bytes_per_sec: u64,
}

/// A whole hardware profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
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

/// The built-in profiles, in the order they are listed to users.
const BUILT_IN: &[(&str, &str)] = &[
    ("laptop-2024", include_str!("profiles/laptop-2024.toml")),
    ("commodity-2014", include_str!("profiles/commodity-2014.toml")),
    ("commodity-2011", include_str!("profiles/commodity-2011.toml")),
];

/// Names of the built-in profiles (same order as [`BUILT_IN`]).
const NAMES: &[&str] = &["laptop-2024", "commodity-2014", "commodity-2011"];

/// The profile used when none is named: the seed's era.
const DEFAULT_NAME: &str = "commodity-2014";

impl HardwareProfile {
    /// The named built-in profile.
    pub fn named(name: &str) -> Result<Self, ProfileError> {
        match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Self::from_toml_str(text),
            None => Err(ProfileError::Unknown(name.to_string(), NAMES.join(", "))),
        }
    }

    /// Parse a profile from TOML text; unknown keys are rejected so typos do not go unnoticed.
    pub fn from_toml_str(text: &str) -> Result<Self, ProfileError> {
        Ok(toml::from_str(text)?)
    }

    /// Names of the built-in profiles.
    pub fn names() -> &'static [&'static str] {
        NAMES
    }
}

impl Default for HardwareProfile {
    /// `commodity-2014`, the era of the seed deployment.
    fn default() -> Self {
        match Self::named(DEFAULT_NAME) {
            Ok(p) => p,
            // The built-in files are compiled in and covered by tests, so this cannot happen at run time.
            Err(e) => panic!("built-in profile {DEFAULT_NAME} is broken: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_parses_and_is_named_after_its_file() {
        assert_eq!(BUILT_IN.len(), NAMES.len());
        for name in HardwareProfile::names() {
            let p = HardwareProfile::named(name).expect("built-in profile parses");
            assert_eq!(&p.name, name);
            assert!(p.disk.page_size > 0 && p.disk.page_cache_bytes >= p.disk.page_size);
            assert!(p.disk.seq_read_bytes_per_sec > 0 && p.disk.seq_write_bytes_per_sec > 0);
            assert!(p.cpu.memcpy_bytes_per_sec > 0 && p.cpu.cores > 0);
            assert!(p.net.latency_mean_us >= p.net.latency_min_us);
        }
    }

    #[test]
    fn default_is_commodity_2014() {
        let p = HardwareProfile::default();
        assert_eq!(p.name, "commodity-2014");
        assert_eq!(p.net.bandwidth_bps, 1_000_000_000);
        assert_eq!(p.cpu.cores, 6);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let text =
            include_str!("profiles/commodity-2014.toml").replace("[cpu]", "[cpu]\nturbo = true");
        let err = HardwareProfile::from_toml_str(&text).expect_err("unknown key rejected");
        assert!(matches!(err, ProfileError::Toml(_)));
        assert!(err.to_string().contains("turbo"), "{err}");
    }

    #[test]
    fn missing_key_is_rejected() {
        let text = include_str!("profiles/commodity-2014.toml").replace("fsync_ms = 4.2", "");
        assert!(HardwareProfile::from_toml_str(&text).is_err());
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = HardwareProfile::named("mainframe-1970").expect_err("unknown name");
        match &err {
            ProfileError::Unknown(name, known) => {
                assert_eq!(name, "mainframe-1970");
                for n in HardwareProfile::names() {
                    assert!(known.contains(n));
                }
            }
            other => panic!("wrong error {other}"),
        }
    }
}
