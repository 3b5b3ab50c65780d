"""Spike load test (locust): ramp to 500 virtual employees in 30 s, hold a minute, ramp down.

Run it with `make spike`, which starts its own server, workers and beat on a database of its own,
seeds the employees and hands their API tokens over in SPIKE_TOKENS_FILE (JSON: "employees",
"finance", "root"). Each virtual employee submits spends with fresh idempotency keys, and now and
then retries one, which must replay. When the run stops it waits until every accepted spend is
final and the ledger verifies; otherwise the run fails.
"""

import itertools
import json
import os
import random
import time
import uuid

import requests
from locust import HttpUser, LoadTestShape, between, events, task

TOKENS = json.loads(open(os.environ["SPIKE_TOKENS_FILE"]).read())  # noqa: SIM115 - read once at import
_employee_numbers = itertools.count()


class VirtualEmployee(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        employees = TOKENS["employees"]
        self.client.headers["Authorization"] = f"Token {employees[next(_employee_numbers) % len(employees)]}"
        self.last: tuple[str, dict] | None = None

    @task(20)
    def spend(self) -> None:
        body = {
            "amount": f"{random.randint(1, 200)}.{random.randint(0, 99):02d}",
            "currency": "USD",
            "merchant": random.choice(["Delta", "Hilton", "Uber", "Dell", "AWS"]),
            "category": random.choice(["travel", "lodging", "equipment", "cloud"]),
        }
        key = str(uuid.uuid4())
        with self.client.post(
            "/api/v1/transactions",
            json=body,
            headers={"Idempotency-Key": key},
            name="POST /transactions",
            catch_response=True,
        ) as response:
            if response.status_code == 202:
                self.last = (key, body)
                response.success()
            elif response.status_code in (429, 503) and response.headers.get("Retry-After"):
                response.success()  # back-pressure, as designed
            else:
                response.failure(f"unexpected {response.status_code}")

    @task(1)
    def retry_last(self) -> None:
        if self.last is None:
            return
        key, body = self.last
        with self.client.post(
            "/api/v1/transactions",
            json=body,
            headers={"Idempotency-Key": key},
            name="POST /transactions (retry)",
            catch_response=True,
        ) as response:
            if response.status_code == 202 and response.headers.get("Idempotent-Replayed") == "true":
                response.success()
            else:
                response.failure(f"retry was not a replay: {response.status_code}")


class Spike(LoadTestShape):
    """0 -> 500 users over 30 s, 500 for 60 s, 500 -> 0 over 30 s."""

    peak, ramp, hold = len(TOKENS["employees"]), 30, 60

    def tick(self):
        elapsed = self.get_run_time()
        if elapsed < self.ramp:
            return max(1, int(self.peak * elapsed / self.ramp)), self.peak / self.ramp * 2
        if elapsed < self.ramp + self.hold:
            return self.peak, self.peak / self.ramp * 2
        if elapsed < 2 * self.ramp + self.hold:
            return max(1, int(self.peak * (2 * self.ramp + self.hold - elapsed) / self.ramp)), self.peak / self.ramp * 2
        return None


@events.test_stop.add_listener
def every_accepted_spend_is_final_and_the_ledger_verifies(environment, **kwargs) -> None:
    host = environment.host
    root = {"Authorization": f"Token {TOKENS['root']}"}
    finance = {"Authorization": f"Token {TOKENS['finance']}"}
    deadline = time.monotonic() + 300
    pending = None
    while time.monotonic() < deadline:
        metrics = requests.get(f"{host}/api/v1/system/metrics", headers=root, timeout=10).json()
        pending = metrics["transactions"]["pending"]
        if pending == 0:
            break
        time.sleep(1)
    report = requests.get(f"{host}/api/v1/ledger/verify", headers=finance, timeout=60).json()
    print(f"spike: pending after the run: {pending}; verify_ledger ok: {report['ok']}; checked: {report['checked']}")
    if pending != 0 or not report["ok"]:
        print("spike FAILED:", report["problems"][:10])
        environment.process_exit_code = 1
