//! Cooperation matters (V11) and the leadership talks they open (V12).

use crate::common::DomainError;
use crate::context::Context;
use crate::visit_state::*;

/// V11: a cooperation matter put on the table.
pub(crate) fn propose_matter(
    _visit: &Visit,
    c: ProposeMatter,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    Ok(VisitEvent::CooperationMatterProposed(
        CooperationMatterProposed {
            matter_id: ctx.entity_id,
            by: c.by,
            text: c.text,
        },
    ))
}

/// V11: a matter confirmed by both sides with a written record.
pub(crate) fn confirm_matter(
    visit: &Visit,
    c: ConfirmMatter,
    _ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let m = visit.matter(c.matter_id)?;
    if m.confirmation.is_some() {
        return Err(DomainError::state("this matter is already confirmed"));
    }
    let need = |field: &str, v: Option<String>, what: &str| {
        v.and_then(|s| Text::try_from(s).ok()).ok_or_else(|| {
            DomainError::rule("V11", format!("a matter is confirmed only with {what}"))
                .with_field(field)
        })
    };
    let company = need(
        "company_confirmed_by",
        c.company_confirmed_by,
        "the company's confirmation",
    )?;
    let visitor = need(
        "visitor_confirmed_by",
        c.visitor_confirmed_by,
        "the visitor's confirmation",
    )?;
    let record = need("record_ref", c.record_ref, "a written record reference")?;
    Ok(VisitEvent::CooperationMatterConfirmed(
        CooperationMatterConfirmed {
            matter_id: c.matter_id,
            company_confirmed_by: company,
            visitor_confirmed_by: visitor,
            record_ref: record,
        },
    ))
}

/// V12: leadership talks need a confirmed matter.
pub(crate) fn hold_talks(
    visit: &Visit,
    c: HoldTalks,
    _ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    if !visit.matters.iter().any(|m| m.confirmation.is_some()) {
        return Err(DomainError::rule(
            "V12",
            "leadership talks need at least one cooperation matter confirmed by both sides",
        ));
    }
    if c.attendees.is_empty() {
        return Err(
            DomainError::invalid("attendees", "the talks record who attended").with_rule("V28"),
        );
    }
    Ok(VisitEvent::LeadershipTalksHeld(LeadershipTalksHeld {
        at: c.at,
        outcome: c.outcome,
        attendees: c.attendees,
        minutes_ref: c.minutes_ref,
    }))
}

impl Visit {
    /// The cooperation matter `id` of this visit; `not_found` naming `matter_id`.
    pub(super) fn matter(&self, id: uuid::Uuid) -> Result<&Matter, DomainError> {
        self.matters
            .iter()
            .find(|m| m.proposed.matter_id == id)
            .ok_or_else(|| {
                DomainError::not_found(
                    "matter_id",
                    format!("no cooperation matter {id} in this visit"),
                )
            })
    }
}
