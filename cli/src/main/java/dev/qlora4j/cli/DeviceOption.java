package dev.qlora4j.cli;

import dev.qlora4j.engine.Device;

/** The {@code --device} option of the commands that compute with a model: where the model and its tensors live. */
final class DeviceOption {
    static final String NAME = "--device";
    /** The option in a usage synopsis. */
    static final String SYNOPSIS = "[--device cpu|cuda|cuda:N|auto]";
    /** The option's paragraph in a usage text. */
    static final String HELP = """
            --device: where the model computes — cpu, cuda (CUDA device 0), cuda:N, or auto (the default):
            CUDA device 0 when CUDA is usable, else the CPU (saying why in one line on standard error when
            auto is named; qlora4j info always says).""";

    private DeviceOption() {
    }

    /**
     * The device {@code --device} names (default auto), checked usable before the command does any work.
     *
     * @throws UsageException for text that names no device
     * @throws IllegalStateException for a CUDA device that cannot be used here, saying why
     */
    static Device parse(Args args) throws UsageException {
        if (!args.has(NAME)) {
            // No device named: the preferred one, quietly (info says why CUDA is not used).
            return Device.preferred().requireUsable();
        }
        String text = args.get(NAME, "auto");
        Device device;
        try {
            device = Device.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(NAME + " \"" + text + "\": expected cpu, cuda, cuda:N (N a device number, e.g. cuda:1) or auto");
        }
        // A CUDA device is otherwise first touched when the model moves there, after the data is read
        // and maybe a base trained: failing here tells the user at once.
        return device.requireUsable();
    }

    /** The device in a sentence: "the CPU" or "cuda:0". */
    static String where(Device device) {
        return device.equals(Device.CPU) ? "the CPU" : device.toString();
    }
}
