//! V17: the cap a booking sets on the expenses recorded against it, and the company's
//! spending on it so far.

use uuid::Uuid;

use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::policy_book::{LevelPolicy, PaidBy};
use crate::visit::what_if::CapBasis;
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
        let basis = self.booking_basis(booking_id).ok_or_else(|| {
            DomainError::not_found(
                "booking_id",
                format!("no booking {booking_id} in this visit"),
            )
        })?;
        if basis.category() != category {
            let kind = match basis {
                CapBasis::Meal { .. } => "meal",
                CapBasis::Entertainment { .. } => "entertainment",
                CapBasis::Lodging { .. } | CapBasis::Souvenir { .. } => "lodging",
            };
            return Err(DomainError::invalid(
                "booking_id",
                format!("booking {booking_id} is a {kind} booking, not {category:?}"),
            )
            .with_rule("V17"));
        }
        Ok(basis.cap_under(lp))
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
