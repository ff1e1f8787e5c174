//! Reading in pages, and reading with the version a later write must still find.

/// Where the next page of a listing starts. Opaque to callers; an adapter makes it from its
/// own position and reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(String);

impl PageToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A token handed back by a caller (a queue message, an API query).
    pub fn from_string(token: String) -> Self {
        Self(token)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` on the last page.
    pub next: Option<PageToken>,
}

/// A value as it was read, with the version an update of it must still find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

impl<T> Versioned<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            value: f(self.value),
            version: self.version,
        }
    }
}
