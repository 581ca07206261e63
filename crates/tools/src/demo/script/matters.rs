//! The business day (V11, V12): the leader meeting, the cooperation matters proposed
//! there and confirmed by both sides, and sometimes the talks that follow.

use chrono::{Datelike, Duration, NaiveDate};
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::json;

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{at, Flow, Run, Time};

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
        b.matters.push(run.entity(&o, "matter_id")?);
    }
    for (k, m) in b.matters.iter().enumerate() {
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
            b.confirmed += 1;
        }
    }
    if b.confirmed > 0 && run.chance(0.6) {
        let talks_at = meet_at + Duration::hours(6);
        run.exec::<Visit>(
            talks_at + Duration::minutes(30),
            v,
            "hold-talks",
            json!({"at": talks_at, "outcome": "framework agreement signed"}),
            reception,
        )
        .await?;
    }
    Ok(())
}
