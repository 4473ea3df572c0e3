//! Lesson files: parse errors name the file and where; validation refuses what could not run.

use super::*;
use crate::trace::kind;
use proptest::prelude::*;

const HEAD: &str = r#"
id = "t"
title = { en = "T", zh = "T" }
intro = { en = "I", zh = "I" }
outro = { en = "O", zh = "O" }
"#;

fn no_files(_: &str) -> Result<String, String> {
    Err("no such file".into())
}

fn parse(body: &str) -> Result<Lesson, String> {
    Lesson::parse(&format!("{HEAD}{body}"), "01-t.toml", &no_files).map_err(|e| e.to_string())
}

#[test]
fn a_minimal_lesson_parses() {
    let l = parse("[[step]]\nsay = { en = \"a\", zh = \"甲\" }\n[[step]]\non = \"slave1\"\nrun = [\"jps\"]\npause = true\n").unwrap();
    assert_eq!(l.id, "t");
    assert_eq!((l.seed, l.start, l.think), (1, Start::Zookeeper, Duration::from_secs(1)));
    assert_eq!(l.steps.len(), 2);
    assert_eq!(
        l.steps[1].action,
        Action::Shell { on: Some("slave1".into()), lines: vec!["jps".into()] }
    );
    assert!(l.steps[1].pause);
}

#[test]
fn toml_errors_carry_the_file_line_and_column() {
    let e = parse("[[step]]\nsay = { en = \"a\", zh = \"b\" }\nrunn = [\"jps\"]\n").unwrap_err();
    assert!(e.starts_with("01-t.toml: "), "{e}");
    assert!(e.contains("line 8"), "{e}");
    assert!(e.contains("unknown field `runn`"), "{e}");
    let e = parse("[[step]]\nquestion = { en = \"q\", zh = \"q\", query = { kind = \"zk_leeder\" } }\nrun = [\"jps\"]\n").unwrap_err();
    assert!(e.contains("zk_leeder"), "{e}");
    let e = parse("[[step]]\nrun = [\"jps\"]\nquestion = { en = \"q\", zh = \"q\", query = { kind = \"count\", event = \"x\", size = 3 } }\n").unwrap_err();
    assert!(e.contains("unknown field `size`"), "{e}");
}

#[test]
fn validation_refuses_what_could_not_run() {
    let cases = [
        ("[[step]]\nsay = { en = \"a\", zh = \"\" }\n", "step 1: say needs both"),
        ("[[step]]\nrun = [\"jps\"]\nscenario = \"scenarios/x.toml\"\n", "one of `run`, `scenario` or `bench`"),
        ("[[step]]\non = \"slave9\"\nrun = [\"jps\"]\n", "unknown host \"slave9\""),
        ("[[step]]\nsay = { en = \"a\", zh = \"b\" }\non = \"slave1\"\n", "`on` names the host"),
        ("[[step]]\nscenario = \"scenarios/x.toml\"\n", "scenario scenarios/x.toml: no such file"),
        ("[[step]]\nquestion = { en = \"q\", zh = \"q\", query = { kind = \"zk_leader\" } }\n", "needs a step that runs shell lines"),
        ("[[step]]\nrun = [\"jps\"]\nquestion = { en = \"q\", zh = \"q\", query = { kind = \"metric\", name = \"x\" } }\n", "needs a step that runs a scenario"),
        ("[[step]]\nrun = [\"jps\"]\nquestion = { en = \"q\", zh = \"q\", query = { kind = \"faster_path\" } }\n", "runs a bench"),
        ("[[step]]\nbench = { regime = \"gpu-bound\" }\n", "unknown bench regime"),
        ("[[step]]\nbench = { regime = \"cpu-bound\", consumers = 0 }\n", "consumers 1..=64"),
        ("[[step]]\n", "an empty step"),
        ("", "at least one [[step]]"),
    ];
    for (body, want) in cases {
        let e = parse(body).unwrap_err();
        assert!(e.contains(want), "{body:?}: {e}");
    }
    let e = Lesson::parse("id = \"Bad Id\"\n", "x.toml", &no_files).unwrap_err().to_string();
    assert!(e.contains("missing field"), "{e}");
}

#[test]
fn a_scenario_step_parses_the_file_it_names() {
    let read = |p: &str| -> Result<String, String> {
        if p == "scenarios/s.toml" {
            Ok("[[topic]]\nname = \"t\"\n[[check]]\nname = \"no_acked_loss\"\n[run]\nduration = \"1s\"\n".into())
        } else {
            Err("no such file".into())
        }
    };
    let body = "[[step]]\nscenario = \"scenarios/s.toml\"\nscenario_seed = 4\nquestion = { en = \"q\", zh = \"q\", query = { kind = \"check\", name = \"no_acked_loss\" } }\n";
    let l = Lesson::parse(&format!("{HEAD}{body}"), "01-t.toml", &read).unwrap();
    match &l.steps[0].action {
        Action::Scenario { file, scenario, seed } => {
            assert_eq!(
                (file.as_str(), scenario.name.as_str(), *seed),
                ("scenarios/s.toml", "s", Some(4))
            );
        }
        other => panic!("{other:?}"),
    }
    let bad =
        |p: &str| -> Result<String, String> { read(p).map(|t| t.replace("duration", "durashun")) };
    let e = Lesson::parse(&format!("{HEAD}{body}"), "01-t.toml", &bad).unwrap_err().to_string();
    assert!(e.contains("scenario scenarios/s.toml:"), "{e}");
    let e = Lesson::parse(
        &format!("{HEAD}{}", body.replace("\"no_acked_loss\" }", "\"no_such_check\" }")),
        "01-t.toml",
        &read,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("step 1: question: unknown check \"no_such_check\""), "{e}");
}

#[test]
fn the_catalog_orders_by_file_name_and_checks_names() {
    let file = |id: &str| {
        format!("id = \"{id}\"\ntitle = {{ en = \"{id}\", zh = \"{id}\" }}\nintro = {{ en = \"i\", zh = \"i\" }}\noutro = {{ en = \"o\", zh = \"o\" }}\n[[step]]\nsay = {{ en = \"s\", zh = \"s\" }}\n")
    };
    let c = Catalog::load(
        vec![("02-b.toml".into(), file("b")), ("01-a.toml".into(), file("a"))],
        &no_files,
    )
    .unwrap();
    assert_eq!(c.lessons.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(c.list(Lang::En).lines().take(2).collect::<Vec<_>>(), [" 1. a  a", " 2. b  b"]);
    assert!(c.get("b").is_ok());
    assert_eq!(
        c.get("zz").unwrap_err().to_string(),
        "no lesson \"zz\"; `lab lesson list` shows them"
    );
    let e =
        Catalog::load(vec![("01-x.toml".into(), file("a"))], &no_files).unwrap_err().to_string();
    assert!(e.contains("must be named NN-a.toml"), "{e}");
    let e = Catalog::load(
        vec![("01-a.toml".into(), file("a")), ("02-a.toml".into(), file("a"))],
        &no_files,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("must be named") || e.contains("second lesson"), "{e}");
    assert!(Catalog::load(vec![], &no_files).is_err());
}

#[test]
fn jsonl_round_trips_into_events() {
    let t = crate::trace::Tracer::new();
    let a = t.emit(
        5,
        "master",
        "Kafka",
        kind::KAFKA_HW,
        None,
        crate::trace::fields! { "to" => 3, "topic" => "x" },
    );
    t.emit(6, "slave1", "Kafka", kind::NET_RECV, Some(a), crate::trace::fields! {});
    assert_eq!(parse_jsonl(&t.to_jsonl()).unwrap(), t.events());
    assert!(parse_jsonl("{\"t_us\":1}\n").is_err());
    assert!(parse_jsonl("not json\n").is_err());
}

#[test]
fn the_answer_changes_with_what_happened() {
    // The same question, two runs: in the second the ZooKeeper leader was stopped first, so the
    // trace names another leader. The lesson prints whatever the trace says.
    let lesson = |lines: &str| {
        parse(&format!(
            "[[step]]\non = \"slave2\"\nrun = [{lines}]\nquestion = {{ en = \"Who leads?\", zh = \"谁领导？\", query = {{ kind = \"zk_leader\" }} }}\n"
        ))
        .unwrap()
    };
    let observe = |l: &Lesson| {
        let mut t = Transcript::default();
        run(l, &RunOptions { lang: Lang::En, seed: None }, &mut t).unwrap();
        t.text.lines().find(|l| l.starts_with("= Observed")).map(str::to_string).unwrap_or_default()
    };
    let before = observe(&lesson("\"zkServer.sh status\""));
    let after =
        observe(&lesson("\"zkServer.sh stop\", \"sleep 5\", \"ssh slave1 zkServer.sh status\""));
    assert_eq!(before, "= Observed (from the trace): slave2 (myid 3)");
    assert_eq!(after, "= Observed (from the trace): slave1 (myid 2)");
}

#[test]
fn an_interactive_learner_is_told_whether_the_prediction_matched() {
    struct Typist(Vec<String>, String, usize);
    impl Learner for Typist {
        fn interactive(&self) -> bool {
            true
        }
        fn write(&mut self, text: &str) {
            self.1.push_str(text);
        }
        fn pause(&mut self) {
            self.2 += 1;
        }
        fn predict(&mut self) -> Option<String> {
            (!self.0.is_empty()).then(|| self.0.remove(0))
        }
    }
    let l = parse(
        "[[step]]\non = \"slave2\"\nrun = [\"jps\"]\npause = true\nquestion = { en = \"Who leads?\", zh = \"谁？\", query = { kind = \"zk_leader\" } }\n\
         [[step]]\nrun = [\"jps\"]\nquestion = { en = \"Again?\", zh = \"再？\", query = { kind = \"zk_leader\" } }\n",
    )
    .unwrap();
    let mut t = Typist(vec!["slave2".into(), "master".into()], String::new(), 0);
    run(&l, &RunOptions { lang: Lang::En, seed: None }, &mut t).unwrap();
    assert!(t.1.contains("Your prediction: "), "{}", t.1);
    assert!(t.1.contains("slave2 (myid 3) — your prediction matched."), "{}", t.1);
    assert!(t.1.contains("slave2 (myid 3) — you predicted \"master\"."), "{}", t.1);
    assert_eq!(t.2, 1, "one pause, only where the file asks");
    let mut piped = Transcript::default();
    run(&l, &RunOptions { lang: Lang::Zh, seed: None }, &mut piped).unwrap();
    assert!(!piped.text.contains("按回车"), "no pause without a terminal");
    assert!(piped.text.contains("= 观察结果（来自 trace）：slave2 (myid 3)\n"), "{}", piped.text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Whatever the text, parsing returns (an error or a lesson), never panics.
    #[test]
    fn parsing_never_panics(text in "(\\[\\[step\\]\\]\n|id = \"x\"\n|run = \\[\"jps\"\\]\n|on = \"[a-z0-9]{0,6}\"\n|say = \\{ en = \"a\", zh = \"b\" \\}\n|[ -~\n]{0,20})*") {
        let _ = Lesson::parse(&format!("{HEAD}{text}"), "f.toml", &no_files);
        let _ = Lesson::parse(&text, "f.toml", &no_files);
    }
}

#[test]
fn questions_name_declared_kinds_and_fields() {
    let q = |query: &str| {
        parse(&format!(
            "[[step]]\nrun = [\"jps\"]\nquestion = {{ en = \"q\", zh = \"q\", query = {query} }}\n"
        ))
    };
    let e = q("{ kind = \"count\", event = \"kafka.client.consumd\" }").unwrap_err();
    assert!(e.contains("unknown event kind \"kafka.client.consumd\""), "{e}");
    let e =
        q("{ kind = \"count\", event = \"kafka.client.consumed\", sum = \"recs\" }").unwrap_err();
    assert!(e.contains("event kind \"kafka.client.consumed\" has no field \"recs\""), "{e}");
    let e =
        q("{ kind = \"elapsed\", from = \"proc.kill\", to = \"zk.session.expired\" }").unwrap_err();
    assert!(e.contains("unknown event kind \"zk.session.expired\""), "{e}");
    let e =
        q("{ kind = \"last\", event = \"kafka.hw\", field = \"to\", where = { tpoic = \"t\" } }")
            .unwrap_err();
    assert!(e.contains("has no field \"tpoic\""), "{e}");
    let ok = "{ kind = \"count\", event = \"kafka.client.consumed\", sum = \"records\", \
              where = { host = \"master\", topic = \"t\" } }";
    assert!(q(ok).is_ok(), "{:?}", q(ok));
}
