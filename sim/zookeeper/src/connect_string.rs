//! ZooKeeper's `ConnectStringParser`: `master:2181,slave1:2181/kafka` into servers and a chroot.
//! Kafka's `zookeeper.connect` and every tool's `--zookeeper` are read with it.

/// A connect string or `host:port` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectStringError {
    /// Not a valid `host[:port]`.
    #[error("invalid address '{input}': {reason}")]
    BadHostPort {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not a valid connect string `host[:port],host[:port]...[/chroot]`.
    #[error("invalid connect string '{input}': {reason}")]
    BadConnectString {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Parse a port: ASCII digits, 1..=65535.
fn parse_port(p: &str) -> Result<u16, String> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port '{p}' is not a number"));
    }
    match p.parse::<u32>() {
        Ok(v) if (1..=65535).contains(&v) => Ok(v as u16),
        _ => Err(format!("port {p} is out of range (1-65535)")),
    }
}

/// Split `host[:port]` like ZooKeeper's `ConnectStringParser` (at the last `:`; `host:` means
/// the default port), with the reason on failure.
fn split_host_port(s: &str, default_port: u16) -> Result<(String, u16), String> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, "")) => (h, default_port),
        Some((h, p)) => (h, parse_port(p)?),
        None => (s, default_port),
    };
    if host.is_empty() {
        return Err("the host name is empty".to_string());
    }
    if let Some(c) =
        host.chars().find(|&c| c.is_whitespace() || c.is_control() || c == '/' || c == ',')
    {
        return Err(format!("the host name '{host}' contains {c:?}"));
    }
    Ok((host.to_string(), port))
}

/// Parse `host` or `host:port` (e.g. `master:2181`); `default_port` applies when the port is
/// absent or empty.
pub fn parse_host_port(s: &str, default_port: u16) -> Result<(String, u16), ConnectStringError> {
    split_host_port(s, default_port)
        .map_err(|reason| ConnectStringError::BadHostPort { input: s.to_string(), reason })
}

/// `(host, port)` pairs in the order given, as returned by [`parse_connect_string`].
pub type ServerList = Vec<(String, u16)>;

/// Parse a ZooKeeper connect string such as `master:2181,slave1:2181,slave2:2181/kafka`.
///
/// Returns the servers in order and the chroot (`Some("/kafka")`; `None` when absent or `/`).
/// As in ZooKeeper's `ConnectStringParser` the chroot starts at the first `/` and must be a
/// valid znode path (no trailing `/`, no empty, `.` or `..` segments).
pub fn parse_connect_string(
    s: &str,
    default_port: u16,
) -> Result<(ServerList, Option<String>), ConnectStringError> {
    let bad =
        |reason: String| ConnectStringError::BadConnectString { input: s.to_string(), reason };
    let (hosts, chroot) = match s.find('/') {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i..)),
        None => (s, None),
    };
    let chroot = match chroot {
        None | Some("/") => None,
        Some(path) => {
            if path.ends_with('/') {
                return Err(bad(format!("chroot {path}: Path must not end with / character")));
            }
            for seg in path.split('/').skip(1) {
                match seg {
                    "" => return Err(bad(format!("chroot {path}: empty node name specified"))),
                    "." | ".." => {
                        return Err(bad(format!("chroot {path}: relative paths not allowed")))
                    }
                    _ if seg.chars().any(char::is_control) => {
                        return Err(bad(format!("chroot {path}: invalid character in node name")))
                    }
                    _ => {}
                }
            }
            Some(path.to_string())
        }
    };
    if hosts.is_empty() {
        return Err(bad("no host given (expected host:port[,host:port...])".to_string()));
    }
    let mut servers = Vec::new();
    for (i, part) in hosts.split(',').enumerate() {
        if part.is_empty() {
            return Err(bad(format!("entry {} is empty (stray comma?)", i + 1)));
        }
        servers
            .push(split_host_port(part, default_port).map_err(|r| bad(format!("'{part}': {r}")))?);
    }
    Ok((servers, chroot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_and_connect_strings() {
        assert_eq!(parse_host_port("master:2181", 1).unwrap(), ("master".to_string(), 2181));
        assert_eq!(parse_host_port("master", 2181).unwrap(), ("master".to_string(), 2181));
        assert_eq!(parse_host_port("master:", 2181).unwrap(), ("master".to_string(), 2181));
        assert!(parse_host_port(":2181", 1).is_err());
        assert!(parse_host_port("m:abc", 1).is_err());
        assert!(parse_host_port("m:70000", 1).is_err());
        let (s, c) = parse_connect_string("master:2181,slave1:2181,slave2:2181", 2181).unwrap();
        assert_eq!(
            s,
            vec![("master".into(), 2181), ("slave1".into(), 2181), ("slave2".into(), 2181)]
        );
        assert_eq!(c, None);
        let (s, c) = parse_connect_string("master,slave1:2182/kafka", 2181).unwrap();
        assert_eq!(s, vec![("master".into(), 2181), ("slave1".into(), 2182)]);
        assert_eq!(c.as_deref(), Some("/kafka"));
        assert_eq!(parse_connect_string("master:2181/", 2181).unwrap().1, None);
        for bad in ["", "/kafka", "a,,b", "a:2181/kafka/", "a/b//c", "a/./b", "a:x"] {
            assert!(parse_connect_string(bad, 2181).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".*", port in proptest::prelude::any::<u16>()) {
            let _ = parse_connect_string(&s, port);
            let _ = parse_host_port(&s, port);
        }

        #[test]
        fn generated_connect_strings(hosts in proptest::collection::vec(("[a-z][a-z0-9.-]{0,10}", 1u16..), 1..5), chroot in proptest::option::of("(/[a-z0-9]{1,6}){1,3}")) {
            let mut s = hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect::<Vec<_>>().join(",");
            if let Some(c) = &chroot { s.push_str(c); }
            let (got, got_chroot) = parse_connect_string(&s, 2181).unwrap();
            proptest::prop_assert_eq!(got, hosts);
            proptest::prop_assert_eq!(got_chroot, chroot);
        }
    }
}
