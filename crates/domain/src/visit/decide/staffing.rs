//! The host and the accompanying staff (V6), support staff and later changes (V27).

use super::breach;
use crate::common::DomainError;
use crate::context::Context;
use crate::policy_book::{LevelId, LevelPolicy};
use crate::visit_state::*;

/// V27: roles that may accompany any visit, whatever its level's roles.
pub const SUPPORT_ROLES: [&str; 4] = ["photographer", "minute_taker", "interpreter", "driver"];

/// V6, V27: every member's role is a level role or a support role, unless an approver
/// overrides.
fn check_roles(
    members: &[StaffMember],
    field: &str,
    lp: &LevelPolicy,
    level: &LevelId,
    ovr: &Option<Override>,
) -> Result<(), DomainError> {
    for (i, m) in members.iter().enumerate() {
        let role = m.role.as_str();
        if !lp.allows_role(role) && !SUPPORT_ROLES.contains(&role) {
            breach(
                "V6",
                &format!("{field}[{i}].role"),
                format!(
                    "role {role} may not accompany a {level} visit (allowed: {}; support roles: {})",
                    lp.accompanying_roles.join(", "),
                    SUPPORT_ROLES.join(", ")
                ),
                ovr,
            )?;
        }
    }
    Ok(())
}

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
    check_roles(&c.accompanying, "accompanying", lp, &level, &c.override_)?;
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

/// V27: accompanying staff added or removed after assignment; after arrival only with a
/// reason (flags the visit as V6 does).
pub(crate) fn change_staff(
    visit: &Visit,
    c: ChangeStaff,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    visit.not_departed("change the staff")?;
    let (lp, level, _) = visit.level_policy(ctx, "changing staff")?;
    if visit.host.is_none() {
        return Err(DomainError::state("no staff assigned yet; use assign-staff").with_rule("V27"));
    }
    if c.add.is_empty() && c.remove.is_empty() {
        return Err(DomainError::invalid(
            "add",
            "a staff change adds or removes at least one person",
        ));
    }
    for (i, name) in c.remove.iter().enumerate() {
        if !visit.accompanying.iter().any(|m| &m.name == name) {
            return Err(DomainError::invalid(
                &format!("remove[{i}]"),
                format!("{name} does not accompany this visit"),
            ));
        }
    }
    for (i, m) in c.add.iter().enumerate() {
        let stays = !c.remove.contains(&m.name);
        if stays && visit.accompanying.iter().any(|a| a.name == m.name) {
            return Err(DomainError::invalid(
                &format!("add[{i}].name"),
                format!("{} already accompanies this visit", m.name),
            ));
        }
    }
    check_roles(&c.add, "add", lp, &level, &c.override_)?;
    let mid_visit = visit.arrived_at.is_some();
    if mid_visit && c.reason.is_none() {
        return Err(
            DomainError::rule("V27", "changing the staff after arrival needs a reason")
                .with_field("reason"),
        );
    }
    Ok(VisitEvent::StaffChanged(StaffChanged {
        added: c.add,
        removed: c.remove,
        reason: c.reason,
        override_: c.override_,
        mid_visit,
        changed_at: ctx.now,
    }))
}
