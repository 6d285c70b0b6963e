// What the build script (`build.rs`, through `include!`) and the lookups (`iam_data`) must
// compute alike: the hash of a table key and its home slot, and an event source's host prefix.
// One copy, so the index the build writes is the index the lookups probe.

/// The hash of a key given as its fields: for each field, its bytes 8 at a time, with bit 5
/// set in each (`A` and `a` hash alike: keys equal but for ASCII case hash alike), and its
/// length.
fn key_hash<'a>(key: impl IntoIterator<Item = &'a str>) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let mut h = 0;
    for part in key {
        let mut chunks = part.as_bytes().chunks_exact(8);
        for chunk in &mut chunks {
            let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
            h = mix(h, word | 0x2020_2020_2020_2020);
        }
        let tail = chunks
            .remainder()
            .iter()
            .rev()
            .fold(0, |w, &b| (w << 8) | u64::from(b | 0x20));
        h = mix(mix(h, tail), part.len() as u64);
    }
    h
}

/// The home slot of a hash in a table of `size` slots (a power of two).
fn slot(hash: u64, size: usize) -> usize {
    ((hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize) & (size - 1)
}

/// `S3.AmazonAWS.com` → `s3`; a bare prefix passes through. `None` for an empty source.
fn host_prefix(event_source: &str) -> Option<String> {
    let lower = event_source.trim().to_ascii_lowercase();
    let host = lower
        .strip_suffix(".amazonaws.com.cn")
        .or_else(|| lower.strip_suffix(".amazonaws.com"))
        .unwrap_or(&lower);
    (!host.is_empty()).then(|| host.to_string())
}
