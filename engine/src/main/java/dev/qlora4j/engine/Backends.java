package dev.qlora4j.engine;

import dev.qlora4j.engine.spi.Backend;
import dev.qlora4j.engine.spi.BackendProvider;

import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Finds the backend of a device among the {@link BackendProvider}s on the class or module path. Only
 * the engine's own entries ({@link Ops}, {@link TrainingOps}, {@link Tensor}, {@link Device}) reach
 * a backend, so every kernel call goes through their argument checks.
 */
final class Backends {
    /**
     * Whether the incubating Vector API is in this JVM. On the module path the engine's
     * {@code requires} resolves it; on the class path it takes {@code --add-modules
     * jdk.incubator.vector}, and without it the CPU kernels would fail later with a
     * NoClassDefFoundError that names no remedy.
     */
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            || Backends.class.getModule().getLayer() != null
            && Backends.class.getModule().getLayer().findModule("jdk.incubator.vector").isPresent();
    private static final Map<Device.Kind, BackendProvider> PROVIDERS = load();

    private Backends() {
    }

    private static Map<Device.Kind, BackendProvider> load() {
        Map<Device.Kind, BackendProvider> found = new EnumMap<>(Device.Kind.class);
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            // The first provider of a kind wins, so that the order of the path decides, as for any service.
            found.putIfAbsent(p.kind(), p);
        }
        return found;
    }

    /**
     * The backend that computes on {@code device}.
     *
     * @throws IllegalStateException saying why, when no backend for the device's kind is installed or
     *         the device cannot be used in this process
     */
    static Backend of(Device device) {
        if (!VECTOR_API) {
            throw new IllegalStateException("qlora4j needs the JDK's incubating Vector API, which this JVM was started"
                    + " without: add --add-modules jdk.incubator.vector to the java command (and"
                    + " --enable-native-access=ALL-UNNAMED on the class path)");
        }
        return provider(device.kind()).backend(device);
    }

    /** What the provider of {@code kind} reports, or why there is none. */
    static Device.Availability availability(Device.Kind kind) {
        BackendProvider p = PROVIDERS.get(kind);
        return p == null ? new Device.Availability(false, 0, missing(kind)) : p.availability();
    }

    private static BackendProvider provider(Device.Kind kind) {
        BackendProvider p = PROVIDERS.get(kind);
        if (p == null) {
            throw new IllegalStateException(missing(kind));
        }
        return p;
    }

    private static String missing(Device.Kind kind) {
        return kind == Device.Kind.CUDA
                ? "no CUDA backend is installed: add the artifact dev.qlora4j:qlora4j-engine-cuda (module dev.qlora4j.engine.cuda) to the class or module path"
                : "no backend for " + kind + " devices is on the class or module path";
    }

    /**
     * CUDA device 0 when it can be used, else the CPU; with {@code sayWhy}, a one-line note on standard
     * error says why the CPU was chosen.
     */
    static Device autoDevice(boolean sayWhy) {
        Device.Availability cuda = availability(Device.Kind.CUDA);
        if (cuda.usable()) {
            return Device.cuda(0);
        }
        if (sayWhy) {
            System.err.println("qlora4j: using the CPU (" + cuda.detail() + ")");
        }
        return Device.CPU;
    }
}
