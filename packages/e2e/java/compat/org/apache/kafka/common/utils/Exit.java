package org.apache.kafka.common.utils;

/**
 * Kafka 4.4 moved Exit to org.apache.kafka.common.utils.internals; MirrorMaker's main class in
 * connect-mirror 4.3.1 still calls the old name (addShutdownHook, exit). See AppInfoParser.java.
 */
public final class Exit {
    private Exit() {}

    public static void exit(int statusCode) {
        org.apache.kafka.common.utils.internals.Exit.exit(statusCode);
    }

    public static void addShutdownHook(String name, Runnable runnable) {
        org.apache.kafka.common.utils.internals.Exit.addShutdownHook(name, runnable);
    }
}
