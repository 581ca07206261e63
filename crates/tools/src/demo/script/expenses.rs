//! Money (V17, V18, V24): the cash advance, every bill recorded against its booking
//! (the domain flags what is over the cap) with when it was spent, what for and where,
//! the bills after the visit (gifts against their souvenir's item cap, the small
//! purchases by subcategory), and now and then a correction by a reversing expense.

use chrono::{Datelike, Duration};
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_app::Target;
use reception_domain::policy::PaidBy;
use reception_domain::visit::Visit;
use reception_domain::Actor;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{round_yuan, Flow, Run, Time};

/// One bill as recorded (V17, V24).
#[derive(Clone)]
pub(super) struct Bill {
    pub(super) category: &'static str,
    pub(super) amount: i64,
    pub(super) booking: Option<Uuid>,
    pub(super) company: bool,
    /// When the money was spent: never after the recording.
    pub(super) spent_at: Time,
    pub(super) description: String,
    pub(super) vendor: Option<String>,
    pub(super) subcategory: Option<&'static str>,
}

impl Bill {
    /// A company-paid bill without booking or subcategory.
    pub(super) fn company(
        category: &'static str,
        amount: i64,
        spent_at: Time,
        description: impl Into<String>,
        vendor: Option<&str>,
    ) -> Bill {
        Bill {
            category,
            amount,
            booking: None,
            company: true,
            spent_at,
            description: description.into(),
            vendor: vendor.map(String::from),
            subcategory: None,
        }
    }

    fn body(&self, receipt: String, spent_at: Time) -> Value {
        json!({"category": self.category, "amount_fen": self.amount, "receipt_no": receipt,
            "paid_by": if self.company { "company" } else { "visitor" }, "booking_id": self.booking,
            "spent_at": spent_at, "description": self.description, "vendor": self.vendor,
            "subcategory": self.subcategory})
    }
}

/// An expense as the generator tracks it.
pub(super) struct Exp {
    pub(super) id: Uuid,
    pub(super) bill: Bill,
    pub(super) amount: i64,
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

/// Records one bill with a receipt number at `when` (its `spent_at` kept no later than
/// the recording) and tracks it in `expenses`; returns the expense's id.
pub(super) async fn record_expense(
    run: &mut Run,
    when: Time,
    v: Target,
    who: &Actor,
    expenses: &mut Vec<Exp>,
    bill: Bill,
) -> Result<Uuid, Flow> {
    let receipt = format!(
        "FP{}{:08}",
        when.year(),
        run.rng.random_range(0..100_000_000u32)
    );
    let body = bill.body(receipt, bill.spent_at.min(when));
    let o = run
        .exec::<Visit>(when, v, "record-expense", body, who)
        .await?;
    let data = run.last_data(&o)?;
    let flag = |k: &str| data.get(k).and_then(Value::as_bool).unwrap_or(false);
    let (over_cap, after_close) = (flag("over_cap"), flag("after_close"));
    let id = data
        .get("expense_id")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_else(Uuid::nil);
    run.summary.over_cap_expenses += u64::from(over_cap);
    run.summary.late_expenses += u64::from(after_close);
    expenses.push(Exp {
        id,
        amount: bill.amount,
        company: bill.company,
        bill,
        over_cap,
        reversed: false,
        reversal: false,
    });
    Ok(id)
}

/// The bills of the meals eaten before `day_end` less an hour, sometimes with a
/// separate bill for the liquor.
pub(super) async fn meal_bills(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    day_end: Time,
) -> Result<(), Flow> {
    while let Some(m) = b
        .meals
        .get(b.next_meal)
        .cloned()
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
        let paid = m.at + Duration::minutes(90);
        let bill = Bill {
            booking: Some(m.booking),
            company: company_pays,
            subcategory: None,
            ..Bill::company(
                "meal",
                amount,
                paid,
                format!("{} for {} visitors", m.kind, m.party),
                Some(&m.venue),
            )
        };
        record_expense(
            run,
            paid + Duration::minutes(10),
            s.v,
            who,
            &mut b.expenses,
            bill,
        )
        .await?;
        // A separate bill for the liquor, judged against the same booking's cap.
        if company_pays && run.chance(0.4) {
            let drinks = round_yuan(m.budget as f64 * run.rng.random_range(0.1..0.3));
            let what = *[
                "2 bottles of Moutai",
                "Fenjiu baijiu",
                "Tsingtao beer",
                "Changyu red wine",
            ]
            .choose(&mut run.rng)
            .expect("non-empty");
            let bill = Bill {
                booking: Some(m.booking),
                subcategory: Some("liquor"),
                ..Bill::company("meal", drinks, paid, what, Some(&m.venue))
            };
            record_expense(
                run,
                paid + Duration::minutes(20),
                s.v,
                who,
                &mut b.expenses,
                bill,
            )
            .await?;
        }
    }
    Ok(())
}

/// The bills recorded after the departure: meals not billed yet, company-paid lodging,
/// entertainment, cars, gifts, small purchases, and sometimes a venue.
pub(super) async fn after_visit(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let after = s.trip.departure + Duration::hours(2);
    let mut bills = Vec::new();
    for m in &b.meals[b.next_meal..] {
        let amount = round_yuan(m.budget as f64 * run.rng.random_range(0.75..1.12));
        let what = format!("{} for {} visitors", m.kind, m.party);
        let spent = m.at + Duration::minutes(90);
        bills.push(Bill {
            booking: Some(m.booking),
            ..Bill::company("meal", amount, spent, what, Some(&m.venue))
        });
    }
    b.next_meal = b.meals.len();
    if let Some(l) = b.lodging.as_ref().filter(|l| l.company_pays) {
        let checkout = s.trip.departure - Duration::hours(3);
        let what = format!("{} nights for the delegation", s.trip.stay_days);
        bills.push(Bill {
            booking: Some(l.booking),
            ..Bill::company("lodging", l.total, checkout, what, Some(l.hotel))
        });
    }
    if let Some((booking, budget, at, kind)) = b.entertainment {
        let amount = round_yuan(budget as f64 * run.rng.random_range(0.8..1.05));
        let tickets = kind.contains("sightseeing") || kind.contains("trip");
        bills.push(Bill {
            booking: Some(booking),
            subcategory: tickets.then_some("tickets"),
            ..Bill::company(
                "entertainment",
                amount,
                at + Duration::hours(2),
                kind,
                Some(kind),
            )
        });
    }
    for (leg, ready) in &b.cars {
        let amount = run.rng.random_range(200..1500) * 100;
        let what = format!("{leg} car");
        bills.push(Bill::company(
            "car",
            amount,
            *ready + Duration::hours(1),
            what,
            Some("company motor pool"),
        ));
    }
    for g in &b.souvenirs {
        let shop = *names::GIFT_SHOPS.choose(&mut run.rng).expect("non-empty");
        let what = format!("{} × {}", g.item, g.quantity);
        let spent = g.planned_at + Duration::days(1);
        bills.push(Bill {
            booking: Some(g.id),
            ..Bill::company(
                "gift",
                g.unit_fen * g.quantity as i64,
                spent,
                what,
                Some(shop),
            )
        });
    }
    extras(run, s, &mut bills);
    for bill in bills {
        record_expense(run, after, s.v, &s.cast.finance, &mut b.expenses, bill).await?;
    }
    Ok(())
}

/// The small purchases of a visit, by subcategory: flowers for the arrival, fruit and
/// tea for the meeting room, cigarettes for the banquet, the return tickets, a venue.
fn extras(run: &mut Run, s: &Script<'_>, bills: &mut Vec<Bill>) {
    let (arrival, departure) = (s.trip.arrival, s.trip.departure);
    let mut add = |run: &mut Run,
                   p: f64,
                   sub: &'static str,
                   yuan: (i64, i64),
                   what: &str,
                   shop: &str,
                   at: Time| {
        if run.chance(p) {
            let amount = run.rng.random_range(yuan.0..yuan.1) * 100;
            bills.push(Bill {
                subcategory: Some(sub),
                ..Bill::company("other", amount, at, what, Some(shop))
            });
        }
    };
    let before = arrival - Duration::hours(2);
    add(
        run,
        0.4,
        "flowers",
        (150, 400),
        "welcome bouquet",
        "Quancheng Flower Shop",
        before,
    );
    let room = if s.trip.meeting_room { 0.6 } else { 0.0 };
    add(
        run,
        room,
        "fruit",
        (80, 200),
        "fruit for the meeting room",
        "Jiajiayue Supermarket",
        before,
    );
    add(
        run,
        room,
        "tea",
        (200, 600),
        "Longjing tea for the meeting room",
        "Wuyutai Tea House",
        before,
    );
    add(
        run,
        0.15,
        "tobacco",
        (400, 900),
        "Zhonghua cigarettes for the banquet",
        "Jiajiayue Supermarket",
        arrival,
    );
    if s.trip.return_tickets {
        // Booked by reception (V26); most customers pay their own tickets.
        let per_head = if s.trip.mode == "flight" {
            (800, 2500)
        } else {
            (300, 700)
        };
        let n = s.trip.headcount as i64;
        let amount = run.rng.random_range(per_head.0 * n..per_head.1 * n) * 100;
        let what = format!("return tickets for {n}");
        bills.push(Bill {
            company: run.chance(0.3),
            subcategory: Some("tickets"),
            ..Bill::company(
                "other",
                amount,
                departure - Duration::days(1),
                what,
                Some("Ctrip"),
            )
        });
    }
    if run.chance(0.15) {
        let amount = run.rng.random_range(15..50) * 10_000;
        bills.push(Bill::company(
            "venue",
            amount,
            arrival,
            "conference hall for the presentation",
            Some("Shandong Hotel conference center"),
        ));
    }
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
    let (orig, bill) = (expenses[k].id, expenses[k].bill.clone());
    let mut body = bill.body(
        format!("RV-{}", run.rng.random_range(100_000..999_999)),
        bill.spent_at,
    );
    body["reverses"] = json!(orig);
    body["description"] = json!(format!("reversal: {}", bill.description));
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
    let id = run.entity(&o)?;
    expenses.push(Exp {
        id,
        amount: bill.amount,
        company: bill.company,
        bill: bill.clone(),
        over_cap: false,
        reversed: false,
        reversal: true,
    });
    let corrected = Bill {
        amount: (bill.amount * 9 / 10 / 100).max(1) * 100,
        ..bill
    };
    let when = after + Duration::hours(21);
    record_expense(run, when, v, finance, expenses, corrected).await?;
    Ok(())
}
