//! V17: the cap a booking sets on the expenses recorded against it, and the company's
//! spending on it so far.

use uuid::Uuid;

use super::meal_cap;
use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::policy_book::{CapKind, LevelPolicy, PaidBy};
use crate::visit_state::{ExpenseCategory, Visit};

impl Visit {
    pub(super) fn cap_for_booking(
        &self,
        booking_id: Uuid,
        category: ExpenseCategory,
        ctx: &Context,
    ) -> Result<Option<Fen>, DomainError> {
        let (lp, _, _) = self.level_policy(ctx, "judging an expense")?;
        self.cap_under(lp, booking_id, category)
    }

    /// The cap `lp` sets on a booking of this visit (the what-if analysis asks it of a
    /// proposed level policy).
    pub(crate) fn cap_under(
        &self,
        lp: &LevelPolicy,
        booking_id: Uuid,
        category: ExpenseCategory,
    ) -> Result<Option<Fen>, DomainError> {
        let wrong = |kind: &str| {
            DomainError::invalid(
                "booking_id",
                format!("booking {booking_id} is a {kind} booking, not {category:?}"),
            )
            .with_rule("V17")
        };
        if let Some(b) = self
            .bookings
            .meals
            .iter()
            .find(|b| b.booking_id == booking_id)
        {
            if category != ExpenseCategory::Meal {
                return Err(wrong("meal"));
            }
            return Ok(lp.cap_for(meal_cap(b.meal), b.party_size.get()));
        }
        if let Some(b) = self
            .bookings
            .entertainment
            .iter()
            .find(|b| b.booking_id == booking_id)
        {
            if category != ExpenseCategory::Entertainment {
                return Err(wrong("entertainment"));
            }
            return Ok(Some(
                lp.cap_for(CapKind::Entertainment, b.party_size.get())
                    .unwrap_or(Fen::ZERO),
            ));
        }
        if let Some(b) = self
            .bookings
            .lodging
            .iter()
            .find(|b| b.booking_id == booking_id)
        {
            if category != ExpenseCategory::Lodging {
                return Err(wrong("lodging"));
            }
            return Ok(lp.lodging_cap(b.rooms.get(), b.nights.get()));
        }
        Err(DomainError::not_found(
            "booking_id",
            format!("no booking {booking_id} in this visit"),
        ))
    }

    /// Company spending already recorded against a booking (reversed expenses and
    /// reversals excluded).
    pub(super) fn spent_on(&self, booking_id: Uuid) -> Fen {
        self.expenses
            .iter()
            .filter(|e| {
                e.recorded.booking_id == Some(booking_id)
                    && e.recorded.paid_by == PaidBy::Company
                    && e.recorded.reverses.is_none()
                    && e.reversed_by.is_none()
            })
            .fold(Fen::ZERO, |acc, e| {
                acc.checked_add(e.recorded.amount_fen).unwrap_or(acc)
            })
    }
}
