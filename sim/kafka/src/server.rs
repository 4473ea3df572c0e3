//! `KafkaServer`: the broker process (`kafka.Kafka`, shown by `jps` as `Kafka`).
//!
//! Start-up follows 0.9's order: read `server.properties`, connect to ZooKeeper (giving up after
//! `zookeeper.connection.timeout.ms`), make sure the common paths exist, load the logs (recovering
//! torn tails), open the socket server, register the ephemeral `/brokers/ids/<id>`, and run for
//! controller. Then it serves requests and reacts to ZooKeeper watches. SIGTERM
//! (`kafka-server-stop.sh`) closes the ZooKeeper session, so its registration disappears at once.

use super::config::KafkaConfig;
use super::controller::KafkaController;
use super::coordinator::GroupCoordinator;
use super::hooks::{BrokerHooks, OfflinePartitionLeaderSelector};
use super::kafka_apis::KafkaApis;
use super::network_client::NetworkClient;
use super::proto::{
    ControlledShutdownRequest, ControlledShutdownResponse, KafkaError, KafkaPacket, Request,
    Response,
};
use super::replica_manager::ReplicaManager;
use super::zk_utils as zku;
use futures::{FutureExt, StreamExt};
use sim_core::hw::{Conn, Listener};
use sim_core::term::Term;
use sim_core::trace::kind;
use sim_core::trace::{fields, lock};
use sim_core::world::ProcCtx;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zookeeper::client::{KeeperState, WatchedEvent, ZooKeeper};
use zookeeper::txn::{CreateMode, ZkError};
use zookeeper::watch_manager::EventType;

/// Where the seed installs Kafka.
pub const KAFKA_HOME: &str = "/usr/local/kafka_2.10-0.9.0.1";

/// The broker's log4j file.
pub fn server_log_path() -> String {
    format!("{KAFKA_HOME}/logs/server.log")
}

/// Writes a log4j line (`[2016-04-26 08:00:05,123] INFO … (class)`) to server.log and to the
/// console output the process was started with.
async fn log(ctx: &ProcCtx, out: &Option<(String, Term)>, level: &str, msg: &str, class: &str) {
    let line = format!("[{}] {level} {msg} ({class})\n", sim_core::jvm::log_time(ctx.wall_ms()));
    let _ = ctx.disk().append(&server_log_path(), line.as_bytes()).await;
    if let Some((path, _)) = out {
        let _ = ctx.disk().append(path, line.as_bytes()).await;
    }
}

/// The body of the broker process. `console` is where its stdout goes (`nohup.out`, or
/// `logs/kafkaServer.out` for `-daemon`).
pub async fn run(
    ctx: ProcCtx,
    config_path: String,
    console: Option<(String, Term)>,
    hooks: BrokerHooks,
) {
    let signals = ctx.signals();
    let text = match ctx.disk().read_all(&config_path).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => {
            log(
                &ctx,
                &console,
                "FATAL",
                &format!(
                    "java.io.FileNotFoundException: {config_path} (No such file or directory)"
                ),
                "kafka.Kafka$",
            )
            .await;
            return;
        }
    };
    let cfg = match KafkaConfig::parse(&text) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            log(
                &ctx,
                &console,
                "FATAL",
                "Fatal error during KafkaServerStartable startup. Prepare to shutdown",
                "kafka.server.KafkaServerStartable",
            )
            .await;
            log(
                &ctx,
                &console,
                "FATAL",
                &format!("org.apache.kafka.common.config.ConfigException: {e}"),
                "kafka.server.KafkaServerStartable",
            )
            .await;
            ctx.trace(kind::KAFKA_STARTUP_ERROR, None, fields! { "error" => e.to_string() });
            return;
        }
    };
    for w in cfg.warnings() {
        log(&ctx, &console, "WARN", &w, "kafka.utils.VerifiableProperties").await;
    }
    let id = cfg.broker_id;
    log(
        &ctx,
        &console,
        "INFO",
        &format!("[Kafka Server {id}], starting"),
        "kafka.server.KafkaServer",
    )
    .await;
    let Some((zk, events)) = connect_zookeeper(&ctx, &cfg).await else {
        log(
            &ctx,
            &console,
            "FATAL",
            "Fatal error during KafkaServer startup. Prepare to shutdown",
            "kafka.server.KafkaServer",
        )
        .await;
        log(
            &ctx,
            &console,
            "FATAL",
            &format!("org.I0Itec.zkclient.exception.ZkTimeoutException: Unable to connect to zookeeper server within timeout: {}", cfg.zookeeper_connection_timeout_ms),
            "kafka.server.KafkaServer",
        )
        .await;
        return;
    };
    let mut events = events;
    let mut zk = zk;
    for p in zku::COMMON_PATHS {
        let _ = zku::make_sure_persistent_path_exists(&zk, p).await;
    }
    let rm =
        ReplicaManager::new(ctx.clone(), cfg.clone(), zk.clone(), hooks.high_watermark.clone());
    rm.load_logs().await;
    let listener = match ctx.net().listen::<KafkaPacket>(&ctx.host, &ctx.name, cfg.port_u16()) {
        Ok(l) => l,
        Err(e) => {
            log(
                &ctx,
                &console,
                "FATAL",
                &format!(
                    "kafka.common.KafkaException: Socket server failed to bind to 0.0.0.0:{}: {e}.",
                    cfg.port_u16()
                ),
                "kafka.server.KafkaServer",
            )
            .await;
            return;
        }
    };
    let controller: Arc<Mutex<Option<Arc<KafkaController>>>> = Arc::new(Mutex::new(None));
    let coordinator = GroupCoordinator::new(ctx.clone(), cfg.clone(), rm.clone());
    let apis = Arc::new(KafkaApis::new(rm.clone(), coordinator, controller.clone()));
    madsim::task::spawn(socket_server(listener, apis));
    if let Err(msg) = register_broker(&ctx, &cfg, &zk).await {
        log(
            &ctx,
            &console,
            "FATAL",
            "Fatal error during KafkaServer startup. Prepare to shutdown",
            "kafka.server.KafkaServer",
        )
        .await;
        log(&ctx, &console, "FATAL", &msg, "kafka.server.KafkaServer").await;
        return;
    }
    let host = cfg.advertised_host().unwrap_or_else(|| ctx.host.clone());
    log(
        &ctx,
        &console,
        "INFO",
        &format!("Registered broker {id} at path /brokers/ids/{id} with addresses: PLAINTEXT -> EndPoint({host},{},PLAINTEXT)", cfg.port_u16()),
        "kafka.utils.ZkUtils",
    )
    .await;
    log(
        &ctx,
        &console,
        "INFO",
        &format!("[Kafka Server {id}], started"),
        "kafka.server.KafkaServer",
    )
    .await;

    elect(&ctx, &cfg, &zk, &controller, &hooks.leader_selector).await;
    // TopicConfigManager.startup (watch /config/changes, apply what is there) runs at the first
    // log-cleanup tick instead of here: an extra ZooKeeper round trip during start-up would shift
    // every seeded transcript. Logs created meanwhile read their overrides anyway; only a
    // `--alter --config` in the broker's first log.retention.check.interval.ms waits for it.
    let mut config_manager_started = false;
    let mut signals = signals;
    let retention_every = Duration::from_millis(cfg.log_retention_check_interval_ms.max(1) as u64);
    let mut next_cleanup = madsim::time::Instant::now() + retention_every;
    // replica.high.watermark.checkpoint.interval.ms (0.9 default).
    let checkpoint_every = Duration::from_millis(5000);
    let mut next_checkpoint = madsim::time::Instant::now() + checkpoint_every;
    // isr-expiration: every replica.lag.time.max.ms / 2.
    let isr_every = Duration::from_millis((cfg.replica_lag_time_max_ms / 2).max(1) as u64);
    let mut next_isr_check = madsim::time::Instant::now() + isr_every;
    loop {
        enum Step {
            Ev(Option<WatchedEvent>),
            Sig,
            Cleanup,
            Checkpoint,
            IsrCheck,
        }
        let step = futures::select_biased! {
            _ = signals.next() => Step::Sig,
            e = events.next() => Step::Ev(e),
            _ = madsim::time::sleep_until(next_cleanup).fuse() => Step::Cleanup,
            _ = madsim::time::sleep_until(next_checkpoint).fuse() => Step::Checkpoint,
            _ = madsim::time::sleep_until(next_isr_check).fuse() => Step::IsrCheck,
        };
        match step {
            Step::Sig => {
                log(
                    &ctx,
                    &console,
                    "INFO",
                    &format!("[Kafka Server {id}], shutting down"),
                    "kafka.server.KafkaServer",
                )
                .await;
                ctx.trace(kind::KAFKA_SHUTDOWN, None, fields! { "broker" => id });
                if cfg.controlled_shutdown_enable {
                    controlled_shutdown(&ctx, &cfg, &zk, &console).await;
                }
                if let Some(c) = lock(&controller).take() {
                    c.shutdown();
                }
                rm.checkpoint_high_watermarks().await;
                zk.close().await;
                log(
                    &ctx,
                    &console,
                    "INFO",
                    &format!("[Kafka Server {id}], shut down completed"),
                    "kafka.server.KafkaServer",
                )
                .await;
                return;
            }
            Step::IsrCheck => {
                next_isr_check += isr_every;
                rm.maybe_shrink_isr().await;
            }
            Step::Checkpoint => {
                next_checkpoint += checkpoint_every;
                rm.checkpoint_high_watermarks().await;
            }
            Step::Cleanup => {
                next_cleanup += retention_every;
                if !config_manager_started {
                    config_manager_started = true;
                    rm.process_config_changes().await;
                }
                rm.cleanup_logs().await;
            }
            Step::Ev(None) => return,
            Step::Ev(Some(ev)) => {
                if ev.state == KeeperState::Expired {
                    // handleNewSession: resign as controller, open a new session, register again
                    // and run for controller again.
                    log(
                        &ctx,
                        &console,
                        "INFO",
                        "zookeeper state changed (Expired)",
                        "org.I0Itec.zkclient.ZkClient",
                    )
                    .await;
                    ctx.trace(kind::KAFKA_SESSION_EXPIRED, None, fields! { "broker" => id });
                    if let Some(c) = lock(&controller).take() {
                        c.shutdown();
                    }
                    let (new_zk, new_events) = loop {
                        if let Some(x) = connect_zookeeper(&ctx, &cfg).await {
                            break x;
                        }
                    };
                    zk = new_zk;
                    events = new_events;
                    rm.set_zk(zk.clone());
                    match register_broker(&ctx, &cfg, &zk).await {
                        Ok(()) => {
                            log(
                                &ctx,
                                &console,
                                "INFO",
                                &format!("re-registering broker info in ZK for broker {id}"),
                                "kafka.server.KafkaHealthcheck$SessionExpireListener",
                            )
                            .await
                        }
                        Err(msg) => {
                            log(&ctx, &console, "ERROR", &msg, "kafka.server.KafkaHealthcheck")
                                .await
                        }
                    }
                    elect(&ctx, &cfg, &zk, &controller, &hooks.leader_selector).await;
                    if config_manager_started {
                        rm.process_config_changes().await;
                    }
                    continue;
                }
                let path = ev.path.clone().unwrap_or_default();
                let current = lock(&controller).clone();
                match (ev.kind, path.as_str(), current) {
                    (EventType::NodeDeleted, zku::CONTROLLER, _)
                    | (EventType::NodeCreated, zku::CONTROLLER, None) => {
                        elect(&ctx, &cfg, &zk, &controller, &hooks.leader_selector).await;
                    }
                    (EventType::NodeChildrenChanged, zku::BROKER_IDS, Some(c)) => {
                        c.on_broker_change().await
                    }
                    (EventType::NodeChildrenChanged, zku::BROKER_TOPICS, Some(c)) => {
                        c.on_topic_change().await
                    }
                    (EventType::NodeChildrenChanged, zku::CONFIG_CHANGES, _) => {
                        rm.process_config_changes().await
                    }
                    (EventType::NodeChildrenChanged, zku::ISR_CHANGE, Some(c)) => {
                        c.on_isr_change().await
                    }
                    (EventType::NodeDataChanged, p, Some(c))
                        if p.strip_prefix("/brokers/topics/").is_some_and(|t| !t.contains('/')) =>
                    {
                        c.on_partition_modification(&p["/brokers/topics/".len()..]).await
                    }
                    (
                        EventType::NodeCreated | EventType::NodeDataChanged,
                        zku::PREFERRED_ELECTION,
                        Some(c),
                    ) => c.on_preferred_replica_election().await,
                    _ => {}
                }
            }
        }
    }
}

/// Opens a ZooKeeper session, waiting up to `zookeeper.connection.timeout.ms` for it.
async fn connect_zookeeper(
    ctx: &ProcCtx,
    cfg: &KafkaConfig,
) -> Option<(Arc<ZooKeeper>, futures::channel::mpsc::UnboundedReceiver<WatchedEvent>)> {
    let mut zk = ZooKeeper::new(
        ctx,
        cfg.zookeeper_servers(),
        Duration::from_millis(cfg.zookeeper_session_timeout_ms.max(1) as u64),
    );
    let events = zk.take_events();
    let deadline = madsim::time::Instant::now()
        + Duration::from_millis(cfg.zookeeper_connection_timeout_ms.max(1) as u64);
    while !zk.is_connected() && madsim::time::Instant::now() < deadline {
        madsim::time::sleep(Duration::from_millis(50)).await;
    }
    zk.is_connected().then(|| (Arc::new(zk), events))
}

/// Registers `/brokers/ids/<id>` (`KafkaHealthcheck.register`).
async fn register_broker(ctx: &ProcCtx, cfg: &KafkaConfig, zk: &ZooKeeper) -> Result<(), String> {
    let id = cfg.broker_id;
    let host = cfg.advertised_host().unwrap_or_else(|| ctx.host.clone());
    let reg = zku::broker_json(&host, cfg.port_u16(), ctx.wall_ms());
    match zku::create_with_parents(zk, &format!("{}/{id}", zku::BROKER_IDS), reg.as_bytes(), CreateMode::Ephemeral).await {
        Ok(_) => {
            ctx.trace(kind::KAFKA_REGISTERED, None, fields! { "broker" => id, "host" => host.as_str(), "port" => cfg.port_u16() });
            Ok(())
        }
        Err(ZkError::NodeExists) => Err(format!("java.lang.RuntimeException: A broker is already registered on the path /brokers/ids/{id}. This probably indicates that you either have configured a brokerid that is already in use, or else you have shutdown this broker and restarted it faster than the zookeeper timeout so it appears to be re-registering.")),
        Err(e) => Err(format!("Fatal error during KafkaServer startup: {e}")),
    }
}

/// Runs for controller (`ZookeeperLeaderElector.elect`): whoever creates `/controller` first.
async fn elect(
    ctx: &ProcCtx,
    cfg: &Arc<KafkaConfig>,
    zk: &Arc<ZooKeeper>,
    slot: &Arc<Mutex<Option<Arc<KafkaController>>>>,
    selector: &Arc<dyn OfflinePartitionLeaderSelector>,
) {
    loop {
        let json = zku::controller_json(cfg.broker_id, ctx.wall_ms());
        match zk.create(zku::CONTROLLER, json.as_bytes(), CreateMode::Ephemeral).await {
            Ok(_) => {
                if let Ok(c) = KafkaController::on_controller_failover(
                    ctx.clone(),
                    cfg.clone(),
                    zk.clone(),
                    selector.clone(),
                )
                .await
                {
                    *lock(slot) = Some(c);
                }
                // Watch our own node too, as the real elector does.
                let _ = zk.exists(zku::CONTROLLER, true).await;
                return;
            }
            Err(ZkError::NodeExists) => match zk.exists(zku::CONTROLLER, true).await {
                Ok(Some(_)) => return,
                Ok(None) => continue,
                Err(_) => return,
            },
            Err(_) => return,
        }
    }
}

/// `KafkaServer.controlledShutdown`: up to `controlled.shutdown.max.retries` (3) times, ask the
/// controller to move this broker's leaderships away, `controlled.shutdown.retry.backoff.ms`
/// (5 s) apart, before the process stops.
async fn controlled_shutdown(
    ctx: &ProcCtx,
    cfg: &KafkaConfig,
    zk: &ZooKeeper,
    console: &Option<(String, Term)>,
) {
    for _ in 0..3 {
        let target = match zk.get_data(zku::CONTROLLER, false).await {
            Ok((d, _)) => zku::parse_controller(&d),
            Err(_) => None,
        };
        let addr = match target {
            Some(c) => zk
                .get_data(&format!("{}/{c}", zku::BROKER_IDS), false)
                .await
                .ok()
                .and_then(|(d, _)| zku::parse_broker(c, &d)),
            None => None,
        };
        if let Some(addr) = addr {
            let id = cfg.broker_id.to_string();
            if let Ok(mut client) =
                NetworkClient::connect(ctx, &addr, &id, Duration::from_secs(5)).await
            {
                let req = Request::ControlledShutdown(ControlledShutdownRequest {
                    broker_id: cfg.broker_id,
                });
                if let Ok(Response::ControlledShutdown(ControlledShutdownResponse {
                    error_code: KafkaError::None,
                    partitions_remaining: left,
                })) = client.request(req, Duration::from_secs(30)).await
                {
                    if left.is_empty() {
                        log(
                            ctx,
                            console,
                            "INFO",
                            &format!(
                                "[Kafka Server {}], Controlled shutdown succeeded",
                                cfg.broker_id
                            ),
                            "kafka.server.KafkaServer",
                        )
                        .await;
                        return;
                    }
                    log(
                        ctx,
                        console,
                        "INFO",
                        &format!(
                            "[Kafka Server {}], Remaining partitions to move: {}",
                            cfg.broker_id,
                            left.iter()
                                .map(|tp| format!("[{},{}]", tp.topic, tp.partition))
                                .collect::<Vec<_>>()
                                .join(",")
                        ),
                        "kafka.server.KafkaServer",
                    )
                    .await;
                }
            }
        }
        madsim::time::sleep(Duration::from_millis(5000)).await;
    }
    log(ctx, console, "WARN", &format!("[Kafka Server {}], Proceeding to do an unclean shutdown as all the controlled shutdown attempts failed", cfg.broker_id), "kafka.server.KafkaServer").await;
}

/// `SocketServer`: one task per connection, one request at a time per connection, each handed
/// to [`KafkaApis`].
async fn socket_server(mut listener: Listener<KafkaPacket>, apis: Arc<KafkaApis>) {
    while let Some(conn) = listener.accept().await {
        madsim::task::spawn(serve_connection(conn, apis.clone()));
    }
}

async fn serve_connection(conn: Conn<KafkaPacket>, apis: Arc<KafkaApis>) {
    while let Ok(pkt) = conn.recv().await {
        let KafkaPacket::Request { correlation_id, body, client_id } = pkt else { continue };
        if let Some(resp) = apis.handle(&client_id, conn.peer_host(), body).await {
            if conn.send(KafkaPacket::Response { correlation_id, body: resp }).is_err() {
                return;
            }
        }
    }
}
