//! Departure (V13) and the follow-up: the return call (V14, V30) and the summary (V15).

use crate::common::DomainError;
use crate::context::Context;
use crate::visit::RETURN_CALL_MAX_ATTEMPTS;
use crate::visit_state::*;

/// V13: departure after arrival, once.
pub(crate) fn record_departure(
    visit: &Visit,
    c: RecordAt,
    _ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let Some(arrived) = visit.arrived_at else {
        return Err(DomainError::rule(
            "V13",
            "departure is recorded only after arrival",
        ));
    };
    if visit.departed_at.is_some() {
        return Err(DomainError::state("the departure is already recorded"));
    }
    if c.at < arrived {
        return Err(DomainError::rule(
            "V13",
            format!(
                "departure {} is before arrival {}",
                c.at.to_rfc3339(),
                arrived.to_rfc3339()
            ),
        )
        .with_field("at"));
    }
    Ok(VisitEvent::VisitorsDeparted(AtFact { at: c.at }))
}

/// V14: a return-call attempt after departure; done when reached or after the last allowed attempt.
pub(crate) fn return_call(
    visit: &Visit,
    c: ReturnCall,
    ctx: &Context,
) -> Result<Vec<VisitEvent>, DomainError> {
    let now = ctx.now;
    if visit.departed_at.is_none() {
        return Err(DomainError::rule(
            "V14",
            "the return call follows the visitors' departure",
        ));
    }
    if visit.return_call.done.is_some() {
        return Err(DomainError::state("the return call is already done"));
    }
    if c.reached && c.satisfaction.is_none() {
        return Err(DomainError::invalid(
            "satisfaction",
            "a reached customer's satisfaction 1–5 is required",
        ));
    }
    let attempt_no = visit.return_call.attempts.len() as u32 + 1;
    let attempt = ReturnCallAttempted {
        attempt_id: ctx.entity_id,
        attempt_no,
        reached: c.reached,
        at: now,
    };
    if !c.reached && (c.complaint.is_some() || c.arrived_safely.is_some()) {
        let field = if c.complaint.is_some() {
            "complaint"
        } else {
            "arrived_safely"
        };
        return Err(DomainError::invalid(
            field,
            "only a call that reached the customer records what they said",
        )
        .with_rule("V30"));
    }
    let complaint = c.complaint.map(|k| CallComplaintRaised {
        complaint_id: call_complaint_id(ctx.entity_id),
        severity: k.severity,
        category: k.category,
        description: k.description,
    });
    let unreachable = !c.reached && attempt_no >= RETURN_CALL_MAX_ATTEMPTS;
    let mut out = vec![VisitEvent::ReturnCallAttempted(attempt)];
    if c.reached || unreachable {
        out.push(VisitEvent::ReturnCallDone(ReturnCallDone {
            attempt_id: ctx.entity_id,
            reached: c.reached,
            unreachable,
            products: c.products,
            corporate_image: c.corporate_image,
            reception: c.reception,
            satisfaction: c.satisfaction,
            arrived_safely: c.arrived_safely,
            suggestions: c.suggestions,
            complaint,
            at: now,
        }));
    }
    Ok(out)
}

/// V30: the id of the complaint a return call raises, derived from the call's attempt
/// id so that a retried command opens the same complaint stream, never a second one.
/// The mask flips random bits only, keeping the uuid's version and variant.
pub fn call_complaint_id(attempt_id: uuid::Uuid) -> uuid::Uuid {
    const MASK: u128 = 0x0000_0000_0000_0000_0a5a_5a5a_5a5a_5a5a;
    uuid::Uuid::from_u128(attempt_id.as_u128() ^ MASK)
}

/// V15: the summary after departure, to the general manager when the level says so.
pub(crate) fn file_summary(
    visit: &Visit,
    c: FileSummary,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    if visit.departed_at.is_none() {
        return Err(DomainError::rule(
            "V15",
            "the summary is filed after departure",
        ));
    }
    if visit.summary.is_some() {
        return Err(DomainError::state("the summary is already filed"));
    }
    let to_gm = match visit.level_policy(ctx, "filing the summary") {
        Ok((lp, _, _)) => lp.summary_to_general_manager,
        Err(_) => false,
    };
    let mut recipients = c.recipients;
    if to_gm && !recipients.iter().any(|r| r.as_str() == "general_manager") {
        recipients.push(Text::parse("recipients", "general_manager")?);
    }
    Ok(VisitEvent::SummaryFiled(SummaryFiled {
        results: c.results,
        outcomes: c.outcomes,
        opinions: c.opinions,
        recipients,
        to_general_manager: to_gm,
        filed_at: now,
    }))
}
