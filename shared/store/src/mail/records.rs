//! The item shapes of the MailTable and their mapping to the domain's types. Keys come from
//! [`crate::keys`]; what a new thread looks like and when anything expires come from the
//! domain.

use std::collections::BTreeSet;

use hiresync_domain::ids::{ContractId, EmailAddress, ProfileId, SeatId, UserId};
use hiresync_domain::mail::{
    Direction, Message, Origin, SkipRecord, Thread, ThreadTombstone, Visibility,
};
use hiresync_domain::Timestamp;
use serde::{Deserialize, Serialize};

use super::{GUARD, MESSAGE, POINTER, SKIP, THREAD, TOMBSTONE};
use crate::items::Record;
use crate::keys;

#[derive(Serialize, Deserialize)]
pub(super) struct ThreadRecord {
    pub pk: String,
    pub sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    thread_id: String,
    counterpart: EmailAddress,
    pub visibility: Visibility,
    /// Who the thread was synced for; absent on threads stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<UserId>,
    /// The candidate profile it was matched to; absent when it matched none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<ProfileId>,
    started_from_product: bool,
    pub last_activity_at: Timestamp,
    /// `last_activity_at` as microseconds since the epoch: a number, so that a condition
    /// can compare it (RFC 3339 strings with optional fractions do not sort as time).
    pub activity_us: i64,
    pub counterpart_pk: String,
    pub counterpart_sk: String,
    pub expiry_pk: String,
    pub expiry_sk: String,
    /// The number of message items of the thread, kept in the transactions that write and
    /// delete them.
    message_count: i64,
    pub version: u64,
}

impl Record for ThreadRecord {
    const ENTITY: &'static str = THREAD;
}

impl ThreadRecord {
    /// `thread` as it is created when seen for the first time, with activity at `at`: the
    /// domain's [`Thread::first_seen`], whatever `thread` says of its visibility. Expiry
    /// keys follow the domain's [`Thread::expires_at`].
    pub fn first_seen(thread: &Thread, at: Timestamp) -> Self {
        let new = Thread::first_seen(
            thread.contract_id.clone(),
            thread.seat_id.clone(),
            thread.thread_id.clone(),
            thread.counterpart.clone(),
            Origin {
                holder: thread.holder.clone(),
                profile: thread.profile.clone(),
                started_from_product: thread.started_from_product,
            },
            at,
        );
        let expires_at = new.expires_at();
        Self {
            pk: keys::mail_pk(&new.contract_id, &new.seat_id),
            sk: keys::thread_sk(&new.thread_id),
            entity: THREAD.to_owned(),
            counterpart_pk: match &new.profile {
                Some(profile) => keys::profile_threads_pk(&new.contract_id, profile),
                None => keys::counterpart_pk(&new.contract_id, &new.counterpart),
            },
            counterpart_sk: keys::counterpart_sk(&new.seat_id, &new.thread_id),
            expiry_pk: keys::expiry_pk(&new.contract_id, &new.seat_id, &new.thread_id, expires_at),
            expiry_sk: keys::expiry_sk(expires_at, &new.contract_id, &new.seat_id, &new.thread_id),
            activity_us: new.last_activity_at.as_microsecond(),
            last_activity_at: new.last_activity_at,
            contract_id: new.contract_id,
            seat_id: new.seat_id,
            thread_id: new.thread_id,
            counterpart: new.counterpart,
            visibility: new.visibility,
            holder: new.holder,
            profile: new.profile,
            started_from_product: new.started_from_product,
            message_count: 0,
            version: 0,
        }
    }

    pub fn into_domain(self) -> Thread {
        Thread {
            contract_id: self.contract_id,
            seat_id: self.seat_id,
            thread_id: self.thread_id,
            counterpart: self.counterpart,
            visibility: self.visibility,
            holder: self.holder,
            profile: self.profile,
            started_from_product: self.started_from_product,
            last_activity_at: self.last_activity_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct MessageRecord {
    pub pk: String,
    pub sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    thread_id: String,
    pub provider_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_message_id: Option<String>,
    direction: Direction,
    from: EmailAddress,
    to: Vec<EmailAddress>,
    cc: Vec<EmailAddress>,
    bcc: Vec<EmailAddress>,
    subject: String,
    sent_at: Timestamp,
}

impl Record for MessageRecord {
    const ENTITY: &'static str = MESSAGE;
}

impl MessageRecord {
    pub fn new(m: &Message) -> Self {
        Self {
            pk: keys::mail_pk(&m.contract_id, &m.seat_id),
            sk: keys::message_sk(&m.thread_id, &m.provider_id),
            entity: MESSAGE.to_owned(),
            contract_id: m.contract_id.clone(),
            seat_id: m.seat_id.clone(),
            thread_id: m.thread_id.clone(),
            provider_id: m.provider_id.clone(),
            internet_message_id: m.internet_message_id.clone(),
            direction: m.direction,
            from: m.from.clone(),
            to: m.to.clone(),
            cc: m.cc.clone(),
            bcc: m.bcc.clone(),
            subject: m.subject.clone(),
            sent_at: m.sent_at,
        }
    }

    pub fn into_domain(self) -> Message {
        Message {
            contract_id: self.contract_id,
            seat_id: self.seat_id,
            thread_id: self.thread_id,
            provider_id: self.provider_id,
            internet_message_id: self.internet_message_id,
            direction: self.direction,
            from: self.from,
            to: self.to,
            cc: self.cc,
            bcc: self.bcc,
            subject: self.subject,
            sent_at: self.sent_at,
        }
    }
}

/// Points at one stored message by its thread and provider id: from its RFC Message-ID
/// (the guard that stores an RFC message once), or from its provider id alone (the
/// pointer a delete notification is resolved through).
#[derive(Serialize, Deserialize)]
pub(super) struct GuardRecord {
    pub pk: String,
    pub sk: String,
    entity: String,
    pub provider_id: String,
    pub thread_id: String,
}

impl Record for GuardRecord {
    const ENTITY: &'static str = "message-id guard";
}

impl GuardRecord {
    /// The guard of `m`'s RFC Message-ID, if it has one.
    pub fn guard(m: &Message) -> Option<Self> {
        m.internet_message_id.as_deref().map(|mid| GuardRecord {
            pk: keys::mail_pk(&m.contract_id, &m.seat_id),
            sk: keys::message_id_guard_sk(mid),
            entity: GUARD.to_owned(),
            provider_id: m.provider_id.clone(),
            thread_id: m.thread_id.clone(),
        })
    }

    /// The pointer from `m`'s provider id to its thread.
    pub fn pointer(m: &Message) -> Self {
        GuardRecord {
            pk: keys::mail_pk(&m.contract_id, &m.seat_id),
            sk: keys::provider_pointer_sk(&m.provider_id),
            entity: POINTER.to_owned(),
            provider_id: m.provider_id.clone(),
            thread_id: m.thread_id.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct SkipItem {
    pk: String,
    pub sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    counterpart: EmailAddress,
    provider_id: String,
    /// The message's thread; absent on decisions recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thread_id: Option<String>,
    at: Timestamp,
    code: String,
    explanation: String,
    decided_at: Timestamp,
    /// Epoch seconds at which DynamoDB may remove the item (the domain's
    /// [`SkipRecord::forget_after`]).
    ttl: i64,
}

impl Record for SkipItem {
    const ENTITY: &'static str = "skip decision";
}

impl SkipItem {
    pub fn new(skip: &SkipRecord, thread_id: Option<&str>) -> Self {
        Self {
            pk: keys::mail_pk(&skip.contract, &skip.seat),
            sk: keys::skip_sk(&skip.counterpart, skip.at, &skip.provider_id),
            entity: SKIP.to_owned(),
            contract_id: skip.contract.clone(),
            seat_id: skip.seat.clone(),
            counterpart: skip.counterpart.clone(),
            provider_id: skip.provider_id.clone(),
            thread_id: thread_id.map(str::to_owned),
            at: skip.at,
            code: skip.code.clone(),
            explanation: skip.explanation.clone(),
            decided_at: skip.decided_at,
            ttl: skip.forget_after().as_second(),
        }
    }

    pub fn into_domain(self) -> SkipRecord {
        SkipRecord {
            contract: self.contract_id,
            seat: self.seat_id,
            counterpart: self.counterpart,
            provider_id: self.provider_id,
            at: self.at,
            code: self.code,
            explanation: self.explanation,
            decided_at: self.decided_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct TombstoneItem {
    pk: String,
    sk: String,
    entity: String,
    contract_id: ContractId,
    seat_id: SeatId,
    thread_id: String,
    participants: BTreeSet<EmailAddress>,
    started_from_product: bool,
    last_activity_at: Timestamp,
    removed_at: Timestamp,
    reason: String,
    /// Epoch seconds at which DynamoDB may remove the item (the domain's
    /// [`ThreadTombstone::forget_after`]).
    ttl: i64,
    pub version: u64,
}

impl Record for TombstoneItem {
    const ENTITY: &'static str = TOMBSTONE;
}

impl TombstoneItem {
    pub fn new(t: &ThreadTombstone, version: u64) -> Self {
        Self {
            pk: keys::mail_pk(&t.contract, &t.seat),
            sk: keys::tombstone_sk(&t.thread_id),
            entity: TOMBSTONE.to_owned(),
            contract_id: t.contract.clone(),
            seat_id: t.seat.clone(),
            thread_id: t.thread_id.clone(),
            participants: t.participants.clone(),
            started_from_product: t.started_from_product,
            last_activity_at: t.last_activity_at,
            removed_at: t.removed_at,
            reason: t.reason.clone(),
            ttl: t.forget_after().as_second(),
            version,
        }
    }

    pub fn into_domain(self) -> ThreadTombstone {
        ThreadTombstone {
            contract: self.contract_id,
            seat: self.seat_id,
            thread_id: self.thread_id,
            participants: self.participants,
            started_from_product: self.started_from_product,
            last_activity_at: self.last_activity_at,
            removed_at: self.removed_at,
            reason: self.reason,
        }
    }
}
