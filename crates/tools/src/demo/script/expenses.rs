//! Money (V17, V18): the cash advance, every bill recorded against its booking (the
//! domain flags what is over the cap), the bills after the visit, and now and then a
//! correction by a reversing expense.

use chrono::{Datelike, Duration};
use rand::RngExt;
use reception_app::Target;
use reception_domain::policy::PaidBy;
use reception_domain::visit::Visit;
use reception_domain::Actor;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Books, Script};
use crate::demo::{round_yuan, Flow, Run, Time};

/// An expense as the generator tracks it.
pub(super) struct Exp {
    pub(super) id: Uuid,
    category: &'static str,
    pub(super) amount: i64,
    booking: Option<Uuid>,
    pub(super) company: bool,
    pub(super) over_cap: bool,
    pub(super) reversed: bool,
    pub(super) reversal: bool,
}

/// Issues a cash advance for the stay: always where the company pays the lodging, most
/// often otherwise (noted in `b`).
pub(super) async fn advance(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let stay_days = s.trip.stay_days;
    let advance = (s.lp.lodging.paid_by == PaidBy::Company || run.chance(0.7)).then(|| {
        let per_day = match s.spec.level {
            "ordinary" => 1500,
            "senior" => 3000,
            _ => 6000,
        };
        (stay_days + 1) * per_day * 100
    });
    b.advance = advance;
    if let Some(amount) = advance {
        run.exec::<Visit>(
            s.trip.prep(0.33),
            s.v,
            "issue-advance",
            json!({"amount_fen": amount}),
            &s.cast.finance,
        )
        .await?;
    }
    Ok(())
}

/// Records one bill with a receipt number and tracks it in `expenses`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_expense(
    run: &mut Run,
    when: Time,
    v: Target,
    who: &Actor,
    expenses: &mut Vec<Exp>,
    category: &'static str,
    amount: i64,
    booking: Option<Uuid>,
    company: bool,
) -> Result<(), Flow> {
    let receipt = format!(
        "FP{}{:08}",
        when.year(),
        run.rng.random_range(0..100_000_000u32)
    );
    let body = json!({"category": category, "amount_fen": amount, "receipt_no": receipt,
        "paid_by": if company { "company" } else { "visitor" }, "booking_id": booking});
    let o = run
        .exec::<Visit>(when, v, "record-expense", body, who)
        .await?;
    let data = run.last_data(&o)?;
    let over_cap = data
        .get("over_cap")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let id = data
        .get("expense_id")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_else(Uuid::nil);
    if over_cap {
        run.summary.over_cap_expenses += 1;
    }
    expenses.push(Exp {
        id,
        category,
        amount,
        booking,
        company,
        over_cap,
        reversed: false,
        reversal: false,
    });
    Ok(())
}

/// The bills of the meals eaten before `day_end` less an hour, sometimes with a
/// separate bill for drinks.
pub(super) async fn meal_bills(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    day_end: Time,
) -> Result<(), Flow> {
    while let Some(m) = b
        .meals
        .get(b.next_meal)
        .copied()
        .filter(|m| m.at < day_end - Duration::hours(1))
    {
        b.next_meal += 1;
        let amount = round_yuan(m.budget as f64 * run.rng.random_range(0.75..1.12));
        let company_pays = run.chance(0.95);
        let who = if run.chance(0.4) {
            &s.cast.finance
        } else {
            &s.cast.reception
        };
        let at = m.at + Duration::minutes(100);
        let meal = Some(m.booking);
        record_expense(
            run,
            at,
            s.v,
            who,
            &mut b.expenses,
            "meal",
            amount,
            meal,
            company_pays,
        )
        .await?;
        // A separate bill for drinks, judged against the same booking's cap.
        if company_pays && run.chance(0.4) {
            let drinks = round_yuan(m.budget as f64 * run.rng.random_range(0.1..0.3));
            let at = m.at + Duration::minutes(110);
            record_expense(
                run,
                at,
                s.v,
                who,
                &mut b.expenses,
                "meal",
                drinks,
                meal,
                true,
            )
            .await?;
        }
    }
    Ok(())
}

/// The bills recorded after the departure: meals not billed yet, company-paid lodging,
/// entertainment, cars, gifts, and sometimes a venue or another cost.
pub(super) async fn after_visit(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let after = s.trip.departure + Duration::hours(2);
    let (v, finance) = (s.v, &s.cast.finance);
    let ex = &mut b.expenses;
    for m in &b.meals[b.next_meal..] {
        let amount = round_yuan(m.budget as f64 * run.rng.random_range(0.75..1.12));
        record_expense(
            run,
            after,
            v,
            finance,
            ex,
            "meal",
            amount,
            Some(m.booking),
            true,
        )
        .await?;
    }
    b.next_meal = b.meals.len();
    if let Some((booking, total, true)) = b.lodging {
        record_expense(
            run,
            after,
            v,
            finance,
            ex,
            "lodging",
            total,
            Some(booking),
            true,
        )
        .await?;
    }
    if let Some((booking, budget, _)) = b.entertainment {
        let amount = round_yuan(budget as f64 * run.rng.random_range(0.8..1.05));
        let booking = Some(booking);
        record_expense(
            run,
            after,
            v,
            finance,
            ex,
            "entertainment",
            amount,
            booking,
            true,
        )
        .await?;
    }
    for _ in 0..b.cars {
        let amount = run.rng.random_range(200..1500) * 100;
        record_expense(run, after, v, finance, ex, "car", amount, None, true).await?;
    }
    for (_, total) in &b.souvenirs {
        record_expense(run, after, v, finance, ex, "gift", *total, None, true).await?;
    }
    if run.chance(0.15) {
        let amount = run.rng.random_range(15..50) * 10_000;
        record_expense(run, after, v, finance, ex, "venue", amount, None, true).await?;
    }
    if run.chance(0.25) {
        let amount = run.rng.random_range(100..800) * 100;
        record_expense(run, after, v, finance, ex, "other", amount, None, true).await?;
    }
    Ok(())
}

/// Sometimes corrects a bill: a reversing expense, then the right amount.
pub(super) async fn correction(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if !run.chance(0.1) {
        return Ok(());
    }
    let expenses = &mut b.expenses;
    let Some(k) = expenses.iter().position(|e| !e.reversal && !e.reversed) else {
        return Ok(());
    };
    let after = s.trip.departure + Duration::hours(2);
    let (v, finance) = (s.v, &s.cast.finance);
    let (category, amount, booking, company_pays, orig) = (
        expenses[k].category,
        expenses[k].amount,
        expenses[k].booking,
        expenses[k].company,
        expenses[k].id,
    );
    let body = json!({"category": category, "amount_fen": amount, "receipt_no": format!("RV-{}", run.rng.random_range(100_000..999_999)),
        "paid_by": if company_pays { "company" } else { "visitor" }, "booking_id": booking, "reverses": orig});
    let o = run
        .exec::<Visit>(
            after + Duration::hours(20),
            v,
            "record-expense",
            body,
            finance,
        )
        .await?;
    expenses[k].reversed = true;
    let id = run.entity(&o, "expense_id")?;
    expenses.push(Exp {
        id,
        category,
        amount,
        booking,
        company: company_pays,
        over_cap: false,
        reversed: false,
        reversal: true,
    });
    let corrected = (amount * 9 / 10 / 100).max(1) * 100;
    let when = after + Duration::hours(21);
    record_expense(
        run,
        when,
        v,
        finance,
        expenses,
        category,
        corrected,
        booking,
        company_pays,
    )
    .await?;
    Ok(())
}
