//! The cost analyses: incremental aggregates per year and per (year, dimension, key),
//! so a yearly report is a lookup. Reversing expenses net out against the original's
//! year and groups; over-cap decisions move amounts between pending, approved and rejected.

use chrono::{DateTime, Datelike, FixedOffset};
use chrono_tz::Tz;
use reception_store::{ReadModel, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::docs::{Docs, Keyed};
use crate::event::{self, ty, CostView, StreamKind};
use crate::{Changes, Projection, ProjectionError, ReadSideConfig};

/// What a cost report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostDimension {
    Level,
    Month,
    Department,
    Customer,
    Category,
}

impl CostDimension {
    /// Every dimension, in report order.
    pub const ALL: [CostDimension; 5] = [
        CostDimension::Month,
        CostDimension::Level,
        CostDimension::Department,
        CostDimension::Customer,
        CostDimension::Category,
    ];

    /// The query-string name (`level`, `month`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CostDimension::Level => "level",
            CostDimension::Month => "month",
            CostDimension::Department => "department",
            CostDimension::Customer => "customer",
            CostDimension::Category => "category",
        }
    }

    /// Parses `level|month|department|customer|category`.
    pub fn parse(s: &str) -> Option<CostDimension> {
        CostDimension::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Money totals of a set of expenses (reversals count negative).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub total_fen: i64,
    pub company_paid_fen: i64,
    pub visitor_paid_fen: i64,
    pub over_cap_fen: i64,
    pub within_cap_fen: i64,
    pub over_cap_pending_fen: i64,
    pub over_cap_approved_fen: i64,
    pub over_cap_rejected_fen: i64,
    /// Expenses net of reversals.
    pub count: i64,
}

/// One group of a cost report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostGroup {
    pub key: String,
    pub total_fen: i64,
    pub company_paid_fen: i64,
    pub visitor_paid_fen: i64,
    pub over_cap_fen: i64,
    pub count: i64,
}

/// `GET /api/v1/costs?year=Y&by=...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostReport {
    pub year: i32,
    pub by: CostDimension,
    pub total_fen: i64,
    pub groups: Vec<CostGroup>,
    pub company_paid_fen: i64,
    pub visitor_paid_fen: i64,
    pub count: i64,
    /// Expenses within their cap (or without a cap).
    pub within_cap_fen: i64,
    pub over_cap_fen: i64,
    pub over_cap_pending_fen: i64,
    pub over_cap_approved_fen: i64,
    pub over_cap_rejected_fen: i64,
    /// Spent against capped bookings and the sum of those bookings' caps.
    pub capped_spent_fen: i64,
    pub cap_total_fen: i64,
    /// `capped_spent ÷ cap_total` in per mille; None without capped bookings.
    pub cap_utilisation_permille: Option<i64>,
    /// Visitor-days of visits arriving in the year (headcount × days, at least one day).
    pub visitor_days: i64,
    /// `total ÷ visitor_days`, rounded down; None without visitor-days.
    pub cost_per_visitor_day_fen: Option<i64>,
    pub previous_year_total_fen: i64,
    /// `(total − previous) ÷ previous` in per mille; None when the previous year is zero.
    pub change_vs_previous_permille: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct YearDoc {
    totals: Totals,
    capped_spent_fen: i64,
    cap_total_fen: i64,
    visitor_days: i64,
}

/// What is known of an expense, to move its amount when it is decided or reversed.
/// Fields at their default are left out of the stored document (most expenses are
/// company-paid, within cap and never reversed), which keeps a rebuild's largest set of
/// documents about a third smaller; a document that has them reads the same.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct ExpenseDoc {
    year: i32,
    /// `[month, level, department, customer, category]` keys.
    keys: [String; 5],
    amount_fen: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    visitor_paid: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    over_cap: bool,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reversals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverses: Option<String>,
}

/// Where an expense stands against its cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// Within its cap, or without one.
    #[default]
    Within,
    /// Over cap, not yet decided.
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct VisitDoc {
    company: String,
    department: String,
    level: String,
    headcount: i64,
    arrival: Option<DateTime<FixedOffset>>,
    departure: Option<DateTime<FixedOffset>>,
    arrived: Option<DateTime<FixedOffset>>,
    departed: Option<DateTime<FixedOffset>>,
    cancelled_before_arrival: bool,
    /// (year, visitor-days) currently counted in that year's doc.
    counted: Option<(i32, i64)>,
}

impl VisitDoc {
    fn contribution(&self, tz: &Tz) -> Option<(i32, i64)> {
        if self.cancelled_before_arrival {
            return None;
        }
        let from = self.arrived.or(self.arrival)?;
        let to = self.departed.or(self.departure)?;
        let hours = (to - from).num_hours().max(0);
        let days = ((hours + 23) / 24).max(1);
        Some((from.with_timezone(tz).year(), days * self.headcount.max(0)))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct BookingDoc {
    year: i32,
    cap_fen: i64,
}

pub(crate) struct CostsProjection {
    tz: Tz,
    /// A reused buffer for document keys.
    key: String,
    years: Docs<YearDoc>,
    groups: Docs<Totals>,
    expenses: Keyed<ExpenseDoc>,
    visits: Keyed<VisitDoc>,
    bookings: Keyed<BookingDoc>,
}

fn add_totals(t: &mut Totals, e: &ExpenseDoc, sign: i64) {
    let a = e.amount_fen * sign;
    let c = if e.amount_fen < 0 { -sign } else { sign };
    t.total_fen += a;
    t.count += c;
    if e.visitor_paid {
        t.visitor_paid_fen += a;
    } else {
        t.company_paid_fen += a;
    }
    if e.over_cap {
        t.over_cap_fen += a;
        match e.status {
            Status::Approved => t.over_cap_approved_fen += a,
            Status::Rejected => t.over_cap_rejected_fen += a,
            Status::Pending | Status::Within => t.over_cap_pending_fen += a,
        }
    } else {
        t.within_cap_fen += a;
    }
}

fn group_key(year: i32, dim: CostDimension, key: &str) -> String {
    format!("{year:04}/{}/{key}", dim.as_str())
}

/// `year` as [`group_key`] and the year documents write it (`{year:04}`), without
/// the formatting machinery.
fn push_year(out: &mut String, year: i32) {
    if (0..10_000).contains(&year) {
        let y = year as u32;
        for d in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
            out.push(char::from(b'0' + d as u8));
        }
    } else {
        out.push_str(&format!("{year:04}"));
    }
}

impl CostsProjection {
    /// Adds (`sign` 1) or removes (`sign` −1) an expense's contribution everywhere.
    fn count(&mut self, e: &ExpenseDoc, sign: i64) {
        // the keys are put together in one buffer (this runs for every expense)
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        push_year(&mut key, e.year);
        add_totals(&mut self.years.entry(&key).totals, e, sign);
        key.push('/');
        let year_len = key.len();
        for (dim, k) in [
            CostDimension::Month,
            CostDimension::Level,
            CostDimension::Department,
            CostDimension::Customer,
            CostDimension::Category,
        ]
        .into_iter()
        .zip(e.keys.iter())
        {
            key.truncate(year_len);
            key.push_str(dim.as_str());
            key.push('/');
            key.push_str(k);
            add_totals(self.groups.entry(&key), e, sign);
        }
        self.key = key;
    }

    fn recount_visit(&mut self, visit_id: &str) {
        let tz = self.tz;
        let Some(v) = self.visits.get_mut(visit_id) else {
            return;
        };
        let new = v.contribution(&tz);
        let old = std::mem::replace(&mut v.counted, new);
        if old == new {
            return;
        }
        if let Some((y, d)) = old {
            self.years.entry(&y.to_string()).visitor_days -= d;
        }
        if let Some((y, d)) = new {
            self.years.entry(&y.to_string()).visitor_days += d;
        }
    }

    fn record_expense(&mut self, ev: &StoredEvent, d: &CostView<'_>, visit_id: &str) {
        let expense_id = event::s(&d.expense_id).to_string();
        if expense_id.is_empty() || self.expenses.get(&expense_id).is_some() {
            return;
        }
        let amount = d.amount_fen.unwrap_or(0);
        let reverses = event::opt_s(&d.reverses);
        let original = reverses
            .as_deref()
            .and_then(|r| self.expenses.get(r))
            .cloned();
        let doc = match original {
            Some(o) => ExpenseDoc {
                year: o.year,
                keys: o.keys.clone(),
                amount_fen: -amount,
                visitor_paid: o.visitor_paid,
                over_cap: o.over_cap,
                status: o.status,
                booking_id: o.booking_id.clone(),
                reversals: Vec::new(),
                reverses: reverses.clone(),
            },
            None => {
                // V24: analyses count an expense when its money was spent, not when it
                // was recorded (a December invoice recorded in January is December's);
                // a schema 1 expense was spent when recorded, the event's time
                let spent = event::t(&d.spent_at).unwrap_or(ev.occurred_at);
                let local = spent.with_timezone(&self.tz);
                let (visit_level, department, company) = match self.visits.get(visit_id) {
                    Some(v) => (v.level.clone(), v.department.clone(), v.company.clone()),
                    None => Default::default(),
                };
                let level = event::opt_s(&d.level).unwrap_or(visit_level);
                let over_cap = d.over_cap.unwrap_or(false);
                ExpenseDoc {
                    year: local.year(),
                    keys: [
                        format!("{:04}-{:02}", local.year(), local.month()),
                        level,
                        department,
                        company,
                        event::s(&d.category).to_string(),
                    ],
                    amount_fen: if reverses.is_some() { -amount } else { amount },
                    visitor_paid: event::s(&d.paid_by) == "visitor",
                    over_cap,
                    status: if over_cap {
                        Status::Pending
                    } else {
                        Status::Within
                    },
                    booking_id: event::opt_s(&d.booking_id),
                    reversals: Vec::new(),
                    reverses: reverses.clone(),
                }
            }
        };
        self.count(&doc, 1);
        if let Some(booking) = &doc.booking_id {
            let cap = d.cap_fen;
            let year = doc.year;
            let known = self.bookings.get(booking).cloned();
            match (known, cap) {
                (None, Some(cap)) => {
                    *self.bookings.entry(booking) = BookingDoc { year, cap_fen: cap };
                    let y = self.years.entry(&year.to_string());
                    y.cap_total_fen += cap;
                    y.capped_spent_fen += doc.amount_fen;
                }
                (Some(b), _) => {
                    self.years.entry(&b.year.to_string()).capped_spent_fen += doc.amount_fen;
                }
                (None, None) => {}
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
        let Some(e) = self.expenses.get(expense_id).cloned() else {
            return;
        };
        if !e.over_cap || e.status == status {
            return;
        }
        let mut family = vec![expense_id.to_string()];
        family.extend(e.reversals.iter().cloned());
        for id in family {
            if let Some(old) = self.expenses.get(&id).cloned() {
                self.count(&old, -1);
                let mut new = old;
                new.status = status;
                self.count(&new, 1);
                *self.expenses.entry(&id) = new;
            }
        }
    }

    pub(crate) fn years(&self) -> Vec<i32> {
        self.years
            .map
            .keys()
            .filter_map(|y| y.parse().ok())
            .collect()
    }

    pub(crate) fn report(&self, year: i32, by: CostDimension) -> CostReport {
        let y = self
            .years
            .get(&year.to_string())
            .cloned()
            .unwrap_or_default();
        let prev = self
            .years
            .get(&(year - 1).to_string())
            .map(|p| p.totals.total_fen)
            .unwrap_or(0);
        let prefix = group_key(year, by, "");
        let groups = self
            .groups
            .map
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, t)| CostGroup {
                key: k[prefix.len()..].to_string(),
                total_fen: t.total_fen,
                company_paid_fen: t.company_paid_fen,
                visitor_paid_fen: t.visitor_paid_fen,
                over_cap_fen: t.over_cap_fen,
                count: t.count,
            })
            .collect();
        let t = &y.totals;
        CostReport {
            year,
            by,
            total_fen: t.total_fen,
            groups,
            company_paid_fen: t.company_paid_fen,
            visitor_paid_fen: t.visitor_paid_fen,
            count: t.count,
            within_cap_fen: t.within_cap_fen,
            over_cap_fen: t.over_cap_fen,
            over_cap_pending_fen: t.over_cap_pending_fen,
            over_cap_approved_fen: t.over_cap_approved_fen,
            over_cap_rejected_fen: t.over_cap_rejected_fen,
            capped_spent_fen: y.capped_spent_fen,
            cap_total_fen: y.cap_total_fen,
            cap_utilisation_permille: (y.cap_total_fen > 0)
                .then(|| y.capped_spent_fen * 1000 / y.cap_total_fen),
            visitor_days: y.visitor_days,
            cost_per_visitor_day_fen: (y.visitor_days > 0).then(|| t.total_fen / y.visitor_days),
            previous_year_total_fen: prev,
            change_vs_previous_permille: (prev != 0).then(|| (t.total_fen - prev) * 1000 / prev),
        }
    }

    pub(crate) fn csv(&self, year: i32) -> Vec<u8> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut w = csv::Writer::from_writer(&mut out);
            let _ = w.write_record([
                "year",
                "dimension",
                "key",
                "total_fen",
                "total_yuan",
                "company_paid_fen",
                "visitor_paid_fen",
                "over_cap_fen",
                "count",
            ]);
            for dim in CostDimension::ALL {
                let r = self.report(year, dim);
                for g in r.groups {
                    let _ = w.write_record([
                        year.to_string(),
                        dim.as_str().to_string(),
                        g.key,
                        g.total_fen.to_string(),
                        yuan(g.total_fen),
                        g.company_paid_fen.to_string(),
                        g.visitor_paid_fen.to_string(),
                        g.over_cap_fen.to_string(),
                        g.count.to_string(),
                    ]);
                }
            }
            let _ = w.flush();
        }
        out
    }
}

/// Integer fen as a yuan string with two decimals, without floats.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

impl Projection for CostsProjection {
    const NAME: &'static str = "costs";
    /// 2: expenses count in the year and month of their `spent_at` (V24).
    const VERSION: u32 = 2;

    fn new(cfg: &ReadSideConfig) -> Self {
        CostsProjection {
            tz: cfg.tz,
            key: String::new(),
            years: Docs::new("y/"),
            groups: Docs::new("g/"),
            expenses: Keyed::new("x/"),
            visits: Keyed::new("v/"),
            bookings: Keyed::new("b/"),
        }
    }

    fn load(&mut self, rm: &ReadModel) -> Result<(), ProjectionError> {
        self.years.load(rm)?;
        self.groups.load(rm)?;
        self.expenses.load(rm)?;
        self.visits.load(rm)?;
        self.bookings.load(rm)
    }

    fn apply(&mut self, ev: &StoredEvent) {
        let (kind, visit_id) = event::stream_kind(&ev.stream);
        if kind != StreamKind::Visit {
            return;
        }
        let ty = ev.event_type.as_str();
        if !matches!(
            ty,
            ty::RECEPTION_REQUESTED
                | ty::LEVEL_ASSIGNED
                | ty::LEVEL_CHANGED
                | ty::VISITORS_ARRIVED
                | ty::VISITORS_DEPARTED
                | ty::VISIT_CANCELLED
                | ty::EXPENSE_RECORDED
                | ty::EXPENSE_APPROVED
                | ty::EXPENSE_REJECTED
        ) {
            return;
        }
        let data = CostView::parse(ev.data());
        let d = &data;
        match ty {
            ty::RECEPTION_REQUESTED => {
                let v = self.visits.entry(visit_id);
                v.company = d.company();
                v.department = event::s(&d.department).to_string();
                v.headcount = d
                    .headcount
                    .unwrap_or_else(|| d.visitors.as_ref().map_or(0, |a| a.len() as i64));
                v.arrival = d.arrival_at();
                v.departure = d.departure_at();
                self.recount_visit(visit_id);
            }
            ty::LEVEL_ASSIGNED | ty::LEVEL_CHANGED => {
                if let Some(v) = self.visits.get_mut(visit_id) {
                    v.level = event::s(&d.level).to_string();
                }
            }
            ty::VISITORS_ARRIVED => {
                if let Some(v) = self.visits.get_mut(visit_id) {
                    v.arrived = Some(event::t(&d.at).unwrap_or(ev.occurred_at));
                }
                self.recount_visit(visit_id);
            }
            ty::VISITORS_DEPARTED => {
                if let Some(v) = self.visits.get_mut(visit_id) {
                    v.departed = Some(event::t(&d.at).unwrap_or(ev.occurred_at));
                }
                self.recount_visit(visit_id);
            }
            ty::VISIT_CANCELLED => {
                if let Some(v) = self.visits.get_mut(visit_id) {
                    v.cancelled_before_arrival = v.arrived.is_none();
                }
                self.recount_visit(visit_id);
            }
            ty::EXPENSE_RECORDED => self.record_expense(ev, d, visit_id),
            ty::EXPENSE_APPROVED => self.decide_expense(event::s(&d.expense_id), Status::Approved),
            ty::EXPENSE_REJECTED => self.decide_expense(event::s(&d.expense_id), Status::Rejected),
            _ => {}
        }
    }

    fn drain(&mut self, out: &mut Changes, all: bool) -> Result<(), ProjectionError> {
        self.years.drain(out, all)?;
        self.groups.drain(out, all)?;
        self.expenses.drain(out, all)?;
        self.visits.drain(out, all)?;
        self.bookings.drain(out, all)?;
        Ok(())
    }

    fn set_tracking(&mut self, on: bool) {
        self.years.set_tracking(on);
        self.groups.set_tracking(on);
        self.expenses.set_tracking(on);
        self.visits.set_tracking(on);
        self.bookings.set_tracking(on);
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
        }
    }

    #[test]
    fn an_expense_document_leaves_out_its_defaults_and_one_stored_in_full_reads_the_same() {
        let plain = ExpenseDoc {
            year: 2025,
            keys: ["2025-03", "senior", "east", "Huaxin", "meal"].map(String::from),
            amount_fen: 12_300,
            ..ExpenseDoc::default()
        };
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"year":2025,"keys":["2025-03","senior","east","Huaxin","meal"],"amount_fen":12300,"status":"within"}"#
        );
        // as every document was stored before
        let full = r#"{"year":2025,"keys":["2025-03","senior","east","Huaxin","meal"],
            "amount_fen":-500,"visitor_paid":true,"over_cap":true,"status":"approved",
            "booking_id":"b1","reversals":["x2"],"reverses":"x0"}"#;
        let old: ExpenseDoc = serde_json::from_str(full).unwrap();
        assert_eq!(
            (old.visitor_paid, old.over_cap, old.status, old.amount_fen),
            (true, true, Status::Approved, -500)
        );
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

    #[test]
    fn years_are_written_like_the_reports_write_them() {
        for year in [0, 7, 99, 2025, 9999, -3, 10_000] {
            let mut s = String::new();
            push_year(&mut s, year);
            assert_eq!(s, format!("{year:04}"));
        }
    }
}
