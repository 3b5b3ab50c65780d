from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import DEMO_SECRET_KEY, env_bool

if not DEBUG and SECRET_KEY in ("", DEMO_SECRET_KEY):  # noqa: F405
    raise ImproperlyConfigured(
        "SECRET_KEY is empty or the demo key while DEBUG is off: set SECRET_KEY in the environment."
    )

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
