//! The demo generator through the real app and a real sled store in a temp dir:
//! reproducible, complete (every level and complaint kind), nothing rejected, the hash
//! chain intact.

use std::collections::BTreeSet;

use reception_app::{App, AppConfig};
use reception_store::Store;
use reception_tools::demo::{
    canonical_log, generate, CanonicalStream, ComplaintKind, DemoOptions, DemoSummary,
};

struct Generated {
    _dir: tempfile::TempDir,
    store: Store,
    summary: DemoSummary,
    progress: Vec<(u64, u64)>,
}

async fn run(seed: u64, visits: usize) -> Generated {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    let app = App::new(store.clone(), AppConfig::default());
    app.bootstrap(dir.path()).expect("bootstrap");
    let mut progress = Vec::new();
    let opts = DemoOptions {
        visits,
        seed,
        concurrency: 8,
        ..DemoOptions::default()
    };
    let summary = generate(&app, opts, &mut |done, total| progress.push((done, total)))
        .await
        .unwrap_or_else(|e| panic!("the generator's commands must all be accepted: {e}"));
    Generated {
        _dir: dir,
        store,
        summary,
        progress,
    }
}

fn types(log: &[CanonicalStream]) -> BTreeSet<String> {
    log.iter()
        .flat_map(|s| s.events.iter().map(|e| e.event_type.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_data_and_every_kind_appears() {
    let a = run(7, 20).await;
    let b = run(7, 20).await;

    // Reproducible: the same streams with the same events, ids renamed canonically.
    let log_a = canonical_log(&a.store).expect("read a");
    let log_b = canonical_log(&b.store).expect("read b");
    assert_eq!(log_a.len(), log_b.len(), "same number of streams");
    for (sa, sb) in log_a.iter().zip(&log_b) {
        assert_eq!(
            sa, sb,
            "stream {} differs between two runs with the same seed",
            sa.label
        );
    }
    assert_eq!(a.summary, b.summary);

    // Every visit reported, in order, and accounted for.
    let s = &a.summary;
    assert_eq!(s.visits, 20);
    assert_eq!(a.progress.first(), Some(&(0, 20)));
    assert_eq!(a.progress.last(), Some(&(20, 20)));
    assert_eq!(
        s.visits_closed + s.visits_cancelled + s.visits_rejected + s.visits_open,
        20
    );
    assert!(s.visits_cancelled >= 1, "a cancelled visit: {s:?}");
    assert!(s.visits_rejected >= 1, "a rejected request: {s:?}");
    assert!(
        s.visits_closed >= 10,
        "most visits run to their close: {s:?}"
    );

    // The events counted are the events stored (the bootstrap's policy and token aside).
    let demo_events: usize = log_a.iter().map(|st| st.events.len()).sum();
    assert_eq!(s.events as usize, demo_events);
    let visit_events: usize = log_a
        .iter()
        .filter(|st| st.label.starts_with("visit#"))
        .map(|st| st.events.len())
        .sum();
    assert!(
        visit_events as u64 / s.visits >= 30,
        "a realistic visit has dozens of events: {visit_events}"
    );

    // Every level appears in the stored events.
    let levels: BTreeSet<String> = log_a
        .iter()
        .flat_map(|st| st.events.iter())
        .filter(|e| e.event_type == "LevelAssigned" || e.event_type == "LevelChanged")
        .filter_map(|e| e.data["level"].as_str().map(String::from))
        .collect();
    assert_eq!(
        levels,
        ["ordinary", "senior", "special"]
            .map(String::from)
            .into_iter()
            .collect()
    );

    // Every complaint kind, and what makes each kind.
    let kinds: BTreeSet<ComplaintKind> = s.complaints.keys().copied().collect();
    assert_eq!(
        kinds,
        [
            ComplaintKind::Minor,
            ComplaintKind::Major,
            ComplaintKind::EscalatedByStaff,
            ComplaintKind::EscalatedAutomatically
        ]
        .into_iter()
        .collect()
    );
    let escalations: Vec<bool> = log_a
        .iter()
        .flat_map(|st| st.events.iter())
        .filter(|e| e.event_type == "ComplaintEscalated")
        .map(|e| e.data["automatic"].as_bool().expect("automatic flag"))
        .collect();
    assert!(
        escalations.contains(&true) && escalations.contains(&false),
        "one escalation by staff, one by the system (C4)"
    );
    let severities: BTreeSet<&str> = log_a
        .iter()
        .flat_map(|st| st.events.iter())
        .filter(|e| e.event_type == "ComplaintRaised")
        .filter_map(|e| e.data["severity"].as_str())
        .collect();
    assert_eq!(severities, ["major", "minor"].into_iter().collect());

    // The whole lifecycle is there.
    let seen = types(&log_a);
    for t in [
        "ReceptionRequested",
        "LevelAssigned",
        "PlanDrafted",
        "PlanReviewed",
        "ReceptionUnitContacted",
        "ReadinessConfirmed",
        "StaffAssigned",
        "CarDispatched",
        "LodgingBooked",
        "TourHeld",
        "LeaderMeetingHeld",
        "MealBooked",
        "SouvenirPlanned",
        "SouvenirHanded",
        "CooperationMatterProposed",
        "CooperationMatterConfirmed",
        "VisitorsArrived",
        "VisitorsDeparted",
        "ReturnCallAttempted",
        "ReturnCallDone",
        "SummaryFiled",
        "ExpenseRecorded",
        "AdvanceIssued",
        "AdvanceSettled",
        "VisitCancelled",
        "VisitClosed",
        "ComplaintRaised",
        "ComplaintAssigned",
        "ComplaintReported",
        "ComplaintAnalysed",
        "ComplaintFeedbackGiven",
        "ComplaintSolutionAgreed",
        "ComplaintEscalated",
        "ComplaintResolved",
        "ComplaintReturnVisitDone",
        "ComplaintClosed",
        "VisitorSignedIn",
        "VisitorSignedOut",
    ] {
        assert!(seen.contains(t), "no {t} event in the demo data");
    }
    assert!(
        s.over_cap_expenses >= 1,
        "some expenses over their cap: {s:?}"
    );
    assert!(
        seen.contains("ExpenseApproved") || seen.contains("ExpenseRejected"),
        "over-cap expenses decided"
    );
    eprintln!("{s:#?}");
    assert!(s.sign_ins >= 20, "walk-ins at the front desk: {s:?}");

    // Customers come back: some company has more than one visit.
    let mut per_company = std::collections::BTreeMap::<String, u32>::new();
    for st in &log_a {
        if let Some(first) = st
            .events
            .first()
            .filter(|e| e.event_type == "ReceptionRequested")
        {
            *per_company
                .entry(
                    first.data["customer"]["company"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
                .or_default() += 1;
        }
    }
    assert!(
        per_company.values().any(|n| *n > 1),
        "repeat customers: {per_company:?}"
    );

    // Nothing stored is altered: the hash chain verifies.
    let report = a.store.verify().expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events_checked, a.store.head().0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_seed_gives_other_data() {
    let a = run(1, 6).await;
    let b = run(2, 6).await;
    assert_ne!(
        canonical_log(&a.store).expect("a"),
        canonical_log(&b.store).expect("b")
    );
}

#[tokio::test]
async fn bad_options_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = App::new(Store::open(dir.path()).expect("open"), AppConfig::default());
    let err = generate(
        &app,
        DemoOptions {
            visits: 0,
            ..DemoOptions::default()
        },
        &mut |_, _| {},
    )
    .await
    .expect_err("zero visits");
    assert!(err.to_string().contains("visits"), "{err}");
    let err = generate(
        &app,
        DemoOptions {
            years: 0,
            ..DemoOptions::default()
        },
        &mut |_, _| {},
    )
    .await
    .expect_err("zero years");
    assert!(err.to_string().contains("years"), "{err}");
    assert_eq!(app.store().head().0, 0, "nothing stored");
}
