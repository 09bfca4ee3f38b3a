// Command memdb is a Go in-memory vector database plugin with cosine similarity.
package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/hashicorp/go-plugin"

	"hectornb/interop/proto"
	"hectornb/interop/shared"
)

type entry struct {
	vector   []float32
	metadata map[string]string
}

type memdb struct {
	shared.DatabaseBase
	mu          sync.Mutex
	collections map[string]map[string]entry
}

func (m *memdb) Initialize(context.Context, *proto.InitializeRequest) (*proto.InitializeResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.collections = map[string]map[string]entry{}
	return &proto.InitializeResponse{Success: true}, nil
}

func (m *memdb) CreateCollection(_ context.Context, req *proto.CreateCollectionRequest) (*proto.CreateCollectionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Creating an existing collection keeps its vectors, so a host that re-creates on reload loses nothing.
	if _, ok := m.collections[req.Collection]; !ok {
		m.collections[req.Collection] = map[string]entry{}
	}
	return &proto.CreateCollectionResponse{Success: true}, nil
}

func (m *memdb) DeleteCollection(_ context.Context, req *proto.DeleteCollectionRequest) (*proto.DeleteCollectionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.collections[req.Collection]; !ok {
		return &proto.DeleteCollectionResponse{Error: missing(req.Collection)}, nil
	}
	delete(m.collections, req.Collection)
	return &proto.DeleteCollectionResponse{Success: true}, nil
}

func missing(collection string) string { return fmt.Sprintf("collection %q not found", collection) }

func (m *memdb) Upsert(_ context.Context, req *proto.UpsertRequest) (*proto.UpsertResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.collections[req.Collection]
	if !ok {
		return &proto.UpsertResponse{Error: missing(req.Collection)}, nil
	}
	c[req.Id] = entry{vector: req.Vector, metadata: req.Metadata}
	return &proto.UpsertResponse{Success: true}, nil
}

func (m *memdb) Delete(_ context.Context, req *proto.DeleteRequest) (*proto.DeleteResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.collections[req.Collection]
	if !ok {
		return &proto.DeleteResponse{Error: missing(req.Collection)}, nil
	}
	delete(c, req.Id)
	return &proto.DeleteResponse{Success: true}, nil
}

func cosine(a, b []float32) float32 {
	var dot, na, nb float64
	for i := range a {
		if i >= len(b) {
			break
		}
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / (math.Sqrt(na) * math.Sqrt(nb)))
}

func (m *memdb) Search(_ context.Context, req *proto.SearchRequest) (*proto.SearchResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.collections[req.Collection]
	if !ok {
		return &proto.SearchResponse{Error: missing(req.Collection)}, nil
	}
	results := make([]*proto.SearchResult, 0, len(c))
	for id, e := range c {
		results = append(results, &proto.SearchResult{
			Id: id, Score: cosine(e.vector, req.Vector), Metadata: e.metadata, Content: e.metadata["text"],
		})
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Score > results[j].Score })
	// top_k <= 0 means no limit; a negative bound would panic in the slice below.
	if req.TopK > 0 && int(req.TopK) < len(results) {
		results = results[:req.TopK]
	}
	return &proto.SearchResponse{Results: results}, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		// Ready before Initialize: a nil map would panic in a handler, and gRPC-Go does not recover panics.
		Plugins: map[string]plugin.Plugin{
			"database_provider": &shared.DatabasePlugin{Impl: &memdb{collections: map[string]map[string]entry{}}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
