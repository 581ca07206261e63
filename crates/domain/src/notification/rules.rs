//! The rules of who is told what (issue 20), as versioned data published like the
//! policy: for each kind of fact its recipients, channels and urgency; reminders at a
//! lead time before each visit deadline; the default quiet hours and the digest time.

use chrono::NaiveTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::DomainError;
use crate::staff::{QuietHours, StaffId, StaffRole};

/// The default rules (version 1), `ops/notification-rules-v1.json`.
pub const DEFAULT_RULES_V1_JSON: &str = include_str!("../../../../ops/notification-rules-v1.json");

/// A kind of fact someone is told about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// A visitor signed in at the front desk: their host is told.
    VisitorSignedIn,
    /// A request waits for an approval (V22).
    RequestAwaitingApproval,
    LevelAssigned,
    CarDispatched,
    ComplaintRaised,
    /// A complaint raised as, or escalated to, major (C2: the head within 10 minutes).
    ComplaintMajor,
    ComplaintEscalated,
    ComplaintDeadlineMissed,
    /// An expense over its cap waits for an approver's decision.
    ExpenseOverCap,
    VisitClosed,
    /// A visit deadline falls due within a reminder's lead time.
    DeadlineDueSoon,
    /// A visit deadline passed unmet.
    DeadlineOverdue,
}

impl FactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::VisitorSignedIn => "visitor_signed_in",
            FactKind::RequestAwaitingApproval => "request_awaiting_approval",
            FactKind::LevelAssigned => "level_assigned",
            FactKind::CarDispatched => "car_dispatched",
            FactKind::ComplaintRaised => "complaint_raised",
            FactKind::ComplaintMajor => "complaint_major",
            FactKind::ComplaintEscalated => "complaint_escalated",
            FactKind::ComplaintDeadlineMissed => "complaint_deadline_missed",
            FactKind::ExpenseOverCap => "expense_over_cap",
            FactKind::VisitClosed => "visit_closed",
            FactKind::DeadlineDueSoon => "deadline_due_soon",
            FactKind::DeadlineOverdue => "deadline_overdue",
        }
    }
}

/// Who receives a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The visit's host (or the host a sign-in names).
    Host,
    /// The visit's host and accompanying staff.
    Staff,
    /// Who filed the request.
    Requester,
    /// The approvers of the approval awaited: the department's approvers, or the
    /// general manager.
    Approvers,
    /// The head of the department concerned.
    DepartmentHead,
    /// The driver a car dispatch names.
    Driver,
    /// Everyone with this role in the directory (e.g. the reception office).
    Role(StaffRole),
    /// A fixed list of directory ids.
    People(Vec<StaffId>),
}

/// A channel besides the dashboard (every notification is in its recipient's
/// `GET /api/v1/me/notifications`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    /// The generic webhook: JSON, HMAC-signed, the id as idempotency header.
    Webhook,
    /// WeCom (企业微信) group robot.
    Wecom,
    /// DingTalk (钉钉) group robot.
    Dingtalk,
    /// Feishu (飞书) group robot.
    Feishu,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Webhook,
        Channel::Wecom,
        Channel::Dingtalk,
        Channel::Feishu,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Wecom => "wecom",
            Channel::Dingtalk => "dingtalk",
            Channel::Feishu => "feishu",
        }
    }
}

/// For one kind of fact: who, through which channels, and whether it is urgent
/// (urgent ignores quiet hours and digests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub on: FactKind,
    pub to: Vec<Recipient>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub urgent: bool,
}

/// A reminder `lead_minutes` before a visit deadline (`deadline` as the board names
/// it: `plan_due`, `plan_approved`, `readiness`, `car_ready`, `return_call`, `summary`,
/// `minutes`, `follow_up`, or `task` for every preparation task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub deadline: String,
    #[schemars(range(max = 4_294_967_295u32))]
    pub lead_minutes: u32,
    pub to: Vec<Recipient>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub urgent: bool,
}

impl Reminder {
    /// True when this reminder is for the deadline the board names `kind`
    /// (`task_welcome_sign` is a `task`).
    pub fn covers(&self, kind: &str) -> bool {
        self.deadline == kind || (self.deadline == "task" && kind.starts_with("task_"))
    }
}

/// The deadline names a reminder may use.
pub const REMINDER_DEADLINES: &[&str] = &[
    "plan_due",
    "plan_approved",
    "readiness",
    "car_ready",
    "return_call",
    "summary",
    "minutes",
    "follow_up",
    "task",
];

/// One version of the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRules {
    pub version: u32,
    /// Default quiet hours of every person without their own.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// When the daily digest of a person who chose one goes out.
    #[schemars(schema_with = "crate::bounds::time_of_day_schema")]
    pub digest_at: NaiveTime,
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub reminders: Vec<Reminder>,
}

impl NotificationRules {
    /// Version 1, shipped in `ops/notification-rules-v1.json`.
    pub fn default_v1() -> NotificationRules {
        serde_json::from_str(DEFAULT_RULES_V1_JSON)
            .expect("ops/notification-rules-v1.json is checked by the crate's tests")
    }

    /// The rules for `kind`.
    pub fn for_kind(&self, kind: FactKind) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| r.on == kind)
    }

    /// The longest reminder lead time, in minutes.
    pub fn longest_lead_minutes(&self) -> u32 {
        self.reminders
            .iter()
            .map(|r| r.lead_minutes)
            .max()
            .unwrap_or(0)
    }

    /// Checks a version to publish after `latest` (None: the first of all).
    pub fn check_next(&self, latest: Option<u32>) -> Result<(), DomainError> {
        let expected = latest.map_or(1, |v| v + 1);
        if self.version != expected {
            return Err(DomainError::invalid(
                "version",
                format!("version: the next version is {expected}"),
            ));
        }
        for (i, r) in self.reminders.iter().enumerate() {
            if !REMINDER_DEADLINES.contains(&r.deadline.as_str()) {
                return Err(DomainError::invalid(
                    &format!("reminders[{i}].deadline"),
                    format!(
                        "reminders[{i}].deadline: one of {}",
                        REMINDER_DEADLINES.join(", ")
                    ),
                ));
            }
            if r.lead_minutes == 0 || r.lead_minutes > 7 * 24 * 60 {
                return Err(DomainError::invalid(
                    &format!("reminders[{i}].lead_minutes"),
                    format!("reminders[{i}].lead_minutes: 1 to 10080 (a week)"),
                ));
            }
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.to.is_empty() {
                return Err(DomainError::invalid(
                    &format!("rules[{i}].to"),
                    format!("rules[{i}].to: name at least one recipient"),
                ));
            }
        }
        Ok(())
    }
}
