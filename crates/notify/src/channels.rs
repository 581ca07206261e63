//! The channels a notification goes out on: e-mail over SMTP (lettre, STARTTLS when
//! asked), a generic webhook (JSON, HMAC-SHA256 signature of the body, the notification
//! id as idempotency header) and the WeCom / DingTalk / Feishu group robots (markdown or
//! text, Chinese by default, the person mentioned by their chat user id, a link to the
//! dashboard). Every message carries the notification id, so a receiver can drop a
//! repeat.

use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reception_domain::notification::Channel;
use reception_domain::staff::StaffMember;
use serde_json::json;
use sha2::Sha256;

use crate::outbox::Notification;

/// The header that carries the notification id on every channel.
pub const ID_HEADER: &str = "X-Reception-Notification-Id";
/// The webhook's signature header: `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub const SIGNATURE_HEADER: &str = "X-Reception-Signature";

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on localhost or a test receiver).
    None,
    /// STARTTLS, required (the submission port 587).
    StartTls,
}

/// E-mail settings.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// `From:` address (`Reception <reception@example.com>`).
    pub from: String,
}

/// A webhook endpoint (the generic one, or a group robot).
#[derive(Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// Signs the body (generic webhook only).
    pub secret: Option<String>,
}

/// Every channel's settings; a channel without settings is skipped.
#[derive(Clone, Default)]
pub struct ChannelsConfig {
    pub smtp: Option<SmtpConfig>,
    pub webhook: Option<WebhookConfig>,
    pub wecom: Option<WebhookConfig>,
    pub dingtalk: Option<WebhookConfig>,
    pub feishu: Option<WebhookConfig>,
    /// The dashboard's base URL (`https://reception.example.com/`) for links.
    pub dashboard_url: Option<String>,
    /// Per attempt.
    pub timeout: Duration,
}

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Not attempted, and it never will be (no settings, no address): skipped.
    Unaddressable(String),
    /// Tried and failed: retried with back-off.
    Failed(String),
}

/// The senders, built once from [`ChannelsConfig`].
pub struct Channels {
    cfg: ChannelsConfig,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    http: reqwest::Client,
}

impl Channels {
    pub fn new(cfg: ChannelsConfig) -> Result<Channels, String> {
        let smtp = match &cfg.smtp {
            None => None,
            Some(s) => {
                let mut b = match s.security {
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                    }
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                            .map_err(|e| format!("SMTP STARTTLS settings for {}: {e}", s.host))?
                    }
                };
                b = b.port(s.port).timeout(Some(cfg.timeout));
                if let Some((user, password)) = &s.credentials {
                    b = b.credentials(Credentials::new(user.clone(), password.clone()));
                }
                s.from
                    .parse::<Mailbox>()
                    .map_err(|e| format!("the SMTP from address: {e}"))?;
                Some(b.build())
            }
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Channels { cfg, smtp, http })
    }

    /// Whether `channel` has settings.
    pub fn configured(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.smtp.is_some(),
            Channel::Webhook => self.cfg.webhook.is_some(),
            Channel::Wecom => self.cfg.wecom.is_some(),
            Channel::Dingtalk => self.cfg.dingtalk.is_some(),
            Channel::Feishu => self.cfg.feishu.is_some(),
        }
    }

    /// The link to the dashboard page of `n`.
    fn link(&self, n: &Notification) -> String {
        match &self.cfg.dashboard_url {
            Some(base) => format!("{}/{}", base.trim_end_matches('/'), n.link),
            None => n.link.clone(),
        }
    }

    /// Whether `to` can be reached on `channel` at all.
    pub fn addressable(&self, channel: Channel, to: &StaffMember) -> Result<(), SendError> {
        if !self.configured(channel) {
            return Err(SendError::Unaddressable(format!(
                "{} is not configured",
                channel.as_str()
            )));
        }
        if channel == Channel::Email && to.contacts.email.is_none() {
            return Err(SendError::Unaddressable("no e-mail address".into()));
        }
        Ok(())
    }

    /// Sends `n` to `to` on `channel`.
    pub async fn send(
        &self,
        channel: Channel,
        n: &Notification,
        to: &StaffMember,
    ) -> Result<(), SendError> {
        self.addressable(channel, to)?;
        match channel {
            Channel::Email => self.email(n, to).await,
            Channel::Webhook => self.webhook(n, to).await,
            Channel::Wecom | Channel::Dingtalk | Channel::Feishu => {
                self.robot(channel, n, to).await
            }
        }
    }

    async fn email(&self, n: &Notification, to: &StaffMember) -> Result<(), SendError> {
        let text = format!(
            "{}\n\n{}\n\n{}: {}\n",
            n.body,
            self.link(n),
            id_label(n),
            n.id
        );
        self.mail(to, &n.title, &n.id, text).await
    }

    /// A person's daily digest: every item in one e-mail, each with its link and id;
    /// the message's own id is `digest-<first item's id>`.
    pub async fn digest(&self, items: &[&Notification], to: &StaffMember) -> Result<(), SendError> {
        let Some(first) = items.first() else {
            return Ok(());
        };
        self.addressable(Channel::Email, to)?;
        let zh = matches!(first.lang, reception_domain::staff::Lang::ZhCn);
        let title = if zh {
            format!("每日汇总：{} 条通知", items.len())
        } else {
            format!("Daily digest: {} notifications", items.len())
        };
        let mut text = String::new();
        for n in items {
            text.push_str(&format!(
                "■ {}\n{}\n{}\n{}: {}\n\n",
                n.title,
                n.body,
                self.link(n),
                id_label(n),
                n.id
            ));
        }
        self.mail(to, &title, &format!("digest-{}", first.id), text)
            .await
    }

    async fn mail(
        &self,
        to: &StaffMember,
        subject: &str,
        id: &str,
        text: String,
    ) -> Result<(), SendError> {
        let (Some(smtp), Some(cfg)) = (&self.smtp, &self.cfg.smtp) else {
            return Err(SendError::Unaddressable("e-mail is not configured".into()));
        };
        let address = to.contacts.email.as_deref().unwrap_or_default();
        let rcpt: Mailbox = format!("{} <{address}>", to.name.as_str())
            .parse()
            .or_else(|_| address.parse())
            .map_err(|e| SendError::Unaddressable(format!("the e-mail address: {e}")))?;
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| SendError::Unaddressable(format!("from: {e}")))?;
        let msg = Message::builder()
            .from(from)
            .to(rcpt)
            .subject(subject)
            .message_id(Some(format!("<{id}@reception>")))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(ID_HEADER),
                id.to_string(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| SendError::Failed(format!("building the message: {e}")))?;
        smtp.send(msg)
            .await
            .map(|_| ())
            .map_err(|e| SendError::Failed(format!("SMTP: {e}")))
    }

    async fn webhook(&self, n: &Notification, to: &StaffMember) -> Result<(), SendError> {
        let Some(cfg) = &self.cfg.webhook else {
            return Err(SendError::Unaddressable(
                "the webhook is not configured".into(),
            ));
        };
        let body = serde_json::to_vec(&json!({
            "id": n.id,
            "kind": n.kind,
            "recipient": {"id": to.id, "name": to.name, "lang": to.lang},
            "title": n.title,
            "body": n.body,
            "link": self.link(n),
            "urgent": n.urgent,
            "at": n.at,
            "visit_id": n.visit,
            "complaint_id": n.complaint,
        }))
        .map_err(|e| SendError::Failed(e.to_string()))?;
        let mut req = self
            .http
            .post(&cfg.url)
            .header("content-type", "application/json")
            .header("Idempotency-Key", &n.id)
            .header(ID_HEADER, &n.id);
        if let Some(secret) = &cfg.secret {
            req = req.header(SIGNATURE_HEADER, format!("sha256={}", sign(secret, &body)));
        }
        let res = req
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Failed(format!("webhook: {}", e.without_url())))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(SendError::Failed(format!(
                "webhook answered {}",
                res.status()
            )))
        }
    }

    async fn robot(
        &self,
        channel: Channel,
        n: &Notification,
        to: &StaffMember,
    ) -> Result<(), SendError> {
        let cfg = match channel {
            Channel::Wecom => &self.cfg.wecom,
            Channel::Dingtalk => &self.cfg.dingtalk,
            _ => &self.cfg.feishu,
        };
        let Some(cfg) = cfg else {
            return Err(SendError::Unaddressable(format!(
                "{} is not configured",
                channel.as_str()
            )));
        };
        let body = robot_message(channel, n, to, &self.link(n));
        let res = self
            .http
            .post(&cfg.url)
            .header(ID_HEADER, &n.id)
            .json(&body)
            .send()
            .await
            .map_err(|e| SendError::Failed(format!("{}: {}", channel.as_str(), e.without_url())))?;
        let status = res.status();
        let answer: serde_json::Value = res.json().await.unwrap_or_default();
        // WeCom and DingTalk answer {"errcode": 0}, Feishu {"code": 0}
        let code = answer
            .get("errcode")
            .or_else(|| answer.get("code"))
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        if status.is_success() && code == 0 {
            Ok(())
        } else {
            Err(SendError::Failed(format!(
                "{} answered {status}, code {code}",
                channel.as_str()
            )))
        }
    }
}

fn id_label(n: &Notification) -> &'static str {
    match n.lang {
        reception_domain::staff::Lang::ZhCn => "通知编号",
        reception_domain::staff::Lang::En => "Notification id",
    }
}

/// `hex(HMAC-SHA256(secret, body))`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The group robot's message: WeCom markdown with `<@userid>`, DingTalk markdown with
/// `at.atUserIds`, Feishu text with `<at user_id>`.
pub fn robot_message(
    channel: Channel,
    n: &Notification,
    to: &StaffMember,
    link: &str,
) -> serde_json::Value {
    let more = match n.lang {
        reception_domain::staff::Lang::ZhCn => "查看详情",
        reception_domain::staff::Lang::En => "Open",
    };
    let c = &to.contacts;
    match channel {
        Channel::Wecom => {
            let mention = c
                .wecom
                .as_ref()
                .map(|u| format!("\n<@{u}>"))
                .unwrap_or_default();
            json!({"msgtype": "markdown", "markdown": {
                "content": format!("**{}**\n{}\n[{more}]({link}){mention}", n.title, n.body)}})
        }
        Channel::Dingtalk => {
            let mention = c
                .dingtalk
                .as_ref()
                .map(|u| format!(" @{u}"))
                .unwrap_or_default();
            json!({"msgtype": "markdown",
                "markdown": {"title": n.title, "text": format!("### {}\n\n{}\n\n[{more}]({link}){mention}", n.title, n.body)},
                "at": {"atUserIds": c.dingtalk.iter().collect::<Vec<_>>(), "isAtAll": false}})
        }
        _ => {
            let mention = c
                .feishu
                .as_ref()
                .map(|u| format!(" <at user_id=\"{u}\"></at>"))
                .unwrap_or_default();
            json!({"msg_type": "text", "content": {
                "text": format!("{}\n{}\n{more}: {link}{mention}", n.title, n.body)}})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reception_domain::notification::FactKind;
    use reception_domain::staff::Lang;

    fn member() -> StaffMember {
        serde_json::from_value(json!({"id": "li.na", "name": "李娜",
            "contacts": {"wecom": "LiNa", "dingtalk": "dt-9", "feishu": "ou_7"}}))
        .unwrap()
    }

    fn notification(lang: Lang) -> Notification {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00").unwrap();
        Notification {
            id: "ev-1.visitor_signed_in.li.na".into(),
            kind: FactKind::VisitorSignedIn,
            recipient: "li.na".into(),
            title: "访客已到前台签到".into(),
            body: "王磊 已在前台签到".into(),
            link: "#/board".into(),
            visit: None,
            complaint: None,
            at,
            created_at: at,
            urgent: true,
            digest: false,
            lang,
            deliveries: vec![],
        }
    }

    #[test]
    fn robot_messages_follow_each_platforms_format_and_mention_the_person() {
        let n = notification(Lang::ZhCn);
        let link = "https://r.example.com/#/board";
        let w = robot_message(Channel::Wecom, &n, &member(), link);
        assert_eq!(w["msgtype"], "markdown");
        let content = w["markdown"]["content"].as_str().unwrap();
        assert!(content.starts_with("**访客已到前台签到**") && content.contains("<@LiNa>"));
        assert!(content.contains(&format!("[查看详情]({link})")));
        let d = robot_message(Channel::Dingtalk, &n, &member(), link);
        assert_eq!(d["msgtype"], "markdown");
        assert_eq!(d["markdown"]["title"], "访客已到前台签到");
        assert_eq!(d["at"]["atUserIds"], json!(["dt-9"]));
        assert_eq!(d["at"]["isAtAll"], false);
        let f = robot_message(Channel::Feishu, &notification(Lang::En), &member(), link);
        assert_eq!(f["msg_type"], "text");
        let text = f["content"]["text"].as_str().unwrap();
        assert!(text.contains("<at user_id=\"ou_7\"></at>") && text.contains("Open: "));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
