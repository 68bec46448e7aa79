package dev.qlora4j.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Small read-only tables that ops build on the host — rotary tables, quantization code books — kept
 * on a device after their first use, so that they cross to a GPU once instead of every step: a copy
 * from pageable host memory may wait for the device's whole queue, which would stall the GPU dozens
 * of times per training step. Each backend owns one and frees it with its device; on the CPU,
 * where a table needs no copy, nothing is kept. Scalars are not tables: they go to kernels by value
 * ({@link Ops#scale}).
 *
 * <p>At most {@value #MAX_ENTRIES} tables are kept per device (generation asks for a rotary table
 * at every new position); past that, tables are copied per use. Thread-safe.
 */
public final class DeviceConstants implements AutoCloseable {
    static final int MAX_ENTRIES = 4096;

    private final Device device;
    private final boolean keep;
    private final Map<List<Object>, Tensor> kept = new ConcurrentHashMap<>();

    private DeviceConstants(Device device, boolean keep) {
        this.device = device;
        this.keep = keep;
    }

    /** Tables kept on {@code device} after their first use: for a device whose memory is not the host's. */
    public static DeviceConstants keptOn(Device device) {
        return new DeviceConstants(device, true);
    }

    /** Tables built at every use and nothing kept: for the CPU. */
    public static DeviceConstants builtPerUse(Device device) {
        return new DeviceConstants(device, false);
    }

    /**
     * The host tensor {@code make} builds, on {@code device}, as a tensor the caller closes: the
     * device backend's kept copy under {@code key} (which must identify the values: equal keys, equal
     * tables), built the first time only.
     */
    public static Tensor on(Device device, List<Object> key, Supplier<Tensor> make) {
        return Backends.of(device).constants().get(key, make);
    }

    /** Whether tables are kept on {@code device} (a GPU) rather than built at every use (the CPU). */
    public static boolean keepsTables(Device device) {
        return Backends.of(device).constants().keep;
    }

    /** {@link #on} for this table's device. */
    public Tensor get(List<Object> key, Supplier<Tensor> make) {
        if (!keep) {
            return moved(make);
        }
        List<Object> k = new ArrayList<>(key);
        Tensor table = kept.get(k);
        if (table == null && kept.size() < MAX_ENTRIES) {
            table = kept.computeIfAbsent(k, x -> Scope.unscoped(() -> moved(make)));
        }
        return table != null ? table.contiguous() : moved(make);
    }

    private Tensor moved(Supplier<Tensor> make) {
        try (Tensor host = make.get()) {
            return host.to(device);
        }
    }

    /** Frees every kept table; views handed out before must be closed already. */
    @Override
    public void close() {
        kept.values().forEach(Tensor::close);
        kept.clear();
    }
}
