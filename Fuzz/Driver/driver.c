#include <stddef.h>
#include <stdint.h>
#include "CFuzzDriver.h"

// SwiftPM links an executable's entry as `<module>_main`, so libFuzzer's own
// main is not used: its documented entry for a program with a main of its own
// is LLVMFuzzerRunDriver.
#ifdef SWITCHYARD_FUZZING
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int switchyard_fuzz_run(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
#else
int switchyard_fuzz_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return 2;
}
#endif
