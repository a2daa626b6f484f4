// Command kafka-go drives github.com/segmentio/kafka-go 0.2.1 (Debian's
// golang-github-segmentio-kafka-go-dev) for the end-to-end tests. Commands: create-topic,
// metadata, list-offsets, produce, group-commit; the I/O conventions are in ../driver.
//
// kafka-go 0.2.1 hard-codes Produce v2 and Fetch v2 (message format v1), which the broker does
// not serve (like Kafka 4.0, KIP-896), so it cannot move records; everything else it speaks
// (CreateTopics v0, Metadata v1, ListOffsets v1, the classic group protocol, OffsetCommit v2,
// OffsetFetch v1) is driven here.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"gregor-e2e/driver"
)

const requestTimeout = 15 * time.Second

type connection struct {
	Bootstrap string `json:"bootstrap"`
	ClientID  string `json:"clientId"`
}

func (connection connection) dialer(clientIDDefault string) *kafka.Dialer {
	clientID := connection.ClientID
	if clientID == "" {
		clientID = clientIDDefault
	}
	return &kafka.Dialer{ClientID: clientID, Timeout: 5 * time.Second}
}

func (connection connection) brokers() []string {
	return strings.Split(connection.Bootstrap, ",")
}

// dial opens a connection to the first bootstrap broker, every request on it bounded in time.
func (connection connection) dial(clientIDDefault string) (*kafka.Conn, error) {
	conn, err := connection.dialer(clientIDDefault).Dial("tcp", connection.brokers()[0])
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", connection.brokers()[0], err)
	}
	conn.SetDeadline(time.Now().Add(requestTimeout))
	return conn, nil
}

// errorCode is the Kafka error code behind err, or -1 when err is not a Kafka error.
func errorCode(err error) int {
	var kafkaError kafka.Error
	if errors.As(err, &kafkaError) {
		return int(kafkaError)
	}
	return -1
}

type topicParameters struct {
	connection
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
}

// createTopic sends CreateTopics v0 to the bootstrap broker (the only node, hence the controller).
func createTopic(_ context.Context, parameters topicParameters) error {
	conn, err := parameters.dial("gregor-e2e-kafka-go-admin")
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.CreateTopics(kafka.TopicConfig{
		Topic:             parameters.Topic,
		NumPartitions:     parameters.Partitions,
		ReplicationFactor: 1,
	})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", parameters.Topic, err)
	}
	driver.Emit("created", driver.Fields{"topic": parameters.Topic})
	return nil
}

// metadata reports the topic's partitions and their leaders (Metadata v1).
func metadata(_ context.Context, parameters topicParameters) error {
	conn, err := parameters.dial("gregor-e2e-kafka-go-admin")
	if err != nil {
		return err
	}
	defer conn.Close()
	partitions, err := conn.ReadPartitions(parameters.Topic)
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", parameters.Topic, err)
	}
	for _, partition := range partitions {
		driver.Emit("partition", driver.Fields{
			"topic":     partition.Topic,
			"partition": partition.ID,
			"leader": driver.Fields{
				"id":   partition.Leader.ID,
				"host": partition.Leader.Host,
				"port": partition.Leader.Port,
			},
			"replicas": len(partition.Replicas),
			"isr":      len(partition.Isr),
		})
	}
	return nil
}

// listOffsets reports each partition's first and next offset (ListOffsets v1 on the leader).
func listOffsets(ctx context.Context, parameters topicParameters) error {
	dialer := parameters.dialer("gregor-e2e-kafka-go-offsets")
	for partition := 0; partition < parameters.Partitions; partition++ {
		conn, err := dialer.DialLeader(ctx, "tcp", parameters.brokers()[0], parameters.Topic, partition)
		if err != nil {
			return fmt.Errorf("dial leader of %s/%d: %w", parameters.Topic, partition, err)
		}
		conn.SetDeadline(time.Now().Add(requestTimeout))
		first, last, err := conn.ReadOffsets()
		conn.Close()
		if err != nil {
			return fmt.Errorf("offsets of %s/%d: %w", parameters.Topic, partition, err)
		}
		driver.Emit("offsets", driver.Fields{"partition": partition, "first": first, "last": last})
	}
	return nil
}

type produceParameters struct {
	connection
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Key       string `json:"key"`
	Value     string `json:"value"`
}

// produce writes one record with acks=all straight to the partition leader (Produce v2) and
// reports the outcome: "ack" or "produce-error" with the Kafka error code.
func produce(ctx context.Context, parameters produceParameters) error {
	dialer := parameters.dialer("gregor-e2e-kafka-go-producer")
	conn, err := dialer.DialLeader(ctx, "tcp", parameters.brokers()[0], parameters.Topic, parameters.Partition)
	if err != nil {
		return fmt.Errorf("dial leader: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(requestTimeout))
	if err := conn.SetRequiredAcks(-1); err != nil {
		return err
	}
	_, err = conn.WriteMessages(kafka.Message{Key: []byte(parameters.Key), Value: []byte(parameters.Value)})
	if err != nil {
		driver.Emit("produce-error", driver.Fields{"code": errorCode(err), "message": err.Error()})
		return nil
	}
	driver.Emit("ack", driver.Fields{"partition": parameters.Partition})
	return nil
}

type partitionOffset struct {
	Partition int   `json:"partition"`
	Offset    int64 `json:"offset"`
}

type groupCommitParameters struct {
	connection
	Topic      string            `json:"topic"`
	Group      string            `json:"group"`
	Partitions int               `json:"partitions"`
	Commit     []partitionOffset `json:"commit"`
	TimeoutS   float64           `json:"timeoutS"`
}

// kafka-go 0.2.1 tells where a group member starts reading a partition (the committed offset,
// or -2 for "earliest" when none) only in this log line.
var startingPattern = regexp.MustCompile(
	`^initializing kafka reader for partition (\d+) of (.+) starting at offset (-?\d+)$`,
)

// readerLog receives the Reader's log lines (one Write per line), reports the first starting
// offset of each partition as a "start" event, and copies every line to stderr.
type readerLog struct {
	topic   string
	lock    sync.Mutex
	started map[int]int64
	changed chan struct{}
}

func (readerLog *readerLog) Write(line []byte) (int, error) {
	os.Stderr.Write(line)
	match := startingPattern.FindStringSubmatch(strings.TrimSpace(string(line)))
	if match == nil || match[2] != readerLog.topic {
		return len(line), nil
	}
	partition, _ := strconv.Atoi(match[1])
	offset, _ := strconv.ParseInt(match[3], 10, 64)
	readerLog.lock.Lock()
	defer readerLog.lock.Unlock()
	if _, seen := readerLog.started[partition]; !seen {
		readerLog.started[partition] = offset
		driver.Emit("start", driver.Fields{"partition": partition, "offset": offset})
		select {
		case readerLog.changed <- struct{}{}:
		default:
		}
	}
	return len(line), nil
}

func (readerLog *readerLog) startedCount() int {
	readerLog.lock.Lock()
	defer readerLog.lock.Unlock()
	return len(readerLog.started)
}

// groupCommit joins the group with a Reader (JoinGroup v1, SyncGroup v0, OffsetFetch v1), waits
// until the member started on every partition, commits the given offsets in its generation
// (OffsetCommit v2), then closes the Reader (which means to leave, see SessionTimeout).
func groupCommit(ctx context.Context, parameters groupCommitParameters) error {
	deadlineContext, cancel := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 40))
	defer cancel()
	readerLog := &readerLog{
		topic:   parameters.Topic,
		started: map[int]int64{},
		changed: make(chan struct{}, 1),
	}
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           parameters.brokers(),
		GroupID:           parameters.Group,
		Topic:             parameters.Topic,
		Dialer:            parameters.dialer("gregor-e2e-kafka-go-consumer"),
		MaxWait:           500 * time.Millisecond,
		HeartbeatInterval: 1 * time.Second,
		// Reader.Close in 0.2.1 dials the coordinator for LeaveGroup with the context it has just
		// cancelled, so the LeaveGroup is never sent: the next member waits for this session to
		// expire. Hence the smallest session the broker accepts (group.min.session.timeout.ms).
		SessionTimeout:   6 * time.Second,
		RebalanceTimeout: 6 * time.Second,
		Logger:           log.New(readerLog, "", 0),
		ErrorLogger:      log.New(readerLog, "", 0),
	})
	for readerLog.startedCount() < parameters.Partitions {
		select {
		case <-readerLog.changed:
		case <-deadlineContext.Done():
			reader.Close()
			return fmt.Errorf("member started on %d of %d partitions", readerLog.startedCount(), parameters.Partitions)
		}
	}
	commits := make([]kafka.Message, 0, len(parameters.Commit))
	for _, entry := range parameters.Commit {
		// kafka-go commits the offset after the message's: the next offset to read.
		commits = append(commits, kafka.Message{
			Topic:     parameters.Topic,
			Partition: entry.Partition,
			Offset:    entry.Offset - 1,
		})
	}
	if err := reader.CommitMessages(deadlineContext, commits...); err != nil {
		reader.Close()
		return fmt.Errorf("commit: %w", err)
	}
	driver.Emit("committed", driver.Fields{"offsets": parameters.Commit})
	if err := reader.Close(); err != nil {
		return fmt.Errorf("close reader: %w", err)
	}
	driver.Emit("closed", driver.Fields{})
	return nil
}

func main() {
	driver.Run(map[string]driver.Command{
		"create-topic": driver.Typed(createTopic),
		"metadata":     driver.Typed(metadata),
		"list-offsets": driver.Typed(listOffsets),
		"produce":      driver.Typed(produce),
		"group-commit": driver.Typed(groupCommit),
	})
}
