//! Assigning and changing the visit's level (V3) once the request is approved (V22),
//! stamped with the policy version in force (V20).

use crate::common::DomainError;
use crate::context::Context;
use crate::policy_book::LevelId;
use crate::visit_state::*;

/// V3, V20: the first level, stamped with the policy version in force.
pub(crate) fn assign_level(
    visit: &Visit,
    c: AssignLevel,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    if visit.level.is_some() {
        return Err(
            DomainError::state("a level is already assigned; use change-level").with_rule("V3"),
        );
    }
    let (level, version) = stamp(&c.level, ctx)?;
    approved_for(visit, &level, ctx)?;
    Ok(VisitEvent::LevelAssigned(LevelAssigned {
        level,
        policy_version: version,
        assigned_at: now,
    }))
}

/// V3, V20: another level before arrival, restamped with the policy in force.
pub(crate) fn change_level(
    visit: &Visit,
    c: ChangeLevel,
    ctx: &Context,
) -> Result<VisitEvent, DomainError> {
    let now = ctx.now;
    let Some(previous) = visit.level.clone() else {
        return Err(DomainError::state("no level assigned yet; use assign-level").with_rule("V3"));
    };
    if visit.arrived_at.is_some() {
        return Err(DomainError::rule(
            "V3",
            "the level cannot change after the visitors arrived",
        ));
    }
    if previous == c.level {
        return Err(DomainError::invalid(
            "level",
            format!("the visit is already at level {previous}"),
        ));
    }
    let (level, version) = stamp(&c.level, ctx)?;
    approved_for(visit, &level, ctx)?;
    Ok(VisitEvent::LevelChanged(LevelChanged {
        level,
        previous_level: previous,
        policy_version: version,
        reason: c.reason,
        changed_at: now,
    }))
}

/// V20: the level under the policy version in force at `ctx.now`.
fn stamp(level: &LevelId, ctx: &Context) -> Result<(LevelId, u32), DomainError> {
    let policy = ctx
        .policies
        .in_force(ctx.now)
        .ok_or_else(|| DomainError::rule("V20", "no policy version is in force now"))?;
    if policy.level(level).is_none() {
        let known: Vec<&str> = policy.levels.iter().map(|l| l.id.as_str()).collect();
        return Err(DomainError::invalid(
            "level",
            format!(
                "policy version {} has no level {level} (levels: {})",
                policy.version,
                known.join(", ")
            ),
        ));
    }
    Ok((level.clone(), policy.version))
}

/// V22: every approval the policy in force names for `level` was given (requests
/// filed before approvals existed count as approved), and the request is not waiting
/// for an amendment.
fn approved_for(visit: &Visit, level: &LevelId, ctx: &Context) -> Result<(), DomainError> {
    let approval = &visit.approval;
    if !approval.required {
        return Ok(());
    }
    if approval.status == ApprovalStatus::Returned {
        return Err(DomainError::rule(
            "V22",
            "the request was returned to the requester; it is amended and approved again first",
        ));
    }
    let needed = ctx
        .policies
        .in_force(ctx.now)
        .and_then(|p| p.level(level))
        .map(|lp| lp.approvals.clone())
        .unwrap_or_default();
    let missing: Vec<&str> = needed
        .iter()
        .filter(|r| !approval.has(**r))
        .map(|r| r.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DomainError::rule(
            "V22",
            format!(
                "a {level} visit needs the {} approval before its level is assigned",
                missing.join(" and ")
            ),
        ))
    }
}
