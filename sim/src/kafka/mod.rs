//! Kafka 0.9 on ZooKeeper.
//!
//! Names mirror the real source: [`server`] is `KafkaServer` (with `KafkaController` in
//! [`controller`] and the `ReplicaManager` in [`replica_manager`]); [`log`] is `Log`/`LogSegment`;
//! [`config`] is `KafkaConfig` (server.properties); [`partitioner`] is the producer's
//! `DefaultPartitioner` with murmur2; [`admin`] is `AdminUtils` and the tools' option parsing;
//! [`leader_epoch`] is 0.11's `LeaderEpochFileCache`, behind a lab-only switch;
//! [`zk_consumer`] is the old consumer, `ZookeeperConsumerConnector`;
//! [`coordinator`] is the broker's `GroupCoordinator`, [`consumer`] the new `KafkaConsumer`, and
//! [`consumer_groups`] is `kafka-consumer-groups.sh`.

pub mod admin;
pub mod clients;
pub mod config;
pub mod consumer;
pub mod consumer_groups;
pub mod controller;
pub mod coordinator;
pub mod leader_epoch;
pub mod log;
pub mod partitioner;
pub mod proto;
pub mod replica_manager;
pub mod server;
pub mod tools;
pub mod zk_consumer;
pub mod zk_utils;
