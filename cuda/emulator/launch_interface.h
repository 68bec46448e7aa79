// The interface between host-compiled kernels and the emulated runtime, without the CUDA language
// layer of cuda_emulation.h, so that the runtime (which includes NVIDIA's headers and their ::dim3)
// can include it too.
#pragma once

#include <stddef.h>
#include <string.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// Symbols the emulator library exports for kernels compiled outside it (the self-test's kernels).
#define QLEMU_EXPORT __attribute__((visibility("default")))

namespace qlemu {

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};

// The built-in variables of the thread that is running; the block runner sets them before it
// switches to a thread.
struct BuiltinVariables {
    uint3 threadIdx;
    uint3 blockIdx;
    dim3 blockDim;
    dim3 gridDim;
};
QLEMU_EXPORT extern BuiltinVariables builtins;

// Suspends the calling thread until every thread of its block has reached this barrier. The call
// site identifies the barrier, so threads waiting at different __syncthreads() are reported as the
// undefined behaviour CUDA says it is.
QLEMU_EXPORT void syncthreads(const char* file, int line);

// Runs body(context) once for every thread of the grid. Returns false, with *error explaining why,
// when a block cannot complete (some threads exited while others wait at a barrier, or threads wait
// at different barriers).
QLEMU_EXPORT bool runGrid(dim3 grid, dim3 block, void (*body)(void*), void* context, std::string* error);

// What cudaLaunchKernel calls: copies the kernel's arguments out of the array of pointers and runs
// the grid.
using LaunchFn = bool (*)(dim3 grid, dim3 block, void** args, std::string* error);

struct KernelEntry {
    const char* name;
    unsigned int arity;
    LaunchFn launch;
};

// Adds a kernel to the registry cudaLibraryGetKernel consults. Aborts on a duplicate name: two
// kernels compiled under one name is a build error, not something to resolve at run time.
QLEMU_EXPORT void registerKernel(const KernelEntry& entry);

template <typename T>
T argumentValue(void* p) {
    // memcpy, not a dereference: the caller's argument storage need not be aligned for T.
    T value;
    memcpy(&value, p, sizeof value);
    return value;
}

template <typename F, F* Kernel>
struct Launcher;

// The launcher of one kernel, generated from the kernel's own parameter list, so each argument is
// read as exactly the type the kernel declares.
template <typename... P, void (*Kernel)(P...)>
struct Launcher<void(P...), Kernel> {
    static_assert((std::is_trivially_copyable_v<P> && ...),
                  "kernel parameters must be trivially copyable: they are copied byte for byte");

    static void thread(void* args) {
        // std::apply copies each value into the kernel's by-value parameters, so a thread that
        // modifies its parameters does not disturb the others.
        std::apply(Kernel, *static_cast<std::tuple<P...>*>(args));
    }

    template <size_t... I>
    static std::tuple<P...> unpack(void** args, std::index_sequence<I...>) {
        return std::tuple<P...>(argumentValue<P>(args[I])...);
    }

    static bool launch(dim3 grid, dim3 block, void** args, std::string* error) {
        std::tuple<P...> values = unpack(args, std::index_sequence_for<P...>{});
        return runGrid(grid, block, &thread, &values, error);
    }
};

template <typename... P>
constexpr unsigned int kernelArity(void (*)(P...)) {
    return sizeof...(P);
}

struct Registration {
    explicit Registration(const KernelEntry& entry) { registerKernel(entry); }
};

}  // namespace qlemu
