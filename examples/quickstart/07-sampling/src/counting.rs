//! Counts every span that ends and every span the exporter handles, so a
//! program can say at exit how many it lost. A process has one set of counts.

mod ended;
mod exported;

pub use ended::CountEnded;
pub use exported::Counted;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static ENDED: AtomicU64 = AtomicU64::new(0);
static EXPORTED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// Call after shutdown. What ended but was neither exported nor failed was
/// dropped: the batch processor's queue was full.
pub fn report() {
    let (ended, exported) = (ENDED.load(Relaxed), EXPORTED.load(Relaxed));
    let failed = FAILED.load(Relaxed);
    let dropped = ended - exported - failed;
    let lost = format!("{exported} exported, {failed} failed, {dropped} dropped");
    println!("spans: {ended} ended, {lost}");
}
