//! The replicated znode tree (`DataTree`). STUB: replaced by the data-tree helper.
