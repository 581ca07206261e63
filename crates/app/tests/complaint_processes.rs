//! The C10 process through the service against a real sled store in a temp dir: a
//! deadline that passes unmet is recorded once by the system, across passes, restarts
//! and two services running it at the same time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, FixedOffset};
use reception_app::{App, AppConfig, CommandOutcome, Target};
use reception_domain::complaint::{Complaint, ComplaintDeadline};
use reception_domain::{Actor, Role};
use reception_store::Store;
use serde_json::{json, Value};

type Clock = Arc<Mutex<DateTime<FixedOffset>>>;

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn app_on(store: Store, clock: &Clock) -> App {
    let c = clock.clone();
    App::new(
        store,
        AppConfig {
            tz: chrono_tz::Asia::Shanghai,
            clock: Some(Arc::new(move || *c.lock().unwrap())),
        },
    )
}

fn reception() -> Actor {
    Actor {
        user: "li.na".into(),
        role: Role::Reception,
    }
}

async fn raise(app: &App, severity: &str) -> CommandOutcome {
    let body = json!({"customer": "Huaxin", "severity": severity, "category": "transport",
                      "description": "pickup car never came"});
    app.execute::<Complaint>(
        Target::Create,
        "raise",
        body,
        &reception(),
        Default::default(),
    )
    .await
    .unwrap()
}

/// The stored misses of a complaint: (deadline, due_at, reported_to_head, actor role).
fn misses(app: &App, stream: &str) -> Vec<(String, String, bool, String)> {
    let loaded = app.load::<Complaint>(stream, None).unwrap();
    loaded
        .events
        .iter()
        .filter(|e| e.event_type == "ComplaintDeadlineMissed")
        .map(|e| {
            let s = |k: &str| e.data[k].as_str().unwrap_or_default().to_string();
            let due: DateTime<FixedOffset> = s("due_at").parse().unwrap();
            (
                s("deadline"),
                due.to_rfc3339(),
                e.data["reported_to_head"] == Value::Bool(true),
                e.actor.role.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn c10_a_missed_deadline_is_recorded_once_across_passes_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = t("2026-11-02T09:00:00+08:00");
    let clock: Clock = Arc::new(Mutex::new(t0));
    let store = Store::open(dir.path()).unwrap();
    let app = app_on(store.clone(), &clock);
    app.bootstrap(dir.path()).unwrap();
    let c = raise(&app, "major").await;

    *clock.lock().unwrap() = t0 + Duration::minutes(10);
    let pass = app.run_escalations().await.unwrap();
    assert!(pass.missed.is_empty(), "not at the deadline itself");
    *clock.lock().unwrap() = t0 + Duration::minutes(11);
    let pass = app.run_escalations().await.unwrap();
    assert_eq!(
        pass.missed,
        vec![(c.id, ComplaintDeadline::ComplaintReport)]
    );
    assert!(app.run_escalations().await.unwrap().missed.is_empty());
    app.execute::<Complaint>(
        Target::Id(c.id),
        "report",
        json!({"to": "Zhou Qiang"}),
        &reception(),
        Default::default(),
    )
    .await
    .unwrap();
    store.close().unwrap();
    drop(app);
    drop(store);

    // after a restart: nothing twice, and the next deadline when it passes
    let app = app_on(Store::open(dir.path()).unwrap(), &clock);
    assert!(app.run_escalations().await.unwrap().missed.is_empty());
    *clock.lock().unwrap() = t0 + Duration::hours(13);
    let pass = app.run_escalations().await.unwrap();
    assert_eq!(
        pass.missed,
        vec![(c.id, ComplaintDeadline::ComplaintSolution)]
    );
    assert!(app.run_escalations().await.unwrap().missed.is_empty());
    let ten_min = (t0 + Duration::minutes(10)).to_rfc3339();
    let twelve_h = (t0 + Duration::hours(12)).to_rfc3339();
    assert_eq!(
        misses(&app, &c.stream),
        vec![
            ("complaint_report".into(), ten_min, false, "system".into()),
            ("complaint_solution".into(), twelve_h, true, "system".into()),
        ]
    );
    let state = app.load::<Complaint>(&c.stream, None).unwrap().state;
    assert_eq!(
        state.missed_deadlines[1].head.as_deref(),
        Some("Zhou Qiang")
    );
}

#[tokio::test]
async fn c10_two_services_running_the_process_at_once_record_each_miss_once() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = t("2026-11-02T09:00:00+08:00");
    let clock: Clock = Arc::new(Mutex::new(t0));
    let store = Store::open(dir.path()).unwrap();
    let a = app_on(store.clone(), &clock);
    a.bootstrap(dir.path()).unwrap();
    let b = app_on(store.clone(), &clock);
    let mut raised = Vec::new();
    for _ in 0..4 {
        raised.push(raise(&a, "minor").await);
    }
    // the feedback deadline (C3, 24 h) of each passes unmet
    *clock.lock().unwrap() = t0 + Duration::hours(25);
    let (pa, pb) = tokio::join!(a.run_escalations(), b.run_escalations());
    let (pa, pb) = (pa.unwrap(), pb.unwrap());
    assert_eq!(pa.missed.len() + pb.missed.len(), 4, "{pa:?} {pb:?}");
    for c in &raised {
        let m = misses(&a, &c.stream);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "complaint_feedback");
    }
}
