//! The authorization matrix: every route added so far × anonymous and every role (plus a
//! party-group member), table-driven. Allowed answers are 2xx (or a redirect after a page
//! form), refused ones 401/403/404, and page requests of anonymous visitors go to sign-in.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    Anonymous,
    Role(&'static str),
    /// A `staff` user who is a current member of the party group.
    Member,
}

const ACTORS: [Who; 10] = [
    Who::Anonymous,
    Who::Role("admin"),
    Who::Role("office"),
    Who::Role("discipline"),
    Who::Role("counsel"),
    Who::Role("leader"),
    Who::Role("director"),
    Who::Role("section_head"),
    Who::Role("staff"),
    Who::Member,
];

/// Who may: the expected status for an allowed actor, and for the others.
#[derive(Clone, Copy)]
enum Allow {
    Anyone,
    SignedIn,
    /// Anyone signed in but the admin (三员分立: no path to meeting content).
    NotAdmin,
    Admin,
    Discipline,
    /// Admin or a member of the group; others are told it does not exist.
    AdminOrMember,
    /// 综合科 or a member of the group (a topic proposed by somebody else); others: 404.
    OfficeOrMember,
    /// Leaders, section staff and members propose topics; others: 403.
    Proposer,
    /// 综合科 only; others: 403.
    Office,
    /// On a topic proposed by somebody else: nobody here may; 综合科 and members see it (403),
    /// the others do not (404).
    TopicNobody,
    /// On a topic: 综合科 may (the answer then depends on its state); members 403; others 404.
    TopicOffice,
    /// A meeting of the group: 综合科 and members see it; others are told it does not exist.
    MeetingSee,
    /// A meeting action of its chair or secretary: 综合科 and members 403; others 404.
    MeetingNobody,
    /// An action on a meeting or the group that 综合科 may take; members 403; others 404.
    MeetingOffice,
    /// A meeting action a member may take; 综合科 403; others 404.
    MeetingMember,
    /// Only the 书记 or a 副书记 may (none of the actors): members 403, others 404.
    GroupLeaders,
    /// A member of the group may; everyone else 403.
    GroupMember,
}

struct Route {
    method: &'static str,
    /// `{group}`, `{user}`, `{spare}` and `{n}` are filled in per call.
    path: &'static str,
    body: Option<Value>,
    form: Option<&'static str>,
    allow: Allow,
    ok: u16,
}

fn api(
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    allow: Allow,
    ok: u16,
) -> Route {
    Route {
        method,
        path,
        body,
        form: None,
        allow,
        ok,
    }
}

fn page(
    method: &'static str,
    path: &'static str,
    form: Option<&'static str>,
    allow: Allow,
    ok: u16,
) -> Route {
    Route {
        method,
        path,
        body: None,
        form,
        allow,
        ok,
    }
}

fn routes() -> Vec<Route> {
    use Allow::*;
    vec![
        api("GET", "/api/v1/me", None, SignedIn, 200),
        api(
            "POST",
            "/api/v1/me/password",
            Some(json!({"current_password": "not-it-123", "new_password": "another-pass-1"})),
            SignedIn,
            422,
        ),
        api("GET", "/api/v1/me/mail", None, SignedIn, 200),
        api(
            "PUT",
            "/api/v1/me/mail",
            Some(json!({"mail_opt_out": false})),
            SignedIn,
            200,
        ),
        api("GET", "/api/v1/sections", None, Admin, 200),
        api(
            "PATCH",
            "/api/v1/sections/{section}",
            Some(json!({"name": "改名科室{n}"})),
            Admin,
            200,
        ),
        api(
            "POST",
            "/api/v1/sections",
            Some(json!({"name": "科室{n}", "kind": "other"})),
            Admin,
            201,
        ),
        api("GET", "/api/v1/users", None, Admin, 200),
        api(
            "POST",
            "/api/v1/users",
            Some(
                json!({"login": "new{n}", "name": "新用户", "password": "new-user-pass-1", "roles": []}),
            ),
            Admin,
            201,
        ),
        api("GET", "/api/v1/users/{user}", None, Admin, 200),
        // The roster: an upload needs a multipart body (a JSON one is refused as input).
        api(
            "POST",
            "/api/v1/roster/imports",
            Some(json!({})),
            Admin,
            422,
        ),
        api("GET", "/api/v1/roster/imports/{import}", None, Admin, 200),
        api(
            "POST",
            "/api/v1/roster/imports/{import}/apply",
            None,
            Admin,
            200,
        ),
        api("GET", "/api/v1/roster/template/people", None, Admin, 200),
        api("GET", "/api/v1/roster/export/members", None, Admin, 200),
        api("POST", "/api/v1/users/first-passwords", None, Admin, 201),
        api(
            "PATCH",
            "/api/v1/users/{user}",
            Some(json!({"name": "改名{n}"})),
            Admin,
            200,
        ),
        // 三员分立: the admin may not take another role, give one to an admin, or join a group.
        api(
            "PATCH",
            "/api/v1/users/{admin}",
            Some(json!({"roles": ["admin", "discipline"]})),
            Admin,
            422,
        ),
        api(
            "PATCH",
            "/api/v1/users/{user}",
            Some(json!({"roles": ["admin", "office"]})),
            Admin,
            422,
        ),
        api(
            "POST",
            "/api/v1/party-groups/{group}/members",
            Some(json!({"user_id": "{admin}", "position": "member"})),
            Admin,
            422,
        ),
        api("GET", "/api/v1/party-groups", None, SignedIn, 200),
        api(
            "POST",
            "/api/v1/party-groups",
            Some(json!({"name": "党组{n}"})),
            Admin,
            201,
        ),
        api(
            "GET",
            "/api/v1/party-groups/{group}",
            None,
            AdminOrMember,
            200,
        ),
        api(
            "GET",
            "/api/v1/party-groups/{group}/settings",
            None,
            AdminOrMember,
            200,
        ),
        api(
            "PATCH",
            "/api/v1/party-groups/{group}/settings",
            Some(json!({"topic_lead_days": 8})),
            Admin,
            200,
        ),
        api(
            "POST",
            "/api/v1/party-groups/{group}/members",
            Some(json!({"user_id": "{spare}", "position": "member"})),
            Admin,
            201,
        ),
        api(
            "DELETE",
            "/api/v1/party-groups/{group}/members/{spare}",
            None,
            Admin,
            204,
        ),
        api("GET", "/api/v1/topics", None, SignedIn, 200),
        api("GET", "/api/v1/reviews", None, SignedIn, 200),
        api(
            "GET",
            "/api/v1/topics/prerequisites?party_group_id={group}&category=12",
            None,
            SignedIn,
            200,
        ),
        api(
            "POST",
            "/api/v1/topics/{topic}/assignments",
            Some(json!({"section_id": "x"})),
            TopicNobody,
            200,
        ),
        // Denied before the body is read; the upload itself is tested in `materials`.
        api(
            "POST",
            "/api/v1/topics/{topic}/materials",
            Some(json!({})),
            TopicNobody,
            201,
        ),
        // Denied before the body is read, like the upload above.
        api(
            "POST",
            "/api/v1/topics/{topic}/prerequisites/finance_opinion/attachment",
            Some(json!({})),
            TopicNobody,
            201,
        ),
        api(
            "GET",
            "/api/v1/topics/{topic}/materials/{material}",
            None,
            OfficeOrMember,
            200,
        ),
        api(
            "POST",
            "/api/v1/topics",
            Some(
                json!({"party_group_id": "{group}", "title": "议题{n}", "category": 12, "responsible_user_id": "{leader}"}),
            ),
            Proposer,
            201,
        ),
        api("GET", "/api/v1/topics/{topic}", None, OfficeOrMember, 200),
        api("GET", "/api/v1/topics/submitted", None, Office, 200),
        api(
            "POST",
            "/api/v1/topics/{topic}/prerequisites",
            Some(json!({"kind": "finance_opinion", "conclusion": "同意"})),
            TopicNobody,
            200,
        ),
        api(
            "PUT",
            "/api/v1/topics/{topic}",
            Some(
                json!({"party_group_id": "{group}", "title": "改", "category": 12, "responsible_user_id": "{leader}"}),
            ),
            TopicNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/topics/{topic}/sign-off",
            None,
            TopicNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/topics/{topic}/submit",
            None,
            TopicNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/topics/{topic}/withdraw",
            None,
            TopicNobody,
            200,
        ),
        // The topic is a draft: 综合科 passes authorization and is refused by its state.
        api(
            "POST",
            "/api/v1/topics/{topic}/return",
            Some(json!({"reason": "材料不全"})),
            TopicOffice,
            409,
        ),
        api("GET", "/api/v1/meetings", None, SignedIn, 200),
        api(
            "POST",
            "/api/v1/meetings",
            Some(
                json!({"party_group_id": "{group}", "starts_at": "2030-01-10T09:00:00+08:00",
                        "place": "会议室", "secretary_id": "{mishu}"}),
            ),
            Office,
            201,
        ),
        api("GET", "/api/v1/meetings/{meeting}", None, MeetingSee, 200),
        api(
            "GET",
            "/api/v1/meetings/{meeting}/events",
            None,
            MeetingSee,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/chair",
            Some(json!({"user_id": "{user}", "reason": "出差"})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/agenda",
            Some(json!({"topic_id": "{topic}"})),
            MeetingNobody,
            201,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/agenda/{item}/move",
            Some(json!({"direction": "up"})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/attendees",
            Some(json!({"item_id": "{item}", "user_id": "{user}"})),
            MeetingNobody,
            200,
        ),
        // The agenda has an item and the secretary is from 综合科: 综合科 issues the notice.
        api(
            "POST",
            "/api/v1/meetings/{meeting}/notice",
            None,
            MeetingOffice,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/leave",
            Some(json!({"reason": "出差"})),
            MeetingMember,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/leave/{user}/decision",
            Some(json!({"approved": true})),
            MeetingNobody,
            200,
        ),
        api(
            "PUT",
            "/api/v1/meetings/{meeting}/attendance/{user}",
            Some(json!({"present": true})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/open",
            None,
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/start",
            None,
            MeetingNobody,
            200,
        ),
        // The member is absent: a written opinion is theirs to give.
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/written-opinions",
            Some(json!({"stance": "agree"})),
            MeetingMember,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/recusals",
            Some(json!({"relation": "self"})),
            MeetingMember,
            200,
        ),
        // The item has not started: a member passes authorization and is refused by its state.
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/opinions",
            Some(json!({"stance": "agree"})),
            MeetingMember,
            409,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/remarks",
            Some(json!({"text": "建议"})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/vote",
            Some(json!({"method": "secret"})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/ballots",
            Some(json!({"choice": "yes"})),
            MeetingMember,
            409,
        ),
        api(
            "GET",
            "/api/v1/meetings/{voted}/items/{voted_item}/ballot-box",
            None,
            MeetingSee,
            200,
        ),
        page(
            "GET",
            "/meetings/{voted}/items/{voted_item}/ballot-box",
            None,
            MeetingSee,
            200,
        ),
        // Issue 18 (2): the room's papers and the paper count. The item's vote is secret, not
        // on paper: 综合科 passes authorization and is refused by the vote's method.
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/paper-count",
            Some(json!({"yes": 0, "no": 0, "abstain": 0})),
            MeetingOffice,
            409,
        ),
        page(
            "GET",
            "/meetings/{meeting}/items/{item}/paper-ballots",
            None,
            MeetingOffice,
            200,
        ),
        page(
            "GET",
            "/meetings/{meeting}/sign-in-sheet",
            None,
            MeetingOffice,
            200,
        ),
        page(
            "GET",
            "/meetings/{meeting}/notice.docx",
            None,
            MeetingSee,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/vote/close",
            None,
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/items/{item}/outcome",
            Some(json!({"outcome": "deferred", "reason": "再议"})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{meeting}/close",
            None,
            MeetingNobody,
            200,
        ),
        // The record of the closed meeting (its one item deferred).
        api(
            "GET",
            "/api/v1/meetings/{held}/minutes",
            None,
            MeetingMember,
            200,
        ),
        api(
            "PUT",
            "/api/v1/meetings/{held}/minutes",
            Some(json!({"narrative": "概况"})),
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{held}/minutes/sign",
            None,
            MeetingNobody,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{held}/minutes/amendments",
            Some(json!({"text": "更正"})),
            MeetingNobody,
            201,
        ),
        api(
            "POST",
            "/api/v1/meetings/{held}/minutes/borrow-requests",
            Some(json!({"reason": "查阅", "days": 3})),
            NotAdmin,
            201,
        ),
        api("GET", "/api/v1/borrow-requests", None, SignedIn, 200),
        api(
            "POST",
            "/api/v1/borrow-requests/{borrow}/decision",
            Some(json!({"approved": true})),
            GroupLeaders,
            200,
        ),
        api(
            "GET",
            "/api/v1/meetings/{held}/summary",
            None,
            MeetingSee,
            200,
        ),
        api(
            "POST",
            "/api/v1/meetings/{held}/summary/sign",
            None,
            MeetingNobody,
            200,
        ),
        // Not distributed: whoever reads it passes authorization and has nothing to sign for.
        api(
            "POST",
            "/api/v1/meetings/{held}/summary/receipt",
            None,
            MeetingSee,
            409,
        ),
        // Not signed: 综合科 passes authorization and is refused by R-SUMMARY.
        api(
            "POST",
            "/api/v1/meetings/{held}/summary/distribute",
            None,
            MeetingOffice,
            409,
        ),
        // The item was deferred: no follow-up (R-FOLLOWUP-OWNER).
        api(
            "POST",
            "/api/v1/items/{held_item}/tasks",
            Some(json!({"lead_user_id": "{user}", "due_on": "2030-02-01", "description": "落实"})),
            MeetingOffice,
            409,
        ),
        api("GET", "/api/v1/tasks", None, SignedIn, 200),
        api("GET", "/api/v1/tasks/{task}", None, MeetingOffice, 200),
        api(
            "POST",
            "/api/v1/tasks/{task}/progress",
            Some(json!({"note": "进展"})),
            MeetingOffice,
            200,
        ),
        // Closing takes a multipart form: allowed, a JSON body is refused as input.
        api(
            "POST",
            "/api/v1/tasks/{task}/close",
            Some(json!({"note": "办结"})),
            MeetingOffice,
            422,
        ),
        api(
            "POST",
            "/api/v1/tasks/{task}/reminders",
            Some(json!({})),
            MeetingOffice,
            201,
        ),
        api(
            "POST",
            "/api/v1/party-groups/{group}/circulars",
            Some(json!({"text": "通报"})),
            MeetingOffice,
            201,
        ),
        // The member stated no opinion on it: passes authorization, refused by R-RESERVE.
        api(
            "POST",
            "/api/v1/items/{held_item}/reserved-opinions",
            Some(json!({"text": "保留"})),
            MeetingMember,
            409,
        ),
        api(
            "POST",
            "/api/v1/items/{held_item}/supersedes",
            Some(json!({"item_id": "", "reason": "变更"})),
            MeetingOffice,
            422,
        ),
        api(
            "POST",
            "/api/v1/emergencies",
            Some(
                json!({"party_group_id": "{group}", "title": "突发{n}", "action_taken": "已处置",
                         "occurred_at": "2026-01-01T08:00:00+08:00"}),
            ),
            GroupMember,
            201,
        ),
        api(
            "GET",
            "/api/v1/party-groups/{group}/duties",
            None,
            MeetingOffice,
            200,
        ),
        page(
            "GET",
            "/party-groups/{group}/summaries.docx?year=2030",
            None,
            MeetingOffice,
            200,
        ),
        api(
            "POST",
            "/api/v1/party-groups/{group}/reports-up",
            Some(json!({"title": "年度报告", "reported_on": "2026-01-05"})),
            MeetingOffice,
            201,
        ),
        api(
            "POST",
            "/api/v1/party-groups/{group}/circulations",
            Some(json!({"title": "文件{n}", "body": "正文"})),
            MeetingOffice,
            201,
        ),
        api(
            "GET",
            "/api/v1/circulations/{circulation}",
            None,
            MeetingSee,
            200,
        ),
        api(
            "POST",
            "/api/v1/circulations/{circulation}/signoffs",
            Some(json!({"approved": true})),
            MeetingMember,
            200,
        ),
        // The 书记 has not signed off: 综合科 is refused by R-PUBLICATION.
        api(
            "POST",
            "/api/v1/circulations/{circulation}/publish",
            None,
            MeetingOffice,
            409,
        ),
        api("GET", "/api/v1/notifications", None, SignedIn, 200),
        api("POST", "/api/v1/notifications/read", None, SignedIn, 204),
        api("GET", "/api/v1/audit", None, Discipline, 200),
        api("GET", "/api/v1/audit/verify", None, Discipline, 200),
        // A checkpoint whose signature does not hold: verified (and found wanting), 200.
        api(
            "POST",
            "/api/v1/audit/verify",
            Some(
                json!({"body": {"version": 1, "kind": "requested", "at": "2026-12-01T00:00:00Z",
                                 "suite": "standard", "mac": "hmac-sha256",
                                 "signature_algorithm": "ed25519", "public_key": "00",
                                 "chains": []}, "signature": "00"}),
            ),
            Discipline,
            200,
        ),
        api("GET", "/api/v1/audit/checkpoints", None, Discipline, 200),
        api(
            "GET",
            "/api/v1/audit/permission-changes",
            None,
            Discipline,
            200,
        ),
        api("POST", "/api/v1/audit/checkpoints", None, Discipline, 201),
        api(
            "GET",
            "/api/v1/audit/checkpoints/{checkpoint}",
            None,
            Discipline,
            200,
        ),
        api("GET", "/healthz", None, Anyone, 200),
        api("GET", "/readyz", None, Anyone, 200),
        api("GET", "/api/openapi.json", None, Anyone, 200),
        page("GET", "/login", None, Anyone, 200),
        page("GET", "/", None, SignedIn, 200),
        page("GET", "/me/password", None, SignedIn, 200),
        page("GET", "/me/mail", None, SignedIn, 200),
        page("POST", "/me/mail", Some("email=&wanted=yes"), SignedIn, 303),
        page("GET", "/sections", None, Admin, 200),
        page(
            "POST",
            "/sections",
            Some("name=页面科室{n}&kind=other"),
            Admin,
            303,
        ),
        page("GET", "/users", None, Admin, 200),
        page(
            "POST",
            "/users",
            Some("login=page{n}&name=页面用户&password=page-user-pass-1&roles=staff"),
            Admin,
            303,
        ),
        page("GET", "/users/{user}", None, Admin, 200),
        page("GET", "/roster", None, Admin, 200),
        page("GET", "/roster/imports/{import}", None, Admin, 200),
        page("GET", "/roster/template/members", None, Admin, 200),
        page("GET", "/roster/export/people", None, Admin, 200),
        // The slips are shown at once (the passwords exist only in this answer).
        page("POST", "/users/first-passwords", Some(""), Admin, 200),
        page(
            "POST",
            "/users/{user}",
            Some("name=页面改名&roles=staff&active=on"),
            Admin,
            303,
        ),
        page("GET", "/party-groups", None, SignedIn, 200),
        page(
            "POST",
            "/party-groups",
            Some("name=页面党组{n}"),
            Admin,
            303,
        ),
        page("GET", "/party-groups/{group}", None, AdminOrMember, 200),
        page(
            "POST",
            "/party-groups/{group}/settings",
            Some(
                "quorum_num=2&quorum_den=3&large_spend_fen=500000&topic_lead_days=7&materials_lead_days=1",
            ),
            Admin,
            303,
        ),
        page(
            "POST",
            "/party-groups/{group}/members",
            Some("user_id={spare}&position=member"),
            Admin,
            303,
        ),
        page(
            "POST",
            "/party-groups/{group}/members/{spare}/end",
            Some(""),
            Admin,
            303,
        ),
        page("GET", "/topics", None, SignedIn, 200),
        page(
            "POST",
            "/topics",
            Some(
                "party_group_id={group}&title=页面议题{n}&category=12&responsible_user_id={leader}",
            ),
            Proposer,
            303,
        ),
        page("GET", "/topics/{topic}", None, OfficeOrMember, 200),
        page("GET", "/reviews", None, SignedIn, 200),
        page(
            "POST",
            "/topics/{topic}/assignments",
            Some("section_id=x"),
            TopicNobody,
            303,
        ),
        page(
            "POST",
            "/topics/{topic}/materials",
            Some(""),
            TopicNobody,
            303,
        ),
        page(
            "GET",
            "/topics/{topic}/materials/{material}",
            None,
            OfficeOrMember,
            200,
        ),
        page(
            "POST",
            "/topics/{topic}/edit",
            Some("party_group_id={group}&title=改&category=12&responsible_user_id={leader}"),
            TopicNobody,
            303,
        ),
        page(
            "POST",
            "/topics/{topic}/sign-off",
            Some(""),
            TopicNobody,
            303,
        ),
        page("POST", "/topics/{topic}/submit", Some(""), TopicNobody, 303),
        page(
            "POST",
            "/topics/{topic}/withdraw",
            Some(""),
            TopicNobody,
            303,
        ),
        page(
            "POST",
            "/topics/{topic}/prerequisites",
            Some("kind=finance_opinion&conclusion=同意"),
            TopicNobody,
            303,
        ),
        page(
            "POST",
            "/topics/{topic}/return",
            Some("reason=材料不全"),
            TopicOffice,
            409,
        ),
        page("GET", "/meetings", None, SignedIn, 200),
        page(
            "POST",
            "/meetings",
            Some(
                "party_group_id={group}&starts_at=2030-01-11T09:00&place=会议室&secretary_id={mishu}",
            ),
            Office,
            303,
        ),
        page("GET", "/meetings/{meeting}", None, MeetingSee, 200),
        page("GET", "/meetings/{meeting}/live", None, MeetingSee, 200),
        page("GET", "/meetings/{meeting}/display", None, MeetingSee, 200),
        page(
            "GET",
            "/meetings/{meeting}/display/live",
            None,
            MeetingSee,
            200,
        ),
        // Already notified above: 综合科 is refused by the state.
        page(
            "POST",
            "/meetings/{meeting}/notice",
            Some(""),
            MeetingOffice,
            409,
        ),
        page(
            "POST",
            "/meetings/{meeting}/leave",
            Some("reason=出差"),
            MeetingMember,
            303,
        ),
        page(
            "POST",
            "/meetings/{meeting}/open",
            Some(""),
            MeetingNobody,
            303,
        ),
        page(
            "POST",
            "/meetings/{meeting}/items/{item}/opinions",
            Some("stance=agree"),
            MeetingMember,
            409,
        ),
        // Everyone signed in gets the minutes page: the record, or the form to borrow it.
        page("GET", "/meetings/{held}/minutes", None, SignedIn, 200),
        page("GET", "/meetings/{held}/summary", None, MeetingSee, 200),
        page(
            "POST",
            "/meetings/{held}/summary/receipt",
            Some(""),
            MeetingSee,
            409,
        ),
        page(
            "GET",
            "/meetings/{held}/summary.docx",
            None,
            MeetingSee,
            200,
        ),
        page("GET", "/meetings/{held}/invite.ics", None, MeetingSee, 200),
        page("GET", "/borrow-requests", None, SignedIn, 200),
        page("GET", "/tasks", None, SignedIn, 200),
        page("GET", "/tasks.csv", None, SignedIn, 200),
        page("GET", "/tasks/{task}", None, MeetingOffice, 200),
        page("GET", "/duties", None, SignedIn, 200),
        page("GET", "/emergencies", None, SignedIn, 200),
        page("GET", "/circulations", None, SignedIn, 200),
        page("GET", "/circulations/{circulation}", None, MeetingSee, 200),
        page("GET", "/notifications", None, SignedIn, 200),
        page("GET", "/audit", None, Discipline, 200),
        page("GET", "/audit/verify", None, Discipline, 200),
        page("GET", "/audit/permissions", None, Discipline, 200),
        page("POST", "/audit/checkpoints", Some(""), Discipline, 200),
    ]
}

fn expected(route: &Route, who: Who) -> u16 {
    let is_page =
        !route.path.starts_with("/api/") && route.path != "/healthz" && route.path != "/readyz";
    if who == Who::Anonymous && !matches!(route.allow, Allow::Anyone) {
        return if is_page { 303 } else { 401 };
    }
    let allowed = match route.allow {
        Allow::Anyone | Allow::SignedIn => true,
        Allow::NotAdmin => who != Who::Role("admin"),
        Allow::Admin => who == Who::Role("admin"),
        Allow::Discipline => who == Who::Role("discipline"),
        Allow::AdminOrMember => matches!(who, Who::Role("admin") | Who::Member),
        Allow::OfficeOrMember => matches!(who, Who::Role("office") | Who::Member),
        Allow::Proposer => matches!(
            who,
            Who::Member | Who::Role("leader" | "director" | "section_head" | "staff")
        ),
        Allow::Office | Allow::TopicOffice => who == Who::Role("office"),
        Allow::TopicNobody | Allow::MeetingNobody => false,
        Allow::MeetingSee => matches!(who, Who::Role("office") | Who::Member),
        Allow::MeetingOffice => who == Who::Role("office"),
        Allow::MeetingMember | Allow::GroupMember => who == Who::Member,
        Allow::GroupLeaders => false,
    };
    let sees = matches!(who, Who::Role("office") | Who::Member);
    match (allowed, route.allow) {
        (true, _) => route.ok,
        (
            false,
            Allow::TopicNobody
            | Allow::TopicOffice
            | Allow::MeetingNobody
            | Allow::MeetingOffice
            | Allow::MeetingMember,
        ) if sees => 403,
        (false, Allow::GroupLeaders) if who == Who::Member => 403,
        (
            false,
            Allow::AdminOrMember
            | Allow::OfficeOrMember
            | Allow::TopicNobody
            | Allow::TopicOffice
            | Allow::MeetingSee
            | Allow::MeetingNobody
            | Allow::MeetingOffice
            | Allow::MeetingMember
            | Allow::GroupLeaders,
        ) => 404,
        (false, _) => 403,
    }
}

/// What the matrix needs to put a complete topic on a meeting of its group.
struct Scheduler<'a> {
    app: &'a TestApp,
    group: Uuid,
    proposer: &'a str,
    leader: Uuid,
    leader_token: &'a str,
    mishu: Uuid,
    mishu_token: &'a str,
    shuji_token: &'a str,
}

impl Scheduler<'_> {
    /// A topic signed off and submitted, on the agenda of a meeting on `day`: (meeting, item).
    async fn meeting_with(&self, title: &str, day: &str) -> (String, String) {
        let app = self.app;
        let (_, topic) = app
            .api("POST", "/api/v1/topics", Some(self.proposer),
                 Some(json!({"party_group_id": self.group, "title": title, "category": 12, "content": "内容",
                             "matters_to_decide": "事项", "consultation_opinions": "意见",
                             "responsible_user_id": self.leader})))
            .await;
        let topic = topic["topic_id"].as_str().unwrap().to_owned();
        for (token, action) in [(self.leader_token, "sign-off"), (self.proposer, "submit")] {
            let path = format!("/api/v1/topics/{topic}/{action}");
            let (status, body) = app.api("POST", &path, Some(token), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, m) = app
            .api("POST", "/api/v1/meetings", Some(self.mishu_token),
                 Some(json!({"party_group_id": self.group, "starts_at": format!("{day}T09:00:00+08:00"),
                             "place": "会议室", "secretary_id": self.mishu})))
            .await;
        let meeting = m["id"].as_str().expect("a meeting").to_owned();
        let path = format!("/api/v1/meetings/{meeting}/agenda");
        let body = json!({"topic_id": topic});
        let (status, added) = app
            .api("POST", &path, Some(self.shuji_token), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        (meeting, added["item_id"].as_str().unwrap().to_owned())
    }
}

#[tokio::test]
async fn authorization_matrix_of_every_route() {
    let app = TestApp::new().await;
    let group = app.party_group("矩阵党组").await;
    let (user, user_token) = app.user("target", &["staff"]).await;
    let (spare, _) = app.user("spare", &["staff"]).await;
    let (leader, _) = app.user("fenguan", &["leader"]).await;
    let (_, proposer) = app.user("proposer", &["staff"]).await;
    let (_, created) = app
        .api("POST", "/api/v1/topics", Some(&proposer),
             Some(json!({"party_group_id": group, "title": "矩阵议题", "category": 12, "responsible_user_id": leader})))
        .await;
    let topic = created["topic_id"].as_str().expect("a topic").to_owned();
    let (status, uploaded) = app
        .upload(
            &format!("/api/v1/topics/{topic}/materials"),
            &proposer,
            "a.pdf",
            b"%PDF-1.4 x",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let material = uploaded["material_id"].as_str().unwrap().to_owned();
    let admin = app.admin().await;
    // A meeting of the group with one item, chaired by a 书记 and kept by a secretary of 综合科
    // who are not among the actors, so every actor is judged by role and membership alone.
    let (shuji, shuji_token) = app.user("mx.shuji", &["leader"]).await;
    let (status, _) = app
        .api(
            "POST",
            &format!("/api/v1/party-groups/{group}/members"),
            Some(&admin),
            Some(json!({"user_id": shuji, "position": "secretary"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (mishu, mishu_token) = app.user("mx.mishu", &["office"]).await;
    let leader_token = app.login("fenguan", crate::support::PASSWORD).await;
    let scheduler = Scheduler {
        app: &app,
        group,
        proposer: &proposer,
        leader,
        leader_token: &leader_token,
        mishu,
        mishu_token: &mishu_token,
        shuji_token: &shuji_token,
    };
    let (meeting, item) = scheduler.meeting_with("上会议题", "2030-01-09").await;
    // A held meeting for the record: its one item deferred, closed by its chair.
    let (held, held_item) = scheduler.meeting_with("已议议题", "2030-01-08").await;
    for (token, method, path, body) in [
        (&mishu_token, "POST", "notice".to_owned(), None),
        (
            &mishu_token,
            "PUT",
            format!("attendance/{shuji}"),
            Some(json!({"present": true})),
        ),
        (&shuji_token, "POST", "open".to_owned(), None),
        (
            &shuji_token,
            "POST",
            format!("items/{held_item}/start"),
            None,
        ),
        (
            &shuji_token,
            "POST",
            format!("items/{held_item}/outcome"),
            Some(json!({"outcome": "deferred", "reason": "再议"})),
        ),
        (&shuji_token, "POST", "close".to_owned(), None),
    ] {
        let (status, answer) = app
            .api(
                method,
                &format!("/api/v1/meetings/{held}/{path}"),
                Some(token),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
    // A held meeting whose one item was decided by a secret ballot: its ballot box.
    let (voted, voted_item) = scheduler.meeting_with("表决议题", "2030-01-07").await;
    let on_item = |action: &str| format!("items/{voted_item}/{action}");
    for (token, method, path, body) in [
        (&mishu_token, "POST", "notice".to_owned(), None),
        (
            &mishu_token,
            "PUT",
            format!("attendance/{shuji}"),
            Some(json!({"present": true})),
        ),
        (&shuji_token, "POST", "open".to_owned(), None),
        (&shuji_token, "POST", on_item("start"), None),
        (
            &shuji_token,
            "POST",
            on_item("opinions"),
            Some(json!({"stance": "agree"})),
        ),
        (
            &shuji_token,
            "POST",
            on_item("vote"),
            Some(json!({"method": "secret"})),
        ),
        (
            &shuji_token,
            "POST",
            on_item("ballots"),
            Some(json!({"choice": "yes"})),
        ),
        (&shuji_token, "POST", on_item("vote/close"), None),
        (
            &shuji_token,
            "POST",
            on_item("outcome"),
            Some(json!({"outcome": "announce"})),
        ),
        (&shuji_token, "POST", "close".to_owned(), None),
    ] {
        let (status, answer) = app
            .api(
                method,
                &format!("/api/v1/meetings/{voted}/{path}"),
                Some(token),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
    // A signed checkpoint to download.
    let (_, jijian) = app.user("mx.jijian", &["discipline"]).await;
    let (status, signed) = app
        .api("POST", "/api/v1/audit/checkpoints", Some(&jijian), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{signed}");
    let checkpoint: String = sqlx::query_scalar(
        "select checkpoint_id::text from audit_checkpoint order by created_at desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // A borrow request of a non-member, a task led by them, a circulated document.
    let (status, asked) = app
        .api(
            "POST",
            &format!("/api/v1/meetings/{held}/minutes/borrow-requests"),
            Some(&user_token),
            Some(json!({"reason": "查阅", "days": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    let borrow = asked["id"].as_str().unwrap().to_owned();
    let task = Uuid::now_v7().to_string();
    sqlx::query(
        "insert into task (task_id, item_id, lead_user_id, description, due_on, created_by)
         values ($1::uuid, $2::uuid, $3, '落实', date '2030-02-01', $3)",
    )
    .bind(&task)
    .bind(&held_item)
    .bind(user)
    .execute(&app.pool)
    .await
    .unwrap();
    let (status, circulated) = app
        .api(
            "POST",
            &format!("/api/v1/party-groups/{group}/circulations"),
            Some(&mishu_token),
            Some(json!({"title": "传阅文件", "body": "正文"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{circulated}");
    let circulation = circulated["id"].as_str().unwrap().to_owned();
    let admin_id: Uuid = sqlx::query_scalar("select user_id from app_user where login = 'admin'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (_, spare_section) = app
        .api(
            "POST",
            "/api/v1/sections",
            Some(&admin),
            Some(json!({"name": "备用科室", "kind": "other"})),
        )
        .await;
    let spare_section = spare_section["section_id"].as_str().unwrap().to_owned();
    let roster = "姓名,登录名,科室,角色\r\n矩阵,matrix.person,,科室工作人员\r\n";
    let (status, uploaded) = app
        .upload(
            "/api/v1/roster/imports",
            &admin,
            "matrix.csv",
            roster.as_bytes(),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    let import = uploaded["import_id"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for who in ACTORS {
        let token = match who {
            Who::Anonymous => None,
            Who::Role("admin") => Some(admin.clone()),
            Who::Role(role) => Some(app.user(&format!("as.{role}"), &[role]).await.1),
            Who::Member => {
                let (id, token) = app.user("as.member", &["staff"]).await;
                let (status, _) = app
                    .api(
                        "POST",
                        &format!("/api/v1/party-groups/{group}/members"),
                        Some(&admin),
                        Some(json!({"user_id": id, "position": "member"})),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED);
                Some(token)
            }
        };
        tokens.push((who, token));
    }

    let mut n = 0;
    let mut failures = Vec::new();
    for route in routes() {
        for (who, token) in &tokens {
            n += 1;
            // The spare user is a current member before every call that changes membership.
            if route.path.contains("{spare}") || route.path.ends_with("/members") {
                ensure_member(&app, &admin, group, spare).await;
                if route.path.ends_with("/members") {
                    end_member(&app, &admin, group, spare).await;
                }
            }
            let fill = |s: &str| {
                s.replace("{group}", &group.to_string())
                    .replace("{user}", &user.to_string())
                    .replace("{spare}", &spare.to_string())
                    .replace("{leader}", &leader.to_string())
                    .replace("{topic}", &topic)
                    .replace("{material}", &material)
                    .replace("{meeting}", &meeting)
                    .replace("{item}", &item)
                    .replace("{mishu}", &mishu.to_string())
                    .replace("{borrow}", &borrow)
                    .replace("{held_item}", &held_item)
                    .replace("{held}", &held)
                    .replace("{voted_item}", &voted_item)
                    .replace("{voted}", &voted)
                    .replace("{task}", &task)
                    .replace("{circulation}", &circulation)
                    .replace("{checkpoint}", &checkpoint)
                    .replace("{admin}", &admin_id.to_string())
                    .replace("{section}", &spare_section)
                    .replace("{import}", &import)
                    .replace("{n}", &n.to_string())
            };
            let path = fill(route.path);
            let status = if path.ends_with("/events") {
                // An event stream stays open: only its status is read.
                let mut req = axum::http::Request::builder().uri(&path);
                if let Some(t) = token {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                app.send(req.body(axum::body::Body::empty()).unwrap())
                    .await
                    .status()
            } else if let Some(form) = route.form {
                app.page(route.method, &path, token.as_deref(), Some(&fill(form)))
                    .await
                    .status()
            } else if route.body.is_some()
                || route.path.starts_with("/api/")
                || route.path.ends_with("z")
            {
                let body = route
                    .body
                    .as_ref()
                    .map(|b| serde_json::from_str(&fill(&b.to_string())).unwrap());
                app.api(route.method, &path, token.as_deref(), body).await.0
            } else {
                app.page(route.method, &path, token.as_deref(), None)
                    .await
                    .status()
            };
            let want = expected(&route, *who);
            if status.as_u16() != want {
                failures.push(format!(
                    "{} {} as {who:?}: got {status}, want {want}",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn ensure_member(app: &TestApp, admin: &str, group: Uuid, user: Uuid) {
    let (_, detail) = app
        .api(
            "GET",
            &format!("/api/v1/party-groups/{group}"),
            Some(admin),
            None,
        )
        .await;
    let current = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["user_id"] == user.to_string());
    if !current {
        let (status, _) = app
            .api(
                "POST",
                &format!("/api/v1/party-groups/{group}/members"),
                Some(admin),
                Some(json!({"user_id": user, "position": "member"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
}

async fn end_member(app: &TestApp, admin: &str, group: Uuid, user: Uuid) {
    let (status, _) = app
        .api(
            "DELETE",
            &format!("/api/v1/party-groups/{group}/members/{user}"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// Every documented API operation is in the matrix above, and every API route of the matrix is
/// documented: the OpenAPI document covers the whole API.
#[tokio::test]
async fn openapi_documents_exactly_the_api_routes() {
    let app = TestApp::new().await;
    let (status, doc) = app.api("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let normalise = |p: &str| {
        // Within a meeting the person is the second parameter.
        let p = if p.starts_with("/api/v1/meetings/") {
            p.replace("{user}", "{user_id}")
        } else {
            p.to_owned()
        };
        p.replace("{meeting}", "{id}")
            .replace("finance_opinion", "{kind}")
            .replace("{item}", "{item_id}")
            .replace("{group}", "{id}")
            .replace("{user}", "{id}")
            .replace("{topic}", "{id}")
            .replace("{material}", "{material_id}")
            .replace("{spare}", "{user_id}")
            .replace("{borrow}", "{id}")
            .replace("{held_item}", "{item_id}")
            .replace("{held}", "{id}")
            .replace("{voted_item}", "{item_id}")
            .replace("{voted}", "{id}")
            .replace("{task}", "{id}")
            .replace("{circulation}", "{id}")
            .replace("{checkpoint}", "{id}")
            .replace("{admin}", "{id}")
            .replace("{section}", "{id}")
            .replace("{import}", "{id}")
            .replace("/roster/template/people", "/roster/template/{list}")
            .replace("/roster/export/members", "/roster/export/{list}")
    };
    let mut tested: BTreeSet<String> = routes()
        .iter()
        .filter(|r| (r.path.starts_with("/api/v1/") || r.path.ends_with('z')) && r.form.is_none())
        .map(|r| {
            format!(
                "{} {}",
                r.method,
                normalise(r.path.split('?').next().unwrap())
            )
        })
        .collect();
    // Signing in and out are exercised by the session tests.
    tested.insert("POST /api/v1/session".into());
    tested.insert("DELETE /api/v1/session".into());
    assert_eq!(documented, tested);
    // Every schema a route refers to is in the document (a typed id, say, is a UUID string).
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(&r);
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
}

fn collect_refs(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => into.push(r.to_owned()),
                    _ => collect_refs(v, into),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}
