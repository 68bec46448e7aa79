"""What the peer scripts (gemm_peers.py, lora_peers.py) share: the environment a fair peer runs in,
and best-of-batches timing that also reports how busy other processes kept the CPU."""
import math
import os
import time


def peer_env(threads):
    env = dict(os.environ)
    # These force OpenBLAS onto AVX2 kernels / half-size blocking on this
    # machine; a peer should run with its own auto-detected best settings.
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    # Spinning OpenMP workers would steal the (only two) cores between calls.
    env["OMP_WAIT_POLICY"] = "passive"
    return env


def cpu_ticks():
    """(total, idle+iowait) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    return sum(ticks), ticks[3] + ticks[4]


def cpu_busy_fraction(seconds=0.5):
    """Share of all CPUs busy while this (sleeping) parent samples /proc/stat."""
    total0, idle0 = cpu_ticks()
    time.sleep(seconds)
    total1, idle1 = cpu_ticks()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def time_batches(fn, quick, warm_s=None):
    """Seconds per call of fn(): (best batch, worst batch, reps per batch, CPU share used by
    other processes meanwhile). Warm-up first (page in operands, build thread pools, optimizer
    state), then batches of an adaptive repeat count lasting >= batch_s each. Best, not mean: on
    this VM whole seconds run at about half speed with no visible cause (host-side sharing), and
    the best batch is the stable number."""
    batch_s, batches = (0.05, 3) if quick else (0.3, 5)
    if warm_s is None:
        warm_s = 0.05 if quick else 0.3
    t0 = time.perf_counter()
    fn()
    single = time.perf_counter() - t0
    warm_until = time.perf_counter() + warm_s
    n = 0
    while time.perf_counter() < warm_until or n < 2:
        t0 = time.perf_counter()
        fn()
        single = min(single, time.perf_counter() - t0)
        n += 1
    reps = max(1, math.ceil(batch_s / single))
    # On a 2-core box any other load (a build, a JVM) ruins a 2-thread result,
    # so measure how much CPU *other* processes used meanwhile and report it.
    ticks0, own0, wall0 = cpu_ticks(), os.times(), time.perf_counter()
    times = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t0) / reps)
    ticks1, own1, wall = cpu_ticks(), os.times(), time.perf_counter() - wall0
    busy = 1.0 - (ticks1[1] - ticks0[1]) / max(1, ticks1[0] - ticks0[0])
    own = (own1.user + own1.system - own0.user - own0.system) / (wall * os.cpu_count())
    return min(times), max(times), reps, max(0.0, busy - own)
