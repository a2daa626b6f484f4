// Package driver is the plumbing shared by the Go client drivers of the end-to-end tests.
//
// A driver runs as `<binary> <command> '<json parameters>'`, prints one JSON object per line on
// stdout (each with an "event" field) and stops when the line "stop" arrives on stdin or stdin
// closes, so a crashed test never leaves a driver behind. A failing command prints a "fatal"
// event and exits 1.
package driver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Fields are the values of one event besides its name.
type Fields map[string]interface{}

// Command runs one driver command; ctx ends when the test asks the driver to stop.
type Command func(ctx context.Context, parameters json.RawMessage) error

var emitLock sync.Mutex

// Typed adapts a command that takes its parameters decoded from JSON into `P`.
func Typed[P any](command func(ctx context.Context, parameters P) error) Command {
	return func(ctx context.Context, raw json.RawMessage) error {
		var parameters P
		if err := json.Unmarshal(raw, &parameters); err != nil {
			return fmt.Errorf("parameters: %w", err)
		}
		return command(ctx, parameters)
	}
}

// Emit prints one event as a JSON line.
func Emit(event string, fields Fields) {
	line := Fields{"event": event}
	for name, value := range fields {
		line[name] = value
	}
	encoded, err := json.Marshal(line)
	if err != nil {
		encoded = []byte(fmt.Sprintf(`{"event":"fatal","message":%q}`, err.Error()))
	}
	emitLock.Lock()
	defer emitLock.Unlock()
	os.Stdout.Write(append(encoded, '\n'))
}

// Text is a record key or value as the tests compare it: UTF-8 text, or null when absent.
func Text(data []byte) interface{} {
	if data == nil {
		return nil
	}
	return string(data)
}

// EmitModuleVersion reports, as a "version" event, the version of the module `modulePath` that
// this binary was built with (from its build info: module builds only).
func EmitModuleVersion(modulePath string) error {
	info, found := debug.ReadBuildInfo()
	if !found {
		return fmt.Errorf("no build info")
	}
	for _, module := range info.Deps {
		if module.Path == modulePath {
			Emit("version", Fields{"module": module.Path, "version": module.Version, "go": info.GoVersion})
			return nil
		}
	}
	return fmt.Errorf("%s not among the build's modules", modulePath)
}

// Deadline is `seconds` from now, or `fallbackSeconds` when `seconds` is not positive.
func Deadline(seconds float64, fallbackSeconds float64) time.Time {
	if seconds <= 0 {
		seconds = fallbackSeconds
	}
	return time.Now().Add(time.Duration(seconds * float64(time.Second)))
}

func watchInput(cancel context.CancelFunc) {
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		if strings.TrimSpace(scanner.Text()) == "stop" {
			break
		}
	}
	cancel()
}

// Run parses the command line, runs the named command and exits (0 on success, 1 on failure).
func Run(commands map[string]Command) {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: <driver> <command> '<json parameters>'")
		os.Exit(2)
	}
	command, found := commands[os.Args[1]]
	if !found {
		fmt.Fprintf(os.Stderr, "unknown command %s\n", os.Args[1])
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go watchInput(cancel)
	if err := command(ctx, json.RawMessage(os.Args[2])); err != nil {
		Emit("fatal", Fields{"message": err.Error()})
		os.Exit(1)
	}
	os.Exit(0)
}
