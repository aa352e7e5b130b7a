use shop::pool::{self, Job};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = shop::telemetry::init("shop")?;

    // (id, cents): the bank declines job 3 and is too slow for job 4.
    let jobs = [(1, 1_200), (2, 500), (3, 20_000), (4, 7_000)];
    let jobs = jobs.map(|(id, cents)| Job { id, cents }).into();
    // Two workers; at most one job waits in the queue.
    pool::charge_all(jobs, 2, 1).await;

    provider.shutdown()?;
    Ok(())
}
