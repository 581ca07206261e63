//! Closing: the cancellation of a visit that does not happen (V19), and after a visit
//! the return call (V14, V30: safe arrival, suggestions, now and then a complaint), the
//! summary (V15), the over-cap decisions (V17), the advance's settlement (V18) and the
//! close (V16).

use chrono::Duration;
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_app::App;
use reception_domain::complaint::Complaint;
use reception_domain::visit::Visit;
use serde_json::json;
use uuid::Uuid;

use super::expenses::{record_expense, Bill};
use super::{Books, Script};
use crate::demo::{complaint, names, ComplaintKind, Fate, Flow, Run, VisitLife};

/// Cancels the visit before it happens, sometimes after a venue deposit was paid.
pub(super) async fn cancel(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    if run.chance(0.5) {
        let when = s.trip.prep(0.6);
        let bill = Bill::company(
            "venue",
            200_000,
            when - Duration::hours(2),
            "deposit for the conference hall",
            Some("Shandong Hotel conference center"),
        );
        record_expense(run, when, s.v, &s.cast.finance, &mut b.expenses, bill).await?;
    }
    let reason = *[
        "the customer postponed the trip indefinitely",
        "flights cancelled by the typhoon",
        "the delegation's visa was refused",
    ]
    .choose(&mut run.rng)
    .expect("non-empty");
    run.exec::<Visit>(
        s.trip.prep(0.65),
        s.v,
        "cancel",
        json!({"reason": reason}),
        &s.cast.reception,
    )
    .await?;
    Ok(())
}

/// Calls the visitors once they are home: sometimes unreached once or three times. A
/// reached call asks whether they arrived safely and for suggestions; a minor
/// complaint of the visit is raised in the call (V30), noted in `life`.
pub(super) async fn return_call(
    run: &mut Run,
    s: &Script<'_>,
    life: &mut VisitLife,
) -> Result<(), Flow> {
    let (v, reception) = (s.v, &s.cast.reception);
    let home_at = s.trip.home.unwrap_or(s.trip.departure + Duration::hours(4));
    let mut call_at = home_at + run.minutes(120, 18 * 60);
    let failures = if run.chance(0.04) {
        3
    } else if run.chance(0.25) {
        1
    } else {
        0
    };
    for _ in 0..failures {
        run.exec::<Visit>(
            call_at,
            v,
            "return-call",
            json!({"reached": false}),
            reception,
        )
        .await?;
        call_at += run.minutes(180, 360);
    }
    if failures < 3 {
        let satisfaction = *[5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1]
            .choose(&mut run.rng)
            .expect("non-empty");
        let mut body = json!({"reached": true, "products": "the new series meets their needs", "corporate_image": "professional, well organised",
            "reception": if satisfaction >= 4 { "warm and attentive" } else { "the schedule was too tight" }, "satisfaction": satisfaction,
            "arrived_safely": !run.chance(0.03)});
        if run.chance(0.5) {
            body["suggestions"] = json!(names::SUGGESTIONS.choose(&mut run.rng));
        }
        let raises = s.spec.fate == Fate::Complaint(ComplaintKind::Minor);
        if raises {
            let (category, description) = complaint::pick(run, ComplaintKind::Minor);
            body["complaint"] =
                json!({"severity": "minor", "category": category, "description": description});
        }
        let o = run
            .exec::<Visit>(call_at, v, "return-call", body, reception)
            .await?;
        if raises {
            let data = run.last_data(&o)?;
            let id: Option<Uuid> = data
                .pointer("/complaint/complaint_id")
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            let id = id.ok_or_else(|| run.store_error("the call's complaint has no id"))?;
            run.count_stream::<Complaint>(&App::stream_name::<Complaint>(id))?;
            life.call_complaint = Some((id, run.clock));
        }
    }
    Ok(())
}

/// Files the summary, mostly within a day or two of the departure.
pub(super) async fn summary(run: &mut Run, s: &Script<'_>, b: &Books) -> Result<(), Flow> {
    let summary_at = s.trip.departure
        + Duration::hours(if run.chance(0.05) {
            run.rng.random_range(50..70)
        } else {
            run.rng.random_range(8..40)
        });
    let (purpose, confirmed) = (&s.trip.purpose, b.confirmed.len());
    run.exec::<Visit>(
        summary_at,
        s.v,
        "file-summary",
        json!({"results": format!("visit for {purpose} completed"), "outcomes": format!("{confirmed} cooperation matters confirmed"),
            "opinions": "customer satisfied overall", "recipients": ["reception office", s.company.department]}),
        &s.cast.reception,
    )
    .await?;
    Ok(())
}

/// Decides every over-cap expense still standing: most approved, some rejected.
pub(super) async fn decide_over_cap(run: &mut Run, s: &Script<'_>, b: &Books) -> Result<(), Flow> {
    let decide_at = s.trip.departure + Duration::hours(run.rng.random_range(24..72));
    let to_decide: Vec<Uuid> = b
        .expenses
        .iter()
        .filter(|e| e.over_cap && !e.reversed && !e.reversal)
        .map(|e| e.id)
        .collect();
    for id in to_decide {
        let body = if run.chance(0.75) {
            json!({"expense_id": id, "approved": true, "comments": "approved: customer's board attended"})
        } else {
            json!({"expense_id": id, "approved": false, "comments": "rejected: over the cap without reason; the host reimburses"})
        };
        run.exec::<Visit>(decide_at, s.v, "decide-expense", body, &s.cast.approver)
            .await?;
    }
    Ok(())
}

/// Settles the cash advance against the company-paid expenses, if one was issued.
pub(super) async fn settle(run: &mut Run, s: &Script<'_>, b: &Books) -> Result<(), Flow> {
    let Some(amount) = b.advance else {
        return Ok(());
    };
    let spent: i64 = b
        .expenses
        .iter()
        .filter(|e| e.company && !e.reversed && !e.reversal)
        .map(|e| e.amount)
        .sum();
    let receipts = spent.min(amount);
    let returned_items: Vec<&str> = if run.chance(0.2) {
        vec!["2 bottles of Moutai"]
    } else {
        vec![]
    };
    let settle_at = s.trip.departure + Duration::hours(run.rng.random_range(48..120));
    run.exec::<Visit>(
        settle_at,
        s.v,
        "settle-advance",
        json!({"receipts_fen": receipts, "cash_returned_fen": amount - receipts, "returned_items": returned_items}),
        &s.cast.finance,
    )
    .await?;
    Ok(())
}

/// Closes the visit an hour or a few after the last step (noted in `b`).
pub(super) async fn close(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let close_at = run.clock + run.minutes(60, 600);
    run.exec::<Visit>(close_at, s.v, "close", json!({}), &s.cast.reception)
        .await?;
    b.closed_at = Some(run.clock);
    Ok(())
}
