//! Complaints (C1–C5): one complaint's whole life by kind, the only place the demo
//! issues complaint commands.

use chrono::Duration;
use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_app::Target;
use reception_domain::complaint::Complaint;
use reception_domain::{Actor, Role};
use serde_json::json;
use uuid::Uuid;

use super::names::{self, Company};
use super::{actor, ComplaintKind, Flow, Run, Time};

/// How the complaint came in: raised on its own at the front desk (`raise`), or by the
/// visit's return call (V30), which the app already opened as a stream.
pub(super) enum Opening {
    Raise {
        category: &'static str,
        description: &'static str,
    },
    ByReturnCall(Uuid),
}

/// A complaint's category and description for its kind.
pub(super) fn pick(run: &mut Run, kind: ComplaintKind) -> (&'static str, &'static str) {
    let list = if kind == ComplaintKind::Major {
        names::COMPLAINTS_MAJOR
    } else {
        names::COMPLAINTS_MINOR
    };
    *list.choose(&mut run.rng).expect("non-empty")
}

/// A complaint's whole life by kind (C1–C5), from its opening at `raised`.
///
/// This is the one place the demo generates complaint commands: with the judgement
/// and work letter after the assignment (C8, C9), the customer's satisfaction on the
/// return visit and a case-library entry after closing (C11).
pub(super) async fn complaint_script(
    run: &mut Run,
    kind: ComplaintKind,
    visit_id: Uuid,
    company: &Company,
    raised: Time,
    opening: Opening,
) -> Result<(), Flow> {
    let reception = actor("li.na", Role::Reception);
    let major = kind == ComplaintKind::Major;
    let department = *["reception-office", "logistics", "catering", "hotel-liaison"]
        .choose(&mut run.rng)
        .expect("non-empty");
    let id = match opening {
        Opening::Raise {
            category,
            description,
        } => {
            let body = json!({"visit_id": visit_id, "customer": company.name, "severity": if major { "major" } else { "minor" },
                "category": category, "description": description});
            let o = run
                .exec::<Complaint>(raised, Target::Create, "raise", body, &reception)
                .await?;
            o.id
        }
        Opening::ByReturnCall(id) => id,
    };
    *run.summary.complaints.entry(kind).or_default() += 1;
    let c = Target::Id(id);
    let mut t = raised;
    if major {
        t += run.minutes(3, 9);
        run.exec::<Complaint>(
            t,
            c,
            "report",
            json!({"to": "head of the reception office"}),
            &reception,
        )
        .await?;
    }
    t += run.minutes(15, 50);
    run.exec::<Complaint>(
        t,
        c,
        "assign",
        json!({"department": department, "assignee": names::HOSTS[1]}),
        &reception,
    )
    .await?;
    t = judge_and_letter(run, c, t, department, &reception).await?;
    if !major {
        t += run.minutes(15, 50);
        run.exec::<Complaint>(
            t,
            c,
            "analyse",
            json!({"analysis": "dispatch planned without traffic margin"}),
            &reception,
        )
        .await?;
    }
    t = toward_solution(run, c, kind, raised, t, &reception).await?;
    t += run.minutes(24 * 60, 4 * 24 * 60);
    run.exec::<Complaint>(
        t,
        c,
        "resolve",
        json!({"resolution": "measures agreed with the customer carried out"}),
        &reception,
    )
    .await?;
    t += run.minutes(120, 20 * 60);
    let mode = if kind == ComplaintKind::Minor {
        "phone"
    } else {
        "in_person"
    };
    let satisfaction = *[2, 3, 4, 4, 5, 5].choose(&mut run.rng).expect("non-empty");
    let suggestions = run
        .rng
        .random_bool(0.5)
        .then_some("tell us earlier when plans change");
    run.exec::<Complaint>(
        t,
        c,
        "return-visit",
        json!({"mode": mode, "notes": "customer accepts the resolution",
               "satisfaction": satisfaction, "suggestions": suggestions}),
        &reception,
    )
    .await?;
    t += run.minutes(30, 120);
    run.exec::<Complaint>(t, c, "close", json!({}), &reception)
        .await?;
    // C11: one closed complaint in five becomes a case the office learns from.
    if run.rng.random_bool(0.2) {
        t += run.minutes(60, 3 * 24 * 60);
        let title = format!("{} — {}", company.name, department);
        run.exec::<Complaint>(
            t,
            c,
            "add-to-case-library",
            json!({"title": title, "lesson": "plan transport with a traffic margin and confirm by phone an hour before"}),
            &reception,
        )
        .await?;
    }
    Ok(())
}

/// The path each kind of complaint takes to its solution (C2–C4): feedback for a
/// minor one; an escalation by staff or by the system; the report and the agreed
/// solution of a major one. Returns the clock.
async fn toward_solution(
    run: &mut Run,
    c: Target,
    kind: ComplaintKind,
    raised: Time,
    mut t: Time,
    reception: &Actor,
) -> Result<Time, Flow> {
    let major = kind == ComplaintKind::Major;
    match kind {
        ComplaintKind::Minor => {
            t += run.minutes(120, 20 * 60);
            run.exec::<Complaint>(
                t,
                c,
                "feedback",
                json!({"text": "apologised and explained the measures taken"}),
                reception,
            )
            .await?;
        }
        ComplaintKind::Major => {}
        ComplaintKind::EscalatedByStaff => {
            t += run.minutes(120, 10 * 60);
            run.exec::<Complaint>(
                t,
                c,
                "feedback",
                json!({"text": "first answer given to the customer"}),
                reception,
            )
            .await?;
            t += run.minutes(2 * 24 * 60, 5 * 24 * 60);
            run.exec::<Complaint>(
                t,
                c,
                "escalate",
                json!({"reason": "the promised service was not delivered after repeated requests"}),
                reception,
            )
            .await?;
        }
        ComplaintKind::EscalatedAutomatically => {
            t = raised + Duration::days(10) + run.minutes(1, 60);
            run.exec::<Complaint>(
                t,
                c,
                "escalate",
                json!({"reason": "C4: unresolved 10 days after it was raised"}),
                &Actor::system(),
            )
            .await?;
        }
    }
    if kind != ComplaintKind::Minor {
        if !major {
            t += run.minutes(3, 9);
            run.exec::<Complaint>(
                t,
                c,
                "report",
                json!({"to": "head of the reception office"}),
                reception,
            )
            .await?;
        }
        t += run.minutes(180, 11 * 60);
        run.exec::<Complaint>(t, c, "agree-solution", json!({"solution": "free service visit and a written apology from the general manager"}), reception)
            .await?;
    }
    Ok(t)
}

/// C8 and C9 after the assignment: the department judges the complaint (one in seven
/// unreasonable); a third of them need another department, which gets a work letter
/// with a two-day deadline and answers it, one in four late. Returns the clock.
async fn judge_and_letter(
    run: &mut Run,
    c: Target,
    mut t: Time,
    department: &str,
    reception: &Actor,
) -> Result<Time, Flow> {
    t += run.minutes(5, 40);
    let valid = !run.rng.random_bool(1.0 / 7.0);
    let explanation = if valid {
        "our dispatch caused the delay; the customer is right"
    } else {
        "the customer changed the pickup place without telling us"
    };
    run.exec::<Complaint>(
        t,
        c,
        "judge",
        json!({"valid": valid, "explanation": explanation}),
        reception,
    )
    .await?;
    if !run.rng.random_bool(1.0 / 3.0) {
        return Ok(t);
    }
    let other = if department == "logistics" {
        "catering"
    } else {
        "logistics"
    };
    t += run.minutes(10, 60);
    let due = t + Duration::days(2);
    let sent = run
        .exec::<Complaint>(
            t,
            c,
            "work-letter",
            json!({"department": other, "text": "please check the driver's schedule for that day", "due": due.to_rfc3339()}),
            reception,
        )
        .await?;
    let answered = if run.rng.random_bool(0.25) {
        due + run.minutes(60, 24 * 60)
    } else {
        t + run.minutes(120, 40 * 60)
    };
    run.exec::<Complaint>(
        answered,
        c,
        "answer-letter",
        json!({"letter_id": sent.entity_id, "text": "the driver was sent to the wrong terminal; retrained"}),
        reception,
    )
    .await?;
    Ok(t.max(answered))
}
