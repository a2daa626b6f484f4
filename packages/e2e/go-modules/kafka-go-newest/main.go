// Command kafka-go-newest drives the newest github.com/segmentio/kafka-go (the version go.mod pins,
// from the module cache) for the end-to-end tests. Commands: version, produce, consume,
// consume-group, admin; the I/O conventions are in gregor-e2e/driver.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"gregor-e2e/driver"
)

const modulePath = "github.com/segmentio/kafka-go"

type connection struct {
	Bootstrap string `json:"bootstrap"`
}

func brokers(connection connection) []string {
	return strings.Split(connection.Bootstrap, ",")
}

func newClient(connection connection) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers(connection)...), Timeout: 10 * time.Second}
}

// errorCode is the Kafka error code inside err, or -1 when err carries none.
func errorCode(err error) int {
	var kafkaError kafka.Error
	if errors.As(err, &kafkaError) {
		return int(kafkaError)
	}
	return -1
}

var logger = log.New(os.Stderr, "[kafka-go] ", log.Ltime|log.Lmicroseconds)

// version reports the kafka-go version this binary was built with.
func version(_ context.Context, _ struct{}) error {
	return driver.EmitModuleVersion(modulePath)
}

var codecs = map[string]kafka.Compression{
	"":       0,
	"none":   0,
	"gzip":   kafka.Gzip,
	"snappy": kafka.Snappy,
	"lz4":    kafka.Lz4,
	"zstd":   kafka.Zstd,
}

// placedBalancer sends each message to the partition chosen for its key before the write.
type placedBalancer struct{ partitions map[string]int }

func (balancer placedBalancer) Balance(message kafka.Message, _ ...int) int {
	return balancer.partitions[string(message.Key)]
}

type produceParameters struct {
	connection
	Topic       string `json:"topic"`
	Count       int    `json:"count"`
	Prefix      string `json:"prefix"`
	Compression string `json:"compression"`
	// Partitions > 0 sends record i to partition i % Partitions; 0 uses the Writer's default
	// (round-robin) balancer.
	Partitions int `json:"partitions"`
}

// produce writes `<prefix>-key-<i>` / `<prefix>-value-<i>` with a Writer (RequireAll) and reports
// where each acknowledged record landed (the Writer's Completion callback gets them placed).
func produce(ctx context.Context, parameters produceParameters) error {
	codec, known := codecs[parameters.Compression]
	if !known {
		return fmt.Errorf("unknown compression %q", parameters.Compression)
	}
	messages := make([]kafka.Message, parameters.Count)
	placed := map[string]int{}
	for index := range messages {
		key := fmt.Sprintf("%s-key-%d", parameters.Prefix, index)
		messages[index] = kafka.Message{
			Key:   []byte(key),
			Value: []byte(fmt.Sprintf("%s-value-%d", parameters.Prefix, index)),
		}
		if parameters.Partitions > 0 {
			placed[key] = index % parameters.Partitions
		}
	}
	var acknowledged []kafka.Message
	var lock sync.Mutex
	writer := &kafka.Writer{
		Addr:         kafka.TCP(brokers(parameters.connection)...),
		Topic:        parameters.Topic,
		RequiredAcks: kafka.RequireAll,
		Compression:  codec,
		BatchTimeout: 5 * time.Millisecond,
		ErrorLogger:  logger,
		Completion: func(batch []kafka.Message, err error) {
			if err != nil {
				return
			}
			lock.Lock()
			defer lock.Unlock()
			acknowledged = append(acknowledged, batch...)
		},
	}
	if parameters.Partitions > 0 {
		writer.Balancer = placedBalancer{partitions: placed}
	}
	if err := writer.WriteMessages(ctx, messages...); err != nil {
		writer.Close()
		return fmt.Errorf("write: %w", err)
	}
	if err := writer.Close(); err != nil {
		return fmt.Errorf("close writer: %w", err)
	}
	lock.Lock()
	defer lock.Unlock()
	for _, message := range acknowledged {
		driver.Emit("ack", driver.Fields{
			"partition": message.Partition,
			"offset":    message.Offset,
			"key":       string(message.Key),
			"value":     string(message.Value),
		})
	}
	driver.Emit("done", driver.Fields{"produced": len(acknowledged)})
	return nil
}

func emitRecord(message kafka.Message) {
	driver.Emit("record", driver.Fields{
		"partition": message.Partition,
		"offset":    message.Offset,
		"key":       driver.Text(message.Key),
		"value":     driver.Text(message.Value),
	})
}

type consumeParameters struct {
	connection
	Topic      string  `json:"topic"`
	Partitions int     `json:"partitions"`
	Expected   int64   `json:"expected"`
	TimeoutS   float64 `json:"timeoutS"`
}

// consume reads every partition from its first offset with one partition Reader each (no group)
// until `expected` records arrived.
func consume(ctx context.Context, parameters consumeParameters) error {
	consumeContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 30))
	defer finish()
	var received int64
	var readers sync.WaitGroup
	for partition := 0; partition < parameters.Partitions; partition++ {
		reader := kafka.NewReader(kafka.ReaderConfig{
			Brokers:     brokers(parameters.connection),
			Topic:       parameters.Topic,
			Partition:   partition,
			MaxWait:     250 * time.Millisecond,
			ErrorLogger: logger,
		})
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer reader.Close()
			for {
				message, err := reader.ReadMessage(consumeContext)
				if err != nil {
					if consumeContext.Err() == nil {
						driver.Emit("error", driver.Fields{"message": err.Error()})
					}
					return
				}
				emitRecord(message)
				if atomic.AddInt64(&received, 1) >= parameters.Expected {
					finish()
				}
			}
		}()
	}
	readers.Wait()
	driver.Emit("closed", driver.Fields{"received": atomic.LoadInt64(&received)})
	return nil
}

type consumeGroupParameters struct {
	connection
	Topic    string  `json:"topic"`
	Group    string  `json:"group"`
	Expected int64   `json:"expected"`
	TimeoutS float64 `json:"timeoutS"`
}

// commitEvery is how many fetched records consumeGroup commits at once (synchronously).
const commitEvery = 25

// consumeGroup joins the group with a Reader, fetches until `expected` records arrived, committing
// them as it goes (CommitMessages), then closes the Reader, which leaves the group.
func consumeGroup(ctx context.Context, parameters consumeGroupParameters) error {
	consumeContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 40))
	defer finish()
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers(parameters.connection),
		GroupID:           parameters.Group,
		Topic:             parameters.Topic,
		MaxWait:           250 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: 1 * time.Second,
		SessionTimeout:    10 * time.Second,
		ErrorLogger:       logger,
	})
	var received int64
	var uncommitted []kafka.Message
	for received < parameters.Expected {
		message, err := reader.FetchMessage(consumeContext)
		if err != nil {
			reader.Close()
			return fmt.Errorf("fetch after %d records: %w", received, err)
		}
		emitRecord(message)
		received++
		uncommitted = append(uncommitted, message)
		if len(uncommitted) == commitEvery || received == parameters.Expected {
			if err := reader.CommitMessages(consumeContext, uncommitted...); err != nil {
				reader.Close()
				return fmt.Errorf("commit: %w", err)
			}
			uncommitted = uncommitted[:0]
		}
	}
	if err := reader.Close(); err != nil {
		return fmt.Errorf("close reader: %w", err)
	}
	driver.Emit("closed", driver.Fields{"received": received})
	return nil
}

type groupMembersParameters struct {
	connection
	Topic      string  `json:"topic"`
	Group      string  `json:"group"`
	Balancer   string  `json:"balancer"`
	Members    int     `json:"members"`
	Partitions int     `json:"partitions"`
	Count      int     `json:"count"`
	Prefix     string  `json:"prefix"`
	TimeoutS   float64 `json:"timeoutS"`
}

var balancers = map[string]kafka.GroupBalancer{
	"range":       kafka.RangeGroupBalancer{},
	"round-robin": kafka.RoundRobinGroupBalancer{},
}

// memberClientID names member `index` so that DescribeGroups tells the members apart.
func memberClientID(index int) string {
	return fmt.Sprintf("gregor-e2e-kafka-go-member-%d", index)
}

// groupMembers starts `members` Readers of one group at once, waits until DescribeGroups shows
// them Stable with every partition assigned (the assignment the leader computed with kafka-go's
// balancer, relayed by SyncGroup), then produces `count` records (record i to partition
// i % partitions) and consumes them across the members, committing as it goes. Events: settled
// (client id → partitions), acks, records with their member, closed.
func groupMembers(ctx context.Context, parameters groupMembersParameters) error {
	balancer, known := balancers[parameters.Balancer]
	if !known {
		return fmt.Errorf("unknown balancer %q", parameters.Balancer)
	}
	runContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 60))
	defer finish()
	var received int64
	var members sync.WaitGroup
	failures := make(chan error, parameters.Members)
	for index := 0; index < parameters.Members; index++ {
		reader := kafka.NewReader(kafka.ReaderConfig{
			Brokers:           brokers(parameters.connection),
			GroupID:           parameters.Group,
			Topic:             parameters.Topic,
			Dialer:            &kafka.Dialer{ClientID: memberClientID(index), Timeout: 10 * time.Second},
			GroupBalancers:    []kafka.GroupBalancer{balancer},
			StartOffset:       kafka.FirstOffset,
			MaxWait:           250 * time.Millisecond,
			HeartbeatInterval: 500 * time.Millisecond,
			SessionTimeout:    10 * time.Second,
			ErrorLogger:       logger,
		})
		members.Add(1)
		go func() {
			defer members.Done()
			defer reader.Close()
			for {
				message, err := reader.FetchMessage(runContext)
				if err != nil {
					if runContext.Err() == nil {
						failures <- fmt.Errorf("member %d fetch: %w", index, err)
					}
					return
				}
				driver.Emit("record", driver.Fields{
					"member":    index,
					"partition": message.Partition,
					"offset":    message.Offset,
					"key":       driver.Text(message.Key),
					"value":     driver.Text(message.Value),
				})
				if err := reader.CommitMessages(runContext, message); err != nil && runContext.Err() == nil {
					failures <- fmt.Errorf("member %d commit: %w", index, err)
					return
				}
				if atomic.AddInt64(&received, 1) >= int64(parameters.Count) {
					finish()
				}
			}
		}()
	}
	assignment, err := waitForAssignment(runContext, parameters)
	if err != nil {
		return err
	}
	driver.Emit("settled", driver.Fields{"assignment": assignment})
	err = produce(runContext, produceParameters{
		connection: parameters.connection,
		Topic:      parameters.Topic,
		Count:      parameters.Count,
		Prefix:     parameters.Prefix,
		Partitions: parameters.Partitions,
	})
	if err != nil {
		return err
	}
	members.Wait()
	select {
	case err := <-failures:
		return err
	default:
	}
	driver.Emit("closed", driver.Fields{"received": atomic.LoadInt64(&received)})
	return nil
}

// waitForAssignment polls DescribeGroups until the group is Stable with `members` members that
// hold every partition of the topic; it returns client id → assigned partitions.
func waitForAssignment(ctx context.Context, parameters groupMembersParameters) (map[string][]int, error) {
	client := newClient(parameters.connection)
	for {
		response, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{parameters.Group}})
		if err == nil && len(response.Groups) == 1 && response.Groups[0].GroupState == "Stable" &&
			len(response.Groups[0].Members) == parameters.Members {
			assignment := map[string][]int{}
			assigned := 0
			for _, member := range response.Groups[0].Members {
				for _, topic := range member.MemberAssignments.Topics {
					assignment[member.ClientID] = append(assignment[member.ClientID], topic.Partitions...)
					assigned += len(topic.Partitions)
				}
			}
			if assigned == parameters.Partitions {
				return assignment, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the group did not settle before the deadline (last error: %v)", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func main() {
	driver.Run(map[string]driver.Command{
		"version":       driver.Typed(version),
		"produce":       driver.Typed(produce),
		"consume":       driver.Typed(consume),
		"consume-group": driver.Typed(consumeGroup),
		"group-members": driver.Typed(groupMembers),
		"admin":         driver.Typed(admin),
	})
}
