// Command noisyembedder is a Go embedder plugin that works in every call but prints a line on stdout
// before its handshake, as many plugins do while they load a model. go-plugin's host (Hector) refuses
// it ("Unrecognized remote plugin message"); hector_nb's conformance check must say so.
package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/hashicorp/go-plugin"

	"hectornb/interop/proto"
	"hectornb/interop/shared"
)

const dimension = 16

type noisy struct {
	shared.EmbedderBase
}

func (n *noisy) Initialize(context.Context, *proto.InitializeRequest) (*proto.InitializeResponse, error) {
	return &proto.InitializeResponse{Success: true}, nil
}

// Embed hashes each rune into one of the buckets: deterministic, any Unicode text, zeros for "".
func (n *noisy) Embed(_ context.Context, req *proto.EmbedRequest) (*proto.EmbedResponse, error) {
	vector := make([]float32, dimension)
	var norm float64
	for _, r := range req.Text {
		h := fnv.New32a()
		h.Write([]byte(string(r)))
		vector[h.Sum32()%dimension]++
	}
	for _, v := range vector {
		norm += float64(v) * float64(v)
	}
	if norm > 0 {
		for i := range vector {
			vector[i] = float32(float64(vector[i]) / math.Sqrt(norm))
		}
	}
	return &proto.EmbedResponse{Vector: vector}, nil
}

func (n *noisy) GetEmbedderInfo(context.Context, *proto.Empty) (*proto.EmbedderInfo, error) {
	return &proto.EmbedderInfo{ModelName: "go-rune-hash", Dimension: dimension}, nil
}

func main() {
	fmt.Println("loading embedding model...") // the fault: stdout before the handshake
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         map[string]plugin.Plugin{"embedder_provider": &shared.EmbedderPlugin{Impl: &noisy{}}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
