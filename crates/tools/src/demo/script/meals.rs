//! Meals and entertainment (V9): each meal of the plan booked within the level's cap
//! for the party, entertainment where the level provides it; over the cap only on the
//! approver's override.

use chrono::Duration;
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::policy::CapKind;
use reception_domain::visit::Visit;
use serde_json::{json, Value};

use super::plan::venue_for;
use super::{Books, Meal, Script};
use crate::demo::names;
use crate::demo::{at, round10, Flow, Run};

/// Books every meal of the plan (noted in `b`): for the whole party, now and then one
/// visitor fewer (V25: the party counts visitors only, at most the headcount).
pub(super) async fn meals(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    for (i, &(kind, t)) in b.meal_times.iter().enumerate() {
        let headcount = if s.trip.headcount > 1 && run.chance(0.1) {
            s.trip.headcount - 1
        } else {
            s.trip.headcount
        };
        let cap_kind = if kind == "lunch" {
            CapKind::Lunch
        } else {
            CapKind::Dinner
        };
        let cap =
            s.lp.cap_for(cap_kind, headcount as u32)
                .map_or(40_000, |f| f.fen());
        let over = run.chance(0.06);
        let budget = if over {
            round10(cap as f64 * 1.3)
        } else {
            round10(cap as f64 * run.rng.random_range(0.55..0.95)).min(cap)
        };
        let (who, ovr) = if over {
            (
                &s.cast.approver,
                json!({"reason": "banquet with the customer's board"}),
            )
        } else {
            (&s.cast.reception, Value::Null)
        };
        let venue = venue_for(&mut run.rng);
        let body = json!({"meal": kind, "at": t, "venue": venue, "party_size": headcount, "budget_fen": budget, "override": ovr});
        let o = run
            .exec::<Visit>(
                s.trip.prep(0.42 + 0.01 * i as f64),
                s.v,
                "book-meal",
                body,
                who,
            )
            .await?;
        b.meals.push(Meal {
            at: t,
            booking: run.entity(&o)?,
            budget,
            kind,
            venue,
            party: headcount,
        });
    }
    Ok(())
}

/// Arranges an evening's entertainment when the stay has room for one and the level
/// provides it (rarely when it does not, on override); noted in `b`.
pub(super) async fn entertainment(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
) -> Result<(), Flow> {
    let (arrival, departure, headcount) = (s.trip.arrival, s.trip.departure, s.trip.headcount);
    let lp = &s.lp;
    let ent_time = at(
        &s.trip.off,
        arrival.date_naive() + Duration::days(i64::from(s.trip.stay_days > 1)),
        20,
        0,
    );
    if !(ent_time > arrival && ent_time < departure - Duration::hours(12)) {
        return Ok(());
    }
    let provided = lp.entertainment.is_some();
    let want = if provided {
        run.chance(0.5)
    } else {
        run.chance(0.03)
    };
    if !want {
        return Ok(());
    }
    let cap = lp
        .cap_for(CapKind::Entertainment, headcount as u32)
        .map_or(0, |f| f.fen());
    let over = !provided || run.chance(0.08);
    let budget = if !provided {
        50_000
    } else if over {
        round10(cap as f64 * 1.25)
    } else {
        round10(cap as f64 * run.rng.random_range(0.5..0.95)).min(cap)
    };
    let (who, ovr) = if over {
        (
            &s.cast.approver,
            json!({"reason": "the customer's general manager asked for the show"}),
        )
    } else {
        (&s.cast.reception, Value::Null)
    };
    let kind = *names::ENTERTAINMENT
        .choose(&mut run.rng)
        .expect("non-empty");
    let o = run
        .exec::<Visit>(
            s.trip.prep(0.55),
            s.v,
            "arrange-entertainment",
            json!({"at": ent_time, "kind": kind, "party_size": headcount, "budget_fen": budget, "override": ovr}),
            who,
        )
        .await?;
    b.entertainment = Some((run.entity(&o)?, budget, ent_time, kind));
    Ok(())
}
