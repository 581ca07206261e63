//! The dashboard as a person uses it: real headless chromium against the real API and
//! dashboard routers over a real store. Each test asserts what is visible (text,
//! totals equal to the API's) and saves screenshots under `target/screenshots/`.

mod support;

use std::time::Duration;

use serde_json::json;
use support::cdp::{Browser, Page};
use support::{chromium_or_skip, screenshot_dir, serial, Backend, Http};

fn shot(page: &mut Page<'_>, name: &str) {
    page.screenshot(&screenshot_dir().join(format!("{name}.png")));
}

/// The text of the first element matching a `data-test` name.
fn test_text(page: &mut Page<'_>, name: &str) -> String {
    page.eval(&format!(
        "document.querySelector('[data-test=\"{name}\"]')?.innerText ?? ''"
    ))
    .as_str()
    .unwrap_or("")
    .to_string()
}

#[test]
fn the_board_opens_from_a_token_link_updates_live_and_survives_a_server_restart() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let backend = Backend::start(0);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    let reception = backend.token(&http, "li.na", "reception");
    let viewer = backend.token(&http, "wall.screen", "auditor");
    let first = backend.file_visit(&http, &reception, "华信经销有限公司", 5);

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("zh-CN,zh;q=0.9");
    page.goto(&format!("{}/#token={viewer}", http.base()));
    page.wait_for(
        "the first visit on the board",
        "document.body.innerText.includes('华信经销有限公司')",
        10,
    );
    let text = page.text();
    assert!(text.contains("接待看板"), "Chinese first: {text}");
    assert!(text.contains("已申请"), "the stage in words: {text}");
    assert!(!text.contains("requested"), "no identifiers shown: {text}");
    // The token left the address bar and lives in this tab's session storage.
    assert_eq!(page.eval("location.hash.includes('token')"), json!(false));
    assert_eq!(
        page.eval("sessionStorage.getItem('reception.token')"),
        json!(viewer)
    );
    page.wait_for(
        "the live state",
        "document.querySelector('#conn').dataset.state === 'live'",
        5,
    );

    // A request filed elsewhere appears without reload within 2 s.
    page.eval("window.__same_document = true");
    backend.file_visit(&http, &reception, "Pampa Agro S.A.", 6);
    let took = page.wait_for(
        "the pushed visit",
        "document.body.innerText.includes('Pampa Agro S.A.')",
        2,
    );
    assert_eq!(
        page.eval("window.__same_document === true"),
        json!(true),
        "no reload"
    );
    eprintln!("the pushed visit showed after {took:?}");
    shot(&mut page, "board-zh");

    // The server dies: a visible warning; it comes back: the page reconnects.
    let addr = http.stop();
    page.wait_for(
        "the lost-connection warning",
        "!document.querySelector('[data-test=banner]').hidden",
        10,
    );
    assert!(test_text(&mut page, "banner").contains("连接已中断"));
    shot(&mut page, "board-zh-connection-lost");
    let http = Http::start(&backend, addr);
    page.wait_for(
        "the reconnection",
        "document.querySelector('[data-test=banner]').hidden && document.querySelector('#conn').dataset.state === 'live'",
        20,
    );
    backend.file_visit(&http, &reception, "After Restart GmbH", 7);
    page.wait_for(
        "a visit pushed after the reconnection",
        "document.body.innerText.includes('After Restart GmbH')",
        2,
    );
    assert_eq!(page.eval("window.__same_document === true"), json!(true));

    // A change to a visit on the board shows in place; the stage filter keeps only it.
    backend.approve_request(&http, &first, "senior");
    backend.post(
        &http,
        &reception,
        &format!("/api/v1/visits/{first}/assign-level"),
        json!({ "level": "senior" }),
    );
    page.wait_for(
        "the assigned level",
        &format!(
            "document.querySelector('[data-visit=\"{first}\"]')?.innerText.includes('已定级')"
        ),
        2,
    );
    page.click("[data-test=stage-level_assigned]");
    page.wait_for(
        "only the visit with a level",
        "document.querySelectorAll('[data-test=board-row]').length === 1",
        2,
    );
    assert!(test_text(&mut page, "board").contains("华信经销有限公司"));
    page.click("[data-test=stage-all]");
    page.wait_for(
        "every visit again",
        "document.querySelectorAll('[data-test=board-row]').length === 3",
        2,
    );

    // The switch turns the page to English, and the choice is remembered.
    page.click("[data-test=lang-switch]");
    page.wait_for(
        "English labels",
        "document.body.innerText.includes('Reception board')",
        5,
    );
    assert!(page.text().contains("Requested"));
    shot(&mut page, "board-en");
    page.goto(&format!("{}/", http.base()));
    page.wait_for(
        "English after reload",
        "document.body.innerText.includes('Reception board')",
        5,
    );
}

#[test]
fn the_replay_slider_shows_the_visit_before_its_level_and_back() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let backend = Backend::start(0);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    let reception = backend.token(&http, "li.na", "reception");
    let auditor = backend.token(&http, "audit.or", "auditor");
    // Filed a day ahead: late (V2), a flag it has had from its first event.
    let id = backend.file_visit(&http, &reception, "Huaxin Dealers Ltd", 1);
    // Two events must not share a recording instant for the replay to tell them apart.
    std::thread::sleep(Duration::from_millis(20));
    backend.approve_request(&http, &id, "senior");
    std::thread::sleep(Duration::from_millis(20));
    backend.post(
        &http,
        &reception,
        &format!("/api/v1/visits/{id}/assign-level"),
        json!({ "level": "senior" }),
    );

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("en-US,en;q=0.9");
    page.goto(&format!("{}/#token={auditor}", http.base()));
    page.wait_for(
        "the board",
        "document.body.innerText.includes('Huaxin Dealers Ltd')",
        10,
    );
    page.goto(&format!("{}/#/visit/{id}", http.base()));
    page.wait_for(
        "the current stage",
        "document.querySelector('[data-test=state-stage]')?.innerText === 'Preparing'",
        10,
    );
    assert!(
        page.text().contains("Reception requested"),
        "events in words"
    );
    assert_eq!(test_text(&mut page, "state-level"), "Senior");

    // Keyboard: Home goes before everything, one step right is after the request.
    page.eval("document.querySelector('[data-test=replay-slider]').focus()");
    page.key("Home");
    page.key("ArrowRight");
    page.wait_for(
        "the stage before the level",
        "document.querySelector('[data-test=state-stage]')?.innerText === 'Requested'",
        5,
    );
    assert!(test_text(&mut page, "replay-at").contains("Reception requested"));
    assert_eq!(test_text(&mut page, "state-level"), "—");
    // The flags shown then are the API's as of that instant, in words.
    let past_flags = past_flags_of(&backend, &http, &auditor, &id);
    assert!(
        past_flags
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "late_request"),
        "{past_flags}"
    );
    assert_eq!(page.eval(SHOWN_FLAGS), past_flags);
    assert!(test_text(&mut page, "state-flags").contains("Late request"));
    shot(&mut page, "visit-en-replay");
    page.key("End");
    page.wait_for(
        "the current stage again",
        "document.querySelector('[data-test=state-stage]')?.innerText === 'Preparing'",
        5,
    );
    page.click("[data-test=lang-switch]");
    page.wait_for(
        "Chinese",
        "document.querySelector('[data-test=state-stage]')?.innerText === '筹备中'",
        5,
    );
    shot(&mut page, "visit-zh");
    page.eval("document.querySelector('[data-test=replay-slider]').focus()");
    page.key("Home");
    page.key("ArrowRight");
    page.wait_for(
        "the stage before the level, in Chinese",
        "document.querySelector('[data-test=state-stage]')?.innerText === '已申请'",
        5,
    );
    assert_eq!(page.eval(SHOWN_FLAGS), past_flags);
    assert!(test_text(&mut page, "state-flags").contains("申请过晚"));
    shot(&mut page, "visit-zh-replay");
}

/// The flags the replay shows, as identifiers.
const SHOWN_FLAGS: &str =
    "[...document.querySelectorAll('[data-test=state-flags] [data-flag]')].map(e => e.dataset.flag)";

/// The API's flags of visit `id` as of the recording of its first event.
fn past_flags_of(backend: &Backend, http: &Http, token: &str, id: &str) -> serde_json::Value {
    let history = backend.get(http, token, &format!("/api/v1/visits/{id}/history"));
    let first = history["events"][0]["recorded_at"]
        .as_str()
        .expect("recorded_at")
        .replace('+', "%2B");
    let then = backend.get(
        http,
        token,
        &format!("/api/v1/visits/{id}/history?as_of={first}"),
    );
    then["flags"].clone()
}

#[test]
fn a_role_sees_only_the_pages_it_may_read() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let backend = Backend::start(0);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    let desk = backend.token(&http, "wang.fang", "frontdesk");
    let finance = backend.token(&http, "zhao.lei", "finance");
    let nav = "[...document.querySelectorAll('#nav a')].map(a => a.dataset.test).join(',')";

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("zh-CN,zh;q=0.9");
    page.goto(&format!("{}/#token={desk}", http.base()));
    page.wait_for(
        "the front desk's navigation",
        "document.querySelector('[data-test=nav-board]')",
        10,
    );
    assert_eq!(
        page.eval(nav),
        json!("nav-board,nav-customers,nav-complaints"),
        "the front desk is not offered costs or audit"
    );
    assert!(
        test_text(&mut page, "who").contains("前台"),
        "the role in words"
    );
    // A typed address is refused in words, not with the API's 403.
    page.goto(&format!("{}/#/costs", http.base()));
    page.wait_for(
        "the refusal",
        "document.querySelector('[data-test=not-offered]')",
        10,
    );
    assert!(test_text(&mut page, "not-offered").contains("前台"));
    shot(&mut page, "signin-zh-frontdesk-costs");

    page.click("#signout");
    page.goto(&format!("{}/#token={finance}", http.base()));
    page.wait_for(
        "the finance navigation",
        "document.querySelector('[data-test=nav-costs]')",
        10,
    );
    assert_eq!(
        page.eval(nav),
        json!("nav-board,nav-costs,nav-customers,nav-complaints"),
        "finance reads spend, not the audit trail"
    );
}

#[test]
fn every_page_shows_the_api_figures_in_both_languages() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let backend = Backend::start(120);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    // An auditor reads every page this test visits: costs, customers, complaints, audit.
    let reader = backend.token(&http, "audit.or", "auditor");
    let year = chrono::Utc::now().format("%Y").to_string();
    let costs = backend.get(
        &http,
        &reader,
        &format!("/api/v1/costs?year={year}&by=month"),
    );
    let total = costs["total_fen"].as_i64().expect("total");
    assert!(total > 0, "the demo year has spending: {costs}");

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("zh-CN,zh;q=0.9");
    // A refused token brings the sign-in form with a message.
    page.goto(&format!("{}/#token=not-a-token", http.base()));
    page.wait_for(
        "the sign-in form",
        "document.querySelector('[data-test=signin-error]')",
        10,
    );
    assert!(test_text(&mut page, "signin-error").contains("令牌无效"));
    shot(&mut page, "signin-zh-refused");
    // Typing a good token signs in.
    page.click("[data-test=token-input]");
    page.type_text(&reader);
    page.key("Enter");
    page.wait_for(
        "the board",
        "document.querySelector('[data-test=board-row]')",
        10,
    );
    shot(&mut page, "board-zh-demo");

    for lang in ["zh", "en"] {
        // Costs: the page's total and the chart's bars are the API's figures.
        page.goto(&format!("{}/#/costs/{year}", http.base()));
        page.wait_for(
            "the costs page",
            "document.querySelector('[data-test=chart-month]')",
            10,
        );
        let bars: i64 = page
            .eval("[...document.querySelectorAll('[data-test=chart-month] [data-total]')].reduce((s, e) => s + Number(e.dataset.total), 0)")
            .as_i64()
            .expect("bar totals");
        assert_eq!(bars, total, "the month chart adds up to the API's total");
        let shown = test_text(&mut page, "total");
        let yuan = format!("{:.2}", total as f64 / 100.0);
        let grouped = group_thousands(&yuan);
        assert!(
            shown.contains('¥') && shown.contains(&grouped),
            "{shown} shows ¥{grouped}"
        );
        if lang == "zh" {
            assert!(shown.contains("合计"), "{shown}");
        } else {
            assert!(shown.contains("Total"), "{shown}");
        }
        shot(&mut page, &format!("costs-{lang}"));

        page.goto(&format!("{}/#/customers", http.base()));
        page.wait_for(
            "customers",
            "document.querySelector('[data-test=customer-row] a')",
            10,
        );
        shot(&mut page, &format!("customers-{lang}"));
        page.click("[data-test=customer-row] a");
        page.wait_for(
            "a profile",
            "document.querySelector('[data-test=customer-visit]')",
            10,
        );
        shot(&mut page, &format!("customer-{lang}"));

        page.goto(&format!("{}/#/complaints", http.base()));
        page.wait_for(
            "complaints",
            "document.querySelector('[data-test=report-total]')",
            10,
        );
        shot(&mut page, &format!("complaints-{lang}"));

        page.goto(&format!("{}/#/audit", http.base()));
        page.wait_for(
            "the feed",
            "document.querySelectorAll('[data-test=feed-row]').length === 50",
            10,
        );
        page.click("[data-test=verify]");
        page.wait_for(
            "the verification",
            "document.querySelector('[data-test=verify-result]').className === 'ok'",
            30,
        );
        let verified = test_text(&mut page, "verify-result");
        assert!(
            verified.contains(if lang == "zh" {
                "哈希链完整"
            } else {
                "Chain intact"
            }),
            "{verified}"
        );
        shot(&mut page, &format!("audit-{lang}"));

        page.goto(&format!("{}/#/board", http.base()));
        page.wait_for(
            "the board",
            "document.querySelector('[data-test=board-row] a')",
            10,
        );
        page.open_link(
            "[data-test=board-row] a",
            "location.hash.startsWith('#/visit/')",
        );
        page.wait_for("a visit", "document.querySelector('[data-test=event]')", 10);
        shot(&mut page, &format!("visit-{lang}-demo"));
        if lang == "zh" {
            page.click("[data-test=lang-switch]");
            page.wait_for("English", "document.body.innerText.includes('Timeline')", 5);
        }
    }
}

#[test]
fn the_costs_overview_narrows_to_a_department_and_a_customer_in_both_languages() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    // Two years, so that each group has a year before to be compared with.
    let backend = Backend::start_years(120, 2);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    let reader = backend.token(&http, "audit.or", "auditor");
    let year = chrono::Utc::now().format("%Y").to_string();
    let costs = |by: &str| {
        backend.get(
            &http,
            &reader,
            &format!("/api/v1/costs?year={year}&by={by}"),
        )
    };
    // The largest department and customer of the demo year, and the API's figures of
    // each crossed with the month and with the department.
    let largest = |by: &str| {
        let answer = costs(by);
        let groups = answer["groups"].as_array().expect("groups").clone();
        groups
            .into_iter()
            .max_by_key(|g| g["total_fen"].as_i64().unwrap_or(0))
            .unwrap_or_else(|| panic!("the demo year has spending by {by}: {answer}"))
    };
    let crossed_sum = |by: &str, key: &serde_json::Value| -> i64 {
        costs(by)["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .filter(|g| &g["key"][0] == key)
            .map(|g| g["total_fen"].as_i64().unwrap())
            .sum()
    };
    let department = largest("department");
    let customer = largest("customer");

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("zh-CN,zh;q=0.9");
    page.goto(&format!("{}/#token={reader}", http.base()));
    page.wait_for(
        "the board",
        "document.querySelector('[data-test=board]')",
        10,
    );
    for lang in ["zh", "en"] {
        if lang == "en" {
            page.click("[data-test=lang-switch]");
            page.wait_for(
                "English",
                "document.querySelector('[data-test=nav-costs]')?.innerText === 'Costs'",
                5,
            );
        }
        for (dim, group) in [("department", &department), ("customer", &customer)] {
            page.goto(&format!("{}/#/costs/{year}", http.base()));
            page.wait_for("the costs page", "document.querySelector('[data-test=chart-month]') && !document.querySelector('[data-test=filter-on]')", 10);
            let key = group["key"].as_str().expect("key");
            if dim == "department" {
                let value = serde_json::to_string(key).unwrap();
                page.eval(&format!("(() => {{ const s = document.querySelector('[data-test=filter-department]'); s.value = {value}; s.dispatchEvent(new Event('change')); }})()"));
            } else {
                page.click("[data-test=filter-customer]");
                page.type_text(key);
                page.key("Enter");
            }
            page.wait_for("the filtered figures", "document.querySelector('[data-test=filter-on]') && !document.querySelector('[data-test=overview][aria-busy]')", 10);
            assert!(
                test_text(&mut page, "filter-on").contains(if dim == "customer" {
                    key
                } else {
                    ""
                })
            );
            let total = group["total_fen"].as_i64().unwrap();
            assert_eq!(
                crossed_sum(&format!("{dim},month"), &group["key"]),
                total,
                "the API's crossed figures add up"
            );
            let sum = |page: &mut Page<'_>, sel: &str, attr: &str| {
                page.eval(&format!("[...document.querySelectorAll('{sel}')].reduce((s, e) => s + Number(e.dataset.{attr}), 0)"))
                    .as_i64()
                    .expect("a sum")
            };
            // Every chart and the KPIs are the chosen group's, as the API crosses it.
            for chart in ["chart-month", "chart-level", "chart-category"] {
                assert_eq!(
                    sum(
                        &mut page,
                        &format!("[data-test={chart}] [data-total]"),
                        "total"
                    ),
                    total,
                    "{lang} {dim} {chart}"
                );
            }
            let other = if dim == "department" {
                "customer"
            } else {
                "department"
            };
            let rows = sum(
                &mut page,
                &format!("[data-test=table-{dim}-row] [data-fen]"),
                "fen",
            );
            assert_eq!(rows, total, "{lang} {dim}: its own row");
            if dim == "customer" {
                assert_eq!(
                    sum(
                        &mut page,
                        &format!("[data-test=table-{other}-row] [data-fen]"),
                        "fen"
                    ),
                    crossed_sum(&format!("{dim},{other}"), &group["key"])
                );
            }
            let shown = test_text(&mut page, "total");
            let grouped = group_thousands(&format!("{:.2}", total as f64 / 100.0));
            assert!(
                shown.contains('¥') && shown.contains(&grouped),
                "{lang} {dim}: {shown} shows ¥{grouped}"
            );
            // The year before, beside it.
            let previous = group["previous_year_total_fen"].as_i64().unwrap();
            let before = test_text(&mut page, "previous");
            assert!(
                before.contains(&group_thousands(&format!("{:.2}", previous as f64 / 100.0))),
                "{before}"
            );
            assert_eq!(
                sum(
                    &mut page,
                    &format!("[data-test=table-{dim}-row] [data-previous-fen]"),
                    "previousFen"
                ),
                previous
            );
            shot(&mut page, &format!("costs-{dim}-{lang}"));
        }
    }
}

#[test]
fn the_cost_analyses_show_the_api_figures_in_both_languages() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let backend = Backend::start(60);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    let reception = backend.token(&http, "li.na", "reception");
    let analyst = backend.token(&http, "fen.xi", "analyst");
    let finance = backend.token(&http, "zhao.lei", "finance");

    // A dinner that any lowered dinner cap makes over cap: an ordinary visit, a dinner
    // for one booked, 380 yuan spent on it (within the ordinary cap of 400 yuan).
    let visit = backend.file_visit(&http, &reception, "晚宴实业有限公司", 3);
    backend.approve_request(&http, &visit, "ordinary");
    backend.post(
        &http,
        &reception,
        &format!("/api/v1/visits/{visit}/assign-level"),
        json!({ "level": "ordinary" }),
    );
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let dinner = backend.post(
        &http,
        &reception,
        &format!("/api/v1/visits/{visit}/book-meal"),
        json!({ "meal": "dinner", "at": (now + chrono::Duration::days(3) + chrono::Duration::hours(8)).to_rfc3339(),
                "venue": "湖畔餐厅", "party_size": 1, "budget_fen": 40_000 }),
    )["entity_id"]
        .as_str()
        .expect("booking id")
        .to_string();
    let recorded = backend.post(
        &http,
        &reception,
        &format!("/api/v1/visits/{visit}/record-expense"),
        json!({ "category": "meal", "amount_fen": 38_000, "receipt_no": "R-DINNER", "paid_by": "company",
                "booking_id": dinner, "spent_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
                "description": "dinner" }),
    );
    // Read-your-writes: the read side's answers below include the expense.
    let seq = recorded["events"]
        .as_array()
        .and_then(|events| events.last())
        .and_then(|e| e["seq"].as_u64())
        .unwrap_or_else(|| panic!("the expense's event: {recorded}"));
    let year = now.format("%Y").to_string();

    // The API's answers the pages must show: the same proposal as typed below (the
    // ordinary dinner cap lowered to 300 yuan, everything else as in force).
    let policy = backend.get(&http, &analyst, "/api/v1/policy");
    let mut levels = policy["in_force"]["levels"].clone();
    for level in levels.as_array_mut().expect("levels") {
        if level["id"] == "ordinary" {
            assert!(
                level["meals"]["per_person_fen"].is_null(),
                "the default policy caps the ordinary level's meals per party"
            );
            level["meals"]["dinner_cap_fen"] = json!(30_000);
        }
    }
    let what_if = backend.post(
        &http,
        &analyst,
        "/api/v1/analysis/what-if",
        json!({ "year": year.parse::<i32>().unwrap(), "policy": { "levels": levels }, "by": "level", "min_seq": seq }),
    );
    let savings = what_if["savings_fen"].as_i64().expect("savings");
    assert!(
        savings >= 8_000,
        "the dinner is 80 yuan above 300: {what_if}"
    );
    let cube = backend.get(
        &http,
        &analyst,
        &format!("/api/v1/costs?year={year}&by=level,category&min_seq={seq}"),
    );
    let cell = cube["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["key"] == json!(["ordinary", "meal"]))
        .expect("an ordinary meal group")
        .clone();
    let calls = backend.get(
        &http,
        &analyst,
        &format!("/api/v1/reports/return-calls?year={year}&by=level"),
    );
    let reach = calls["reach_rate_permille"]
        .as_i64()
        .unwrap_or_else(|| panic!("the demo year has return calls: {calls}"));
    let budget = backend.get(
        &http,
        &analyst,
        &format!("/api/v1/costs/budget?year={year}"),
    );

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("zh-CN,zh;q=0.9");
    page.goto(&format!("{}/#token={analyst}", http.base()));
    page.wait_for(
        "the board",
        "document.querySelector('[data-test=nav-costs]')",
        10,
    );
    let yuan = |fen: i64| group_thousands(&format!("{}.{:02}", fen / 100, fen % 100));
    for lang in ["zh", "en"] {
        // The analyst is offered every view of the costs page.
        page.goto(&format!("{}/#/costs/{year}", http.base()));
        page.wait_for(
            "the costs page",
            "document.querySelector('[data-test=chart-month]')",
            10,
        );
        assert_eq!(
            page.eval("[...document.querySelectorAll('[data-test=cost-views] a')].map(a => a.dataset.test).join(',')"),
            json!("view-overview,view-cube,view-budget,view-what-if,view-satisfaction")
        );

        // Cube: level × category; the ordinary meals cell is the API's figure.
        page.click("[data-test=view-cube]");
        let row = r#"document.querySelector('[data-test=cube-row][data-key=\'["ordinary","meal"]\'] [data-test=cube-total]')"#;
        page.wait_for("the cube table", row, 10);
        let total = cell["total_fen"].as_i64().expect("cell total");
        assert_eq!(
            page.eval(&format!("Number({row}.dataset.fen)")),
            json!(total)
        );
        let shown = page.eval(&format!("{row}.innerText"));
        let shown = shown.as_str().unwrap_or("");
        assert!(
            shown.contains('¥') && shown.contains(&yuan(total)),
            "{shown} shows ¥{}",
            yuan(total)
        );
        assert_eq!(
            page.eval("document.querySelectorAll('[data-test=cube-row]').length"),
            json!(cube["groups"].as_array().unwrap().len())
        );
        assert!(test_text(&mut page, "cube").contains(if lang == "zh" {
            "餐费"
        } else {
            "Meals"
        }));
        shot(&mut page, &format!("costs-cube-{lang}"));

        // Budget against actual: the year's budget is the API's.
        page.click("[data-test=view-budget]");
        page.wait_for(
            "the budget",
            "document.querySelector('[data-test=budget-total]')",
            10,
        );
        let shown = test_text(&mut page, "budget-total");
        let fen = budget["budget_fen"].as_i64().expect("budget");
        assert!(shown.contains(&yuan(fen)), "{shown} shows ¥{}", yuan(fen));
        shot(&mut page, &format!("costs-budget-{lang}"));

        // What-if: the ordinary dinner cap typed down to 300 yuan, Enter to simulate.
        page.click("[data-test=view-what-if]");
        page.wait_for(
            "the what-if form",
            "document.querySelector('[data-test=cap-ordinary-dinner]')",
            10,
        );
        assert_eq!(
            page.eval("document.querySelector('[data-test=cap-ordinary-dinner]').value"),
            json!("400"),
            "the form starts from the cap in force, in yuan"
        );
        page.click("[data-test=cap-ordinary-dinner]");
        page.eval("document.activeElement.select()");
        page.type_text("300");
        page.key("Enter");
        page.wait_for(
            "the what-if answer",
            "document.querySelector('[data-test=what-if-savings]')",
            10,
        );
        let shown = test_text(&mut page, "what-if-savings");
        assert!(
            shown.contains('¥') && shown.contains(&yuan(savings)),
            "{shown} shows the API's saving ¥{}",
            yuan(savings)
        );
        assert!(
            shown.contains(if lang == "zh" { "可节省" } else { "Savings" }),
            "{shown}"
        );
        let ordinary = what_if["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == "ordinary")
            .expect("an ordinary group");
        assert_eq!(
            page.eval("Number(document.querySelector('[data-test=what-if-row][data-key=ordinary] [data-fen]').dataset.fen)"),
            ordinary["savings_fen"]
        );
        shot(&mut page, &format!("costs-what-if-{lang}"));

        // A cap that is not an amount is refused in words, and nothing is asked.
        page.click("[data-test=cap-ordinary-lunch]");
        page.eval("document.activeElement.select()");
        page.type_text("3oo");
        page.key("Enter");
        page.wait_for(
            "the refusal",
            "!document.querySelector('[data-test=what-if-error]').hidden",
            5,
        );
        assert!(test_text(&mut page, "what-if-error").contains("3oo"));

        // Satisfaction: the reach rate is the API's.
        page.click("[data-test=view-satisfaction]");
        page.wait_for(
            "the satisfaction report",
            "document.querySelector('[data-test=reach-rate]')",
            10,
        );
        let rate = if reach % 10 == 0 {
            format!("{}%", reach / 10)
        } else {
            format!("{}.{}%", reach / 10, reach % 10)
        };
        let shown = test_text(&mut page, "reach-rate");
        assert!(shown.contains(&rate), "{shown} shows {rate}");
        assert!(
            shown.contains(if lang == "zh" {
                "接通率"
            } else {
                "Reach rate"
            }),
            "{shown}"
        );
        shot(&mut page, &format!("costs-satisfaction-{lang}"));

        if lang == "zh" {
            page.click("[data-test=lang-switch]");
            page.wait_for(
                "English",
                "document.body.innerText.includes('Return calls and satisfaction')",
                5,
            );
        }
    }

    // Finance reads spend but not the analyses: no what-if, no satisfaction view.
    page.click("#signout");
    page.goto(&format!("{}/#token={finance}", http.base()));
    page.wait_for(
        "finance",
        "document.querySelector('[data-test=nav-costs]')",
        10,
    );
    page.goto(&format!("{}/#/costs/{year}/what-if", http.base()));
    page.wait_for(
        "the refusal",
        "document.querySelector('[data-test=not-offered]')",
        10,
    );
    assert_eq!(
        page.eval("[...document.querySelectorAll('[data-test=cost-views] a')].map(a => a.dataset.test).join(',')"),
        json!("view-overview,view-cube,view-budget")
    );
    assert!(test_text(&mut page, "not-offered").contains("finance"));
}

/// 1234567.89 -> 1,234,567.89 (how both languages write yuan).
fn group_thousands(s: &str) -> String {
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{frac}")
}

#[test]
fn a_person_sees_their_own_notifications_and_marks_them_read() {
    let _serial = serial();
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let backend = Backend::start(0);
    let http = Http::start(&backend, "127.0.0.1:0".parse().unwrap());
    let admin = backend.admin.clone();
    backend.post(
        &http,
        &admin,
        "/api/v1/staff",
        json!({"id": "li.na", "name": "李娜", "roles": ["reception"]}),
    );
    let desk = backend.token(&http, "desk", "frontdesk");
    backend.post(
        &http,
        &desk,
        "/api/v1/frontdesk/sign-in",
        json!({"name": "王磊", "party_size": 2, "reason": "续约洽谈", "host": "李娜"}),
    );
    let li = backend.token(&http, "li.na", "reception");
    // A host who reads English gets the notification in English.
    backend.post(
        &http,
        &admin,
        "/api/v1/staff",
        json!({"id": "tom.baker", "name": "Tom Baker", "roles": ["reception"], "lang": "en"}),
    );
    backend.post(
        &http,
        &desk,
        "/api/v1/frontdesk/sign-in",
        json!({"name": "Anna Smith", "party_size": 1, "reason": "contract renewal", "host": "Tom Baker"}),
    );
    let tom = backend.token(&http, "tom.baker", "reception");
    // The notifier writes them a moment after the sign-ins: the pages open once it has.
    for token in [&li, &tom] {
        let mut waited = 0;
        while backend.get(&http, token, "/api/v1/me/notifications")["unread"] != 1 {
            assert!(waited < 100, "the notifier wrote the host's notification");
            std::thread::sleep(Duration::from_millis(100));
            waited += 1;
        }
    }

    let mut browser = Browser::launch(&chromium);
    let mut page = browser.page("zh-CN,zh;q=0.9");
    page.goto(&format!("{}/#token={li}", http.base()));
    page.wait_for(
        "the notifications link",
        "!document.querySelector('[data-test=inbox-link]').hidden",
        10,
    );
    assert_eq!(test_text(&mut page, "inbox-link"), "我的通知");
    page.open_link(
        "[data-test=inbox-link]",
        "location.hash === '#/notifications'",
    );
    page.wait_for(
        "the host's notification",
        "document.querySelector('[data-test=notification]')",
        10,
    );
    let text = page.text();
    assert!(
        text.contains("访客已到前台签到") && text.contains("王磊"),
        "{text}"
    );
    assert_eq!(test_text(&mut page, "unread-count"), "1 条未读");
    shot(&mut page, "notifications-zh");
    page.click("[data-test=mark-read]");
    page.wait_for(
        "all read",
        "document.querySelector('[data-test=unread-count]')?.innerText === '0 条未读'",
        10,
    );

    page.click("#signout");
    let mut page = browser.page("en-US,en;q=0.9");
    page.goto(&format!("{}/#token={tom}", http.base()));
    page.wait_for(
        "the notifications link",
        "!document.querySelector('[data-test=inbox-link]').hidden",
        10,
    );
    assert_eq!(test_text(&mut page, "inbox-link"), "My notifications");
    page.open_link(
        "[data-test=inbox-link]",
        "location.hash === '#/notifications'",
    );
    page.wait_for(
        "the host's notification",
        "document.querySelector('[data-test=notification]')",
        10,
    );
    let text = page.text();
    assert!(
        text.contains("Your visitor signed in") && text.contains("Anna Smith"),
        "{text}"
    );
    assert!(
        !text.contains("王磊"),
        "only one's own notifications: {text}"
    );
    assert_eq!(test_text(&mut page, "unread-count"), "1 unread");
    shot(&mut page, "notifications-en");
}
