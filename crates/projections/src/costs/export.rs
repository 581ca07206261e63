//! The cost exports: the groups of every dimension as CSV, one line per expense as
//! CSV, and both as an Excel workbook. CSV files start with a UTF-8 byte-order mark so
//! that spreadsheet programs read Chinese names correctly.
//!
//! Formula injection: a spreadsheet program runs a cell that starts with `=`, `+`,
//! `-` or `@` (and some take a leading tab or carriage return) as a formula, so a
//! company named `=HYPERLINK(...)` would become a link in the analyst's sheet. Every
//! text cell taken from input is [`neutralise`]d; cells the service writes from
//! integers are left as numbers. The workbook writes text as string cells, which are
//! never evaluated.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use super::cube::{CostDimension, CostGroup, Status};
use super::{CostsProjection, ExpenseDoc};

/// A text cell made safe for spreadsheet programs: one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'`.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// One expense as the line export shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostLine {
    pub expense_id: String,
    pub visit_id: String,
    pub customer: String,
    pub level: String,
    /// The cost-bearing department.
    pub department: String,
    pub host: String,
    pub category: String,
    pub subcategory: String,
    pub description: String,
    pub vendor: String,
    /// When the money was spent, in the company's time zone (a reversal: its
    /// original's, where it nets out).
    pub spent_at: Option<DateTime<FixedOffset>>,
    /// Negative for a reversal.
    pub amount_fen: i64,
    /// `company` or `visitor`.
    pub payer: String,
    /// `within`, `over` or `uncapped`.
    pub cap: String,
    /// `approved`, `rejected`, `pending`, or `none` (nothing to decide).
    pub decision: String,
    /// The expense this one reverses.
    pub reverses: Option<String>,
}

fn line(id: &str, e: &ExpenseDoc) -> CostLine {
    let key = |d: CostDimension| e.keys[d.index()].clone();
    CostLine {
        expense_id: id.to_string(),
        visit_id: e.visit_id.clone(),
        customer: key(CostDimension::Customer),
        level: key(CostDimension::Level),
        department: key(CostDimension::Department),
        host: key(CostDimension::Host),
        category: key(CostDimension::Category),
        subcategory: key(CostDimension::Subcategory),
        description: e.description.clone(),
        vendor: e.vendor.clone(),
        spent_at: e.spent_at,
        amount_fen: e.amount_fen,
        payer: if e.visitor_paid { "visitor" } else { "company" }.to_string(),
        cap: match (e.over_cap, e.capped) {
            (true, _) => "over",
            (false, true) => "within",
            (false, false) => "uncapped",
        }
        .to_string(),
        decision: match (e.over_cap, e.status) {
            (false, _) => "none",
            (true, Status::Approved) => "approved",
            (true, Status::Rejected) => "rejected",
            (true, Status::Pending | Status::Within) => "pending",
        }
        .to_string(),
        reverses: e.reverses.clone(),
    }
}

const LINE_HEADER: [&str; 17] = [
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
    "reverses",
];

const GROUP_HEADER: [&str; 15] = [
    "key",
    "total_fen",
    "total_yuan",
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
    "dimension",
];

fn rfc3339(t: &Option<DateTime<FixedOffset>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

fn opt(n: Option<i128>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// Integer fen as a yuan string with two decimals, without floats.
fn yuan(fen: i128) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// A CSV file with a byte-order mark, written row by row.
fn csv_file(rows: impl FnOnce(&mut csv::Writer<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        rows(&mut w);
        // writing into memory cannot fail
        let _ = w.flush();
    }
    out
}

impl CostsProjection {
    /// Every expense document counted in `year`, by spend time, then id.
    pub(crate) fn lines(&self, year: i32) -> Vec<CostLine> {
        let mut out: Vec<CostLine> = self
            .expenses
            .map
            .iter()
            .filter(|(_, e)| e.year == year)
            .map(|(id, e)| line(id, e))
            .collect();
        out.sort_unstable_by(|a, b| (a.spent_at, &a.expense_id).cmp(&(b.spent_at, &b.expense_id)));
        out
    }

    /// The visits with an expense counted in the year, sorted.
    pub(crate) fn visits_spending_in(&self, year: i32) -> Vec<String> {
        let mut out: Vec<String> = self
            .expenses
            .map
            .values()
            .filter(|e| e.year == year)
            .map(|e| e.visit_id.clone())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The groups of every dimension: one row per dimension and key.
    pub(crate) fn csv(&self, year: i32) -> Vec<u8> {
        csv_file(|w| {
            let mut header = vec!["year", "dimension"];
            header.extend(GROUP_HEADER.iter().take(GROUP_HEADER.len() - 1));
            let _ = w.write_record(&header);
            for dim in CostDimension::ALL {
                for g in self.report(year, dim, None).groups {
                    let mut record = vec![year.to_string(), dim.as_str().to_string()];
                    record.extend(group_cells(&g));
                    let _ = w.write_record(&record);
                }
            }
        })
    }

    /// One line per expense counted in `year`.
    pub(crate) fn lines_csv(&self, year: i32) -> Vec<u8> {
        csv_file(|w| {
            let _ = w.write_record(LINE_HEADER);
            for l in self.lines(year) {
                let _ = w.write_record(line_cells(&l));
            }
        })
    }

    /// The workbook: a sheet per view (by month, level, department, category) and the
    /// lines.
    pub(crate) fn xlsx(&self, year: i32) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        for dim in [
            CostDimension::Month,
            CostDimension::Level,
            CostDimension::Department,
            CostDimension::Category,
        ] {
            let sheet = book.add_worksheet();
            sheet.set_name(format!("by {}", dim.as_str()))?;
            let header = GROUP_HEADER.iter().filter(|h| !h.ends_with("_yuan"));
            write_row(sheet, 0, header.take(13).map(|h| Cell::Text(h)))?;
            for (n, g) in self.report(year, dim, None).groups.iter().enumerate() {
                write_row(sheet, row(n)?, group_row(g))?;
            }
        }
        let sheet = book.add_worksheet();
        sheet.set_name("lines")?;
        let header = LINE_HEADER.iter().filter(|h| !h.ends_with("_yuan"));
        write_row(sheet, 0, header.map(|h| Cell::Text(h)))?;
        for (n, l) in self.lines(year).iter().enumerate() {
            write_row(sheet, row(n)?, line_row(l))?;
        }
        book.save_to_buffer()
    }
}

/// The sheet row of the `n`th record (after the header).
fn row(n: usize) -> Result<u32, XlsxError> {
    u32::try_from(n + 1).map_err(|_| XlsxError::RowColumnLimitError)
}

/// A group's cells from its key on, as CSV text.
fn group_cells(g: &CostGroup) -> Vec<String> {
    vec![
        neutralise(&g.key.joined()).into_owned(),
        g.total_fen.to_string(),
        yuan(g.total_fen),
        g.company_paid_fen.to_string(),
        g.visitor_paid_fen.to_string(),
        g.over_cap_fen.to_string(),
        g.count.to_string(),
        g.over_cap_approved_fen.to_string(),
        g.over_cap_rejected_fen.to_string(),
        g.over_cap_pending_fen.to_string(),
        g.visitor_days.to_string(),
        opt(g.per_visitor_day_fen),
        opt(g.cap_utilisation_permille),
        g.previous_year_total_fen.to_string(),
    ]
}

/// A line's cells as CSV text.
fn line_cells(l: &CostLine) -> Vec<String> {
    let text = |s: &str| neutralise(s).into_owned();
    vec![
        l.expense_id.clone(),
        l.visit_id.clone(),
        text(&l.customer),
        text(&l.level),
        text(&l.department),
        text(&l.host),
        text(&l.category),
        text(&l.subcategory),
        text(&l.description),
        text(&l.vendor),
        rfc3339(&l.spent_at),
        l.amount_fen.to_string(),
        yuan(i128::from(l.amount_fen)),
        l.payer.clone(),
        l.cap.clone(),
        l.decision.clone(),
        l.reverses.clone().unwrap_or_default(),
    ]
}

/// A workbook cell: text, or a number (fen, counts: integers well inside the 2⁵³ a
/// spreadsheet's number holds exactly), or nothing.
enum Cell<'a> {
    Text(&'a str),
    Owned(String),
    Number(i128),
    Empty,
}

fn write_row<'a>(
    sheet: &mut Worksheet,
    row: u32,
    cells: impl IntoIterator<Item = Cell<'a>>,
) -> Result<(), XlsxError> {
    for (col, cell) in cells.into_iter().enumerate() {
        let col = col as u16;
        match cell {
            Cell::Text(t) => {
                sheet.write_string(row, col, t)?;
            }
            Cell::Owned(t) => {
                sheet.write_string(row, col, t)?;
            }
            // a spreadsheet number is a double
            #[allow(clippy::cast_precision_loss)]
            Cell::Number(n) => {
                sheet.write_number(row, col, n as f64)?;
            }
            Cell::Empty => {}
        }
    }
    Ok(())
}

fn number(n: Option<i128>) -> Cell<'static> {
    n.map_or(Cell::Empty, Cell::Number)
}

/// A group's cells, as [`GROUP_HEADER`] without the yuan column.
fn group_row(g: &CostGroup) -> Vec<Cell<'_>> {
    vec![
        Cell::Owned(g.key.joined()),
        Cell::Number(g.total_fen),
        Cell::Number(g.company_paid_fen),
        Cell::Number(g.visitor_paid_fen),
        Cell::Number(g.over_cap_fen),
        Cell::Number(g.count.into()),
        Cell::Number(g.over_cap_approved_fen),
        Cell::Number(g.over_cap_rejected_fen),
        Cell::Number(g.over_cap_pending_fen),
        Cell::Number(g.visitor_days.into()),
        number(g.per_visitor_day_fen),
        number(g.cap_utilisation_permille),
        Cell::Number(g.previous_year_total_fen),
    ]
}

/// A line's cells, as [`LINE_HEADER`] without the yuan column.
fn line_row(l: &CostLine) -> Vec<Cell<'_>> {
    vec![
        Cell::Text(&l.expense_id),
        Cell::Text(&l.visit_id),
        Cell::Text(&l.customer),
        Cell::Text(&l.level),
        Cell::Text(&l.department),
        Cell::Text(&l.host),
        Cell::Text(&l.category),
        Cell::Text(&l.subcategory),
        Cell::Text(&l.description),
        Cell::Text(&l.vendor),
        Cell::Owned(rfc3339(&l.spent_at)),
        Cell::Number(l.amount_fen.into()),
        Cell::Text(&l.payer),
        Cell::Text(&l.cap),
        Cell::Text(&l.decision),
        Cell::Text(l.reverses.as_deref().unwrap_or("")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_prefixes_are_neutralised_and_other_text_is_kept() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for good in ["Huaxin", "华信", "", "1-2", " =x"] {
            assert_eq!(neutralise(good), good);
        }
    }

    #[test]
    fn yuan_has_two_decimals_without_floats() {
        assert_eq!(yuan(12_345), "123.45");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
    }
}
