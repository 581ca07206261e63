//! Souvenirs (V10): planned where the level gives them, handed on the departure day.

use chrono::Duration;
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::json;

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{Flow, Run};

/// Plans one to three souvenirs per visitor when the level gives them (noted in `b`).
pub(super) async fn plan(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if !s.lp.souvenirs {
        return Ok(());
    }
    let headcount = s.trip.headcount;
    let n = run.rng.random_range(1..=3);
    let picks: Vec<(&str, i64)> = names::SOUVENIRS.sample(&mut run.rng, n).copied().collect();
    for (item, yuan) in picks {
        let o = run
            .exec::<Visit>(
                s.trip.prep(0.58),
                s.v,
                "plan-souvenir",
                json!({"item": item, "unit_cost_fen": yuan * 100, "quantity": headcount}),
                &s.cast.reception,
            )
            .await?;
        b.souvenirs.push((
            run.entity(&o, "souvenir_id")?,
            yuan * 100 * headcount as i64,
        ));
    }
    Ok(())
}

/// Hands most planned souvenirs a few hours before the departure.
pub(super) async fn hand(run: &mut Run, s: &Script<'_>, b: &Books) -> Result<(), Flow> {
    for (sid, _) in &b.souvenirs {
        if run.chance(0.92) {
            run.exec::<Visit>(
                s.trip.departure - Duration::hours(3),
                s.v,
                "hand-souvenir",
                json!({"souvenir_id": sid}),
                &s.cast.reception,
            )
            .await?;
        }
    }
    Ok(())
}
