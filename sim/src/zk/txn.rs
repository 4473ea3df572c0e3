//! Transactions, Stat and error codes. STUB: replaced by the data-tree helper.
