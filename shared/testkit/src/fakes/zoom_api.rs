//! Zoom as the use cases see it: its meetings API ([`FakeZoomMeetings`]) and its OAuth
//! ([`FakeZoomOAuth`]), with Zoom's observable rules: a meeting has an id and a join URL,
//! a deleted one cannot be moved; a refresh token serves once and its successor replaces
//! it; a revoked grant refuses every refresh.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    AuthorizationRequest, CalendarError, CalendarErrorKind, ZoomAuthError, ZoomAuthErrorKind,
    ZoomAuthorization, ZoomGrant, ZoomMeeting, ZoomMeetings, ZoomRequest, ZoomUser,
};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

/// A meeting as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeMeeting {
    pub id: String,
    pub host: EmailAddress,
    pub topic: String,
    pub start: Timestamp,
    pub duration_minutes: u32,
    pub time_zone: String,
    pub join_url: String,
    /// The access token it was made or last moved with.
    pub access: String,
}

#[derive(Default)]
struct MeetingsState {
    meetings: BTreeMap<String, FakeMeeting>,
    failures: BTreeMap<&'static str, VecDeque<CalendarErrorKind>>,
    calls: Vec<String>,
    made: u64,
}

/// The fake meetings API. Every call is recorded (`create:<host>`, `reschedule:<id>`,
/// `delete:<id>`).
#[derive(Default)]
pub struct FakeZoomMeetings {
    state: Mutex<MeetingsState>,
}

impl FakeZoomMeetings {
    fn with<T>(&self, f: impl FnOnce(&mut MeetingsState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The next call of `operation` (`create`, `reschedule`, `delete`) fails with `kind`;
    /// calling again queues another failure.
    pub fn fail_next(&self, operation: &'static str, kind: CalendarErrorKind) {
        self.with(|s| s.failures.entry(operation).or_default().push_back(kind));
    }

    /// Someone deletes the meeting in Zoom.
    pub fn delete(&self, id: &str) {
        self.with(|s| s.meetings.remove(id));
    }

    pub fn meetings(&self) -> Vec<FakeMeeting> {
        self.with(|s| s.meetings.values().cloned().collect())
    }

    pub fn calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.with(|s| s.calls.iter().filter(|c| c.starts_with(prefix)).count())
    }
}

impl MeetingsState {
    fn failure(&mut self, operation: &'static str) -> Result<(), CalendarError> {
        match self
            .failures
            .get_mut(operation)
            .and_then(VecDeque::pop_front)
        {
            Some(kind) => Err(CalendarError::new(
                operation,
                kind,
                std::io::Error::other("scripted Zoom failure (fake)"),
            )),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl ZoomMeetings for FakeZoomMeetings {
    async fn create(
        &self,
        access: &SecretString,
        meeting: &ZoomRequest,
    ) -> Result<ZoomMeeting, CalendarError> {
        self.with(|s| {
            s.calls.push(format!("create:{}", meeting.host));
            s.failure("create")?;
            s.made += 1;
            let id = format!("{}", 81_000_000_000 + s.made);
            let join_url = format!("https://zoom.example/j/{id}");
            s.meetings.insert(
                id.clone(),
                FakeMeeting {
                    id: id.clone(),
                    host: meeting.host.clone(),
                    topic: meeting.topic.clone(),
                    start: meeting.start,
                    duration_minutes: meeting.duration_minutes,
                    time_zone: meeting.time_zone.clone(),
                    join_url: join_url.clone(),
                    access: access.expose_secret().to_owned(),
                },
            );
            Ok(ZoomMeeting { id, join_url })
        })
    }

    async fn reschedule(
        &self,
        access: &SecretString,
        meeting_id: &str,
        meeting: &ZoomRequest,
    ) -> Result<ZoomMeeting, CalendarError> {
        self.with(|s| {
            s.calls.push(format!("reschedule:{meeting_id}"));
            s.failure("reschedule")?;
            let Some(m) = s.meetings.get_mut(meeting_id) else {
                return Err(CalendarError::new(
                    "reschedule",
                    CalendarErrorKind::Failed,
                    std::io::Error::other("meeting not found (fake: Zoom 3001)"),
                ));
            };
            m.start = meeting.start;
            m.duration_minutes = meeting.duration_minutes;
            m.time_zone = meeting.time_zone.clone();
            m.access = access.expose_secret().to_owned();
            Ok(ZoomMeeting {
                id: m.id.clone(),
                join_url: m.join_url.clone(),
            })
        })
    }

    async fn delete(&self, _access: &SecretString, meeting_id: &str) -> Result<(), CalendarError> {
        self.with(|s| {
            s.calls.push(format!("delete:{meeting_id}"));
            s.failure("delete")?;
            s.meetings.remove(meeting_id);
            Ok(())
        })
    }
}

#[derive(Default)]
struct OAuthState {
    /// The live refresh token's number; `None` before consent or once revoked.
    live: Option<u64>,
    issued: u64,
    refreshes: u64,
    revoked: Vec<String>,
    failures: VecDeque<ZoomAuthErrorKind>,
}

/// The fake Zoom OAuth. Codes `code-<anything>` redeem (once is enough for the tests);
/// the verifier must be `verifier-<state>` as [`authorization_url`] made it. Tokens are
/// `zoom-at-<n>` and `zoom-rt-<n>`, each refresh giving the next pair, and access tokens
/// last an hour. `me` answers as `admin@acme.example` of account `zoom-acct-1`.
///
/// [`authorization_url`]: ZoomAuthorization::authorization_url
#[derive(Default)]
pub struct FakeZoomOAuth {
    state: Mutex<OAuthState>,
}

fn refused(kind: ZoomAuthErrorKind) -> ZoomAuthError {
    ZoomAuthError::new(
        "zoom oauth (fake)",
        kind,
        std::io::Error::other("scripted Zoom OAuth refusal (fake)"),
    )
}

impl FakeZoomOAuth {
    fn with<T>(&self, f: impl FnOnce(&mut OAuthState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn grant(s: &mut OAuthState) -> ZoomGrant {
        s.issued += 1;
        s.live = Some(s.issued);
        ZoomGrant {
            access_token: SecretString::from(format!("zoom-at-{}", s.issued)),
            refresh_token: SecretString::from(format!("zoom-rt-{}", s.issued)),
            expires_in: Duration::from_secs(3599),
        }
    }

    /// The admin removes the app from the Zoom account: every refresh is refused.
    pub fn revoke_grant(&self) {
        self.with(|s| s.live = None);
    }

    /// The next token call (redeem or refresh) fails with `kind`.
    pub fn fail_next(&self, kind: ZoomAuthErrorKind) {
        self.with(|s| s.failures.push_back(kind));
    }

    /// How many refreshes succeeded.
    pub fn refreshes(&self) -> u64 {
        self.with(|s| s.refreshes)
    }

    /// The tokens given back through `revoke`.
    pub fn revoked(&self) -> Vec<String> {
        self.with(|s| s.revoked.clone())
    }
}

#[async_trait]
impl ZoomAuthorization for FakeZoomOAuth {
    fn authorization_url(&self, state: &str) -> Result<AuthorizationRequest, ZoomAuthError> {
        Ok(AuthorizationRequest {
            url: format!("https://zoom.example/oauth/authorize?state={state}"),
            verifier: SecretString::from(format!("verifier-{state}")),
        })
    }

    async fn redeem(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<ZoomGrant, ZoomAuthError> {
        self.with(|s| {
            if let Some(kind) = s.failures.pop_front() {
                return Err(refused(kind));
            }
            if !code.starts_with("code-") || !verifier.expose_secret().starts_with("verifier-") {
                return Err(refused(ZoomAuthErrorKind::InvalidGrant));
            }
            Ok(Self::grant(s))
        })
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<ZoomGrant, ZoomAuthError> {
        self.with(|s| {
            if let Some(kind) = s.failures.pop_front() {
                return Err(refused(kind));
            }
            let live = s.live.map(|n| format!("zoom-rt-{n}"));
            if live.as_deref() != Some(refresh_token.expose_secret()) {
                return Err(refused(ZoomAuthErrorKind::InvalidGrant));
            }
            s.refreshes += 1;
            Ok(Self::grant(s))
        })
    }

    async fn revoke(&self, token: &SecretString) -> Result<(), ZoomAuthError> {
        self.with(|s| {
            s.revoked.push(token.expose_secret().to_owned());
            if s.live.map(|n| format!("zoom-rt-{n}")).as_deref() == Some(token.expose_secret()) {
                s.live = None;
            }
            Ok(())
        })
    }

    async fn me(&self, access_token: &SecretString) -> Result<ZoomUser, ZoomAuthError> {
        if !access_token.expose_secret().starts_with("zoom-at-") {
            return Err(refused(ZoomAuthErrorKind::InvalidGrant));
        }
        Ok(ZoomUser {
            email: EmailAddress::parse("admin@acme.example").expect("a valid address"),
            account_id: "zoom-acct-1".into(),
        })
    }
}
