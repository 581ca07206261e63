//! What crosses aggregates: the visit a front-desk sign-in names (F2), the complaint a
//! return call raises (V30), and the upcaster that brings stored visit payloads to
//! their current schema on every read path.

use std::sync::Arc;

use reception_domain::complaint::Complaint;
use reception_domain::visit::{CallComplaintSeverity, Visit, VisitEvent};
use reception_domain::{Actor, DomainEvent, LinkedVisit};
use reception_store::Upcaster;
use serde_json::json;
use uuid::Uuid;

use crate::{App, AppError, ExecOptions, Target};

/// The domain's upcasters as the store's read hook: register it when opening a store
/// (`StoreOptions::upcaster`).
pub struct DomainUpcaster;

impl Upcaster for DomainUpcaster {
    fn upcast(
        &self,
        event_type: &str,
        schema: u32,
        data: serde_json::Value,
    ) -> (u32, serde_json::Value) {
        reception_domain::visit::upcast(event_type, schema, data)
    }

    fn rewrites(&self, event_type: &str, schema: u32) -> bool {
        reception_domain::visit::upcast_rewrites(event_type, schema)
    }
}

/// The upcaster as the store options take it.
pub fn upcaster() -> Arc<dyn Upcaster> {
    Arc::new(DomainUpcaster)
}

impl App {
    /// F2: what a sign-in may know of visit `id`; `None` when there is no such visit.
    pub fn linked_visit(&self, id: Uuid) -> Result<Option<LinkedVisit>, AppError> {
        let visit = self
            .load::<Visit>(&Self::stream_name::<Visit>(id), None)?
            .state;
        Ok(visit.request().map(|req| LinkedVisit {
            id,
            customer: req.customer.company.to_string(),
            open: !visit.is_finished(),
        }))
    }

    /// V30: opens the complaint stream a visit's return call raised, as the caller, at
    /// the call's time. Idempotent: the complaint's id comes from the call, so a
    /// complaint already opened (a retried command) is left as it is.
    pub(crate) async fn open_call_complaint(
        &self,
        visit_id: Uuid,
        actor: &Actor,
        opts: &ExecOptions,
    ) -> Result<(), AppError> {
        let loaded = self.load::<Visit>(&Self::stream_name::<Visit>(visit_id), None)?;
        let company = loaded
            .state
            .request()
            .map(|r| r.customer.company.to_string())
            .unwrap_or_default();
        let done = loaded.events.iter().rev().find_map(|env| {
            match VisitEvent::from_stored(&env.event_type, &env.data) {
                Ok(VisitEvent::ReturnCallDone(d)) => Some(d),
                _ => None,
            }
        });
        let Some(raised) = done.and_then(|d| d.complaint) else {
            return Ok(());
        };
        let severity = match raised.severity {
            CallComplaintSeverity::Minor => "minor",
            CallComplaintSeverity::Major => "major",
        };
        let body = json!({
            "visit_id": visit_id,
            "customer": company,
            "severity": severity,
            "category": raised.category,
            "description": raised.description,
        });
        let opts = ExecOptions {
            now: opts.now,
            ..ExecOptions::default()
        };
        let target = Target::CreateAs(raised.complaint_id);
        match self
            .execute::<Complaint>(target, "raise", body, actor, opts)
            .await
        {
            Ok(_) => Ok(()),
            Err(AppError::VersionConflict { .. }) => Ok(()),
            Err(AppError::Domain(e)) if e.kind == reception_domain::ErrorKind::InvalidState => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
