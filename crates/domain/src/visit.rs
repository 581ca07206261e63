//! The visit aggregate (stream `visit-<uuid>`): one customer visit from reception
//! request to close, with every visit rule V1–V21 of DOMAIN.md in [`Visit::decide`].
//!
//! Roles follow API.md's table. `admin` may issue every command as an operator
//! convenience, but an `override` may only be sent by an `approver` (API.md: 403
//! otherwise), who may then issue the command that carries it.
//!
//! Context conventions: for `request`, `ctx.entity_id` is the new visit's id; for the
//! commands that create an entity (`creates_entity()`), it is that entity's id.

mod commands;
mod events;

pub use commands::*;
pub use events::*;

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::{Aggregate, Context, DomainCommand, DomainError, Fen, Role};
use crate::policy::{CapKind, LevelId, LevelPolicy, PaidBy};

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
    /// V6: the host changed after arrival.
    pub staff_changed_mid_visit: bool,
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

/// V2 lead times.
const LEAD_TIME: i64 = 24;
const LEAD_TIME_FOREIGN_DAYS: i64 = 7;
/// V7: a car is ready this many minutes before arrival/departure.
pub const CAR_READY_MINUTES: i64 = 15;
/// V14: the return call is due this long after the visitors are home.
pub const RETURN_CALL_HOURS: i64 = 24;
/// V14: without a known arrival-home time, home = departure + 4 h.
pub const HOME_AFTER_DEPARTURE_HOURS: i64 = 4;
/// V14: failed attempts that count as done.
pub const RETURN_CALL_MAX_ATTEMPTS: u32 = 3;
/// V15: the summary is due this long after departure.
pub const SUMMARY_HOURS: i64 = 48;
/// V4: the plan is due this long after the request.
pub const PLAN_HOURS: i64 = 24;

impl Visit {
    /// The request as filed (after `exists()`).
    pub fn request(&self) -> Option<&RequestVisit> {
        self.request.as_ref()
    }

    /// Closed or cancelled.
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Closed | Stage::Cancelled)
    }

    /// V5 deadline: the start of the arrival day in the arrival's offset (i.e. the end
    /// of the day before arrival).
    pub fn readiness_due(&self) -> Option<DateTime<FixedOffset>> {
        crate::deadlines::readiness_due_at(self.request.as_ref()?.arrival.at)
    }

    /// V4 deadline: request + 24 h.
    pub fn plan_due(&self) -> Option<DateTime<FixedOffset>> {
        Some(crate::deadlines::plan_due_at(self.requested_at?))
    }

    /// V14: when the visitors are estimated home: the departure transport's arrival
    /// time when known, else departure + 4 h (recorded departure, else planned).
    pub fn estimated_home(&self) -> Option<DateTime<FixedOffset>> {
        let dep = &self.request.as_ref()?.departure;
        Some(crate::deadlines::estimated_home_at(
            dep.arrives_home_at,
            self.departed_at,
            dep.at,
        ))
    }

    /// V14 deadline.
    pub fn return_call_due(&self) -> Option<DateTime<FixedOffset>> {
        Some(crate::deadlines::return_call_due_at(self.estimated_home()?))
    }

    /// V15 deadline (after the recorded departure).
    pub fn summary_due(&self) -> Option<DateTime<FixedOffset>> {
        Some(crate::deadlines::summary_due_at(self.departed_at?))
    }

    fn open(&self) -> Result<(), DomainError> {
        match self.stage {
            Stage::Closed => Err(DomainError::rule(
                "V21",
                "the visit is closed; it accepts no more commands",
            )),
            Stage::Cancelled => Err(DomainError::rule(
                "V21",
                "the visit is cancelled; it accepts no more commands",
            )),
            _ => Ok(()),
        }
    }

    fn not_departed(&self, what: &str) -> Result<(), DomainError> {
        if self.departed_at.is_some() {
            return Err(DomainError::state(format!(
                "the visitors have departed; cannot {what}"
            )));
        }
        Ok(())
    }

    /// V3 and V20: the assigned level under the stamped policy version.
    fn level_policy<'a>(
        &self,
        ctx: &'a Context,
        what: &str,
    ) -> Result<(&'a LevelPolicy, LevelId, u32), DomainError> {
        let (Some(level), Some(version)) = (self.level.clone(), self.policy_version) else {
            return Err(DomainError::rule(
                "V3",
                format!("assign a level before {what}"),
            ));
        };
        let policy = ctx.policies.version(version).ok_or_else(|| {
            DomainError::state(format!(
                "policy version {version} stamped on the visit is unknown"
            ))
        })?;
        let lp = policy.level(&level).ok_or_else(|| {
            DomainError::state(format!("level {level} is not in policy version {version}"))
        })?;
        Ok((lp, level, version))
    }

    fn cap_for_booking(
        &self,
        booking_id: Uuid,
        category: ExpenseCategory,
        ctx: &Context,
    ) -> Result<Option<Fen>, DomainError> {
        let (lp, _, _) = self.level_policy(ctx, "judging an expense")?;
        let wrong = |kind: &str| {
            DomainError::invalid(
                "booking_id",
                format!("booking {booking_id} is a {kind} booking, not {category:?}"),
            )
            .with_rule("V17")
        };
        if let Some(b) = self
            .bookings
            .meals
            .iter()
            .find(|b| b.booking_id == booking_id)
        {
            if category != ExpenseCategory::Meal {
                return Err(wrong("meal"));
            }
            return Ok(lp.cap_for(meal_cap(b.meal), b.party_size.get()));
        }
        if let Some(b) = self
            .bookings
            .entertainment
            .iter()
            .find(|b| b.booking_id == booking_id)
        {
            if category != ExpenseCategory::Entertainment {
                return Err(wrong("entertainment"));
            }
            return Ok(Some(
                lp.cap_for(CapKind::Entertainment, b.party_size.get())
                    .unwrap_or(Fen::ZERO),
            ));
        }
        if let Some(b) = self
            .bookings
            .lodging
            .iter()
            .find(|b| b.booking_id == booking_id)
        {
            if category != ExpenseCategory::Lodging {
                return Err(wrong("lodging"));
            }
            return Ok(lp.lodging_cap(b.rooms.get(), b.nights.get()));
        }
        Err(DomainError::not_found(
            "booking_id",
            format!("no booking {booking_id} in this visit"),
        ))
    }

    /// Company spending already recorded against a booking (reversed expenses and
    /// reversals excluded).
    fn spent_on(&self, booking_id: Uuid) -> Fen {
        self.expenses
            .iter()
            .filter(|e| {
                e.recorded.booking_id == Some(booking_id)
                    && e.recorded.paid_by == PaidBy::Company
                    && e.recorded.reverses.is_none()
                    && e.reversed_by.is_none()
            })
            .fold(Fen::ZERO, |acc, e| {
                acc.checked_add(e.recorded.amount_fen).unwrap_or(acc)
            })
    }
}

fn meal_cap(m: MealKind) -> CapKind {
    match m {
        MealKind::Lunch => CapKind::Lunch,
        MealKind::Dinner => CapKind::Dinner,
    }
}

fn yuan(f: Fen) -> String {
    format!("{}.{:02} yuan", f.fen() / 100, f.fen() % 100)
}

fn authorize(cmd: &VisitCommand, ctx: &Context) -> Result<(), DomainError> {
    let role = ctx.actor.role;
    if cmd.override_().is_some() {
        if role != Role::Approver {
            return Err(DomainError::forbidden(format!(
                "only an approver may send `override`; role {} may not",
                role.as_str()
            ))
            .with_field("override"));
        }
        return Ok(());
    }
    if !cmd.allowed_roles().contains(&role) {
        let allowed: Vec<&str> = cmd.allowed_roles().iter().map(|r| r.as_str()).collect();
        return Err(DomainError::forbidden(format!(
            "role {} may not {}; allowed: {}",
            role.as_str(),
            cmd.name(),
            allowed.join(", ")
        )));
    }
    Ok(())
}

/// Rejects a policy break unless an approver's override is present (the caller has
/// already checked that only approvers send overrides).
fn breach(
    rule: &str,
    field: &str,
    message: String,
    ovr: &Option<Override>,
) -> Result<bool, DomainError> {
    if ovr.is_some() {
        Ok(true)
    } else {
        Err(DomainError::rule(
            rule,
            format!("{message}; an approver may override with a reason"),
        )
        .with_field(field))
    }
}

impl Aggregate for Visit {
    type Command = VisitCommand;
    type Event = VisitEvent;
    const KIND: &'static str = "visit";

    fn version(&self) -> u64 {
        self.version
    }

    fn exists(&self) -> bool {
        self.stage != Stage::New
    }

    fn decide(&self, command: VisitCommand, ctx: &Context) -> Result<Vec<VisitEvent>, DomainError> {
        authorize(&command, ctx)?;
        let now = ctx.now;
        if let VisitCommand::Request(req) = command {
            if self.exists() {
                return Err(DomainError::state("this visit was already requested"));
            }
            return decide_request(req, ctx);
        }
        if !self.exists() {
            return Err(DomainError::not_found("visit", "no such visit"));
        }
        if !matches!(command, VisitCommand::DecideExpense(_)) {
            self.open()?;
        }
        let req = self
            .request
            .as_ref()
            .expect("an existing visit has its request");
        let ev = match command {
            VisitCommand::Request(_) => unreachable!("handled above"),
            VisitCommand::AssignLevel(c) => {
                if self.level.is_some() {
                    return Err(DomainError::state(
                        "a level is already assigned; use change-level",
                    )
                    .with_rule("V3"));
                }
                let (level, version) = stamp(&c.level, ctx)?;
                VisitEvent::LevelAssigned(LevelAssigned {
                    level,
                    policy_version: version,
                    assigned_at: now,
                })
            }
            VisitCommand::ChangeLevel(c) => {
                let Some(previous) = self.level.clone() else {
                    return Err(
                        DomainError::state("no level assigned yet; use assign-level")
                            .with_rule("V3"),
                    );
                };
                if self.arrived_at.is_some() {
                    return Err(DomainError::rule(
                        "V3",
                        "the level cannot change after the visitors arrived",
                    ));
                }
                if previous == c.level {
                    return Err(DomainError::invalid(
                        "level",
                        format!("the visit is already at level {previous}"),
                    ));
                }
                let (level, version) = stamp(&c.level, ctx)?;
                VisitEvent::LevelChanged(LevelChanged {
                    level,
                    previous_level: previous,
                    policy_version: version,
                    reason: c.reason,
                    changed_at: now,
                })
            }
            VisitCommand::DraftPlan(c) => {
                if c.items.is_empty() {
                    return Err(DomainError::invalid(
                        "items",
                        "a plan needs at least one item",
                    ));
                }
                if self.arrived_at.is_some() {
                    return Err(DomainError::rule(
                        "V4",
                        "the plan must be approved before arrival; the visitors have arrived",
                    ));
                }
                if self.plan.status == PlanStatus::Approved {
                    return Err(DomainError::state("the plan is already approved"));
                }
                VisitEvent::PlanDrafted(PlanDrafted {
                    items: c.items,
                    draft_no: self.plan.draft_no + 1,
                    drafted_at: now,
                })
            }
            VisitCommand::ReviewPlan(c) => {
                match self.plan.status {
                    PlanStatus::None => {
                        return Err(DomainError::rule("V4", "no plan has been drafted yet"))
                    }
                    PlanStatus::Returned => {
                        return Err(DomainError::rule(
                            "V4",
                            "a returned plan must be redrafted before it is reviewed again",
                        ))
                    }
                    PlanStatus::Approved => {
                        return Err(DomainError::state("the plan is already approved"))
                    }
                    PlanStatus::Drafted => {}
                }
                if self.arrived_at.is_some() {
                    return Err(DomainError::rule(
                        "V4",
                        "the plan must be approved before arrival; the visitors have arrived",
                    ));
                }
                if !c.approved && c.comments.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    return Err(DomainError::invalid(
                        "comments",
                        "a returned plan needs comments saying what to change",
                    ));
                }
                VisitEvent::PlanReviewed(PlanReviewed {
                    approved: c.approved,
                    comments: c.comments,
                    draft_no: self.plan.draft_no,
                    reviewed_at: now,
                })
            }
            VisitCommand::ContactUnit(c) => {
                self.not_departed("contact the reception unit")?;
                VisitEvent::ReceptionUnitContacted(ReceptionUnitContacted {
                    confirmed_headcount: c.confirmed_headcount,
                    notes: c.notes,
                    contacted_at: now,
                })
            }
            VisitCommand::ConfirmReadiness(c) => {
                if self.arrived_at.is_some() {
                    return Err(DomainError::rule(
                        "V5",
                        "readiness is confirmed before arrival; the visitors have arrived",
                    ));
                }
                if self.readiness_confirmed_at.is_some() {
                    return Err(DomainError::state("readiness is already confirmed"));
                }
                let late = self.readiness_due().is_some_and(|due| now > due);
                VisitEvent::ReadinessConfirmed(ReadinessConfirmed {
                    notes: c.notes,
                    confirmed_at: now,
                    late,
                })
            }
            VisitCommand::AssignStaff(c) => {
                self.not_departed("assign staff")?;
                let (lp, level, _) = self.level_policy(ctx, "assigning staff")?;
                if self.host.is_some() {
                    return Err(DomainError::state(
                        "a host is already assigned (exactly one host); use reassign-host",
                    )
                    .with_rule("V6"));
                }
                for (i, m) in c.accompanying.iter().enumerate() {
                    if !lp.allows_role(m.role.as_str()) {
                        breach(
                            "V6",
                            &format!("accompanying[{i}].role"),
                            format!(
                                "role {} may not accompany a {level} visit (allowed: {})",
                                m.role.as_str(),
                                lp.accompanying_roles.join(", ")
                            ),
                            &c.override_,
                        )?;
                    }
                }
                VisitEvent::StaffAssigned(StaffAssigned {
                    host: c.host,
                    accompanying: c.accompanying,
                    override_: c.override_,
                    assigned_at: now,
                })
            }
            VisitCommand::ReassignHost(c) => {
                self.not_departed("reassign the host")?;
                let Some(previous) = self.host.clone() else {
                    return Err(DomainError::state("no host assigned yet; use assign-staff")
                        .with_rule("V6"));
                };
                if previous == c.host {
                    return Err(DomainError::invalid(
                        "host",
                        format!("{previous} is already the host"),
                    ));
                }
                let mid_visit = self.arrived_at.is_some();
                if mid_visit && c.reason.is_none() {
                    return Err(DomainError::rule(
                        "V6",
                        "changing the host after arrival needs a reason",
                    )
                    .with_field("reason"));
                }
                VisitEvent::HostReassigned(HostReassigned {
                    host: c.host,
                    previous_host: previous,
                    reason: c.reason,
                    mid_visit,
                    reassigned_at: now,
                })
            }
            VisitCommand::DispatchCar(c) => {
                self.not_departed("dispatch a car")?;
                let (lp, level, _) = self.level_policy(ctx, "dispatching a car")?;
                if c.leg == Leg::Pickup {
                    if c.number.is_none() {
                        return Err(DomainError::rule(
                            "V7",
                            "a pickup names the flight or train number",
                        )
                        .with_field("number"));
                    }
                    if c.place.is_none() {
                        return Err(
                            DomainError::rule("V7", "a pickup names the place").with_field("place")
                        );
                    }
                }
                if !lp.allows_vehicle(c.vehicle_class.as_str()) {
                    breach(
                        "V7",
                        "vehicle_class",
                        format!(
                            "vehicle class {} is not allowed for a {level} visit (allowed: {})",
                            c.vehicle_class.as_str(),
                            lp.vehicle_classes.join(", ")
                        ),
                        &c.override_,
                    )?;
                }
                let ready_by = match c.leg {
                    Leg::Pickup => Some(crate::deadlines::car_ready_by(req.arrival.at)),
                    Leg::Dropoff => Some(crate::deadlines::car_ready_by(req.departure.at)),
                    Leg::Local => None,
                };
                let late = ready_by.is_some_and(|by| c.ready_at > by);
                VisitEvent::CarDispatched(CarDispatched {
                    car_id: ctx.entity_id,
                    leg: c.leg,
                    vehicle_class: c.vehicle_class,
                    driver: c.driver,
                    plate: c.plate,
                    ready_at: c.ready_at,
                    place: c.place,
                    number: c.number,
                    override_: c.override_,
                    ready_by,
                    late,
                })
            }
            VisitCommand::CarUnavailable(c) => {
                self.not_departed("record a missing car")?;
                self.level_policy(ctx, "dispatching a car")?;
                VisitEvent::CarUnavailable(CarUnavailable {
                    leg: c.leg,
                    advised_transport: c.advised_transport,
                })
            }
            VisitCommand::BookLodging(c) => {
                self.not_departed("book lodging")?;
                let (lp, level, version) = self.level_policy(ctx, "booking lodging")?;
                if !(1..=5).contains(&c.stars) {
                    return Err(DomainError::invalid(
                        "stars",
                        format!("stars run from 1 to 5, got {}", c.stars),
                    ));
                }
                let total_fen = c
                    .rate_fen
                    .checked_mul(i64::from(c.rooms.get()))
                    .and_then(|f| f.checked_mul(i64::from(c.nights.get())))
                    .ok_or_else(|| {
                        DomainError::invalid("rate_fen", "rate × rooms × nights is too large")
                    })?;
                let mut over_cap = false;
                let cap_fen = match c.paid_by {
                    PaidBy::Visitor => None,
                    PaidBy::Company => {
                        let pol = &lp.lodging;
                        if pol.paid_by == PaidBy::Visitor {
                            over_cap |= breach(
                                "V8",
                                "paid_by",
                                format!("at level {level} the visitor pays lodging; a company-paid booking breaks the policy"),
                                &c.override_,
                            )?;
                        } else {
                            if pol.min_stars.is_some_and(|m| c.stars < m)
                                || pol.max_stars.is_some_and(|m| c.stars > m)
                            {
                                over_cap |= breach(
                                    "V8",
                                    "stars",
                                    format!(
                                        "level {level} lodging must be {}–{} stars, got {}",
                                        pol.min_stars.unwrap_or(1),
                                        pol.max_stars.unwrap_or(5),
                                        c.stars
                                    ),
                                    &c.override_,
                                )?;
                            }
                            let lo = pol.min_rate_fen.unwrap_or(Fen::ZERO);
                            let too_high = pol.max_rate_fen.is_some_and(|m| c.rate_fen > m);
                            if c.rate_fen < lo || too_high {
                                over_cap |= breach(
                                    "V8",
                                    "rate_fen",
                                    format!(
                                        "level {level} room rate must be {}–{} per room-night, got {}",
                                        yuan(lo),
                                        pol.max_rate_fen.map_or("unbounded".into(), yuan),
                                        yuan(c.rate_fen)
                                    ),
                                    &c.override_,
                                )?;
                            }
                        }
                        lp.lodging_cap(c.rooms.get(), c.nights.get())
                    }
                };
                VisitEvent::LodgingBooked(LodgingBooked {
                    booking_id: ctx.entity_id,
                    hotel: c.hotel,
                    stars: c.stars,
                    rooms: c.rooms,
                    nights: c.nights,
                    rate_fen: c.rate_fen,
                    paid_by: c.paid_by,
                    override_: c.override_,
                    total_fen,
                    cap_fen,
                    over_cap,
                    level,
                    policy_version: version,
                })
            }
            VisitCommand::HoldTour(c) => VisitEvent::TourHeld(TourHeld {
                at: c.at,
                place: c.place,
                title: c.title,
            }),
            VisitCommand::HoldLeaderMeeting(c) => {
                VisitEvent::LeaderMeetingHeld(LeaderMeetingHeld {
                    at: c.at,
                    place: c.place,
                    leader: c.leader,
                })
            }
            VisitCommand::BookMeal(c) => {
                self.not_departed("book a meal")?;
                let (lp, level, version) = self.level_policy(ctx, "booking a meal")?;
                let cap = lp
                    .cap_for(meal_cap(c.meal), c.party_size.get())
                    .ok_or_else(|| {
                        DomainError::invalid("party_size", "party too large to compute a cap")
                    })?;
                let over_cap = c.budget_fen > cap
                    && breach(
                        "V9",
                        "budget_fen",
                        format!(
                            "a {level} {:?} for {} visitors is capped at {}; budget {} is over",
                            c.meal,
                            c.party_size.get(),
                            yuan(cap),
                            yuan(c.budget_fen)
                        )
                        .to_lowercase(),
                        &c.override_,
                    )?;
                VisitEvent::MealBooked(MealBooked {
                    booking_id: ctx.entity_id,
                    meal: c.meal,
                    at: c.at,
                    venue: c.venue,
                    party_size: c.party_size,
                    budget_fen: c.budget_fen,
                    override_: c.override_,
                    cap_fen: Some(cap),
                    over_cap,
                    level,
                    policy_version: version,
                })
            }
            VisitCommand::ArrangeEntertainment(c) => {
                self.not_departed("arrange entertainment")?;
                let (lp, level, version) = self.level_policy(ctx, "arranging entertainment")?;
                let (cap, over_cap) = match lp.cap_for(CapKind::Entertainment, c.party_size.get()) {
                    None => (
                        Fen::ZERO,
                        breach(
                            "V9",
                            "kind",
                            format!("level {level} provides no entertainment or sightseeing"),
                            &c.override_,
                        )?,
                    ),
                    Some(cap) => (
                        cap,
                        c.budget_fen > cap
                            && breach(
                                "V9",
                                "budget_fen",
                                format!(
                                    "{level} entertainment for {} visitors is capped at {}; budget {} is over",
                                    c.party_size.get(),
                                    yuan(cap),
                                    yuan(c.budget_fen)
                                ),
                                &c.override_,
                            )?,
                    ),
                };
                VisitEvent::EntertainmentArranged(EntertainmentArranged {
                    booking_id: ctx.entity_id,
                    at: c.at,
                    kind: c.kind,
                    party_size: c.party_size,
                    budget_fen: c.budget_fen,
                    override_: c.override_,
                    cap_fen: Some(cap),
                    over_cap,
                    level,
                    policy_version: version,
                })
            }
            VisitCommand::PlanSouvenir(c) => {
                self.not_departed("plan a souvenir")?;
                let (lp, level, _) = self.level_policy(ctx, "planning souvenirs")?;
                if !lp.souvenirs {
                    return Err(DomainError::rule(
                        "V10",
                        format!("level {level} gets no souvenirs"),
                    ));
                }
                let total_fen = c
                    .unit_cost_fen
                    .checked_mul(i64::from(c.quantity.get()))
                    .ok_or_else(|| {
                        DomainError::invalid("unit_cost_fen", "unit cost × quantity is too large")
                    })?;
                VisitEvent::SouvenirPlanned(SouvenirPlanned {
                    souvenir_id: ctx.entity_id,
                    item: c.item,
                    unit_cost_fen: c.unit_cost_fen,
                    quantity: c.quantity,
                    total_fen,
                })
            }
            VisitCommand::HandSouvenir(c) => {
                let s = self
                    .souvenirs
                    .iter()
                    .find(|s| s.planned.souvenir_id == c.souvenir_id)
                    .ok_or_else(|| {
                        DomainError::not_found(
                            "souvenir_id",
                            format!("no souvenir {} in this visit", c.souvenir_id),
                        )
                    })?;
                if s.handed_at.is_some() {
                    return Err(DomainError::state("this souvenir was already handed over"));
                }
                VisitEvent::SouvenirHanded(SouvenirHanded {
                    souvenir_id: c.souvenir_id,
                    handed_at: now,
                })
            }
            VisitCommand::ProposeMatter(c) => {
                VisitEvent::CooperationMatterProposed(CooperationMatterProposed {
                    matter_id: ctx.entity_id,
                    by: c.by,
                    text: c.text,
                })
            }
            VisitCommand::ConfirmMatter(c) => {
                let m = self
                    .matters
                    .iter()
                    .find(|m| m.proposed.matter_id == c.matter_id)
                    .ok_or_else(|| {
                        DomainError::not_found(
                            "matter_id",
                            format!("no cooperation matter {}", c.matter_id),
                        )
                    })?;
                if m.confirmation.is_some() {
                    return Err(DomainError::state("this matter is already confirmed"));
                }
                let need = |field: &str, v: Option<String>, what: &str| {
                    v.and_then(|s| Text::try_from(s).ok()).ok_or_else(|| {
                        DomainError::rule("V11", format!("a matter is confirmed only with {what}"))
                            .with_field(field)
                    })
                };
                let company = need(
                    "company_confirmed_by",
                    c.company_confirmed_by,
                    "the company's confirmation",
                )?;
                let visitor = need(
                    "visitor_confirmed_by",
                    c.visitor_confirmed_by,
                    "the visitor's confirmation",
                )?;
                let record = need("record_ref", c.record_ref, "a written record reference")?;
                VisitEvent::CooperationMatterConfirmed(CooperationMatterConfirmed {
                    matter_id: c.matter_id,
                    company_confirmed_by: company,
                    visitor_confirmed_by: visitor,
                    record_ref: record,
                })
            }
            VisitCommand::HoldTalks(c) => {
                if !self.matters.iter().any(|m| m.confirmation.is_some()) {
                    return Err(DomainError::rule(
                        "V12",
                        "leadership talks need at least one cooperation matter confirmed by both sides",
                    ));
                }
                VisitEvent::LeadershipTalksHeld(LeadershipTalksHeld {
                    at: c.at,
                    outcome: c.outcome,
                })
            }
            VisitCommand::RecordArrival(c) => {
                if self.arrived_at.is_some() {
                    return Err(DomainError::state("the arrival is already recorded"));
                }
                VisitEvent::VisitorsArrived(AtFact { at: c.at })
            }
            VisitCommand::RecordDeparture(c) => {
                let Some(arrived) = self.arrived_at else {
                    return Err(DomainError::rule(
                        "V13",
                        "departure is recorded only after arrival",
                    ));
                };
                if self.departed_at.is_some() {
                    return Err(DomainError::state("the departure is already recorded"));
                }
                if c.at < arrived {
                    return Err(DomainError::rule(
                        "V13",
                        format!(
                            "departure {} is before arrival {}",
                            c.at.to_rfc3339(),
                            arrived.to_rfc3339()
                        ),
                    )
                    .with_field("at"));
                }
                VisitEvent::VisitorsDeparted(AtFact { at: c.at })
            }
            VisitCommand::ReturnCall(c) => {
                if self.departed_at.is_none() {
                    return Err(DomainError::rule(
                        "V14",
                        "the return call follows the visitors' departure",
                    ));
                }
                if self.return_call.done.is_some() {
                    return Err(DomainError::state("the return call is already done"));
                }
                if c.reached && c.satisfaction.is_none() {
                    return Err(DomainError::invalid(
                        "satisfaction",
                        "a reached customer's satisfaction 1–5 is required",
                    ));
                }
                let attempt_no = self.return_call.attempts.len() as u32 + 1;
                let attempt = ReturnCallAttempted {
                    attempt_id: ctx.entity_id,
                    attempt_no,
                    reached: c.reached,
                    at: now,
                };
                let unreachable = !c.reached && attempt_no >= RETURN_CALL_MAX_ATTEMPTS;
                let mut out = vec![VisitEvent::ReturnCallAttempted(attempt)];
                if c.reached || unreachable {
                    out.push(VisitEvent::ReturnCallDone(ReturnCallDone {
                        attempt_id: ctx.entity_id,
                        reached: c.reached,
                        unreachable,
                        products: c.products,
                        corporate_image: c.corporate_image,
                        reception: c.reception,
                        satisfaction: c.satisfaction,
                        at: now,
                    }));
                }
                return Ok(out);
            }
            VisitCommand::FileSummary(c) => {
                if self.departed_at.is_none() {
                    return Err(DomainError::rule(
                        "V15",
                        "the summary is filed after departure",
                    ));
                }
                if self.summary.is_some() {
                    return Err(DomainError::state("the summary is already filed"));
                }
                let to_gm = match self.level_policy(ctx, "filing the summary") {
                    Ok((lp, _, _)) => lp.summary_to_general_manager,
                    Err(_) => false,
                };
                let mut recipients = c.recipients;
                if to_gm && !recipients.iter().any(|r| r.as_str() == "general_manager") {
                    recipients.push(Text::parse("recipients", "general_manager")?);
                }
                VisitEvent::SummaryFiled(SummaryFiled {
                    results: c.results,
                    outcomes: c.outcomes,
                    opinions: c.opinions,
                    recipients,
                    to_general_manager: to_gm,
                    filed_at: now,
                })
            }
            VisitCommand::RecordExpense(c) => self.decide_expense_recorded(c, ctx)?,
            VisitCommand::DecideExpense(c) => {
                let e = self
                    .expenses
                    .iter()
                    .find(|e| e.recorded.expense_id == c.expense_id)
                    .ok_or_else(|| {
                        DomainError::not_found(
                            "expense_id",
                            format!("no expense {} in this visit", c.expense_id),
                        )
                    })?;
                if !e.recorded.over_cap {
                    return Err(DomainError::state(
                        "this expense is within its cap; only over-cap expenses are decided",
                    )
                    .with_rule("V17"));
                }
                if e.decision.is_some() {
                    return Err(DomainError::state("this expense is already decided"));
                }
                if !c.approved && c.comments.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    return Err(DomainError::invalid(
                        "comments",
                        "a rejection needs comments (the spender reimburses)",
                    ));
                }
                let d = ExpenseDecided {
                    expense_id: c.expense_id,
                    comments: c.comments,
                    decided_at: now,
                };
                if c.approved {
                    VisitEvent::ExpenseApproved(d)
                } else {
                    VisitEvent::ExpenseRejected(d)
                }
            }
            VisitCommand::IssueAdvance(c) => {
                if c.amount_fen == Fen::ZERO {
                    return Err(DomainError::invalid(
                        "amount_fen",
                        "an advance must be more than 0",
                    ));
                }
                if self.advance.is_some() {
                    return Err(DomainError::state("a cash advance was already issued"));
                }
                if self.arrived_at.is_some() {
                    return Err(DomainError::rule(
                        "V18",
                        "the cash advance is issued before the visit",
                    ));
                }
                VisitEvent::AdvanceIssued(AdvanceIssued {
                    amount_fen: c.amount_fen,
                    issued_at: now,
                })
            }
            VisitCommand::SettleAdvance(c) => {
                let Some(adv) = &self.advance else {
                    return Err(DomainError::rule("V18", "no cash advance was issued"));
                };
                if adv.settlement.is_some() {
                    return Err(DomainError::state("the cash advance is already settled"));
                }
                if self.departed_at.is_none() {
                    return Err(DomainError::rule(
                        "V18",
                        "the advance is settled after departure",
                    ));
                }
                let sum = c
                    .receipts_fen
                    .checked_add(c.cash_returned_fen)
                    .ok_or_else(|| DomainError::invalid("receipts_fen", "too large"))?;
                if sum != adv.amount_fen {
                    return Err(DomainError::rule(
                        "V18",
                        format!(
                            "receipts {} + cash returned {} = {} must equal the advance {}",
                            yuan(c.receipts_fen),
                            yuan(c.cash_returned_fen),
                            yuan(sum),
                            yuan(adv.amount_fen)
                        ),
                    )
                    .with_field("receipts_fen"));
                }
                VisitEvent::AdvanceSettled(AdvanceSettled {
                    advance_fen: adv.amount_fen,
                    receipts_fen: c.receipts_fen,
                    cash_returned_fen: c.cash_returned_fen,
                    returned_items: c.returned_items,
                    settled_at: now,
                })
            }
            VisitCommand::NotePreference(c) => {
                VisitEvent::CustomerPreferenceNoted(CustomerPreferenceNoted {
                    subject: c.subject,
                    kind: c.kind,
                    text: c.text,
                    company: req.customer.company.clone(),
                    noted_at: now,
                })
            }
            VisitCommand::Cancel(c) => {
                if self.departed_at.is_some() {
                    return Err(DomainError::rule(
                        "V19",
                        "a visit can be cancelled only before departure",
                    ));
                }
                VisitEvent::VisitCancelled(VisitCancelled {
                    reason: c.reason,
                    cancelled_at: now,
                })
            }
            VisitCommand::Close(_) => {
                let mut missing = Vec::new();
                if self.departed_at.is_none() {
                    missing.push("departure recorded");
                }
                if self.return_call.done.is_none() {
                    missing.push("return call done");
                }
                if self.summary.is_none() {
                    missing.push("summary filed");
                }
                if self.expenses.iter().any(Expense::pending_decision) {
                    missing.push("every over-cap expense decided");
                }
                if self
                    .advance
                    .as_ref()
                    .is_some_and(|a| a.settlement.is_none())
                {
                    missing.push("cash advance settled");
                }
                if !missing.is_empty() {
                    return Err(DomainError::rule(
                        "V16",
                        format!(
                            "the visit cannot close yet; missing: {}",
                            missing.join(", ")
                        ),
                    ));
                }
                VisitEvent::VisitClosed(VisitClosed { closed_at: now })
            }
        };
        Ok(vec![ev])
    }

    fn evolve(mut self, event: &VisitEvent) -> Self {
        self.version += 1;
        match event {
            VisitEvent::ReceptionRequested(p) => {
                self.id = Some(p.visit_id);
                self.stage = Stage::Requested;
                self.requested_at = Some(p.requested_at);
                self.late = p.late;
                self.request = Some(p.request.clone());
            }
            VisitEvent::LevelAssigned(p) => {
                self.level = Some(p.level.clone());
                self.policy_version = Some(p.policy_version);
                if self.stage == Stage::Requested {
                    self.stage = Stage::Preparing;
                }
            }
            VisitEvent::LevelChanged(p) => {
                self.level = Some(p.level.clone());
                self.policy_version = Some(p.policy_version);
            }
            VisitEvent::PlanDrafted(p) => {
                self.plan.status = PlanStatus::Drafted;
                self.plan.items = p.items.clone();
                self.plan.draft_no = p.draft_no;
                self.plan.drafted_at = Some(p.drafted_at);
                self.plan.first_drafted_at.get_or_insert(p.drafted_at);
            }
            VisitEvent::PlanReviewed(p) => {
                self.plan.status = if p.approved {
                    PlanStatus::Approved
                } else {
                    PlanStatus::Returned
                };
                self.plan.comments = p.comments.clone();
                if p.approved {
                    self.plan.approved_at = Some(p.reviewed_at);
                }
            }
            VisitEvent::ReceptionUnitContacted(p) => self.unit_contact = Some(p.clone()),
            VisitEvent::ReadinessConfirmed(p) => self.readiness_confirmed_at = Some(p.confirmed_at),
            VisitEvent::StaffAssigned(p) => {
                self.host = Some(p.host.clone());
                self.accompanying = p.accompanying.clone();
            }
            VisitEvent::HostReassigned(p) => {
                self.host = Some(p.host.clone());
                self.staff_changed_mid_visit |= p.mid_visit;
            }
            VisitEvent::CarDispatched(p) => self.cars.push(Car {
                dispatch: p.clone(),
            }),
            VisitEvent::CarUnavailable(p) => self.cars_unavailable.push(p.clone()),
            VisitEvent::LodgingBooked(p) => self.bookings.lodging.push(p.clone()),
            VisitEvent::TourHeld(p) => self.tours.push(p.clone()),
            VisitEvent::LeaderMeetingHeld(p) => self.leader_meetings.push(p.clone()),
            VisitEvent::MealBooked(p) => self.bookings.meals.push(p.clone()),
            VisitEvent::EntertainmentArranged(p) => self.bookings.entertainment.push(p.clone()),
            VisitEvent::SouvenirPlanned(p) => self.souvenirs.push(Souvenir {
                planned: p.clone(),
                handed_at: None,
            }),
            VisitEvent::SouvenirHanded(p) => {
                if let Some(s) = self
                    .souvenirs
                    .iter_mut()
                    .find(|s| s.planned.souvenir_id == p.souvenir_id)
                {
                    s.handed_at = Some(p.handed_at);
                }
            }
            VisitEvent::CooperationMatterProposed(p) => self.matters.push(Matter {
                proposed: p.clone(),
                confirmation: None,
            }),
            VisitEvent::CooperationMatterConfirmed(p) => {
                if let Some(m) = self
                    .matters
                    .iter_mut()
                    .find(|m| m.proposed.matter_id == p.matter_id)
                {
                    m.confirmation = Some(p.clone());
                }
            }
            VisitEvent::LeadershipTalksHeld(p) => self.talks.push(p.clone()),
            VisitEvent::VisitorsArrived(p) => {
                self.arrived_at = Some(p.at);
                if matches!(self.stage, Stage::Requested | Stage::Preparing) {
                    self.stage = Stage::OnSite;
                }
            }
            VisitEvent::VisitorsDeparted(p) => {
                self.departed_at = Some(p.at);
                if self.stage == Stage::OnSite {
                    self.stage = Stage::Departed;
                }
            }
            VisitEvent::ReturnCallAttempted(p) => self.return_call.attempts.push(p.clone()),
            VisitEvent::ReturnCallDone(p) => self.return_call.done = Some(p.clone()),
            VisitEvent::SummaryFiled(p) => self.summary = Some(p.clone()),
            VisitEvent::ExpenseRecorded(p) => {
                if let Some(orig) = p.reverses {
                    if let Some(e) = self
                        .expenses
                        .iter_mut()
                        .find(|e| e.recorded.expense_id == orig)
                    {
                        e.reversed_by = Some(p.expense_id);
                    }
                }
                self.expenses.push(Expense {
                    recorded: p.clone(),
                    decision: None,
                    reversed_by: None,
                });
            }
            VisitEvent::ExpenseApproved(p) | VisitEvent::ExpenseRejected(p) => {
                let approved = matches!(event, VisitEvent::ExpenseApproved(_));
                if let Some(e) = self
                    .expenses
                    .iter_mut()
                    .find(|e| e.recorded.expense_id == p.expense_id)
                {
                    e.decision = Some(ExpenseDecision {
                        approved,
                        comments: p.comments.clone(),
                        decided_at: p.decided_at,
                    });
                }
            }
            VisitEvent::AdvanceIssued(p) => {
                self.advance = Some(Advance {
                    amount_fen: p.amount_fen,
                    issued_at: p.issued_at,
                    settlement: None,
                })
            }
            VisitEvent::AdvanceSettled(p) => {
                if let Some(a) = self.advance.as_mut() {
                    a.settlement = Some(p.clone());
                }
            }
            VisitEvent::CustomerPreferenceNoted(p) => self.preferences.push(p.clone()),
            VisitEvent::VisitCancelled(p) => {
                self.cancelled = Some(p.clone());
                self.stage = Stage::Cancelled;
            }
            VisitEvent::VisitClosed(p) => {
                self.closed_at = Some(p.closed_at);
                self.stage = Stage::Closed;
            }
        }
        self
    }
}

impl Visit {
    fn decide_expense_recorded(
        &self,
        c: RecordExpense,
        ctx: &Context,
    ) -> Result<VisitEvent, DomainError> {
        if c.amount_fen == Fen::ZERO {
            return Err(DomainError::invalid(
                "amount_fen",
                "an expense amount must be more than 0",
            )
            .with_rule("V17"));
        }
        let needs_booking = matches!(
            c.category,
            ExpenseCategory::Meal | ExpenseCategory::Entertainment | ExpenseCategory::Lodging
        );
        let mut booking_id = c.booking_id;
        let (mut cap_fen, mut over_cap) = (None, false);
        if let Some(orig_id) = c.reverses {
            let orig = self
                .expenses
                .iter()
                .find(|e| e.recorded.expense_id == orig_id)
                .ok_or_else(|| {
                    DomainError::not_found(
                        "reverses",
                        format!("no expense {orig_id} in this visit"),
                    )
                })?;
            if orig.recorded.reverses.is_some() {
                return Err(DomainError::invalid(
                    "reverses",
                    "a reversal cannot itself be reversed; record a new expense",
                )
                .with_rule("V17"));
            }
            if orig.reversed_by.is_some() {
                return Err(DomainError::invalid(
                    "reverses",
                    format!("expense {orig_id} is already reversed"),
                )
                .with_rule("V17"));
            }
            if orig.recorded.amount_fen != c.amount_fen || orig.recorded.category != c.category {
                return Err(DomainError::invalid(
                    "amount_fen",
                    format!(
                        "a reversal repeats the original's category and amount ({:?}, {})",
                        orig.recorded.category,
                        yuan(orig.recorded.amount_fen)
                    ),
                )
                .with_rule("V17"));
            }
            booking_id = orig.recorded.booking_id;
        } else if needs_booking {
            let Some(b) = c.booking_id else {
                return Err(DomainError::invalid(
                    "booking_id",
                    format!("a {:?} expense names the booking it pays for", c.category)
                        .to_lowercase(),
                )
                .with_rule("V17"));
            };
            let cap = self.cap_for_booking(b, c.category, ctx)?;
            if c.paid_by == PaidBy::Company {
                cap_fen = cap;
                if let Some(cap) = cap {
                    let total = self
                        .spent_on(b)
                        .checked_add(c.amount_fen)
                        .unwrap_or(c.amount_fen);
                    over_cap = total > cap;
                }
            }
        } else if c.booking_id.is_some() {
            return Err(DomainError::invalid(
                "booking_id",
                "only meal, entertainment and lodging expenses name a booking",
            ));
        }
        let (level, policy_version) = (self.level.clone(), self.policy_version);
        Ok(VisitEvent::ExpenseRecorded(ExpenseRecorded {
            expense_id: ctx.entity_id,
            category: c.category,
            amount_fen: c.amount_fen,
            paid_by: c.paid_by,
            receipt_no: c.receipt_no,
            booking_id,
            reverses: c.reverses,
            cap_fen,
            over_cap,
            level,
            policy_version,
            recorded_at: ctx.now,
        }))
    }
}

/// V20: the level under the policy version in force at `ctx.now`.
fn stamp(level: &LevelId, ctx: &Context) -> Result<(LevelId, u32), DomainError> {
    let policy = ctx
        .policies
        .in_force(ctx.now)
        .ok_or_else(|| DomainError::rule("V20", "no policy version is in force now"))?;
    if policy.level(level).is_none() {
        let known: Vec<&str> = policy.levels.iter().map(|l| l.id.as_str()).collect();
        return Err(DomainError::invalid(
            "level",
            format!(
                "policy version {} has no level {level} (levels: {})",
                policy.version,
                known.join(", ")
            ),
        ));
    }
    Ok((level.clone(), policy.version))
}

fn decide_request(req: RequestVisit, ctx: &Context) -> Result<Vec<VisitEvent>, DomainError> {
    if req.visitors.is_empty() {
        return Err(
            DomainError::invalid("visitors", "a request needs at least one visitor")
                .with_rule("V1"),
        );
    }
    if req.headcount.get() as usize != req.visitors.len() {
        return Err(DomainError::invalid(
            "headcount",
            format!(
                "headcount {} must equal the {} visitors listed",
                req.headcount.get(),
                req.visitors.len()
            ),
        )
        .with_rule("V1"));
    }
    if req.arrival.at >= req.departure.at {
        return Err(
            DomainError::invalid("departure.at", "arrival must be before departure")
                .with_rule("V1"),
        );
    }
    if req
        .departure
        .arrives_home_at
        .is_some_and(|h| h < req.departure.at)
    {
        return Err(DomainError::invalid(
            "departure.arrives_home_at",
            "the visitors arrive home after they depart",
        ));
    }
    let lead = if req.customer.foreign {
        Duration::days(LEAD_TIME_FOREIGN_DAYS)
    } else {
        Duration::hours(LEAD_TIME)
    };
    let late = req.arrival.at - ctx.now < lead && req.expedited.is_none();
    Ok(vec![VisitEvent::ReceptionRequested(ReceptionRequested {
        visit_id: ctx.entity_id,
        requested_at: ctx.now,
        late,
        request: req,
    })])
}
