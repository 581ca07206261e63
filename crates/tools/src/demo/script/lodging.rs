//! Lodging (V8): a hotel within the level's rate band (company-paid levels) or a budget
//! one the visitors pay; now and then a breach on the approver's override.

use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::policy::PaidBy;
use reception_domain::visit::Visit;
use serde_json::{json, Value};

use super::{Books, Lodging, Script};
use crate::demo::names;
use crate::demo::{Flow, Run};

/// Books the rooms when the request asked for lodging (noted in `b`).
pub(super) async fn lodging(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if !s.trip.needs_lodging {
        return Ok(());
    }
    let lp = &s.lp;
    let rooms = s.trip.headcount.div_ceil(2) as u32;
    let nights = s.trip.stay_days as u32;
    let company_pays = lp.lodging.paid_by == PaidBy::Company;
    let breach = run.chance(if company_pays { 0.05 } else { 0.04 });
    let (hotel, stars, rate, paid_by) = if company_pays {
        let (h, stars) = *names::HOTELS_PREMIUM
            .choose(&mut run.rng)
            .expect("non-empty");
        let lo = lp.lodging.min_rate_fen.map_or(40_000, |f| f.fen());
        let hi = lp.lodging.max_rate_fen.map_or(70_000, |f| f.fen());
        let rate = if breach {
            hi + 10_000
        } else {
            run.rng.random_range(lo / 1000..=hi / 1000) * 1000
        };
        (h, stars, rate, "company")
    } else if breach {
        let (h, stars) = names::HOTELS_BUDGET[3];
        (h, stars, 38_000, "company")
    } else {
        let (h, stars) = *names::HOTELS_BUDGET
            .choose(&mut run.rng)
            .expect("non-empty");
        (h, stars, run.rng.random_range(18..45) * 1000, "visitor")
    };
    let (who, ovr) = if breach {
        (
            &s.cast.approver,
            json!({"reason": "no rooms in policy hotels during the trade fair"}),
        )
    } else {
        (&s.cast.reception, Value::Null)
    };
    let o = run
        .exec::<Visit>(
            s.trip.prep(0.38),
            s.v,
            "book-lodging",
            json!({"hotel": hotel, "stars": stars, "rooms": rooms, "nights": nights, "rate_fen": rate, "paid_by": paid_by, "override": ovr}),
            who,
        )
        .await?;
    b.lodging = Some(Lodging {
        booking: run.entity(&o)?,
        total: rate * i64::from(rooms) * i64::from(nights),
        company_pays: paid_by == "company",
        hotel,
    });
    Ok(())
}
