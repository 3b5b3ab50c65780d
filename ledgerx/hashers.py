"""The password hasher: Argon2id at a cost measured on this project's 2-core machine.

OWASP's second Argon2id configuration (19 MiB, two passes, one lane) took 28 ms of CPU per check
here, against 545-770 ms for Django's PBKDF2 (1,000,000 iterations) and 267 ms for Django's default
Argon2 (100 MiB, eight lanes). Cheap enough that a burst of failed sign-ins does not starve the web
tier, while the login throttle (apps.tenancy.login_guard) keeps guessing slow. Hashes of older
hashers are upgraded by Django at the next successful sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class MeasuredArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"  # the same encoded form as Django's: raising a cost later re-hashes at sign-in
    time_cost = 2
    memory_cost = 19456  # KiB
    parallelism = 1
