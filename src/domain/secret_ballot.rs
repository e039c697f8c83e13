//! R-SECRET-BALLOT (第二十一条(四)): a secret ballot is an encryption of its choice, and only the
//! sum of all the ballots of a vote is ever decrypted.
//!
//! Exponential ElGamal over Ristretto255 (the `elastic-elgamal` crate): a ballot is three
//! ciphertexts, one per option (赞成, 反对, 弃权), each of 0 or 1, with a proof that each holds 0
//! or 1 and that together they hold exactly 1. Ciphertexts add up, so the sums of the three
//! columns encrypt the totals; at closing those three sums are decrypted, each with a proof that
//! the decryption is correct. Anyone holding the public key can check every proof and the sums;
//! no single ballot is ever decrypted. Each vote has its own key pair, derived from the server's
//! ballot key and the item, so a ballot made for one vote fails the proofs of any other.

use crate::domain::ids::ItemId;
use elastic_elgamal::app::{ChoiceParams, EncryptedChoice, SingleChoice};
use elastic_elgamal::group::Ristretto;
use elastic_elgamal::{
    CandidateDecryption, Ciphertext, DiscreteLogTable, Keypair, LogEqualityProof, PublicKey,
    SecretKey, VerifiableDecryption,
};
use hmac::{Hmac, Mac};
use merlin::Transcript;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use super::deliberation::{Choice, Tally};
use super::rule::{Rule, RuleViolation};

type G = Ristretto;

/// The options in the order of a ballot's ciphertexts.
pub const OPTIONS: [Choice; 3] = [Choice::Yes, Choice::No, Choice::Abstain];

/// The key pair of one secret vote. It is derived whenever it is needed and never stored.
pub struct VoteKey(Keypair<G>);

impl VoteKey {
    /// The vote's secret scalar is HMAC-SHA512(ballot key, label ‖ item id) reduced modulo the
    /// group order: uniform, and different for every item.
    pub fn derive(ballot_key: &[u8; 32], item_id: ItemId) -> VoteKey {
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(ballot_key)
            .expect("HMAC takes a key of any length");
        mac.update(b"yishi/secret-ballot/v1/");
        mac.update(item_id.as_uuid().as_bytes());
        let wide: [u8; 64] = mac.finalize().into_bytes().into();
        let scalar = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&wide);
        let secret =
            SecretKey::<G>::from_bytes(scalar.as_bytes()).expect("a reduced scalar is canonical");
        VoteKey(Keypair::from(secret))
    }

    pub fn public(&self) -> PublicVoteKey {
        PublicVoteKey(self.0.public().clone())
    }
}

/// The public key of one secret vote: ballots are encrypted under it and every proof is
/// checked against it.
#[derive(Clone, PartialEq)]
pub struct PublicVoteKey(PublicKey<G>);

impl PublicVoteKey {
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<PublicVoteKey> {
        PublicKey::from_bytes(bytes).ok().map(PublicVoteKey)
    }

    fn params(&self) -> ChoiceParams<G, SingleChoice> {
        ChoiceParams::single(self.0.clone(), OPTIONS.len())
    }
}

impl std::fmt::Debug for PublicVoteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicVoteKey({})", hex::encode(self.0.as_bytes()))
    }
}

/// An encrypted ballot with its proofs. Its JSON form is what the API takes and the ballot box
/// shows; its canonical bytes (that JSON, compact) are what is stored.
#[derive(Clone)]
pub struct Ballot(EncryptedChoice<G, SingleChoice>);

impl Ballot {
    /// Encrypts a choice under the vote's key, for a voter whose device did not.
    pub fn encrypt(key: &PublicVoteKey, choice: Choice) -> Ballot {
        let index = OPTIONS
            .iter()
            .position(|c| *c == choice)
            .expect("every choice is an option");
        Ballot(EncryptedChoice::single(
            &key.params(),
            index,
            &mut rand_core::OsRng,
        ))
    }

    /// Reads a ballot in its JSON form; `None` when it is not one.
    pub fn from_json(value: serde_json::Value) -> Option<Ballot> {
        serde_json::from_value(value).ok().map(Ballot)
    }

    /// Reads a stored ballot.
    pub fn from_bytes(bytes: &[u8]) -> Option<Ballot> {
        serde_json::from_slice(bytes).ok().map(Ballot)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("a ballot serializes")
    }

    /// The stored form: compact JSON, of the same length whatever the choice.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).expect("a ballot serializes")
    }

    /// The tracking code: sha256 of the three ciphertexts. Two ballots with the same
    /// ciphertexts are the same ballot cast twice.
    pub fn tracker(&self) -> Tracker {
        let mut h = Sha256::new();
        for c in self.0.choices_unchecked() {
            h.update(c.to_bytes());
        }
        Tracker(h.finalize().into())
    }

    /// R-SECRET-BALLOT: the ballot holds exactly one of 赞成, 反对 and 弃权, encrypted under this
    /// vote's key, and is blinded (a ciphertext without randomness would show its choice).
    pub fn check(&self, key: &PublicVoteKey) -> Result<(), RuleViolation> {
        let refused = || {
            RuleViolation::new(
                Rule::SecretBallot,
                "选票未通过验证:须为本次表决公钥下加密的“赞成”“反对”“弃权”之一,并附有效证明。依据:第二十一条(四)",
            )
        };
        let ciphertexts = self.0.verify(&key.params()).map_err(|_| refused())?;
        let identity = curve25519_dalek::RistrettoPoint::default();
        if ciphertexts.iter().any(|c| *c.random_element() == identity) {
            return Err(refused());
        }
        Ok(())
    }

    fn ciphertexts(&self) -> &[Ciphertext<G>] {
        self.0.choices_unchecked()
    }
}

/// R-SECRET-BALLOT: a ciphertext already in the box is not counted twice (a copied ballot).
pub fn replayed_ballot() -> RuleViolation {
    RuleViolation::new(
        Rule::SecretBallot,
        "该密文已在票箱中,不能重复投入。依据:第二十一条(四)",
    )
}

/// A ballot's tracking code (sha256 of its ciphertexts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tracker([u8; 32]);

impl Tracker {
    pub fn from_bytes(bytes: &[u8]) -> Option<Tracker> {
        bytes.try_into().ok().map(Tracker)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// The first 64 bits in four groups, for a voter to note and compare: `3F9A-12BC-7D0E-55A1`.
    pub fn short(&self) -> String {
        let hex = hex::encode_upper(&self.0[..8]);
        let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join("-")
    }
}

/// The count of a closed vote: per option the sum of the ballots' ciphertexts, its decryption
/// and the proof that the decryption is correct. Stored as JSON beside the totals.
#[derive(Clone, Serialize, Deserialize)]
pub struct Count {
    options: Vec<OptionCount>,
}

#[derive(Clone, Serialize, Deserialize)]
struct OptionCount {
    sum: Ciphertext<G>,
    decryption: VerifiableDecryption<G>,
    proof: LogEqualityProof<G>,
}

impl Count {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a count serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Count> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a count serializes")
    }
}

/// The transcript of one option's decryption proof, bound to the item and the option.
fn tally_transcript(item_id: ItemId, option: usize) -> Transcript {
    let mut t = Transcript::new(b"yishi/secret-ballot/count/v1");
    t.append_message(b"item", item_id.as_uuid().as_bytes());
    t.append_u64(b"option", option as u64);
    t
}

/// Column sums of the ballots' ciphertexts: encryptions of the totals.
fn sums(ballots: &[Ballot]) -> Vec<Ciphertext<G>> {
    (0..OPTIONS.len())
        .map(|o| {
            ballots
                .iter()
                .map(|b| b.ciphertexts()[o])
                .fold(Ciphertext::zero(), |a, c| a + c)
        })
        .collect()
}

fn totals(values: &[u64]) -> Tally {
    let v = |i: usize| i64::try_from(values[i]).unwrap_or(i64::MAX);
    Tally {
        yes: v(0),
        no: v(1),
        abstain: v(2),
    }
}

/// Counts a closed vote: decrypts only the three sums, each with its proof. The ballots must
/// have passed [`Ballot::check`].
pub fn count(item_id: ItemId, key: &VoteKey, ballots: &[Ballot]) -> (Tally, Count) {
    let table = DiscreteLogTable::<G>::new(0..=ballots.len() as u64);
    let mut values = Vec::with_capacity(OPTIONS.len());
    let options = sums(ballots)
        .into_iter()
        .enumerate()
        .map(|(o, sum)| {
            let (decryption, proof) = VerifiableDecryption::new(
                sum,
                &key.0,
                &mut tally_transcript(item_id, o),
                &mut rand_core::OsRng,
            );
            // Each sum holds a count of 0..=n by the ballots' proofs.
            values.push(decryption.decrypt(sum, &table).unwrap_or(u64::MAX));
            OptionCount {
                sum,
                decryption,
                proof,
            }
        })
        .collect();
    (totals(&values), Count { options })
}

/// One stored ballot as the ballot box holds it.
pub struct StoredBallot<'a> {
    pub tracker: &'a [u8],
    pub bytes: &'a [u8],
}

/// What an independent check of a vote's ballot box found wrong; empty when all holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BoxProblem {
    /// The tracking code of the ballot concerned (full hex), when one is.
    pub tracker: Option<String>,
    pub problem: String,
}

/// Everything a closed vote's ballot box holds, as read back from storage.
pub struct BallotBox<'a> {
    pub item_id: ItemId,
    pub public_key: &'a [u8],
    pub ballots: Vec<StoredBallot<'a>>,
    /// How many members are recorded as having cast a secret ballot.
    pub voters: usize,
    /// The count and the totals, once the vote is closed.
    pub count: Option<&'a [u8]>,
    pub totals: Option<Tally>,
}

impl BallotBox<'_> {
    /// Checks every proof, the sums and the totals from the stored data alone; with `expected`
    /// (the key derived from the ballot key) also that the stored public key is the vote's.
    pub fn audit(&self, expected: Option<&PublicVoteKey>) -> Vec<BoxProblem> {
        let mut problems = Vec::new();
        let mut fail = |tracker: Option<&[u8]>, problem: &str| {
            problems.push(BoxProblem {
                tracker: tracker.map(hex::encode),
                problem: problem.to_owned(),
            })
        };
        let Some(key) = PublicVoteKey::from_bytes(self.public_key) else {
            fail(None, "公钥无法解析");
            return problems;
        };
        if expected.is_some_and(|e| *e != key) {
            fail(None, "所存公钥与服务器选票密钥推导的公钥不一致");
        }
        let mut ballots = Vec::with_capacity(self.ballots.len());
        let mut seen = std::collections::HashSet::new();
        for s in &self.ballots {
            let Some(ballot) = Ballot::from_bytes(s.bytes) else {
                fail(Some(s.tracker), "选票无法解析");
                continue;
            };
            if ballot.tracker().as_bytes().as_slice() != s.tracker {
                fail(Some(s.tracker), "跟踪码与选票密文不符");
            }
            if !seen.insert(ballot.tracker()) {
                fail(Some(s.tracker), "同一密文出现两次");
            }
            if ballot.check(&key).is_err() {
                fail(Some(s.tracker), "选票的零知识证明未通过验证");
            }
            ballots.push(ballot);
        }
        if self.ballots.len() != self.voters {
            fail(
                None,
                &format!(
                    "票箱有 {} 张选票,已投票成员 {} 人",
                    self.ballots.len(),
                    self.voters
                ),
            );
        }
        let (Some(count), Some(recorded)) = (self.count, self.totals) else {
            return problems;
        };
        let Some(count) = Count::from_bytes(count) else {
            fail(None, "计票证明无法解析");
            return problems;
        };
        if count.options.len() != OPTIONS.len() {
            fail(None, "计票证明的选项数不对");
            return problems;
        }
        let table = DiscreteLogTable::<G>::new(0..=ballots.len() as u64);
        let mut values = Vec::with_capacity(OPTIONS.len());
        for (o, (option, sum)) in count.options.iter().zip(sums(&ballots)).enumerate() {
            let label = OPTIONS[o].label_zh();
            if option.sum.to_bytes() != sum.to_bytes() {
                fail(None, &format!("“{label}”的密文之和与各选票之和不符"));
            }
            let verified = CandidateDecryption::from(option.decryption).verify(
                option.sum,
                &key.0,
                &option.proof,
                &mut tally_transcript(self.item_id, o),
            );
            match verified {
                Ok(d) => values.push(d.decrypt(option.sum, &table)),
                Err(_) => {
                    fail(None, &format!("“{label}”的解密证明未通过验证"));
                    values.push(None);
                }
            }
        }
        match values.iter().copied().collect::<Option<Vec<u64>>>() {
            Some(v) if totals(&v) == recorded => {
                if v.iter().sum::<u64>() != ballots.len() as u64 {
                    fail(None, "各项票数之和与选票张数不符");
                }
            }
            Some(_) => fail(None, "记录的票数与解密结果不符"),
            None => fail(None, "解密结果不是有效票数"),
        }
        problems
    }

    /// The digest the minutes carry: sha256 over the item, the key, every ballot in the order
    /// of their tracking codes, the count and the totals.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"yishi/ballot-box/v1\n");
        h.update(self.item_id.as_uuid().as_bytes());
        h.update(self.public_key);
        let mut ballots: Vec<&StoredBallot> = self.ballots.iter().collect();
        ballots.sort_by(|a, b| a.tracker.cmp(b.tracker));
        for b in ballots {
            h.update((b.bytes.len() as u64).to_be_bytes());
            h.update(b.tracker);
            h.update(b.bytes);
        }
        if let Some(count) = self.count {
            h.update((count.len() as u64).to_be_bytes());
            h.update(count);
        }
        if let Some(t) = self.totals {
            for n in [t.yes, t.no, t.abstain] {
                h.update(n.to_be_bytes());
            }
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (ItemId, VoteKey) {
        let item = ItemId::new();
        (item, VoteKey::derive(&[7u8; 32], item))
    }

    fn stored(ballots: &[Ballot]) -> Vec<(Vec<u8>, Vec<u8>)> {
        ballots
            .iter()
            .map(|b| (b.tracker().as_bytes().to_vec(), b.to_bytes()))
            .collect()
    }

    fn boxed<'a>(
        item: ItemId,
        pk: &'a [u8],
        rows: &'a [(Vec<u8>, Vec<u8>)],
        count: Option<&'a [u8]>,
        totals: Option<Tally>,
    ) -> BallotBox<'a> {
        BallotBox {
            item_id: item,
            public_key: pk,
            ballots: rows
                .iter()
                .map(|(t, b)| StoredBallot {
                    tracker: t,
                    bytes: b,
                })
                .collect(),
            voters: rows.len(),
            count,
            totals,
        }
    }

    #[test]
    fn r_secret_ballot_each_vote_has_its_own_key() {
        let (item, k) = key();
        assert_eq!(
            VoteKey::derive(&[7u8; 32], item).public(),
            k.public(),
            "derivation is deterministic"
        );
        assert_ne!(
            VoteKey::derive(&[7u8; 32], ItemId::new()).public(),
            k.public()
        );
        assert_ne!(VoteKey::derive(&[8u8; 32], item).public(), k.public());
    }

    #[test]
    fn r_secret_ballot_the_count_decrypts_only_the_sums() {
        let (item, k) = key();
        let pk = k.public();
        let choices = [
            Choice::Yes,
            Choice::Yes,
            Choice::Yes,
            Choice::No,
            Choice::No,
            Choice::No,
            Choice::Abstain,
        ];
        let ballots: Vec<Ballot> = choices.iter().map(|c| Ballot::encrypt(&pk, *c)).collect();
        for b in &ballots {
            b.check(&pk).unwrap();
        }
        let (tally, count) = count(item, &k, &ballots);
        assert_eq!(
            tally,
            Tally {
                yes: 3,
                no: 3,
                abstain: 1
            }
        );
        let rows = stored(&ballots);
        let pk_bytes = pk.to_bytes();
        let count_bytes = count.to_bytes();
        let b = boxed(item, &pk_bytes, &rows, Some(&count_bytes), Some(tally));
        assert_eq!(b.audit(Some(&pk)), vec![]);
    }

    #[test]
    fn r_secret_ballot_ballots_have_one_length_whatever_the_choice() {
        let (_, k) = key();
        let lengths: Vec<usize> = OPTIONS
            .iter()
            .map(|c| Ballot::encrypt(&k.public(), *c).to_bytes().len())
            .collect();
        assert!(lengths.iter().all(|l| *l == lengths[0]), "{lengths:?}");
    }

    #[test]
    fn r_secret_ballot_a_ballot_for_another_vote_is_refused() {
        let (_, k) = key();
        let (_, other) = key();
        let b = Ballot::encrypt(&other.public(), Choice::Yes);
        assert_eq!(b.check(&k.public()).unwrap_err().rule, Rule::SecretBallot);
    }

    #[test]
    fn r_secret_ballot_a_ciphertext_of_two_is_refused() {
        let (_, k) = key();
        let pk = k.public();
        let mut json = Ballot::encrypt(&pk, Choice::Yes).to_json();
        // Replace the 赞成 column with an encryption of 2: the range proof no longer holds.
        let two = pk.0.encrypt(2u64, &mut rand_core::OsRng);
        json["choices"][0] = serde_json::to_value(two).unwrap();
        let forged = Ballot::from_json(json).unwrap();
        assert!(forged.check(&pk).is_err());
    }

    #[test]
    fn r_secret_ballot_a_forged_proof_is_refused() {
        let (_, k) = key();
        let pk = k.public();
        let honest = Ballot::encrypt(&pk, Choice::No).to_json();
        let other = Ballot::encrypt(&pk, Choice::No).to_json();
        let mut forged = honest.clone();
        forged["sum_proof"] = other["sum_proof"].clone();
        assert!(Ballot::from_json(forged).unwrap().check(&pk).is_err());
        let mut forged = honest;
        forged["range_proof"] = other["range_proof"].clone();
        assert!(Ballot::from_json(forged).unwrap().check(&pk).is_err());
    }

    #[test]
    fn r_secret_ballot_an_altered_ciphertext_is_named_by_the_audit() {
        let (item, k) = key();
        let pk = k.public();
        let ballots: Vec<Ballot> = [Choice::Yes, Choice::No, Choice::Yes]
            .iter()
            .map(|c| Ballot::encrypt(&pk, *c))
            .collect();
        let (tally, count) = count(item, &k, &ballots);
        let mut rows = stored(&ballots);
        // Swap in another ballot's ciphertexts under the first tracker.
        let mut json: serde_json::Value = serde_json::from_slice(&rows[0].1).unwrap();
        json["choices"] =
            serde_json::from_slice::<serde_json::Value>(&rows[1].1).unwrap()["choices"].clone();
        rows[0].1 = serde_json::to_vec(&json).unwrap();
        let pk_bytes = pk.to_bytes();
        let count_bytes = count.to_bytes();
        let problems = boxed(item, &pk_bytes, &rows, Some(&count_bytes), Some(tally)).audit(None);
        assert!(
            problems
                .iter()
                .any(|p| p.tracker.as_deref() == Some(&hex::encode(&rows[0].0))),
            "{problems:?}"
        );
    }

    #[test]
    fn r_secret_ballot_wrong_totals_are_found() {
        let (item, k) = key();
        let pk = k.public();
        let ballots: Vec<Ballot> = [Choice::Yes, Choice::No]
            .iter()
            .map(|c| Ballot::encrypt(&pk, *c))
            .collect();
        let (tally, count) = count(item, &k, &ballots);
        let rows = stored(&ballots);
        let pk_bytes = pk.to_bytes();
        let count_bytes = count.to_bytes();
        let claimed = Tally {
            yes: tally.yes + 1,
            ..tally
        };
        assert!(
            !boxed(item, &pk_bytes, &rows, Some(&count_bytes), Some(claimed))
                .audit(None)
                .is_empty()
        );
        // A proof of another item's count does not hold here.
        let other = ItemId::new();
        assert!(
            !boxed(other, &pk_bytes, &rows, Some(&count_bytes), Some(tally))
                .audit(None)
                .is_empty()
        );
    }

    #[test]
    fn trackers_are_short_and_distinct() {
        let (_, k) = key();
        let a = Ballot::encrypt(&k.public(), Choice::Yes).tracker();
        let b = Ballot::encrypt(&k.public(), Choice::Yes).tracker();
        assert_ne!(a, b, "encryption is randomised");
        assert_eq!(a.short().len(), 19);
    }
}
