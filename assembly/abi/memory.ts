// Host → guest memory. The host calls malloc (re-entrantly, inside get_buffer_bytes etc.) and
// hands back a raw pointer. A raw TLSF block is invisible to the GC, so no later
// allocation can reclaim it before we read it (an unpinned managed block would be corrupted).
// The reader frees it with `releaseHostMemory` as soon as it is done.

export function malloc(size: usize): usize {
  return size == 0 ? 0 : heap.alloc(size);
}

export function proxy_on_memory_allocate(size: usize): usize {
  return size == 0 ? 0 : heap.alloc(size);
}

export function releaseHostMemory(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
