"""The application as `make bench --server granian` serves it, in the state gunicorn's hooks leave it.

granian imports its target in each worker after forking (it has no preload), so this module does
there what deploy/gunicorn.conf.py's when_ready and post_worker_init do: import the URLconf, and
move everything loading created into the permanent generation (gc.freeze).
"""

import gc
import importlib

from django.conf import settings

from ledgerx.wsgi import application

importlib.import_module(settings.ROOT_URLCONF)
gc.collect()
gc.freeze()

__all__ = ["application"]
