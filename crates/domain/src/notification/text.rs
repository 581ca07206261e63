//! The words of a notification, Chinese first (English for those who chose it): a
//! title, a short body and the dashboard path of what it is about. No phone number or
//! other contact detail is ever written into a message.

use super::plan::Fact;
use super::rules::FactKind;
use crate::staff::Lang;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub title: String,
    pub body: String,
    /// `#/visit/<id>`, `#/complaints` or `#/board`.
    pub link: String,
}

fn deadline_name(item: &str, lang: Lang) -> String {
    let zh = matches!(lang, Lang::ZhCn);
    let base = item.strip_prefix("task_").map_or(item, |_| "task");
    let name = match (base, zh) {
        ("plan_due", true) => "接待方案初稿",
        ("plan_due", false) => "the first plan draft",
        ("plan_approved", true) => "接待方案审批",
        ("plan_approved", false) => "the plan's approval",
        ("readiness", true) => "接待准备确认",
        ("readiness", false) => "the readiness confirmation",
        ("car_ready", true) => "车辆到位",
        ("car_ready", false) => "the car's ready-by time",
        ("return_call", true) => "回访电话",
        ("return_call", false) => "the return call",
        ("summary", true) => "接待总结",
        ("summary", false) => "the visit summary",
        ("minutes", true) => "会谈纪要",
        ("minutes", false) => "the talks' minutes",
        ("follow_up", true) => "跟进事项",
        ("follow_up", false) => "a follow-up action",
        ("task", true) => "准备任务",
        ("task", false) => "a preparation task",
        (_, _) => item,
    };
    match item.strip_prefix("task_") {
        Some(task) => format!("{name} ({task})"),
        None => name.to_string(),
    }
}

/// The title and body of `fact` in `lang`.
pub fn render(fact: &Fact, lang: Lang) -> Rendered {
    let d = |k: &str| fact.details.get(k).cloned().unwrap_or_default();
    let company = d("company");
    let zh = matches!(lang, Lang::ZhCn);
    let due = fact.at.format("%Y-%m-%d %H:%M").to_string();
    // a walk-in names no company
    let visitor = match company.as_str() {
        "" => d("visitor"),
        c => format!("{} ({c})", d("visitor")),
    };
    let (title, body) = match (fact.kind, zh) {
        (FactKind::VisitorSignedIn, true) => (
            "访客已到前台签到".to_string(),
            format!("{visitor} 已在前台签到，来访事由：{}。", d("reason")),
        ),
        (FactKind::VisitorSignedIn, false) => (
            "Your visitor signed in".to_string(),
            format!("{visitor} signed in at the front desk: {}.", d("reason")),
        ),
        (FactKind::RequestAwaitingApproval, true) => (
            "接待申请待您审批".to_string(),
            format!("{company} 的接待申请等待您的审批（V22）。"),
        ),
        (FactKind::RequestAwaitingApproval, false) => (
            "A request waits for your approval".to_string(),
            format!("The reception request for {company} waits for your approval (V22)."),
        ),
        (FactKind::LevelAssigned, true) => (
            "接待级别已确定".to_string(),
            format!("{company} 的接待级别已确定为 {}。", d("level")),
        ),
        (FactKind::LevelAssigned, false) => (
            "Reception level assigned".to_string(),
            format!("The visit of {company} is assigned level {}.", d("level")),
        ),
        (FactKind::CarDispatched, true) => (
            "派车通知".to_string(),
            format!("{company} 的接送车辆（车牌 {}）须于 {} 前到位。", d("plate"), d("ready_at")),
        ),
        (FactKind::CarDispatched, false) => (
            "Car dispatched".to_string(),
            format!("The car for {company} (plate {}) is to be ready by {}.", d("plate"), d("ready_at")),
        ),
        (FactKind::ComplaintRaised, true) => (
            "收到客户投诉".to_string(),
            format!("{company} 提出了投诉（{}）。", severity_zh(&d("severity"))),
        ),
        (FactKind::ComplaintRaised, false) => (
            "Complaint raised".to_string(),
            format!("{company} raised a {} complaint.", d("severity")),
        ),
        (FactKind::ComplaintMajor, true) => (
            "【紧急】重大投诉".to_string(),
            format!("{company} 的重大投诉须在 10 分钟内上报部门负责人，12 小时内与客户商定解决方案（C2）。"),
        ),
        (FactKind::ComplaintMajor, false) => (
            "[Urgent] Major complaint".to_string(),
            format!("A major complaint from {company}: the head of department is told within 10 minutes, a solution agreed within 12 hours (C2)."),
        ),
        (FactKind::ComplaintEscalated, true) => (
            "投诉已升级".to_string(),
            format!("{company} 的投诉已升级为重大投诉（C4）。"),
        ),
        (FactKind::ComplaintEscalated, false) => (
            "Complaint escalated".to_string(),
            format!("The complaint of {company} was escalated to major (C4)."),
        ),
        (FactKind::ComplaintDeadlineMissed, true) => (
            "投诉处理超时".to_string(),
            format!("{company} 的投诉错过了 {} 的期限（{}），应于 {} 完成。", d("deadline"), d("rule"), d("due_at")),
        ),
        (FactKind::ComplaintDeadlineMissed, false) => (
            "Complaint deadline missed".to_string(),
            format!("The complaint of {company} missed its {} deadline ({}), due {}.", d("deadline"), d("rule"), d("due_at")),
        ),
        (FactKind::ExpenseOverCap, true) => (
            "超标费用待审批".to_string(),
            format!("{company} 的一笔费用 {} 超出标准，等待审批。", yuan(&d("amount_fen"))),
        ),
        (FactKind::ExpenseOverCap, false) => (
            "An expense over its cap waits for a decision".to_string(),
            format!("An expense of {} for {company} is over its cap and waits for a decision.", yuan(&d("amount_fen"))),
        ),
        (FactKind::VisitClosed, true) => ("接待已结束".to_string(), format!("{company} 的接待已关闭。")),
        (FactKind::VisitClosed, false) => ("Visit closed".to_string(), format!("The visit of {company} is closed.")),
        (FactKind::DeadlineDueSoon, true) => (
            format!("提醒：{}即将到期", deadline_name(&d("deadline"), lang)),
            format!("{company}：{}将于 {due} 到期。", deadline_name(&d("deadline"), lang)),
        ),
        (FactKind::DeadlineDueSoon, false) => (
            format!("Reminder: {} falls due soon", deadline_name(&d("deadline"), lang)),
            format!("{company}: {} falls due at {due}.", deadline_name(&d("deadline"), lang)),
        ),
        (FactKind::DeadlineOverdue, true) => (
            format!("已逾期：{}", deadline_name(&d("deadline"), lang)),
            format!("{company}：{}已于 {due} 到期，尚未完成。", deadline_name(&d("deadline"), lang)),
        ),
        (FactKind::DeadlineOverdue, false) => (
            format!("Overdue: {}", deadline_name(&d("deadline"), lang)),
            format!("{company}: {} was due at {due} and is not done.", deadline_name(&d("deadline"), lang)),
        ),
    };
    let link = match (fact.visit, fact.complaint) {
        (_, Some(_)) => "#/complaints".to_string(),
        (Some(v), None) => format!("#/visit/{v}"),
        (None, None) => "#/board".to_string(),
    };
    Rendered { title, body, link }
}

fn severity_zh(s: &str) -> &'static str {
    if s == "major" {
        "重大"
    } else {
        "一般"
    }
}

/// Fen as yuan with two decimals (`12345` → `¥123.45`).
fn yuan(fen: &str) -> String {
    match fen.parse::<i64>() {
        Ok(f) => format!("¥{}.{:02}", f / 100, f % 100),
        Err(_) => String::new(),
    }
}
