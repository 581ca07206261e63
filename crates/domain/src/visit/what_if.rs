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
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use uuid::Uuid;

use super::decide::meal_cap;
use crate::common::Fen;
use crate::policy_book::{CapKind, LevelId, LevelPolicy, PaidBy};
use crate::visit_state::{ExpenseCategory, MealKind, Visit};

/// What a booking's cap is computed from under a level policy (V17, V25). Bookings are
/// never changed once made, so the basis is fixed at booking time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CapBasis {
    Meal {
        meal: MealKind,
        party_size: u32,
    },
    Entertainment {
        party_size: u32,
    },
    Lodging {
        rooms: u32,
        nights: u32,
    },
    /// A planned souvenir, which gifts are recorded against.
    Souvenir {
        quantity: u32,
    },
}

impl CapBasis {
    /// The category of the expenses recorded against it.
    pub fn category(self) -> ExpenseCategory {
        match self {
            CapBasis::Meal { .. } => ExpenseCategory::Meal,
            CapBasis::Entertainment { .. } => ExpenseCategory::Entertainment,
            CapBasis::Lodging { .. } => ExpenseCategory::Lodging,
            CapBasis::Souvenir { .. } => ExpenseCategory::Gift,
        }
    }

    /// The cap `lp` sets on this booking; `None`: uncapped. A gift is capped per item
    /// (V25): the item cap × the souvenir's quantity.
    pub fn cap_under(self, lp: &LevelPolicy) -> Option<Fen> {
        match self {
            CapBasis::Meal { meal, party_size } => lp.cap_for(meal_cap(meal), party_size),
            CapBasis::Entertainment { party_size } => Some(
                lp.cap_for(CapKind::Entertainment, party_size)
                    .unwrap_or(Fen::ZERO),
            ),
            CapBasis::Lodging { rooms, nights } => lp.lodging_cap(rooms, nights),
            CapBasis::Souvenir { quantity } => lp
                .gift_item_cap_fen
                .and_then(|c| Fen::new(c.fen().saturating_mul(i64::from(quantity))).ok()),
        }
    }
}

/// A counted company-paid expense against a booking or a gift, as recorded: what the
/// what-if judges again. `K` names expenses and bookings (the aggregate's `Uuid`, the
/// read side's strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CappedExpense<K> {
    pub expense_id: K,
    pub booking_id: Option<K>,
    /// The basis of the booking (of the souvenir, for a gift) it was recorded against.
    pub basis: Option<CapBasis>,
    pub category: ExpenseCategory,
    pub level: Option<LevelId>,
    pub spent_at: DateTime<FixedOffset>,
    pub amount_fen: i64,
    /// The cap it was judged against when recorded (V17).
    pub cap_fen: Option<i64>,
    pub over_cap: bool,
}

impl<K> CappedExpense<K> {
    /// The cap `proposed` sets on it: its level's, else (a level the proposal leaves
    /// out, or no level) the cap it was judged against. A gift without a souvenir is
    /// one item.
    fn proposed_cap(&self, proposed: &[LevelPolicy]) -> Option<i64> {
        let Some(lp) = self
            .level
            .as_ref()
            .and_then(|l| proposed.iter().find(|p| &p.id == l))
        else {
            return self.cap_fen;
        };
        let basis = match (self.category, self.basis) {
            (ExpenseCategory::Gift, Some(b @ CapBasis::Souvenir { .. })) => b,
            (ExpenseCategory::Gift, _) => CapBasis::Souvenir { quantity: 1 },
            (category, Some(b)) if b.category() == category => b,
            _ => return None,
        };
        basis.cap_under(lp).map(Fen::fen)
    }
}

/// Judges `expenses` (one visit's counted company-paid expenses against a booking or
/// a gift, in recording order) under their actual caps and under `proposed`. An expense
/// is over cap when the company's spending on its booking, this expense included,
/// passes the cap; a gift without a souvenir is judged alone.
pub fn rejudge<K: Clone + Eq + Hash>(
    expenses: impl IntoIterator<Item = CappedExpense<K>>,
    proposed: &[LevelPolicy],
) -> Vec<Rejudged<K>> {
    let mut spent: HashMap<K, i64> = HashMap::new();
    let mut out = Vec::new();
    for e in expenses {
        let amount = e.amount_fen;
        let before = e
            .booking_id
            .as_ref()
            .map_or(0, |b| spent.get(b).copied().unwrap_or(0));
        let after = before.saturating_add(amount);
        if let Some(b) = &e.booking_id {
            spent.insert(b.clone(), after);
        }
        let proposed_cap = e.proposed_cap(proposed);
        let excess =
            |cap: Option<i64>| cap.map_or(0, |c| after.saturating_sub(before.max(c)).max(0));
        out.push(Rejudged {
            actual_over_cap: e.over_cap,
            proposed_over_cap: proposed_cap.is_some_and(|c| after > c),
            actual_excess_fen: excess(e.cap_fen),
            proposed_excess_fen: excess(proposed_cap),
            expense_id: e.expense_id,
            category: e.category,
            level: e.level,
            spent_at: e.spent_at,
            amount_fen: amount,
        });
    }
    out
}

/// One expense judged under its actual cap and under the proposed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejudged<K = Uuid> {
    pub expense_id: K,
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
    /// as the what-if judges it, in recording order: reversed expenses and reversals
    /// net out and are left out.
    pub fn capped_expenses(&self) -> Vec<CappedExpense<Uuid>> {
        self.expenses
            .iter()
            .map(|e| &e.recorded)
            .zip(self.expenses.iter().map(|e| e.reversed_by.is_some()))
            .filter(|(r, reversed)| {
                let capped_kind = r.booking_id.is_some() || r.category == ExpenseCategory::Gift;
                r.reverses.is_none() && !reversed && r.paid_by == PaidBy::Company && capped_kind
            })
            .map(|(r, _)| CappedExpense {
                expense_id: r.expense_id,
                booking_id: r.booking_id,
                basis: r.booking_id.and_then(|b| match r.category {
                    ExpenseCategory::Gift => self.souvenir_basis(b),
                    _ => self.booking_basis(b),
                }),
                category: r.category,
                level: r.level.clone(),
                spent_at: r.spent_at,
                amount_fen: r.amount_fen.fen(),
                cap_fen: r.cap_fen.map(Fen::fen),
                over_cap: r.over_cap,
            })
            .collect()
    }

    /// Every counted expense judged as recorded and under `proposed` ([`rejudge`]). A
    /// level the proposal leaves out keeps its actual caps.
    pub fn rejudge(&self, proposed: &[LevelPolicy]) -> Vec<Rejudged> {
        rejudge(self.capped_expenses(), proposed)
    }

    /// The basis of a meal, entertainment or lodging booking of this visit.
    pub(crate) fn booking_basis(&self, booking_id: Uuid) -> Option<CapBasis> {
        let b = &self.bookings;
        if let Some(m) = b.meals.iter().find(|m| m.booking_id == booking_id) {
            return Some(CapBasis::Meal {
                meal: m.meal,
                party_size: m.party_size.get(),
            });
        }
        if let Some(e) = b.entertainment.iter().find(|e| e.booking_id == booking_id) {
            return Some(CapBasis::Entertainment {
                party_size: e.party_size.get(),
            });
        }
        b.lodging
            .iter()
            .find(|l| l.booking_id == booking_id)
            .map(|l| CapBasis::Lodging {
                rooms: l.rooms.get(),
                nights: l.nights.get(),
            })
    }

    fn souvenir_basis(&self, souvenir_id: Uuid) -> Option<CapBasis> {
        self.souvenirs
            .iter()
            .find(|s| s.planned.souvenir_id == souvenir_id)
            .map(|s| CapBasis::Souvenir {
                quantity: s.planned.quantity.get(),
            })
    }
}
