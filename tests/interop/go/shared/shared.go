// Package shared holds what Hector's host and its plugins agree on: the go-plugin
// handshake and the three plugin kinds, each a gRPC service from proto/.
package shared

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "hectornb/interop/proto"
)

// Handshake is Hector's: core protocol 1 is go-plugin's own, app protocol 1 and the cookie are Hector's.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HECTOR_PLUGIN",
	MagicCookieValue: "hector_plugin_v1",
}

// Lifecycle answers the lifecycle calls every Hector provider service has, as Hector's example plugins
// do: Shutdown and Health succeed, GetStatus says "ready", and GetManifest is empty (as Hector's SDK: the
// host keeps the .plugin.yaml). A plugin gets it, and "unimplemented" for calls it leaves out, by
// embedding LLMBase, DatabaseBase or EmbedderBase; Initialize each plugin answers itself.
type Lifecycle struct{}

func (Lifecycle) Shutdown(context.Context, *pb.ShutdownRequest) (*pb.ShutdownResponse, error) {
	return &pb.ShutdownResponse{Success: true}, nil
}

func (Lifecycle) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Healthy: true, Message: "ok"}, nil
}

func (Lifecycle) GetManifest(context.Context, *pb.ManifestRequest) (*pb.ManifestResponse, error) {
	return &pb.ManifestResponse{}, nil
}

func (Lifecycle) GetStatus(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return &pb.StatusResponse{Status: "ready"}, nil
}

// The bases hold each Unimplemented…Server one level below Lifecycle: at the same depth, the two
// methods of one name would be ambiguous and neither would serve.
type (
	unimplementedLLM struct {
		pb.UnimplementedLLMProviderServer
	}
	unimplementedDatabase struct {
		pb.UnimplementedDatabaseProviderServer
	}
	unimplementedEmbedder struct {
		pb.UnimplementedEmbedderProviderServer
	}
)

// LLMBase is what an LLM plugin embeds: Lifecycle, and "unimplemented" for the rest.
type LLMBase struct {
	Lifecycle
	unimplementedLLM
}

// DatabaseBase is what a database plugin embeds: Lifecycle, and "unimplemented" for the rest.
type DatabaseBase struct {
	Lifecycle
	unimplementedDatabase
}

// EmbedderBase is what an embedder plugin embeds: Lifecycle, and "unimplemented" for the rest.
type EmbedderBase struct {
	Lifecycle
	unimplementedEmbedder
}

// LLMPlugin serves or dispenses hector.plugin.LLMProvider.
type LLMPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pb.LLMProviderServer
}

func (p *LLMPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterLLMProviderServer(s, p.Impl)
	return nil
}

func (p *LLMPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewLLMProviderClient(c), nil
}

// DatabasePlugin serves or dispenses hector.plugin.DatabaseProvider.
type DatabasePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pb.DatabaseProviderServer
}

func (p *DatabasePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterDatabaseProviderServer(s, p.Impl)
	return nil
}

func (p *DatabasePlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewDatabaseProviderClient(c), nil
}

// EmbedderPlugin serves or dispenses hector.plugin.EmbedderProvider.
type EmbedderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pb.EmbedderProviderServer
}

func (p *EmbedderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterEmbedderProviderServer(s, p.Impl)
	return nil
}

func (p *EmbedderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewEmbedderProviderClient(c), nil
}

// PluginSet is the dispense map of Hector's host.
func PluginSet() map[string]plugin.Plugin {
	return map[string]plugin.Plugin{
		"llm_provider":      &LLMPlugin{},
		"database_provider": &DatabasePlugin{},
		"embedder_provider": &EmbedderPlugin{},
	}
}
