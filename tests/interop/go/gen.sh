#!/usr/bin/env bash
# Regenerate the Go stubs in proto/ from the project's proto/ files (the same files the Python stubs
# come from). The protoc plugins are pinned and installed with `go install`; protoc is grpcio-tools'.
# Usage: gen.sh [OUT_DIR]   (default: proto/ beside this script)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export GOBIN="${GOBIN:-$HOME/.cache/hector_nb/gobin}"
go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.10
go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
files=(common.proto llm.proto database.proto embedder.proto)
mappings=""
for f in "${files[@]}"; do mappings="$mappings,M$f=hectornb/interop/proto"; done
out="${1:-$here/proto}"
mkdir -p "$out"
"${PYTHON:-python3}" -m grpc_tools.protoc -I"$root/proto" \
  --plugin=protoc-gen-go="$GOBIN/protoc-gen-go" --plugin=protoc-gen-go-grpc="$GOBIN/protoc-gen-go-grpc" \
  --go_out="$out" --go_opt="paths=source_relative${mappings}" \
  --go-grpc_out="$out" --go-grpc_opt="paths=source_relative${mappings}" \
  "${files[@]}"
