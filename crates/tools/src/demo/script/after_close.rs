//! What outlives the visit (V28, V31): follow-ups done on time, late or not at all
//! weeks after the close, a late invoice now and then (the car rental's monthly invoice
//! for a December visit comes in January), and the hotel's fee after a cancellation.

use chrono::{Datelike, Duration, NaiveDate};
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::json;
use uuid::Uuid;

use super::expenses::{record_expense, Bill};
use super::{Books, Script};
use crate::demo::{at, Flow, Run, Time};

/// Something done after the close.
enum Later {
    FollowUp(Uuid),
    Invoice(Bill),
}

/// The follow-ups done and a late invoice, in time order.
pub(super) async fn after_close(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let closed = b.closed_at.unwrap_or(run.clock);
    let mut todo: Vec<(Time, Later)> = Vec::new();
    for (id, due) in &b.follow_ups {
        let u: f64 = run.rng.random();
        // Three in four done before their due date, one in six late, the rest left
        // open (overdue once their date passes: on the board and in the archive).
        let when = if u < 0.75 {
            let span = (*due - closed).num_hours().max(2);
            closed + Duration::hours(run.rng.random_range(1..span))
        } else if u < 0.92 {
            *due + Duration::days(run.rng.random_range(1..20))
        } else {
            continue;
        };
        todo.push((when, Later::FollowUp(*id)));
    }
    if let Some(invoice) = late_invoice(run, s, closed) {
        todo.push(invoice);
    }
    todo.sort_by_key(|(t, _)| *t);
    for (when, later) in todo {
        match later {
            Later::FollowUp(id) => {
                let body =
                    json!({"follow_up_id": id, "notes": "done and reported to the sales manager"});
                run.exec::<Visit>(when, s.v, "complete-follow-up", body, &s.cast.reception)
                    .await?;
            }
            Later::Invoice(bill) => {
                record_expense(run, when, s.v, &s.cast.finance, &mut b.expenses, bill).await?;
            }
        }
    }
    Ok(())
}

/// V31: an invoice that comes after the close: for a visit in the second half of
/// December most often the car rental's monthly invoice in early January (spent in
/// December, recorded in January); otherwise rarely, weeks later.
fn late_invoice(run: &mut Run, s: &Script<'_>, closed: Time) -> Option<(Time, Later)> {
    let arrival = s.trip.arrival;
    let december = arrival.month() == 12 && arrival.day() >= 15;
    if !run.chance(if december { 0.4 } else { 0.03 }) {
        return None;
    }
    let when = if december {
        let day = NaiveDate::from_ymd_opt(arrival.year() + 1, 1, run.rng.random_range(4..15))
            .expect("a January day");
        at(&s.trip.off, day, run.rng.random_range(9..17), 0).max(closed + Duration::hours(1))
    } else {
        closed + Duration::days(run.rng.random_range(5..30))
    };
    let amount = run.rng.random_range(300..2000) * 100;
    let bill = Bill::company(
        "car",
        amount,
        arrival + Duration::hours(1),
        "rented car for the visit, invoiced late",
        Some("Shouqi car rental"),
    );
    Some((when, Later::Invoice(bill)))
}

/// V31: now and then the hotel charges a fee for the cancelled rooms, days later.
pub(super) async fn cancellation_fee(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
) -> Result<(), Flow> {
    let Some(hotel) = b.lodging.as_ref().map(|l| l.hotel) else {
        return Ok(());
    };
    if !run.chance(0.3) {
        return Ok(());
    }
    let cancelled = run.clock;
    let when = cancelled + Duration::days(run.rng.random_range(1..6));
    let bill = Bill::company(
        "other",
        run.rng.random_range(200..800) * 100,
        cancelled + Duration::hours(12),
        "hotel cancellation fee",
        Some(hotel),
    );
    record_expense(run, when, s.v, &s.cast.finance, &mut b.expenses, bill).await?;
    Ok(())
}
