// Lets a CUDA kernel source (.cu) compile as host C++ for the qlora4j CUDA emulator:
//   g++ -x c++ -std=c++17 -include cuda_emulation.h kernels.cu
// It supplies the CUDA language pieces the kernel contract (the header of engine-cuda's kernels.cu) allows:
// the execution-space qualifiers, __shared__, the built-in index variables, __syncthreads(),
// atomicAdd on float, and the single-precision math functions (the host's, from math.h, plus
// rsqrtf). Each thread of a block runs as a cooperative fiber
// (block_runner.cpp), so __syncthreads() is a real barrier; blocks run one after another, which is
// why __shared__ can be function-static storage: it belongs to the block that is running.
//
// A kernel compiled this way becomes launchable through cudaLaunchKernel by one QL_REGISTER(name)
// line (the registry and the argument unpacking are in launch_interface.h).
#pragma once

#include <math.h>

// Execution-space qualifiers mean nothing on the host. __restrict__ is already a g++ keyword.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
// Function-static storage is shared by every thread (fiber) of the running block, as shared memory
// is; blocks never overlap because they run sequentially and launches are serialized.
#define __shared__ static

#include "launch_interface.h"

using qlemu::dim3;
using qlemu::uint3;

// Read-only views: kernels cannot assign to the built-in variables, as in CUDA.
#define threadIdx (static_cast<const ::qlemu::uint3&>(::qlemu::builtins.threadIdx))
#define blockIdx (static_cast<const ::qlemu::uint3&>(::qlemu::builtins.blockIdx))
#define blockDim (static_cast<const ::qlemu::dim3&>(::qlemu::builtins.blockDim))
#define gridDim (static_cast<const ::qlemu::dim3&>(::qlemu::builtins.gridDim))

#define __syncthreads() ::qlemu::syncthreads(__FILE__, __LINE__)

// Registers kernel NAME (an extern "C" __global__ function) under its C name, which is also its
// .entry name in the PTX.
#define QL_REGISTER(name)                                                              \
    static const ::qlemu::Registration qlemuRegistration_##name(::qlemu::KernelEntry{  \
        #name, ::qlemu::kernelArity(&name), &::qlemu::Launcher<decltype(name), &name>::launch});

// Threads of a block never run at the same time (fibers switch only at __syncthreads) and launches
// are serialized, so a plain read-modify-write is atomic here.
inline float atomicAdd(float* address, float value) {
    float old = *address;
    *address = old + value;
    return old;
}

// The device's rsqrtf is an approximation (2 ulp); the host computes the correctly rounded
// quotient of the correctly rounded square root.
inline float rsqrtf(float x) {
    return 1.0f / sqrtf(x);
}
