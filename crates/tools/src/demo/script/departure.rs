//! The departure day (V7, V10, V13): souvenirs handed, the drop-off car, the departure.

use reception_domain::visit::Visit;
use serde_json::json;

use super::{souvenirs, transport, Books, Script};
use crate::demo::{Flow, Run};

/// Hands the souvenirs, dispatches the drop-off car and records the departure.
pub(super) async fn departure(run: &mut Run, s: &Script<'_>, b: &mut Books) -> Result<(), Flow> {
    souvenirs::hand(run, s, b).await?;
    transport::dropoff(run, s, b).await?;
    let departure = s.trip.departure;
    run.exec::<Visit>(
        departure,
        s.v,
        "record-departure",
        json!({"at": departure}),
        &s.cast.reception,
    )
    .await?;
    Ok(())
}
