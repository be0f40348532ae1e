// Package sdktest checks that the official Huawei Cloud Go SDK (huaweicloud-sdk-go-v3,
// services/live/v2) works unchanged against the query service: AK/SK signing, the response
// model, and error codes, over HTTPS with a certificate of a CA made for the test and served by
// the same server as cmd/query (internal/ops), the SDK verifying it for real. It also checks
// that a signed request sent twice within one second is answered twice, as at the gateway. It
// is a separate module so that the SDK, which is large, is never a
// dependency of the product.
//
// Run it with: cd sdktest && go test ./...
package sdktest
