//! The level (V3, V20): assigned by reception, sometimes changed once, and the policy
//! of that level in force, which every later stage follows.

use reception_app::Target;
use reception_domain::policy::{LevelId, LevelPolicy, PolicyBook};
use reception_domain::visit::Visit;
use serde_json::json;

use super::{Cast, Trip};
use crate::demo::{DemoError, Flow, Run, VisitSpec};

/// Assigns (and maybe changes) the level; returns its policy in force.
pub(super) async fn level(
    run: &mut Run,
    book: &PolicyBook,
    spec: &VisitSpec,
    trip: &Trip<'_>,
    cast: &Cast,
    v: Target,
) -> Result<LevelPolicy, Flow> {
    let reception = &cast.reception;
    let first = spec.first_level.unwrap_or(spec.level);
    run.exec::<Visit>(
        trip.prep(0.04),
        v,
        "assign-level",
        json!({"level": first}),
        reception,
    )
    .await?;
    if spec.first_level.is_some() {
        let reason = if spec.level == "special" {
            "the delegation now includes the customer's chairman"
        } else {
            "the delegation changed; level reviewed by the reception office"
        };
        run.exec::<Visit>(
            trip.prep(0.07),
            v,
            "change-level",
            json!({"level": spec.level, "reason": reason}),
            reception,
        )
        .await?;
    }
    book.in_force(run.clock)
        .and_then(|p| p.level(&LevelId::parse(spec.level).ok()?).cloned())
        .ok_or_else(|| {
            Flow::from(DemoError::Options(format!(
                "the policy in force has no level {}",
                spec.level
            )))
        })
}
