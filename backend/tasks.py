"""Operational tasks of the delivery layer."""

import os
import socket

from celery import shared_task


@shared_task(name="backend.ping")
def ping(token: str) -> dict[str, str]:
    """Echo a token with the worker's host name: proves a real worker took the task from the broker."""
    return {"token": token, "worker_host": socket.gethostname(), "worker_pid": str(os.getpid())}
