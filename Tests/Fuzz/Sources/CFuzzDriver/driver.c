#include "CFuzzDriver.h"

int (*CFuzzDriver_target)(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return CFuzzDriver_target ? CFuzzDriver_target(data, size) : -1;
}
