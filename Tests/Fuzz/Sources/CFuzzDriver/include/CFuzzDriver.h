#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (linked in by `-sanitize=fuzzer`): parses libFuzzer's flags from argv and
/// runs `callback` on each input.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// The input handler libFuzzer's entry point `LLVMFuzzerTestOneInput` calls.
extern int (*CFuzzDriver_target)(const uint8_t *data, size_t size);
