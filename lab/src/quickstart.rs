//! `lab quickstart`: the seed course's install-and-verify walkthrough, command for command,
//! printed like the seed's terminal, followed by what happened inside (read from the trace).

use anyhow::Result;
use sim::shell::Shell;
use sim::world::Sim;
use std::time::Instant;

/// One step: a heading (en, zh), a command typed on a host, or a line typed into the running
/// program (the console producer reads lines until `^D`).
enum Step {
    Heading(&'static str, &'static str),
    Cmd(&'static str, &'static str),
    Input(&'static str),
}

use Step::{Cmd, Heading, Input};

const STEPS: &[Step] = &[
    Heading("1. ZooKeeper is installed on every host (zoo.cfg, myid)", "1. 每台主机都已安装 ZooKeeper（zoo.cfg、myid）"),
    Cmd("master", "cat ../conf/zoo.cfg"),
    Cmd("master", "cat ../data/myid"),
    Cmd("slave1", "cat ../data/myid"),
    Cmd("slave2", "cat ../data/myid"),
    Heading("2. Start ZooKeeper on each host", "2. 在每台主机上启动 ZooKeeper"),
    Cmd("master", "zkServer.sh start"),
    Cmd("slave1", "zkServer.sh start"),
    Cmd("slave2", "zkServer.sh start"),
    Heading("3. Verify: jps and zkServer.sh status", "3. 验证：jps 和 zkServer.sh status"),
    Cmd("master", "jps"),
    Cmd("master", "zkServer.sh status"),
    Cmd("slave1", "jps"),
    Cmd("slave1", "zkServer.sh status"),
    Cmd("slave2", "jps"),
    Cmd("slave2", "zkServer.sh status"),
    Heading("4. Use it: a znode written on one host is read on another", "4. 使用：在一台主机写入的 znode 可在另一台读取"),
    Cmd("master", "zkCli.sh -server master:2181 create /lab hello"),
    Cmd("master", "zkCli.sh -server slave1:2181 get /lab"),
    Heading("5. Start Kafka on each host", "5. 在每台主机上启动 Kafka"),
    Cmd("master", "cd $KAFKA_HOME/bin"),
    Cmd("master", "nohup ./kafka-server-start.sh ../config/server.properties &"),
    Cmd("slave1", "cd $KAFKA_HOME/bin"),
    Cmd("slave1", "nohup ./kafka-server-start.sh ../config/server.properties &"),
    Cmd("slave2", "cd $KAFKA_HOME/bin"),
    Cmd("slave2", "kafka-server-start.sh ../config/server.properties &"),
    Cmd("slave2", "jps"),
    Heading("6. Verify: create HelloKafka, produce, consume", "6. 验证：创建 HelloKafka、生产、消费"),
    Cmd("master", "kafka-topics.sh --create --zookeeper master:2181,slave1:2181,slave2:2181 --replication-factor 3 --partitions 1 --topic HelloKafka"),
    Cmd("master", "kafka-console-producer.sh --broker-list master:9092,slave1:9092,slave2:9092 --topic HelloKafka"),
    Input("This is DT_Spark!"),
    Input("I'm Rocky!"),
    Input("Life is short, you need Spark!"),
    Input("^D"),
    Cmd("master", "kafka-console-consumer.sh --zookeeper master:2181,slave1:2181,slave2:2181 --from-beginning --topic HelloKafka"),
    Cmd("master", "kafka-topics.sh --list --zookeeper master:2181,slave1:2181,slave2:2181"),
    Cmd("master", "kafka-topics.sh --describe --zookeeper master:2181,slave1:2181,slave2:2181 --topic HelloKafka"),
];

pub fn run(seed: u64, lang: &str) -> Result<i32> {
    let zh = lang == "zh";
    let wall = Instant::now();
    let out = Sim::new(sim::seeded(seed)).run(|world| async move {
        let mut sh = Shell::new(world.clone());
        sh.boot_cluster(false).await;
        let mut text = String::new();
        for step in STEPS {
            match step {
                Heading(en, cn) => text.push_str(&format!("\n## {}\n\n", if zh { cn } else { en })),
                Cmd(host, line) => {
                    sh.set_host(host);
                    text.push_str(&format!("{}{}\n", sh.prompt(), line));
                    sh.exec_line(line).await;
                    text.push_str(&sh.take_output());
                }
                Input(line) => {
                    text.push_str(&format!("{line}\n"));
                    sh.exec_line(line).await;
                    text.push_str(&sh.take_output());
                }
            }
        }
        text.push_str(&format!(
            "\n## {}\n\n",
            if zh {
                "内部发生了什么（来自 trace）"
            } else {
                "What happened inside (from the trace)"
            }
        ));
        text.push_str(&sim::report::zk_summary(&world));
        text.push_str(&sim::report::kafka_summary(&world));
        text
    });
    print!("{out}");
    println!("Wall time: {} ms", wall.elapsed().as_millis());
    Ok(0)
}
