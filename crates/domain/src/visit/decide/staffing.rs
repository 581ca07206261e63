//! The host and the accompanying staff (V6).

use super::breach;
use crate::common::DomainError;
use crate::context::Context;
use crate::visit_state::*;

/// V6: exactly one host and the accompanying roles the level allows.
pub(crate) fn assign_staff(
    visit: &Visit,
    c: AssignStaff,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    visit.not_departed("assign staff")?;
    let (lp, level, _) = visit.level_policy(ctx, "assigning staff")?;
    if visit.host.is_some() {
        return Err(DomainError::state(
            "a host is already assigned (exactly one host); use reassign-host",
        )
        .with_rule("V6"));
    }
    for (i, m) in c.accompanying.iter().enumerate() {
        if !lp.allows_role(m.role.as_str()) {
            breach(
                "V6",
                &format!("accompanying[{i}].role"),
                format!(
                    "role {} may not accompany a {level} visit (allowed: {})",
                    m.role.as_str(),
                    lp.accompanying_roles.join(", ")
                ),
                &c.override_,
            )?;
        }
    }
    Ok(VisitEvent::StaffAssigned(StaffAssigned {
        host: c.host,
        accompanying: c.accompanying,
        override_: c.override_,
        assigned_at: now,
    }))
}

/// V6: a new host; after arrival only with a reason (flags the visit).
pub(crate) fn reassign_host(
    visit: &Visit,
    c: ReassignHost,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    visit.not_departed("reassign the host")?;
    let Some(previous) = visit.host.clone() else {
        return Err(DomainError::state("no host assigned yet; use assign-staff").with_rule("V6"));
    };
    if previous == c.host {
        return Err(DomainError::invalid(
            "host",
            format!("{previous} is already the host"),
        ));
    }
    let mid_visit = visit.arrived_at.is_some();
    if mid_visit && c.reason.is_none() {
        return Err(
            DomainError::rule("V6", "changing the host after arrival needs a reason")
                .with_field("reason"),
        );
    }
    Ok(VisitEvent::HostReassigned(HostReassigned {
        host: c.host,
        previous_host: previous,
        reason: c.reason,
        mid_visit,
        reassigned_at: now,
    }))
}
