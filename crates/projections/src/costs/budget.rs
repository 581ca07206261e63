//! Budget against actual (V22): per visit and per cost-bearing department, the
//! approved budgets of a year's visits against the company's spend on them.
//!
//! A visit belongs to the year of its arrival (actual, else planned) in the company's
//! time zone. Its budget is approved once a level is assigned (V22 lets a level be
//! assigned only after the approvals the policy names); a visit without a budget, or
//! whose request is not approved, is counted apart and never as over budget. The
//! actual is the company-paid spend net of reversals, whenever it was spent: the
//! figure the visit's `over_budget` flag compares.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::{CostsProjection, VisitDoc};

/// What a budget report lists besides its totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetBy {
    Department,
    Visit,
}

/// `GET /api/v1/costs/budget?year=Y&by=department|visit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetReport {
    pub year: i32,
    /// `department` or `visit`.
    pub by: String,
    /// The approved budgets of the year's visits that have one.
    pub budget_fen: i128,
    /// The company's spend on those visits.
    pub actual_fen: i128,
    /// `actual − budget` (positive: spent beyond the budgets).
    pub difference_fen: i128,
    pub visits_with_budget: i64,
    /// Visits whose actual exceeds their budget.
    pub visits_over_budget: i64,
    /// Visits without an approved budget, and the company's spend on them.
    pub visits_without_budget: i64,
    pub without_budget_actual_fen: i128,
    /// By cost-bearing department (with `by=department`), sorted by department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<BudgetGroup>>,
    /// Every visit of the year (with `by=visit`), sorted by visit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits: Option<Vec<BudgetVisit>>,
    /// The visits over budget, the largest overrun first.
    pub over_budget: Vec<BudgetVisit>,
}

/// One cost-bearing department's budgets against actual.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetGroup {
    pub department: String,
    pub budget_fen: i128,
    pub actual_fen: i128,
    pub difference_fen: i128,
    pub visits_with_budget: i64,
    pub visits_over_budget: i64,
    pub visits_without_budget: i64,
    pub without_budget_actual_fen: i128,
}

impl BudgetGroup {
    fn add(&mut self, v: &BudgetVisit) {
        match v.budget_fen {
            Some(b) => {
                self.budget_fen += i128::from(b);
                self.actual_fen += v.actual_fen;
                self.difference_fen = self.actual_fen - self.budget_fen;
                self.visits_with_budget += 1;
                self.visits_over_budget += i64::from(v.over_budget);
            }
            None => {
                self.visits_without_budget += 1;
                self.without_budget_actual_fen += v.actual_fen;
            }
        }
    }
}

/// One visit's budget against actual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetVisit {
    pub visit_id: String,
    pub customer: String,
    pub level: String,
    /// The cost-bearing department.
    pub department: String,
    /// The approved budget; None without one (or before approval).
    pub budget_fen: Option<i64>,
    pub actual_fen: i128,
    /// `actual − budget`; None without a budget.
    pub difference_fen: Option<i128>,
    pub over_budget: bool,
}

fn row(id: &str, v: &VisitDoc) -> BudgetVisit {
    let budget = v.budget_fen.filter(|_| !v.level.is_empty());
    let difference = budget.map(|b| v.company_spent_fen - i128::from(b));
    BudgetVisit {
        visit_id: id.to_string(),
        customer: v.company.clone(),
        level: v.level.clone(),
        department: v.bearer().to_string(),
        budget_fen: budget,
        actual_fen: v.company_spent_fen,
        difference_fen: difference,
        over_budget: difference.is_some_and(|d| d > 0),
    }
}

impl CostsProjection {
    pub(crate) fn budget(&self, year: i32, by: BudgetBy) -> BudgetReport {
        let mut rows: Vec<BudgetVisit> = self
            .visits
            .map
            .iter()
            .filter(|(_, v)| v.arrival_local(&self.tz).is_some_and(|a| a.year() == year))
            .map(|(id, v)| row(id, v))
            .collect();
        rows.sort_unstable_by(|a, b| a.visit_id.cmp(&b.visit_id));
        let mut all = BudgetGroup::default();
        let mut departments: BTreeMap<&str, BudgetGroup> = BTreeMap::new();
        for r in &rows {
            all.add(r);
            if by == BudgetBy::Department {
                departments.entry(&r.department).or_default().add(r);
            }
        }
        let mut over: Vec<BudgetVisit> = rows.iter().filter(|r| r.over_budget).cloned().collect();
        over.sort_by(|a, b| {
            b.difference_fen
                .cmp(&a.difference_fen)
                .then_with(|| a.visit_id.cmp(&b.visit_id))
        });
        let groups = (by == BudgetBy::Department).then(|| {
            departments
                .into_iter()
                .map(|(d, g)| BudgetGroup {
                    department: d.to_string(),
                    ..g
                })
                .collect()
        });
        BudgetReport {
            year,
            by: match by {
                BudgetBy::Department => "department",
                BudgetBy::Visit => "visit",
            }
            .to_string(),
            budget_fen: all.budget_fen,
            actual_fen: all.actual_fen,
            difference_fen: all.actual_fen - all.budget_fen,
            visits_with_budget: all.visits_with_budget,
            visits_over_budget: all.visits_over_budget,
            visits_without_budget: all.visits_without_budget,
            without_budget_actual_fen: all.without_budget_actual_fen,
            groups,
            visits: (by == BudgetBy::Visit).then_some(rows),
            over_budget: over,
        }
    }
}
