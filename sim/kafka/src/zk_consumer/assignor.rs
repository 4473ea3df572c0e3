//! What a consumer subscribes to (`TopicCount`, `TopicFilter`) and how the old consumer splits
//! partitions between the members of a group (`kafka.consumer.PartitionAssignor`: `RangeAssignor`,
//! the default, and `RoundRobinAssignor`, `partition.assignment.strategy=roundrobin`).
//!
//! Every consumer of a group runs the same assignor over the same ZooKeeper data (the sorted
//! children of `/consumers/<group>/ids`, each one's registration, each topic's partitions), so they
//! all reach the same decision without talking to each other; each then claims its own share.

use std::collections::{BTreeMap, BTreeSet};

/// `ConsumerThreadId`: a consumer id and a stream number, written `<consumerId>-<n>`. Ordered by
/// that string, as the Scala class compares `toString`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerThreadId {
    /// The consumer id (`<group>_<host>-<timestamp>-<uuid8>`).
    pub consumer: String,
    /// The stream number.
    pub thread_id: u32,
}

impl std::fmt::Display for ConsumerThreadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.consumer, self.thread_id)
    }
}

impl PartialOrd for ConsumerThreadId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConsumerThreadId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

/// `TopicFilter`: a `Whitelist` or `Blacklist` of topics, given as a Java regular expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicFilter {
    /// Topics matching the expression.
    Whitelist(String),
    /// Topics not matching it.
    Blacklist(String),
}

/// Kafka's internal topics (`Topic.InternalTopics`), skipped with `exclude.internal.topics=true`.
const INTERNAL_TOPICS: &[&str] = &["__consumer_offsets"];

impl TopicFilter {
    /// A whitelist as `Whitelist` cleans it: commas become `|`, spaces and surrounding quotes go.
    pub fn whitelist(raw: &str) -> Self {
        TopicFilter::Whitelist(clean_regex(raw))
    }

    /// The expression.
    pub fn regex(&self) -> &str {
        match self {
            TopicFilter::Whitelist(r) | TopicFilter::Blacklist(r) => r,
        }
    }

    /// `isTopicAllowed`.
    pub fn is_topic_allowed(&self, topic: &str, exclude_internal: bool) -> bool {
        if exclude_internal && INTERNAL_TOPICS.contains(&topic) {
            return false;
        }
        match self {
            TopicFilter::Whitelist(r) => regex_matches(r, topic),
            TopicFilter::Blacklist(r) => !regex_matches(r, topic),
        }
    }
}

fn clean_regex(raw: &str) -> String {
    raw.trim()
        .replace(',', "|")
        .replace(' ', "")
        .trim_start_matches(['"', '\''])
        .trim_end_matches(['"', '\''])
        .to_string()
}

/// A small subset of Java regular expressions, enough for topic whitelists: alternatives with `|`,
/// `.`, `\` escapes and the postfix `*`, `+`, `?`, matched against the whole name. An expression
/// using anything else (groups, classes, anchors, counts) is compared literally.
pub fn regex_matches(regex: &str, text: &str) -> bool {
    if regex.contains(['(', ')', '[', ']', '{', '}', '^', '$']) {
        return regex == text;
    }
    let text: Vec<char> = text.chars().collect();
    split_alternatives(regex).iter().any(|alt| match parse_atoms(alt) {
        Some(atoms) => match_here(&atoms, &text),
        None => alt.as_str() == text.iter().collect::<String>(),
    })
}

fn split_alternatives(regex: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let last = out.last_mut().expect("one alternative");
                last.push('\\');
                if let Some(n) = chars.next() {
                    last.push(n);
                }
            }
            '|' => out.push(String::new()),
            c => out.last_mut().expect("one alternative").push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Atom {
    Any,
    Lit(char),
}

#[derive(Debug, Clone, Copy)]
enum Rep {
    One,
    Star,
    Plus,
    Opt,
}

fn parse_atoms(alt: &str) -> Option<Vec<(Atom, Rep)>> {
    let mut out: Vec<(Atom, Rep)> = Vec::new();
    let mut chars = alt.chars();
    while let Some(c) = chars.next() {
        let atom = match c {
            '\\' => Atom::Lit(chars.next()?),
            '.' => Atom::Any,
            '*' | '+' | '?' => {
                let last = out.last_mut()?;
                if !matches!(last.1, Rep::One) {
                    return None;
                }
                last.1 = match c {
                    '*' => Rep::Star,
                    '+' => Rep::Plus,
                    _ => Rep::Opt,
                };
                continue;
            }
            c => Atom::Lit(c),
        };
        out.push((atom, Rep::One));
    }
    Some(out)
}

fn atom_matches(a: Atom, c: char) -> bool {
    match a {
        Atom::Any => true,
        Atom::Lit(l) => l == c,
    }
}

fn match_here(atoms: &[(Atom, Rep)], text: &[char]) -> bool {
    let Some(((atom, rep), rest)) = atoms.split_first() else { return text.is_empty() };
    let (min, max) = match rep {
        Rep::One => (1, 1),
        Rep::Star => (0, usize::MAX),
        Rep::Plus => (1, usize::MAX),
        Rep::Opt => (0, 1),
    };
    let mut n = 0;
    while n < max && n < text.len() && atom_matches(*atom, text[n]) {
        n += 1;
    }
    (min..=n).rev().any(|k| match_here(rest, &text[k..]))
}

/// `TopicCount`: what a consumer subscribes to, as its registration under
/// `/consumers/<group>/ids/<consumerId>` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicCount {
    /// `StaticTopicCount`: named topics with a number of streams each (`"pattern":"static"`).
    Static(BTreeMap<String, u32>),
    /// `WildcardTopicCount`: every topic the filter allows, `num_streams` streams each
    /// (`"pattern":"white_list"` or `"black_list"`). The console consumer subscribes this way.
    Wildcard {
        /// The filter.
        filter: TopicFilter,
        /// Streams per topic.
        num_streams: u32,
    },
}

impl TopicCount {
    /// `pattern` in the registration.
    pub fn pattern(&self) -> &'static str {
        match self {
            TopicCount::Static(_) => "static",
            TopicCount::Wildcard { filter: TopicFilter::Whitelist(_), .. } => "white_list",
            TopicCount::Wildcard { filter: TopicFilter::Blacklist(_), .. } => "black_list",
        }
    }

    /// The registration JSON, in the order 0.9 writes it (`Json.encode` of a four-entry Scala map):
    /// `{"version":1,"subscription":{"HelloKafka":1},"pattern":"white_list","timestamp":"1461657612345"}`.
    pub fn registration_json(&self, timestamp_ms: i64) -> String {
        let subscription: Vec<String> = match self {
            TopicCount::Static(m) => {
                m.iter().map(|(t, n)| format!("{}:{n}", json_string(t))).collect()
            }
            TopicCount::Wildcard { filter, num_streams } => {
                vec![format!("{}:{num_streams}", json_string(filter.regex()))]
            }
        };
        format!(
            "{{\"version\":1,\"subscription\":{{{}}},\"pattern\":\"{}\",\"timestamp\":\"{timestamp_ms}\"}}",
            subscription.join(","),
            self.pattern()
        )
    }

    /// Reads a registration (`TopicCount.constructTopicCount`); the error is the exception text.
    pub fn parse(json: &[u8]) -> Result<Self, String> {
        let text = String::from_utf8_lossy(json).into_owned();
        let err = || format!("kafka.common.KafkaException: error constructing TopicCount : {text}");
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| err())?;
        let pattern = v.get("pattern").and_then(|p| p.as_str()).ok_or_else(err)?;
        let sub = v.get("subscription").and_then(|s| s.as_object()).ok_or_else(err)?;
        let map: BTreeMap<String, u32> = sub
            .iter()
            .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(1).clamp(1, 1024) as u32))
            .collect();
        let wildcard = |filter: fn(String) -> TopicFilter| match map.iter().next() {
            Some((regex, n)) => {
                TopicCount::Wildcard { filter: filter(regex.clone()), num_streams: *n }
            }
            None => TopicCount::Static(BTreeMap::new()),
        };
        Ok(match pattern {
            "white_list" => wildcard(TopicFilter::Whitelist),
            "black_list" => wildcard(TopicFilter::Blacklist),
            _ => TopicCount::Static(map),
        })
    }

    /// `getConsumerThreadIdsPerTopic`: for each subscribed topic (of `all_topics`, for a
    /// wildcard), the consumer's thread ids `<consumerId>-0` … `<consumerId>-(n−1)`.
    pub fn thread_ids_per_topic(
        &self,
        consumer: &str,
        all_topics: &[String],
        exclude_internal: bool,
    ) -> BTreeMap<String, BTreeSet<ConsumerThreadId>> {
        let streams: Vec<(String, u32)> = match self {
            TopicCount::Static(m) => m.iter().map(|(t, n)| (t.clone(), *n)).collect(),
            TopicCount::Wildcard { filter, num_streams } => all_topics
                .iter()
                .filter(|t| filter.is_topic_allowed(t, exclude_internal))
                .map(|t| (t.clone(), *num_streams))
                .collect(),
        };
        streams
            .into_iter()
            .map(|(t, n)| {
                (
                    t,
                    (0..n.max(1))
                        .map(|i| ConsumerThreadId { consumer: consumer.to_string(), thread_id: i })
                        .collect(),
                )
            })
            .collect()
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// `AssignmentContext`: what every member of the group reads from ZooKeeper before assigning.
#[derive(Debug, Clone, Default)]
pub struct AssignmentContext {
    /// The consumer doing the assignment.
    pub consumer_id: String,
    /// Its thread ids per topic.
    pub my_topic_thread_ids: BTreeMap<String, BTreeSet<ConsumerThreadId>>,
    /// Partitions of each of those topics, sorted.
    pub partitions_for_topic: BTreeMap<String, Vec<i32>>,
    /// Every member's thread ids per topic, sorted (`getConsumersPerTopic`).
    pub consumers_for_topic: BTreeMap<String, Vec<ConsumerThreadId>>,
    /// Every member of the group, sorted.
    pub consumers: Vec<String>,
}

/// An assignment: consumer id → (topic, partition) → the thread that gets it.
pub type Assignment = BTreeMap<String, BTreeMap<(String, i32), ConsumerThreadId>>;

/// `partition.assignment.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentStrategy {
    /// `range` (the default): per topic, consecutive partitions to each thread in order.
    Range,
    /// `roundrobin`: all partitions dealt to the threads in turn.
    RoundRobin,
}

impl AssignmentStrategy {
    /// `PartitionAssignor.createInstance(...).assign(ctx)`.
    pub fn assign(self, ctx: &AssignmentContext) -> Result<Assignment, String> {
        match self {
            AssignmentStrategy::Range => Ok(range_assign(ctx)),
            AssignmentStrategy::RoundRobin => round_robin_assign(ctx),
        }
    }
}

/// `RangeAssignor`: for each topic, lay out the partitions in order and the consumer threads in
/// lexicographic order; each thread gets `partitions / threads` consecutive partitions and the
/// first `partitions % threads` threads one more.
pub fn range_assign(ctx: &AssignmentContext) -> Assignment {
    let mut out: Assignment = BTreeMap::new();
    for topic in ctx.my_topic_thread_ids.keys() {
        let Some(consumers) = ctx.consumers_for_topic.get(topic).filter(|c| !c.is_empty()) else {
            continue;
        };
        let partitions = ctx.partitions_for_topic.get(topic).cloned().unwrap_or_default();
        let per = partitions.len() / consumers.len();
        let extra = partitions.len() % consumers.len();
        for (pos, thread) in consumers.iter().enumerate() {
            let start = per * pos + pos.min(extra);
            let n = per + usize::from(pos < extra);
            for p in partitions.iter().skip(start).take(n) {
                out.entry(thread.consumer.clone())
                    .or_default()
                    .insert((topic.clone(), *p), thread.clone());
            }
        }
    }
    for c in &ctx.consumers {
        out.entry(c.clone()).or_default();
    }
    out
}

/// `RoundRobinAssignor`: every topic-partition, ordered by the Java hash code of its name
/// `[topic,p]`, dealt to the sorted threads in turn. Allowed only when every consumer subscribes
/// to the same topics with the same number of streams.
pub fn round_robin_assign(ctx: &AssignmentContext) -> Result<Assignment, String> {
    let mut out: Assignment = BTreeMap::new();
    if let Some((head_topic, head)) = ctx.consumers_for_topic.iter().next() {
        let head_set: BTreeSet<&ConsumerThreadId> = head.iter().collect();
        for (topic, threads) in &ctx.consumers_for_topic {
            let set: BTreeSet<&ConsumerThreadId> = threads.iter().collect();
            if set != head_set {
                return Err(format!(
                    "java.lang.IllegalArgumentException: requirement failed: Round-robin assignment is allowed only if all consumers in the group subscribe to the same topics, AND if the stream counts across topics are identical for a given consumer instance.\nTopic {topic} has the following available consumer streams: {}\nTopic {head_topic} has the following available consumer streams: {}",
                    java_set(&set),
                    java_set(&head_set)
                ));
            }
        }
        let threads: Vec<&ConsumerThreadId> = head_set.into_iter().collect();
        let mut all: Vec<(String, i32)> = ctx
            .partitions_for_topic
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect();
        all.sort_by_key(|(t, p)| crate::partitioner::java_string_hash(&format!("[{t},{p}]")));
        for (i, tp) in all.into_iter().enumerate() {
            let thread = threads[i % threads.len()];
            out.entry(thread.consumer.clone()).or_default().insert(tp, thread.clone());
        }
    }
    for c in &ctx.consumers {
        out.entry(c.clone()).or_default();
    }
    Ok(out)
}

fn java_set(s: &BTreeSet<&ConsumerThreadId>) -> String {
    format!("Set({})", s.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tid(c: &str, i: u32) -> ConsumerThreadId {
        ConsumerThreadId { consumer: c.into(), thread_id: i }
    }

    fn ctx(me: &str, topic: &str, partitions: usize, threads: &[(&str, u32)]) -> AssignmentContext {
        let mut all: Vec<ConsumerThreadId> =
            threads.iter().flat_map(|(c, n)| (0..*n).map(move |i| tid(c, i))).collect();
        all.sort();
        let mut consumers: Vec<String> = threads.iter().map(|(c, _)| c.to_string()).collect();
        consumers.sort();
        AssignmentContext {
            consumer_id: me.into(),
            my_topic_thread_ids: [(
                topic.to_string(),
                all.iter().filter(|t| t.consumer == me).cloned().collect(),
            )]
            .into(),
            partitions_for_topic: [(topic.to_string(), (0..partitions as i32).collect())].into(),
            consumers_for_topic: [(topic.to_string(), all)].into(),
            consumers,
        }
    }

    fn parts(a: &Assignment, c: &str) -> Vec<i32> {
        a.get(c).map(|m| m.keys().map(|(_, p)| *p).collect()).unwrap_or_default()
    }

    #[test]
    fn range_matches_the_scaladoc_example() {
        // Two consumers with two streams each, five partitions: p0,p1 → C1-0, p2 → C1-1, p3 → C2-0, p4 → C2-1.
        let a = range_assign(&ctx("C1", "t", 5, &[("C1", 2), ("C2", 2)]));
        let m = &a["C1"];
        assert_eq!(m[&("t".to_string(), 0)], tid("C1", 0));
        assert_eq!(m[&("t".to_string(), 1)], tid("C1", 0));
        assert_eq!(m[&("t".to_string(), 2)], tid("C1", 1));
        assert_eq!(parts(&a, "C2"), vec![3, 4]);
        assert_eq!(a["C2"][&("t".to_string(), 4)], tid("C2", 1));
    }

    #[test]
    fn range_gives_idle_consumers_nothing_and_sorts_by_id() {
        let a = range_assign(&ctx("b", "t", 2, &[("c", 1), ("a", 1), ("b", 1)]));
        assert_eq!(parts(&a, "a"), vec![0]);
        assert_eq!(parts(&a, "b"), vec![1]);
        assert_eq!(parts(&a, "c"), Vec::<i32>::new());
        assert!(a.contains_key("c"), "every member appears, even with nothing");
        // 7 partitions, 3 consumers → [0,1,2], [3,4], [5,6].
        let a = range_assign(&ctx("x", "t", 7, &[("x", 1), ("y", 1), ("z", 1)]));
        assert_eq!(
            (parts(&a, "x"), parts(&a, "y"), parts(&a, "z")),
            (vec![0, 1, 2], vec![3, 4], vec![5, 6])
        );
    }

    #[test]
    fn thread_ids_sort_as_strings() {
        let mut v = [tid("g_h-1-a", 10), tid("g_h-1-a", 2)];
        v.sort();
        assert_eq!(v[0].to_string(), "g_h-1-a-10");
    }

    #[test]
    fn round_robin_deals_every_partition() {
        let a = round_robin_assign(&ctx("a", "t", 5, &[("a", 1), ("b", 1)])).unwrap();
        let (x, y) = (parts(&a, "a"), parts(&a, "b"));
        assert_eq!(x.len() + y.len(), 5);
        assert!(x.len().abs_diff(y.len()) <= 1);
        let mut c = ctx("a", "t", 2, &[("a", 1)]);
        c.consumers_for_topic.insert("u".into(), vec![tid("b", 0)]);
        assert!(round_robin_assign(&c)
            .unwrap_err()
            .contains("Round-robin assignment is allowed only if"));
    }

    #[test]
    fn registrations_round_trip() {
        let tc =
            TopicCount::Wildcard { filter: TopicFilter::whitelist("HelloKafka"), num_streams: 1 };
        let json = tc.registration_json(1461657612345);
        assert_eq!(
            json,
            r#"{"version":1,"subscription":{"HelloKafka":1},"pattern":"white_list","timestamp":"1461657612345"}"#
        );
        assert_eq!(TopicCount::parse(json.as_bytes()), Ok(tc));
        let st = TopicCount::Static([("a".to_string(), 2)].into());
        assert_eq!(TopicCount::parse(st.registration_json(1).as_bytes()), Ok(st.clone()));
        assert_eq!(st.thread_ids_per_topic("g_c", &[], true)["a"].len(), 2);
        assert!(TopicCount::parse(b"{")
            .unwrap_err()
            .starts_with("kafka.common.KafkaException: error constructing TopicCount"));
    }

    #[test]
    fn whitelists_match_like_java_regexes() {
        let w = TopicFilter::whitelist(" a, b.*");
        assert_eq!(w.regex(), "a|b.*");
        assert!(
            w.is_topic_allowed("a", true)
                && w.is_topic_allowed("bcd", true)
                && w.is_topic_allowed("b", true)
        );
        assert!(!w.is_topic_allowed("ab", true));
        assert!(!TopicFilter::whitelist(".*").is_topic_allowed("__consumer_offsets", true));
        assert!(
            regex_matches("my\\.topic", "my.topic") && !regex_matches("my\\.topic", "myXtopic")
        );
        assert!(regex_matches("t+x?", "ttt") && !regex_matches("t+", ""));
        assert!(regex_matches("(a)", "(a)"), "unsupported syntax compares literally");
    }

    proptest! {
        #[test]
        fn range_assigns_each_partition_exactly_once(n_parts in 0usize..20, consumers in prop::collection::btree_set("[a-e]{1,3}", 1..6), streams in 1u32..3) {
            let threads: Vec<(&str, u32)> = consumers.iter().map(|c| (c.as_str(), streams)).collect();
            let first = consumers.iter().next().cloned().unwrap_or_default();
            let a = range_assign(&ctx(&first, "t", n_parts, &threads));
            let mut seen = BTreeSet::new();
            for m in a.values() {
                for tp in m.keys() {
                    prop_assert!(seen.insert(tp.clone()), "{tp:?} assigned twice");
                }
            }
            prop_assert_eq!(seen.len(), n_parts);
        }

        #[test]
        fn the_matcher_never_panics(re in ".{0,12}", text in ".{0,12}") {
            let _ = regex_matches(&re, &text);
        }
    }
}
