//! Issue 18 (2): paper where the room needs it — the sign-in sheet, paper ballots for a secret
//! vote, and the totals entered by two counters of 综合科 (R-ONE-VOTE, R-PASS).

use axum::http::StatusCode;
use serde_json::json;

use crate::fixtures::{agree_and_open_vote, item_under_discussion, ok, post, refused, room};
use crate::support::{TestApp, body_text, docx_part, docx_text, run_with_in};

const T: &str = "关于调整门诊慢特病待遇的请示";

#[tokio::test]
async fn r_one_vote_a_paper_vote_counts_only_when_two_counters_agree() {
    let app = TestApp::new().await;
    let r = room(&app, 4).await;
    let (m, i) = item_under_discussion(&app, &r, T).await;
    agree_and_open_vote(&app, &r, m, i, "paper").await;
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    let (_, second) = app.user("zongheke2", &["office"]).await;
    let first = &r.secretary.token;

    // One serial-numbered ballot per member present and not recused: five.
    let ballots = body_text(
        app.page(
            "GET",
            &format!("/meetings/{m}/items/{i}/paper-ballots"),
            Some(first),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        ballots.matches("class=\"paper paper-ballot\"").count(),
        5,
        "{ballots}"
    );
    assert!(ballots.contains("-01-005") && !ballots.contains("-01-006"));
    assert!(ballots.contains(T) && ballots.contains("弃权"));
    let member = app
        .page(
            "GET",
            &format!("/meetings/{m}/items/{i}/paper-ballots"),
            Some(&r.members[1].token),
            None,
        )
        .await;
    assert_eq!(member.status(), StatusCode::FORBIDDEN);

    // Nobody votes in the app on a paper vote, and the chair does not close it.
    refused(
        &post(
            &app,
            &r.members[1].token,
            item("ballots"),
            json!({"choice": "yes"}),
        )
        .await,
        "R-SECRET-BALLOT",
    );
    refused(
        &post(&app, &r.shuji.token, item("vote/close"), json!({})).await,
        "R-ONE-VOTE",
    );
    let (status, _) = post(
        &app,
        &r.members[1].token,
        item("paper-count"),
        json!({"yes": 5, "no": 0, "abstain": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "counters are 综合科's");
    let (status, bad) = post(&app, first, item("paper-count"), json!({"yes": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let labels: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["反对票数", "弃权票数"]);

    // The first count: entered, then a mismatch; the difference is shown, nothing counted.
    let entry = |yes: i64, no: i64, abstain: i64| json!({"yes": yes, "no": no, "abstain": abstain});
    let a = ok(&app, first, item("paper-count"), entry(3, 1, 1)).await;
    assert_eq!(
        (a["status"].as_str(), a["round"].as_i64()),
        (Some("waiting"), Some(1))
    );
    let (_, view) = app
        .api("GET", &format!("/api/v1/meetings/{m}"), Some(&second), None)
        .await;
    let paper = &view["agenda"][0]["paper"];
    assert_eq!(paper["entered_by"], json!(["用户mishu"]), "{paper}");
    assert!(
        !view.to_string().contains("\"yes\":3"),
        "the second counter counts without seeing the first's numbers"
    );
    refused(
        &post(&app, first, item("paper-count"), entry(3, 1, 1)).await,
        "R-ONE-VOTE",
    );
    let too_many = post(&app, &second, item("paper-count"), entry(4, 1, 1)).await;
    refused(&too_many, "R-ONE-VOTE");
    assert!(
        too_many.1["detail"].as_str().unwrap().contains("6 张"),
        "{}",
        too_many.1
    );
    assert_eq!(
        app.count("paper_count").await,
        1,
        "a refused entry writes nothing"
    );
    let b = ok(&app, &second, item("paper-count"), entry(4, 1, 0)).await;
    assert_eq!(b["status"], "differ");
    assert_eq!(
        b["difference"],
        "赞成:第一次 3 票,第二次 4 票;弃权:第一次 1 票,第二次 0 票"
    );
    let page = body_text(
        app.page("GET", &format!("/meetings/{m}"), Some(first), None)
            .await,
    )
    .await;
    assert!(page.contains("两位计票人录入的结果不一致"), "{page}");

    // The count repeated: both agree, the vote is counted and R-PASS decides (4 × 2 > 5).
    let c = ok(&app, &second, item("paper-count"), entry(4, 0, 1)).await;
    assert_eq!(
        (c["status"].as_str(), c["round"].as_i64()),
        (Some("waiting"), Some(2))
    );
    let d = ok(&app, first, item("paper-count"), entry(4, 0, 1)).await;
    assert_eq!(d["status"], "agreed", "{d}");
    assert_eq!(
        d["tally"],
        json!({"yes": 4, "no": 0, "abstain": 1, "should_attend": 5, "passed": true})
    );
    refused(
        &post(&app, &second, item("paper-count"), entry(4, 0, 1)).await,
        "R-ONE-VOTE",
    );
    ok(
        &app,
        &r.shuji.token,
        item("outcome"),
        json!({"outcome": "announce"}),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/close"),
        json!({}),
    )
    .await;

    // The minutes say the vote was on paper and name both counters.
    let (status, minutes) = app
        .api(
            "GET",
            &format!("/api/v1/meetings/{m}/minutes"),
            Some(&r.shuji.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{minutes}");
    let vote = &minutes["minutes"]["items"][0]["vote"];
    assert_eq!(vote["method"], "paper");
    assert_eq!(
        vote["counters"],
        json!(["用户zongheke2", "用户mishu"]),
        "{vote}"
    );
    let page = body_text(
        app.page(
            "GET",
            &format!("/meetings/{m}/minutes"),
            Some(&r.shuji.token),
            None,
        )
        .await,
    )
    .await;
    assert!(
        page.contains("计票人用户zongheke2、用户mishu分别清点录入"),
        "{page}"
    );
}

#[tokio::test]
async fn the_sign_in_sheet_lists_members_and_attendees_by_item() {
    let app = TestApp::new().await;
    let r = room(&app, 2).await;
    let t = crate::fixtures::ready_topic(&app, &r, T, json!({})).await;
    let m = crate::fixtures::meeting(&app, &r, 10).await;
    let i = crate::fixtures::add(&app, &r, m, t).await;
    let (attendee, _) = app.user("liexi", &["section_head"]).await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/attendees"),
        json!({"item_id": i, "user_id": attendee}),
    )
    .await;
    ok(
        &app,
        &r.members[1].token,
        format!("/api/v1/meetings/{m}/leave"),
        json!({"reason": "在省里参加培训"}),
    )
    .await;
    ok(
        &app,
        &r.shuji.token,
        format!("/api/v1/meetings/{m}/leave/{}/decision", r.members[1].id),
        json!({"approved": true}),
    )
    .await;
    let sheet = body_text(
        app.page(
            "GET",
            &format!("/meetings/{m}/sign-in-sheet"),
            Some(&r.secretary.token),
            None,
        )
        .await,
    )
    .await;
    for text in [
        "签到表",
        "应到 3 人",
        "用户shuji",
        "用户chengyuan0",
        "请假",
        "列席人员(按议题)",
        T,
        "用户liexi",
        "签名",
    ] {
        assert!(sheet.contains(text), "{text}: {sheet}");
    }

    // Issue 18 (3): the notice as an official document, in the same form as the summary.
    let res = app
        .page(
            "GET",
            &format!("/meetings/{m}/notice.docx"),
            Some(&r.members[0].token),
            None,
        )
        .await;
    assert_eq!(res.status(), axum::http::StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let notice = docx_text(&bytes);
    for mark in [
        r#"w:top="2098""#,
        r#"w:left="1587""#,
        r#"w:type="linesAndChars" w:linePitch="579" w:charSpace="-848""#,
        "党组各成员:",
        "通〔",
        "分送:",
    ] {
        assert!(notice.contains(mark), "{mark}: {notice}");
    }
    assert!(run_with_in(&notice, "方正小标宋简体", "的通知"), "{notice}");
    assert!(run_with_in(&notice, "仿宋_GB2312", T), "{notice}");
    assert!(run_with_in(&notice, "黑体", "列席:"), "{notice}");
    assert!(!notice.contains("秘密★"), "no classified item");
    assert!(docx_part(&bytes, "footer").contains("PAGE"));

    let member = app
        .page(
            "GET",
            &format!("/meetings/{m}/sign-in-sheet"),
            Some(&r.members[0].token),
            None,
        )
        .await;
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
}
