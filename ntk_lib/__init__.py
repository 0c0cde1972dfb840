"""ntk_lib: the tested library behind the Neural Tangent Kernel course."""

__version__ = "0.1.0"
