"""An embedder whose embed_many returns one vector too few: short_embedder.py."""

from hector_nb.sdk import EmbedderInfo, EmbedderProvider, serve_embedder_plugin


class ShortEmbedder(EmbedderProvider):
    def embed(self, text):
        return [float(len(text)), 1.0]

    def embed_many(self, texts):
        return [self.embed(text) for text in texts[1:]]

    def get_embedder_info(self):
        return EmbedderInfo(model_name="short", dimension=2)


if __name__ == "__main__":
    serve_embedder_plugin(ShortEmbedder())
