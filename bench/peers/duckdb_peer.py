"""The DuckDB peer of bench/peers: the hourly peaks of CONTRACT.md §3 from the raw events.

usage: duckdb_peer.py EVENTS.ndjson OUT.csv

EVENTS.ndjson has the value of one Kafka message a line, in the order produced: the event's
JSON, or a bad message. OUT.csv gets one line per (project, domain, hour) with a
non-zero peak: project,domain,hour (Unix seconds),count,minute (Unix seconds); domain "*" is
the whole project. On stdout: one JSON object with the timings in seconds, load (reading and
validating the messages into a table) and query (the sessions, minutes and hourly peaks), and
the row count. Writing OUT.csv is not timed.

The open-session frontier (CONTRACT.md §4) is given as the environment variable
PEERS_FRONTIER_MINUTE (a Unix minute); the generated workload closes every session, so it
changes nothing there.
"""

import json
import os
import sys
import time

import duckdb

# Reading and validation (CONTRACT.md §2), DuckDB's fastest way: read_ndjson with the columns
# given, lines that are not JSON objects skipped. A message is skipped when it lacks a required
# field or has it empty or over its limit, has an unknown event_type, a time that is not RFC 3339
# (DuckDB's timestamp parser, plus the 'T' and the zone that it does not require), or a
# project_id that is not [A-Za-z0-9_-]{1,64}. The file has no message keys, so the key rule
# cannot be applied: the bench compares only the workload's projects. Times are kept in
# microseconds, as DuckDB's timestamps are: the fraction is truncated, never rounded, so the
# minute of an event is exact. The file has no offsets either: two events of one recording at
# the same microsecond are ordered arbitrarily (the hour-by-hour check would show it).
LOAD = r"""
CREATE TEMP TABLE ev AS
WITH raw AS (
    SELECT project_id AS project, lower(publish_domain) AS domain, app, stream,
        coalesce(record_format, '') AS fmt, event_type AS typ, event_time,
        try_cast(event_time AS TIMESTAMPTZ) AS ts
    FROM read_ndjson($path, columns = {'project_id': 'VARCHAR', 'publish_domain': 'VARCHAR',
        'app': 'VARCHAR', 'stream': 'VARCHAR', 'record_format': 'VARCHAR',
        'event_type': 'VARCHAR', 'event_time': 'VARCHAR'}, ignore_errors = true,
        maximum_object_size = 65536)
)
SELECT project, domain, app, stream, fmt, typ,
    typ IN ('RECORD_START', 'RECORD_NEW_FILE_START') AS is_start, epoch_us(ts) AS t
FROM raw
WHERE regexp_full_match(project, '[A-Za-z0-9_-]{1,64}')
  AND strlen(domain) BETWEEN 1 AND 255 AND strlen(app) BETWEEN 1 AND 255
  AND strlen(stream) BETWEEN 1 AND 255 AND strlen(fmt) <= 16
  AND typ IN ('RECORD_START', 'RECORD_NEW_FILE_START', 'RECORD_OVER', 'RECORD_FAILED')
  AND event_time[11] IN ('T', 't') AND (event_time[-1] IN ('Z', 'z') OR event_time[-6] IN ('+', '-'))
  AND ts IS NOT NULL
"""

# The table (CONTRACT.md §3). Per recording, events are ordered by time; exact
# duplicates (same recording, type and time) are dropped. After a start the recording is open,
# after a stop it is closed, whatever came before; so a session is one group of consecutive
# events ending with a stop: its first start to the stop, or the stop alone (a stop without a
# start, an instant), or starts with no stop (open through the frontier). The recording is
# active in every minute its sessions touch. A recording's sessions follow each other in time
# (session_no), so two of them share at most a boundary minute: each session's minutes start
# after the previous session's last minute, and expanding them gives every (recording, minute)
# once, with no DISTINCT.
# C(m) counts recordings per project, and per project and domain; an hour's value is max C(m)
# at its earliest minute. Projects and domains are small integer ids while counting.
QUERY = r"""
CREATE TEMP TABLE peaks AS
WITH distinct_ev AS (
    SELECT DISTINCT project, domain, app, stream, fmt, typ, t, is_start FROM ev
), grouped AS (
    SELECT project, domain, app, stream, fmt, is_start, t,
        coalesce(sum(CASE WHEN is_start THEN 0 ELSE 1 END) OVER (
            PARTITION BY project, domain, app, stream, fmt ORDER BY t
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS session_no
    FROM distinct_ev
), sessions AS (
    SELECT project, domain, app, stream, fmt, session_no,
        coalesce(min(t) FILTER (WHERE is_start), max(t) FILTER (WHERE NOT is_start)) // 60000000 AS m0,
        coalesce(max(t) FILTER (WHERE NOT is_start) // 60000000,
                 greatest(min(t) // 60000000, $frontier)) AS m1
    FROM grouped GROUP BY project, domain, app, stream, fmt, session_no
), series AS (
    SELECT DISTINCT project, domain FROM sessions
), ids AS (
    SELECT project, domain, dense_rank() OVER (ORDER BY project) AS pid,
        row_number() OVER (ORDER BY project, domain) AS did
    FROM series
), spans AS (
    SELECT pid, did, greatest(m0, coalesce(lag(m1) OVER (
            PARTITION BY s.project, s.domain, app, stream, fmt ORDER BY session_no) + 1, m0)) AS m0, m1
    FROM sessions s JOIN ids USING (project, domain)
), active AS (
    SELECT pid, did, unnest(range(m0, m1 + 1)) AS m FROM spans WHERE m1 >= m0
), per_minute AS (
    SELECT pid AS sid, false AS is_domain, m, count(*) AS c FROM active GROUP BY pid, m
    UNION ALL
    SELECT did AS sid, true AS is_domain, m, count(*) AS c FROM active GROUP BY did, m
), per_hour AS (
    SELECT sid, is_domain, m // 60 AS h, max(c) AS count, arg_max(m, c * 64 + (63 - m % 60)) AS peak
    FROM per_minute GROUP BY sid, is_domain, m // 60
)
SELECT i.project, CASE WHEN ph.is_domain THEN i.domain ELSE '*' END AS domain, h * 3600 AS hour,
    count, peak * 60 AS minute
FROM per_hour ph
JOIN (SELECT DISTINCT pid, project, NULL AS domain, false AS is_domain FROM ids
      UNION ALL SELECT did, project, domain, true FROM ids) i
  ON i.pid = ph.sid AND i.is_domain = ph.is_domain
"""


def main():
    path, out = sys.argv[1], sys.argv[2]
    frontier = int(os.environ.get("PEERS_FRONTIER_MINUTE", "0"))
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(LOAD, {"path": path})
    t1 = time.perf_counter()
    con.execute(QUERY, {"frontier": frontier})
    t2 = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM peaks").fetchone()[0]
    con.execute("COPY peaks TO '%s' (HEADER false)" % out.replace("'", "''"))
    print(json.dumps({"load_s": t1 - t0, "query_s": t2 - t1, "rows": rows,
                      "events": con.execute("SELECT count(*) FROM ev").fetchone()[0],
                      "threads": str(con.execute("SELECT current_setting('threads')").fetchone()[0]),
                      "duckdb": duckdb.__version__}))


if __name__ == "__main__":
    main()
