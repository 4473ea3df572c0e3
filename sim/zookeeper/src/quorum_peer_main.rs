//! `QuorumPeerMain`: the process `zkServer.sh start` launches, and the main loop of its
//! [`QuorumPeer`].
//!
//! Start-up ([`run`]) reads `conf/zoo.cfg` and `dataDir/myid` from the host's disk, recovers the
//! database (snapshot + log, and the epoch files) and builds the peer. [`QuorumPeer::start`] binds
//! the client port and the election port, then [`QuorumPeer::run`] loops: LOOKING
//! (FastLeaderElection) → LEADING or FOLLOWING (ZAB) → LOOKING again when that role ends. A bad
//! configuration ends the process, with the reason in `zookeeper.out`, exactly when the real server
//! would die.

use super::config::{ConfigError, QuorumPeerConfig};
use super::election::{look_for_leader, QuorumCnxManager, VoteOrder};
use super::persistence::{FileTxnSnapLog, PersistError};
use super::proto::{ClientPacket, ElectionMsg, Notification, ServerState};
use super::quorum_peer::QuorumPeer;
use super::server::PeerState;
use super::server_cnxn::serve_clients;
use super::txn::{fmt_zxid, zxid_epoch};
use super::zab::{follow, lead};
use futures::channel::mpsc;
use sim_core::trace::{fields, kind};
use sim_core::world::ProcCtx;
use std::sync::Arc;

pub use super::install::{zoo_cfg_path, ZK_HOME};
use super::server_log::log_out;
pub use super::server_log::zookeeper_out_path;

/// Reads the configuration and myid the way `QuorumPeerConfig.parse` does.
pub async fn read_config(ctx: &ProcCtx, cfg_path: &str) -> Result<(QuorumPeerConfig, u64), String> {
    let disk = ctx.disk();
    let cfg_text = match disk.read_all(cfg_path).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => return Err(format!("Error processing {cfg_path}: {cfg_path} file is missing")),
    };
    let data_dir =
        QuorumPeerConfig::parse(&cfg_text).map(|c| c.data_dir.clone()).unwrap_or_default();
    let myid_path = format!("{data_dir}/myid");
    let myid_text = match disk.read_all(&myid_path).await {
        Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Err(_) => None,
    };
    let (cfg, myid) = QuorumPeerConfig::parse_with_myid(&cfg_text, myid_text.as_deref(), &myid_path).map_err(|e| match e {
        // The real server only notices later, in startLeaderElection; we say why first.
        ConfigError::MyidMatchesNoServer { id, .. } => {
            format!("{e}\nUnexpected exception, exiting abnormally\njava.lang.RuntimeException: My id {id} not in the peer list")
        }
        _ => format!("Invalid config, exiting abnormally\norg.apache.zookeeper.server.quorum.QuorumPeerConfig$ConfigException: {e}"),
    })?;
    Ok((cfg, myid.unwrap_or(0)))
}

/// The main loop, here rather than in [`crate::quorum_peer`] because it drives the roles that take
/// the peer.
impl QuorumPeer {
    /// `start`: opens the client port (`cnxnFactory.start`) and the election port
    /// (`startLeaderElection`), then runs the main loop until the process must end. A standalone
    /// configuration leads alone instead.
    pub async fn start(&self, ctx: &ProcCtx) {
        let myid = self.my_id();
        let (client_port, standalone, election_port) = {
            let st = self.lock();
            (
                st.cfg.client_port,
                st.cfg.is_standalone(),
                st.cfg.servers.get(&myid).map(|s| s.election_port).unwrap_or(3888),
            )
        };
        let client_listener =
            match ctx.net().listen::<ClientPacket>(&ctx.host, &ctx.name, client_port) {
                Ok(l) => l,
                Err(e) => {
                    log_out(
                        ctx,
                        Some(myid),
                        "ERROR",
                        &format!(
                            "Unexpected exception, exiting abnormally java.net.BindException: {e}"
                        ),
                    )
                    .await;
                    return;
                }
            };
        madsim::task::spawn(serve_clients(ctx.clone(), self.clone(), client_listener));

        if standalone {
            self.set_peer_state(ServerState::Leading);
            log_out(
                ctx,
                Some(myid),
                "INFO",
                "Either no config or no quorum defined in config, running  in standalone mode",
            )
            .await;
            lead(ctx, self).await;
            return;
        }

        let listener = match ctx.net().listen::<ElectionMsg>(&ctx.host, &ctx.name, election_port) {
            Ok(l) => l,
            Err(e) => {
                log_out(
                    ctx,
                    Some(myid),
                    "ERROR",
                    &format!("Exception while listening java.net.BindException: {e}"),
                )
                .await;
                return;
            }
        };
        let (mgr, inbox) = QuorumCnxManager::start(ctx, self, listener);
        self.run(ctx, mgr, inbox).await;
    }

    /// `run`: LOOKING → `lookForLeader` → LEADING or FOLLOWING until that role ends → LOOKING again.
    /// Returns only when the database cannot be reloaded.
    pub async fn run(
        &self,
        ctx: &ProcCtx,
        mgr: QuorumCnxManager,
        mut inbox: mpsc::UnboundedReceiver<Notification>,
    ) {
        let myid = self.my_id();
        loop {
            log_out(ctx, Some(myid), "INFO", "LOOKING").await;
            let vote = look_for_leader(ctx, self, &mgr, &mut inbox).await;
            match self.get_peer_state() {
                ServerState::Leading => {
                    log_out(ctx, Some(myid), "INFO", "LEADING").await;
                    lead(ctx, self).await;
                }
                ServerState::Following => {
                    log_out(ctx, Some(myid), "INFO", "FOLLOWING").await;
                    follow(ctx, self, vote.leader).await;
                }
                ServerState::Looking => {}
            }
            {
                let mut st = self.lock();
                st.stop_serving(ctx);
                st.state = ServerState::Looking;
            }
            // ZooKeeperServer.shutdown clears the in-memory database; the next role reloads it
            // from disk, so every proposal this server logged (committed or not) is in its
            // history. That is how a new leader keeps a write that a quorum logged but never saw
            // committed.
            if let Err(e) = self.reload_database(ctx).await {
                log_out(ctx, Some(myid), "ERROR", &format!("Unable to load database on disk: {e}"))
                    .await;
                return;
            }
        }
    }

    /// Rebuilds the tree from the latest snapshot and the whole transaction log.
    async fn reload_database(&self, ctx: &ProcCtx) -> Result<(), PersistError> {
        let mut snap_log = self.lock().snap_log.clone();
        let loaded = snap_log.load().await?;
        let mut st = self.lock();
        st.snap_log = snap_log;
        st.reset_database(loaded.tree, loaded.log);
        ctx.trace(kind::ZK_LOADED, None, fields! { "myid" => st.myid, "zxid" => fmt_zxid(st.last_logged), "current_epoch" => st.current_epoch, "accepted_epoch" => st.accepted_epoch });
        Ok(())
    }
}

/// The body of the `QuorumPeerMain` process (`initializeAndRun`): configuration, database, then
/// [`QuorumPeer::start`] with `vote_order` as the peer's election hook.
pub async fn run(ctx: ProcCtx, cfg_path: String, vote_order: Arc<dyn VoteOrder>) {
    let (cfg, myid) = match read_config(&ctx, &cfg_path).await {
        Ok(x) => x,
        Err(msg) => {
            ctx.trace(kind::ZK_STARTUP_ERROR, None, fields! { "error" => msg.as_str() });
            log_out(&ctx, None, "ERROR", &msg).await;
            return;
        }
    };
    let st = match load_database(&ctx, myid, cfg).await {
        Ok(st) => st,
        Err(e) => {
            log_out(&ctx, Some(myid), "ERROR", &format!("Unable to load database on disk: {e}"))
                .await;
            return;
        }
    };
    QuorumPeer::new(st, vote_order).start(&ctx).await;
}

/// Recovers the database from the snapshot and log, and the epochs from their files.
async fn load_database(
    ctx: &ProcCtx,
    myid: u64,
    cfg: QuorumPeerConfig,
) -> Result<PeerState, PersistError> {
    let mut snap_log = FileTxnSnapLog::new(ctx.disk(), &cfg.data_dir, &cfg.data_log_dir);
    let loaded = snap_log.load().await?;
    let mut st =
        PeerState::new(myid, cfg, snap_log.clone(), loaded.tree, loaded.log, ctx.wall_ms());
    // A server that never finished an epoch change reads its epoch from its last zxid.
    let from_zxid = zxid_epoch(st.last_logged);
    st.current_epoch =
        snap_log.read_epoch("currentEpoch").await.ok().flatten().unwrap_or(from_zxid);
    st.accepted_epoch =
        snap_log.read_epoch("acceptedEpoch").await.ok().flatten().unwrap_or(st.current_epoch);
    ctx.trace(
        kind::ZK_LOADED,
        None,
        fields! { "myid" => myid, "zxid" => fmt_zxid(st.last_logged), "current_epoch" => st.current_epoch, "accepted_epoch" => st.accepted_epoch },
    );
    Ok(st)
}
