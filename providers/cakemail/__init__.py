from .client import CakemailClient

__all__ = ["CakemailClient"]
