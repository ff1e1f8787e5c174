//! The versioned read-modify-write loop, written once.
//!
//! A use case reads a value with its version, changes it and writes it back on condition
//! that the version is still the one it read. When someone else wrote in between, the
//! write fails with [`StoreError::Conflict`] (or, for a first write, with
//! [`StoreError::AlreadyExists`]) and the whole step goes round again from a fresh read.
//!
//! ```ignore
//! let written = retry_on_race("connection update", || async {
//!     let read = store.get(c, s, k).await?.ok_or(Failure::NotFound("connection"))?;
//!     let mut changed = read.value.clone();
//!     changed.cursor.0.insert(key.into(), value.clone());
//!     Ok(store.update(&read, &changed).await.raced()?)
//! })
//! .await?;
//! ```

use std::future::Future;

use crate::failure::Failure;

use super::StoreError;

/// How many times a step that keeps losing races is tried before it gives up.
pub const RACE_ATTEMPTS: usize = 5;

/// Runs `step` until it completes (`Ok(Some(_))`), fails (`Err`), or has lost
/// [`RACE_ATTEMPTS`] races in a row (`Ok(None)` each time): then it fails with an internal
/// failure named `what`.
pub async fn retry_on_race<T, F, Fut>(what: &'static str, mut step: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Failure>>,
{
    for _ in 0..RACE_ATTEMPTS {
        if let Some(done) = step().await? {
            return Ok(done);
        }
    }
    Err(Failure::gave_up(
        what,
        "the item kept changing concurrently",
    ))
}

/// A conditional write's result, with a lost race (a conflict, or a create that found the
/// item there) as `Ok(None)` instead of an error.
pub trait Raced<T> {
    fn raced(self) -> Result<Option<T>, StoreError>;
}

impl<T> Raced<T> for Result<T, StoreError> {
    fn raced(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_conflict() || e.is_already_exists() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn conflict() -> StoreError {
        StoreError::Conflict {
            entity: "thing",
            key: "k".into(),
            expected: 1,
            found: Some(2),
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        // The futures here never wait: poll once with a no-op waker.
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("a test future waited"),
        }
    }

    #[test]
    fn a_step_that_loses_races_is_tried_again_from_the_start() {
        let tries = Cell::new(0);
        let result = block_on(retry_on_race("thing", || async {
            tries.set(tries.get() + 1);
            let write: Result<u32, StoreError> = if tries.get() < 3 {
                Err(conflict())
            } else {
                Ok(7)
            };
            Ok(write.raced()?)
        }));
        assert_eq!(result.ok(), Some(7));
        assert_eq!(tries.get(), 3);
    }

    #[test]
    fn a_step_that_always_loses_gives_up_with_its_name() {
        let tries = Cell::new(0);
        let result: Result<u32, Failure> = block_on(retry_on_race("thing update", || async {
            tries.set(tries.get() + 1);
            Ok(Err::<u32, _>(conflict()).raced()?)
        }));
        assert_eq!(tries.get(), RACE_ATTEMPTS);
        assert_eq!(result.err().map(|f| f.code()), Some("thing update"));
    }

    #[test]
    fn other_errors_stop_at_once() {
        let tries = Cell::new(0);
        let result: Result<u32, Failure> = block_on(retry_on_race("thing", || async {
            tries.set(tries.get() + 1);
            Err(StoreError::Invalid {
                entity: "thing",
                problem: "too big".into(),
            })?
        }));
        assert_eq!(tries.get(), 1);
        assert_eq!(result.err().map(|f| f.code()), Some("storage"));
    }
}
