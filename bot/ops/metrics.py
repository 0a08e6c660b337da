"""Every Prometheus series mlquiz exports, named and labelled here once (docs/operations.md).

All of them live in the bot's own process: grading in worker processes is timed by the parent
around each submission, and code runs are driven from the parent's threads, so the default
registry is complete without prometheus_client's multiprocess mode. Label values come from small
fixed sets (platform, category, kind, status, command name), never from members' input.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

from bot import __version__

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

BUILD = Info("mlquiz_build", "The running version of mlquiz.")
BUILD.info({"version": __version__})

ANSWERS = Counter("mlquiz_answers_recorded_total",
                  "Answers graded and recorded, by platform and question category.",
                  ["platform", "category"])
GRADING = Histogram("mlquiz_grading_seconds",
                    "Time to grade one answer (text in a grading worker, code in the sandbox), "
                    "including any wait for a free worker.", ["category"],
                    buckets=LATENCY_BUCKETS)
GRADING_RESTARTS = Counter("mlquiz_grading_worker_restarts_total",
                           "Times the grading pool was replaced after a worker died.")
SANDBOX_RUNS = Counter("mlquiz_sandbox_runs_total", "Sandbox runs, by how they ended.",
                       ["status"])
REFUSALS = Counter("mlquiz_refusals_total",
                   "Answers and runs refused with a message instead of graded, by reason.",
                   ["reason"])
QUEUE_DEPTH = Gauge("mlquiz_queue_depth", "Work waiting for a worker, by queue.", ["queue"])
QUEUE_WAIT = Histogram("mlquiz_queue_wait_seconds", "Time work waited for a worker, by queue.",
                       ["queue"], buckets=LATENCY_BUCKETS)
POSTS = Counter("mlquiz_posts_total",
                "Scheduled messages (question cards, reveals, digests, reminders) claimed, "
                "sent and failed.", ["kind", "outcome"])
SCHEDULER_LAG = Histogram("mlquiz_scheduler_lag_seconds",
                          "How late a scheduler job started after its due time, by job.",
                          ["job"], buckets=LAG_BUCKETS)
API_ERRORS = Counter("mlquiz_platform_api_errors_total",
                     "Requests the chat platform refused or that failed, by platform and error.",
                     ["platform", "error"])
RATE_LIMIT_WAITS = Counter("mlquiz_rate_limit_waits_total",
                           "Times a platform answered 429 and the bot waited before retrying.",
                           ["platform"])
RATE_LIMIT_SECONDS = Counter("mlquiz_rate_limit_wait_seconds_total",
                             "Seconds spent waiting out platform rate limits.", ["platform"])
COMMANDS = Counter("mlquiz_commands_total", "/mlquiz commands received, by platform and name.",
                   ["platform", "name"])
IN_FLIGHT = Gauge("mlquiz_work_in_flight",
                  "Accepted requests whose work has not finished (shutdown waits for them).")
