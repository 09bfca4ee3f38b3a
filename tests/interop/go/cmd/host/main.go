// Command host loads one plugin the way Hector does (go-plugin, gRPC, Hector's handshake),
// drives every RPC of its service, kills it, and prints what it saw as JSON lines on stdout.
//
//	host -plugin PATH -type llm_provider|database_provider|embedder_provider
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
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
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

func driveLLM(ctx context.Context, c pb.LLMProviderClient) {
	r1, err := c.Initialize(ctx, &pb.InitializeRequest{Config: map[string]string{"prefix": "go: "}})
	report("Initialize", r1, err)
	r2, err := c.Health(ctx, &pb.HealthRequest{})
	report("Health", r2, err)
	r3, err := c.GetManifest(ctx, &pb.ManifestRequest{})
	report("GetManifest", r3, err)
	r4, err := c.GetStatus(ctx, &pb.StatusRequest{})
	report("GetStatus", r4, err)
	user := func(text string) []*pb.Message { return []*pb.Message{{Role: "user", Content: text}} }
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
	if errors.Is(err, io.EOF) {
		err = nil
	}
	out.Encode(map[string]any{"rpc": "GenerateStreaming", "ok": err == nil, "chunks": chunks, "error": fmt.Sprint(err)})
	r7, err := c.GetModelInfo(ctx, &pb.Empty{})
	report("GetModelInfo", r7, err)
	r8, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", r8, err)
}

func driveDatabase(ctx context.Context, c pb.DatabaseProviderClient) {
	r1, err := c.Initialize(ctx, &pb.InitializeRequest{Config: map[string]string{"metric": "cosine"}})
	report("Initialize", r1, err)
	r2, err := c.Health(ctx, &pb.HealthRequest{})
	report("Health", r2, err)
	r3, err := c.GetManifest(ctx, &pb.ManifestRequest{})
	report("GetManifest", r3, err)
	r4, err := c.GetStatus(ctx, &pb.StatusRequest{})
	report("GetStatus", r4, err)
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
	r1, err := c.Initialize(ctx, &pb.InitializeRequest{Config: map[string]string{"dimension": "8"}})
	report("Initialize", r1, err)
	r2, err := c.Health(ctx, &pb.HealthRequest{})
	report("Health", r2, err)
	r3, err := c.GetManifest(ctx, &pb.ManifestRequest{})
	report("GetManifest", r3, err)
	r4, err := c.GetStatus(ctx, &pb.StatusRequest{})
	report("GetStatus", r4, err)
	r5, err := c.Embed(ctx, &pb.EmbedRequest{Text: "abc"})
	report("Embed", r5, err)
	r6, err := c.GetEmbedderInfo(ctx, &pb.Empty{})
	report("GetEmbedderInfo", r6, err)
	r7, err := c.Shutdown(ctx, &pb.ShutdownRequest{})
	report("Shutdown", r7, err)
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil && !zombie(pid)
}

func zombie(pid int) bool {
	var ws syscall.WaitStatus
	got, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	return got == pid
}

func main() {
	path := flag.String("plugin", "", "plugin executable")
	kind := flag.String("type", "llm_provider", "llm_provider, database_provider or embedder_provider")
	flag.Parse()

	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          shared.PluginSet(),
		Cmd:              exec.Command(*path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SyncStdout:       stdout,
		SyncStderr:       stderr,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "host", Output: os.Stderr, Level: hclog.Debug}),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start failed:", err)
		os.Exit(1)
	}
	raw, err := rpc.Dispense(*kind)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispense failed:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch c := raw.(type) {
	case pb.LLMProviderClient:
		driveLLM(ctx, c)
	case pb.DatabaseProviderClient:
		driveDatabase(ctx, c)
	case pb.EmbedderProviderClient:
		driveEmbedder(ctx, c)
	}
	pid := client.ReattachConfig().Pid
	client.Kill() // go-plugin's graceful path: GRPCController.Shutdown, a wait, then a kill
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out.Encode(map[string]any{"rpc": "exit", "pid": pid, "alive": alive(pid),
		"stdout": stdout.String(), "stderr": stderr.String()})
}
