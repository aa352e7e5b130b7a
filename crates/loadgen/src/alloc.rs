//! A counting global allocator: how many bytes a process allocated, to
//! divide by the requests it served.
//!
//! A binary installs it with
//! `#[global_allocator] static A: Counting = Counting;` and reads
//! [`allocated`] before and after a load.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

static BYTES: AtomicU64 = AtomicU64::new(0);
static COUNT: AtomicU64 = AtomicU64::new(0);
static LARGE_BYTES: AtomicU64 = AtomicU64::new(0);

/// Allocations of at least this many bytes are also counted apart.
pub const LARGE: usize = 4096;

fn count(bytes: usize) {
    BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
    COUNT.fetch_add(1, Ordering::Relaxed);
    if bytes >= LARGE {
        LARGE_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// The system allocator, counting every allocation (and the growth of every
/// reallocation). Frees are not subtracted: the figure is bytes *allocated*,
/// the allocator's work, not bytes in use.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counting;

/// With the `dhat` feature, set by [`forward_to_dhat`]: every allocation
/// goes through dhat's allocator (which hands it to `System`).
#[cfg(feature = "dhat")]
static DHAT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Sends every later allocation, reallocation and free through
/// `dhat::Alloc`, so that a running `dhat::Profiler` sees it (feature
/// `dhat`; `ch21-target-dhat` calls it first thing). Blocks allocated before
/// may be freed after: dhat's allocator frees them with `System`, which
/// allocated them, and ignores them.
#[cfg(feature = "dhat")]
pub fn forward_to_dhat() {
    DHAT.store(true, Ordering::SeqCst);
}

/// `System`, or dhat's allocator once [`forward_to_dhat`] was called.
macro_rules! forward {
    ($method:ident($($arg:expr),*)) => {{
        #[cfg(feature = "dhat")]
        if DHAT.load(Ordering::Relaxed) {
            // SAFETY: forwarded as is; dhat's allocator wraps `System`.
            return unsafe { dhat::Alloc.$method($($arg),*) };
        }
        // SAFETY: forwarded as is.
        unsafe { System.$method($($arg),*) }
    }};
}

// SAFETY: every method forwards to `System` (or to dhat's allocator, which
// forwards to `System`) with the caller's arguments unchanged; the counters
// are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        forward!(alloc(layout))
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        forward!(alloc_zeroed(layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        forward!(dealloc(ptr, layout))
    }

    unsafe fn realloc(
        &self,
        ptr: *mut u8,
        layout: Layout,
        new_size: usize,
    ) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        forward!(realloc(ptr, layout, new_size))
    }
}

/// Bytes allocated so far by the process (0 unless [`Counting`] is installed).
pub fn allocated() -> u64 {
    BYTES.load(Ordering::Relaxed)
}

/// Bytes allocated so far in allocations of at least [`LARGE`] bytes.
pub fn allocated_large() -> u64 {
    LARGE_BYTES.load(Ordering::Relaxed)
}

/// Allocations (and reallocations) so far.
pub fn allocations() -> u64 {
    COUNT.load(Ordering::Relaxed)
}
