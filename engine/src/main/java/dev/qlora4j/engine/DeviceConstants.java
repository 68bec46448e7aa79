package dev.qlora4j.engine;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Small read-only tensors that ops build on the host every call — scalar operands, rotary tables —
 * kept on each device after their first use, so that they cross to a GPU once instead of every
 * step: a copy from pageable host memory may wait for the device's whole queue, which would stall
 * the GPU dozens of times per training step. On the CPU nothing is kept.
 *
 * <p>At most {@value #MAX_ENTRIES} tensors are kept per process; past that, values are copied per
 * call as before. Thread-safe.
 */
public final class DeviceConstants {
    static final int MAX_ENTRIES = 4096;
    private static final Map<List<Object>, Tensor> KEPT = new ConcurrentHashMap<>();

    private DeviceConstants() {
    }

    /**
     * The host tensor {@code make} builds, on {@code device}, as a tensor the caller closes. For a
     * device, it is a view of the copy kept under {@code key} (which must identify the values:
     * equal keys, equal tensors); {@code make} runs only the first time.
     */
    public static Tensor on(Device device, List<Object> key, Supplier<Tensor> make) {
        if (device.equals(Device.CPU)) {
            return make.get();
        }
        List<Object> k = new java.util.ArrayList<>(key);
        k.add(device);
        Tensor kept = KEPT.get(k);
        if (kept == null && KEPT.size() < MAX_ENTRIES) {
            kept = KEPT.computeIfAbsent(k, x -> Scope.unscoped(() -> moved(make, device)));
        }
        return kept != null ? kept.contiguous() : moved(make, device);
    }

    private static Tensor moved(Supplier<Tensor> make, Device device) {
        try (Tensor host = make.get()) {
            return host.to(device);
        }
    }
}
