//! The queues the functions use, as template.yaml must declare them (a test compares).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSpec {
    /// The queue's logical id in template.yaml.
    pub logical_id: &'static str,
    /// The variable that carries its URL to every function.
    pub env_var: &'static str,
    pub fifo: bool,
}

/// One sync at a time per connection: the message group is the connection.
pub const SYNC_JOBS: QueueSpec = QueueSpec {
    logical_id: "SyncJobsQueue",
    env_var: "SYNC_JOBS_QUEUE_URL",
    fifo: true,
};
pub const BOOKINGS: QueueSpec = QueueSpec {
    logical_id: "BookingsQueue",
    env_var: "BOOKINGS_QUEUE_URL",
    fifo: true,
};
pub const PURGE: QueueSpec = QueueSpec {
    logical_id: "PurgeQueue",
    env_var: "PURGE_QUEUE_URL",
    fifo: false,
};
pub const DEAUTHORIZATIONS: QueueSpec = QueueSpec {
    logical_id: "DeauthorizationsQueue",
    env_var: "DEAUTHORIZATIONS_QUEUE_URL",
    fifo: false,
};
/// Notices to a recruiter (reauthorization needed, video link failed).
pub const NOTIFICATIONS: QueueSpec = QueueSpec {
    logical_id: "NotificationsQueue",
    env_var: "NOTIFICATIONS_QUEUE_URL",
    fifo: false,
};
/// Confirmations to post in a candidate's message thread.
pub const INMAIL_OUTBOX: QueueSpec = QueueSpec {
    logical_id: "InmailOutboxQueue",
    env_var: "INMAIL_OUTBOX_QUEUE_URL",
    fifo: false,
};

pub const QUEUES: &[QueueSpec] = &[
    SYNC_JOBS,
    BOOKINGS,
    PURGE,
    DEAUTHORIZATIONS,
    NOTIFICATIONS,
    INMAIL_OUTBOX,
];
