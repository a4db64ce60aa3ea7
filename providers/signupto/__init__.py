from .client import SignupToClient

__all__ = ["SignupToClient"]
