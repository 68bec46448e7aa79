package dev.qlora4j.engine.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that run the tasks of one kernel call: {@code threads - 1} daemon workers
 * plus the calling thread, which works too instead of waiting. Tasks are claimed from a shared
 * counter, so uneven tasks balance themselves. A call made from inside a task runs inline, which
 * rules out the deadlock of workers waiting on work queued behind themselves.
 */
public final class ParallelPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService workers;
    private final ThreadLocal<Boolean> insideTask = ThreadLocal.withInitial(() -> false);

    public ParallelPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("ParallelPool: " + threads + " threads requested, expected >= 1");
        }
        this.threads = threads;
        AtomicInteger n = new AtomicInteger();
        this.workers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "qlora4j-cpu-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task.accept(i)} for every i in [0, tasks) and returns when all have finished. */
    public void run(int tasks, IntConsumer task) {
        if (tasks <= 0) {
            return;
        }
        if (tasks == 1 || workers == null || insideTask.get()) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            boolean was = insideTask.get();
            insideTask.set(true);
            try {
                for (int i; (i = next.getAndIncrement()) < tasks; ) {
                    task.accept(i);
                }
            } finally {
                insideTask.set(was);
            }
        };
        int helpers = Math.min(threads, tasks) - 1;
        List<Future<?>> futures = new ArrayList<>(helpers);
        for (int h = 0; h < helpers; h++) {
            futures.add(workers.submit(drain));
        }
        Throwable failure = null;
        try {
            drain.run();
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(tasks);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("parallel task interrupted", failure);
        }
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdownNow();
        }
    }
}
