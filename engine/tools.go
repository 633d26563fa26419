//go:build tools

// Package engine pins the Pulumi CLI this project tests against. Nothing here
// is compiled into the npm package: `npm run engine` builds the `pulumi`
// command from the versions recorded in go.mod and go.sum.
package engine

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
