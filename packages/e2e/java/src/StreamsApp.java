import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * A Kafka Streams application under exactly_once_v2 for the e2e test kafka-streams.test.ts.
 *
 * Usage: java -cp 'lib/*' StreamsApp.java BOOTSTRAP APPLICATION_ID STATE_DIR TOPIC_PREFIX INSTANCE
 * (INSTANCE names the instance's static group membership: one per running instance.)
 *
 * Topology (all values are strings; topics are TOPIC_PREFIX + name; internal topics are
 * APPLICATION_ID-{profiles-store,user-sums-store,region-counts-store}-changelog and
 * APPLICATION_ID-by-region-repartition):
 *  - events (key user, value amount) joined with the table profiles (key user, value region):
 *    "region:amount" to enriched (inner join: users without a profile produce nothing);
 *  - per user and 10 s tumbling window, the sum of amounts to user-sums, key "user@windowStart";
 *  - the enriched stream re-keyed by region (a repartition topic), per region and 10 s window,
 *    the count to region-counts, key "region@windowStart".
 * With the record cache off every input record produces exactly one update per output it reaches.
 * Prints "state OLD->NEW" lines on stdout, and "process ID" (the id in its transactional ids:
 * APPLICATION_ID-ID-THREAD) at each RUNNING; a stream thread's failure ends the process with
 * status 1.
 */
public class StreamsApp {
  static final Duration windowSize = Duration.ofSeconds(10);
  // Records reach the region windows from several upstream tasks, in any order: a grace period
  // longer than the input's time span means no record is ever dropped as late.
  static final Duration windowGrace = Duration.ofHours(1);

  public static void main(String[] arguments) throws Exception {
    if (arguments.length != 5) {
      System.err.println("usage: StreamsApp BOOTSTRAP APPLICATION_ID STATE_DIR TOPIC_PREFIX INSTANCE");
      System.exit(2);
    }
    String bootstrap = arguments[0];
    String applicationId = arguments[1];
    String stateDirectory = arguments[2];
    String prefix = arguments[3];
    String instance = arguments[4];

    Properties settings = new Properties();
    settings.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    settings.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    settings.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    settings.put(StreamsConfig.STATE_DIR_CONFIG, stateDirectory);
    settings.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    settings.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    settings.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    settings.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, 1000);
    settings.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    settings.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
    // Replication factor left at Streams' default (-1): the broker's default.
    // Static membership: a restarted instance takes its predecessor's place at once instead of
    // waiting for the killed member's session to time out.
    settings.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), applicationId + "-" + instance);
    settings.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
    // A transaction left open by a killed instance (whose state dir was wiped, so a new
    // transactional id) is aborted by the broker after this long.
    settings.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 5_000);

    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, String> events =
        builder.stream(prefix + "events", Consumed.with(Serdes.String(), Serdes.String()));
    KTable<String, String> profiles =
        builder.table(
            prefix + "profiles",
            Consumed.with(Serdes.String(), Serdes.String()),
            Materialized.as("profiles-store"));

    KStream<String, String> enriched =
        events.join(profiles, (amount, region) -> region + ":" + amount);
    enriched.to(prefix + "enriched", Produced.with(Serdes.String(), Serdes.String()));

    events
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(windowSize, windowGrace))
        .aggregate(
            () -> "0",
            (user, amount, sum) -> Long.toString(Long.parseLong(sum) + Long.parseLong(amount)),
            Materialized.as("user-sums-store"))
        .toStream()
        .map((window, sum) -> KeyValue.pair(window.key() + "@" + window.window().start(), sum))
        .to(prefix + "user-sums", Produced.with(Serdes.String(), Serdes.String()));

    enriched
        .groupBy(
            (user, regionAndAmount) -> regionAndAmount.substring(0, regionAndAmount.indexOf(':')),
            Grouped.with("by-region", Serdes.String(), Serdes.String()))
        .windowedBy(TimeWindows.ofSizeAndGrace(windowSize, windowGrace))
        .count(Materialized.as("region-counts-store"))
        .toStream()
        .map(
            (window, count) ->
                KeyValue.pair(window.key() + "@" + window.window().start(), Long.toString(count)))
        .to(prefix + "region-counts", Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), settings);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener(
        (newState, oldState) -> {
          System.out.println("state " + oldState + "->" + newState);
          if (newState == KafkaStreams.State.RUNNING) {
            // Thread names are APPLICATION_ID-PROCESS_ID-StreamThread-N.
            String thread = streams.metadataForLocalThreads().iterator().next().threadName();
            System.out.println(
                "process "
                    + thread.substring(
                        applicationId.length() + 1, thread.lastIndexOf("-StreamThread-")));
          }
          System.out.flush();
          if (newState == KafkaStreams.State.NOT_RUNNING || newState == KafkaStreams.State.ERROR) {
            stopped.countDown();
          }
        });
    streams.setUncaughtExceptionHandler(
        exception -> {
          System.err.println("stream thread failed: " + exception);
          exception.printStackTrace();
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close(Duration.ofSeconds(20));
                }));
    streams.start();
    stopped.await();
    boolean failed = streams.state() == KafkaStreams.State.ERROR;
    streams.close(Duration.ofSeconds(20));
    System.exit(failed ? 1 : 0);
  }
}
