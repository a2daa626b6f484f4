package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/IBM/sarama"
	"gregor-e2e/driver"
)

// adminStep is one ClusterAdmin call; which fields count depends on Op.
type adminStep struct {
	Op                string             `json:"op"`
	Topic             string             `json:"topic"`
	Topics            []string           `json:"topics"`
	Partition         int32              `json:"partition"`
	Partitions        int32              `json:"partitions"`
	ReplicationFactor int16              `json:"replicationFactor"`
	Count             int32              `json:"count"`
	Configs           map[string]*string `json:"configs"`
	// Operations are IncrementalAlterConfigs' entries: name → {operation, value}.
	Operations map[string]incrementalOperation `json:"operations"`
	Resource   string                          `json:"resource"`
	Name       string                          `json:"name"`
	Names      []string                        `json:"names"`
	Offsets    []partitionOffset               `json:"offsets"`
	At         string                          `json:"at"`
	// TimestampMs, when At is "timestamp": the offset of the first record stamped at or after it.
	TimestampMs int64    `json:"timestampMs"`
	Group       string   `json:"group"`
	Groups      []string `json:"groups"`
	IDs         []string `json:"transactionalIds"`
	Instances   []string `json:"instanceIds"`
}

type incrementalOperation struct {
	Operation string  `json:"operation"`
	Value     *string `json:"value"`
}

type adminParameters struct {
	connection
	Steps []adminStep `json:"steps"`
}

var resourceTypes = map[string]sarama.ConfigResourceType{
	"topic":         sarama.TopicResource,
	"broker":        sarama.BrokerResource,
	"broker-logger": sarama.BrokerLoggerResource,
}

var incrementalOperations = map[string]sarama.IncrementalAlterConfigsOperation{
	"set":      sarama.IncrementalAlterConfigsOperationSet,
	"delete":   sarama.IncrementalAlterConfigsOperationDelete,
	"append":   sarama.IncrementalAlterConfigsOperationAppend,
	"subtract": sarama.IncrementalAlterConfigsOperationSubtract,
}

func partitionList(count int32) []int32 {
	partitions := make([]int32, count)
	for index := range partitions {
		partitions[index] = int32(index)
	}
	return partitions
}

func resourceType(name string) (sarama.ConfigResourceType, error) {
	resource, known := resourceTypes[name]
	if !known {
		return 0, fmt.Errorf("unknown resource type %q", name)
	}
	return resource, nil
}

// admin runs the steps in order with one ClusterAdmin; each step reports a "result" event with
// its data, or with the error and its Kafka code (the run goes on: a refusal can be the point).
func admin(_ context.Context, parameters adminParameters) error {
	config, err := newConfig(parameters.connection, "gregor-e2e-sarama-admin")
	if err != nil {
		return err
	}
	clusterAdmin, err := sarama.NewClusterAdmin(brokers(parameters.connection), config)
	if err != nil {
		return fmt.Errorf("cluster admin: %w", err)
	}
	defer clusterAdmin.Close()
	for index, step := range parameters.Steps {
		fields, err := runAdminStep(clusterAdmin, step)
		if err != nil {
			fields = errorFields(err)
		}
		fields["step"] = index
		fields["op"] = step.Op
		driver.Emit("result", fields)
	}
	return nil
}

func runAdminStep(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	switch step.Op {
	case "create-topic":
		replicationFactor := step.ReplicationFactor
		if replicationFactor == 0 {
			replicationFactor = 1
		}
		detail := &sarama.TopicDetail{
			NumPartitions:     step.Partitions,
			ReplicationFactor: replicationFactor,
			ConfigEntries:     step.Configs,
		}
		return driver.Fields{}, clusterAdmin.CreateTopic(step.Topic, detail, false)
	case "delete-topic":
		return driver.Fields{}, clusterAdmin.DeleteTopic(step.Topic)
	case "create-partitions":
		return driver.Fields{}, clusterAdmin.CreatePartitions(step.Topic, step.Count, nil, false)
	case "list-topics":
		return listTopics(clusterAdmin, step)
	case "describe-topics":
		return describeTopics(clusterAdmin, step)
	case "describe-config":
		return describeConfig(clusterAdmin, step)
	case "alter-config":
		resource, err := resourceType(step.Resource)
		if err != nil {
			return nil, err
		}
		return driver.Fields{}, clusterAdmin.AlterConfig(resource, step.Name, step.Configs, false)
	case "incremental-alter-config":
		return incrementalAlterConfig(clusterAdmin, step)
	case "delete-records":
		offsets := map[int32]int64{}
		for _, entry := range step.Offsets {
			offsets[entry.Partition] = entry.Offset
		}
		return driver.Fields{}, clusterAdmin.DeleteRecords(step.Topic, offsets)
	case "list-offsets":
		return listOffsets(clusterAdmin, step)
	case "describe-cluster":
		brokers, controllerID, err := clusterAdmin.DescribeCluster()
		if err != nil {
			return nil, err
		}
		described := []driver.Fields{}
		for _, broker := range brokers {
			described = append(described, driver.Fields{"id": broker.ID(), "address": broker.Addr()})
		}
		return driver.Fields{"brokers": described, "controllerId": controllerID}, nil
	case "describe-log-dirs":
		return describeLogDirs(clusterAdmin, step)
	case "list-groups":
		groups, err := clusterAdmin.ListConsumerGroups()
		if err != nil {
			return nil, err
		}
		listed := []driver.Fields{}
		for _, name := range step.Groups {
			if protocolType, found := groups[name]; found {
				listed = append(listed, driver.Fields{"group": name, "protocolType": protocolType})
			}
		}
		return driver.Fields{"groups": listed}, nil
	case "describe-groups":
		return describeGroups(clusterAdmin, step)
	case "delete-group":
		return driver.Fields{}, clusterAdmin.DeleteConsumerGroup(step.Group)
	case "remove-members":
		response, err := clusterAdmin.RemoveMemberFromConsumerGroup(step.Group, step.Instances)
		if err != nil {
			return nil, err
		}
		members := []driver.Fields{}
		for _, member := range response.Members {
			instance := ""
			if member.GroupInstanceId != nil {
				instance = *member.GroupInstanceId
			}
			members = append(members, driver.Fields{"instanceId": instance, "code": int(member.Err)})
		}
		return driver.Fields{"code": int(response.Err), "members": members}, nil
	case "group-offsets":
		return groupOffsets(clusterAdmin, step)
	case "alter-group-offsets":
		offsets := map[int32]sarama.OffsetAndMetadata{}
		for _, entry := range step.Offsets {
			offsets[entry.Partition] = sarama.OffsetAndMetadata{Offset: entry.Offset, LeaderEpoch: -1}
		}
		_, err := clusterAdmin.AlterConsumerGroupOffsets(
			step.Group,
			map[string]map[int32]sarama.OffsetAndMetadata{step.Topic: offsets},
			nil,
		)
		return driver.Fields{}, err
	case "delete-group-offset":
		return driver.Fields{}, clusterAdmin.DeleteConsumerGroupOffset(step.Group, step.Topic, step.Partition)
	case "describe-producers", "describe-transactions":
		transactionAdmin, supported := clusterAdmin.(sarama.TransactionClusterAdmin)
		if !supported {
			return nil, fmt.Errorf("this sarama has no TransactionClusterAdmin")
		}
		if step.Op == "describe-producers" {
			return describeProducers(transactionAdmin, step)
		}
		return describeTransactions(transactionAdmin, step)
	}
	return nil, fmt.Errorf("unknown admin op %q", step.Op)
}

func listTopics(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	topics, err := clusterAdmin.ListTopics()
	if err != nil {
		return nil, err
	}
	listed := []driver.Fields{}
	for _, name := range step.Topics {
		detail, found := topics[name]
		if !found {
			continue
		}
		configs := driver.Fields{}
		for _, configName := range step.Names {
			if value, found := detail.ConfigEntries[configName]; found && value != nil {
				configs[configName] = *value
			}
		}
		listed = append(listed, driver.Fields{
			"topic":             name,
			"partitions":        detail.NumPartitions,
			"replicationFactor": detail.ReplicationFactor,
			"configs":           configs,
		})
	}
	return driver.Fields{"topics": listed}, nil
}

func describeTopics(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	metadata, err := clusterAdmin.DescribeTopics(step.Topics)
	if err != nil {
		return nil, err
	}
	described := []driver.Fields{}
	for _, topic := range metadata {
		partitions := []driver.Fields{}
		sort.Slice(topic.Partitions, func(a, b int) bool { return topic.Partitions[a].ID < topic.Partitions[b].ID })
		for _, partition := range topic.Partitions {
			partitions = append(partitions, driver.Fields{
				"partition": partition.ID,
				"leader":    partition.Leader,
				"replicas":  partition.Replicas,
				"isr":       partition.Isr,
				"code":      int(partition.Err),
			})
		}
		described = append(described, driver.Fields{
			"topic":      topic.Name,
			"code":       int(topic.Err),
			"internal":   topic.IsInternal,
			"partitions": partitions,
		})
	}
	return driver.Fields{"topics": described}, nil
}

func describeConfig(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	resource, err := resourceType(step.Resource)
	if err != nil {
		return nil, err
	}
	entries, err := clusterAdmin.DescribeConfig(sarama.ConfigResource{
		Type:        resource,
		Name:        step.Name,
		ConfigNames: step.Names,
	})
	if err != nil {
		return nil, err
	}
	described := []driver.Fields{}
	for _, entry := range entries {
		described = append(described, driver.Fields{
			"name":      entry.Name,
			"value":     entry.Value,
			"source":    entry.Source.String(),
			"readOnly":  entry.ReadOnly,
			"sensitive": entry.Sensitive,
		})
	}
	sort.Slice(described, func(a, b int) bool {
		return described[a]["name"].(string) < described[b]["name"].(string)
	})
	return driver.Fields{"entries": described}, nil
}

func incrementalAlterConfig(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	resource, err := resourceType(step.Resource)
	if err != nil {
		return nil, err
	}
	entries := map[string]sarama.IncrementalAlterConfigsEntry{}
	for name, operation := range step.Operations {
		code, known := incrementalOperations[operation.Operation]
		if !known {
			return nil, fmt.Errorf("unknown incremental operation %q", operation.Operation)
		}
		entries[name] = sarama.IncrementalAlterConfigsEntry{Operation: code, Value: operation.Value}
	}
	return driver.Fields{}, clusterAdmin.IncrementalAlterConfig(resource, step.Name, entries, false)
}

func listOffsets(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	at := sarama.OffsetNewest
	switch step.At {
	case "earliest":
		at = sarama.OffsetOldest
	case "timestamp":
		at = step.TimestampMs
	}
	query := map[int32]int64{}
	for _, partition := range partitionList(step.Partitions) {
		query[partition] = at
	}
	results, err := clusterAdmin.ListOffsets(map[string]map[int32]int64{step.Topic: query}, nil)
	if err != nil {
		return nil, err
	}
	offsets := []driver.Fields{}
	for _, partition := range partitionList(step.Partitions) {
		result := results[step.Topic][partition]
		if result == nil {
			return nil, fmt.Errorf("no offset for partition %d", partition)
		}
		// sarama reports success as the error ErrNoError.
		if result.Err != nil && !errors.Is(result.Err, sarama.ErrNoError) {
			return nil, fmt.Errorf("partition %d: %w", partition, result.Err)
		}
		offsets = append(offsets, driver.Fields{"partition": partition, "offset": result.Offset})
	}
	return driver.Fields{"offsets": offsets}, nil
}

func describeGroups(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	groups, err := clusterAdmin.DescribeConsumerGroups(step.Groups)
	if err != nil {
		return nil, err
	}
	described := []driver.Fields{}
	for _, group := range groups {
		members := []driver.Fields{}
		for _, member := range group.Members {
			assignment, err := member.GetMemberAssignment()
			if err != nil {
				return nil, fmt.Errorf("member %s assignment: %w", member.MemberId, err)
			}
			var topics map[string][]int32
			if assignment != nil {
				topics = assignment.Topics
			}
			instance := ""
			if member.GroupInstanceId != nil {
				instance = *member.GroupInstanceId
			}
			members = append(members, driver.Fields{
				"clientId":   member.ClientId,
				"instanceId": instance,
				"assignment": topics,
			})
		}
		sort.Slice(members, func(a, b int) bool {
			return members[a]["clientId"].(string) < members[b]["clientId"].(string)
		})
		described = append(described, driver.Fields{
			"group":        group.GroupId,
			"code":         int(group.Err),
			"state":        group.State,
			"protocolType": group.ProtocolType,
			"protocol":     group.Protocol,
			"members":      members,
		})
	}
	return driver.Fields{"groups": described}, nil
}

func groupOffsets(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	response, err := clusterAdmin.ListConsumerGroupOffsets(
		step.Group,
		map[string][]int32{step.Topic: partitionList(step.Partitions)},
	)
	if err != nil {
		return nil, err
	}
	offsets := []driver.Fields{}
	for _, partition := range partitionList(step.Partitions) {
		block := response.GetBlock(step.Topic, partition)
		if block == nil {
			return nil, fmt.Errorf("no committed offset answer for partition %d", partition)
		}
		if block.Err != sarama.ErrNoError {
			return nil, fmt.Errorf("partition %d: %w", partition, block.Err)
		}
		offsets = append(offsets, driver.Fields{"partition": partition, "offset": block.Offset})
	}
	return driver.Fields{"offsets": offsets}, nil
}

func describeProducers(clusterAdmin sarama.TransactionClusterAdmin, step adminStep) (driver.Fields, error) {
	results, err := clusterAdmin.DescribeProducers(map[string][]int32{step.Topic: partitionList(step.Partitions)})
	if err != nil {
		return nil, err
	}
	described := []driver.Fields{}
	for _, partition := range partitionList(step.Partitions) {
		result, found := results[step.Topic][partition]
		if !found {
			return nil, fmt.Errorf("no producers answer for partition %d", partition)
		}
		producers := []driver.Fields{}
		for _, producer := range result.ActiveProducers {
			producers = append(producers, driver.Fields{
				"producerId":            producer.ProducerID,
				"producerEpoch":         producer.ProducerEpoch,
				"lastSequence":          producer.LastSequence,
				"currentTxnStartOffset": producer.CurrentTxnStartOffset,
			})
		}
		described = append(described, driver.Fields{
			"partition": partition,
			"code":      int(result.ErrorCode),
			"producers": producers,
		})
	}
	return driver.Fields{"partitions": described}, nil
}

func describeTransactions(clusterAdmin sarama.TransactionClusterAdmin, step adminStep) (driver.Fields, error) {
	states, err := clusterAdmin.DescribeTransactions(step.IDs)
	if err != nil {
		return nil, err
	}
	described := []driver.Fields{}
	for _, id := range step.IDs {
		state, found := states[id]
		if !found {
			return nil, fmt.Errorf("no answer for transactional id %s", id)
		}
		topics := map[string][]int32{}
		for _, topic := range state.Topics {
			topics[topic.Topic] = topic.Partitions
		}
		described = append(described, driver.Fields{
			"transactionalId": id,
			"code":            int(state.ErrorCode),
			"state":           state.TransactionState,
			"producerId":      state.ProducerID,
			"producerEpoch":   state.ProducerEpoch,
			"timeoutMs":       state.TransactionTimeout.Milliseconds(),
			"topics":          topics,
		})
	}
	return driver.Fields{"transactions": described}, nil
}

// describeLogDirs reports the log dirs of broker 1 with the partitions of step.Topics in them.
func describeLogDirs(clusterAdmin sarama.ClusterAdmin, step adminStep) (driver.Fields, error) {
	brokers, err := clusterAdmin.DescribeLogDirs([]int32{1})
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, topic := range step.Topics {
		wanted[topic] = true
	}
	dirs := []driver.Fields{}
	for _, dir := range brokers[1] {
		partitions := []driver.Fields{}
		for _, topic := range dir.Topics {
			if !wanted[topic.Topic] {
				continue
			}
			for _, partition := range topic.Partitions {
				partitions = append(partitions, driver.Fields{
					"topic":     topic.Topic,
					"partition": partition.PartitionID,
					"size":      partition.Size,
					"offsetLag": partition.OffsetLag,
					"temporary": partition.IsTemporary,
				})
			}
		}
		sort.Slice(partitions, func(a, b int) bool {
			return partitions[a]["partition"].(int32) < partitions[b]["partition"].(int32)
		})
		dirs = append(dirs, driver.Fields{
			"path":        dir.Path,
			"code":        int(dir.ErrorCode),
			"partitions":  partitions,
			"totalBytes":  dir.TotalBytes,
			"usableBytes": dir.UsableBytes,
		})
	}
	return driver.Fields{"dirs": dirs}, nil
}
