//! `kafka-console-consumer.sh --zookeeper …`: 0.9's `ConsoleConsumer` with its `OldConsumer`, a
//! [`ZookeeperConsumerConnector`] subscribed with `Whitelist(topic)` and one stream.
//!
//! As in 0.9, the group comes from `group.id` in `--consumer.config` (the `--group` flag only
//! exists from 1.0; the lab accepts it with a note). Without one the tool makes up
//! `console-consumer-<random>` and deletes `/consumers/<that group>` when it exits. Several console
//! consumers given the same `group.id` share the topic's partitions. `auto.offset.reset` from the
//! file is overwritten: `smallest` with `--from-beginning`, `largest` without.
//!
//! It ends at `--max-messages`, after `--timeout-ms` without a record (`ConsumerTimeoutException`),
//! or on SIGTERM/SIGINT (`kill %1`): the shutdown hook stops the connector, which commits the
//! offsets, and the JVM exits with 143 (130). In the foreground with neither flag, one idle second of
//! virtual time stands in for the learner's Ctrl-C; in the background (`&`) it runs until killed.

use super::Invocation;
use crate::admin::ConsoleConsumerOptions;
use crate::zk_consumer::assignor::TopicFilter;
use crate::zk_consumer::{ConsumerConfig, StreamError, ZookeeperConsumerConnector};
use futures::{FutureExt, StreamExt};
use sim_core::term::Term;
use sim_core::world::{ProcCtx, Signal};
use std::collections::BTreeMap;
use std::time::Duration;
use zookeeper::client::ZooKeeper;
use zookeeper::txn::ZkError;

/// `config/consumer.properties` as Kafka 0.9.0.1 ships it.
pub const CONSUMER_PROPERTIES: &str = "\
# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements.  See the NOTICE file distributed with
# this work for additional information regarding copyright ownership.
# The ASF licenses this file to You under the Apache License, Version 2.0
# (the \"License\"); you may not use this file except in compliance with
# the License.  You may obtain a copy of the License at
# 
#    http://www.apache.org/licenses/LICENSE-2.0
# 
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an \"AS IS\" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
# see kafka.consumer.ConsumerConfig for more details

# Zookeeper connection string
# comma separated host:port pairs, each corresponding to a zk
# server. e.g. \"127.0.0.1:3000,127.0.0.1:3001,127.0.0.1:3002\"
zookeeper.connect=127.0.0.1:2181

# timeout in ms for connecting to zookeeper
zookeeper.connection.timeout.ms=6000

#consumer group id
group.id=test-consumer-group

#consumer timeout
#consumer.timeout.ms=5000
";

const MAIN: &str = "kafka.tools.ConsoleConsumer$";

fn log(ctx: &ProcCtx, term: &Term, level: &str, msg: &str, class: &str) {
    term.err(&format!("[{}] {level} {msg} ({class})", sim_core::jvm::log_time(ctx.wall_ms())));
}

/// `main`'s catch-all: `error("Unknown error when running consumer: ", e); System.exit(1)`.
fn unknown_error(ctx: &ProcCtx, term: &Term, exception: &str) -> i32 {
    log(ctx, term, "ERROR", "Unknown error when running consumer: ", MAIN);
    term.err(exception);
    1
}

/// A ZkClient with 30 s timeouts, as `checkZkPathExists` and `maybeDeletePath` open.
async fn short_session(ctx: &ProcCtx, connect: &str) -> Option<ZooKeeper> {
    let servers = zookeeper::connect_string::parse_connect_string(connect, 2181)
        .map(|(s, _)| s)
        .unwrap_or_default();
    let zk = ZooKeeper::new(ctx, servers, Duration::from_millis(30_000));
    let deadline = madsim::time::Instant::now() + Duration::from_millis(30_000);
    while !zk.is_connected() && madsim::time::Instant::now() < deadline {
        madsim::time::sleep(Duration::from_millis(50)).await;
    }
    if zk.is_connected() {
        Some(zk)
    } else {
        zk.close().await;
        None
    }
}

async fn path_exists(zk: &Option<ZooKeeper>, path: &str) -> bool {
    match zk {
        Some(zk) => matches!(zk.exists(path, false).await, Ok(Some(_))),
        None => false,
    }
}

/// Runs the old-consumer console consumer; returns the exit code.
pub(super) async fn run(
    ctx: ProcCtx,
    opts: ConsoleConsumerOptions,
    topic: String,
    term: Term,
    inv: Invocation,
) -> i32 {
    let connect = opts.zookeeper.clone().unwrap_or_default();
    // new ConsumerConfig(args): the properties file is loaded before anything connects.
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(file) = &opts.consumer_config {
        match ctx.disk().peek(&inv.resolve(file)) {
            Some(bytes) => {
                props = crate::config::parse_properties(&String::from_utf8_lossy(&bytes))
            }
            None => {
                term.err(&format!("Exception in thread \"main\" java.io.FileNotFoundException: {file} (No such file or directory)"));
                term.err("\tat java.io.FileInputStream.open(Native Method)");
                term.err("\tat kafka.tools.ConsoleConsumer$ConsumerConfig.<init>(ConsoleConsumer.scala:262)");
                return 1;
            }
        }
    }
    if let Some(g) = &opts.group {
        // 1.0's check when --group and the file disagree.
        if let Some(other) = props.get("group.id").filter(|o| *o != g) {
            term.err(&format!(
                "The group ids provided in different places (directly using '--group', using '--consumer-property', or using '--consumer.config') do not match. Detected group ids: '{g}', '{other}'"
            ));
            return 1;
        }
        props.insert("group.id".into(), g.clone());
    }
    let group_id_passed = props.contains_key("group.id");
    if !group_id_passed {
        let n = madsim::rand::Rng::gen_range(&mut madsim::rand::thread_rng(), 0..100_000);
        props.insert("group.id".into(), format!("console-consumer-{n}"));
    }
    let group = props.get("group.id").cloned().unwrap_or_default();

    // checkZk, then getOldConsumerProps.
    let check = short_session(&ctx, &connect).await;
    if !path_exists(&check, "/brokers/ids").await {
        term.err("No brokers found in ZK.");
        if let Some(zk) = check {
            zk.close().await;
        }
        return 1;
    }
    if !opts.delete_consumer_offsets
        && opts.from_beginning
        && path_exists(&check, &format!("/consumers/{group}/offsets")).await
    {
        term.err(&format!("Found previous offset information for this group {group}. Please use --delete-consumer-offsets to delete previous offsets metadata"));
        if let Some(zk) = check {
            zk.close().await;
        }
        return 1;
    }
    if let Some(zk) = check {
        if opts.delete_consumer_offsets {
            let _ = zookeeper::cli::delete_recursive(&zk, &format!("/consumers/{group}")).await;
        }
        zk.close().await;
    }
    props.insert(
        "auto.offset.reset".into(),
        if opts.from_beginning { "smallest" } else { "largest" }.into(),
    );
    props.insert("zookeeper.connect".into(), connect.clone());
    if let Some(t) = opts.timeout_ms.filter(|t| *t >= 0) {
        props.insert("consumer.timeout.ms".into(), t.to_string());
    }

    // new OldConsumer(Whitelist(topic), props).
    let config = match ConsumerConfig::new(&props) {
        Ok(c) => c,
        Err(e) => return unknown_error(&ctx, &term, &e.0),
    };
    let mut connector = match ZookeeperConsumerConnector::new(&ctx, config).await {
        Ok(c) => c,
        Err(e) => return unknown_error(&ctx, &term, &e.0),
    };
    let mut stream =
        match connector.create_message_streams_by_filter(TopicFilter::whitelist(&topic)).await {
            Ok(s) => s,
            Err(e) => return unknown_error(&ctx, &term, &e.0),
        };

    // addShutdownHook: SIGTERM/SIGINT stop the connector; the JVM then exits with 128 + n.
    let mut signals = ctx.signals();
    let idle = (!inv.background && opts.timeout_ms.is_none()).then(|| Duration::from_millis(1000));
    let mut count: u64 = 0;
    let mut signalled: Option<Signal> = None;
    let max = opts.max_messages.filter(|m| *m >= 0).map(|m| m as u64);
    while max.is_none_or(|m| count < m) {
        let next = async {
            match idle {
                Some(d) => madsim::time::timeout(d, stream.next()).await.ok(),
                None => Some(stream.next().await),
            }
        };
        let got = futures::select_biased! {
            s = signals.next() => {
                signalled = s;
                break;
            }
            r = next.fuse() => r,
        };
        let msg = match got {
            // The lab's stand-in for Ctrl-C.
            None => break,
            Some(Ok(m)) => m,
            Some(Err(StreamError::End)) => break,
            Some(Err(StreamError::Timeout)) => {
                log(
                    &ctx,
                    &term,
                    "ERROR",
                    "Error processing message, terminating consumer process: ",
                    MAIN,
                );
                term.err("kafka.consumer.ConsumerTimeoutException");
                break;
            }
        };
        count += 1;
        let value =
            msg.value.as_deref().map(String::from_utf8_lossy).unwrap_or_else(|| "null".into());
        if opts.print_key() {
            let key =
                msg.key.as_deref().map(String::from_utf8_lossy).unwrap_or_else(|| "null".into());
            term.out(&format!("{key}\t{value}"));
        } else {
            term.out(&value);
        }
    }
    connector.shutdown().await;
    term.err(&format!("Processed a total of {count} messages"));
    if !group_id_passed {
        // "avoid polluting zookeeper with persistent group data".
        if let Some(zk) = short_session(&ctx, &connect).await {
            if let Err(e) =
                zookeeper::cli::delete_recursive(&zk, &format!("/consumers/{group}")).await
            {
                if e != ZkError::NoNode {
                    log(
                        &ctx,
                        &term,
                        "WARN",
                        &format!("Could not delete /consumers/{group}: {e}"),
                        "kafka.utils.ZkUtils$",
                    );
                }
            }
            zk.close().await;
        }
    }
    signalled.map_or(0, |s| 128 + s.number())
}
