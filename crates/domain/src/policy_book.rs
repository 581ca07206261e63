//! The reception policy as versioned data (levels, caps, allowances) and the book of all
//! published versions, below [`crate::context`] which carries the book; the `policy`
//! aggregate that publishes new versions (V20) is in [`crate::policy`].
//!
//! The default version 1 (DOMAIN.md's table) ships as `ops/policy-v1.json` and is
//! compiled in by [`Policy::default_v1`].
//!
//! ```
//! use reception_domain::policy::{CapKind, LevelId, Policy};
//! let policy = Policy::default_v1();
//! let ordinary = policy.level(&LevelId::parse("ordinary").unwrap()).unwrap();
//! // an ordinary dinner for 4 visitors: 400 + 50 × 2 = 500 yuan
//! assert_eq!(ordinary.cap_for(CapKind::Dinner, 4).unwrap().fen(), 50_000);
//! ```

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DomainError, Fen};

/// The default policy version 1 as shipped in `ops/policy-v1.json`.
pub const DEFAULT_POLICY_V1_JSON: &str = include_str!("../../../ops/policy-v1.json");

/// A policy level id (`ordinary`, `senior`, `special`, or a company's own): 1–32
/// characters of lowercase ASCII letters, digits, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LevelId(String);

impl JsonSchema for LevelId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LevelId".into()
    }
    fn json_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A policy level id: 1-32 of a-z, 0-9, '_' or '-'.",
            "type": "string",
            "pattern": "^[a-z0-9_-]{1,32}$"
        })
    }
}

impl LevelId {
    /// Parses a level id; rejects empty, too long or non-`[a-z0-9_-]` ids.
    pub fn parse(s: &str) -> Result<LevelId, DomainError> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(LevelId(s.to_string()))
        } else {
            Err(DomainError::invalid(
                "level",
                format!("level id {s:?} must be 1-32 characters of a-z, 0-9, '_' or '-'"),
            ))
        }
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LevelId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        LevelId::parse(&s).map_err(|e| e.message)
    }
}

impl From<LevelId> for String {
    fn from(l: LevelId) -> String {
        l.0
    }
}

impl std::fmt::Display for LevelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who pays: the company or the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaidBy {
    Company,
    Visitor,
}

/// An approval a request needs before reception assigns its level (V22).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRole {
    DepartmentManager,
    GeneralManager,
}

impl ApprovalRole {
    /// The snake_case id.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalRole::DepartmentManager => "department_manager",
            ApprovalRole::GeneralManager => "general_manager",
        }
    }
}

/// A cap with its per-visitor surcharge beyond two visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Cap {
    pub cap_fen: Fen,
    pub surcharge_fen: Fen,
}

impl Cap {
    /// `cap + surcharge × max(0, N − 2)`; `None` only on arithmetic overflow.
    pub fn for_party(&self, party_size: u32) -> Option<Fen> {
        let extra = i64::from(party_size.saturating_sub(2));
        self.cap_fen
            .checked_add(self.surcharge_fen.checked_mul(extra)?)
    }
}

/// Lunch and dinner caps: per party (a cap plus one surcharge per visitor beyond two),
/// or per person (V25, seed 004) when `per_person_fen` is set. A `null` cap is
/// uncapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MealCaps {
    #[serde(default)]
    pub lunch_cap_fen: Option<Fen>,
    #[serde(default)]
    pub dinner_cap_fen: Option<Fen>,
    #[serde(default)]
    pub surcharge_fen: Fen,
    /// V25: caps per visitor instead of per party; replaces the party caps when set.
    #[serde(default)]
    pub per_person_fen: Option<PerPersonMeals>,
}

/// V25: meal caps per visitor (`null`: uncapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PerPersonMeals {
    #[serde(default)]
    pub lunch: Option<Fen>,
    #[serde(default)]
    pub dinner: Option<Fen>,
}

/// Lodging rules of a level. For company-paid lodging the star and rate bounds apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LodgingPolicy {
    pub paid_by: PaidBy,
    #[serde(default)]
    pub min_stars: Option<u8>,
    #[serde(default)]
    pub max_stars: Option<u8>,
    /// Lowest allowed rate per room-night.
    #[serde(default)]
    pub min_rate_fen: Option<Fen>,
    /// Highest allowed rate per room-night (the lodging cap is this × rooms × nights).
    #[serde(default)]
    pub max_rate_fen: Option<Fen>,
}

/// Home reception by senior staff, with how many senior staff take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HomeReception {
    pub min_staff: u8,
    pub max_staff: u8,
}

/// One level of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LevelPolicy {
    pub id: LevelId,
    /// Who typically gets this level (free text).
    #[serde(default)]
    pub who: String,
    pub lodging: LodgingPolicy,
    pub meals: MealCaps,
    /// `None`: entertainment / sightseeing not provided.
    #[serde(default)]
    pub entertainment: Option<Cap>,
    /// Accompanying staff roles allowed (snake_case ids).
    pub accompanying_roles: Vec<String>,
    /// Vehicle classes allowed (`suv`, `mpv`, `taxi`, `business_car`, `rented_premium`).
    pub vehicle_classes: Vec<String>,
    pub souvenirs: bool,
    /// `None`: no home reception.
    #[serde(default)]
    pub home_reception: Option<HomeReception>,
    /// The visit summary also goes to the general manager (V15: the special level).
    #[serde(default)]
    pub summary_to_general_manager: bool,
    /// V22: the approvals a request needs before reception assigns this level (none
    /// for policies published before approvals existed).
    #[serde(default)]
    pub approvals: Vec<ApprovalRole>,
    /// V25: the cap per gift item (`null`: uncapped).
    #[serde(default)]
    pub gift_item_cap_fen: Option<Fen>,
}

/// What a cap applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapKind {
    Lunch,
    Dinner,
    Entertainment,
}

impl LevelPolicy {
    /// The cap for a party of `party_size` visitors: `cap + surcharge × max(0, N − 2)`,
    /// or per person × N (V25). `None` when the level does not provide this kind
    /// (entertainment for `ordinary`) or leaves it uncapped (a `null` meal cap).
    pub fn cap_for(&self, kind: CapKind, party_size: u32) -> Option<Fen> {
        let meal = |party: Option<Fen>, per_person: fn(&PerPersonMeals) -> Option<Fen>| match &self
            .meals
            .per_person_fen
        {
            Some(pp) => per_person(pp)?.checked_mul(i64::from(party_size)),
            None => Cap {
                cap_fen: party?,
                surcharge_fen: self.meals.surcharge_fen,
            }
            .for_party(party_size),
        };
        match kind {
            CapKind::Lunch => meal(self.meals.lunch_cap_fen, |p| p.lunch),
            CapKind::Dinner => meal(self.meals.dinner_cap_fen, |p| p.dinner),
            CapKind::Entertainment => self.entertainment?.for_party(party_size),
        }
    }

    /// Whether a meal of this kind is capped at all (V25: `null` is uncapped).
    pub fn meal_capped(&self, kind: CapKind) -> bool {
        match (&self.meals.per_person_fen, kind) {
            (Some(pp), CapKind::Lunch) => pp.lunch.is_some(),
            (Some(pp), CapKind::Dinner) => pp.dinner.is_some(),
            (None, CapKind::Lunch) => self.meals.lunch_cap_fen.is_some(),
            (None, CapKind::Dinner) => self.meals.dinner_cap_fen.is_some(),
            (_, CapKind::Entertainment) => self.entertainment.is_some(),
        }
    }

    /// The lodging cap for company-paid lodging: top rate × rooms × nights. `Some(0)`
    /// when the level says the visitor pays (any company-paid lodging is over cap);
    /// `None` when the company pays but no top rate is set.
    pub fn lodging_cap(&self, rooms: u32, nights: u32) -> Option<Fen> {
        match self.lodging.paid_by {
            PaidBy::Visitor => Some(Fen::ZERO),
            PaidBy::Company => self
                .lodging
                .max_rate_fen?
                .checked_mul(i64::from(rooms))?
                .checked_mul(i64::from(nights)),
        }
    }

    /// True when `role` is one of the level's accompanying roles.
    pub fn allows_role(&self, role: &str) -> bool {
        self.accompanying_roles.iter().any(|r| r == role)
    }

    /// True when `class` is one of the level's vehicle classes.
    pub fn allows_vehicle(&self, class: &str) -> bool {
        self.vehicle_classes.iter().any(|c| c == class)
    }
}

/// One published policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Policy {
    #[schemars(range(min = 1))]
    pub version: u32,
    pub effective_from: DateTime<FixedOffset>,
    #[schemars(length(min = 1))]
    pub levels: Vec<LevelPolicy>,
}

impl Policy {
    /// The default policy version 1 of DOMAIN.md, from `ops/policy-v1.json`.
    pub fn default_v1() -> Policy {
        let policy: Policy = serde_json::from_str(DEFAULT_POLICY_V1_JSON)
            .expect("ops/policy-v1.json is checked by the crate's tests");
        policy
    }

    /// The level with this id.
    pub fn level(&self, id: &LevelId) -> Option<&LevelPolicy> {
        self.levels.iter().find(|l| &l.id == id)
    }

    /// Checks the policy's own consistency: at least one level, unique ids, sane bounds.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.version == 0 {
            return Err(DomainError::invalid(
                "version",
                "policy versions start at 1",
            ));
        }
        if self.levels.is_empty() {
            return Err(DomainError::invalid(
                "levels",
                "a policy needs at least one level",
            ));
        }
        for (i, level) in self.levels.iter().enumerate() {
            let f = |name: &str| format!("levels[{i}].{name}");
            if self.levels[..i].iter().any(|l| l.id == level.id) {
                return Err(DomainError::invalid(
                    &f("id"),
                    format!("level id {} appears twice", level.id),
                ));
            }
            let lodging = &level.lodging;
            if let (Some(lo), Some(hi)) = (lodging.min_stars, lodging.max_stars) {
                if lo > hi {
                    return Err(DomainError::invalid(
                        &f("lodging.min_stars"),
                        "min_stars exceeds max_stars",
                    ));
                }
            }
            if lodging.max_stars.is_some_and(|s| s > 5) || lodging.min_stars.is_some_and(|s| s > 5)
            {
                return Err(DomainError::invalid(&f("lodging"), "stars run from 1 to 5"));
            }
            if let (Some(lo), Some(hi)) = (lodging.min_rate_fen, lodging.max_rate_fen) {
                if lo > hi {
                    return Err(DomainError::invalid(
                        &f("lodging.min_rate_fen"),
                        "min_rate_fen exceeds max_rate_fen",
                    ));
                }
            }
            if lodging.paid_by == PaidBy::Company && lodging.max_rate_fen.is_none() {
                return Err(DomainError::invalid(
                    &f("lodging.max_rate_fen"),
                    "company-paid lodging needs a top rate per room-night",
                ));
            }
            if let Some(h) = level.home_reception {
                if h.min_staff > h.max_staff {
                    return Err(DomainError::invalid(
                        &f("home_reception"),
                        "min_staff exceeds max_staff",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Every published policy version, in version order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBook {
    versions: Vec<Policy>,
}

impl PolicyBook {
    /// Appends a published version (the `policy` aggregate's `evolve`; `decide` checked
    /// it with [`PolicyBook::check_next`]).
    pub(crate) fn push(&mut self, policy: Policy) {
        self.versions.push(policy);
    }

    /// An empty book (no version published yet).
    pub fn new() -> PolicyBook {
        PolicyBook::default()
    }

    /// A book holding only [`Policy::default_v1`]: what the service uses before any
    /// `PolicyPublished` event exists.
    pub fn with_default() -> PolicyBook {
        PolicyBook {
            versions: vec![Policy::default_v1()],
        }
    }

    /// Builds a book from versions; they must be numbered 1, 2, 3, … with
    /// non-decreasing `effective_from`.
    pub fn from_versions(versions: Vec<Policy>) -> Result<PolicyBook, DomainError> {
        let mut book = PolicyBook::new();
        for p in versions {
            book.check_next(&p)?;
            book.versions.push(p);
        }
        Ok(book)
    }

    /// The version in force at `at`: the highest version whose `effective_from` ≤ `at`.
    pub fn in_force(&self, at: DateTime<FixedOffset>) -> Option<&Policy> {
        self.versions.iter().rev().find(|p| p.effective_from <= at)
    }

    /// Version `n`.
    pub fn version(&self, n: u32) -> Option<&Policy> {
        self.versions.iter().find(|p| p.version == n)
    }

    /// The highest published version.
    pub fn latest(&self) -> Option<&Policy> {
        self.versions.last()
    }

    /// All versions, oldest first.
    pub fn versions(&self) -> &[Policy] {
        &self.versions
    }

    /// Would `p` be accepted as the next version?
    pub fn check_next(&self, p: &Policy) -> Result<(), DomainError> {
        p.validate()?;
        let expected = self.latest().map_or(1, |l| l.version + 1);
        if p.version != expected {
            return Err(DomainError::invalid(
                "version",
                format!(
                    "the next policy version must be {expected}, not {}",
                    p.version
                ),
            )
            .with_rule("V20"));
        }
        if let Some(prev) = self.latest() {
            if p.effective_from < prev.effective_from {
                return Err(DomainError::invalid(
                    "effective_from",
                    format!(
                        "effective_from must not be before version {}'s ({})",
                        prev.version,
                        prev.effective_from.to_rfc3339()
                    ),
                )
                .with_rule("V20"));
            }
        }
        Ok(())
    }
}
