from tests.e2e.conftest import harness

__all__ = ["harness"]
