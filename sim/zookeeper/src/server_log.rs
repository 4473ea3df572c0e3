//! The server's console log (`zookeeper.out`, log4j's layout) and the exits 3.4.6 takes on an
//! unrecoverable storage error. Shared by `QuorumPeerMain` and the ZAB roles.

use super::install::ZK_HOME;
use super::persistence::PersistError;
use sim_core::trace::{fields, kind};
use sim_core::world::ProcCtx;

/// Where `zkServer.sh` writes the server's console output.
pub fn zookeeper_out_path() -> String {
    format!("{ZK_HOME}/bin/zookeeper.out")
}

/// Appends a log4j line to `zookeeper.out`, in 3.4's layout: time, `[myid:N]`, level, thread.
pub(crate) async fn log_out(ctx: &ProcCtx, myid: Option<u64>, level: &str, msg: &str) {
    let thread = match myid {
        Some(m) => format!("QuorumPeer[myid={m}]/0:0:0:0:0:0:0:0:2181:QuorumPeer"),
        None => "main:QuorumPeerMain".to_string(),
    };
    log_line(ctx, myid, level, &thread, msg).await;
}

async fn log_line(ctx: &ProcCtx, myid: Option<u64>, level: &str, thread: &str, msg: &str) {
    let id = myid.map(|m| m.to_string()).unwrap_or_default();
    let line = format!(
        "{} [myid:{id}] - {level:<5} [{thread}] - {msg}\n",
        sim_core::jvm::log_time(ctx.wall_ms())
    );
    // On a full disk this write fails too, as log4j's would: the exit still happens.
    let _ = ctx.disk().append(&zookeeper_out_path(), line.as_bytes()).await;
}

/// The server cannot write its transaction log or a snapshot: ZooKeeper treats that as
/// unrecoverable and exits the JVM (`SyncRequestProcessor`: `System.exit(11)`;
/// `ZooKeeperServer.takeSnapshot`: `System.exit(10)`). Going on would leave the in-memory tree
/// ahead of the disk, and a later restart would recover a history with a hole in it.
pub(crate) async fn exit_severe(
    ctx: &ProcCtx,
    myid: u64,
    status: SevereExit,
    err: &PersistError,
) -> ! {
    let thread = match status {
        SevereExit::TxnLog => format!("SyncThread:{myid}:SyncRequestProcessor"),
        SevereExit::Snapshot => {
            format!("QuorumPeer[myid={myid}]/0:0:0:0:0:0:0:0:2181:ZooKeeperServer")
        }
    };
    let msg = format!("Severe unrecoverable error, exiting\njava.io.IOException: {err}");
    ctx.trace(
        kind::ZK_FATAL,
        None,
        fields! { "myid" => myid, "error" => err.to_string(), "status" => status as i32 },
    );
    log_line(ctx, Some(myid), "ERROR", &thread, &msg).await;
    ctx.halt(status as i32).await
}

/// Why a server exits on a disk error, as its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SevereExit {
    /// Taking a snapshot failed (`ExitCode 10` in later releases' terms).
    Snapshot = 10,
    /// Appending to or syncing the transaction log failed.
    TxnLog = 11,
}
