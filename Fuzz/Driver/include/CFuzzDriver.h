#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H

/// Runs libFuzzer on LLVMFuzzerTestOneInput with the process's arguments
/// (built with -DSWITCHYARD_FUZZING and -sanitize=fuzzer); returns 2 without.
int switchyard_fuzz_run(int argc, char **argv);

#endif
