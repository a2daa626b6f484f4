// Command sarama-newest drives the newest github.com/IBM/sarama (the version go.mod pins, from the
// module cache) for the end-to-end tests. Commands: version, produce, consume, consume-group,
// group-strategy, transaction, fence, admin; the I/O conventions are in gregor-e2e/driver.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"gregor-e2e/driver"
)

const modulePath = "github.com/IBM/sarama"

type connection struct {
	Bootstrap string `json:"bootstrap"`
	ClientID  string `json:"clientId"`
	// KafkaVersion is the Kafka version sarama picks its request versions from (clamped to the
	// broker's ApiVersions ranges); empty means sarama.MaxVersion, the newest it knows.
	KafkaVersion string `json:"kafkaVersion"`
}

func newConfig(connection connection, clientIDDefault string) (*sarama.Config, error) {
	config := sarama.NewConfig()
	config.Version = sarama.MaxVersion
	if connection.KafkaVersion != "" {
		version, err := sarama.ParseKafkaVersion(connection.KafkaVersion)
		if err != nil {
			return nil, err
		}
		config.Version = version
	}
	config.ClientID = clientIDDefault
	if connection.ClientID != "" {
		config.ClientID = connection.ClientID
	}
	config.Net.DialTimeout = 5 * time.Second
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	return config, nil
}

func brokers(connection connection) []string {
	return strings.Split(connection.Bootstrap, ",")
}

// errorCode is the Kafka error code inside err, or -1 when err carries none.
func errorCode(err error) int {
	var kafkaError sarama.KError
	if errors.As(err, &kafkaError) {
		return int(kafkaError)
	}
	return -1
}

func errorFields(err error) driver.Fields {
	return driver.Fields{"error": err.Error(), "code": errorCode(err)}
}

// version reports the sarama version this binary was built with.
func version(_ context.Context, _ struct{}) error {
	return driver.EmitModuleVersion(modulePath)
}

var codecs = map[string]sarama.CompressionCodec{
	"":       sarama.CompressionNone,
	"none":   sarama.CompressionNone,
	"gzip":   sarama.CompressionGZIP,
	"snappy": sarama.CompressionSnappy,
	"lz4":    sarama.CompressionLZ4,
	"zstd":   sarama.CompressionZSTD,
}

type produceParameters struct {
	connection
	Topic       string `json:"topic"`
	Count       int    `json:"count"`
	Prefix      string `json:"prefix"`
	Compression string `json:"compression"`
	Idempotent  bool   `json:"idempotent"`
	// Partitions > 0 sends record i to partition i % Partitions; 0 uses the hash partitioner.
	Partitions int32 `json:"partitions"`
	// TimestampMs > 0 gives record i the create time TimestampMs + i; Headers adds the headers
	// index=<i> and prefix=<prefix> to each record.
	TimestampMs int64 `json:"timestampMs"`
	Headers     bool  `json:"headers"`
}

func numberedMessages(topic string, count int, prefix string, partitions int32) []*sarama.ProducerMessage {
	messages := make([]*sarama.ProducerMessage, count)
	for index := range messages {
		messages[index] = &sarama.ProducerMessage{
			Topic: topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("%s-key-%d", prefix, index)),
			Value: sarama.StringEncoder(fmt.Sprintf("%s-value-%d", prefix, index)),
		}
		if partitions > 0 {
			messages[index].Partition = int32(index) % partitions
		}
	}
	return messages
}

// withTimestampsAndHeaders sets the create times and headers `parameters` asks for.
func withTimestampsAndHeaders(messages []*sarama.ProducerMessage, parameters produceParameters) {
	for index, message := range messages {
		if parameters.TimestampMs > 0 {
			message.Timestamp = time.UnixMilli(parameters.TimestampMs + int64(index))
		}
		if parameters.Headers {
			message.Headers = []sarama.RecordHeader{
				{Key: []byte("index"), Value: []byte(fmt.Sprint(index))},
				{Key: []byte("prefix"), Value: []byte(parameters.Prefix)},
			}
		}
	}
}

// headerPairs is a record's headers as the tests compare them: [key, value] text pairs in order.
func headerPairs[H sarama.RecordHeader | *sarama.RecordHeader](headers []H) [][2]string {
	pairs := [][2]string{}
	for _, header := range headers {
		var plain sarama.RecordHeader
		switch typed := any(header).(type) {
		case sarama.RecordHeader:
			plain = typed
		case *sarama.RecordHeader:
			plain = *typed
		}
		pairs = append(pairs, [2]string{string(plain.Key), string(plain.Value)})
	}
	return pairs
}

// emitAcks reports each acknowledged record; its timestamp is the one sent, or the broker's
// append time when the topic uses LogAppendTime (sarama takes it from the produce response).
func emitAcks(messages []*sarama.ProducerMessage) {
	for _, message := range messages {
		driver.Emit("ack", driver.Fields{
			"partition":   message.Partition,
			"offset":      message.Offset,
			"key":         string(message.Key.(sarama.StringEncoder)),
			"value":       string(message.Value.(sarama.StringEncoder)),
			"timestampMs": message.Timestamp.UnixMilli(),
			"headers":     headerPairs(message.Headers),
		})
	}
}

func producerConfig(parameters produceParameters, clientID string) (*sarama.Config, error) {
	config, err := newConfig(parameters.connection, clientID)
	if err != nil {
		return nil, err
	}
	codec, known := codecs[parameters.Compression]
	if !known {
		return nil, fmt.Errorf("unknown compression %q", parameters.Compression)
	}
	config.Producer.Compression = codec
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Flush.Frequency = 5 * time.Millisecond
	if parameters.Partitions > 0 {
		config.Producer.Partitioner = sarama.NewManualPartitioner
	}
	if parameters.Idempotent {
		// What sarama requires for idempotence: acks=all, one request in flight per broker.
		config.Producer.Idempotent = true
		config.Net.MaxOpenRequests = 1
	}
	return config, nil
}

// produce sends `<prefix>-key-<i>` / `<prefix>-value-<i>` with acks=all through the synchronous
// producer and reports where each acknowledged record landed.
func produce(_ context.Context, parameters produceParameters) error {
	return produceNumbered(parameters)
}

func produceNumbered(parameters produceParameters) error {
	config, err := producerConfig(parameters, "gregor-e2e-sarama-producer")
	if err != nil {
		return err
	}
	producer, err := sarama.NewSyncProducer(brokers(parameters.connection), config)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	messages := numberedMessages(parameters.Topic, parameters.Count, parameters.Prefix, parameters.Partitions)
	withTimestampsAndHeaders(messages, parameters)
	if err := producer.SendMessages(messages); err != nil {
		producer.Close()
		return fmt.Errorf("send: %w", err)
	}
	emitAcks(messages)
	if err := producer.Close(); err != nil {
		return fmt.Errorf("close producer: %w", err)
	}
	driver.Emit("done", driver.Fields{"produced": len(messages)})
	return nil
}

func emitRecord(message *sarama.ConsumerMessage, extra driver.Fields) {
	fields := driver.Fields{
		"partition":   message.Partition,
		"offset":      message.Offset,
		"key":         driver.Text(message.Key),
		"value":       driver.Text(message.Value),
		"timestampMs": message.Timestamp.UnixMilli(),
		"headers":     headerPairs(message.Headers),
	}
	for name, value := range extra {
		fields[name] = value
	}
	driver.Emit("record", fields)
}

type consumeParameters struct {
	connection
	Topic      string  `json:"topic"`
	Partitions int32   `json:"partitions"`
	Expected   int64   `json:"expected"`
	Isolation  string  `json:"isolation"`
	TimeoutS   float64 `json:"timeoutS"`
	// FetchBytes > 0 caps each partition's share of a fetch (sarama's Consumer.Fetch.Default).
	FetchBytes int32 `json:"fetchBytes"`
}

// consume reads every partition from the oldest offset without a group until `expected` records
// arrived (read_uncommitted, or read_committed when asked).
func consume(ctx context.Context, parameters consumeParameters) error {
	config, err := newConfig(parameters.connection, "gregor-e2e-sarama-consumer")
	if err != nil {
		return err
	}
	switch parameters.Isolation {
	case "", "read_uncommitted":
		config.Consumer.IsolationLevel = sarama.ReadUncommitted
	case "read_committed":
		config.Consumer.IsolationLevel = sarama.ReadCommitted
	default:
		return fmt.Errorf("unknown isolation %q", parameters.Isolation)
	}
	if parameters.FetchBytes > 0 {
		config.Consumer.Fetch.Default = parameters.FetchBytes
	}
	consumer, err := sarama.NewConsumer(brokers(parameters.connection), config)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer consumer.Close()
	consumeContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 30))
	defer finish()
	var received int64
	var group sync.WaitGroup
	for partition := int32(0); partition < parameters.Partitions; partition++ {
		partitionConsumer, err := consumer.ConsumePartition(parameters.Topic, partition, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("consume partition %d: %w", partition, err)
		}
		group.Add(1)
		go func() {
			defer group.Done()
			defer partitionConsumer.AsyncClose()
			for {
				select {
				case <-consumeContext.Done():
					return
				case message := <-partitionConsumer.Messages():
					emitRecord(message, nil)
					if atomic.AddInt64(&received, 1) >= parameters.Expected {
						finish()
					}
				case err := <-partitionConsumer.Errors():
					driver.Emit("error", driver.Fields{"message": err.Error()})
				}
			}
		}()
	}
	group.Wait()
	driver.Emit("closed", driver.Fields{"received": atomic.LoadInt64(&received)})
	return nil
}

type consumeGroupParameters struct {
	connection
	Topic    string  `json:"topic"`
	Group    string  `json:"group"`
	Expected int64   `json:"expected"`
	TimeoutS float64 `json:"timeoutS"`
	// InstanceID, when set, makes the member static (KIP-345): closing it sends no LeaveGroup.
	InstanceID string `json:"instanceId"`
}

// groupHandler reports every record it is given, marks it for the offset commit and ends the
// consumption once `expected` records arrived across its members.
type groupHandler struct {
	member   int
	expected int64
	received *int64
	finish   context.CancelFunc
	// claims, when set, gets the member's running claims after each change: a claim runs from the
	// start of its ConsumeClaim to its return, in eager and in cooperative rebalancing alike.
	claims  chan<- memberClaims
	lock    sync.Mutex
	running map[int32]bool
}

type memberClaims struct {
	member     int
	generation int32
	partitions []int32
}

func (handler *groupHandler) Setup(session sarama.ConsumerGroupSession) error {
	driver.Emit("assigned", driver.Fields{
		"member":       handler.member,
		"memberId":     session.MemberID(),
		"generationId": session.GenerationID(),
		"claims":       session.Claims(),
	})
	return nil
}

func (handler *groupHandler) Cleanup(session sarama.ConsumerGroupSession) error {
	driver.Emit("revoked", driver.Fields{"member": handler.member, "generationId": session.GenerationID()})
	return nil
}

// claimChanged records that the claim on `partition` started or ended and reports the claims.
func (handler *groupHandler) claimChanged(session sarama.ConsumerGroupSession, partition int32, started bool) {
	driver.Emit("claim", driver.Fields{
		"member":       handler.member,
		"partition":    partition,
		"started":      started,
		"generationId": session.GenerationID(),
	})
	if handler.claims == nil {
		return
	}
	handler.lock.Lock()
	if handler.running == nil {
		handler.running = map[int32]bool{}
	}
	if started {
		handler.running[partition] = true
	} else {
		delete(handler.running, partition)
	}
	partitions := make([]int32, 0, len(handler.running))
	for running := range handler.running {
		partitions = append(partitions, running)
	}
	sort.Slice(partitions, func(a, b int) bool { return partitions[a] < partitions[b] })
	// Sent under the lock: claims start and end on concurrent goroutines, and a snapshot sent
	// after the lock could overtake a newer one, leaving a stale last report.
	handler.claims <- memberClaims{handler.member, session.GenerationID(), partitions}
	handler.lock.Unlock()
}

func (handler *groupHandler) ConsumeClaim(
	session sarama.ConsumerGroupSession,
	claim sarama.ConsumerGroupClaim,
) error {
	handler.claimChanged(session, claim.Partition(), true)
	defer handler.claimChanged(session, claim.Partition(), false)
	for {
		select {
		case <-session.Context().Done():
			return nil
		case message, open := <-claim.Messages():
			if !open {
				return nil
			}
			emitRecord(message, driver.Fields{"member": handler.member})
			session.MarkMessage(message, "")
			if atomic.AddInt64(handler.received, 1) >= handler.expected {
				handler.finish()
			}
		}
	}
}

var strategies = map[string]func() sarama.BalanceStrategy{
	"range":              sarama.NewBalanceStrategyRange,
	"sticky":             sarama.NewBalanceStrategySticky,
	"roundrobin":         sarama.NewBalanceStrategyRoundRobin,
	"cooperative-sticky": sarama.NewBalanceStrategyCooperativeSticky,
}

func groupConfig(connection connection, strategy string) (*sarama.Config, error) {
	config, err := newConfig(connection, "gregor-e2e-sarama-consumer")
	if err != nil {
		return nil, err
	}
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Return.Errors = true
	config.Consumer.Group.Session.Timeout = 10 * time.Second
	config.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	if strategy != "" {
		newStrategy, known := strategies[strategy]
		if !known {
			return nil, fmt.Errorf("unknown balance strategy %q", strategy)
		}
		config.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{newStrategy()}
	}
	return config, nil
}

// runMember consumes as one group member until ctx ends (a session ends at every rebalance: join
// again), then closes the member, which commits the marked offsets and leaves the group.
func runMember(ctx context.Context, group sarama.ConsumerGroup, topic string, handler *groupHandler) error {
	go func() {
		for err := range group.Errors() {
			driver.Emit("error", driver.Fields{"member": handler.member, "message": err.Error()})
		}
	}()
	for ctx.Err() == nil {
		if err := group.Consume(ctx, []string{topic}, handler); err != nil {
			group.Close()
			return fmt.Errorf("member %d consume: %w", handler.member, err)
		}
	}
	if err := group.Close(); err != nil {
		return fmt.Errorf("member %d close: %w", handler.member, err)
	}
	return nil
}

// consumeGroup joins the group, consumes until `expected` records arrived (or the deadline),
// then ends the session (sarama commits the marked offsets when a session ends) and leaves.
func consumeGroup(ctx context.Context, parameters consumeGroupParameters) error {
	config, err := groupConfig(parameters.connection, "")
	if err != nil {
		return err
	}
	config.Consumer.Group.InstanceId = parameters.InstanceID
	group, err := sarama.NewConsumerGroup(brokers(parameters.connection), parameters.Group, config)
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	consumeContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 40))
	defer finish()
	var received int64
	handler := &groupHandler{expected: parameters.Expected, received: &received, finish: finish}
	if err := runMember(consumeContext, group, parameters.Topic, handler); err != nil {
		return err
	}
	driver.Emit("closed", driver.Fields{"received": atomic.LoadInt64(&received)})
	return nil
}

type groupStrategyParameters struct {
	connection
	Topic      string  `json:"topic"`
	Group      string  `json:"group"`
	Strategy   string  `json:"strategy"`
	Members    int     `json:"members"`
	Partitions int32   `json:"partitions"`
	Count      int     `json:"count"`
	Prefix     string  `json:"prefix"`
	TimeoutS   float64 `json:"timeoutS"`
}

// settled reports whether every member in `joined` runs claims and, together, they are the topic's
// partitions, each once (with as many partitions as members or more, every member gets one).
func settled(latest map[int]memberClaims, joined int, partitions int32) bool {
	owned := map[int32]bool{}
	for member := 0; member < joined; member++ {
		claims, found := latest[member]
		if !found || len(claims.partitions) == 0 {
			return false
		}
		for _, partition := range claims.partitions {
			if owned[partition] {
				return false
			}
			owned[partition] = true
		}
	}
	return int32(len(owned)) == partitions
}

// groupStrategy starts `members` members of one group one after another, each once the previous
// ones settled on an assignment covering the topic (the rebalances a growing group goes through),
// then produces `count` records (record i to partition i % partitions) and consumes them across
// the members. Events: assigned/revoked per member session, claim starts and ends, settled per
// stage, acks, records.
func groupStrategy(ctx context.Context, parameters groupStrategyParameters) error {
	runContext, finish := context.WithDeadline(ctx, driver.Deadline(parameters.TimeoutS, 60))
	defer finish()
	claims := make(chan memberClaims, 256)
	var received int64
	var members sync.WaitGroup
	failures := make(chan error, parameters.Members)
	latest := map[int]memberClaims{}
	for member := 0; member < parameters.Members; member++ {
		config, err := groupConfig(parameters.connection, parameters.Strategy)
		if err != nil {
			return err
		}
		config.ClientID = fmt.Sprintf("gregor-e2e-sarama-member-%d", member)
		group, err := sarama.NewConsumerGroup(brokers(parameters.connection), parameters.Group, config)
		if err != nil {
			return fmt.Errorf("member %d: %w", member, err)
		}
		handler := &groupHandler{
			member:   member,
			expected: int64(parameters.Count),
			received: &received,
			finish:   finish,
			claims:   claims,
		}
		members.Add(1)
		go func() {
			defer members.Done()
			if err := runMember(runContext, group, parameters.Topic, handler); err != nil {
				failures <- err
			}
		}()
		for !settled(latest, member+1, parameters.Partitions) {
			select {
			case changed := <-claims:
				latest[changed.member] = changed
			case err := <-failures:
				return err
			case <-runContext.Done():
				return fmt.Errorf("%d members did not settle on an assignment before the deadline", member+1)
			}
		}
		assignment := map[int][]int32{}
		generations := map[int]int32{}
		for index := 0; index <= member; index++ {
			assignment[index] = latest[index].partitions
			generations[index] = latest[index].generation
		}
		driver.Emit("settled", driver.Fields{
			"members":     member + 1,
			"assignment":  assignment,
			"generations": generations,
		})
	}
	// Drain claim reports from here on so that members never block on them.
	go func() {
		for range claims {
		}
	}()
	err := produceNumbered(produceParameters{
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

type partitionOffset struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

type transactionParameters struct {
	connection
	TransactionalID string `json:"transactionalId"`
	Topic           string `json:"topic"`
	Partitions      int32  `json:"partitions"`
	Count           int    `json:"count"`
	Prefix          string `json:"prefix"`
	Compression     string `json:"compression"`
	// Outcome is "commit" or "abort".
	Outcome string `json:"outcome"`
	// Group and Offsets, when set, are committed inside the transaction (AddOffsetsToTxn,
	// TxnOffsetCommit) for Topic.
	Group   string            `json:"group"`
	Offsets []partitionOffset `json:"offsets"`
}

func transactionalProducer(parameters transactionParameters) (sarama.SyncProducer, error) {
	config, err := producerConfig(
		produceParameters{
			connection:  parameters.connection,
			Partitions:  parameters.Partitions,
			Compression: parameters.Compression,
			Idempotent:  true,
		},
		"gregor-e2e-sarama-transactional",
	)
	if err != nil {
		return nil, err
	}
	config.Producer.Transaction.ID = parameters.TransactionalID
	config.Producer.Transaction.Timeout = 20 * time.Second
	producer, err := sarama.NewSyncProducer(brokers(parameters.connection), config)
	if err != nil {
		return nil, fmt.Errorf("transactional producer: %w", err)
	}
	return producer, nil
}

// transaction runs one transaction with a fresh producer (InitProducerId bumps the epoch of the
// transactional id): begin, send the records, optionally commit offsets for a group, then commit
// or abort as asked.
func transaction(_ context.Context, parameters transactionParameters) error {
	producer, err := transactionalProducer(parameters)
	if err != nil {
		return err
	}
	// Closed once: sarama's producer panics ("send on closed channel") when closed twice.
	closed := false
	defer func() {
		if !closed {
			producer.Close()
		}
	}()
	if err := producer.BeginTxn(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	messages := numberedMessages(parameters.Topic, parameters.Count, parameters.Prefix, parameters.Partitions)
	if err := producer.SendMessages(messages); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	emitAcks(messages)
	if parameters.Group != "" {
		offsets := make([]*sarama.PartitionOffsetMetadata, 0, len(parameters.Offsets))
		for _, entry := range parameters.Offsets {
			offsets = append(offsets, &sarama.PartitionOffsetMetadata{Partition: entry.Partition, Offset: entry.Offset})
		}
		if err := producer.AddOffsetsToTxn(map[string][]*sarama.PartitionOffsetMetadata{parameters.Topic: offsets}, parameters.Group); err != nil {
			return fmt.Errorf("add offsets: %w", err)
		}
	}
	switch parameters.Outcome {
	case "commit":
		err = producer.CommitTxn()
	case "abort":
		err = producer.AbortTxn()
	default:
		return fmt.Errorf("unknown outcome %q", parameters.Outcome)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", parameters.Outcome, err)
	}
	driver.Emit("ended", driver.Fields{"outcome": parameters.Outcome, "status": producer.TxnStatus().String()})
	closed = true
	if err := producer.Close(); err != nil {
		return fmt.Errorf("close producer: %w", err)
	}
	return nil
}

// fence opens a transaction with one producer, then starts a second producer with the same
// transactional id (InitProducerId fences the first) and tries to commit the first one's
// transaction: it must fail, and the second producer commits its own.
func fence(_ context.Context, parameters transactionParameters) error {
	first, err := transactionalProducer(parameters)
	if err != nil {
		return err
	}
	defer first.Close()
	if err := first.BeginTxn(); err != nil {
		return fmt.Errorf("first begin: %w", err)
	}
	fenced := numberedMessages(parameters.Topic, parameters.Count, parameters.Prefix+"-fenced", parameters.Partitions)
	if err := first.SendMessages(fenced); err != nil {
		return fmt.Errorf("first send: %w", err)
	}
	emitAcks(fenced)
	second, err := transactionalProducer(parameters)
	if err != nil {
		return err
	}
	defer second.Close()
	commitError := first.CommitTxn()
	if commitError == nil {
		driver.Emit("fenced-commit", driver.Fields{"committed": true})
	} else {
		driver.Emit("fenced-commit", driver.Fields{
			"committed": false, "error": commitError.Error(), "code": errorCode(commitError),
			"status": first.TxnStatus().String(),
		})
	}
	if err := second.BeginTxn(); err != nil {
		return fmt.Errorf("second begin: %w", err)
	}
	messages := numberedMessages(parameters.Topic, parameters.Count, parameters.Prefix, parameters.Partitions)
	if err := second.SendMessages(messages); err != nil {
		return fmt.Errorf("second send: %w", err)
	}
	emitAcks(messages)
	if err := second.CommitTxn(); err != nil {
		return fmt.Errorf("second commit: %w", err)
	}
	driver.Emit("ended", driver.Fields{"outcome": "commit", "status": second.TxnStatus().String()})
	return nil
}

func main() {
	sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Ltime|log.Lmicroseconds)
	driver.Run(map[string]driver.Command{
		"version":        driver.Typed(version),
		"produce":        driver.Typed(produce),
		"consume":        driver.Typed(consume),
		"consume-group":  driver.Typed(consumeGroup),
		"group-strategy": driver.Typed(groupStrategy),
		"transaction":    driver.Typed(transaction),
		"fence":          driver.Typed(fence),
		"admin":          driver.Typed(admin),
	})
}
