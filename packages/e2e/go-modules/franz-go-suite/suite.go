// Package suite pins franz-go for the end-to-end test that runs franz-go's own kgo integration
// tests against Gregor (packages/e2e/src/franz-go-suite.test.ts); it has no code of its own.
package suite

import _ "github.com/twmb/franz-go/pkg/kgo"
