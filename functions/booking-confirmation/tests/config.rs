//! The function's configuration and template.yaml agree: it is given every variable it
//! requires and nothing it does not read, and the receive count it reports a temporary
//! failure on is the bookings queue's own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_localstack::template::{check_function_config, Binding, Template};

#[test]
fn the_template_gives_booking_confirmation_exactly_what_it_reads() {
    check_function_config(
        "booking-confirmation",
        booking_confirmation::Config::from_env,
    )
    .unwrap();
}

#[test]
fn the_last_attempt_it_counts_is_the_queues_last_receive() {
    let template = Template::load(&hiresync_localstack::repository_template_path()).unwrap();
    let queue = template
        .queues
        .iter()
        .find(|q| q.logical_id == "BookingsQueue")
        .unwrap();
    let (_, receives) = queue.redrive.clone().unwrap();
    let function = template.function("booking-confirmation").unwrap();
    assert_eq!(
        function.environment.get("BOOKINGS_MAX_RECEIVE_COUNT"),
        Some(&Binding::Literal(receives.to_string()))
    );
}
