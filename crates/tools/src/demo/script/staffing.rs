//! Staff (V6, V27): the host and accompanying staff of roles the level allows, support
//! staff (photographer, minute taker, interpreter) the visit needs; now and then a
//! role the level does not allow, on the approver's override; a few changes before the
//! arrival and, rarer, during the visit with a reason.

use rand::seq::IndexedRandom;
use rand::RngExt;
use reception_domain::visit::Visit;
use serde_json::{json, Value};

use super::{Books, Script};
use crate::demo::names;
use crate::demo::{Flow, Run, Time};

fn member(name: &str, role: &str) -> Value {
    json!({"name": name, "role": role})
}

/// Assigns the host and the accompanying staff (noted in `b`).
pub(super) async fn staff(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    let lp = &s.lp;
    let host = names::HOSTS[run.rng.random_range(0..names::HOSTS.len())];
    b.host = host;
    let n_roles = run.rng.random_range(1..=2);
    let mut roles: Vec<String> = lp
        .accompanying_roles
        .sample(&mut run.rng, n_roles)
        .cloned()
        .collect();
    // V27: support roles come with what the request asked for.
    let trip = &s.trip;
    for (role, wanted, p) in [
        ("photographer", trip.photos, 0.6),
        ("minute_taker", trip.minutes, 0.5),
        ("interpreter", s.company.foreign, 0.5),
    ] {
        if wanted && run.chance(p) {
            roles.push(role.into());
        }
    }
    let staff_override = run.chance(0.04);
    if staff_override {
        let extra = ["shareholder", "marketing_general_manager", "salesperson"]
            .into_iter()
            .find(|r| !lp.allows_role(r));
        if let Some(r) = extra {
            roles.push(r.into());
        }
    }
    b.staff = roles
        .into_iter()
        .map(|r| (names::staff_for_role(&r), r))
        .collect();
    let accompanying: Vec<Value> = b.staff.iter().map(|(n, r)| member(n, r)).collect();
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

/// Now and then a change of the accompanying staff before the arrival: a support role
/// added, or someone called away.
pub(super) async fn change_before_arrival(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
) -> Result<(), Flow> {
    if !run.chance(0.08) {
        return Ok(());
    }
    let missing = ["interpreter", "photographer", "driver"]
        .into_iter()
        .find(|r| !b.staff.iter().any(|(_, have)| have == r));
    let last = b.staff.last().map(|(name, _)| *name);
    let body = match (missing, last) {
        (Some(role), _) if last.is_none() || run.chance(0.6) => {
            b.staff.push((names::staff_for_role(role), role.into()));
            json!({"add": [member(names::staff_for_role(role), role)], "reason": format!("the customer asked for a {}", role.replace('_', " "))})
        }
        (_, Some(name)) => {
            let body = json!({"remove": [name], "reason": "needed at the trade fair that week"});
            b.staff.pop();
            body
        }
        _ => return Ok(()),
    };
    let when = s.trip.prep(0.7);
    run.exec::<Visit>(when, s.v, "change-staff", body, &s.cast.reception)
        .await?;
    Ok(())
}

/// During the visit, rarely: someone is called away and, where the level has another
/// role free, a colleague stands in; the reason is required and the visit flagged.
pub(super) async fn change_mid_visit(
    run: &mut Run,
    s: &Script<'_>,
    b: &mut Books,
    when: Time,
) -> Result<(), Flow> {
    if !run.chance(0.03) {
        return Ok(());
    }
    let stand_in =
        s.lp.accompanying_roles
            .iter()
            .find(|r| !b.staff.iter().any(|(_, have)| have == *r))
            .cloned();
    let mut body = json!({"reason": "called away to a dealer's emergency"});
    if let Some((name, _)) = b.staff.first().cloned() {
        body["remove"] = json!([name]);
        b.staff.remove(0);
    }
    match stand_in {
        Some(role) => {
            body["add"] = json!([member(names::staff_for_role(&role), &role)]);
            b.staff.push((names::staff_for_role(&role), role));
        }
        None if body.get("remove").is_none() => {
            body["add"] = json!([member(
                names::staff_for_role("photographer"),
                "photographer"
            )]);
            body["reason"] = json!("the customer asked for photos of the signing");
            b.staff
                .push((names::staff_for_role("photographer"), "photographer".into()));
        }
        None => {}
    }
    run.exec::<Visit>(when, s.v, "change-staff", body, &s.cast.reception)
        .await?;
    Ok(())
}
