"""A throwaway PostgreSQL + PostGIS cluster: initdb into a temporary folder,
a free port on 127.0.0.1, the unix socket in that folder; stopped and removed
on exit (also on error).

    with throwaway_cluster() as conninfo:
        with psycopg.connect(conninfo) as con: ...

initdb and postgres refuse to run as root: as root they run as the
``postgres`` system user (runuser). The server binaries come from
``pg_config --bindir`` or the newest /usr/lib/postgresql/*/bin.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile

# Settings for a disposable benchmark/test cluster: no durability, parallel query on.
DEFAULT_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "shared_buffers": "1GB",
    "work_mem": "256MB",
    "maintenance_work_mem": "1GB",
    "max_worker_processes": "8",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    "jit": "off",
    "listen_addresses": "'127.0.0.1'",
}


def bindir() -> str:
    cands = []
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        cands.append(out)
    except (OSError, subprocess.CalledProcessError):
        pass

    def ver(p):
        try:
            return float(p.rstrip("/").split("/")[-2])
        except ValueError:
            return 0.0
    cands += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=ver, reverse=True)
    for d in cands:
        if os.path.isfile(os.path.join(d, "initdb")) and os.path.isfile(os.path.join(d, "pg_ctl")):
            return d
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg_user(cmd):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


@contextlib.contextmanager
def throwaway_cluster(postgis: bool = True, settings: dict = None, dbname: str = "postgres"):
    """Start a fresh cluster; yield a psycopg conninfo string; stop and delete it afterwards."""
    bd = bindir()
    tmp = tempfile.mkdtemp(prefix="rp-pg-")
    data = os.path.join(tmp, "data")
    log = os.path.join(tmp, "server.log")
    started = False
    try:
        if os.geteuid() == 0:
            shutil.chown(tmp, "postgres", "postgres")
        os.chmod(tmp, 0o700)
        subprocess.run(_as_pg_user([os.path.join(bd, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                                    "-E", "UTF8", "--locale=C", "--no-sync"]),
                       check=True, capture_output=True, text=True)
        conf = dict(DEFAULT_SETTINGS)
        conf.update(settings or {})
        port = free_port()
        conf.update({"port": str(port), "unix_socket_directories": f"'{tmp}'"})
        with open(os.path.join(data, "postgresql.auto.conf"), "a") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in conf.items()))
        subprocess.run(_as_pg_user([os.path.join(bd, "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60",
                                    "start"]), check=True, capture_output=True, text=True)
        started = True
        conninfo = f"host=127.0.0.1 port={port} user=postgres dbname={dbname}"
        import psycopg

        if dbname != "postgres":
            with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                                 autocommit=True) as con:
                con.execute(f'CREATE DATABASE "{dbname}"')
        if postgis:
            with psycopg.connect(conninfo, autocommit=True) as con:
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield conninfo
    except subprocess.CalledProcessError as e:
        tail = ""
        if os.path.exists(log):
            with open(log) as f:
                tail = f.read()[-2000:]
        raise RuntimeError(f"PostgreSQL cluster failed: {' '.join(e.cmd)}\n{e.stderr}\n{tail}") from e
    finally:
        if started:
            subprocess.run(_as_pg_user([os.path.join(bd, "pg_ctl"), "-D", data, "-m", "immediate", "-w",
                                        "stop"]), capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
