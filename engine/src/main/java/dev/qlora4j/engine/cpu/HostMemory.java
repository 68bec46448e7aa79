package dev.qlora4j.engine.cpu;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** The host memory a new allocation can still get, as the operating system reports it. */
final class HostMemory {
    /** Overrides the available bytes (tests, or a budget smaller than the machine). */
    static final String AVAILABLE_PROPERTY = "qlora4j.memory.available";

    private HostMemory() {
    }

    /**
     * {@value #AVAILABLE_PROPERTY} when set, else Linux's MemAvailable (free memory plus what the page
     * cache can give back — memory-mapped checkpoints sit there), else the JVM's view of free physical
     * memory.
     */
    static long available() {
        String forced = System.getProperty(AVAILABLE_PROPERTY);
        if (forced != null) {
            return Long.parseLong(forced.trim());
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or unreadable: the JVM's view below.
        }
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getFreeMemorySize();
    }
}
