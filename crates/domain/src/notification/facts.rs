//! From what the log and the clock say to [`Fact`]s: which events are worth telling
//! (a sign-in, a request waiting for approval, a major complaint, ...) and which
//! visit deadlines are due soon or overdue at a given time. Pure: the caller loads the
//! visit or complaint the event belongs to.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use serde_json::Value;
use uuid::Uuid;

use super::plan::{Fact, People};
use super::rules::{FactKind, NotificationRules, Reminder};
use crate::complaint::Complaint;
use crate::deadlines::visit_deadlines;
use crate::visit::{Leg, Visit};
use crate::vocabulary::types as t;

/// One stored event, as much of it as the facts read.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub id: Uuid,
    pub event_type: &'a str,
    pub data: &'a Value,
    pub occurred_at: DateTime<FixedOffset>,
    /// The aggregate id of its stream (`visit-<id>` → id).
    pub stream_id: Option<Uuid>,
}

/// The people of a visit: host, accompanying staff, requester (the user who filed it,
/// from the stream's first event), department.
pub fn visit_people(visit: &Visit, requester: Option<&str>) -> People {
    People {
        host: visit.host.as_ref().map(|h| h.as_str().to_string()),
        staff: visit
            .accompanying
            .iter()
            .map(|s| s.name.as_str().to_string())
            .collect(),
        requester: requester.map(str::to_string),
        driver: None,
        department: visit.request().map(|r| r.department.as_str().to_string()),
        awaiting: None,
    }
}

/// The people of a complaint: its department (or its visit's), and the visit's staff.
pub fn complaint_people(c: &Complaint, visit: Option<&People>) -> People {
    let mut p = visit.cloned().unwrap_or_default();
    if let Some(d) = &c.department {
        p.department = Some(d.clone());
    }
    p
}

fn s(data: &Value, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_string)
}

fn company_of(visit: Option<&Visit>) -> Option<String> {
    visit
        .and_then(Visit::request)
        .map(|r| r.customer.company.as_str().to_string())
}

/// The facts one event causes (most cause none). `people` are those of the visit or
/// complaint the event belongs to (after it); `visit` is the visit after the event,
/// when it is a visit's.
pub fn facts_of_event(ev: EventRef<'_>, people: &People, visit: Option<&Visit>) -> Vec<Fact> {
    let mut details = BTreeMap::new();
    if let Some(c) = company_of(visit) {
        details.insert("company".to_string(), c);
    }
    let mut people = people.clone();
    let mut kinds = Vec::new();
    let mut visit_id = visit.and(ev.stream_id);
    let mut complaint_id = None;
    match ev.event_type {
        t::VISITOR_SIGNED_IN => {
            people.host = s(ev.data, "host");
            visit_id = ev
                .data
                .get("visit_id")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok());
            for (k, f) in [
                ("visitor", "name"),
                ("company", "customer"),
                ("reason", "reason"),
            ] {
                if let Some(v) = s(ev.data, f) {
                    details.insert(k.to_string(), v);
                }
            }
            kinds.push(FactKind::VisitorSignedIn);
        }
        t::RECEPTION_REQUESTED | t::REQUEST_AMENDED => {
            let required = ev.data.get("approval_required").and_then(Value::as_bool);
            if required != Some(false) && visit.is_none_or(|v| v.approval.required) {
                people.awaiting = Some("department_manager".into());
                kinds.push(FactKind::RequestAwaitingApproval);
            }
        }
        t::REQUEST_APPROVED => {
            // V22: a special visit's department approval is followed by the general manager's
            let special = visit
                .and_then(Visit::request)
                .and_then(|r| r.proposed_level.as_ref())
                .is_some_and(|l| l.as_str() == "special");
            let by_department = s(ev.data, "as").as_deref() == Some("department_manager");
            if special && by_department {
                people.awaiting = Some("general_manager".into());
                kinds.push(FactKind::RequestAwaitingApproval);
            }
        }
        t::LEVEL_ASSIGNED => {
            if let Some(l) = s(ev.data, "level") {
                details.insert("level".into(), l);
            }
            kinds.push(FactKind::LevelAssigned);
        }
        t::CAR_DISPATCHED => {
            people.driver = s(ev.data, "driver");
            for k in ["plate", "ready_at", "leg"] {
                if let Some(v) = s(ev.data, k) {
                    details.insert(k.into(), v);
                }
            }
            kinds.push(FactKind::CarDispatched);
        }
        t::EXPENSE_RECORDED if ev.data.get("over_cap").and_then(Value::as_bool) == Some(true) => {
            people.awaiting = Some("department_manager".into());
            if let Some(a) = ev.data.get("amount_fen").and_then(Value::as_i64) {
                details.insert("amount_fen".into(), a.to_string());
            }
            kinds.push(FactKind::ExpenseOverCap);
        }
        t::VISIT_CLOSED => kinds.push(FactKind::VisitClosed),
        t::COMPLAINT_RAISED => {
            visit_id = ev
                .data
                .get("visit_id")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok());
            complaint_id = ev.stream_id;
            if let Some(c) = s(ev.data, "customer") {
                details.insert("company".into(), c);
            }
            if people.department.is_none() {
                people.department = s(ev.data, "department");
            }
            let severity = s(ev.data, "severity").unwrap_or_default();
            details.insert("severity".into(), severity.clone());
            kinds.push(FactKind::ComplaintRaised);
            if severity == "major" {
                kinds.push(FactKind::ComplaintMajor);
            }
        }
        t::COMPLAINT_ESCALATED => {
            complaint_id = ev.stream_id;
            details.insert("severity".into(), "major".into());
            kinds.push(FactKind::ComplaintEscalated);
            if s(ev.data, "to").as_deref() == Some("major")
                && s(ev.data, "from").as_deref() != Some("major")
            {
                kinds.push(FactKind::ComplaintMajor);
            }
        }
        t::COMPLAINT_DEADLINE_MISSED => {
            complaint_id = ev.stream_id;
            for k in ["deadline", "rule", "due_at"] {
                if let Some(v) = s(ev.data, k) {
                    details.insert(k.into(), v);
                }
            }
            kinds.push(FactKind::ComplaintDeadlineMissed);
        }
        _ => {}
    }
    kinds
        .into_iter()
        .map(|kind| Fact {
            kind,
            cause: format!("ev-{}", ev.id),
            at: ev.occurred_at,
            visit: visit_id,
            complaint: complaint_id,
            people: people.clone(),
            details: details.clone(),
        })
        .collect()
}

/// The reminders and overdue notices of a visit at `now`: for every deadline not met,
/// a [`FactKind::DeadlineDueSoon`] with the reminder that covers it once `now` is within
/// its lead time, and a [`FactKind::DeadlineOverdue`] once it has passed. A finished
/// visit owes nothing. The causes name the visit, deadline and due time, so the same
/// reminder is the same notification on every pass.
pub fn deadline_facts<'r>(
    visit_id: Uuid,
    visit: &Visit,
    people: &People,
    rules: &'r NotificationRules,
    now: DateTime<FixedOffset>,
) -> Vec<(Fact, Option<&'r Reminder>)> {
    if visit.is_finished() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for due in visit_deadlines(visit, now) {
        if due.met_at.is_some() {
            continue;
        }
        let mut details = BTreeMap::new();
        details.insert("deadline".to_string(), due.item.clone());
        details.insert("due_at".to_string(), due.due_at.to_rfc3339());
        if let Some(c) = company_of(Some(visit)) {
            details.insert("company".into(), c);
        }
        let mut people = people.clone();
        if due.item == "car_ready" {
            people.driver = visit
                .cars
                .iter()
                .find(|c| c.dispatch.leg != Leg::Local)
                .map(|c| c.dispatch.driver.as_str().to_string());
        }
        let unix = due.due_at.timestamp();
        let fact = |kind, cause: String| Fact {
            kind,
            cause,
            at: due.due_at,
            visit: Some(visit_id),
            complaint: None,
            people: people.clone(),
            details: details.clone(),
        };
        if now >= due.due_at {
            // a deadline missed long ago (a store restored, a server down for days) is
            // on the board already; only a fresh miss is told
            if now - due.due_at <= Duration::hours(24) {
                let cause = format!("late-{visit_id}-{}-{unix}", due.item);
                out.push((fact(FactKind::DeadlineOverdue, cause), None));
            }
            continue;
        }
        for rem in rules.reminders.iter().filter(|r| r.covers(&due.item)) {
            if now >= due.due_at - Duration::minutes(i64::from(rem.lead_minutes)) {
                let cause = format!("due-{visit_id}-{}-{unix}-{}", due.item, rem.lead_minutes);
                out.push((fact(FactKind::DeadlineDueSoon, cause), Some(rem)));
            }
        }
    }
    out
}
