// Package web holds the files the service serves to browsers, embedded in
// the binary: the API docs pages and the vendored front-end assets they use
// (see vendor/VERSIONS and vendor/update.sh for where those come from).
package web

import "embed"

// Docs holds the Swagger UI and ReDoc pages (docs/) and the vendored
// assets they load (vendor/), with their licence files.
//
//go:embed docs vendor/swagger-ui-dist vendor/redoc vendor/VERSIONS
var Docs embed.FS
