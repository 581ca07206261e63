//! V17: expenses recorded against their bookings' caps (V25: gifts against the item
//! cap), with what and when (V24), also after the visit closed (V31); and the
//! approver's decision on an over-cap one.

use super::yuan;
use crate::common::{DomainError, Fen};
use crate::context::Context;
use crate::policy_book::PaidBy;
use crate::visit_state::*;

/// V17: an expense with its cap judgement: a meal, entertainment or lodging expense
/// names its booking and is over cap when the company's spending on it passes the cap;
/// a reversal repeats the original's category and amount.
pub(crate) fn record_expense(
    visit: &Visit,
    c: RecordExpense,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    if c.amount_fen == Fen::ZERO {
        return Err(
            DomainError::invalid("amount_fen", "an expense amount must be more than 0")
                .with_rule("V17"),
        );
    }
    if c.spent_at > ctx.now {
        return Err(DomainError::invalid(
            "spent_at",
            "the money was spent in the future; spent_at is when it was paid",
        )
        .with_rule("V24"));
    }
    let needs_booking = matches!(
        c.category,
        ExpenseCategory::Meal | ExpenseCategory::Entertainment | ExpenseCategory::Lodging
    );
    let mut booking_id = c.booking_id;
    let (mut cap_fen, mut over_cap) = (None, false);
    if let Some(orig_id) = c.reverses {
        let orig = visit
            .expenses
            .iter()
            .find(|e| e.recorded.expense_id == orig_id)
            .ok_or_else(|| {
                DomainError::not_found("reverses", format!("no expense {orig_id} in this visit"))
            })?;
        if orig.recorded.reverses.is_some() {
            return Err(DomainError::invalid(
                "reverses",
                "a reversal cannot itself be reversed; record a new expense",
            )
            .with_rule("V17"));
        }
        if orig.reversed_by.is_some() {
            return Err(DomainError::invalid(
                "reverses",
                format!("expense {orig_id} is already reversed"),
            )
            .with_rule("V17"));
        }
        if orig.recorded.amount_fen != c.amount_fen || orig.recorded.category != c.category {
            return Err(DomainError::invalid(
                "amount_fen",
                format!(
                    "a reversal repeats the original's category and amount ({:?}, {})",
                    orig.recorded.category,
                    yuan(orig.recorded.amount_fen)
                ),
            )
            .with_rule("V17"));
        }
        booking_id = orig.recorded.booking_id;
    } else if needs_booking {
        let Some(b) = c.booking_id else {
            return Err(DomainError::invalid(
                "booking_id",
                format!("a {:?} expense names the booking it pays for", c.category).to_lowercase(),
            )
            .with_rule("V17"));
        };
        let cap = visit.cap_for_booking(b, c.category, ctx)?;
        if c.paid_by == PaidBy::Company {
            cap_fen = cap;
            if let Some(cap) = cap {
                let total = visit
                    .spent_on(b)
                    .checked_add(c.amount_fen)
                    .unwrap_or(c.amount_fen);
                over_cap = total > cap;
            }
        }
    } else if c.category == ExpenseCategory::Gift {
        (cap_fen, over_cap) = gift_cap(visit, &c, ctx)?;
    } else if c.booking_id.is_some() {
        return Err(DomainError::invalid(
            "booking_id",
            "only meal, entertainment, lodging and gift expenses name a booking",
        ));
    }
    let (level, policy_version) = (visit.level.clone(), visit.policy_version);
    Ok(VisitEvent::ExpenseRecorded(ExpenseRecorded {
        expense_id: ctx.entity_id,
        category: c.category,
        amount_fen: c.amount_fen,
        paid_by: c.paid_by,
        receipt_no: c.receipt_no,
        booking_id,
        reverses: c.reverses,
        cap_fen,
        over_cap,
        level,
        policy_version,
        recorded_at: ctx.now,
        spent_at: c.spent_at,
        description: Some(c.description),
        vendor: c.vendor,
        subcategory: c.subcategory,
        after_close: visit.is_finished(),
    }))
}

/// V25: a gift expense against the level's item cap: the souvenir it names (its
/// `booking_id`) caps it at item cap × quantity, else it is judged as one item.
/// Uncapped levels and visits without a level judge nothing.
fn gift_cap(
    visit: &Visit,
    c: &RecordExpense,
    ctx: &Context,
) -> Result<(Option<Fen>, bool), DomainError> {
    let souvenir = match c.booking_id {
        None => None,
        Some(id) => Some(
            visit
                .souvenirs
                .iter()
                .find(|s| s.planned.souvenir_id == id)
                .ok_or_else(|| {
                    DomainError::not_found(
                        "booking_id",
                        format!("no souvenir {id} in this visit (a gift names a souvenir)"),
                    )
                })?,
        ),
    };
    if visit.level.is_none() || c.paid_by != PaidBy::Company {
        return Ok((None, false));
    }
    let (lp, _, _) = visit.level_policy(ctx, "judging a gift")?;
    let Some(item_cap) = lp.gift_item_cap_fen else {
        return Ok((None, false));
    };
    let items = souvenir.map_or(1, |s| i64::from(s.planned.quantity.get()));
    let cap = item_cap.checked_mul(items).unwrap_or(item_cap);
    let spent = souvenir
        .map_or(Fen::ZERO, |s| visit.spent_on(s.planned.souvenir_id))
        .checked_add(c.amount_fen)
        .unwrap_or(c.amount_fen);
    Ok((Some(cap), spent > cap))
}

/// V17: the approver approves or rejects an over-cap expense, once.
pub(crate) fn decide_expense(
    visit: &Visit,
    c: DecideExpense,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    let e = visit
        .expenses
        .iter()
        .find(|e| e.recorded.expense_id == c.expense_id)
        .ok_or_else(|| {
            DomainError::not_found(
                "expense_id",
                format!("no expense {} in this visit", c.expense_id),
            )
        })?;
    if !e.recorded.over_cap {
        return Err(DomainError::state(
            "this expense is within its cap; only over-cap expenses are decided",
        )
        .with_rule("V17"));
    }
    if e.decision.is_some() {
        return Err(DomainError::state("this expense is already decided"));
    }
    if !c.approved && c.comments.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(DomainError::invalid(
            "comments",
            "a rejection needs comments (the spender reimburses)",
        ));
    }
    let d = ExpenseDecided {
        expense_id: c.expense_id,
        comments: c.comments,
        decided_at: now,
    };
    Ok(if c.approved {
        VisitEvent::ExpenseApproved(d)
    } else {
        VisitEvent::ExpenseRejected(d)
    })
}
