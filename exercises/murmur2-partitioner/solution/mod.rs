//! Reference solution (for maintainers and `lab grade --reference`). Try the exercise before
//! reading it.

/// `Utils.murmur2`.
pub fn murmur2(data: &[u8]) -> i32 {
    let m: i32 = 0x5bd1_e995;
    let r = 24;
    let mut h: i32 = (0x9747_b28c_u32 as i32) ^ data.len() as i32;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= ((k as u32) >> r) as i32; // Java's >>> is unsigned
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    // Java's switch falls through from case 3 to case 1.
    if tail.len() >= 3 {
        h ^= i32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= i32::from(tail[1]) << 8;
    }
    if let Some(&b) = tail.first() {
        h ^= i32::from(b);
        h = h.wrapping_mul(m);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(m);
    h ^= ((h as u32) >> 15) as i32;
    h
}

/// `Utils.toPositive(murmur2(key)) % numPartitions`; toPositive is `x & 0x7fffffff`, not `abs`.
pub fn partition(key: &[u8], num_partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % num_partitions
}
