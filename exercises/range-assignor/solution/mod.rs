//! Reference solution (for maintainers and `lab grade --reference`). Try the exercise before
//! reading it.

use std::collections::BTreeMap;

/// Kafka 0.9's `RangeAssignor.assign`.
pub fn assign(
    partitions_per_topic: &BTreeMap<String, i32>,
    subscriptions: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<(String, i32)>> {
    // consumersPerTopic: topic → its subscribers, sorted (BTreeMap keys already are).
    let mut consumers_per_topic: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (member, topics) in subscriptions {
        for topic in topics {
            let list = consumers_per_topic.entry(topic.as_str()).or_default();
            if !list.contains(&member.as_str()) {
                list.push(member);
            }
        }
    }
    let mut assignment: BTreeMap<String, Vec<(String, i32)>> =
        subscriptions.keys().map(|m| (m.clone(), Vec::new())).collect();
    for (topic, mut consumers) in consumers_per_topic {
        let Some(&n) = partitions_per_topic.get(topic) else { continue };
        consumers.sort();
        let members = consumers.len() as i32;
        let per = n / members;
        let extra = n % members;
        for (i, member) in consumers.into_iter().enumerate() {
            let i = i as i32;
            let start = per * i + i.min(extra);
            let len = per + i32::from(i < extra);
            if let Some(list) = assignment.get_mut(member) {
                list.extend((start..start + len).map(|p| (topic.to_string(), p)));
            }
        }
    }
    assignment
}
