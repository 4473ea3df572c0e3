//! `kafka.server.ReplicaFetcherThread`: a follower's task that pulls, from one leader, every
//! partition this broker follows there. It fetches from its log end (which tells the leader how
//! far it is), appends what comes back, and moves its high watermark to min(its log end, the
//! leader's HW). Out of range, it asks the leader for its log end and start and truncates or
//! starts over (`handleOffsetOutOfRange`); with `lab.replica.truncation=leader-epoch` it first
//! asks where its latest leader epoch ends (KIP-101).

use super::ReplicaManager;
use crate::leader_epoch::UNDEFINED_EPOCH_OFFSET;
use crate::log::{view_message_set, LogError, MessageView};
use crate::network_client::NetworkClient;
use crate::partition::Partition;
use crate::proto::{
    FetchPartition, FetchPartitionResponse, FetchRequest, KafkaError, ListOffsetsPartition,
    ListOffsetsRequest, OffsetsForLeaderEpochPartition, OffsetsForLeaderEpochRequest, Request,
    Response,
};
use sim_core::trace::{fields, kind, lock};
use std::sync::Arc;
use std::time::Duration;

/// The fetcher of one leader.
pub(crate) struct ReplicaFetcherThread {
    rm: Arc<ReplicaManager>,
    leader: i32,
}

impl ReplicaFetcherThread {
    /// The fetcher of the partitions `rm`'s broker follows on `leader`.
    pub(crate) fn new(rm: Arc<ReplicaManager>, leader: i32) -> Self {
        ReplicaFetcherThread { rm, leader }
    }

    /// `ReplicaFetcherThread`: pulls from one leader every partition this broker follows there.
    pub(crate) async fn run(&self) {
        let (rm, leader) = (&self.rm, self.leader);
        let mut client: Option<NetworkClient> = None;
        let socket_timeout = Duration::from_millis(rm.cfg.replica_socket_timeout_ms as u64);
        loop {
            let followed: Vec<Arc<Partition>> = rm
                .all_partitions()
                .into_iter()
                .filter(|p| lock(&p.info).leader == leader && leader != rm.broker_id)
                .collect();
            if followed.is_empty() {
                return;
            }
            let Some(addr) = lock(&rm.metadata_cache).get_alive_broker(leader) else {
                madsim::time::sleep(
                    Duration::from_millis(rm.cfg.replica_fetch_backoff_ms() as u64),
                )
                .await;
                continue;
            };
            if client.is_none() {
                let id = format!("ReplicaFetcherThread-0-{leader}");
                match NetworkClient::connect(&rm.ctx, &addr, &id, socket_timeout).await {
                    // One fetch at a time per leader, as the fetcher thread's blocking channel.
                    Ok(c) => client = Some(c.with_max_in_flight(1)),
                    Err(_) => {
                        madsim::time::sleep(Duration::from_millis(
                            rm.cfg.replica_fetch_backoff_ms() as u64,
                        ))
                        .await;
                        continue;
                    }
                }
            }
            let Some(c) = client.as_mut() else { continue };
            if !self.truncate_by_leader_epoch(c, &followed).await {
                client = None;
                madsim::time::sleep(
                    Duration::from_millis(rm.cfg.replica_fetch_backoff_ms() as u64),
                )
                .await;
                continue;
            }
            let followed: Vec<Arc<Partition>> =
                followed.into_iter().filter(|p| !*lock(&p.pending_epoch_truncation)).collect();
            if followed.is_empty() {
                madsim::time::sleep(
                    Duration::from_millis(rm.cfg.replica_fetch_backoff_ms() as u64),
                )
                .await;
                continue;
            }
            let wanted: Vec<FetchPartition> = followed
                .iter()
                .map(|p| FetchPartition {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    fetch_offset: *lock(&p.leo),
                    max_bytes: rm.cfg.replica_fetch_max_bytes,
                })
                .collect();
            let fetch_offsets = wanted.clone();
            let fetch = Request::Fetch(FetchRequest {
                replica_id: rm.broker_id,
                max_wait_time: rm.cfg.replica_fetch_wait_max_ms,
                min_bytes: rm.cfg.replica_fetch_min_bytes,
                topics: fetch_offsets,
            });
            let Ok(Response::Fetch(parts)) = c.request(fetch, socket_timeout).await else {
                client = None;
                madsim::time::sleep(
                    Duration::from_millis(rm.cfg.replica_fetch_backoff_ms() as u64),
                )
                .await;
                continue;
            };
            for r in parts.responses {
                let FetchPartitionResponse {
                    topic: t,
                    partition: p,
                    error_code: err,
                    high_watermark: leader_hw,
                    record_set: bytes,
                } = r;
                let Some(part) = rm.partition(&t, p) else { continue };
                if lock(&part.info).leader != leader {
                    continue;
                }
                // The partition may have been truncated (a new LeaderAndIsr) while this fetch was
                // in flight: like AbstractFetcherThread, drop a response for an offset that is no
                // longer where the log ends, or it would be appended at the wrong offsets.
                let fetched_at = wanted
                    .iter()
                    .find(|w| w.topic == t && w.partition == p)
                    .map(|w| w.fetch_offset);
                match err {
                    KafkaError::None => {
                        let (msgs, end) = view_message_set(&bytes);
                        // Intact messages are stored as fetched: the follower's file shares the
                        // leader's bytes (simulator memory only; every cost is still charged).
                        let intact = msgs.iter().all(|m| m.valid && m.magic == 0);
                        let mut log = part.log.lock().await;
                        if fetched_at != Some(log.log_end_offset()) {
                            continue;
                        }
                        if let (Some(first), Some(last)) =
                            (msgs.first().map(|m| m.offset), msgs.last().map(|m| m.offset))
                        {
                            let appended = if intact {
                                log.append_fetched(&msgs, bytes.slice(..end), rm.ctx.wall_ms())
                                    .await
                            } else {
                                log.append(
                                    msgs.iter().map(MessageView::to_record).collect(),
                                    false,
                                    rm.ctx.wall_ms(),
                                )
                                .await
                            };
                            match appended {
                                Ok(info) => {
                                    let epoch = lock(&part.info).leader_epoch;
                                    drop(log);
                                    rm.assign_epoch(&part, epoch, first).await;
                                    log = part.log.lock().await;
                                    rm.ctx.trace(
                                        kind::KAFKA_REPLICATE,
                                        None,
                                        fields! { "topic" => t.as_str(), "partition" => p, "first" => first, "last" => last, "leader" => leader, "crcs" => info.crcs },
                                    );
                                }
                                Err(LogError::Disk(e)) => {
                                    // AbstractFetcherThread: "Disk error while replicating data" halts.
                                    rm.ctx.trace(kind::KAFKA_FATAL, None, fields! { "topic" => t.as_str(), "partition" => p, "error" => e.to_string() });
                                    rm.ctx.halt(1).await
                                }
                                Err(_) => {}
                            }
                        }
                        let leo = log.log_end_offset();
                        *lock(&part.leo) = leo;
                        let mut info = lock(&part.info);
                        let hw = leader_hw.min(leo);
                        if hw > info.hw {
                            info.hw = hw;
                        }
                    }
                    KafkaError::OffsetOutOfRange => {
                        // handleOffsetOutOfRange: ask the leader for its log end (and start).
                        // Ahead of it (an unclean election, a leader that lost its page cache):
                        // truncate to its end. Behind its start (retention): start over there.
                        let (Some(end), Some(start)) = (
                            self.leader_offset(c, &t, p, -1).await,
                            self.leader_offset(c, &t, p, -2).await,
                        ) else {
                            continue;
                        };
                        let mut log = part.log.lock().await;
                        if log.log_end_offset() > end && !rm.unclean_leader_election_enable(&t) {
                            // 0.9 refuses to lose data it was told must not be lost: a leader
                            // behind this replica can only come from an unclean election or a
                            // leader that lost its page cache.
                            let (mine, topic) = (log.log_end_offset(), t.as_str());
                            let error = format!(
                                "Halting because log truncation is not allowed for topic {topic}, Current leader {leader}'s latest offset {end} is less than replica {}'s latest offset {mine}",
                                rm.broker_id
                            );
                            rm.ctx.trace(
                                kind::KAFKA_FATAL,
                                None,
                                fields! { "topic" => topic, "partition" => p, "error" => error },
                            );
                            rm.ctx.halt(1).await
                        }
                        let cut = if log.log_end_offset() > end {
                            let _ = log.truncate_to(end).await;
                            rm.ctx.trace(
                                kind::KAFKA_TRUNCATE,
                                None,
                                fields! { "topic" => t.as_str(), "partition" => p, "to" => end },
                            );
                            Some(Some(end))
                        } else if log.log_end_offset() < start {
                            let _ = log.truncate_fully_and_start_at(start).await;
                            rm.ctx.trace(kind::KAFKA_TRUNCATE, None, fields! { "topic" => t.as_str(), "partition" => p, "to" => start, "fully" => true });
                            Some(None)
                        } else {
                            None
                        };
                        *lock(&part.leo) = log.log_end_offset();
                        drop(log);
                        if let Some(to) = cut {
                            rm.trim_epochs(&part, to).await;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The follower half of KIP-101: for partitions whose leader changed, ask the leader where
    /// this replica's latest epoch ends and truncate there (to the HW if the leader cannot say).
    async fn truncate_by_leader_epoch(
        &self,
        c: &mut NetworkClient,
        parts: &[Arc<Partition>],
    ) -> bool {
        let rm = &self.rm;
        let pending: Vec<&Arc<Partition>> =
            parts.iter().filter(|p| *lock(&p.pending_epoch_truncation)).collect();
        if pending.is_empty() {
            return true;
        }
        let asked: Vec<OffsetsForLeaderEpochPartition> = pending
            .iter()
            .map(|p| OffsetsForLeaderEpochPartition {
                topic: p.topic.clone(),
                partition: p.partition,
                leader_epoch: lock(&p.epochs).latest_epoch().unwrap_or(-1),
            })
            .collect();
        let req =
            Request::OffsetsForLeaderEpoch(OffsetsForLeaderEpochRequest { topics: asked.clone() });
        let timeout = Duration::from_millis(rm.cfg.replica_socket_timeout_ms as u64);
        let Ok(Response::OffsetsForLeaderEpoch(ends)) = c.request(req, timeout).await else {
            return false;
        };
        for (part, OffsetsForLeaderEpochPartition { leader_epoch: epoch, .. }) in
            pending.iter().zip(&asked)
        {
            let end = ends
                .topics
                .iter()
                .find(|e| e.topic == part.topic && e.partition == part.partition)
                .map(|e| (e.error_code, e.end_offset));
            match end {
                Some((KafkaError::None, end)) if end != UNDEFINED_EPOCH_OFFSET => {
                    let leo = *lock(&part.leo);
                    rm.truncate(
                        part,
                        end.min(leo),
                        "leader_epoch",
                        fields! { "epoch" => *epoch, "leader_end" => end },
                    )
                    .await;
                }
                Some((KafkaError::None, _)) => {
                    let hw = lock(&part.info).hw;
                    rm.truncate(
                        part,
                        hw,
                        "high_watermark",
                        fields! { "epoch" => *epoch, "leader_end" => UNDEFINED_EPOCH_OFFSET },
                    )
                    .await;
                }
                // Not the leader (any more): the next LeaderAndIsr will say who is.
                _ => continue,
            }
            *lock(&part.pending_epoch_truncation) = false;
        }
        true
    }

    /// The leader's latest (−1) or earliest (−2) offset of a partition, over the fetcher's connection.
    async fn leader_offset(
        &self,
        c: &mut NetworkClient,
        topic: &str,
        p: i32,
        time: i64,
    ) -> Option<i64> {
        let rm = &self.rm;
        let req = Request::ListOffsets(ListOffsetsRequest {
            replica_id: rm.broker_id,
            topics: vec![ListOffsetsPartition {
                topic: topic.to_string(),
                partition: p,
                timestamp: time,
            }],
        });
        let timeout = Duration::from_millis(rm.cfg.replica_socket_timeout_ms.max(1) as u64);
        match c.request(req, timeout).await.ok()? {
            Response::ListOffsets(v) => {
                v.responses.first().filter(|r| r.error_code == KafkaError::None).map(|r| r.offset)
            }
            _ => None,
        }
    }
}
