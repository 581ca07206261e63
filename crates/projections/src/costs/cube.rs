//! The cost cube: per year, one cell of sums for the year as a whole, for every value
//! of each dimension, and for every pair of values of any two dimensions crossed, so
//! that `by=A` and `by=A,B` are lookups. Built from the expense and visit documents
//! (on load, and as events apply); never persisted itself.
//!
//! Money sums are `i128`: a cell adds up to every expense of a year, and widening
//! makes a wrap impossible where a checked `i64` sum would need an error path in the
//! middle of applying the log.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::docs::FastHash;

/// What a cost report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostDimension {
    Level,
    Month,
    /// The cost-bearing department (the request's `cost_department`, else its
    /// requesting `department`).
    Department,
    Customer,
    Category,
    /// The expense's `subcategory` id ("" when none was given).
    Subcategory,
    /// The visit's host when the expense was recorded ("" before one was assigned).
    Host,
}

/// How many dimensions there are.
pub(crate) const DIMS: usize = 7;

impl CostDimension {
    /// Every dimension, in report order (also the order of an expense's keys).
    pub const ALL: [CostDimension; DIMS] = [
        CostDimension::Month,
        CostDimension::Level,
        CostDimension::Department,
        CostDimension::Customer,
        CostDimension::Category,
        CostDimension::Subcategory,
        CostDimension::Host,
    ];

    /// The query-string name (`level`, `month`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CostDimension::Level => "level",
            CostDimension::Month => "month",
            CostDimension::Department => "department",
            CostDimension::Customer => "customer",
            CostDimension::Category => "category",
            CostDimension::Subcategory => "subcategory",
            CostDimension::Host => "host",
        }
    }

    /// Parses one of the names of [`CostDimension::as_str`].
    pub fn parse(s: &str) -> Option<CostDimension> {
        CostDimension::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The position of this dimension's key in an expense's keys.
    pub(crate) fn index(self) -> usize {
        CostDimension::ALL
            .iter()
            .position(|d| *d == self)
            .expect("every dimension is in ALL")
    }

    /// A property of the visit rather than of the single expense: the visit's
    /// visitor-days count in its groups of these dimensions.
    pub(crate) fn of_visit(self) -> bool {
        !matches!(self, CostDimension::Category | CostDimension::Subcategory)
    }
}

/// Where an expense stands against its cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Within its cap, or without one.
    #[default]
    Within,
    /// Over cap, not yet decided.
    Pending,
    Approved,
    Rejected,
}

/// What one expense document adds to each of its cells.
pub(crate) struct Spend {
    /// Signed: a reversal's amount is negative.
    pub amount_fen: i64,
    pub visitor_paid: bool,
    pub over_cap: bool,
    pub status: Status,
    /// Judged against a cap (company-paid spend on a capped booking or gift).
    pub capped: bool,
    /// The cap this expense brings into the sums: a booking's cap counts once, with
    /// the first expense judged against it.
    pub cap_fen: i64,
}

/// The sums of one group. Company-paid, over-cap and within-cap amounts are derived
/// (`total − visitor_paid`, `approved + rejected + pending`, `total − over_cap`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cell {
    pub total: i128,
    pub visitor_paid: i128,
    pub approved: i128,
    pub rejected: i128,
    pub pending: i128,
    pub capped_spent: i128,
    pub cap: i128,
    /// Expenses net of reversals.
    pub count: i64,
    /// Expense documents (reversals included): a group is listed once it has one.
    pub lines: i64,
    pub visitor_days: i64,
}

impl Cell {
    fn add(&mut self, s: &Spend, sign: i64) {
        let a = i128::from(s.amount_fen) * i128::from(sign);
        self.total += a;
        self.count += if s.amount_fen < 0 { -sign } else { sign };
        self.lines += sign;
        if s.visitor_paid {
            self.visitor_paid += a;
        }
        if s.over_cap {
            match s.status {
                Status::Approved => self.approved += a,
                Status::Rejected => self.rejected += a,
                Status::Pending | Status::Within => self.pending += a,
            }
        }
        if s.capped {
            self.capped_spent += a;
        }
        self.cap += i128::from(s.cap_fen) * i128::from(sign);
    }

    pub(crate) fn over_cap(&self) -> i128 {
        self.approved + self.rejected + self.pending
    }

    pub(crate) fn company_paid(&self) -> i128 {
        self.total - self.visitor_paid
    }
}

/// `n ÷ d` rounded half-up (a half rounds toward +∞); None when `d` is not positive.
pub(crate) fn div_half_up(n: i128, d: i128) -> Option<i128> {
    (d > 0).then(|| (2 * n + d).div_euclid(2 * d))
}

/// Names of one dimension's values, numbered in the order first seen.
#[derive(Debug, Default, Clone)]
struct Names {
    names: Vec<String>,
    ids: HashMap<String, u32, FastHash>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2³² names");
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// The cells of one year, by combination of dimensions (see [`combo`]) and by the
/// pair of value ids (the second 0 for one dimension, both 0 for the year).
type YearCells = Vec<HashMap<(u32, u32), Cell, FastHash>>;

/// Combinations: the year itself, each dimension, each unordered pair.
const COMBOS: usize = 1 + DIMS + DIMS * (DIMS - 1) / 2;

/// The index of a combination of dimension indexes (`a < b` for a pair).
fn combo(a: Option<usize>, b: Option<usize>) -> usize {
    match (a, b) {
        (None, _) => 0,
        (Some(a), None) => 1 + a,
        (Some(a), Some(b)) => {
            let (a, b) = (a.min(b), a.max(b));
            // pairs (0,1)..(0,6), (1,2).., in order
            1 + DIMS + a * (2 * DIMS - a - 1) / 2 + (b - a - 1)
        }
    }
}

/// Every combination with its dimension indexes.
fn combos() -> impl Iterator<Item = (usize, Option<usize>, Option<usize>)> {
    let singles = (0..DIMS).map(|a| (Some(a), None));
    let pairs = (0..DIMS).flat_map(|a| (a + 1..DIMS).map(move |b| (Some(a), Some(b))));
    std::iter::once((None, None))
        .chain(singles)
        .chain(pairs)
        .map(|(a, b)| (combo(a, b), a, b))
}

/// The key of a month (`YYYY-MM`) as its number, the year-independent id months take
/// so that a group finds its previous year's twin.
fn month_id(key: &str) -> u32 {
    key.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0)
}

/// The cube: per year, the cells of every combination.
#[derive(Debug, Default, Clone)]
pub(crate) struct Cube {
    years: HashMap<i32, YearCells, FastHash>,
    names: [Names; DIMS],
}

/// A group's key in an answer: one dimension's value, or two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupKey {
    One(String),
    Two([String; 2]),
}

/// A one-dimension key equals its value.
impl PartialEq<&str> for GroupKey {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, GroupKey::One(k) if k == other)
    }
}

impl GroupKey {
    /// The key's values joined by " / " (for a single-column export).
    pub fn joined(&self) -> String {
        match self {
            GroupKey::One(k) => k.clone(),
            GroupKey::Two([a, b]) => format!("{a} / {b}"),
        }
    }
}

impl Cube {
    pub(crate) fn clear(&mut self) {
        *self = Cube::default();
    }

    fn ids(&mut self, keys: &[String; DIMS]) -> [u32; DIMS] {
        let mut out = [0; DIMS];
        for (i, k) in keys.iter().enumerate() {
            out[i] = if i == CostDimension::Month.index() {
                month_id(k)
            } else {
                self.names[i].id(k)
            };
        }
        out
    }

    fn year(&mut self, year: i32) -> &mut YearCells {
        self.years
            .entry(year)
            .or_insert_with(|| (0..COMBOS).map(|_| HashMap::default()).collect())
    }

    /// Adds (`sign` 1) or removes (`sign` −1) an expense document in every cell it
    /// belongs to. `keys` are in [`CostDimension::ALL`] order.
    pub(crate) fn add_expense(&mut self, year: i32, keys: &[String; DIMS], s: &Spend, sign: i64) {
        let ids = self.ids(keys);
        let cells = self.year(year);
        for (c, a, b) in combos() {
            let key = (a.map_or(0, |a| ids[a]), b.map_or(0, |b| ids[b]));
            cells[c].entry(key).or_default().add(s, sign);
        }
    }

    /// Adds or removes a visit's visitor-days in the cells of the visit's own
    /// dimensions (`keys` in [`CostDimension::ALL`] order; category and subcategory
    /// are not read).
    pub(crate) fn add_visit(&mut self, year: i32, keys: &[String; DIMS], days: i64, sign: i64) {
        let ids = self.ids(keys);
        let visit_dim = |d: Option<usize>| d.is_none_or(|d| CostDimension::ALL[d].of_visit());
        let cells = self.year(year);
        for (c, a, b) in combos() {
            if visit_dim(a) && visit_dim(b) {
                let key = (a.map_or(0, |a| ids[a]), b.map_or(0, |b| ids[b]));
                cells[c].entry(key).or_default().visitor_days += days * sign;
            }
        }
    }

    /// The year's own cell.
    pub(crate) fn year_cell(&self, year: i32) -> Cell {
        self.cell(year, 0, (0, 0)).cloned().unwrap_or_default()
    }

    fn cell(&self, year: i32, combo: usize, key: (u32, u32)) -> Option<&Cell> {
        self.years.get(&year)?.get(combo)?.get(&key)
    }

    /// The years with any cell, ascending.
    pub(crate) fn years(&self) -> Vec<i32> {
        let mut years: Vec<i32> = self.years.keys().copied().collect();
        years.sort_unstable();
        years
    }

    fn name(&self, year: i32, dim: usize, id: u32) -> String {
        if dim == CostDimension::Month.index() {
            format!("{year:04}-{id:02}")
        } else {
            self.names[dim].names[id as usize].clone()
        }
    }

    /// The groups of `year` by `a` (and `b`, crossed), each with every figure, sorted
    /// by key. Only groups with an expense are listed.
    pub(crate) fn groups(
        &self,
        year: i32,
        a: CostDimension,
        b: Option<CostDimension>,
    ) -> Vec<CostGroup> {
        let (ia, ib) = (a.index(), b.map(CostDimension::index));
        let c = combo(Some(ia), ib);
        let Some(cells) = self.years.get(&year).map(|y| &y[c]) else {
            return Vec::new();
        };
        // the stored pair is in index order; the answer's key in the asked order
        let swapped = ib.is_some_and(|ib| ib < ia);
        let year_days = self.year_cell(year).visitor_days;
        let mut out: Vec<CostGroup> = cells
            .iter()
            .filter(|(_, cell)| cell.lines > 0)
            .map(|(&(k1, k2), cell)| {
                let (ka, kb) = if swapped { (k2, k1) } else { (k1, k2) };
                let key = match ib {
                    None => GroupKey::One(self.name(year, ia, ka)),
                    Some(ib) => GroupKey::Two([self.name(year, ia, ka), self.name(year, ib, kb)]),
                };
                let days = self.visitor_days(year, (a, ka), b.map(|b| (b, kb)), cell, year_days);
                let previous = self.cell(year - 1, c, (k1, k2)).map_or(0, |p| p.total);
                group(key, cell, days, previous)
            })
            .collect();
        out.sort_unstable_by(|x, y| match (&x.key, &y.key) {
            (GroupKey::One(p), GroupKey::One(q)) => p.cmp(q),
            (GroupKey::Two(p), GroupKey::Two(q)) => p.cmp(q),
            (p, q) => p.joined().cmp(&q.joined()),
        });
        out
    }

    /// A group's visitor-days: those of the year's visits matching the group's visit
    /// dimensions (category and subcategory do not narrow them: every visit counts
    /// under each category).
    fn visitor_days(
        &self,
        year: i32,
        (a, ka): (CostDimension, u32),
        b: Option<(CostDimension, u32)>,
        cell: &Cell,
        year_days: i64,
    ) -> i64 {
        let visit_a = a.of_visit();
        match b {
            None if visit_a => cell.visitor_days,
            None => year_days,
            Some((b, _)) if visit_a && b.of_visit() => cell.visitor_days,
            Some((b, kb)) if b.of_visit() => self
                .cell(year, combo(Some(b.index()), None), (kb, 0))
                .map_or(0, |c| c.visitor_days),
            Some(_) if visit_a => self
                .cell(year, combo(Some(a.index()), None), (ka, 0))
                .map_or(0, |c| c.visitor_days),
            Some(_) => year_days,
        }
    }
}

/// One group of a cost report, with every figure (API.md, Queries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostGroup {
    /// The dimension's value, or `[a, b]` for two dimensions crossed.
    pub key: GroupKey,
    /// Every expense of the group, reversals subtracted.
    pub total_fen: i128,
    pub company_paid_fen: i128,
    pub visitor_paid_fen: i128,
    /// Expenses flagged over their cap (whatever the decision).
    pub over_cap_fen: i128,
    /// Expenses net of reversals.
    pub count: i64,
    pub over_cap_approved_fen: i128,
    pub over_cap_rejected_fen: i128,
    /// Over cap and not decided yet.
    pub over_cap_pending_fen: i128,
    /// Headcount × days of the visits arriving in the year that match the group's
    /// visit dimensions.
    pub visitor_days: i64,
    /// `total ÷ visitor_days` rounded half-up; None without visitor-days.
    pub per_visitor_day_fen: Option<i128>,
    /// Capped spend ÷ cap in per mille, rounded half-up; None when nothing was capped.
    pub cap_utilisation_permille: Option<i128>,
    /// The same group's total in the year before.
    pub previous_year_total_fen: i128,
}

fn group(key: GroupKey, cell: &Cell, visitor_days: i64, previous: i128) -> CostGroup {
    CostGroup {
        key,
        total_fen: cell.total,
        company_paid_fen: cell.company_paid(),
        visitor_paid_fen: cell.visitor_paid,
        over_cap_fen: cell.over_cap(),
        count: cell.count,
        over_cap_approved_fen: cell.approved,
        over_cap_rejected_fen: cell.rejected,
        over_cap_pending_fen: cell.pending,
        visitor_days,
        per_visitor_day_fen: div_half_up(cell.total, i128::from(visitor_days)),
        cap_utilisation_permille: div_half_up(cell.capped_spent * 1000, cell.cap),
        previous_year_total_fen: previous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination_has_its_own_index() {
        let mut seen: Vec<usize> = combos().map(|(c, _, _)| c).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..COMBOS).collect::<Vec<_>>());
        assert_eq!(combo(Some(3), Some(1)), combo(Some(1), Some(3)));
    }

    #[test]
    fn halves_round_up() {
        assert_eq!(div_half_up(5, 2), Some(3));
        assert_eq!(div_half_up(7, 3), Some(2));
        assert_eq!(div_half_up(8, 3), Some(3));
        assert_eq!(div_half_up(-5, 2), Some(-2));
        assert_eq!(div_half_up(1, 0), None);
    }
}
