"""promobot: GitOps promotion of ML models through environments."""

__version__ = "0.1.0"
