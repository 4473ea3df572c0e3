//! One-shot watches (`WatchManager`), local to each server: which connection asked to hear about
//! which path, and which of them a [`WatchEvent`] fires.
//!
//! As in ZooKeeper 3.4 there are two tables, data watches (set by `getData`/`exists`) and child
//! watches (set by `getChildren`). A watch fires at most once and is then forgotten. Watches are
//! not replicated: a client that reconnects elsewhere re-registers them (`SetWatches`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The kind of change a watch reports (`Watcher.Event.EventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// -1: no node event; used for connection-state notifications.
    None,
    /// 1: the watched node was created.
    NodeCreated,
    /// 2: the watched node was deleted.
    NodeDeleted,
    /// 3: the watched node's data changed.
    NodeDataChanged,
    /// 4: the watched node's children changed.
    NodeChildrenChanged,
}

impl EventType {
    /// The integer code (`EventType.getIntValue()`).
    pub fn code(&self) -> i32 {
        match self {
            EventType::None => -1,
            EventType::NodeCreated => 1,
            EventType::NodeDeleted => 2,
            EventType::NodeDataChanged => 3,
            EventType::NodeChildrenChanged => 4,
        }
    }

    /// The event type for a code, `None` (the Option) if unknown.
    pub fn from_code(code: i32) -> Option<Self> {
        match code {
            -1 => Some(EventType::None),
            1 => Some(EventType::NodeCreated),
            2 => Some(EventType::NodeDeleted),
            3 => Some(EventType::NodeDataChanged),
            4 => Some(EventType::NodeChildrenChanged),
            _ => Option::None,
        }
    }

    /// The Java enum name, as in `WatchedEvent state:SyncConnected type:NodeDeleted path:/a`.
    pub fn name(&self) -> &'static str {
        match self {
            EventType::None => "None",
            EventType::NodeCreated => "NodeCreated",
            EventType::NodeDeleted => "NodeDeleted",
            EventType::NodeDataChanged => "NodeDataChanged",
            EventType::NodeChildrenChanged => "NodeChildrenChanged",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A change to a path that may fire watches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WatchEvent {
    /// The node the event is about (for `NodeChildrenChanged`, the parent).
    pub path: String,
    /// What happened.
    pub kind: EventType,
}

impl WatchEvent {
    /// Convenience constructor.
    pub fn new(path: impl Into<String>, kind: EventType) -> Self {
        WatchEvent { path: path.into(), kind }
    }
}

/// One watch table with its reverse index (ZooKeeper's `watchTable` and `watch2Paths`); the
/// reverse index makes dropping a closed connection's watches cheap.
#[derive(Clone, Debug)]
struct WatchTable<W: Ord + Clone> {
    by_path: BTreeMap<String, BTreeSet<W>>,
    by_watcher: BTreeMap<W, BTreeSet<String>>,
}

impl<W: Ord + Clone> WatchTable<W> {
    fn new() -> Self {
        WatchTable { by_path: BTreeMap::new(), by_watcher: BTreeMap::new() }
    }

    fn add(&mut self, path: &str, w: W) {
        self.by_path.entry(path.to_string()).or_default().insert(w.clone());
        self.by_watcher.entry(w).or_default().insert(path.to_string());
    }

    /// Removes and returns every watcher of `path` (one-shot).
    fn take(&mut self, path: &str) -> BTreeSet<W> {
        let watchers = self.by_path.remove(path).unwrap_or_default();
        for w in &watchers {
            if let Some(paths) = self.by_watcher.get_mut(w) {
                paths.remove(path);
                if paths.is_empty() {
                    self.by_watcher.remove(w);
                }
            }
        }
        watchers
    }

    fn remove_watcher(&mut self, w: &W) {
        let Some(paths) = self.by_watcher.remove(w) else {
            return;
        };
        for p in paths {
            if let Some(ws) = self.by_path.get_mut(&p) {
                ws.remove(w);
                if ws.is_empty() {
                    self.by_path.remove(&p);
                }
            }
        }
    }

    fn contains(&self, path: &str, w: &W) -> bool {
        self.by_path.get(path).is_some_and(|ws| ws.contains(w))
    }

    fn count(&self) -> usize {
        self.by_path.values().map(BTreeSet::len).sum()
    }
}

/// Data and child watches of one server (`WatchManager` ×2 in `DataTree` of ZooKeeper 3.4).
///
/// `W` identifies a watcher, e.g. a connection id. Everything is ordered so firing order is
/// deterministic.
#[derive(Clone, Debug)]
pub struct WatchManager<W: Ord + Clone> {
    data: WatchTable<W>,
    child: WatchTable<W>,
}

impl<W: Ord + Clone> Default for WatchManager<W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<W: Ord + Clone> WatchManager<W> {
    /// No watches.
    pub fn new() -> Self {
        WatchManager { data: WatchTable::new(), child: WatchTable::new() }
    }

    /// Registers a data watch (from `getData` or `exists`); registering twice is one watch.
    pub fn add_data_watch(&mut self, path: &str, w: W) {
        self.data.add(path, w);
    }

    /// Registers a child watch (from `getChildren`).
    pub fn add_child_watch(&mut self, path: &str, w: W) {
        self.child.add(path, w);
    }

    /// Fires the watches `ev` triggers and removes them, returning one `(watcher, event)` per
    /// watcher, sorted by watcher.
    ///
    /// - `NodeCreated`, `NodeDataChanged`: data watches on the path.
    /// - `NodeDeleted`: data and child watches on the path; a watcher holding both gets one
    ///   event (ZooKeeper passes the first set as `supress` to the second trigger).
    /// - `NodeChildrenChanged`: child watches on the path.
    /// - `None`: nothing.
    pub fn trigger(&mut self, ev: &WatchEvent) -> Vec<(W, WatchEvent)> {
        let watchers: BTreeSet<W> = match ev.kind {
            EventType::NodeCreated | EventType::NodeDataChanged => self.data.take(&ev.path),
            EventType::NodeDeleted => {
                let mut ws = self.data.take(&ev.path);
                ws.extend(self.child.take(&ev.path));
                ws
            }
            EventType::NodeChildrenChanged => self.child.take(&ev.path),
            EventType::None => BTreeSet::new(),
        };
        watchers.into_iter().map(|w| (w, ev.clone())).collect()
    }

    /// Fires a batch of events in order (e.g. a [`ProcessTxnResult`](super::data_tree::ProcessTxnResult)'s).
    pub fn trigger_all<'a>(
        &mut self,
        evs: impl IntoIterator<Item = &'a WatchEvent>,
    ) -> Vec<(W, WatchEvent)> {
        evs.into_iter().flat_map(|ev| self.trigger(ev)).collect()
    }

    /// Drops all of a watcher's watches (its connection closed).
    pub fn remove_watcher(&mut self, w: &W) {
        self.data.remove_watcher(w);
        self.child.remove_watcher(w);
    }

    /// Whether `w` has a data watch on `path`.
    pub fn has_data_watch(&self, path: &str, w: &W) -> bool {
        self.data.contains(path, w)
    }

    /// Whether `w` has a child watch on `path`.
    pub fn has_child_watch(&self, path: &str, w: &W) -> bool {
        self.child.contains(path, w)
    }

    /// Number of (path, watcher) data watches.
    pub fn data_watch_count(&self) -> usize {
        self.data.count()
    }

    /// Number of (path, watcher) child watches.
    pub fn child_watch_count(&self) -> usize {
        self.child.count()
    }

    /// Total watches, as `mntr`'s `zk_watch_count` reports (data + child).
    pub fn watch_count(&self) -> usize {
        self.data_watch_count() + self.child_watch_count()
    }

    /// Watched paths with their watchers, data and child merged (`wchp`), sorted.
    pub fn watchers_by_path(&self) -> BTreeMap<String, BTreeSet<W>> {
        let mut out = self.data.by_path.clone();
        for (p, ws) in &self.child.by_path {
            out.entry(p.clone()).or_default().extend(ws.iter().cloned());
        }
        out
    }

    /// Watchers with their watched paths, data and child merged (`wchc`), sorted.
    pub fn paths_by_watcher(&self) -> BTreeMap<W, BTreeSet<String>> {
        let mut out = self.data.by_watcher.clone();
        for (w, ps) in &self.child.by_watcher {
            out.entry(w.clone()).or_default().extend(ps.iter().cloned());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(path: &str, kind: EventType) -> WatchEvent {
        WatchEvent::new(path, kind)
    }

    #[test]
    fn event_codes() {
        assert_eq!(EventType::None.code(), -1);
        assert_eq!(EventType::NodeCreated.code(), 1);
        assert_eq!(EventType::NodeDeleted.code(), 2);
        assert_eq!(EventType::NodeDataChanged.code(), 3);
        assert_eq!(EventType::NodeChildrenChanged.code(), 4);
        for t in [
            EventType::None,
            EventType::NodeCreated,
            EventType::NodeDeleted,
            EventType::NodeDataChanged,
            EventType::NodeChildrenChanged,
        ] {
            assert_eq!(EventType::from_code(t.code()), Some(t));
        }
        assert_eq!(EventType::NodeChildrenChanged.to_string(), "NodeChildrenChanged");
    }

    #[test]
    fn one_shot_data_watch() {
        let mut wm = WatchManager::new();
        wm.add_data_watch("/a", 2u32);
        wm.add_data_watch("/a", 1);
        wm.add_data_watch("/a", 1); // twice: still one event
        assert_eq!(wm.data_watch_count(), 2);
        let fired = wm.trigger(&ev("/a", EventType::NodeDataChanged));
        assert_eq!(
            fired,
            vec![
                (1, ev("/a", EventType::NodeDataChanged)),
                (2, ev("/a", EventType::NodeDataChanged))
            ]
        );
        assert!(wm.trigger(&ev("/a", EventType::NodeDataChanged)).is_empty());
        assert_eq!(wm.watch_count(), 0);
        assert!(wm.paths_by_watcher().is_empty());
    }

    #[test]
    fn kinds_route_to_the_right_table() {
        let mut wm = WatchManager::new();
        wm.add_data_watch("/a", 1u32);
        wm.add_child_watch("/a", 2);
        // Children changes do not fire data watches, and vice versa.
        assert_eq!(wm.trigger(&ev("/a", EventType::NodeChildrenChanged)).len(), 1);
        assert!(wm.has_data_watch("/a", &1));
        assert!(!wm.has_child_watch("/a", &2));
        wm.add_child_watch("/a", 2);
        assert_eq!(
            wm.trigger(&ev("/a", EventType::NodeCreated)),
            vec![(1, ev("/a", EventType::NodeCreated))]
        );
        assert!(wm.has_child_watch("/a", &2));
        assert!(wm.trigger(&ev("/a", EventType::None)).is_empty());
        assert!(wm.trigger(&ev("/b", EventType::NodeDeleted)).is_empty());
    }

    #[test]
    fn delete_fires_data_and_child_once() {
        let mut wm = WatchManager::new();
        wm.add_data_watch("/a", 1u32);
        wm.add_child_watch("/a", 1);
        wm.add_child_watch("/a", 3);
        wm.add_data_watch("/a/b", 1);
        let fired = wm.trigger(&ev("/a", EventType::NodeDeleted));
        assert_eq!(
            fired,
            vec![(1, ev("/a", EventType::NodeDeleted)), (3, ev("/a", EventType::NodeDeleted))]
        );
        assert_eq!(wm.watch_count(), 1);
        assert!(wm.has_data_watch("/a/b", &1));
    }

    #[test]
    fn remove_watcher_drops_everything() {
        let mut wm = WatchManager::new();
        wm.add_data_watch("/a", 1u32);
        wm.add_child_watch("/b", 1);
        wm.add_data_watch("/a", 2);
        wm.remove_watcher(&1);
        assert_eq!(wm.watch_count(), 1);
        assert_eq!(wm.trigger(&ev("/a", EventType::NodeDataChanged)).len(), 1);
        assert!(wm.trigger(&ev("/b", EventType::NodeChildrenChanged)).is_empty());
        wm.remove_watcher(&42); // unknown watcher: no-op
    }

    #[test]
    fn listings_merge_tables() {
        let mut wm = WatchManager::new();
        wm.add_data_watch("/a", 1u32);
        wm.add_child_watch("/a", 2);
        wm.add_child_watch("/b", 1);
        let by_path = wm.watchers_by_path();
        assert_eq!(by_path["/a"], BTreeSet::from([1, 2]));
        let by_w = wm.paths_by_watcher();
        assert_eq!(by_w[&1], BTreeSet::from(["/a".to_string(), "/b".to_string()]));
        let fired = wm.trigger_all(&[
            ev("/a", EventType::NodeDeleted),
            ev("/b", EventType::NodeChildrenChanged),
        ]);
        assert_eq!(fired.len(), 3);
    }
}
