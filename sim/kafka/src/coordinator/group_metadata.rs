//! `GroupMetadata` and `MemberMetadata`: one consumer group's membership and state, as the
//! coordinator keeps it (Kafka 0.9, `kafka.coordinator`).
//!
//! The states are 0.9's four:
//!
//! ```text
//!   (new group) ─ Stable ──join/leave/expiry──▶ PreparingRebalance ──all rejoined or timeout──▶ AwaitingSync
//!                  ▲                                   ▲                                          │
//!                  └──────────── leader's SyncGroup stored ────────────────────────────── (join/leave)
//!   any ──last member gone──▶ Dead (removed from the cache)
//! ```
//!
//! `Empty` (0.10.1) and `CompletingRebalance` (the 1.1 name of AwaitingSync) do not exist yet:
//! a 0.9 group whose last member leaves is Dead and forgotten, while its committed offsets stay.
//! This module is pure bookkeeping; timers and I/O live in [`super::GroupCoordinator`].

use super::super::errors::KafkaError;
use super::protocol::{GroupDescription, GroupResponse, JoinGroupMember, MemberDescription};
use futures::channel::oneshot;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A group's state (`GroupState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupState {
    /// Waiting for every known member to (re)join; joins are parked until then.
    PreparingRebalance,
    /// A new generation exists; waiting for the leader's assignment.
    AwaitingSync,
    /// Every member has its assignment; heartbeats are answered normally.
    Stable,
    /// No members left: removed from the coordinator's cache.
    Dead,
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::AwaitingSync => "AwaitingSync",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        })
    }
}

impl GroupState {
    /// `GroupMetadata.validPreviousStates`.
    fn valid_previous(self) -> &'static [GroupState] {
        match self {
            GroupState::Dead => {
                &[GroupState::Stable, GroupState::PreparingRebalance, GroupState::AwaitingSync]
            }
            GroupState::AwaitingSync => &[GroupState::PreparingRebalance],
            GroupState::Stable => &[GroupState::AwaitingSync],
            GroupState::PreparingRebalance => &[GroupState::Stable, GroupState::AwaitingSync],
        }
    }
}

/// A transition the state machine does not allow (`IllegalStateException` in Kafka).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Group {group} should be in the {expected} states before moving to {target} state. Instead it is in {current} state")]
pub struct IllegalTransition {
    /// Group.
    pub group: String,
    /// Allowed previous states.
    pub expected: String,
    /// Wanted state.
    pub target: GroupState,
    /// Actual state.
    pub current: GroupState,
}

/// Where a parked JoinGroup's answer goes.
pub type JoinCallback = oneshot::Sender<GroupResponse>;
/// Where a parked SyncGroup's answer goes.
pub type SyncCallback = oneshot::Sender<GroupResponse>;

/// One member (`MemberMetadata`).
#[derive(Debug)]
pub struct MemberMetadata {
    /// `<client.id>-<uuid>`.
    pub member_id: String,
    /// Group.
    pub group_id: String,
    /// `client.id`.
    pub client_id: String,
    /// `/ip` as the broker saw the connection.
    pub client_host: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// (protocol, metadata) in the member's preference order.
    pub protocols: Vec<(String, Vec<u8>)>,
    /// The assignment of the current generation.
    pub assignment: Vec<u8>,
    /// A parked JoinGroup.
    pub awaiting_join: Option<JoinCallback>,
    /// A parked SyncGroup.
    pub awaiting_sync: Option<SyncCallback>,
    /// Wall-clock ms of the last heartbeat (or join/sync) the coordinator saw.
    pub latest_heartbeat_ms: i64,
    /// Set by LeaveGroup.
    pub is_leaving: bool,
}

impl MemberMetadata {
    /// A member that has just joined (its callback is set by the caller).
    pub fn new(
        member_id: &str,
        group_id: &str,
        client_id: &str,
        client_host: &str,
        session_timeout_ms: i32,
        protocols: Vec<(String, Vec<u8>)>,
    ) -> Self {
        MemberMetadata {
            member_id: member_id.into(),
            group_id: group_id.into(),
            client_id: client_id.into(),
            client_host: client_host.into(),
            session_timeout_ms,
            protocols,
            assignment: Vec::new(),
            awaiting_join: None,
            awaiting_sync: None,
            latest_heartbeat_ms: 0,
            is_leaving: false,
        }
    }

    /// The protocol names this member supports.
    pub fn protocol_names(&self) -> BTreeSet<String> {
        self.protocols.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Its metadata for `protocol` (empty if it has none).
    pub fn metadata(&self, protocol: &str) -> Vec<u8> {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    /// The same protocols with the same metadata, in the same order.
    pub fn matches(&self, protocols: &[(String, Vec<u8>)]) -> bool {
        self.protocols == protocols
    }

    /// Its vote: the first protocol in its preference order that every member supports.
    pub fn vote(&self, candidates: &BTreeSet<String>) -> Option<String> {
        self.protocols.iter().map(|(n, _)| n).find(|n| candidates.contains(*n)).cloned()
    }

    /// `shouldKeepMemberAlive`: a parked request or a heartbeat newer than the deadline's.
    pub fn should_keep_alive(&self, heartbeat_deadline_ms: i64) -> bool {
        self.awaiting_join.is_some()
            || self.awaiting_sync.is_some()
            || self.latest_heartbeat_ms + self.session_timeout_ms as i64 > heartbeat_deadline_ms
    }
}

/// One group (`GroupMetadata`).
#[derive(Debug)]
pub struct GroupMetadata {
    /// Group id.
    pub group_id: String,
    /// `consumer` for consumer groups.
    pub protocol_type: String,
    /// Members by id (sorted, so "the first member" is deterministic).
    pub members: BTreeMap<String, MemberMetadata>,
    state: GroupState,
    /// Incremented when a rebalance completes.
    pub generation_id: i32,
    /// The member that runs the assignor.
    pub leader_id: Option<String>,
    /// The chosen protocol (assignor).
    pub protocol: Option<String>,
    /// Which `PreparingRebalance` this is (so a stale rebalance timer does nothing).
    pub rebalance_id: u64,
}

impl GroupMetadata {
    /// A new group: Stable, generation 0, no members (0.9 starts a group in Stable).
    pub fn new(group_id: &str, protocol_type: &str) -> Self {
        GroupMetadata {
            group_id: group_id.into(),
            protocol_type: protocol_type.into(),
            members: BTreeMap::new(),
            state: GroupState::Stable,
            generation_id: 0,
            leader_id: None,
            protocol: None,
            rebalance_id: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> GroupState {
        self.state
    }

    /// Whether the group is in `s`.
    pub fn is(&self, s: GroupState) -> bool {
        self.state == s
    }

    /// Whether `member_id` is a member.
    pub fn has(&self, member_id: &str) -> bool {
        self.members.contains_key(member_id)
    }

    /// No members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adds a member; the first member of a group leads it.
    pub fn add(&mut self, member: MemberMetadata) {
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member; a departing leader is replaced by another member (Kafka takes the
    /// first key of a hash map; here the smallest member id).
    pub fn remove(&mut self, member_id: &str) -> Option<MemberMetadata> {
        let m = self.members.remove(member_id);
        if self.leader_id.as_deref() == Some(member_id) {
            self.leader_id = self.members.keys().next().cloned();
        }
        m
    }

    /// Members that have not sent a JoinGroup for the rebalance in progress.
    pub fn not_yet_rejoined_members(&self) -> Vec<String> {
        self.members
            .values()
            .filter(|m| m.awaiting_join.is_none())
            .map(|m| m.member_id.clone())
            .collect()
    }

    /// `rebalanceTimeout`: the largest session timeout of the members (0.9 has no separate
    /// `rebalance.timeout.ms`; it came with KIP-62 in 0.10.1).
    pub fn rebalance_timeout_ms(&self) -> i32 {
        self.members.values().map(|m| m.session_timeout_ms).max().unwrap_or(0)
    }

    /// A rebalance may start from Stable or AwaitingSync.
    pub fn can_rebalance(&self) -> bool {
        matches!(self.state, GroupState::Stable | GroupState::AwaitingSync)
    }

    /// Moves to `target` if the state machine allows it.
    pub fn transition_to(&mut self, target: GroupState) -> Result<GroupState, IllegalTransition> {
        let allowed = target.valid_previous();
        if !allowed.contains(&self.state) {
            return Err(IllegalTransition {
                group: self.group_id.clone(),
                expected: allowed.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(","),
                target,
                current: self.state,
            });
        }
        let from = self.state;
        self.state = target;
        Ok(from)
    }

    /// Protocols every member supports.
    fn candidate_protocols(&self) -> BTreeSet<String> {
        let mut it = self.members.values().map(|m| m.protocol_names());
        let first = it.next().unwrap_or_default();
        it.fold(first, |acc, p| acc.intersection(&p).cloned().collect())
    }

    /// `supportsProtocols`: an empty group takes anything; otherwise some protocol in common.
    pub fn supports_protocols(&self, names: &BTreeSet<String>) -> bool {
        self.is_empty() || !self.candidate_protocols().is_disjoint(names)
    }

    /// `selectProtocol`: each member votes for its favourite common protocol, most votes win
    /// (ties: the alphabetically first, where Kafka's hash map decides).
    pub fn select_protocol(&self) -> Option<String> {
        let candidates = self.candidate_protocols();
        let mut votes: BTreeMap<String, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some(v) = m.vote(&candidates) {
                *votes.entry(v).or_default() += 1;
            }
        }
        let best = votes.values().copied().max()?;
        votes.into_iter().find(|(_, n)| *n == best).map(|(p, _)| p)
    }

    /// `initNextGeneration`: generation + 1, protocol chosen, on to AwaitingSync.
    pub fn init_next_generation(&mut self) -> Result<(), IllegalTransition> {
        self.transition_to(GroupState::AwaitingSync)?;
        self.generation_id += 1;
        self.protocol = self.select_protocol();
        Ok(())
    }

    /// Every member's metadata for the chosen protocol (what the leader gets in JoinGroup).
    pub fn current_member_metadata(&self) -> Vec<JoinGroupMember> {
        let p = self.protocol.clone().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinGroupMember {
                member_id: m.member_id.clone(),
                member_metadata: m.metadata(&p),
            })
            .collect()
    }

    /// `summary` for DescribeGroups: metadata and assignments only when Stable.
    pub fn summary(&self) -> GroupDescription {
        let stable = self.is(GroupState::Stable);
        let p = self.protocol.clone().unwrap_or_default();
        GroupDescription {
            group_id: self.group_id.clone(),
            error_code: KafkaError::None,
            state: self.state.to_string(),
            protocol_type: self.protocol_type.clone(),
            protocol: if stable { p.clone() } else { String::new() },
            members: self
                .members
                .values()
                .map(|m| MemberDescription {
                    member_id: m.member_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: if stable { m.metadata(&p) } else { Vec::new() },
                    assignment: if stable { m.assignment.clone() } else { Vec::new() },
                })
                .collect(),
        }
    }

    /// `GroupCoordinator.DeadGroup`: what DescribeGroups answers for an unknown group.
    pub fn dead_summary(group_id: &str) -> GroupDescription {
        GroupDescription {
            group_id: group_id.into(),
            error_code: KafkaError::None,
            state: GroupState::Dead.to_string(),
            protocol_type: String::new(),
            protocol: String::new(),
            members: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, protocols: &[&str]) -> MemberMetadata {
        MemberMetadata::new(
            id,
            "g",
            "consumer-1",
            "/192.168.1.100",
            30_000,
            protocols.iter().map(|p| (p.to_string(), vec![1])).collect(),
        )
    }

    #[test]
    fn a_rebalance_walks_the_0_9_states() {
        let mut g = GroupMetadata::new("g", "consumer");
        assert!(g.is(GroupState::Stable) && g.can_rebalance());
        g.add(member("b", &["range"]));
        g.add(member("a", &["roundrobin", "range"]));
        assert_eq!(g.leader_id.as_deref(), Some("b"), "the first member to join leads");
        assert_eq!(g.transition_to(GroupState::PreparingRebalance), Ok(GroupState::Stable));
        assert!(!g.can_rebalance());
        assert_eq!(g.not_yet_rejoined_members(), vec!["a".to_string(), "b".to_string()]);
        g.init_next_generation().expect("PreparingRebalance -> AwaitingSync");
        assert_eq!(
            (g.generation_id, g.protocol.as_deref()),
            (1, Some("range")),
            "range is the only common protocol"
        );
        assert!(g.is(GroupState::AwaitingSync));
        assert_eq!(g.summary().protocol, "", "no protocol shown before Stable");
        g.transition_to(GroupState::Stable).expect("AwaitingSync -> Stable");
        assert_eq!(g.summary().state, "Stable");
        assert_eq!(g.summary().protocol, "range");
        // Illegal moves are refused, with Kafka's wording.
        let e = g.transition_to(GroupState::AwaitingSync).unwrap_err();
        assert_eq!(e.to_string(), "Group g should be in the PreparingRebalance states before moving to AwaitingSync state. Instead it is in Stable state");
        // The leader leaves: another member leads; the last one leaves: the group can die.
        g.remove("b");
        assert_eq!(g.leader_id.as_deref(), Some("a"));
        g.remove("a");
        assert!(g.is_empty() && g.leader_id.is_none());
        assert!(g.transition_to(GroupState::Dead).is_ok());
        assert!(g.transition_to(GroupState::Stable).is_err(), "Dead is final");
    }

    #[test]
    fn protocols_are_voted_and_checked() {
        let mut g = GroupMetadata::new("g", "consumer");
        g.add(member("a", &["roundrobin", "range"]));
        g.add(member("b", &["roundrobin", "range"]));
        g.add(member("c", &["range", "roundrobin"]));
        assert_eq!(g.select_protocol().as_deref(), Some("roundrobin"), "two votes to one");
        assert!(g.supports_protocols(&["range".to_string()].into()));
        assert!(!g.supports_protocols(&["sticky".to_string()].into()));
        assert!(GroupMetadata::new("e", "consumer")
            .supports_protocols(&["anything".to_string()].into()));
        assert_eq!(g.rebalance_timeout_ms(), 30_000);
        let m = member("x", &["range"]);
        assert!(m.matches(&[("range".to_string(), vec![1])]));
        assert!(!m.matches(&[("range".to_string(), vec![2])]));
    }

    #[test]
    fn members_stay_alive_while_parked_or_heartbeating() {
        let mut m = member("a", &["range"]);
        m.latest_heartbeat_ms = 1_000;
        assert!(m.should_keep_alive(30_999));
        assert!(
            !m.should_keep_alive(31_000),
            "a deadline one session after the last heartbeat expires it"
        );
        let (tx, _rx) = oneshot::channel();
        m.awaiting_join = Some(tx);
        assert!(m.should_keep_alive(1_000_000), "a parked join keeps a member");
    }
}
