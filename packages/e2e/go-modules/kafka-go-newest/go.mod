module gregor-e2e/kafka-go-newest

go 1.26.0

require (
	github.com/segmentio/kafka-go v0.4.51
	gregor-e2e/driver v0.0.0
)

require (
	github.com/klauspost/compress v1.15.9 // indirect
	github.com/pierrec/lz4/v4 v4.1.15 // indirect
)

// The shared JSON-line plumbing of the GOPATH drivers, from this repository.
replace gregor-e2e/driver => ../../go/driver
