// Returning freed heap memory to the operating system.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ctxstore {

// glibc keeps memory that bursts of short-lived allocations freed (a deep
// flush queue, a checkpoint's snapshot, recovery's buffers) in its heap: the
// process stays as large as its peak. malloc_trim hands the free pages back,
// the middle of the heap included. It walks the free lists (milliseconds for
// a heap of hundreds of MiB), so call it after a burst, not per operation.
inline void ReturnFreeHeapToOs() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

// For a long-running server. glibc raises its mmap threshold (up to 32 MiB)
// each time a large mmapped block is freed, and its trim threshold with it;
// from then on large transient buffers (a flush burst's bookkeeping, index
// tables being rebuilt) come from the heaps, and a thread's heap keeps up to
// that much free memory at its top for good, where malloc_trim does not
// reach. Fixed thresholds keep large blocks mmapped (returned when freed) and
// heap tops trimmed past 1 MiB.
inline void TuneHeapForServer() {
#if defined(__GLIBC__)
  ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 20);
#endif
}

}  // namespace ctxstore
