"""One Redis client per process, reused across Lambda invocations.

Works the same on a single Redis/Valkey, on ElastiCache (``rediss://`` for TLS) and on Redis Cluster
(``UPSTAT_REDIS_CLUSTER=true``): every multi-key command and script touches keys of one hash tag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import ClusterPipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError, SlotNotCoveredError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from upstat.config import Settings, get_settings

Redis = Any  # redis.Redis or redis.RedisCluster: both speak the commands we use
T = TypeVar("T")


class BoundedRetry(Retry):
    """Retries that end within ``budget_s`` of the first attempt.

    redis-py retries a timed-out command ``retries`` times, each waiting the whole socket timeout: a Redis
    that stops answering (paused, failing over, blackholed) held a request for 4 x 5 s before its 503. Here
    a retry is made only while it can still finish in the budget (the socket timeout), so a refused
    connection is retried at once while a silent server costs one timeout."""

    def __init__(self, backoff: Any, retries: int, budget_s: float) -> None:
        super().__init__(backoff, retries)
        self.budget_s = budget_s

    def call_with_retry(self, do: Callable[[], T], fail: Callable[[Exception], Any]) -> T:
        self._backoff.reset()
        start = time.monotonic()
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                failures += 1
                fail(error)
                backoff = self._backoff.compute(failures)
                spent = time.monotonic() - start
                if failures > self._retries or spent + backoff >= self.budget_s:
                    raise error
                if backoff > 0:
                    time.sleep(backoff)


@contextmanager
def _cluster_reachable() -> Iterator[None]:
    """A cluster that cannot be reached raises redis.ConnectionError, as one server does.

    redis-py reports a cluster none of whose nodes answers (at start or later, when a refused connection
    makes it read the slots again), and a slot no node serves, as RedisClusterException, which is not a
    RedisError: the API answered 500 where one server gets 503, and the CLI printed a traceback. Other
    RedisClusterExceptions (a cross-slot transaction, bad arguments) are bugs and pass unchanged."""
    try:
        yield
    except RedisClusterException as exc:
        if isinstance(exc, SlotNotCoveredError) or isinstance(exc.__cause__, RedisError):
            raise RedisConnectionError(f"Redis Cluster unreachable: {exc}") from exc
        raise


class _ReachablePipeline(ClusterPipeline):
    def execute(self, raise_on_error: bool = True) -> list[Any]:
        with _cluster_reachable():
            return super().execute(raise_on_error)


class _Cluster(redis.RedisCluster):
    """redis.RedisCluster whose unreachable cluster raises redis.ConnectionError (_cluster_reachable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with _cluster_reachable():
            super().__init__(*args, **kwargs)

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        with _cluster_reachable():
            return super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> ClusterPipeline:
        pipe = super().pipeline(transaction, shard_hint)
        pipe.__class__ = _ReachablePipeline  # built by redis-py with its own arguments; only execute differs
        return pipe


class LazyCluster:
    """A cluster client that connects on its first command, as redis.Redis does.

    redis.RedisCluster reads the cluster's slots while it is built, so with the cluster down the client
    itself could not be made: a route's store dependency failed before the route ran, and a health route
    could not say "unhealthy" in its own words. Here building costs nothing and the first command (then
    every one, until one succeeds) connects; while unreachable, it raises redis.ConnectionError."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self._url = url
        self._options = options
        self._client: _Cluster | None = None
        self._building = threading.Lock()

    def _connected(self) -> _Cluster:
        if self._client is None:
            with self._building:
                if self._client is None:
                    self._client = _Cluster.from_url(self._url, **self._options)
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connected(), name)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


_lock = threading.Lock()
_client: Redis | None = None
_client_url: str | None = None


def make_client(settings: Settings, url: str | None = None) -> Redis:
    """A new client for ``url`` (default: the settings' REDIS_URL), with timeouts and retries."""
    url = url or settings.redis_url
    if not url and settings.redis_url_ssm_parameter:
        from upstat.aws import get_ssm_parameter

        url = get_ssm_parameter(settings.redis_url_ssm_parameter)
    if not url:
        raise RuntimeError("REDIS_URL is not set (make run starts an embedded Valkey for you)")
    backoff = ExponentialWithJitterBackoff(base=0.05, cap=1.0)
    retry = BoundedRetry(backoff, settings.redis_retries, settings.redis_socket_timeout)
    common: dict[str, Any] = {
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "retry": retry,
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 30,
    }
    if settings.redis_cluster:
        return LazyCluster(url, common)
    return redis.Redis.from_url(url, **common)


def get_redis() -> Redis:
    """The process-wide client (created on first use, then reused by every warm invocation)."""
    global _client, _client_url
    settings = get_settings()
    if _client is not None and _client_url == settings.redis_url:
        return _client
    with _lock:
        if _client is None or _client_url != settings.redis_url:
            _client = make_client(settings)
            _client_url = settings.redis_url
        return _client


def reset_client() -> None:
    """Forget the cached client (tests switch servers)."""
    global _client, _client_url
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _client_url = None


def reachable(client: Redis) -> bool:
    """True when Redis answers PING (a health check that reports, rather than raises, an outage)."""
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
