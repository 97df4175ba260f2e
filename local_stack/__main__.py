"""``python -m local_stack``: run the local stack in the foreground until SIGINT or SIGTERM.

Environment: ``PORT`` (API over HTTP, default 3000), ``HTTPS_PORT`` (default 3443), ``AWS_PORT``
(moto, default 5010; 0 picks a free port for any of them), ``LOCAL_DIR`` (state, default
``.local`` at the repository root), ``SQS_CONCURRENCY`` (concurrent batches per queue, default 3).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from local_stack.banner import banner
from local_stack.stack import LocalStack, StackSettings

logger = logging.getLogger("local_stack")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # botocore announces at INFO where it found credentials and endpoints, for every client.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    stop_requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_requested.set())

    stack = LocalStack(StackSettings.from_environ())
    try:
        info = stack.start()
    except OSError as exc:
        logger.error("the local stack could not start: %s", exc)
        return 1
    except Exception:
        logger.exception("the local stack could not start")
        return 1

    from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER, DEMO_SMS_SENDER_ID, DEMO_VIBER_SERVICE_ID

    channel_ids = {  # the demo account's senders: only it may send from them
        "messenger page id": DEMO_PAGE_ID,
        "viber service id": DEMO_VIBER_SERVICE_ID,
        "sms number": DEMO_SMS_NUMBER,
        "sms sender id": DEMO_SMS_SENDER_ID,
    }
    print(banner(info, stack.urls, channel_ids), flush=True)
    stop_requested.wait()
    logger.info("stopping")
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
