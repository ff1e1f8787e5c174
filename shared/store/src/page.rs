/// Where the next page of a listing starts. Opaque to callers; valid only for the listing
/// that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(pub(crate) String);

impl PageToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a token handed out earlier (for example round-tripped through an API).
    pub fn from_string(token: String) -> Self {
        Self(token)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` when the listing is complete. A page may be empty and still have a successor.
    pub next: Option<PageToken>,
}
