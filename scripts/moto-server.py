"""moto server that applies one request at a time.

moto 5.2.1 rolls back a failed DynamoDB TransactWriteItems by restoring a copy of the tables taken
when that transaction started. Served on concurrent threads (as `moto_server` does), a transaction
that fails can therefore erase another transaction's committed write -- something DynamoDB never
does. Serving requests one at a time restores DynamoDB's atomicity; the races the tests create are
still real, because clients send concurrently and the server picks the order.
"""

import argparse
import copy
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


def keep_stream_shards_across_rollback():
    """moto 5.2.1 rolls back a failed TransactWriteItems by replacing each table with a deep copy
    taken before the transaction. Two consequences, both fixed here:
    - the copy carried its own copy of the table's stream shard, while every open shard iterator (a
      Lambda event source mapping's reader) still pointed at the discarded one: it yielded the
      rolled-back write as a phantom record and then never saw another write -- the stream silently
      stopped (DynamoDB never does either);
    - every transaction deep-copied the whole stream history (each record with its full images), so
      memory and time grew with the square of the writes: a long test run reached tens of GiB.
    The deep copy now shares the shard object with the original; a failed transaction truncates the
    records it appended and points the shard at the restored table.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    def table_deepcopy(self, memo):
        clone = Table.__new__(Table)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            setattr(clone, key, value if key == "stream_shard" else copy.deepcopy(value, memo))
        return clone

    Table.__deepcopy__ = table_deepcopy
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        lengths = {
            name: len(table.stream_shard.items)
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            return original(self, transact_items)
        except Exception:
            for name, table in self.tables.items():
                shard = table.stream_shard
                if shard is None or name not in lengths:
                    continue
                del shard.items[lengths[name]:]
                shard.table = table
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


keep_stream_shards_across_rollback()
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialize the body inside the lock so the whole request is applied atomically.
        return list(app(environ, start_response))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
run_simple(args.host, args.port, serialized, threaded=True, use_reloader=False)
