//! What the policy's table tests share: parsing helpers, the directory port's in-memory
//! fake, and the edits that turn a one-to-one message into the case at hand.
#![allow(dead_code)]

use std::collections::BTreeMap;

use hiresync_domain::directory::DirectoryEntry;
use hiresync_domain::ids::EmailAddress;
use hiresync_domain::policy::{DirectoryLookup, MessageFacts};
use hiresync_domain::Timestamp;

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

pub fn addrs(list: &[&str]) -> Vec<EmailAddress> {
    list.iter().map(|a| addr(a)).collect()
}

/// The test fake of the directory port: every entry under each of its addresses.
#[derive(Default)]
pub struct InMemoryDirectory(pub BTreeMap<EmailAddress, DirectoryEntry>);

impl InMemoryDirectory {
    pub fn with(mut self, entry: DirectoryEntry) -> Self {
        for email in &entry.emails {
            self.0.insert(email.clone(), entry.clone());
        }
        self
    }
}

impl DirectoryLookup for InMemoryDirectory {
    fn candidate(&self, address: &EmailAddress) -> Option<&DirectoryEntry> {
        self.0.get(address)
    }
}

/// Edits of a message, each returning it changed.
pub trait Edit {
    fn cc(self, cc: &[&str]) -> Self;
    fn bcc(self, bcc: &[&str]) -> Self;
    fn at(self, at: &str) -> Self;
    fn via_product(self) -> Self;
}

impl Edit for MessageFacts {
    fn cc(mut self, cc: &[&str]) -> Self {
        self.cc = addrs(cc);
        self
    }
    fn bcc(mut self, bcc: &[&str]) -> Self {
        self.bcc = addrs(bcc);
        self
    }
    fn at(mut self, at: &str) -> Self {
        self.at = ts(at);
        self
    }
    fn via_product(mut self) -> Self {
        self.started_from_product = true;
        self
    }
}
