package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/segmentio/kafka-go"
	"gregor-e2e/driver"
)

// adminStep is one kafka.Client call; which fields count depends on Op.
type adminStep struct {
	Op                string            `json:"op"`
	Topic             string            `json:"topic"`
	Topics            []string          `json:"topics"`
	Partitions        int               `json:"partitions"`
	ReplicationFactor int               `json:"replicationFactor"`
	Count             int32             `json:"count"`
	Configs           map[string]string `json:"configs"`
	// Operations are IncrementalAlterConfigs' entries: name → {operation, value}.
	Operations map[string]incrementalOperation `json:"operations"`
	Resource   string                          `json:"resource"`
	Name       string                          `json:"name"`
	Names      []string                        `json:"names"`
	Group      string                          `json:"group"`
	Groups     []string                        `json:"groups"`
}

type incrementalOperation struct {
	Operation string `json:"operation"`
	Value     string `json:"value"`
}

type adminParameters struct {
	connection
	Steps []adminStep `json:"steps"`
}

var resourceTypes = map[string]kafka.ResourceType{
	"topic":  kafka.ResourceTypeTopic,
	"broker": kafka.ResourceTypeBroker,
}

var incrementalOperations = map[string]kafka.ConfigOperation{
	"set":      kafka.ConfigOperationSet,
	"delete":   kafka.ConfigOperationDelete,
	"append":   kafka.ConfigOperationAppend,
	"subtract": kafka.ConfigOperationSubtract,
}

func resourceType(name string) (kafka.ResourceType, error) {
	resource, known := resourceTypes[name]
	if !known {
		return 0, fmt.Errorf("unknown resource type %q", name)
	}
	return resource, nil
}

func partitionList(count int) []int {
	partitions := make([]int, count)
	for index := range partitions {
		partitions[index] = index
	}
	return partitions
}

// outcome is a per-item answer as the tests compare it: 0 or the Kafka error code, and the text.
func outcome(err error) driver.Fields {
	if err == nil {
		return driver.Fields{"code": 0}
	}
	return driver.Fields{"code": errorCode(err), "error": err.Error()}
}

// admin runs the steps in order with one kafka.Client; each step reports a "result" event with its
// data (per-item errors as codes), or with the request's error (the run goes on).
func admin(ctx context.Context, parameters adminParameters) error {
	client := newClient(parameters.connection)
	for index, step := range parameters.Steps {
		fields, err := runAdminStep(ctx, client, step)
		if err != nil {
			fields = driver.Fields{"error": err.Error(), "code": errorCode(err)}
		}
		fields["step"] = index
		fields["op"] = step.Op
		driver.Emit("result", fields)
	}
	return nil
}

func runAdminStep(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	switch step.Op {
	case "create-topic":
		replicationFactor := step.ReplicationFactor
		if replicationFactor == 0 {
			replicationFactor = 1
		}
		entries := []kafka.ConfigEntry{}
		for name, value := range step.Configs {
			entries = append(entries, kafka.ConfigEntry{ConfigName: name, ConfigValue: value})
		}
		response, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
			Topic:             step.Topic,
			NumPartitions:     step.Partitions,
			ReplicationFactor: replicationFactor,
			ConfigEntries:     entries,
		}}})
		if err != nil {
			return nil, err
		}
		return outcome(response.Errors[step.Topic]), nil
	case "delete-topic":
		response, err := client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{step.Topic}})
		if err != nil {
			return nil, err
		}
		return outcome(response.Errors[step.Topic]), nil
	case "create-partitions":
		response, err := client.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
			Topics: []kafka.TopicPartitionsConfig{{Name: step.Topic, Count: step.Count}},
		})
		if err != nil {
			return nil, err
		}
		return outcome(response.Errors[step.Topic]), nil
	case "metadata":
		return metadata(ctx, client, step)
	case "describe-config":
		return describeConfig(ctx, client, step)
	case "alter-config":
		return alterConfig(ctx, client, step)
	case "incremental-alter-config":
		return incrementalAlterConfig(ctx, client, step)
	case "list-offsets":
		return listOffsets(ctx, client, step)
	case "group-offsets":
		return groupOffsets(ctx, client, step)
	case "list-groups":
		response, err := client.ListGroups(ctx, &kafka.ListGroupsRequest{})
		if err != nil {
			return nil, err
		}
		if response.Error != nil {
			return nil, response.Error
		}
		wanted := map[string]bool{}
		for _, group := range step.Groups {
			wanted[group] = true
		}
		listed := []driver.Fields{}
		for _, group := range response.Groups {
			if wanted[group.GroupID] {
				listed = append(listed, driver.Fields{"group": group.GroupID, "protocolType": group.ProtocolType})
			}
		}
		return driver.Fields{"groups": listed}, nil
	case "describe-groups":
		return describeGroups(ctx, client, step)
	case "delete-group":
		response, err := client.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{step.Group}})
		if err != nil {
			return nil, err
		}
		return outcome(response.Errors[step.Group]), nil
	}
	return nil, fmt.Errorf("unknown admin op %q", step.Op)
}

func metadata(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	response, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: step.Topics})
	if err != nil {
		return nil, err
	}
	brokers := []driver.Fields{}
	for _, broker := range response.Brokers {
		brokers = append(brokers, driver.Fields{"id": broker.ID, "host": broker.Host, "port": broker.Port})
	}
	topics := []driver.Fields{}
	for _, topic := range response.Topics {
		partitions := []driver.Fields{}
		sort.Slice(topic.Partitions, func(a, b int) bool { return topic.Partitions[a].ID < topic.Partitions[b].ID })
		for _, partition := range topic.Partitions {
			replicas := []int{}
			for _, replica := range partition.Replicas {
				replicas = append(replicas, replica.ID)
			}
			isr := []int{}
			for _, replica := range partition.Isr {
				isr = append(isr, replica.ID)
			}
			partitions = append(partitions, driver.Fields{
				"partition": partition.ID,
				"leader":    partition.Leader.ID,
				"replicas":  replicas,
				"isr":       isr,
				"code":      outcome(partition.Error)["code"],
			})
		}
		fields := outcome(topic.Error)
		fields["topic"] = topic.Name
		fields["internal"] = topic.Internal
		fields["partitions"] = partitions
		topics = append(topics, fields)
	}
	return driver.Fields{
		"clusterId":    response.ClusterID,
		"controllerId": response.Controller.ID,
		"brokers":      brokers,
		"topics":       topics,
	}, nil
}

func describeConfig(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	resource, err := resourceType(step.Resource)
	if err != nil {
		return nil, err
	}
	response, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: resource,
			ResourceName: step.Name,
			ConfigNames:  step.Names,
		}},
	})
	if err != nil {
		return nil, err
	}
	if len(response.Resources) != 1 {
		return nil, fmt.Errorf("%d resources in the answer", len(response.Resources))
	}
	described := response.Resources[0]
	if described.Error != nil {
		return nil, described.Error
	}
	entries := []driver.Fields{}
	for _, entry := range described.ConfigEntries {
		entries = append(entries, driver.Fields{
			"name":      entry.ConfigName,
			"value":     entry.ConfigValue,
			"source":    entry.ConfigSource,
			"readOnly":  entry.ReadOnly,
			"sensitive": entry.IsSensitive,
		})
	}
	sort.Slice(entries, func(a, b int) bool {
		return entries[a]["name"].(string) < entries[b]["name"].(string)
	})
	return driver.Fields{"entries": entries}, nil
}

func alterConfig(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	resource, err := resourceType(step.Resource)
	if err != nil {
		return nil, err
	}
	configs := []kafka.AlterConfigRequestConfig{}
	for name, value := range step.Configs {
		configs = append(configs, kafka.AlterConfigRequestConfig{Name: name, Value: value})
	}
	response, err := client.AlterConfigs(ctx, &kafka.AlterConfigsRequest{
		Resources: []kafka.AlterConfigRequestResource{{
			ResourceType: resource,
			ResourceName: step.Name,
			Configs:      configs,
		}},
	})
	if err != nil {
		return nil, err
	}
	return outcome(response.Errors[kafka.AlterConfigsResponseResource{Type: int8(resource), Name: step.Name}]), nil
}

func incrementalAlterConfig(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	resource, err := resourceType(step.Resource)
	if err != nil {
		return nil, err
	}
	configs := []kafka.IncrementalAlterConfigsRequestConfig{}
	for name, operation := range step.Operations {
		code, known := incrementalOperations[operation.Operation]
		if !known {
			return nil, fmt.Errorf("unknown incremental operation %q", operation.Operation)
		}
		configs = append(configs, kafka.IncrementalAlterConfigsRequestConfig{
			Name:            name,
			Value:           operation.Value,
			ConfigOperation: code,
		})
	}
	response, err := client.IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{
		Resources: []kafka.IncrementalAlterConfigsRequestResource{{
			ResourceType: resource,
			ResourceName: step.Name,
			Configs:      configs,
		}},
	})
	if err != nil {
		return nil, err
	}
	if len(response.Resources) != 1 {
		return nil, fmt.Errorf("%d resources in the answer", len(response.Resources))
	}
	return outcome(response.Resources[0].Error), nil
}

func listOffsets(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	requests := []kafka.OffsetRequest{}
	for _, partition := range partitionList(step.Partitions) {
		requests = append(requests, kafka.FirstOffsetOf(partition), kafka.LastOffsetOf(partition))
	}
	response, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{step.Topic: requests},
	})
	if err != nil {
		return nil, err
	}
	offsets := []driver.Fields{}
	for _, partition := range response.Topics[step.Topic] {
		fields := outcome(partition.Error)
		fields["partition"] = partition.Partition
		fields["first"] = partition.FirstOffset
		fields["last"] = partition.LastOffset
		offsets = append(offsets, fields)
	}
	sort.Slice(offsets, func(a, b int) bool {
		return offsets[a]["partition"].(int) < offsets[b]["partition"].(int)
	})
	return driver.Fields{"offsets": offsets}, nil
}

func groupOffsets(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	response, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{
		GroupID: step.Group,
		Topics:  map[string][]int{step.Topic: partitionList(step.Partitions)},
	})
	if err != nil {
		return nil, err
	}
	if response.Error != nil {
		return nil, response.Error
	}
	offsets := []driver.Fields{}
	for _, partition := range response.Topics[step.Topic] {
		fields := outcome(partition.Error)
		fields["partition"] = partition.Partition
		fields["offset"] = partition.CommittedOffset
		offsets = append(offsets, fields)
	}
	sort.Slice(offsets, func(a, b int) bool {
		return offsets[a]["partition"].(int) < offsets[b]["partition"].(int)
	})
	return driver.Fields{"offsets": offsets}, nil
}

func describeGroups(ctx context.Context, client *kafka.Client, step adminStep) (driver.Fields, error) {
	response, err := client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: step.Groups})
	if err != nil {
		return nil, err
	}
	groups := []driver.Fields{}
	for _, group := range response.Groups {
		members := []driver.Fields{}
		for _, member := range group.Members {
			assignment := map[string][]int{}
			for _, topic := range member.MemberAssignments.Topics {
				assignment[topic.Topic] = topic.Partitions
			}
			members = append(members, driver.Fields{
				"clientId":   member.ClientID,
				"topics":     member.MemberMetadata.Topics,
				"assignment": assignment,
			})
		}
		fields := outcome(group.Error)
		fields["group"] = group.GroupID
		fields["state"] = group.GroupState
		fields["members"] = members
		groups = append(groups, fields)
	}
	return driver.Fields{"groups": groups}, nil
}
