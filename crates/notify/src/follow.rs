//! From the log and the clock to new outbox records: an event's facts (with the visit
//! or complaint it belongs to loaded through the app), the reminder pass over the open
//! visits, and the planning of each fact into notifications that are written once
//! (an id already in the outbox is never written again, so a replay changes nothing).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use reception_app::App;
use reception_domain::complaint::Complaint;
use reception_domain::notification::{
    complaint_people, deadline_facts, facts_of_event, plan, visit_people, EventRef, Fact,
    NotificationRules, People, Planned, Reminder, RulesState,
};
use reception_domain::staff::Directory;
use reception_domain::visit::Visit;
use reception_domain::vocabulary::{stream_kind, types as t, StreamKind};
use reception_domain::Aggregate;
use reception_store::{Envelope, ReadModel};
use uuid::Uuid;

use crate::channels::Channels;
use crate::outbox::{index_changes, key, Delivery, Notification, Status};
use crate::NotifyError;

/// Event types that may cause a notification or change the open visits.
const WATCHED: &[&str] = &[
    t::VISITOR_SIGNED_IN,
    t::RECEPTION_REQUESTED,
    t::REQUEST_AMENDED,
    t::REQUEST_APPROVED,
    t::REQUEST_REJECTED,
    t::LEVEL_ASSIGNED,
    t::CAR_DISPATCHED,
    t::EXPENSE_RECORDED,
    t::VISIT_CLOSED,
    t::VISIT_CANCELLED,
    t::COMPLAINT_RAISED,
    t::COMPLAINT_ESCALATED,
    t::COMPLAINT_DEADLINE_MISSED,
];

/// The changes of one pass, keyed so that a later write of the same key wins.
pub(crate) type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The rules and directory in force, reloaded when their streams move.
#[derive(Default)]
pub(crate) struct Book {
    rules: Option<(u64, NotificationRules)>,
    dir: Option<(u64, Directory)>,
}

impl Book {
    pub(crate) fn rules(&mut self, app: &App) -> Result<&NotificationRules, NotifyError> {
        let v = app.store().stream_version(RulesState::KIND)?;
        if self.rules.as_ref().is_none_or(|(at, _)| *at != v) {
            let loaded = app.load::<RulesState>(RulesState::KIND, None)?;
            self.rules = Some((v, loaded.state.in_force()));
        }
        Ok(&self.rules.as_ref().expect("just loaded").1)
    }
    pub(crate) fn directory(&mut self, app: &App) -> Result<&Directory, NotifyError> {
        let v = app.store().stream_version(Directory::KIND)?;
        if self.dir.as_ref().is_none_or(|(at, _)| *at != v) {
            let loaded = app.load::<Directory>(Directory::KIND, None)?;
            self.dir = Some((v, loaded.state));
        }
        Ok(&self.dir.as_ref().expect("just loaded").1)
    }
}

/// The user who filed a visit's request (the actor of its first event).
fn requester(app: &App, stream: &str) -> Option<String> {
    app.store()
        .read_stream(stream, 1, None)
        .next()
        .and_then(Result::ok)
        .map(|e| e.actor.user)
}

fn load_visit(app: &App, id: Uuid) -> Result<(Visit, People), NotifyError> {
    let stream = format!("{}-{id}", Visit::KIND);
    let visit = app.load::<Visit>(&stream, None)?.state;
    let people = visit_people(&visit, requester(app, &stream).as_deref());
    Ok((visit, people))
}

/// The facts of one stored event, and what it changes in the open visits.
pub(crate) fn facts_of(
    app: &App,
    env: &Envelope,
    changes: &mut Changes,
) -> Result<Vec<Fact>, NotifyError> {
    if !WATCHED.contains(&env.event_type.as_str()) {
        return Ok(Vec::new());
    }
    let (kind, id) = stream_kind(&env.stream);
    let stream_id = id.parse::<Uuid>().ok();
    let ev = EventRef {
        id: env.id,
        event_type: &env.event_type,
        data: &env.data,
        occurred_at: env.occurred_at,
        stream_id,
    };
    match (kind, stream_id) {
        (StreamKind::Visit, Some(vid)) => {
            let (visit, people) = load_visit(app, vid)?;
            let open = key("o", "visit", &vid.to_string());
            if visit.is_finished() {
                changes.insert(open, None);
            } else if env.event_type == t::RECEPTION_REQUESTED {
                changes.insert(open, Some(Vec::new()));
            }
            Ok(facts_of_event(ev, &people, Some(&visit)))
        }
        (StreamKind::Complaint, Some(cid)) => {
            let c = app
                .load::<Complaint>(&format!("{}-{cid}", Complaint::KIND), None)?
                .state;
            let visit_people = match c.visit_id {
                Some(v) => Some(load_visit(app, v)?.1),
                None => None,
            };
            Ok(facts_of_event(
                ev,
                &complaint_people(&c, visit_people.as_ref()),
                None,
            ))
        }
        (StreamKind::FrontDesk, _) => Ok(facts_of_event(ev, &People::default(), None)),
        _ => Ok(Vec::new()),
    }
}

/// The reminders and overdue notices of every open visit at `now`.
pub(crate) fn reminder_facts(
    app: &App,
    model: &ReadModel,
    rules: &NotificationRules,
    changes: &mut Changes,
) -> Result<Vec<(Fact, Option<Reminder>)>, NotifyError> {
    let now = app.now();
    let mut out = Vec::new();
    for kv in model.scan_prefix(b"o/visit/") {
        let (k, _) = kv?;
        let Some(vid) = std::str::from_utf8(&k[8..])
            .ok()
            .and_then(|s| s.parse::<Uuid>().ok())
        else {
            continue;
        };
        let (visit, people) = load_visit(app, vid)?;
        if visit.is_finished() {
            changes.insert(k, None);
            continue;
        }
        for (fact, rem) in deadline_facts(vid, &visit, &people, rules, now) {
            out.push((fact, rem.cloned()));
        }
    }
    Ok(out)
}

/// Plans `facts` and adds the notifications not yet in the outbox to `changes` (and to
/// `new`, for the delivery pass). Facts older than `stale_after` at `now` (a first
/// start over an old log, demo data) go to the dashboard only.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    facts: Vec<(Fact, Option<Reminder>)>,
    rules: &NotificationRules,
    dir: &Directory,
    channels: &Channels,
    model: &ReadModel,
    now: DateTime<FixedOffset>,
    stale_after: Duration,
    changes: &mut Changes,
) -> Result<Vec<Notification>, NotifyError> {
    let mut new = Vec::new();
    for (fact, rem) in facts {
        let stale = fact.kind != reception_domain::notification::FactKind::DeadlineDueSoon
            && now - fact.at > stale_after;
        for p in plan(&fact, rules, rem.as_ref(), dir, now) {
            let k = key("n", &p.recipient, &p.id);
            if changes.contains_key(&k) || model.get(&k)?.is_some() {
                continue;
            }
            let n = to_notification(p, dir, channels, now, stale);
            metrics::counter!("reception_notifications_total", "kind" => n.kind.as_str())
                .increment(1);
            changes.extend(index_changes(&n));
            new.push(n);
        }
    }
    Ok(new)
}

fn to_notification(
    p: Planned,
    dir: &Directory,
    channels: &Channels,
    now: DateTime<FixedOffset>,
    stale: bool,
) -> Notification {
    let member = dir.get(&p.recipient);
    let deliveries = p
        .channels
        .iter()
        .map(|&channel| {
            let unaddressable = match member {
                None => Some("not in the directory".to_string()),
                Some(m) => channels.addressable(channel, m).err().map(|e| match e {
                    crate::channels::SendError::Unaddressable(s)
                    | crate::channels::SendError::Failed(s) => s,
                }),
            };
            let (status, last_error) = match (stale, unaddressable) {
                (true, _) => (
                    Status::Skipped,
                    Some("too old to send when first seen".to_string()),
                ),
                (false, Some(why)) => (Status::Skipped, Some(why)),
                (false, None) => (Status::Pending, None),
            };
            Delivery {
                channel,
                status,
                attempts: 0,
                next_try: p.not_before,
                retry_after: None,
                last_error,
                delivered_at: None,
            }
        })
        .collect();
    Notification {
        id: p.id,
        kind: p.kind,
        recipient: p.recipient,
        title: p.title,
        body: p.body,
        link: p.link,
        visit: p.visit,
        complaint: p.complaint,
        at: p.at,
        created_at: now,
        urgent: p.urgent,
        digest: p.digest,
        lang: p.lang,
        deliveries,
    }
}
