//! What-if analysis: a visit's expenses judged again under a proposed level policy,
//! the way V17 and V25 judged them when they were recorded. A booking's cap is what
//! the proposed level sets for that booking (party size, rooms and nights as booked),
//! and an expense is over cap when the company's spending on its booking, this
//! expense included, passes the cap. Nothing here decides or records anything.
//!
//! Judged are the company-paid expenses that count today: reversed expenses and their
//! reversals net out and are left out, on both sides, so the actual and proposed
//! figures describe the same money.

use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;
use uuid::Uuid;

use crate::common::Fen;
use crate::policy_book::{LevelId, LevelPolicy, PaidBy};
use crate::visit_state::{ExpenseCategory, Visit};

/// One expense judged under its actual cap and under the proposed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejudged {
    pub expense_id: Uuid,
    pub category: ExpenseCategory,
    /// The level it was recorded under (`None`: no level yet, never capped).
    pub level: Option<LevelId>,
    pub spent_at: DateTime<FixedOffset>,
    pub amount_fen: i64,
    /// As recorded (V17).
    pub actual_over_cap: bool,
    pub proposed_over_cap: bool,
    /// The part of this expense above its booking's actual cap.
    pub actual_excess_fen: i64,
    /// The part of this expense above its booking's proposed cap: what paying no more
    /// than the proposed cap would have saved.
    pub proposed_excess_fen: i64,
}

impl Visit {
    /// Every counted company-paid expense of the visit against a booking (or a gift),
    /// judged as recorded and under `proposed`, in recording order. A level the
    /// proposal leaves out keeps its actual caps.
    pub fn rejudge(&self, proposed: &[LevelPolicy]) -> Vec<Rejudged> {
        let mut spent: HashMap<Uuid, i64> = HashMap::new();
        let mut out = Vec::new();
        for e in &self.expenses {
            let r = &e.recorded;
            let capped_kind = r.booking_id.is_some() || r.category == ExpenseCategory::Gift;
            if r.reverses.is_some()
                || e.reversed_by.is_some()
                || r.paid_by != PaidBy::Company
                || !capped_kind
            {
                continue;
            }
            let amount = r.amount_fen.fen();
            // a gift without a souvenir is judged alone
            let before = r
                .booking_id
                .map_or(0, |b| spent.get(&b).copied().unwrap_or(0));
            let after = before.saturating_add(amount);
            if let Some(b) = r.booking_id {
                spent.insert(b, after);
            }
            let actual_cap = r.cap_fen.map(Fen::fen);
            let lp = r
                .level
                .as_ref()
                .and_then(|l| proposed.iter().find(|p| &p.id == l));
            let proposed_cap = match lp {
                Some(lp) => self.proposed_cap(lp, r.booking_id, r.category),
                None => actual_cap,
            };
            let excess = |cap: Option<i64>| cap.map_or(0, |c| (after - before.max(c)).max(0));
            out.push(Rejudged {
                expense_id: r.expense_id,
                category: r.category,
                level: r.level.clone(),
                spent_at: r.spent_at,
                amount_fen: amount,
                actual_over_cap: r.over_cap,
                proposed_over_cap: proposed_cap.is_some_and(|c| after > c),
                actual_excess_fen: excess(actual_cap),
                proposed_excess_fen: excess(proposed_cap),
            });
        }
        out
    }

    /// The cap `lp` sets on a booking (V17) or a gift (V25: the item cap × the
    /// souvenir's quantity, one item without a souvenir); `None`: uncapped.
    fn proposed_cap(
        &self,
        lp: &LevelPolicy,
        booking_id: Option<Uuid>,
        category: ExpenseCategory,
    ) -> Option<i64> {
        if category == ExpenseCategory::Gift {
            let item = lp.gift_item_cap_fen?.fen();
            let items = booking_id
                .and_then(|id| self.souvenirs.iter().find(|s| s.planned.souvenir_id == id))
                .map_or(1, |s| i64::from(s.planned.quantity.get()));
            return Some(item.saturating_mul(items));
        }
        let cap = self.cap_under(lp, booking_id?, category).ok()??;
        Some(cap.fen())
    }
}
