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
