//! Notifications and reminders (issue 20) against real receivers: a real SMTP server
//! (Python's aiosmtpd, started here on a free port, writing each message it accepts
//! as JSON) and a real HTTP server standing in for the webhook and a WeCom robot. The
//! host is told when their visitor signs in, the approver when a request waits, the
//! head of department at once of a major complaint (injected clock), the reception
//! office before the plan is due; quiet hours hold what is not urgent; a failing
//! channel ends in the dead letters, `/metrics` and `/readyz`; a restart sends what
//! was not confirmed, with the same ids.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use chrono::Duration as Span;
use hmac::{Hmac, Mac};
use integration_tests::{t, visit_request, Server};
use reception_domain::Role;
use reception_notify::{ChannelsConfig, NotifyConfig, SmtpConfig, SmtpSecurity, WebhookConfig};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "webhook-secret-for-tests";

/// The SMTP receiver: aiosmtpd writing every accepted message as a JSON file.
const SMTP_RECEIVER: &str = r#"
import asyncio, email, email.policy, itertools, json, os, sys, time
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Handler:
    n = itertools.count()
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        doc = {"rcpt": envelope.rcpt_tos, "from": envelope.mail_from, "subject": str(msg["subject"]),
               "message_id": str(msg["message-id"]), "notification_id": str(msg["x-reception-notification-id"]),
               "body": msg.get_body(("plain",)).get_content()}
        path = os.path.join(out, "%06d.json" % next(self.n))
        with open(path + ".tmp", "w") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        return "250 OK"
c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

/// A running aiosmtpd; killed on drop.
struct Smtp {
    port: u16,
    out: tempfile::TempDir,
    _child: tokio::process::Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Smtp {
    async fn start() -> Smtp {
        use tokio::io::AsyncBufReadExt;
        let out = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut child = tokio::process::Command::new("python3")
            .args(["-c", SMTP_RECEIVER, &port.to_string()])
            .arg(out.path())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd; ops/test.sh does)");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        assert!(
            matches!(ready, Ok(Ok(Some(ref l))) if l == "ready"),
            "aiosmtpd did not start: {ready:?}"
        );
        Smtp {
            port,
            out,
            _child: child,
        }
    }

    /// Every message received so far.
    fn messages(&self) -> Vec<Value> {
        read_messages(self.out.path())
    }
}

fn read_messages(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect()
}

/// One request the HTTP receiver got.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// The webhook and robot stand-in: `/hook` (the generic webhook), `/wecom` (answers
/// like WeCom's robot), each failing with 500 while `failing` is set.
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    failing: Arc<Mutex<bool>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        let state = r.clone();
        let handle = |path: &'static str| {
            let state = state.clone();
            move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    if *state.failing.lock().unwrap() {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "down".to_string());
                    }
                    state.hits.lock().unwrap().push(Hit {
                        path: path.to_string(),
                        headers,
                        body: body.to_vec(),
                    });
                    (
                        StatusCode::OK,
                        json!({"errcode": 0, "errmsg": "ok"}).to_string(),
                    )
                }
            }
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(handle("/hook")))
            .route("/wecom", axum::routing::post(handle("/wecom")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, base)
    }
    fn hits(&self, path: &str) -> Vec<Hit> {
        let hits = self.hits.lock().unwrap();
        hits.iter().filter(|h| h.path == path).cloned().collect()
    }
}

fn config(smtp: Option<&Smtp>, hooks: &str) -> NotifyConfig {
    NotifyConfig {
        channels: ChannelsConfig {
            smtp: smtp.map(|s| SmtpConfig {
                host: "127.0.0.1".into(),
                port: s.port,
                security: SmtpSecurity::None,
                credentials: None,
                from: "接待办 <reception@example.com>".into(),
            }),
            webhook: Some(WebhookConfig {
                url: format!("{hooks}/hook"),
                secret: Some(SECRET.into()),
            }),
            wecom: Some(WebhookConfig {
                url: format!("{hooks}/wecom"),
                secret: None,
            }),
            dingtalk: None,
            feishu: None,
            dashboard_url: Some("https://reception.example.com/".into()),
            timeout: Duration::from_secs(5),
        },
        reminder_interval: Duration::from_millis(200),
        tick: Duration::from_millis(50),
        max_attempts: 3,
        backoff: Duration::from_millis(50),
        ..NotifyConfig::default()
    }
}

/// Waits up to 15 s for `what` to hold (asking over HTTP).
async fn eventually_async<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    for _ in 0..300 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits up to 15 s for `what` to hold.
async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn register_staff(s: &Server) {
    let people = [
        json!({"id": "li.na", "name": "李娜", "department": "east-sales", "roles": ["staff"],
               "contacts": {"email": "li.na@example.com", "wecom": "LiNa", "phone": "+86 138 0000 0001"}}),
        json!({"id": "zhao.min", "name": "赵敏", "department": "east-sales", "roles": ["approver"],
               "contacts": {"email": "zhao.min@example.com"}}),
        json!({"id": "sun.head", "name": "孙总", "department": "east-sales", "roles": ["head"],
               "contacts": {"email": "sun.head@example.com"}}),
        json!({"id": "desk", "name": "Reception Office", "roles": ["reception"], "lang": "en",
               "contacts": {"email": "desk@example.com"}}),
    ];
    for p in people {
        let a = s.post(&s.admin, "/api/v1/staff", p).await;
        assert!(a.status == 200 || a.status == 201, "{:?}", a.body);
    }
}

fn to(m: &Value) -> &str {
    m["rcpt"][0].as_str().unwrap_or("")
}

fn verify_signature(hit: &Hit) {
    let sig = hit.header("x-reception-signature").expect("signed");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&hit.body);
    let expected = format!("sha256={}", hex_of(&mac.finalize().into_bytes()));
    assert_eq!(
        sig, expected,
        "the webhook signature is the HMAC-SHA256 of the body"
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_rules_tell_the_approver_the_host_and_the_head_by_mail_and_webhook() {
    let smtp = Smtp::start().await;
    let (hooks, base) = Receiver::start().await;
    let s = Server::start_notifying(config(Some(&smtp), &base)).await;
    register_staff(&s).await;
    let requester = s.token_for("wang.requester", Role::Requester).await;

    // V22: a request of east-sales waits: its approver is told, in Chinese
    let now = s.clock.now();
    let visit = s
        .post(&requester, "/api/v1/visits", visit_request(now, 7, 2))
        .await
        .expect(201);
    let visit_id = visit["id"].as_str().unwrap().to_string();
    let mail = eventually("the approver's e-mail", || {
        smtp.messages()
            .into_iter()
            .find(|m| to(m) == "zhao.min@example.com")
    })
    .await;
    assert_eq!(mail["subject"], "接待申请待您审批");
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("Huaxin Dealers Ltd"),
        "{mail}"
    );
    assert!(mail["body"]
        .as_str()
        .unwrap()
        .contains(&format!("https://reception.example.com/#/visit/{visit_id}")));
    let id = mail["notification_id"].as_str().unwrap().to_string();
    assert_eq!(mail["message_id"], format!("<{id}@reception>"));
    let hook = eventually("the approver's webhook", || {
        hooks
            .hits("/hook")
            .into_iter()
            .find(|h| h.json()["recipient"]["id"] == "zhao.min")
    })
    .await;
    verify_signature(&hook);
    assert_eq!(hook.header("idempotency-key").as_deref(), Some(id.as_str()));
    assert_eq!(hook.json()["id"], id.as_str());
    assert_eq!(hook.json()["kind"], "request_awaiting_approval");

    // the host, named by directory id, is told when the visitor signs in
    let desk = s.token(Role::Frontdesk).await;
    s.post(
        &desk,
        "/api/v1/frontdesk/sign-in",
        json!({"name": "王磊", "party_size": 2, "reason": "续约洽谈", "host": "li.na"}),
    )
    .await
    .expect(201);
    let mail = eventually("the host's e-mail", || {
        smtp.messages()
            .into_iter()
            .find(|m| to(m) == "li.na@example.com")
    })
    .await;
    assert_eq!(mail["subject"], "访客已到前台签到");
    let body = mail["body"].as_str().unwrap();
    assert!(body.contains("王磊") && body.contains("续约洽谈"), "{body}");
    assert!(
        !body.contains("138"),
        "no phone number in a message: {body}"
    );
    let robot = eventually("the WeCom robot message", || {
        hooks.hits("/wecom").into_iter().next()
    })
    .await;
    let content = robot.json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(robot.json()["msgtype"], "markdown");
    assert!(
        content.contains("访客已到前台签到") && content.contains("<@LiNa>"),
        "{content}"
    );
    assert_eq!(
        robot.header("x-reception-notification-id"),
        mail["notification_id"].as_str().map(str::to_string)
    );

    // C2: a major complaint reaches the head of department within 10 minutes (the
    // injected clock stands still: the notification is decided at the raising instant)
    let reception = s.token(Role::Reception).await;
    let raised_at = s.clock.now();
    s.post(
        &reception,
        "/api/v1/complaints",
        json!({"customer": "Huaxin Dealers Ltd",
        "severity": "major", "category": "service", "description": "rude driver",
        "department": "east-sales"}),
    )
    .await
    .expect(201);
    let mail = eventually("the head's e-mail", || {
        smtp.messages()
            .into_iter()
            .find(|m| to(m) == "sun.head@example.com")
    })
    .await;
    assert_eq!(mail["subject"], "【紧急】重大投诉");
    let head = s.token_for("sun.head", Role::Approver).await;
    let mine = s.get(&head, "/api/v1/me/notifications").await.expect(200);
    let major = mine["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "complaint_major")
        .expect("in the head's own list")
        .clone();
    let decided = t(major["created_at"].as_str().unwrap());
    assert!(
        decided - raised_at <= Span::minutes(10),
        "C2: {decided} vs {raised_at}"
    );
    assert_eq!(major["urgent"], true);
    assert!(major["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["channel"] == "email" && d["status"] == "delivered"));

    // each person sees their own, and marks them read
    let li = s.token_for("li.na", Role::Reception).await;
    let mine = s
        .get(&li, "/api/v1/me/notifications?unread=true")
        .await
        .expect(200);
    assert_eq!(mine["user"], "li.na");
    assert_eq!(mine["unread"], 1);
    let nid = mine["notifications"][0]["id"].as_str().unwrap().to_string();
    let marked = s
        .post(
            &li,
            "/api/v1/me/notifications/read",
            json!({"ids": [nid, "not-mine"]}),
        )
        .await
        .expect(200);
    assert_eq!(marked["marked"], 1);
    let mine = s.get(&li, "/api/v1/me/notifications").await.expect(200);
    assert_eq!(
        (
            mine["unread"].as_u64(),
            mine["notifications"][0]["read"].as_bool()
        ),
        (Some(0), Some(true))
    );
    let bad = s.get(&li, "/api/v1/me/notifications?limit=0").await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (400, Some("limit"))
    );

    // V4: the reception office is reminded 2 h before the first plan draft is due
    // (24 h after the request), in English as the office chose, and not before
    let reminder = |m: &Value| {
        to(m) == "desk@example.com" && m["subject"].as_str().unwrap().contains("plan draft")
    };
    s.clock.set(now + Span::hours(21));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !smtp.messages().iter().any(reminder),
        "too early for the reminder"
    );
    s.clock.set(now + Span::hours(22) + Span::minutes(1));
    let mail = eventually("the plan reminder", || {
        smtp.messages().into_iter().find(|m| reminder(m))
    })
    .await;
    assert_eq!(
        mail["subject"],
        "Reminder: the first plan draft falls due soon"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reminders = smtp.messages().iter().filter(|m| reminder(m)).count();
    assert_eq!(reminders, 1, "one reminder, however many passes see it due");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_a_request_notice_until_morning_but_not_a_major_complaint() {
    let smtp = Smtp::start().await;
    let (_hooks, base) = Receiver::start().await;
    let s = Server::start_notifying(config(Some(&smtp), &base)).await;
    register_staff(&s).await;
    s.clock.set(t("2026-11-02T23:30:00+08:00"));
    let requester = s.token_for("wang.requester", Role::Requester).await;
    s.post(
        &requester,
        "/api/v1/visits",
        visit_request(s.clock.now(), 7, 1),
    )
    .await
    .expect(201);
    let reception = s.token(Role::Reception).await;
    s.post(
        &reception,
        "/api/v1/complaints",
        json!({"customer": "Huaxin Dealers Ltd",
        "severity": "major", "category": "service", "description": "late car",
        "department": "east-sales"}),
    )
    .await
    .expect(201);
    eventually("the urgent complaint at night", || {
        smtp.messages()
            .into_iter()
            .find(|m| to(m) == "sun.head@example.com")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !smtp
            .messages()
            .iter()
            .any(|m| to(m) == "zhao.min@example.com"),
        "held in quiet hours"
    );
    // yet it is in the approver's own list at once
    let approver = s.token_for("zhao.min", Role::Approver).await;
    let mine = s
        .get(&approver, "/api/v1/me/notifications")
        .await
        .expect(200);
    assert_eq!(
        mine["notifications"][0]["kind"],
        "request_awaiting_approval"
    );
    assert_eq!(
        mine["notifications"][0]["deliveries"][0]["next_try"],
        "2026-11-03T07:00:00+08:00"
    );
    s.clock.set(t("2026-11-03T07:00:30+08:00"));
    eventually("the morning e-mail", || {
        smtp.messages()
            .into_iter()
            .find(|m| to(m) == "zhao.min@example.com")
    })
    .await;
    s.stop().await;
}

async fn metrics(s: &Server) -> String {
    s.client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_keeps_failing_dead_letters_shows_on_readyz_and_metrics_and_an_admin_retries(
) {
    let (hooks, base) = Receiver::start().await;
    *hooks.failing.lock().unwrap() = true;
    let s = Server::start_notifying(config(None, &base)).await;
    register_staff(&s).await;
    let desk = s.token(Role::Frontdesk).await;
    s.post(
        &desk,
        "/api/v1/frontdesk/sign-in",
        json!({"name": "王磊", "party_size": 1, "reason": "送货", "host": "李娜"}),
    )
    .await
    .expect(201);
    let dead = eventually_async("a dead letter", || async {
        let d = s.get(&s.admin, "/api/v1/admin/notifications/dead").await;
        let list = d.body["dead"].as_array().cloned().unwrap_or_default();
        (!list.is_empty()).then_some(list)
    })
    .await;
    let n = &dead[0];
    assert_eq!(n["recipient"], "li.na");
    let hook = n["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "webhook")
        .unwrap()
        .clone();
    assert_eq!(
        (hook["status"].as_str(), hook["attempts"].as_u64()),
        (Some("dead"), Some(3))
    );
    assert!(hook["last_error"].as_str().unwrap().contains("500"));
    // e-mail is not configured here: skipped, not dead
    let mail = n["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "email")
        .unwrap()
        .clone();
    assert_eq!(mail["status"], "skipped");
    let text = metrics(&s).await;
    assert!(
        text.contains("reception_notifications_dead_total{channel=\"webhook\"}"),
        "{text}"
    );
    let ready = s
        .client
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    let ready: Value = ready.json().await.unwrap();
    let failing = ready["details"]["notifier"]["failing"].as_array().unwrap();
    assert!(
        failing.iter().any(|c| c == "webhook") && failing.iter().any(|c| c == "wecom"),
        "{ready}"
    );
    // only admin sees dead letters
    let reception = s.token(Role::Reception).await;
    assert_eq!(
        s.get(&reception, "/api/v1/admin/notifications/dead")
            .await
            .status,
        403
    );
    // the channel is back: an admin's retry delivers it, with the same id
    *hooks.failing.lock().unwrap() = false;
    let body = json!({"recipient": "li.na", "id": n["id"]});
    s.post(&s.admin, "/api/v1/admin/notifications/dead/retry", body)
        .await
        .expect(200);
    let hit = eventually("the retried webhook", || {
        hooks.hits("/hook").into_iter().next()
    })
    .await;
    assert_eq!(hit.json()["id"], n["id"]);
    let again = s
        .post(
            &s.admin,
            "/api/v1/admin/notifications/dead/retry",
            json!({"recipient": "li.na", "id": "no-such"}),
        )
        .await;
    assert_eq!(again.status, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_what_was_not_confirmed_is_sent_with_the_same_ids() {
    let (hooks, base) = Receiver::start().await;
    *hooks.failing.lock().unwrap() = true;
    let mut cfg = config(None, &base);
    cfg.max_attempts = 1000;
    let s = Server::start_notifying(cfg.clone()).await;
    register_staff(&s).await;
    let desk = s.token(Role::Frontdesk).await;
    for i in 0..20 {
        s.post(
            &desk,
            "/api/v1/frontdesk/sign-in",
            json!({"name": format!("访客{i}"), "party_size": 1, "reason": "拜访", "host": "li.na"}),
        )
        .await
        .expect(201);
    }
    let li = s.token_for("li.na", Role::Reception).await;
    let planned: BTreeSet<String> = eventually_async("20 notifications", || async {
        let mine = s.get(&li, "/api/v1/me/notifications").await;
        let ids: BTreeSet<String> = mine.body["notifications"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        (ids.len() == 20).then_some(ids)
    })
    .await;
    // the receiver comes back while the server is down; the server starts again
    let (dir, clock, tmp) = s.stop().await;
    *hooks.failing.lock().unwrap() = false;
    let s = Server::start_with(&dir, clock, Some(cfg)).await;
    let got = eventually("every webhook after the restart", || {
        let ids: BTreeSet<String> = hooks
            .hits("/hook")
            .iter()
            .filter_map(|h| h.json()["id"].as_str().map(str::to_string))
            .collect();
        (ids.len() == 20).then_some(ids)
    })
    .await;
    assert_eq!(
        got, planned,
        "every notification, under the id it was planned with"
    );
    for h in hooks.hits("/hook") {
        assert_eq!(
            h.header("idempotency-key"),
            h.json()["id"].as_str().map(str::to_string)
        );
    }
    s.stop().await;
    drop(tmp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_who_chose_the_digest_gets_one_mail_a_day_with_everything_not_urgent() {
    let smtp = Smtp::start().await;
    let (_hooks, base) = Receiver::start().await;
    let s = Server::start_notifying(config(Some(&smtp), &base)).await;
    let manager = json!({"id": "qian.hong", "name": "钱红", "department": "east-sales",
        "roles": ["approver"], "digest": true, "contacts": {"email": "qian.hong@example.com"}});
    s.post(&s.admin, "/api/v1/staff", manager).await.expect(201);
    let requester = s.token_for("wang.requester", Role::Requester).await;
    for _ in 0..2 {
        s.post(
            &requester,
            "/api/v1/visits",
            visit_request(s.clock.now(), 7, 1),
        )
        .await
        .expect(201);
    }
    let mine = s.token_for("qian.hong", Role::Approver).await;
    let list = eventually_async("two notifications", || async {
        let a = s.get(&mine, "/api/v1/me/notifications").await;
        let n = a.body["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (n.len() == 2).then_some(n)
    })
    .await;
    assert!(list
        .iter()
        .all(|n| n["deliveries"][0]["next_try"] == "2026-11-03T08:30:00+08:00"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(smtp.messages().is_empty(), "nothing before the digest time");
    s.clock.set(t("2026-11-03T08:31:00+08:00"));
    let mail = eventually("the digest", || smtp.messages().into_iter().next()).await;
    assert_eq!(mail["subject"], "每日汇总：2 条通知");
    let body = mail["body"].as_str().unwrap();
    for n in &list {
        assert!(
            body.contains(n["id"].as_str().unwrap()),
            "every item's id: {body}"
        );
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(smtp.messages().len(), 1, "one message for the day");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_and_the_rules_are_the_admins_and_bad_input_names_the_field() {
    let s = Server::start().await;
    let reception = s.token(Role::Reception).await;
    let member = json!({"id": "li.na", "name": "李娜", "roles": ["reception"],
        "contacts": {"email": "li.na@example.com", "phone": "+86 138 0000 0001"}});
    let refused = s.post(&reception, "/api/v1/staff", member.clone()).await;
    assert_eq!(refused.status, 403);
    s.post(&s.admin, "/api/v1/staff", member.clone())
        .await
        .expect(201);
    let twice = s.post(&s.admin, "/api/v1/staff", member).await;
    assert_eq!((twice.status, twice.code()), (409, "invalid_state"));
    let bad = s
        .post(
            &s.admin,
            "/api/v1/staff",
            json!({"id": "x", "name": "X", "contacts": {"email": "no-at-sign"}}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (400, Some("contacts.email"))
    );
    let bad = s
        .post(
            &s.admin,
            "/api/v1/staff",
            json!({"id": "Not An Id", "name": "X"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (400, Some("id"))
    );
    // update through the path's id; the body may not name another
    let other = s
        .post(
            &s.admin,
            "/api/v1/staff/li.na",
            json!({"id": "zhang", "name": "张"}),
        )
        .await;
    assert_eq!(
        (other.status, other.body["error"]["field"].as_str()),
        (400, Some("id"))
    );
    s.post(
        &s.admin,
        "/api/v1/staff/li.na",
        json!({"name": "李娜", "roles": ["reception", "head"]}),
    )
    .await
    .expect(200);
    // every role reads the list; contact points only admin
    let list = s.get(&reception, "/api/v1/staff").await.expect(200);
    assert_eq!(list["members"][0]["roles"], json!(["reception", "head"]));
    assert!(list["members"][0].get("contacts").is_none(), "{list}");
    let list = s.get(&s.admin, "/api/v1/staff").await.expect(200);
    assert!(list["members"][0].get("contacts").is_some());
    s.post(&s.admin, "/api/v1/staff/li.na/retire", json!({}))
        .await
        .expect(200);
    let list = s.get(&s.admin, "/api/v1/staff").await.expect(200);
    assert_eq!(list["members"], json!([]));

    // the rules: the default is in force; a new version is published by admin only
    let rules = s
        .get(&reception, "/api/v1/notification-rules")
        .await
        .expect(200);
    assert_eq!(rules["in_force"]["version"], 1);
    let mut next = rules["in_force"].clone();
    next["version"] = json!(2);
    next["reminders"][0]["lead_minutes"] = json!(0);
    let bad = s
        .post(&s.admin, "/api/v1/notification-rules", next.clone())
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (400, Some("reminders[0].lead_minutes"))
    );
    next["reminders"][0]["lead_minutes"] = json!(180);
    assert_eq!(
        s.post(&reception, "/api/v1/notification-rules", next.clone())
            .await
            .status,
        403
    );
    s.post(&s.admin, "/api/v1/notification-rules", next)
        .await
        .expect(201);
    let rules = s
        .get(&reception, "/api/v1/notification-rules")
        .await
        .expect(200);
    assert_eq!(rules["in_force"]["reminders"][0]["lead_minutes"], 180);
    assert_eq!(rules["versions"].as_array().unwrap().len(), 1);
    // without a notifier (a read replica), a person's list is unavailable, not empty
    let mine = s.get(&reception, "/api/v1/me/notifications").await;
    assert_eq!(mine.status, 503);
    s.stop().await;
}
