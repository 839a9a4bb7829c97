// A cache prefetch hint for the Swift kernels, which have no prefetch
// intrinsic of their own. Inlined into the Swift caller.
#ifndef LORA_PREFETCH_H
#define LORA_PREFETCH_H

/// Asks for the cache line holding `p` in L1, for writing (PREFETCHW).
static inline void lora_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
