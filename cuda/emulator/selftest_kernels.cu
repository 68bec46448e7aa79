// Kernels for selftest.cpp, compiled as the real kernel sources are: g++ -x c++ -include
// cuda_emulation.h. Each exercises one CUDA execution rule the emulator must honour.

typedef struct {
    long long offset;
    long long strides[8];
} TestView;  // shaped like the spec's QlView: a struct passed by value

// A shared-memory tree reduction, the pattern of the spec's "row" kernels, for any block size:
// thread t first sums elements t, t + blockDim.x, ... of its block's row, then the tree halves from
// the next power of two. Without a real barrier a thread would read partial sums not yet written
// (or left over from the previous block, since __shared__ storage is reused).
extern "C" __global__ void test_block_sum(const float* x, float* out, long long n) {
    __shared__ float partial[1024];
    float sum = 0.0f;
    for (long long i = threadIdx.x; i < n; i += blockDim.x) {
        sum += x[blockIdx.x * n + i];
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    unsigned int width = 1;
    while (width < blockDim.x) {
        width <<= 1;
    }
    for (unsigned int s = width / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s && threadIdx.x + s < blockDim.x) {
            partial[threadIdx.x] += partial[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[blockIdx.x] = partial[0];
    }
}

// The spec's grid-stride loop: every element visited exactly once, whatever the grid.
extern "C" __global__ void test_grid_stride(float* visits, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        atomicAdd(&visits[i], 1.0f);
    }
}

// Records each thread's coordinates in the next free slot, so the host can check that every
// (block, thread) combination of a 3-D launch ran once with in-range coordinates.
extern "C" __global__ void test_coordinates(float* counter, unsigned int* slots) {
    unsigned int slot = (unsigned int)atomicAdd(counter, 1.0f);
    unsigned int* s = slots + 9 * slot;
    s[0] = threadIdx.x;
    s[1] = threadIdx.y;
    s[2] = threadIdx.z;
    s[3] = blockIdx.x;
    s[4] = blockIdx.y;
    s[5] = blockIdx.z;
    s[6] = blockDim.x * 10000 + blockDim.y * 100 + blockDim.z;
    s[7] = gridDim.x * 10000 + gridDim.y * 100 + gridDim.z;
    s[8] = 1;
}

// Every parameter kind the spec's kernels take, read back to check the argument unpacking.
extern "C" __global__ void test_arguments(long long* out, signed char c, int i, unsigned int u, float f, long long ll,
                                          TestView view, const float* p) {
    if (threadIdx.x == 0 && blockIdx.x == 0) {
        out[0] = c;
        out[1] = i;
        out[2] = u;
        out[3] = (long long)(f * 4.0f);
        out[4] = ll;
        out[5] = view.offset;
        out[6] = view.strides[7];
        out[7] = (long long)*p;
    }
}

// Parameters are per thread: one thread changing its copy must not change another's.
extern "C" __global__ void test_private_parameters(float* out, long long n) {
    n -= threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = (float)n;
}

// The math functions kernels may use: the host's, and the header's rsqrtf.
extern "C" __global__ void test_math(float* out) {
    out[0] = rsqrtf(16.0f);
    out[1] = (float)(isnan(sqrtf(-1.0f)) && isinf(expf(1000.0f)));
    out[2] = fmaxf(expf(0.0f), sqrtf(0.25f)) + fminf(logf(1.0f), tanhf(0.0f)) + fabsf(-1.0f);
}

// Thread 0 leaves before the barrier the others wait at: on a GPU a hang or undefined behaviour,
// here a reported deadlock.
extern "C" __global__ void test_early_exit(float* out) {
    if (threadIdx.x == 0) {
        return;
    }
    __syncthreads();
    out[threadIdx.x] = 1.0f;
}

// Even and odd threads wait at different __syncthreads() calls: undefined in CUDA, reported here.
extern "C" __global__ void test_divergent_barriers(float* out) {
    if (threadIdx.x % 2 == 0) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1.0f;
}

QL_REGISTER(test_block_sum)
QL_REGISTER(test_grid_stride)
QL_REGISTER(test_coordinates)
QL_REGISTER(test_arguments)
QL_REGISTER(test_private_parameters)
QL_REGISTER(test_math)
QL_REGISTER(test_early_exit)
QL_REGISTER(test_divergent_barriers)
