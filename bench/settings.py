"""Settings for the benchmarks: the application's own settings, pointed at the bench database.

``BENCH_DATABASE`` names the database (default ``taqsit_bench``) on the same server as the application's:
``DATABASE_URL`` when it is set, else the embedded PostgreSQL under var/postgres. The dev database is never used.
"""

import os

from taqsit.settings import *  # noqa: F403
from taqsit.settings import DATABASES

BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "taqsit_bench")
if BENCH_DATABASE == "taqsit":
    raise RuntimeError("BENCH_DATABASE must not be the development database 'taqsit'.")
for _database in DATABASES.values():  # the runtime role, the platform role and the owner: the same database
    _database["NAME"] = BENCH_DATABASE
DATABASES["default"]["TEST"] = {"NAME": f"test_{BENCH_DATABASE}_{os.getpid()}"}
