"""Tech-debt capacity (capability 4): each team's share of sprint capacity spent on tech debt and
scalability work, against the 20–30% band.

- `band`: the rule (share, rolling figure, status, out-of-band runs, trend), plain and unit-tested;
- `service.team_debt(rt, team)`: a team's `TeamDebt` today, what answers and the digest show;
- `command`, `render`, `nudges`: the Slack side; `importers`, `sync`, `jobs`: Jira, Linear, GitHub.
"""
