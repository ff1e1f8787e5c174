//! The function's configuration and template.yaml agree: it is given every variable it
//! requires and nothing it does not read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_localstack::template::check_function_config;

#[test]
fn the_template_gives_the_settings_api_exactly_what_it_reads() {
    check_function_config("settings-api", settings_api::Config::from_env).unwrap();
}

#[test]
fn a_state_key_too_short_to_sign_with_is_refused_by_name() {
    let env = hiresync_runtime::config::Env::new(|name: &str| match name {
        "GRAPH_SUBSCRIPTION_MINUTES" | "CALENDAR_CHANNEL_TTL_HOURS" | "RENEW_BEFORE_HOURS" => {
            Some("24".to_owned())
        }
        _ => Some("x".to_owned()),
    })
    .with_secrets(hiresync_runtime::secrets::Secrets::given([
        ("OAUTH_STATE_KEY", "c2hvcnQ="),
        ("API_AUTH_KEYS", "local:c2hvcnQ="),
        ("MICROSOFT_CLIENT_SECRET", "m"),
        ("GOOGLE_CLIENT_SECRET", "g"),
        ("ZOOM_CLIENT_SECRET", "z"),
    ]));
    let error = settings_api::Config::from_env(env).unwrap_err();
    let invalid: Vec<&str> = error.invalid.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(invalid, vec!["OAUTH_STATE_KEY_ARN", "API_AUTH_KEYS_ARN"]);
    assert!(error.missing.is_empty());
    // Neither value is repeated in the error.
    assert!(!error.to_string().contains("c2hvcnQ="), "{error}");
}
