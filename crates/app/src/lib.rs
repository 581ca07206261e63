//! The command service: load an aggregate from the store, let the domain decide, append
//! the events with an expected version and answer; plus tokens, bootstrap and the C4
//! and C10 complaint processes. Knows no HTTP.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use reception_app::{App, AppConfig, ExecOptions, Target};
//! use reception_domain::{policy::PolicyState, Actor};
//! let store = reception_store::Store::open("./data")?;
//! let app = App::new(store, AppConfig::default());
//! app.bootstrap(std::path::Path::new("./data"))?;
//! let answer = app
//!     .execute::<PolicyState>(Target::Singleton, "publish", serde_json::json!({}), &Actor::system(), ExecOptions::default())
//!     .await;
//! # let _ = answer; Ok(()) }
//! ```

mod canonical;
mod error;
pub mod escalation;
mod linked;
mod outcome;
mod state_cache;

pub use linked::{upcaster, DomainUpcaster};
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, FixedOffset, Utc};
use reception_domain::policy::{Policy, PolicyBook, PolicyEvent, PolicyState};
use reception_domain::{Actor, Aggregate, Context, DomainCommand, DomainEvent};
use reception_store::{
    AppendError, AppendRequest, Envelope, ExpectedVersion, Idempotency, NewEvent, Store,
};
use tracing::instrument;
use uuid::Uuid;

pub use canonical::{canonical_json, fingerprint};
pub use error::AppError;
pub use outcome::{CommandOutcome, OutcomeEvent};
use state_cache::StateCache;
pub use state_cache::STATE_CACHE_CAPACITY;
pub use tokens::{TokenInfo, TokenRegistry, TOKENS_STREAM};

/// The server's clock: returns "now" with the configured offset. Injectable for tests.
pub type Clock = Arc<dyn Fn() -> DateTime<FixedOffset> + Send + Sync>;

/// How many times a command is re-decided after a concurrent append (no `If-Match`).
const CONFLICT_RETRIES: usize = 32;

/// Settings of the service.
#[derive(Clone)]
pub struct AppConfig {
    /// Business time zone: `now` carries its offset.
    pub tz: chrono_tz::Tz,
    /// Overrides the wall clock (tests, demo data).
    pub clock: Option<Clock>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            tz: chrono_tz::Asia::Shanghai,
            clock: None,
        }
    }
}

/// Which stream a command goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A new aggregate with a fresh uuid v7 (`POST /api/v1/visits`).
    Create,
    /// A new aggregate with a given id (a stream another command's event names, such as
    /// the complaint a return call raises, V30); it must not exist yet.
    CreateAs(Uuid),
    /// An existing aggregate `<KIND>-<id>`; a missing one is `NotFound`.
    Id(Uuid),
    /// The single stream named `KIND` (the policy).
    Singleton,
}

/// Per-request options of [`App::execute`].
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// `Idempotency-Key`: a repeat with the same fingerprint answers the first outcome.
    pub idempotency_key: Option<String>,
    /// `If-Match`: the stream's current version must equal it, else `VersionConflict`.
    pub if_match: Option<u64>,
    /// What identifies "the same request" besides user and body, e.g. `"POST /api/v1/visits"`.
    /// Defaults to `"<KIND>/<command>"`.
    pub route: Option<String>,
    /// Decide as of this time instead of the clock (demo data in the past); events then
    /// carry it as `occurred_at`.
    pub now: Option<DateTime<FixedOffset>>,
    /// F2: the visit the command names, looked up by the caller ([`App::linked_visit`]).
    pub linked_visit: Option<reception_domain::LinkedVisit>,
}

/// An aggregate loaded from its stream.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    pub stream: String,
    pub state: A,
    pub events: Vec<Envelope>,
}

/// The command service; cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    tz: chrono_tz::Tz,
    tokens: TokenRegistry,
    /// Cached policy book and the policy stream version it was built from.
    policy: Mutex<(u64, PolicyBook)>,
    /// Version of the `tokens` stream before the registry was loaded: following starts
    /// after it, so no token event replicated meanwhile is missed (applying one twice is
    /// harmless).
    tokens_loaded_at: u64,
    /// Folded aggregate states per stream (each a fold of stored events up to a version).
    states: StateCache,
}

impl App {
    /// Wraps an open store. Loads the token registry from the `tokens` stream.
    pub fn new(store: Store, config: AppConfig) -> App {
        let tz = config.tz;
        let clock = config
            .clock
            .unwrap_or_else(|| Arc::new(move || Utc::now().with_timezone(&tz).fixed_offset()));
        let tokens = TokenRegistry::new();
        let tokens_loaded_at = store.stream_version(TOKENS_STREAM).unwrap_or(0);
        let inner = Inner {
            store,
            clock,
            tz,
            tokens,
            policy: Mutex::new((0, PolicyBook::with_default())),
            tokens_loaded_at,
            states: StateCache::new(STATE_CACHE_CAPACITY),
        };
        let app = App {
            inner: Arc::new(inner),
        };
        if let Err(e) = app.inner.tokens.load(&app.inner.store) {
            tracing::error!(error = %e, "could not load the token registry");
        }
        app
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The token registry (verification, issue, revoke).
    pub fn tokens(&self) -> &TokenRegistry {
        &self.inner.tokens
    }

    /// The clock reading now, in the business time zone.
    pub fn now(&self) -> DateTime<FixedOffset> {
        (self.inner.clock)()
    }

    /// The business time zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.inner.tz
    }

    /// Keeps the token registry following the `tokens` stream (for tokens that arrive by replication).
    /// Runs until the store closes; spawn it.
    pub async fn follow_tokens(self) {
        let from = self.inner.tokens_loaded_at + 1;
        self.inner
            .tokens
            .follow_stream(self.inner.store.clone(), from)
            .await;
    }

    /// First start on an empty store: publishes `Policy::default_v1()` as the system and
    /// creates an admin token written to `<data_dir>/admin.token` (mode 0600). Returns the
    /// token file's path when one was created.
    pub fn bootstrap(&self, data_dir: &Path) -> Result<Option<PathBuf>, AppError> {
        let store = &self.inner.store;
        if store.stream_version(PolicyState::KIND)? == 0 {
            let ev = PolicyEvent::PolicyPublished(Policy::default_v1());
            let id = Uuid::now_v7();
            let req = AppendRequest {
                stream: PolicyState::KIND.into(),
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent {
                    id,
                    event_type: ev.event_type().into(),
                    schema: ev.schema(),
                    data: ev.to_data(),
                    occurred_at: None,
                    actor: store_actor(&Actor::system()),
                    correlation_id: id,
                    causation_id: id,
                }],
                idempotency: None,
            };
            match store.append_blocking(req) {
                Ok(_) | Err(AppendError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if self.inner.tokens.has_admin() {
            return Ok(None);
        }
        let token = self.inner.tokens.issue_blocking(
            store,
            "admin",
            reception_domain::Role::Admin,
            &Actor::system(),
        )?;
        let path = data_dir.join("admin.token");
        write_secret(&path, &token)?;
        Ok(Some(path))
    }

    /// The policy book in force for decisions (cached by policy stream version).
    pub fn policies(&self) -> Result<PolicyBook, AppError> {
        let v = self.inner.store.stream_version(PolicyState::KIND)?;
        {
            let cached = self.inner.policy.lock().expect("policy cache lock");
            if cached.0 == v && v > 0 {
                return Ok(cached.1.clone());
            }
        }
        let loaded = self.load::<PolicyState>(PolicyState::KIND, None)?;
        let book = loaded.state.book_or_default();
        *self.inner.policy.lock().expect("policy cache lock") = (v, book.clone());
        Ok(book)
    }

    /// Loads a stream and folds it, up to `as_of` (recorded time) when given.
    pub fn load<A: Aggregate>(
        &self,
        stream: &str,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Loaded<A>, AppError> {
        let mut state = A::default();
        let mut events = Vec::new();
        for env in self.inner.store.read_stream(stream, 1, as_of) {
            let env = env?;
            let ev = A::Event::from_stored(&env.event_type, &env.data).map_err(|e| {
                AppError::Internal(format!(
                    "stored event {} of {stream} unreadable: {e}",
                    env.seq
                ))
            })?;
            state = state.evolve(&ev);
            events.push(env);
        }
        Ok(Loaded {
            stream: stream.to_string(),
            state,
            events,
        })
    }

    /// The current state of a stream and its version, for deciding a command: the cached
    /// fold (if any) plus the events stored after its version, read and folded now. The
    /// result is kept for the next command. A cached fold is only ever a prefix of the
    /// stream, so this answers exactly what [`App::load`] would; a decision on it still
    /// goes through the append's expected-version check.
    fn load_current<A: Aggregate + Send + Sync + 'static>(
        &self,
        stream: &str,
    ) -> Result<(Arc<A>, u64), AppError> {
        let cached = self.inner.states.get::<A>(stream);
        let from = cached.as_ref().map_or(0, |(v, _)| *v);
        let mut newer = Vec::new();
        for env in self.inner.store.read_stream(stream, from + 1, None) {
            let env = env?;
            if env.version != from + 1 + newer.len() as u64 {
                return Err(AppError::Internal(format!(
                    "stream {stream}: expected version {} next, the store gave {}",
                    from + 1 + newer.len() as u64,
                    env.version
                )));
            }
            let ev = A::Event::from_stored(&env.event_type, &env.data).map_err(|e| {
                AppError::Internal(format!(
                    "stored event {} of {stream} unreadable: {e}",
                    env.seq
                ))
            })?;
            newer.push(ev);
        }
        // Nothing new: the cached fold is the current state, shared without a copy.
        // Otherwise the cached fold is copied once (the cache keeps its own), the new
        // events are folded on top, and the result is shared with the cache.
        let mut state = match cached {
            Some((_, s)) if newer.is_empty() => return Ok((s, from)),
            Some((_, s)) => Arc::unwrap_or_clone(s),
            None => A::default(),
        };
        if newer.is_empty() {
            return Ok((Arc::new(state), from));
        }
        for ev in &newer {
            state = state.evolve(ev);
        }
        let version = from + newer.len() as u64;
        let state = Arc::new(state);
        self.inner.states.put(stream, version, Arc::clone(&state));
        Ok((state, version))
    }

    /// How many streams' folded states are cached (for tests and metrics).
    pub fn cached_states(&self) -> usize {
        self.inner.states.len()
    }

    /// `history(stream, as_of)`: the envelopes recorded up to `as_of` and the state they
    /// produce; `NotFound` when the stream has no event (at that time).
    pub fn history<A: Aggregate>(
        &self,
        stream: &str,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Loaded<A>, AppError> {
        let loaded = self.load::<A>(stream, as_of)?;
        if loaded.events.is_empty() {
            return Err(AppError::NotFound(format!("{stream} not found")));
        }
        Ok(loaded)
    }

    /// Stream name of an aggregate id.
    pub fn stream_name<A: Aggregate>(id: Uuid) -> String {
        format!("{}-{}", A::KIND, id)
    }

    /// Runs one command: idempotency check, load, decide, append with the expected version.
    ///
    /// Its span is at debug level: at the default `info` filter it costs nothing per
    /// command (the request's `http` span still carries method and route).
    #[instrument(name = "execute", level = "debug", skip(self, body, actor, opts), fields(kind = A::KIND, command = command_name, role = actor.role.as_str()))]
    pub async fn execute<A: Aggregate + Send + Sync + 'static>(
        &self,
        target: Target,
        command_name: &str,
        body: serde_json::Value,
        actor: &Actor,
        opts: ExecOptions,
    ) -> Result<CommandOutcome, AppError> {
        let call_opts = opts.clone();
        // V30: only a return call that names a complaint opens one
        let raises_complaint = A::KIND == reception_domain::visit::Visit::KIND
            && command_name == "return-call"
            && body.get("complaint").is_some_and(|c| !c.is_null());
        let result = self
            .execute_inner::<A>(target, command_name, body, actor, opts)
            .await;
        if let Ok(o) = &result {
            if raises_complaint {
                // V30: the complaint the call raised gets its own stream; boxed, as
                // it runs this same command path for the complaint.
                Box::pin(self.open_call_complaint(o.id, actor, &call_opts)).await?;
            }
        }
        let outcome = match &result {
            Ok(o) if o.replayed => "replayed",
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        metrics::counter!("reception_commands_total", "kind" => A::KIND, "command" => command_label::<A>(command_name), "outcome" => outcome)
            .increment(1);
        result
    }

    /// [`App::execute`] deciding as of `now` (demo data in the past).
    pub async fn execute_at<A: Aggregate + Send + Sync + 'static>(
        &self,
        now: DateTime<FixedOffset>,
        target: Target,
        command_name: &str,
        body: serde_json::Value,
        actor: &Actor,
        mut opts: ExecOptions,
    ) -> Result<CommandOutcome, AppError> {
        opts.now = Some(now);
        self.execute::<A>(target, command_name, body, actor, opts)
            .await
    }

    async fn execute_inner<A: Aggregate + Send + Sync + 'static>(
        &self,
        target: Target,
        command_name: &str,
        body: serde_json::Value,
        actor: &Actor,
        opts: ExecOptions,
    ) -> Result<CommandOutcome, AppError> {
        reception_domain::bounds::check(&body)?;
        let route = opts
            .route
            .clone()
            .unwrap_or_else(|| format!("{}/{}", A::KIND, command_name));
        let target_part = match target {
            Target::Id(id) => id.to_string(),
            Target::Create => "new".into(),
            Target::CreateAs(id) => format!("new {id}"),
            Target::Singleton => A::KIND.into(),
        };
        let idem = opts.idempotency_key.as_ref().map(|key| {
            let fp = fingerprint(
                &format!("{route} {target_part} {command_name}"),
                &actor.user,
                &body,
            );
            (key.clone(), fp)
        });
        if let Some((key, fp)) = &idem {
            if let Some(prev) = self.replay(key, fp)? {
                return Ok(prev);
            }
        }
        let (id, stream) = match target {
            Target::Create => {
                let id = Uuid::now_v7();
                (id, Self::stream_name::<A>(id))
            }
            Target::Id(id) | Target::CreateAs(id) => (id, Self::stream_name::<A>(id)),
            Target::Singleton => (Uuid::nil(), A::KIND.to_string()),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (state, version) = self.load_current::<A>(&stream)?;
            if matches!(target, Target::Id(_)) && !state.exists() {
                return Err(AppError::NotFound(format!("{} {id} not found", A::KIND)));
            }
            if let Some(expected) = opts.if_match {
                if expected != version {
                    return Err(AppError::VersionConflict {
                        expected,
                        actual: version,
                    });
                }
            }
            let command = A::Command::parse(command_name, body.clone())?;
            let creates_entity = command.creates_entity();
            let now = match opts.now {
                Some(t) => t,
                None => self.now(),
            };
            // A created aggregate's id is its stream's uuid; otherwise a fresh id for whatever
            // the command creates inside the stream.
            let entity_id = if matches!(target, Target::Create | Target::CreateAs(_)) {
                id
            } else {
                Uuid::now_v7()
            };
            let ctx = Context {
                now,
                actor: actor.clone(),
                policies: self.policies()?,
                entity_id,
                linked_visit: opts.linked_visit.clone(),
            };
            let events = state.decide(command, &ctx)?;
            let created = version == 0 && !events.is_empty();
            // Each event is turned into its stored JSON once; the filing's `late` flag
            // is read from the same value.
            let datas: Vec<serde_json::Value> = events.iter().map(|e| e.to_data()).collect();
            let late = if created {
                datas
                    .first()
                    .and_then(|d| d.get("late").and_then(|l| l.as_bool()))
            } else {
                None
            };
            let entity_id = creates_entity.then_some(ctx.entity_id);
            if events.is_empty() {
                return Ok(CommandOutcome {
                    stream,
                    id,
                    version,
                    events: vec![],
                    entity_id,
                    late,
                    created: false,
                    replayed: false,
                });
            }
            let new_events = to_new_events(&events, datas, actor, opts.now);
            let meta = serde_json::json!({ "id": id, "entity_id": entity_id, "late": late, "created": created });
            let req = AppendRequest {
                stream: stream.clone(),
                expected: ExpectedVersion::Exact(version),
                events: new_events,
                idempotency: idem.as_ref().map(|(key, fp)| Idempotency {
                    key: key.clone(),
                    fingerprint: *fp,
                    meta,
                }),
            };
            let started = Instant::now();
            let res = self.inner.store.append(req).await;
            metrics::histogram!("reception_append_seconds").record(started.elapsed().as_secs_f64());
            match res {
                Ok(appended) => {
                    if !appended.replayed {
                        metrics::counter!("reception_events_total")
                            .increment(appended.events.len() as u64);
                    }
                    let replayed = appended.replayed;
                    let mut outcome = CommandOutcome::from_appended(appended);
                    if !replayed {
                        // The meta is only stored with an idempotency key; answer from
                        // what this decision made either way.
                        outcome.id = id;
                        outcome.created = created;
                        outcome.entity_id = entity_id;
                        outcome.late = late;
                    }
                    return Ok(outcome);
                }
                Err(AppendError::Conflict { actual, .. }) => {
                    if opts.if_match.is_some() || attempt > CONFLICT_RETRIES {
                        return Err(AppError::VersionConflict {
                            expected: version,
                            actual,
                        });
                    }
                    tracing::debug!(attempt, "concurrent append, deciding again");
                    tokio::task::yield_now().await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The stored answer of an earlier command with this key, if the fingerprint matches.
    fn replay(&self, key: &str, fp: &[u8; 32]) -> Result<Option<CommandOutcome>, AppError> {
        match self.inner.store.idempotency_result(key)? {
            Some((stored, _)) if &stored != fp => {
                Err(AppError::IdempotencyKeyReused(key.to_string()))
            }
            Some((_, appended)) => {
                let mut o = CommandOutcome::from_appended(appended);
                o.replayed = true;
                Ok(Some(o))
            }
            None => Ok(None),
        }
    }
}

/// The store's form of one decision's events: one command id correlates them all; an
/// event without its own time of occurrence takes `fallback` (a decision as of a past
/// `now`), else the store's recording time.
fn to_new_events<E: DomainEvent>(
    events: &[E],
    datas: Vec<serde_json::Value>,
    actor: &Actor,
    fallback: Option<DateTime<FixedOffset>>,
) -> Vec<NewEvent> {
    let command_id = Uuid::now_v7();
    events
        .iter()
        .zip(datas)
        .map(|(e, data)| NewEvent {
            id: Uuid::now_v7(),
            event_type: e.event_type().to_string(),
            schema: e.schema(),
            data,
            occurred_at: e.occurred_at().or(fallback),
            actor: store_actor(actor),
            correlation_id: command_id,
            causation_id: command_id,
        })
        .collect()
}

/// The store's actor record of a domain actor.
/// The command's name as a metric label when the aggregate knows it, else `unknown`:
/// a label taken from the URL as given would let any writer grow `/metrics` without
/// bound.
fn command_label<A: Aggregate>(name: &str) -> String {
    let unknown = matches!(
        A::Command::parse(name, serde_json::json!({})),
        Err(e) if e.kind == reception_domain::ErrorKind::NotFound && e.field.as_deref() == Some("command")
    );
    if unknown {
        "unknown".to_string()
    } else {
        name.to_string()
    }
}

pub fn store_actor(actor: &Actor) -> reception_store::Actor {
    reception_store::Actor {
        user: actor.user.clone(),
        role: actor.role.as_str().to_string(),
    }
}

/// Writes a secret (a token) to `path` with mode 0600, atomically: into a temporary
/// file beside it, fsynced, renamed over `path`, then the directory fsynced. A crash
/// leaves the old file or the new one, never a torn or world-readable one.
pub fn write_secret(path: &Path, content: &str) -> Result<(), AppError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |what: &str, e: std::io::Error| {
        AppError::Internal(format!("cannot {what} {}: {e}", path.display()))
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", Uuid::now_v7()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        writeln!(f, "{content}")?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("write", e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("write", e));
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("sync the directory of", e))
}
