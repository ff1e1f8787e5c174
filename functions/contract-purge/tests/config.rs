//! The function's configuration and template.yaml agree.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

#[test]
fn the_template_gives_contract_purge_exactly_what_it_reads() {
    hiresync_localstack::template::check_function_config(
        "contract-purge",
        contract_purge::Config::from_env,
    )
    .unwrap();
}
