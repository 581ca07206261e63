//! Which role may read which part of the service. Commands carry their own
//! `allowed_roles`; this is the read side's counterpart, one table that the HTTP API
//! enforces and the dashboard asks (`GET /api/v1/me`) so that it never offers a page a
//! role would be refused.

use serde::Serialize;

use crate::common::Role;

/// A part of the service a person reads as a whole (one dashboard page each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// The live board, a visit's page and its history.
    Board,
    /// The cost analyses, their exports and the budget.
    Costs,
    /// What-if simulations and the return-call report: the analysts' year-end review.
    Analysis,
    /// The customer archive.
    Customers,
    /// Complaints, their monthly analysis and the case library.
    Complaints,
    /// The global feed and the hash-chain verification.
    Audit,
    /// Tokens and rebuilds.
    Admin,
}

impl Area {
    /// Every area, in the dashboard's navigation order.
    pub const ALL: [Area; 7] = [
        Area::Board,
        Area::Costs,
        Area::Analysis,
        Area::Customers,
        Area::Complaints,
        Area::Audit,
        Area::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Board => "board",
            Area::Costs => "costs",
            Area::Analysis => "analysis",
            Area::Customers => "customers",
            Area::Complaints => "complaints",
            Area::Audit => "audit",
            Area::Admin => "admin",
        }
    }

    /// The roles that may read this area. Spend is company-confidential: the front
    /// desk and requesting salespeople see the visits and customers they serve, not
    /// what the company spends; the review of policy and satisfaction belongs to
    /// analysts and admins; the audit trail to auditors and admins.
    pub fn readers(self) -> &'static [Role] {
        use Role::*;
        match self {
            Area::Board | Area::Customers | Area::Complaints => &Role::ALL_HUMAN,
            Area::Costs => &[Admin, Reception, Approver, Finance, Auditor, Analyst],
            Area::Analysis => &[Admin, Analyst],
            Area::Audit => &[Admin, Auditor],
            Area::Admin => &[Admin],
        }
    }
}

impl Role {
    /// True when this role may read `area`.
    pub fn may_read(self, area: Area) -> bool {
        self == Role::System || area.readers().contains(&self)
    }

    /// The areas this role may read, in navigation order.
    pub fn areas(self) -> Vec<Area> {
        Area::ALL
            .into_iter()
            .filter(|a| self.may_read(*a))
            .collect()
    }

    /// True for roles that never write (API.md: auditors and analysts).
    pub fn read_only(self) -> bool {
        matches!(self, Role::Auditor | Role::Analyst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_human_role_reads_the_board_and_only_admins_administer() {
        for role in Role::ALL_HUMAN {
            assert!(role.may_read(Area::Board), "{role:?}");
            assert_eq!(role.may_read(Area::Admin), role == Role::Admin, "{role:?}");
        }
    }

    #[test]
    fn the_front_desk_sees_no_spend_and_analysts_see_the_review() {
        assert!(!Role::Frontdesk.may_read(Area::Costs));
        assert!(!Role::Requester.may_read(Area::Costs));
        assert!(Role::Analyst.may_read(Area::Analysis));
        assert!(!Role::Finance.may_read(Area::Analysis));
        assert_eq!(
            Role::Frontdesk.areas(),
            vec![Area::Board, Area::Customers, Area::Complaints]
        );
    }
}
