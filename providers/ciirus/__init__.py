from .client import CiirusClient, SubAccountExists

__all__ = ["CiirusClient", "SubAccountExists"]
