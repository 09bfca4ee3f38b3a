// Command echollm is a Go LLM plugin, built as Hector's own example plugins are.
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-plugin"

	"hectornb/interop/proto"
	"hectornb/interop/shared"
)

type echo struct {
	shared.LLMBase
	prefix string
}

func (e *echo) Initialize(_ context.Context, req *proto.InitializeRequest) (*proto.InitializeResponse, error) {
	e.prefix = "Echo: "
	if p, ok := req.Config["prefix"]; ok {
		e.prefix = p
	}
	return &proto.InitializeResponse{Success: true}, nil
}

func last(req *proto.GenerateRequest) string {
	if len(req.Messages) == 0 {
		return ""
	}
	return req.Messages[len(req.Messages)-1].Content
}

func (e *echo) Generate(_ context.Context, req *proto.GenerateRequest) (*proto.GenerateResponse, error) {
	text := last(req)
	if text == "fail" {
		return nil, errors.New("echo: asked to fail")
	}
	if text == "fail at length" { // an error of a megabyte: gRPC carries it in a status trailer
		return nil, errors.New("echo: " + strings.Repeat("long ", 200_000))
	}
	return &proto.GenerateResponse{Text: e.prefix + text, TokensUsed: int32(len(strings.Fields(text)))}, nil
}

func (e *echo) GenerateStreaming(req *proto.GenerateRequest, stream proto.LLMProvider_GenerateStreamingServer) error {
	words := strings.Fields(last(req))
	for i, word := range words {
		if i < len(words)-1 {
			word += " "
		}
		if err := stream.Send(&proto.StreamChunk{Type: proto.StreamChunk_TEXT, Text: word}); err != nil {
			return err
		}
	}
	if len(req.Tools) > 0 {
		call := &proto.ToolCall{Id: "call-1", Name: req.Tools[0].Name, ArgumentsJson: "{}"}
		if err := stream.Send(&proto.StreamChunk{Type: proto.StreamChunk_TOOL_CALL, ToolCall: call}); err != nil {
			return err
		}
	}
	return stream.Send(&proto.StreamChunk{Type: proto.StreamChunk_DONE, TokensUsed: int32(len(words))})
}

func (e *echo) GetModelInfo(context.Context, *proto.Empty) (*proto.ModelInfo, error) {
	return &proto.ModelInfo{ModelName: "go-echo", MaxTokens: 1024, Temperature: 0.5}, nil
}

func main() {
	// Hector's example plugin prints before it serves; a host must skip this line.
	fmt.Println("Starting Go echo plugin")
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         map[string]plugin.Plugin{"llm_provider": &shared.LLMPlugin{Impl: &echo{}}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
