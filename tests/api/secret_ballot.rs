//! R-SECRET-BALLOT against a reader of the database: secret ballots are ciphertexts with proofs,
//! counted by decrypting only their sum. The tests play the attacks of issue 13 with a superuser
//! connection: every table, the dead row versions (pageinspect) and the ballot box.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{
    Room, add, agree_and_open_vote, convene, meeting, ok, post, ready_topic, refused, room,
};
use crate::support::{TestApp, body_text};
use yishi::domain::deliberation::Choice;
use yishi::domain::secret_ballot::{Ballot, PublicVoteKey};

/// A meeting of the 书记 and six members, convened, with one item at its secret vote.
struct Vote {
    app: TestApp,
    r: Room,
    m: Uuid,
    i: Uuid,
}

impl Vote {
    async fn open() -> Vote {
        let app = TestApp::new().await;
        // Autovacuum would rewrite pages at moments of its own choosing.
        quiet_autovacuum(&app).await;
        let r = room(&app, 6).await;
        let t = ready_topic(&app, &r, "关于任免科长的议题", json!({})).await;
        let m = meeting(&app, &r, 10).await;
        let i = add(&app, &r, m, t).await;
        convene(&app, &r, m, &[]).await;
        ok(&app, &r.shuji.token, item(m, i, "start"), json!({})).await;
        agree_and_open_vote(&app, &r, m, i, "secret").await;
        Vote { app, r, m, i }
    }

    /// The 书记 and the members, in the order they vote.
    fn voter(&self, n: usize) -> &crate::fixtures::Person {
        if n == 0 {
            &self.r.shuji
        } else {
            &self.r.members[n - 1]
        }
    }

    async fn cast(&self, n: usize, choice: Choice) {
        ok(
            &self.app,
            &self.voter(n).token,
            item(self.m, self.i, "ballots"),
            json!({"choice": choice.as_str()}),
        )
        .await;
    }

    async fn public_key(&self) -> PublicVoteKey {
        let b = ballot_box(&self.app, &self.r.shuji.token, self.m, self.i).await;
        PublicVoteKey::from_bytes(&hex::decode(b["public_key"].as_str().unwrap()).unwrap()).unwrap()
    }
}

fn item(m: Uuid, i: Uuid, action: &str) -> String {
    format!("/api/v1/meetings/{m}/items/{i}/{action}")
}

async fn ballot_box(app: &TestApp, token: &str, m: Uuid, i: Uuid) -> Value {
    let (status, b) = app
        .api("GET", &item(m, i, "ballot-box"), Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b
}

async fn quiet_autovacuum(app: &TestApp) {
    for t in tables(app).await {
        sqlx::query(&format!("alter table {t} set (autovacuum_enabled = off)"))
            .execute(&app.pool)
            .await
            .unwrap();
    }
    sqlx::query("create extension if not exists pageinspect")
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn tables(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r' order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// What a reader of a table sees of it, reduced to what a choice could change: its rows, the
/// sum of every integer column, the rows whose text mentions a choice, and the heap pages'
/// line pointers (live and dead row versions) with their lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    rows: i64,
    /// Per integer column, its sum.
    integer_sums: Vec<i128>,
    choice_words: i64,
    heap_items: i64,
    heap_bytes: i64,
    dead_versions: i64,
}

const CHOICE_WORDS: &str = r"\m(yes|no|abstain)\M|赞成|反对|弃权";

async fn fingerprint(app: &TestApp) -> BTreeMap<String, Shape> {
    let mut all = BTreeMap::new();
    for t in tables(app).await {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "select column_name::text, data_type::text from information_schema.columns
             where table_schema = 'public' and table_name = $1",
        )
        .bind(&t)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let ints: Vec<String> = columns
            .iter()
            .filter(|(_, ty)| matches!(ty.as_str(), "smallint" | "integer" | "bigint"))
            .map(|(c, _)| format!("coalesce(sum(\"{c}\"), 0)::text"))
            .collect();
        let texts: Vec<String> = columns
            .iter()
            .filter(|(_, ty)| {
                matches!(ty.as_str(), "text" | "character varying" | "json" | "jsonb")
            })
            .map(|(c, _)| format!("coalesce(\"{c}\"::text, '') ~* '{CHOICE_WORDS}'"))
            .collect();
        let sums = format!(
            "concat_ws(',', {})",
            if ints.is_empty() {
                "''".to_owned()
            } else {
                ints.join(", ")
            }
        );
        let words = if texts.is_empty() {
            "false".to_owned()
        } else {
            texts.join(" or ")
        };
        let (rows, sums, choice_words): (i64, String, i64) = sqlx::query_as(&format!(
            "select count(*), {sums}, count(*) filter (where {words}) from {t}"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let (heap_items, heap_bytes, dead_versions): (i64, i64, i64) = sqlx::query_as(&format!(
            "select count(*), coalesce(sum(h.lp_len), 0)::bigint,
                    count(*) filter (where h.t_xmax <> '0' and h.lp_flags = 1)
             from generate_series(0, (pg_relation_size('{t}') / current_setting('block_size')::int)::int - 1) p,
                  heap_page_items(get_raw_page('{t}', p)) h"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        all.insert(
            t,
            Shape {
                rows,
                integer_sums: sums
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(|n| n.parse().unwrap())
                    .collect(),
                choice_words,
                heap_items,
                heap_bytes,
                dead_versions,
            },
        );
    }
    all
}

/// What changed between two fingerprints: per table, each figure's difference.
fn delta(
    before: &BTreeMap<String, Shape>,
    after: &BTreeMap<String, Shape>,
) -> BTreeMap<String, Vec<i128>> {
    let figures = |s: &Shape| {
        let mut f = vec![
            i128::from(s.rows),
            i128::from(s.choice_words),
            i128::from(s.heap_items),
            i128::from(s.heap_bytes),
            i128::from(s.dead_versions),
        ];
        f.extend(&s.integer_sums);
        f
    };
    after
        .iter()
        .map(|(t, s)| {
            let (b, a) = (figures(&before[t]), figures(s));
            (
                t.clone(),
                a.iter().zip(&b).map(|(a, b)| a - b).collect::<Vec<i128>>(),
            )
        })
        .filter(|(_, d)| d.iter().any(|x| *x != 0))
        .collect()
}

const CHOICES: [Choice; 7] = [
    Choice::Yes,
    Choice::Yes,
    Choice::Yes,
    Choice::No,
    Choice::No,
    Choice::No,
    Choice::Abstain,
];

/// Each ballot's choice in the second database: never the first one's.
fn other(c: Choice) -> Choice {
    match c {
        Choice::Yes => Choice::No,
        Choice::No => Choice::Abstain,
        Choice::Abstain => Choice::Yes,
    }
}

/// R-SECRET-BALLOT, issue 13: a secret vote of seven members (3 赞成, 3 反对, 1 弃权) is played
/// on two databases side by side, the second with a different choice at every ballot. After
/// every ballot both databases have changed in exactly the same way — rows, the sum of every
/// integer column, text mentioning a choice (none), heap pages with their dead row versions,
/// and every row with its random parts masked — so nothing a reader of the database sees
/// depends on the choice; and no plaintext count exists.
#[tokio::test]
async fn r_secret_ballot_the_database_changes_alike_whatever_the_choice() {
    let a = Vote::open().await;
    let b = Vote::open().await;
    let mut before = (fingerprint(&a.app).await, fingerprint(&b.app).await);
    for (n, choice) in CHOICES.iter().enumerate() {
        a.cast(n, *choice).await;
        b.cast(n, other(*choice)).await;
        let after = (fingerprint(&a.app).await, fingerprint(&b.app).await);
        let (da, db) = (delta(&before.0, &after.0), delta(&before.1, &after.1));
        assert_eq!(da, db, "ballot {n}: the databases changed differently");
        assert!(
            da.values().all(|d| d[1] == 0),
            "ballot {n} wrote a choice word: {da:?}"
        );
        assert!(da.contains_key("secret_ballot"), "{da:?}");
        // Row by row, with ids, hashes, ciphertexts and times masked, the two are the same.
        let rows = differing_rows(&masked_rows(&a.app).await, &masked_rows(&b.app).await);
        assert!(rows.is_empty(), "ballot {n}: rows differ: {rows:#?}");
        before = after;
    }
    // No plaintext count anywhere before closing: the totals columns are still empty.
    let totals: Option<i32> = sqlx::query_scalar("select yes from agenda_item where item_id = $1")
        .bind(a.i)
        .fetch_one(&a.app.pool)
        .await
        .unwrap();
    assert_eq!(totals, None);
    let secret_tally: Option<String> =
        sqlx::query_scalar("select to_regclass('secret_tally')::text")
            .fetch_one(&a.app.pool)
            .await
            .unwrap();
    assert_eq!(secret_tally, None, "the plaintext counter is gone");
}

/// Every row of every table with what is random or an id masked: uuids, bytea, hashes, tokens,
/// times. What is left is what a reader could compare between two databases.
async fn masked_rows(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for t in tables(app).await {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            r#"select regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                   to_jsonb(x)::text,
                   '[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}', 'U', 'g'),
                   '\\\\x[0-9a-f]*', 'B', 'g'),
                   '\$argon2id\$[^"]*', 'H', 'g'),
                   '\d{{4}}-\d{{2}}-\d{{2}}(T[0-9:.]+([+-]\d{{2}}:\d{{2}})?)?', 'T', 'g'),
                   '[0-9a-f]{{16,}}', 'X', 'g')
               from {t} x"#
        ))
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let mut rows = rows;
        rows.sort();
        all.insert(t, rows);
    }
    all
}

/// The rows of the first database (masked) that the second does not have, with their table.
fn differing_rows(
    a: &BTreeMap<String, Vec<String>>,
    b: &BTreeMap<String, Vec<String>>,
) -> Vec<(String, String)> {
    a.iter()
        .flat_map(|(t, rows)| {
            rows.iter()
                .filter(|r| !b[t].contains(r))
                .map(|r| (t.clone(), r.clone()))
        })
        .collect()
}

/// R-SECRET-BALLOT, issue 13: after closing, the two databases of the vote above (whose voters
/// chose differently at every ballot) differ in nothing but the totals: the item's counts and
/// the audit entry of the close. So no row — the voters' rows, the ballot box, the audit
/// entries of the ballots — joins a voter to a choice.
#[tokio::test]
async fn r_secret_ballot_after_closing_nothing_joins_a_voter_to_a_choice() {
    let a = Vote::open().await;
    let b = Vote::open().await;
    for (n, choice) in CHOICES.iter().enumerate() {
        a.cast(n, *choice).await;
        b.cast(n, other(*choice)).await;
    }
    let ta = ok(
        &a.app,
        &a.r.shuji.token,
        item(a.m, a.i, "vote/close"),
        json!({}),
    )
    .await;
    let tb = ok(
        &b.app,
        &b.r.shuji.token,
        item(b.m, b.i, "vote/close"),
        json!({}),
    )
    .await;
    assert_eq!(
        (
            ta["yes"].as_i64(),
            ta["no"].as_i64(),
            ta["abstain"].as_i64()
        ),
        (Some(3), Some(3), Some(1))
    );
    assert_eq!(
        (
            tb["yes"].as_i64(),
            tb["no"].as_i64(),
            tb["abstain"].as_i64()
        ),
        (Some(1), Some(3), Some(3))
    );

    let differing = differing_rows(&masked_rows(&a.app).await, &masked_rows(&b.app).await);
    assert!(!differing.is_empty(), "the totals differ");
    for (t, row) in &differing {
        let totals_only = (t == "agenda_item" && row.contains("\"state\": \"tallied\""))
            || (t == "audit_entry" && row.contains("item.vote_close"));
        assert!(totals_only, "{t} differs beyond the totals: {row}");
    }
    // The dead row versions too are shaped alike.
    let (fa, fb) = (fingerprint(&a.app).await, fingerprint(&b.app).await);
    for (t, s) in &fa {
        if t != "agenda_item" && t != "audit_entry" {
            assert_eq!(Some(s), fb.get(t), "{t}");
        }
    }
}

/// R-SECRET-BALLOT: ballots made outside the rules are refused and leave nothing behind — a
/// ciphertext of 2, of −1, two options at once, a forged proof, a ballot of another item (taken
/// from its public ballot box) and a replayed ciphertext; then the member still votes.
#[tokio::test]
async fn r_secret_ballot_forged_replayed_and_foreign_ballots_are_refused() {
    let app = TestApp::new().await;
    let r = room(&app, 4).await;
    let t1 = ready_topic(&app, &r, "议题一", json!({})).await;
    let t2 = ready_topic(&app, &r, "议题二", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i1 = add(&app, &r, m, t1).await;
    let i2 = add(&app, &r, m, t2).await;
    convene(&app, &r, m, &[]).await;

    // The first item is voted and counted; its box is public.
    ok(&app, &r.shuji.token, item(m, i1, "start"), json!({})).await;
    agree_and_open_vote(&app, &r, m, i1, "secret").await;
    for p in r.members.iter().chain([&r.shuji]) {
        ok(
            &app,
            &p.token,
            item(m, i1, "ballots"),
            json!({"choice": "yes"}),
        )
        .await;
    }
    ok(&app, &r.shuji.token, item(m, i1, "vote/close"), json!({})).await;
    ok(
        &app,
        &r.shuji.token,
        item(m, i1, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    let first_box = ballot_box(&app, &r.shuji.token, m, i1).await;
    let foreign = first_box["ballots"][0]["ballot"].clone();

    ok(&app, &r.shuji.token, item(m, i2, "start"), json!({})).await;
    agree_and_open_vote(&app, &r, m, i2, "secret").await;
    let b = ballot_box(&app, &r.shuji.token, m, i2).await;
    let key = PublicVoteKey::from_bytes(&hex::decode(b["public_key"].as_str().unwrap()).unwrap())
        .unwrap();
    let elgamal_key = elastic_elgamal::PublicKey::<elastic_elgamal::group::Ristretto>::from_bytes(
        &key.to_bytes(),
    )
    .unwrap();
    let mut rng = rand_core::OsRng;
    let honest = Ballot::encrypt(&key, Choice::Yes).to_json();

    let mut of_two = honest.clone();
    of_two["choices"][0] = serde_json::to_value(elgamal_key.encrypt(2u64, &mut rng)).unwrap();
    let mut of_minus_one = honest.clone();
    of_minus_one["choices"][1] = serde_json::to_value(elgamal_key.encrypt_element(
        -curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT,
        &mut rng,
    ))
    .unwrap();
    let params = elastic_elgamal::app::ChoiceParams::single(elgamal_key.clone(), 3);
    let two_options = serde_json::to_value(elastic_elgamal::app::EncryptedChoice::new(
        &params,
        &[true, true, false],
        &mut rng,
    ))
    .unwrap();
    let mut forged_proof = honest.clone();
    forged_proof["range_proof"] =
        Ballot::encrypt(&key, Choice::Yes).to_json()["range_proof"].clone();

    let voter = &r.members[0];
    let before = (
        app.count("vote_cast").await,
        app.count("secret_ballot").await,
    );
    for (what, ballot) in [
        ("a ciphertext of 2", of_two),
        ("a ciphertext of -1", of_minus_one),
        ("two options at once", two_options),
        ("a forged proof", forged_proof),
        ("a ballot of another item", foreign),
    ] {
        let answer = post(
            &app,
            &voter.token,
            item(m, i2, "ballots"),
            json!({"ballot": ballot}),
        )
        .await;
        assert_eq!(answer.0, StatusCode::CONFLICT, "{what}: {}", answer.1);
        refused(&answer, "R-SECRET-BALLOT");
        assert_eq!(
            (
                app.count("vote_cast").await,
                app.count("secret_ballot").await
            ),
            before,
            "{what} left something behind"
        );
    }
    // Not a ballot at all: 422 naming the field.
    let (status, body) = post(
        &app,
        &voter.token,
        item(m, i2, "ballots"),
        json!({"ballot": "abc"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("ballot"), "{body}");

    // The honest ballot is taken; the same ciphertext cast by another member is not.
    ok(
        &app,
        &voter.token,
        item(m, i2, "ballots"),
        json!({"ballot": honest}),
    )
    .await;
    let replay = post(
        &app,
        &r.members[1].token,
        item(m, i2, "ballots"),
        json!({"ballot": honest}),
    )
    .await;
    refused(&replay, "R-SECRET-BALLOT");
    assert_eq!(app.count("secret_ballot").await, before.1 + 1);
    assert_eq!(app.count("vote_cast").await, before.0 + 1);
    // The member whose replay was refused still votes.
    ok(
        &app,
        &r.members[1].token,
        item(m, i2, "ballots"),
        json!({"choice": "no"}),
    )
    .await;
    let tally = ok(&app, &r.shuji.token, item(m, i2, "vote/close"), json!({})).await;
    assert_eq!(
        (tally["yes"].as_i64(), tally["no"].as_i64()),
        (Some(1), Some(1)),
        "{tally}"
    );
}

fn yishi_verify_vote(app: &TestApp, item_id: Uuid) -> (i32, String) {
    let out = app
        .command(&["verify-vote", &item_id.to_string()])
        .output()
        .expect("run yishi verify-vote");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// R-SECRET-BALLOT, the ballot tracker: every voter's tracking code is in the public box exactly
/// once and the box tells them so; the minutes carry the box's digest; `yishi verify-vote`
/// checks every proof and the sum, and names the ballot whose stored ciphertext was altered.
#[tokio::test]
async fn r_secret_ballot_every_voter_finds_their_ballot_and_an_altered_one_is_named() {
    let v = Vote::open().await;
    for (n, choice) in CHOICES.iter().enumerate() {
        v.cast(n, *choice).await;
    }
    // Before closing the box shows the key and the number of voters, no ballot.
    let open = ballot_box(&v.app, &v.r.members[0].token, v.m, v.i).await;
    assert_eq!(open["closed"], false);
    assert_eq!(open["voters"], 7);
    assert_eq!(open["ballots"], json!([]));
    assert_eq!(open["totals"], Value::Null);
    ok(
        &v.app,
        &v.r.shuji.token,
        item(v.m, v.i, "vote/close"),
        json!({}),
    )
    .await;

    let shown = ballot_box(&v.app, &v.r.shuji.token, v.m, v.i).await;
    assert_eq!(shown["problems"], json!([]), "{shown}");
    assert_eq!(shown["totals"], json!({"yes": 3, "no": 3, "abstain": 1}));
    let codes: Vec<String> = shown["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["tracker_short"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 7);
    for n in 0..7 {
        let token = &v.voter(n).token;
        let (_, view) = v
            .app
            .api(
                "GET",
                &format!("/api/v1/meetings/{}", v.m),
                Some(token),
                None,
            )
            .await;
        let mine = view["agenda"][0]["my_tracker"].as_str().unwrap().to_owned();
        assert_eq!(
            codes.iter().filter(|c| **c == mine).count(),
            1,
            "{mine} in {codes:?}"
        );
        let b = ballot_box(&v.app, token, v.m, v.i).await;
        assert_eq!(b["my_tracker"], mine.as_str());
        assert_eq!(b["my_ballot_included"], true);
        let path = format!("/meetings/{}/items/{}/ballot-box", v.m, v.i);
        let page = body_text(v.app.page("GET", &path, Some(token), None).await).await;
        assert!(page.contains("您的选票已计入"), "{page}");
    }
    // Nobody else's tracking code is shown to a member.
    let (_, view) = v
        .app
        .api(
            "GET",
            &format!("/api/v1/meetings/{}", v.m),
            Some(&v.r.members[0].token),
            None,
        )
        .await;
    let text = view.to_string();
    assert_eq!(
        codes.iter().filter(|c| text.contains(c.as_str())).count(),
        1
    );

    // The minutes carry the digest of the box.
    ok(
        &v.app,
        &v.r.shuji.token,
        item(v.m, v.i, "outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    ok(
        &v.app,
        &v.r.shuji.token,
        format!("/api/v1/meetings/{}/close", v.m),
        json!({}),
    )
    .await;
    let (status, minutes) = v
        .app
        .api(
            "GET",
            &format!("/api/v1/meetings/{}/minutes", v.m),
            Some(&v.r.shuji.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{minutes}");
    assert_eq!(
        minutes["minutes"]["items"][0]["vote"]["ballot_box_digest"], shown["digest"],
        "{minutes}"
    );

    let (code, out) = yishi_verify_vote(&v.app, v.i);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("\"ok\": true") && out.contains("\"key_checked\": true"),
        "{out}"
    );

    // A database administrator replaces one stored ciphertext by a fresh encryption.
    let key = v.public_key().await;
    let victim = shown["ballots"][3]["tracker"].as_str().unwrap().to_owned();
    let mut altered = shown["ballots"][3]["ballot"].clone();
    altered["choices"][0] = Ballot::encrypt(&key, Choice::Yes).to_json()["choices"][0].clone();
    let mut conn = v.app.pool.acquire().await.unwrap();
    sqlx::query("set session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("update secret_ballot set ballot = $1 where tracker = $2")
        .bind(serde_json::to_vec(&altered).unwrap())
        .bind(hex::decode(&victim).unwrap())
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("reset session_replication_role")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let (code, out) = yishi_verify_vote(&v.app, v.i);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&victim), "the altered ballot is named: {out}");
    let shown = ballot_box(&v.app, &v.r.shuji.token, v.m, v.i).await;
    assert!(shown["problems"].to_string().contains(&victim), "{shown}");
    // An item without a secret vote is named as such.
    assert_eq!(yishi_verify_vote(&v.app, Uuid::now_v7()).0, 2);
}

/// R-SECRET-BALLOT with R-RECUSAL and R-CONFIDENTIAL: the box is for the item's participants —
/// a member who recused and a person outside the meeting get 404; open votes have no box.
#[tokio::test]
async fn r_secret_ballot_the_box_is_for_the_items_participants() {
    let app = TestApp::new().await;
    let r = room(&app, 4).await;
    let t = ready_topic(&app, &r, "关于评选先进的议题", json!({})).await;
    let m = meeting(&app, &r, 10).await;
    let i = add(&app, &r, m, t).await;
    convene(&app, &r, m, &[]).await;
    ok(&app, &r.shuji.token, item(m, i, "start"), json!({})).await;
    ok(
        &app,
        &r.members[3].token,
        item(m, i, "recusals"),
        json!({"relation": "spouse"}),
    )
    .await;
    let (_, outsider) = app.user("waiyuan", &["staff"]).await;
    for (who, token) in [
        ("the recused member", &r.members[3].token),
        ("an outsider", &outsider),
    ] {
        let (status, body) = app
            .api("GET", &item(m, i, "ballot-box"), Some(token), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}: {body}");
    }
    // Before a secret vote opens there is no box at all.
    let (status, _) = app
        .api("GET", &item(m, i, "ballot-box"), Some(&r.shuji.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// R-SECRET-BALLOT and R-ONE-VOTE across a crash: a server killed right after a ballot loses
/// nothing, and the same member's ballot sent again to the restarted server is refused.
#[tokio::test]
async fn r_secret_ballot_a_killed_server_loses_no_ballot_and_a_retry_is_refused() {
    let v = Vote::open().await;
    let server = crate::support::Binary::start(&v.app, &[]);
    let path = item(v.m, v.i, "ballots");
    let (status, body) = server.post(&path, &v.r.members[0].token, r#"{"choice":"no"}"#);
    assert_eq!(status, 200, "{body}");
    server.kill();

    let server = crate::support::Binary::start(&v.app, &[]);
    let (status, body) = server.post(&path, &v.r.members[0].token, r#"{"choice":"yes"}"#);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("R-ONE-VOTE"), "{body}");
    let (status, body) = server.post(&path, &v.r.members[1].token, r#"{"choice":"yes"}"#);
    assert_eq!(status, 200, "{body}");
    server.kill();
    let tally = ok(
        &v.app,
        &v.r.shuji.token,
        item(v.m, v.i, "vote/close"),
        json!({}),
    )
    .await;
    assert_eq!(
        (tally["yes"].as_i64(), tally["no"].as_i64()),
        (Some(1), Some(1)),
        "{tally}"
    );
}
