// Command host loads one plugin the way Hector does (go-plugin, gRPC, Hector's handshake),
// drives every RPC of its service, kills it, and prints what it saw as JSON lines on stdout.
//
//	host -plugin PATH -type llm_provider|database_provider|embedder_provider [-calls FILE]
//
// With -calls, it sends what real Hector sends instead (hector.go): the requests come from FILE.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	gproto "google.golang.org/protobuf/proto"

	pb "hectornb/interop/proto"
	"hectornb/interop/shared"
)

// syncBuffer collects what the plugin sends over GRPCStdio, written from go-plugin's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var out = json.NewEncoder(os.Stdout)

func marshal(m gproto.Message) json.RawMessage {
	data, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

// report prints one RPC's outcome: its response, or its gRPC status code and message.
func report(rpc string, response gproto.Message, err error) {
	if err != nil {
		st, _ := status.FromError(err)
		out.Encode(map[string]any{"rpc": rpc, "ok": false, "code": st.Code().String(), "error": st.Message()})
		return
	}
	out.Encode(map[string]any{"rpc": rpc, "ok": true, "response": marshal(response)})
}

// lifecycle is what the three provider clients share: the contract's first five RPCs (Shutdown comes last).
type lifecycle interface {
	Initialize(context.Context, *pb.InitializeRequest, ...grpc.CallOption) (*pb.InitializeResponse, error)
	Health(context.Context, *pb.HealthRequest, ...grpc.CallOption) (*pb.HealthResponse, error)
	GetManifest(context.Context, *pb.ManifestRequest, ...grpc.CallOption) (*pb.ManifestResponse, error)
	GetStatus(context.Context, *pb.StatusRequest, ...grpc.CallOption) (*pb.StatusResponse, error)
}

func driveLifecycle(ctx context.Context, c lifecycle, config map[string]string) {
	initialized, err := c.Initialize(ctx, &pb.InitializeRequest{Config: config})
	report("Initialize", initialized, err)
	health, err := c.Health(ctx, &pb.HealthRequest{})
	report("Health", health, err)
	manifest, err := c.GetManifest(ctx, &pb.ManifestRequest{})
	report("GetManifest", manifest, err)
	state, err := c.GetStatus(ctx, &pb.StatusRequest{})
	report("GetStatus", state, err)
}

func driveLLM(ctx context.Context, c pb.LLMProviderClient) {
	driveLifecycle(ctx, c, map[string]string{"prefix": "go: "})
	// Hector's agents name the user's turn ROLE_USER (the A2A enum), never "user".
	user := func(text string) []*pb.Message { return []*pb.Message{{Role: "ROLE_USER", Content: text}} }
	r5, err := c.Generate(ctx, &pb.GenerateRequest{Messages: user("hello from go")})
	report("Generate", r5, err)
	r6, err := c.Generate(ctx, &pb.GenerateRequest{Messages: user("fail")})
	report("GenerateFail", r6, err)
	stream, err := c.GenerateStreaming(ctx, &pb.GenerateRequest{
		Messages: user("one two three"),
		Tools:    []*pb.ToolDefinition{{Name: "lookup", Description: "finds things", ParametersJson: "{}"}},
	})
	chunks := []json.RawMessage{}
	for err == nil {
		var chunk *pb.StreamChunk
		if chunk, err = stream.Recv(); err == nil {
			chunks = append(chunks, marshal(chunk))
		}
	}
	record := map[string]any{"rpc": "GenerateStreaming", "ok": true, "chunks": chunks}
	if !errors.Is(err, io.EOF) {
		st, _ := status.FromError(err)
		record["ok"], record["code"], record["error"] = false, st.Code().String(), st.Message()
	}
	out.Encode(record)
	r7, err := c.GetModelInfo(ctx, &pb.Empty{})
	report("GetModelInfo", r7, err)
	r8, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", r8, err)
}

func driveDatabase(ctx context.Context, c pb.DatabaseProviderClient) {
	driveLifecycle(ctx, c, map[string]string{"metric": "cosine"})
	r5, err := c.CreateCollection(ctx, &pb.CreateCollectionRequest{Collection: "docs", VectorSize: 2})
	report("CreateCollection", r5, err)
	r6, err := c.Upsert(ctx, &pb.UpsertRequest{Collection: "docs", Id: "a", Vector: []float32{1, 0},
		Metadata: map[string]string{"text": "alpha"}})
	report("Upsert", r6, err)
	r7, err := c.Upsert(ctx, &pb.UpsertRequest{Collection: "docs", Id: "b", Vector: []float32{0, 1},
		Metadata: map[string]string{"text": "beta"}})
	report("Upsert", r7, err)
	r8, err := c.Search(ctx, &pb.SearchRequest{Collection: "docs", Vector: []float32{1, 0.1}, TopK: 2})
	report("Search", r8, err)
	r9, err := c.Delete(ctx, &pb.DeleteRequest{Collection: "docs", Id: "a"})
	report("Delete", r9, err)
	r10, err := c.Search(ctx, &pb.SearchRequest{Collection: "docs", Vector: []float32{1, 0.1}, TopK: 2})
	report("SearchAfterDelete", r10, err)
	r11, err := c.Search(ctx, &pb.SearchRequest{Collection: "missing", Vector: []float32{1, 0}, TopK: 1})
	report("SearchMissing", r11, err)
	r12, err := c.DeleteCollection(ctx, &pb.DeleteCollectionRequest{Collection: "docs"})
	report("DeleteCollection", r12, err)
	r13, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", r13, err)
}

func driveEmbedder(ctx context.Context, c pb.EmbedderProviderClient) {
	driveLifecycle(ctx, c, map[string]string{"dimension": "8"})
	r5, err := c.Embed(ctx, &pb.EmbedRequest{Text: "abc"})
	report("Embed", r5, err)
	r6, err := c.GetEmbedderInfo(ctx, &pb.Empty{})
	report("GetEmbedderInfo", r6, err)
	r7, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", r7, err)
}

// forcedKill watches go-plugin's log for its force-kill message. Kill() always ends the process
// (it blocks, then SIGKILLs after ~2 s), so this is the only sign of whether the plugin honoured
// GRPCController.Shutdown on its own.
type forcedKill struct{ atomic.Bool }

func (f *forcedKill) Accept(_ string, _ hclog.Level, msg string, _ ...interface{}) {
	if msg == "plugin failed to exit gracefully" {
		f.Store(true)
	}
}

func main() {
	path := flag.String("plugin", "", "plugin executable")
	kind := flag.String("type", "llm_provider", "llm_provider, database_provider or embedder_provider")
	callsFile := flag.String("calls", "", "a JSON file of Hector's calls (hector_nb writes it); drive those instead")
	flag.Parse()
	var calls *hectorCalls
	if *callsFile != "" {
		var err error
		if calls, err = readCalls(*callsFile); err != nil {
			fmt.Fprintln(os.Stderr, "calls file:", err)
			os.Exit(2)
		}
	}

	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	logger := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "host", Output: os.Stderr, Level: hclog.Debug})
	forced := &forcedKill{}
	logger.RegisterSink(forced)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          shared.PluginSet(),
		Cmd:              exec.Command(*path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SyncStdout:       stdout,
		SyncStderr:       stderr,
		Logger:           logger,
	})
	// os.Exit skips deferred calls, so a failed start must kill the child itself or leave it running.
	fail := func(what string, err error) {
		client.Kill()
		fmt.Fprintln(os.Stderr, what, "failed:", err)
		os.Exit(1)
	}
	rpc, err := client.Client()
	if err != nil {
		fail("start", err)
	}
	raw, err := rpc.Dispense(*kind)
	if err != nil {
		fail("dispense", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch c := raw.(type) {
	case pb.LLMProviderClient:
		if calls != nil {
			agentLLM(ctx, c, calls)
		} else {
			driveLLM(ctx, c)
		}
	case pb.DatabaseProviderClient:
		if calls != nil {
			documentStore(ctx, c, calls)
		} else {
			driveDatabase(ctx, c)
		}
	case pb.EmbedderProviderClient:
		if calls != nil {
			documentEmbedder(ctx, c, calls)
		} else {
			driveEmbedder(ctx, c)
		}
	default:
		fail("dispense", fmt.Errorf("%q gave an unexpected %T", *kind, raw))
	}
	pid := client.ReattachConfig().Pid
	// go-plugin's graceful path: GRPCController.Shutdown, up to 2 s for the exit, then SIGKILL.
	// Kill() returns once go-plugin has reaped the child and drained GRPCStdio.
	client.Kill()
	alive := syscall.Kill(pid, 0) == nil
	out.Encode(map[string]any{"rpc": "exit", "pid": pid, "alive": alive, "graceful": !forced.Load(),
		"stdout": stdout.String(), "stderr": stderr.String()})
}
