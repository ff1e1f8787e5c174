//! Writes that race other writers: each attempt reads, decides and writes on a condition;
//! one that loses (the item changed, or another transaction held it) is tried again from
//! the read, a little later, a few times.
//!
//! The use cases have the domain's `retry_on_race`, which ends in a `Failure`; the store's
//! own operations end in a [`StoreError`] (the last lost race's, so the log says which item
//! kept changing) and space their attempts, so that writers who collided spread out.

use std::future::Future;
use std::time::Duration;

use crate::error::StoreError;

/// Attempts of a write that keeps losing races, the first included.
pub(crate) const ATTEMPTS: u32 = 5;

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    Done(T),
    /// Another writer got there first; this error is returned if no attempt is left.
    Lost(StoreError),
}

impl<T> Attempt<T> {
    /// A conditional write's result, with a lost race ([`StoreError::Conflict`],
    /// [`StoreError::AlreadyExists`]) as [`Attempt::Lost`].
    pub fn of(result: Result<T, StoreError>) -> Result<Attempt<T>, StoreError> {
        match result {
            Ok(done) => Ok(Attempt::Done(done)),
            Err(e) if e.is_conflict() || e.is_already_exists() => Ok(Attempt::Lost(e)),
            Err(e) => Err(e),
        }
    }
}

/// Runs `attempt` until it is done or fails, or has lost [`ATTEMPTS`] races (then with the
/// last one's error), waiting a growing, jittered delay before each new attempt.
pub(crate) async fn retry_on_race<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, StoreError>>,
{
    let mut made = 1;
    loop {
        match attempt().await? {
            Attempt::Done(done) => return Ok(done),
            Attempt::Lost(error) if made >= ATTEMPTS => return Err(error),
            Attempt::Lost(_) => {
                tokio::time::sleep(backoff(made)).await;
                made += 1;
            }
        }
    }
}

/// Full-jitter exponential backoff after `lost` lost attempts: up to 50 ms after the first,
/// doubling, at most 1.6 s.
fn backoff(lost: u32) -> Duration {
    let ceiling = Duration::from_millis(25).saturating_mul(1 << lost.min(6));
    ceiling.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn conflict(found: u64) -> StoreError {
        StoreError::Conflict {
            entity: "thing",
            key: "k".into(),
            expected: 1,
            found: Some(found),
        }
    }

    #[tokio::test]
    async fn a_lost_attempt_is_made_again_until_it_is_done() {
        let made = Cell::new(0);
        let result = retry_on_race(|| async {
            made.set(made.get() + 1);
            if made.get() < 3 {
                Attempt::of(Err::<u32, _>(conflict(2)))
            } else {
                Attempt::of(Ok(7))
            }
        })
        .await;
        assert_eq!(result.ok(), Some(7));
        assert_eq!(made.get(), 3);
    }

    #[tokio::test]
    async fn after_the_last_lost_attempt_its_error_is_returned() {
        let made = Cell::new(0);
        let result = retry_on_race(|| async {
            made.set(made.get() + 1);
            Ok::<Attempt<()>, _>(Attempt::Lost(conflict(u64::from(made.get()))))
        })
        .await;
        assert_eq!(made.get(), ATTEMPTS);
        assert!(
            matches!(result, Err(StoreError::Conflict { found: Some(5), .. })),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn any_other_error_ends_at_once() {
        let made = Cell::new(0);
        let result = retry_on_race(|| async {
            made.set(made.get() + 1);
            Attempt::of(Err::<(), _>(StoreError::Invalid {
                entity: "thing",
                problem: "too big".into(),
            }))
        })
        .await;
        assert_eq!(made.get(), 1);
        assert!(matches!(result, Err(StoreError::Invalid { .. })));
    }

    #[test]
    fn backoff_is_bounded() {
        for lost in 1..20 {
            assert!(backoff(lost) <= Duration::from_millis(1600));
        }
    }
}
