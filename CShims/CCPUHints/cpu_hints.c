// Header-only target: see include/cpu_hints.h.
