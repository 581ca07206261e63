//! The cost analyses: a cube of sums per year, dimension and pair of dimensions
//! (`cube.rs`), so a report is a lookup; budget against actual (`budget.rs`); the CSV
//! and workbook exports (`export.rs`). Reversing expenses net out against the
//! original's year and groups; over-cap decisions move amounts between pending,
//! approved and rejected.
//!
//! Persisted are the expense, visit and booking documents; the cube is built from
//! them on load and kept current as events apply.

mod budget;
mod cube;
mod export;
mod what_if;

use chrono::{DateTime, Datelike, FixedOffset};
use chrono_tz::Tz;
use reception_store::{ReadModel, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::docs::Keyed;
use crate::event::{self, ty, CostView, StreamKind};
use crate::{Changes, Projection, ProjectionError, ReadSideConfig};

pub use budget::{BudgetBy, BudgetGroup, BudgetReport, BudgetVisit};
pub use cube::{CostDimension, CostGroup, GroupKey};
use cube::{Cube, Spend, Status, DIMS};
pub use export::{neutralise, CostLine};
use what_if::WhatIfDoc;
pub use what_if::WhatIfVisit;

/// `GET /api/v1/costs?year=Y&by=...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostReport {
    pub year: i32,
    /// The dimensions grouped by, as asked (`level`, or `department,month`).
    pub by: String,
    pub total_fen: i128,
    pub groups: Vec<CostGroup>,
    pub company_paid_fen: i128,
    pub visitor_paid_fen: i128,
    pub count: i64,
    /// Expenses within their cap (or without a cap).
    pub within_cap_fen: i128,
    pub over_cap_fen: i128,
    pub over_cap_pending_fen: i128,
    pub over_cap_approved_fen: i128,
    pub over_cap_rejected_fen: i128,
    /// Company spend judged against a cap and the sum of those caps (a booking's cap
    /// once).
    pub capped_spent_fen: i128,
    pub cap_total_fen: i128,
    /// `capped_spent ÷ cap_total` in per mille, rounded down; None without caps.
    pub cap_utilisation_permille: Option<i128>,
    /// Visitor-days of visits arriving in the year (headcount × days, at least one day).
    pub visitor_days: i64,
    /// `total ÷ visitor_days`, rounded down; None without visitor-days.
    pub cost_per_visitor_day_fen: Option<i128>,
    pub previous_year_total_fen: i128,
    /// `(total − previous) ÷ previous` in per mille; None when the previous year is zero.
    pub change_vs_previous_permille: Option<i128>,
}

/// What is known of an expense: its groups, to move its amount when it is decided or
/// reversed, and what its line in the export shows. Fields at their default are left
/// out of the stored document (most expenses are company-paid, within cap and never
/// reversed), which keeps a rebuild's largest set of documents smaller.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct ExpenseDoc {
    year: i32,
    /// Keys in [`CostDimension::ALL`] order: month, level, department, customer,
    /// category, subcategory, host.
    keys: [String; DIMS],
    amount_fen: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    visitor_paid: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    over_cap: bool,
    status: Status,
    /// Judged against a cap (the event's `cap_fen` was given).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    capped: bool,
    /// The cap this document brings into the sums (a booking's cap once, with its
    /// first capped expense).
    #[serde(skip_serializing_if = "is_zero")]
    cap_fen: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reversals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverses: Option<String>,
    visit_id: String,
    /// When the money was spent, in the company's time zone (a reversal: the
    /// original's, where it nets out).
    spent_at: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    vendor: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl ExpenseDoc {
    fn spend(&self) -> Spend {
        Spend {
            amount_fen: self.amount_fen,
            visitor_paid: self.visitor_paid,
            over_cap: self.over_cap,
            status: self.status,
            capped: self.capped,
            cap_fen: self.cap_fen,
        }
    }
}

/// What the analyses keep of a visit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct VisitDoc {
    company: String,
    /// The requesting department.
    department: String,
    /// V22: who bears the cost, when the request named another department.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_department: Option<String>,
    level: String,
    host: String,
    headcount: i64,
    arrival: Option<DateTime<FixedOffset>>,
    departure: Option<DateTime<FixedOffset>>,
    arrived: Option<DateTime<FixedOffset>>,
    departed: Option<DateTime<FixedOffset>>,
    cancelled_before_arrival: bool,
    /// V22: the request's estimated cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    budget_fen: Option<i64>,
    /// Company-paid spend, reversals subtracted (what V22's `over_budget` compares).
    company_spent_fen: i128,
    /// The visitor-days currently counted in the cube, with the keys they count under.
    #[serde(skip_serializing_if = "Option::is_none")]
    counted: Option<Counted>,
}

/// A visit's visitor-days as counted in the cube.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Counted {
    year: i32,
    days: i64,
    /// In [`CostDimension::ALL`] order (category and subcategory empty).
    keys: [String; DIMS],
}

impl VisitDoc {
    /// The cost-bearing department.
    fn bearer(&self) -> &str {
        self.cost_department
            .as_deref()
            .filter(|d| !d.is_empty())
            .unwrap_or(&self.department)
    }

    /// The arrival (actual, else planned) in the company's time zone.
    fn arrival_local(&self, tz: &Tz) -> Option<DateTime<Tz>> {
        Some(self.arrived.or(self.arrival)?.with_timezone(tz))
    }

    fn contribution(&self, tz: &Tz) -> Option<Counted> {
        if self.cancelled_before_arrival {
            return None;
        }
        let from = self.arrived.or(self.arrival)?;
        let to = self.departed.or(self.departure)?;
        let hours = (to - from).num_hours().max(0);
        let days = ((hours + 23) / 24).max(1);
        let local = from.with_timezone(tz);
        let mut keys: [String; DIMS] = Default::default();
        keys[CostDimension::Month.index()] = format!("{:04}-{:02}", local.year(), local.month());
        keys[CostDimension::Level.index()] = self.level.clone();
        keys[CostDimension::Department.index()] = self.bearer().to_string();
        keys[CostDimension::Customer.index()] = self.company.clone();
        keys[CostDimension::Host.index()] = self.host.clone();
        Some(Counted {
            year: local.year(),
            days: days.saturating_mul(self.headcount.max(0)),
            keys,
        })
    }

    /// The request's fields (`ReceptionRequested`, or the amended request).
    fn take_request(&mut self, d: &CostView<'_>) {
        self.company = d.company();
        self.department = event::s(&d.department).to_string();
        self.cost_department = event::opt_s(&d.cost_department);
        self.budget_fen = d.budget_fen;
        self.headcount = d
            .headcount
            .unwrap_or_else(|| d.visitors.as_ref().map_or(0, |a| a.len() as i64));
        self.arrival = d.arrival_at();
        self.departure = d.departure_at();
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct BookingDoc {
    year: i32,
    cap_fen: i64,
}

pub(crate) struct CostsProjection {
    tz: Tz,
    cube: Cube,
    expenses: Keyed<ExpenseDoc>,
    visits: Keyed<VisitDoc>,
    /// Bookings (and uncapped-booking gifts, by expense id) whose cap is counted.
    bookings: Keyed<BookingDoc>,
    /// By visit: what the what-if judges.
    what_if: Keyed<WhatIfDoc>,
}

/// The event types the analyses read.
fn reads(ty: &str) -> bool {
    matches!(
        ty,
        ty::RECEPTION_REQUESTED
            | ty::REQUEST_AMENDED
            | ty::VISIT_RESCHEDULED
            | ty::LEVEL_ASSIGNED
            | ty::LEVEL_CHANGED
            | ty::STAFF_ASSIGNED
            | ty::HOST_REASSIGNED
            | ty::VISITORS_ARRIVED
            | ty::VISITORS_DEPARTED
            | ty::VISIT_CANCELLED
            | ty::EXPENSE_RECORDED
            | ty::EXPENSE_APPROVED
            | ty::EXPENSE_REJECTED
            | ty::MEAL_BOOKED
            | ty::ENTERTAINMENT_ARRANGED
            | ty::LODGING_BOOKED
            | ty::SOUVENIR_PLANNED
    )
}

impl CostsProjection {
    /// Adds (`sign` 1) or removes (`sign` −1) an expense's contribution everywhere.
    fn count(cube: &mut Cube, e: &ExpenseDoc, sign: i64) {
        cube.add_expense(e.year, &e.keys, &e.spend(), sign);
    }

    /// Moves a visit's visitor-days to the year and groups its facts now give.
    fn recount_visit(&mut self, visit_id: &str) {
        let tz = self.tz;
        let Some(v) = self.visits.get_mut(visit_id) else {
            return;
        };
        let new = v.contribution(&tz);
        if v.counted == new {
            return;
        }
        let old = std::mem::replace(&mut v.counted, new.clone());
        if let Some(c) = old {
            self.cube.add_visit(c.year, &c.keys, c.days, -1);
        }
        if let Some(c) = new {
            self.cube.add_visit(c.year, &c.keys, c.days, 1);
        }
    }

    /// A new expense's document: its groups as of now (V24: the month and year of its
    /// `spent_at`), its cap judgement, and what its export line shows.
    fn new_expense(&self, ev: &StoredEvent, d: &CostView<'_>, visit_id: &str) -> ExpenseDoc {
        // V24: analyses count an expense when its money was spent, not when it was
        // recorded (a December invoice recorded in January is December's); a schema 1
        // expense was spent when recorded, the event's time
        let spent = event::t(&d.spent_at).unwrap_or(ev.occurred_at);
        let local = spent.with_timezone(&self.tz);
        let visit = self.visits.get(visit_id);
        let field = |f: fn(&VisitDoc) -> &str| visit.map_or(String::new(), |v| f(v).to_string());
        let level = event::opt_s(&d.level).unwrap_or_else(|| field(|v| &v.level));
        let over_cap = d.over_cap.unwrap_or(false);
        let mut keys: [String; DIMS] = Default::default();
        keys[CostDimension::Month.index()] = format!("{:04}-{:02}", local.year(), local.month());
        keys[CostDimension::Level.index()] = level;
        keys[CostDimension::Department.index()] = field(VisitDoc::bearer);
        keys[CostDimension::Customer.index()] = field(|v| &v.company);
        keys[CostDimension::Category.index()] = event::s(&d.category).to_string();
        keys[CostDimension::Subcategory.index()] = event::s(&d.subcategory).to_string();
        keys[CostDimension::Host.index()] = field(|v| &v.host);
        let amount = d.amount_fen.unwrap_or(0);
        ExpenseDoc {
            year: local.year(),
            keys,
            amount_fen: event::signed_amount(amount, d.reverses.is_some()),
            visitor_paid: event::s(&d.paid_by) == "visitor",
            over_cap,
            status: if over_cap {
                Status::Pending
            } else {
                Status::Within
            },
            capped: d.cap_fen.is_some(),
            booking_id: event::opt_s(&d.booking_id),
            visit_id: visit_id.to_string(),
            spent_at: Some(local.fixed_offset()),
            description: event::s(&d.description).to_string(),
            vendor: event::s(&d.vendor).to_string(),
            ..ExpenseDoc::default()
        }
    }

    fn record_expense(&mut self, ev: &StoredEvent, d: &CostView<'_>, visit_id: &str) {
        let expense_id = event::s(&d.expense_id).to_string();
        if expense_id.is_empty() || self.expenses.get(&expense_id).is_some() {
            return;
        }
        self.judged_expense(ev, d, visit_id);
        let amount = d.amount_fen.unwrap_or(0);
        let reverses = event::opt_s(&d.reverses);
        let original = reverses
            .as_deref()
            .and_then(|r| self.expenses.get(r))
            .cloned();
        let mut doc = match original {
            // the reversal nets out in the original's groups, as it was judged
            Some(o) => ExpenseDoc {
                amount_fen: event::signed_amount(amount, true),
                reverses: reverses.clone(),
                cap_fen: 0,
                reversals: Vec::new(),
                description: event::s(&d.description).to_string(),
                vendor: event::s(&d.vendor).to_string(),
                ..o
            },
            None => self.new_expense(ev, d, visit_id),
        };
        if let (Some(cap), None) = (d.cap_fen, &reverses) {
            // a booking's cap counts once; a gift without a souvenir is its own item
            let key = doc.booking_id.clone().unwrap_or_else(|| expense_id.clone());
            if self.bookings.get(&key).is_none() {
                *self.bookings.entry_owned(key) = BookingDoc {
                    year: doc.year,
                    cap_fen: cap,
                };
                doc.cap_fen = cap;
            }
        }
        Self::count(&mut self.cube, &doc, 1);
        if event::s(&d.paid_by) != "visitor" {
            // V22 compares the company's spend with the budget, each expense by its
            // own payer, as the visit's `over_budget` flag does
            if let Some(v) = self.visits.get_mut(visit_id) {
                v.company_spent_fen += i128::from(event::signed_amount(amount, reverses.is_some()));
            }
        }
        if let Some(r) = &reverses {
            if let Some(o) = self.expenses.get_mut(r) {
                o.reversals.push(expense_id.clone());
            }
        }
        *self.expenses.entry_owned(expense_id) = doc;
    }

    fn decide_expense(&mut self, expense_id: &str, status: Status) {
        let Some(e) = self.expenses.get(expense_id) else {
            return;
        };
        if !e.over_cap || e.status == status {
            return;
        }
        let mut family = vec![expense_id.to_string()];
        family.extend(e.reversals.iter().cloned());
        for id in family {
            if let Some(doc) = self.expenses.get_mut(&id) {
                Self::count(&mut self.cube, doc, -1);
                doc.status = status;
                Self::count(&mut self.cube, doc, 1);
            }
        }
    }

    /// A visit fact: the request, its amendment or rescheduling, level, host,
    /// arrival, departure or cancellation.
    fn on_visit(&mut self, ev: &StoredEvent, d: &CostView<'_>, visit_id: &str) {
        let at = || event::t(&d.at).unwrap_or(ev.occurred_at);
        if ev.event_type == ty::RECEPTION_REQUESTED {
            self.visits.entry(visit_id).take_request(d);
        } else if let Some(v) = self.visits.get_mut(visit_id) {
            match ev.event_type.as_str() {
                ty::REQUEST_AMENDED => {
                    if let Some(r) = &d.request {
                        v.take_request(r);
                    }
                }
                ty::VISIT_RESCHEDULED => {
                    let listed = d.visitors.as_ref().map(|a| a.len() as i64);
                    v.headcount = d.headcount.or(listed).unwrap_or(v.headcount);
                    v.arrival = d.arrival_at().or(v.arrival);
                    v.departure = d.departure_at().or(v.departure);
                }
                ty::LEVEL_ASSIGNED | ty::LEVEL_CHANGED => v.level = event::s(&d.level).to_string(),
                ty::STAFF_ASSIGNED | ty::HOST_REASSIGNED => v.host = event::s(&d.host).to_string(),
                ty::VISITORS_ARRIVED => v.arrived = Some(at()),
                ty::VISITORS_DEPARTED => v.departed = Some(at()),
                ty::VISIT_CANCELLED => v.cancelled_before_arrival = v.arrived.is_none(),
                _ => {}
            }
        }
        self.recount_visit(visit_id);
    }

    pub(crate) fn years(&self) -> Vec<i32> {
        self.cube.years()
    }

    /// The year's report by `by` (and `then`, crossed).
    pub(crate) fn report(
        &self,
        year: i32,
        by: CostDimension,
        then: Option<CostDimension>,
    ) -> CostReport {
        let y = self.cube.year_cell(year);
        let prev = self.cube.year_cell(year - 1).total;
        let groups = self.cube.groups(year, by, then);
        let total = y.total;
        CostReport {
            year,
            by: match then {
                None => by.as_str().to_string(),
                Some(b) => format!("{},{}", by.as_str(), b.as_str()),
            },
            total_fen: total,
            groups,
            company_paid_fen: y.company_paid(),
            visitor_paid_fen: y.visitor_paid,
            count: y.count,
            within_cap_fen: total - y.over_cap(),
            over_cap_fen: y.over_cap(),
            over_cap_pending_fen: y.pending,
            over_cap_approved_fen: y.approved,
            over_cap_rejected_fen: y.rejected,
            capped_spent_fen: y.capped_spent,
            cap_total_fen: y.cap,
            cap_utilisation_permille: (y.cap > 0).then(|| y.capped_spent * 1000 / y.cap),
            visitor_days: y.visitor_days,
            cost_per_visitor_day_fen: (y.visitor_days > 0)
                .then(|| total / i128::from(y.visitor_days)),
            previous_year_total_fen: prev,
            change_vs_previous_permille: (prev != 0).then(|| (total - prev) * 1000 / prev),
        }
    }
}

impl Projection for CostsProjection {
    const NAME: &'static str = "costs";
    /// 2: expenses count in the year and month of their `spent_at` (V24).
    /// 3: the cube (subcategory, host, the cost-bearing department), budgets and
    /// export lines; sums are built on load rather than stored.
    /// 4: per visit, the capped expenses and booking cap bases the what-if judges.
    const VERSION: u32 = 4;

    fn new(cfg: &ReadSideConfig) -> Self {
        CostsProjection {
            tz: cfg.tz,
            cube: Cube::default(),
            expenses: Keyed::new("x/"),
            visits: Keyed::new("v/"),
            bookings: Keyed::new("b/"),
            what_if: Keyed::new("w/"),
        }
    }

    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.expenses.load(rm)?;
        self.visits.load(rm)?;
        self.bookings.load(rm)?;
        self.what_if.load(rm)?;
        self.cube.clear();
        for e in self.expenses.map.values() {
            Self::count(&mut self.cube, e, 1);
        }
        for c in self.visits.map.values().filter_map(|v| v.counted.as_ref()) {
            self.cube.add_visit(c.year, &c.keys, c.days, 1);
        }
        Ok(())
    }

    fn apply(&mut self, ev: &StoredEvent) {
        let (kind, visit_id) = event::stream_kind(&ev.stream);
        if kind != StreamKind::Visit {
            return;
        }
        let ty = ev.event_type.as_str();
        if !reads(ty) {
            return;
        }
        let data = CostView::parse(ev.data());
        let d = &data;
        match ty {
            ty::EXPENSE_RECORDED => self.record_expense(ev, d, visit_id),
            ty::EXPENSE_APPROVED => self.decide_expense(event::s(&d.expense_id), Status::Approved),
            ty::EXPENSE_REJECTED => self.decide_expense(event::s(&d.expense_id), Status::Rejected),
            ty::MEAL_BOOKED
            | ty::ENTERTAINMENT_ARRANGED
            | ty::LODGING_BOOKED
            | ty::SOUVENIR_PLANNED => self.on_booking(ev, d, visit_id),
            _ => self.on_visit(ev, d, visit_id),
        }
    }

    fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError> {
        self.expenses.drain(out, all)?;
        self.visits.drain(out, all)?;
        self.bookings.drain(out, all)?;
        self.what_if.drain(out, all)?;
        Ok(())
    }

    fn set_tracking(&mut self, on: bool) {
        self.expenses.set_tracking(on);
        self.visits.set_tracking(on);
        self.bookings.set_tracking(on);
        self.what_if.set_tracking(on);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Payload, Str};

    /// What the analyses read of a payload, through either decode.
    fn read(
        at: &Str<'_>,
        company: String,
        p: (&Str<'_>, Option<i64>, usize, &Str<'_>, &Str<'_>),
        e: (
            Option<i64>,
            Option<bool>,
            &Str<'_>,
            &Str<'_>,
            &Str<'_>,
            Option<i64>,
        ),
        legs: (Option<DateTime<FixedOffset>>, Option<DateTime<FixedOffset>>),
    ) -> String {
        format!("{at:?} {company} {p:?} {e:?} {legs:?}")
    }

    #[test]
    fn the_narrow_decode_reads_what_the_full_one_reads() {
        for bytes in [
            &br#"{"customer": {"company": "Huaxin", "foreign": true}, "department": "east",
                "visitors": [{"name": "Li"}, {"name": "Wang", "phone": "1"}], "late": "yes",
                "arrival": {"at": "2026-03-10T10:00:00+08:00", "mode": "flight"},
                "departure": {"at": "2026-03-12T10:00:00+08:00"}, "level": "senior"}"#[..],
            br#"{"expense_id": "e1", "amount_fen": 1200, "reverses": null, "over_cap": true,
                "category": "meal", "paid_by": "company", "booking_id": "b1", "cap_fen": 1000,
                "notes": {"deep": [1, 2, {"x": null}]}}"#,
            // fields of an unexpected type read as absent, the others are kept
            br#"{"expense_id": "e2", "amount_fen": 1.5, "over_cap": "no", "category": "car"}"#,
            br#"{"at": "2026-03-10T11:00:00+08:00", "customer": "ACME", "headcount": 3}"#,
            br#"{"expense_id": "e3", "description": "tea", "vendor": "Tea House",
                "subcategory": "tea", "host": "Li", "budget_fen": 500, "cost_department": "hq",
                "request": {"customer": {"company": "B"}, "cost_department": "hq2"}}"#,
            br#"{"reason": "x", "request": {"customer": "C", "budget_fen": "many"}}"#,
            br#"[1, 2]"#,
        ] {
            let f = Payload::parse(bytes);
            let n = CostView::parse(bytes);
            let full = read(
                &f.at,
                f.company(),
                (
                    &f.department,
                    f.headcount,
                    f.visitors.as_ref().map_or(0, Vec::len),
                    &f.level,
                    &f.expense_id,
                ),
                (
                    f.amount_fen,
                    f.over_cap,
                    &f.reverses,
                    &f.category,
                    &f.paid_by,
                    f.cap_fen,
                ),
                (f.arrival_at(), f.departure_at()),
            );
            let narrow = read(
                &n.at,
                n.company(),
                (
                    &n.department,
                    n.headcount,
                    n.visitors.as_ref().map_or(0, Vec::len),
                    &n.level,
                    &n.expense_id,
                ),
                (
                    n.amount_fen,
                    n.over_cap,
                    &n.reverses,
                    &n.category,
                    &n.paid_by,
                    n.cap_fen,
                ),
                (n.arrival_at(), n.departure_at()),
            );
            assert_eq!(narrow, full);
            assert_eq!(n.booking_id, f.booking_id);
            assert_eq!(
                (&n.description, &n.vendor, &n.subcategory, &n.host),
                (&f.description, &f.vendor, &f.subcategory, &f.host)
            );
            assert_eq!(
                (&n.cost_department, n.budget_fen),
                (&f.cost_department, f.budget_fen)
            );
            assert_eq!(
                n.request
                    .as_ref()
                    .map(|r| (r.company(), r.cost_department.clone())),
                f.request
                    .as_ref()
                    .map(|r| (r.company(), r.cost_department.clone()))
            );
        }
    }

    #[test]
    fn an_expense_document_leaves_out_its_defaults_and_reads_back_the_same() {
        let plain = ExpenseDoc {
            year: 2025,
            keys: ["2025-03", "senior", "east", "Huaxin", "meal", "", "Li"].map(String::from),
            amount_fen: 12_300,
            visit_id: "v1".into(),
            ..ExpenseDoc::default()
        };
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"year":2025,"keys":["2025-03","senior","east","Huaxin","meal","","Li"],"amount_fen":12300,"status":"within","visit_id":"v1","spent_at":null}"#
        );
        let full = r#"{"year":2025,"keys":["2025-03","senior","east","Huaxin","meal","tea","Li"],
            "amount_fen":-500,"visitor_paid":true,"over_cap":true,"status":"approved",
            "capped":true,"cap_fen":900,"booking_id":"b1","reversals":["x2"],"reverses":"x0",
            "visit_id":"v1","spent_at":"2025-03-01T12:00:00+08:00","description":"tea",
            "vendor":"=cmd"}"#;
        let old: ExpenseDoc = serde_json::from_str(full).unwrap();
        assert_eq!(
            (old.visitor_paid, old.over_cap, old.status, old.amount_fen),
            (true, true, Status::Approved, -500)
        );
        assert_eq!((old.capped, old.cap_fen), (true, 900));
        assert_eq!(
            (old.booking_id.as_deref(), old.reverses.as_deref()),
            (Some("b1"), Some("x0"))
        );
        assert_eq!(old.reversals, vec!["x2".to_string()]);
        let again: ExpenseDoc = serde_json::from_slice(&serde_json::to_vec(&old).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&old).unwrap()
        );
        for (text, status) in [
            ("within", Status::Within),
            ("pending", Status::Pending),
            ("rejected", Status::Rejected),
        ] {
            let doc: ExpenseDoc =
                serde_json::from_str(&format!(r#"{{"status":"{text}"}}"#)).unwrap();
            assert_eq!(doc.status, status);
        }
    }
}
