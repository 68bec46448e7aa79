// Runs a grid of host-compiled kernel threads with CUDA's block semantics. The threads of a block
// are cooperative fibers on one OS thread: each runs until it reaches __syncthreads() or returns,
// and a barrier opens once every thread of the block waits at it. Blocks run one after another.
// The caller (cudaLaunchKernel) serializes launches, so one set of fibers serves every launch.
#include "launch_interface.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#if !defined(__x86_64__) || defined(QLEMU_UCONTEXT)
#include <ucontext.h>
#endif

namespace qlemu {

BuiltinVariables builtins;

namespace {

// Generous for kernels (their locals are a few scalars) and for a signal handler that may run on
// the fiber's stack; only the pages a thread touches are ever committed.
constexpr size_t kStackBytes = 256 * 1024;
constexpr unsigned int kMaxThreadsPerBlock = 1024;

void fiberMain();

#if defined(__x86_64__) && !defined(QLEMU_UCONTEXT)
// A context switch that saves only the callee-saved registers of the System V ABI. swapcontext
// would also save the signal mask, with a system call per switch, and the floating-point control
// words (MXCSR, x87), whose loads cost more than the rest of the switch together; they belong to the
// OS thread, which every fiber shares, and kernels never change them (as Boost.Context's fcontext
// does by default, they are left alone). It returns with an indirect jump, not ret: a ret that
// lands on another stack than its call mispredicts, and desynchronizes the return predictions of
// the frames above it, which doubled the cost of a small kernel.
extern "C" void qlemu_switch(void** saveSp, void* loadSp);
extern "C" void qlemu_fiber_entry();
asm(R"(
    .text
    .p2align 4
    .globl qlemu_switch
    .hidden qlemu_switch
    .type qlemu_switch, @function
qlemu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmp *%rcx
    .size qlemu_switch, .-qlemu_switch

    .p2align 4
    .globl qlemu_fiber_entry
    .hidden qlemu_fiber_entry
    .type qlemu_fiber_entry, @function
qlemu_fiber_entry:
    .cfi_startproc
    .cfi_undefined rip
    call *%r12
    ud2
    .cfi_endproc
    .size qlemu_fiber_entry, .-qlemu_fiber_entry
)");

struct Context {
    void* sp = nullptr;
};

// Lays out a fresh stack as qlemu_switch leaves a suspended one, so that switching to it "returns"
// into qlemu_fiber_entry, which calls fiberMain (kept in r12) on a 16-byte aligned stack.
void prepare(Context& context, char* stackLow, size_t size) {
    auto* top = reinterpret_cast<unsigned long*>(
        (reinterpret_cast<unsigned long>(stackLow + size) & ~15UL) - 16);
    unsigned long* sp = top - 7;
    sp[0] = 0;                                                  // r15
    sp[1] = 0;                                                  // r14
    sp[2] = 0;                                                  // r13
    sp[3] = reinterpret_cast<unsigned long>(&fiberMain);        // r12
    sp[4] = 0;                                                  // rbx
    sp[5] = 0;                                                  // rbp
    sp[6] = reinterpret_cast<unsigned long>(&qlemu_fiber_entry);  // return address
    context.sp = sp;
}

inline void switchContext(Context& from, Context& to) {
    qlemu_switch(&from.sp, to.sp);
}
#else
// Portable fallback for other architectures (and for testing this path on x86-64).
struct Context {
    ucontext_t uc;
};

void prepare(Context& context, char* stackLow, size_t size) {
    getcontext(&context.uc);
    context.uc.uc_stack.ss_sp = stackLow;
    context.uc.uc_stack.ss_size = size;
    context.uc.uc_link = nullptr;
    makecontext(&context.uc, &fiberMain, 0);
}

inline void switchContext(Context& from, Context& to) {
    swapcontext(&from.uc, &to.uc);
}
#endif

enum class State { Runnable, AtBarrier, Exited };

struct Fiber {
    Context context;
    char* stack = nullptr;  // lowest usable address; kStackBytes long, a guard page below
    uint3 threadIdx{};
    State state = State::Runnable;
    const char* barrierFile = nullptr;
    int barrierLine = 0;
};

struct Runner {
    Fiber fibers[kMaxThreadsPerBlock];
    Context scheduler;
    Fiber* running = nullptr;
    void (*body)(void*) = nullptr;
    void* bodyContext = nullptr;
};

Runner runner;

char* allocateStack() {
    long page = sysconf(_SC_PAGESIZE);
    // The guard page below the stack turns an overflow into a fault instead of silent corruption.
    void* mapping = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED || mprotect(mapping, page, PROT_NONE) != 0) {
        std::fprintf(stderr, "qlora4j CUDA emulator: cannot map a fiber stack\n");
        std::abort();
    }
    return static_cast<char*>(mapping) + page;
}

void fiberMain() {
    Fiber* self = runner.running;
    runner.body(runner.bodyContext);
    self->state = State::Exited;
    switchContext(self->context, runner.scheduler);
    // The scheduler never resumes an exited fiber: its stack is prepared afresh for the next block.
    __builtin_unreachable();
}

std::string describeBlock() {
    char text[96];
    std::snprintf(text, sizeof text, "block (%u,%u,%u)", builtins.blockIdx.x, builtins.blockIdx.y,
                  builtins.blockIdx.z);
    return text;
}

std::string describeBarrier(const Fiber& f) {
    return std::string("__syncthreads() at ") + f.barrierFile + ":" + std::to_string(f.barrierLine);
}

bool runBlock(unsigned int threads, std::string* error) {
    for (unsigned int t = 0; t < threads; t++) {
        Fiber& f = runner.fibers[t];
        prepare(f.context, f.stack, kStackBytes);
        f.state = State::Runnable;
    }
    for (;;) {
        unsigned int waiting = 0;
        unsigned int exited = 0;
        for (unsigned int t = 0; t < threads; t++) {
            Fiber& f = runner.fibers[t];
            if (f.state == State::Runnable) {
                runner.running = &f;
                builtins.threadIdx = f.threadIdx;
                switchContext(runner.scheduler, f.context);
            }
            (f.state == State::AtBarrier ? waiting : exited)++;
        }
        runner.running = nullptr;
        if (waiting == 0) {
            return true;
        }
        const Fiber* first = nullptr;
        for (unsigned int t = 0; t < threads; t++) {
            const Fiber& f = runner.fibers[t];
            if (f.state != State::AtBarrier) {
                continue;
            }
            if (first == nullptr) {
                first = &f;
            } else if (f.barrierLine != first->barrierLine ||
                       (f.barrierFile != first->barrierFile && strcmp(f.barrierFile, first->barrierFile) != 0)) {
                *error = describeBlock() + ": threads wait at different barriers (thread " +
                         std::to_string(first - runner.fibers) + " at " + describeBarrier(*first) +
                         ", thread " + std::to_string(&f - runner.fibers) + " at " + describeBarrier(f) +
                         "); CUDA leaves __syncthreads() in divergent code undefined";
                return false;
            }
        }
        if (exited > 0) {
            *error = describeBlock() + ": deadlock, " + std::to_string(waiting) + " threads wait at " +
                     describeBarrier(*first) + " but " + std::to_string(exited) +
                     " threads of the block have exited and will never reach it";
            return false;
        }
        for (unsigned int t = 0; t < threads; t++) {
            runner.fibers[t].state = State::Runnable;
        }
    }
}

}  // namespace

void syncthreads(const char* file, int line) {
    Fiber* self = runner.running;
    if (self == nullptr) {
        std::fprintf(stderr, "qlora4j CUDA emulator: __syncthreads() called outside a kernel\n");
        std::abort();
    }
    self->state = State::AtBarrier;
    self->barrierFile = file;
    self->barrierLine = line;
    switchContext(self->context, runner.scheduler);
}

bool runGrid(dim3 grid, dim3 block, void (*body)(void*), void* context, std::string* error) {
    unsigned int threads = block.x * block.y * block.z;
    for (unsigned int t = 0; t < threads; t++) {
        Fiber& f = runner.fibers[t];
        if (f.stack == nullptr) {
            f.stack = allocateStack();
        }
        f.threadIdx = uint3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
    }
    runner.body = body;
    runner.bodyContext = context;
    builtins.blockDim = block;
    builtins.gridDim = grid;
    for (unsigned int z = 0; z < grid.z; z++) {
        for (unsigned int y = 0; y < grid.y; y++) {
            for (unsigned int x = 0; x < grid.x; x++) {
                builtins.blockIdx = uint3{x, y, z};
                if (!runBlock(threads, error)) {
                    return false;
                }
            }
        }
    }
    return true;
}

}  // namespace qlemu
