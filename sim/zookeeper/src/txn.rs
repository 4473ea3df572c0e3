//! Transactions, `Stat`, zxids, error codes and path validation: the vocabulary that the ZAB
//! layer replicates and the [`DataTree`](super::data_tree::DataTree) applies.
//!
//! Names follow Apache ZooKeeper 3.4: [`Stat`] is `org.apache.zookeeper.data.Stat`, [`ZkError`] is
//! `KeeperException.Code`, [`validate_path`] is `PathUtils.validatePath`, [`TxnHeader`] is
//! `org.apache.zookeeper.txn.TxnHeader`.

use serde::{Deserialize, Serialize};

/// A ZooKeeper transaction id: the high 32 bits are the leader epoch, the low 32 bits a counter.
pub type Zxid = i64;

/// A client session id (`ZooKeeper.getSessionId()`); 0 means "no session".
pub type SessionId = i64;

/// The epoch half of a zxid (`ZxidUtils.getEpochFromZxid`).
pub fn zxid_epoch(z: Zxid) -> u32 {
    (z >> 32) as u32
}

/// The counter half of a zxid (`ZxidUtils.getCounterFromZxid`).
pub fn zxid_counter(z: Zxid) -> u32 {
    (z & 0xffff_ffff) as u32
}

/// Builds a zxid from an epoch and a counter (`ZxidUtils.makeZxid`).
pub fn make_zxid(epoch: u32, counter: u32) -> Zxid {
    ((epoch as i64) << 32) | counter as i64
}

/// Formats a zxid the way ZooKeeper logs and zkCli print it: `"0x"` + `Long.toHexString`
/// (lowercase, no leading zeros; `0` → `"0x0"`).
pub fn fmt_zxid(z: Zxid) -> String {
    // `{:x}` on i64 is two's complement, exactly like Long.toHexString for negatives.
    format!("0x{z:x}")
}

/// The metadata of a znode, as returned to clients (`org.apache.zookeeper.data.Stat`).
///
/// Times are milliseconds since the Unix epoch (simulated clock).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stat {
    /// zxid of the transaction that created the node (`cZxid`).
    pub czxid: Zxid,
    /// zxid of the transaction that last modified the node's data (`mZxid`).
    pub mzxid: Zxid,
    /// Creation time, ms since epoch.
    pub ctime: i64,
    /// Last data modification time, ms since epoch.
    pub mtime: i64,
    /// Number of changes to the data (`dataVersion`).
    pub version: i32,
    /// Number of changes to the children (creates and deletes).
    pub cversion: i32,
    /// Number of changes to the ACL (`aclVersion`); always 0 here, ACLs are not modelled.
    pub aversion: i32,
    /// Owning session of an ephemeral node, 0 for a persistent one.
    pub ephemeral_owner: SessionId,
    /// Length of the data in bytes.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// zxid of the last change to the children (`pZxid`).
    pub pzxid: Zxid,
}

/// How a node is created (`org.apache.zookeeper.CreateMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CreateMode {
    /// Survives the session that created it.
    Persistent,
    /// Deleted when the owning session closes or expires.
    Ephemeral,
    /// Persistent, with a 10-digit counter from the parent's cversion appended to the name.
    PersistentSequential,
    /// Ephemeral and sequential.
    EphemeralSequential,
}

impl CreateMode {
    /// True for `Ephemeral` and `EphemeralSequential`.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self, CreateMode::Ephemeral | CreateMode::EphemeralSequential)
    }

    /// True for the two sequential modes.
    pub fn is_sequential(&self) -> bool {
        matches!(self, CreateMode::PersistentSequential | CreateMode::EphemeralSequential)
    }

    /// The flag value used on the wire (`CreateMode.toFlag`).
    pub fn to_flag(&self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
        }
    }
}

/// A ZooKeeper error (`KeeperException.Code`, without `OK`).
///
/// `Display` gives the same text as `KeeperException.getMessage()` without a path:
/// `KeeperErrorCode = <codeMessage>`; use [`ZkError::message_for_path`] for the `" for /path"` form.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
pub enum ZkError {
    /// -1: a system or server-side error.
    #[error("KeeperErrorCode = SystemError")]
    SystemError,
    /// -2: a runtime inconsistency was found.
    #[error("KeeperErrorCode = RuntimeInconsistency")]
    RuntimeInconsistency,
    /// -3: a data inconsistency was found.
    #[error("KeeperErrorCode = DataInconsistency")]
    DataInconsistency,
    /// -4: connection to the server was lost.
    #[error("KeeperErrorCode = ConnectionLoss")]
    ConnectionLoss,
    /// -5: error while marshalling or unmarshalling data.
    #[error("KeeperErrorCode = MarshallingError")]
    MarshallingError,
    /// -6: operation is unimplemented.
    #[error("KeeperErrorCode = Unimplemented")]
    Unimplemented,
    /// -7: operation timeout.
    #[error("KeeperErrorCode = OperationTimeout")]
    OperationTimeout,
    /// -8: invalid arguments (bad path, deleting a system node, ...).
    #[error("KeeperErrorCode = BadArguments")]
    BadArguments,
    /// -100: API error (range marker, never thrown by a server).
    #[error("KeeperErrorCode = APIError")]
    ApiError,
    /// -101: node does not exist.
    #[error("KeeperErrorCode = NoNode")]
    NoNode,
    /// -102: not authenticated.
    #[error("KeeperErrorCode = NoAuth")]
    NoAuth,
    /// -103: version conflict.
    #[error("KeeperErrorCode = BadVersion")]
    BadVersion,
    /// -108: ephemeral nodes may not have children.
    #[error("KeeperErrorCode = NoChildrenForEphemerals")]
    NoChildrenForEphemerals,
    /// -110: the node already exists.
    #[error("KeeperErrorCode = NodeExists")]
    NodeExists,
    /// -111: the node has children.
    #[error("KeeperErrorCode = Directory not empty")]
    NotEmpty,
    /// -112: the session has been expired by the server.
    #[error("KeeperErrorCode = Session expired")]
    SessionExpired,
    /// -113: invalid callback specified.
    #[error("KeeperErrorCode = Invalid callback")]
    InvalidCallback,
    /// -114: invalid ACL specified.
    #[error("KeeperErrorCode = InvalidACL")]
    InvalidAcl,
    /// -115: client authentication failed.
    #[error("KeeperErrorCode = AuthFailed")]
    AuthFailed,
    /// -118: session moved to another server, so operation is ignored.
    #[error("KeeperErrorCode = Session moved")]
    SessionMoved,
    /// -119: state-changing request passed to a read-only server.
    #[error("KeeperErrorCode = Not a read-only call")]
    NotReadOnly,
}

/// Every error, for table-driven lookups; order is by code as in `KeeperException.Code`.
const ALL_ERRORS: [ZkError; 21] = [
    ZkError::SystemError,
    ZkError::RuntimeInconsistency,
    ZkError::DataInconsistency,
    ZkError::ConnectionLoss,
    ZkError::MarshallingError,
    ZkError::Unimplemented,
    ZkError::OperationTimeout,
    ZkError::BadArguments,
    ZkError::ApiError,
    ZkError::NoNode,
    ZkError::NoAuth,
    ZkError::BadVersion,
    ZkError::NoChildrenForEphemerals,
    ZkError::NodeExists,
    ZkError::NotEmpty,
    ZkError::SessionExpired,
    ZkError::InvalidCallback,
    ZkError::InvalidAcl,
    ZkError::AuthFailed,
    ZkError::SessionMoved,
    ZkError::NotReadOnly,
];

impl ZkError {
    /// The integer code (`KeeperException.Code.intValue()`).
    pub fn code(&self) -> i32 {
        match self {
            ZkError::SystemError => -1,
            ZkError::RuntimeInconsistency => -2,
            ZkError::DataInconsistency => -3,
            ZkError::ConnectionLoss => -4,
            ZkError::MarshallingError => -5,
            ZkError::Unimplemented => -6,
            ZkError::OperationTimeout => -7,
            ZkError::BadArguments => -8,
            ZkError::ApiError => -100,
            ZkError::NoNode => -101,
            ZkError::NoAuth => -102,
            ZkError::BadVersion => -103,
            ZkError::NoChildrenForEphemerals => -108,
            ZkError::NodeExists => -110,
            ZkError::NotEmpty => -111,
            ZkError::SessionExpired => -112,
            ZkError::InvalidCallback => -113,
            ZkError::InvalidAcl => -114,
            ZkError::AuthFailed => -115,
            ZkError::SessionMoved => -118,
            ZkError::NotReadOnly => -119,
        }
    }

    /// The error for a code; `None` for 0 (`OK`) and unknown codes.
    pub fn from_code(code: i32) -> Option<Self> {
        ALL_ERRORS.iter().copied().find(|e| e.code() == code)
    }

    /// The text of `KeeperException.getCodeMessage(code)`, e.g. `"NoNode"`, `"Directory not empty"`.
    pub fn keeper_error_code_name(&self) -> &'static str {
        match self {
            ZkError::SystemError => "SystemError",
            ZkError::RuntimeInconsistency => "RuntimeInconsistency",
            ZkError::DataInconsistency => "DataInconsistency",
            ZkError::ConnectionLoss => "ConnectionLoss",
            ZkError::MarshallingError => "MarshallingError",
            ZkError::Unimplemented => "Unimplemented",
            ZkError::OperationTimeout => "OperationTimeout",
            ZkError::BadArguments => "BadArguments",
            ZkError::ApiError => "APIError",
            ZkError::NoNode => "NoNode",
            ZkError::NoAuth => "NoAuth",
            ZkError::BadVersion => "BadVersion",
            ZkError::NoChildrenForEphemerals => "NoChildrenForEphemerals",
            ZkError::NodeExists => "NodeExists",
            ZkError::NotEmpty => "Directory not empty",
            ZkError::SessionExpired => "Session expired",
            ZkError::InvalidCallback => "Invalid callback",
            ZkError::InvalidAcl => "InvalidACL",
            ZkError::AuthFailed => "AuthFailed",
            ZkError::SessionMoved => "Session moved",
            ZkError::NotReadOnly => "Not a read-only call",
        }
    }

    /// The simple name of the Java exception class, e.g. `"NoNodeException"`.
    pub fn exception_class_name(&self) -> &'static str {
        match self {
            ZkError::SystemError => "SystemErrorException",
            ZkError::RuntimeInconsistency => "RuntimeInconsistencyException",
            ZkError::DataInconsistency => "DataInconsistencyException",
            ZkError::ConnectionLoss => "ConnectionLossException",
            ZkError::MarshallingError => "MarshallingErrorException",
            ZkError::Unimplemented => "UnimplementedException",
            ZkError::OperationTimeout => "OperationTimeoutException",
            ZkError::BadArguments => "BadArgumentsException",
            ZkError::ApiError => "APIErrorException",
            ZkError::NoNode => "NoNodeException",
            ZkError::NoAuth => "NoAuthException",
            ZkError::BadVersion => "BadVersionException",
            ZkError::NoChildrenForEphemerals => "NoChildrenForEphemeralsException",
            ZkError::NodeExists => "NodeExistsException",
            ZkError::NotEmpty => "NotEmptyException",
            ZkError::SessionExpired => "SessionExpiredException",
            ZkError::InvalidCallback => "InvalidCallbackException",
            ZkError::InvalidAcl => "InvalidACLException",
            ZkError::AuthFailed => "AuthFailedException",
            ZkError::SessionMoved => "SessionMovedException",
            ZkError::NotReadOnly => "NotReadOnlyException",
        }
    }

    /// The fully qualified class name as a Java stack trace shows it,
    /// e.g. `org.apache.zookeeper.KeeperException$NoNodeException`.
    pub fn exception_class_fqn(&self) -> String {
        format!("org.apache.zookeeper.KeeperException${}", self.exception_class_name())
    }

    /// `KeeperException.getMessage()` with a path: `KeeperErrorCode = NoNode for /a`.
    pub fn message_for_path(&self, path: &str) -> String {
        format!("{self} for {path}")
    }
}

/// A write operation as replicated through ZAB.
///
/// Unlike ZooKeeper, where the leader's `PrepRequestProcessor` validates and turns a failing
/// request into an `ErrorTxn`, validation happens when the txn is applied. Every replica applies
/// the same txns to the same state, so they all reach the same verdict, and a failing request
/// still consumes a zxid exactly like an `ErrorTxn`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Txn {
    /// A new session with its negotiated timeout (`CreateSessionTxn`).
    CreateSession {
        /// Session timeout in milliseconds.
        timeout_ms: i32,
    },
    /// Close (or expire) the session in the header, deleting its ephemerals.
    CloseSession,
    /// Create a znode (`CreateTxn`); for sequential modes `path` is the prefix.
    Create {
        /// Requested path (prefix for sequential nodes).
        path: String,
        /// Initial data.
        data: Vec<u8>,
        /// Persistence and sequencing.
        mode: CreateMode,
    },
    /// Delete a znode (`DeleteTxn`).
    Delete {
        /// Node to delete.
        path: String,
        /// Expected data version, -1 for any.
        version: i32,
    },
    /// Replace a znode's data (`SetDataTxn`).
    SetData {
        /// Node to modify.
        path: String,
        /// New data.
        data: Vec<u8>,
        /// Expected data version, -1 for any.
        version: i32,
    },
}

/// Serialized size of a TxnHeader: clientId(8) + cxid(4) + zxid(8) + time(8) + type(4).
const TXN_HEADER_SIZE: usize = 8 + 8 + 4 + 8 + 4;
/// Serialized size of the one ACL we model (world:anyone, perms): vector length + perms + two strings.
const OPEN_ACL_SIZE: usize = 4 + 4 + (4 + 5) + (4 + 6);

impl Txn {
    /// Approximate size of the jute-serialized header + txn, as written to the txn log and sent in
    /// a PROPOSAL (used by the disk and network cost model).
    pub fn wire_size(&self) -> usize {
        // Jute strings and buffers are a 4-byte length followed by the bytes.
        let body = match self {
            Txn::CreateSession { .. } => 4,
            Txn::CloseSession => 0,
            Txn::Create { path, data, .. } => {
                (4 + path.len()) + (4 + data.len()) + OPEN_ACL_SIZE + 1 /* ephemeral */ + 4
                /* parentCVersion */
            }
            Txn::Delete { path, .. } => 4 + path.len(),
            Txn::SetData { path, data, .. } => (4 + path.len()) + (4 + data.len()) + 4,
        };
        TXN_HEADER_SIZE + body
    }

    /// The request's op name as ZooKeeper logs it (`Request.op2String`), e.g. `"create"`.
    pub fn op_name(&self) -> &'static str {
        match self {
            Txn::CreateSession { .. } => "createSession",
            Txn::CloseSession => "closeSession",
            Txn::Create { .. } => "create",
            Txn::Delete { .. } => "delete",
            Txn::SetData { .. } => "setData",
        }
    }

    /// The opcode (`ZooDefs.OpCode`).
    pub fn op_code(&self) -> i32 {
        match self {
            Txn::CreateSession { .. } => -10,
            Txn::CloseSession => -11,
            Txn::Create { .. } => 1,
            Txn::Delete { .. } => 2,
            Txn::SetData { .. } => 5,
        }
    }

    /// The path the txn acts on, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Txn::Create { path, .. } | Txn::Delete { path, .. } | Txn::SetData { path, .. } => {
                Some(path)
            }
            Txn::CreateSession { .. } | Txn::CloseSession => None,
        }
    }
}

/// The header every txn carries (`org.apache.zookeeper.txn.TxnHeader`, minus the type which is
/// the [`Txn`] variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TxnHeader {
    /// The session that issued the request (`clientId`).
    pub session_id: SessionId,
    /// The client's request counter, echoed in the reply.
    pub cxid: i32,
    /// The zxid assigned by the leader.
    pub zxid: Zxid,
    /// Leader's clock when the txn was proposed, ms since epoch; becomes ctime/mtime.
    pub time_ms: i64,
}

/// Why a path is invalid, with the exact `IllegalArgumentException` text of
/// `PathUtils.validatePath` as its `Display`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The empty string.
    #[error("Path length must be > 0")]
    Empty,
    /// Does not start with `/`.
    #[error("Path must start with / character")]
    NoLeadingSlash,
    /// Ends with `/` (and is not the root).
    #[error("Path must not end with / character")]
    TrailingSlash,
    /// A problem at a character index (UTF-16 index, as Java counts).
    #[error("Invalid path string \"{path}\" caused by {reason}")]
    Invalid {
        /// The path as checked (for sequential nodes, with the `1` Java appends).
        path: String,
        /// E.g. `empty node name specified @2`.
        reason: String,
    },
}

/// `PathUtils.validatePath(path, isSequential)`, with the error as [`PathError`].
pub fn validate_path_detail(path: &str, sequential: bool) -> Result<(), PathError> {
    // Java checks `path + "1"` for sequential nodes so that a trailing '/' is allowed.
    let owned;
    let path = if sequential {
        owned = format!("{path}1");
        owned.as_str()
    } else {
        path
    };
    // Java indexes UTF-16 code units; do the same so "@N" positions match.
    let chars: Vec<u16> = path.encode_utf16().collect();
    if chars.is_empty() {
        return Err(PathError::Empty);
    }
    if chars[0] != u16::from(b'/') {
        return Err(PathError::NoLeadingSlash);
    }
    if chars.len() == 1 {
        return Ok(());
    }
    if chars[chars.len() - 1] == u16::from(b'/') {
        return Err(PathError::TrailingSlash);
    }
    let slash = u16::from(b'/');
    let dot = u16::from(b'.');
    let mut lastc = slash;
    let mut reason = None;
    for i in 1..chars.len() {
        let c = chars[i];
        let ends_segment = i + 1 == chars.len() || chars[i + 1] == slash;
        if c == 0 {
            reason = Some(format!("null character not allowed @{i}"));
        } else if c == slash && lastc == slash {
            reason = Some(format!("empty node name specified @{i}"));
        } else if c == dot && lastc == dot {
            if i >= 2 && chars[i - 2] == slash && ends_segment {
                reason = Some(format!("relative paths not allowed @{i}"));
            }
        } else if c == dot {
            if chars[i - 1] == slash && ends_segment {
                reason = Some(format!("relative paths not allowed @{i}"));
            }
        } else if (c > 0x0000 && c < 0x001f)
            || (c > 0x007f && c < 0x009f)
            || (c > 0xd800 && c < 0xf8ff)
            || (c > 0xfff0 && c < 0xffff)
        {
            // The ranges are Java's, strict bounds included; "charater" is ZooKeeper's typo.
            reason = Some(format!("invalid charater @{i}"));
        }
        if reason.is_some() {
            break;
        }
        lastc = c;
    }
    match reason {
        Some(reason) => Err(PathError::Invalid { path: path.to_string(), reason }),
        None => Ok(()),
    }
}

/// `PathUtils.validatePath`, returning the `IllegalArgumentException` message zkCli shows, e.g.
/// `Path must start with / character` or `Invalid path string "//a" caused by empty node name
/// specified @1`.
pub fn validate_path_msg(path: &str, sequential: bool) -> Result<(), String> {
    validate_path_detail(path, sequential).map_err(|e| e.to_string())
}

/// `PathUtils.validatePath` as the server sees it: any violation is [`ZkError::BadArguments`].
pub fn validate_path(path: &str, sequential: bool) -> Result<(), ZkError> {
    validate_path_detail(path, sequential).map_err(|_| ZkError::BadArguments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zxid_helpers() {
        assert_eq!(fmt_zxid(0), "0x0");
        assert_eq!(fmt_zxid(0x1_0000_0002), "0x100000002");
        assert_eq!(fmt_zxid(255), "0xff");
        assert_eq!(fmt_zxid(-1), "0xffffffffffffffff");
        let z = make_zxid(3, 7);
        assert_eq!(z, 0x3_0000_0007);
        assert_eq!(zxid_epoch(z), 3);
        assert_eq!(zxid_counter(z), 7);
        assert_eq!(zxid_counter(make_zxid(1, u32::MAX)), u32::MAX);
        assert_eq!(zxid_epoch(make_zxid(1, u32::MAX)), 1);
    }

    #[test]
    fn error_codes_round_trip() {
        for e in ALL_ERRORS {
            assert_eq!(ZkError::from_code(e.code()), Some(e));
            assert!(e.exception_class_name().ends_with("Exception"));
        }
        assert_eq!(ZkError::from_code(0), None);
        assert_eq!(ZkError::from_code(-9999), None);
        assert_eq!(ZkError::NoNode.code(), -101);
        assert_eq!(ZkError::NotReadOnly.code(), -119);
        assert_eq!(ZkError::NoNode.to_string(), "KeeperErrorCode = NoNode");
        assert_eq!(ZkError::NotEmpty.to_string(), "KeeperErrorCode = Directory not empty");
        assert_eq!(ZkError::SessionExpired.to_string(), "KeeperErrorCode = Session expired");
        assert_eq!(
            ZkError::NodeExists.message_for_path("/a"),
            "KeeperErrorCode = NodeExists for /a"
        );
        assert_eq!(ZkError::ConnectionLoss.exception_class_name(), "ConnectionLossException");
        assert_eq!(
            ZkError::NoNode.exception_class_fqn(),
            "org.apache.zookeeper.KeeperException$NoNodeException"
        );
        for e in ALL_ERRORS {
            assert_eq!(e.to_string(), format!("KeeperErrorCode = {}", e.keeper_error_code_name()));
        }
    }

    #[test]
    fn create_mode_flags() {
        assert!(CreateMode::EphemeralSequential.is_ephemeral());
        assert!(CreateMode::EphemeralSequential.is_sequential());
        assert!(!CreateMode::Persistent.is_ephemeral());
        assert!(!CreateMode::Ephemeral.is_sequential());
        assert!(CreateMode::PersistentSequential.is_sequential());
    }

    #[test]
    fn validate_path_cases() {
        for ok in ["/", "/a", "/a/b", "/zookeeper/quota", "/a.b", "/..a", "/a/...", "/x\u{1f}"] {
            assert_eq!(validate_path(ok, false), Ok(()), "{ok:?}");
        }
        assert_eq!(validate_path("/q/", true), Ok(()));
        assert_eq!(validate_path("/q/x-", true), Ok(()));
        assert_eq!(validate_path_msg("", false), Err("Path length must be > 0".into()));
        assert_eq!(validate_path_msg("a", false), Err("Path must start with / character".into()));
        assert_eq!(
            validate_path_msg("/a/", false),
            Err("Path must not end with / character".into())
        );
        assert_eq!(
            validate_path_msg("//a", false),
            Err("Invalid path string \"//a\" caused by empty node name specified @1".into())
        );
        assert_eq!(
            validate_path_msg("/a//b", false),
            Err("Invalid path string \"/a//b\" caused by empty node name specified @3".into())
        );
        assert_eq!(
            validate_path_msg("/a/./b", false),
            Err("Invalid path string \"/a/./b\" caused by relative paths not allowed @3".into())
        );
        assert_eq!(
            validate_path_msg("/a/..", false),
            Err("Invalid path string \"/a/..\" caused by relative paths not allowed @4".into())
        );
        assert_eq!(
            validate_path_msg("/a\u{1}", false),
            Err("Invalid path string \"/a\u{1}\" caused by invalid charater @2".into())
        );
        assert_eq!(
            validate_path_msg("/a\0b", false),
            Err("Invalid path string \"/a\0b\" caused by null character not allowed @2".into())
        );
        // Sequential: Java validates path + "1", and that shows in the message.
        assert_eq!(
            validate_path_msg("/a//", true),
            Err("Invalid path string \"/a//1\" caused by empty node name specified @3".into())
        );
        assert_eq!(validate_path("/.", false), Err(ZkError::BadArguments));
        assert_eq!(validate_path("/a/", false), Err(ZkError::BadArguments));
    }

    #[test]
    fn wire_size_grows_with_payload() {
        let small = Txn::SetData { path: "/a".into(), data: vec![], version: -1 };
        let big = Txn::SetData { path: "/a".into(), data: vec![0; 100], version: -1 };
        assert_eq!(big.wire_size() - small.wire_size(), 100);
        assert_eq!(Txn::CloseSession.wire_size(), 32);
        assert_eq!(Txn::Delete { path: "/abc".into(), version: -1 }.wire_size(), 32 + 4 + 4);
        assert_eq!(Txn::CloseSession.path(), None);
        assert_eq!(big.op_name(), "setData");
    }

    #[test]
    fn txn_serde_round_trip() {
        let t = Txn::Create {
            path: "/q/x-".into(),
            data: b"hi".to_vec(),
            mode: CreateMode::EphemeralSequential,
        };
        let s = serde_json::to_string(&t).expect("serialize");
        assert_eq!(serde_json::from_str::<Txn>(&s).expect("deserialize"), t);
    }

    proptest! {
        #[test]
        fn validate_path_never_panics(s in any::<String>(), seq in any::<bool>()) {
            let r = validate_path(&s, seq);
            prop_assert_eq!(r.is_ok(), validate_path_msg(&s, seq).is_ok());
        }

        #[test]
        fn validate_path_never_panics_on_path_like(s in "[/.a\\x00\\x01]{0,8}", seq in any::<bool>()) {
            let _ = validate_path(&s, seq);
        }
    }
}
