//! The role matrix: every role against every command family. Allowed roles succeed,
//! the others get 403 `forbidden` and store nothing; auditors and analysts never write.

use integration_tests::{visit_request, Answer, Server};
use reception_domain::policy::Policy;
use reception_domain::Role;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
enum Family {
    FileVisit,
    ReceptionCommand,
    ReviewPlan,
    ApproveRequest,
    IssueAdvance,
    RecordExpense,
    NotePreference,
    RaiseComplaint,
    HandleComplaint,
    SignIn,
    PublishPolicy,
    IssueToken,
}

use Family::*;

/// Who may, per API.md (plus admin, who may do everything).
fn allowed(f: Family) -> &'static [Role] {
    match f {
        FileVisit => &[Role::Admin, Role::Requester, Role::Reception],
        ReceptionCommand => &[Role::Admin, Role::Reception],
        ReviewPlan => &[Role::Admin, Role::Approver],
        ApproveRequest => &[Role::Admin, Role::Approver],
        IssueAdvance => &[Role::Admin, Role::Finance],
        RecordExpense => &[Role::Admin, Role::Reception, Role::Finance],
        NotePreference => &[Role::Admin, Role::Reception, Role::Requester],
        RaiseComplaint => &[
            Role::Admin,
            Role::Reception,
            Role::Requester,
            Role::Frontdesk,
        ],
        HandleComplaint => &[Role::Admin, Role::Reception],
        SignIn => &[Role::Admin, Role::Frontdesk],
        PublishPolicy => &[Role::Admin],
        IssueToken => &[Role::Admin],
    }
}

/// A new visit filed by the admin; with `level`, approved (V22) and assigned `senior`.
async fn new_visit(s: &Server, level: bool) -> String {
    let filed = s
        .post(
            &s.admin,
            "/api/v1/visits",
            visit_request(s.clock.now(), 5, 2),
        )
        .await
        .expect(201);
    let v = filed["id"].as_str().unwrap().to_string();
    if level {
        s.approve_and_assign(&s.admin, &v, "senior").await;
    }
    v
}

/// Sets up a fresh target as admin, notes the log head in `before`, then tries `f`
/// with `token`.
async fn attempt(
    s: &Server,
    f: Family,
    token: &str,
    policy_version: &mut u32,
    before: &mut u64,
) -> Answer {
    *before = s.head();
    match f {
        FileVisit => {
            s.post(token, "/api/v1/visits", visit_request(s.clock.now(), 5, 1))
                .await
        }
        ReceptionCommand => {
            let v = new_visit(s, false).await;
            // approved, so that assigning the level is the role's only hurdle (V22)
            s.approve_request(&v, "ordinary").await;
            *before = s.head();
            s.post(
                token,
                &format!("/api/v1/visits/{v}/assign-level"),
                json!({"level": "ordinary"}),
            )
            .await
        }
        ReviewPlan => {
            let v = new_visit(s, true).await;
            let at = s.clock.now() + chrono::Duration::days(5);
            s.post(
                &s.admin,
                &format!("/api/v1/visits/{v}/draft-plan"),
                json!({"items": [{"at": at, "kind": "tour", "title": "showroom"}]}),
            )
            .await
            .expect(200);
            *before = s.head();
            s.post(
                token,
                &format!("/api/v1/visits/{v}/review-plan"),
                json!({"approved": true}),
            )
            .await
        }
        ApproveRequest => {
            let v = new_visit(s, false).await;
            *before = s.head();
            s.post(
                token,
                &format!("/api/v1/visits/{v}/approve-request"),
                json!({"decision": "approve", "as": "department_manager"}),
            )
            .await
        }
        IssueAdvance => {
            let v = new_visit(s, true).await;
            *before = s.head();
            s.post(
                token,
                &format!("/api/v1/visits/{v}/issue-advance"),
                json!({"amount_fen": 100_000}),
            )
            .await
        }
        RecordExpense => {
            let v = new_visit(s, true).await;
            let body = json!({"category": "gift", "amount_fen": 5_000, "receipt_no": "R-1", "paid_by": "company",
                              "spent_at": s.clock.now(), "description": "tea"});
            *before = s.head();
            s.post(token, &format!("/api/v1/visits/{v}/record-expense"), body)
                .await
        }
        NotePreference => {
            let v = new_visit(s, false).await;
            let body = json!({"subject": "Visitor 0", "kind": "diet", "text": "no pork"});
            *before = s.head();
            s.post(token, &format!("/api/v1/visits/{v}/note-preference"), body)
                .await
        }
        RaiseComplaint => s.post(token, "/api/v1/complaints", complaint()).await,
        HandleComplaint => {
            let c = s
                .post(&s.admin, "/api/v1/complaints", complaint())
                .await
                .expect(201);
            let id = c["id"].as_str().unwrap();
            *before = s.head();
            s.post(
                token,
                &format!("/api/v1/complaints/{id}/assign"),
                json!({"department": "logistics", "assignee": "Zhou"}),
            )
            .await
        }
        SignIn => {
            let body = json!({"name": "Walk-in Guest", "party_size": 2, "reason": "delivery", "host": "Zhang Min"});
            s.post(token, "/api/v1/frontdesk/sign-in", body).await
        }
        PublishPolicy => {
            let mut p: Value = serde_json::to_value(Policy::default_v1()).unwrap();
            p["version"] = json!(*policy_version);
            p["effective_from"] = json!(s.clock.now() + chrono::Duration::days(30));
            let a = s.post(token, "/api/v1/policy", p).await;
            if a.status < 300 {
                *policy_version += 1;
            }
            a
        }
        IssueToken => {
            s.post(
                token,
                "/api/v1/tokens",
                json!({"user": "someone", "role": "reception"}),
            )
            .await
        }
    }
}

fn complaint() -> Value {
    json!({"customer": "Huaxin Dealers Ltd", "severity": "minor", "category": "meals", "description": "cold soup"})
}

#[tokio::test]
async fn every_role_against_every_command_family() {
    let s = Server::start().await;
    let mut tokens = Vec::new();
    for role in Role::ALL_HUMAN {
        tokens.push((role, s.token(role).await));
    }
    let families = [
        FileVisit,
        ReceptionCommand,
        ReviewPlan,
        ApproveRequest,
        IssueAdvance,
        RecordExpense,
        NotePreference,
        RaiseComplaint,
        HandleComplaint,
        SignIn,
        PublishPolicy,
        IssueToken,
    ];
    let mut policy_version = 2;
    let mut checked = 0;
    for f in families {
        for (role, token) in &tokens {
            let mut before = 0;
            let a = attempt(&s, f, token, &mut policy_version, &mut before).await;
            let may = allowed(f).contains(role);
            if may {
                assert!(
                    a.status == 200 || a.status == 201,
                    "{role:?} on {f:?} should succeed: {} {}",
                    a.status,
                    a.body
                );
            } else {
                assert_eq!(
                    a.status, 403,
                    "{role:?} on {f:?} must be forbidden: {}",
                    a.body
                );
                assert_eq!(a.code(), "forbidden");
                assert_eq!(
                    s.head(),
                    before,
                    "{role:?} on {f:?}: a rejected command stores nothing"
                );
            }
            if matches!(role, Role::Auditor | Role::Analyst) {
                assert_eq!(a.status, 403, "{role:?} never writes");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 12 * 8);
    let _ = s.stop().await;
}

/// `GET /api/v1/me` names the caller and the areas of the read table; the costs routes
/// refuse the roles the table leaves out, so the dashboard's missing page is a real
/// refusal, not a hidden link.
#[tokio::test]
async fn every_role_reads_what_the_access_table_says() {
    use reception_domain::access::Area;
    let s = Server::start().await;
    for role in Role::ALL_HUMAN {
        let token = s.token_for(&format!("user.{}", role.as_str()), role).await;
        let me = s.get(&token, "/api/v1/me").await.expect(200);
        assert_eq!(me["user"], json!(format!("user.{}", role.as_str())));
        assert_eq!(me["role"], json!(role.as_str()));
        let areas: Vec<&str> = me["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = Area::ALL
            .into_iter()
            .filter(|a| a.readers().contains(&role))
            .map(Area::as_str)
            .collect();
        assert_eq!(areas, expected, "{role:?}");
        assert_eq!(
            me["read_only"],
            json!(matches!(role, Role::Auditor | Role::Analyst))
        );

        let costs = s.get(&token, "/api/v1/costs?year=2026&by=level").await;
        let csv = s.get(&token, "/api/v1/costs/export.csv?year=2026").await;
        if role.may_read(Area::Costs) {
            assert_eq!(costs.status, 200, "{role:?}: {}", costs.body);
            assert_eq!(csv.status, 200, "{role:?}");
        } else {
            assert_eq!(costs.status, 403, "{role:?} reads no spend: {}", costs.body);
            assert_eq!(costs.code(), "forbidden");
            assert_eq!(csv.status, 403, "{role:?} exports no spend");
        }
    }
    assert_eq!(s.get("not-a-token", "/api/v1/me").await.status, 401);
    let _ = s.stop().await;
}
