//! The complaint processes, run by the system actor every `interval`:
//! - C4: complaints unresolved 10 days after being raised are escalated to major, each
//!   under the idempotency key `escalate-<complaint id>`;
//! - C10: every C2, C3 or C5 deadline that has passed unmet is recorded
//!   (`ComplaintDeadlineMissed`), each under the key
//!   `missed-<complaint id>-<deadline>-<due unix seconds>`
//!   ([`reception_domain::escalation::MissOrder::idempotency_key`]).
//!
//! The keys make each order land at most once across passes, restarts and concurrent
//! runs; the domain refuses a repeat anyway. A miss is recorded at the first pass after
//! its deadline, so "at that moment" means within one interval.

use std::time::Duration;

use reception_domain::complaint::{Complaint, ComplaintCommand, ComplaintDeadline};
use reception_domain::escalation::{due_escalations, due_misses};
use reception_domain::{Actor, DomainCommand};
use uuid::Uuid;

use crate::{App, AppError, ExecOptions, Target};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPass {
    /// Complaints looked at.
    pub checked: usize,
    /// Escalations appended in this pass (C4).
    pub escalated: Vec<Uuid>,
    /// Misses recorded in this pass (C10).
    pub missed: Vec<(Uuid, ComplaintDeadline)>,
}

impl App {
    /// Every complaint's current state with its id.
    fn complaint_states(&self) -> Result<Vec<(Uuid, Complaint)>, AppError> {
        let mut states = Vec::new();
        for stream in self.store().streams("complaint-") {
            let stream = stream?;
            let Some(id) = stream
                .strip_prefix("complaint-")
                .and_then(|s| s.parse::<Uuid>().ok())
            else {
                continue;
            };
            let loaded = self.load::<Complaint>(&stream, None)?;
            states.push((id, loaded.state));
        }
        Ok(states)
    }

    /// Issues one order of a process; true when it was appended now (not a replay, not
    /// refused because a person or another runner got there first).
    async fn issue(
        &self,
        complaint_id: Uuid,
        command: &ComplaintCommand,
        actor: &Actor,
        key: String,
        route: &str,
    ) -> Result<bool, AppError> {
        // The command serialises as {"command": name, "body": {...}}.
        let body = serde_json::to_value(command)
            .ok()
            .and_then(|v| v.get("body").cloned())
            .unwrap_or_else(|| serde_json::json!({}));
        let opts = ExecOptions {
            idempotency_key: Some(key),
            route: Some(route.into()),
            ..ExecOptions::default()
        };
        match self
            .execute::<Complaint>(Target::Id(complaint_id), command.name(), body, actor, opts)
            .await
        {
            Ok(o) => Ok(!o.replayed),
            // Escalated or recorded meanwhile, or the state moved on: nothing to do.
            Err(AppError::Domain(e)) => {
                tracing::debug!(complaint = %complaint_id, error = %e, route, "order not applicable");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// One pass of the complaint processes at the clock's `now`: the C4 escalations,
    /// then the C10 misses.
    pub async fn run_escalations(&self) -> Result<EscalationPass, AppError> {
        let now = self.now();
        let states = self.complaint_states()?;
        let listed = || states.iter().map(|(id, c)| (*id, c));
        let mut pass = EscalationPass {
            checked: states.len(),
            ..EscalationPass::default()
        };
        for order in due_escalations(listed(), now) {
            let key = format!("escalate-{}", order.complaint_id);
            let id = order.complaint_id;
            if self
                .issue(id, &order.command, &order.actor, key, "process C4")
                .await?
            {
                pass.escalated.push(id);
            }
        }
        for order in due_misses(listed(), now) {
            let key = order.idempotency_key();
            let id = order.complaint_id;
            if self
                .issue(id, &order.command, &order.actor, key, "process C10")
                .await?
            {
                pass.missed.push((id, order.deadline));
            }
        }
        Ok(pass)
    }

    /// Runs [`App::run_escalations`] every `interval` until the returned future is dropped
    /// (spawn it; abort the task at shutdown).
    pub async fn escalation_loop(self, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.run_escalations().await {
                Ok(p) if !p.escalated.is_empty() || !p.missed.is_empty() => {
                    tracing::info!(
                        escalated = p.escalated.len(),
                        missed = p.missed.len(),
                        checked = p.checked,
                        "complaint processes: C4 escalations and C10 misses recorded"
                    )
                }
                Ok(_) => {}
                Err(AppError::Unavailable(_)) => return,
                Err(e) => tracing::warn!(error = %e, "complaint process pass failed"),
            }
        }
    }
}
