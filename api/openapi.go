package api

import _ "embed"

// OpenAPI is the OpenAPI 3.0.3 document of the service, served at /openapi.yaml. This file's
// directory holds the one source (openapi.yaml); docs/openapi.yaml is a copy that a test keeps
// identical.
//
//go:embed openapi.yaml
var OpenAPI []byte
