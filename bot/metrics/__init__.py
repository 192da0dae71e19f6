"""Live metrics and 10x headroom (capability 3).

- `service.read_team_signals(rt, team, at=None) -> TeamReading`: every signal of a team read at one
  evaluation time (cached, one query in flight per signal), judged, projected to 10x and ranked.
- `projection`: the 10x rule as plain arithmetic (`project`, `headroom`, `projected_latency`,
  `latency_headroom`, `ASSUMPTIONS`).
- `thresholds`: the seeds' default thresholds and the triggers they name; `signals`: reserved names and
  the config resolved into queries; `promql`: the default Prometheus query set.
- `sources`: Prometheus-compatible, Datadog and New Relic clients; `flight`: cache and single-flight;
  `render`: Block Kit; `checks`: config checks for `scalebot config check`.
"""
