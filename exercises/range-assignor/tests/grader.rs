//! The grader itself is tested: the reference passes, the starter fails with its todo!()
//! message, and plausible wrong assignors fail with a message that says what went wrong.

use exercise_grading::{Effort, Outcome};
use range_assignor::{grade, grade_learner, grade_reference};
use std::collections::BTreeMap;

type Assignment = BTreeMap<String, Vec<(String, i32)>>;

fn failures(o: &Outcome) -> String {
    o.failures().join("\n")
}

#[test]
fn reference_passes() {
    grade_reference(Effort::QUICK).assert_reference_passes();
}

#[test]
fn starter_fails_with_its_todo() {
    let o = grade_learner(Effort::QUICK);
    o.assert_starter_fails_with("not implemented yet: RangeAssignor.assign");
    if o.not_implemented.is_some() {
        assert_eq!(o.score(), 0);
    }
}

/// Mutant 1: the remainder goes to the last members instead of the first.
fn extra_to_the_last(
    counts: &BTreeMap<String, i32>,
    subs: &BTreeMap<String, Vec<String>>,
) -> Assignment {
    let mut out: Assignment = subs.keys().map(|m| (m.clone(), Vec::new())).collect();
    for (topic, &n) in counts {
        let members: Vec<&String> =
            subs.iter().filter(|(_, ts)| ts.contains(topic)).map(|(m, _)| m).collect();
        if members.is_empty() {
            continue;
        }
        let k = members.len() as i32;
        let (per, extra) = (n / k, n % k);
        let mut next = 0;
        for (i, m) in members.iter().enumerate() {
            let len = per + i32::from(i as i32 >= k - extra);
            out.get_mut(*m).unwrap().extend((next..next + len).map(|p| (topic.clone(), p)));
            next += len;
        }
    }
    out
}

/// Mutant 2: divides by every member of the group, not by the topic's subscribers.
fn all_members(counts: &BTreeMap<String, i32>, subs: &BTreeMap<String, Vec<String>>) -> Assignment {
    let mut out: Assignment = subs.keys().map(|m| (m.clone(), Vec::new())).collect();
    let k = subs.len() as i32;
    for (topic, &n) in counts {
        let (per, extra) = (n / k, n % k);
        for (i, (m, ts)) in subs.iter().enumerate() {
            let i = i as i32;
            let start = per * i + i.min(extra);
            let len = per + i32::from(i < extra);
            if ts.contains(topic) {
                out.get_mut(m).unwrap().extend((start..start + len).map(|p| (topic.clone(), p)));
            }
        }
    }
    out
}

/// Mutant 3: round robin (the other assignor) instead of ranges.
fn round_robin(counts: &BTreeMap<String, i32>, subs: &BTreeMap<String, Vec<String>>) -> Assignment {
    let mut out: Assignment = subs.keys().map(|m| (m.clone(), Vec::new())).collect();
    for (topic, &n) in counts {
        let members: Vec<&String> =
            subs.iter().filter(|(_, ts)| ts.contains(topic)).map(|(m, _)| m).collect();
        for p in 0..n {
            if !members.is_empty() {
                out.get_mut(members[p as usize % members.len()]).unwrap().push((topic.clone(), p));
            }
        }
    }
    out
}

/// Mutant 4: leaves idle members out of the map.
fn forgets_idle(
    counts: &BTreeMap<String, i32>,
    subs: &BTreeMap<String, Vec<String>>,
) -> Assignment {
    let mut a = range_assignor::solution::assign(counts, subs);
    a.retain(|_, v| !v.is_empty());
    a
}

#[test]
fn mutants_fail_with_helpful_messages() {
    for (name, f, expect) in [
        (
            "extra partitions to the last members",
            extra_to_the_last as range_assignor::AssignFn,
            "expected c1=t-0,t-1,t-2 c2=t-3,t-4 c3=t-5,t-6",
        ),
        ("divide by the whole group", all_members, "expected"),
        ("round robin", round_robin, "expected c1=t-0,t-1,t-2"),
        ("idle members missing", forgets_idle, "missing from your result"),
    ] {
        let o = grade(f, Effort::QUICK);
        assert!(!o.passed(), "mutant '{name}' passed");
        let text = failures(&o);
        assert!(text.contains(expect), "mutant '{name}': {text}");
    }
}
