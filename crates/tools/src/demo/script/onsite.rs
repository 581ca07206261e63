//! On site (V13): the arrival, the arrival day's tour, and each day of the stay: the
//! morning car, the business day's meetings, an afternoon tour, the day's meal bills,
//! on the business day's evening a home reception for some senior visits (V29), and on
//! the first evening the customer's preferences.

use chrono::{Duration, NaiveDate};
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::json;

use super::{expenses, matters, staffing, transport, Books, Script};
use crate::demo::names;
use crate::demo::{at, Flow, Run, Time, VisitLife};

/// Records the arrival (noted in `life` for the complaint) and plays every day before
/// the departure day.
pub(super) async fn on_site(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    life: &mut VisitLife,
) -> Result<(), Flow> {
    let (arrival, departure) = (s.trip.arrival, s.trip.departure);
    let arrived = arrival + run.minutes(0, 40);
    run.exec::<Visit>(
        arrived,
        s.v,
        "record-arrival",
        json!({"at": arrived}),
        &s.cast.reception,
    )
    .await?;
    life.arrived_at = Some(arrived);
    b.arrived = Some(arrived);
    let tour_at = arrived + Duration::hours(2);
    if tour_at < departure - Duration::hours(2) {
        let (tour_place, tour_title) = b.tour;
        run.exec::<Visit>(
            tour_at + Duration::hours(2),
            s.v,
            "hold-tour",
            json!({"at": tour_at, "place": tour_place, "title": tour_title}),
            &s.cast.reception,
        )
        .await?;
    }
    let business_day = i64::from(s.trip.stay_days > 1);
    for d in 0..s.trip.stay_days {
        let date = arrival.date_naive() + Duration::days(d);
        let day_end = at(&s.trip.off, date, 23, 0).min(departure - Duration::hours(1));
        day(run, s, b, (d, business_day), date, day_end, arrived).await?;
    }
    Ok(())
}

/// Day `d` of the stay (`business_day` is the one with the leader meeting).
async fn day(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    (d, business_day): (i64, i64),
    date: NaiveDate,
    day_end: Time,
    arrived: Time,
) -> Result<(), Flow> {
    if d >= 1 {
        transport::local(run, s, b, date).await?;
    }
    if d == business_day {
        matters::business_day(run, s, b, date, day_end, arrived).await?;
    }
    if d >= 1 {
        let (place, title) = *names::TOURS.choose(&mut run.rng).expect("non-empty");
        let t = at(&s.trip.off, date, 15, 0);
        run.exec::<Visit>(
            t + Duration::hours(2),
            s.v,
            "hold-tour",
            json!({"at": t, "place": place, "title": title}),
            &s.cast.reception,
        )
        .await?;
    }
    expenses::meal_bills(run, s, b, day_end).await?;
    matters::sign_out(run, b).await?;
    if d == business_day {
        home_reception(run, s, date, day_end).await?;
    }
    if d == 0 {
        first_evening(run, s, b, day_end).await?;
    }
    Ok(())
}

/// V29: a senior visit's evening at a senior manager's home, with as many senior staff
/// as the level allows, on half the visits whose level provides it.
async fn home_reception(
    run: &mut Run,
    s: &Script<'_>,
    date: NaiveDate,
    day_end: Time,
) -> Result<(), Flow> {
    let Some(bounds) = s.lp.home_reception else {
        return Ok(());
    };
    let t = at(&s.trip.off, date, 19, 30);
    if t + Duration::hours(2) >= day_end || !run.chance(0.5) {
        return Ok(());
    }
    let n = run
        .rng
        .random_range(usize::from(bounds.min_staff)..=usize::from(bounds.max_staff));
    let staff: Vec<&str> = names::HOME_HOSTS.sample(&mut run.rng, n).copied().collect();
    run.exec::<Visit>(
        t + Duration::hours(2),
        s.v,
        "hold-home-reception",
        json!({"at": t, "staff": staff}),
        &s.cast.reception,
    )
    .await?;
    Ok(())
}

/// The customer's preferences noted on the first evening; rarely a new host or a
/// change of the accompanying staff (V6, V27).
async fn first_evening(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    day_end: Time,
) -> Result<(), Flow> {
    let n = run.rng.random_range(1..=3);
    let picks: Vec<(&str, &str)> = names::PREFERENCES
        .sample(&mut run.rng, n)
        .copied()
        .collect();
    for (kind, text) in picks {
        let subject = if run.chance(0.6) {
            s.trip.visitors[0].name.clone()
        } else {
            s.company.name.clone()
        };
        run.exec::<Visit>(
            day_end - Duration::minutes(30),
            s.v,
            "note-preference",
            json!({"subject": subject, "kind": kind, "text": text}),
            &s.cast.reception,
        )
        .await?;
    }
    if run.chance(0.03) {
        let new_host = names::HOSTS
            .iter()
            .find(|h| **h != b.host)
            .expect("several hosts");
        run.exec::<Visit>(
            day_end - Duration::minutes(20),
            s.v,
            "reassign-host",
            json!({"host": new_host, "reason": "the host fell ill"}),
            &s.cast.reception,
        )
        .await?;
    }
    staffing::change_mid_visit(run, s, b, day_end - Duration::minutes(15)).await
}
