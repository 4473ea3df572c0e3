//! `zkCli.sh` (`ZooKeeperMain`) and `zkServer.sh`, printing what ZooKeeper 3.4.6 prints.
//!
//! zkCli runs a command given on its command line (the 3.4.7 behaviour: 3.4.6 connected and
//! ignored it, ZOOKEEPER-1897) and exits without closing its session, as `System.exit` does, so an
//! ephemeral node it created lives until the session times out. `zkServer.sh status` asks the
//! local server with the `srvr` four-letter word, exactly like the script's `nc` pipe.

use super::client::ZooKeeper;
use super::election::VoteOrder;
use super::proto::ClientPacket;
use super::quorum_peer_main::{read_config, zoo_cfg_path, ZK_HOME};
use super::txn::{fmt_zxid, validate_path_msg, CreateMode, Stat, ZkError};
use sim_core::jvm::java_date;
use sim_core::term::Term;
use sim_core::world::{ProcCtx, World};
use std::sync::Arc;
use std::time::Duration;

/// The stat block zkCli prints after `get`, `stat` and `set`.
pub fn print_stat(term: &Term, s: &Stat) {
    term.err(&format!("cZxid = {}", fmt_zxid(s.czxid)));
    term.err(&format!("ctime = {}", java_date(s.ctime)));
    term.err(&format!("mZxid = {}", fmt_zxid(s.mzxid)));
    term.err(&format!("mtime = {}", java_date(s.mtime)));
    term.err(&format!("pZxid = {}", fmt_zxid(s.pzxid)));
    term.err(&format!("cversion = {}", s.cversion));
    term.err(&format!("dataVersion = {}", s.version));
    term.err(&format!("aclVersion = {}", s.aversion));
    term.err(&format!("ephemeralOwner = 0x{:x}", s.ephemeral_owner));
    term.err(&format!("dataLength = {}", s.data_length));
    term.err(&format!("numChildren = {}", s.num_children));
}

const USAGE: &str = "ZooKeeper -server host:port cmd args
\tstat path [watch]
\tset path data [version]
\tls path [watch]
\tdelquota [-n|-b] path
\tls2 path [watch]
\tsetAcl path acl
\tsetquota -n|-b val path
\thistory 
\tredo cmdno
\tprintwatches on|off
\tdelete path [version]
\tsync path
\tlistquota path
\trmr path
\tget path [watch]
\tcreate [-s] [-e] path data acl
\taddauth scheme auth
\tquit 
\tgetAcl path
\tclose 
\tconnect host:port";

/// Parses `host:port[,host:port…]` into a server list (default port 2181).
fn servers(spec: &str) -> Vec<(String, u16)> {
    spec.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().unwrap_or(2181)),
            None => (s.to_string(), 2181),
        })
        .collect()
}

/// Runs `zkCli.sh [-server HOSTS] [CMD ARGS…]` as the process `ctx`; returns the exit code.
pub async fn zk_cli(ctx: ProcCtx, args: Vec<String>, term: Term) -> i32 {
    let mut server = "localhost:2181".to_string();
    let mut timeout = Duration::from_millis(30_000);
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-server" => server = it.next().unwrap_or(server),
            "-timeout" => {
                timeout = it
                    .next()
                    .and_then(|t| t.parse().ok())
                    .map(Duration::from_millis)
                    .unwrap_or(timeout)
            }
            _ => rest.push(a),
        }
    }
    let list: Vec<(String, u16)> = servers(&server)
        .into_iter()
        .map(|(h, p)| (if h == "localhost" || h == "127.0.0.1" { ctx.host.clone() } else { h }, p))
        .collect();
    term.out(&format!("Connecting to {server}"));
    let mut zk = ZooKeeper::new(&ctx, list, timeout);
    if rest.is_empty() {
        // Interactive mode needs a terminal; the lab's shell runs one command per line.
        term.out("");
        term.out("WATCHER::");
        term.out("");
        term.out("WatchedEvent state:SyncConnected type:None path:null");
        return 0;
    }
    let code = run_command(&ctx, &mut zk, &rest, &term).await;
    // System.exit: the session is left to expire, not closed.
    drop(zk);
    code
}

/// Prints events that arrived (the `WATCHER::` blocks of the default watcher).
fn drain_events(zk: &mut ZooKeeper, term: &Term) {
    while let Some(ev) = zk.try_next_event() {
        term.out("");
        term.out("WATCHER::");
        term.out("");
        term.out(&ev.to_string());
    }
}

fn uncaught(term: &Term, e: ZkError, path: &str) -> i32 {
    term.err(&format!(
        "Exception in thread \"main\" {}: {}",
        e.exception_class_fqn(),
        e.message_for_path(path)
    ));
    term.err("\tat org.apache.zookeeper.KeeperException.create(KeeperException.java:99)");
    term.err("\tat org.apache.zookeeper.KeeperException.create(KeeperException.java:51)");
    1
}

/// `ZooKeeperMain.processCmd`: the caught exceptions print one line, the rest end the program.
fn report(term: &Term, e: ZkError, path: &str) -> i32 {
    match e {
        ZkError::NoNode => term.err(&format!("Node does not exist: {path}")),
        ZkError::NodeExists => term.err(&format!("Node already exists: {path}")),
        ZkError::NotEmpty => term.err(&format!("Node not empty: {path}")),
        ZkError::NoChildrenForEphemerals => {
            term.err(&format!("Ephemerals cannot have children: {path}"))
        }
        ZkError::BadVersion => term.err(&format!("version No is not valid : {path}")),
        ZkError::BadArguments => term.err(&format!("bad arguments: {path}")),
        other => return uncaught(term, other, path),
    }
    0
}

async fn run_command(_ctx: &ProcCtx, zk: &mut ZooKeeper, args: &[String], term: &Term) -> i32 {
    let cmd = args[0].as_str();
    let arg = |i: usize| args.get(i).map(String::as_str);
    // Wait for the connection (or its failure) before printing, so the transcript is stable.
    let mut connected = false;
    for _ in 0..100 {
        if zk.is_connected() {
            connected = true;
            break;
        }
        madsim::time::sleep(Duration::from_millis(10)).await;
    }
    if connected {
        drain_events(zk, term);
    }
    let need = |n: usize| args.len() > n;
    let code = match cmd {
        "ls" | "ls2" if need(1) => {
            let path = arg(1).unwrap_or("/");
            if let Err(msg) = validate_path_msg(path, false) {
                term.err(&format!("Command failed: java.lang.IllegalArgumentException: {msg}"));
                return 0;
            }
            match zk.get_children(path, arg(2).is_some()).await {
                Ok(children) => {
                    term.out(&format!("[{}]", children.join(", ")));
                    if cmd == "ls2" {
                        if let Ok(Some(s)) = zk.exists(path, false).await {
                            print_stat(term, &s);
                        }
                    }
                    0
                }
                Err(e) => report(term, e, path),
            }
        }
        "get" if need(1) => {
            let path = arg(1).unwrap_or("/");
            if let Err(msg) = validate_path_msg(path, false) {
                term.err(&format!("Command failed: java.lang.IllegalArgumentException: {msg}"));
                return 0;
            }
            match zk.get_data(path, arg(2).is_some()).await {
                Ok((data, stat)) => {
                    term.out(&String::from_utf8_lossy(&data));
                    print_stat(term, &stat);
                    0
                }
                Err(e) => report(term, e, path),
            }
        }
        "stat" if need(1) => {
            let path = arg(1).unwrap_or("/");
            match zk.exists(path, arg(2).is_some()).await {
                Ok(Some(stat)) => {
                    print_stat(term, &stat);
                    0
                }
                Ok(None) => {
                    term.err(&format!("Node does not exist: {path}"));
                    0
                }
                Err(e) => report(term, e, path),
            }
        }
        "create" if need(2) => {
            let mut i = 1;
            let (mut seq, mut eph) = (false, false);
            while let Some(flag) = arg(i).filter(|a| *a == "-s" || *a == "-e") {
                seq |= flag == "-s";
                eph |= flag == "-e";
                i += 1;
            }
            let (Some(path), data) = (arg(i), arg(i + 1)) else {
                term.err(USAGE);
                return 0;
            };
            if let Err(msg) = validate_path_msg(path, seq) {
                term.err(&format!("Command failed: java.lang.IllegalArgumentException: {msg}"));
                return 0;
            }
            let mode = match (eph, seq) {
                (true, true) => CreateMode::EphemeralSequential,
                (true, false) => CreateMode::Ephemeral,
                (false, true) => CreateMode::PersistentSequential,
                (false, false) => CreateMode::Persistent,
            };
            match zk.create(path, data.unwrap_or("").as_bytes(), mode).await {
                Ok(p) => {
                    term.err(&format!("Created {p}"));
                    0
                }
                Err(e) => report(term, e, path),
            }
        }
        "set" if need(2) => {
            let path = arg(1).unwrap_or("/");
            let version = arg(3).and_then(|v| v.parse().ok()).unwrap_or(-1);
            match zk.set_data(path, arg(2).unwrap_or("").as_bytes(), version).await {
                Ok(stat) => {
                    print_stat(term, &stat);
                    0
                }
                Err(e) => report(term, e, path),
            }
        }
        "delete" if need(1) => {
            let path = arg(1).unwrap_or("/");
            let version = arg(2).and_then(|v| v.parse().ok()).unwrap_or(-1);
            match zk.delete(path, version).await {
                Ok(()) => 0,
                Err(e) => report(term, e, path),
            }
        }
        "rmr" if need(1) => {
            let path = arg(1).unwrap_or("/");
            match rmr(zk, path).await {
                Ok(()) => 0,
                Err((e, p)) => report(term, e, &p),
            }
        }
        "sync" if need(1) => 0,
        "quit" | "close" | "history" => 0,
        _ => {
            term.err(USAGE);
            0
        }
    };
    drain_events(zk, term);
    code
}

/// `ZKUtil.deleteRecursive` for library callers (a missing node is fine).
pub async fn delete_recursive(zk: &ZooKeeper, path: &str) -> Result<(), ZkError> {
    match rmr(zk, path).await {
        Ok(()) | Err((ZkError::NoNode, _)) => Ok(()),
        Err((e, _)) => Err(e),
    }
}

/// `ZKUtil.deleteRecursive`: children first, breadth-first listing.
async fn rmr(zk: &ZooKeeper, path: &str) -> Result<(), (ZkError, String)> {
    let mut order = vec![path.to_string()];
    let mut i = 0;
    while i < order.len() {
        let p = order[i].clone();
        let children = zk.get_children(&p, false).await.map_err(|e| (e, p.clone()))?;
        for c in children {
            order.push(if p == "/" { format!("/{c}") } else { format!("{p}/{c}") });
        }
        i += 1;
    }
    for p in order.iter().rev() {
        zk.delete(p, -1).await.map_err(|e| (e, p.clone()))?;
    }
    Ok(())
}

/// The pid file `zkServer.sh` keeps in dataDir.
fn pid_file(data_dir: &str) -> String {
    format!("{data_dir}/zookeeper_server.pid")
}

/// zkServer.sh 3.4.x prints "JMX enabled by default" (the seed's transcript shows it); the
/// "ZooKeeper JMX enabled by default" wording is 3.5's.
fn header(term: &Term) {
    term.err("JMX enabled by default");
    term.err(&format!("Using config: {ZK_HOME}/bin/../conf/zoo.cfg"));
}

/// `zkServer.sh start|stop|status|restart` on `host`; returns the exit code.
pub async fn zk_server_sh(
    world: &World,
    host: &str,
    action: &str,
    term: &Term,
    vote_order: &Arc<dyn VoteOrder>,
) -> i32 {
    let disk = match world.disk(host) {
        Ok(d) => d,
        Err(e) => {
            term.err(&e.to_string());
            return 255;
        }
    };
    let cfg_text = disk.peek(&zoo_cfg_path()).map(|b| String::from_utf8_lossy(&b).into_owned());
    let data_dir = cfg_text
        .as_deref()
        .and_then(|t| super::config::QuorumPeerConfig::parse(t).ok())
        .map(|c| c.data_dir.clone())
        .unwrap_or_else(|| format!("{ZK_HOME}/data"));
    let pidf = pid_file(&data_dir);
    let running = |world: &World| -> Option<u32> {
        let pid: u32 =
            disk.peek(&pidf).and_then(|b| String::from_utf8_lossy(&b).trim().parse().ok())?;
        world
            .processes(host)
            .iter()
            .any(|p| p.pid == pid && p.name == "QuorumPeerMain")
            .then_some(pid)
    };
    header(term);
    match action {
        "start" => {
            term.raw("Starting zookeeper ... ");
            if let Some(pid) = running(world) {
                // 3.4's script echoes an unset `$command` here, hence no name before "already".
                term.out(&format!("already running as process {pid}."));
                return 0;
            }
            let cfg_path = zoo_cfg_path();
            let order = vote_order.clone();
            match world.spawn(host, "QuorumPeerMain", move |ctx| {
                super::quorum_peer_main::run(ctx, cfg_path, order)
            }) {
                Ok(pid) => {
                    // `> zookeeper.out`: each start begins a fresh console log.
                    let _ =
                        disk.write_all(&super::quorum_peer_main::zookeeper_out_path(), b"").await;
                    let _ = disk.write_all(&pidf, format!("{pid}").as_bytes()).await;
                    term.out("STARTED");
                    0
                }
                Err(e) => {
                    term.out("FAILED TO START");
                    term.err(&e.to_string());
                    1
                }
            }
        }
        "stop" => {
            if disk.len(&pidf).is_none() {
                term.out(&format!(
                    "Stopping zookeeper ... no zookeeper to stop (could not find file {pidf})"
                ));
                return 0;
            }
            term.raw("Stopping zookeeper ... ");
            if let Some(pid) = disk
                .peek(&pidf)
                .and_then(|b| String::from_utf8_lossy(&b).trim().parse::<u32>().ok())
            {
                // zkServer.sh 3.4.6 stops with kill -9.
                world.kill(host, pid);
            }
            let _ = disk.delete(&pidf).await;
            term.out("STOPPED");
            0
        }
        "restart" => {
            let a = Box::pin(zk_server_sh(world, host, "stop", term, vote_order)).await;
            madsim::time::sleep(Duration::from_secs(3)).await;
            let b = Box::pin(zk_server_sh(world, host, "start", term, vote_order)).await;
            a.max(b)
        }
        "status" => match status(world, host).await {
            Some(mode) => {
                term.out(&format!("Mode: {mode}"));
                0
            }
            None => {
                term.out("Error contacting service. It is probably not running.");
                1
            }
        },
        _ => {
            term.out("Usage: /usr/local/spark/zookeeper-3.4.6/bin/zkServer.sh {start|start-foreground|stop|restart|status|upgrade|print-cmd}");
            1
        }
    }
}

/// The `Mode:` a server reports to `srvr`, or None when it does not answer or is not serving.
pub async fn status(world: &World, host: &str) -> Option<String> {
    let disk = world.disk(host).ok()?;
    let cfg_text = String::from_utf8_lossy(&disk.peek(&zoo_cfg_path())?).into_owned();
    let port = super::config::QuorumPeerConfig::parse(&cfg_text).ok()?.client_port;
    let conn = world
        .net()
        .connect::<ClientPacket>(host, "zkServer.sh", host, port, Duration::from_secs(1))
        .await
        .ok()?;
    conn.send(ClientPacket::FourLetter("srvr".into())).ok()?;
    match conn.recv_timeout(Duration::from_secs(2)).await.ok()? {
        ClientPacket::FourLetterReply(text) => {
            text.lines().find_map(|l| l.strip_prefix("Mode: ").map(str::to_string))
        }
        _ => None,
    }
}

/// Reads the configuration as a server on `host` would (for `lab status` and diagnostics).
pub async fn host_config(ctx: &ProcCtx) -> Result<(super::config::QuorumPeerConfig, u64), String> {
    read_config(ctx, &zoo_cfg_path()).await
}
