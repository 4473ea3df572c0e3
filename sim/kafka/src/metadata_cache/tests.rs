use super::*;

fn broker(id: i32) -> BrokerEndPoint {
    BrokerEndPoint { id, host: format!("h{id}"), port: 9092 }
}

fn state(topic: &str, partition: i32, leader: i32) -> PartitionState {
    PartitionState {
        topic: topic.into(),
        partition,
        leader,
        leader_epoch: 0,
        isr: vec![leader],
        zk_version: 0,
        replicas: vec![leader],
    }
}

#[test]
fn update_metadata_replaces_brokers_and_sets_the_states_it_names() {
    let mut c = MetadataCache::default();
    c.update_cache(vec![broker(0), broker(1)], vec![state("t", 0, 0), state("t", 1, 1)]);
    c.update_cache(vec![broker(1)], vec![state("t", 0, 1)]);
    assert_eq!(c.alive_broker_ids(), vec![1]);
    assert_eq!(c.partition_count("t"), 2, "t-1 is kept");
    assert_eq!(c.get_partition_info("t", 0).map(|s| s.leader), Some(1));
    c.add_brokers(vec![broker(2)]);
    assert_eq!(c.alive_broker_ids(), vec![1, 2]);
    c.remove_partition(&("t".into(), 1));
    assert_eq!(c.partition_count("t"), 1);
    assert_eq!(c.partition_count("u"), 0);
}

#[test]
fn a_partition_led_by_a_dead_broker_has_no_leader_available() {
    let mut c = MetadataCache::default();
    c.update_cache(vec![broker(0)], vec![state("t", 0, 0), state("t", 1, 1), state("t", 2, -1)]);
    let md = c.topic_metadata();
    let errors: Vec<KafkaError> = md["t"].iter().map(|p| p.error_code).collect();
    assert_eq!(
        errors,
        vec![KafkaError::None, KafkaError::LeaderNotAvailable, KafkaError::LeaderNotAvailable]
    );
}
