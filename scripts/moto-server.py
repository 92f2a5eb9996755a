"""moto server that applies one request at a time.

moto 5.2.1 rolls back a failed DynamoDB TransactWriteItems by restoring a copy of the tables taken
when that transaction started. Served on concurrent threads (as `moto_server` does), a transaction
that fails can therefore erase another transaction's committed write -- something DynamoDB never
does. Serving requests one at a time restores DynamoDB's atomicity; the races the tests create are
still real, because clients send concurrently and the server picks the order.
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

parser = argparse.ArgumentParser()
parser.add_argument("-H", "--host", default="127.0.0.1")
parser.add_argument("-p", "--port", type=int, required=True)
parser.add_argument(
    "--default-account",
    help="account for requests whose access key moto does not know (moto's own default: 123456789012)",
)
args = parser.parse_args()

if args.default_account:
    # The local runtime's hub: any AWS client with any credentials looks at the runtime's state.
    # get_account_id_from reads this module global at call time.
    import moto.iam.models as iam_models

    iam_models.DEFAULT_ACCOUNT_ID = args.default_account

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialize the body inside the lock so the whole request is applied atomically.
        return list(app(environ, start_response))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
run_simple(args.host, args.port, serialized, threaded=True, use_reloader=False)
