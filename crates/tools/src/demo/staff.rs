//! The demo's staff directory (issue 20): the hosts, each department's manager (who
//! approves its requests and heads it), the general manager, the heads of the
//! departments complaints go to, and a driver, with made-up contact points, so that the
//! notifier has people to tell and each of them finds notifications in the dashboard
//! (sign in as `li.na`, `qian.hong`, ...). Registered once, idempotently; the
//! directory's events are not counted in the summary (like the bootstrap's policy).

use reception_app::{App, AppError, ExecOptions, Target};
use reception_domain::staff::Directory;
use reception_domain::{Actor, Role};
use serde_json::{json, Value};

use super::names::{department_manager, DEPARTMENTS, GENERAL_MANAGER, HOSTS};
use super::Time;

/// The directory id of a host's free-text name (`Li Na` → `li.na`; `陈静` → `chen.jing`).
fn host_id(name: &str) -> String {
    match name {
        "陈静" => "chen.jing".to_string(),
        other => other.to_lowercase().replace(' ', "."),
    }
}

fn people() -> Vec<Value> {
    let mut out = Vec::new();
    for h in HOSTS {
        let id = host_id(h);
        out.push(
            json!({"id": id, "name": h, "department": "reception-office",
            "roles": ["reception", "staff"], "contacts": {"email": format!("{id}@example.com")}}),
        );
    }
    for d in DEPARTMENTS {
        let id = department_manager(d);
        out.push(
            json!({"id": id, "name": id, "department": d, "roles": ["approver", "head"],
            "contacts": {"email": format!("{id}@example.com")}, "digest": true}),
        );
    }
    out.push(
        json!({"id": GENERAL_MANAGER, "name": "马骏", "roles": ["general_manager"],
        "contacts": {"email": format!("{GENERAL_MANAGER}@example.com")}, "lang": "zh-CN"}),
    );
    for (id, d) in [
        ("tang.yi", "logistics"),
        ("xie.fei", "catering"),
        ("pan.li", "hotel-liaison"),
    ] {
        out.push(
            json!({"id": id, "name": id, "department": d, "roles": ["head"],
            "contacts": {"email": format!("{id}@example.com")}}),
        );
    }
    out.push(
        json!({"id": "driver.qian", "name": "Driver Qian", "roles": ["driver"],
        "contacts": {"phone": "+86 139 0000 0000"}}),
    );
    out
}

/// Registers the demo directory as the admin at `at`.
pub(super) async fn register(app: &App, at: Time) -> Result<(), AppError> {
    let admin = Actor {
        user: "admin".into(),
        role: Role::Admin,
    };
    for p in people() {
        let opts = ExecOptions {
            idempotency_key: Some(format!("demo-staff-{}", p["id"].as_str().unwrap_or(""))),
            ..ExecOptions::default()
        };
        app.execute_at::<Directory>(at, Target::Singleton, "register", p, &admin, opts)
            .await?;
    }
    Ok(())
}
