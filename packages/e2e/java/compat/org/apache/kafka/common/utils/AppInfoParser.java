package org.apache.kafka.common.utils;

/**
 * Kafka 4.4 moved AppInfoParser to org.apache.kafka.common.utils.internals; connect-file and
 * connect-mirror 4.3.1 (the newest the registry serves) still call the old name from their
 * connectors' version(), which the 4.4.0 Connect runtime calls when it creates a connector.
 * Compiled by the e2e harness (harness/kafka-connect.ts) and put before Kafka's jars.
 */
public final class AppInfoParser {
    private AppInfoParser() {}

    public static String getVersion() {
        return org.apache.kafka.common.utils.internals.AppInfoParser.getVersion();
    }

    public static String getCommitId() {
        return org.apache.kafka.common.utils.internals.AppInfoParser.getCommitId();
    }
}
