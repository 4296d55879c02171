// What libringboard.so's Swift part needs from its C part; not installed with ringboard.h.
#ifndef RINGBOARD_INTERNAL_H
#define RINGBOARD_INTERNAL_H

#include <stddef.h>

/** The library's version: python/pyproject.toml's (a test checks they agree). */
#define RINGBOARD_LIBRARY_VERSION "0.1.0"

/** Sets this thread's ringboard_last_error() to `length` bytes of `message` (cut to fit). */
__attribute__((visibility("hidden")))
void ringboard_internal_set_error(const char *message, size_t length);

#endif
