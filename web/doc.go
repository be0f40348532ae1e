// Package web serves the operator's usage chart: one static page, a script and a style
// sheet, embedded in the binary with go:embed, so the query service needs no build step and
// no files beside it. The page is a client of the public API only: it calls
// GET /v2/{project_id}/stats/record with the X-Auth-Token header the operator types in, draws
// the hourly peaks as an SVG bar chart and lists them in a table (see docs/chart.md).
//
// The assets are served with explicit content types, X-Content-Type-Options: nosniff and a
// strict Content-Security-Policy that allows only the page's own files: no inline script or
// style, no other origin. The token never goes into the address bar (its input has no name,
// and the page keeps only the project, domain and range in the URL fragment); at most it is
// kept in the tab's sessionStorage, which the browser clears when the tab closes.
package web
