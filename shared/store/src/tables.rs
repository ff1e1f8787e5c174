//! The tables this crate uses, as the template must declare them.
//!
//! A test in this crate compares these specs with template.yaml, so a key or index renamed
//! on one side only fails the build's tests rather than production.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub hash: &'static str,
    pub range: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's logical id in template.yaml.
    pub logical_id: &'static str,
    /// The environment variable that carries its name to every function.
    pub env_var: &'static str,
    pub hash: &'static str,
    pub range: Option<&'static str>,
    pub indexes: &'static [IndexSpec],
    pub ttl_attribute: Option<&'static str>,
}

/// Contracts, seats, connections, subscriptions and the candidate directory.
pub const TENANCY: TableSpec = TableSpec {
    logical_id: "TenancyTable",
    env_var: "TENANCY_TABLE",
    hash: "pk",
    range: Some("sk"),
    indexes: &[IndexSpec {
        name: "by-renewal",
        hash: "renewal_pk",
        range: Some("renewal_sk"),
    }],
    ttl_attribute: Some("ttl"),
};

/// Synced threads and messages, Message-ID guards and skip decisions.
pub const MAIL: TableSpec = TableSpec {
    logical_id: "MailTable",
    env_var: "MAIL_TABLE",
    hash: "pk",
    range: Some("sk"),
    indexes: &[
        IndexSpec {
            name: "by-counterpart",
            hash: "counterpart_pk",
            range: Some("counterpart_sk"),
        },
        IndexSpec {
            name: "by-expiry",
            hash: "expiry_pk",
            range: Some("expiry_sk"),
        },
    ],
    ttl_attribute: Some("ttl"),
};

/// The scheduler: each seat's links, bookings, held time and cached busy time in its own
/// partition (`SEAT#<contract>#<seat>`), its settings under the contract.
pub const SCHEDULING: TableSpec = TableSpec {
    logical_id: "SchedulingTable",
    env_var: "SCHEDULING_TABLE",
    hash: "pk",
    range: Some("sk"),
    indexes: &[],
    ttl_attribute: Some("ttl"),
};

/// Every table the code of this crate reads or writes.
pub const TABLES: &[TableSpec] = &[TENANCY, MAIL, SCHEDULING];
