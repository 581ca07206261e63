//! What the what-if analysis reads: per visit, its counted company-paid expenses
//! against a booking or a gift in recording order, each with the basis of its booking's
//! cap, so that judging a year under a proposed policy is arithmetic over memory
//! (`reception_domain::visit::rejudge`), the same judgement as the folded aggregate's.

use chrono::Datelike;
use reception_domain::policy_book::LevelId;
use reception_domain::visit::{CapBasis, CappedExpense, ExpenseCategory, MealKind};
use reception_store::StoredEvent;
use serde::{Deserialize, Serialize};

use super::{CostsProjection, VisitDoc};
use crate::event::{self, ty, CostView};

/// A visit's bookings' cap bases and its counted capped expenses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct WhatIfDoc {
    /// By booking (or souvenir) id.
    bases: Vec<(String, CapBasis)>,
    expenses: Vec<CappedExpense<String>>,
}

/// One visit as the what-if judges it.
#[derive(Debug, Clone)]
pub struct WhatIfVisit {
    pub visit_id: String,
    /// The cost-bearing department.
    pub department: String,
    pub expenses: Vec<CappedExpense<String>>,
}

fn count(n: Option<i64>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

/// The cap basis a booking or souvenir event sets.
fn basis_of(ty: &str, d: &CostView<'_>) -> Option<(String, CapBasis)> {
    let (id, basis) = match ty {
        ty::MEAL_BOOKED => (
            &d.booking_id,
            CapBasis::Meal {
                meal: match event::s(&d.meal) {
                    "lunch" => MealKind::Lunch,
                    "dinner" => MealKind::Dinner,
                    _ => return None,
                },
                party_size: count(d.party_size),
            },
        ),
        ty::ENTERTAINMENT_ARRANGED => (
            &d.booking_id,
            CapBasis::Entertainment {
                party_size: count(d.party_size),
            },
        ),
        ty::LODGING_BOOKED => (
            &d.booking_id,
            CapBasis::Lodging {
                rooms: count(d.rooms),
                nights: count(d.nights),
            },
        ),
        ty::SOUVENIR_PLANNED => (
            &d.souvenir_id,
            CapBasis::Souvenir {
                quantity: count(d.quantity),
            },
        ),
        _ => return None,
    };
    Some((event::opt_s(id)?, basis))
}

fn category_of(s: &str) -> Option<ExpenseCategory> {
    serde_json::from_value(serde_json::Value::from(s)).ok()
}

impl CostsProjection {
    /// A booking or souvenir: its cap basis, for the expenses recorded against it.
    pub(super) fn on_booking(&mut self, ev: &StoredEvent, d: &CostView<'_>, visit_id: &str) {
        if let Some(b) = basis_of(&ev.event_type, d) {
            self.what_if.entry(visit_id).bases.push(b);
        }
    }

    /// An expense as the what-if counts it (V17/V25 judgement as recorded): a reversal
    /// takes its original out, and only company-paid expenses against a booking or a
    /// gift are judged.
    pub(super) fn judged_expense(&mut self, ev: &StoredEvent, d: &CostView<'_>, visit_id: &str) {
        let expense_id = event::s(&d.expense_id);
        if let Some(original) = event::opt_s(&d.reverses) {
            if let Some(doc) = self.what_if.get_mut(visit_id) {
                doc.expenses.retain(|e| e.expense_id != original);
            }
            return;
        }
        let Some(category) = category_of(event::s(&d.category)) else {
            return;
        };
        let booking_id = event::opt_s(&d.booking_id);
        let capped_kind = booking_id.is_some() || category == ExpenseCategory::Gift;
        if event::s(&d.paid_by) != "company" || !capped_kind || expense_id.is_empty() {
            return;
        }
        let doc = self.what_if.entry(visit_id);
        let basis = booking_id.as_deref().and_then(|b| {
            doc.bases
                .iter()
                .find(|(id, basis)| {
                    id == b
                        && (basis.category() == ExpenseCategory::Gift)
                            == (category == ExpenseCategory::Gift)
                })
                .map(|(_, basis)| *basis)
        });
        doc.expenses.push(CappedExpense {
            expense_id: expense_id.to_string(),
            booking_id,
            basis,
            category,
            level: event::opt_s(&d.level).and_then(|l| LevelId::parse(&l).ok()),
            spent_at: event::t(&d.spent_at).unwrap_or(ev.occurred_at),
            amount_fen: d.amount_fen.unwrap_or(0),
            cap_fen: d.cap_fen,
            over_cap: d.over_cap.unwrap_or(false),
        });
    }

    /// The visits with a judged expense spent in `year` (in the company's time zone).
    pub(crate) fn what_if_visits(&self, year: i32) -> Vec<WhatIfVisit> {
        let tz = self.tz;
        self.what_if
            .map
            .iter()
            .filter(|(_, doc)| {
                doc.expenses
                    .iter()
                    .any(|e| e.spent_at.with_timezone(&tz).year() == year)
            })
            .map(|(visit_id, doc)| WhatIfVisit {
                visit_id: visit_id.clone(),
                department: self
                    .visits
                    .get(visit_id)
                    .map_or(String::new(), |v: &VisitDoc| v.bearer().to_string()),
                expenses: doc.expenses.clone(),
            })
            .collect()
    }
}
