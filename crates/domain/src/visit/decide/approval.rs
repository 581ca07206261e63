//! The request's approval before reception starts (V22): the approvers' decisions and
//! the requester's amendment of a returned request.

use super::request::check_request;
use crate::common::DomainError;
use crate::context::Context;
use crate::visit_state::*;

/// V22: an approver approves, returns or rejects the request, once per approval; the
/// two approvals of one visit come from two people.
pub(crate) fn approve_request(
    visit: &Visit,
    c: ApproveRequest,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    if visit.arrived_at.is_some() {
        return Err(
            DomainError::state("the visitors have arrived; the request is past approval")
                .with_rule("V22"),
        );
    }
    if visit.approval.status == ApprovalStatus::Returned {
        return Err(DomainError::state(
            "the request was returned; the requester amends it before it is approved again",
        )
        .with_rule("V22"));
    }
    let given = &visit.approval.given;
    if given.iter().any(|g| g.as_ == c.as_) {
        return Err(DomainError::state(format!(
            "the {} approval is already given",
            c.as_.as_str()
        ))
        .with_rule("V22"));
    }
    let me = &ctx.actor.user;
    if c.decision == RequestDecision::Approve {
        if let Some(other) = given.iter().find(|g| &g.approver == me) {
            return Err(DomainError::rule(
                "V22",
                format!(
                    "{me} already gave the {} approval; the {} approval needs another person",
                    other.as_.as_str(),
                    c.as_.as_str()
                ),
            )
            .with_field("as"));
        }
    }
    let needs_comments = c.decision != RequestDecision::Approve;
    if needs_comments && c.comments.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(DomainError::invalid(
            "comments",
            "a returned or rejected request needs comments for the requester",
        )
        .with_rule("V22"));
    }
    let d = RequestDecided {
        as_: c.as_,
        comments: c.comments,
        approver: me.clone(),
        decided_at: ctx.now,
    };
    Ok(match c.decision {
        RequestDecision::Approve => VisitEvent::RequestApproved(d),
        RequestDecision::Return => VisitEvent::RequestReturned(d),
        RequestDecision::Reject => VisitEvent::RequestRejected(d),
    })
}

/// V22: the requester amends a returned request (V1 still holds); the approvals start
/// over.
pub(crate) fn amend_request(
    visit: &Visit,
    c: AmendRequest,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    if visit.approval.status != ApprovalStatus::Returned {
        return Err(DomainError::state(
            "only a returned request is amended; this one was not returned",
        )
        .with_rule("V22"));
    }
    let mut req = visit
        .request()
        .cloned()
        .expect("an existing visit has its request");
    let before = req.clone();
    macro_rules! take {
        ($($f:ident),*) => { $( if let Some(v) = c.$f { req.$f = v; } )* };
    }
    take!(customer, department, visitors, headcount, purpose, arrival, departure, needs);
    if c.expedited.is_some() {
        req.expedited = c.expedited;
    }
    if c.budget_fen.is_some() {
        req.budget_fen = c.budget_fen;
    }
    if c.cost_department.is_some() {
        req.cost_department = c.cost_department;
    }
    if c.proposed_level.is_some() {
        req.proposed_level = c.proposed_level;
    }
    if req == before {
        return Err(DomainError::invalid(
            "body",
            "an amendment changes at least one request field",
        ));
    }
    check_request(&req)?;
    Ok(VisitEvent::RequestAmended(RequestAmended {
        reason: c.reason,
        request: req,
        amended_at: ctx.now,
    }))
}
