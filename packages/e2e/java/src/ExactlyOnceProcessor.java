import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Consume-transform-produce exactly once (KIP-98/447), written as Kafka's documentation says an
 * application should be: a read_committed group member and a transactional producer; each poll's
 * records are written as "out-VALUE" (same key, same partition index) and their offsets committed in
 * the same transaction. A fatal error (fenced, ...) ends the program; any other error aborts the
 * transaction and rewinds the consumer to its committed offsets; a commit that timed out is retried.
 * Every ABORT_EVERY-th transaction (0: none) is aborted on purpose after its records and offsets
 * were sent, so the output log holds aborted records a read_committed reader must skip.
 * It stops once its committed offsets reach the input's end offsets taken at start.
 *
 * Prints one JSON line per event: {"event":"committed","records":N,"total":T},
 * {"event":"aborted","error":"..."}, {"event":"done","total":T}.
 *
 * Usage: java -cp 'lib/*' ExactlyOnceProcessor.java BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID PAUSE_MS ABORT_EVERY
 */
public class ExactlyOnceProcessor {
  public static void main(String[] arguments) throws Exception {
    try {
      run(arguments);
    } catch (Throwable error) {
      // Printed here: the source launcher fails while trimming the stack of a thrown exception.
      System.out.println("{\"event\":\"failed\",\"error\":" + quote(error.toString()) + "}");
      error.printStackTrace(System.out);
      System.exit(1);
    }
  }

  static void run(String[] arguments) throws Exception {
    String bootstrap = arguments[0];
    String input = arguments[1];
    String output = arguments[2];
    String group = arguments[3];
    String transactionalId = arguments[4];
    long pauseMs = Long.parseLong(arguments[5]);
    int abortEvery = Integer.parseInt(arguments[6]);

    Properties consumerSettings = new Properties();
    consumerSettings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    consumerSettings.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    consumerSettings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerSettings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerSettings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerSettings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 40);
    consumerSettings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    consumerSettings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);

    Properties producerSettings = new Properties();
    producerSettings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    producerSettings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    producerSettings.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20_000);
    producerSettings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    producerSettings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);

    long total = 0;
    long attempts = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerSettings);
        KafkaProducer<String, String> producer = new KafkaProducer<>(producerSettings)) {
      producer.initTransactions();
      consumer.subscribe(Set.of(input));
      Map<TopicPartition, Long> ends = new HashMap<>();
      for (var info : consumer.partitionsFor(input, Duration.ofSeconds(30))) {
        ends.put(new TopicPartition(input, info.partition()), 0L);
      }
      ends.putAll(consumer.endOffsets(ends.keySet(), Duration.ofSeconds(30)));
      Map<TopicPartition, Long> committed = new HashMap<>();
      while (!reached(committed, ends)) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) continue;
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        try {
          producer.beginTransaction();
          for (ConsumerRecord<String, String> record : records) {
            producer.send(new ProducerRecord<>(output, record.partition(), record.key(), "out-" + record.value()));
            offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
          }
          producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
          attempts++;
          if (abortEvery > 0 && attempts % abortEvery == 0) {
            System.out.println("{\"event\":\"aborted\",\"error\":\"on purpose\"}");
            abortWithRetries(producer);
            rewind(consumer);
            continue;
          }
          commitWithRetries(producer);
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException | UnsupportedVersionException fatal) {
          throw fatal;
        } catch (KafkaException error) {
          System.out.println("{\"event\":\"aborted\",\"error\":" + quote(error.toString()) + "}");
          abortWithRetries(producer);
          rewind(consumer);
          continue;
        }
        total += records.count();
        for (var entry : offsets.entrySet()) committed.put(entry.getKey(), entry.getValue().offset());
        System.out.println("{\"event\":\"committed\",\"records\":" + records.count() + ",\"total\":" + total + "}");
        if (pauseMs > 0) Thread.sleep(pauseMs);
      }
    }
    System.out.println("{\"event\":\"done\",\"total\":" + total + "}");
  }

  static boolean reached(Map<TopicPartition, Long> committed, Map<TopicPartition, Long> ends) {
    for (var entry : ends.entrySet()) {
      if (entry.getValue() > 0 && committed.getOrDefault(entry.getKey(), -1L) < entry.getValue()) return false;
    }
    return true;
  }

  /** A commit that timed out may have happened or not: retrying it is what the client documents. */
  static void commitWithRetries(KafkaProducer<String, String> producer) {
    for (int attempt = 1; ; attempt++) {
      try {
        producer.commitTransaction();
        return;
      } catch (TimeoutException timeout) {
        if (attempt >= 5) throw timeout;
      }
    }
  }

  static void abortWithRetries(KafkaProducer<String, String> producer) {
    for (int attempt = 1; ; attempt++) {
      try {
        producer.abortTransaction();
        return;
      } catch (TimeoutException timeout) {
        if (attempt >= 5) throw timeout;
      }
    }
  }

  /** Back to the group's committed offsets (the aborted transaction's input is read again). */
  static void rewind(KafkaConsumer<String, String> consumer) {
    var assignment = consumer.assignment();
    var committed = consumer.committed(assignment, Duration.ofSeconds(30));
    for (TopicPartition partition : assignment) {
      OffsetAndMetadata offset = committed.get(partition);
      if (offset == null) consumer.seekToBeginning(Set.of(partition));
      else consumer.seek(partition, offset.offset());
    }
  }

  static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }
}
