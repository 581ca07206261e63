//! The C4 escalation process: every `interval`, complaints unresolved 10 days after
//! being raised are escalated to major by the system actor. Each escalation carries the
//! idempotency key `escalate-<complaint id>`, so it is issued at most once, across
//! restarts and concurrent runs.

use std::time::Duration;

use reception_domain::complaint::Complaint;
use reception_domain::escalation::due_escalations;
use reception_domain::DomainCommand;
use uuid::Uuid;

use crate::{App, AppError, ExecOptions, Target};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPass {
    /// Complaints looked at.
    pub checked: usize,
    /// Escalations appended in this pass.
    pub escalated: Vec<Uuid>,
}

impl App {
    /// One pass of the C4 process at the clock's `now`.
    pub async fn run_escalations(&self) -> Result<EscalationPass, AppError> {
        let now = self.now();
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
        let orders = due_escalations(states.iter().map(|(id, c)| (*id, c)), now);
        let mut pass = EscalationPass {
            checked: states.len(),
            escalated: Vec::new(),
        };
        for order in orders {
            let name = order.command.name();
            // The command serialises as {"command": name, "body": {...}}.
            let body = serde_json::to_value(&order.command)
                .ok()
                .and_then(|v| v.get("body").cloned())
                .unwrap_or_else(|| serde_json::json!({}));
            let opts = ExecOptions {
                idempotency_key: Some(format!("escalate-{}", order.complaint_id)),
                route: Some("process C4".into()),
                ..ExecOptions::default()
            };
            match self
                .execute::<Complaint>(
                    Target::Id(order.complaint_id),
                    name,
                    body,
                    &order.actor,
                    opts,
                )
                .await
            {
                Ok(o) if !o.replayed => pass.escalated.push(order.complaint_id),
                Ok(_) => {}
                // Escalated meanwhile by a person, or state moved on: nothing to do.
                Err(AppError::Domain(e)) => {
                    tracing::debug!(complaint = %order.complaint_id, error = %e, "escalation not applicable")
                }
                Err(e) => return Err(e),
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
                Ok(p) if !p.escalated.is_empty() => {
                    tracing::info!(
                        escalated = p.escalated.len(),
                        checked = p.checked,
                        "C4 escalations issued"
                    )
                }
                Ok(_) => {}
                Err(AppError::Unavailable(_)) => return,
                Err(e) => tracing::warn!(error = %e, "C4 escalation pass failed"),
            }
        }
    }
}
