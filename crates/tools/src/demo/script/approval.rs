//! The request's approval (V22): the requesting department's manager approves, and for
//! a special visit the general manager too, a different person; some requests come
//! back with comments and are amended by the requester first, a few are rejected.

use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_app::Target;
use reception_domain::policy::{ApprovalRole, LevelId, PolicyBook};
use reception_domain::visit::Visit;
use reception_domain::Actor;
use serde_json::{json, Value};

use super::{Cast, Trip};
use crate::demo::names;
use crate::demo::{Fate, Flow, Run, VisitSpec};

/// The approvals the policy in force asks of the visit's levels (the first assigned
/// one and the final one), department manager first.
fn needed(run: &Run, book: &PolicyBook, spec: &VisitSpec) -> Vec<ApprovalRole> {
    let Some(policy) = book.in_force(run.clock) else {
        return Vec::new();
    };
    let mut roles: Vec<ApprovalRole> = [Some(spec.level), spec.first_level]
        .into_iter()
        .flatten()
        .filter_map(|l| policy.level(&LevelId::parse(l).ok()?))
        .flat_map(|lp| lp.approvals.iter().copied())
        .collect();
    roles.sort_by_key(|r| *r != ApprovalRole::DepartmentManager);
    roles.dedup();
    roles
}

/// Who gives an approval: two different people (V22).
fn approver(role: ApprovalRole, cast: &Cast) -> &Actor {
    match role {
        ApprovalRole::DepartmentManager => &cast.manager,
        ApprovalRole::GeneralManager => &cast.general_manager,
    }
}

fn decision(decision: &str, role: ApprovalRole, comments: Option<&str>) -> Value {
    json!({"decision": decision, "as": role.as_str(), "comments": comments})
}

/// Runs the approvals; `false` when the request is rejected (the visit ends there).
pub(super) async fn approve(
    run: &mut Run,
    book: &PolicyBook,
    spec: &VisitSpec,
    trip: &mut Trip<'_>,
    cast: &Cast,
    v: Target,
) -> Result<bool, Flow> {
    let roles = needed(run, book, spec);
    if roles.is_empty() {
        return Ok(true);
    }
    let [t1, t2, t3, t_first, t4] = [0.008, 0.015, 0.022, 0.026, 0.03].map(|f| trip.prep(f));
    // The last approval returns or rejects: the department manager's, or the general
    // manager's after the department manager approved.
    let last = *roles.last().expect("non-empty");
    if spec.returned || spec.fate == Fate::Rejected {
        for role in &roles[..roles.len() - 1] {
            let body = decision("approve", *role, None);
            run.exec::<Visit>(t1, v, "approve-request", body, approver(*role, cast))
                .await?;
        }
        if spec.fate == Fate::Rejected {
            let why = *[
                "no budget left in the department this quarter",
                "the customer's account is on hold with finance",
                "the same delegation visited last month; handle it by video call",
            ]
            .choose(&mut run.rng)
            .expect("non-empty");
            let body = decision("reject", last, Some(why));
            run.exec::<Visit>(t2, v, "approve-request", body, approver(last, cast))
                .await?;
            return Ok(false);
        }
        let (comments, amendment) = amendment(run, trip);
        let body = decision("return", last, Some(comments));
        run.exec::<Visit>(t2, v, "approve-request", body, approver(last, cast))
            .await?;
        run.exec::<Visit>(t3, v, "amend-request", amendment, &cast.sales)
            .await?;
    }
    // An amendment starts the approvals over; every one is given in turn.
    for (k, role) in roles.iter().enumerate() {
        let when = if k == 0 { t_first } else { t4 };
        let body = decision("approve", *role, None);
        run.exec::<Visit>(when, v, "approve-request", body, approver(*role, cast))
            .await?;
    }
    Ok(true)
}

/// Why the request came back, and the amendment that answers it (noted in `trip`).
fn amendment(run: &mut Run, trip: &mut Trip<'_>) -> (&'static str, Value) {
    match run.rng.random_range(0..3) {
        0 => {
            trip.budget = (trip.budget * 13 / 10 / 10_000).max(1) * 10_000;
            (
                "the budget does not cover the dinners for a delegation this size",
                json!({"reason": "budget revised with the dinners", "budget_fen": trip.budget}),
            )
        }
        1 => {
            let other = names::COST_DEPARTMENTS
                .iter()
                .find(|d| **d != trip.cost_department)
                .expect("several departments");
            trip.cost_department = other;
            (
                "say which department bears the cost of this visit",
                json!({"reason": "the cost goes to the project that invited the customer", "cost_department": other}),
            )
        }
        _ => {
            trip.purpose = format!(
                "{}: new tractor series and the harvester line",
                trip.purpose
            );
            (
                "the purpose is too vague for approval; name the products to be shown",
                json!({"reason": "purpose made precise", "purpose": trip.purpose}),
            )
        }
    }
}
