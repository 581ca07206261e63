//! Who the caller is and what they may read (`GET /api/v1/me`): the dashboard asks
//! once after sign-in and offers only the pages the role may use. The same table
//! ([`reception_domain::access`]) guards the query routes, so a page that is not
//! offered would be refused anyway.

use axum::Json;
use reception_domain::access::Area;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::common::doc::QueryErrors;
use crate::common::{ApiError, AppState, Caller};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// The caller as the token names them.
#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    /// The token's user.
    user: String,
    /// The token's role.
    role: String,
    /// The parts of the service this role may read, in navigation order:
    /// `board`, `costs`, `analysis`, `customers`, `complaints`, `audit`, `admin`.
    areas: Vec<String>,
    /// True for auditors and analysts, who never write.
    read_only: bool,
    /// True when visitor phone numbers are masked in every answer to this caller.
    phones_hidden: bool,
}

/// `GET /api/v1/me`.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    summary = "extension: the caller's user, role and the areas the role may read",
    security(("bearer" = [])),
    responses((status = 200, description = "the caller", body = Me), QueryErrors))]
async fn me(caller: Caller) -> Json<Me> {
    let role = caller.0.role;
    Json(Me {
        user: caller.0.user.clone(),
        role: role.as_str().to_string(),
        areas: role
            .areas()
            .into_iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        read_only: role.read_only(),
        phones_hidden: caller.hides_phones(),
    })
}

/// 403 `forbidden` unless the caller's role may read `area`.
pub(crate) fn require_read(caller: &Caller, area: Area) -> Result<(), ApiError> {
    if caller.0.role.may_read(area) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "role {} may not read {} (readers: {})",
            caller.0.role.as_str(),
            area.as_str(),
            area.readers()
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}
