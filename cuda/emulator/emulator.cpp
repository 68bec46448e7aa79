// The CUDA runtime API subset qlora4j uses, emulated on the host with NVIDIA's own prototypes and
// error codes (cuda_runtime_api.h, driver_types.h). Device memory is host memory; every operation
// completes before its call returns, so streams and events only need to be valid handles. Kernels
// are the host-compiled kernel sources registered by name (kernels_host.cpp); a "library" is the PTX
// text the Java side would hand to a real driver, parsed only for its .entry names.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emulator_internal.h"
#include "launch_interface.h"

#define QL_API extern "C" __attribute__((visibility("default")))

// The opaque handle types of cuda_runtime_api.h, given bodies here.
struct CUstream_st {
    unsigned int flags;
};

struct CUevent_st {
    unsigned int flags;
    bool recorded = false;
    std::chrono::steady_clock::time_point at;
};

struct CUkern_st {
    CUlib_st* library;
    qlemu::KernelEntry entry;
};

struct CUlib_st {
    std::set<std::string> entries;
    std::map<std::string, std::unique_ptr<CUkern_st>> kernels;
};

namespace {

// An H100 SXM: compute capability 9.0, 132 SMs, 80 GB.
constexpr size_t kDeviceMemoryBytes = size_t{80} << 30;
constexpr size_t kAllocationAlignment = 256;  // cudaMalloc's alignment
constexpr unsigned int kMaxThreadsPerBlock = 1024;
constexpr size_t kMaxSharedMemoryPerBlock = 48 * 1024;

struct State {
    std::mutex mutex;  // guards everything below
    std::map<uintptr_t, size_t> device;  // base address -> size of each cudaMalloc allocation
    size_t deviceBytes = 0;
    std::map<const void*, size_t> pinned;  // cudaMallocHost allocations
    size_t pinnedBytes = 0;
    std::set<cudaStream_t> streams;
    std::set<cudaEvent_t> events;
    std::set<cudaLibrary_t> libraries;
    std::set<cudaKernel_t> kernels;
};

State& state() {
    static State s;
    return s;
}

std::map<std::string, qlemu::KernelEntry>& registry() {
    static std::map<std::string, qlemu::KernelEntry> r;
    return r;
}

// One kernel runs at a time: the block runner's fibers and the kernels' __shared__ storage are
// process-wide.
std::mutex launchMutex;

// Set by a failed kernel and never cleared, as an unspecified launch failure is for a CUDA context.
std::atomic<cudaError_t> stickyError{cudaSuccess};

thread_local cudaError_t lastError = cudaSuccess;
thread_local std::string lastDiagnostic;

cudaError_t fail(cudaError_t error, const std::string& why) {
    lastError = error;
    lastDiagnostic = why;
    return error;
}

// The sticky error, to be returned by every call that needs a working device.
cudaError_t failedDevice() {
    return fail(stickyError.load(), "the device failed earlier (a kernel failed); see the first diagnostic");
}

bool validStream(const State& s, cudaStream_t stream) {
    return stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread ||
           s.streams.count(stream) != 0;
}

bool insideDevice(const State& s, const void* p, size_t bytes) {
    auto address = reinterpret_cast<uintptr_t>(p);
    auto it = s.device.upper_bound(address);
    if (it == s.device.begin()) {
        return false;
    }
    --it;
    size_t offset = address - it->first;
    return offset <= it->second && bytes <= it->second - offset;
}

cudaError_t deviceAllocate(void** devPtr, size_t size) {
    if (devPtr == nullptr) {
        return fail(cudaErrorInvalidValue, "devPtr is NULL");
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    if (size == 0) {
        *devPtr = nullptr;
        return cudaSuccess;
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    size_t rounded = (size + kAllocationAlignment - 1) / kAllocationAlignment * kAllocationAlignment;
    void* p = rounded < size || rounded > kDeviceMemoryBytes - s.deviceBytes
                  ? nullptr
                  : std::aligned_alloc(kAllocationAlignment, rounded);
    if (p == nullptr) {
        return fail(cudaErrorMemoryAllocation, "cannot allocate " + std::to_string(size) + " bytes; " +
                                                   std::to_string(s.deviceBytes) + " of " +
                                                   std::to_string(kDeviceMemoryBytes) + " in use");
    }
    s.device.emplace(reinterpret_cast<uintptr_t>(p), size);
    s.deviceBytes += size;
    *devPtr = p;
    return cudaSuccess;
}

cudaError_t deviceFree(void* devPtr) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    if (devPtr == nullptr) {
        return cudaSuccess;
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.device.find(reinterpret_cast<uintptr_t>(devPtr));
    if (it == s.device.end()) {
        return fail(cudaErrorInvalidValue, "cudaFree of a pointer that is not a live cudaMalloc allocation");
    }
    s.deviceBytes -= it->second;
    s.device.erase(it);
    std::free(devPtr);
    return cudaSuccess;
}

// The device side(s) of a copy must lie inside allocations: a real GPU faults, or the runtime
// rejects the copy, when a host pointer stands where a device pointer belongs.
cudaError_t copy(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) {
        return fail(cudaErrorInvalidMemcpyDirection, "unknown cudaMemcpyKind " + std::to_string(kind));
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    {
        State& s = state();
        std::lock_guard<std::mutex> lock(s.mutex);
        if (!validStream(s, stream)) {
            return fail(cudaErrorInvalidResourceHandle, "unknown stream");
        }
        if (count == 0) {
            return cudaSuccess;
        }
        if (dst == nullptr || src == nullptr) {
            return fail(cudaErrorInvalidValue, "NULL pointer in a copy of " + std::to_string(count) + " bytes");
        }
        bool deviceDst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
        bool deviceSrc = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
        if (deviceDst && !insideDevice(s, dst, count)) {
            return fail(cudaErrorInvalidValue, "copy destination is not " + std::to_string(count) +
                                                   " bytes inside one device allocation");
        }
        if (deviceSrc && !insideDevice(s, src, count)) {
            return fail(cudaErrorInvalidValue,
                        "copy source is not " + std::to_string(count) + " bytes inside one device allocation");
        }
    }
    // memmove: CUDA leaves overlapping copies undefined, the emulator need not add a second bug.
    std::memmove(dst, src, count);
    return cudaSuccess;
}

cudaError_t set(void* devPtr, int value, size_t count, cudaStream_t stream) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    {
        State& s = state();
        std::lock_guard<std::mutex> lock(s.mutex);
        if (!validStream(s, stream)) {
            return fail(cudaErrorInvalidResourceHandle, "unknown stream");
        }
        if (count == 0) {
            return cudaSuccess;
        }
        if (!insideDevice(s, devPtr, count)) {
            return fail(cudaErrorInvalidValue,
                        "memset target is not " + std::to_string(count) + " bytes inside one device allocation");
        }
    }
    std::memset(devPtr, value, count);
    return cudaSuccess;
}

cudaError_t usableStream(cudaStream_t stream) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return validStream(s, stream) ? cudaSuccess : fail(cudaErrorInvalidResourceHandle, "unknown stream");
}

bool identifierStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c == '%';
}

bool identifierPart(char c) {
    return identifierStart(c) || (c >= '0' && c <= '9');
}

// Splits PTX text into directives/identifiers and single punctuation characters, dropping
// comments, string literals and whitespace. Returns false on an unterminated comment or string.
bool ptxTokens(const char* p, std::vector<std::string>* tokens) {
    while (*p != '\0') {
        if (p[0] == '/' && p[1] == '/') {
            while (*p != '\0' && *p != '\n') {
                p++;
            }
        } else if (p[0] == '/' && p[1] == '*') {
            const char* end = std::strstr(p + 2, "*/");
            if (end == nullptr) {
                return false;
            }
            p = end + 2;
        } else if (*p == '"') {
            p++;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n') {
                    return false;
                }
                p++;
            }
            p++;
        } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            p++;
        } else if (*p == '.' || identifierPart(*p)) {
            const char* start = p++;
            while (identifierPart(*p)) {
                p++;
            }
            tokens->emplace_back(start, p);
        } else {
            tokens->emplace_back(p, p + 1);
            p++;
        }
    }
    return true;
}

// A PTX module starts with .version and names its .target (PTX ISA, "PTX Module Directives");
// kernels are the names after each .entry.
bool parsePtx(const char* code, std::set<std::string>* entries, std::string* why) {
    std::vector<std::string> tokens;
    if (!ptxTokens(code, &tokens)) {
        *why = "not PTX: unterminated comment or string";
        return false;
    }
    if (tokens.empty() || tokens[0] != ".version") {
        *why = "not PTX text (it must begin with a .version directive); the emulator cannot load cubin or "
               "fatbin images";
        return false;
    }
    if (std::find(tokens.begin(), tokens.end(), ".target") == tokens.end()) {
        *why = "PTX without a .target directive";
        return false;
    }
    for (size_t i = 0; i < tokens.size(); i++) {
        if (tokens[i] != ".entry") {
            continue;
        }
        if (i + 1 == tokens.size() || !identifierStart(tokens[i + 1][0])) {
            *why = ".entry without a kernel name";
            return false;
        }
        entries->insert(tokens[i + 1]);
    }
    return true;
}

}  // namespace

namespace qlemu {

void registerKernel(const KernelEntry& entry) {
    if (!registry().emplace(entry.name, entry).second) {
        std::fprintf(stderr, "qlora4j CUDA emulator: kernel %s is registered twice\n", entry.name);
        std::abort();
    }
}

bool insideDeviceAllocation(const void* p, size_t bytes) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return insideDevice(s, p, bytes);
}

bool deviceFailed() {
    return stickyError != cudaSuccess;
}

void diagnose(const std::string& why, bool toStderr) {
    lastDiagnostic = why;
    if (toStderr) {
        std::fprintf(stderr, "qlora4j CUDA emulator: %s\n", why.c_str());
    }
}

}  // namespace qlemu

// ---- Versions and the device ------------------------------------------------------------------

QL_API cudaError_t cudaRuntimeGetVersion(int* runtimeVersion) {
    if (runtimeVersion == nullptr) {
        return fail(cudaErrorInvalidValue, "runtimeVersion is NULL");
    }
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}

QL_API cudaError_t cudaDriverGetVersion(int* driverVersion) {
    if (driverVersion == nullptr) {
        return fail(cudaErrorInvalidValue, "driverVersion is NULL");
    }
    *driverVersion = CUDART_VERSION;
    return cudaSuccess;
}

QL_API cudaError_t cudaGetDeviceCount(int* count) {
    if (count == nullptr) {
        return fail(cudaErrorInvalidValue, "count is NULL");
    }
    *count = 1;
    return cudaSuccess;
}

QL_API cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice, "the emulator has only device 0");
}

QL_API cudaError_t cudaGetDevice(int* device) {
    if (device == nullptr) {
        return fail(cudaErrorInvalidValue, "device is NULL");
    }
    *device = 0;
    return cudaSuccess;
}

QL_API cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (value == nullptr) {
        return fail(cudaErrorInvalidValue, "value is NULL");
    }
    if (device != 0) {
        return fail(cudaErrorInvalidDevice, "the emulator has only device 0");
    }
    switch (attr) {
        case cudaDevAttrMaxThreadsPerBlock: *value = kMaxThreadsPerBlock; break;
        case cudaDevAttrMaxBlockDimX: *value = 1024; break;
        case cudaDevAttrMaxBlockDimY: *value = 1024; break;
        case cudaDevAttrMaxBlockDimZ: *value = 64; break;
        case cudaDevAttrMaxGridDimX: *value = 2147483647; break;
        case cudaDevAttrMaxGridDimY: *value = 65535; break;
        case cudaDevAttrMaxGridDimZ: *value = 65535; break;
        case cudaDevAttrMaxSharedMemoryPerBlock: *value = kMaxSharedMemoryPerBlock; break;
        case cudaDevAttrTotalConstantMemory: *value = 65536; break;
        case cudaDevAttrWarpSize: *value = 32; break;
        case cudaDevAttrMaxPitch: *value = 2147483647; break;
        case cudaDevAttrMaxRegistersPerBlock: *value = 65536; break;
        case cudaDevAttrClockRate: *value = 1980000; break;
        case cudaDevAttrTextureAlignment: *value = 512; break;
        case cudaDevAttrGpuOverlap: *value = 1; break;
        case cudaDevAttrMultiProcessorCount: *value = 132; break;
        case cudaDevAttrKernelExecTimeout: *value = 0; break;
        case cudaDevAttrIntegrated: *value = 0; break;
        case cudaDevAttrCanMapHostMemory: *value = 1; break;
        case cudaDevAttrComputeMode: *value = cudaComputeModeDefault; break;
        case cudaDevAttrConcurrentKernels: *value = 1; break;
        case cudaDevAttrEccEnabled: *value = 1; break;
        case cudaDevAttrMemoryClockRate: *value = 2619000; break;
        case cudaDevAttrGlobalMemoryBusWidth: *value = 5120; break;
        case cudaDevAttrL2CacheSize: *value = 50 * 1024 * 1024; break;
        case cudaDevAttrMaxThreadsPerMultiProcessor: *value = 2048; break;
        case cudaDevAttrAsyncEngineCount: *value = 3; break;
        case cudaDevAttrUnifiedAddressing: *value = 1; break;
        case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
        case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
        case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = 228 * 1024; break;
        case cudaDevAttrMaxRegistersPerMultiprocessor: *value = 65536; break;
        case cudaDevAttrManagedMemory: *value = 1; break;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = 227 * 1024; break;
        case cudaDevAttrMaxBlocksPerMultiprocessor: *value = 32; break;
        case cudaDevAttrMemoryPoolsSupported: *value = 1; break;
        default:
            return fail(cudaErrorInvalidValue,
                        "device attribute " + std::to_string(attr) + " is not emulated");
    }
    return cudaSuccess;
}

QL_API cudaError_t cudaDeviceSynchronize(void) {
    return stickyError != cudaSuccess ? failedDevice() : cudaSuccess;
}

QL_API cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
    if (free == nullptr || total == nullptr) {
        return fail(cudaErrorInvalidValue, "free or total is NULL");
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    *free = kDeviceMemoryBytes - s.deviceBytes;
    *total = kDeviceMemoryBytes;
    return cudaSuccess;
}

// ---- Memory -------------------------------------------------------------------------------------

QL_API cudaError_t cudaMalloc(void** devPtr, size_t size) {
    return deviceAllocate(devPtr, size);
}

QL_API cudaError_t cudaFree(void* devPtr) {
    return deviceFree(devPtr);
}

QL_API cudaError_t cudaMallocAsync(void** devPtr, size_t size, cudaStream_t stream) {
    cudaError_t e = usableStream(stream);
    return e != cudaSuccess ? e : deviceAllocate(devPtr, size);
}

QL_API cudaError_t cudaFreeAsync(void* devPtr, cudaStream_t stream) {
    cudaError_t e = usableStream(stream);
    return e != cudaSuccess ? e : deviceFree(devPtr);
}

QL_API cudaError_t cudaMallocHost(void** ptr, size_t size) {
    if (ptr == nullptr) {
        return fail(cudaErrorInvalidValue, "ptr is NULL");
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    if (size == 0) {
        *ptr = nullptr;
        return cudaSuccess;
    }
    size_t rounded = (size + kAllocationAlignment - 1) / kAllocationAlignment * kAllocationAlignment;
    void* p = rounded < size ? nullptr : std::aligned_alloc(kAllocationAlignment, rounded);
    if (p == nullptr) {
        return fail(cudaErrorMemoryAllocation, "cannot allocate " + std::to_string(size) + " pinned bytes");
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.pinned.emplace(p, size);
    s.pinnedBytes += size;
    *ptr = p;
    return cudaSuccess;
}

QL_API cudaError_t cudaFreeHost(void* ptr) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    if (ptr == nullptr) {
        return cudaSuccess;
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.pinned.find(ptr);
    if (it == s.pinned.end()) {
        return fail(cudaErrorInvalidValue, "cudaFreeHost of a pointer that is not a live cudaMallocHost allocation");
    }
    s.pinnedBytes -= it->second;
    s.pinned.erase(it);
    std::free(ptr);
    return cudaSuccess;
}

QL_API cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
    return copy(dst, src, count, kind, nullptr);
}

QL_API cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                                   cudaStream_t stream) {
    return copy(dst, src, count, kind, stream);
}

QL_API cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
    return set(devPtr, value, count, nullptr);
}

QL_API cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream) {
    return set(devPtr, value, count, stream);
}

// ---- Streams and events -------------------------------------------------------------------------

QL_API cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
    if (pStream == nullptr) {
        return fail(cudaErrorInvalidValue, "pStream is NULL");
    }
    if ((flags & ~static_cast<unsigned int>(cudaStreamNonBlocking)) != 0) {
        return fail(cudaErrorInvalidValue, "unknown stream flags " + std::to_string(flags));
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    *pStream = new CUstream_st{flags};
    s.streams.insert(*pStream);
    return cudaSuccess;
}

QL_API cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.streams.erase(stream) == 0) {
        return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy of a stream that is not a live created stream");
    }
    delete stream;
    return cudaSuccess;
}

QL_API cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    return usableStream(stream);
}

QL_API cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
    if (event == nullptr) {
        return fail(cudaErrorInvalidValue, "event is NULL");
    }
    if ((flags & cudaEventInterprocess) != 0) {
        return fail(cudaErrorNotSupported, "interprocess events are not emulated");
    }
    if ((flags & ~static_cast<unsigned int>(cudaEventBlockingSync | cudaEventDisableTiming)) != 0) {
        return fail(cudaErrorInvalidValue, "unknown event flags " + std::to_string(flags));
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    *event = new CUevent_st{flags, false, {}};
    s.events.insert(*event);
    return cudaSuccess;
}

QL_API cudaError_t cudaEventCreate(cudaEvent_t* event) {
    return cudaEventCreateWithFlags(event, cudaEventDefault);
}

// Work completes inside the call that submits it, so an event completes when it is recorded.
QL_API cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.events.count(event) == 0 || !validStream(s, stream)) {
        return fail(cudaErrorInvalidResourceHandle, "unknown event or stream");
    }
    event->recorded = true;
    event->at = std::chrono::steady_clock::now();
    return cudaSuccess;
}

QL_API cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.events.count(event) != 0 ? cudaSuccess : fail(cudaErrorInvalidResourceHandle, "unknown event");
}

QL_API cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (ms == nullptr) {
        return fail(cudaErrorInvalidValue, "ms is NULL");
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.events.count(start) == 0 || s.events.count(end) == 0) {
        return fail(cudaErrorInvalidResourceHandle, "unknown event");
    }
    // As documented for cudaEventElapsedTime: unrecorded events and events without timing are
    // invalid handles for this call.
    if (!start->recorded || !end->recorded) {
        return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord has not been called on both events");
    }
    if (((start->flags | end->flags) & cudaEventDisableTiming) != 0) {
        return fail(cudaErrorInvalidResourceHandle, "an event was created with cudaEventDisableTiming");
    }
    *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
    return cudaSuccess;
}

QL_API cudaError_t cudaEventDestroy(cudaEvent_t event) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.events.erase(event) == 0) {
        return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy of an event that is not live");
    }
    delete event;
    return cudaSuccess;
}

// ---- Libraries and kernels ----------------------------------------------------------------------

QL_API cudaError_t cudaLibraryLoadData(cudaLibrary_t* library, const void* code, cudaJitOption* jitOptions,
                                       void** jitOptionsValues, unsigned int numJitOptions,
                                       cudaLibraryOption* libraryOptions, void** libraryOptionValues,
                                       unsigned int numLibraryOptions) {
    if (library == nullptr || code == nullptr) {
        return fail(cudaErrorInvalidValue, "library or code is NULL");
    }
    if ((numJitOptions > 0 && (jitOptions == nullptr || jitOptionsValues == nullptr)) ||
        (numLibraryOptions > 0 && (libraryOptions == nullptr || libraryOptionValues == nullptr))) {
        return fail(cudaErrorInvalidValue, "option counts without option arrays");
    }
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    auto loaded = std::make_unique<CUlib_st>();
    std::string why;
    if (!parsePtx(static_cast<const char*>(code), &loaded->entries, &why)) {
        return fail(cudaErrorInvalidPtx, why);
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    *library = loaded.release();
    s.libraries.insert(*library);
    return cudaSuccess;
}

QL_API cudaError_t cudaLibraryUnload(cudaLibrary_t library) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.libraries.erase(library) == 0) {
        return fail(cudaErrorInvalidResourceHandle, "cudaLibraryUnload of a library that is not loaded");
    }
    for (const auto& kernel : library->kernels) {
        s.kernels.erase(kernel.second.get());
    }
    delete library;
    return cudaSuccess;
}

QL_API cudaError_t cudaLibraryGetKernel(cudaKernel_t* pKernel, cudaLibrary_t library, const char* name) {
    if (pKernel == nullptr || name == nullptr) {
        return fail(cudaErrorInvalidValue, "pKernel or name is NULL");
    }
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.libraries.count(library) == 0) {
        return fail(cudaErrorInvalidResourceHandle, "library is not loaded");
    }
    auto known = library->kernels.find(name);
    if (known != library->kernels.end()) {
        *pKernel = known->second.get();
        return cudaSuccess;
    }
    if (library->entries.count(name) == 0) {
        return fail(cudaErrorSymbolNotFound, std::string("the PTX has no .entry ") + name);
    }
    auto compiled = registry().find(name);
    if (compiled == registry().end()) {
        return fail(cudaErrorSymbolNotFound, std::string("kernel ") + name +
                                                 " is in the PTX but was not compiled into the emulator "
                                                 "(cuda/emulator/kernels_host.cpp)");
    }
    auto kernel = std::make_unique<CUkern_st>(CUkern_st{library, compiled->second});
    *pKernel = kernel.get();
    s.kernels.insert(kernel.get());
    library->kernels.emplace(name, std::move(kernel));
    return cudaSuccess;
}

QL_API cudaError_t cudaLaunchKernel(const void* func, dim3 gridDim, dim3 blockDim, void** args, size_t sharedMem,
                                    cudaStream_t stream) {
    if (stickyError != cudaSuccess) {
        return failedDevice();
    }
    qlemu::KernelEntry entry;
    {
        State& s = state();
        std::lock_guard<std::mutex> lock(s.mutex);
        // Only handles from cudaLibraryGetKernel: there are no host stubs of device functions here.
        auto kernel = s.kernels.find(static_cast<cudaKernel_t>(const_cast<void*>(func)));
        if (kernel == s.kernels.end()) {
            return fail(cudaErrorInvalidDeviceFunction, "func is not a kernel handle from cudaLibraryGetKernel");
        }
        entry = (*kernel)->entry;
        if (!validStream(s, stream)) {
            return fail(cudaErrorInvalidResourceHandle, "unknown stream");
        }
    }
    unsigned long long threads =
        static_cast<unsigned long long>(blockDim.x) * blockDim.y * blockDim.z;
    if (blockDim.x == 0 || blockDim.y == 0 || blockDim.z == 0 || gridDim.x == 0 || gridDim.y == 0 ||
        gridDim.z == 0 || blockDim.x > 1024 || blockDim.y > 1024 || blockDim.z > 64 ||
        threads > kMaxThreadsPerBlock || gridDim.x > 2147483647u || gridDim.y > 65535 || gridDim.z > 65535) {
        return fail(cudaErrorInvalidConfiguration,
                    std::string(entry.name) + ": invalid launch configuration grid (" + std::to_string(gridDim.x) +
                        "," + std::to_string(gridDim.y) + "," + std::to_string(gridDim.z) + ") block (" +
                        std::to_string(blockDim.x) + "," + std::to_string(blockDim.y) + "," +
                        std::to_string(blockDim.z) + ")");
    }
    if (sharedMem > kMaxSharedMemoryPerBlock) {
        return fail(cudaErrorInvalidValue, "sharedMem above the 48 KiB a kernel gets without opting in");
    }
    if (args == nullptr && entry.arity > 0) {
        return fail(cudaErrorInvalidValue, std::string(entry.name) + " takes " + std::to_string(entry.arity) +
                                               " arguments but args is NULL");
    }
    std::lock_guard<std::mutex> launch(launchMutex);
    std::string error;
    if (!entry.launch(qlemu::dim3(gridDim.x, gridDim.y, gridDim.z), qlemu::dim3(blockDim.x, blockDim.y, blockDim.z),
                      args, &error)) {
        stickyError = cudaErrorLaunchFailure;
        qlemu::diagnose(std::string("kernel ") + entry.name + " failed: " + error, true);
        lastError = cudaErrorLaunchFailure;
        return cudaErrorLaunchFailure;
    }
    return cudaSuccess;
}

// ---- Errors -------------------------------------------------------------------------------------

// A sticky error survives cudaGetLastError, as in CUDA.
QL_API cudaError_t cudaGetLastError(void) {
    cudaError_t e = lastError;
    lastError = stickyError.load();
    return e;
}

QL_API cudaError_t cudaPeekAtLastError(void) {
    return lastError;
}

namespace {

struct ErrorText {
    cudaError_t code;
    const char* name;
    const char* text;
};

// Every code this emulator returns, worded as libcudart 13.0 words it.
constexpr ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction", "invalid device function"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidPtx, "cudaErrorInvalidPtx", "a PTX JIT compilation failed"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorSymbolNotFound, "cudaErrorSymbolNotFound", "named symbol not found"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
};

const ErrorText* errorText(cudaError_t code) {
    for (const ErrorText& e : kErrors) {
        if (e.code == code) {
            return &e;
        }
    }
    return nullptr;
}

}  // namespace

QL_API const char* cudaGetErrorName(cudaError_t error) {
    const ErrorText* e = errorText(error);
    return e != nullptr ? e->name : "unrecognized error code";
}

QL_API const char* cudaGetErrorString(cudaError_t error) {
    const ErrorText* e = errorText(error);
    return e != nullptr ? e->text : "unrecognized error code";
}

// ---- Emulator-only, for tests -------------------------------------------------------------------

// Bytes in live cudaMalloc/cudaMallocAsync allocations (as requested, before rounding): a test
// that frees what it allocates sees this return to its starting value.
QL_API size_t qlora4jEmulatorLiveBytes(void) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.deviceBytes;
}

// Bytes in live cudaMallocHost allocations.
QL_API size_t qlora4jEmulatorLiveHostBytes(void) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.pinnedBytes;
}

// Why the calling thread's latest failed call failed, in words; "" when none has.
QL_API const char* qlora4jEmulatorLastDiagnostic(void) {
    return lastDiagnostic.c_str();
}
