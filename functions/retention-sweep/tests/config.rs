//! The function's configuration and template.yaml agree.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[test]
fn the_template_gives_retention_sweep_exactly_what_it_reads() {
    hiresync_localstack::template::check_function_config(
        "retention-sweep",
        retention_sweep::Config::from_env,
    )
    .unwrap();
}
