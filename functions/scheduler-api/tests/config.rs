//! The function's configuration and template.yaml agree: it is given every variable it
//! requires and nothing it does not read; a bad link key or public URL is refused by name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_localstack::template::check_function_config;

#[test]
fn the_template_gives_the_scheduler_api_exactly_what_it_reads() {
    check_function_config("scheduler-api", scheduler_api::Config::from_env).unwrap();
}

#[test]
fn a_link_key_too_short_to_sign_with_and_a_plain_http_base_are_refused_by_name() {
    let env = hiresync_runtime::config::Env::new(|name: &str| match name {
        "PUBLIC_BASE_URL" => Some("http://jobs.example".to_owned()),
        _ => Some("x".to_owned()),
    })
    .with_secrets(hiresync_runtime::secrets::Secrets::given([
        ("SCHEDULER_LINK_KEY", "c2hvcnQ="),
        ("API_AUTH_KEYS", "local:c2hvcnQ="),
        ("MICROSOFT_CLIENT_SECRET", "m"),
        ("GOOGLE_CLIENT_SECRET", "g"),
    ]));
    let error = scheduler_api::Config::from_env(env).unwrap_err();
    let mut invalid: Vec<&str> = error.invalid.iter().map(|(n, _)| n.as_str()).collect();
    invalid.sort_unstable();
    assert_eq!(
        invalid,
        vec![
            "API_AUTH_KEYS_ARN",
            "PUBLIC_BASE_URL",
            "SCHEDULER_LINK_KEY_ARN"
        ]
    );
    assert!(!error.to_string().contains("c2hvcnQ="), "{error}");
}
