// What the emulated cuBLAS (cublas.cpp) needs from the emulated runtime (emulator.cpp).
#pragma once

#include <cstddef>
#include <string>

namespace qlemu {

// True when [p, p + bytes) lies inside one live cudaMalloc allocation.
bool insideDeviceAllocation(const void* p, size_t bytes);

// True after a kernel failed: like a real CUDA context after an unspecified launch failure, the
// emulated device then refuses further work.
bool deviceFailed();

// Explains the latest failure to the calling thread (qlora4jEmulatorLastDiagnostic); failures that
// a real GPU would not report with a clear error (faults, hangs) also go to stderr.
void diagnose(const std::string& why, bool toStderr);

}  // namespace qlemu
