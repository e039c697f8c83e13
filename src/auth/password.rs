//! argon2id password hashing with the crate's recommended parameters, always on a blocking
//! thread so a sign-in never stalls the request executor.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Hashes a password into a PHC string (`$argon2id$v=19$...`).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hash password: {e}"))
}

/// Checks a password against a stored hash. With no stored hash (unknown login) the password
/// is checked against `dummy`, so an unknown login costs the same time as a wrong password.
pub async fn verify(password: String, stored: Option<String>, dummy: &str) -> anyhow::Result<bool> {
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| dummy.to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await?;
    Ok(known && matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse 1".into()).await.unwrap();
        let b = hash("correct horse 1".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        let dummy = hash_blocking("dummy-password-0").unwrap();
        assert!(
            verify("correct horse 1".into(), Some(a.clone()), &dummy)
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse 1".into(), Some(a), &dummy)
                .await
                .unwrap()
        );
        // The dummy hash never signs anyone in, even with its own password.
        assert!(
            !verify("dummy-password-0".into(), None, &dummy)
                .await
                .unwrap()
        );
    }
}
