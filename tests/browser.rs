//! A whole meeting in headless Chromium, through the pages a person uses: 综合科 schedules it
//! with the form, the 书记 builds the agenda, 综合科 issues the notice and records arrivals,
//! the 书记 opens the meeting and each step of the item, a member on a phone-sized screen states
//! an opinion and votes by secret ballot, and both screens follow each other live (Server-Sent
//! Events) without reloading. Needs `chromium` and `chromium-driver` from the distribution
//! (`.ci/run` installs them); no test tool downloads a browser.

#[allow(dead_code)]
#[path = "api/fixtures.rs"]
mod fixtures;
#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use fixtures::{Room, ok, ready_topic, room};
use support::{PASSWORD, TestApp};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn driver() -> Driver {
    let port = free_port();
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Driver { child, port };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

/// A browser of its own (own profile, own cookies), `width` pixels wide.
async fn browser(d: &Driver, width: u32, profile: &tempfile::TempDir) -> Client {
    browser_with(d, width, profile, &[]).await
}

/// [`browser`] with more command-line switches.
async fn browser_with(
    d: &Driver,
    width: u32,
    profile: &tempfile::TempDir,
    more: &[&str],
) -> Client {
    let mut args = [
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        format!("--window-size={width},900"),
        format!("--user-data-dir={}", profile.path().display()),
    ]
    .to_vec();
    args.extend(more.iter().map(|a| a.to_string()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": "/usr/bin/chromium", "args": args}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("a Chromium session")
}

struct Site {
    base: String,
}

impl Site {
    /// Signs in with a password other than the test users' one (the administrator's).
    async fn sign_in_with(&self, c: &Client, login: &str, password: &str) {
        c.goto(&format!("{}/login", self.base)).await.unwrap();
        c.find(Locator::Id("login"))
            .await
            .unwrap()
            .send_keys(login)
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        submit(c, "登录").await;
        wait_text(c, "退出").await;
    }

    async fn start(app: &TestApp) -> Site {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app.router.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Site { base }
    }

    async fn sign_in(&self, c: &Client, login: &str) {
        self.sign_in_with(c, login, PASSWORD).await;
    }
}

/// Clicks the element at `xpath`; irreversible actions ask for confirmation, which the
/// person gives. A live update may replace the page's meeting part between finding and
/// clicking: then the element is looked up again.
async fn click(c: &Client, xpath: &str) {
    c.execute("window.confirm = () => true;", vec![])
        .await
        .unwrap();
    for _ in 0..20 {
        let element = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("{xpath}: {e}"));
        match element.click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{xpath}: {e}"),
        }
    }
    panic!("{xpath}: kept being replaced");
}

/// Clicks a button that posts a form and waits for the answer's page: the next step must not
/// act on the page being left.
async fn submit(c: &Client, label: &str) {
    c.execute("window.__left = true;", vec![]).await.unwrap();
    click(c, &button(label)).await;
    for _ in 0..100 {
        let arrived = c
            .execute(
                "return window.__left === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if arrived {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{label}: no new page");
}

fn button(label: &str) -> String {
    format!("//button[normalize-space()='{label}' and not(@disabled)]")
}

/// Waits until the page shows `text` — without reloading it: live updates must bring it.
async fn wait_text(c: &Client, text: &str) {
    let mut shown = String::new();
    for _ in 0..100 {
        // Read through a script: the page may be between two documents after a form post.
        shown = c
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if shown.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {text:?}; it shows:\n{shown}");
}

#[tokio::test]
async fn a_whole_meeting_in_the_browser() {
    let app = TestApp::new().await;
    let r: Room = room(&app, 3).await;
    let topic = ready_topic(&app, &r, "关于调整门诊慢特病待遇的请示", json!({})).await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profiles: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let office = browser(&d, 1280, &profiles[0]).await;
    let chair = browser(&d, 1280, &profiles[1]).await;
    let phone = browser(&d, 390, &profiles[2]).await;

    // 综合科 schedules the meeting with the form.
    site.sign_in(&office, "mishu").await;
    office
        .goto(&format!("{}/meetings", site.base))
        .await
        .unwrap();
    office
        .execute(
            "document.getElementById('starts_at').value = '2030-01-10T09:00';",
            vec![],
        )
        .await
        .unwrap();
    office
        .find(Locator::Id("place"))
        .await
        .unwrap()
        .send_keys("三楼会议室")
        .await
        .unwrap();
    submit(&office, "安排会议").await;
    wait_text(&office, "2030年第1次党组会议").await;
    let meeting_url = office.current_url().await.unwrap().to_string();

    // The 书记 puts the complete topic on the agenda.
    site.sign_in(&chair, "shuji").await;
    chair.goto(&meeting_url).await.unwrap();
    submit(&chair, "列入议程").await;
    wait_text(&chair, "待审议").await;

    // 综合科 issues the notice and records who arrives.
    office.goto(&meeting_url).await.unwrap();
    submit(&office, "发出会议通知").await;
    wait_text(&office, "已发通知").await;
    for _ in 0..4 {
        submit(&office, "登记到会").await;
    }
    wait_text(&office, "4 / 应到 4 人").await;

    // The 书记 opens the meeting and starts the item; the page follows the secretary live.
    chair.goto(&meeting_url).await.unwrap();
    wait_text(&chair, "已达三分之二以上").await;
    submit(&chair, "宣布开会").await;
    submit(&chair, "开始审议").await;
    wait_text(&chair, "当前议题:关于调整门诊慢特病待遇的请示").await;

    // A member states an opinion on a phone; the others through the API.
    site.sign_in(&phone, "chengyuan0").await;
    phone.goto(&meeting_url).await.unwrap();
    click(&phone, "//input[@name='stance' and @value='agree']").await;
    submit(&phone, "提交表态").await;
    wait_text(&phone, "已表态:同意").await;
    let item_path = {
        let (_, view) = app
            .api(
                "GET",
                &format!(
                    "/api/v1/meetings/{}",
                    meeting_url.rsplit('/').next().unwrap()
                ),
                Some(&r.shuji.token),
                None,
            )
            .await;
        format!(
            "/api/v1/meetings/{}/items/{}",
            view["meeting_id"].as_str().unwrap(),
            view["current_item"].as_str().unwrap()
        )
    };
    // Issue 17 (7): the chair tries to speak before the others; the refusal goes into the
    // meeting's timeline (read by the discipline group below).
    let early = app
        .api(
            "POST",
            &format!("{item_path}/opinions"),
            Some(&r.shuji.token),
            Some(json!({"stance": "agree"})),
        )
        .await;
    assert_eq!(early.1["rule"], "R-CHAIR-LAST", "{}", early.1);
    for p in &r.members[1..] {
        ok(
            &app,
            &p.token,
            format!("{item_path}/opinions"),
            json!({"stance": "agree"}),
        )
        .await;
    }
    // The chair's console learns it without a reload, then the chair speaks last.
    wait_text(&chair, "尚未表态:0 人").await;
    click(&chair, "//input[@name='stance' and @value='agree']").await;
    submit(&chair, "提交表态").await;
    wait_text(&chair, "已表态:同意").await;
    click(&chair, "//select[@id='method']/option[@value='secret']").await;
    submit(&chair, "开始表决").await;

    // The phone shows the ballot by itself; the member votes.
    submit(&phone, "赞成").await;
    wait_text(&phone, "已表决").await;
    // R-SECRET-BALLOT: the member's screen shows the tracking code of the encrypted ballot.
    wait_text(&phone, "您的选票跟踪码").await;
    for p in &r.members[1..] {
        ok(
            &app,
            &p.token,
            format!("{item_path}/ballots"),
            json!({"choice": "yes"}),
        )
        .await;
    }
    submit(&chair, "赞成").await;
    submit(&chair, "结束表决并计票").await;
    wait_text(&chair, "赞成 4 票,反对 0 票,弃权 0 票").await;
    submit(&chair, "宣布表决结果").await;
    submit(&chair, "宣布散会").await;
    wait_text(&chair, "已结束").await;
    // The member's phone follows to the end.
    wait_text(&phone, "通过").await;
    // The public ballot box tells the member their ballot was counted.
    let ballot_box = format!(
        "{}{}/ballot-box",
        site.base,
        item_path.trim_start_matches("/api/v1")
    );
    phone.goto(&ballot_box).await.unwrap();
    wait_text(&phone, "您的选票已计入").await;
    wait_text(&phone, "核验通过").await;

    // After the meeting, 综合科 finds the minutes to draft on its home page.
    office.goto(&site.base).await.unwrap();
    click(
        &office,
        "//a[starts-with(normalize-space(), '待起草会议记录')]",
    )
    .await;
    wait_text(&office, "起草记录").await;
    office
        .find(Locator::Id("narrative"))
        .await
        .unwrap()
        .send_keys("会议传达学习了上级文件精神。")
        .await
        .unwrap();
    submit(&office, "保存草稿").await;
    wait_text(&office, "会议传达学习了上级文件精神。").await;
    // The 书记 signs and seals them.
    chair.goto(&format!("{meeting_url}/minutes")).await.unwrap();
    submit(&chair, "签署并封存").await;
    wait_text(&chair, "已签署封存").await;

    // 综合科 names the lead of the decision on the summary; the 书记 signs; 综合科 distributes.
    office.goto(&meeting_url).await.unwrap();
    click(&office, "//a[normalize-space()='会议纪要']").await;
    wait_text(&office, "明确牵头落实人").await;
    click(
        &office,
        "//select[@name='lead_user_id']/option[normalize-space()='用户chengyuan0']",
    )
    .await;
    office
        .execute(
            "document.querySelector(\"input[name='due_on']\").value = '2030-03-01';",
            vec![],
        )
        .await
        .unwrap();
    office
        .find(Locator::XPath("//textarea[@name='description']"))
        .await
        .unwrap()
        .send_keys("制定实施细则")
        .await
        .unwrap();
    submit(&office, "添加督办事项").await;
    wait_text(&office, "由用户chengyuan0牵头").await;
    chair.goto(&format!("{meeting_url}/summary")).await.unwrap();
    submit(&chair, "签发会议纪要").await;
    wait_text(&chair, "已签发").await;
    // Issue 17 (8): 综合科 finds the signed summary waiting on its home page.
    office.goto(&site.base).await.unwrap();
    click(
        &office,
        "//a[starts-with(normalize-space(), '待分发会议纪要')]",
    )
    .await;
    submit(&office, "分发会议纪要").await;
    wait_text(&office, "分发与签收").await;

    // The lead finds the task on the board and reports it done.
    phone.goto(&format!("{}/tasks", site.base)).await.unwrap();
    click(
        &phone,
        "//a[normalize-space()='关于调整门诊慢特病待遇的请示']",
    )
    .await;
    wait_text(&phone, "制定实施细则").await;
    phone
        .find(Locator::Id("note"))
        .await
        .unwrap()
        .send_keys("细则已印发")
        .await
        .unwrap();
    click(&phone, "//input[@name='done']").await;
    submit(&phone, "报告进展").await;
    wait_text(&phone, "办结").await;

    // Issue 17 (9): the member signs for the summary with a button; 综合科 sees when.
    phone.goto(&site.base).await.unwrap();
    click(
        &phone,
        "//a[starts-with(normalize-space(), '请签收会议纪要')]",
    )
    .await;
    submit(&phone, "签收").await;
    wait_text(&phone, "您已于").await;
    office.refresh().await.unwrap();
    wait_text(&office, "分发与签收").await;
    let signed_for = office
        .find(Locator::XPath(
            "//tr[td[1][normalize-space()='用户chengyuan0']]/td[3]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        signed_for.contains("年"),
        "the time of the receipt: {signed_for}"
    );

    // Issue 17 (1): the topic shows where it went — its meeting, the outcome, the task.
    office
        .goto(&format!("{}/topics/{topic}", site.base))
        .await
        .unwrap();
    wait_text(&office, "议题去向").await;
    wait_text(&office, "已决定").await;
    wait_text(&office, "督办:制定实施细则").await;
    click(
        &office,
        "//section[@aria-labelledby='course-title']//a[contains(@href, '/meetings/')]",
    )
    .await;
    wait_text(&office, "2030年第1次党组会议").await;

    // Issue 17 (6): the discipline group reads the meeting's timeline in Chinese.
    app.user("jijian", &["discipline"]).await;
    let profile = tempfile::tempdir().unwrap();
    let jijian = browser(&d, 1280, &profile).await;
    site.sign_in(&jijian, "jijian").await;
    jijian
        .goto(&format!(
            "{}/audit?entity={}",
            site.base,
            meeting_url.rsplit('/').next().unwrap()
        ))
        .await
        .unwrap();
    wait_text(&jijian, "宣布开会").await;
    wait_text(&jijian, "签收会议纪要").await;
    wait_text(&jijian, "操作未获准许(依规则)").await;
    wait_text(&jijian, "R-CHAIR-LAST").await;
    let shown = jijian
        .find(Locator::Css("table.audit"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !shown.contains("meeting.open") && !shown.contains("session."),
        "{shown}"
    );
    jijian.close().await.unwrap();

    for c in [office, chair, phone] {
        c.close().await.unwrap();
    }
}

/// Topic intake in the browser: a clerk drafts a topic and sees the prerequisites change as the
/// form changes, uploads a material, is told why it cannot be submitted yet; the 分管 leader
/// signs it off; the clerk submits it; it waits in the 书记's queue.
#[tokio::test]
async fn a_topic_goes_from_draft_to_the_secretarys_queue_in_the_browser() {
    let app = TestApp::new().await;
    let r: Room = room(&app, 2).await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profiles: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let clerk = browser(&d, 1280, &profiles[0]).await;
    let leader = browser(&d, 1280, &profiles[1]).await;
    let shuji = browser(&d, 1280, &profiles[2]).await;

    site.sign_in(&clerk, "keyuan").await;
    clerk.goto(&format!("{}/topics", site.base)).await.unwrap();
    let field = |id: &'static str| clerk.find(Locator::Id(id));
    field("title")
        .await
        .unwrap()
        .send_keys("关于购置业务用车的请示")
        .await
        .unwrap();
    click(&clerk, "//select[@id='category']//option[@value='12']").await;
    click(
        &clerk,
        &format!(
            "//select[@id='responsible_user_id']/option[@value='{}']",
            r.members[0].id
        ),
    )
    .await;
    for (id, text) in [
        ("content", "拟购置业务用车一辆。"),
        ("consultation_opinions", "已征求财务科意见。"),
        ("matters_to_decide", "是否同意购置。"),
    ] {
        field(id).await.unwrap().send_keys(text).await.unwrap();
    }
    // 5000元 is a large spend: the finance opinion appears as the amount is entered.
    field("amount_yuan")
        .await
        .unwrap()
        .send_keys("5000")
        .await
        .unwrap();
    click(&clerk, "//input[@id='title']").await;
    wait_text(&clerk, "财务意见(R-LARGE-SPEND").await;
    field("amount_yuan").await.unwrap().clear().await.unwrap();
    click(&clerk, "//input[@id='title']").await;
    wait_text(&clerk, "本议题无须前置审查").await;
    submit(&clerk, "保存草稿").await;
    wait_text(&clerk, "草稿").await;
    let topic_url = clerk.current_url().await.unwrap().to_string();

    // A material, checked by its content.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("请示.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 request").unwrap();
    field("file")
        .await
        .unwrap()
        .send_keys(&pdf.display().to_string())
        .await
        .unwrap();
    submit(&clerk, "上传").await;
    wait_text(&clerk, "请示.pdf").await;
    // Not yet: the 分管 leader has not signed; the page says why.
    wait_text(&clerk, "暂不能报送,尚缺").await;
    wait_text(&clerk, "须经分管局领导签字同意后方可报送综合科").await;

    // Issue 17 (8): the leader and then the clerk find their step on their home pages.
    site.sign_in(&leader, "chengyuan0").await;
    leader.goto(&site.base).await.unwrap();
    click(
        &leader,
        "//li[@data-waiting='topic_sign_off']/a[contains(normalize-space(), '关于购置业务用车的请示')]",
    )
    .await;
    submit(&leader, "分管领导签字同意").await;
    wait_text(&leader, "已签字同意").await;

    clerk.goto(&site.base).await.unwrap();
    click(
        &clerk,
        "//li[@data-waiting='topic_ready_to_submit']/a[contains(normalize-space(), '关于购置业务用车的请示')]",
    )
    .await;
    assert_eq!(clerk.current_url().await.unwrap().as_str(), topic_url);
    submit(&clerk, "报送综合科").await;
    wait_text(&clerk, "已报送综合科").await;

    site.sign_in(&shuji, "shuji").await;
    shuji.goto(&site.base).await.unwrap();
    click(&shuji, "//li[@data-waiting='topics_to_schedule']/a").await;
    wait_text(&shuji, "待列入议程的议题").await;
    wait_text(&shuji, "关于购置业务用车的请示").await;

    for c in [clerk, leader, shuji] {
        c.close().await.unwrap();
    }
}

/// The number-valued answer of a script.
async fn number(c: &Client, script: &str) -> f64 {
    c.execute(script, vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{script}: not a number"))
}

/// The text of the element the keyboard is on.
async fn focused(c: &Client) -> String {
    c.execute(
        "const e = document.activeElement; \
         return e ? (e.value && e.type === 'radio' ? 'radio:' + e.value : e.textContent.trim()) : '';",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Issue 17, what new users stumbled on at the meeting: states read as states, not refusals
/// (12); a disabled step looks disabled (4); the stance choice is a radio group of large
/// targets on a phone (5); a skip link takes the keyboard to it (11).
#[tokio::test]
async fn the_member_screen_on_a_phone_says_states_plainly_and_has_large_targets() {
    let app = TestApp::new().await;
    let r: Room = room(&app, 3).await;
    let (m, _) = fixtures::item_under_discussion(&app, &r, "关于调整门诊慢特病待遇的请示").await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profiles: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let phone = browser(&d, 390, &profiles[0]).await;
    let chair = browser(&d, 1280, &profiles[1]).await;
    let page = format!("{}/meetings/{m}", site.base);

    site.sign_in(&phone, "chengyuan0").await;
    phone.goto(&page).await.unwrap();
    wait_text(&phone, "我的投票").await;
    let text = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute(
                "return document.querySelector('[data-live]').innerText;",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
        }
    };
    // 12: nobody tried anything, so no rule code opens a sentence.
    let shown = text(&phone).await;
    assert!(shown.contains("该议题没有进行中的表决"), "{shown}");
    assert!(!shown.contains("R-"), "a state, not a refusal: {shown}");

    // 5: each choice a target at least 44 px tall, the radio itself its natural size.
    for value in ["agree", "disagree", "defer"] {
        let label = number(
            &phone,
            &format!(
                "return document.querySelector(\"input[name=stance][value={value}]\")\
                 .closest('label').getBoundingClientRect().height;"
            ),
        )
        .await;
        assert!(label >= 44.0, "{value}: the target is {label} px tall");
        let radio = number(
            &phone,
            &format!(
                "return document.querySelector(\"input[name=stance][value={value}]\")\
                 .getBoundingClientRect().width;"
            ),
        )
        .await;
        assert!(radio <= 32.0, "{value}: the radio is {radio} px wide");
    }
    let (agree, disagree) = (
        number(&phone, "return document.querySelector('input[value=agree]').closest('label').getBoundingClientRect().top;").await,
        number(&phone, "return document.querySelector('input[value=disagree]').closest('label').getBoundingClientRect().top;").await,
    );
    assert!(disagree > agree, "on a phone the choices stack");

    // 11: from the top of the page, the second Tab stop skips to the member's own part and
    // the next one is the first choice.
    phone.goto(&page).await.unwrap();
    wait_text(&phone, "我的投票").await;
    let body = phone.find(Locator::Css("body")).await.unwrap();
    body.send_keys("\u{E004}").await.unwrap();
    assert_eq!(focused(&phone).await, "跳到正文");
    let skip = phone.active_element().await.unwrap();
    skip.send_keys("\u{E004}").await.unwrap();
    assert_eq!(focused(&phone).await, "跳到我的表态和投票");
    phone
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    phone
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    assert_eq!(focused(&phone).await, "radio:agree");

    // 4 and 12 for the chair: the vote cannot open before the others have spoken, and the
    // button says so by its look; the reason reads as the state of the room.
    site.sign_in(&chair, "shuji").await;
    chair.goto(&page).await.unwrap();
    wait_text(&chair, "主持人控制台").await;
    let shown = text(&chair).await;
    assert!(shown.contains("还有"), "{shown}");
    assert!(!shown.contains("R-CHAIR-LAST"), "{shown}");
    let open = chair
        .find(Locator::XPath("//button[normalize-space()='开始表决']"))
        .await
        .unwrap();
    assert!(open.attr("disabled").await.unwrap().is_some());
    let look = chair
        .execute(
            "const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === '开始表决'); \
             const s = getComputedStyle(b); return [s.cursor, s.backgroundColor];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(look[0], "not-allowed", "{look}");
    assert_ne!(look[1], "rgb(179, 38, 30)", "not the accent red: {look}");

    for c in [phone, chair] {
        c.close().await.unwrap();
    }
}

/// Issue 17 (2, 3): bad input in a form shows the field's Chinese label once, and the way back
/// returns to the form with what was typed.
#[tokio::test]
async fn a_refused_form_names_the_field_in_chinese_and_the_way_back_keeps_the_input() {
    let app = TestApp::new().await;
    let _ = room(&app, 1).await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let fill = async |c: &Client| {
        c.goto(&format!("{}/topics", site.base)).await.unwrap();
        c.find(Locator::Id("title"))
            .await
            .unwrap()
            .send_keys("关于购置设备的请示")
            .await
            .unwrap();
        c.find(Locator::Id("amount_yuan"))
            .await
            .unwrap()
            .send_keys("12.345")
            .await
            .unwrap();
    };

    // With the page script: the form comes back with what was typed, the error next to the
    // field, named by its label.
    let profile = tempfile::tempdir().unwrap();
    let clerk = browser(&d, 1280, &profile).await;
    site.sign_in(&clerk, "keyuan").await;
    fill(&clerk).await;
    click(&clerk, &button("保存草稿")).await;
    let note = clerk
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#amount_yuan + p.field-error"))
        .await
        .expect("the error next to its field");
    let said = note.text().await.unwrap();
    assert!(
        said.contains("金额(元)") && said.contains("两位小数"),
        "{said}"
    );
    let amount = clerk.find(Locator::Id("amount_yuan")).await.unwrap();
    assert_eq!(
        amount.prop("value").await.unwrap().as_deref(),
        Some("12.345")
    );
    assert_eq!(
        amount.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    let title = clerk.find(Locator::Id("title")).await.unwrap();
    assert_eq!(
        title.prop("value").await.unwrap().as_deref(),
        Some("关于购置设备的请示"),
        "what was typed is still there"
    );
    clerk.close().await.unwrap();

    // Without it: a page that names the field once, and a link (not a script) back.
    let profile = tempfile::tempdir().unwrap();
    let clerk = browser_with(
        &d,
        1280,
        &profile,
        &["--blink-settings=scriptEnabled=false"],
    )
    .await;
    site.sign_in_with(&clerk, "keyuan", PASSWORD).await;
    fill(&clerk).await;
    clerk
        .find(Locator::XPath(&button("保存草稿")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    clerk
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//h1[normalize-space()='输入有误']"))
        .await
        .unwrap();
    let shown = clerk
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("金额(元)"), "{shown}");
    assert!(
        !shown.contains("amount_yuan"),
        "no English field name: {shown}"
    );
    assert_eq!(shown.matches("两位小数").count(), 1, "said once: {shown}");
    let back = clerk
        .find(Locator::XPath("//a[normalize-space()='返回修改']"))
        .await
        .unwrap();
    let href = back.attr("href").await.unwrap().unwrap_or_default();
    assert_eq!(href, "/topics", "a link to the form, not a script");
    clerk.close().await.unwrap();
}

/// Issue 17 (10): with JavaScript off, a vote asks for confirmation on a page of its own and
/// shows the choice before it is cast.
#[tokio::test]
async fn without_javascript_a_vote_is_confirmed_on_a_page_first() {
    let app = TestApp::new().await;
    let r: Room = room(&app, 3).await;
    let (m, i) = fixtures::item_under_discussion(&app, &r, "关于调整门诊慢特病待遇的请示").await;
    fixtures::agree_and_open_vote(&app, &r, m, i, "secret").await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profile = tempfile::tempdir().unwrap();
    let phone = browser_with(&d, 390, &profile, &["--blink-settings=scriptEnabled=false"]).await;
    let find = |xpath: String| {
        let phone = phone.clone();
        async move {
            phone
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::XPath(&xpath))
                .await
                .unwrap_or_else(|e| panic!("{xpath}: {e}"))
        }
    };
    phone.goto(&format!("{}/login", site.base)).await.unwrap();
    find("//input[@id='login']".into())
        .await
        .send_keys("chengyuan0")
        .await
        .unwrap();
    find("//input[@id='password']".into())
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    find(button("登录")).await.click().await.unwrap();
    find("//button[normalize-space()='退出']".into()).await;
    phone
        .goto(&format!("{}/meetings/{m}", site.base))
        .await
        .unwrap();
    find(button("反对")).await.click().await.unwrap();
    find("//h1[normalize-space()='请确认']".into()).await;
    find("//dd/strong[normalize-space()='反对']".into()).await;
    let cast: i64 = sqlx::query_scalar("select count(*) from vote_cast where item_id = $1")
        .bind(i)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(cast, 0, "not cast on the first tap");
    find(button("确认")).await.click().await.unwrap();
    find("//p[normalize-space()='已表决']".into()).await;
    phone.close().await.unwrap();
}

/// axe-core, vendored (tests/assets/axe-core): run in the page, never fetched.
const AXE: &str = include_str!("assets/axe-core/axe.min.js");

/// The serious and critical WCAG 2 A/AA violations axe finds on the page now, one line each.
async fn accessibility_violations(c: &Client) -> Vec<String> {
    c.execute(AXE, vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}) \
               .then(r => done(r.violations \
                 .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                 .map(v => v.id + ': ' + v.help + ' — ' + \
                      v.nodes.slice(0, 3).map(n => n.html).join(' | ')))) \
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Where the screenshots go: under `target/`, kept by CI as artefacts for a reviewer.
fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Issue 17: every page type, as each role sees it, at desktop and phone width, has no
/// serious or critical accessibility violation (axe-core: labels, contrast AA, names, roles);
/// each is photographed for review.
#[tokio::test]
async fn every_page_type_is_accessible_for_each_role_and_photographed() {
    let app = TestApp::new().await;
    let r: Room = room(&app, 3).await;
    let (m, i) = fixtures::item_under_discussion(&app, &r, "关于调整门诊慢特病待遇的请示").await;
    app.user("jijian", &["discipline"]).await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let topic: uuid::Uuid =
        sqlx::query_scalar("select topic_id from agenda_item where item_id = $1")
            .bind(i)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let topic_page = format!("/topics/{topic}");
    let meeting_page = format!("/meetings/{m}");
    let display = format!("/meetings/{m}/display");
    let sign_in_sheet = format!("/meetings/{m}/sign-in-sheet");
    let paper_ballots = format!("/meetings/{m}/items/{i}/paper-ballots");
    // A roster preview with one row to import and one refused.
    let admin = app.admin().await;
    let roster =
        "姓名,登录名,科室,角色\r\n孙丽,sun.li,,科室工作人员\r\n赵六,zhao.liu,后勤科,厨师\r\n";
    let (_, preview) = app
        .upload(
            "/api/v1/roster/imports",
            &admin,
            "名单.csv",
            roster.as_bytes(),
            &[],
        )
        .await;
    let roster_preview = format!("/roster/imports/{}", preview["import_id"].as_str().unwrap());
    let roles: [(&str, Option<&str>, Vec<&str>); 7] = [
        ("anonymous", None, vec!["/login"]),
        (
            "member",
            Some("chengyuan0"),
            vec![
                "/",
                &meeting_page,
                "/party-groups",
                "/tasks",
                "/notifications",
                "/me/mail",
            ],
        ),
        (
            "chair",
            Some("shuji"),
            vec![&meeting_page, &display, "/topics", "/meetings"],
        ),
        (
            "office",
            Some("mishu"),
            vec![
                "/",
                "/meetings",
                "/topics",
                "/duties",
                "/circulations",
                &topic_page,
                &sign_in_sheet,
                &paper_ballots,
            ],
        ),
        (
            "clerk",
            Some("keyuan"),
            vec!["/topics", &topic_page, "/reviews"],
        ),
        (
            "discipline",
            Some("jijian"),
            vec!["/audit", "/audit/verify", "/audit/permissions"],
        ),
        (
            "admin",
            Some("admin"),
            vec![
                "/users",
                "/sections",
                "/party-groups",
                "/roster",
                &roster_preview,
            ],
        ),
    ];
    let shots = screenshot_dir();
    // The check can fail: an image without a text alternative is a critical violation.
    {
        let profile = tempfile::tempdir().unwrap();
        let c = browser(&d, 1280, &profile).await;
        c.goto(&format!("{}/login", site.base)).await.unwrap();
        c.execute(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/app.css\">');",
            vec![],
        )
        .await
        .unwrap();
        let found = accessibility_violations(&c).await;
        assert!(
            found.iter().any(|v| v.starts_with("image-alt")),
            "{found:?}"
        );
        c.close().await.unwrap();
    }
    let mut problems = Vec::new();
    for width in [1280, 390] {
        for (role, login, pages) in &roles {
            let profile = tempfile::tempdir().unwrap();
            let c = browser(&d, width, &profile).await;
            match login {
                Some("admin") => {
                    site.sign_in_with(&c, "admin", support::ADMIN_PASSWORD)
                        .await
                }
                Some(login) => site.sign_in(&c, login).await,
                None => {}
            }
            for page in pages {
                c.goto(&format!("{}{page}", site.base)).await.unwrap();
                wait_text(&c, "议事").await;
                for v in accessibility_violations(&c).await {
                    problems.push(format!("{role} {page} at {width}px: {v}"));
                }
                // Named by the path, its ids left out: `chair-meetings-id-display-1280.png`.
                let name = page
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        if uuid::Uuid::parse_str(s).is_ok() {
                            "id"
                        } else {
                            s
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("-");
                let name = if name.is_empty() {
                    "home".to_owned()
                } else {
                    name
                };
                let png = c.screenshot().await.unwrap();
                std::fs::write(shots.join(format!("{role}-{name}-{width}.png")), png).unwrap();
            }
            c.close().await.unwrap();
        }
    }
    assert!(
        problems.is_empty(),
        "accessibility:\n{}",
        problems.join("\n")
    );
}

/// Presses `key` on whatever has the keyboard's focus.
async fn press(c: &Client, key: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";
const ARROW_DOWN: &str = "\u{E015}";

/// Issue 17: the member screen works with the keyboard alone, and what has the focus is
/// visibly marked: skip to one's own part, choose a stance, submit it, then vote.
#[tokio::test]
async fn a_member_states_an_opinion_and_votes_with_the_keyboard_alone() {
    let app = TestApp::new().await;
    let r: Room = room(&app, 3).await;
    let (m, i) = fixtures::item_under_discussion(&app, &r, "关于调整门诊慢特病待遇的请示").await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profile = tempfile::tempdir().unwrap();
    let phone = browser(&d, 390, &profile).await;
    site.sign_in(&phone, "chengyuan0").await;
    phone
        .goto(&format!("{}/meetings/{m}", site.base))
        .await
        .unwrap();
    wait_text(&phone, "我的表态").await;
    let body = phone.find(Locator::Css("body")).await.unwrap();
    body.send_keys(TAB).await.unwrap();
    press(&phone, TAB).await;
    assert_eq!(focused(&phone).await, "跳到我的表态和投票");
    let outline = |c: Client| async move {
        c.execute(
            "const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth;",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
    };
    let ring = outline(phone.clone()).await;
    assert!(!ring.starts_with("none"), "the focus is visible: {ring}");
    press(&phone, ENTER).await;
    press(&phone, TAB).await;
    assert_eq!(focused(&phone).await, "radio:agree");
    // Within a radio group the arrows move the choice; 不同意 needs a reason, so go back up.
    press(&phone, ARROW_DOWN).await;
    assert_eq!(focused(&phone).await, "radio:disagree");
    press(&phone, SPACE).await;
    let ring = outline(phone.clone()).await;
    assert!(
        !ring.starts_with("none"),
        "a radio's focus is visible: {ring}"
    );
    press(&phone, TAB).await;
    press(&phone, "应先试点").await;
    press(&phone, TAB).await;
    assert_eq!(focused(&phone).await, "提交表态");
    press(&phone, ENTER).await;
    wait_text(&phone, "已表态:不同意").await;

    // The others speak and the chair opens the vote; the member votes from the keyboard.
    let item = |action: &str| format!("/api/v1/meetings/{m}/items/{i}/{action}");
    for p in r.members[1..].iter().chain([&r.shuji]) {
        ok(&app, &p.token, item("opinions"), json!({"stance": "agree"})).await;
    }
    ok(
        &app,
        &r.shuji.token,
        item("vote"),
        json!({"method": "secret"}),
    )
    .await;
    wait_text(&phone, "我的投票").await;
    phone
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&button("赞成")))
        .await
        .unwrap();
    let body = phone.find(Locator::Css("body")).await.unwrap();
    body.send_keys(TAB).await.unwrap();
    press(&phone, TAB).await;
    press(&phone, ENTER).await;
    // The first control of one's own part is now the first ballot button.
    press(&phone, TAB).await;
    assert_eq!(focused(&phone).await, "赞成");
    press(&phone, ENTER).await;
    // The irreversible step asks first; the member confirms.
    phone.accept_alert().await.unwrap();
    wait_text(&phone, "已表决").await;
    phone.close().await.unwrap();
}

/// Issue 17: the administrator sets up a bureau in the browser — a party group, 综合科, the
/// 书记 and the meeting secretary, the 书记's appointment; the forbidden 分管 area is refused
/// with the rule in Chinese and a way back; the new 书记 signs in and lands on the home page.
#[tokio::test]
async fn the_administrator_sets_up_a_bureau_in_the_browser() {
    let app = TestApp::new().await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profiles: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let admin = browser(&d, 1280, &profiles[0]).await;
    site.sign_in_with(&admin, "admin", support::ADMIN_PASSWORD)
        .await;
    let type_into = async |id: &str, text: &str| {
        let field = admin.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    };

    admin
        .goto(&format!("{}/party-groups", site.base))
        .await
        .unwrap();
    type_into("name", "州医疗保障局党组").await;
    submit(&admin, "新建").await;
    wait_text(&admin, "州医疗保障局党组").await;

    admin
        .goto(&format!("{}/sections", site.base))
        .await
        .unwrap();
    type_into("name", "综合科").await;
    click(&admin, "//select[@id='kind']/option[@value='office']").await;
    submit(&admin, "新增").await;
    wait_text(&admin, "综合科").await;

    for (login, name, role) in [("shuji", "张书记", "leader"), ("mishu", "李秘书", "office")]
    {
        admin.goto(&format!("{}/users", site.base)).await.unwrap();
        type_into("login", login).await;
        type_into("name", name).await;
        type_into("password", PASSWORD).await;
        if role == "office" {
            click(
                &admin,
                "//select[@id='section_id']/option[normalize-space()='综合科']",
            )
            .await;
        }
        click(
            &admin,
            &format!("//input[@name='roles' and @value='{role}']"),
        )
        .await;
        submit(&admin, "新增").await;
        wait_text(&admin, name).await;
    }

    // The appointment: the 书记 given 财务 is refused (R-FOUR-NOT), said in Chinese with the
    // article, and the way back leads to the form.
    admin
        .goto(&format!("{}/party-groups", site.base))
        .await
        .unwrap();
    click(&admin, "//a[normalize-space()='州医疗保障局党组']").await;
    wait_text(&admin, "任命或调整成员").await;
    let group_url = admin.current_url().await.unwrap().to_string();
    click(
        &admin,
        "//select[@id='user_id']/option[contains(normalize-space(), '张书记')]",
    )
    .await;
    click(
        &admin,
        "//select[@id='position']/option[@value='secretary']",
    )
    .await;
    click(&admin, "//input[@name='areas' and @value='finance']").await;
    admin
        .execute("window.__left = true;", vec![])
        .await
        .unwrap();
    click(&admin, &button("保存")).await;
    wait_text(&admin, "第三条").await;
    let refusal = admin
        .execute("return document.body.innerText;", vec![])
        .await
        .unwrap();
    let refusal = refusal.as_str().unwrap();
    assert!(
        refusal.contains("财务") && !refusal.contains("finance"),
        "{refusal}"
    );
    if admin.current_url().await.unwrap().as_str() != group_url {
        click(&admin, "//a[contains(normalize-space(), '返回')]").await;
    }
    wait_text(&admin, "任命或调整成员").await;
    assert_eq!(admin.current_url().await.unwrap().as_str(), group_url);
    click(
        &admin,
        "//select[@id='user_id']/option[contains(normalize-space(), '张书记')]",
    )
    .await;
    click(
        &admin,
        "//select[@id='position']/option[@value='secretary']",
    )
    .await;
    let finance = admin
        .find(Locator::XPath(
            "//input[@name='areas' and @value='finance']",
        ))
        .await
        .unwrap();
    if finance.is_selected().await.unwrap() {
        finance.click().await.unwrap();
    }
    click(&admin, "//input[@name='areas' and @value='party_building']").await;
    submit(&admin, "保存").await;
    wait_text(&admin, "现任成员").await;
    let members = admin
        .find(Locator::XPath(
            "//h2[normalize-space()='现任成员']/following::table[1]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        members.contains("张书记") && members.contains("书记") && members.contains("党建"),
        "{members}"
    );

    // The new 书记 signs in with the password the administrator set.
    let shuji = browser(&d, 390, &profiles[1]).await;
    site.sign_in(&shuji, "shuji").await;
    wait_text(&shuji, "目前没有待办事项").await;
    for c in [admin, shuji] {
        c.close().await.unwrap();
    }
}

/// 综合科's Excel roster through the pages: a file that is not a roster is refused next to the
/// file field (the upload goes by script, with its progress shown), the roster's preview marks
/// the bad row in Chinese, the import creates the rest, and the first-password slips follow.
#[tokio::test]
async fn a_roster_from_excel_is_previewed_and_imported_in_the_browser() {
    let app = TestApp::new().await;
    app.party_group("州医疗保障局党组").await;
    let site = Site::start(&app).await;
    let d = driver().await;
    let profile = tempfile::tempdir().unwrap();
    let admin = browser(&d, 1280, &profile).await;
    site.sign_in_with(&admin, "admin", support::ADMIN_PASSWORD)
        .await;
    let files = tempfile::tempdir().unwrap();
    let not_a_roster = files.path().join("照片.png");
    std::fs::write(&not_a_roster, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let workbook = files.path().join("人员名单.xlsx");
    std::fs::write(
        &workbook,
        support::xlsx(&[
            (
                "人员名单",
                support::rows(&[
                    &["姓名", "登录名", "科室", "角色", "邮箱"],
                    &["张书记", "shuji", "", "局领导", "shuji@example.gov.cn"],
                    &["钱成员", "qian", "", "局领导", ""],
                    &["孙某", "sun", "", "厨师", ""],
                ]),
            ),
            (
                "党组成员",
                support::rows(&[
                    &["党组", "登录名", "职务", "分管领域", "任职日期"],
                    &["州医疗保障局党组", "shuji", "书记", "党建", ""],
                    &["州医疗保障局党组", "qian", "成员", "财务、基金监管", ""],
                ]),
            ),
        ]),
    )
    .unwrap();
    let choose = async |path: &std::path::Path| {
        let input = admin.find(Locator::Id("file")).await.unwrap();
        input.send_keys(&path.display().to_string()).await.unwrap();
    };

    admin.goto(&format!("{}/roster", site.base)).await.unwrap();
    choose(&not_a_roster).await;
    click(&admin, &button("上传并预览")).await;
    wait_text(&admin, "文件不是 Excel 表格").await;
    let alert = admin
        .find(Locator::Css("#error-file[role=alert]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(alert.contains("CSV"), "{alert}");
    assert!(
        admin
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/roster")
    );

    choose(&workbook).await;
    click(&admin, &button("上传并预览")).await;
    wait_text(&admin, "可导入 4 行").await;
    let refused = admin
        .find(Locator::Css("tr.refused"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refused.contains("未知的角色:厨师"), "{refused}");
    submit(&admin, "导入 4 行").await;
    wait_text(&admin, "新建账号 2 个,党组任职 2 项").await;

    admin.goto(&format!("{}/roster", site.base)).await.unwrap();
    wait_text(&admin, "有 2 个导入的账号还没有密码").await;
    submit(&admin, "生成初始密码单").await;
    wait_text(&admin, "已生成 2 个初始密码").await;
    let slip = admin
        .find(Locator::XPath(
            "//article[contains(., 'shuji')]//p[contains(., '初始密码:')]/code",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(slip.chars().count(), 16, "{slip}");
    // The first sign-in leads to choosing one's own password.
    let phone = tempfile::tempdir().unwrap();
    let c = browser(&d, 390, &phone).await;
    site.sign_in_with(&c, "shuji", &slip).await;
    wait_text(&c, "新密码").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/me/password");
    for c in [admin, c] {
        c.close().await.unwrap();
    }
}
