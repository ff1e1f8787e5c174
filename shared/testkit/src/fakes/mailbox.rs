//! A scripted mailbox: the steps its changes come in, what reading a message again
//! answers, and what the sync asked of it. Also an access-token source that answers, or
//! refuses, without any provider.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hiresync_domain::connect_error::ConnectError;
use hiresync_domain::connection::{Connection, Cursor};
use hiresync_domain::contract::Provider;
use hiresync_domain::failure::Failure;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::ports::{
    AccessTokens, ChangePage, CursorUpdate, MailChange, MailItem, MailboxChanges, MailboxError,
    MailboxSource, Resync,
};
use jiff::Timestamp;
use secrecy::SecretString;

/// One answer of [`MailboxChanges::next_page`].
#[derive(Debug, Clone)]
pub enum Step {
    /// A page of the listing: its changes, then the cursor positions to store; `done` when
    /// the mailbox has nothing more.
    Page {
        changes: Vec<MailChange>,
        cursor: Vec<CursorUpdate>,
        done: bool,
    },
    /// The stored cursor `key` could not be used: it is dropped and the stream enumerated
    /// again (the next steps say what that finds).
    Expired { key: String },
    /// The provider call `operation` fails.
    Fails { operation: &'static str },
}

impl Step {
    /// A page with more to come.
    pub fn page(changes: Vec<MailChange>, cursor: Vec<CursorUpdate>) -> Self {
        Step::Page {
            changes,
            cursor,
            done: false,
        }
    }

    /// The last page.
    pub fn last(changes: Vec<MailChange>, cursor: Vec<CursorUpdate>) -> Self {
        Step::Page {
            changes,
            cursor,
            done: true,
        }
    }
}

#[derive(Default)]
struct Script {
    steps: VecDeque<Step>,
    /// What reading a message again finds; an id not here is gone from the mailbox.
    messages: BTreeMap<String, MailItem>,
    fail_open: Option<&'static str>,
    opened: Vec<(Provider, EmailAddress)>,
    /// The cursor and lookback start each `next_page` was called with.
    asked: Vec<(Cursor, Timestamp)>,
    refetched: Vec<String>,
}

/// A [`MailboxSource`] whose every mailbox plays the same script. When the script runs out,
/// a mailbox answers an empty last page (nothing new).
#[derive(Clone, Default)]
pub struct ScriptedMailboxes {
    script: Arc<Mutex<Script>>,
}

impl ScriptedMailboxes {
    /// Appends steps to the script.
    pub fn then(&self, steps: impl IntoIterator<Item = Step>) -> &Self {
        self.script.lock().unwrap().steps.extend(steps);
        self
    }

    /// What reading `provider_id` again answers from now on.
    pub fn holds(&self, provider_id: &str, item: MailItem) -> &Self {
        self.script
            .lock()
            .unwrap()
            .messages
            .insert(provider_id.to_owned(), item);
        self
    }

    /// Opening a mailbox fails from now on, as a provider client that cannot be built.
    pub fn fail_open(&self, operation: &'static str) {
        self.script.lock().unwrap().fail_open = Some(operation);
    }

    /// The mailboxes opened so far: provider and owner.
    pub fn opened(&self) -> Vec<(Provider, EmailAddress)> {
        self.script.lock().unwrap().opened.clone()
    }

    /// The cursor of each `next_page` call so far, in order.
    pub fn cursors_asked(&self) -> Vec<Cursor> {
        let script = self.script.lock().unwrap();
        script.asked.iter().map(|(c, _)| c.clone()).collect()
    }

    /// The lookback start of each `next_page` call so far, in order.
    pub fn lookbacks_asked(&self) -> Vec<Timestamp> {
        let script = self.script.lock().unwrap();
        script.asked.iter().map(|(_, l)| *l).collect()
    }

    /// The provider ids read again so far, in order.
    pub fn refetched(&self) -> Vec<String> {
        self.script.lock().unwrap().refetched.clone()
    }

    /// The steps not played yet.
    pub fn left(&self) -> usize {
        self.script.lock().unwrap().steps.len()
    }
}

impl MailboxSource for ScriptedMailboxes {
    fn open(
        &self,
        provider: Provider,
        owner: &EmailAddress,
        _access: &SecretString,
    ) -> Result<Box<dyn MailboxChanges>, MailboxError> {
        let mut script = self.script.lock().unwrap();
        if let Some(operation) = script.fail_open {
            return Err(fails(operation));
        }
        script.opened.push((provider, owner.clone()));
        Ok(Box::new(ScriptedMailbox {
            script: self.script.clone(),
        }))
    }
}

fn fails(operation: &'static str) -> MailboxError {
    MailboxError::new(operation, std::io::Error::other("provider failed (fake)"))
}

struct ScriptedMailbox {
    script: Arc<Mutex<Script>>,
}

#[async_trait]
impl MailboxChanges for ScriptedMailbox {
    async fn next_page(
        &mut self,
        cursors: &Cursor,
        lookback_start: Timestamp,
        _page_size: u32,
    ) -> Result<ChangePage, MailboxError> {
        let mut script = self.script.lock().unwrap();
        script.asked.push((cursors.clone(), lookback_start));
        Ok(match script.steps.pop_front() {
            None => ChangePage {
                read: true,
                done: true,
                ..ChangePage::default()
            },
            Some(Step::Page {
                changes,
                cursor,
                done,
            }) => ChangePage {
                read: true,
                changes,
                cursor,
                resync: None,
                done,
            },
            Some(Step::Expired { key }) => ChangePage {
                cursor: vec![CursorUpdate::remove(key.clone())],
                resync: Some(Resync {
                    stream: key,
                    cause: Box::new(std::io::Error::other("cursor expired (fake)")),
                }),
                ..ChangePage::default()
            },
            Some(Step::Fails { operation }) => return Err(fails(operation)),
        })
    }

    async fn refetch(&mut self, provider_id: &str) -> Result<Option<MailItem>, MailboxError> {
        let mut script = self.script.lock().unwrap();
        script.refetched.push(provider_id.to_owned());
        Ok(script.messages.get(provider_id).cloned())
    }
}

/// Access tokens without a provider: a fixed token, or the refusal a test sets.
#[derive(Default)]
pub struct FakeAccessTokens {
    refusal: Mutex<Option<ConnectError>>,
    /// Connections a token was asked for, in order.
    pub asked: Mutex<Vec<Connection>>,
}

impl FakeAccessTokens {
    /// The token is refused with `error` from now on, as a revoked grant is.
    pub fn refuse(&self, error: ConnectError) {
        *self.refusal.lock().unwrap() = Some(error);
    }
}

#[async_trait]
impl AccessTokens for FakeAccessTokens {
    async fn access_token(
        &self,
        conn: &Connection,
        _now: Timestamp,
    ) -> Result<SecretString, Failure> {
        self.asked.lock().unwrap().push(conn.clone());
        match self.refusal.lock().unwrap().clone() {
            Some(error) => Err(Failure::Refused(error)),
            None => Ok(SecretString::from("fake-access-token")),
        }
    }
}
