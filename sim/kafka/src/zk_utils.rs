//! `ZkUtils`: the znodes Kafka 0.9 keeps in ZooKeeper and their JSON, field for field.
//!
//! Field order is what 0.9 writes (a Scala hash map's order, not the source order), e.g.
//! `/brokers/ids/0` = `{"jmx_port":-1,"timestamp":"…","endpoints":["PLAINTEXT://master:9092"],"host":"master","version":2,"port":9092}`.

use super::proto::BrokerEndPoint;
use serde_json::Value;
use std::collections::BTreeMap;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::{CreateMode, ZkError};

/// `/brokers/ids`
pub const BROKER_IDS: &str = "/brokers/ids";
/// `/brokers/topics`
pub const BROKER_TOPICS: &str = "/brokers/topics";
/// `/controller`
pub const CONTROLLER: &str = "/controller";
/// `/controller_epoch`
pub const CONTROLLER_EPOCH: &str = "/controller_epoch";
/// `/admin/delete_topics`
pub const DELETE_TOPICS: &str = "/admin/delete_topics";
/// `/admin/preferred_replica_election`
pub const PREFERRED_ELECTION: &str = "/admin/preferred_replica_election";
/// `/config/topics`
pub const CONFIG_TOPICS: &str = "/config/topics";
/// `/config/changes` (`TopicConfigManager`'s notifications)
pub const CONFIG_CHANGES: &str = "/config/changes";
/// `/isr_change_notification`
pub const ISR_CHANGE: &str = "/isr_change_notification";
/// `/consumers`
pub const CONSUMERS: &str = "/consumers";

/// The persistent paths a broker makes sure exist at start-up (`setupCommonPaths`).
pub const COMMON_PATHS: &[&str] = &[
    CONSUMERS,
    BROKER_IDS,
    BROKER_TOPICS,
    "/config/changes",
    CONFIG_TOPICS,
    "/config/clients",
    DELETE_TOPICS,
    "/brokers/seqid",
    ISR_CHANGE,
];

/// `/brokers/topics/<t>/partitions/<p>/state`
pub fn partition_state_path(topic: &str, partition: i32) -> String {
    format!("{BROKER_TOPICS}/{topic}/partitions/{partition}/state")
}

/// The registration of a broker.
pub fn broker_json(host: &str, port: u16, timestamp_ms: i64) -> String {
    format!(
        "{{\"jmx_port\":-1,\"timestamp\":\"{timestamp_ms}\",\"endpoints\":[\"PLAINTEXT://{host}:{port}\"],\"host\":\"{host}\",\"version\":2,\"port\":{port}}}"
    )
}

/// Parses a broker registration.
pub fn parse_broker(id: i32, json: &[u8]) -> Option<BrokerEndPoint> {
    let v: Value = serde_json::from_slice(json).ok()?;
    Some(BrokerEndPoint {
        id,
        host: v.get("host")?.as_str()?.to_string(),
        port: v.get("port")?.as_u64()? as u16,
    })
}

fn int_list(v: &[i32]) -> String {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

/// `/brokers/topics/<t>`: `{"version":1,"partitions":{"0":[1,2,0]}}`.
pub fn topic_assignment_json(assignment: &BTreeMap<i32, Vec<i32>>) -> String {
    let parts: Vec<String> =
        assignment.iter().map(|(p, r)| format!("\"{p}\":[{}]", int_list(r))).collect();
    format!("{{\"version\":1,\"partitions\":{{{}}}}}", parts.join(","))
}

/// Parses a topic's replica assignment.
pub fn parse_topic_assignment(json: &[u8]) -> Option<BTreeMap<i32, Vec<i32>>> {
    let v: Value = serde_json::from_slice(json).ok()?;
    let mut out = BTreeMap::new();
    for (p, r) in v.get("partitions")?.as_object()? {
        let replicas = r.as_array()?.iter().filter_map(|x| x.as_i64().map(|x| x as i32)).collect();
        out.insert(p.parse().ok()?, replicas);
    }
    Some(out)
}

/// A partition's state znode: `{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2,0]}`.
pub fn partition_state_json(
    controller_epoch: i32,
    leader: i32,
    leader_epoch: i32,
    isr: &[i32],
) -> String {
    format!(
        "{{\"controller_epoch\":{controller_epoch},\"leader\":{leader},\"version\":1,\"leader_epoch\":{leader_epoch},\"isr\":[{}]}}",
        int_list(isr)
    )
}

/// Parses a state znode into (controller_epoch, leader, leader_epoch, isr).
pub fn parse_partition_state(json: &[u8]) -> Option<(i32, i32, i32, Vec<i32>)> {
    let v: Value = serde_json::from_slice(json).ok()?;
    let isr =
        v.get("isr")?.as_array()?.iter().filter_map(|x| x.as_i64().map(|x| x as i32)).collect();
    Some((
        v.get("controller_epoch")?.as_i64()? as i32,
        v.get("leader")?.as_i64()? as i32,
        v.get("leader_epoch")?.as_i64()? as i32,
        isr,
    ))
}

/// A partition list, as `/isr_change_notification/*` and `/admin/preferred_replica_election`
/// hold it: `{"version":1,"partitions":[{"topic":"t","partition":0}]}`.
pub fn partition_list_json(partitions: &[(String, i32)]) -> String {
    let items: Vec<String> = partitions
        .iter()
        .map(|(t, p)| format!("{{\"topic\":\"{t}\",\"partition\":{p}}}"))
        .collect();
    format!("{{\"version\":1,\"partitions\":[{}]}}", items.join(","))
}

/// Parses a partition list; malformed entries are skipped.
pub fn parse_partition_list(json: &[u8]) -> Vec<(String, i32)> {
    let v: Value = serde_json::from_slice(json).unwrap_or_default();
    v.get("partitions")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get("topic")?.as_str()?.to_string(),
                        p.get("partition")?.as_i64()? as i32,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `/controller`: `{"version":1,"brokerid":0,"timestamp":"…"}`.
pub fn controller_json(broker_id: i32, timestamp_ms: i64) -> String {
    format!("{{\"version\":1,\"brokerid\":{broker_id},\"timestamp\":\"{timestamp_ms}\"}}")
}

/// The controller's broker id.
pub fn parse_controller(json: &[u8]) -> Option<i32> {
    let v: Value = serde_json::from_slice(json).ok()?;
    Some(v.get("brokerid")?.as_i64()? as i32)
}

/// `/config/topics/<t>`: `{"version":1,"config":{}}`.
pub fn topic_config_json(config: &BTreeMap<String, String>) -> String {
    let kv: Vec<String> = config.iter().map(|(k, v)| format!("\"{k}\":\"{v}\"")).collect();
    format!("{{\"version\":1,\"config\":{{{}}}}}", kv.join(","))
}

/// A `/config/changes/config_change_N` notification (0.9 `AdminUtils.changeEntityConfig`).
pub fn config_change_json(topic: &str) -> String {
    format!("{{\"version\":1,\"entity_type\":\"topics\",\"entity_name\":\"{topic}\"}}")
}

/// A topic's configs from `/config/topics/<t>` in the order `TopicCommand --describe` prints
/// them: 0.9 reads the JSON into a `java.util.Properties` (a `Hashtable`) and prints it in the
/// table's iteration order, so e.g. `__consumer_offsets` shows
/// `segment.bytes=…,cleanup.policy=compact,compression.type=uncompressed`. (Insertion follows
/// the JSON, which is exact for up to four configs; Scala reads larger objects into a hash map.)
pub fn topic_configs_in_describe_order(json: &[u8]) -> Vec<(String, String)> {
    struct Ordered(Vec<(String, String)>);
    impl<'de> serde::Deserialize<'de> for Ordered {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a config object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Ordered, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = m.next_entry::<String, Value>()? {
                        out.push((
                            k,
                            v.as_str().map(String::from).unwrap_or_else(|| v.to_string()),
                        ));
                    }
                    Ok(Ordered(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    #[derive(serde::Deserialize)]
    struct Znode {
        config: Ordered,
    }
    let entries = serde_json::from_slice::<Znode>(json).map(|z| z.config.0).unwrap_or_default();
    java_hashtable_order(entries)
}

/// The iteration order of a `java.util.Hashtable` (Java 8) after putting `entries` in order:
/// 11 buckets, rehash to `2n+1` at a load of 0.75, new entries at the head of their bucket,
/// iteration from the last bucket down.
pub fn java_hashtable_order(entries: Vec<(String, String)>) -> Vec<(String, String)> {
    let hash = |k: &str| crate::partitioner::java_string_hash(k);
    let bucket = |k: &str, n: usize| ((hash(k) & 0x7fff_ffff) as usize) % n;
    let mut table: Vec<Vec<(String, String)>> = vec![Vec::new(); 11];
    let mut count = 0usize;
    for (k, v) in entries {
        if let Some(e) = table.iter_mut().flatten().find(|(x, _)| *x == k) {
            e.1 = v;
            continue;
        }
        let threshold = (table.len() as f64 * 0.75) as usize;
        if count >= threshold {
            let n = table.len() * 2 + 1;
            let mut new: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
            for chain in table.iter().rev() {
                for e in chain {
                    let i = bucket(&e.0, n);
                    new[i].insert(0, e.clone());
                }
            }
            table = new;
        }
        let i = bucket(&k, table.len());
        table[i].insert(0, (k, v));
        count += 1;
    }
    table.into_iter().rev().flatten().collect()
}

/// Creates `path` and any missing parents as persistent znodes (`makeSurePersistentPathExists`).
pub async fn make_sure_persistent_path_exists(zk: &ZooKeeper, path: &str) -> Result<(), ZkError> {
    create_with_parents(zk, path, b"", CreateMode::Persistent).await.map(|_| ())
}

/// Creates a znode, creating missing parents first (`createParentPath`). An existing node is fine
/// for parents, and reported as `NodeExists` for the node itself.
pub async fn create_with_parents(
    zk: &ZooKeeper,
    path: &str,
    data: &[u8],
    mode: CreateMode,
) -> Result<String, ZkError> {
    let mut prefix = String::new();
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        prefix.push('/');
        prefix.push_str(part);
        match zk.create(&prefix, b"", CreateMode::Persistent).await {
            Ok(_) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    match zk.create(path, data, mode).await {
        Err(ZkError::NodeExists) if mode == CreateMode::Persistent && data.is_empty() => {
            Ok(path.to_string())
        }
        other => other,
    }
}

/// All topics' assignments.
pub async fn read_all_topics(
    zk: &ZooKeeper,
) -> Result<BTreeMap<String, BTreeMap<i32, Vec<i32>>>, ZkError> {
    read_all_topics_watched(zk, false).await
}

/// All topics' assignments, leaving a data watch on each `/brokers/topics/<t>` when `watch`
/// (the controller's `PartitionModificationsListener`s).
pub async fn read_all_topics_watched(
    zk: &ZooKeeper,
    watch: bool,
) -> Result<BTreeMap<String, BTreeMap<i32, Vec<i32>>>, ZkError> {
    let mut out = BTreeMap::new();
    let topics = match zk.get_children(BROKER_TOPICS, false).await {
        Ok(t) => t,
        Err(ZkError::NoNode) => return Ok(out),
        Err(e) => return Err(e),
    };
    for t in topics {
        if let Ok((data, _)) = zk.get_data(&format!("{BROKER_TOPICS}/{t}"), watch).await {
            if let Some(a) = parse_topic_assignment(&data) {
                out.insert(t, a);
            }
        }
    }
    Ok(out)
}

/// Live brokers from `/brokers/ids`.
pub async fn read_brokers(zk: &ZooKeeper) -> Result<BTreeMap<i32, BrokerEndPoint>, ZkError> {
    let mut out = BTreeMap::new();
    let ids = match zk.get_children(BROKER_IDS, false).await {
        Ok(ids) => ids,
        Err(ZkError::NoNode) => return Ok(out),
        Err(e) => return Err(e),
    };
    for id in ids {
        let Ok(n) = id.parse::<i32>() else { continue };
        if let Ok((data, _)) = zk.get_data(&format!("{BROKER_IDS}/{id}"), false).await {
            if let Some(b) = parse_broker(n, &data) {
                out.insert(n, b);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_what_0_9_writes() {
        assert_eq!(
            broker_json("master", 9092, 1458000000000),
            "{\"jmx_port\":-1,\"timestamp\":\"1458000000000\",\"endpoints\":[\"PLAINTEXT://master:9092\"],\"host\":\"master\",\"version\":2,\"port\":9092}"
        );
        let a = BTreeMap::from([(0, vec![1, 2, 0])]);
        assert_eq!(topic_assignment_json(&a), "{\"version\":1,\"partitions\":{\"0\":[1,2,0]}}");
        assert_eq!(parse_topic_assignment(topic_assignment_json(&a).as_bytes()), Some(a));
        assert_eq!(
            partition_state_json(1, 1, 0, &[1, 2, 0]),
            "{\"controller_epoch\":1,\"leader\":1,\"version\":1,\"leader_epoch\":0,\"isr\":[1,2,0]}"
        );
        assert_eq!(
            parse_partition_state(partition_state_json(3, -1, 2, &[]).as_bytes()),
            Some((3, -1, 2, vec![]))
        );
        assert_eq!(parse_controller(controller_json(2, 5).as_bytes()), Some(2));
        let list = vec![("t".to_string(), 0), ("u".to_string(), 3)];
        assert_eq!(partition_list_json(&list), "{\"version\":1,\"partitions\":[{\"topic\":\"t\",\"partition\":0},{\"topic\":\"u\",\"partition\":3}]}");
        assert_eq!(parse_partition_list(partition_list_json(&list).as_bytes()), list);
        assert_eq!(
            parse_broker(0, broker_json("slave1", 9092, 1).as_bytes()).map(|b| b.host),
            Some("slave1".into())
        );
    }

    #[test]
    fn topic_configs_print_in_hashtable_order() {
        // What 0.9 prints for the offsets topic (checked with java.util.Hashtable on OpenJDK).
        let json = super::super::coordinator::offsets::offsets_topic_config_json();
        let got: Vec<String> = topic_configs_in_describe_order(json.as_bytes())
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            got.join(","),
            "segment.bytes=104857600,cleanup.policy=compact,compression.type=uncompressed"
        );
        let kv =
            |v: &[&str]| v.iter().map(|k| (k.to_string(), "1".to_string())).collect::<Vec<_>>();
        // Enough keys to rehash (printed by OpenJDK's Hashtable.keySet()).
        let keys =
            |v: Vec<(String, String)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>().join(",");
        assert_eq!(
            keys(java_hashtable_order(kv(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]))),
            "j,i,h,g,f,e,d,c,b,a"
        );
        let topic = kv(&[
            "retention.ms",
            "segment.bytes",
            "cleanup.policy",
            "min.insync.replicas",
            "max.message.bytes",
            "flush.ms",
            "segment.ms",
            "delete.retention.ms",
            "flush.messages",
            "index.interval.bytes",
        ]);
        assert_eq!(
            keys(java_hashtable_order(topic)),
            "segment.bytes,flush.ms,delete.retention.ms,index.interval.bytes,min.insync.replicas,cleanup.policy,segment.ms,max.message.bytes,flush.messages,retention.ms"
        );
        assert!(topic_configs_in_describe_order(b"not json").is_empty());
    }
}
