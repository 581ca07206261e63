//! A visit's board row rules, from compact facts: its stage on the board and when each
//! of DOMAIN.md's board flags holds. The board keeps per visit only [`BoardFacts`]
//! (filled from stored events) and asks these functions, so that `GET /api/v1/board`
//! and `GET /api/v1/visits/{id}` (which folds the whole [`Visit`]) agree.
//!
//! [`flags_at`] of [`BoardFacts::of`] a visit is [`deadlines::visit_flags`] of it: the
//! projections' property test (`board_agrees`) checks the board against
//! `visit_flags`, `next_step` and [`board_stage`] on generated visits through the store.

use chrono::{DateTime, FixedOffset};

use crate::deadlines::{
    self, car_ready_by, estimated_home_at, readiness_due_at, return_call_due_at, summary_due_at,
    StepFacts,
};
use crate::visit::{Leg, PlanStatus, Visit};

/// The board flags, in the order a row lists them.
pub const FLAGS: [&str; 13] = [
    "late_request",
    "plan_overdue",
    "readiness_overdue",
    "car_late",
    "over_cap_pending",
    "souvenir_not_handed",
    "return_call_overdue",
    "summary_overdue",
    "staff_changed_mid_visit",
    "over_budget",
    "task_overdue",
    "follow_up_overdue",
    "rescheduled",
];

/// What a board row's flags read besides the [`StepFacts`] of the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardFacts {
    pub step: StepFacts,
    /// V2: the request was filed late.
    pub late: bool,
    /// A plan was drafted at least once (a returned plan stays drafted for V4's first
    /// draft deadline).
    pub plan_drafted_once: bool,
    /// The latest ready time of the dispatched pickup cars (V7, judged against the
    /// current arrival so that a reschedule moves it, V23).
    pub pickup_ready_at: Option<DateTime<FixedOffset>>,
    /// The latest ready time of the dispatched drop-off cars.
    pub dropoff_ready_at: Option<DateTime<FixedOffset>>,
    pub staff_changed_mid_visit: bool,
    /// V22: company spend beyond the request's budget.
    pub over_budget: bool,
    /// V26: the earliest due time of a preparation task not done.
    pub open_task_due: Option<DateTime<FixedOffset>>,
    /// V28: the earliest due time of a follow-up not done.
    pub open_follow_up_due: Option<DateTime<FixedOffset>>,
    /// V23.
    pub rescheduled: bool,
}

impl BoardFacts {
    /// The facts of `visit`; `None` for a visit that was never requested.
    pub fn of(visit: &Visit) -> Option<BoardFacts> {
        let ready_at = |leg: Leg| {
            visit
                .cars
                .iter()
                .filter(|c| c.dispatch.leg == leg)
                .map(|c| c.dispatch.ready_at)
                .max()
        };
        Some(BoardFacts {
            step: StepFacts::of(visit)?,
            late: visit.late,
            plan_drafted_once: visit.plan.first_drafted_at.is_some(),
            pickup_ready_at: ready_at(Leg::Pickup),
            dropoff_ready_at: ready_at(Leg::Dropoff),
            staff_changed_mid_visit: visit.staff_changed_mid_visit,
            over_budget: visit.over_budget(),
            open_task_due: deadlines::first_open_task_due(visit),
            open_follow_up_due: deadlines::first_open_follow_up_due(visit),
            rescheduled: !visit.reschedules.is_empty(),
        })
    }
}

/// When a flag holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagTime {
    Never,
    Always,
    /// Once `now` is past this instant.
    After(DateTime<FixedOffset>),
}

impl FlagTime {
    /// `Always` when `cond` holds, else `Never`.
    pub fn of(cond: bool) -> FlagTime {
        if cond {
            FlagTime::Always
        } else {
            FlagTime::Never
        }
    }

    /// The earlier of two (`Always` before any instant, `Never` after all).
    fn or(self, other: FlagTime) -> FlagTime {
        match (self, other) {
            (FlagTime::Always, _) | (_, FlagTime::Always) => FlagTime::Always,
            (FlagTime::Never, x) | (x, FlagTime::Never) => x,
            (FlagTime::After(a), FlagTime::After(b)) => FlagTime::After(a.min(b)),
        }
    }

    /// `After(t)` when `t` is known, else `Never`.
    fn after(t: Option<DateTime<FixedOffset>>) -> FlagTime {
        t.map_or(FlagTime::Never, FlagTime::After)
    }

    /// Whether the flag holds at `now`.
    pub fn holds(self, now: DateTime<FixedOffset>) -> bool {
        match self {
            FlagTime::Never => false,
            FlagTime::Always => true,
            FlagTime::After(t) => now > t,
        }
    }
}

/// When each of [`FLAGS`] holds for a visit with these facts (the rules of
/// [`deadlines::visit_flags`], as instants rather than at one `now`, so a board can tell
/// when its answer next changes). A finished visit keeps only the flags of its history.
pub fn flag_times(f: &BoardFacts) -> [FlagTime; 13] {
    use FlagTime::{Always, Never};
    let s = &f.step;
    let active = !s.finished;
    let arrived = s.arrived;
    let departed = s.departed_at.is_some();
    let plan = if !active || s.plan == PlanStatus::Approved {
        Never
    } else if arrived {
        Always
    } else {
        let first_draft = if f.plan_drafted_once {
            Never
        } else {
            FlagTime::after(s.requested_at.map(deadlines::plan_due_at))
        };
        first_draft.or(FlagTime::After(s.arrival))
    };
    let readiness = if active && !arrived && !s.readiness_confirmed {
        FlagTime::after(readiness_due_at(s.arrival))
    } else {
        Never
    };
    let car = if !active {
        Never
    } else {
        let late = |ready: Option<DateTime<FixedOffset>>, leg_at| {
            ready.is_some_and(|r| r > car_ready_by(leg_at))
        };
        let dispatched_late = (late(f.pickup_ready_at, s.arrival) && !arrived)
            || (late(f.dropoff_ready_at, s.departure) && !departed);
        let pickup_missing = if s.pickup_uncovered && !arrived {
            FlagTime::After(car_ready_by(s.arrival))
        } else {
            Never
        };
        let dropoff_missing = if s.dropoff_uncovered && !departed {
            FlagTime::After(car_ready_by(s.departure))
        } else {
            Never
        };
        FlagTime::of(dispatched_late)
            .or(pickup_missing)
            .or(dropoff_missing)
    };
    let (return_call, summary) = match s.departed_at {
        Some(left) if active => {
            let home = estimated_home_at(s.arrives_home_at, Some(left), s.departure);
            let call = if s.return_call_done {
                Never
            } else {
                FlagTime::After(return_call_due_at(home))
            };
            let summary = if s.summary_filed {
                Never
            } else {
                FlagTime::After(summary_due_at(left))
            };
            (call, summary)
        }
        _ => (Never, Never),
    };
    [
        FlagTime::of(f.late),
        plan,
        readiness,
        car,
        FlagTime::of(s.expense_pending_decision),
        FlagTime::of(active && departed && s.souvenir_unhanded),
        return_call,
        summary,
        FlagTime::of(f.staff_changed_mid_visit),
        FlagTime::of(f.over_budget),
        if active && !arrived {
            FlagTime::after(f.open_task_due)
        } else {
            Never
        },
        FlagTime::after(f.open_follow_up_due),
        FlagTime::of(active && f.rescheduled),
    ]
}

/// The flags holding at `now`, in [`FLAGS`] order.
pub fn flags_at(f: &BoardFacts, now: DateTime<FixedOffset>) -> Vec<String> {
    FLAGS
        .iter()
        .zip(flag_times(f))
        .filter(|(_, w)| w.holds(now))
        .map(|(name, _)| (*name).to_string())
        .collect()
}

/// Every stage a board row can show, in process order.
pub const BOARD_STAGES: [&str; 7] = [
    "requested",
    "level_assigned",
    "plan_drafted",
    "plan_approved",
    "ready",
    "on_site",
    "departed",
];

/// The board's stage of an open visit: the furthest of departed, on site, readiness
/// confirmed, plan approved, plan drafted (awaiting review), level assigned, requested.
pub fn board_stage(f: &StepFacts) -> &'static str {
    if f.departed_at.is_some() {
        "departed"
    } else if f.arrived {
        "on_site"
    } else if f.readiness_confirmed {
        "ready"
    } else if f.plan == PlanStatus::Approved {
        "plan_approved"
    } else if f.plan == PlanStatus::Drafted {
        "plan_drafted"
    } else if f.level_assigned {
        "level_assigned"
    } else {
        "requested"
    }
}
