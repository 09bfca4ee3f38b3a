package main

// What real Hector sends (CONTRACT section 5), driven from a calls file that hector_nb writes
// (hector_nb/hector.py is the one place that knows the requests): an agent's streaming and
// unary requests with Hector's roles and tool list, then a tool's result as an empty ROLE_AGENT
// turn; a document store's upserts without CreateCollection and its doubled top_k search,
// filtered on metadata, cut at the store's score threshold and to the hits needed here, as
// Hector does; one Embed call per text.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protojson"
	gproto "google.golang.org/protobuf/proto"

	pb "hectornb/interop/proto"
)

// hectorCalls is the calls file: requests in protojson, plus what Hector does around them.
type hectorCalls struct {
	Config   map[string]string `json:"config"`
	Generate json.RawMessage   `json:"generate"`
	Upserts  []json.RawMessage `json:"upserts"`
	Search   json.RawMessage   `json:"search"`
	Hits     int32             `json:"hits"`
	Filter   map[string]string `json:"filter"`
	// Threshold is the store's search.threshold; Hector's default, 0.5, when absent.
	Threshold *float32 `json:"threshold"`
	Embed     []string `json:"embed"`
}

func readCalls(path string) (*hectorCalls, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	calls := &hectorCalls{}
	return calls, json.Unmarshal(data, calls)
}

func unmarshal(raw json.RawMessage, m gproto.Message) {
	if err := protojson.Unmarshal(raw, m); err != nil {
		panic(err)
	}
}

// agentLLM drives an LLM plugin the way Hector's agent does.
func agentLLM(ctx context.Context, c pb.LLMProviderClient, calls *hectorCalls) {
	driveLifecycle(ctx, c, calls.Config)
	request := &pb.GenerateRequest{}
	unmarshal(calls.Generate, request)

	// Streaming (an agent's default): Hector's bridge keeps text and drops TOOL_CALL chunks.
	chunks, err := c.GenerateStreaming(ctx, request)
	text, dropped := "", 0
	for err == nil {
		var chunk *pb.StreamChunk
		if chunk, err = chunks.Recv(); err == nil {
			switch chunk.Type {
			case pb.StreamChunk_TEXT:
				text += chunk.Text
			case pb.StreamChunk_TOOL_CALL:
				dropped++
			}
		}
	}
	out.Encode(map[string]any{"rpc": "AgentStream", "ok": errors.Is(err, io.EOF), "text": text,
		"dropped_tool_calls": dropped})

	// Unary (reasoning.enable_streaming: false): the only way tool calls reach an agent.
	reply, err := c.Generate(ctx, request)
	report("AgentGenerate", reply, err)
	if err == nil && len(reply.ToolCalls) > 0 {
		// The tool's result comes back as a ROLE_AGENT turn with empty content, no tool_call fields.
		request.Messages = append(request.Messages, &pb.Message{Role: "ROLE_AGENT", Content: ""})
		followUp, err := c.Generate(ctx, request)
		report("AgentToolResult", followUp, err)
	}
	bye, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", bye, err)
}

// documentStore drives a database plugin the way Hector's document store does.
func documentStore(ctx context.Context, c pb.DatabaseProviderClient, calls *hectorCalls) {
	driveLifecycle(ctx, c, calls.Config)
	written, failures := 0, []string{}
	for _, raw := range calls.Upserts { // no CreateCollection first
		request := &pb.UpsertRequest{}
		unmarshal(raw, request)
		reply, err := c.Upsert(ctx, request)
		switch {
		case err != nil:
			failures = append(failures, err.Error())
		case !reply.Success:
			failures = append(failures, reply.Error)
		default:
			written++
		}
	}
	out.Encode(map[string]any{"rpc": "DocumentUpserts", "ok": len(failures) == 0, "written": written,
		"failures": failures})

	search := &pb.SearchRequest{}
	unmarshal(calls.Search, search)
	search.TopK = 2 * calls.Hits // twice the hits needed, then filtered here
	reply, err := c.Search(ctx, search)
	if err != nil || reply.Error != "" {
		report("DocumentSearch", reply, err)
	} else {
		threshold := float32(0.5)
		if calls.Threshold != nil {
			threshold = *calls.Threshold
		}
		hits := []map[string]any{}
		for _, result := range reply.Results {
			if len(hits) == int(calls.Hits) {
				break
			}
			if matches(result.Metadata, calls.Filter) && result.Score >= threshold {
				// include_context reads SearchResult.content; the agents' search tool metadata["content"].
				hits = append(hits, map[string]any{"id": result.Id, "score": result.Score, "content": result.Content,
					"search_tool_text": result.Metadata["content"]})
			}
		}
		out.Encode(map[string]any{"rpc": "DocumentSearch", "ok": true, "asked_top_k": search.TopK,
			"returned": len(reply.Results), "hits": hits})
	}
	bye, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", bye, err)
}

func matches(metadata, filter map[string]string) bool {
	for key, value := range filter {
		if metadata[key] != value { // string equality, as Hector filters
			return false
		}
	}
	return true
}

// documentEmbedder drives an embedder plugin the way Hector's document store does: one text per call.
func documentEmbedder(ctx context.Context, c pb.EmbedderProviderClient, calls *hectorCalls) {
	driveLifecycle(ctx, c, calls.Config)
	dimensions := []int{}
	for _, text := range calls.Embed {
		reply, err := c.Embed(ctx, &pb.EmbedRequest{Text: text})
		if err != nil || reply.Error != "" {
			report("DocumentEmbed", reply, err)
			continue
		}
		dimensions = append(dimensions, len(reply.Vector))
	}
	out.Encode(map[string]any{"rpc": "DocumentEmbeds", "ok": true, "dimensions": dimensions})
	bye, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", bye, err)
}
