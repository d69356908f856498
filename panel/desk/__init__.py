"""The review desk (`panel desk`): a local web app over the outputs folder, a second door into
the same lifecycle as `panel edit`, `panel validate` and `panel publish`, through the same
functions, for one person or a team. app.py: the routes table and the app; pages.py (GET),
posts.py (every button, with the role it needs), actions.py (what record buttons do),
workflow.py (the team's buttons), signin.py, users.py; identity.py: who is signed in;
views.py, queue.py, team_view.py: what pages show; security.py: one guard per defence. The
team's files (accounts, rules, work, audit log) are panel/team's, shared with the CLI."""
