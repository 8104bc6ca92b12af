// libFuzzer's driver, for a program that has its own main (compiler-rt FuzzerInterface.h).
// The library itself is linked by -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
