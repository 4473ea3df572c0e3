//! `lab partition`: which hosts to cut from which, in which direction, and for which service.
//!
//! `lab partition A… | B…` cuts every link between the two sides both ways; `A… -> B…` drops
//! only what A sends to B. `--port N` narrows the cut to the connections whose server listens on
//! port N — one service, as `iptables -A INPUT -p tcp --dport N -j DROP` (and the `--sport` rule
//! for the answers) would on real machines. It is how a lab cuts a Kafka leader off from its
//! followers (`--port 9092`) while the same hosts' ZooKeeper servers (2181, 2888, 3888) still talk:
//! every seed host runs both.

/// Usage of `lab partition`.
pub const PARTITION_USAGE: &str = "lab: usage: lab partition HOST… | HOST… [--port N]   or   lab partition HOST… -> HOST… [--port N]";

/// A parsed `lab partition` line: `A… | B…` cuts both directions, `A… -> B…` only traffic from A
/// to B; `--port N` limits the cut to connections whose server listens on N (one service, as an
/// iptables rule on that port would), leaving the hosts' other services connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpec {
    /// The hosts on the left.
    pub a: Vec<String>,
    /// The hosts on the right.
    pub b: Vec<String>,
    /// `->`: only traffic from `a` to `b` is dropped.
    pub one_way: bool,
    /// `--port N`: only connections to listening port N.
    pub port: Option<u16>,
}

impl PartitionSpec {
    /// Parses the words after `lab partition`; the error says what is wrong.
    pub fn parse(words: &[String]) -> Result<PartitionSpec, String> {
        let mut port = None;
        let mut rest: Vec<&String> = Vec::new();
        let mut it = words.iter();
        while let Some(w) = it.next() {
            let value = if w == "--port" {
                Some(it.next().ok_or("option --port needs a port number")?.as_str())
            } else {
                w.strip_prefix("--port=")
            };
            match value {
                Some(v) => {
                    if port.is_some() {
                        return Err("--port given twice".into());
                    }
                    match v.parse::<u16>() {
                        Ok(n) if n > 0 => port = Some(n),
                        _ => return Err(format!("'{v}' is not a port number (1-65535)")),
                    }
                }
                None if w.starts_with('-') && w != "->" => {
                    return Err(format!("unknown option {w}"))
                }
                None => rest.push(w),
            }
        }
        let seps: Vec<usize> = rest
            .iter()
            .enumerate()
            .filter(|(_, w)| w.as_str() == "|" || w.as_str() == "->")
            .map(|(i, _)| i)
            .collect();
        let [sep] = seps[..] else {
            return Err(if seps.is_empty() {
                "missing '|' or '->' between the two sides".into()
            } else {
                "one '|' or '->' only".into()
            });
        };
        let a: Vec<String> = rest[..sep].iter().map(|w| w.to_string()).collect();
        let b: Vec<String> = rest[sep + 1..].iter().map(|w| w.to_string()).collect();
        if a.is_empty() || b.is_empty() {
            return Err("both sides need at least one host".into());
        }
        if let Some(h) = a.iter().find(|h| b.contains(h)) {
            return Err(format!("{h} is on both sides"));
        }
        Ok(PartitionSpec { a, b, one_way: rest[sep] == "->", port })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<PartitionSpec, String> {
        PartitionSpec::parse(&line.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    fn v(hosts: &[&str]) -> Vec<String> {
        hosts.iter().map(|h| h.to_string()).collect()
    }

    #[test]
    fn two_way_one_way_and_port_scoped() {
        assert_eq!(
            parse("master | slave1 slave2"),
            Ok(PartitionSpec {
                a: v(&["master"]),
                b: v(&["slave1", "slave2"]),
                one_way: false,
                port: None
            })
        );
        assert_eq!(
            parse("master -> slave1"),
            Ok(PartitionSpec { a: v(&["master"]), b: v(&["slave1"]), one_way: true, port: None })
        );
        assert_eq!(parse("master | slave1 slave2 --port 9092").map(|s| s.port), Ok(Some(9092)));
        assert_eq!(
            parse("--port=2181 master -> slave1").map(|s| (s.one_way, s.port)),
            Ok((true, Some(2181)))
        );
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for (line, msg) in [
            ("master slave1", "missing '|'"),
            ("master | slave1 | slave2", "one '|'"),
            ("| slave1", "both sides"),
            ("master |", "both sides"),
            ("master | master", "on both sides"),
            ("master | slave1 --port", "needs a port"),
            ("master | slave1 --port 0", "not a port number"),
            ("master | slave1 --port 70000", "not a port number"),
            ("master | slave1 --port x", "not a port number"),
            ("master | slave1 --port 1 --port 2", "twice"),
            ("master | slave1 --udp", "unknown option"),
            ("", "missing"),
        ] {
            let e = parse(line).expect_err(line);
            assert!(e.contains(msg), "{line:?}: {e}");
        }
    }
}
