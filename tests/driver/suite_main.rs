//! The local suite as a binary of this package, so each end-to-end test finds it through
//! `CARGO_BIN_EXE_hiresync-e2e-suite`: cargo builds it with the tests, in the same build
//! and with the same features, instead of a nested `cargo build` of another package.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hiresync_scenario::cli(std::env::args().nth(1).as_deref()).await
}
