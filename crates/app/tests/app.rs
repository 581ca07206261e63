//! The command service against a real sled store in a temp dir.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, FixedOffset};
use reception_app::{App, AppConfig, AppError, CommandOutcome, ExecOptions, Target};
use reception_domain::complaint::Complaint;
use reception_domain::visit::Visit;
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

fn request(now: DateTime<FixedOffset>) -> Value {
    let arrival = now + Duration::days(5);
    json!({
        "customer": {"company": "Huaxin", "country": "CN", "foreign": false},
        "department": "east-sales",
        "visitors": [{"name": "Wang Lei", "title": "GM", "phone": "+86 1"}],
        "headcount": 1, "purpose": "renewal",
        "arrival": {"at": arrival, "mode": "flight", "number": "MU1", "place": "airport"},
        "departure": {"at": arrival + Duration::days(1), "mode": "train"},
    })
}

#[tokio::test]
async fn bootstrap_publishes_the_default_policy_and_one_private_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let app = app_on(Store::open(dir.path().join("store")).unwrap(), &clock);
    let path = app
        .bootstrap(dir.path())
        .unwrap()
        .expect("a token file on an empty store");
    let token = std::fs::read_to_string(&path).unwrap().trim().to_string();
    assert_eq!(
        app.tokens().verify(&token).map(|a| a.role),
        Some(Role::Admin)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(app.store().stream_version("policy").unwrap(), 1);
    assert_eq!(app.policies().unwrap().latest().unwrap().version, 1);
    assert!(
        app.bootstrap(dir.path()).unwrap().is_none(),
        "bootstrap runs once"
    );
    assert_eq!(app.store().stream_version("policy").unwrap(), 1);
}

#[tokio::test]
async fn idempotent_repeats_replay_and_reused_keys_fail() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let app = app_on(Store::open(dir.path()).unwrap(), &clock);
    app.bootstrap(dir.path()).unwrap();
    let now = *clock.lock().unwrap();
    let opts = || ExecOptions {
        idempotency_key: Some("k1".into()),
        ..Default::default()
    };
    let first = app
        .execute::<Visit>(
            Target::Create,
            "request",
            request(now),
            &reception(),
            opts(),
        )
        .await
        .unwrap();
    assert!(first.created && !first.replayed);
    assert_eq!(first.late, Some(false));
    assert_eq!(
        first.entity_id,
        Some(first.id),
        "a created visit's id is its stream's uuid"
    );
    let head = app.store().head().0;
    let again = app
        .execute::<Visit>(
            Target::Create,
            "request",
            request(now),
            &reception(),
            opts(),
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(
        (
            again.id,
            again.version,
            &again.events,
            again.late,
            again.created
        ),
        (first.id, first.version, &first.events, first.late, true)
    );
    assert_eq!(app.store().head().0, head);
    let err = app
        .execute::<Visit>(
            Target::Create,
            "request",
            request(now + Duration::hours(1)),
            &reception(),
            opts(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::IdempotencyKeyReused(_)), "{err:?}");
    // Another user with the same key and body is another request.
    let other = Actor {
        user: "wang".into(),
        role: Role::Reception,
    };
    let err = app
        .execute::<Visit>(Target::Create, "request", request(now), &other, opts())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::IdempotencyKeyReused(_)));
}

#[tokio::test]
async fn concurrent_commands_without_if_match_are_retried_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let app = app_on(Store::open(dir.path()).unwrap(), &clock);
    app.bootstrap(dir.path()).unwrap();
    let now = *clock.lock().unwrap();
    let v = app
        .execute::<Visit>(
            Target::Create,
            "request",
            request(now),
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"subject": "Wang Lei", "kind": "diet", "text": format!("note {i}")});
            app.execute::<Visit>(
                Target::Id(v.id),
                "note-preference",
                body,
                &reception(),
                Default::default(),
            )
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("every concurrent command lands");
    }
    let loaded = app.load::<Visit>(&v.stream, None).unwrap();
    assert_eq!(loaded.events.len(), 9);
    assert_eq!(loaded.state.preferences.len(), 8);
    // With If-Match a stale version is a conflict, not a retry.
    let body = json!({"subject": "Wang Lei", "kind": "diet", "text": "late"});
    let opts = ExecOptions {
        if_match: Some(3),
        ..Default::default()
    };
    let err = app
        .execute::<Visit>(
            Target::Id(v.id),
            "note-preference",
            body,
            &reception(),
            opts,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::VersionConflict {
                expected: 3,
                actual: 9
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn c4_escalates_once_across_passes_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let store = Store::open(dir.path()).unwrap();
    let app = app_on(store.clone(), &clock);
    app.bootstrap(dir.path()).unwrap();
    let body = json!({"customer": "Huaxin", "severity": "minor", "category": "meals", "description": "cold soup"});
    let c = app
        .execute::<Complaint>(
            Target::Create,
            "raise",
            body,
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    *clock.lock().unwrap() += Duration::days(9);
    assert!(
        app.run_escalations().await.unwrap().escalated.is_empty(),
        "not before 10 days"
    );
    *clock.lock().unwrap() += Duration::days(1);
    let pass = app.run_escalations().await.unwrap();
    assert_eq!(pass.escalated, vec![c.id]);
    assert!(
        app.run_escalations().await.unwrap().escalated.is_empty(),
        "never twice"
    );
    store.close().unwrap();
    drop(app);
    drop(store);

    let app = app_on(Store::open(dir.path()).unwrap(), &clock);
    assert!(
        app.run_escalations().await.unwrap().escalated.is_empty(),
        "not after a restart either"
    );
    let loaded = app.load::<Complaint>(&c.stream, None).unwrap();
    let escalations: Vec<_> = loaded
        .events
        .iter()
        .filter(|e| e.event_type == "ComplaintEscalated")
        .collect();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].actor.role, "system");
}

#[tokio::test]
async fn tokens_verify_by_hash_and_revocation_sticks_across_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let store = Store::open(dir.path()).unwrap();
    let app = app_on(store.clone(), &clock);
    let admin = Actor {
        user: "admin".into(),
        role: Role::Admin,
    };
    let tok = app
        .tokens()
        .issue(&store, "li.na", Role::Finance, &admin)
        .await
        .unwrap();
    assert_eq!(
        app.tokens().verify(&tok),
        Some(Actor {
            user: "li.na".into(),
            role: Role::Finance
        })
    );
    assert_eq!(app.tokens().verify(&format!("{tok}x")), None);
    let keep = app
        .tokens()
        .issue(&store, "wang", Role::Analyst, &admin)
        .await
        .unwrap();
    app.tokens()
        .revoke(&store, &reception_app::tokens::token_hash(&tok), &admin)
        .await
        .unwrap();
    assert_eq!(app.tokens().verify(&tok), None);
    // A fresh registry built from the log agrees.
    let again = reception_app::TokenRegistry::new();
    again.load(&store).unwrap();
    assert_eq!(again.verify(&tok), None);
    assert_eq!(again.verify(&keep).map(|a| a.role), Some(Role::Analyst));
    assert!(matches!(
        app.tokens().issue(&store, "x", Role::System, &admin).await,
        Err(AppError::Domain(_))
    ));
}

#[tokio::test]
async fn a_replica_learns_tokens_from_replicated_events() {
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let writer_dir = tempfile::tempdir().unwrap();
    let replica_dir = tempfile::tempdir().unwrap();
    let writer = app_on(Store::open(writer_dir.path()).unwrap(), &clock);
    writer.bootstrap(writer_dir.path()).unwrap();
    let replica_store = Store::open(replica_dir.path()).unwrap();
    let replica = app_on(replica_store.clone(), &clock);
    tokio::spawn(replica.clone().follow_tokens());

    let admin = Actor {
        user: "admin".into(),
        role: Role::Admin,
    };
    let token = writer
        .tokens()
        .issue(writer.store(), "wang", Role::Analyst, &admin)
        .await
        .unwrap();
    assert_eq!(replica.tokens().verify(&token), None, "not replicated yet");
    for env in writer.store().read_all_raw(1, 1000) {
        replica_store.append_replicated(&env.unwrap()).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while replica.tokens().verify(&token).is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        replica.tokens().verify(&token).map(|a| a.role),
        Some(Role::Analyst)
    );
    assert!(
        replica.tokens().has_admin(),
        "the bootstrap admin token too"
    );
}

/// Two services (each with its own state cache) on one store, and a visit filed and
/// approved (V22, version 2) by the first one.
async fn two_services_with_a_visit() -> (tempfile::TempDir, App, App, CommandOutcome) {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clock = Arc::new(Mutex::new(t("2026-11-02T09:00:00+08:00")));
    let store = Store::open(dir.path()).unwrap();
    let a = app_on(store.clone(), &clock);
    a.bootstrap(dir.path()).unwrap();
    let b = app_on(store.clone(), &clock);
    let now = *clock.lock().unwrap();
    let v = a
        .execute::<Visit>(
            Target::Create,
            "request",
            request(now),
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    let approver = Actor {
        user: "dept.manager".into(),
        role: Role::Approver,
    };
    a.execute::<Visit>(
        Target::Id(v.id),
        "approve-request",
        json!({"decision": "approve", "as": "department_manager"}),
        &approver,
        Default::default(),
    )
    .await
    .unwrap();
    (dir, a, b, v)
}

#[tokio::test]
async fn a_cached_state_never_hides_an_append_made_elsewhere() {
    // Two services on one store, each with its own state cache: what one appends, the
    // other's next decision sees (it reads the events after its cached version).
    let (_dir, a, b, v) = two_services_with_a_visit().await;
    let level = |l: &str| json!({ "level": l });
    // a caches the visit at version 3; b assigns the level (version 4)
    a.execute::<Visit>(
        Target::Id(v.id),
        "note-preference",
        json!({"subject": "Wang Lei", "kind": "diet", "text": "tea"}),
        &reception(),
        Default::default(),
    )
    .await
    .unwrap();
    assert!(a.cached_states() >= 1);
    let assigned = b
        .execute::<Visit>(
            Target::Id(v.id),
            "assign-level",
            level("senior"),
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(assigned.version, 4);
    // a must know the level is assigned: assigning again is refused by the domain
    // (change-level is the command for that), and a stale If-Match is a conflict.
    let again = a
        .execute::<Visit>(
            Target::Id(v.id),
            "assign-level",
            level("ordinary"),
            &reception(),
            Default::default(),
        )
        .await;
    assert!(again.is_err(), "a stale cache decided: {again:?}");
    let stale = a
        .execute::<Visit>(
            Target::Id(v.id),
            "note-preference",
            json!({"subject": "Wang Lei", "kind": "diet", "text": "late"}),
            &reception(),
            ExecOptions {
                if_match: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            AppError::VersionConflict {
                expected: 3,
                actual: 4
            }
        ),
        "{stale:?}"
    );
    // and the state a decides on equals a full fold of the stream
    let next = a
        .execute::<Visit>(
            Target::Id(v.id),
            "note-preference",
            json!({"subject": "Wang Lei", "kind": "diet", "text": "no spice"}),
            &reception(),
            ExecOptions {
                if_match: Some(4),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(next.version, 5);
    let full = a.load::<Visit>(&v.stream, None).unwrap();
    assert_eq!(full.state.preferences.len(), 2);
    assert_eq!(full.events.len(), 5);
}

#[tokio::test]
async fn a_cached_state_with_nothing_newer_decides_at_the_stream_version() {
    // After a rejected command the cache is already at the stream's version: the next
    // decisions share that fold (no events to read) and still append at the right
    // version, and one from another service on the same store is seen.
    let (_dir, a, b, v) = two_services_with_a_visit().await;
    let assign = |l: &str| json!({ "level": l });
    let assigned = a
        .execute::<Visit>(
            Target::Id(v.id),
            "assign-level",
            assign("senior"),
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(assigned.version, 3);
    for _ in 0..2 {
        // Read 3 into the cache, then decide on the shared fold with nothing newer.
        let again = a
            .execute::<Visit>(
                Target::Id(v.id),
                "assign-level",
                assign("ordinary"),
                &reception(),
                Default::default(),
            )
            .await;
        assert!(again.is_err(), "the level is already assigned: {again:?}");
    }
    let note = |text: &str| json!({"subject": "Wang Lei", "kind": "diet", "text": text});
    let noted = a
        .execute::<Visit>(
            Target::Id(v.id),
            "note-preference",
            note("tea"),
            &reception(),
            ExecOptions {
                if_match: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(noted.version, 4);
    let elsewhere = b
        .execute::<Visit>(
            Target::Id(v.id),
            "note-preference",
            note("coffee"),
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.version, 5);
    let last = a
        .execute::<Visit>(
            Target::Id(v.id),
            "note-preference",
            note("water"),
            &reception(),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(last.version, 6);
    assert_eq!(a.load::<Visit>(&v.stream, None).unwrap().events.len(), 6);
}
