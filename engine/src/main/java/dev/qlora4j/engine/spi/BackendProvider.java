package dev.qlora4j.engine.spi;

import dev.qlora4j.engine.Device;

/**
 * Makes the backends of one kind of device. The engine finds providers with
 * {@link java.util.ServiceLoader}: a module declares {@code provides BackendProvider with ...}, a jar
 * on the class path lists its provider in {@code META-INF/services}. The engine module provides the
 * CPU; {@code dev.qlora4j.engine.cuda} provides CUDA, so the engine core names no backend.
 */
public interface BackendProvider {
    /** The kind of device this provider serves; one provider per kind is used. */
    Device.Kind kind();

    /**
     * The backend of {@code device}, a device of this provider's kind, made on first use and kept.
     *
     * @throws IllegalStateException (for CUDA, a {@code CudaUnavailableException}) saying why, when
     *         this kind of device cannot be used in this process
     * @throws IllegalArgumentException when the device's ordinal names no present device
     */
    Backend backend(Device device);

    /**
     * Whether this kind of device can be used in this process, found without creating a backend,
     * with a one-line reason when it cannot.
     */
    Device.Availability availability();
}
