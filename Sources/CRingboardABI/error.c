// The per-thread error message of ringboard.h, and the library's version.
#include "ringboard.h"
#include "ringboard_internal.h"

#include <string.h>

static _Thread_local char last_error[1024];

const char *ringboard_last_error(void) {
    return last_error;
}

void ringboard_internal_set_error(const char *message, size_t length) {
    if (length >= sizeof(last_error)) {
        length = sizeof(last_error) - 1;
        // Cut at a character boundary: not inside a UTF-8 sequence.
        while (length > 0 && ((unsigned char)message[length] & 0xC0) == 0x80) {
            length--;
        }
    }
    memcpy(last_error, message, length);
    last_error[length] = '\0';
}

uint32_t ringboard_abi_version(void) {
    return RINGBOARD_ABI_VERSION;
}

const char *ringboard_version(void) {
    return RINGBOARD_LIBRARY_VERSION;
}
