import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

/**
 * Prints, for each UTF-8 key read from stdin (one per line), Kafka's murmur2 of it and the
 * partition the Java producer's built-in partitioner gives it: `hash partition` per line.
 * Usage: java -cp 'lib/*' KeyPartitions.java <partitionCount> < keys
 */
public class KeyPartitions {
    public static void main(String[] arguments) throws Exception {
        int partitionCount = Integer.parseInt(arguments[0]);
        BufferedReader reader =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder output = new StringBuilder();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            byte[] key = line.getBytes(StandardCharsets.UTF_8);
            output.append(Utils.murmur2(key))
                    .append(' ')
                    .append(BuiltInPartitioner.partitionForKey(key, partitionCount))
                    .append('\n');
        }
        System.out.print(output);
    }
}
