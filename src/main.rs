#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kontor::cli::run().await
}
