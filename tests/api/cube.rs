//! Issue 17 over HTTP: the cost cube (two dimensions crossed, every figure), budget
//! against actual, the line CSV and the workbook, on a small year built through the
//! API whose every figure is computed by hand in the comments.
//!
//! The year (clock 2026-11-02 09:00 +08:00; every visit arrives 2026-11-07 09:00 and
//! leaves two days later, so a visitor counts 2 visitor-days):
//! - A: Huaxin Dealers Ltd, requested by east-sales, borne by hq-marketing, budget
//!   500 yuan, 2 visitors (4 visitor-days), ordinary, host Zhang Min.
//!   E1 meal 350 yuan on a lunch capped at 300 (over cap, approved); E2 gift 40 yuan
//!   of tea (item cap 50: within); E3 car 200 yuan, reversed by E4; E5 other 60 yuan
//!   paid by the visitor.
//! - B: a company named `=HYPERLINK(...)`, west-sales, budget 100 yuan, 1 visitor
//!   (2 visitor-days), ordinary, host Li Na. E6 dinner 450 yuan on a cap of 400 (over
//!   cap, pending); E7 other 70 yuan spent 2025-12-30 (the previous year); E8 other
//!   30 yuan.
//! - C: Huaxin Dealers Ltd, east-sales, no budget, 3 visitors (6 visitor-days). E9
//!   venue 90 yuan.

use std::io::Read;

use integration_tests::{visit_request, Server};
use reception_domain::Role;
use serde_json::{json, Value};

const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

struct Year {
    s: Server,
    analyst: String,
    a: String,
    b: String,
    c: String,
    ids: Vec<String>,
    seq: u64,
}

async fn ok(s: &Server, token: &str, path: &str, body: Value) -> Value {
    let a = s.post(token, path, body).await;
    assert!(
        a.status == 200 || a.status == 201,
        "{path}: {} {}",
        a.status,
        a.body
    );
    a.body
}

/// Files, approves and levels a visit; assigns its host.
async fn visit(s: &Server, tokens: (&str, &str), body: Value, host: &str) -> String {
    let (requester, reception) = tokens;
    let v = ok(s, requester, "/api/v1/visits", body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.approve_and_assign(reception, &v, "ordinary").await;
    ok(
        s,
        reception,
        &format!("/api/v1/visits/{v}/assign-staff"),
        json!({ "host": host, "accompanying": [{ "name": "Liu Yang", "role": "regional_manager" }] }),
    )
    .await;
    v
}

async fn meal(s: &Server, token: &str, v: &str, meal: &str, party: usize, budget: i64) -> String {
    let at = s.clock.now() + chrono::Duration::days(5) + chrono::Duration::hours(3);
    ok(
        s,
        token,
        &format!("/api/v1/visits/{v}/book-meal"),
        json!({ "meal": meal, "at": at, "venue": "Canteen", "party_size": party, "budget_fen": budget }),
    )
    .await["entity_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Records an expense; returns its id.
async fn spend(s: &Server, token: &str, v: &str, body: Value) -> (String, u64) {
    let a = ok(
        s,
        token,
        &format!("/api/v1/visits/{v}/record-expense"),
        body,
    )
    .await;
    (
        a["entity_id"].as_str().unwrap().to_string(),
        a["events"][0]["seq"].as_u64().unwrap(),
    )
}

fn expense(category: &str, fen: i64, paid_by: &str, spent: &str, what: &str) -> Value {
    json!({ "category": category, "amount_fen": fen, "receipt_no": format!("R-{what}"),
        "paid_by": paid_by, "spent_at": spent, "description": what })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

async fn build() -> Year {
    let s = Server::start().await;
    let requester = s.token(Role::Requester).await;
    let reception = s.token(Role::Reception).await;
    let analyst = s.token(Role::Analyst).await;
    let (dept, _) = s.approvers().await.clone();
    let now = s.clock.now();
    let tokens = (requester.as_str(), reception.as_str());

    let mut body_a = visit_request(now, 5, 2);
    body_a["cost_department"] = json!("hq-marketing");
    body_a["budget_fen"] = json!(50_000);
    let a = visit(&s, tokens, body_a, "Zhang Min").await;
    let mut body_b = visit_request(now, 5, 1);
    body_b["customer"]["company"] = json!(HYPERLINK);
    body_b["department"] = json!("west-sales");
    body_b["budget_fen"] = json!(10_000);
    let b = visit(&s, tokens, body_b, "Li Na").await;
    let c = visit(&s, tokens, visit_request(now, 5, 3), "Zhang Min").await;

    let lunch = meal(&s, &reception, &a, "lunch", 2, 30_000).await;
    let dinner = meal(&s, &reception, &b, "dinner", 1, 40_000).await;
    let r = reception.as_str();
    let (e1, _) = spend(
        &s,
        r,
        &a,
        with(
            with(
                expense(
                    "meal",
                    35_000,
                    "company",
                    "2026-10-20T12:00:00+08:00",
                    "lunch",
                ),
                "booking_id",
                json!(lunch),
            ),
            "vendor",
            json!("Canteen"),
        ),
    )
    .await;
    let (e2, _) = spend(
        &s,
        r,
        &a,
        with(
            expense(
                "gift",
                4_000,
                "company",
                "2026-10-21T10:00:00+08:00",
                "龙井茶",
            ),
            "subcategory",
            json!("tea"),
        ),
    )
    .await;
    let (e3, _) = spend(
        &s,
        r,
        &a,
        expense("car", 20_000, "company", "2026-11-01T08:00:00+08:00", "car"),
    )
    .await;
    let (e4, _) = spend(
        &s,
        r,
        &a,
        with(
            expense(
                "car",
                20_000,
                "company",
                "2026-11-02T08:00:00+08:00",
                "car was booked twice",
            ),
            "reverses",
            json!(e3),
        ),
    )
    .await;
    let (e5, _) = spend(
        &s,
        r,
        &a,
        expense(
            "other",
            6_000,
            "visitor",
            "2026-10-21T11:00:00+08:00",
            "-taxi",
        ),
    )
    .await;
    let (e6, _) = spend(
        &s,
        r,
        &b,
        with(
            expense(
                "meal",
                45_000,
                "company",
                "2026-10-25T19:00:00+08:00",
                "dinner",
            ),
            "booking_id",
            json!(dinner),
        ),
    )
    .await;
    let (e7, _) = spend(
        &s,
        r,
        &b,
        expense(
            "other",
            7_000,
            "company",
            "2025-12-30T10:00:00+08:00",
            "last year",
        ),
    )
    .await;
    let (e8, _) = spend(
        &s,
        r,
        &b,
        expense(
            "other",
            3_000,
            "company",
            "2026-10-26T10:00:00+08:00",
            "flowers",
        ),
    )
    .await;
    let (e9, _) = spend(
        &s,
        r,
        &c,
        expense(
            "venue",
            9_000,
            "company",
            "2026-10-22T10:00:00+08:00",
            "hall",
        ),
    )
    .await;
    let decided = ok(
        &s,
        &dept,
        &format!("/api/v1/visits/{a}/decide-expense"),
        json!({ "expense_id": e1, "approved": true, "comments": "the customer's birthday" }),
    )
    .await;
    let seq = decided["events"][0]["seq"].as_u64().unwrap();
    Year {
        s,
        analyst,
        a,
        b,
        c,
        ids: vec![e1, e2, e3, e4, e5, e6, e7, e8, e9],
        seq,
    }
}

impl Year {
    async fn get(&self, path: &str) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.s
            .get(&self.analyst, &format!("{path}{sep}min_seq={}", self.seq))
            .await
            .expect(200)
    }

    async fn bytes(&self, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
        let res = self
            .s
            .client
            .get(format!("{}{path}&min_seq={}", self.s.base, self.seq))
            .bearer_auth(&self.analyst)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let headers = res.headers().clone();
        (headers, res.bytes().await.unwrap().to_vec())
    }
}

fn group(report: &Value, key: Value) -> &Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key}: {report}"))
}

/// The figures of a group in one tuple, for one comparison per group.
fn figures(g: &Value) -> Vec<Value> {
    [
        "total_fen",
        "company_paid_fen",
        "visitor_paid_fen",
        "over_cap_fen",
        "count",
        "over_cap_approved_fen",
        "over_cap_rejected_fen",
        "over_cap_pending_fen",
        "visitor_days",
        "per_visitor_day_fen",
        "cap_utilisation_permille",
        "previous_year_total_fen",
    ]
    .iter()
    .map(|f| g[*f].clone())
    .collect()
}

fn want(v: [Value; 12]) -> Vec<Value> {
    v.to_vec()
}

#[tokio::test]
async fn the_cube_crosses_department_and_category_with_every_figure_computed_by_hand() {
    let y = build().await;
    let r = y
        .get("/api/v1/costs?year=2026&by=department,category")
        .await;
    // E1 + E2 + E3 − E4 + E5 + E6 + E8 + E9 (E7 is 2025's)
    assert_eq!(r["total_fen"], 102_000, "{r}");
    assert_eq!(r["by"], "department,category");
    let keys: Vec<&Value> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["key"])
        .collect();
    // visit A's spend is hq-marketing's, the department that bears it, not east-sales'
    assert_eq!(
        keys,
        [
            json!(["east-sales", "venue"]),
            json!(["hq-marketing", "car"]),
            json!(["hq-marketing", "gift"]),
            json!(["hq-marketing", "meal"]),
            json!(["hq-marketing", "other"]),
            json!(["west-sales", "meal"]),
            json!(["west-sales", "other"]),
        ]
        .iter()
        .collect::<Vec<_>>(),
        "{r}"
    );
    // E1: 350 yuan over a cap of 300, approved; hq-marketing's visitor-days are A's 4;
    // 35,000 ÷ 4 = 8,750; 35,000 ÷ 30,000 = 1,166.67‰ → 1,167
    assert_eq!(
        figures(group(&r, json!(["hq-marketing", "meal"]))),
        want([
            35_000.into(),
            35_000.into(),
            0.into(),
            35_000.into(),
            1.into(),
            35_000.into(),
            0.into(),
            0.into(),
            4.into(),
            8_750.into(),
            1_167.into(),
            0.into()
        ])
    );
    // E2: a gift within its item cap of 5,000: 800‰
    assert_eq!(
        figures(group(&r, json!(["hq-marketing", "gift"]))),
        want([
            4_000.into(),
            4_000.into(),
            0.into(),
            0.into(),
            1.into(),
            0.into(),
            0.into(),
            0.into(),
            4.into(),
            1_000.into(),
            800.into(),
            0.into()
        ])
    );
    // E3 and its reversal E4 net out, and nothing in it was capped
    assert_eq!(
        figures(group(&r, json!(["hq-marketing", "car"]))),
        want([
            0.into(),
            0.into(),
            0.into(),
            0.into(),
            0.into(),
            0.into(),
            0.into(),
            0.into(),
            4.into(),
            0.into(),
            Value::Null,
            0.into()
        ])
    );
    // E5: paid by the visitor
    assert_eq!(
        figures(group(&r, json!(["hq-marketing", "other"]))),
        want([
            6_000.into(),
            0.into(),
            6_000.into(),
            0.into(),
            1.into(),
            0.into(),
            0.into(),
            0.into(),
            4.into(),
            1_500.into(),
            Value::Null,
            0.into()
        ])
    );
    // E6: 450 over a cap of 400, pending; B's 2 visitor-days; 1,125‰
    assert_eq!(
        figures(group(&r, json!(["west-sales", "meal"]))),
        want([
            45_000.into(),
            45_000.into(),
            0.into(),
            45_000.into(),
            1.into(),
            0.into(),
            0.into(),
            45_000.into(),
            2.into(),
            22_500.into(),
            1_125.into(),
            0.into()
        ])
    );
    // E8, with E7 (2025-12-30) as the previous year's total of the same group
    assert_eq!(
        figures(group(&r, json!(["west-sales", "other"]))),
        want([
            3_000.into(),
            3_000.into(),
            0.into(),
            0.into(),
            1.into(),
            0.into(),
            0.into(),
            0.into(),
            2.into(),
            1_500.into(),
            Value::Null,
            7_000.into()
        ])
    );
    assert_eq!(
        figures(group(&r, json!(["east-sales", "venue"]))),
        want([
            9_000.into(),
            9_000.into(),
            0.into(),
            0.into(),
            1.into(),
            0.into(),
            0.into(),
            0.into(),
            6.into(),
            1_500.into(),
            Value::Null,
            0.into()
        ])
    );

    // crossed the other way round, the keys follow the order asked
    let flipped = y
        .get("/api/v1/costs?year=2026&by=category,department")
        .await;
    assert_eq!(
        figures(group(&flipped, json!(["meal", "hq-marketing"]))),
        figures(group(&r, json!(["hq-marketing", "meal"])))
    );

    // one dimension keeps its plain-string key; October has spend but no arrivals
    let by_month = y.get("/api/v1/costs?year=2026&by=month").await;
    let oct = group(&by_month, json!("2026-10"));
    assert_eq!(
        (&oct["total_fen"], &oct["visitor_days"]),
        (&json!(102_000), &json!(0))
    );
    assert_eq!(oct["per_visitor_day_fen"], Value::Null);
    let nov = group(&by_month, json!("2026-11"));
    // 4 + 2 + 6 visitor-days arrive in November; the car and its reversal net out
    assert_eq!(
        (&nov["total_fen"], &nov["count"], &nov["visitor_days"]),
        (&json!(0), &json!(0), &json!(12))
    );
    // category alone: every visit counts under each category (12 visitor-days);
    // 80,000 ÷ 12 = 6,666.67 → 6,667 (half-up)
    let by_category = y.get("/api/v1/costs?year=2026&by=category").await;
    let meals = group(&by_category, json!("meal"));
    assert_eq!(
        figures(meals),
        want([
            80_000.into(),
            80_000.into(),
            0.into(),
            80_000.into(),
            2.into(),
            35_000.into(),
            0.into(),
            45_000.into(),
            12.into(),
            6_667.into(),
            1_143.into(),
            0.into()
        ])
    );
    // subcategory and host are dimensions too
    let tea = y.get("/api/v1/costs?year=2026&by=subcategory,host").await;
    assert_eq!(group(&tea, json!(["tea", "Zhang Min"]))["total_fen"], 4_000);
    let last = y.get("/api/v1/costs?year=2025&by=department").await;
    assert_eq!(group(&last, json!("west-sales"))["total_fen"], 7_000);
    let _ = y.s.stop().await;
}

#[tokio::test]
async fn a_bad_by_is_refused_naming_the_field() {
    let s = Server::start().await;
    let analyst = s.token(Role::Analyst).await;
    for by in [
        "colour",
        "level,month,category",
        "level,level",
        "",
        "level,",
        "department,visit",
    ] {
        let a = s
            .get(&analyst, &format!("/api/v1/costs?year=2026&by={by}"))
            .await;
        assert_eq!(a.status, 400, "by={by:?}: {}", a.body);
        assert_eq!(a.code(), "invalid_input");
        assert_eq!(a.body["error"]["field"], "by", "{}", a.body);
    }
    for (path, field) in [
        ("/api/v1/costs/budget?year=2026&by=month", "by"),
        ("/api/v1/costs/export.csv?year=2026&lines=yes", "lines"),
        ("/api/v1/costs/export.xlsx?year=20260", "year"),
    ] {
        let a = s.get(&analyst, path).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert_eq!(a.body["error"]["field"], field, "{}", a.body);
    }
    let _ = s.stop().await;
}

#[tokio::test]
async fn budget_against_actual_by_department_and_by_visit() {
    let y = build().await;
    let r = y.get("/api/v1/costs/budget?year=2026&by=department").await;
    // A: budget 50,000, company spend E1 + E2 + E3 − E4 = 39,000 (E5 is the visitor's)
    // B: budget 10,000, company spend E6 + E7 + E8 = 55,000 (E7 in 2025 is B's too)
    // C: no budget, 9,000
    assert_eq!(
        (&r["budget_fen"], &r["actual_fen"], &r["difference_fen"]),
        (&json!(60_000), &json!(94_000), &json!(34_000)),
        "{r}"
    );
    assert_eq!(
        (
            &r["visits_with_budget"],
            &r["visits_over_budget"],
            &r["visits_without_budget"],
            &r["without_budget_actual_fen"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(9_000))
    );
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|g| g["department"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["east-sales", "hq-marketing", "west-sales"]
    );
    assert_eq!(groups[0]["visits_without_budget"], 1);
    assert_eq!(groups[0]["budget_fen"], 0);
    assert_eq!(groups[0]["without_budget_actual_fen"], 9_000);
    assert_eq!(
        (
            &groups[1]["budget_fen"],
            &groups[1]["actual_fen"],
            &groups[1]["difference_fen"],
            &groups[1]["visits_over_budget"]
        ),
        (&json!(50_000), &json!(39_000), &json!(-11_000), &json!(0))
    );
    assert_eq!(
        (
            &groups[2]["budget_fen"],
            &groups[2]["actual_fen"],
            &groups[2]["difference_fen"],
            &groups[2]["visits_over_budget"]
        ),
        (&json!(10_000), &json!(55_000), &json!(45_000), &json!(1))
    );
    let over = r["over_budget"].as_array().unwrap();
    assert_eq!(over.len(), 1, "{r}");
    assert_eq!(over[0]["visit_id"], y.b.as_str());
    assert!(r.get("visits").is_none());

    let v = y.get("/api/v1/costs/budget?year=2026&by=visit").await;
    let visits = v["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 3);
    let row = |id: &str| visits.iter().find(|r| r["visit_id"] == id).unwrap().clone();
    assert_eq!(
        row(&y.a),
        json!({"visit_id": y.a, "customer": "Huaxin Dealers Ltd", "level": "ordinary",
            "department": "hq-marketing", "budget_fen": 50_000, "actual_fen": 39_000,
            "difference_fen": -11_000, "over_budget": false})
    );
    assert_eq!(row(&y.b)["over_budget"], true);
    assert_eq!(row(&y.b)["customer"], HYPERLINK);
    assert_eq!(
        (
            row(&y.c)["budget_fen"].clone(),
            row(&y.c)["difference_fen"].clone(),
            row(&y.c)["over_budget"].clone()
        ),
        (Value::Null, Value::Null, json!(false))
    );
    // the visit's own V22 flag agrees
    let b =
        y.s.get(&y.analyst, &format!("/api/v1/visits/{}", y.b))
            .await
            .expect(200);
    assert!(
        b["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("over_budget")),
        "{b}"
    );
    let _ = y.s.stop().await;
}

#[tokio::test]
async fn the_line_csv_has_a_bom_every_column_and_neutralised_formulas() {
    let y = build().await;
    let (headers, csv) = y
        .bytes("/api/v1/costs/export.csv?year=2026&lines=true")
        .await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut rows = csv_rows(&text);
    let header = rows.remove(0);
    assert_eq!(
        header,
        [
            "expense_id",
            "visit_id",
            "customer",
            "level",
            "department",
            "host",
            "category",
            "subcategory",
            "description",
            "vendor",
            "spent_at",
            "amount_fen",
            "amount_yuan",
            "payer",
            "cap",
            "decision",
            "reverses"
        ]
    );
    // eight lines in 2026 (E7 is 2025's), by spend time
    assert_eq!(rows.len(), 8, "{text}");
    let line = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("{id}: {text}"))
            .clone()
    };
    let ids = &y.ids;
    assert_eq!(
        line(&ids[0]),
        [
            ids[0].as_str(),
            &y.a,
            "Huaxin Dealers Ltd",
            "ordinary",
            "hq-marketing",
            "Zhang Min",
            "meal",
            "",
            "lunch",
            "Canteen",
            "2026-10-20T12:00:00+08:00",
            "35000",
            "350.00",
            "company",
            "over",
            "approved",
            ""
        ]
    );
    assert_eq!(line(&ids[1])[6..9], ["gift", "tea", "龙井茶"]);
    assert_eq!(line(&ids[1])[14..16], ["within", "none"]);
    // the reversal: negative, marked, at its original's spend time
    assert_eq!(
        line(&ids[3])[8..],
        [
            "car was booked twice",
            "",
            "2026-11-01T08:00:00+08:00",
            "-20000",
            "-200.00",
            "company",
            "uncapped",
            "none",
            ids[2].as_str()
        ]
    );
    // a description starting with "-" is text, not a formula
    assert_eq!(line(&ids[4])[8], "'-taxi");
    assert_eq!(line(&ids[4])[13..16], ["visitor", "uncapped", "none"]);
    let b = line(&ids[5]);
    assert_eq!(b[2], format!("'{HYPERLINK}"), "the company is neutralised");
    assert_eq!(b[14..16], ["over", "pending"]);
    assert!(rows.iter().all(|r| r[0] != ids[6]), "E7 is 2025's");
    assert_eq!(line(&ids[8])[1], y.c);

    // the group export neutralises names too
    let (_, groups) = y.bytes("/api/v1/costs/export.csv?year=2026").await;
    let text = String::from_utf8(groups[3..].to_vec()).unwrap();
    let rows = csv_rows(&text);
    let customer = rows
        .iter()
        .find(|r| r[1] == "customer" && r[2].contains("HYPERLINK"))
        .unwrap();
    assert_eq!(customer[2], format!("'{HYPERLINK}"));
    assert_eq!(customer[3], "48000");
    assert!(rows.iter().all(|r| !r.iter().any(|c| c.starts_with('='))));
    let _ = y.s.stop().await;
}

#[tokio::test]
async fn the_workbook_opened_back_shows_the_same_figures() {
    let y = build().await;
    let (headers, book) = y.bytes("/api/v1/costs/export.xlsx?year=2026").await;
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let workbook = read("xl/workbook.xml");
    let names: Vec<String> = workbook
        .split("<sheet ")
        .skip(1)
        .map(|s| attr(s, "name"))
        .collect();
    assert_eq!(
        names,
        [
            "by month",
            "by level",
            "by department",
            "by category",
            "lines"
        ]
    );
    let strings = shared_strings(&read("xl/sharedStrings.xml"));
    let by_department = sheet(&read("xl/worksheets/sheet3.xml"), &strings);
    assert_eq!(
        by_department[0][..3],
        ["key", "total_fen", "company_paid_fen"]
    );
    let api = y.get("/api/v1/costs?year=2026&by=department").await;
    for g in api["groups"].as_array().unwrap() {
        let row = by_department
            .iter()
            .find(|r| r[0] == g["key"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{g} in {by_department:?}"));
        assert_eq!(row[1], g["total_fen"].to_string());
        assert_eq!(row[4], g["over_cap_fen"].to_string());
        assert_eq!(row[9], g["visitor_days"].to_string());
    }
    // hq-marketing: E1 + E2 + E3 − E4 + E5
    assert!(by_department
        .iter()
        .any(|r| r[0] == "hq-marketing" && r[1] == "45000"));
    let lines = sheet(&read("xl/worksheets/sheet5.xml"), &strings);
    assert_eq!(lines.len(), 1 + 8);
    let reversal = lines.iter().find(|r| r[0] == y.ids[3]).unwrap();
    assert_eq!(reversal[11], "-20000");
    assert_eq!(reversal[15], y.ids[2]);
    // text stays text in the workbook: the company is stored as written, as a string
    assert!(lines.iter().any(|r| r[2] == HYPERLINK));
    let _ = y.s.stop().await;
}

/// The rows of a CSV text (quoted fields with doubled quotes; no newlines in cells).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut cells = vec![String::new()];
            let (mut quoted, mut chars) = (false, line.chars().peekable());
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        chars.next();
                        cells.last_mut().unwrap().push('"');
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(String::new()),
                    (c, _) => cells.last_mut().unwrap().push(c),
                }
            }
            cells
        })
        .collect()
}

fn attr(tag: &str, name: &str) -> String {
    let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    unescape(&tag[start..start + tag[start..].find('"').unwrap()])
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The texts of `<t>` elements, one per `<si>`.
fn shared_strings(xml: &str) -> Vec<String> {
    xml.split("<si>")
        .skip(1)
        .map(|si| {
            let t = &si[si.find("<t").unwrap()..];
            let body = &t[t.find('>').unwrap() + 1..t.find("</t>").unwrap()];
            unescape(body)
        })
        .collect()
}

/// A worksheet's rows as text: shared strings resolved, numbers as written, gaps
/// (empty cells) as "".
fn sheet(xml: &str, strings: &[String]) -> Vec<Vec<String>> {
    xml.split("<row ")
        .skip(1)
        .map(|row| {
            let mut cells: Vec<String> = Vec::new();
            for c in row.split("<c ").skip(1) {
                let col = attr(c, "r")
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase())
                    .fold(0usize, |n, ch| n * 26 + usize::from(ch as u8 - b'A' + 1))
                    - 1;
                let value = c
                    .find("<v>")
                    .map(|i| c[i + 3..c.find("</v>").unwrap()].to_string())
                    .unwrap_or_default();
                let text = if c.contains("t=\"s\"") {
                    strings[value.parse::<usize>().unwrap()].clone()
                } else {
                    value
                };
                cells.resize(col, String::new());
                cells.push(text);
            }
            cells
        })
        .collect()
}
