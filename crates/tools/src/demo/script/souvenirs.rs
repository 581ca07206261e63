//! Souvenirs (V10, V25): planned where the level gives them, within its gift item cap,
//! handed on the departure day.

use chrono::Duration;
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::{json, Value};

use super::{Books, Script, Souvenir};
use crate::demo::names;
use crate::demo::{Flow, Run};

/// Plans one or two souvenirs per visitor when the level gives them, each within the
/// level's gift item cap (V25); rarely a dearer one on the approver's override (noted
/// in `b`).
pub(super) async fn plan(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if !s.lp.souvenirs {
        return Ok(());
    }
    let cap = s.lp.gift_item_cap_fen.map(|f| f.fen());
    let within: Vec<(&str, i64)> = names::SOUVENIRS
        .iter()
        .copied()
        .filter(|(_, yuan)| cap.is_none_or(|c| yuan * 100 <= c))
        .collect();
    let n = run.rng.random_range(1..=2).min(within.len());
    let mut picks: Vec<(&'static str, i64, bool)> = within
        .sample(&mut run.rng, n)
        .map(|(item, yuan)| (*item, *yuan, false))
        .collect();
    let (item, yuan) = names::SOUVENIR_OVER_CAP;
    if cap.is_some_and(|c| yuan * 100 > c) && run.chance(0.05) {
        picks.push((item, yuan, true));
    }
    let quantity = s.trip.headcount;
    for (item, yuan, over) in picks {
        let (who, ovr) = if over {
            let reason =
                json!({"reason": "the chairman's personal gift to the customer's chairman"});
            (&s.cast.approver, reason)
        } else {
            (&s.cast.reception, Value::Null)
        };
        let body = json!({"item": item, "unit_cost_fen": yuan * 100, "quantity": quantity, "override": ovr});
        let o = run
            .exec::<Visit>(s.trip.prep(0.58), s.v, "plan-souvenir", body, who)
            .await?;
        b.souvenirs.push(Souvenir {
            id: run.entity(&o)?,
            item,
            unit_fen: yuan * 100,
            quantity,
            planned_at: run.clock,
        });
    }
    Ok(())
}

/// Hands most planned souvenirs a few hours before the departure.
pub(super) async fn hand(run: &mut Run, s: &Script<'_>, b: &Books) -> Result<(), Flow> {
    for g in &b.souvenirs {
        if run.chance(0.92) {
            run.exec::<Visit>(
                s.trip.departure - Duration::hours(3),
                s.v,
                "hand-souvenir",
                json!({"souvenir_id": g.id}),
                &s.cast.reception,
            )
            .await?;
        }
    }
    Ok(())
}
