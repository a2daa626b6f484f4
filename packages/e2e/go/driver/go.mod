// The module form of the shared driver plumbing, used by the Go-module drivers in ../../go-modules
// through a replace directive; the GOPATH builds (GO111MODULE=off) ignore this file.
module gregor-e2e/driver

go 1.18
