//! The business day (V11, V12, V28, F2): the visitors sign in at the front desk under
//! their visit, the leader meeting, the cooperation matters proposed there and
//! confirmed by both sides with their follow-up actions, sometimes the talks that
//! follow, and the talks' minutes after the departure.

use chrono::{Datelike, Duration, NaiveDate};
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_app::{ExecOptions, Target};
use reception_domain::deadlines::minutes_due_at;
use reception_domain::frontdesk::SignIn;
use reception_domain::visit::Visit;
use reception_domain::Role;
use serde_json::json;

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{actor, at, Flow, Run, Time};

/// Holds the leader meeting on `date` if the day still has room for it, with its
/// matters (noted in `b`) and talks.
pub(super) async fn business_day(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    date: NaiveDate,
    day_end: Time,
    arrived: Time,
) -> Result<(), Flow> {
    let (v, reception) = (s.v, &s.cast.reception);
    let meet_at = (at(&s.trip.off, date, 10, 0)).max(arrived + Duration::hours(1));
    if meet_at >= day_end {
        return Ok(());
    }
    sign_in(run, s, b, meet_at - Duration::minutes(20), day_end).await?;
    let leader = *names::LEADERS.choose(&mut run.rng).expect("non-empty");
    run.exec::<Visit>(
        meet_at + Duration::hours(1),
        v,
        "hold-leader-meeting",
        json!({"at": meet_at, "place": "Board room", "leader": leader}),
        reception,
    )
    .await?;
    let n = run.rng.random_range(1..=3);
    let picks: Vec<&str> = names::MATTERS.sample(&mut run.rng, n).copied().collect();
    for text in picks {
        let by = if run.chance(0.5) {
            "company"
        } else {
            "visitor"
        };
        let o = run
            .exec::<Visit>(
                meet_at + Duration::hours(2),
                v,
                "propose-matter",
                json!({"by": by, "text": text}),
                reception,
            )
            .await?;
        b.matters.push(run.entity(&o)?);
    }
    for (k, m) in b.matters.iter().copied().enumerate() {
        if k == 0 || run.chance(0.5) {
            let body = json!({"matter_id": m, "company_confirmed_by": "马骏", "visitor_confirmed_by": s.trip.visitors[0].name,
                "record_ref": format!("MEMO-{}-{:04}", date.year(), run.rng.random_range(1..9999))});
            run.exec::<Visit>(
                meet_at + Duration::hours(5),
                v,
                "confirm-matter",
                body,
                reception,
            )
            .await?;
            b.confirmed.push(m);
        }
    }
    if !b.confirmed.is_empty() && run.chance(0.6) {
        let talks_at = meet_at + Duration::hours(6);
        let mut attendees = vec![leader.to_string(), b.host.to_string()];
        attendees.extend(s.trip.visitors.iter().take(2).map(|p| p.name.clone()));
        run.exec::<Visit>(
            talks_at + Duration::minutes(30),
            v,
            "hold-talks",
            json!({"at": talks_at, "outcome": "framework agreement signed", "attendees": attendees}),
            reception,
        )
        .await?;
        b.talks = Some((talks_at, attendees));
    }
    follow_ups(run, s, b, meet_at + Duration::hours(7)).await
}

/// F2: on some visits the party signs in at the front desk under its visit; the
/// sign-out waits for the end of the day (noted in `b`).
async fn sign_in(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    when: Time,
    day_end: Time,
) -> Result<(), Flow> {
    if !run.chance(0.35) {
        return Ok(());
    }
    let Target::Id(id) = s.v else {
        return Ok(());
    };
    let linked = run.app.linked_visit(id).map_err(|e| run.store_error(e))?;
    let opts = ExecOptions {
        linked_visit: linked,
        ..ExecOptions::default()
    };
    let body = json!({"name": s.trip.visitors[0].name, "party_size": s.trip.headcount, "reason": "customer visit",
        "host": b.host, "at": when, "visit_id": id});
    let desk = actor("desk.1", Role::Frontdesk);
    let o = run
        .exec_with::<SignIn>(when, Target::Create, "sign-in", body, &desk, opts)
        .await?;
    run.summary.sign_ins += 1;
    run.summary.linked_sign_ins += 1;
    b.sign_out = Some((
        o.id,
        (day_end - Duration::hours(4)).max(when + Duration::hours(2)),
    ));
    Ok(())
}

/// Signs the linked party out at the end of its day (F1), if it signed in.
pub(super) async fn sign_out(run: &mut Run, b: &mut Books) -> Result<(), Flow> {
    let Some((id, left)) = b.sign_out.take() else {
        return Ok(());
    };
    let desk = actor("desk.1", Role::Frontdesk);
    run.exec::<SignIn>(left, Target::Id(id), "sign-out", json!({"at": left}), &desk)
        .await?;
    Ok(())
}

/// V28: follow-up actions on most visits' confirmed matters, each with an owner and a
/// due date weeks ahead (noted in `b` for their completion after the close).
async fn follow_ups(run: &mut Run, s: &Script<'_>, b: &mut Books, when: Time) -> Result<(), Flow> {
    if !run.chance(0.7) {
        return Ok(());
    }
    for m in b.confirmed.clone() {
        let n = run.rng.random_range(1..=2);
        for _ in 0..n {
            let due_day = when.date_naive() + Duration::days(run.rng.random_range(10..60));
            let due = at(&s.trip.off, due_day, 18, 0);
            let owner = *["Sun Hao", "Xu Li", "He Ping", b.host]
                .choose(&mut run.rng)
                .expect("non-empty");
            let text = *names::FOLLOW_UPS.choose(&mut run.rng).expect("non-empty");
            let body = json!({"matter_id": m, "owner": owner, "due": due, "text": text});
            let o = run
                .exec::<Visit>(when, s.v, "add-follow-up", body, &s.cast.reception)
                .await?;
            b.follow_ups.push((run.entity(&o)?, due));
        }
    }
    Ok(())
}

/// V28: the talks' minutes for the general manager, due by the end of the day after
/// the departure: most the evening of the departure (`on_time`), a fifth late, after
/// the summary (`!on_time`).
pub(super) async fn minutes(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    on_time: bool,
) -> Result<(), Flow> {
    let Some((_, attendees)) = b.talks.clone() else {
        return Ok(());
    };
    if on_time && run.chance(0.2) {
        return Ok(());
    }
    let departed = s.trip.departure;
    let when = if on_time {
        departed + Duration::hours(run.rng.random_range(1..6))
    } else {
        let due = minutes_due_at(departed).unwrap_or(departed + Duration::days(2));
        due + Duration::hours(run.rng.random_range(2..40))
    };
    let reference = format!(
        "MIN-{}-{:04}",
        departed.year(),
        run.rng.random_range(1..9999)
    );
    let body = json!({"ref": reference, "attendees": attendees});
    run.exec::<Visit>(when, s.v, "submit-minutes", body, &s.cast.reception)
        .await?;
    b.talks = None;
    Ok(())
}
