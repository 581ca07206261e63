//! Synthetic but valid event streams for tests and benchmarks: reproducible from a
//! seed, spread over three years, with every level, over-cap expenses with decisions,
//! reversals, cancellations, complaints (minor and major) and front-desk sign-ins.
//!
//! Payloads follow the domain's event payloads (API.md field names). Events whose
//! business time lies after `now` are not generated, so recent visits stay open at
//! their current stage — the board has something to show.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use reception_store::{Actor, AppendError, AppendRequest, ExpectedVersion, NewEvent, Store};
use serde_json::{json, Value};
use uuid::Uuid;

/// A small deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PREFIXES: &[&str] = &[
    "Huaxin",
    "Dongfang",
    "Changjiang",
    "Nordic",
    "Andes",
    "Sahara",
    "华信",
    "东风",
    "长城",
    "Volga",
    "Pampas",
    "Mekong",
];
const SUFFIXES: &[&str] = &[
    "Dealers Ltd",
    "Trading Co",
    "汽车销售有限公司",
    "Motors GmbH",
    "Machinery S.A.",
    "机械有限公司",
];
const DEPARTMENTS: &[&str] = &[
    "east-sales",
    "west-sales",
    "export",
    "service",
    "procurement",
];
const SURNAMES: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "García", "Müller", "Smith", "王", "李",
];
const GIVEN: &[&str] = &[
    "Lei", "Na", "Wei", "Fang", "Jun", "María", "Hans", "John", "芳", "强",
];
const VENUES: &[&str] = &[
    "Jade Garden",
    "Lakeside Hall",
    "老城火锅",
    "Harbour Grill",
    "Peony Room",
];
const HOTELS: &[&str] = &["Grand Hyatt", "Jinjiang Hotel", "锦江之星", "Sheraton"];
const HOSTS: &[&str] = &["li.na", "zhao.min", "chen.hao", "sun.yue"];

fn ts(t: DateTime<FixedOffset>) -> Value {
    Value::String(t.to_rfc3339())
}

/// (id, booking, category, amount, cap, over cap, business time) of an expense to record.
type PlannedExpense = (
    Uuid,
    Option<Uuid>,
    &'static str,
    i64,
    Option<i64>,
    bool,
    DateTime<FixedOffset>,
);

/// The company name of customer number `k`.
pub fn company_name(k: u64) -> String {
    format!(
        "{} {} {}",
        PREFIXES[(k % 12) as usize],
        SUFFIXES[((k / 12) % 6) as usize],
        k / 72 + 1
    )
}

struct Stream {
    name: String,
    events: Vec<NewEvent>,
    now: DateTime<FixedOffset>,
    role: &'static str,
    ids: Rng,
}

impl Stream {
    fn new(name: String, now: DateTime<FixedOffset>, role: &'static str, seed: u64) -> Stream {
        Stream {
            name,
            events: Vec::new(),
            now,
            role,
            ids: Rng::new(seed),
        }
    }
    /// Adds the event when its business time has come; returns whether it did.
    fn push(&mut self, at: DateTime<FixedOffset>, event_type: &str, data: Value) -> bool {
        if at > self.now {
            return false;
        }
        let user = if self.role == "system" {
            "system".to_string()
        } else {
            HOSTS[self.ids.below(4) as usize].to_string()
        };
        self.events.push(NewEvent {
            id: self.ids.uuid(),
            event_type: event_type.to_string(),
            schema: 1,
            data,
            occurred_at: Some(at),
            actor: Actor {
                user,
                role: self.role.to_string(),
            },
            correlation_id: Uuid::nil(),
            causation_id: Uuid::nil(),
        });
        true
    }
    fn into_request(self) -> Option<AppendRequest> {
        (!self.events.is_empty()).then_some(AppendRequest {
            stream: self.name,
            expected: ExpectedVersion::NoStream,
            events: self.events,
            idempotency: None,
        })
    }
}

/// When visit `index` of `total` happens (+08:00), and `now` in the same offset.
struct VisitTimes {
    now: DateTime<FixedOffset>,
    arrival: DateTime<FixedOffset>,
    departure: DateTime<FixedOffset>,
    requested: DateTime<FixedOffset>,
    stay_days: i64,
}

fn visit_times(rng: &mut Rng, index: u64, total: u64, now: DateTime<Utc>) -> VisitTimes {
    let tz = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let now = now.with_timezone(&tz);
    let start = tz
        .with_ymd_and_hms(2024, 1, 1, 9, 0, 0)
        .single()
        .expect("valid date");
    let span_minutes = 3 * 365 * 24 * 60;
    let arrival = start
        + Duration::minutes(
            (span_minutes * index as i64) / total.max(1) as i64 + rng.below(600) as i64,
        );
    let stay_days = 1 + rng.below(4) as i64;
    let departure = arrival + Duration::days(stay_days) + Duration::hours(rng.below(6) as i64);
    let requested =
        arrival - Duration::days(1 + rng.below(20) as i64) - Duration::hours(rng.below(20) as i64);
    VisitTimes {
        now,
        arrival,
        departure,
        requested,
        stay_days,
    }
}

/// The streams of visit number `index` of `total`: the visit itself and possibly a
/// complaint and a front-desk sign-in. Deterministic in (`seed`, `index`, `total`, `now`).
/// Visits are spread evenly from 2024-01-01 (+08:00) over three years.
pub fn visit_requests(seed: u64, index: u64, total: u64, now: DateTime<Utc>) -> Vec<AppendRequest> {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let VisitTimes {
        now,
        arrival,
        departure,
        requested,
        stay_days,
    } = visit_times(&mut rng, index, total, now);
    let customers = (total / 3).max(1);
    let k = rng.below(customers);
    let company = company_name(k);
    let foreign = !company.contains("有限公司") && k.is_multiple_of(3);
    let visit_id = rng.uuid();
    let level = rng.pick(&["ordinary", "ordinary", "senior", "senior", "special"]);
    let headcount = 1 + rng.below(5);
    let department = rng.pick(DEPARTMENTS);
    let visitors: Vec<Value> = (0..headcount)
        .map(|n| {
            let name = format!("{} {}{}", rng.pick(SURNAMES), rng.pick(GIVEN), if n == 0 { "" } else { " Jr" });
            json!({"name": name, "title": "Manager", "phone": format!("+86 138 {:04} {:04}", k % 10000, (index + n) % 10000)})
        })
        .collect();
    let late = (arrival - requested) < Duration::days(if foreign { 7 } else { 1 });
    let home = departure + Duration::hours(3);
    let mut v = Stream::new(
        format!("visit-{visit_id}"),
        now,
        "reception",
        rng.next_u64(),
    );
    v.push(requested, "ReceptionRequested", json!({
        "visit_id": visit_id, "requested_at": ts(requested), "late": late,
        "customer": {"company": company, "country": if foreign { "DE" } else { "CN" }, "foreign": foreign},
        "department": department, "visitors": visitors, "headcount": headcount,
        "purpose": "dealership renewal",
        "arrival": {"at": ts(arrival), "mode": "flight", "number": format!("MU{}", 5000 + index % 999), "origin": "Shanghai", "place": "airport"},
        "departure": {"at": ts(departure), "mode": "train", "number": format!("G{}", index % 99 + 1), "place": "station", "arrives_home_at": ts(home)},
        "needs": {"pickup": true, "dropoff": true, "lodging": true, "meeting_room": true}, "expedited": null
    }));
    let cancelled = rng.chance(5);
    let t1 = requested + Duration::hours(2);
    v.push(
        t1,
        "LevelAssigned",
        json!({"level": level, "policy_version": 1, "assigned_at": ts(t1)}),
    );
    let (t4, host, lunch_at, dinner_at) =
        plan_and_staff(&mut v, &mut rng, requested, arrival, headcount);
    if cancelled {
        let tc = t4 + Duration::hours(1);
        v.push(
            tc,
            "VisitCancelled",
            json!({"reason": "customer postponed", "cancelled_at": ts(tc)}),
        );
        return v.into_request().into_iter().collect();
    }
    let t5 = arrival - Duration::days(1) - Duration::hours(2);
    v.push(
        t5.max(t4),
        "ReadinessConfirmed",
        json!({"notes": null, "confirmed_at": ts(t5.max(t4)), "late": false}),
    );
    let car_late = rng.chance(5);
    let ready_at = arrival - Duration::minutes(if car_late { 5 } else { 30 });
    v.push(t5.max(t4), "CarDispatched", json!({"car_id": rng.uuid(), "leg": "pickup", "vehicle_class": "suv", "driver": "Ma Jun", "plate": "沪A12345",
        "ready_at": ts(ready_at), "place": "airport", "number": "MU5101", "override": null, "ready_by": ts(arrival - Duration::minutes(15)), "late": car_late}));
    let mut expenses: Vec<PlannedExpense> = Vec::new();
    let lodging_id = rng.uuid();
    let company_lodging = level == "special";
    let rooms = headcount.div_ceil(2);
    let rate = 40_000 + rng.below(3) as i64 * 10_000;
    let lodging_cap = if company_lodging {
        Some(70_000 * rooms as i64 * stay_days)
    } else {
        None
    };
    v.push(t5.max(t4), "LodgingBooked", json!({"booking_id": lodging_id, "hotel": rng.pick(HOTELS), "stars": 5, "rooms": rooms, "nights": stay_days,
        "rate_fen": rate, "paid_by": if company_lodging { "company" } else { "visitor" }, "override": null, "total_fen": rate * rooms as i64 * stay_days,
        "cap_fen": lodging_cap, "over_cap": false, "level": level, "policy_version": 1}));
    book_meals(
        &mut v,
        &mut rng,
        &mut expenses,
        (t5.max(t4), lunch_at, dinner_at),
        (headcount, level),
    );
    let souvenir = (level != "ordinary").then(|| rng.uuid());
    if let Some(s) = souvenir {
        v.push(t5.max(t4), "SouvenirPlanned", json!({"souvenir_id": s, "item": "tea set", "unit_cost_fen": 20_000, "quantity": headcount, "total_fen": 20_000 * headcount as i64}));
    }
    let matter = rng.uuid();
    v.push(
        t5.max(t4),
        "CooperationMatterProposed",
        json!({"matter_id": matter, "by": "company", "text": "annual volume agreement"}),
    );
    if !v.push(arrival, "VisitorsArrived", json!({"at": ts(arrival)})) {
        return v.into_request().into_iter().collect();
    }
    let tour = arrival + Duration::hours(5);
    v.push(
        tour,
        "TourHeld",
        json!({"at": ts(tour), "place": "marketing center", "title": "showroom"}),
    );
    let meet = arrival + Duration::hours(7);
    v.push(
        meet,
        "LeaderMeetingHeld",
        json!({"at": ts(meet), "place": "board room", "leader": "GM Sun"}),
    );
    if rng.chance(70) {
        v.push(meet, "CooperationMatterConfirmed", json!({"matter_id": matter, "company_confirmed_by": "GM Sun", "visitor_confirmed_by": "Wang Lei", "record_ref": "MIN-1"}));
    }
    if company_lodging {
        let amount = rate * rooms as i64 * stay_days;
        expenses.push((
            rng.uuid(),
            Some(lodging_id),
            "lodging",
            amount,
            lodging_cap,
            false,
            departure,
        ));
    }
    expenses.push((
        rng.uuid(),
        None,
        "car",
        20_000 + rng.below(30_000) as i64,
        None,
        false,
        departure,
    ));
    record_expenses(&mut v, &mut rng, &expenses, (index, level, company_lodging));
    if let Some(s) = souvenir {
        if rng.chance(90) {
            v.push(
                departure - Duration::hours(1),
                "SouvenirHanded",
                json!({"souvenir_id": s, "handed_at": ts(departure - Duration::hours(1))}),
            );
        }
    }
    v.push(departure - Duration::hours(2), "CarDispatched", json!({"car_id": rng.uuid(), "leg": "dropoff", "vehicle_class": "suv", "driver": "Ma Jun",
        "plate": "沪A12345", "ready_at": ts(departure - Duration::minutes(40)), "place": "station", "number": "G7", "override": null,
        "ready_by": ts(departure - Duration::minutes(15)), "late": false}));
    if !v.push(departure, "VisitorsDeparted", json!({"at": ts(departure)})) {
        return v.into_request().into_iter().collect();
    }
    after_departure(
        v,
        &mut rng,
        &Wrapup {
            now,
            visit_id,
            customer: k,
            company: &company,
            department,
            level,
            host,
            headcount,
            arrival,
            departure,
            home,
        },
    )
}

/// The plan drafted and approved, the reception unit contacted, the host assigned;
/// answers when that was done, the host, and the planned lunch and dinner times.
fn plan_and_staff(
    v: &mut Stream,
    rng: &mut Rng,
    requested: DateTime<FixedOffset>,
    arrival: DateTime<FixedOffset>,
    headcount: u64,
) -> (
    DateTime<FixedOffset>,
    &'static str,
    DateTime<FixedOffset>,
    DateTime<FixedOffset>,
) {
    let t2 = requested + Duration::hours(if rng.chance(10) { 30 } else { 6 });
    let lunch_at = arrival + Duration::hours(3);
    let dinner_at = arrival + Duration::hours(9);
    v.push(t2, "PlanDrafted", json!({"items": [
        {"at": ts(lunch_at), "kind": "meal", "title": "welcome lunch", "place": rng.pick(VENUES)},
        {"at": ts(arrival + Duration::hours(5)), "kind": "tour", "title": "showroom", "place": "marketing center"}],
        "draft_no": 1, "drafted_at": ts(t2)}));
    let t3 = t2 + Duration::hours(3);
    v.push(
        t3,
        "PlanReviewed",
        json!({"approved": true, "comments": null, "draft_no": 1, "reviewed_at": ts(t3)}),
    );
    let t4 = t3 + Duration::hours(1);
    v.push(
        t4,
        "ReceptionUnitContacted",
        json!({"confirmed_headcount": headcount, "notes": null, "contacted_at": ts(t4)}),
    );
    let host = rng.pick(HOSTS);
    v.push(t4, "StaffAssigned", json!({"host": host, "accompanying": [{"name": "Zhou Qiang", "role": "regional_manager"}], "override": null, "assigned_at": ts(t4)}));
    (t4, host, lunch_at, dinner_at)
}

/// What the end of a visit's script needs to know of the visit.
struct Wrapup<'a> {
    now: DateTime<FixedOffset>,
    visit_id: Uuid,
    customer: u64,
    company: &'a str,
    department: &'a str,
    level: &'a str,
    host: &'a str,
    headcount: u64,
    arrival: DateTime<FixedOffset>,
    departure: DateTime<FixedOffset>,
    home: DateTime<FixedOffset>,
}

/// After departure: the return call, the summary, maybe a preference, the close; then
/// maybe a complaint and a front-desk sign-in of the same visit.
fn after_departure(mut v: Stream, rng: &mut Rng, w: &Wrapup<'_>) -> Vec<AppendRequest> {
    let Wrapup {
        now,
        visit_id,
        customer: k,
        company,
        department,
        level,
        host,
        headcount,
        arrival,
        departure,
        home,
    } = *w;
    let call = home + Duration::hours(2 + rng.below(30) as i64);
    let satisfaction = 1 + rng.below(5);
    v.push(call, "ReturnCallDone", json!({"attempt_id": rng.uuid(), "reached": true, "unreachable": false, "products": "good",
        "corporate_image": "professional", "reception": "warm", "satisfaction": satisfaction, "at": ts(call)}));
    let summary = departure + Duration::hours(20 + rng.below(40) as i64);
    v.push(summary, "SummaryFiled", json!({"results": "renewed", "outcomes": null, "opinions": null, "recipients": ["sales"], "to_general_manager": level == "special", "filed_at": ts(summary)}));
    if rng.chance(30) {
        v.push(summary, "CustomerPreferenceNoted", json!({"subject": company, "kind": "diet", "text": "no pork; prefers green tea", "company": company, "noted_at": ts(summary)}));
    }
    let mut out = Vec::new();
    let closing = summary + Duration::days(3);
    v.push(closing, "VisitClosed", json!({"closed_at": ts(closing)}));
    out.extend(v.into_request());
    if rng.chance(8) {
        out.extend(complaint(
            rng, now, visit_id, company, department, departure,
        ));
    }
    if rng.chance(30) {
        out.extend(sign_in(rng, now, arrival, (k, headcount, host)));
    }
    out
}

/// Books lunch and dinner on the arrival day within their caps, and plans their bills
/// (a fifth over the cap).
fn book_meals(
    v: &mut Stream,
    rng: &mut Rng,
    expenses: &mut Vec<PlannedExpense>,
    (booked, lunch_at, dinner_at): (
        DateTime<FixedOffset>,
        DateTime<FixedOffset>,
        DateTime<FixedOffset>,
    ),
    (headcount, level): (u64, &str),
) {
    for (meal, at, cap) in [("lunch", lunch_at, 30_000), ("dinner", dinner_at, 40_000)] {
        let booking = rng.uuid();
        let cap = cap + 5_000 * headcount.saturating_sub(2) as i64;
        v.push(booked, "MealBooked", json!({"booking_id": booking, "meal": meal, "at": ts(at), "venue": rng.pick(VENUES), "party_size": headcount,
            "budget_fen": cap, "override": null, "cap_fen": cap, "over_cap": false, "level": level, "policy_version": 1}));
        let over = rng.chance(20);
        let amount = if over {
            cap + 1_000 + rng.below(20_000) as i64
        } else {
            cap / 2 + rng.below((cap / 2) as u64) as i64
        };
        expenses.push((
            rng.uuid(),
            Some(booking),
            "meal",
            amount,
            Some(cap),
            over,
            at + Duration::hours(2),
        ));
    }
}

/// Records the visit's planned expenses, most over-cap ones decided a day later, and
/// sometimes reverses the last one.
fn record_expenses(
    v: &mut Stream,
    rng: &mut Rng,
    expenses: &[PlannedExpense],
    (index, level, company_lodging): (u64, &str, bool),
) {
    for (id, booking, category, amount, cap, over, at) in expenses.iter().copied() {
        let paid_by = if category == "lodging" && !company_lodging {
            "visitor"
        } else {
            "company"
        };
        v.push(at, "ExpenseRecorded", json!({"expense_id": id, "category": category, "amount_fen": amount, "paid_by": paid_by,
            "receipt_no": format!("R{}", index), "booking_id": booking, "reverses": null, "cap_fen": cap, "over_cap": over,
            "level": level, "policy_version": 1, "recorded_at": ts(at)}));
        if over && rng.chance(85) {
            let decided = at + Duration::days(1);
            let kind = if rng.chance(70) {
                "ExpenseApproved"
            } else {
                "ExpenseRejected"
            };
            v.push(
                decided,
                kind,
                json!({"expense_id": id, "comments": null, "decided_at": ts(decided)}),
            );
        }
    }
    if rng.chance(5) {
        let (id, booking, category, amount, cap, _, at) = expenses[expenses.len() - 1];
        let rat = at + Duration::hours(1);
        v.push(rat, "ExpenseRecorded", json!({"expense_id": rng.uuid(), "category": category, "amount_fen": amount, "paid_by": "company",
            "receipt_no": "R-REV", "booking_id": booking, "reverses": id, "cap_fen": cap, "over_cap": false, "level": level, "policy_version": 1, "recorded_at": ts(rat)}));
    }
}

/// A complaint about the visit, raised the day after its departure, and as far as it
/// got by `now`.
fn complaint(
    rng: &mut Rng,
    now: DateTime<FixedOffset>,
    visit_id: Uuid,
    company: &str,
    department: &str,
    departure: DateTime<FixedOffset>,
) -> Option<AppendRequest> {
    let cid = rng.uuid();
    let major = rng.chance(30);
    let mut c = Stream::new(format!("complaint-{cid}"), now, "reception", rng.next_u64());
    let raised = departure + Duration::hours(30);
    c.push(raised, "ComplaintRaised", json!({"complaint_id": cid, "visit_id": visit_id, "customer": company, "severity": if major { "major" } else { "minor" },
        "category": rng.pick(&["service", "transport", "food", "lodging"]), "description": "driver was late", "department": null, "at": ts(raised)}));
    let a = raised + Duration::minutes(5);
    c.push(
        a,
        "ComplaintAssigned",
        json!({"department": department, "assignee": "zhao.min", "at": ts(a)}),
    );
    if major {
        let r = raised + Duration::minutes(if rng.chance(80) { 8 } else { 25 });
        c.push(
            r,
            "ComplaintReported",
            json!({"to": "head of department", "at": ts(r)}),
        );
        let s = raised + Duration::hours(6);
        c.push(
            s,
            "ComplaintSolutionAgreed",
            json!({"solution": "refund", "at": ts(s)}),
        );
    } else {
        let an = a + Duration::minutes(40);
        c.push(
            an,
            "ComplaintAnalysed",
            json!({"analysis": "dispatch error", "at": ts(an)}),
        );
        let f = raised + Duration::hours(if rng.chance(85) { 10 } else { 30 });
        c.push(
            f,
            "ComplaintFeedbackGiven",
            json!({"text": "apologised", "at": ts(f)}),
        );
    }
    if rng.chance(90) {
        let res = raised + Duration::days(1 + rng.below(5) as i64);
        c.push(
            res,
            "ComplaintResolved",
            json!({"resolution": "done", "at": ts(res)}),
        );
        if rng.chance(85) {
            let rv = res + Duration::hours(10);
            c.push(rv, "ComplaintReturnVisitDone", json!({"mode": if major { "in_person" } else { "phone" }, "notes": null, "at": ts(rv)}));
            let cl = rv + Duration::days(1);
            c.push(
                cl,
                "ComplaintClosed",
                json!({"retain_until": ts(cl + Duration::days(731)), "at": ts(cl)}),
            );
        }
    }
    c.into_request()
}

/// A front-desk sign-in of someone from the customer an hour after the arrival.
fn sign_in(
    rng: &mut Rng,
    now: DateTime<FixedOffset>,
    arrival: DateTime<FixedOffset>,
    (k, headcount, host): (u64, u64, &str),
) -> Option<AppendRequest> {
    let sid = rng.uuid();
    let mut f = Stream::new(format!("frontdesk-{sid}"), now, "frontdesk", rng.next_u64());
    let at = arrival + Duration::hours(1);
    f.push(at, "VisitorSignedIn", json!({"sign_in_id": sid, "name": company_name(k), "party_size": headcount, "reason": "visit", "host": host, "at": ts(at)}));
    let out_at = at + Duration::hours(8);
    f.push(out_at, "VisitorSignedOut", json!({"at": ts(out_at)}));
    f.into_request()
}

/// Appends `visits` synthetic visits (with their complaints and sign-ins) to `store`,
/// one append per stream; returns the number of events appended.
pub fn populate(
    store: &Store,
    visits: u64,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<u64, AppendError> {
    let mut n = 0;
    for i in 0..visits {
        for req in visit_requests(seed, i, visits, now) {
            n += store.append_blocking(req)?.events.len() as u64;
        }
    }
    Ok(n)
}
