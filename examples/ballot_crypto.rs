//! The cryptography of a secret ballot (R-SECRET-BALLOT) on this machine: encrypting a choice
//! with its proofs, checking the proofs (what the server does for every ballot), counting a
//! vote of 11 members (checking every ballot again, summing, decrypting the three sums with
//! their proofs) and checking a closed ballot box as `yishi verify-vote` does. As a yardstick
//! measured in the same run: one argon2id password hash, what a sign-in costs the server.
//! Prints medians; asserts nothing.
//!
//!     cargo run --release --example ballot_crypto

use std::time::{Duration, Instant};

use yishi::domain::deliberation::Choice;
use yishi::domain::ids::ItemId;
use yishi::domain::secret_ballot::{Ballot, BallotBox, StoredBallot, VoteKey, count};

const MEMBERS: usize = 11;
const ROUNDS: usize = 101;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let at = Instant::now();
    let out = f();
    (out, at.elapsed())
}

fn main() -> anyhow::Result<()> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("random bytes");
    let choices = [Choice::Yes, Choice::No, Choice::Abstain];

    let (mut encrypt, mut check, mut close, mut audit, mut derive) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let item = ItemId::new();
        let (vote_key, took) = time(|| VoteKey::derive(&key, item));
        derive.push(took);
        let public = vote_key.public();
        let ballots: Vec<Ballot> = (0..MEMBERS)
            .map(|k| {
                let (b, took) = time(|| Ballot::encrypt(&public, choices[(round + k) % 3]));
                encrypt.push(took);
                let (ok, took) = time(|| b.check(&public));
                ok.expect("an honest ballot checks");
                check.push(took);
                b
            })
            .collect();
        // Closing: every ballot checked again under the key derived now, then counted.
        let ((totals, proof), took) = time(|| {
            for b in &ballots {
                b.check(&public).expect("checks");
            }
            count(item, &vote_key, &ballots)
        });
        close.push(took);
        let rows: Vec<(Vec<u8>, Vec<u8>)> = ballots
            .iter()
            .map(|b| (b.tracker().as_bytes().to_vec(), b.to_bytes()))
            .collect();
        let pk = public.to_bytes();
        let count_bytes = proof.to_bytes();
        let ballot_box = BallotBox {
            item_id: item,
            public_key: &pk,
            ballots: rows
                .iter()
                .map(|(tracker, bytes)| StoredBallot { tracker, bytes })
                .collect(),
            voters: MEMBERS,
            count: Some(&count_bytes),
            totals: Some(totals),
        };
        let (problems, took) = time(|| ballot_box.audit(Some(&public)));
        assert!(problems.is_empty(), "{problems:?}");
        audit.push(took);
    }

    let argon: Vec<Duration> = (0..11)
        .map(|_| time(|| yishi::auth::password::hash_blocking("correct horse battery")).1)
        .collect();

    let argon = median(argon);
    let (encrypt, check) = (median(encrypt), median(check));
    println!("what                                                          median ms  × argon2id");
    for (what, v) in [
        ("derive a vote's key pair", median(derive)),
        ("encrypt one choice with its proofs", encrypt),
        ("check one ballot's proofs", check),
        (
            "a page's ballot on the server: encrypt + check",
            encrypt + check,
        ),
        (
            "close a vote of 11: check all, sum, decrypt 3 sums + proofs",
            median(close),
        ),
        (
            "check a closed box of 11 (as verify-vote does)",
            median(audit),
        ),
        ("yardstick: one argon2id password hash (a sign-in)", argon),
    ] {
        println!("{what:<62} {v:>9.3}  {:>9.3}", v / argon);
    }
    Ok(())
}
