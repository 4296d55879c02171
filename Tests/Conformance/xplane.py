"""The `<host>.xplane.pb` beside each profile trace, read as XProf reads it.

    python xplane.py LOGDIR            every session under LOGDIR/**/plugins/profile/: its
                                       .xplane.pb holds the same spans as its .trace.json.gz
    python xplane.py LOGDIR --served   also through XProf's own server (tensorboard with the
                                       profile plugin, Scripts/requirements-profile.txt): the
                                       trace viewer is offered and serves the spans

The messages come from XProf's own descriptor of `tsl/profiler/protobuf/xplane.proto`
(Fixtures/xprof/xplane.desc.pb, taken from xprof 2.24.2's `profiler_plugin_c_api.so`, which
ships no Python module for it), decoded by the protobuf runtime. What XProf needs, beyond the
format (each checked here): the plane is named `/host:CPU` (it reads host threads from that plane
only), and every event and stat metadata id equals its map key and is at least 1 (it replaces
metadata that does not). Exits 0 with one summary line, 1 with every problem.
"""

import argparse
import glob
import gzip
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DESCRIPTOR = os.path.join(HERE, "Fixtures", "xprof", "xplane.desc.pb")
HOST_PLANE = "/host:CPU"


def xspace_class():
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto()
    with open(DESCRIPTOR, "rb") as handle:
        file.ParseFromString(handle.read())
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.profiler.XSpace"))


def read(path, problems):
    """The events of the host plane, as (thread id, thread name, name, offset µs, duration µs,
    stats), in file order; what XProf would not show is added to `problems`."""
    space = xspace_class()()
    with open(path, "rb") as handle:
        space.ParseFromString(handle.read())
    planes = [plane for plane in space.planes if plane.name == HOST_PLANE]
    if len(planes) != 1:
        problems.append(f"{path}: planes {[p.name for p in space.planes]}, not one {HOST_PLANE!r}")
        return []
    plane = planes[0]
    for kind, table in (("event", plane.event_metadata), ("stat", plane.stat_metadata)):
        for key, metadata in table.items():
            if key < 1 or metadata.id != key:
                problems.append(f"{path}: {kind} metadata {metadata.name!r} has id {metadata.id} under key {key}")
    events = []
    for line in plane.lines:
        if line.timestamp_ns != 0:
            problems.append(f"{path}: line {line.name!r} starts at {line.timestamp_ns} ns, not 0 (the session's start)")
        for event in line.events:
            if event.metadata_id not in plane.event_metadata:
                problems.append(f"{path}: an event of line {line.name!r} names metadata {event.metadata_id}, which is not there")
                continue
            stats = {}
            for stat in event.stats:
                name = plane.stat_metadata[stat.metadata_id].name if stat.metadata_id in plane.stat_metadata else None
                if name is None:
                    problems.append(f"{path}: a stat names metadata {stat.metadata_id}, which is not there")
                    continue
                stats[name] = str(getattr(stat, stat.WhichOneof("value"))) if stat.WhichOneof("value") else None
            events.append((line.id, line.name, plane.event_metadata[event.metadata_id].name,
                           event.offset_ps / 1e6, event.duration_ps / 1e6, stats))
    return events


def compare(trace_path, problems):
    """The .xplane.pb beside `trace_path` against the trace's spans: the same names, threads,
    durations and arguments, each at its offset from the trace's first span. Returns the spans."""
    plane_path = trace_path[: -len(".trace.json.gz")] + ".xplane.pb"
    if not os.path.exists(plane_path):
        problems.append(f"{trace_path}: no {os.path.basename(plane_path)} beside it")
        return 0
    with gzip.open(trace_path) as handle:
        spans = [event for event in json.load(handle)["traceEvents"] if event.get("ph") == "X"]
    origin = min((span["ts"] for span in spans), default=0)
    want = sorted((span["tid"], span["name"], round(span["ts"] - origin, 3), round(span["dur"], 3),
                   tuple(sorted(span.get("args", {}).items()))) for span in spans)
    events = read(plane_path, problems)
    got = sorted((thread, name, round(offset, 3), round(duration, 3), tuple(sorted(stats.items())))
                 for thread, _, name, offset, duration, stats in events)
    if got != want:
        problems.append(f"{plane_path}: events {got[:4]}… ({len(got)}), the trace's spans {want[:4]}… ({len(want)})")
    return len(spans)


def traces(logdir):
    return sorted(glob.glob(os.path.join(logdir, "**", "plugins", "profile", "*", "*.trace.json.gz"), recursive=True))


def trace_viewer_query(server, session):
    """The query of XProf's trace viewer for `session` (`run`, `tag`, `host`), as its page asks
    for it: the first host the session's trace viewer lists."""
    import urllib.parse

    hosts = server.get_json("/data/plugin/profile/hosts", run=session, tag="trace_viewer@")
    host = hosts[0]["hostname"] if isinstance(hosts, list) and hosts else ""
    return urllib.parse.urlencode({"run": session, "tag": "trace_viewer@", "host": host})


def served(logdir, problems, timeout=120):
    """Serves `logdir` with tensorboard and the profile plugin, and asks XProf for each session's
    tools and its trace viewer's events (the trace viewer's own request)."""
    sys.path.insert(0, HERE)
    import tensorboard_check

    deadline = time.monotonic() + timeout
    server = tensorboard_check.TensorBoardServer(logdir, {}, reload_interval=1)
    shown = []
    try:
        error = server.start(deadline)
        if error:
            problems.append(f"tensorboard did not start: {error}")
            return shown
        sessions = []
        while time.monotonic() < deadline:
            sessions = server.get_json("/data/plugin/profile/runs")
            if isinstance(sessions, list) and sessions:
                break
            time.sleep(0.5)
        if not isinstance(sessions, list) or not sessions:
            problems.append(f"the profile plugin lists no session ({sessions!r}): is tensorboard-plugin-profile installed?")
            return shown
        for session in sessions:
            tools = server.get_json("/data/plugin/profile/run_tools", run=session)
            if not isinstance(tools, list) or "trace_viewer@" not in tools:
                problems.append(f"session {session}: tools {tools!r}, without the trace viewer")
                continue
            data = server.get_json("/data/plugin/profile/data?" + trace_viewer_query(server, session))
            events = [e for e in (data or {}).get("traceEvents", []) if isinstance(e, dict) and e.get("ph") == "X"]
            if not events:
                problems.append(f"session {session}: the trace viewer serves no event ({str(data)[:200]})")
                continue
            shown.append(f"{session}: {len(events)} events ({', '.join(sorted({e['name'] for e in events})[:3])}, …)")
    finally:
        server.stop()
    return shown


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("--served", action="store_true", help="also ask XProf's server for the trace viewer's events")
    args = parser.parse_args()
    problems = []
    paths = traces(args.logdir)
    if not paths:
        problems.append(f"no profile trace under {args.logdir}")
    spans = sum(compare(path, problems) for path in paths)
    shown = served(args.logdir, problems) if args.served and not problems else []
    if problems:
        for problem in problems:
            print(problem)
        print(f"xplane: FAILED, {len(problems)} problems")
        return 1
    print(f"xplane: ok, {len(paths)} sessions, {spans} spans in both files" + (f"; XProf serves {'; '.join(shown)}" if shown else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
