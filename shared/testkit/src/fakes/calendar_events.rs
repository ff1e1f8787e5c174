//! A seat's calendar events in memory, behaving like the providers where the booking
//! confirmation can tell: a create with a key already used returns the event that key made,
//! unmoved (Graph's `transactionId`, Google's event id); event ids are the provider's own,
//! not the key; a Meet conference can stay pending for a few reads; a video meeting can be
//! refused while the event is still made, or refused outright (the event is not made).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::contract::Provider;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    CalendarError, CalendarErrorKind, CalendarEvent, CalendarEvents, EventRequest, ProviderVideo,
    VideoState,
};
use jiff::Timestamp;
use secrecy::SecretString;

/// How the video meeting of the next events created with one turns out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoScript {
    /// Ready at once, with `https://video.example/<event id>`.
    #[default]
    Ready,
    /// Pending for this many reads (`get`) after the create, then ready.
    PendingFor(u32),
    /// Never ready.
    PendingForever,
    /// The event is made without a meeting (Teams without a licence, a failed Meet).
    Refused,
    /// The create itself is refused with this kind whenever it asks for a meeting (Meet
    /// not allowed, a video user unknown); without a meeting it succeeds.
    RefusedOutright(CalendarErrorKind),
}

/// An event the fake calendar holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEvent {
    pub id: String,
    pub key: String,
    pub provider: Provider,
    pub owner: EmailAddress,
    /// As created (its times are the first ones).
    pub request: EventRequest,
    pub start: Timestamp,
    pub end: Timestamp,
    pub video: VideoState,
    pending_reads: Option<u32>,
}

#[derive(Default)]
struct State {
    events: BTreeMap<String, FakeEvent>,
    script: VideoScript,
    /// The next calls of an operation (`create`, `get`, `reschedule`) fail with these.
    failures: BTreeMap<&'static str, VecDeque<CalendarErrorKind>>,
    /// The next creates make the event but their answer is lost (a timeout).
    lost_answers: u32,
    calls: Vec<String>,
    made: u32,
}

/// The fake calendar. Every call is recorded (`create:<key>`, `get:<id>`,
/// `reschedule:<id>`, `cancel:<id>`).
#[derive(Default)]
pub struct FakeCalendarEvents {
    state: Mutex<State>,
}

fn error(operation: &'static str, kind: CalendarErrorKind) -> CalendarError {
    CalendarError::new(
        operation,
        kind,
        std::io::Error::other("scripted calendar failure (fake)"),
    )
}

impl FakeCalendarEvents {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// How the video meetings of the next events turn out.
    pub fn video(&self, script: VideoScript) {
        self.with(|s| s.script = script);
    }

    /// The next call of `operation` (`create`, `get`, `reschedule`, `cancel`) fails with
    /// `kind`; calling again queues another failure.
    pub fn fail_next(&self, operation: &'static str, kind: CalendarErrorKind) {
        self.with(|s| s.failures.entry(operation).or_default().push_back(kind));
    }

    /// The next create makes its event, then fails as if its answer were lost.
    pub fn lose_next_answer(&self) {
        self.with(|s| s.lost_answers += 1);
    }

    /// The recruiter deletes the event from their calendar.
    pub fn delete(&self, id: &str) {
        self.with(|s| s.events.remove(id));
    }

    pub fn events(&self) -> Vec<FakeEvent> {
        self.with(|s| s.events.values().cloned().collect())
    }

    pub fn calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    /// How many calls started with `prefix` (`create`, `reschedule`...).
    pub fn count(&self, prefix: &str) -> usize {
        self.with(|s| s.calls.iter().filter(|c| c.starts_with(prefix)).count())
    }
}

impl State {
    fn failure(&mut self, operation: &'static str) -> Result<(), CalendarError> {
        match self
            .failures
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
        {
            Some(kind) => Err(error(operation, kind)),
            None => Ok(()),
        }
    }

    fn answer(event: &FakeEvent) -> CalendarEvent {
        CalendarEvent {
            id: event.id.clone(),
            start: event.start,
            end: event.end,
            video: event.video.clone(),
        }
    }

    /// Reading an event moves a pending meeting along.
    fn read(&mut self, id: &str) -> Option<CalendarEvent> {
        let event = self.events.get_mut(id)?;
        if let Some(left) = event.pending_reads.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                event.pending_reads = None;
                event.video = VideoState::Ready {
                    join_url: format!("https://video.example/{}", event.id),
                };
            }
        }
        Some(Self::answer(event))
    }
}

#[async_trait]
impl CalendarEvents for FakeCalendarEvents {
    async fn create(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        _access: &SecretString,
        request: &EventRequest,
    ) -> Result<CalendarEvent, CalendarError> {
        self.with(|s| {
            s.calls.push(format!("create:{}", request.key));
            s.failure("create")?;
            if let Some(found) = s.events.values().find(|e| e.key == request.key) {
                return Ok(State::answer(found));
            }
            let asks_video = request.video != ProviderVideo::None;
            if let (true, VideoScript::RefusedOutright(kind)) = (asks_video, s.script) {
                return Err(error("create", kind));
            }
            s.made += 1;
            let id = format!("evt-{}", s.made);
            let (video, pending_reads) = match (asks_video, s.script) {
                (false, _) => (VideoState::NotAsked, None),
                (true, VideoScript::Ready) => (
                    VideoState::Ready {
                        join_url: format!("https://video.example/{id}"),
                    },
                    None,
                ),
                (true, VideoScript::PendingFor(n)) => (VideoState::Pending, Some(n.max(1))),
                (true, VideoScript::PendingForever) => (VideoState::Pending, None),
                (true, VideoScript::Refused | VideoScript::RefusedOutright(_)) => (
                    VideoState::Refused {
                        detail: "no video licence (fake)".into(),
                    },
                    None,
                ),
            };
            let event = FakeEvent {
                id: id.clone(),
                key: request.key.clone(),
                provider,
                owner: owner.clone(),
                request: request.clone(),
                start: request.start,
                end: request.end,
                video,
                pending_reads,
            };
            let answer = State::answer(&event);
            s.events.insert(id, event);
            if s.lost_answers > 0 {
                s.lost_answers -= 1;
                return Err(error("create", CalendarErrorKind::Temporary));
            }
            Ok(answer)
        })
    }

    async fn get(
        &self,
        _provider: Provider,
        _owner: &EmailAddress,
        _access: &SecretString,
        event_id: &str,
    ) -> Result<Option<CalendarEvent>, CalendarError> {
        self.with(|s| {
            s.calls.push(format!("get:{event_id}"));
            s.failure("get")?;
            Ok(s.read(event_id))
        })
    }

    async fn reschedule(
        &self,
        _provider: Provider,
        _owner: &EmailAddress,
        _access: &SecretString,
        event_id: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<CalendarEvent, CalendarError> {
        self.with(|s| {
            s.calls.push(format!("reschedule:{event_id}"));
            s.failure("reschedule")?;
            let Some(event) = s.events.get_mut(event_id) else {
                // As the providers answer a move of an event that is gone: 404.
                return Err(error("reschedule", CalendarErrorKind::Failed));
            };
            event.start = start;
            event.end = end;
            Ok(State::answer(event))
        })
    }

    async fn cancel(
        &self,
        _provider: Provider,
        _owner: &EmailAddress,
        _access: &SecretString,
        event_id: &str,
    ) -> Result<(), CalendarError> {
        self.with(|s| {
            s.calls.push(format!("cancel:{event_id}"));
            s.failure("cancel")?;
            s.events.remove(event_id);
            Ok(())
        })
    }
}
