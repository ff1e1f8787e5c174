//! Synced mail in memory: threads, messages, tombstones and skip decisions, with the
//! DynamoDB adapter's observable behaviour.
//!
//! - A message is stored once per provider id (the same content again is `AlreadyStored`,
//!   other content under the same id is refused) and once per RFC Message-ID (another
//!   provider id with it is `DuplicateOfOther`).
//! - A thread's activity only moves forward; a thread seen for the first time is created
//!   private whatever the caller says; an existing one keeps its visibility and origin.
//! - A message of a thread removed for a rule is refused (`ThreadRemoved`); a thread
//!   removed for inactivity may come back.
//! - A removal for a rule merges its tombstone (`ThreadTombstone::merge`) with the one
//!   stored and with what the live thread knows, then removes the thread and its messages.
//! - A delete by provider id drops the thread with its last message.
//! - Skip decisions are keyed by counterpart and message (instant, provider id): a new
//!   decision on the same message replaces the old one. Listings are newest message first.
//!
//! Everything is keyed by contract and seat, as the ports name them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_domain::ids::{ContractId, EmailAddress, SeatId};
use hiresync_domain::mail::{Message, SkipRecord, Thread, ThreadTombstone, Visibility};
use hiresync_domain::ports::{
    MailReader, Page, PageToken, SkipLog, StoreError, StoreOutcome, ThreadStore,
};
use jiff::Timestamp;

/// A seat's mailbox within its contract.
type Owner = (ContractId, SeatId);
/// A thread of a seat.
type ThreadKey = (ContractId, SeatId, String);
/// A skip decision: the seat, the counterpart, the message's instant and provider id.
type SkipKey = (ContractId, SeatId, EmailAddress, Timestamp, String);

#[derive(Default)]
struct Mail {
    threads: BTreeMap<ThreadKey, Thread>,
    /// Messages by thread, then provider id.
    messages: BTreeMap<ThreadKey, BTreeMap<String, Message>>,
    /// Which thread holds a provider id.
    pointers: BTreeMap<(Owner, String), String>,
    /// Which provider id holds an RFC Message-ID.
    guards: BTreeMap<(Owner, String), String>,
    tombstones: BTreeMap<ThreadKey, ThreadTombstone>,
    /// Each decision with the thread it was recorded with.
    skips: BTreeMap<SkipKey, (SkipRecord, Option<String>)>,
}

/// [`ThreadStore`], [`MailReader`] and [`SkipLog`] over one in-memory mailbox store.
#[derive(Default)]
pub struct InMemoryMail {
    mail: Mutex<Mail>,
    fail_next: Mutex<u32>,
}

fn thread_key(contract: &ContractId, seat: &SeatId, thread_id: &str) -> ThreadKey {
    (contract.clone(), seat.clone(), thread_id.to_owned())
}

fn owner(contract: &ContractId, seat: &SeatId) -> Owner {
    (contract.clone(), seat.clone())
}

fn skip_key(skip: &SkipRecord) -> SkipKey {
    (
        skip.contract.clone(),
        skip.seat.clone(),
        skip.counterpart.clone(),
        skip.at,
        skip.provider_id.clone(),
    )
}

impl Mail {
    /// Removes one message, its Message-ID guard and pointer; the thread goes with its last
    /// message. Returns whether it was there.
    fn delete_message(&mut self, key: &ThreadKey, provider_id: &str) -> bool {
        let Some(messages) = self.messages.get_mut(key) else {
            return false;
        };
        let Some(gone) = messages.remove(provider_id) else {
            return false;
        };
        let empty = messages.is_empty();
        let who = (key.0.clone(), key.1.clone());
        self.pointers.remove(&(who.clone(), provider_id.to_owned()));
        if let Some(mid) = &gone.internet_message_id {
            let guard = (who, mid.clone());
            if self.guards.get(&guard).map(String::as_str) == Some(provider_id) {
                self.guards.remove(&guard);
            }
        }
        if empty {
            self.messages.remove(key);
            self.threads.remove(key);
        }
        true
    }

    /// Removes a thread and all its messages, leaving no tombstone. Returns how many
    /// messages went.
    fn remove_thread(&mut self, key: &ThreadKey) -> usize {
        let ids: Vec<String> = self
            .messages
            .get(key)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for id in &ids {
            self.delete_message(key, id);
        }
        self.threads.remove(key);
        ids.len()
    }
}

impl InMemoryMail {
    /// The next `n` calls fail as if the table could not be reached.
    pub fn fail_next(&self, n: u32) {
        *self.fail_next.lock().unwrap() = n;
    }

    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        let mut left = self.fail_next.lock().unwrap();
        if *left == 0 {
            return Ok(());
        }
        *left -= 1;
        Err(StoreError::Backend {
            operation,
            source: Box::new(std::io::Error::other("mail table unavailable (fake)")),
        })
    }

    /// Every stored thread, in key order.
    pub fn threads(&self) -> Vec<Thread> {
        self.mail
            .lock()
            .unwrap()
            .threads
            .values()
            .cloned()
            .collect()
    }

    pub fn thread(&self, contract: &ContractId, seat: &SeatId, thread_id: &str) -> Option<Thread> {
        let key = thread_key(contract, seat, thread_id);
        self.mail.lock().unwrap().threads.get(&key).cloned()
    }

    /// The provider ids of every stored message, sorted.
    pub fn provider_ids(&self) -> Vec<String> {
        let mail = self.mail.lock().unwrap();
        let mut ids: Vec<String> = mail
            .messages
            .values()
            .flat_map(|m| m.keys().cloned())
            .collect();
        ids.sort();
        ids
    }

    pub fn tombstone(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Option<ThreadTombstone> {
        let key = thread_key(contract, seat, thread_id);
        self.mail.lock().unwrap().tombstones.get(&key).cloned()
    }

    /// Every recorded decision with its thread, in key order.
    pub fn all_skips(&self) -> Vec<(SkipRecord, Option<String>)> {
        self.mail.lock().unwrap().skips.values().cloned().collect()
    }

    /// Stores a tombstone as the retention sweep would leave it (or any removal before).
    pub fn bury(&self, tombstone: ThreadTombstone) {
        let key = thread_key(&tombstone.contract, &tombstone.seat, &tombstone.thread_id);
        let mut mail = self.mail.lock().unwrap();
        let merged = match mail.tombstones.remove(&key) {
            Some(current) => current.merge(tombstone),
            None => tombstone.bounded(),
        };
        mail.tombstones.insert(key, merged);
    }
}

#[async_trait]
impl ThreadStore for InMemoryMail {
    async fn store_message(
        &self,
        thread: &Thread,
        message: &Message,
    ) -> Result<StoreOutcome, StoreError> {
        self.check("mail.store_message")?;
        if thread.contract_id != message.contract_id
            || thread.seat_id != message.seat_id
            || thread.thread_id != message.thread_id
        {
            return Err(StoreError::Invalid {
                entity: "message",
                problem: format!("message {} is not of its thread", message.provider_id),
            });
        }
        let key = thread_key(&thread.contract_id, &thread.seat_id, &thread.thread_id);
        let who = owner(&thread.contract_id, &thread.seat_id);
        let mut mail = self.mail.lock().unwrap();
        if mail
            .tombstones
            .get(&key)
            .is_some_and(|t| !t.removed_for_inactivity() && !t.is_void())
        {
            return Ok(StoreOutcome::ThreadRemoved);
        }
        let at = thread.last_activity_at.max(message.sent_at);
        let pointer = (who.clone(), message.provider_id.clone());
        let outcome = if let Some(holder) = mail.pointers.get(&pointer).cloned() {
            let stored = mail
                .messages
                .get(&thread_key(&who.0, &who.1, &holder))
                .and_then(|m| m.get(&message.provider_id));
            if stored != Some(message) {
                return Err(StoreError::AlreadyExists {
                    entity: "message",
                    key: format!("{} (with different content)", message.provider_id),
                });
            }
            StoreOutcome::AlreadyStored
        } else {
            if let Some(mid) = &message.internet_message_id {
                if let Some(other) = mail.guards.get(&(who.clone(), mid.clone())) {
                    if *other != message.provider_id {
                        return Ok(StoreOutcome::DuplicateOfOther {
                            provider_id: other.clone(),
                        });
                    }
                }
                mail.guards
                    .insert((who.clone(), mid.clone()), message.provider_id.clone());
            }
            mail.pointers.insert(pointer, thread.thread_id.clone());
            mail.messages
                .entry(key.clone())
                .or_default()
                .insert(message.provider_id.clone(), message.clone());
            mail.threads.entry(key.clone()).or_insert_with(|| Thread {
                visibility: Visibility::Private,
                last_activity_at: at,
                ..thread.clone()
            });
            StoreOutcome::Stored
        };
        if let Some(stored) = mail.threads.get_mut(&key) {
            stored.record_activity(at);
        }
        Ok(outcome)
    }

    async fn thread_with_tombstone(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<(Option<Thread>, Option<ThreadTombstone>), StoreError> {
        self.check("mail.thread_with_tombstone")?;
        let key = thread_key(contract, seat, thread_id);
        let mail = self.mail.lock().unwrap();
        Ok((
            mail.threads.get(&key).cloned(),
            mail.tombstones.get(&key).cloned(),
        ))
    }

    async fn messages(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        self.check("mail.messages")?;
        let key = thread_key(contract, seat, thread_id);
        let mail = self.mail.lock().unwrap();
        let mut messages: Vec<Message> = mail
            .messages
            .get(&key)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        messages.sort_by(|a, b| (a.sent_at, &a.provider_id).cmp(&(b.sent_at, &b.provider_id)));
        Ok(messages)
    }

    async fn stored_provider_ids(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<String>, StoreError> {
        self.check("mail.stored_provider_ids")?;
        let mail = self.mail.lock().unwrap();
        let owner = owner(contract, seat);
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        let ids: Vec<String> = mail
            .pointers
            .keys()
            .filter(|(o, id)| *o == owner && start.is_none_or(|t| id.as_str() > t.as_str()))
            .map(|(_, id)| id.clone())
            .take(limit + 1)
            .collect();
        let next = (ids.len() > limit).then(|| PageToken::from_string(ids[limit - 1].clone()));
        Ok(Page {
            items: ids.into_iter().take(limit).collect(),
            next,
        })
    }

    async fn delete_by_provider_id(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        provider_id: &str,
    ) -> Result<bool, StoreError> {
        self.check("mail.delete_by_provider_id")?;
        let mut mail = self.mail.lock().unwrap();
        let pointer = (owner(contract, seat), provider_id.to_owned());
        let Some(thread_id) = mail.pointers.get(&pointer).cloned() else {
            return Ok(false);
        };
        Ok(mail.delete_message(&thread_key(contract, seat, &thread_id), provider_id))
    }

    async fn remove_thread_for_rule(
        &self,
        tombstone: &ThreadTombstone,
    ) -> Result<usize, StoreError> {
        self.check("mail.remove_thread_for_rule")?;
        if tombstone.removed_for_inactivity() {
            return Err(StoreError::Invalid {
                entity: "tombstone",
                problem: "a removal for inactivity is the retention sweep's".to_owned(),
            });
        }
        let key = thread_key(&tombstone.contract, &tombstone.seat, &tombstone.thread_id);
        let mut mail = self.mail.lock().unwrap();
        let mut buried = tombstone.clone();
        if let Some(thread) = mail.threads.get(&key) {
            buried = buried.with_thread(thread);
        }
        let merged = match mail.tombstones.remove(&key) {
            Some(current) => current.merge(buried),
            None => buried.bounded(),
        };
        mail.tombstones.insert(key.clone(), merged);
        Ok(mail.remove_thread(&key))
    }
}

#[async_trait]
impl MailReader for InMemoryMail {
    fn resume_after(&self, thread: &Thread) -> PageToken {
        PageToken::from_string(thread.thread_id.clone())
    }

    async fn threads_of_seat(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        limit: i32,
        start: Option<&PageToken>,
    ) -> Result<Page<Thread>, StoreError> {
        self.check("mail.threads_of_seat")?;
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        let mail = self.mail.lock().unwrap();
        let items: Vec<Thread> = mail
            .threads
            .iter()
            .filter(|((c, s, t), _)| {
                c == contract && s == seat && start.is_none_or(|p| t.as_str() > p.as_str())
            })
            .take(limit)
            .map(|(_, thread)| thread.clone())
            .collect();
        let next = (items.len() == limit)
            .then(|| {
                items
                    .last()
                    .map(|t| PageToken::from_string(t.thread_id.clone()))
            })
            .flatten();
        Ok(Page { items, next })
    }

    async fn messages(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        thread_id: &str,
    ) -> Result<Vec<Message>, StoreError> {
        ThreadStore::messages(self, contract, seat, thread_id).await
    }
}

impl InMemoryMail {
    fn skips_where(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
        keep: impl Fn(&SkipRecord, Option<&str>) -> bool,
    ) -> Vec<SkipRecord> {
        let mail = self.mail.lock().unwrap();
        mail.skips
            .iter()
            .rev()
            .filter(|((c, s, who, _, _), (skip, thread))| {
                c == contract && s == seat && who == counterpart && keep(skip, thread.as_deref())
            })
            .map(|(_, (skip, _))| skip.clone())
            .collect()
    }
}

#[async_trait]
impl SkipLog for InMemoryMail {
    async fn record(&self, skip: &SkipRecord, thread_id: Option<&str>) -> Result<(), StoreError> {
        self.check("mail.record_skip")?;
        self.mail
            .lock()
            .unwrap()
            .skips
            .insert(skip_key(skip), (skip.clone(), thread_id.map(str::to_owned)));
        Ok(())
    }

    async fn skip_counts(
        &self,
        contract: &ContractId,
        seat: &SeatId,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        self.check("mail.skip_counts")?;
        let mail = self.mail.lock().unwrap();
        let mut counts = BTreeMap::new();
        for ((c, s, _, _, _), (skip, _)) in &mail.skips {
            if c == contract && s == seat {
                *counts.entry(skip.code.clone()).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    async fn skips_for(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        self.check("mail.skips_for")?;
        Ok(self.skips_where(contract, seat, counterpart, |_, _| true))
    }

    async fn skips_in_thread(
        &self,
        contract: &ContractId,
        seat: &SeatId,
        counterpart: &EmailAddress,
        thread_id: &str,
        code: &str,
        limit: usize,
    ) -> Result<Vec<SkipRecord>, StoreError> {
        self.check("mail.skips_in_thread")?;
        let mut skips = self.skips_where(contract, seat, counterpart, |skip, thread| {
            thread == Some(thread_id) && skip.code == code
        });
        skips.truncate(limit);
        Ok(skips)
    }

    async fn forget(&self, skip: &SkipRecord) -> Result<(), StoreError> {
        self.check("mail.forget_skip")?;
        self.mail.lock().unwrap().skips.remove(&skip_key(skip));
        Ok(())
    }
}
