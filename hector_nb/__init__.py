"""hector_nb: build, run, compare and export Hector plugins from Jupyter."""

__version__ = "0.1.0"
