from .vapid import vapid_public_key


def push_public_key() -> str | None:
    """The key browsers subscribe with, or None when this server sends no Web Push."""
    return vapid_public_key()
