//! The InMail outbox in memory: every message sent, in order, repeats included (the
//! standard queue does not deduplicate; the product does, by the message's `id`).

use std::sync::Mutex;

use async_trait::async_trait;
use hiresync_messages::{InmailMessage, InmailQueue, QueueError};

#[derive(Default)]
pub struct InMemoryInmail {
    sent: Mutex<Vec<InmailMessage>>,
    fail_next: Mutex<u32>,
}

impl InMemoryInmail {
    /// The next `n` sends fail as if SQS were unreachable.
    pub fn fail_next(&self, n: u32) {
        *self.fail_next.lock().unwrap() = n;
    }

    /// Every message sent, repeats included.
    pub fn sent(&self) -> Vec<InmailMessage> {
        self.sent.lock().unwrap().clone()
    }

    /// What the product posts: each `id` once, in the order first sent.
    pub fn posted(&self) -> Vec<InmailMessage> {
        let mut posted: Vec<InmailMessage> = Vec::new();
        for m in self.sent() {
            if !posted.iter().any(|p| p.id() == m.id()) {
                posted.push(m);
            }
        }
        posted
    }
}

#[async_trait]
impl InmailQueue for InMemoryInmail {
    async fn inmail(&self, message: &InmailMessage) -> Result<(), QueueError> {
        {
            let mut left = self.fail_next.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(QueueError::Send {
                    queue: "inmail-outbox",
                    source: Box::new(std::io::Error::other("queue unavailable (fake)")),
                });
            }
        }
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}
