// Command sarama drives github.com/Shopify/sarama 1.22.1 (Debian's golang-github-shopify-sarama-dev)
// for the end-to-end tests. Commands: create-topic, produce, consume-group, committed; the I/O
// conventions are in ../driver.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Shopify/sarama"
	"gregor-e2e/driver"
)

// The newest Kafka version sarama 1.22.1 knows: it picks every request version from it.
var kafkaVersion = sarama.V2_2_0_0

type connection struct {
	Bootstrap string `json:"bootstrap"`
	ClientID  string `json:"clientId"`
}

func newConfig(connection connection, clientIDDefault string) *sarama.Config {
	config := sarama.NewConfig()
	config.Version = kafkaVersion
	config.ClientID = clientIDDefault
	if connection.ClientID != "" {
		config.ClientID = connection.ClientID
	}
	config.Net.DialTimeout = 5 * time.Second
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	return config
}

func brokers(connection connection) []string {
	return strings.Split(connection.Bootstrap, ",")
}

func newAdmin(connection connection) (sarama.ClusterAdmin, error) {
	admin, err := sarama.NewClusterAdmin(brokers(connection), newConfig(connection, "gregor-e2e-sarama-admin"))
	if err != nil {
		return nil, fmt.Errorf("cluster admin: %w", err)
	}
	return admin, nil
}

type createTopicParameters struct {
	connection
	Topic             string `json:"topic"`
	Partitions        int32  `json:"partitions"`
	ReplicationFactor int16  `json:"replicationFactor"`
}

func createTopic(_ context.Context, parameters createTopicParameters) error {
	if parameters.ReplicationFactor == 0 {
		parameters.ReplicationFactor = 1
	}
	admin, err := newAdmin(parameters.connection)
	if err != nil {
		return err
	}
	defer admin.Close()
	detail := &sarama.TopicDetail{
		NumPartitions:     parameters.Partitions,
		ReplicationFactor: parameters.ReplicationFactor,
	}
	if err := admin.CreateTopic(parameters.Topic, detail, false); err != nil {
		return fmt.Errorf("create topic %s: %w", parameters.Topic, err)
	}
	driver.Emit("created", driver.Fields{"topic": parameters.Topic})
	return nil
}

type produceParameters struct {
	connection
	Topic  string `json:"topic"`
	Count  int    `json:"count"`
	Prefix string `json:"prefix"`
}

// produce sends `<prefix>-key-<i>` / `<prefix>-value-<i>` with acks=all through the synchronous
// producer (hash partitioner) and reports where each acknowledged record landed.
func produce(_ context.Context, parameters produceParameters) error {
	config := newConfig(parameters.connection, "gregor-e2e-sarama-producer")
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Flush.Frequency = 5 * time.Millisecond
	producer, err := sarama.NewSyncProducer(brokers(parameters.connection), config)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	messages := make([]*sarama.ProducerMessage, parameters.Count)
	for index := range messages {
		messages[index] = &sarama.ProducerMessage{
			Topic: parameters.Topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("%s-key-%d", parameters.Prefix, index)),
			Value: sarama.StringEncoder(fmt.Sprintf("%s-value-%d", parameters.Prefix, index)),
		}
	}
	if err := producer.SendMessages(messages); err != nil {
		producer.Close()
		return fmt.Errorf("send: %w", err)
	}
	for _, message := range messages {
		driver.Emit("ack", driver.Fields{
			"partition": message.Partition,
			"offset":    message.Offset,
			"key":       string(message.Key.(sarama.StringEncoder)),
			"value":     string(message.Value.(sarama.StringEncoder)),
		})
	}
	if err := producer.Close(); err != nil {
		return fmt.Errorf("close producer: %w", err)
	}
	driver.Emit("done", driver.Fields{"produced": len(messages)})
	return nil
}

type consumeGroupParameters struct {
	connection
	Topic    string  `json:"topic"`
	Group    string  `json:"group"`
	Expected int64   `json:"expected"`
	TimeoutS float64 `json:"timeoutS"`
}

// groupHandler reports every record it is given, marks it for the offset commit and ends the
// consumption once `expected` records arrived.
type groupHandler struct {
	expected int64
	received int64
	finish   context.CancelFunc
}

func (handler *groupHandler) Setup(session sarama.ConsumerGroupSession) error {
	driver.Emit("assigned", driver.Fields{
		"memberId":     session.MemberID(),
		"generationId": session.GenerationID(),
		"claims":       session.Claims(),
	})
	return nil
}

func (handler *groupHandler) Cleanup(session sarama.ConsumerGroupSession) error {
	driver.Emit("revoked", driver.Fields{"generationId": session.GenerationID()})
	return nil
}

func (handler *groupHandler) ConsumeClaim(
	session sarama.ConsumerGroupSession,
	claim sarama.ConsumerGroupClaim,
) error {
	for {
		select {
		case <-session.Context().Done():
			return nil
		case message, open := <-claim.Messages():
			if !open {
				return nil
			}
			driver.Emit("record", driver.Fields{
				"partition": message.Partition,
				"offset":    message.Offset,
				"key":       driver.Text(message.Key),
				"value":     driver.Text(message.Value),
			})
			session.MarkMessage(message, "")
			if atomic.AddInt64(&handler.received, 1) >= handler.expected {
				handler.finish()
			}
		}
	}
}

// consumeGroup joins the group, consumes until `expected` records arrived (or the deadline),
// then ends the session (sarama commits the marked offsets when a session ends) and leaves.
func consumeGroup(ctx context.Context, parameters consumeGroupParameters) error {
	config := newConfig(parameters.connection, "gregor-e2e-sarama-consumer")
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Return.Errors = true
	config.Consumer.Group.Session.Timeout = 10 * time.Second
	config.Consumer.Group.Heartbeat.Interval = 1 * time.Second
	group, err := sarama.NewConsumerGroup(brokers(parameters.connection), parameters.Group, config)
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	go func() {
		for err := range group.Errors() {
			driver.Emit("error", driver.Fields{"message": err.Error()})
		}
	}()
	consumeContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 40))
	defer finish()
	handler := &groupHandler{expected: parameters.Expected, finish: finish}
	// A session ends at every rebalance; join again until done.
	for consumeContext.Err() == nil {
		if err := group.Consume(consumeContext, []string{parameters.Topic}, handler); err != nil {
			group.Close()
			return fmt.Errorf("consume: %w", err)
		}
	}
	if err := group.Close(); err != nil {
		return fmt.Errorf("close consumer group: %w", err)
	}
	driver.Emit("closed", driver.Fields{"received": atomic.LoadInt64(&handler.received)})
	return nil
}

type committedParameters struct {
	connection
	Topic      string  `json:"topic"`
	Group      string  `json:"group"`
	Partitions []int32 `json:"partitions"`
}

// committed reads the group's committed offsets (OffsetFetch) without joining it; -1 = none.
func committed(_ context.Context, parameters committedParameters) error {
	admin, err := newAdmin(parameters.connection)
	if err != nil {
		return err
	}
	defer admin.Close()
	response, err := admin.ListConsumerGroupOffsets(
		parameters.Group,
		map[string][]int32{parameters.Topic: parameters.Partitions},
	)
	if err != nil {
		return fmt.Errorf("offset fetch: %w", err)
	}
	offsets := make([]driver.Fields, 0, len(parameters.Partitions))
	for _, partition := range parameters.Partitions {
		block := response.GetBlock(parameters.Topic, partition)
		if block == nil {
			return fmt.Errorf("offset fetch: no answer for partition %d", partition)
		}
		if block.Err != sarama.ErrNoError {
			return fmt.Errorf("offset fetch: partition %d: %w", partition, block.Err)
		}
		offsets = append(offsets, driver.Fields{"partition": partition, "offset": block.Offset})
	}
	driver.Emit("committed-offsets", driver.Fields{"offsets": offsets})
	return nil
}

func main() {
	sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Ltime|log.Lmicroseconds)
	driver.Run(map[string]driver.Command{
		"create-topic":  driver.Typed(createTopic),
		"produce":       driver.Typed(produce),
		"consume-group": driver.Typed(consumeGroup),
		"committed":     driver.Typed(committed),
	})
}
