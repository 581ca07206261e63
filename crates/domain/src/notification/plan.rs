//! The decision of issue 20, pure: which notifications a fact causes, for whom, through
//! which channels, with which stable id, and when each may go out (quiet hours).
//!
//! A fact is what an event or the reminder clock says happened ([`Fact`]); the people
//! it concerns come from the visit or complaint it is about ([`People`]); the rules and
//! the directory decide the rest. The id is derived from the fact's cause (the event id,
//! or the visit, deadline and due time of a reminder), its kind and the recipient, so a
//! replay after a crash makes the same ids.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rules::{Channel, FactKind, NotificationRules, Recipient};
use super::text::{render, Rendered};
use crate::staff::{Directory, Lang, StaffMember, StaffRole};

/// The people a fact concerns, as the visit, complaint or sign-in names them (free
/// text or directory ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct People {
    pub host: Option<String>,
    /// Accompanying staff (the host is added by [`Recipient::Staff`]).
    pub staff: Vec<String>,
    /// The token user who filed the request.
    pub requester: Option<String>,
    pub driver: Option<String>,
    /// The department concerned (the visit's, or the complaint's).
    pub department: Option<String>,
    /// The approval awaited (`department_manager`, `general_manager`).
    pub awaiting: Option<String>,
}

/// One fact to tell people about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: FactKind,
    /// What caused it, stable across replays: `ev-<event id>` or
    /// `due-<visit>-<deadline>-<due unix seconds>`.
    pub cause: String,
    /// When it happened (an event) or falls due (a deadline).
    pub at: DateTime<FixedOffset>,
    pub visit: Option<Uuid>,
    pub complaint: Option<Uuid>,
    pub people: People,
    /// What the message says beyond the kind: `company`, `visitor`, `deadline`,
    /// `severity`, `level`, `plate`, `amount_fen`, ... (plain strings).
    pub details: BTreeMap<String, String>,
}

/// A notification decided for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// Stable: `<cause>.<kind>.<recipient>`.
    pub id: String,
    pub kind: FactKind,
    /// The directory id of the recipient.
    pub recipient: String,
    pub channels: Vec<Channel>,
    pub urgent: bool,
    /// The earliest time it may go out on a channel (the end of the person's quiet
    /// hours for what is not urgent, or their digest time).
    pub not_before: DateTime<FixedOffset>,
    /// True when it waits for the person's daily digest.
    pub digest: bool,
    pub visit: Option<Uuid>,
    pub complaint: Option<Uuid>,
    pub at: DateTime<FixedOffset>,
    pub lang: Lang,
    pub title: String,
    pub body: String,
    /// The dashboard path of what it is about (`#/visit/<id>`, `#/complaints`).
    pub link: String,
}

/// The directory members a recipient names for this fact.
fn members<'a>(to: &Recipient, fact: &'a Fact, dir: &'a Directory) -> Vec<&'a StaffMember> {
    let p = &fact.people;
    let dept = p.department.as_deref();
    let one = |name: &Option<String>| {
        name.as_deref()
            .and_then(|n| dir.resolve(n))
            .into_iter()
            .collect()
    };
    match to {
        Recipient::Host => one(&p.host),
        Recipient::Staff => {
            let mut out: Vec<&StaffMember> = one(&p.host);
            out.extend(p.staff.iter().filter_map(|n| dir.resolve(n)));
            out
        }
        Recipient::Requester => one(&p.requester),
        Recipient::Driver => one(&p.driver),
        Recipient::Approvers => match p.awaiting.as_deref() {
            Some("general_manager") => dir.with_role(StaffRole::GeneralManager, None).collect(),
            _ => dir.with_role(StaffRole::Approver, dept).collect(),
        },
        Recipient::DepartmentHead => match dept {
            Some(d) => dir.with_role(StaffRole::Head, Some(d)).collect(),
            None => Vec::new(),
        },
        Recipient::Role(role) => dir.with_role(*role, None).collect(),
        Recipient::People(ids) => ids.iter().filter_map(|id| dir.get(id.as_str())).collect(),
    }
}

/// The earliest instant at or after `now` outside `quiet` (in `now`'s offset).
pub fn after_quiet_hours(
    now: DateTime<FixedOffset>,
    quiet: Option<crate::staff::QuietHours>,
) -> DateTime<FixedOffset> {
    match quiet {
        Some(q) if q.contains(now.time()) => {
            let mut day = now.date_naive();
            if q.from > q.to && now.time() >= q.from {
                day = day.succ_opt().unwrap_or(day);
            }
            at_local(now, day.and_time(q.to))
        }
        _ => now,
    }
}

/// The next `time` of day at or after `now`.
fn next_time_of_day(now: DateTime<FixedOffset>, time: NaiveTime) -> DateTime<FixedOffset> {
    let today = at_local(now, now.date_naive().and_time(time));
    if today >= now {
        today
    } else {
        today + Duration::days(1)
    }
}

fn at_local(now: DateTime<FixedOffset>, local: chrono::NaiveDateTime) -> DateTime<FixedOffset> {
    now.offset()
        .from_local_datetime(&local)
        .single()
        .unwrap_or(now)
}

/// Every notification `fact` causes under `rules`, one per recipient (the channels of
/// every rule naming them merged), decided at `now` (quiet hours and digests are read
/// in `now`'s offset). `reminder` supplies recipients and channels for
/// [`FactKind::DeadlineDueSoon`] instead of the rules for the kind.
///
/// ```
/// use reception_domain::notification::{plan, Fact, FactKind, NotificationRules, People};
/// use reception_domain::staff::Directory;
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T09:00:00+08:00").unwrap();
/// let fact = Fact { kind: FactKind::VisitorSignedIn, cause: "ev-1".into(), at: now,
///     visit: None, complaint: None, people: People::default(), details: Default::default() };
/// // nobody in the directory: nobody to tell
/// assert!(plan(&fact, &NotificationRules::default_v1(), None, &Directory::default(), now).is_empty());
/// ```
pub fn plan(
    fact: &Fact,
    rules: &NotificationRules,
    reminder: Option<&super::rules::Reminder>,
    dir: &Directory,
    now: DateTime<FixedOffset>,
) -> Vec<Planned> {
    // recipient id → (member, channels, urgent)
    let mut who: BTreeMap<String, (&StaffMember, Vec<Channel>, bool)> = BTreeMap::new();
    let mut add = |to: &[Recipient], channels: &[Channel], urgent: bool| {
        for r in to {
            for m in members(r, fact, dir) {
                let e = who
                    .entry(m.id.as_str().to_string())
                    .or_insert((m, Vec::new(), false));
                e.1.extend(channels.iter().copied());
                e.2 |= urgent;
            }
        }
    };
    match (fact.kind, reminder) {
        (FactKind::DeadlineDueSoon, Some(rem)) => add(&rem.to, &rem.channels, rem.urgent),
        _ => {
            for rule in rules.for_kind(fact.kind) {
                add(&rule.to, &rule.channels, rule.urgent);
            }
        }
    }
    who.into_iter()
        .map(|(id, (member, mut channels, urgent))| {
            channels.sort();
            channels.dedup();
            let digest = member.digest && !urgent;
            let not_before = if urgent {
                now
            } else if digest {
                next_time_of_day(now, rules.digest_at)
            } else {
                after_quiet_hours(now, member.quiet_hours.or(rules.quiet_hours))
            };
            let Rendered { title, body, link } = render(fact, member.lang);
            Planned {
                id: format!("{}.{}.{}", fact.cause, fact.kind.as_str(), id),
                kind: fact.kind,
                recipient: id,
                channels,
                urgent,
                not_before,
                digest,
                visit: fact.visit,
                complaint: fact.complaint,
                at: fact.at,
                lang: member.lang,
                title,
                body,
                link,
            }
        })
        .collect()
}
