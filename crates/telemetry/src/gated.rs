//! An exporter that does not answer until told to: the stand-in for a slow
//! or stuck collector in the overload examples of chapters 6 and 12 and in
//! the batch processors' tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

// ANCHOR: gated
/// Holds every export until [`GatedExporter::open`] is called, then lets
/// all of them through and counts the spans it received. Clones share the
/// gate, so the test keeps one and the pipeline owns the other.
#[derive(Clone, Debug, Default)]
pub struct GatedExporter {
    gate: Arc<(Mutex<bool>, Condvar)>,
    received: Arc<AtomicU64>,
}

impl GatedExporter {
    /// Lets every waiting and future export through.
    pub fn open(&self) {
        *self.gate.0.lock().expect("gate lock") = true;
        self.gate.1.notify_all();
    }

    /// Spans that got through the gate so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }
}

impl SpanExporter for GatedExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        // Blocks the exporting thread, as a call to a collector that does
        // not answer would.
        let open = self.gate.0.lock().expect("gate lock");
        drop(
            self.gate
                .1
                .wait_while(open, |open| !*open)
                .expect("gate lock"),
        );
        self.received
            .fetch_add(batch.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}
// ANCHOR_END: gated

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_waits_for_the_gate_and_is_counted() {
        let gate = GatedExporter::default();
        let exporter = gate.clone();
        let export = std::thread::spawn(move || {
            futures::executor::block_on(exporter.export(Vec::new()))
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!export.is_finished(), "the export went through a shut gate");
        gate.open();
        assert!(export.join().unwrap().is_ok());
        assert_eq!(gate.received(), 0);
    }
}
