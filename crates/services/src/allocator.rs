//! A global allocator chosen when the process starts, so that one build can
//! measure two allocators side by side: `OTLP_CSP_ALLOCATOR` = `system`
//! (the default, glibc's malloc) or `mimalloc`. The choice is read once, before
//! the first allocation that matters, and never changes after: every block
//! is freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

const UNSET: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(UNSET);

/// The allocator named by `OTLP_CSP_ALLOCATOR` (read on first use).
pub struct Chosen;

fn choice() -> u8 {
    match CHOICE.load(Ordering::Relaxed) {
        UNSET => {
            // The first allocation of the process, made before `main` by one
            // thread: no block exists yet. `getenv` reads the environment
            // without allocating, so no block is made before the choice.
            // SAFETY: a NUL-terminated name; the result is only read here.
            let value = unsafe { libc::getenv(c"OTLP_CSP_ALLOCATOR".as_ptr()) };
            let chosen = if value.is_null() {
                SYSTEM
            } else {
                // SAFETY: getenv returned a NUL-terminated string.
                match unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() {
                    b"mimalloc" => MIMALLOC,
                    _ => SYSTEM,
                }
            };
            CHOICE.store(chosen, Ordering::Relaxed);
            chosen
        }
        c => c,
    }
}

/// The allocator in use, by name.
pub fn name() -> &'static str {
    match choice() {
        MIMALLOC => "mimalloc",
        _ => "system",
    }
}

unsafe impl GlobalAlloc for Chosen {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the layout is the caller's.
        unsafe {
            match choice() {
                MIMALLOC => mimalloc::MiMalloc.alloc(layout),
                _ => System.alloc(layout),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the same allocator, chosen once.
        unsafe {
            match choice() {
                MIMALLOC => mimalloc::MiMalloc.dealloc(ptr, layout),
                _ => System.dealloc(ptr, layout),
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`.
        unsafe {
            match choice() {
                MIMALLOC => mimalloc::MiMalloc.realloc(ptr, layout, new),
                _ => System.realloc(ptr, layout, new),
            }
        }
    }
}
