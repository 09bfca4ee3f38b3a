// Command bridgeclient talks to hector_nb's bridge with the official Go OpenAI client (the Responses API, as
// Hector's openai LLM does): a streamed tool call, the tool's result sent back under its call_id, and a
// streamed text. It prints one JSON object of what it read.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

type call struct {
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type report struct {
	ToolEvents   []string `json:"tool_events"`
	Calls        []call   `json:"calls"`
	AfterTool    string   `json:"after_tool"`
	Streamed     string   `json:"streamed"`
	StreamStatus string   `json:"stream_status"`
	FailedStream string   `json:"failed_stream"`
	Failed       string   `json:"failed"`
}

func input(text string) responses.ResponseNewParamsInputUnion {
	return responses.ResponseNewParamsInputUnion{OfString: openai.String(text)}
}

func main() {
	baseURL := flag.String("base-url", "", "the bridge's OpenAI base URL (ending in /v1)")
	model := flag.String("model", "", "the served model")
	flag.Parse()
	client := openai.NewClient(option.WithBaseURL(*baseURL), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()
	tools := []responses.ToolUnionParam{responses.ToolParamOfFunction("lookup", map[string]any{
		"type": "object", "properties": map[string]any{"asked": map[string]any{"type": "string"}},
	}, false)}
	out := report{}

	// 1. A streamed answer that calls the tool.
	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: *model, Input: input("Find cats"), Tools: tools})
	for stream.Next() {
		event := stream.Current()
		out.ToolEvents = append(out.ToolEvents, event.Type)
		if event.Type == "response.output_item.done" && event.Item.Type == "function_call" {
			fc := event.Item.AsFunctionCall()
			out.Calls = append(out.Calls, call{fc.CallID, fc.Name, fc.Arguments})
		}
	}
	if err := stream.Err(); err != nil {
		fail(err)
	}
	if len(out.Calls) != 1 {
		fail(fmt.Errorf("expected one tool call, read %d", len(out.Calls)))
	}

	// 2. The tool's result, sent back with the call it answers.
	first := out.Calls[0]
	answer, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: *model, Tools: tools,
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Find cats", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfFunctionCall(first.Arguments, first.CallID, first.Name),
			functionCallOutput(first.CallID, "cats purr"),
		}}})
	if err != nil {
		fail(err)
	}
	out.AfterTool = answer.OutputText()

	// 3. A streamed text, read from its deltas, and the final status.
	texts := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: *model, Input: input("stream 4")})
	for texts.Next() {
		event := texts.Current()
		switch event.Type {
		case "response.output_text.delta":
			out.Streamed += event.Delta
		case "response.completed":
			out.StreamStatus = string(event.Response.Status)
		}
	}
	if err := texts.Err(); err != nil {
		fail(err)
	}

	// 4. A provider failing before its stream, and before its unary answer: the client reports the HTTP error.
	failing := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: *model, Input: input("fail")})
	for failing.Next() {
	}
	out.FailedStream = apiError(failing.Err())
	_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: *model, Input: input("fail")})
	out.Failed = apiError(err)

	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

// apiError is the status and the message of an API error as the client parsed them.
func apiError(err error) string {
	var failure *openai.Error
	if !errors.As(err, &failure) {
		return fmt.Sprint(err)
	}
	return fmt.Sprintf("%d %s", failure.StatusCode, failure.Message)
}

func functionCallOutput(callID string, output string) responses.ResponseInputItemUnionParam {
	item := responses.ResponseInputItemParamOfFunctionCallOutput(output)
	item.OfFunctionCallOutput.CallID = openai.String(callID)
	return item
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bridgeclient:", err)
	os.Exit(1)
}
