//! The grader itself is tested: the reference passes, the starter fails with its todo!()
//! message, and plausible wrong partitioners fail with a message that says what went wrong.

use exercise_grading::Effort;
use murmur2_partitioner::{grade, grade_learner, grade_reference, solution, Partitioner};

#[test]
fn reference_passes() {
    grade_reference(Effort::QUICK).assert_reference_passes();
}

#[test]
fn starter_fails_with_its_todo() {
    grade_learner(Effort::QUICK).assert_starter_fails_with("not implemented yet: murmur2");
}

/// Mutant 1: `abs` instead of `toPositive`.
fn abs_partition(key: &[u8], n: i32) -> i32 {
    solution::murmur2(key).wrapping_abs() % n
}

/// Mutant 2: arithmetic (sign-extending) shifts, Java's `>>` instead of `>>>`.
fn signed_shift_murmur2(data: &[u8]) -> i32 {
    let m: i32 = 0x5bd1_e995;
    let mut h: i32 = (0x9747_b28c_u32 as i32) ^ data.len() as i32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = i32::from_le_bytes([c[0], c[1], c[2], c[3]]).wrapping_mul(m);
        k ^= k >> 24;
        h = h.wrapping_mul(m) ^ k.wrapping_mul(m);
    }
    if tail.len() >= 3 {
        h ^= i32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= i32::from(tail[1]) << 8;
    }
    if let Some(&b) = tail.first() {
        h = (h ^ i32::from(b)).wrapping_mul(m);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^ (h >> 15)
}

/// Mutant 3: the tail without Java's fall-through (only the last case runs).
fn no_fallthrough_murmur2(data: &[u8]) -> i32 {
    let m: i32 = 0x5bd1_e995;
    let mut h: i32 = (0x9747_b28c_u32 as i32) ^ data.len() as i32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = i32::from_le_bytes([c[0], c[1], c[2], c[3]]).wrapping_mul(m);
        k ^= ((k as u32) >> 24) as i32;
        h = h.wrapping_mul(m) ^ k.wrapping_mul(m);
    }
    match tail.len() {
        3 => h ^= i32::from(tail[2]) << 16,
        2 => h ^= i32::from(tail[1]) << 8,
        1 => h = (h ^ i32::from(tail[0])).wrapping_mul(m),
        _ => {}
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(m);
    h ^ ((h as u32) >> 15) as i32
}

#[test]
fn mutants_fail_with_helpful_messages() {
    let o =
        grade(Partitioner { murmur2: solution::murmur2, partition: abs_partition }, Effort::QUICK);
    assert!(!o.passed());
    assert!(o.failures().join("\n").contains("not abs(x)"), "{:?}", o.failures());

    let o = grade(
        Partitioner { murmur2: signed_shift_murmur2, partition: solution::partition },
        Effort::QUICK,
    );
    assert!(!o.passed());
    assert!(o.failures().join("\n").contains("murmur2(\"21\")"), "{:?}", o.failures());

    let o = grade(
        Partitioner { murmur2: no_fallthrough_murmur2, partition: solution::partition },
        Effort::QUICK,
    );
    assert!(!o.passed());
    assert!(o.failures().join("\n").contains("falls through"), "{:?}", o.failures());
}
