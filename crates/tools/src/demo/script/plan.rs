//! The itinerary and execution plan (V4): meals between arrival and departure, a tour,
//! the cars; sometimes sent back once by the approver; then the unit is contacted.

use chrono::Duration;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use reception_domain::visit::Visit;
use serde_json::json;

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{at, Flow, Run};

/// A restaurant for a meal of the plan or a booking.
pub(super) fn venue_for(rng: &mut ChaCha8Rng) -> String {
    names::VENUES.choose(rng).expect("non-empty").to_string()
}

/// Drafts the plan (notes its meals and tour in `b`), has it reviewed, contacts the unit.
pub(super) async fn plan(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let (trip, v) = (&s.trip, s.v);
    let (reception, approver) = (&s.cast.reception, &s.cast.approver);
    let (arrival, departure, place) = (trip.arrival, trip.departure, trip.place);
    let mut meal_times = Vec::new();
    for d in 0..=trip.stay_days {
        let date = arrival.date_naive() + Duration::days(d);
        for (kind, h, m) in [("lunch", 12, 0), ("dinner", 18, 30)] {
            let t = at(&trip.off, date, h, m);
            if t > arrival + Duration::minutes(45) && t < departure - Duration::minutes(90) {
                meal_times.push((kind, t));
            }
        }
    }
    let mut items = vec![json!({"at": arrival, "kind": "car", "title": "pickup", "place": place})];
    for (kind, t) in &meal_times {
        items.push(
            json!({"at": t, "kind": "meal", "title": kind, "place": venue_for(&mut run.rng)}),
        );
    }
    let (tour_place, tour_title) = *names::TOURS.choose(&mut run.rng).expect("non-empty");
    items.push(json!({"at": arrival + Duration::hours(2), "kind": "tour", "title": tour_title, "place": tour_place}));
    items.push(json!({"at": departure, "kind": "car", "title": "drop-off", "place": place}));
    b.meal_times = meal_times;
    b.tour = (tour_place, tour_title);
    run.exec::<Visit>(
        trip.prep(0.10),
        v,
        "draft-plan",
        json!({"items": items}),
        reception,
    )
    .await?;
    if run.chance(0.15) {
        let comments = *[
            "add a factory tour on day two",
            "the dinner venue is too far from the hotel",
            "too many meals for the level",
        ]
        .choose(&mut run.rng)
        .expect("non-empty");
        run.exec::<Visit>(
            trip.prep(0.13),
            v,
            "review-plan",
            json!({"approved": false, "comments": comments}),
            approver,
        )
        .await?;
        items.push(json!({"at": arrival + Duration::hours(3), "kind": "meeting", "title": "product briefing", "place": "Meeting room 3"}));
        run.exec::<Visit>(
            trip.prep(0.17),
            v,
            "draft-plan",
            json!({"items": items}),
            reception,
        )
        .await?;
    }
    run.exec::<Visit>(
        trip.prep(0.2),
        v,
        "review-plan",
        json!({"approved": true, "comments": null}),
        approver,
    )
    .await?;
    run.exec::<Visit>(
        trip.prep(0.25),
        v,
        "contact-unit",
        json!({"confirmed_headcount": trip.headcount, "notes": "headcount, flights and needs confirmed by phone"}),
        reception,
    )
    .await?;
    Ok(())
}
