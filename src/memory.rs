//! How the server process holds its memory.

/// Backs the process's memory with ordinary pages even where the kernel's transparent huge
/// pages are set to `always`: the allocator reserves its arenas in large aligned blocks, and
/// with huge pages each block it touches becomes 2 MiB resident. Called first thing in `main`.
pub fn small_pages_only() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of the process.
    // Failing (an old kernel) only leaves the default in place.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
