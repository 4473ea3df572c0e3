//! One-shot watches (`WatchManager`). STUB: replaced by the data-tree helper.
