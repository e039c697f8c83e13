//! Secrets drawn from the operating system's random generator.

/// `n` random bytes, hex-encoded (2n characters).
pub fn hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // Without a working OS generator no secret can be made safely: stopping is the only answer.
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    hex::encode(bytes)
}
