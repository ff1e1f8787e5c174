//! The function's configuration and template.yaml agree.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[test]
fn the_template_gives_webhook_intake_exactly_what_it_reads() {
    hiresync_localstack::template::check_function_config(
        "webhook-intake",
        webhook_intake::Config::from_env,
    )
    .unwrap();
}
