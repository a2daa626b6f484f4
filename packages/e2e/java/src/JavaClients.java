import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Apache Kafka's Java client (the version of the jars on the classpath) driven by the end-to-end
 * tests: `java -cp 'lib/*' JavaClients.java BOOTSTRAP`, then one JSON command per line on stdin,
 * `{"id":1,"command":"produce",...}`. Every command answers with JSON-line events carrying its id
 * and ends with `done` (or `error` with the exception's class and message). One JVM serves a whole
 * test file, so the source is compiled once. The process exits when stdin closes.
 */
public class JavaClients {
  static final ObjectMapper json = new ObjectMapper();
  static String bootstrap;
  static final Duration pollTimeout = Duration.ofMillis(100);

  public static void main(String[] arguments) throws Exception {
    bootstrap = arguments[0];
    BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    emit(json.createObjectNode().put("event", "ready").put("version", org.apache.kafka.common.utils.internals.AppInfoParser.getVersion()));
    for (String line = input.readLine(); line != null; line = input.readLine()) {
      if (line.isBlank()) continue;
      JsonNode command = json.readTree(line);
      int id = command.path("id").asInt();
      Session session = new Session(id);
      try {
        run(session, command.path("command").asText(), command);
        session.send(session.event("done"));
      } catch (Throwable failure) {
        Throwable cause = failure instanceof ExecutionException && failure.getCause() != null ? failure.getCause() : failure;
        session.send(session.event("error").put("type", cause.getClass().getName()).put("message", String.valueOf(cause.getMessage())));
        cause.printStackTrace();
      }
    }
    // Stdin closed: leave now rather than wait for the clients' lingering background threads.
    System.exit(0);
  }

  static synchronized void emit(JsonNode event) {
    System.out.println(event.toString());
    System.out.flush();
  }

  /** The events of one command: each carries the command's id; member threads share it. */
  static final class Session {
    final int id;

    Session(int id) {
      this.id = id;
    }

    /** A new event of this command, to fill in and then send (one whole line, thread-safe). */
    ObjectNode event(String name) {
      return json.createObjectNode().put("id", id).put("event", name);
    }

    void send(ObjectNode event) {
      JavaClients.emit(event);
    }

    /** A result of an admin call under check `name`: `value` is any JSON tree. */
    void result(String name, JsonNode value) {
      ObjectNode event = event("result").put("check", name);
      event.set("value", value);
      send(event);
    }
  }

  static void run(Session session, String name, JsonNode command) throws Exception {
    switch (name) {
      case "createTopic" -> createTopic(command);
      case "produce" -> produce(session, command);
      case "read" -> read(session, command);
      case "consumeGroup" -> consumeGroup(session, command);
      case "committed" -> committed(session, command);
      case "transactions" -> transactions(session, command);
      case "transactionalCopy" -> transactionalCopy(session, command);
      case "sharedGroup" -> sharedGroup(session, command);
      case "adminTopics" -> adminTopics(session, command);
      case "describeTopicsPaged" -> describeTopicsPaged(session, command);
      case "adminConfigs" -> adminConfigs(session, command);
      case "adminCluster" -> adminCluster(session, command);
      case "adminGroups" -> adminGroups(session, command);
      case "adminOffsets" -> adminOffsets(session, command);
      case "adminTransactions" -> adminTransactions(session, command);
      default -> throw new IllegalArgumentException("unknown command " + name);
    }
  }

  // ---------------------------------------------------------------- clients

  static Admin admin() {
    Properties properties = new Properties();
    properties.put("bootstrap.servers", bootstrap);
    properties.put("client.id", "java-admin");
    return Admin.create(properties);
  }

  /** Producer with `settings` (a JSON object of producer configurations) over the defaults. */
  static KafkaProducer<String, String> producer(JsonNode settings) {
    Properties properties = new Properties();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    properties.put(ProducerConfig.ACKS_CONFIG, "all");
    properties.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    settings.fields().forEachRemaining(entry -> properties.put(entry.getKey(), entry.getValue().asText()));
    return new KafkaProducer<>(properties);
  }

  static KafkaConsumer<String, String> consumer(JsonNode settings) {
    Properties properties = new Properties();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    settings.fields().forEachRemaining(entry -> properties.put(entry.getKey(), entry.getValue().asText()));
    return new KafkaConsumer<>(properties);
  }

  static ObjectNode placed(ObjectNode event, int partition, long offset, String key, String value) {
    event.put("partition", partition).put("offset", offset);
    event.put("key", key);
    event.put("value", value);
    return event;
  }

  // ---------------------------------------------------------------- produce and consume

  static void createTopic(JsonNode command) throws Exception {
    try (Admin admin = admin()) {
      NewTopic topic = new NewTopic(command.path("topic").asText(), command.path("partitions").asInt(1), (short) 1);
      Map<String, String> configs = new HashMap<>();
      command.path("configs").fields().forEachRemaining(entry -> configs.put(entry.getKey(), entry.getValue().asText()));
      admin.createTopics(List.of(topic.configs(configs))).all().get();
    }
  }

  /** The numbered records of harness/records.ts: key `P-key-i`, value `P-value-i` (+ padding), partition i % partitions. */
  static ProducerRecord<String, String> numbered(JsonNode command, int index) {
    String prefix = command.path("prefix").asText();
    int partitions = command.path("partitions").asInt(1);
    String value = prefix + "-value-" + index + command.path("padding").asText("").repeat(index % 7);
    return new ProducerRecord<>(command.path("topic").asText(), index % partitions, prefix + "-key-" + index, value);
  }

  /** Sends `count` numbered records, waits for every acknowledgement, reports each as `ack`. */
  static void produce(Session session, JsonNode command) throws Exception {
    try (KafkaProducer<String, String> producer = producer(command.path("settings"))) {
      sendNumbered(session, producer, command).forEach(JavaClients::emit);
    }
  }

  /** Sends `count` numbered records with `producer`; returns their `ack` events (not yet emitted). */
  static List<ObjectNode> sendNumbered(Session session, KafkaProducer<String, String> producer, JsonNode command) throws Exception {
    int count = command.path("count").asInt();
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    List<Future<RecordMetadata>> acknowledgements = new ArrayList<>();
    for (int index = 0; index < count; index++) {
      ProducerRecord<String, String> record = numbered(command, index);
      records.add(record);
      acknowledgements.add(producer.send(record));
    }
    producer.flush();
    List<ObjectNode> acks = new ArrayList<>();
    for (int index = 0; index < count; index++) {
      RecordMetadata metadata = acknowledgements.get(index).get();
      ProducerRecord<String, String> record = records.get(index);
      acks.add(placed(session.event("ack"), metadata.partition(), metadata.offset(), record.key(), record.value()));
    }
    return acks;
  }

  /** Reads every partition of `topic` from the start to its end offset (the LSO under read_committed). */
  static void read(Session session, JsonNode command) {
    String topic = command.path("topic").asText();
    try (KafkaConsumer<String, String> consumer = consumer(command.path("settings"))) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(info -> new TopicPartition(topic, info.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.currentTimeMillis() + command.path("timeoutMs").asLong(30_000);
      while (partitions.stream().anyMatch(partition -> consumer.position(partition) < ends.get(partition))) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("read: end offsets " + ends + " not reached");
        for (ConsumerRecord<String, String> record : consumer.poll(pollTimeout)) {
          session.send(placed(session.event("record"), record.partition(), record.offset(), record.key(), record.value()));
        }
      }
      ObjectNode end = session.event("end");
      ends.forEach((partition, offset) -> end.put(String.valueOf(partition.partition()), offset));
      session.send(end);
    }
  }

  /**
   * One group member: subscribes, polls until `expected` records arrived, committing after every
   * poll, then leaves. Reports assignments and the records.
   */
  static void consumeGroup(Session session, JsonNode command) {
    int expected = command.path("expected").asInt();
    try (KafkaConsumer<String, String> consumer = consumer(command.path("settings"))) {
      consumer.subscribe(List.of(command.path("topic").asText()), reportingListener(session, "member"));
      long deadline = System.currentTimeMillis() + command.path("timeoutMs").asLong(60_000);
      int received = 0;
      while (received < expected) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("consumeGroup: " + received + " of " + expected + " records");
        ConsumerRecords<String, String> records = consumer.poll(pollTimeout);
        for (ConsumerRecord<String, String> record : records) {
          session.send(placed(session.event("record"), record.partition(), record.offset(), record.key(), record.value()));
          received++;
        }
        if (!records.isEmpty()) consumer.commitSync();
      }
    }
  }

  static ConsumerRebalanceListener reportingListener(Session session, String member) {
    return new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        report("revoked", partitions);
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        report("assigned", partitions);
      }

      private void report(String what, Collection<TopicPartition> partitions) {
        ObjectNode event = session.event(what).put("member", member);
        ArrayNode numbers = event.putArray("partitions");
        partitions.stream().map(TopicPartition::partition).sorted().forEach(numbers::add);
        session.send(event);
      }
    };
  }

  static void committed(Session session, JsonNode command) throws Exception {
    try (Admin admin = admin()) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(command.path("group").asText()).partitionsToOffsetAndMetadata().get();
      ObjectNode event = session.event("committed");
      ObjectNode byPartition = event.putObject("offsets");
      offsets.forEach((partition, offset) -> {
        if (offset != null) byPartition.put(String.valueOf(partition.partition()), offset.offset());
      });
      session.send(event);
    }
  }

  /**
   * Two members of one group in threads of this JVM. Waits until they split the topic's partitions
   * (both non-empty, disjoint, all covered), then produces `count` records and consumes them
   * across the two members, committing; reports assignments and which member read each record.
   */
  static void sharedGroup(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    int partitionCount = command.path("partitions").asInt();
    int count = command.path("count").asInt();
    Map<String, Set<Integer>> assignments = new TreeMap<>();
    Map<String, Integer> receivedBy = new HashMap<>();
    AtomicBoolean stop = new AtomicBoolean(false);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    for (String member : List.of("first", "second")) {
      synchronized (assignments) {
        assignments.put(member, new TreeSet<>());
      }
      Thread thread = new Thread(() -> {
        try (KafkaConsumer<String, String> consumer = consumer(command.path("settings"))) {
          consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
              synchronized (assignments) {
                partitions.forEach(partition -> assignments.get(member).remove(partition.partition()));
              }
              reportingListener(session, member).onPartitionsRevoked(partitions);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              synchronized (assignments) {
                partitions.forEach(partition -> assignments.get(member).add(partition.partition()));
              }
              reportingListener(session, member).onPartitionsAssigned(partitions);
            }
          });
          while (!stop.get()) {
            ConsumerRecords<String, String> records = consumer.poll(pollTimeout);
            for (ConsumerRecord<String, String> record : records) {
              session.send(placed(session.event("record"), record.partition(), record.offset(), record.key(), record.value()).put("member", member));
              synchronized (receivedBy) {
                receivedBy.merge(member, 1, Integer::sum);
              }
            }
            if (!records.isEmpty()) consumer.commitSync();
          }
        } catch (Throwable failure) {
          synchronized (failures) {
            failures.add(failure);
          }
        }
      }, "member-" + member);
      thread.start();
      threads.add(thread);
    }
    try {
      long deadline = System.currentTimeMillis() + command.path("timeoutMs").asLong(60_000);
      while (!splitsEvenly(assignments, partitionCount)) {
        checkAlive(failures, deadline, "the two members to split the partitions: " + assignments);
        Thread.sleep(50);
      }
      ObjectNode split = session.event("split");
      synchronized (assignments) {
        assignments.forEach((member, partitions) -> {
          ArrayNode numbers = split.putArray(member);
          partitions.forEach(numbers::add);
        });
      }
      session.send(split);
      try (KafkaProducer<String, String> producer = producer(json.createObjectNode())) {
        sendNumbered(session, producer, command).forEach(JavaClients::emit);
      }
      while (total(receivedBy) < count) {
        checkAlive(failures, deadline, total(receivedBy) + " of " + count + " records");
        Thread.sleep(50);
      }
    } finally {
      stop.set(true);
      for (Thread thread : threads) thread.join(30_000);
    }
    if (!failures.isEmpty()) throw new IllegalStateException("a member failed", failures.get(0));
  }

  static boolean splitsEvenly(Map<String, Set<Integer>> assignments, int partitionCount) {
    synchronized (assignments) {
      Set<Integer> union = new HashSet<>();
      int sum = 0;
      for (Set<Integer> partitions : assignments.values()) {
        if (partitions.isEmpty()) return false;
        union.addAll(partitions);
        sum += partitions.size();
      }
      return sum == partitionCount && union.size() == partitionCount;
    }
  }

  static int total(Map<String, Integer> counts) {
    synchronized (counts) {
      return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  static void checkAlive(List<Throwable> failures, long deadline, String what) {
    synchronized (failures) {
      if (!failures.isEmpty()) throw new IllegalStateException("a member failed", failures.get(0));
    }
    if (System.currentTimeMillis() > deadline) throw new IllegalStateException("timed out waiting for " + what);
  }

  // ---------------------------------------------------------------- transactions

  /**
   * One transactional producer: transaction 1 (committed), 2 (aborted), 3 (committed), each with
   * `count` numbered records (prefixes `P-1`, `P-2`, `P-3`) across the partitions. Acks carry the
   * outcome of their transaction.
   */
  static void transactions(Session session, JsonNode command) throws Exception {
    ObjectNode settings = command.path("settings").isObject() ? command.path("settings").deepCopy() : json.createObjectNode();
    settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, command.path("transactionalId").asText());
    int count = command.path("count").asInt();
    try (KafkaProducer<String, String> producer = producer(settings)) {
      producer.initTransactions();
      for (int transaction = 1; transaction <= 3; transaction++) {
        boolean commit = transaction != 2;
        producer.beginTransaction();
        ObjectNode numberedCommand = ((ObjectNode) command.deepCopy()).put("prefix", command.path("prefix").asText() + "-" + transaction);
        for (ObjectNode ack : sendNumbered(session, producer, numberedCommand)) emit(ack.put("committed", commit));
        if (commit) producer.commitTransaction();
        else producer.abortTransaction();
      }
    }
  }

  /**
   * Consume-transform-produce exactly once (KIP-447): reads `expected` records of `topic` in group
   * `group`, writes each value upper-cased to `output` and commits the consumed offsets inside the
   * same transaction (sendOffsetsToTransaction with the consumer's group metadata).
   */
  static void transactionalCopy(Session session, JsonNode command) throws Exception {
    ObjectNode producerSettings = json.createObjectNode().put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, command.path("transactionalId").asText());
    ObjectNode consumerSettings = json.createObjectNode()
        .put(ConsumerConfig.GROUP_ID_CONFIG, command.path("group").asText())
        .put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    int expected = command.path("expected").asInt();
    String output = command.path("output").asText();
    try (KafkaProducer<String, String> producer = producer(producerSettings);
        KafkaConsumer<String, String> consumer = consumer(consumerSettings)) {
      producer.initTransactions();
      consumer.subscribe(List.of(command.path("topic").asText()));
      long deadline = System.currentTimeMillis() + command.path("timeoutMs").asLong(60_000);
      int copied = 0;
      while (copied < expected) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("transactionalCopy: " + copied + " of " + expected);
        ConsumerRecords<String, String> records = consumer.poll(pollTimeout);
        if (records.isEmpty()) continue;
        producer.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> record : records) {
          producer.send(new ProducerRecord<>(output, record.partition(), record.key(), record.value().toUpperCase()));
          offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
          copied++;
        }
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        producer.commitTransaction();
      }
      session.send(session.event("copied").put("count", copied));
    }
  }

  // ---------------------------------------------------------------- admin

  static ArrayNode array(Collection<?> values) {
    ArrayNode array = json.createArrayNode();
    values.forEach(value -> array.add(json.valueToTree(value)));
    return array;
  }

  static ObjectNode failure(Throwable thrown) {
    Throwable cause = thrown instanceof ExecutionException && thrown.getCause() != null ? thrown.getCause() : thrown;
    return json.createObjectNode().put("error", cause.getClass().getSimpleName());
  }

  interface Call {
    JsonNode run() throws Exception;
  }

  /** Reports the value `call` returns, or `{"error": ExceptionClass}` when it fails. */
  static void check(Session session, String name, Call call) {
    JsonNode value;
    try {
      value = call.run();
    } catch (Exception thrown) {
      value = failure(thrown);
    }
    session.result(name, value);
  }

  static JsonNode describeTopic(Admin admin, String topic) throws Exception {
    TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    ObjectNode value = json.createObjectNode().put("name", description.name()).put("internal", description.isInternal());
    value.put("hasTopicId", description.topicId() != null && !description.topicId().toString().isEmpty());
    ArrayNode partitions = value.putArray("partitions");
    for (TopicPartitionInfo info : description.partitions()) {
      ObjectNode partition = partitions.addObject().put("partition", info.partition()).put("leader", info.leader().id());
      partition.set("replicas", array(info.replicas().stream().map(node -> node.id()).toList()));
      partition.set("isr", array(info.isr().stream().map(node -> node.id()).toList()));
    }
    return value;
  }

  /**
   * describeTopics of the named topics with at most `limit` partitions per response: the Admin
   * pages with DescribeTopicPartitions (and only that API carries the ELR fields). One result per
   * topic: its partitions (leader, replicas, ISR, ELR, last known ELR) or the exception's class.
   */
  static void describeTopicsPaged(Session session, JsonNode command) throws Exception {
    List<String> topics = new ArrayList<>();
    command.path("topics").forEach(topic -> topics.add(topic.asText()));
    var options = new org.apache.kafka.clients.admin.DescribeTopicsOptions().partitionSizeLimitPerResponse(command.path("limit").asInt(2000));
    try (Admin admin = admin()) {
      var futures = admin.describeTopics(topics, options).topicNameValues();
      for (String topic : topics) {
        check(session, topic, () -> {
          TopicDescription description = futures.get(topic).get();
          ObjectNode value = json.createObjectNode().put("internal", description.isInternal());
          ArrayNode partitions = value.putArray("partitions");
          for (TopicPartitionInfo info : description.partitions()) {
            ObjectNode partition = partitions.addObject().put("partition", info.partition()).put("leader", info.leader() == null ? -1 : info.leader().id());
            partition.set("replicas", array(info.replicas().stream().map(node -> node.id()).toList()));
            partition.set("isr", array(info.isr().stream().map(node -> node.id()).toList()));
            partition.set("elr", array(info.elr().stream().map(node -> node.id()).toList()));
            partition.set("lastKnownElr", array(info.lastKnownElr().stream().map(node -> node.id()).toList()));
          }
          return value;
        });
      }
    }
  }

  /** createTopics (and its errors), listTopics, describeTopics (by name and by id), createPartitions, deleteTopics. */
  static void adminTopics(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    try (Admin admin = admin()) {
      check(session, "createTopics", () -> {
        var result = admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1).configs(Map.of("retention.ms", "3600000"))));
        result.all().get();
        return json.createObjectNode().put("partitions", result.numPartitions(topic).get()).put("replicationFactor", result.replicationFactor(topic).get())
            .put("retention.ms", result.config(topic).get().get("retention.ms").value());
      });
      check(session, "describeTopics internal", () -> {
        // A committed offset makes sure __consumer_offsets exists.
        admin.alterConsumerGroupOffsets(topic + "-group", Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(0))).all().get();
        TopicDescription description = admin.describeTopics(List.of("__consumer_offsets")).allTopicNames().get().get("__consumer_offsets");
        return json.createObjectNode().put("internal", description.isInternal()).put("partitions", description.partitions().size());
      });
      check(session, "deleteTopics internal", () -> {
        admin.deleteTopics(List.of("__consumer_offsets")).all().get();
        return json.nullNode();
      });
      check(session, "createTopics existing", () -> {
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        return json.nullNode();
      });
      check(session, "createTopics replication factor 3", () -> {
        admin.createTopics(List.of(new NewTopic(topic + "-rf3", 1, (short) 3))).all().get();
        return json.nullNode();
      });
      check(session, "createTopics invalid name", () -> {
        admin.createTopics(List.of(new NewTopic("bad/name", 1, (short) 1))).all().get();
        return json.nullNode();
      });
      check(session, "createTopics validateOnly", () -> {
        admin.createTopics(List.of(new NewTopic(topic + "-validate", 3, (short) 1)), new org.apache.kafka.clients.admin.CreateTopicsOptions().validateOnly(true)).all().get();
        return json.createObjectNode().put("listed", admin.listTopics().names().get().contains(topic + "-validate"));
      });
      check(session, "createTopics default partitions", () -> {
        admin.createTopics(List.of(new NewTopic(topic + "-defaults", java.util.Optional.empty(), java.util.Optional.empty()))).all().get();
        return json.createObjectNode().put("partitions", admin.describeTopics(List.of(topic + "-defaults")).allTopicNames().get().get(topic + "-defaults").partitions().size());
      });
      check(session, "listTopics", () -> {
        Set<String> names = admin.listTopics().names().get();
        return json.createObjectNode().put("topic", names.contains(topic)).put("internalHidden", !names.contains("__consumer_offsets"));
      });
      check(session, "describeTopics", () -> describeTopic(admin, topic));
      check(session, "describeTopics by id", () -> {
        var id = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId();
        return json.createObjectNode().put("name", admin.describeTopics(org.apache.kafka.common.TopicCollection.ofTopicIds(List.of(id))).allTopicIds().get().get(id).name());
      });
      check(session, "describeTopics unknown", () -> describeTopic(admin, topic + "-missing"));
      check(session, "createPartitions", () -> {
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
        return json.createObjectNode().put("partitions", admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());
      });
      check(session, "createPartitions decrease", () -> {
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(2))).all().get();
        return json.nullNode();
      });
      check(session, "createPartitions unknown", () -> {
        admin.createPartitions(Map.of(topic + "-missing", NewPartitions.increaseTo(2))).all().get();
        return json.nullNode();
      });
      check(session, "deleteTopics", () -> {
        admin.deleteTopics(List.of(topic, topic + "-defaults")).all().get();
        Set<String> names = admin.listTopics().names().get();
        return json.createObjectNode().put("listed", names.contains(topic) || names.contains(topic + "-defaults"));
      });
      check(session, "deleteTopics unknown", () -> {
        admin.deleteTopics(List.of(topic + "-missing")).all().get();
        return json.nullNode();
      });
    }
  }

  static ObjectNode configValues(Config config, Function<ConfigEntry, Boolean> include) {
    ObjectNode values = json.createObjectNode();
    for (ConfigEntry entry : config.entries()) {
      if (include.apply(entry)) values.put(entry.name(), entry.value() + " (" + entry.source() + ")");
    }
    return values;
  }

  /** describeConfigs (topic, broker, broker logger) and incrementalAlterConfigs (SET/DELETE/APPEND/SUBTRACT and errors). */
  static void adminConfigs(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    ConfigResource topicResource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    ConfigResource brokerResource = new ConfigResource(ConfigResource.Type.BROKER, "1");
    Set<String> topicNames = Set.of("retention.ms", "cleanup.policy", "max.message.bytes", "segment.bytes");
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("retention.ms", "7200000")))).all().get();
      check(session, "describeConfigs topic", () -> configValues(admin.describeConfigs(List.of(topicResource)).all().get().get(topicResource), entry -> topicNames.contains(entry.name())));
      check(session, "describeConfigs topic synonyms", () -> {
        var options = new org.apache.kafka.clients.admin.DescribeConfigsOptions().includeSynonyms(true);
        ConfigEntry entry = admin.describeConfigs(List.of(topicResource), options).all().get().get(topicResource).get("retention.ms");
        return array(entry.synonyms().stream().map(synonym -> synonym.name() + "=" + synonym.value() + " (" + synonym.source() + ")").toList());
      });
      check(session, "incrementalAlterConfigs topic", () -> {
        admin.incrementalAlterConfigs(Map.of(topicResource, List.of(
            new AlterConfigOp(new ConfigEntry("retention.ms", "600000"), AlterConfigOp.OpType.SET),
            new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND),
            new AlterConfigOp(new ConfigEntry("max.message.bytes", "2000000"), AlterConfigOp.OpType.SET)))).all().get();
        return configValues(admin.describeConfigs(List.of(topicResource)).all().get().get(topicResource), entry -> topicNames.contains(entry.name()));
      });
      check(session, "incrementalAlterConfigs topic delete and subtract", () -> {
        admin.incrementalAlterConfigs(Map.of(topicResource, List.of(
            new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE),
            new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.SUBTRACT)))).all().get();
        return configValues(admin.describeConfigs(List.of(topicResource)).all().get().get(topicResource), entry -> topicNames.contains(entry.name()));
      });
      check(session, "incrementalAlterConfigs invalid value", () -> {
        admin.incrementalAlterConfigs(Map.of(topicResource, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET)))).all().get();
        return json.nullNode();
      });
      check(session, "incrementalAlterConfigs unknown name", () -> {
        admin.incrementalAlterConfigs(Map.of(topicResource, List.of(new AlterConfigOp(new ConfigEntry("no.such.config", "1"), AlterConfigOp.OpType.SET)))).all().get();
        return json.nullNode();
      });
      check(session, "incrementalAlterConfigs unknown topic", () -> {
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, topic + "-missing");
        admin.incrementalAlterConfigs(Map.of(missing, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET)))).all().get();
        return json.nullNode();
      });
      check(session, "describeConfigs unknown topic", () -> {
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, topic + "-missing");
        return configValues(admin.describeConfigs(List.of(missing)).all().get().get(missing), entry -> true);
      });
      check(session, "describeConfigs broker", () -> configValues(admin.describeConfigs(List.of(brokerResource)).all().get().get(brokerResource),
          entry -> Set.of("node.id", "num.partitions", "log.retention.hours", "auto.create.topics.enable").contains(entry.name())));
      check(session, "incrementalAlterConfigs broker", () -> {
        admin.incrementalAlterConfigs(Map.of(brokerResource, List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", "86400000"), AlterConfigOp.OpType.SET)))).all().get();
        ObjectNode value = configValues(admin.describeConfigs(List.of(brokerResource)).all().get().get(brokerResource), entry -> entry.name().equals("log.retention.ms"));
        admin.incrementalAlterConfigs(Map.of(brokerResource, List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        return value;
      });
      check(session, "incrementalAlterConfigs broker read-only", () -> {
        admin.incrementalAlterConfigs(Map.of(brokerResource, List.of(new AlterConfigOp(new ConfigEntry("node.id", "7"), AlterConfigOp.OpType.SET)))).all().get();
        return json.nullNode();
      });
      check(session, "describeConfigs broker logger", () -> {
        ConfigResource loggers = new ConfigResource(ConfigResource.Type.BROKER_LOGGER, "1");
        return configValues(admin.describeConfigs(List.of(loggers)).all().get().get(loggers), entry -> entry.name().equals("root"));
      });
    }
  }

  /** describeCluster, describeFeatures, describeLogDirs. */
  static void adminCluster(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
      check(session, "describeCluster", () -> {
        DescribeClusterResult cluster = admin.describeCluster();
        ObjectNode value = json.createObjectNode();
        value.put("clusterIdPresent", !cluster.clusterId().get().isEmpty());
        value.put("controller", cluster.controller().get().id());
        value.set("nodes", array(cluster.nodes().get().stream().map(node -> node.id() + "@" + node.host() + ":" + node.port()).toList()));
        return value;
      });
      check(session, "describeFeatures", () -> {
        FeatureMetadata features = admin.describeFeatures().featureMetadata().get();
        ObjectNode value = json.createObjectNode();
        ObjectNode finalized = value.putObject("finalized");
        features.finalizedFeatures().forEach((name, range) -> finalized.put(name, range.minVersionLevel() + "-" + range.maxVersionLevel()));
        ObjectNode supported = value.putObject("supported");
        features.supportedFeatures().forEach((name, range) -> supported.put(name, range.minVersion() + "-" + range.maxVersion()));
        return value;
      });
      check(session, "describeLogDirs", () -> {
        Map<String, LogDirDescription> directories = admin.describeLogDirs(List.of(1)).allDescriptions().get().get(1);
        ObjectNode value = json.createObjectNode();
        value.put("directories", directories.size());
        // replicaInfos is a hash map: sorted, so the report does not depend on its order.
        java.util.TreeMap<Integer, String> sorted = new java.util.TreeMap<>();
        for (LogDirDescription directory : directories.values()) {
          if (directory.error() != null) value.put("error", directory.error().getClass().getSimpleName());
          for (Map.Entry<TopicPartition, ReplicaInfo> replica : directory.replicaInfos().entrySet()) {
            if (replica.getKey().topic().equals(topic)) sorted.put(replica.getKey().partition(), replica.getKey().partition() + ":" + (replica.getValue().size() >= 0));
          }
        }
        ArrayNode replicas = value.putArray("topicReplicas");
        sorted.values().forEach(replicas::add);
        return value;
      });
    }
  }

  /** listOffsets (earliest, latest, timestamp, max timestamp), deleteRecords and its errors. */
  static void adminOffsets(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    TopicPartition partition = new TopicPartition(topic, 0);
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      List<Long> timestamps = new ArrayList<>();
      try (KafkaProducer<String, String> producer = producer(json.createObjectNode())) {
        long base = System.currentTimeMillis() - 100_000;
        for (int index = 0; index < 10; index++) {
          timestamps.add(base + index * 1000L);
          producer.send(new ProducerRecord<>(topic, 0, base + index * 1000L, "key-" + index, "value-" + index)).get();
        }
      }
      Function<OffsetSpec, JsonNode> offsetOf = spec -> {
        try {
          ListOffsetsResult.ListOffsetsResultInfo info = admin.listOffsets(Map.of(partition, spec)).partitionResult(partition).get();
          return json.createObjectNode().put("offset", info.offset()).put("timestamp", info.timestamp());
        } catch (Exception thrown) {
          return failure(thrown);
        }
      };
      check(session, "listOffsets earliest", () -> offsetOf.apply(OffsetSpec.earliest()));
      check(session, "listOffsets latest", () -> offsetOf.apply(OffsetSpec.latest()));
      check(session, "listOffsets forTimestamp", () -> {
        ObjectNode value = (ObjectNode) offsetOf.apply(OffsetSpec.forTimestamp(timestamps.get(3) - 1));
        return value.put("expectedTimestamp", value.path("timestamp").asLong() == timestamps.get(3));
      });
      check(session, "listOffsets maxTimestamp", () -> {
        ObjectNode value = (ObjectNode) offsetOf.apply(OffsetSpec.maxTimestamp());
        return value.put("expectedTimestamp", value.path("timestamp").asLong() == timestamps.get(9));
      });
      check(session, "listOffsets earliestLocal", () -> offsetOf.apply(OffsetSpec.earliestLocal()));
      check(session, "listOffsets unknown topic", () -> {
        TopicPartition missing = new TopicPartition(topic + "-missing", 0);
        admin.listOffsets(Map.of(missing, OffsetSpec.latest()), new org.apache.kafka.clients.admin.ListOffsetsOptions().timeoutMs(5_000)).partitionResult(missing).get();
        return json.nullNode();
      });
      check(session, "deleteRecords", () -> {
        long low = admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(partition).get().lowWatermark();
        return json.createObjectNode().put("lowWatermark", low).set("earliest", offsetOf.apply(OffsetSpec.earliest()));
      });
      check(session, "deleteRecords beyond the end", () -> {
        admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(11))).lowWatermarks().get(partition).get();
        return json.nullNode();
      });
      check(session, "deleteRecords to the end", () -> {
        long low = admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(-1))).lowWatermarks().get(partition).get().lowWatermark();
        return json.createObjectNode().put("lowWatermark", low);
      });
    }
  }

  static JsonNode describeGroup(Admin admin, String group) throws Exception {
    ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
    ObjectNode value = json.createObjectNode().put("group", description.groupId()).put("state", description.groupState().toString())
        .put("type", description.type().toString()).put("simple", description.isSimpleConsumerGroup());
    value.put("assignor", description.partitionAssignor());
    value.put("coordinator", description.coordinator() == null ? -1 : description.coordinator().id());
    ArrayNode members = value.putArray("members");
    for (MemberDescription member : description.members()) {
      ObjectNode entry = members.addObject().put("clientId", member.clientId());
      entry.set("partitions", array(member.assignment().topicPartitions().stream().map(TopicPartition::partition).sorted().toList()));
    }
    return value;
  }

  /**
   * listGroups / listConsumerGroups, describeConsumerGroups (empty, stable with a member, unknown),
   * describeClassicGroups, listConsumerGroupOffsets, alterConsumerGroupOffsets,
   * deleteConsumerGroupOffsets, removeMembersFromConsumerGroup, deleteConsumerGroups.
   */
  static void adminGroups(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    String group = command.path("group").asText();
    String protocol = command.path("groupProtocol").asText("classic");
    TopicPartition first = new TopicPartition(topic, 0);
    TopicPartition second = new TopicPartition(topic, 1);
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
      try (KafkaProducer<String, String> producer = producer(json.createObjectNode())) {
        for (int index = 0; index < 10; index++) producer.send(new ProducerRecord<>(topic, index % 2, "key-" + index, "value-" + index)).get();
      }
      ObjectNode settings = json.createObjectNode().put(ConsumerConfig.GROUP_ID_CONFIG, group).put(ConsumerConfig.CLIENT_ID_CONFIG, "admin-groups-member")
          .put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
      try (KafkaConsumer<String, String> consumer = consumer(settings)) {
        consumer.subscribe(List.of(topic));
        int received = 0;
        long deadline = System.currentTimeMillis() + 30_000;
        while (received < 10 && System.currentTimeMillis() < deadline) received += consumer.poll(pollTimeout).count();
        consumer.commitSync();
        check(session, "describeConsumerGroups active", () -> describeGroup(admin, group));
        check(session, "listGroups", () -> {
          ObjectNode value = json.createObjectNode();
          for (GroupListing listing : admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get()) {
            if (listing.groupId().equals(group)) {
              value.put("type", listing.type().map(Object::toString).orElse("?")).put("protocol", listing.protocol())
                  .put("state", listing.groupState().map(Object::toString).orElse("?"));
            }
          }
          return value;
        });
        if (protocol.equals("classic")) {
          check(session, "describeClassicGroups", () -> {
            var description = admin.describeClassicGroups(List.of(group)).all().get().get(group);
            return json.createObjectNode().put("state", description.state().toString()).put("protocol", description.protocol()).put("members", description.members().size());
          });
        }
        check(session, "deleteConsumerGroups non-empty", () -> {
          admin.deleteConsumerGroups(List.of(group)).all().get();
          return json.nullNode();
        });
        check(session, "alterConsumerGroupOffsets active", () -> {
          admin.alterConsumerGroupOffsets(group, Map.of(first, new OffsetAndMetadata(1))).all().get();
          return json.nullNode();
        });
        check(session, "listGroups by state", () -> {
          Function<org.apache.kafka.common.GroupState, Boolean> listedIn = state -> {
            try {
              return admin.listGroups(ListGroupsOptions.forConsumerGroups().inGroupStates(Set.of(state))).all().get().stream()
                  .anyMatch(listing -> listing.groupId().equals(group));
            } catch (Exception thrown) {
              throw new IllegalStateException(thrown);
            }
          };
          return json.createObjectNode().put("stable", listedIn.apply(org.apache.kafka.common.GroupState.STABLE))
              .put("empty", listedIn.apply(org.apache.kafka.common.GroupState.EMPTY));
        });
        if (protocol.equals("classic")) {
          check(session, "removeMembersFromConsumerGroup", () -> {
            admin.removeMembersFromConsumerGroup(group, new org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions()).all().get();
            return describeGroup(admin, group);
          });
        }
      }
      check(session, "describeConsumerGroups empty", () -> describeGroup(admin, group));
      check(session, "listConsumerGroupOffsets", () -> offsets(admin, group));
      check(session, "alterConsumerGroupOffsets", () -> {
        admin.alterConsumerGroupOffsets(group, Map.of(first, new OffsetAndMetadata(2, "moved"), second, new OffsetAndMetadata(3))).all().get();
        ObjectNode value = (ObjectNode) offsets(admin, group);
        value.put("metadata", admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(first).metadata());
        return value;
      });
      check(session, "deleteConsumerGroupOffsets", () -> {
        admin.deleteConsumerGroupOffsets(group, Set.of(second)).all().get();
        return offsets(admin, group);
      });
      check(session, "listConsumerGroupOffsets for partitions", () -> {
        var spec = new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec().topicPartitions(List.of(first, second));
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(Map.of(group, spec)).partitionsToOffsetAndMetadata(group).get();
        ObjectNode value = json.createObjectNode();
        offsets.forEach((partition, offset) -> value.put(String.valueOf(partition.partition()), offset == null ? -1 : offset.offset()));
        return value;
      });
      check(session, "describeConsumerGroups unknown", () -> describeGroup(admin, group + "-missing"));
      check(session, "deleteConsumerGroups", () -> {
        admin.deleteConsumerGroups(List.of(group)).all().get();
        ObjectNode value = json.createObjectNode();
        value.put("listed", admin.listGroups().all().get().stream().anyMatch(listing -> listing.groupId().equals(group)));
        value.set("offsets", offsets(admin, group));
        return value;
      });
      check(session, "deleteConsumerGroups unknown", () -> {
        admin.deleteConsumerGroups(List.of(group + "-missing")).all().get();
        return json.nullNode();
      });
    }
  }

  static JsonNode offsets(Admin admin, String group) throws Exception {
    ObjectNode value = json.createObjectNode();
    new TreeMap<>(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet().stream()
        .collect(java.util.stream.Collectors.toMap(entry -> entry.getKey().partition(), entry -> entry.getValue() == null ? -1 : entry.getValue().offset())))
        .forEach((partition, offset) -> value.put(String.valueOf(partition), offset));
    return value;
  }

  /** What a read_committed consumer reads of `partition` from its start up to the last stable offset. */
  static JsonNode readCommitted(TopicPartition partition) {
    ObjectNode settings = json.createObjectNode().put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, String> consumer = consumer(settings)) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition)).get(partition);
      ArrayNode values = json.createArrayNode();
      long deadline = System.currentTimeMillis() + 20_000;
      while (consumer.position(partition) < end) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("readCommitted: end offset " + end + " not reached");
        for (ConsumerRecord<String, String> record : consumer.poll(pollTimeout)) values.add(record.value());
      }
      ObjectNode value = json.createObjectNode().put("end", end).put("position", consumer.position(partition));
      value.set("values", values);
      return value;
    }
  }

  /** The latest offset of `partition` as read_committed (the last stable offset) and read_uncommitted see it. */
  static JsonNode latestOffsets(Admin admin, TopicPartition partition) throws Exception {
    ObjectNode value = json.createObjectNode();
    for (var isolation : org.apache.kafka.common.IsolationLevel.values()) {
      var options = new org.apache.kafka.clients.admin.ListOffsetsOptions(isolation);
      value.put(isolation.toString(), admin.listOffsets(Map.of(partition, OffsetSpec.latest()), options).partitionResult(partition).get().offset());
    }
    return value;
  }

  /** listTransactions, describeTransactions, describeProducers, fenceProducers around an open transaction. */
  static void adminTransactions(Session session, JsonNode command) throws Exception {
    String topic = command.path("topic").asText();
    String transactionalId = command.path("transactionalId").asText();
    TopicPartition partition = new TopicPartition(topic, 0);
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      KafkaProducer<String, String> producer = producer(json.createObjectNode().put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId).put("transaction.timeout.ms", "60000"));
      try {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, "key", "open")).get();
        check(session, "listTransactions", () -> {
          ObjectNode value = json.createObjectNode();
          for (TransactionListing listing : admin.listTransactions().all().get()) {
            if (listing.transactionalId().equals(transactionalId)) value.put("state", listing.state().toString()).put("producerIdPositive", listing.producerId() >= 0);
          }
          return value;
        });
        check(session, "listTransactions filtered by state", () -> {
          var options = new ListTransactionsOptions().filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT));
          return json.createObjectNode().put("listed", admin.listTransactions(options).all().get().stream().anyMatch(listing -> listing.transactionalId().equals(transactionalId)));
        });
        check(session, "describeTransactions", () -> {
          TransactionDescription description = admin.describeTransactions(List.of(transactionalId)).all().get().get(transactionalId);
          ObjectNode value = json.createObjectNode().put("state", description.state().toString()).put("timeoutMs", description.transactionTimeoutMs())
              .put("coordinator", description.coordinatorId()).put("started", description.transactionStartTimeMs().isPresent());
          value.set("partitions", array(description.topicPartitions().stream().map(TopicPartition::toString).toList()));
          return value;
        });
        check(session, "describeProducers", () -> {
          List<ProducerState> producers = admin.describeProducers(List.of(partition)).partitionResult(partition).get().activeProducers();
          ArrayNode value = json.createArrayNode();
          for (ProducerState state : producers) {
            value.addObject().put("lastSequence", state.lastSequence()).put("openTransaction", state.currentTransactionStartOffset().isPresent())
                .put("transactionStartOffset", state.currentTransactionStartOffset().orElse(-1));
          }
          return value;
        });
        check(session, "listOffsets during the transaction", () -> latestOffsets(admin, partition));
        check(session, "abortTransaction", () -> {
          ProducerState state = admin.describeProducers(List.of(partition)).partitionResult(partition).get().activeProducers().get(0);
          var spec = new org.apache.kafka.clients.admin.AbortTransactionSpec(partition, state.producerId(), (short) state.producerEpoch(), state.coordinatorEpoch().orElse(0));
          admin.abortTransaction(spec).all().get();
          return json.createObjectNode().put("producerEpoch", spec.producerEpoch()).put("coordinatorEpoch", spec.coordinatorEpoch());
        });
        check(session, "describeProducers after abortTransaction", () -> {
          ProducerState state = admin.describeProducers(List.of(partition)).partitionResult(partition).get().activeProducers().get(0);
          return json.createObjectNode().put("openTransaction", state.currentTransactionStartOffset().isPresent()).put("coordinatorEpoch", state.coordinatorEpoch().orElse(-1));
        });
        check(session, "listOffsets after abortTransaction", () -> latestOffsets(admin, partition));
        check(session, "read_committed after abortTransaction", () -> readCommitted(partition));
        check(session, "describeTransactions unknown", () -> {
          admin.describeTransactions(List.of(transactionalId + "-missing")).all().get();
          return json.nullNode();
        });
        check(session, "fenceProducers", () -> {
          admin.fenceProducers(List.of(transactionalId)).all().get();
          try {
            producer.commitTransaction();
            return json.createObjectNode().put("commit", "succeeded");
          } catch (Exception thrown) {
            return json.createObjectNode().put("commit", thrown.getClass().getSimpleName());
          }
        });
        check(session, "describeTransactions after fencing", () -> {
          TransactionDescription description = admin.describeTransactions(List.of(transactionalId)).all().get().get(transactionalId);
          return json.createObjectNode().put("state", description.state().toString()).set("partitions", array(description.topicPartitions()));
        });
        check(session, "listOffsets after fencing", () -> latestOffsets(admin, partition));
      } finally {
        producer.close(Duration.ZERO);
      }
    }
  }
}
