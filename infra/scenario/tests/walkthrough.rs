//! `make run` as a test: the whole walk-through plays against the local AWS and the
//! provider sandbox (every function, the purge and the sweep included), and it fails on
//! any AWS call a function made that the function's role in template.yaml would refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

#[tokio::test(flavor = "multi_thread")]
async fn the_walkthrough_plays_and_every_aws_call_is_allowed_by_its_role() {
    // Its own port (each nextest test is a process of its own).
    std::env::set_var("HIRESYNC_PORT", "0");
    hiresync_scenario::cli(Some("run")).await.unwrap();
}
