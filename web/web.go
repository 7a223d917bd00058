// Package web holds the files the service serves to browsers, embedded in
// the binary: the API docs pages, the monitoring web console and the vendored
// front-end assets they use (see vendor/VERSIONS and vendor/update.sh for
// where those come from).
package web

import "embed"

// Docs holds the Swagger UI and ReDoc pages (docs/) and the vendored
// assets they load (vendor/), with their licence files.
//
//go:embed docs vendor/swagger-ui-dist vendor/redoc vendor/VERSIONS
var Docs embed.FS

// Console holds the web console served at /painel: its page, stylesheet and
// script (console/index.html, console/painel.css, console/painel.js) and the
// vendored uPlot chart library it loads (vendor/uplot/uPlot.iife.min.js,
// vendor/uplot/uPlot.min.css, with its LICENSE). The page is served from
// console/index.html at /painel and the FS as a whole under /painel/assets/,
// so the page's asset URLs are /painel/assets/console/… and
// /painel/assets/vendor/uplot/…. Everything it loads is in here: it works
// under a CSP with script-src and style-src 'self' and no inline code.
//
//go:embed console vendor/uplot
var Console embed.FS
