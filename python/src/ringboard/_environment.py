"""Rank and world size from the environment a launcher sets."""

import json
import os

_POLICIES = {"chief": 0, "mean": 1, "per_rank": 2}


def resolve_rank_policy(policy):
    """ringboard.h's ringboard_rank_policy for a policy name."""
    if policy not in _POLICIES:
        raise ValueError(f"`rank_policy` must be one of {sorted(_POLICIES)}. Received: rank_policy={policy!r}")
    return _POLICIES[policy]


def _integer(name, value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not an integer") from None


def from_environment(environ=None):
    """(rank, world_size) that a launcher set, or None.

    torchrun (and most launchers) set RANK and WORLD_SIZE. tf.distribute sets TF_CONFIG:
    {"cluster": {"chief": [...], "worker": [...]}, "task": {"type": "worker", "index": i}};
    the chief is rank 0 and worker i is rank i, or i + 1 when there is a chief.
    """
    environ = os.environ if environ is None else environ
    if "RANK" in environ or "WORLD_SIZE" in environ:
        rank = _integer("RANK", environ.get("RANK", "0"))
        world_size = _integer("WORLD_SIZE", environ.get("WORLD_SIZE", "1"))
        return rank, world_size
    config = environ.get("TF_CONFIG")
    if config:
        try:
            parsed = json.loads(config)
            cluster, task = parsed.get("cluster", {}), parsed.get("task", {})
            chiefs = len(cluster.get("chief", []))
            workers = len(cluster.get("worker", []))
            kind, index = task.get("type"), int(task.get("index", 0))
        except (ValueError, TypeError, AttributeError) as error:
            raise ValueError(f"TF_CONFIG is not a tf.distribute cluster description: {error}") from None
        if kind == "chief":
            return 0, chiefs + workers
        if kind == "worker":
            return index + chiefs, chiefs + workers
    return None


def distribution(rank=None, world_size=None, environ=None):
    """(rank, world_size): the arguments given, else the launcher's, else (0, 1)."""
    found = from_environment(environ)
    if rank is None:
        rank = found[0] if found else 0
    if world_size is None:
        world_size = found[1] if found else 1
    for name, value in (("rank", rank), ("world_size", world_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")
    if world_size < 1:
        raise ValueError(f"`world_size` must be at least 1. Received: world_size={world_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"`rank` must be in [0, {world_size}). Received: rank={rank}")
    return rank, world_size
