#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerx.settings.production")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    # Asked after a failure, not before: most commands (help, check, makemigrations) need no server.
    try:
        execute_from_command_line(sys.argv)
    except (OperationalError, RedisConnectionError) as error:
        from ledgerx.embedded import not_running_message

        message = not_running_message("PostgreSQL" if isinstance(error, OperationalError) else "Redis")
        if message is None:
            raise
        sys.exit(message)


if __name__ == "__main__":
    main()
