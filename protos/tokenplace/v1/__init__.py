"""The wire contract between gateway, relay and node: protobuf messages and gRPC
services generated from the .proto files beside them (`make protos`)."""
