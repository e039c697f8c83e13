//! Secrets drawn from the operating system's random generator.

/// `n` random bytes, hex-encoded (2n characters).
pub fn hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // Without a working OS generator no secret can be made safely: stopping is the only answer.
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    hex::encode(bytes)
}

/// A first password for an account: 16 characters from an alphabet without look-alikes (no
/// 0/O, 1/l/I), about 90 bits; letters and digits both, so it passes `NewPassword`.
pub fn first_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    loop {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
        // 56 symbols: bytes of 224 and above are skipped, so every symbol is equally likely.
        let password: String = bytes
            .iter()
            .filter(|b| **b < 224)
            .take(16)
            .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
            .collect();
        if password.chars().count() == 16
            && password.chars().any(|c| c.is_ascii_digit())
            && password.chars().any(|c| c.is_ascii_alphabetic())
        {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_passwords_differ_and_are_valid_new_passwords() {
        let a = super::first_password();
        let b = super::first_password();
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 16);
        assert!(crate::domain::account::NewPassword::parse(&a).is_ok());
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }
}
