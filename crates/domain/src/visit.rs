//! The visit aggregate (stream `visit-<uuid>`): one customer visit from reception
//! request to close, with every visit rule V1–V21 of DOMAIN.md in [`Visit::decide`].
//!
//! Roles follow API.md's table. `admin` may issue every command as an operator
//! convenience, but an `override` may only be sent by an `approver` (API.md: 403
//! otherwise), who may then issue the command that carries it.
//!
//! Context conventions: for `request`, `ctx.entity_id` is the new visit's id; for the
//! commands that create an entity (`creates_entity()`), it is that entity's id.
//!
//! `decide` checks the role, existence and V21 here, then hands the command to its
//! rule: one function per command in `visit/decide/`, one file per stage of the
//! visit. The state, commands and events are [`crate::visit_state`], re-exported here.

mod decide;
mod what_if;

pub use decide::departure::call_complaint_id;
pub use decide::staffing::SUPPORT_ROLES;
pub use what_if::{rejudge, CapBasis, CappedExpense, Rejudged};

pub use crate::deadlines::{
    CAR_READY_MINUTES, HOME_AFTER_DEPARTURE_HOURS, PLAN_HOURS, RETURN_CALL_HOURS, SUMMARY_HOURS,
};
pub use crate::visit_state::*;

use crate::aggregate::Aggregate;
use crate::common::DomainError;
use crate::context::Context;
use decide::{
    advance, approval, closing, departure, expenses, follow_up, level, lodging, matters, meals,
    onsite, plan, request, reschedule, staffing, tasks, transport,
};

/// V14: failed attempts that count as done.
pub const RETURN_CALL_MAX_ATTEMPTS: u32 = 3;

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
        decide::authorize(&command, ctx)?;
        if let VisitCommand::Request(req) = command {
            if self.exists() {
                return Err(DomainError::state("this visit was already requested"));
            }
            return request::request(req, ctx);
        }
        if !self.exists() {
            return Err(DomainError::not_found("visit", "no such visit"));
        }
        // V21, V28, V31: a finished visit still takes decisions on expenses, late
        // expenses and its follow-ups.
        let after_close = matches!(
            command,
            VisitCommand::DecideExpense(_)
                | VisitCommand::RecordExpense(_)
                | VisitCommand::AddFollowUp(_)
                | VisitCommand::CompleteFollowUp(_)
        );
        if !after_close || self.stage == Stage::Rejected {
            self.open()?;
        }
        let v = self;
        let ev = match command {
            VisitCommand::Request(_) => unreachable!("handled above"),
            VisitCommand::AssignLevel(c) => level::assign_level(v, c, ctx)?,
            VisitCommand::ChangeLevel(c) => level::change_level(v, c, ctx)?,
            VisitCommand::DraftPlan(c) => plan::draft_plan(v, c, ctx)?,
            VisitCommand::ReviewPlan(c) => plan::review_plan(v, c, ctx)?,
            VisitCommand::ContactUnit(c) => plan::contact_unit(v, c, ctx)?,
            VisitCommand::ConfirmReadiness(c) => plan::confirm_readiness(v, c, ctx)?,
            VisitCommand::AssignStaff(c) => staffing::assign_staff(v, c, ctx)?,
            VisitCommand::ReassignHost(c) => staffing::reassign_host(v, c, ctx)?,
            VisitCommand::DispatchCar(c) => transport::dispatch_car(v, c, ctx)?,
            VisitCommand::CarUnavailable(c) => transport::car_unavailable(v, c, ctx)?,
            VisitCommand::BookLodging(c) => lodging::book_lodging(v, c, ctx)?,
            VisitCommand::HoldTour(c) => onsite::hold_tour(v, c, ctx)?,
            VisitCommand::HoldLeaderMeeting(c) => onsite::hold_leader_meeting(v, c, ctx)?,
            VisitCommand::BookMeal(c) => meals::book_meal(v, c, ctx)?,
            VisitCommand::ArrangeEntertainment(c) => meals::arrange_entertainment(v, c, ctx)?,
            VisitCommand::PlanSouvenir(c) => onsite::plan_souvenir(v, c, ctx)?,
            VisitCommand::HandSouvenir(c) => onsite::hand_souvenir(v, c, ctx)?,
            VisitCommand::ProposeMatter(c) => matters::propose_matter(v, c, ctx)?,
            VisitCommand::ConfirmMatter(c) => matters::confirm_matter(v, c, ctx)?,
            VisitCommand::HoldTalks(c) => matters::hold_talks(v, c, ctx)?,
            VisitCommand::RecordArrival(c) => onsite::record_arrival(v, c, ctx)?,
            VisitCommand::RecordDeparture(c) => departure::record_departure(v, c, ctx)?,
            VisitCommand::ReturnCall(c) => return departure::return_call(v, c, ctx),
            VisitCommand::FileSummary(c) => departure::file_summary(v, c, ctx)?,
            VisitCommand::RecordExpense(c) => expenses::record_expense(v, c, ctx)?,
            VisitCommand::DecideExpense(c) => expenses::decide_expense(v, c, ctx)?,
            VisitCommand::IssueAdvance(c) => advance::issue_advance(v, c, ctx)?,
            VisitCommand::SettleAdvance(c) => advance::settle_advance(v, c, ctx)?,
            VisitCommand::NotePreference(c) => onsite::note_preference(v, c, ctx)?,
            VisitCommand::Cancel(c) => closing::cancel(v, c, ctx)?,
            VisitCommand::Close(c) => closing::close(v, c, ctx)?,
            VisitCommand::ApproveRequest(c) => approval::approve_request(v, c, ctx)?,
            VisitCommand::AmendRequest(c) => approval::amend_request(v, c, ctx)?,
            VisitCommand::Reschedule(c) => reschedule::reschedule(v, c, ctx)?,
            VisitCommand::CompleteTask(c) => tasks::complete_task(v, c, ctx)?,
            VisitCommand::ChangeStaff(c) => staffing::change_staff(v, c, ctx)?,
            VisitCommand::AddFollowUp(c) => follow_up::add_follow_up(v, c, ctx)?,
            VisitCommand::CompleteFollowUp(c) => follow_up::complete_follow_up(v, c, ctx)?,
            VisitCommand::SubmitMinutes(c) => follow_up::submit_minutes(v, c, ctx)?,
            VisitCommand::HoldHomeReception(c) => onsite::hold_home_reception(v, c, ctx)?,
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
                self.approval.required = p.approval_required;
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
            VisitEvent::ExpenseRecorded(p) => self.record_expense(p),
            VisitEvent::ExpenseApproved(p) | VisitEvent::ExpenseRejected(p) => {
                let approved = matches!(event, VisitEvent::ExpenseApproved(_));
                self.decide_expense(p, approved);
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
            other => self.evolve_process(other),
        }
        self
    }
}

impl Visit {
    /// The events of DOMAIN.md's second part (V22–V29): approvals, amendments,
    /// reschedules, tasks, staff changes, follow-ups, minutes, home receptions.
    fn evolve_process(&mut self, event: &VisitEvent) {
        match event {
            VisitEvent::RequestApproved(p) => self.approval.given.push(ApprovalGiven {
                as_: p.as_,
                approver: p.approver.clone(),
                comments: p.comments.clone(),
                at: p.decided_at,
            }),
            VisitEvent::RequestReturned(p) => {
                self.approval.status = ApprovalStatus::Returned;
                self.approval.comments = p.comments.clone();
            }
            VisitEvent::RequestRejected(p) => {
                self.approval.status = ApprovalStatus::Rejected;
                self.approval.comments = p.comments.clone();
                self.stage = Stage::Rejected;
            }
            VisitEvent::RequestAmended(p) => {
                self.request = Some(p.request.clone());
                self.approval.status = ApprovalStatus::Pending;
                self.approval.given.clear();
            }
            VisitEvent::VisitRescheduled(p) => self.reschedule(p),
            VisitEvent::TaskCompleted(p) => self.tasks_done.push(p.clone()),
            VisitEvent::StaffChanged(p) => {
                self.accompanying
                    .retain(|m| !p.removed.iter().any(|r| r == &m.name));
                self.accompanying.extend(p.added.iter().cloned());
                self.staff_changed_mid_visit |= p.mid_visit;
            }
            VisitEvent::FollowUpAdded(p) => self.follow_ups.push(FollowUp {
                added: p.clone(),
                completed: None,
            }),
            VisitEvent::FollowUpCompleted(p) => {
                if let Some(f) = self
                    .follow_ups
                    .iter_mut()
                    .find(|f| f.added.follow_up_id == p.follow_up_id)
                {
                    f.completed = Some(p.clone());
                }
            }
            VisitEvent::MinutesSubmitted(p) => self.minutes = Some(p.clone()),
            VisitEvent::HomeReceptionHeld(p) => self.home_receptions.push(p.clone()),
            _ => {}
        }
    }

    /// V23: the new planned times and party replace the old; recorded facts stay.
    fn reschedule(&mut self, p: &VisitRescheduled) {
        if let Some(req) = self.request.as_mut() {
            req.arrival = p.arrival.clone();
            req.departure = p.departure.clone();
            req.headcount = p.headcount.clone();
            req.visitors = p.visitors.clone();
        }
        self.reschedules.push(p.clone());
    }

    /// Records an expense; a reversal marks the expense it reverses.
    fn record_expense(&mut self, p: &ExpenseRecorded) {
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

    /// Records the approver's decision on an over-cap expense.
    fn decide_expense(&mut self, p: &ExpenseDecided, approved: bool) {
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
}
