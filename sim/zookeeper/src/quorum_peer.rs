//! `QuorumPeerMain`: the process `zkServer.sh start` launches.
//!
//! Start-up reads `conf/zoo.cfg` and `dataDir/myid` from the host's disk, recovers the database
//! (snapshot + log), binds the client port, then loops: LOOKING (FastLeaderElection) → LEADING or
//! FOLLOWING (ZAB) → LOOKING again when that role ends. A bad configuration ends the process, with
//! the reason in `zookeeper.out`, exactly when the real server would die.

use super::config::{ConfigError, QuorumPeerConfig};
use super::election::{look_for_leader, QuorumCnxManager, VoteOrder};
use super::persistence::{FileTxnSnapLog, PersistError};
use super::proto::{ClientPacket, ElectionMsg, ServerState};
use super::server::{PeerState, Shared};
use super::server_cnxn::serve_clients;
use super::txn::{fmt_zxid, zxid_epoch};
use super::zab::{follow, lead};
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::sync::{Arc, Mutex};

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

/// The body of the `QuorumPeerMain` process.
pub async fn run(ctx: ProcCtx, cfg_path: String, vote_order: Arc<dyn VoteOrder>) {
    let (cfg, myid) = match read_config(&ctx, &cfg_path).await {
        Ok(x) => x,
        Err(msg) => {
            ctx.trace(kind::ZK_STARTUP_ERROR, None, fields! { "error" => msg.as_str() });
            log_out(&ctx, None, "ERROR", &msg).await;
            return;
        }
    };
    let mut snap_log = FileTxnSnapLog::new(ctx.disk(), &cfg.data_dir, &cfg.data_log_dir);
    let loaded = match snap_log.load().await {
        Ok(l) => l,
        Err(e) => {
            log_out(&ctx, Some(myid), "ERROR", &format!("Unable to load database on disk: {e}"))
                .await;
            return;
        }
    };
    let mut st =
        PeerState::new(myid, cfg.clone(), snap_log.clone(), loaded.tree, loaded.log, ctx.wall_ms());
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
    let shared: Shared = Arc::new(Mutex::new(st));

    let client_listener =
        match ctx.net().listen::<ClientPacket>(&ctx.host, &ctx.name, cfg.client_port) {
            Ok(l) => l,
            Err(e) => {
                log_out(
                    &ctx,
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
    madsim::task::spawn(serve_clients(ctx.clone(), shared.clone(), client_listener));

    if cfg.is_standalone() {
        lock(&shared).state = ServerState::Leading;
        log_out(
            &ctx,
            Some(myid),
            "INFO",
            "Either no config or no quorum defined in config, running  in standalone mode",
        )
        .await;
        lead(&ctx, &shared).await;
        return;
    }

    let election_port = cfg.servers.get(&myid).map(|s| s.election_port).unwrap_or(3888);
    let listener = match ctx.net().listen::<ElectionMsg>(&ctx.host, &ctx.name, election_port) {
        Ok(l) => l,
        Err(e) => {
            log_out(
                &ctx,
                Some(myid),
                "ERROR",
                &format!("Exception while listening java.net.BindException: {e}"),
            )
            .await;
            return;
        }
    };
    let (mgr, mut inbox) = QuorumCnxManager::start(&ctx, &shared, listener);
    loop {
        log_out(&ctx, Some(myid), "INFO", "LOOKING").await;
        let vote = look_for_leader(&ctx, &shared, &mgr, &mut inbox, vote_order.as_ref()).await;
        let state = lock(&shared).state;
        match state {
            ServerState::Leading => {
                log_out(&ctx, Some(myid), "INFO", "LEADING").await;
                lead(&ctx, &shared).await;
            }
            ServerState::Following => {
                log_out(&ctx, Some(myid), "INFO", "FOLLOWING").await;
                follow(&ctx, &shared, vote.leader).await;
            }
            ServerState::Looking => {}
        }
        {
            let mut st = lock(&shared);
            st.stop_serving(&ctx);
            st.state = ServerState::Looking;
        }
        // ZooKeeperServer.shutdown clears the in-memory database; the next role reloads it from
        // disk, so every proposal this server logged (committed or not) is in its history. That
        // is how a new leader keeps a write that a quorum logged but never saw committed.
        if let Err(e) = reload_database(&ctx, &shared).await {
            log_out(&ctx, Some(myid), "ERROR", &format!("Unable to load database on disk: {e}"))
                .await;
            return;
        }
    }
}

/// Rebuilds the tree from the latest snapshot and the whole transaction log.
async fn reload_database(ctx: &ProcCtx, shared: &Shared) -> Result<(), PersistError> {
    let mut snap_log = lock(shared).snap_log.clone();
    let loaded = snap_log.load().await?;
    let mut st = lock(shared);
    st.snap_log = snap_log;
    st.reset_database(loaded.tree, loaded.log);
    ctx.trace(kind::ZK_LOADED, None, fields! { "myid" => st.myid, "zxid" => fmt_zxid(st.last_logged), "current_epoch" => st.current_epoch, "accepted_epoch" => st.accepted_epoch });
    Ok(())
}
