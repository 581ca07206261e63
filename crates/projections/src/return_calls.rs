//! The return-call and satisfaction report (V14, V30; seeds 000 and 004): of the visits
//! that left in a year, how many were called back, reached, confirmed a safe arrival,
//! and how satisfied they were, by level, host or month of departure, with the
//! feedback texts for the company's improvement. Read from the customer archive's
//! visit records, which keep each visit's return call.

use chrono::{DateTime, Datelike, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::archive::VisitRecord;

/// What the report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnCallsBy {
    Level,
    Host,
    /// The month of departure (`YYYY-MM`, company time zone).
    Month,
}

impl ReturnCallsBy {
    /// Parses `level`, `host` or `month`.
    pub fn parse(s: &str) -> Option<ReturnCallsBy> {
        Some(match s {
            "level" => ReturnCallsBy::Level,
            "host" => ReturnCallsBy::Host,
            "month" => ReturnCallsBy::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnCallsBy::Level => "level",
            ReturnCallsBy::Host => "host",
            ReturnCallsBy::Month => "month",
        }
    }
}

/// The figures of a group of departed visits (or of the whole year).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFigures {
    /// Visits that departed.
    pub departed: i64,
    /// Of those, the return call is done: reached, or unreachable after three attempts.
    pub called: i64,
    pub reached: i64,
    pub unreachable: i64,
    /// Departed, no return call done yet.
    pub pending: i64,
    /// `reached ÷ called` in per mille, rounded down; null before any call.
    pub reach_rate_permille: Option<i64>,
    /// V30: the customer confirmed a safe arrival home.
    pub arrived_safely: i64,
    /// V30: reached, and the customer said they had not arrived safely.
    pub not_arrived_safely: i64,
    /// How many reached calls gave each satisfaction 1 (poor) … 5 (excellent).
    pub satisfaction_counts: [i64; 5],
    /// Mean satisfaction × 100, rounded half up (`420` is 4.20); null without scores.
    pub satisfaction_mean_x100: Option<i64>,
}

impl CallFigures {
    fn add(&mut self, v: &VisitRecord) {
        self.departed += 1;
        let Some(call) = &v.return_call else {
            self.pending += 1;
            return;
        };
        self.called += 1;
        if call.get("reached").and_then(|r| r.as_bool()) == Some(true) {
            self.reached += 1;
        } else {
            self.unreachable += 1;
        }
        match call.get("arrived_safely").and_then(|r| r.as_bool()) {
            Some(true) => self.arrived_safely += 1,
            Some(false) => self.not_arrived_safely += 1,
            None => {}
        }
        if let Some(s) = satisfaction(call.get("satisfaction")) {
            self.satisfaction_counts[(s - 1) as usize] += 1;
        }
    }

    fn finish(&mut self) {
        if self.called > 0 {
            self.reach_rate_permille = Some(self.reached * 1000 / self.called);
        }
        let scored: i64 = self.satisfaction_counts.iter().sum();
        let sum: i64 = (1..=5)
            .zip(self.satisfaction_counts)
            .map(|(s, n)| s * n)
            .sum();
        if scored > 0 {
            self.satisfaction_mean_x100 = Some((sum * 200 + scored) / (2 * scored));
        }
    }
}

fn satisfaction(v: Option<Value>) -> Option<i64> {
    v?.as_i64().filter(|s| (1..=5).contains(s))
}

/// A group's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallGroup {
    pub key: String,
    #[serde(flatten)]
    pub figures: CallFigures,
}

/// One reached customer's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub visit_id: String,
    pub company: String,
    pub level: Option<String>,
    pub host: Option<String>,
    pub departed_at: Option<DateTime<FixedOffset>>,
    pub satisfaction: Option<i64>,
    pub products: Option<String>,
    pub corporate_image: Option<String>,
    pub reception: Option<String>,
    pub suggestions: Option<String>,
}

/// `GET /api/v1/reports/return-calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnCallReport {
    pub year: i32,
    pub by: String,
    #[serde(flatten)]
    pub totals: CallFigures,
    pub groups: Vec<CallGroup>,
    /// The reached calls' feedback with any text, latest departure first, at most
    /// `limit` of them.
    pub feedback: Vec<Feedback>,
    /// How many reached calls gave feedback text (all, not only those listed).
    pub feedback_total: usize,
}

/// The report over the archive's visit records.
pub(crate) fn report<'a>(
    visits: impl Iterator<Item = &'a VisitRecord>,
    tz: &Tz,
    year: i32,
    by: ReturnCallsBy,
    limit: usize,
) -> ReturnCallReport {
    let mut totals = CallFigures::default();
    let mut groups: BTreeMap<String, CallFigures> = BTreeMap::new();
    let mut feedback = Vec::new();
    for v in visits {
        let Some(departed) = v.departed_at else {
            continue;
        };
        let local = departed.with_timezone(tz);
        if local.year() != year {
            continue;
        }
        let key = match by {
            ReturnCallsBy::Level => v.level.clone().unwrap_or_default(),
            ReturnCallsBy::Host => v.host.clone().unwrap_or_default(),
            ReturnCallsBy::Month => format!("{:04}-{:02}", local.year(), local.month()),
        };
        totals.add(v);
        groups.entry(key).or_default().add(v);
        if let Some(f) = feedback_of(v) {
            feedback.push(f);
        }
    }
    totals.finish();
    feedback.sort_by(|a, b| (b.departed_at, &b.visit_id).cmp(&(a.departed_at, &a.visit_id)));
    let feedback_total = feedback.len();
    feedback.truncate(limit);
    ReturnCallReport {
        year,
        by: by.as_str().to_string(),
        totals,
        groups: groups
            .into_iter()
            .map(|(key, mut figures)| {
                figures.finish();
                CallGroup { key, figures }
            })
            .collect(),
        feedback,
        feedback_total,
    }
}

/// A reached call's words, when it has any text.
fn feedback_of(v: &VisitRecord) -> Option<Feedback> {
    let call = v.return_call.as_ref()?;
    let text = |k: &str| {
        call.get(k)
            .and_then(|s| s.as_str().map(str::trim).map(str::to_string))
            .filter(|s| !s.is_empty())
    };
    let f = Feedback {
        visit_id: v.visit_id.clone(),
        company: v.company.clone(),
        level: v.level.clone(),
        host: v.host.clone(),
        departed_at: v.departed_at,
        satisfaction: satisfaction(call.get("satisfaction")),
        products: text("products"),
        corporate_image: text("corporate_image"),
        reception: text("reception"),
        suggestions: text("suggestions"),
    };
    let any = f.products.is_some()
        || f.corporate_image.is_some()
        || f.reception.is_some()
        || f.suggestions.is_some();
    any.then_some(f)
}
