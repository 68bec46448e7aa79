package dev.qlora4j.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ownership, scopes, views and the allocator's counters. */
class MemoryLifetimeTest {
    private static long live() {
        return Allocator.cpu().stats().live();
    }

    @Test
    void closingAScopeReturnsLiveBytesToWhereTheyWere() {
        long before = live();
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(DType.F32, 100, 100);
            Tensor b = Ops.add(a, a);
            Tensor v = b.transpose(0, 1);
            assertTrue(live() >= before + 2 * 40_000, "two 40 KB tensors are live");
            assertFalse(v.isClosed());
        }
        assertEquals(before, live());
    }

    @Test
    void tenThousandScopedIterationsLeaveLiveBytesFlat() {
        long before = live();
        try (Tensor w = Tensor.zeros(DType.F32, 64, 64)) {
            long afterFirst = -1;
            for (int i = 0; i < 10_000; i++) {
                try (Scope step = Scope.open()) {
                    Tensor x = Tensor.zeros(DType.F32, 8, 64);
                    Tensor h = Ops.matmul(x, w);
                    Ops.unary(UnaryOp.SILU, h);
                    h.reshape(64, 8).transpose(0, 1);
                }
                if (i == 0) {
                    afterFirst = live();
                }
                assertEquals(afterFirst, live(), "iteration " + i);
            }
        }
        assertEquals(before, live());
    }

    @Test
    void keptTensorsSurviveTheirScopeAndMoveToTheEnclosingOne() {
        long before = live();
        Tensor kept;
        try (Scope outer = Scope.open()) {
            try (Scope inner = Scope.open()) {
                Tensor t = Tensor.zeros(DType.F32, 10);
                kept = inner.keep(t);
                Tensor.zeros(DType.F32, 10);
            }
            assertFalse(kept.isClosed());
            kept.setFlat(3, 7f);
            assertEquals(7f, kept.getFlat(3));
        }
        assertTrue(kept.isClosed(), "the outer scope owned the kept tensor");
        assertEquals(before, live());
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.zeros(DType.F32, 4);
            Tensor top = s.keep(t);
            s.close();
            assertFalse(top.isClosed(), "kept with no enclosing scope: the caller owns it");
            top.close();
        }
        assertEquals(before, live());
    }

    @Test
    void unscopedTensorsOutliveTheOpenScope() {
        long before = live();
        Tensor kept;
        try (Scope s = Scope.open()) {
            kept = Scope.unscoped(() -> Tensor.zeros(DType.F32, 5));
            Tensor.zeros(DType.F32, 5);
        }
        assertFalse(kept.isClosed());
        kept.close();
        assertEquals(before, live());
    }

    @Test
    void aViewKeepsStorageAliveAfterItsBaseCloses() {
        long before = live();
        Tensor base = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor view = base.transpose(0, 1);
        base.close();
        assertEquals(4f, view.getFloat(0, 1));
        assertTrue(live() > before);
        view.close();
        assertEquals(before, live());
    }

    @Test
    void usingAClosedTensorThrowsNamingTheOperation() {
        Tensor t = Tensor.zeros(DType.F32, 2, 2);
        t.close();
        t.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getFloat(0, 0));
        assertTrue(e.getMessage().contains("getFloat") && e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, t::segment);
        assertThrows(IllegalStateException.class, () -> Ops.add(t, t));
        assertThrows(IllegalStateException.class, () -> Ops.matmul(t, t));
        assertThrows(IllegalStateException.class, () -> t.transpose(0, 1));
    }

    @Test
    void peakCountsTheHighestLiveBytes() {
        Allocator a = Allocator.cpu();
        a.resetPeak();
        long start = a.stats().live();
        try (Tensor big = Tensor.empty(DType.F32, 1 << 20)) {
            assertTrue(a.stats().peak() >= start + (4L << 20));
        }
        assertTrue(a.stats().peak() >= start + (4L << 20));
        assertEquals(start, a.stats().live());
        a.resetPeak();
        assertEquals(start, a.stats().peak());
    }

    @Test
    void freedBlocksAreReusedFromThePool() {
        Allocator a = Allocator.cpu();
        long address;
        try (Tensor t = Tensor.empty(DType.F32, 12345)) {
            address = t.segment().address();
        }
        assertTrue(a.stats().cached() >= 12345 * 4);
        try (Tensor t = Tensor.empty(DType.F32, 12345)) {
            assertEquals(address, t.segment().address(), "the same size class comes back from the pool");
            assertEquals(0, t.segment().address() % Allocator.ALIGNMENT);
        }
    }

    @Test
    void sizeClassesAreAlignedAndWasteAtMostAnEighth() {
        for (long n : new long[]{0, 1, 63, 64, 65, 4095, 4096, 4097, 100_000, 1 << 20, (1 << 20) + 1, 123_456_789}) {
            long c = Allocator.sizeClass(n);
            assertTrue(c >= n && c % Allocator.ALIGNMENT == 0, n + " -> " + c);
            assertTrue(n <= 4096 || c - n <= n / 8, n + " -> " + c);
        }
    }

    @Test
    void scopesMustCloseInReverseOrder() {
        Scope outer = Scope.open();
        Scope inner = Scope.open();
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("reverse order"), e.getMessage());
        inner.close();
        outer.close();
        try (Tensor t = Tensor.zeros(DType.F32, 1); Scope s = Scope.open()) {
            IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> s.keep(t));
            assertTrue(k.getMessage().contains("not created in this scope"), k.getMessage());
        }
    }
}
