"""benchmint: mint fresh, grounded, versioned LLM benchmarks from your own documents."""

__version__ = "0.1.0"
