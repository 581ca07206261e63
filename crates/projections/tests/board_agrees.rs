//! `GET /api/v1/board` and `GET /api/v1/visits/{id}` agree: over generated visits
//! (commands through the real domain `decide`, their events appended to a real store
//! as the service appends them), after every accepted command the board's row of the
//! visit shows the stage, flags and next step the domain gives the folded visit, at the
//! same seq and the same `now`.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use proptest::prelude::*;
use reception_domain::board::board_stage;
use reception_domain::deadlines::{next_step, visit_flags, StepFacts, TASKS};
use reception_domain::policy::PolicyBook;
use reception_domain::visit::{ApprovalStatus, Visit};
use reception_domain::vocabulary::stream_of;
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainEvent, Role};
use reception_projections::{ReadSide, ReadSideConfig};
use reception_store::{AppendRequest, Envelope, ExpectedVersion, NewEvent, Store};
use serde_json::{json, Value};
use uuid::Uuid;

/// One generated step: which command (the next of the usual process, or any), minutes
/// after the previous one, and a small number the command may use (how early a car is
/// ready, an amount, ...).
#[derive(Debug, Clone)]
struct Step {
    follow: bool,
    command: u8,
    after_minutes: i64,
    n: i64,
}

/// The usual order of the commands (indices of `Driver::command`), which a step
/// follows half of the time so that generated visits get far.
const PROCESS: &[u8] = &[
    26, 0, 1, 2, 4, 5, 6, 20, 32, 11, 10, 13, 14, 34, 35, 36, 38, 15, 22, 7, 16, 18, 17, 19, 37,
    39, 21, 25,
];

/// How many commands `Driver::command` knows.
const COMMANDS: u8 = 45;

/// The generated request: arrival this many hours after filing, staying this many
/// hours, which cars and preparation tasks it needs, and its budget.
#[derive(Debug, Clone)]
struct Request {
    arrival_hours: i64,
    stay_hours: i64,
    pickup: bool,
    dropoff: bool,
    /// V26: a meeting room, return tickets, by car (parking), a foreign customer's
    /// visa letter.
    tasks: (bool, bool, bool, bool),
    budget_fen: Option<i64>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (any::<bool>(), 0u8..COMMANDS, 0i64..3_000, 0i64..90).prop_map(
            |(follow, command, after_minutes, n)| Step {
                follow,
                command,
                after_minutes,
                n,
            },
        ),
        1..60,
    )
}

fn request() -> impl Strategy<Value = Request> {
    (
        2i64..240,
        2i64..72,
        any::<bool>(),
        any::<bool>(),
        any::<(bool, bool, bool, bool)>(),
        prop::option::of(1_000i64..20_000),
    )
        .prop_map(
            |(arrival_hours, stay_hours, pickup, dropoff, tasks, budget_fen)| Request {
                arrival_hours,
                stay_hours,
                pickup,
                dropoff,
                tasks,
                budget_fen,
            },
        )
}

/// A visit being driven, with the ids later commands refer to.
struct Driver {
    visit: Visit,
    stream: String,
    now: DateTime<FixedOffset>,
    souvenir: Option<String>,
    meal: Option<String>,
    /// The last expense recorded, with its category and amount (for a reversal).
    expense: Option<(String, &'static str, i64)>,
    matter: Option<String>,
    follow_up: Option<String>,
    /// The next command of [`PROCESS`].
    next: usize,
}

/// A journey of the request or a reschedule.
fn journey(at: DateTime<FixedOffset>, number: &str) -> Value {
    json!({"at": at.to_rfc3339(), "mode": "train", "number": number, "place": "station"})
}

impl Driver {
    /// The planned arrival and departure (as requested, amended or rescheduled).
    fn planned(&self) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
        let req = self.visit.request().expect("requested");
        (req.arrival.at, req.departure.at)
    }

    /// The command of a generated step, as (role, name, body).
    fn command(&mut self, s: &Step) -> (Role, &'static str, Value) {
        let mut s = s.clone();
        let returned = self.visit.approval.status == ApprovalStatus::Returned;
        if s.follow && returned {
            // a returned request is amended before the process goes on (V22)
            s.command = 29;
        } else if s.follow && self.next == 0 && s.n % 3 == 0 {
            // a third of the requests are returned first
            s.command = 27;
        } else if s.follow && self.next < PROCESS.len() {
            s.command = PROCESS[self.next];
            self.next += 1;
        }
        if s.command >= 26 {
            return self.later_command(&s);
        }
        self.process_command(&s)
    }

    /// The commands of V1–V21.
    fn process_command(&mut self, s: &Step) -> (Role, &'static str, Value) {
        use Role::{Approver, Finance, Reception};
        let at = |t: DateTime<FixedOffset>| t.to_rfc3339();
        let now = at(self.now);
        let (arrival, departure) = self.planned();
        match s.command {
            0 => (Reception, "assign-level", json!({"level": "ordinary"})),
            1 => (
                Reception,
                "draft-plan",
                json!({"items": [{"at": at(arrival), "kind": "meal", "title": "lunch", "place": "canteen"}]}),
            ),
            2 => (Approver, "review-plan", json!({"approved": true})),
            3 => (
                Approver,
                "review-plan",
                json!({"approved": false, "comments": "redo"}),
            ),
            4 => (
                Reception,
                "assign-staff",
                json!({"host": "Li Na", "accompanying": []}),
            ),
            5 => (Reception, "confirm-readiness", json!({})),
            6 | 7 => {
                let (leg, t) = if s.command == 6 {
                    ("pickup", arrival)
                } else {
                    ("dropoff", departure)
                };
                // ready 60 min early down to 30 min late: late when under 15 min early
                let ready = t - Duration::minutes(60 - s.n);
                (
                    Reception,
                    "dispatch-car",
                    json!({"leg": leg, "vehicle_class": "taxi", "driver": "Zhao", "plate": "A1",
                           "ready_at": at(ready), "place": "gate"}),
                )
            }
            8 => (
                Reception,
                "car-unavailable",
                json!({"leg": "pickup", "advised_transport": "metro"}),
            ),
            9 => (
                Reception,
                "car-unavailable",
                json!({"leg": "dropoff", "advised_transport": "metro"}),
            ),
            10 => (Reception, "record-arrival", json!({"at": now})),
            11 => (
                Reception,
                "plan-souvenir",
                json!({"item": "tea", "unit_cost_fen": 1_000, "quantity": 1}),
            ),
            12 => (
                Reception,
                "hand-souvenir",
                json!({"souvenir_id": self.souvenir}),
            ),
            13 => (
                Reception,
                "book-meal",
                json!({"meal": "lunch", "at": at(arrival + Duration::hours(2)), "venue": "canteen",
                       "party_size": 1, "budget_fen": 5_000}),
            ),
            14 => (
                Finance,
                "record-expense",
                json!({"category": "meal", "amount_fen": 1_000 * (s.n + 1), "receipt_no": "R",
                       "paid_by": "company", "booking_id": self.meal, "spent_at": now,
                       "description": "lunch"}),
            ),
            15 => (
                Approver,
                "decide-expense",
                json!({"expense_id": self.expense.as_ref().map(|e| &e.0), "approved": s.n % 2 == 0, "comments": "ok"}),
            ),
            16 => (Reception, "record-departure", json!({"at": now})),
            17 => (
                Reception,
                "return-call",
                json!({"reached": true, "satisfaction": 5, "arrived_safely": s.n % 2 == 0}),
            ),
            18 => (Reception, "return-call", json!({"reached": false})),
            19 => (Reception, "file-summary", json!({"results": "fine"})),
            20 => (Finance, "issue-advance", json!({"amount_fen": 10_000})),
            21 => (
                Finance,
                "settle-advance",
                json!({"receipts_fen": 10_000, "cash_returned_fen": 0, "returned_items": []}),
            ),
            22 => (
                Reception,
                "reassign-host",
                json!({"host": if s.n % 2 == 0 { "Chen" } else { "Li Na" }, "reason": "ill"}),
            ),
            23 => (
                Reception,
                "change-level",
                json!({"level": "senior", "reason": "chairman joins"}),
            ),
            24 => (Reception, "cancel", json!({"reason": "called off"})),
            25 => (Reception, "close", json!({})),
            _ => (Reception, "contact-unit", json!({"confirmed_headcount": 1})),
        }
    }

    /// The commands of V22–V31.
    fn later_command(&mut self, s: &Step) -> (Role, &'static str, Value) {
        use Role::{Approver, Finance, Reception, Requester};
        let at = |t: DateTime<FixedOffset>| t.to_rfc3339();
        let now = at(self.now);
        let (arrival, departure) = self.planned();
        let shift = Duration::minutes((s.n - 45) * 10);
        match s.command {
            26 | 43 => {
                let role = if s.command == 26 {
                    "department_manager"
                } else {
                    "general_manager"
                };
                (
                    Approver,
                    "approve-request",
                    json!({"decision": "approve", "as": role}),
                )
            }
            27 | 28 => (
                Approver,
                "approve-request",
                json!({"decision": if s.command == 27 { "return" } else { "reject" },
                       "as": "department_manager", "comments": "budget?"}),
            ),
            29 => (
                Requester,
                "amend-request",
                json!({"reason": "moved", "arrival": journey(arrival + shift, "G3"),
                       "budget_fen": 500 * (s.n + 1),
                       "needs": {"pickup": s.n % 2 == 0, "meeting_room": s.n % 3 == 0}}),
            ),
            30 if s.n % 2 == 0 => (
                Requester,
                "reschedule",
                json!({"reason": "flight delayed", "arrival": journey(arrival + shift, "G5")}),
            ),
            30 => (
                Reception,
                "reschedule",
                json!({"reason": "stays longer", "departure": journey(departure + shift, "G6")}),
            ),
            31 => (
                Reception,
                "reschedule",
                json!({"reason": "a colleague joins", "headcount": 2,
                       "visitors": [{"name": "Wang Lei"}, {"name": "Li Ming"}]}),
            ),
            32 => (
                Reception,
                "complete-task",
                json!({"task": TASKS[s.n as usize % TASKS.len()], "notes": "done"}),
            ),
            33 => (
                Reception,
                "change-staff",
                json!({"add": [{"name": format!("Sun {}", s.n), "role": "photographer"}],
                       "reason": "photos"}),
            ),
            34 => (
                Reception,
                "propose-matter",
                json!({"by": "visitor", "text": "dealership"}),
            ),
            35 => (
                Reception,
                "confirm-matter",
                json!({"matter_id": self.matter, "company_confirmed_by": "Zhang",
                       "visitor_confirmed_by": "Wang", "record_ref": "MOU"}),
            ),
            36 => (
                Reception,
                "hold-talks",
                json!({"at": now, "outcome": "MOU", "attendees": ["Li Na"]}),
            ),
            37 => (
                Reception,
                "submit-minutes",
                json!({"ref": "M-1", "attendees": ["Li Na"]}),
            ),
            38 => (
                Reception,
                "add-follow-up",
                json!({"matter_id": self.matter, "owner": "Zhang",
                       "due": at(self.now + Duration::minutes(30 * (s.n + 1))), "text": "contract"}),
            ),
            39 => (
                Reception,
                "complete-follow-up",
                json!({"follow_up_id": self.follow_up}),
            ),
            40 => (
                Reception,
                "hold-home-reception",
                json!({"at": now, "staff": ["Liu"]}),
            ),
            41 => (
                Finance,
                "record-expense",
                json!({"category": "car", "amount_fen": 500 * (s.n + 1), "receipt_no": "C",
                       "paid_by": if s.n % 5 == 0 { "visitor" } else { "company" },
                       "spent_at": now, "description": "taxi"}),
            ),
            42 => {
                let (id, category, amount) = self.expense.clone().unwrap_or_default();
                (
                    Finance,
                    "record-expense",
                    json!({"category": category, "amount_fen": amount, "receipt_no": "X",
                           "paid_by": "company", "reverses": id, "spent_at": now,
                           "description": "correction"}),
                )
            }
            _ => (Reception, "contact-unit", json!({"confirmed_headcount": 1})),
        }
    }

    /// Runs a command through the domain and appends its events as the service does;
    /// returns whether it was accepted.
    fn run(&mut self, store: &Store, role: Role, name: &str, body: Value) -> bool {
        // two approvals of one visit come from two people (V22)
        let user = match body["as"].as_str() {
            Some(approval) => approval.to_string(),
            None => "prop".to_string(),
        };
        let ctx = Context {
            now: self.now,
            actor: Actor {
                user: user.clone(),
                role,
            },
            policies: PolicyBook::with_default(),
            entity_id: Uuid::new_v4(),
            linked_visit: None,
        };
        let Ok(command) = <Visit as Aggregate>::Command::parse(name, body.clone()) else {
            return false;
        };
        let Ok(events) = self.visit.decide(command, &ctx) else {
            return false;
        };
        let expected = ExpectedVersion::Exact(self.visit.version());
        let new_events = events
            .iter()
            .map(|e| NewEvent {
                id: Uuid::now_v7(),
                event_type: e.event_type().to_string(),
                schema: e.schema(),
                data: e.to_data(),
                occurred_at: e.occurred_at().or(Some(self.now)),
                actor: reception_store::Actor {
                    user: user.clone(),
                    role: role.as_str().into(),
                },
                correlation_id: Uuid::nil(),
                causation_id: Uuid::nil(),
            })
            .collect();
        store
            .append_blocking(AppendRequest {
                stream: self.stream.clone(),
                expected,
                events: new_events,
                idempotency: None,
            })
            .expect("append");
        for e in &events {
            self.visit = self.visit.clone().evolve(e);
        }
        let id = Some(ctx.entity_id.to_string());
        match name {
            "plan-souvenir" => self.souvenir = id,
            "book-meal" => self.meal = id,
            "record-expense" if body["reverses"].is_null() => {
                let category = if body["category"] == "car" {
                    "car"
                } else {
                    "meal"
                };
                let amount = body["amount_fen"].as_i64().unwrap_or(0);
                self.expense = Some((ctx.entity_id.to_string(), category, amount));
            }
            "propose-matter" => self.matter = id,
            "add-follow-up" => self.follow_up = id,
            _ => {}
        }
        true
    }
}

fn utc(t: DateTime<FixedOffset>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

/// The board's row of `visit_id` against the domain's view of `visit`, at `now`.
fn agree(read: &ReadSide, visit_id: &str, visit: &Visit, now: DateTime<FixedOffset>) {
    let board = read.board(utc(now));
    // V28: the open follow-ups, also of a finished visit, with the domain's overdue
    // the board orders follow-ups by due time, the visit by when they were added: the
    // same set is what must agree
    let mut open: Vec<(String, bool)> = visit
        .follow_ups
        .iter()
        .filter(|f| f.completed.is_none())
        .map(|f| (f.added.follow_up_id.to_string(), now > f.added.due))
        .collect();
    let mut listed: Vec<(String, bool)> = board
        .follow_ups
        .iter()
        .filter(|f| f.visit_id == visit_id)
        .map(|f| (f.follow_up_id.clone(), f.overdue))
        .collect();
    open.sort();
    listed.sort();
    assert_eq!(listed, open, "the board's follow-ups at {now}");
    let row = board.visits.iter().find(|r| r.visit_id == visit_id);
    if visit.is_finished() {
        assert!(row.is_none(), "a finished visit stays on the board");
        return;
    }
    let row = row.expect("an open visit is on the board");
    let (step, due) = next_step(visit, now).expect("an open visit has a next step");
    let stage = board_stage(&StepFacts::of(visit).expect("requested"));
    assert_eq!(
        (
            row.stage.as_str(),
            &row.flags,
            row.next_step.as_str(),
            row.next_due
        ),
        (stage, &visit_flags(visit, now), step.as_str(), due),
        "at {now}: {visit:#?}"
    );
}

fn envelopes(store: &Store, after: u64) -> Vec<Envelope> {
    store
        .read_all(after + 1, usize::MAX)
        .collect::<Result<_, _>>()
        .expect("read")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_board_row_and_the_visit_view_agree(req in request(), script in steps()) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        let read = ReadSide::open(&store, ReadSideConfig::default()).unwrap();
        let filed = DateTime::parse_from_rfc3339("2026-11-20T09:00:00+08:00").unwrap();
        let arrival = filed + Duration::hours(req.arrival_hours);
        let departure = arrival + Duration::hours(req.stay_hours);
        let id = Uuid::new_v4().to_string();
        let mut d = Driver {
            visit: Visit::default(),
            stream: stream_of::<Visit>(&id),
            now: filed,
            souvenir: None,
            meal: None,
            expense: None,
            matter: None,
            follow_up: None,
            next: 0,
        };
        let (meeting_room, return_tickets, by_car, foreign) = req.tasks;
        let mut arrives = journey(arrival, "G1");
        if by_car {
            arrives["mode"] = json!("car");
        }
        let body = json!({
            "customer": {"company": "Huaxin", "country": "CN", "foreign": foreign},
            "department": "east", "visitors": [{"name": "Wang Lei"}], "headcount": 1,
            "purpose": "renewal",
            "arrival": arrives,
            "departure": journey(departure, "G2"),
            "needs": {"pickup": req.pickup, "dropoff": req.dropoff, "meeting_room": meeting_room,
                      "return_tickets": return_tickets, "visa_letter": foreign},
            "budget_fen": req.budget_fen
        });
        prop_assert!(d.run(&store, Role::Requester, "request", body));
        let mut seq = 0;
        for s in std::iter::once(None).chain(script.iter().map(Some)) {
            if let Some(s) = s {
                d.now += Duration::minutes(s.after_minutes);
                let (role, name, body) = d.command(s);
                if !d.run(&store, role, name, body) {
                    continue;
                }
            }
            let batch = envelopes(&store, seq);
            seq = batch.last().map_or(seq, |e| e.seq);
            read.apply_batch(&batch).unwrap();
            prop_assert_eq!(read.applied_seq(), store.head().0);
            for later in [0, 1, 20, 60 * 24, 60 * 24 * 4, 60 * 24 * 15] {
                agree(&read, &id, &d.visit, d.now + Duration::minutes(later));
            }
        }
    }
}
