// Package sdktest checks that the official Huawei Cloud Go SDK (huaweicloud-sdk-go-v3,
// services/live/v2) works unchanged against the query service: AK/SK signing, the response
// model, and error codes. It is a separate module so that the SDK, which is large, is never a
// dependency of the product.
//
// Run it with: cd sdktest && go test ./...
package sdktest
