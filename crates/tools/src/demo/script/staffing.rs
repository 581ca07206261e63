//! Staff (V6): the host and accompanying staff of roles the level allows; now and then
//! a role it does not, on the approver's override.

use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::{json, Value};

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{Flow, Run};

/// Assigns the host (noted in `b`) and the accompanying staff.
pub(super) async fn staff(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let lp = &s.lp;
    let host = names::HOSTS[run.rng.random_range(0..names::HOSTS.len())];
    b.host = host;
    let n_roles = run.rng.random_range(1..=2);
    let roles: Vec<&String> = lp
        .accompanying_roles
        .sample(&mut run.rng, n_roles)
        .collect();
    let mut accompanying: Vec<Value> = roles
        .iter()
        .map(|r| json!({"name": names::staff_for_role(r), "role": r}))
        .collect();
    let staff_override = run.chance(0.04);
    if staff_override {
        let extra = ["shareholder", "marketing_general_manager", "salesperson"]
            .into_iter()
            .find(|r| !lp.allows_role(r));
        if let Some(r) = extra {
            accompanying.push(json!({"name": names::staff_for_role(r), "role": r}));
        }
    }
    let (who, ovr) = if staff_override {
        (
            &s.cast.approver,
            json!({"reason": "the customer asked for this person by name"}),
        )
    } else {
        (&s.cast.reception, Value::Null)
    };
    run.exec::<Visit>(
        s.trip.prep(0.3),
        s.v,
        "assign-staff",
        json!({"host": host, "accompanying": accompanying, "override": ovr}),
        who,
    )
    .await?;
    Ok(())
}
