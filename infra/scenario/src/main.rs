//! `make run` and `make serve`: see the library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hiresync_scenario::cli(std::env::args().nth(1).as_deref()).await
}
