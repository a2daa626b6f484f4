import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads topics from the beginning with a read_committed consumer (no group: every partition
 * assigned) and prints one JSON line per record: {"topic","partition","offset","key","value"}.
 * It follows the topics until a line "end" arrives on stdin; then it reads up to the end offsets
 * (the last stable offsets) of that moment, prints {"end":true} and exits.
 *
 * Usage: java -cp 'lib/*' CommittedReader.java BOOTSTRAP TOPIC[,TOPIC...]
 */
public class CommittedReader {
  public static void main(String[] arguments) throws Exception {
    String bootstrap = arguments[0];
    String[] topics = arguments[1].split(",");
    Properties settings = new Properties();
    settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);

    AtomicBoolean endRequested = new AtomicBoolean(false);
    Thread input =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  if (line.trim().equals("end")) break;
                }
              } catch (Exception ignored) {
                // stdin closed: treat as "end"
              }
              endRequested.set(true);
            });
    input.setDaemon(true);
    input.start();

    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
          partitions.add(new TopicPartition(topic, info.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> endOffsets = null;
      while (true) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          System.out.println(
              "{\"topic\":" + quote(record.topic())
                  + ",\"partition\":" + record.partition()
                  + ",\"offset\":" + record.offset()
                  + ",\"key\":" + quote(record.key())
                  + ",\"value\":" + quote(record.value()) + "}");
        }
        System.out.flush();
        if (endOffsets == null && endRequested.get()) {
          endOffsets = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        }
        if (endOffsets != null && reached(consumer, endOffsets)) break;
      }
    }
    System.out.println("{\"end\":true}");
    System.out.flush();
  }

  static boolean reached(KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      if (consumer.position(end.getKey()) < end.getValue()) return false;
    }
    return true;
  }

  static String quote(String text) {
    if (text == null) return "null";
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
