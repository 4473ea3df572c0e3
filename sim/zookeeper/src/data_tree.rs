//! The replicated znode tree (`DataTree`): every server applies the same committed txns in zxid
//! order with [`DataTree::process_txn`] and so holds the same tree, session table and ephemerals.
//!
//! This merges what ZooKeeper 3.4 splits between `PrepRequestProcessor` (validation),
//! `DataTree.processTxn` (mutation) and `ZKDatabase` (the session table): see [`Txn`] for why
//! validation happens at apply time. Watches are not stored here; [`ProcessTxnResult::events`]
//! says what each server's [`WatchManager`](super::watch_manager::WatchManager) should fire.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::txn::{validate_path, CreateMode, SessionId, Stat, Txn, TxnHeader, ZkError, Zxid};
use super::watch_manager::{EventType, WatchEvent};

/// The root path.
pub const ROOT_PATH: &str = "/";
/// ZooKeeper's own subtree (`Quotas.procZookeeper`).
pub const PROC_ZOOKEEPER: &str = "/zookeeper";
/// Where quotas live (`Quotas.quotaZookeeper`).
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";

/// One znode (`DataNode`): its data, its metadata and the names (not paths) of its children.
///
/// `stat` is the client-visible [`Stat`] rather than `StatPersisted`; `data_length` and
/// `num_children` are kept in step with `data` and `children`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DataNode {
    /// The node's data.
    pub data: Vec<u8>,
    /// The node's metadata.
    pub stat: Stat,
    /// Child names, sorted.
    pub children: BTreeSet<String>,
}

/// The outcome of applying one txn (`DataTree.ProcessTxnResult`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessTxnResult {
    /// The session that issued the request (`clientId`), to route the reply.
    pub session_id: SessionId,
    /// The client's request counter, echoed in the reply.
    pub cxid: i32,
    /// The txn's zxid.
    pub zxid: Zxid,
    /// `None` on success; the failing check otherwise (the txn then changed nothing but still
    /// consumed its zxid, like an `ErrorTxn`).
    pub err: Option<ZkError>,
    /// For create, the created path (with the sequence suffix); otherwise the request path
    /// (empty for session txns).
    pub path: String,
    /// For a successful create or setData, the node's new stat.
    pub stat: Option<Stat>,
    /// The watch events this txn triggers, in order.
    pub events: Vec<WatchEvent>,
}

/// The znode tree with the replicated session table.
///
/// Serializes as a snapshot (nodes, sessions, last processed zxid); the ephemerals index is
/// rebuilt from the nodes' `ephemeral_owner` on load, as ZooKeeper does in `deserialize`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "DataTreeSnapshot")]
pub struct DataTree {
    nodes: BTreeMap<String, DataNode>,
    /// Derived from `nodes`, so not stored in snapshots.
    #[serde(skip)]
    ephemerals: BTreeMap<SessionId, BTreeSet<String>>,
    sessions: BTreeMap<SessionId, i32>,
    last_processed_zxid: Zxid,
}

/// The serialized form of a [`DataTree`]: everything but the derived ephemerals index.
#[derive(Deserialize)]
struct DataTreeSnapshot {
    nodes: BTreeMap<String, DataNode>,
    sessions: BTreeMap<SessionId, i32>,
    last_processed_zxid: Zxid,
}

impl From<DataTreeSnapshot> for DataTree {
    fn from(s: DataTreeSnapshot) -> Self {
        let mut ephemerals: BTreeMap<SessionId, BTreeSet<String>> = BTreeMap::new();
        for (path, node) in &s.nodes {
            if node.stat.ephemeral_owner != 0 {
                ephemerals.entry(node.stat.ephemeral_owner).or_default().insert(path.clone());
            }
        }
        DataTree {
            nodes: s.nodes,
            ephemerals,
            sessions: s.sessions,
            last_processed_zxid: s.last_processed_zxid,
        }
    }
}

impl Default for DataTree {
    fn default() -> Self {
        Self::new()
    }
}

/// `path.substring(0, path.lastIndexOf('/'))`, with the empty parent meaning the root (ZooKeeper
/// aliases `""` to the root node).
fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => ROOT_PATH,
        Some(i) => &path[..i],
    }
}

/// The last path segment.
fn child_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// 64-bit FNV-1a: tiny, stable across platforms and Rust versions, which is all a tree
/// comparison needs.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    /// Length-prefixed, so ("ab","c") and ("a","bc") hash differently.
    fn write_field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }
}

impl DataTree {
    /// A fresh tree: `/`, `/zookeeper` and `/zookeeper/quota`, all with zeroed stats, as a new
    /// ZooKeeper server has.
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        let with_child = |name: &str| DataNode {
            data: Vec::new(),
            stat: Stat { num_children: 1, ..Stat::default() },
            children: BTreeSet::from([name.to_string()]),
        };
        nodes.insert(ROOT_PATH.to_string(), with_child("zookeeper"));
        nodes.insert(PROC_ZOOKEEPER.to_string(), with_child("quota"));
        nodes.insert(QUOTA_ZOOKEEPER.to_string(), DataNode::default());
        DataTree {
            nodes,
            ephemerals: BTreeMap::new(),
            sessions: BTreeMap::new(),
            last_processed_zxid: 0,
        }
    }

    /// Paths ZooKeeper refuses to delete (`DataTree.isSpecialPath`).
    pub fn is_special_path(path: &str) -> bool {
        path == ROOT_PATH || path == PROC_ZOOKEEPER || path == QUOTA_ZOOKEEPER
    }

    /// Applies one committed txn, as `FinalRequestProcessor` → `ZKDatabase.processTxn` →
    /// `DataTree.processTxn`. A failing txn changes nothing but `last_processed_zxid`.
    pub fn process_txn(&mut self, hdr: &TxnHeader, txn: &Txn) -> ProcessTxnResult {
        let mut rc = ProcessTxnResult {
            session_id: hdr.session_id,
            cxid: hdr.cxid,
            zxid: hdr.zxid,
            err: None,
            path: txn.path().unwrap_or("").to_string(),
            stat: None,
            events: Vec::new(),
        };
        let outcome = match txn {
            Txn::CreateSession { timeout_ms } => {
                self.sessions.insert(hdr.session_id, *timeout_ms);
                Ok(())
            }
            Txn::CloseSession => {
                self.kill_session(hdr.session_id, hdr.zxid, &mut rc.events);
                Ok(())
            }
            Txn::Create { path, data, mode } => {
                self.create(hdr, path, data, *mode, &mut rc.events).map(|(created, stat)| {
                    rc.path = created;
                    rc.stat = Some(stat);
                })
            }
            Txn::Delete { path, version } => self.delete(hdr, path, *version, &mut rc.events),
            Txn::SetData { path, data, version } => self
                .set_data(hdr, path, data, *version, &mut rc.events)
                .map(|stat| rc.stat = Some(stat)),
        };
        rc.err = outcome.err();
        // Followers may replay txns already in a snapshot (fuzzy snapshots); never go backwards.
        if hdr.zxid > self.last_processed_zxid {
            self.last_processed_zxid = hdr.zxid;
        }
        rc
    }

    /// Checks in the order of `PrepRequestProcessor` (create case), then `DataTree.createNode`.
    fn create(
        &mut self,
        hdr: &TxnHeader,
        path: &str,
        data: &[u8],
        mode: CreateMode,
        events: &mut Vec<WatchEvent>,
    ) -> Result<(String, Stat), ZkError> {
        // An ephemeral of an unknown (closed/expired) session would never be cleaned up; ZooKeeper
        // rejects such requests in `SessionTracker.checkSession`.
        if mode.is_ephemeral() && !self.sessions.contains_key(&hdr.session_id) {
            return Err(ZkError::SessionExpired);
        }
        validate_path(path, mode.is_sequential())?;
        let parent_path = parent_of(path).to_string();
        let parent = self.nodes.get(&parent_path).ok_or(ZkError::NoNode)?;
        let created = if mode.is_sequential() {
            // The suffix is the parent's cversion before this create (`%010d`, as Java).
            format!("{path}{:010}", parent.stat.cversion)
        } else {
            path.to_string()
        };
        validate_path(&created, false)?;
        if self.nodes.contains_key(&created) {
            return Err(ZkError::NodeExists);
        }
        if parent.stat.ephemeral_owner != 0 {
            return Err(ZkError::NoChildrenForEphemerals);
        }
        let owner = if mode.is_ephemeral() { hdr.session_id } else { 0 };
        let stat = Stat {
            czxid: hdr.zxid,
            mzxid: hdr.zxid,
            ctime: hdr.time_ms,
            mtime: hdr.time_ms,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            data_length: data.len() as i32,
            num_children: 0,
            pzxid: hdr.zxid,
        };
        if let Some(parent) = self.nodes.get_mut(&parent_path) {
            parent.children.insert(child_name(&created).to_string());
            parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
            parent.stat.pzxid = hdr.zxid;
            parent.stat.num_children = parent.children.len() as i32;
        }
        self.nodes.insert(
            created.clone(),
            DataNode { data: data.to_vec(), stat: stat.clone(), children: BTreeSet::new() },
        );
        if owner != 0 {
            self.ephemerals.entry(owner).or_default().insert(created.clone());
        }
        events.push(WatchEvent::new(created.clone(), EventType::NodeCreated));
        events.push(WatchEvent::new(parent_path, EventType::NodeChildrenChanged));
        Ok((created, stat))
    }

    /// Checks in the order of `PrepRequestProcessor` (delete case).
    fn delete(
        &mut self,
        hdr: &TxnHeader,
        path: &str,
        version: i32,
        events: &mut Vec<WatchEvent>,
    ) -> Result<(), ZkError> {
        validate_path(path, false)?;
        if Self::is_special_path(path) {
            return Err(ZkError::BadArguments);
        }
        let node = self.nodes.get(path).ok_or(ZkError::NoNode)?;
        if version != -1 && version != node.stat.version {
            return Err(ZkError::BadVersion);
        }
        if !node.children.is_empty() {
            return Err(ZkError::NotEmpty);
        }
        self.delete_node(path, hdr.zxid, events);
        Ok(())
    }

    /// Checks in the order of `PrepRequestProcessor` (setData case).
    fn set_data(
        &mut self,
        hdr: &TxnHeader,
        path: &str,
        data: &[u8],
        version: i32,
        events: &mut Vec<WatchEvent>,
    ) -> Result<Stat, ZkError> {
        validate_path(path, false)?;
        let node = self.nodes.get_mut(path).ok_or(ZkError::NoNode)?;
        if version != -1 && version != node.stat.version {
            return Err(ZkError::BadVersion);
        }
        node.data = data.to_vec();
        node.stat.version = node.stat.version.wrapping_add(1);
        node.stat.mzxid = hdr.zxid;
        node.stat.mtime = hdr.time_ms;
        node.stat.data_length = data.len() as i32;
        events.push(WatchEvent::new(path, EventType::NodeDataChanged));
        Ok(node.stat.clone())
    }

    /// `DataTree.deleteNode`: removes a (checked, childless) node and updates its parent.
    fn delete_node(&mut self, path: &str, zxid: Zxid, events: &mut Vec<WatchEvent>) {
        let Some(node) = self.nodes.remove(path) else {
            return;
        };
        let parent_path = parent_of(path).to_string();
        if let Some(parent) = self.nodes.get_mut(&parent_path) {
            parent.children.remove(child_name(path));
            // cversion counts deletes too, so a sequential name is never handed out twice.
            parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
            parent.stat.pzxid = zxid;
            parent.stat.num_children = parent.children.len() as i32;
        }
        let owner = node.stat.ephemeral_owner;
        if owner != 0 {
            if let Some(set) = self.ephemerals.get_mut(&owner) {
                set.remove(path);
                if set.is_empty() {
                    self.ephemerals.remove(&owner);
                }
            }
        }
        events.push(WatchEvent::new(path, EventType::NodeDeleted));
        events.push(WatchEvent::new(parent_path, EventType::NodeChildrenChanged));
    }

    /// `DataTree.killSession`: deletes the session's ephemerals (sorted by path) and forgets it.
    fn kill_session(&mut self, session: SessionId, zxid: Zxid, events: &mut Vec<WatchEvent>) {
        self.sessions.remove(&session);
        let paths = self.ephemerals.remove(&session).unwrap_or_default();
        for path in paths {
            self.delete_node(&path, zxid, events);
        }
    }

    /// Data and stat of a node (`getData`).
    pub fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat), ZkError> {
        self.nodes.get(path).map(|n| (n.data.clone(), n.stat.clone())).ok_or(ZkError::NoNode)
    }

    /// Stat of a node, `None` if absent (`exists` / `statNode`).
    pub fn stat_node(&self, path: &str) -> Option<Stat> {
        self.nodes.get(path).map(|n| n.stat.clone())
    }

    /// Sorted child names and the node's stat (`getChildren2`).
    pub fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat), ZkError> {
        self.nodes
            .get(path)
            .map(|n| (n.children.iter().cloned().collect(), n.stat.clone()))
            .ok_or(ZkError::NoNode)
    }

    /// The node itself, if present.
    pub fn get_node(&self, path: &str) -> Option<&DataNode> {
        self.nodes.get(path)
    }

    /// The ephemeral paths owned by a session, sorted (`getEphemerals(sessionId)`).
    pub fn ephemerals(&self, session: SessionId) -> Vec<String> {
        self.ephemerals.get(&session).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// All ephemerals by owning session (the `dump` four-letter word).
    pub fn ephemerals_by_session(&self) -> &BTreeMap<SessionId, BTreeSet<String>> {
        &self.ephemerals
    }

    /// Number of ephemeral nodes (`mntr`'s `zk_ephemerals_count`).
    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(BTreeSet::len).sum()
    }

    /// Live sessions and their timeouts in ms (`ZKDatabase.getSessionWithTimeOuts`).
    pub fn sessions(&self) -> &BTreeMap<SessionId, i32> {
        &self.sessions
    }

    /// Number of znodes (3 for a fresh tree).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// `DataTree.getNodeCount()` as `mntr` shows it in `zk_znode_count`: ZooKeeper 3.4 also
    /// stores the root under the alias `""`, so a fresh server reports 4.
    pub fn mntr_znode_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// `DataTree.approximateDataSize()`: sum of path lengths and data lengths
    /// (`zk_approximate_data_size`).
    pub fn approximate_data_size(&self) -> u64 {
        self.nodes.iter().map(|(p, n)| (p.len() + n.data.len()) as u64).sum()
    }

    /// The zxid of the last applied txn.
    pub fn last_processed_zxid(&self) -> Zxid {
        self.last_processed_zxid
    }

    /// Sets the last processed zxid, e.g. after loading a snapshot taken at a known zxid.
    pub fn set_last_processed_zxid(&mut self, zxid: Zxid) {
        self.last_processed_zxid = zxid;
    }

    /// All paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// A deterministic hash (FNV-1a) of every (path, data, stat), in path order; two servers
    /// with equal digests hold the same znodes. Sessions and the zxid are not included.
    pub fn digest(&self) -> u64 {
        let mut h = Fnv1a::new();
        for (path, node) in &self.nodes {
            h.write_field(path.as_bytes());
            h.write_field(&node.data);
            let s = &node.stat;
            for v in [s.czxid, s.mzxid, s.ctime, s.mtime, s.ephemeral_owner, s.pzxid] {
                h.write(&v.to_le_bytes());
            }
            for v in [s.version, s.cversion, s.aversion, s.data_length, s.num_children] {
                h.write(&v.to_le_bytes());
            }
        }
        h.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Applies txns with consecutive zxids starting at `first` and time = 1000 * zxid.
    struct Driver {
        tree: DataTree,
        zxid: Zxid,
    }

    impl Driver {
        fn new() -> Self {
            Driver { tree: DataTree::new(), zxid: 0x1_0000_0000 }
        }
        fn apply(&mut self, session: SessionId, txn: Txn) -> ProcessTxnResult {
            self.zxid += 1;
            let hdr = TxnHeader {
                session_id: session,
                cxid: 7,
                zxid: self.zxid,
                time_ms: 1000 * self.zxid,
            };
            self.tree.process_txn(&hdr, &txn)
        }
        fn create(
            &mut self,
            session: SessionId,
            path: &str,
            data: &[u8],
            mode: CreateMode,
        ) -> ProcessTxnResult {
            self.apply(session, Txn::Create { path: path.into(), data: data.to_vec(), mode })
        }
    }

    fn check_invariants(t: &DataTree) {
        for (path, node) in &t.nodes {
            assert_eq!(node.stat.num_children as usize, node.children.len(), "{path}");
            assert_eq!(node.stat.data_length as usize, node.data.len(), "{path}");
            for c in &node.children {
                let child = if path == "/" { format!("/{c}") } else { format!("{path}/{c}") };
                assert!(t.nodes.contains_key(&child), "{child}");
            }
            if path != "/" {
                assert!(t.nodes[parent_of(path)].children.contains(child_name(path)), "{path}");
            }
        }
        let rebuilt = DataTree::from(DataTreeSnapshot {
            nodes: t.nodes.clone(),
            sessions: t.sessions.clone(),
            last_processed_zxid: t.last_processed_zxid,
        });
        assert_eq!(rebuilt.ephemerals, t.ephemerals);
    }

    #[test]
    fn fresh_tree() {
        let t = DataTree::new();
        assert_eq!(t.paths().collect::<Vec<_>>(), vec!["/", "/zookeeper", "/zookeeper/quota"]);
        let (kids, stat) = t.get_children("/").expect("root");
        assert_eq!(kids, vec!["zookeeper"]);
        assert_eq!(stat, Stat { num_children: 1, ..Stat::default() });
        assert_eq!(t.node_count(), 3);
        assert_eq!(t.mntr_znode_count(), 4);
        assert_eq!(t.approximate_data_size(), (1 + 10 + 16) as u64);
        assert_eq!(t.last_processed_zxid(), 0);
        check_invariants(&t);
    }

    #[test]
    fn create_get_set_delete_with_stats() {
        let mut d = Driver::new();
        let r = d.create(1, "/a", b"hello", CreateMode::Persistent);
        assert_eq!(r.err, None);
        assert_eq!(r.path, "/a");
        assert_eq!(r.cxid, 7);
        assert_eq!(
            r.events,
            vec![
                WatchEvent::new("/a", EventType::NodeCreated),
                WatchEvent::new("/", EventType::NodeChildrenChanged),
            ]
        );
        let z1 = 0x1_0000_0001;
        let (data, st) = d.tree.get_data("/a").expect("/a");
        assert_eq!(data, b"hello");
        assert_eq!(
            st,
            Stat {
                czxid: z1,
                mzxid: z1,
                ctime: 1000 * z1,
                mtime: 1000 * z1,
                version: 0,
                cversion: 0,
                aversion: 0,
                ephemeral_owner: 0,
                data_length: 5,
                num_children: 0,
                pzxid: z1,
            }
        );
        let root = d.tree.stat_node("/").expect("root");
        assert_eq!((root.cversion, root.pzxid, root.num_children, root.czxid), (1, z1, 2, 0));

        let r = d.create(1, "/a/b", b"", CreateMode::Persistent);
        assert_eq!(r.err, None);
        let z2 = z1 + 1;
        let a = d.tree.stat_node("/a").expect("/a");
        assert_eq!((a.cversion, a.pzxid, a.num_children, a.mzxid, a.version), (1, z2, 1, z1, 0));

        let r = d.apply(1, Txn::SetData { path: "/a".into(), data: b"hi".to_vec(), version: 0 });
        assert_eq!(r.err, None);
        assert_eq!(r.events, vec![WatchEvent::new("/a", EventType::NodeDataChanged)]);
        let z3 = z2 + 1;
        let (data, a) = d.tree.get_data("/a").expect("/a");
        assert_eq!(data, b"hi");
        assert_eq!(
            (a.version, a.mzxid, a.mtime, a.czxid, a.data_length, a.pzxid),
            (1, z3, 1000 * z3, z1, 2, z2)
        );
        assert_eq!(r.stat, Some(a));

        let r = d.apply(1, Txn::Delete { path: "/a".into(), version: -1 });
        assert_eq!(r.err, Some(ZkError::NotEmpty));
        let r = d.apply(1, Txn::Delete { path: "/a/b".into(), version: 0 });
        assert_eq!(r.err, None);
        assert_eq!(
            r.events,
            vec![
                WatchEvent::new("/a/b", EventType::NodeDeleted),
                WatchEvent::new("/a", EventType::NodeChildrenChanged),
            ]
        );
        let z5 = z3 + 2;
        let a = d.tree.stat_node("/a").expect("/a");
        assert_eq!((a.cversion, a.pzxid, a.num_children), (2, z5, 0));
        assert_eq!(d.apply(1, Txn::Delete { path: "/a".into(), version: 1 }).err, None);
        assert_eq!(d.tree.get_data("/a"), Err(ZkError::NoNode));
        assert_eq!(d.tree.get_children("/a"), Err(ZkError::NoNode));
        assert_eq!(d.tree.stat_node("/").map(|s| (s.cversion, s.num_children)), Some((2, 1)));
        check_invariants(&d.tree);
    }

    #[test]
    fn sequential_names_count_deletes() {
        let mut d = Driver::new();
        d.create(1, "/q", b"", CreateMode::Persistent);
        let r0 = d.create(1, "/q/x-", b"", CreateMode::PersistentSequential);
        let r1 = d.create(1, "/q/x-", b"", CreateMode::PersistentSequential);
        assert_eq!((r0.path.as_str(), r1.path.as_str()), ("/q/x-0000000000", "/q/x-0000000001"));
        assert_eq!(r1.events[0], WatchEvent::new("/q/x-0000000001", EventType::NodeCreated));
        d.apply(1, Txn::Delete { path: "/q/x-0000000001".into(), version: -1 });
        // cversion is now 3 (two creates, one delete), so the next name is ...3, not ...1 again.
        let r = d.create(1, "/q/x-", b"", CreateMode::PersistentSequential);
        assert_eq!(r.path, "/q/x-0000000003");
        // A sequential node can end the prefix with '/'.
        let r = d.create(1, "/q/", b"", CreateMode::PersistentSequential);
        assert_eq!(r.path, "/q/0000000004");
        assert_eq!(
            d.tree.get_children("/q").expect("/q").0,
            vec!["0000000004", "x-0000000000", "x-0000000003"]
        );
    }

    #[test]
    fn create_errors() {
        let mut d = Driver::new();
        assert_eq!(d.create(1, "/a/b", b"", CreateMode::Persistent).err, Some(ZkError::NoNode));
        assert_eq!(d.create(1, "/a", b"", CreateMode::Persistent).err, None);
        let r = d.create(1, "/a", b"x", CreateMode::Persistent);
        assert_eq!(r.err, Some(ZkError::NodeExists));
        assert!(r.events.is_empty());
        assert_eq!(r.stat, None);
        assert_eq!(d.create(1, "/", b"", CreateMode::Persistent).err, Some(ZkError::NodeExists));
        assert_eq!(d.create(1, "a", b"", CreateMode::Persistent).err, Some(ZkError::BadArguments));
        assert_eq!(
            d.create(1, "/a/", b"", CreateMode::Persistent).err,
            Some(ZkError::BadArguments)
        );
        // Ephemeral from an unknown session: refused, nothing created.
        assert_eq!(
            d.create(9, "/e", b"", CreateMode::Ephemeral).err,
            Some(ZkError::SessionExpired)
        );
        d.apply(9, Txn::CreateSession { timeout_ms: 30000 });
        assert_eq!(d.create(9, "/e", b"", CreateMode::Ephemeral).err, None);
        let r = d.create(9, "/e/c", b"", CreateMode::Persistent);
        assert_eq!(r.err, Some(ZkError::NoChildrenForEphemerals));
        // Failed creates change nothing, not even the parent's cversion.
        assert_eq!(d.tree.stat_node("/a").map(|s| s.cversion), Some(0));
        assert_eq!(d.tree.get_data("/a").expect("/a").0, b"");
        check_invariants(&d.tree);
    }

    #[test]
    fn version_and_special_path_errors() {
        let mut d = Driver::new();
        d.create(1, "/a", b"", CreateMode::Persistent);
        let r = d.apply(1, Txn::SetData { path: "/a".into(), data: b"x".to_vec(), version: 3 });
        assert_eq!(r.err, Some(ZkError::BadVersion));
        assert!(r.events.is_empty());
        assert_eq!(
            d.apply(1, Txn::Delete { path: "/a".into(), version: 5 }).err,
            Some(ZkError::BadVersion)
        );
        assert_eq!(
            d.apply(1, Txn::SetData { path: "/nope".into(), data: vec![], version: -1 }).err,
            Some(ZkError::NoNode)
        );
        assert_eq!(
            d.apply(1, Txn::Delete { path: "/nope".into(), version: -1 }).err,
            Some(ZkError::NoNode)
        );
        assert_eq!(
            d.apply(1, Txn::Delete { path: "/".into(), version: -1 }).err,
            Some(ZkError::BadArguments)
        );
        assert_eq!(
            d.apply(1, Txn::Delete { path: "/zookeeper".into(), version: -1 }).err,
            Some(ZkError::BadArguments)
        );
        assert_eq!(
            d.apply(1, Txn::SetData { path: "/".into(), data: b"r".to_vec(), version: -1 }).err,
            None
        );
        assert_eq!(d.tree.stat_node("/a").map(|s| s.version), Some(0));
    }

    #[test]
    fn failed_txn_still_advances_zxid() {
        let mut t = DataTree::new();
        let hdr = TxnHeader { session_id: 1, cxid: 1, zxid: 0x5_0000_0003, time_ms: 10 };
        let r = t.process_txn(&hdr, &Txn::Delete { path: "/missing".into(), version: -1 });
        assert_eq!(r.err, Some(ZkError::NoNode));
        assert_eq!(r.zxid, 0x5_0000_0003);
        assert_eq!(t.last_processed_zxid(), 0x5_0000_0003);
        // Replaying an older txn does not move it back.
        let old = TxnHeader { zxid: 0x5_0000_0001, ..hdr };
        t.process_txn(&old, &Txn::CreateSession { timeout_ms: 4000 });
        assert_eq!(t.last_processed_zxid(), 0x5_0000_0003);
    }

    #[test]
    fn close_session_removes_ephemerals_and_fires_events() {
        let mut d = Driver::new();
        d.apply(0x10, Txn::CreateSession { timeout_ms: 6000 });
        d.apply(0x20, Txn::CreateSession { timeout_ms: 9000 });
        assert_eq!(d.tree.sessions(), &BTreeMap::from([(0x10, 6000), (0x20, 9000)]));
        d.create(0x10, "/brokers", b"", CreateMode::Persistent);
        d.create(0x10, "/brokers/2", b"b2", CreateMode::Ephemeral);
        d.create(0x10, "/brokers/1", b"b1", CreateMode::Ephemeral);
        d.create(0x10, "/lock-", b"", CreateMode::EphemeralSequential);
        d.create(0x20, "/brokers/3", b"b3", CreateMode::Ephemeral);
        assert_eq!(d.tree.stat_node("/brokers/1").map(|s| s.ephemeral_owner), Some(0x10));
        assert_eq!(d.tree.ephemerals(0x10), vec!["/brokers/1", "/brokers/2", "/lock-0000000001"]);
        assert_eq!(d.tree.ephemeral_count(), 4);

        let r = d.apply(0x10, Txn::CloseSession);
        assert_eq!(r.err, None);
        assert_eq!(
            r.events,
            vec![
                WatchEvent::new("/brokers/1", EventType::NodeDeleted),
                WatchEvent::new("/brokers", EventType::NodeChildrenChanged),
                WatchEvent::new("/brokers/2", EventType::NodeDeleted),
                WatchEvent::new("/brokers", EventType::NodeChildrenChanged),
                WatchEvent::new("/lock-0000000001", EventType::NodeDeleted),
                WatchEvent::new("/", EventType::NodeChildrenChanged),
            ]
        );
        assert!(d.tree.ephemerals(0x10).is_empty());
        assert_eq!(d.tree.get_children("/brokers").expect("/brokers").0, vec!["3"]);
        let b = d.tree.stat_node("/brokers").expect("/brokers");
        assert_eq!((b.cversion, b.pzxid), (5, d.zxid));
        assert_eq!(d.tree.sessions(), &BTreeMap::from([(0x20, 9000)]));
        // The closed session can no longer create ephemerals.
        assert_eq!(
            d.create(0x10, "/late", b"", CreateMode::Ephemeral).err,
            Some(ZkError::SessionExpired)
        );
        check_invariants(&d.tree);
    }

    #[test]
    fn events_drive_watch_manager() {
        use crate::watch_manager::WatchManager;
        let mut d = Driver::new();
        let mut wm: WatchManager<u32> = WatchManager::new();
        wm.add_data_watch("/a", 1); // exists("/a", true) on a missing node
        wm.add_child_watch("/", 2);
        let r = d.create(1, "/a", b"", CreateMode::Persistent);
        let fired = wm.trigger_all(&r.events);
        assert_eq!(
            fired,
            vec![
                (1, WatchEvent::new("/a", EventType::NodeCreated)),
                (2, WatchEvent::new("/", EventType::NodeChildrenChanged)),
            ]
        );
        let r = d.apply(1, Txn::SetData { path: "/a".into(), data: vec![1], version: -1 });
        assert!(wm.trigger_all(&r.events).is_empty(), "one-shot: already fired");
    }

    #[test]
    fn snapshot_round_trip_preserves_digest() {
        let mut d = Driver::new();
        d.apply(5, Txn::CreateSession { timeout_ms: 4000 });
        d.create(5, "/a", b"data", CreateMode::Persistent);
        d.create(5, "/a/e", b"", CreateMode::EphemeralSequential);
        d.apply(5, Txn::SetData { path: "/a".into(), data: b"more".to_vec(), version: 0 });
        let json = serde_json::to_string(&d.tree).expect("serialize");
        assert!(!json.contains("ephemerals"), "index is derived, not stored");
        let back: DataTree = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back.digest(), d.tree.digest());
        assert_eq!(back, d.tree);
        assert_eq!(back.ephemerals(5), vec!["/a/e0000000000"]);
        assert_eq!(back.last_processed_zxid(), d.tree.last_processed_zxid());
        assert_eq!(back.sessions(), d.tree.sessions());
        // And the digest does see changes.
        d.apply(5, Txn::SetData { path: "/a".into(), data: b"more".to_vec(), version: -1 });
        assert_ne!(back.digest(), d.tree.digest());
    }

    fn arb_txn() -> impl Strategy<Value = (SessionId, Txn)> {
        let path = prop::sample::select(vec![
            "/a",
            "/a/b",
            "/a/b/c",
            "/b",
            "/a/",
            "/q/x-",
            "/",
            "bad",
            "/zookeeper",
        ]);
        let mode = prop::sample::select(vec![
            CreateMode::Persistent,
            CreateMode::Ephemeral,
            CreateMode::PersistentSequential,
            CreateMode::EphemeralSequential,
        ]);
        let data = prop::collection::vec(any::<u8>(), 0..4);
        let version = -1i32..3;
        let txn = prop_oneof![
            (path.clone(), data.clone(), mode).prop_map(|(p, data, mode)| Txn::Create {
                path: p.into(),
                data,
                mode
            }),
            (path.clone(), version.clone())
                .prop_map(|(p, version)| Txn::Delete { path: p.into(), version }),
            (path, data, version).prop_map(|(p, data, version)| Txn::SetData {
                path: p.into(),
                data,
                version
            }),
            (1000i32..5000).prop_map(|timeout_ms| Txn::CreateSession { timeout_ms }),
            Just(Txn::CloseSession),
        ];
        (1i64..4, txn)
    }

    proptest! {
        #[test]
        fn same_txns_same_digest(txns in prop::collection::vec(arb_txn(), 0..60)) {
            let mut t1 = DataTree::new();
            let mut t2 = DataTree::new();
            // A "/q" parent so sequential creates usually succeed.
            let hdr0 = TxnHeader { session_id: 1, cxid: 0, zxid: 1, time_ms: 1 };
            let q = Txn::Create { path: "/q".into(), data: vec![], mode: CreateMode::Persistent };
            t1.process_txn(&hdr0, &q);
            t2.process_txn(&hdr0, &q);
            for (i, (session, txn)) in txns.iter().enumerate() {
                let hdr = TxnHeader { session_id: *session, cxid: i as i32, zxid: 2 + i as i64, time_ms: 100 * i as i64 };
                let r1 = t1.process_txn(&hdr, txn);
                let r2 = t2.process_txn(&hdr, txn);
                prop_assert_eq!(r1, r2);
            }
            prop_assert_eq!(t1.digest(), t2.digest());
            prop_assert_eq!(&t1, &t2);
            check_invariants(&t1);
            for (s, paths) in t1.ephemerals_by_session() {
                prop_assert!(t1.sessions().contains_key(s), "ephemerals of dead session {} {:?}", s, paths);
            }
            let back: DataTree = serde_json::from_str(&serde_json::to_string(&t1).expect("ser")).expect("de");
            prop_assert_eq!(back.digest(), t1.digest());
        }
    }
}
