//! The staff directory (issue 20): the people the service tells things, with their
//! department, roles and contact points, in the single stream `staff`. Admin registers,
//! updates and retires members; a visit's host, staff, driver or approver may name a
//! member by id, and free-text names keep working (they simply reach nobody's inbox).
//!
//! A member's id is also the token user it signs in as, so `GET /api/v1/me/notifications`
//! finds a person's notifications by the token's user.

use std::collections::BTreeMap;

use chrono::NaiveTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aggregate::Aggregate;
use crate::common::{parse_json_body, DomainCommand, DomainError, DomainEvent, NamedSchema};
use crate::common::{NonEmptyText, Role};
use crate::context::Context;

/// A directory id: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit
/// (`li.na`, `wang-08`); the same string as the person's token user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StaffId(String);

impl StaffId {
    pub fn new(id: impl Into<String>) -> Result<StaffId, String> {
        let id: String = id.into();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
        let first_ok = id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if id.len() > 64 || !first_ok || !id.chars().all(ok_char) {
            return Err(
                "a staff id is 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
                    .into(),
            );
        }
        Ok(StaffId(id))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StaffId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        StaffId::new(s)
    }
}

impl From<StaffId> for String {
    fn from(s: StaffId) -> String {
        s.0
    }
}

impl JsonSchema for StaffId {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StaffId".into()
    }
    fn json_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$",
        })
    }
}

/// What a member does, for the rules' recipients ("the department's head", "approvers").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// The reception office.
    Reception,
    /// A department manager who approves requests of their department (V22).
    Approver,
    /// The general manager's approval of special visits (V22).
    GeneralManager,
    /// The head of a department (C2: told of a major complaint within 10 minutes).
    Head,
    Driver,
    Frontdesk,
    Finance,
    /// Anyone else (hosts, accompanying staff).
    Staff,
}

/// The language a member's messages are written in (Chinese unless they chose English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// A daily window in the business time zone in which nothing that is not urgent is
/// sent outside the dashboard (`from` 22:00, `to` 07:00: over midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[schemars(schema_with = "crate::bounds::time_of_day_schema")]
    pub from: NaiveTime,
    #[schemars(schema_with = "crate::bounds::time_of_day_schema")]
    pub to: NaiveTime,
}

impl QuietHours {
    /// True when `t` falls inside the window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.from <= self.to {
            t >= self.from && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

/// Where a member can be reached besides the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// WeCom (企业微信) user id, mentioned by the group robot.
    #[serde(default)]
    pub wecom: Option<String>,
    /// DingTalk (钉钉) user id.
    #[serde(default)]
    pub dingtalk: Option<String>,
    /// Feishu (飞书) user id.
    #[serde(default)]
    pub feishu: Option<String>,
}

/// One person in the directory, as registered or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub id: StaffId,
    pub name: NonEmptyText,
    #[serde(default)]
    pub department: Option<NonEmptyText>,
    #[serde(default)]
    pub roles: Vec<StaffRole>,
    #[serde(default)]
    pub contacts: Contacts,
    #[serde(default)]
    pub lang: Lang,
    /// Overrides the rules' default quiet hours for this person.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// A manager's option: what is not urgent comes once a day in one digest.
    #[serde(default)]
    pub digest: bool,
}

impl StaffMember {
    /// Refuses contact points that cannot be addressed, naming the field.
    fn check(&self) -> Result<(), DomainError> {
        let c = &self.contacts;
        if let Some(email) = &c.email {
            let (local, domain) = email.split_once('@').unwrap_or(("", ""));
            let bad = local.is_empty()
                || !domain.contains('.')
                || email.len() > 254
                || email
                    .chars()
                    .any(|ch| ch.is_whitespace() || ch.is_control())
                || domain.contains('@');
            if bad {
                return Err(DomainError::invalid(
                    "contacts.email",
                    "contacts.email: not an e-mail address",
                ));
            }
        }
        if let Some(phone) = &c.phone {
            let ok = phone.len() <= 32
                && phone.chars().any(|ch| ch.is_ascii_digit())
                && phone
                    .chars()
                    .all(|ch| ch.is_ascii_digit() || "+- ()".contains(ch));
            if !ok {
                return Err(DomainError::invalid(
                    "contacts.phone",
                    "contacts.phone: digits, spaces, '+', '-' and parentheses only",
                ));
            }
        }
        for (field, v) in [
            ("contacts.wecom", &c.wecom),
            ("contacts.dingtalk", &c.dingtalk),
            ("contacts.feishu", &c.feishu),
        ] {
            if let Some(v) = v {
                if v.is_empty() || v.len() > 128 || v.chars().any(|ch| ch.is_control()) {
                    return Err(DomainError::invalid(
                        field,
                        format!("{field}: 1 to 128 characters, no control characters"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `retire`: the member leaves the directory (their past notifications stay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireStaff {
    pub id: StaffId,
}

/// Commands on the directory (admin only).
#[derive(Debug, Clone, PartialEq)]
pub enum StaffCommand {
    Register(StaffMember),
    Update(StaffMember),
    Retire(RetireStaff),
}

impl DomainCommand for StaffCommand {
    fn parse(name: &str, body: serde_json::Value) -> Result<Self, DomainError> {
        match name {
            "register" => Ok(StaffCommand::Register(parse_json_body(body)?)),
            "update" => Ok(StaffCommand::Update(parse_json_body(body)?)),
            "retire" => Ok(StaffCommand::Retire(parse_json_body(body)?)),
            other => Err(DomainError::not_found(
                "command",
                format!("no staff command named {other:?}"),
            )),
        }
    }
    fn name(&self) -> &'static str {
        match self {
            StaffCommand::Register(_) => "register",
            StaffCommand::Update(_) => "update",
            StaffCommand::Retire(_) => "retire",
        }
    }
    fn allowed_roles(&self) -> &'static [Role] {
        &[Role::Admin, Role::System]
    }
    fn schemas() -> Vec<NamedSchema> {
        let one = |name, schema| NamedSchema {
            name,
            version: 1,
            schema,
        };
        vec![
            one("register", schemars::schema_for!(StaffMember)),
            one("update", schemars::schema_for!(StaffMember)),
            one("retire", schemars::schema_for!(RetireStaff)),
        ]
    }
}

/// Events of the `staff` stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StaffEvent {
    StaffMemberRegistered(StaffMember),
    StaffMemberUpdated(StaffMember),
    StaffMemberRetired(RetireStaff),
}

impl DomainEvent for StaffEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StaffEvent::StaffMemberRegistered(_) => "StaffMemberRegistered",
            StaffEvent::StaffMemberUpdated(_) => "StaffMemberUpdated",
            StaffEvent::StaffMemberRetired(_) => "StaffMemberRetired",
        }
    }
    fn schema(&self) -> u32 {
        1
    }
    fn to_data(&self) -> serde_json::Value {
        match self {
            StaffEvent::StaffMemberRegistered(m) | StaffEvent::StaffMemberUpdated(m) => {
                serde_json::to_value(m)
            }
            StaffEvent::StaffMemberRetired(r) => serde_json::to_value(r),
        }
        .expect("a staff event serialises")
    }
    fn from_stored(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
        let member = || StaffMember::deserialize(data).map_err(|e| format!("{event_type}: {e}"));
        match event_type {
            "StaffMemberRegistered" => member().map(StaffEvent::StaffMemberRegistered),
            "StaffMemberUpdated" => member().map(StaffEvent::StaffMemberUpdated),
            "StaffMemberRetired" => RetireStaff::deserialize(data)
                .map(StaffEvent::StaffMemberRetired)
                .map_err(|e| format!("{event_type}: {e}")),
            other => Err(format!("unknown staff event type {other:?}")),
        }
    }
    fn schemas() -> Vec<NamedSchema> {
        let one = |name, schema| NamedSchema {
            name,
            version: 1,
            schema,
        };
        vec![
            one("StaffMemberRegistered", schemars::schema_for!(StaffMember)),
            one("StaffMemberUpdated", schemars::schema_for!(StaffMember)),
            one("StaffMemberRetired", schemars::schema_for!(RetireStaff)),
        ]
    }
}

/// The directory (stream `staff`): the members in service, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Directory {
    pub members: BTreeMap<StaffId, StaffMember>,
    #[serde(skip)]
    version: u64,
}

impl Directory {
    /// The member with this id.
    pub fn get(&self, id: &str) -> Option<&StaffMember> {
        StaffId::new(id).ok().and_then(|id| self.members.get(&id))
    }

    /// The member a visit's free text names: by directory id, else by a name that
    /// exactly one member carries; `None` for a name the directory does not know.
    pub fn resolve(&self, text: &str) -> Option<&StaffMember> {
        let text = text.trim();
        if let Some(m) = self.get(text) {
            return Some(m);
        }
        let mut named = self.members.values().filter(|m| m.name.as_str() == text);
        match (named.next(), named.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    }

    /// Members with `role`, in `department` when given, by id.
    pub fn with_role<'a>(
        &'a self,
        role: StaffRole,
        department: Option<&'a str>,
    ) -> impl Iterator<Item = &'a StaffMember> + 'a {
        self.members.values().filter(move |m| {
            m.roles.contains(&role)
                && department
                    .is_none_or(|d| m.department.as_ref().is_some_and(|md| md.as_str() == d))
        })
    }
}

impl Aggregate for Directory {
    type Command = StaffCommand;
    type Event = StaffEvent;
    const KIND: &'static str = "staff";

    fn version(&self) -> u64 {
        self.version
    }
    /// The directory always "exists": registering the first member creates it.
    fn exists(&self) -> bool {
        true
    }
    fn decide(&self, command: StaffCommand, ctx: &Context) -> Result<Vec<StaffEvent>, DomainError> {
        if !command.allowed_roles().contains(&ctx.actor.role) {
            return Err(DomainError::forbidden(format!(
                "role {} may not change the staff directory (admin only)",
                ctx.actor.role.as_str()
            )));
        }
        match command {
            StaffCommand::Register(m) => {
                m.check()?;
                if self.members.contains_key(&m.id) {
                    return Err(DomainError::state(format!(
                        "staff member {} is already registered; update it instead",
                        m.id.as_str()
                    ))
                    .with_field("id"));
                }
                Ok(vec![StaffEvent::StaffMemberRegistered(m)])
            }
            StaffCommand::Update(m) => {
                m.check()?;
                match self.members.get(&m.id) {
                    None => Err(DomainError::not_found(
                        "id",
                        format!("no staff member {}", m.id.as_str()),
                    )),
                    Some(old) if *old == m => Ok(vec![]),
                    Some(_) => Ok(vec![StaffEvent::StaffMemberUpdated(m)]),
                }
            }
            StaffCommand::Retire(r) => {
                if !self.members.contains_key(&r.id) {
                    return Err(DomainError::not_found(
                        "id",
                        format!("no staff member {}", r.id.as_str()),
                    ));
                }
                Ok(vec![StaffEvent::StaffMemberRetired(r)])
            }
        }
    }
    fn evolve(mut self, event: &StaffEvent) -> Self {
        match event {
            StaffEvent::StaffMemberRegistered(m) | StaffEvent::StaffMemberUpdated(m) => {
                self.members.insert(m.id.clone(), m.clone());
            }
            StaffEvent::StaffMemberRetired(r) => {
                self.members.remove(&r.id);
            }
        }
        self.version += 1;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Actor;
    use serde_json::json;

    fn ctx(role: Role) -> Context {
        Context {
            now: chrono::DateTime::parse_from_rfc3339("2026-11-20T09:00:00+08:00").unwrap(),
            actor: Actor {
                user: "admin".into(),
                role,
            },
            policies: crate::policy_book::PolicyBook::with_default(),
            entity_id: uuid::Uuid::nil(),
            linked_visit: None,
        }
    }

    fn run(dir: Directory, name: &str, body: serde_json::Value) -> Result<Directory, DomainError> {
        let events = dir.decide(StaffCommand::parse(name, body)?, &ctx(Role::Admin))?;
        Ok(events.iter().fold(dir, |d, e| d.evolve(e)))
    }

    #[test]
    fn admin_registers_updates_and_retires_and_names_resolve() {
        let d = run(Directory::default(), "register", json!({"id": "li.na", "name": "李娜",
            "department": "east-sales", "roles": ["head"], "contacts": {"email": "li.na@example.com"}}))
        .unwrap();
        assert_eq!(d.resolve("li.na").unwrap().name.as_str(), "李娜");
        assert_eq!(d.resolve("李娜").unwrap().id.as_str(), "li.na");
        assert!(d.resolve("Someone Else").is_none());
        assert_eq!(d.with_role(StaffRole::Head, Some("east-sales")).count(), 1);
        assert_eq!(d.with_role(StaffRole::Head, Some("west")).count(), 0);
        let again = run(d.clone(), "register", json!({"id": "li.na", "name": "x"}));
        assert_eq!(again.unwrap_err().field.as_deref(), Some("id"));
        let d = run(d, "retire", json!({"id": "li.na"})).unwrap();
        assert!(d.members.is_empty());
    }

    #[test]
    fn bad_contact_points_and_ids_are_refused_naming_the_field() {
        let bad = run(
            Directory::default(),
            "register",
            json!({"id": "a", "name": "A", "contacts": {"email": "not-an-address"}}),
        );
        assert_eq!(bad.unwrap_err().field.as_deref(), Some("contacts.email"));
        let bad = run(
            Directory::default(),
            "register",
            json!({"id": "A B", "name": "A"}),
        );
        assert_eq!(bad.unwrap_err().field.as_deref(), Some("id"));
        let forbidden = Directory::default().decide(
            StaffCommand::parse("retire", json!({"id": "a"})).unwrap(),
            &ctx(Role::Reception),
        );
        assert_eq!(
            forbidden.unwrap_err().kind,
            crate::common::ErrorKind::Forbidden
        );
    }

    #[test]
    fn quiet_hours_span_midnight() {
        let q = QuietHours {
            from: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
        };
        assert!(q.contains(NaiveTime::from_hms_opt(3, 0, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    }
}
