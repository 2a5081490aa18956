import os
import uuid

from backend.tasks import ping


def test_a_task_is_executed_by_a_real_worker_process(celery_worker: str) -> None:
    token = uuid.uuid4().hex

    result = ping.delay(token).get(timeout=20)

    assert result["token"] == token
    assert result["worker_pid"] != str(os.getpid())
