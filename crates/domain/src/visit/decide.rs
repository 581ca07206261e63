//! The visit rules, one function per command, one file per stage of the visit; the
//! dispatcher is [`crate::visit::Visit`]'s `decide`. Here: the checks every stage shares
//! (role, open visit, level policy, overrides) and the money wording.

pub(super) mod advance;
pub(super) mod approval;
mod caps;
pub(super) mod closing;
pub(super) mod departure;
pub(super) mod expenses;
pub(super) mod follow_up;
pub(super) mod level;
pub(super) mod lodging;
pub(super) mod matters;
pub(super) mod meals;
pub(super) mod onsite;
pub(super) mod plan;
pub(super) mod request;
pub(super) mod reschedule;
pub(super) mod staffing;
pub(super) mod tasks;
pub(super) mod transport;

use crate::common::{DomainCommand, DomainError, Fen, Role};
use crate::context::Context;
use crate::policy_book::{CapKind, LevelId, LevelPolicy};
use crate::visit_state::{MealKind, Override, Stage, Visit, VisitCommand};

impl Visit {
    pub(in crate::visit) fn open(&self) -> Result<(), DomainError> {
        match self.stage {
            Stage::Closed => Err(DomainError::rule(
                "V21",
                "the visit is closed; it accepts no more commands",
            )),
            Stage::Cancelled => Err(DomainError::rule(
                "V21",
                "the visit is cancelled; it accepts no more commands",
            )),
            Stage::Rejected => Err(DomainError::rule(
                "V22",
                "the request was rejected; the visit accepts no more commands",
            )),
            _ => Ok(()),
        }
    }

    pub(super) fn not_departed(&self, what: &str) -> Result<(), DomainError> {
        if self.departed_at.is_some() {
            return Err(DomainError::state(format!(
                "the visitors have departed; cannot {what}"
            )));
        }
        Ok(())
    }

    /// V3 and V20: the assigned level under the stamped policy version.
    pub(super) fn level_policy<'a>(
        &self,
        ctx: &'a Context,
        what: &str,
    ) -> Result<(&'a LevelPolicy, LevelId, u32), DomainError> {
        let (Some(level), Some(version)) = (self.level.clone(), self.policy_version) else {
            return Err(DomainError::rule(
                "V3",
                format!("assign a level before {what}"),
            ));
        };
        let policy = ctx.policies.version(version).ok_or_else(|| {
            DomainError::state(format!(
                "policy version {version} stamped on the visit is unknown"
            ))
        })?;
        let lp = policy.level(&level).ok_or_else(|| {
            DomainError::state(format!("level {level} is not in policy version {version}"))
        })?;
        Ok((lp, level, version))
    }
}

pub(super) fn meal_cap(m: MealKind) -> CapKind {
    match m {
        MealKind::Lunch => CapKind::Lunch,
        MealKind::Dinner => CapKind::Dinner,
    }
}

pub(super) fn yuan(f: Fen) -> String {
    format!("{}.{:02} yuan", f.fen() / 100, f.fen() % 100)
}

pub(in crate::visit) fn authorize(cmd: &VisitCommand, ctx: &Context) -> Result<(), DomainError> {
    let role = ctx.actor.role;
    if cmd.override_().is_some() {
        if role != Role::Approver {
            return Err(DomainError::forbidden(format!(
                "only an approver may send `override`; role {} may not",
                role.as_str()
            ))
            .with_field("override"));
        }
        return Ok(());
    }
    if !cmd.allowed_roles().contains(&role) {
        let allowed: Vec<&str> = cmd.allowed_roles().iter().map(|r| r.as_str()).collect();
        return Err(DomainError::forbidden(format!(
            "role {} may not {}; allowed: {}",
            role.as_str(),
            cmd.name(),
            allowed.join(", ")
        )));
    }
    Ok(())
}

/// Rejects a policy break unless an approver's override is present (the caller has
/// already checked that only approvers send overrides).
pub(super) fn breach(
    rule: &str,
    field: &str,
    message: String,
    ovr: &Option<Override>,
) -> Result<bool, DomainError> {
    if ovr.is_some() {
        Ok(true)
    } else {
        Err(DomainError::rule(
            rule,
            format!("{message}; an approver may override with a reason"),
        )
        .with_field(field))
    }
}
