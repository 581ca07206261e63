//! The preparation tasks (V26): the visa invitation letter early, the desk's tasks
//! (meeting room, welcome sign, return tickets, parking) before the readiness check,
//! the confirmation call in the last hours. Most are done on time, some late, a few
//! never; tonight's visit is behind, its desk tasks still open at the end of the run.

use chrono::Duration;
use rand::RngExt;
use reception_domain::deadlines::{readiness_due_at, CONFIRMATION_CALL_HOURS, VISA_LETTER_DAYS};
use reception_domain::visit::Visit;
use serde_json::json;

use super::{Books, Script, Trip};
use crate::demo::{Flow, Run, Time};

/// How a task goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    OnTime,
    Late,
    Undone,
}

fn outcome(run: &mut Run) -> Outcome {
    let u: f64 = run.rng.random();
    if u < 0.9 {
        Outcome::OnTime
    } else if u < 0.96 {
        Outcome::Late
    } else {
        Outcome::Undone
    }
}

/// A task's due time as the domain derives it from the current request.
fn due(id: &str, trip: &Trip<'_>) -> Time {
    match id {
        "visa_letter" => trip.arrival - Duration::days(VISA_LETTER_DAYS),
        "confirmation_call" => trip.arrival - Duration::hours(CONFIRMATION_CALL_HOURS),
        _ => readiness_due_at(trip.arrival).unwrap_or(trip.arrival),
    }
}

fn note(id: &str, trip: &Trip<'_>) -> String {
    match id {
        "visa_letter" => "invitation letter sent for the visa application".into(),
        "meeting_room" => "meeting room 3 booked, projector and tea checked".into(),
        "welcome_sign" => "welcome banner at the gate and on the lobby screen".into(),
        "return_tickets" => format!(
            "return tickets booked: {}",
            trip.departure_no.as_deref().unwrap_or("by car")
        ),
        "parking" => "two visitor spaces reserved at gate 2".into(),
        _ => "arrival time and meeting place confirmed by phone".into(),
    }
}

/// Marks task `id` done at `when`, counting it when late.
async fn complete(run: &mut Run, s: &Script<'_>, id: &str, when: Time) -> Result<(), Flow> {
    let body = json!({"task": id, "notes": note(id, &s.trip)});
    run.exec::<Visit>(when, s.v, "complete-task", body, &s.cast.reception)
        .await?;
    if run.clock > due(id, &s.trip) {
        run.summary.tasks_late += 1;
    }
    Ok(())
}

/// The visa invitation letter a foreign customer asked for, days ahead of its due
/// (late anyway when the request came too short before the trip).
pub(super) async fn visa_letter(run: &mut Run, s: &Script<'_>) -> Result<(), Flow> {
    if !s.trip.visa_letter {
        return Ok(());
    }
    let due = due("visa_letter", &s.trip);
    let when = match outcome(run) {
        Outcome::OnTime => {
            let ahead = Duration::hours(run.rng.random_range(24..72));
            s.trip.prep(0.27).min(due - ahead)
        }
        Outcome::Late => due + Duration::hours(run.rng.random_range(6..48)),
        Outcome::Undone => return Ok(()),
    };
    complete(run, s, "visa_letter", when.max(s.trip.prep(0.27))).await
}

/// The desk's tasks before the readiness check; late ones wait for the last hours
/// before the arrival (noted in `b`).
pub(super) async fn desk(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let trip = &s.trip;
    let ids = [
        ("meeting_room", trip.meeting_room),
        ("welcome_sign", true),
        ("return_tickets", trip.return_tickets),
        ("parking", trip.mode == "car"),
    ];
    let (from, check) = (trip.prep(0.64), trip.prep(0.85));
    let mut now_due = Vec::new();
    for (id, wanted) in ids {
        if !wanted {
            continue;
        }
        let due = due(id, trip);
        let outcome = if s.spec.tonight {
            Outcome::Late
        } else {
            outcome(run)
        };
        let when = match outcome {
            Outcome::OnTime => {
                let to = (check - Duration::minutes(10)).min(due - Duration::minutes(30));
                if to > from {
                    from + Duration::seconds(run.rng.random_range(0..(to - from).num_seconds()))
                } else {
                    from
                }
            }
            Outcome::Late if s.spec.tonight => {
                trip.arrival - Duration::minutes(run.rng.random_range(30..90))
            }
            Outcome::Late => (due + Duration::minutes(run.rng.random_range(20..300)))
                .min(trip.arrival - Duration::minutes(10))
                .max(from),
            Outcome::Undone => continue,
        };
        if when < check {
            now_due.push((when, id));
        } else {
            b.late_tasks.push((when, id));
        }
    }
    now_due.sort();
    for (when, id) in now_due {
        complete(run, s, id, when).await?;
    }
    Ok(())
}

/// The last hours before the arrival: the confirmation call (after any change of the
/// travel day) and the desk's late tasks, in time order.
pub(super) async fn last_hours(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let arrival = s.trip.arrival;
    let call = match outcome(run) {
        Outcome::OnTime => Some(arrival - Duration::minutes(run.rng.random_range(90..300))),
        Outcome::Late => Some(arrival - Duration::minutes(run.rng.random_range(5..55))),
        Outcome::Undone => None,
    };
    let mut todo = std::mem::take(&mut b.late_tasks);
    if let Some(t) = call {
        todo.push((t, "confirmation_call"));
    }
    todo.sort();
    // A task the desk meant to finish just before the old arrival is done before the
    // visitors walk in, whenever that now is.
    for (when, id) in todo {
        complete(run, s, id, when.min(arrival - Duration::minutes(5))).await?;
    }
    Ok(())
}
