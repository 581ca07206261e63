//! What a visit is: its state (`Visit`, serialised as `GET /api/v1/visits/{id}`), the
//! commands it accepts and the events it records. The rules that judge the commands
//! are in [`crate::visit`]; the deadlines that read the state in [`crate::deadlines`].
//! Everything here is re-exported from [`crate::visit`], the path other crates use.

mod commands;
mod events;

pub use commands::*;
pub use events::*;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::Fen;
use crate::policy_book::LevelId;

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No request yet (the aggregate does not exist).
    #[default]
    New,
    /// Requested, no level yet.
    Requested,
    /// Level assigned, visitors not arrived.
    Preparing,
    /// Visitors arrived.
    OnSite,
    /// Visitors departed; follow-up (return call, summary, settlement) open.
    Departed,
    Closed,
    Cancelled,
    /// V22: an approver rejected the request.
    Rejected,
}

/// The execution plan's review status (V4). Deserialize: the board keeps it in its
/// read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    #[default]
    None,
    Drafted,
    Returned,
    Approved,
}

/// The execution plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub status: PlanStatus,
    pub items: Vec<PlanItem>,
    pub draft_no: u32,
    /// The first draft (V4's deadline is met by it).
    pub first_drafted_at: Option<DateTime<FixedOffset>>,
    pub drafted_at: Option<DateTime<FixedOffset>>,
    pub approved_at: Option<DateTime<FixedOffset>>,
    pub comments: Option<String>,
}

/// A dispatched car.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Car {
    #[serde(flatten)]
    pub dispatch: CarDispatched,
}

/// Lodging, meal and entertainment bookings with their caps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bookings {
    pub lodging: Vec<LodgingBooked>,
    pub meals: Vec<MealBooked>,
    pub entertainment: Vec<EntertainmentArranged>,
}

/// A planned souvenir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Souvenir {
    #[serde(flatten)]
    pub planned: SouvenirPlanned,
    pub handed_at: Option<DateTime<FixedOffset>>,
}

/// A cooperation matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matter {
    #[serde(flatten)]
    pub proposed: CooperationMatterProposed,
    pub confirmation: Option<CooperationMatterConfirmed>,
}

/// An approver's decision on an over-cap expense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpenseDecision {
    pub approved: bool,
    pub comments: Option<String>,
    pub decided_at: DateTime<FixedOffset>,
}

/// A recorded expense with its cap judgement and decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expense {
    #[serde(flatten)]
    pub recorded: ExpenseRecorded,
    /// `None` while pending (or when not over cap).
    pub decision: Option<ExpenseDecision>,
    /// The reversing expense, once corrected.
    pub reversed_by: Option<Uuid>,
}

impl Expense {
    /// Over cap, not decided, not reversed.
    pub fn pending_decision(&self) -> bool {
        self.recorded.over_cap && self.decision.is_none() && self.reversed_by.is_none()
    }
}

/// The cash advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advance {
    pub amount_fen: Fen,
    pub issued_at: DateTime<FixedOffset>,
    pub settlement: Option<AdvanceSettled>,
}

/// Return-call progress (V14).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReturnCallState {
    pub attempts: Vec<ReturnCallAttempted>,
    pub done: Option<ReturnCallDone>,
}

/// Where a request stands with its approvers (V22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Awaiting (further) approvals, or approvals not needed.
    #[default]
    Pending,
    /// Returned with comments: the requester amends and resubmits.
    Returned,
    Rejected,
}

/// One approval given (V22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalGiven {
    #[serde(rename = "as")]
    pub as_: ApprovalRole,
    pub approver: String,
    pub comments: Option<String>,
    pub at: DateTime<FixedOffset>,
}

/// The request's approvals (V22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestApproval {
    /// False for requests filed before approvals existed: they count as approved.
    pub required: bool,
    pub status: ApprovalStatus,
    /// Approvals given since the request was last amended.
    pub given: Vec<ApprovalGiven>,
    /// The last return's or rejection's comments.
    pub comments: Option<String>,
}

impl Default for RequestApproval {
    fn default() -> Self {
        RequestApproval {
            required: true,
            status: ApprovalStatus::Pending,
            given: Vec::new(),
            comments: None,
        }
    }
}

impl RequestApproval {
    /// Whether approval `role` was given.
    pub fn has(&self, role: ApprovalRole) -> bool {
        !self.required || self.given.iter().any(|g| g.as_ == role)
    }
}

/// A follow-up action on a confirmed cooperation matter (V28).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    #[serde(flatten)]
    pub added: FollowUpAdded,
    pub completed: Option<FollowUpCompleted>,
}

/// The state of one visit; serialised as `GET /api/v1/visits/{id}` (the read side
/// adds `flags`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Visit {
    pub id: Option<Uuid>,
    pub stage: Stage,
    pub requested_at: Option<DateTime<FixedOffset>>,
    /// V2.
    pub late: bool,
    /// customer, department, visitors, headcount, purpose, arrival, departure (as
    /// planned), needs, expedited.
    #[serde(flatten)]
    pub request: Option<RequestVisit>,
    pub level: Option<LevelId>,
    /// The policy version stamped at level assignment (V20).
    pub policy_version: Option<u32>,
    pub plan: Plan,
    pub unit_contact: Option<ReceptionUnitContacted>,
    pub readiness_confirmed_at: Option<DateTime<FixedOffset>>,
    pub host: Option<Text>,
    pub accompanying: Vec<StaffMember>,
    /// V6, V27: the host or the accompanying staff changed after arrival.
    pub staff_changed_mid_visit: bool,
    /// V22.
    pub approval: RequestApproval,
    /// V23: every reschedule, oldest first.
    pub reschedules: Vec<VisitRescheduled>,
    /// V26: the preparation tasks done (the tasks themselves derive from the request).
    pub tasks_done: Vec<TaskCompleted>,
    /// V28.
    pub follow_ups: Vec<FollowUp>,
    pub minutes: Option<MinutesSubmitted>,
    /// V29.
    pub home_receptions: Vec<HomeReceptionHeld>,
    pub cars: Vec<Car>,
    pub cars_unavailable: Vec<CarUnavailable>,
    pub bookings: Bookings,
    pub tours: Vec<TourHeld>,
    pub leader_meetings: Vec<LeaderMeetingHeld>,
    pub souvenirs: Vec<Souvenir>,
    pub matters: Vec<Matter>,
    pub talks: Vec<LeadershipTalksHeld>,
    pub arrived_at: Option<DateTime<FixedOffset>>,
    pub departed_at: Option<DateTime<FixedOffset>>,
    pub return_call: ReturnCallState,
    pub summary: Option<SummaryFiled>,
    pub expenses: Vec<Expense>,
    pub advance: Option<Advance>,
    pub preferences: Vec<CustomerPreferenceNoted>,
    pub cancelled: Option<VisitCancelled>,
    pub closed_at: Option<DateTime<FixedOffset>>,
    /// Events applied.
    pub version: u64,
}

impl Visit {
    /// The request as filed (after `exists()`).
    pub fn request(&self) -> Option<&RequestVisit> {
        self.request.as_ref()
    }

    /// Closed, cancelled or rejected.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.stage,
            Stage::Closed | Stage::Cancelled | Stage::Rejected
        )
    }

    /// V22: company spend (reversals net out) beyond the request's budget.
    pub fn over_budget(&self) -> bool {
        let Some(budget) = self.request().and_then(|r| r.budget_fen) else {
            return false;
        };
        self.company_spend_fen() > budget.fen()
    }

    /// Company-paid expenses, reversals subtracted, in fen.
    pub fn company_spend_fen(&self) -> i64 {
        self.expenses
            .iter()
            .filter(|e| e.recorded.paid_by == crate::policy_book::PaidBy::Company)
            .map(|e| {
                let f = e.recorded.amount_fen.fen();
                if e.recorded.reverses.is_some() {
                    -f
                } else {
                    f
                }
            })
            .sum()
    }
}
