//! In-memory fakes of the ports (`InMemory<Port>`), with the same observable behaviour as
//! the adapters where a use case can tell: versioned writes conflict, creates refuse what
//! exists, a taken authorization or Zoom sign-in is gone. Each also lets a test look inside
//! and make the next call fail.

pub mod calendar_events;
pub mod directory;
pub mod inmail;
pub mod mail;
pub mod mailbox;
pub mod providers;
pub mod queues;
pub mod scheduling;
pub mod sealer;
pub mod tenancy;
pub mod zoom;
pub mod zoom_api;
