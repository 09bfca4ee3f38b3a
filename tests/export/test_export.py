"""Export from notebook cells, then load the result as Hector would."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from IPython.core.error import UsageError
from plugin_process import wait_until

import hector_nb
from hector_nb import Session, sdk
from hector_nb.errors import ExportError, ProviderError, WrongPluginType
from hector_nb.export import export_provider
from hector_nb.manifest import read_manifest

FAKE_KEY = "sk-test-DO-NOT-LEAK-1234"

HELPER_CELLS = [
    "import math\nimport json\nfrom hector_nb import sdk\nSCALE = 3",
    "def shout(text):\n    return (text.upper() + '!') * SCALE",
    "def unused():\n    return undefined_thing",
]

PROVIDER_CELL = f'''%%hector provider --name loud --set api_key={FAKE_KEY}
class Loud(sdk.LLMProvider):
    version = "2.1.0"
    description = "Shouts"
    config_required = ("api_key",)
    config_optional = ("suffix",)
    config_defaults = {{"suffix": "."}}
    capabilities = {{"function_calling": True}}

    def initialize(self, config):
        self.suffix = config["suffix"]
        self.key_length = len(config["api_key"])

    def generate(self, messages, tools):
        text = shout(messages[-1].content) + self.suffix
        return sdk.GenerateResponse(text=text, tokens_used=math.floor(self.key_length))

    def generate_streaming(self, messages, tools):
        for word in messages[-1].content.split():
            yield shout(word) + " "

    def get_model_info(self):
        return sdk.ModelInfo(model_name=json.dumps({{"scale": SCALE}}), max_tokens=SCALE)
'''


def test_export_carries_helpers_from_other_cells_and_runs(notebook, tmp_path):
    for cell in HELPER_CELLS:
        notebook(cell)
    notebook(PROVIDER_CELL)
    result = notebook(f'%hector export loud --out {tmp_path} --author "Ada" --requirement requests')
    assert result.executable == tmp_path / "loud" and result.executable.stat().st_mode & 0o111
    # The kernel's own Python, which has the provider's packages (Hector's PATH may not lead to it).
    assert result.executable.read_text().startswith(f"#!{sys.executable}\n")
    source = result.source.read_text()
    assert "def shout(text)" in source and "SCALE = 3" in source and "import math" in source
    assert "def unused" not in source and "from _hector_runtime import sdk" in source
    manifest = read_manifest(result.executable)  # Hector's rules
    assert (manifest.name, manifest.version, manifest.author, manifest.type) == ("loud", "2.1.0", "Ada",
                                                                                 "llm_provider")
    assert manifest.config_required == ["api_key"] and manifest.config_defaults == {"suffix": "."}
    assert manifest.capabilities == {"streaming": True, "function_calling": True}
    assert result.requirements.read_text().split() == [
        "grpcio>=1.85.1", "grpcio-health-checking>=1.85.1", "protobuf<8,>=7.35.1", "requests"]
    with Session(timeout=30) as session:
        llm = session.load(result.executable, config={"api_key": "abcd"})
        assert llm.transport == "subprocess"
        assert llm.generate("hi") == sdk.GenerateResponse(text="HI!HI!HI!.", tokens_used=4)
        assert [c.text for c in llm.stream("a b")] == ["A!A!A! ", "B!B!B! ", ""]
        assert llm.model_info() == sdk.ModelInfo(model_name='{"scale": 3}', max_tokens=3)
        assert llm.health().healthy and llm.remote_status() == "ready"
        assert llm.manifest.description == "Shouts"


def test_no_secret_leaves_the_notebook(notebook, tmp_path):
    notebook(HELPER_CELLS[0])
    notebook(HELPER_CELLS[1])
    notebook(PROVIDER_CELL)
    assert notebook.shell.user_ns["In"][-1].count(FAKE_KEY) == 1  # the key is in the notebook...
    notebook(f"%hector export loud --out {tmp_path}")
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) > 10
    leaked = [str(path) for path in written if FAKE_KEY.encode() in path.read_bytes()]
    assert leaked == [], "...and in no exported file"
    assert "api_key" in (tmp_path / "loud.plugin.yaml").read_text()


def test_async_provider(notebook, tmp_path):
    notebook("import asyncio\nfrom hector_nb.sdk import EmbedderProvider, EmbedderInfo")
    notebook(textwrap.dedent('''
        class Lengths(EmbedderProvider):
            async def embed(self, text):
                await asyncio.sleep(0)
                return [float(len(word)) for word in text.split()][:2]

            async def get_embedder_info(self):
                return EmbedderInfo(model_name="lengths", dimension=2)
    '''))
    result = notebook(f"%hector export Lengths --out {tmp_path} --python {sys.executable}")
    assert result.name == "Lengths" and result.executable.read_text().startswith(f"#!{sys.executable}\n")
    with Session(timeout=30) as session:
        embedder = session.load(result.executable)
        assert embedder.embed("abc de").tolist() == [3.0, 2.0]
        assert embedder.info() == sdk.EmbedderInfo(model_name="lengths", dimension=2)


def test_a_provider_using_notebook_state_cannot_be_exported(notebook, tmp_path):
    notebook("import pandas as pd\nfrom hector_nb import sdk\ntable = pd.DataFrame({'w': ['a']})")
    notebook(textwrap.dedent('''
        class FromTable(sdk.LLMProvider):
            def generate(self, messages, tools):
                return sdk.GenerateResponse(text=str(table.w[0]))
    '''))
    with pytest.raises(UsageError, match="uses 'table', a value that exists only in the running notebook"):
        notebook.shell.run_line_magic("hector", f"export FromTable --out {tmp_path}")


def test_classes_without_source_and_executables_cannot_be_exported(notebook, tmp_path):
    made = type("Made", (sdk.LLMProvider,), {"__module__": "__main__"})
    with pytest.raises(ExportError, match="no source for class Made"):
        export_provider(made, tmp_path, namespace={"In": []})
    with pytest.raises(WrongPluginType, match="int is not a provider hector_nb runs"):
        export_provider(int, tmp_path)
    with pytest.raises(WrongPluginType, match=r"^export: a NoneType object is not a provider hector_nb runs"):
        export_provider(None, tmp_path)  # type: ignore[arg-type]
    from hector_nb.providers import builtin_plugin_path

    # Loaded from its executable, in the session the magics use, and still loaded when export is asked for.
    notebook(f"%hector load {builtin_plugin_path('echo')} --name from-disk")
    with pytest.raises(UsageError, match="from-disk.*was loaded from an executable"):
        notebook.shell.run_line_magic("hector", f"export from-disk --out {tmp_path}")
    assert not (tmp_path / "from-disk").exists()
    with pytest.raises(UsageError, match="neither a loaded plugin nor a provider class"):
        notebook.shell.run_line_magic("hector", f"export nothing --out {tmp_path}")


def test_provider_importing_other_hector_nb_modules_is_refused(tmp_path):
    module = tmp_path / "uses_builtin.py"
    # A built-in provider's module is carried (tests/export/test_hector_start.py); the rest of hector_nb is not.
    module.write_text("from hector_nb.providers import EchoLLM\nfrom hector_nb.display import Generation\n\n"
                      "class Wrapped(EchoLLM):\n    name = 'wrapped'\n    kind = Generation\n")
    result = subprocess.run([sys.executable, "-m", "hector_nb", "export", f"{module}:Wrapped", "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert ("the provider uses `from hector_nb.display import Generation`, but an exported plugin carries only "
            "hector_nb.sdk and the built-in providers" in result.stderr)


def test_command_line_export(tmp_path):
    module = tmp_path / "plain.py"
    module.write_text(textwrap.dedent('''
        from hector_nb.sdk import DatabaseProvider, SearchResult

        class Single(DatabaseProvider):
            """Remembers the last vector upserted."""
            name = "single"

            def initialize(self, config):
                self.last = None

            def create_collection(self, collection, vector_size):
                pass

            def upsert(self, collection, id, vector, metadata):
                self.last = (id, metadata)

            def search(self, collection, vector, top_k):
                return [SearchResult(id=self.last[0], score=1.0, metadata=self.last[1])]
    '''))
    result = subprocess.run([sys.executable, "-m", "hector_nb", "export", f"{module}:Single", "--out",
                             str(tmp_path / "out"), "--version", "3.0.0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    with Session(timeout=30) as session:
        db = session.load(tmp_path / "out" / "single")
        db.create_collection("c", 2)
        db.upsert("c", "only", [1, 2], {"k": "v"})
        hit = db.search("c", [0, 0], 1)[0]
        assert (hit.id, dict(hit.metadata), db.manifest.version) == ("only", {"k": "v"}, "3.0.0")


def test_export_overrides_are_what_the_plugin_answers(tmp_path):
    module = tmp_path / "quiet.py"
    module.write_text(textwrap.dedent('''
        from hector_nb.sdk import GenerateResponse, LLMProvider, ModelInfo

        class Quiet(LLMProvider):
            def generate(self, messages, tools):
                if messages[-1].content == "fail":
                    raise RuntimeError("asked to fail")
                return GenerateResponse(text="ok")

            def get_model_info(self):
                return ModelInfo(model_name="quiet")
    '''))
    # Text that would break generated code if it were pasted into it: it travels as data.
    overrides = {"name": "renamed.v2", "version": "1.0.0", "author": "Ada \"\\\" {x}'''",
                 "description": 'Says "ok"\'\'\' {then} stops'}
    out = tmp_path / "out"
    exported = subprocess.run([sys.executable, "-m", "hector_nb", "export", f"{module}:Quiet", "--out", str(out),
                               *[arg for fact, value in overrides.items() for arg in (f"--{fact}", value)]],
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    launcher = out / "renamed.v2"
    assert not any(value in launcher.read_text() for value in overrides.values())
    report = hector_nb.check(launcher, only=["manifest", "get_manifest"])
    verdicts = dict(zip(report["check"], report["verdict"], strict=True))
    assert (verdicts["manifest"], verdicts["get_manifest"]) == ("pass", "pass"), report.to_string()
    with Session(timeout=30, start_timeout=60) as session:
        quiet = session.load(launcher)
        answered = quiet._stub.GetManifest(sdk.ManifestRequest(), timeout=30)  # the RPC itself, not the .plugin.yaml
        assert {fact: getattr(answered, fact) for fact in overrides} == overrides
        with pytest.raises(ProviderError, match="asked to fail"):
            quiet.generate("fail")
        # The traceback reaches the host through the stdio stream, which may trail the call's answer.
        assert wait_until(lambda: "plugin 'renamed.v2', generate raised:" in "\n".join(quiet.logs()), 30), \
            quiet.logs()
