import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Creates topics with Kafka's own Admin client (the same client for every broker a benchmark
 * compares) and waits until each partition has a leader.
 * Usage: CreateBenchTopics.java BOOTSTRAP NAME:PARTITIONS...
 */
public class CreateBenchTopics {
    public static void main(String[] arguments) throws Exception {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, arguments[0]);
        List<NewTopic> topics = new ArrayList<>();
        for (int index = 1; index < arguments.length; index++) {
            String[] parts = arguments[index].split(":");
            topics.add(new NewTopic(parts[0], Integer.parseInt(parts[1]), (short) 1));
        }
        try (Admin admin = Admin.create(properties)) {
            admin.createTopics(topics).all().get();
            List<String> names = topics.stream().map(NewTopic::name).toList();
            long deadlineMs = System.currentTimeMillis() + 30_000;
            while (true) {
                Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
                boolean ready = topics.stream().allMatch(topic -> {
                    TopicDescription description = described.get(topic.name());
                    return description != null
                        && description.partitions().size() == topic.numPartitions()
                        && description.partitions().stream().map(TopicPartitionInfo::leader).allMatch(leader -> leader != null);
                });
                if (ready) break;
                if (System.currentTimeMillis() > deadlineMs) throw new IllegalStateException("partitions without a leader: " + described);
                Thread.sleep(100);
            }
            System.out.println("created " + names);
        }
    }
}
