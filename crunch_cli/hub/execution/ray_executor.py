"""The hub's side of `--executor ray`: each run attempt is a Ray actor on the cluster.

The hub claims runs from its database queue as the local pool does (at most `--workers`
in flight), builds each one's `Job` with signed download URLs (the store's: hub-signed
`/blobs/` URLs on the folder store, presigned bucket URLs on S3), and creates a detached
actor (`ray_worker.RunAttempt`) that asks for the competition's CPUs (`run_cpus`), its
memory limit and, for a `gpu` run, one GPU. Ray places it on a node with those resources
free; until then the run waits, and when no node of the cluster could ever hold it (no
GPU, too few CPUs or too little memory on every node) the run says why and fails after
the competition's queue timeout. The runtimes no node serves at all are not even taken
from the queue (`unable`), so they wait there with their reason like on the local pool.

The hub follows each actor from a thread of its own: `drain` brings the log lines (into
the run's `LogSink`), the start and the outcome; a termination recorded by any hub calls
`stop`. An actor is a Ray task with a name, in a namespace of the hub's database, and an
owner of its own (detached), for two reasons:

- a worker lost mid-run (its process or its node killed) shows as the actor's death: the
  run goes back to the queue once, and fails with the reason "worker lost" the second
  time;
- a hub restarted while runs execute finds them again: Ray ties a plain task to the
  process that submitted it (its owner) and cancels it when that process dies, but a
  detached actor outlives it. A starting hub looks up, by name, the actor of every active
  run whose hub process is gone, takes the run over and follows it to its end; a run whose
  actor is gone goes back to the queue once, like a lost worker's (one never started goes
  back with its attempt given back).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crunch_cli.errors import CrunchError
from crunch_cli.hub import runs, serving
from crunch_cli.hub.execution import build
from crunch_cli.hub.execution.job import CPU, GPU, TERMINATED_MESSAGE, Job, Outcome
from crunch_cli.hub.models import Competition, Run
from crunch_cli.hub.runlogs import LogSink
from crunch_cli.hub.store import HubStore
from crunch_cli.runner.spec import MIB

if TYPE_CHECKING:
    from crunch_cli.hub.executor import Active, Executor

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 0.25
CONNECT_SECONDS = 5.0
CLUSTER_CHECK_SECONDS = 2.0
INSTALL_HINT = (
    "install the ray extra on the hub and on every worker: pip install 'crunch-cli-hub[hub,ray]'"
)


class RayExecutorError(CrunchError):
    """Raised when the hub cannot use its Ray cluster: ray is not installed, or the
    cluster cannot be reached or joined."""


class WorkerLost(Exception):
    """The actor running the attempt died (its process or its node); `str()` says how."""


def _ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise RayExecutorError(
            "--executor ray needs the ray package, which is not installed", hint=INSTALL_HINT
        ) from error
    return ray


def namespace_for(database_url: str) -> str:
    """One namespace per hub database: the hubs that share a database (and so a queue)
    find each other's actors; hubs of other databases never do."""
    return "crunch-hub-" + hashlib.sha256(database_url.encode()).hexdigest()[:16]


def actor_name(run_id: int, attempt: int) -> str:
    return f"run-{run_id}-attempt-{attempt}"


class RayBackend:
    """See the module docstring; the `Backend` of `crunch_cli.hub.executor`."""

    def __init__(self, store: HubStore) -> None:
        """Joins the cluster now, so that a hub that cannot says so before it serves."""
        self.store = store
        self.settings = store.settings
        self.address = self.settings.ray_address or os.environ.get("RAY_ADDRESS") or "auto"
        self.namespace = namespace_for(self.settings.resolved_database_url)
        self._connected_here = False
        self._lock = threading.Lock()
        self._nodes: list[dict[str, Any]] = []
        self._nodes_at = 0.0
        self._cluster_problem: str | None = None
        ray = _ray()
        if not ray.is_initialized():
            self._connect(ray)
        self._actor_class: Any = ray.remote(_attempt_class())

    def _connect(self, ray: Any) -> None:
        """`ray.init`, after a quick look at the head's port: Ray itself would try an
        unreachable address for minutes."""
        problem = _unreachable(self.address)
        try:
            if problem is None:
                ray.init(
                    address=self.address,
                    namespace=self.namespace,
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                    configure_logging=False,
                )
        except (ConnectionError, RuntimeError, ValueError) as error:
            problem = str(error)
        if problem is not None:
            raise RayExecutorError(
                f"cannot join the Ray cluster at {self.address}: {problem}",
                hint="start its head with `ray start --head --port 6379` and pass "
                "--ray-address HOST:6379",
            )
        self._connected_here = True

    # -- taking back the runs of a hub that is gone -------------------------------------

    def start(self, executor: Executor) -> None:
        self._recover(executor)

    def _recover(self, executor: Executor) -> None:
        ray = _ray()
        for run_id, status, previous, attempts in runs.orphans(self.store, executor.worker_alive):
            try:
                actor = ray.get_actor(actor_name(run_id, attempts), namespace=self.namespace)
            except ValueError:
                actor = None
            if actor is not None and runs.adopt(self.store, run_id, previous, executor.worker_id):
                executor.follow(run_id, functools.partial(self._adopted, executor, run_id, actor))
                continue
            what = "the hub stopped while this run was on the Ray cluster, and its worker is gone"
            if status == runs.PENDING and runs.requeue_unstarted(self.store, run_id, what):
                continue
            if not runs.requeue_lost(self.store, run_id, what):
                runs.finish(self.store, run_id, runs.worker_lost_outcome(what))

    def _adopted(self, executor: Executor, run_id: int, actor: Any, active: Active) -> None:
        def follow(log: LogSink) -> Outcome:
            log.hub("the hub restarted and found this run again on the Ray cluster")
            needs = self._needs_of(run_id)
            return self._follow(
                run_id, needs, actor, log, active, lambda: runs.resume_running(self.store, run_id)
            )

        executor.run_job(run_id, active, follow)

    # -- what the executor asks --------------------------------------------------------

    def url_for(self) -> build.UrlFor:
        base = self.settings.public_url or serving.served_url(self.settings)
        if base is None:
            raise RayExecutorError(
                "the hub does not know the URL its Ray workers download runs' files from",
                hint="serve the hub with --public-url, at an address the workers reach",
            )
        ttl = self.settings.signed_url_ttl
        blobs = self.store.blobs
        return lambda key: blobs.download_url(key, base_url=base, ttl=ttl)

    def unable(self) -> dict[str, str]:
        nodes = self._alive_nodes()
        if self._cluster_problem is not None:
            return {CPU: self._cluster_problem, GPU: self._cluster_problem}
        unable = {}
        if not any(node.get("CPU", 0) >= 1 for node in nodes):
            unable[CPU] = f"no worker of the Ray cluster at {self.address} has a CPU"
        if not any(node.get("GPU", 0) >= 1 for node in nodes):
            unable[GPU] = f"no worker of the Ray cluster at {self.address} has a GPU"
        return unable

    def execute(
        self, job: Job, log: LogSink, active: Active, starting: Callable[[], bool]
    ) -> Outcome:
        needs = _Needs(job.runtime, job.limits.cpus, job.limits.memory_mb)
        actor = self._create(job, needs)
        return self._follow(job.run_id, needs, actor, log, active, starting)

    def close(self) -> None:
        if self._connected_here:
            _ray().shutdown()
            self._connected_here = False

    # -- one attempt ---------------------------------------------------------------------

    def _create(self, job: Job, needs: _Needs) -> Any:
        name = actor_name(job.run_id, job.attempt)
        options = {
            "name": name,
            "namespace": self.namespace,
            "lifetime": "detached",
            "num_cpus": needs.cpus,
            "num_gpus": 1 if needs.runtime == GPU else 0,
            "memory": needs.memory_mb * MIB,
            "max_restarts": 0,
            "max_task_retries": 0,
        }
        arguments = (job.to_json(), self.settings.sandbox)
        try:
            return self._actor_class.options(**options).remote(*arguments)
        except ValueError:  # an actor of that name is left from a hub that died: replace it
            ray = _ray()
            ray.kill(ray.get_actor(name, namespace=self.namespace), no_restart=True)
            time.sleep(DRAIN_SECONDS)
            return self._actor_class.options(**options).remote(*arguments)

    def _follow(
        self,
        run_id: int,
        needs: _Needs,
        actor: Any,
        log: LogSink,
        active: Active,
        starting: Callable[[], bool],
    ) -> Outcome:
        """Drain the actor until it gives the outcome (see the module docstring)."""
        from crunch_cli.hub.executor import Detached

        ray = _ray()
        acknowledged, started, stop_sent, placed = 0, False, False, False
        try:
            while True:
                reference = actor.drain.remote(acknowledged)
                while not ray.wait([reference], timeout=DRAIN_SECONDS)[0]:
                    if active.detach.is_set():
                        raise Detached
                    if active.stop.is_set() and not started:
                        self._kill(actor)
                        return Outcome(False, "terminated", TERMINATED_MESSAGE)
                    problem = None if placed else self._placement_problem(needs)
                    if problem and runs.wait_for_worker(self.store, run_id, problem):
                        self._kill(actor)
                        return runs.queue_timeout_outcome(self.store, run_id)
                try:
                    batch = ray.get(reference)
                except ray.exceptions.ActorUnavailableError:
                    time.sleep(DRAIN_SECONDS)
                    continue
                except ray.exceptions.RayActorError as error:
                    raise WorkerLost(
                        f"the Ray worker running this run was lost ({type(error).__name__})"
                    ) from error
                if not placed:
                    placed = True
                    runs.stop_waiting(self.store, run_id)
                acknowledged = self._store_lines(batch, log)
                if batch["started"] and not started:
                    started = True
                    if not starting():
                        active.stop.set()
                if batch["outcome"] is not None:
                    self._kill(actor)
                    return Outcome(**batch["outcome"])
                if active.detach.is_set():
                    # The lines just stored are acknowledged, so that the next hub to find
                    # the run does not store them twice.
                    ray.wait([actor.drain.remote(acknowledged)], timeout=DRAIN_SECONDS * 4)
                    raise Detached
                if active.stop.is_set() and not stop_sent:
                    actor.stop.remote()
                    stop_sent = True
                active.stop.wait(DRAIN_SECONDS)
        except WorkerLost as lost:
            self._kill(actor)
            if runs.requeue_lost(self.store, run_id, str(lost)):
                raise Detached from lost
            log.hub(str(lost), error=True)
            return runs.worker_lost_outcome(str(lost))

    @staticmethod
    def _store_lines(batch: dict[str, Any], log: LogSink) -> int:
        for _number, kind, source, text, error in batch["lines"]:
            if kind == "hub":
                log.hub(text, error)
            else:
                log.output(source, text)
        if batch["leftOut"]:
            log.hub(f"[{batch['leftOut']:,} lines left out on the worker while the hub was away]")
        return int(batch["next"])

    def _kill(self, actor: Any) -> None:
        try:
            _ray().kill(actor, no_restart=True)
        except Exception:  # already gone
            logger.debug("the actor was already gone", exc_info=True)

    def _needs_of(self, run_id: int) -> _Needs:
        with self.store.session(write=False) as session:
            row = session.get(Run, run_id)
            assert row is not None
            competition: Competition = row.project.competition
            return _Needs(row.runtime, competition.run_cpus, competition.run_memory_limit_mb)

    # -- the cluster ---------------------------------------------------------------------

    def _alive_nodes(self) -> list[dict[str, Any]]:
        """The total resources of each live node, asked of Ray every few seconds at most."""
        with self._lock:
            if time.monotonic() - self._nodes_at < CLUSTER_CHECK_SECONDS:
                return self._nodes
            try:
                self._nodes = [
                    dict(node.get("Resources") or {})
                    for node in _ray().nodes()
                    if node.get("Alive")
                ]
                self._cluster_problem = None
            except Exception as error:
                logger.warning("cannot list the Ray cluster's nodes", exc_info=True)
                self._nodes = []
                self._cluster_problem = (
                    f"the Ray cluster at {self.address} cannot be reached ({error})"
                )
            self._nodes_at = time.monotonic()
            return self._nodes

    def _placement_problem(self, needs: _Needs) -> str | None:
        """Why no node of the cluster could ever hold this run; None when one could (it is
        then only busy)."""
        nodes = self._alive_nodes()
        if self._cluster_problem is not None:
            return self._cluster_problem
        for node in nodes:
            if (
                node.get("CPU", 0) >= needs.cpus
                and node.get("memory", 0) >= needs.memory_mb * MIB
                and (needs.runtime != GPU or node.get("GPU", 0) >= 1)
            ):
                return None
        gpu = " and a GPU" if needs.runtime == GPU else ""
        return (
            f"no worker of the Ray cluster has {needs.cpus} CPU, {needs.memory_mb} MiB of "
            f"memory{gpu}"
        )


@dataclasses.dataclass(frozen=True)
class _Needs:
    """What one run asks of a Ray node."""

    runtime: str
    cpus: int
    memory_mb: int


def _unreachable(address: str) -> str | None:
    """Why nothing answers at a HOST:PORT address; None when something does, or when the
    address is not one (`auto`, `ray://...`: Ray's own to find)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "/" in address:
        return None
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as error:
        return f"nothing answers there ({error.strerror or error})"
    return None


def _attempt_class() -> type:
    from crunch_cli.hub.execution.ray_worker import RunAttempt

    return RunAttempt
